//! The SQLite storage backend: one database file, for single-node deployments and development.
//!
//! SQLite allows one writer at a time. Every transaction that writes starts with `BEGIN IMMEDIATE`, so it takes
//! the write lock up front and concurrent writers queue in SQLite's busy handler (up to the busy timeout)
//! instead of failing with `SQLITE_BUSY` when a read transaction tries to upgrade. Readers never block thanks
//! to WAL journaling.
//!
//! This crate holds SQL and the reading of SQLite's column types only: the write transactions are the shared
//! scripts of [`tessera_storage::scripts`], run on the primitives of `tx`; rows are decoded by
//! [`tessera_storage::decode`] through `rows`; reads live in one module per area, and this module opens the
//! database and routes the [`tessera_storage::Database`] trait to them.
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
mod shared;
mod tx;
mod webhooks;

use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};
use sqlx::Connection;
use sqlx::{QueryBuilder, Sqlite, Transaction};
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
use tessera_storage::group::Writer;
use tessera_storage::scripts;
use tessera_storage::{
    ApiKeyRecord, AuditEntry, AuditFilter, BookingFilter, ClaimMark, Credentials, DocumentOwner, DocumentRecord,
    DocumentSink, IdempotencyClaim, IssuanceRecord, NewAgency, NewApiKey, NewAuditEntry, NewDocument, NewIssuance,
    NewLedgerEntry, NewMessage, NewTransition, NewUser, OrderPage, OrderRecord, OutboxMessage, PoolStats, RateDecision,
    RateQuota, StorageError, TransitionOutcome, TransitionSink,
};
use tessera_storage::{
    NewAttempt, NewWebhook, NewWebhookEvent, SigningKeyRecord, Webhook, WebhookAttempt, WebhookChange, WebhookDelivery,
};

type Result<T, E = Error> = std::result::Result<T, E>;

/// A failure inside the backend: a business outcome already decided, or a driver error nobody can act on but
/// an operator (its text goes to logs only, as [`StorageError::Backend`]).
#[derive(Debug)]
pub enum Error {
    Storage(StorageError),
    Db(sqlx::Error),
}

impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Self {
        Self::Db(e)
    }
}

impl From<StorageError> for Error {
    fn from(e: StorageError) -> Self {
        Self::Storage(e)
    }
}

impl From<Error> for StorageError {
    fn from(e: Error) -> Self {
        match e {
            Error::Storage(e) => e,
            Error::Db(e) => StorageError::Backend(e.to_string()),
        }
    }
}

/// How long a writer waits for the write lock before giving up with `SQLITE_BUSY`.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Connections in the pool. Only one of them can write at a time, the rest serve concurrent reads.
const MAX_CONNECTIONS: u32 = 8;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!();

/// A Tessera database in one SQLite file.
#[derive(Debug, Clone)]
pub struct SqliteDatabase {
    pool: SqlitePool,
    /// Group commit of the hot writes ([`tessera_storage::group`]).
    writer: Writer<tx::SqliteTx>,
}

impl SqliteDatabase {
    /// Opens (creating it if needed) the database file at `path` and brings its schema up to date.
    pub async fn open(path: &Path) -> tessera_storage::Result<Self> {
        let options = SqliteConnectOptions::new().filename(path);
        Self::with_options(options, false).await
    }

