//! Short-lived signed download links: `/d/{token}` where the token names a document and an expiry, and an
//! HMAC-SHA256 over both proves we issued it. No header is needed to follow one.

pub mod token;

use chrono::{DateTime, TimeDelta, Utc};
use serde::Serialize;
use tessera_core::user::Scope;
use tessera_storage::{DocumentOwner, DocumentRecord};

use self::token::{LinkClaims, TokenError};
use crate::{AppError, Principal, Tessera};

/// A link handed to a client.
#[derive(Debug, Clone, Serialize)]
pub struct SignedLink {
    pub url: String,
    pub expires_at: DateTime<Utc>,
}

/// A document opened through a link, with its bytes.
pub struct Download {
    pub record: DocumentRecord,
    pub bytes: bytes::Bytes,
}

/// Where a followed link leads.
pub enum LinkTarget {
    /// The document itself.
    File(Download),
    /// The document store's own URL for it, valid no longer than the link itself (`--presigned-links`).
    Redirect { record: DocumentRecord, url: String },
}

impl Tessera {
    /// A document the caller can reach (another agency's is answered as missing), with its bytes.
    pub async fn document(&self, who: &Principal, owner: &DocumentOwner) -> Result<Download, AppError> {
        self.download(who.scope, owner).await
    }

    /// Signs a link to a document the caller can reach, valid for the configured link lifetime.
    pub async fn document_link(&self, who: &Principal, owner: DocumentOwner) -> Result<SignedLink, AppError> {
        self.sign_link(who.scope, owner).await
    }

    /// Signs a link to a document the caller can reach (checked by the caller via `scope`).
    pub async fn sign_link(&self, scope: Scope, owner: DocumentOwner) -> Result<SignedLink, AppError> {
        self.sign_link_for(scope, owner, self.settings.link_ttl).await
    }

    /// Like [`Tessera::sign_link`] with its own lifetime (zip bundles get a shorter one).
    pub async fn sign_link_for(
        &self,
        scope: Scope,
        owner: DocumentOwner,
        ttl: std::time::Duration,
    ) -> Result<SignedLink, AppError> {
        self.db.get_document(scope, &owner).await?.ok_or(AppError::NotFound("document"))?;
        let ttl = TimeDelta::from_std(ttl).map_err(|e| AppError::Internal(e.to_string()))?;
        // Claims hold whole seconds: round the expiry up, so a link always lives at least its TTL.
        let exact = self.now() + ttl;
        let e = exact.timestamp() + i64::from(exact.timestamp_subsec_nanos() > 0);
        let expires_at = DateTime::<Utc>::from_timestamp(e, 0).unwrap_or(exact);
        let token = token::seal(self.settings.link_secret.expose(), &LinkClaims { d: owner, e })
            .map_err(|e| AppError::Internal(format!("link key: {e}")))?;
        Ok(SignedLink { url: format!("{}/d/{token}", self.settings.public_url), expires_at })
    }

    /// Opens a link: a bad signature is [`AppError::LinkInvalid`], a good but old one [`AppError::LinkExpired`].
    /// With presigned links on a bucket, answers where the store serves the document instead of its bytes.
    pub async fn open_link(&self, token: &str) -> Result<LinkTarget, AppError> {
        let now = self.now().timestamp();
        let claims = token::open(self.settings.link_secret.expose(), token, now).map_err(|e| match e {
            TokenError::Invalid => AppError::LinkInvalid,
            TokenError::Expired => AppError::LinkExpired,
        })?;
        let left = claims.e - now;
        if self.settings.presigned_links {
            if let Some(target) = self.presigned(&claims.d, left).await? {
                return Ok(target);
            }
        }
        self.download(Scope::All, &claims.d).await.map(LinkTarget::File)
    }

    /// The store's own URL for a document, living as long as the link has left; `None` when the store cannot
    /// cannot sign URLs (then the document is served the ordinary way).
    async fn presigned(&self, owner: &DocumentOwner, seconds_left: i64) -> Result<Option<LinkTarget>, AppError> {
        let record = self.filled(Scope::All, owner).await?;
        let key = tessera_documents::DocumentKey::parse(&record.storage_key)?;
        // A document the store lacks is re-rendered and put back first, so the store's URL finds it.
        match self.docs.exists(&key).await {
            Ok(true) => {}
            Ok(false) => drop(self.document_bytes(&record).await?),
            Err(e) => return Err(AppError::DocumentUnavailable(e.to_string())),
        }
        let ttl = std::time::Duration::from_secs(u64::try_from(seconds_left).unwrap_or(1));
        let url = self.docs.presigned_get(&key, ttl).await.map_err(|e| AppError::DocumentUnavailable(e.to_string()))?;
        Ok(url.map(|url| LinkTarget::Redirect { record, url: url.to_string() }))
    }

    /// Loads a stored document and its bytes, within `scope`.
    pub async fn download(&self, scope: Scope, owner: &DocumentOwner) -> Result<Download, AppError> {
        let record = self.db.get_document(scope, owner).await?.ok_or(AppError::NotFound("document"))?;
        let bytes = self.document_bytes(&record).await?;
        let record = if record.is_pending() { self.filled(scope, owner).await? } else { record };
        Ok(Download { record, bytes })
    }

    /// The document's record with its file: one its issuance has not rendered yet is rendered first (its
    /// key, hash and size are needed, for a presigned URL or an ETag).
    pub(crate) async fn filled(&self, scope: Scope, owner: &DocumentOwner) -> Result<DocumentRecord, AppError> {
        let record = self.db.get_document(scope, owner).await?.ok_or(AppError::NotFound("document"))?;
        if !record.is_pending() {
            return Ok(record);
        }
        self.document_bytes(&record).await?;
        self.db.get_document(scope, owner).await?.filter(|r| !r.is_pending()).ok_or_else(|| {
            AppError::DocumentUnavailable(format!("{} {} was not recorded once rendered", owner.kind(), owner.key()))
        })
    }
}

impl Tessera {
    /// Every download is audited: who, what, when, from where. The entry joins the access log's queue and is
    /// written with others in one transaction shortly after (see [`crate::access_log`]); a failure to write it is
    /// logged, not fatal, so a traveller still gets the ticket.
    pub async fn audit_download(&self, actor: tessera_storage::Actor, record: &DocumentRecord, via: &str) {
        let entry = tessera_storage::NewAuditEntry {
            agency_id: Some(record.agency_id),
            actor,
            action: "document.download".into(),
            booking_id: None,
            ticket_number: match &record.owner {
                DocumentOwner::Ticket(n) => Some(n.compact()),
                _ => None,
            },
            issuance_id: match &record.owner {
                DocumentOwner::Issuance(i) => Some(*i),
                _ => None,
            },
            outcome: "success".into(),
            detail: serde_json::json!({
                "document": record.filename,
                "owner": {"kind": record.owner.kind(), "id": record.owner.key()},
                "sha256": record.sha256,
                "via": via,
            }),
            created_at: self.now(),
        };
        self.access_log.record(entry).await;
    }
}
