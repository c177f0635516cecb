//! The steps a backend offers the [`crate::scripts`]: one write transaction ([`WriteTx`]) with SQL behind each
//! method, and a way to begin one ([`Backend`]). Primitives read, lock and write rows; they check nothing a
//! script can check itself, so every rule of a transaction is stated once, in its script.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use tessera_core::booking::{Booking, BookingDetail, BookingStatus};
use tessera_core::codes::{AccountingPrefix, TicketNumber};
use tessera_core::ids::{AgencyId, BookingId, IssuanceId};
use tessera_core::invoice::Invoice;
use tessera_core::orders::{BookingOrder, BookingOrderId};
use tessera_core::ticket::Ticket;
use tessera_core::user::Scope;

use crate::{ClaimMark, IssuanceRecord, NewAuditEntry, NewDocument, NewLedgerEntry, NewWebhookEvent, StorageError};

/// A backend that can run the transaction scripts.
#[async_trait]
pub trait Backend: Send + Sync {
    type Tx: WriteTx;
    /// Starts a write transaction. Dropping it without [`WriteTx::commit`] rolls everything back.
    async fn begin_write(&self) -> Result<Self::Tx, <Self::Tx as WriteTx>::Error>;
}

/// One open write transaction. Methods named `lock_*` hold the row until the transaction ends where the
/// database locks rows (PostgreSQL `FOR UPDATE`); SQLite's `BEGIN IMMEDIATE` already holds the whole database.
#[async_trait]
pub trait WriteTx: Send + Sized {
    /// The backend's error: it keeps what decides a retry until it becomes a [`StorageError`].
    type Error: From<StorageError> + Into<StorageError> + Send;

    /// Whether the database aborted the transaction to break a cycle, so running it again whole may succeed.
    fn is_retryable(_error: &Self::Error) -> bool {
        false
    }
    async fn commit(self) -> Result<(), Self::Error>;

    // --- savepoints: one per script of a group commit ([`crate::group`]); they do not nest ---
    async fn savepoint(&mut self) -> Result<(), Self::Error>;
    /// Undoes what was written since [`WriteTx::savepoint`] and leaves the transaction usable.
    async fn rollback_to_savepoint(&mut self) -> Result<(), Self::Error>;
    async fn release_savepoint(&mut self) -> Result<(), Self::Error>;

    // --- bookings and orders ---
    /// Stores a booking and its orders (none for a flight booking).
    async fn insert_booking(&mut self, booking: &Booking, orders: &[BookingOrder]) -> Result<(), Self::Error>;
    /// The status of the agency's booking, its row locked; `None` when the agency has no such booking.
    async fn lock_booking(
        &mut self,
        agency: AgencyId,
        booking: BookingId,
    ) -> Result<Option<BookingStatus>, Self::Error>;
    async fn set_booking_status(&mut self, booking: BookingId, status: BookingStatus) -> Result<(), Self::Error>;
    async fn set_booking_detail(&mut self, booking: BookingId, detail: &BookingDetail) -> Result<(), Self::Error>;
    /// The booking order if it is within the scope, its row locked (not its booking's).
    async fn lock_order(&mut self, scope: Scope, order: &BookingOrderId) -> Result<Option<BookingOrder>, Self::Error>;
    async fn set_order_items(&mut self, order: &BookingOrder) -> Result<(), Self::Error>;
    /// Marks every order of the booking completed (delivered).
    async fn complete_orders(&mut self, booking: BookingId) -> Result<(), Self::Error>;
    async fn order_is_agencys(&mut self, order: &BookingOrderId, agency: AgencyId) -> Result<bool, Self::Error>;

    // --- money ---
    /// Adds `amount_minor` (signed) to the balance in one conditional statement, only if the result stays
    /// within the credit limit, and returns the new balance, the account's currency code and its `balance.low`
    /// threshold in minor units, if one is set (read in the same statement: a round trip fewer on every debit).
    /// `None` when the agency is missing or the amount does not fit; the agency row stays locked until the end.
    async fn add_to_balance(
        &mut self,
        agency: AgencyId,
        amount_minor: i64,
    ) -> Result<Option<(i64, String, Option<i64>)>, Self::Error>;
    async fn agency_exists(&mut self, agency: AgencyId) -> Result<bool, Self::Error>;
    /// Appends the entry with the balance after it; returns the entry's id.
    async fn insert_ledger(&mut self, entry: &NewLedgerEntry, balance_after_minor: i64) -> Result<i64, Self::Error>;

    // --- numbers ---
    /// Moves the prefix's counter (new counters start at [`crate::FIRST_SERIAL`]) on by `count` and returns
    /// the first serial of the block taken. The counter row stays locked until the end.
    async fn take_serials(&mut self, prefix: &AccountingPrefix, count: u64) -> Result<u64, Self::Error>;
    /// Moves the agency's invoice counter (new counters start at 1) on by `count` and returns the first
    /// number of the block taken. The counter row stays locked until the end.
    async fn take_invoice_numbers(&mut self, agency: AgencyId, count: u64) -> Result<u64, Self::Error>;