    /// Opens a database from a `sqlite://path/to/file.db` (or `sqlite::memory:`) URL and brings its schema up
    /// to date. The pragmas Tessera relies on are applied whatever the URL says.
    pub async fn connect(url: &str) -> tessera_storage::Result<Self> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|e| StorageError::Backend(format!("invalid SQLite URL: {e}")))?;
        // sqlx gives each `:memory:` URL a private shared-cache database; it lives only as long as one of the
        // pool's connections does.
        let in_memory = url.contains(":memory:") || url.contains("mode=memory");
        Self::with_options(options, in_memory).await
    }

    async fn with_options(options: SqliteConnectOptions, in_memory: bool) -> tessera_storage::Result<Self> {
        let options = options
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // FULL: a commit is on disk (the WAL is synced) before it returns, so an acknowledged issuance
            // survives a power loss. Group commit ([`tessera_storage::group`]) shares that sync among the
            // requests of a batch.
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT);
        let mut pool_options = SqlitePoolOptions::new().max_connections(MAX_CONNECTIONS).after_release(|conn, _| {
            Box::pin(async move {
                // A request cancelled at the wrong `.await` (the client hung up) can hand its connection back with
                // a transaction still open: sqlx's rollback of a dropped transaction is queued to the connection's
                // worker, and a `BEGIN IMMEDIATE` cancelled just after it ran has nobody to roll it back at all.
                // Let any queued rollback run (the worker takes commands in order), and close a connection still
                // in a transaction instead of lending it out, where every `begin` on it would fail.
                if conn.is_in_transaction() {
                    conn.ping().await?;
                }
                Ok(!conn.is_in_transaction())
            })
        });
        if in_memory {
            pool_options = pool_options.min_connections(1).idle_timeout(None).max_lifetime(None);
        }
        let pool = pool_options.connect_with(options).await.map_err(Error::from)?;
        MIGRATOR.run(&pool).await.map_err(|e| StorageError::Backend(format!("migrating the SQLite schema: {e}")))?;
        let filled = bookings::fill_search_columns(&pool).await?;
        if filled > 0 {
            tracing::info!(filled, "search columns of bookings stored before them filled in");
        }
        let writer_pool = pool.clone();
        let writer = Writer::start(Arc::new(move || {
            let pool = writer_pool.clone();
            Box::pin(async move { begin_write(&pool).await.map(tx::SqliteTx::new) })
        }));
        Ok(Self { pool, writer })
    }

    /// Closes every connection, so the WAL is checkpointed into the main file before the process exits.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Starts a transaction that holds SQLite's write lock from its first statement (see the module docs).
/// Dropping the returned transaction without committing rolls it back, so every `?` is a rollback.
pub(crate) async fn begin_write(pool: &SqlitePool) -> Result<Transaction<'static, Sqlite>> {
    // In a task of its own: sqlx checks that a custom `BEGIN` took effect with one more `.await` after running it,
    // and a request cancelled there leaves the transaction open with no `Transaction` to roll it back. A spawned
    // task is not cancelled with the request; if nobody waits for it any more, it drops the transaction properly.
    let pool = pool.clone();
    let begun = tokio::spawn(async move { pool.begin_with("BEGIN IMMEDIATE").await });
    let begun = begun.await.map_err(|e| StorageError::Backend(format!("beginning a transaction: {e}")))?;
    Ok(begun?)
}

/// Starts a read-only transaction, so reads spanning several statements see one snapshot.
pub(crate) async fn begin_read(pool: &SqlitePool) -> Result<Transaction<'static, Sqlite>> {
    Ok(pool.begin().await?)
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
    StorageError::Backend(e.to_string())
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

async fn ping(pool: &SqlitePool) -> Result<()> {
    sqlx::query("SELECT 1").execute(pool).await?;
    Ok(())
}

/// Read from the pool itself: no query, so a scrape never waits for a connection.
async fn pool_stats(pool: &SqlitePool) -> Result<PoolStats> {
    Ok(PoolStats {
        size: pool.size(),
        idle: u32::try_from(pool.num_idle()).unwrap_or(u32::MAX),
        max: pool.options().get_max_connections(),
    })
}

