//! PostgreSQL implementation of [`tessera_storage::Database`].
//!
//! This crate holds SQL and row decoding only. The write transactions (issuance, lifecycle transitions,
//! ledger postings, bookings with their orders, document replacement) are the shared scripts of
//! [`tessera_storage::scripts`], run on the primitives of `tx`, which also keeps their lock order. Reads go to
//! the module of their area: `agencies` (money, ledger, agreements), `identity` (users, API keys),
//! `bookings`, `orders` (booking orders of event bookings, their invoices and documents), `issuance`
//! (issuances, tickets, documents), `lifecycle` (a booking's invoices, the order of a download), `audit`,
//! `idempotency` and `outbox` (e-mails waiting to be sent). Rows are decoded in `rows`, and driver errors
//! mapped in `error`. Queries are plain runtime SQL (no compile-time checked macros), so building the crate
//! never needs a database.
//!
//! [`testing`] creates throwaway databases from a migrated template for tests of this and other crates.
#![forbid(unsafe_code)]

mod agencies;
mod audit;
mod bookings;
mod error;
mod idempotency;
mod identity;
mod issuance;
mod lifecycle;
mod orders;
mod outbox;
mod rows;
pub mod testing;
mod tx;

use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};
use sqlx::migrate::Migrator;
use sqlx::postgres::PgPoolOptions;
use sqlx::PgPool;
use tessera_core::agency::{Agency, Agreements, CarrierAgreement, TourCode};
use tessera_core::booking::{Booking, DistributionChannel};
use tessera_core::codes::TicketNumber;
use tessera_core::ids::{AgencyId, ApiKeyId, BookingId, IssuanceId, MessageId, UserId};
use tessera_core::invoice::Invoice;
use tessera_core::ledger::LedgerEntry;
use tessera_core::orders::{BookingOrder, BookingOrderId, DownloadItemId, OrderFilter, OrderItemId};
use tessera_core::ticket::Ticket;
use tessera_core::user::{Scope, User};
use tessera_storage::scripts;
use tessera_storage::{
    ApiKeyRecord, AuditEntry, AuditFilter, BookingFilter, Credentials, Database, DocumentOwner, DocumentRecord,
    DocumentSink, IdempotencyClaim, IssuanceRecord, NewAgency, NewApiKey, NewAuditEntry, NewDocument, NewIssuance,
    NewLedgerEntry, NewMessage, NewTransition, NewUser, OrderPage, OrderRecord, OutboxMessage, Result, StorageError,
    TransitionOutcome, TransitionSink,
};
use uuid::Uuid;

/// The schema, embedded at build time from `migrations/`.
pub(crate) static MIGRATOR: Migrator = sqlx::migrate!();

/// The Tessera store on PostgreSQL. Cheap to clone: clones share the pool.
#[derive(Debug, Clone)]
pub struct PostgresDatabase {
    pool: PgPool,
}

impl PostgresDatabase {
    /// Connects a pool of at most `max_connections` to `url` (`postgres://user@host:port/db`) and brings the
    /// schema up to date. Running migrations from several processes at once is safe: sqlx serializes them
    /// with an advisory lock.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self> {
        let pool = PgPoolOptions::new()
            .max_connections(max_connections.max(1))
            .connect(url)
            .await
            .map_err(|e| StorageError::Backend(format!("connecting to PostgreSQL: {e}")))?;
        MIGRATOR.run(&pool).await.map_err(|e| StorageError::Backend(format!("migrating: {e}")))?;
        Ok(Self { pool })
    }

    /// The underlying pool, for health checks and tools that need raw SQL.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Closes every connection of the pool; later calls fail. Lets a test drop its database afterwards.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// A [`Scope`] as the two nullable parameters every scoped query takes: `agency_id = $agency` unless NULL,
/// and the booking's `created_by = $customer` unless NULL.
pub(crate) struct ScopeParams {
    pub agency: Option<Uuid>,
    pub customer: Option<Uuid>,
}

impl ScopeParams {
    pub fn of(scope: Scope) -> Self {
        Self { agency: scope.agency().map(|a| a.0), customer: scope.customer().map(|u| u.0) }
    }
}