    // --- issuance records ---
    async fn insert_issuance(&mut self, issuance: &IssuanceRecord) -> Result<(), Self::Error>;
    /// Stores tickets with their coupons; they take the ordinals from `first_ordinal` on in their issuance.
    async fn insert_tickets(&mut self, tickets: &[Ticket], first_ordinal: u32) -> Result<(), Self::Error>;
    async fn insert_invoices(&mut self, invoices: &[Invoice]) -> Result<(), Self::Error>;
    /// Stores the documents in one statement: every statement of an issuance is a round trip the node's
    /// group-commit writer waits for, one after another.
    async fn insert_documents(
        &mut self,
        agency: AgencyId,
        documents: &[NewDocument],
        at: DateTime<Utc>,
    ) -> Result<(), Self::Error>;
    /// Records the rendered files of documents stored as pending (key, hash and size), in one statement, for
    /// those still pending and the agency's; the others are left as they are.
    async fn fill_documents(&mut self, agency: AgencyId, documents: &[NewDocument]) -> Result<(), Self::Error>;
    /// Stores the document in place of the one with the same owner (id included), or as a new one. Writes
    /// nothing and returns `false` when the stored one is another agency's.
    async fn replace_document(
        &mut self,
        agency: AgencyId,
        document: &NewDocument,
        at: DateTime<Utc>,
    ) -> Result<bool, Self::Error>;

    // --- lifecycle ---
    /// The ticket with its coupons, if it is the agency's and the booking's, its row locked.
    async fn lock_ticket(
        &mut self,
        agency: AgencyId,
        booking: BookingId,
        number: &TicketNumber,
    ) -> Result<Option<Ticket>, Self::Error>;
    /// Writes the ticket's status, pending penalty and its coupons' statuses and use times.
    async fn update_ticket(&mut self, ticket: &Ticket) -> Result<(), Self::Error>;
    /// The ordinal after the last ticket of the issuance, the issuance row locked so that two exchanges
    /// under one issuance cannot take the same one.
    async fn next_ticket_ordinal(&mut self, issuance: IssuanceId) -> Result<u32, Self::Error>;
    /// Records that `old` was exchanged for `new` (`EXCH` on the old ticket).
    async fn link_exchange(&mut self, old: &TicketNumber, new: &TicketNumber) -> Result<(), Self::Error>;

    async fn insert_audit(&mut self, entry: &NewAuditEntry) -> Result<(), Self::Error>;

    // --- idempotency ---
    /// Inserts a claim of the key held by `token` with a lease ending at `locked_until_ms` (Unix
    /// milliseconds), unless the key is taken; returns whether it inserted.
    async fn insert_claim(
        &mut self,
        mark: &ClaimMark,
        request_hash: &str,
        locked_until_ms: i64,
    ) -> Result<bool, Self::Error>;
    /// The key's claim as stored.
    async fn read_claim(&mut self, scope_key: &str, key: &str) -> Result<Option<StoredClaim>, Self::Error>;
    /// Hands the claim to `mark.token` with a lease ending at `locked_until_ms`, only if it is still the
    /// same request, unanswered, without an effect, and its lease ended by `now_ms` (a missing lease counts
    /// as ended); returns whether it did.
    async fn take_over_claim(
        &mut self,
        mark: &ClaimMark,
        request_hash: &str,
        now_ms: i64,
        locked_until_ms: i64,
    ) -> Result<bool, Self::Error>;
    /// Records `effect` on the claim, only while `mark.token` holds it and it is unanswered; returns whether
    /// it did.
    /// Stores the answer to replay for the key; returns whether the claim existed.
    async fn complete_claim(
        &mut self,
        scope_key: &str,
        key: &str,
        status: u16,
        body: &[u8],
    ) -> Result<bool, Self::Error>;
    async fn record_claim_effect(&mut self, mark: &ClaimMark, effect: &str) -> Result<bool, Self::Error>;

    // --- webhooks ---
    /// Stores the event and one pending delivery of it, due at the event's time, for every endpoint of its
    /// agency subscribed to its type at this moment; returns how many deliveries it stored.
    async fn insert_webhook_event(&mut self, event: &NewWebhookEvent) -> Result<u64, Self::Error>;
}

/// An idempotency claim as stored, read back by [`WriteTx::read_claim`].
pub struct StoredClaim {
    pub request_hash: String,
    pub status: Option<i64>,
    pub body: Option<Vec<u8>>,
    /// End of the holder's lease, Unix milliseconds; `None` for claims older than leases (always expired).
    pub locked_until_ms: Option<i64>,
    /// What the request did, recorded in the transaction that did it.
    pub effect: Option<String>,
}
