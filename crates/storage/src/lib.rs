//! The storage interface: business-level operations every backend implements with the same behaviour.
//!
//! Backends live in their own crates (`tessera-storage-sqlite`, `tessera-storage-postgres`), each with its own
//! SQL and migrations. Every read of agency data takes a [`Scope`], so isolation between agencies is enforced
//! in the query itself, never left to the caller.
//!
//! Every write transaction is written once, in [`scripts`], over the few primitives a backend implements
//! ([`Backend`], [`WriteTx`]): the steps, checks, lock order, audit entry and retries live there. Rows are
//! decoded once, in [`decode`], from the plain column values a backend reads ([`decode::StoredRow`]), and
//! [`route_database!`] turns a backend's functions into its [`Database`] impl. A backend crate holds SQL and
//! the reading of its column types only.
#![forbid(unsafe_code)]

pub mod decode;
mod error;
pub mod group;
mod primitives;
mod records;
#[doc(hidden)]
pub mod route;
pub mod scripts;
mod signing;
#[cfg(feature = "testsuite")]
pub mod testsuite;
mod webhooks;

use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};

pub use error::{SinkError, StorageError};
pub use primitives::{Backend, StoredClaim, WriteTx};
pub use records::*;
pub use signing::*;
use tessera_core::agency::{Agency, AgencySettings, AgreementEntry, Agreements, CarrierAgreement, TourCode};
use tessera_core::booking::{Booking, DistributionChannel};
use tessera_core::codes::TicketNumber;
use tessera_core::ids::{AgencyId, ApiKeyId, BookingId, IssuanceId, MessageId, UserId, WebhookDeliveryId, WebhookId};
use tessera_core::invoice::Invoice;
use tessera_core::language::Language;
use tessera_core::ledger::LedgerEntry;
use tessera_core::orders::{BookingOrder, BookingOrderId, DownloadItemId, OrderFilter, OrderItemId};
use tessera_core::ticket::Ticket;
use tessera_core::user::{Scope, User};
pub use webhooks::*;

pub type Result<T, E = StorageError> = std::result::Result<T, E>;

/// Called by [`Database::issue`] inside its transaction once ticket numbers are known, to name the documents
/// the issuance records. Whatever it returns is recorded in the same transaction; if it fails, nothing is
/// committed. It runs while the transaction holds the database's locks, for every issuance of a group commit in
/// turn, so it should be quick: the real sink names the documents [`NewDocument::pending`], renders them after
/// the commit and records their files with [`Database::fill_documents`].
#[async_trait]
pub trait DocumentSink: Send + Sync {
    async fn produce(&self, issued: &IssuedTickets) -> std::result::Result<Vec<NewDocument>, SinkError>;
}

/// Called by [`Database::transition`] inside its transaction to re-render what the change affects (the ticket's
/// PDF with its new status, a new ticket's PDF, a credit invoice, an order's zip). Every document returned
/// replaces the stored one with the same owner, in the same transaction.
#[async_trait]
pub trait TransitionSink: Send + Sync {
    async fn produce(&self, done: &TransitionOutcome) -> std::result::Result<Vec<NewDocument>, SinkError>;
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
    /// Idempotent, like corporate accounts.
    async fn add_booker_code(&self, agency: AgencyId, code: &str) -> Result<()>;
    async fn agreements(&self, agency: AgencyId) -> Result<Agreements>;
    /// Removes one entry of the agency's agreements; false when there was no such entry.
    async fn remove_agreement_entry(&self, agency: AgencyId, entry: &AgreementEntry) -> Result<bool>;

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
    /// Moves the user's [`User::session_epoch`] on, so every access token issued before stops working; the user
    /// as it is now, or None when there is no such user.
    async fn end_sessions(&self, user: UserId) -> Result<Option<User>>;

