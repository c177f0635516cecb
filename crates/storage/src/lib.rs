//! The storage interface: business-level operations every backend implements with the same behaviour.
//!
//! Backends live in their own crates (`tessera-storage-sqlite`, `tessera-storage-postgres`), each with its own
//! SQL and migrations. Every read of agency data takes a [`Scope`], so isolation between agencies is enforced
//! in the query itself, never left to the caller.
#![forbid(unsafe_code)]

mod error;
mod records;
#[cfg(feature = "testsuite")]
pub mod testsuite;

use async_trait::async_trait;

pub use error::{SinkError, StorageError};
pub use records::*;
use tessera_core::agency::{Agency, Agreements, CarrierAgreement, TourCode};
use tessera_core::booking::Booking;
use tessera_core::codes::TicketNumber;
use tessera_core::ids::{AgencyId, ApiKeyId, BookingId, IssuanceId, UserId};
use tessera_core::ledger::LedgerEntry;
use tessera_core::ticket::Ticket;
use tessera_core::user::{Scope, User};

pub type Result<T, E = StorageError> = std::result::Result<T, E>;

/// Called by [`Database::issue`] inside its transaction once ticket numbers are known, to render and store the
/// documents. Whatever it returns is recorded in the same transaction; if it fails, nothing is committed.
#[async_trait]
pub trait DocumentSink: Send + Sync {
    async fn produce(&self, issued: &IssuedTickets) -> std::result::Result<Vec<NewDocument>, SinkError>;
}

#[async_trait]
pub trait Database: Send + Sync + 'static {
    /// Which backend this is (`sqlite`, `postgres`), for logs and readiness.
    fn backend(&self) -> &'static str;
    async fn ping(&self) -> Result<()>;

    // --- agencies and money ---
    async fn create_agency(&self, agency: &NewAgency) -> Result<Agency>;
    async fn get_agency(&self, id: AgencyId) -> Result<Option<Agency>>;
    async fn list_agencies(&self) -> Result<Vec<Agency>>;
    /// Credits (or, with a negative amount, debits as an adjustment) the balance and appends a ledger entry.
    /// A debit that would take the balance below `-credit_limit` fails with [`StorageError::InsufficientBalance`].
    async fn post_ledger(&self, entry: &NewLedgerEntry) -> Result<LedgerEntry>;
    async fn ledger(&self, agency: AgencyId) -> Result<Vec<LedgerEntry>>;
    async fn set_credit_limit(&self, agency: AgencyId, credit_limit_minor: i64) -> Result<Agency>;

    // --- agreements ---
    async fn set_agreement(&self, agency: AgencyId, agreement: &CarrierAgreement) -> Result<()>;
    async fn add_tour_code(&self, agency: AgencyId, tour_code: &TourCode) -> Result<()>;
    async fn add_corporate_account(&self, agency: AgencyId, code: &str) -> Result<()>;
    async fn agreements(&self, agency: AgencyId) -> Result<Agreements>;

    // --- identity ---
    /// Fails with [`StorageError::Conflict`] when the username is taken.
    async fn create_user(&self, user: &NewUser) -> Result<User>;
    async fn get_user(&self, id: UserId) -> Result<Option<User>>;
    async fn find_credentials(&self, username: &str) -> Result<Option<Credentials>>;
    async fn list_users(&self, agency: Option<AgencyId>) -> Result<Vec<User>>;
    async fn create_api_key(&self, key: &NewApiKey) -> Result<ApiKeyRecord>;
    /// The key's owner, if the hash matches a key that is not revoked.
    async fn find_api_key(&self, key_hash: &str) -> Result<Option<(ApiKeyRecord, User)>>;
    async fn list_api_keys(&self, user: UserId) -> Result<Vec<ApiKeyRecord>>;
    /// True if a live key was revoked.
    async fn revoke_api_key(&self, id: ApiKeyId) -> Result<bool>;

    // --- bookings ---
    /// Fails with [`StorageError::Conflict`] when the agency already has a booking with this code.
    async fn insert_booking(&self, booking: &Booking) -> Result<()>;
    async fn get_booking(&self, scope: Scope, id: BookingId) -> Result<Option<Booking>>;
    /// Finds by PNR (flights) or booking code (events) within the scope.
    async fn find_booking_by_code(&self, scope: Scope, code: &str) -> Result<Option<Booking>>;
    async fn list_bookings(&self, scope: Scope, filter: &BookingFilter) -> Result<Vec<Booking>>;

    // --- issuance ---
    /// Executes an issuance atomically: the booking must still be `confirmed` (else
    /// [`StorageError::BookingNotConfirmed`]), the debit must fit the credit limit (else
    /// [`StorageError::InsufficientBalance`]); ticket serials are allocated per prefix without gaps or
    /// duplicates, `sink` renders the documents, and tickets, coupons, documents, the ledger debit, the booking's
    /// new status and the audit entry commit together.
    async fn issue(&self, issuance: &NewIssuance, sink: &dyn DocumentSink) -> Result<IssuanceRecord>;
    async fn get_issuance(&self, scope: Scope, id: IssuanceId) -> Result<Option<IssuanceRecord>>;
    async fn get_ticket(&self, scope: Scope, number: &TicketNumber) -> Result<Option<Ticket>>;
    async fn tickets_of_issuance(&self, scope: Scope, id: IssuanceId) -> Result<Vec<Ticket>>;
    async fn get_document(&self, scope: Scope, owner: &DocumentOwner) -> Result<Option<DocumentRecord>>;

    // --- audit ---
    async fn append_audit(&self, entry: &NewAuditEntry) -> Result<()>;
    async fn list_audit(&self, scope: Scope, filter: &AuditFilter) -> Result<Vec<AuditEntry>>;

    // --- idempotency ---
    /// Claims `key` for a request with `request_hash`. Returns the stored response when the same request already
    /// completed, [`IdempotencyClaim::InProgress`] while another copy runs, [`IdempotencyClaim::Mismatch`] when the
    /// key was used for a different request.
    async fn claim_idempotency(&self, scope_key: &str, key: &str, request_hash: &str) -> Result<IdempotencyClaim>;
    async fn complete_idempotency(&self, scope_key: &str, key: &str, status: u16, body: &[u8]) -> Result<()>;
    /// Forgets a claim whose request failed before producing a response worth replaying.
    async fn release_idempotency(&self, scope_key: &str, key: &str) -> Result<()>;
}
