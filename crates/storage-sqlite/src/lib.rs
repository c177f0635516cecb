//! The SQLite storage backend: one database file, for single-node deployments and development.
//!
//! SQLite allows one writer at a time. Every transaction that writes starts with `BEGIN IMMEDIATE`, so it takes
//! the write lock up front and concurrent writers queue in SQLite's busy handler (up to the busy timeout)
//! instead of failing with `SQLITE_BUSY` when a read transaction tries to upgrade. Readers never block thanks
//! to WAL journaling.
//!
//! The SQL lives in one module per area; this module opens the database and routes the [`Database`] trait to
//! them.
#![forbid(unsafe_code)]

mod agencies;
mod audit;
mod bookings;
mod idempotency;
mod identity;
mod issuance;
mod lifecycle;
mod orders;
mod outbox;
mod rows;

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{QueryBuilder, Sqlite, Transaction};
use tessera_core::agency::{Agency, Agreements, CarrierAgreement, TourCode};
use tessera_core::booking::{Booking, DistributionChannel};
use tessera_core::codes::TicketNumber;
use tessera_core::ids::{AgencyId, ApiKeyId, BookingId, IssuanceId, MessageId, UserId};
use tessera_core::invoice::Invoice;
use tessera_core::ledger::LedgerEntry;
use tessera_core::orders::{BookingOrder, BookingOrderId, DownloadItemId, OrderFilter, OrderItemId};
use tessera_core::ticket::Ticket;
use tessera_core::user::{Scope, User};
use tessera_storage::{
    ApiKeyRecord, AuditEntry, AuditFilter, BookingFilter, Credentials, Database, DocumentOwner, DocumentRecord,
    DocumentSink, IdempotencyClaim, IssuanceRecord, NewAgency, NewApiKey, NewAuditEntry, NewDocument, NewIssuance,
    NewLedgerEntry, NewMessage, NewTransition, NewUser, OrderPage, OrderRecord, OutboxMessage, StorageError,
    TransitionOutcome, TransitionSink,
};

type Result<T, E = StorageError> = std::result::Result<T, E>;

/// How long a writer waits for the write lock before giving up with `SQLITE_BUSY`.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Connections in the pool. Only one of them can write at a time, the rest serve concurrent reads.
const MAX_CONNECTIONS: u32 = 8;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!();

/// A Tessera database in one SQLite file.
#[derive(Debug, Clone)]
pub struct SqliteDatabase {
    pool: SqlitePool,
}

impl SqliteDatabase {
    /// Opens (creating it if needed) the database file at `path` and brings its schema up to date.
    pub async fn open(path: &Path) -> Result<Self> {
        let options = SqliteConnectOptions::new().filename(path);
        Self::with_options(options, false).await
    }

    /// Opens a database from a `sqlite://path/to/file.db` (or `sqlite::memory:`) URL and brings its schema up
    /// to date. The pragmas Tessera relies on are applied whatever the URL says.
    pub async fn connect(url: &str) -> Result<Self> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|e| StorageError::Backend(format!("invalid SQLite URL: {e}")))?;
        // sqlx gives each `:memory:` URL a private shared-cache database; it lives only as long as one of the
        // pool's connections does.
        let in_memory = url.contains(":memory:") || url.contains("mode=memory");
        Self::with_options(options, in_memory).await
    }

    async fn with_options(options: SqliteConnectOptions, in_memory: bool) -> Result<Self> {
        let options = options
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // In WAL mode NORMAL only risks the last transactions on power loss, never corruption, and saves
            // an fsync per commit.
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT);
        let mut pool_options = SqlitePoolOptions::new().max_connections(MAX_CONNECTIONS);
        if in_memory {
            pool_options = pool_options.min_connections(1).idle_timeout(None).max_lifetime(None);
        }
        let pool = pool_options.connect_with(options).await.map_err(backend)?;
        MIGRATOR.run(&pool).await.map_err(|e| StorageError::Backend(format!("migrating the SQLite schema: {e}")))?;
        Ok(Self { pool })
    }

    /// Closes every connection, so the WAL is checkpointed into the main file before the process exits.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Starts a transaction that holds SQLite's write lock from its first statement (see the module docs).