    // --- bookings ---
    /// Stores a booking and, for an event booking, its booking orders, with its audit entry, together. Fails
    /// with [`StorageError::Conflict`] when the agency already has a booking with this code.
    async fn insert_booking(
        &self,
        booking: &Booking,
        orders: &[BookingOrder],
        audit: Option<&NewAuditEntry>,
    ) -> Result<()>;
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
    async fn issue(&self, issuance: &NewIssuance, sink: std::sync::Arc<dyn DocumentSink>) -> Result<IssuanceRecord>;
    /// Records the rendered files (key, hash, size) of documents stored as pending, each only while it is
    /// still pending and the agency's.
    async fn fill_documents(&self, agency: AgencyId, documents: &[NewDocument]) -> Result<()>;
    async fn get_issuance(&self, scope: Scope, id: IssuanceId) -> Result<Option<IssuanceRecord>>;
    /// The issuance that ticketed a booking, if any, within the scope.
    async fn find_issuance_by_booking(&self, scope: Scope, booking: BookingId) -> Result<Option<IssuanceRecord>>;
    async fn get_ticket(&self, scope: Scope, number: &TicketNumber) -> Result<Option<Ticket>>;
    async fn tickets_of_issuance(&self, scope: Scope, id: IssuanceId) -> Result<Vec<Ticket>>;
    async fn get_document(&self, scope: Scope, owner: &DocumentOwner) -> Result<Option<DocumentRecord>>;

    // --- lifecycle ---
    /// Executes a planned lifecycle action atomically: checks the subject is still in `from` (else
    /// [`StorageError::Stale`]; [`StorageError::NotFound`] when it does not exist in the agency), writes its new
    /// status, coupons and pending penalty, posts the ledger entry, numbers and stores the invoice, issues the
    /// reissue, lets `sink` render, replaces the documents and appends the audit entry — all or nothing.
    async fn transition(&self, change: &NewTransition, sink: &dyn TransitionSink) -> Result<TransitionOutcome>;
    /// Every invoice of a booking (flight or event), oldest first, within the scope.
    async fn invoices_of_booking(&self, scope: Scope, booking: BookingId) -> Result<Vec<Invoice>>;
    /// The booking order holding a download item, found through its stored PDF, within the scope.
    async fn order_of_download(&self, scope: Scope, download: &DownloadItemId) -> Result<Option<BookingOrderId>>;
    /// Whether refunds of this agency wait for approval.
    async fn set_refund_approval(&self, agency: AgencyId, required: bool) -> Result<Agency>;
    /// Sets the language of documents of the agency's bookings that do not choose one.
    async fn set_default_language(&self, agency: AgencyId, language: Language) -> Result<Agency>;
    /// Writes the agency's VAT rate, refund approval and documents' language together.
    async fn update_agency_settings(&self, agency: AgencyId, settings: &AgencySettings) -> Result<Agency>;

    // --- booking orders (event bookings) ---
    /// A booking's orders in intake order, within the scope.
    async fn orders_of_booking(&self, scope: Scope, booking: BookingId) -> Result<Vec<BookingOrder>>;
    /// Orders matching `filter` within the scope, oldest booking first (then by position), skipping `offset`,
    /// at most `limit`, with the number that match in all.
    async fn list_booking_orders(
        &self,
        scope: Scope,
        filter: &OrderFilter,
        offset: u64,
        limit: u32,
    ) -> Result<OrderPage>;
    async fn get_booking_order(&self, scope: Scope, id: &BookingOrderId) -> Result<Option<OrderRecord>>;
    /// Changes one item's distribution channel; `None` when the order or item is not within the scope.
    async fn set_distribution_channel(
        &self,
        scope: Scope,
        order: &BookingOrderId,
        item: &OrderItemId,
        channel: DistributionChannel,
    ) -> Result<Option<BookingOrder>>;
    /// Stores a rebuilt document (e.g. an order's zip after a change) in place of the one with the same owner.
    async fn replace_document(&self, agency: AgencyId, document: &NewDocument, at: DateTime<Utc>) -> Result<()>;

    // --- audit ---
    async fn append_audit(&self, entry: &NewAuditEntry) -> Result<()>;
    /// Appends `entries` in one transaction (one multi-row INSERT per chunk the backend's parameter limit
    /// allows), in order: all of them or none. Nothing to do for an empty slice.
    async fn append_audit_batch(&self, entries: &[NewAuditEntry]) -> Result<()>;
    async fn list_audit(&self, scope: Scope, filter: &AuditFilter) -> Result<Vec<AuditEntry>>;

