//! Records that cross the storage interface: what goes in to create things, and what comes back.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tessera_core::booking::BookingStatus;
use tessera_core::codes::{IataNumber, OfficeId, TicketNumber};
use tessera_core::ids::{AgencyId, ApiKeyId, BookingId, DocumentId, IssuanceId, UserId};
use tessera_core::issuance::IssuanceDraft;
use tessera_core::ledger::LedgerKind;
use tessera_core::money::{Currency, Money};
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
}

impl DocumentOwner {
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Ticket(_) => "ticket",
            Self::Issuance(_) => "issuance",
        }
    }

    /// The owner's id as stored: the 13-digit ticket number or the issuance UUID.
    pub fn key(&self) -> String {
        match self {
            Self::Ticket(n) => n.compact(),
            Self::Issuance(i) => i.to_string(),
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

pub use tessera_core::ledger::LedgerEntry as LedgerRecord;

/// The first serial handed out for an accounting prefix. Serials then grow by one per ticket, never reused.
pub const FIRST_SERIAL: u64 = 2_100_000_001;