/// Dropping the returned transaction without committing rolls it back, so every `?` is a rollback.
pub(crate) async fn begin_write(pool: &SqlitePool) -> Result<Transaction<'static, Sqlite>> {
    pool.begin_with("BEGIN IMMEDIATE").await.map_err(backend)
}

/// Starts a read-only transaction, so reads spanning several statements see one snapshot.
pub(crate) async fn begin_read(pool: &SqlitePool) -> Result<Transaction<'static, Sqlite>> {
    pool.begin().await.map_err(backend)
}

/// A driver error nobody can act on but an operator.
pub(crate) fn backend(e: sqlx::Error) -> StorageError {
    StorageError::Backend(e.to_string())
}

/// Maps the constraint violations a caller can provoke to their business meaning: a taken unique value is a
/// conflict over `what`, a reference to a row that does not exist is not found.
pub(crate) fn write_error(e: sqlx::Error, what: &'static str) -> StorageError {
    if let Some(db) = e.as_database_error() {
        if db.is_unique_violation() {
            return StorageError::Conflict(what);
        }
        if db.is_foreign_key_violation() {
            return StorageError::NotFound;
        }
    }
    backend(e)
}

/// Appends the scope's restriction to a query whose WHERE clause is already open. `agency` and `created_by`
/// name the booking-side columns: customers only reach what hangs off bookings they created.
pub(crate) fn push_scope(query: &mut QueryBuilder<'_, Sqlite>, scope: Scope, agency: &str, created_by: &str) {
    if let Some(a) = scope.agency() {
        query.push(" AND ").push(agency).push(" = ").push_bind(a.to_string());
    }
    if let Some(u) = scope.customer() {
        query.push(" AND ").push(created_by).push(" = ").push_bind(u.to_string());
    }
}