    // --- state every node shares ---
    /// The secret kept under `name`, keeping `candidate` first when there is none yet: every node of one
    /// database gets the same secret, whichever node asked first.
    async fn shared_secret(&self, name: &str, candidate: &[u8]) -> Result<Vec<u8>>;
    /// Takes one token from `key`'s bucket at `now` (GCRA: the bucket refills one token per `quota.interval`,
    /// holds at most `quota.burst`), atomically however many nodes ask at once. A refusal takes no token and
    /// says how long until one is free.
    async fn take_rate_token(&self, key: &str, now: DateTime<Utc>, quota: RateQuota) -> Result<RateDecision>;
    /// Every gate-signing key, retired ones too, oldest first (by `created_at`, then `kid`).
    async fn signing_keys(&self) -> Result<Vec<SigningKeyRecord>>;
    /// Adds a signing key; a key whose `kid` is already stored is left as it is.
    async fn add_signing_key(&self, key: &SigningKeyRecord) -> Result<()>;
    /// Retires the key `kid` at `at`; false when there is no such key or it was already retired.
    async fn retire_signing_key(&self, kid: &str, at: DateTime<Utc>) -> Result<bool>;

    // --- idempotency ---
    /// Claims `mark.key` for a request with `request_hash`, held by `mark.token` with a lease until
    /// `now + lease`; a claim of the same request whose lease ended by `now` with no effect is taken over.
    /// Returns the stored response when the same request already completed, [`IdempotencyClaim::Done`] when
    /// its effect committed but no answer was stored, [`IdempotencyClaim::InProgress`] while another copy's
    /// lease is live, [`IdempotencyClaim::Mismatch`] when the key was used for a different request.
    async fn claim_idempotency(
        &self,
        mark: &ClaimMark,
        request_hash: &str,
        now: DateTime<Utc>,
        lease: TimeDelta,
    ) -> Result<IdempotencyClaim>;
    async fn complete_idempotency(&self, scope_key: &str, key: &str, status: u16, body: &[u8]) -> Result<()>;
    /// Forgets a claim whose request failed before producing a response worth replaying: only while
    /// `mark.token` holds it and no effect was recorded.
    async fn release_idempotency(&self, mark: &ClaimMark) -> Result<()>;

