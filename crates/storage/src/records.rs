//! Records that cross the storage interface: what goes in to create things, and what comes back.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use tessera_core::booking::BookingStatus;
use tessera_core::codes::{IataNumber, OfficeId, TicketNumber};
use tessera_core::ids::{AgencyId, ApiKeyId, BookingId, DocumentId, IssuanceId, MessageId, UserId};
use tessera_core::invoice::Invoice;
use tessera_core::issuance::IssuanceDraft;
use tessera_core::ledger::LedgerKind;
use tessera_core::money::{Currency, Money};
use tessera_core::orders::{BookingOrder, BookingOrderId, DownloadItemId};
use tessera_core::ticket::Ticket;
use tessera_core::user::{Role, User};

#[derive(Debug, Clone)]
pub struct NewAgency {
    pub id: AgencyId,
    pub name: String,
    pub currency: Currency,
    pub credit_limit_minor: i64,
    pub office_id: Option<OfficeId>,
    pub iata_number: Option<IataNumber>,
    pub timezone: String,
    /// VAT included in event ticket prices, in percent.
    pub vat_percent: Decimal,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct NewLedgerEntry {
    pub agency_id: AgencyId,
    pub kind: LedgerKind,
    /// Signed, in the agency's currency.
    pub amount: Money,
    pub issuance_id: Option<IssuanceId>,
    pub note: Option<String>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct NewUser {
    pub id: UserId,
    pub username: String,
    /// An argon2id PHC string; never the password.
    pub password_hash: String,
    pub role: Role,
    pub agency_id: Option<AgencyId>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct Credentials {
    pub user: User,
    pub password_hash: String,
}

#[derive(Debug, Clone)]
pub struct NewApiKey {
    pub id: ApiKeyId,
    pub user_id: UserId,
    /// SHA-256 (hex) of the key; the key itself is shown once and never stored.
    pub key_hash: String,
    /// The first characters of the key, so people can tell keys apart.
    pub prefix: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ApiKeyRecord {
    pub id: ApiKeyId,
    pub user_id: UserId,
    pub prefix: String,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Default)]
pub struct BookingFilter {
    pub pnr: Option<String>,
    pub status: Option<BookingStatus>,
    /// Keyset paging: only bookings whose id sorts after this one (ids are time-ordered UUIDv7).
    pub after: Option<BookingId>,
    pub limit: u32,
}

/// Who acted, for the audit trail.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Actor {
    pub user_id: Option<UserId>,
    pub username: String,
    pub client_addr: Option<String>,
    pub tracking_id: Option<String>,
}

#[derive(Debug, Clone)]
pub struct NewIssuance {
    pub id: IssuanceId,
    pub draft: IssuanceDraft,
    pub issued_at: DateTime<Utc>,
    pub actor: Actor,
    /// Free-form facts stored with the issuance (reference code, tour code, booker code, ...).
    pub attributes: serde_json::Value,
}

/// Handed to the [`crate::DocumentSink`]: the tickets with their numbers, before commit.
#[derive(Debug, Clone)]
pub struct IssuedTickets {
    pub issuance_id: IssuanceId,
    pub booking_id: BookingId,
    pub agency_id: AgencyId,
    pub issued_at: DateTime<Utc>,
    pub tickets: Vec<Ticket>,
    /// Event bookings: the invoices of the draft with the numbers storage assigned.
    pub invoices: Vec<Invoice>,
}

#[derive(Debug, Clone, Serialize)]
pub struct IssuanceRecord {
    pub id: IssuanceId,
    pub booking_id: BookingId,
    pub agency_id: AgencyId,
    pub amount_charged: Money,
    pub commission: Money,
    pub issued_at: DateTime<Utc>,
    pub issued_by: Option<UserId>,
    pub attributes: serde_json::Value,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum DocumentOwner {
    Ticket(TicketNumber),
    Issuance(IssuanceId),
    /// One PDF of an event ticket.
    Download(BookingOrderId, DownloadItemId),
    /// The zip bundle of a booking order.
    OrderZip(BookingOrderId),
    /// An invoice (or credit invoice) of a booking order, by its number.
    Invoice(BookingOrderId, u64),
}

impl DocumentOwner {
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Ticket(_) => "ticket",
            Self::Issuance(_) => "issuance",
            Self::Download(..) => "download",
            Self::OrderZip(_) => "order_zip",
            Self::Invoice(..) => "invoice",
        }
    }

    /// The owner's id as stored, unique within its kind: the 13-digit ticket number, the issuance UUID, the
    /// download item or order id, or `{order}:{number}` for an invoice (numbers are unique per agency only).
    pub fn key(&self) -> String {
        match self {
            Self::Ticket(n) => n.compact(),
            Self::Issuance(i) => i.to_string(),
            Self::Download(_, d) => d.to_string(),
            Self::OrderZip(o) => o.to_string(),
            Self::Invoice(o, n) => format!("{o}:{n}"),
        }
    }

    /// The booking order a document belongs to, stored alongside so an order's documents load in one query.
    pub fn order(&self) -> Option<&BookingOrderId> {
        match self {
            Self::Ticket(_) | Self::Issuance(_) => None,
            Self::Download(o, _) | Self::OrderZip(o) | Self::Invoice(o, _) => Some(o),
        }
    }

    /// Rebuilds an owner from its stored columns.
    pub fn from_stored(kind: &str, key: &str, order: Option<&str>) -> Option<Self> {
        let order = || order.and_then(|o| BookingOrderId::parse(o).ok());
        match kind {
            "ticket" => TicketNumber::parse(key).ok().map(Self::Ticket),
            "issuance" => key.parse().ok().map(Self::Issuance),
            "download" => Some(Self::Download(order()?, DownloadItemId::parse(key).ok()?)),
            "order_zip" => Some(Self::OrderZip(BookingOrderId::parse(key).ok()?)),
            "invoice" => {
                let (o, n) = key.split_once(':')?;
                Some(Self::Invoice(BookingOrderId::parse(o).ok()?, n.parse().ok()?))
            }
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct NewDocument {
    pub id: DocumentId,
    pub owner: DocumentOwner,
    /// Key in the document store.
    pub storage_key: String,
    pub sha256: String,
    pub size: i64,
    pub content_type: String,
    pub filename: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct DocumentRecord {
    pub id: DocumentId,
    pub owner: DocumentOwner,
    pub agency_id: AgencyId,
    pub storage_key: String,
    pub sha256: String,
    pub size: i64,
    pub content_type: String,
    pub filename: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct NewAuditEntry {
    pub agency_id: Option<AgencyId>,
    pub actor: Actor,
    /// e.g. `booking.create`, `issuance.create`, `document.download`
    pub action: String,
    pub booking_id: Option<BookingId>,
    pub ticket_number: Option<String>,
    pub issuance_id: Option<IssuanceId>,
    /// `success` or `refused:<code>`
    pub outcome: String,
    pub detail: serde_json::Value,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize)]
pub struct AuditEntry {
    pub id: i64,
    pub agency_id: Option<AgencyId>,
    pub user_id: Option<UserId>,
    pub username: String,
    pub client_addr: Option<String>,
    pub tracking_id: Option<String>,
    pub action: String,
    pub booking_id: Option<BookingId>,
    pub ticket_number: Option<String>,
    pub issuance_id: Option<IssuanceId>,
    pub outcome: String,
    pub detail: serde_json::Value,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// e.g. `document.download` for the access log.
    pub action: Option<String>,
    pub booking_id: Option<BookingId>,
    pub ticket_number: Option<String>,
    pub tracking_id: Option<String>,
    pub limit: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdempotencyClaim {
    /// First time: go ahead, then complete or release.
    Claimed,
    /// Same key, same request, already answered: replay this.
    Completed {
        status: u16,
        body: Vec<u8>,
    },
    InProgress,
    Mismatch,
}

/// An e-mail waiting in the outbox.
#[derive(Debug, Clone)]
pub struct NewMessage {
    pub id: MessageId,
    /// The agency the message concerns, if any; it decides who sees it in [`crate::Database::list_outbox`].
    pub agency_id: Option<AgencyId>,
    pub booking_id: Option<BookingId>,
    pub recipient: String,
    pub subject: String,
    pub text_body: String,
    pub html_body: String,
    pub attachments: Vec<MessageAttachment>,
    pub created_at: DateTime<Utc>,
}

/// A file sent with an e-mail: a reference to the document store, not the bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageAttachment {
    pub filename: String,
    /// Key in the document store.
    pub storage_key: String,
    pub sha256: String,
    pub content_type: String,
}

/// Where an outbox message stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MessageStatus {
    /// Waiting to be sent: the first try or a retry, due at `next_attempt_at`.
    Queued,
    Sent,
    /// Given up on.
    Failed,
}

impl MessageStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Sent => "sent",
            Self::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "queued" => Some(Self::Queued),
            "sent" => Some(Self::Sent),
            "failed" => Some(Self::Failed),
            _ => None,
        }
    }
}

/// An e-mail in the outbox, with its delivery state.
#[derive(Debug, Clone, Serialize)]
pub struct OutboxMessage {
    pub id: MessageId,
    pub agency_id: Option<AgencyId>,
    pub booking_id: Option<BookingId>,
    pub recipient: String,
    pub subject: String,
    pub text_body: String,
    pub html_body: String,
    pub attachments: Vec<MessageAttachment>,
    pub status: MessageStatus,
    /// Sending attempts made so far (successful or not).
    pub attempts: u32,
    /// The error of the latest failed attempt, at most [`MAX_MESSAGE_ERROR_CHARS`] characters.
    pub last_error: Option<String>,
    pub next_attempt_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

/// The most characters of an error [`crate::Database::mark_message_failed`] keeps; the rest is cut.
pub const MAX_MESSAGE_ERROR_CHARS: usize = 1000;

/// `error` cut to its first [`MAX_MESSAGE_ERROR_CHARS`] characters (never inside a character).
pub fn truncate_message_error(error: &str) -> &str {
    match error.char_indices().nth(MAX_MESSAGE_ERROR_CHARS) {
        Some((end, _)) => &error[..end],
        None => error,
    }
}

pub use tessera_core::ledger::LedgerEntry as LedgerRecord;

/// The first serial handed out for an accounting prefix. Serials then grow by one per ticket, never reused.
pub const FIRST_SERIAL: u64 = 2_100_000_001;

/// A booking order with what was produced for it: its documents (PDFs, zip, invoice PDFs) and invoices.
#[derive(Debug, Clone)]
pub struct OrderRecord {
    pub order: BookingOrder,
    /// The booking's code, which the events API filters by.
    pub booking_code: String,
    pub documents: Vec<DocumentRecord>,
    /// Oldest first.
    pub invoices: Vec<Invoice>,
}

impl OrderRecord {
    pub fn document(&self, owner: &DocumentOwner) -> Option<&DocumentRecord> {
        self.documents.iter().find(|d| &d.owner == owner)
    }
}

/// One page of booking orders and how many match in all.
#[derive(Debug, Clone)]
pub struct OrderPage {
    pub orders: Vec<OrderRecord>,
    pub total: u64,
}
