//! Tessera's application services: the use cases every API profile and the CLI call.
//!
//! Each service combines the pure domain rules of `tessera-core` with storage and documents, under an
//! authenticated [`Principal`]. Profiles translate wire formats into these calls and [`AppError`]s into their
//! own envelopes; no business rule lives anywhere else.
#![forbid(unsafe_code)]

pub mod access_log;
pub mod admin;
pub mod audit;
pub mod bookings;
mod clock;
mod doc_cache;
mod error;
mod event_views;
pub mod gate;
pub mod google_wallet;
pub mod idempotency;
pub mod identity;
pub mod import;
mod invoices;
pub mod issuing;
pub mod lifecycle;
pub mod links;
pub mod mail;
pub mod orders;
pub mod policy;
mod render;
mod secret;
pub mod telemetry;
pub mod views;
pub mod wallet;
pub mod webhooks;

use std::sync::Arc;
use std::time::Duration;

pub use clock::{Clock, OffsetClock, SystemClock};
pub use error::AppError;
pub use identity::Principal;
pub use secret::Secret;
use tessera_documents::DocumentStore;
use tessera_storage::Database;

/// Settings the services need; the binary builds them from its validated configuration.
#[derive(Debug, Clone)]
pub struct Settings {
    pub jwt_secret: Secret,
    pub token_ttl: Duration,
    /// How long a signed download link stays valid.
    pub link_ttl: Duration,
    /// Key for signed links; separate from the JWT secret so one leaking does not forge the other.
    pub link_secret: Secret,
    /// Absolute base URL clients reach this server at (for links), without a trailing slash.
    pub public_url: String,
    /// How long a signed link to a booking order's zip bundle stays valid (the events API promises ≤ 5 min).
    pub zip_link_ttl: Duration,
    /// Whole days after the issue day (in the agency's time zone) a ticket may still be voided; 0 = the issue
    /// day only.
    pub void_window_days: u32,
    /// Signed links answer with a redirect to the document store's own short-lived URL (buckets only), so the
    /// bytes of a download do not pass through this node.
    pub presigned_links: bool,
    /// How long a request holds its `Idempotency-Key`: past it, a retry of the same request may take over a
    /// claim whose holder died without recording an effect.
    pub idempotency_lease: Duration,
    /// How downloads' access-log entries are batched (see [`access_log`]).
    pub access_log: access_log::AccessLogSettings,
    /// Bytes of verified documents kept in memory for downloads (0: none); see `doc_cache`.
    pub document_cache_bytes: usize,
    /// Issuances whose documents are rendered in the background at once after the answer; past it, or with 0,
    /// they are rendered on first read (see [`issuing`]).
    pub render_ahead: usize,
}

/// The application: shared by every request, cheap to clone.
#[derive(Clone)]
pub struct Tessera {
    pub(crate) db: Arc<dyn Database>,
    pub(crate) docs: DocumentStore,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) settings: Arc<Settings>,
    /// None: messages stay in the outbox until an SMTP relay is configured.
    pub(crate) mailer: Option<mail::Mailer>,
    /// How webhooks are delivered (see [`webhooks`]).
    pub(crate) webhooks: Arc<webhooks::WebhookRuntime>,
    pub(crate) access_log: Arc<access_log::AccessLog>,
    pub(crate) doc_cache: Arc<doc_cache::DocumentCache>,
    /// Permits for background renders of new issuances' documents (`Settings::render_ahead`).
    pub(crate) render_ahead: Arc<tokio::sync::Semaphore>,
    /// None: Apple Wallet passes are not configured (see [`wallet`]).
    pub(crate) wallet: Option<Arc<tessera_documents::wallet::WalletSigner>>,
    /// None: "Save to Google Wallet" links are not configured (see [`google_wallet`]).
    pub(crate) google_wallet: Option<Arc<google_wallet::GoogleWallet>>,
}

impl Tessera {
    pub fn new(db: Arc<dyn Database>, docs: DocumentStore, clock: Arc<dyn Clock>, settings: Settings) -> Self {
        let access_log = Arc::new(access_log::AccessLog::new(db.clone(), settings.access_log));
        let doc_cache = Arc::new(doc_cache::DocumentCache::new(settings.document_cache_bytes));
        let render_ahead = Arc::new(tokio::sync::Semaphore::new(settings.render_ahead));
        Self {
            db,
            docs,
            clock,
            settings: Arc::new(settings),
            mailer: None,
            webhooks: Arc::new(webhooks::WebhookRuntime::new(webhooks::WebhookSettings::default())),
            access_log,
            wallet: None,
            google_wallet: None,
            doc_cache,
            render_ahead,
        }
    }

    /// Forgets the in-memory copies of documents, so the next read of each goes to the store (and puts back a
    /// file the store lost). Correctness never needs it: a copy is only served for the record it matches.
    pub fn clear_document_cache(&self) {
        self.doc_cache.clear();
    }

    /// Waits for the background renders of issuances' documents running now (`Settings::render_ahead`); the
    /// server calls it on shutdown, so an issuance answered just before a stop is usually stored whole. Never
    /// needed for correctness: a document left pending is rendered by its first read.
    pub async fn settle_renders(&self) {
        let all = u32::try_from(self.settings.render_ahead).unwrap_or(u32::MAX);
        if all > 0 {
            drop(self.render_ahead.acquire_many(all).await);
        }
    }

    /// Writes every access-log entry queued so far; the server calls it once the last request has finished.
    pub async fn flush_access_log(&self) {
        self.access_log.flush().await;
    }

    /// Reads time from `clock` instead (tests move it forward).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Sends e-mail through this relay.
    pub fn with_mailer(mut self, mailer: mail::Mailer) -> Self {
        self.mailer = Some(mailer);
        self
    }

    /// The storage backend's name (`sqlite`, `postgres`), for logs and the readiness probe.
    pub fn backend(&self) -> &'static str {
        self.db.backend()
    }

    /// Whether the database answers (the readiness probe).
    pub async fn ping(&self) -> Result<(), AppError> {
        Ok(self.db.ping().await?)
    }

    /// Whether several processes may serve from this database (PostgreSQL), so that limits and other state
    /// that must hold across them are kept in it. A SQLite file is one node's.
    pub fn is_multi_node(&self) -> bool {
        self.db.backend() != "sqlite"
    }

    /// Takes one request from the budget of `key` (a credential) in the database every node shares.
    pub async fn take_rate_token(
        &self,
        key: &str,
        quota: tessera_storage::RateQuota,
    ) -> Result<tessera_storage::RateDecision, AppError> {
        Ok(self.db.take_rate_token(key, self.now(), quota).await?)
    }

    /// The database pool's size and idle connections, for the pool gauges.
    pub async fn pool_stats(&self) -> Result<tessera_storage::PoolStats, AppError> {
        Ok(self.db.pool_stats().await?)
    }

    pub fn documents(&self) -> &DocumentStore {
        &self.docs
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock.now()
    }
}