    // --- e-mail outbox ---
    // Messages are claimed with a lease (`locked_until`) before sending, so of several nodes sending from one
    // database exactly one sends a given message; a node that dies mid-send leaves a lease that simply expires.
    /// Adds a message with status queued, no attempts, `next_attempt_at = created_at` and no lease. Fails
    /// with [`StorageError::Conflict`] when the id is taken.
    async fn enqueue_message(&self, message: &NewMessage) -> Result<()>;
    /// Claims up to `limit` due messages (status queued, `next_attempt_at <= now`, no lease or one that has
    /// expired by `now`), oldest first (by `created_at`, then id), by leasing them until `now + lease`, and
    /// returns them in that order. Concurrent callers never claim the same message. `limit` 0 claims nothing.
    async fn claim_due_messages(&self, now: DateTime<Utc>, lease: TimeDelta, limit: u32) -> Result<Vec<OutboxMessage>>;
    /// Claims one message like [`Database::claim_due_messages`] but whenever it is due (for the synchronous
    /// first send): `None` when it does not exist, is not queued, or holds a lease still live at `now`.
    async fn claim_message(&self, id: MessageId, now: DateTime<Utc>, lease: TimeDelta)
        -> Result<Option<OutboxMessage>>;
    /// Records a successful send: status sent, `sent_at = now`, one more attempt, lease released, `last_error`
    /// kept. A message no longer queued is left as it is (a late report must not undo a newer outcome); an
    /// unknown id fails with [`StorageError::NotFound`].
    async fn mark_message_sent(&self, id: MessageId, now: DateTime<Utc>) -> Result<()>;
    /// Records a failed attempt: one more attempt, `last_error = error` (cut to [`MAX_MESSAGE_ERROR_CHARS`]),
    /// lease released. With `retry_at` the message stays queued and becomes due at that time; without, it is
    /// given up (status failed). A message no longer queued is left as it is; an unknown id fails with
    /// [`StorageError::NotFound`].
    async fn mark_message_failed(&self, id: MessageId, error: &str, retry_at: Option<DateTime<Utc>>) -> Result<()>;
    async fn get_message(&self, id: MessageId) -> Result<Option<OutboxMessage>>;
    /// The newest messages first (by `created_at`, then id), at most `limit` (0 means 200). A scope with an
    /// agency (agent or customer) sees that agency's messages only; messages without an agency are
    /// visible to [`Scope::All`] alone.
    async fn list_outbox(&self, scope: Scope, limit: u32) -> Result<Vec<OutboxMessage>>;
    // --- webhooks ---
    // Endpoints are read and changed within a scope: another agency's endpoint is simply not there.
    /// Fails with [`StorageError::Conflict`] when the id is taken.
    async fn create_webhook(&self, webhook: &NewWebhook) -> Result<Webhook>;
    async fn get_webhook(&self, scope: Scope, id: WebhookId) -> Result<Option<Webhook>>;
    /// Oldest first (by `created_at`, then id).
    async fn list_webhooks(&self, scope: Scope) -> Result<Vec<Webhook>>;
    /// Applies `change` and sets `updated_at = at`; `None` when the endpoint is not within the scope.
    async fn update_webhook(
        &self,
        scope: Scope,
        id: WebhookId,
        change: &WebhookChange,
        at: DateTime<Utc>,
    ) -> Result<Option<Webhook>>;
    /// Deletes the endpoint and its deliveries; false when it is not within the scope.
    async fn delete_webhook(&self, scope: Scope, id: WebhookId) -> Result<bool>;
    /// Writes an event in a transaction of its own ([`scripts::webhooks::enqueue`]) and returns how many
    /// deliveries it fanned out to. The scripts write theirs inside the change's own transaction instead.
    async fn record_webhook_event(&self, event: &NewWebhookEvent) -> Result<u64>;
    /// The agency's `balance.low` threshold in minor units of its currency, if one is set.
    async fn low_balance_threshold(&self, agency: AgencyId) -> Result<Option<i64>>;
    /// Sets (or, with `None`, clears) the agency's `balance.low` threshold.
    async fn set_low_balance_threshold(&self, agency: AgencyId, threshold_minor: Option<i64>) -> Result<()>;
    /// Claims up to `limit` due deliveries (pending, `next_attempt_at <= now`, no live lease) by leasing them
    /// until `now + lease`, oldest event first, and returns them in that order. A delivery is skipped while an
    /// older pending delivery of the same endpoint holds a live lease, so one endpoint's deliveries are not
    /// sent by two nodes at once. Concurrent callers never claim the same delivery. `limit` 0 claims nothing.
    async fn claim_due_webhook_deliveries(
        &self,
        now: DateTime<Utc>,
        lease: TimeDelta,
        limit: u32,
    ) -> Result<Vec<WebhookDelivery>>;
    /// Records an attempt of a delivery and its consequence, releasing the lease: success makes it delivered
    /// (and its endpoint active); a failure with `retry_at` keeps it pending until then; one without gives it
    /// up (failed) and marks its endpoint failing. An unknown delivery fails with [`StorageError::NotFound`].
    async fn record_webhook_attempt(&self, attempt: &NewAttempt) -> Result<()>;
    /// The endpoint's deliveries, newest first (by event time, then id), at most `limit`, each with its
    /// attempts oldest first; empty when the endpoint is not within the scope.
    async fn list_webhook_deliveries(
        &self,
        scope: Scope,
        webhook: WebhookId,
        limit: u32,
    ) -> Result<Vec<(WebhookDelivery, Vec<WebhookAttempt>)>>;
    /// Makes a delivery of the endpoint due again at `now` (whatever its status; a live lease is released),
    /// keeping its attempts; `None` when it is not the endpoint's or not within the scope.
    async fn retry_webhook_delivery(
        &self,
        scope: Scope,
        webhook: WebhookId,
        delivery: WebhookDeliveryId,
        now: DateTime<Utc>,
    ) -> Result<Option<WebhookDelivery>>;
    /// How many messages wait to be sent (status queued, due or not), for the `tessera_outbox_pending` gauge.
    async fn count_pending_messages(&self) -> Result<u64>;
    /// Makes a message due again at `now` (an operator's retry): a failed message goes back to queued with its
    /// attempts and last error kept, a queued one becomes due at once. A message being sent (a lease still live
    /// at `now`) or already sent is left as it is and `false` returned; an unknown id fails with
    /// [`StorageError::NotFound`].
    async fn retry_message(&self, id: MessageId, now: DateTime<Utc>) -> Result<bool>;

    // --- operations ---
    /// The connection pool's current size and idle connections, for the database pool gauges.
    async fn pool_stats(&self) -> Result<PoolStats>;
}