#[async_trait]
impl Database for PostgresDatabase {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await.map_err(error::Error::from)?;
        Ok(())
    }

    async fn create_agency(&self, agency: &NewAgency) -> Result<Agency> {
        Ok(agencies::create(&self.pool, agency).await?)
    }

    async fn get_agency(&self, id: AgencyId) -> Result<Option<Agency>> {
        Ok(agencies::get(&self.pool, id).await?)
    }

    async fn list_agencies(&self) -> Result<Vec<Agency>> {
        Ok(agencies::list(&self.pool).await?)
    }

    async fn post_ledger(&self, entry: &NewLedgerEntry) -> Result<LedgerEntry> {
        Ok(scripts::post_ledger(self, entry).await?)
    }

    async fn ledger(&self, agency: AgencyId) -> Result<Vec<LedgerEntry>> {
        Ok(agencies::ledger(&self.pool, agency).await?)
    }

    async fn set_credit_limit(&self, agency: AgencyId, credit_limit_minor: i64) -> Result<Agency> {
        Ok(agencies::set_credit_limit(&self.pool, agency, credit_limit_minor).await?)
    }

    async fn set_agreement(&self, agency: AgencyId, agreement: &CarrierAgreement) -> Result<()> {
        Ok(agencies::set_agreement(&self.pool, agency, agreement).await?)
    }

    async fn add_tour_code(&self, agency: AgencyId, tour_code: &TourCode) -> Result<()> {
        Ok(agencies::add_tour_code(&self.pool, agency, tour_code).await?)
    }

    async fn add_corporate_account(&self, agency: AgencyId, code: &str) -> Result<()> {
        Ok(agencies::add_corporate_account(&self.pool, agency, code).await?)
    }

    async fn add_booker_code(&self, agency: AgencyId, code: &str) -> Result<()> {
        Ok(agencies::add_booker_code(&self.pool, agency, code).await?)
    }

    async fn agreements(&self, agency: AgencyId) -> Result<Agreements> {
        Ok(agencies::agreements(&self.pool, agency).await?)
    }

    async fn create_user(&self, user: &NewUser) -> Result<User> {
        Ok(identity::create_user(&self.pool, user).await?)
    }

    async fn get_user(&self, id: UserId) -> Result<Option<User>> {
        Ok(identity::get_user(&self.pool, id).await?)
    }

    async fn find_credentials(&self, username: &str) -> Result<Option<Credentials>> {
        Ok(identity::find_credentials(&self.pool, username).await?)
    }

    async fn list_users(&self, agency: Option<AgencyId>) -> Result<Vec<User>> {
        Ok(identity::list_users(&self.pool, agency).await?)
    }

    async fn create_api_key(&self, key: &NewApiKey) -> Result<ApiKeyRecord> {
        Ok(identity::create_api_key(&self.pool, key).await?)
    }

    async fn find_api_key(&self, key_hash: &str) -> Result<Option<(ApiKeyRecord, User)>> {
        Ok(identity::find_api_key(&self.pool, key_hash).await?)
    }

    async fn list_api_keys(&self, user: UserId) -> Result<Vec<ApiKeyRecord>> {
        Ok(identity::list_api_keys(&self.pool, user).await?)
    }

    async fn revoke_api_key(&self, id: ApiKeyId) -> Result<bool> {
        Ok(identity::revoke_api_key(&self.pool, id).await?)
    }

    async fn insert_booking(&self, booking: &Booking, orders: &[BookingOrder]) -> Result<()> {
        Ok(scripts::insert_booking(self, booking, orders).await?)
    }

    async fn get_booking(&self, scope: Scope, id: BookingId) -> Result<Option<Booking>> {
        Ok(bookings::get(&self.pool, scope, id).await?)
    }

    async fn find_booking_by_code(&self, scope: Scope, code: &str) -> Result<Option<Booking>> {
        Ok(bookings::find_by_code(&self.pool, scope, code).await?)
    }

    async fn list_bookings(&self, scope: Scope, filter: &BookingFilter) -> Result<Vec<Booking>> {
        Ok(bookings::list(&self.pool, scope, filter).await?)
    }

    async fn issue(&self, issuance: &NewIssuance, sink: &dyn DocumentSink) -> Result<IssuanceRecord> {
        Ok(scripts::issue(self, issuance, sink).await?)
    }

    async fn get_issuance(&self, scope: Scope, id: IssuanceId) -> Result<Option<IssuanceRecord>> {
        Ok(issuance::get_issuance(&self.pool, scope, id).await?)
    }

    async fn find_issuance_by_booking(&self, scope: Scope, booking: BookingId) -> Result<Option<IssuanceRecord>> {
        Ok(issuance::find_issuance_by_booking(&self.pool, scope, booking).await?)
    }

    async fn get_ticket(&self, scope: Scope, number: &TicketNumber) -> Result<Option<Ticket>> {
        Ok(issuance::get_ticket(&self.pool, scope, number).await?)
    }

    async fn tickets_of_issuance(&self, scope: Scope, id: IssuanceId) -> Result<Vec<Ticket>> {
        Ok(issuance::tickets_of_issuance(&self.pool, scope, id).await?)
    }

    async fn get_document(&self, scope: Scope, owner: &DocumentOwner) -> Result<Option<DocumentRecord>> {
        Ok(issuance::get_document(&self.pool, scope, owner).await?)
    }

    async fn transition(&self, change: &NewTransition, sink: &dyn TransitionSink) -> Result<TransitionOutcome> {
        Ok(scripts::transition(self, change, sink).await?)
    }

    async fn invoices_of_booking(&self, scope: Scope, booking: BookingId) -> Result<Vec<Invoice>> {
        Ok(lifecycle::invoices_of_booking(&self.pool, scope, booking).await?)
    }

    async fn order_of_download(&self, scope: Scope, download: &DownloadItemId) -> Result<Option<BookingOrderId>> {
        Ok(lifecycle::order_of_download(&self.pool, scope, download).await?)
    }

    async fn set_refund_approval(&self, agency: AgencyId, required: bool) -> Result<Agency> {
        Ok(agencies::set_refund_approval(&self.pool, agency, required).await?)
    }

    async fn orders_of_booking(&self, scope: Scope, booking: BookingId) -> Result<Vec<BookingOrder>> {
        Ok(orders::orders_of_booking(&self.pool, scope, booking).await?)
    }

    async fn list_booking_orders(
        &self,
        scope: Scope,
        filter: &OrderFilter,
        offset: u64,
        limit: u32,
    ) -> Result<OrderPage> {
        Ok(orders::list_booking_orders(&self.pool, scope, filter, offset, limit).await?)
    }

    async fn get_booking_order(&self, scope: Scope, id: &BookingOrderId) -> Result<Option<OrderRecord>> {
        Ok(orders::get_booking_order(&self.pool, scope, id).await?)
    }

    async fn set_distribution_channel(
        &self,
        scope: Scope,
        order: &BookingOrderId,
        item: &OrderItemId,
        channel: DistributionChannel,
    ) -> Result<Option<BookingOrder>> {
        Ok(orders::set_distribution_channel(&self.pool, scope, order, item, channel).await?)
    }

    async fn replace_document(&self, agency: AgencyId, document: &NewDocument, at: DateTime<Utc>) -> Result<()> {
        Ok(scripts::replace_document(self, agency, document, at).await?)
    }

    async fn append_audit(&self, entry: &NewAuditEntry) -> Result<()> {
        Ok(audit::append(&self.pool, entry).await?)
    }

    async fn list_audit(&self, scope: Scope, filter: &AuditFilter) -> Result<Vec<AuditEntry>> {
        Ok(audit::list(&self.pool, scope, filter).await?)
    }

    async fn claim_idempotency(&self, scope_key: &str, key: &str, request_hash: &str) -> Result<IdempotencyClaim> {
        Ok(idempotency::claim(&self.pool, scope_key, key, request_hash).await?)
    }

    async fn complete_idempotency(&self, scope_key: &str, key: &str, status: u16, body: &[u8]) -> Result<()> {
        Ok(idempotency::complete(&self.pool, scope_key, key, status, body).await?)
    }

    async fn release_idempotency(&self, scope_key: &str, key: &str) -> Result<()> {
        Ok(idempotency::release(&self.pool, scope_key, key).await?)
    }

    async fn enqueue_message(&self, message: &NewMessage) -> Result<()> {
        Ok(outbox::enqueue(&self.pool, message).await?)
    }

    async fn claim_due_messages(&self, now: DateTime<Utc>, lease: TimeDelta, limit: u32) -> Result<Vec<OutboxMessage>> {
        Ok(outbox::claim_due(&self.pool, now, lease, limit).await?)
    }

    async fn claim_message(
        &self,
        id: MessageId,
        now: DateTime<Utc>,
        lease: TimeDelta,
    ) -> Result<Option<OutboxMessage>> {
        Ok(outbox::claim(&self.pool, id, now, lease).await?)
    }

    async fn mark_message_sent(&self, id: MessageId, now: DateTime<Utc>) -> Result<()> {
        Ok(outbox::mark_sent(&self.pool, id, now).await?)
    }

    async fn mark_message_failed(&self, id: MessageId, error: &str, retry_at: Option<DateTime<Utc>>) -> Result<()> {
        Ok(outbox::mark_failed(&self.pool, id, error, retry_at).await?)
    }

    async fn get_message(&self, id: MessageId) -> Result<Option<OutboxMessage>> {
        Ok(outbox::get(&self.pool, id).await?)
    }

    async fn list_outbox(&self, scope: Scope, limit: u32) -> Result<Vec<OutboxMessage>> {
        Ok(outbox::list(&self.pool, scope, limit).await?)
    }
}
