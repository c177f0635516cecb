//! Response bodies of the operator endpoints (agreements, audit trail, outbox, access log). Fields keep the
//! domain's own types, so each body serializes exactly as the records it mirrors.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::Value;
use tessera_core::agency::{Agreements, CarrierAgreement, TourCode};
use tessera_core::codes::CarrierCode;
use tessera_core::ids::{AgencyId, BookingId, IssuanceId, MessageId, UserId};
use tessera_storage::{AuditEntry, MessageAttachment, MessageStatus, OutboxMessage};
use utoipa::ToSchema;

/// What an agency may sell: carriers, tour codes, corporate accounts and booker codes.
#[derive(Serialize, ToSchema)]
pub struct AgreementsBody {
    carriers: Vec<CarrierAgreementBody>,
    tour_codes: Vec<TourCodeBody>,
    corporate_accounts: Vec<String>,
    booker_codes: Vec<String>,
}

impl From<Agreements> for AgreementsBody {
    fn from(a: Agreements) -> Self {
        Self {
            carriers: a.carriers.into_iter().map(CarrierAgreementBody::from).collect(),
            tour_codes: a.tour_codes.into_iter().map(TourCodeBody::from).collect(),
            corporate_accounts: a.corporate_accounts,
            booker_codes: a.booker_codes,
        }
    }
}

/// One validating carrier: authorized or not, and the highest commission in percent (null: none allowed).
#[derive(Serialize, ToSchema)]
pub struct CarrierAgreementBody {
    #[schema(value_type = String, example = "QR")]
    carrier: CarrierCode,
    authorized: bool,
    #[schema(value_type = Option<String>, example = "7")]
    commission_cap_percent: Option<Decimal>,
}

impl From<CarrierAgreement> for CarrierAgreementBody {
    fn from(a: CarrierAgreement) -> Self {
        Self { carrier: a.carrier, authorized: a.authorized, commission_cap_percent: a.commission_cap_percent }
    }
}

#[derive(Serialize, ToSchema)]
pub struct TourCodeBody {
    code: String,
    #[schema(value_type = String)]
    carrier: CarrierCode,
    valid_from: Option<NaiveDate>,
    valid_to: Option<NaiveDate>,
}

impl From<TourCode> for TourCodeBody {
    fn from(t: TourCode) -> Self {
        Self { code: t.code, carrier: t.carrier, valid_from: t.valid_from, valid_to: t.valid_to }
    }
}

/// A corporate account or booker code as stored (trimmed).
#[derive(Serialize, ToSchema)]
pub struct CodeBody {
    pub code: String,
}

#[derive(Serialize, ToSchema)]
pub struct AuditList {
    pub entries: Vec<AuditEntryBody>,
}

/// Who did what, when, from where, and how it ended (`success` or `refused:<code>`).
#[derive(Serialize, ToSchema)]
pub struct AuditEntryBody {
    id: i64,
    #[schema(value_type = Option<uuid::Uuid>)]
    agency_id: Option<AgencyId>,
    #[schema(value_type = Option<uuid::Uuid>)]
    user_id: Option<UserId>,
    username: String,
    client_addr: Option<String>,
    tracking_id: Option<String>,
    /// e.g. `booking.create`, `issuance.create`, `document.download`
    action: String,
    #[schema(value_type = Option<uuid::Uuid>)]
    booking_id: Option<BookingId>,
    ticket_number: Option<String>,
    #[schema(value_type = Option<uuid::Uuid>)]
    issuance_id: Option<IssuanceId>,
    outcome: String,
    #[schema(value_type = Object)]
    detail: Value,
    created_at: DateTime<Utc>,
}

impl From<AuditEntry> for AuditEntryBody {
    fn from(e: AuditEntry) -> Self {
        Self {
            id: e.id,
            agency_id: e.agency_id,
            user_id: e.user_id,
            username: e.username,
            client_addr: e.client_addr,
            tracking_id: e.tracking_id,
            action: e.action,
            booking_id: e.booking_id,
            ticket_number: e.ticket_number,
            issuance_id: e.issuance_id,
            outcome: e.outcome,
            detail: e.detail,
            created_at: e.created_at,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct OutboxList {
    pub messages: Vec<OutboxMessageBody>,
}

/// An e-mail in the outbox and its delivery state (`queued`, `sent`, `failed`).
#[derive(Serialize, ToSchema)]
pub struct OutboxMessageBody {
    #[schema(value_type = uuid::Uuid)]
    id: MessageId,
    #[schema(value_type = Option<uuid::Uuid>)]
    agency_id: Option<AgencyId>,
    #[schema(value_type = Option<uuid::Uuid>)]
    booking_id: Option<BookingId>,
    recipient: String,
    subject: String,
    text_body: String,
    html_body: String,
    attachments: Vec<AttachmentBody>,
    #[schema(value_type = String, example = "queued")]
    status: MessageStatus,
    attempts: u32,
    last_error: Option<String>,
    next_attempt_at: DateTime<Utc>,
    created_at: DateTime<Utc>,
    sent_at: Option<DateTime<Utc>>,
}

impl From<OutboxMessage> for OutboxMessageBody {
    fn from(m: OutboxMessage) -> Self {
        Self {
            id: m.id,
            agency_id: m.agency_id,
            booking_id: m.booking_id,
            recipient: m.recipient,
            subject: m.subject,
            text_body: m.text_body,
            html_body: m.html_body,
            attachments: m.attachments.into_iter().map(AttachmentBody::from).collect(),
            status: m.status,
            attempts: m.attempts,
            last_error: m.last_error,
            next_attempt_at: m.next_attempt_at,
            created_at: m.created_at,
            sent_at: m.sent_at,
        }
    }
}

/// A file sent with a message, by its key in the document store.
#[derive(Serialize, ToSchema)]
pub struct AttachmentBody {
    filename: String,
    storage_key: String,
    sha256: String,
    content_type: String,
}

impl From<MessageAttachment> for AttachmentBody {
    fn from(a: MessageAttachment) -> Self {
        Self { filename: a.filename, storage_key: a.storage_key, sha256: a.sha256, content_type: a.content_type }
    }
}

#[derive(Serialize, ToSchema)]
pub struct DownloadList {
    pub downloads: Vec<DownloadBody>,
}

/// One download of a ticket PDF, zip bundle or invoice: who, what, when, from where.
#[derive(Serialize, ToSchema)]
pub struct DownloadBody {
    at: DateTime<Utc>,
    username: String,
    #[schema(value_type = Option<uuid::Uuid>)]
    user_id: Option<UserId>,
    client_addr: Option<String>,
    #[schema(value_type = Option<uuid::Uuid>)]
    agency_id: Option<AgencyId>,
    /// The file's name.
    #[schema(value_type = Option<String>)]
    document: Option<Value>,
    /// What the file belongs to: `kind` and `id`.
    #[schema(value_type = Option<Object>)]
    owner: Option<Value>,
    #[schema(value_type = Option<String>)]
    sha256: Option<Value>,
    /// `native_api`, `events_api`, `signed_link`, ...
    #[schema(value_type = Option<String>)]
    via: Option<Value>,
    tracking_id: Option<String>,
}

impl From<AuditEntry> for DownloadBody {
    fn from(e: AuditEntry) -> Self {
        let field = |name: &str| e.detail.get(name).cloned();
        Self {
            at: e.created_at,
            document: field("document"),
            owner: field("owner"),
            sha256: field("sha256"),
            via: field("via"),
            username: e.username,
            user_id: e.user_id,
            client_addr: e.client_addr,
            agency_id: e.agency_id,
            tracking_id: e.tracking_id,
        }
    }
}