tessera_storage::route_database! { SqliteDatabase, "sqlite", pool;
    fn ping() -> () = pool ping;
    fn create_agency(agency: &NewAgency) -> Agency = pool agencies::create_agency;
    fn get_agency(id: AgencyId) -> Option<Agency> = pool agencies::get_agency;
    fn list_agencies() -> Vec<Agency> = pool agencies::list_agencies;
    fn post_ledger(entry: &NewLedgerEntry) -> LedgerEntry = db scripts::post_ledger;
    fn ledger(agency: AgencyId) -> Vec<LedgerEntry> = pool agencies::ledger;
    fn set_credit_limit(agency: AgencyId, credit_limit_minor: i64) -> Agency = pool agencies::set_credit_limit;
    fn set_agreement(agency: AgencyId, agreement: &CarrierAgreement) -> () = pool agencies::set_agreement;
    fn add_tour_code(agency: AgencyId, tour_code: &TourCode) -> () = pool agencies::add_tour_code;
    fn add_corporate_account(agency: AgencyId, code: &str) -> () = pool agencies::add_corporate_account;
    fn add_booker_code(agency: AgencyId, code: &str) -> () = pool agencies::add_booker_code;
    fn agreements(agency: AgencyId) -> Agreements = pool agencies::agreements;
    fn remove_agreement_entry(agency: AgencyId, entry: &AgreementEntry) -> bool = pool agencies::remove_agreement_entry;
    fn create_user(user: &NewUser) -> User = pool identity::create_user;
    fn get_user(id: UserId) -> Option<User> = pool identity::get_user;
    fn find_credentials(username: &str) -> Option<Credentials> = pool identity::find_credentials;
    fn list_users(agency: Option<AgencyId>) -> Vec<User> = pool identity::list_users;
    fn create_api_key(key: &NewApiKey) -> ApiKeyRecord = pool identity::create_api_key;
    fn find_api_key(key_hash: &str) -> Option<(ApiKeyRecord, User)> = pool identity::find_api_key;
    fn list_api_keys(user: UserId) -> Vec<ApiKeyRecord> = pool identity::list_api_keys;
    fn revoke_api_key(id: ApiKeyId) -> bool = pool identity::revoke_api_key;
    fn end_sessions(user: UserId) -> Option<User> = pool identity::end_sessions;
    fn insert_booking(booking: &Booking, orders: &[BookingOrder], audit: Option<&NewAuditEntry>) -> ()
        = writer scripts::insert_booking;
    fn get_booking(scope: Scope, id: BookingId) -> Option<Booking> = pool bookings::get_booking;
    fn find_booking_by_code(scope: Scope, code: &str) -> Option<Booking> = pool bookings::find_booking_by_code;
    fn list_bookings(scope: Scope, filter: &BookingFilter) -> Vec<Booking> = pool bookings::list_bookings;
    fn issue(issuance: &NewIssuance, sink: Arc<dyn DocumentSink>) -> IssuanceRecord = writer scripts::issue;
    fn fill_documents(agency: AgencyId, documents: &[NewDocument]) -> () = writer scripts::fill_documents;
    fn get_issuance(scope: Scope, id: IssuanceId) -> Option<IssuanceRecord> = pool issuance::get_issuance;
    fn find_issuance_by_booking(scope: Scope, booking: BookingId) -> Option<IssuanceRecord>
        = pool issuance::find_issuance_by_booking;
    fn get_ticket(scope: Scope, number: &TicketNumber) -> Option<Ticket> = pool issuance::get_ticket;
    fn tickets_of_issuance(scope: Scope, id: IssuanceId) -> Vec<Ticket> = pool issuance::tickets_of_issuance;
    fn get_document(scope: Scope, owner: &DocumentOwner) -> Option<DocumentRecord> = pool issuance::get_document;
    fn transition(change: &NewTransition, sink: &dyn TransitionSink) -> TransitionOutcome = db scripts::transition;
    fn invoices_of_booking(scope: Scope, booking: BookingId) -> Vec<Invoice> = pool lifecycle::invoices_of_booking;
    fn order_of_download(scope: Scope, download: &DownloadItemId) -> Option<BookingOrderId>
        = pool lifecycle::order_of_download;
    fn set_refund_approval(agency: AgencyId, required: bool) -> Agency = pool agencies::set_refund_approval;
    fn set_default_language(agency: AgencyId, language: Language) -> Agency = pool agencies::set_default_language;
    fn update_agency_settings(agency: AgencyId, settings: &AgencySettings) -> Agency = pool agencies::update_agency_settings;
    fn append_audit(entry: &NewAuditEntry) -> () = writer scripts::append_audit;
    fn append_audit_batch(entries: &[NewAuditEntry]) -> () = pool audit::insert_batch;
    fn orders_of_booking(scope: Scope, booking: BookingId) -> Vec<BookingOrder> = pool orders::orders_of_booking;
    fn list_booking_orders(scope: Scope, filter: &OrderFilter, offset: u64, limit: u32) -> OrderPage
        = pool orders::list_booking_orders;
    fn get_booking_order(scope: Scope, id: &BookingOrderId) -> Option<OrderRecord> = pool orders::get_booking_order;
    fn set_distribution_channel(
        scope: Scope,
        order: &BookingOrderId,
        item: &OrderItemId,
        channel: DistributionChannel,
    ) -> Option<BookingOrder>
        = db scripts::set_distribution_channel;
    fn replace_document(agency: AgencyId, document: &NewDocument, at: DateTime<Utc>) -> ()
        = db scripts::replace_document;
    fn list_audit(scope: Scope, filter: &AuditFilter) -> Vec<AuditEntry> = pool audit::list;
    fn shared_secret(name: &str, candidate: &[u8]) -> Vec<u8> = pool shared::shared_secret;
    fn take_rate_token(key: &str, now: DateTime<Utc>, quota: RateQuota) -> RateDecision = pool shared::take_rate_token;
    fn signing_keys() -> Vec<SigningKeyRecord> = pool shared::signing_keys;
    fn add_signing_key(key: &SigningKeyRecord) -> () = pool shared::add_signing_key;
    fn retire_signing_key(kid: &str, at: DateTime<Utc>) -> bool = pool shared::retire_signing_key;
    fn claim_idempotency(mark: &ClaimMark, request_hash: &str, now: DateTime<Utc>, lease: TimeDelta) -> IdempotencyClaim = writer scripts::claim_idempotency;
    fn complete_idempotency(scope_key: &str, key: &str, status: u16, body: &[u8]) -> () = writer scripts::complete_idempotency;
    fn release_idempotency(mark: &ClaimMark) -> () = pool idempotency::release;
    fn enqueue_message(message: &NewMessage) -> () = pool outbox::enqueue;
    fn claim_due_messages(now: DateTime<Utc>, lease: TimeDelta, limit: u32) -> Vec<OutboxMessage>
        = pool outbox::claim_due;
    fn claim_message(id: MessageId, now: DateTime<Utc>, lease: TimeDelta) -> Option<OutboxMessage> = pool outbox::claim;
    fn mark_message_sent(id: MessageId, now: DateTime<Utc>) -> () = pool outbox::mark_sent;
    fn mark_message_failed(id: MessageId, error: &str, retry_at: Option<DateTime<Utc>>) -> ()
        = pool outbox::mark_failed;
    fn get_message(id: MessageId) -> Option<OutboxMessage> = pool outbox::get;
    fn list_outbox(scope: Scope, limit: u32) -> Vec<OutboxMessage> = pool outbox::list;
    fn create_webhook(webhook: &NewWebhook) -> Webhook = pool webhooks::create;
    fn get_webhook(scope: Scope, id: WebhookId) -> Option<Webhook> = pool webhooks::get;
    fn list_webhooks(scope: Scope) -> Vec<Webhook> = pool webhooks::list;
    fn update_webhook(scope: Scope, id: WebhookId, change: &WebhookChange, at: DateTime<Utc>) -> Option<Webhook>
        = pool webhooks::update;
    fn delete_webhook(scope: Scope, id: WebhookId) -> bool = pool webhooks::delete;
    fn record_webhook_event(event: &NewWebhookEvent) -> u64 = db scripts::webhooks::record;
    fn low_balance_threshold(agency: AgencyId) -> Option<i64> = pool webhooks::low_balance_threshold;
    fn set_low_balance_threshold(agency: AgencyId, threshold_minor: Option<i64>) -> ()
        = pool webhooks::set_low_balance_threshold;
    fn claim_due_webhook_deliveries(now: DateTime<Utc>, lease: TimeDelta, limit: u32) -> Vec<WebhookDelivery>
        = pool webhooks::claim_due;
    fn record_webhook_attempt(attempt: &NewAttempt) -> () = pool webhooks::record_attempt;
    fn list_webhook_deliveries(scope: Scope, webhook: WebhookId, limit: u32)
        -> Vec<(WebhookDelivery, Vec<WebhookAttempt>)> = pool webhooks::list_deliveries;
    fn retry_webhook_delivery(scope: Scope, webhook: WebhookId, delivery: WebhookDeliveryId, now: DateTime<Utc>)
        -> Option<WebhookDelivery> = pool webhooks::retry;
    fn count_pending_messages() -> u64 = pool outbox::count_pending;
    fn retry_message(id: MessageId, now: DateTime<Utc>) -> bool = pool outbox::retry;
    fn pool_stats() -> PoolStats = pool pool_stats;
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