#[async_trait]
impl Database for SqliteDatabase {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await.map_err(backend)?;
        Ok(())
    }

    async fn create_agency(&self, agency: &NewAgency) -> Result<Agency> {
        agencies::create_agency(&self.pool, agency).await
    }

    async fn get_agency(&self, id: AgencyId) -> Result<Option<Agency>> {
        agencies::get_agency(&self.pool, id).await
    }

    async fn list_agencies(&self) -> Result<Vec<Agency>> {
        agencies::list_agencies(&self.pool).await
    }

    async fn post_ledger(&self, entry: &NewLedgerEntry) -> Result<LedgerEntry> {
        agencies::post_ledger(&self.pool, entry).await
    }

    async fn ledger(&self, agency: AgencyId) -> Result<Vec<LedgerEntry>> {
        agencies::ledger(&self.pool, agency).await
    }

    async fn set_credit_limit(&self, agency: AgencyId, credit_limit_minor: i64) -> Result<Agency> {
        agencies::set_credit_limit(&self.pool, agency, credit_limit_minor).await
    }

    async fn set_agreement(&self, agency: AgencyId, agreement: &CarrierAgreement) -> Result<()> {
        agencies::set_agreement(&self.pool, agency, agreement).await
    }

    async fn add_tour_code(&self, agency: AgencyId, tour_code: &TourCode) -> Result<()> {
        agencies::add_tour_code(&self.pool, agency, tour_code).await
    }

    async fn add_corporate_account(&self, agency: AgencyId, code: &str) -> Result<()> {
        agencies::add_corporate_account(&self.pool, agency, code).await
    }

    async fn add_booker_code(&self, agency: AgencyId, code: &str) -> Result<()> {
        agencies::add_booker_code(&self.pool, agency, code).await
    }

    async fn agreements(&self, agency: AgencyId) -> Result<Agreements> {
        agencies::agreements(&self.pool, agency).await
    }

    async fn create_user(&self, user: &NewUser) -> Result<User> {
        identity::create_user(&self.pool, user).await
    }

    async fn get_user(&self, id: UserId) -> Result<Option<User>> {
        identity::get_user(&self.pool, id).await
    }

    async fn find_credentials(&self, username: &str) -> Result<Option<Credentials>> {
        identity::find_credentials(&self.pool, username).await
    }

    async fn list_users(&self, agency: Option<AgencyId>) -> Result<Vec<User>> {
        identity::list_users(&self.pool, agency).await
    }

    async fn create_api_key(&self, key: &NewApiKey) -> Result<ApiKeyRecord> {
        identity::create_api_key(&self.pool, key).await
    }

    async fn find_api_key(&self, key_hash: &str) -> Result<Option<(ApiKeyRecord, User)>> {
        identity::find_api_key(&self.pool, key_hash).await
    }

    async fn list_api_keys(&self, user: UserId) -> Result<Vec<ApiKeyRecord>> {
        identity::list_api_keys(&self.pool, user).await
    }

    async fn revoke_api_key(&self, id: ApiKeyId) -> Result<bool> {
        identity::revoke_api_key(&self.pool, id).await
    }

    async fn insert_booking(&self, booking: &Booking, orders: &[BookingOrder]) -> Result<()> {
        bookings::insert_booking(&self.pool, booking, orders).await
    }

    async fn get_booking(&self, scope: Scope, id: BookingId) -> Result<Option<Booking>> {
        bookings::get_booking(&self.pool, scope, id).await
    }

    async fn find_booking_by_code(&self, scope: Scope, code: &str) -> Result<Option<Booking>> {
        bookings::find_booking_by_code(&self.pool, scope, code).await
    }

    async fn list_bookings(&self, scope: Scope, filter: &BookingFilter) -> Result<Vec<Booking>> {
        bookings::list_bookings(&self.pool, scope, filter).await
    }

    async fn issue(&self, issuance: &NewIssuance, sink: &dyn DocumentSink) -> Result<IssuanceRecord> {
        issuance::issue(&self.pool, issuance, sink).await
    }

    async fn get_issuance(&self, scope: Scope, id: IssuanceId) -> Result<Option<IssuanceRecord>> {
        issuance::get_issuance(&self.pool, scope, id).await
    }

    async fn find_issuance_by_booking(&self, scope: Scope, booking: BookingId) -> Result<Option<IssuanceRecord>> {
        issuance::find_issuance_by_booking(&self.pool, scope, booking).await
    }

    async fn get_ticket(&self, scope: Scope, number: &TicketNumber) -> Result<Option<Ticket>> {
        issuance::get_ticket(&self.pool, scope, number).await
    }

    async fn tickets_of_issuance(&self, scope: Scope, id: IssuanceId) -> Result<Vec<Ticket>> {
        issuance::tickets_of_issuance(&self.pool, scope, id).await
    }

    async fn get_document(&self, scope: Scope, owner: &DocumentOwner) -> Result<Option<DocumentRecord>> {
        issuance::get_document(&self.pool, scope, owner).await
    }

    async fn transition(&self, change: &NewTransition, sink: &dyn TransitionSink) -> Result<TransitionOutcome> {
        lifecycle::transition(&self.pool, change, sink).await
    }

    async fn invoices_of_booking(&self, scope: Scope, booking: BookingId) -> Result<Vec<Invoice>> {
        lifecycle::invoices_of_booking(&self.pool, scope, booking).await
    }

    async fn order_of_download(&self, scope: Scope, download: &DownloadItemId) -> Result<Option<BookingOrderId>> {
        lifecycle::order_of_download(&self.pool, scope, download).await
    }

    async fn set_refund_approval(&self, agency: AgencyId, required: bool) -> Result<Agency> {
        agencies::set_refund_approval(&self.pool, agency, required).await
    }

    async fn append_audit(&self, entry: &NewAuditEntry) -> Result<()> {
        audit::insert(&self.pool, entry).await
    }

    async fn orders_of_booking(&self, scope: Scope, booking: BookingId) -> Result<Vec<BookingOrder>> {
        orders::orders_of_booking(&self.pool, scope, booking).await
    }

    async fn list_booking_orders(
        &self,
        scope: Scope,
        filter: &OrderFilter,
        offset: u64,
        limit: u32,
    ) -> Result<OrderPage> {
        orders::list_booking_orders(&self.pool, scope, filter, offset, limit).await
    }

    async fn get_booking_order(&self, scope: Scope, id: &BookingOrderId) -> Result<Option<OrderRecord>> {
        orders::get_booking_order(&self.pool, scope, id).await
    }

    async fn set_distribution_channel(
        &self,
        scope: Scope,
        order: &BookingOrderId,
        item: &OrderItemId,
        channel: DistributionChannel,
    ) -> Result<Option<BookingOrder>> {
        orders::set_distribution_channel(&self.pool, scope, order, item, channel).await
    }

    async fn replace_document(&self, agency: AgencyId, document: &NewDocument, at: DateTime<Utc>) -> Result<()> {
        orders::replace_document(&self.pool, agency, document, at).await
    }

    async fn list_audit(&self, scope: Scope, filter: &AuditFilter) -> Result<Vec<AuditEntry>> {
        audit::list(&self.pool, scope, filter).await
    }

    async fn claim_idempotency(&self, scope_key: &str, key: &str, request_hash: &str) -> Result<IdempotencyClaim> {
        idempotency::claim(&self.pool, scope_key, key, request_hash).await
    }

    async fn complete_idempotency(&self, scope_key: &str, key: &str, status: u16, body: &[u8]) -> Result<()> {
        idempotency::complete(&self.pool, scope_key, key, status, body).await
    }

    async fn release_idempotency(&self, scope_key: &str, key: &str) -> Result<()> {
        idempotency::release(&self.pool, scope_key, key).await
    }

    async fn enqueue_message(&self, message: &NewMessage) -> Result<()> {
        outbox::enqueue(&self.pool, message).await
    }

    async fn claim_due_messages(&self, now: DateTime<Utc>, lease: TimeDelta, limit: u32) -> Result<Vec<OutboxMessage>> {
        outbox::claim_due(&self.pool, now, lease, limit).await
    }

    async fn claim_message(
        &self,
        id: MessageId,
        now: DateTime<Utc>,
        lease: TimeDelta,
    ) -> Result<Option<OutboxMessage>> {
        outbox::claim(&self.pool, id, now, lease).await
    }

    async fn mark_message_sent(&self, id: MessageId, now: DateTime<Utc>) -> Result<()> {
        outbox::mark_sent(&self.pool, id, now).await
    }

    async fn mark_message_failed(&self, id: MessageId, error: &str, retry_at: Option<DateTime<Utc>>) -> Result<()> {
        outbox::mark_failed(&self.pool, id, error, retry_at).await
    }

    async fn get_message(&self, id: MessageId) -> Result<Option<OutboxMessage>> {
        outbox::get(&self.pool, id).await
    }

    async fn list_outbox(&self, scope: Scope, limit: u32) -> Result<Vec<OutboxMessage>> {
        outbox::list(&self.pool, scope, limit).await
    }
}

impl SqliteDatabase {
    /// The underlying pool, for tools that need raw SQL (as [`PostgresDatabase::pool`] does for PostgreSQL);
    /// `tests/sqlite.rs` reads pragmas and plants corrupt rows through it.
    ///
    /// [`PostgresDatabase::pool`]: https://docs.rs/tessera-storage-postgres
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }
}
