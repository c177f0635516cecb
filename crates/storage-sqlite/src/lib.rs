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
mod tx;

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

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
use tessera_storage::scripts;
use tessera_storage::{
    ApiKeyRecord, AuditEntry, AuditFilter, BookingFilter, Credentials, DocumentOwner, DocumentRecord, DocumentSink,
    IdempotencyClaim, IssuanceRecord, NewAgency, NewApiKey, NewAuditEntry, NewDocument, NewIssuance, NewLedgerEntry,
    NewMessage, NewTransition, NewUser, OrderPage, OrderRecord, OutboxMessage, StorageError, TransitionOutcome,
    TransitionSink,
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
            // In WAL mode NORMAL only risks the last transactions on power loss, never corruption, and saves
            // an fsync per commit.
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT);
        let mut pool_options = SqlitePoolOptions::new().max_connections(MAX_CONNECTIONS);
        if in_memory {
            pool_options = pool_options.min_connections(1).idle_timeout(None).max_lifetime(None);
        }
        let pool = pool_options.connect_with(options).await.map_err(Error::from)?;
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
    Ok(pool.begin_with("BEGIN IMMEDIATE").await?)
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
    fn create_user(user: &NewUser) -> User = pool identity::create_user;
    fn get_user(id: UserId) -> Option<User> = pool identity::get_user;
    fn find_credentials(username: &str) -> Option<Credentials> = pool identity::find_credentials;
    fn list_users(agency: Option<AgencyId>) -> Vec<User> = pool identity::list_users;
    fn create_api_key(key: &NewApiKey) -> ApiKeyRecord = pool identity::create_api_key;
    fn find_api_key(key_hash: &str) -> Option<(ApiKeyRecord, User)> = pool identity::find_api_key;
    fn list_api_keys(user: UserId) -> Vec<ApiKeyRecord> = pool identity::list_api_keys;
    fn revoke_api_key(id: ApiKeyId) -> bool = pool identity::revoke_api_key;
    fn insert_booking(booking: &Booking, orders: &[BookingOrder]) -> () = db scripts::insert_booking;
    fn get_booking(scope: Scope, id: BookingId) -> Option<Booking> = pool bookings::get_booking;
    fn find_booking_by_code(scope: Scope, code: &str) -> Option<Booking> = pool bookings::find_booking_by_code;
    fn list_bookings(scope: Scope, filter: &BookingFilter) -> Vec<Booking> = pool bookings::list_bookings;
    fn issue(issuance: &NewIssuance, sink: &dyn DocumentSink) -> IssuanceRecord = db scripts::issue;
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
    fn append_audit(entry: &NewAuditEntry) -> () = pool audit::insert;
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
    fn claim_idempotency(scope_key: &str, key: &str, request_hash: &str) -> IdempotencyClaim = db scripts::claim_idempotency;
    fn complete_idempotency(scope_key: &str, key: &str, status: u16, body: &[u8]) -> () = pool idempotency::complete;
    fn release_idempotency(scope_key: &str, key: &str) -> () = pool idempotency::release;
    fn enqueue_message(message: &NewMessage) -> () = pool outbox::enqueue;
    fn claim_due_messages(now: DateTime<Utc>, lease: TimeDelta, limit: u32) -> Vec<OutboxMessage>
        = pool outbox::claim_due;
    fn claim_message(id: MessageId, now: DateTime<Utc>, lease: TimeDelta) -> Option<OutboxMessage> = pool outbox::claim;
    fn mark_message_sent(id: MessageId, now: DateTime<Utc>) -> () = pool outbox::mark_sent;
    fn mark_message_failed(id: MessageId, error: &str, retry_at: Option<DateTime<Utc>>) -> ()
        = pool outbox::mark_failed;
    fn get_message(id: MessageId) -> Option<OutboxMessage> = pool outbox::get;
    fn list_outbox(scope: Scope, limit: u32) -> Vec<OutboxMessage> = pool outbox::list;
}

/// What only this backend can check: its pragmas, its URLs, and states the trait cannot produce.
/// The behaviour shared with other backends is tested by `tests/conformance.rs`.
#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use tessera_core::codes::MAX_SERIAL;
    use tessera_core::ids::AgencyId;
    use tessera_core::ledger::LedgerKind;
    use tessera_core::money::{Currency, Money};
    use tessera_core::user::Scope;
    use tessera_storage::testsuite::{
        draft_for, event_booking, flight_booking, orders_for, RecordingSink, PAYABLE_MINOR,
    };
    use tessera_storage::{Actor, Database, NewAgency, NewIssuance, NewLedgerEntry, StorageError};

    use super::*;

    async fn agency(db: &SqliteDatabase) -> AgencyId {
        let usd = Currency::parse("USD").expect("USD");
        let id = AgencyId::generate();
        let new = NewAgency {
            id,
            name: "Everest Travels".into(),
            currency: usd,
            credit_limit_minor: 0,
            office_id: None,
            iata_number: None,
            timezone: "Asia/Kathmandu".into(),
            vat_percent: rust_decimal::Decimal::ZERO,
            refund_approval: false,
            created_at: chrono::Utc::now(),
        };
        db.create_agency(&new).await.expect("create agency");
        db.post_ledger(&NewLedgerEntry {
            agency_id: id,
            kind: LedgerKind::TopUp,
            amount: Money::from_minor(10 * PAYABLE_MINOR, usd),
            issuance_id: None,
            note: None,
            created_at: chrono::Utc::now(),
        })
        .await
        .expect("top up");
        id
    }

    fn issuance_of(booking: &Booking) -> NewIssuance {
        NewIssuance {
            id: IssuanceId::generate(),
            draft: draft_for(booking),
            issued_at: chrono::Utc::now(),
            actor: Actor { user_id: None, username: "system".into(), client_addr: None, tracking_id: None },
            attributes: serde_json::json!({}),
        }
    }

    #[tokio::test]
    async fn open_applies_pragmas_and_reopens() {
        let dir = tempfile::TempDir::new().expect("temp dir");
        let path = dir.path().join("nested.db");
        let db = SqliteDatabase::open(&path).await.expect("open");
        let journal_mode: String =
            sqlx::query_scalar("PRAGMA journal_mode").fetch_one(&db.pool).await.expect("journal_mode");
        assert_eq!(journal_mode, "wal");
        for (pragma, expected) in [("foreign_keys", 1), ("synchronous", 1), ("busy_timeout", 10_000)] {
            let value: i64 = sqlx::query_scalar(&format!("PRAGMA {pragma}")).fetch_one(&db.pool).await.expect(pragma);
            // synchronous = 1 is NORMAL.
            assert_eq!(value, expected, "{pragma}");
        }
        let id = agency(&db).await;
        db.close().await;

        // Reopening runs the (already applied) migrations again and keeps the data.
        let again = SqliteDatabase::connect(&format!("sqlite://{}", path.display())).await.expect("connect");
        assert!(again.get_agency(id).await.expect("get").is_some());
        assert_eq!(again.backend(), "sqlite");
    }

    #[tokio::test]
    async fn in_memory_url_shares_one_database_across_the_pool() {
        let db = SqliteDatabase::connect("sqlite::memory:").await.expect("connect");
        let id = agency(&db).await;
        // More concurrent reads than one connection serves: all must see the same database.
        let db = Arc::new(db);
        let mut reads = Vec::new();
        for _ in 0..16 {
            let db = db.clone();
            reads.push(tokio::spawn(async move { db.get_agency(id).await }));
        }
        for read in reads {
            assert!(read.await.expect("task").expect("get").is_some());
        }
        assert!(SqliteDatabase::connect("postgres://nope").await.is_err());
    }

    #[tokio::test]
    async fn exhausted_serials_refuse_the_issuance() {
        let dir = tempfile::TempDir::new().expect("temp dir");
        let db = SqliteDatabase::open(&dir.path().join("t.db")).await.expect("open");
        let agency = agency(&db).await;
        let booking = flight_booking(agency, None);
        db.insert_booking(&booking, &[]).await.expect("insert");
        // Two serials left; the issuance needs three.
        sqlx::query("INSERT INTO ticket_serials (prefix, next_serial) VALUES ('157', ?)")
            .bind(i64::try_from(MAX_SERIAL - 1).expect("fits"))
            .execute(&db.pool)
            .await
            .expect("seed serials");
        let new = issuance_of(&booking);
        let refused = db.issue(&new, &RecordingSink::default()).await;
        assert!(matches!(&refused, Err(StorageError::SerialsExhausted(p)) if p == "157"), "got {refused:?}");
        assert!(db.get_issuance(Scope::All, new.id).await.expect("get").is_none());
        let next: i64 = sqlx::query_scalar("SELECT next_serial FROM ticket_serials WHERE prefix = '157'")
            .fetch_one(&db.pool)
            .await
            .expect("serials");
        assert_eq!(next, i64::try_from(MAX_SERIAL - 1).expect("fits"), "the counter was rolled back");
        assert_eq!(db.ledger(agency).await.expect("ledger").len(), 1, "no debit");
    }

    #[tokio::test]
    async fn corrupt_rows_are_errors_not_panics() {
        let dir = tempfile::TempDir::new().expect("temp dir");
        let db = SqliteDatabase::open(&dir.path().join("t.db")).await.expect("open");
        let agency = agency(&db).await;
        let booking = flight_booking(agency, None);
        db.insert_booking(&booking, &[]).await.expect("insert");
        sqlx::query("UPDATE bookings SET detail = '{\"type\":\"flight\"}', status = 'lost'")
            .execute(&db.pool)
            .await
            .expect("corrupt");
        let read = db.get_booking(Scope::All, booking.id).await;
        assert!(matches!(read, Err(StorageError::Backend(_))), "got {read:?}");
        sqlx::query("UPDATE agencies SET currency = 'usd'").execute(&db.pool).await.expect("corrupt");
        assert!(matches!(db.get_agency(agency).await, Err(StorageError::Backend(_))));
    }

    /// A database migrated only up to `last` (a migration file name prefix, e.g. `0004`), through a migrator
    /// over a copy of those files: their checksums match the embedded ones, so opening it later applies the rest.
    async fn migrated_up_to(dir: &Path, last: &str) -> sqlx::SqlitePool {
        let older = dir.join("older-migrations");
        std::fs::create_dir(&older).expect("migrations folder");
        let ours = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
        for entry in std::fs::read_dir(ours).expect("read migrations") {
            let path = entry.expect("migration").path();
            let name = path.file_name().expect("file name").to_string_lossy().into_owned();
            if name.as_str() <= last || name.starts_with(last) {
                std::fs::copy(&path, older.join(&name)).expect("copy migration");
            }
        }
        let options = SqliteConnectOptions::new().filename(dir.join("t.db")).create_if_missing(true).foreign_keys(true);
        let pool = SqlitePoolOptions::new().connect_with(options).await.expect("connect");
        let migrator = sqlx::migrate::Migrator::new(older.as_path()).await.expect("older migrations");
        migrator.run(&pool).await.expect("migrate");
        pool
    }

    #[tokio::test]
    async fn rows_written_before_the_lifecycle_migration_still_read() {
        let dir = tempfile::TempDir::new().expect("temp dir");
        let pool = migrated_up_to(dir.path(), "0004").await;
        let now = chrono::Utc::now();
        // What the code before 0005 wrote: an agency, an event booking whose order has an invoice without booking
        // id or covers in its detail, and a flight ticket without a charged amount.
        let agency = AgencyId::generate();
        sqlx::query(
            "INSERT INTO agencies (id, name, currency, balance_minor, credit_limit_minor, timezone, created_at, \
             vat_percent) VALUES (?, 'Old agency', 'USD', 0, 0, 'UTC', ?, '0')",
        )
        .bind(agency.to_string())
        .bind(now)
        .execute(&pool)
        .await
        .expect("old agency");
        let event = event_booking(agency, None);
        let orders = orders_for(&event);
        bookings::insert_booking(&pool, &event, &orders).await.expect("old event booking");
        let invoice = tessera_core::invoice::invoice_for(&orders[0], rust_decimal::Decimal::ZERO).expect("invoice");
        let mut detail = serde_json::to_value(&invoice).expect("detail");
        let fields = detail.as_object_mut().expect("an object");
        fields.remove("booking_id");
        fields.remove("covers");
        sqlx::query(
            "INSERT INTO invoices (agency_id, number, order_id, kind, gross_minor, currency, issued_at, detail) \
             VALUES (?, 1, ?, 'invoice', ?, 'USD', ?, ?)",
        )
        .bind(agency.to_string())
        .bind(orders[0].id.as_str())
        .bind(invoice.gross.minor())
        .bind(now)
        .bind(detail.to_string())
        .execute(&pool)
        .await
        .expect("old invoice");
        sqlx::query("INSERT INTO invoice_serials (agency_id, next_number) VALUES (?, 2)")
            .bind(agency.to_string())
            .execute(&pool)
            .await
            .expect("old invoice counter");
        let flight = flight_booking(agency, None);
        bookings::insert_booking(&pool, &flight, &[]).await.expect("old flight booking");
        let issuance = IssuanceId::generate();
        sqlx::query(
            "INSERT INTO issuances (id, booking_id, agency_id, amount_minor, commission_minor, currency, issued_at, \
             attributes) VALUES (?, ?, ?, 46000, 0, 'USD', ?, '{}')",
        )
        .bind(issuance.to_string())
        .bind(flight.id.to_string())
        .bind(agency.to_string())
        .bind(now)
        .execute(&pool)
        .await
        .expect("old issuance");
        sqlx::query(
            "INSERT INTO tickets (number, issuance_id, booking_id, agency_id, ordinal, passenger_id, kind, status, \
             base_minor, total_minor, currency, taxes, issued_at) \
             VALUES ('1762100000001', ?, ?, ?, 0, 'P1', 'TKT', 'OPEN', 40000, 46000, 'USD', '[]', ?)",
        )
        .bind(issuance.to_string())
        .bind(flight.id.to_string())
        .bind(agency.to_string())
        .bind(now)
        .execute(&pool)
        .await
        .expect("old ticket");
        sqlx::query("INSERT INTO coupons (ticket_number, number, status) VALUES ('1762100000001', 1, 'O')")
            .execute(&pool)
            .await
            .expect("old coupon");
        pool.close().await;

        let db = SqliteDatabase::open(&dir.path().join("t.db")).await.expect("migrate to the lifecycle schema");
        // The rebuilt invoices table keeps every reference intact.
        let broken: Vec<(String, i64, String, i64)> =
            sqlx::query_as("PRAGMA foreign_key_check").fetch_all(&db.pool).await.expect("foreign key check");
        assert!(broken.is_empty(), "{broken:?}");
        let found = db.get_agency(agency).await.expect("get agency").expect("agency");
        assert!(!found.refund_approval);
        // The invoice: its booking from its order, nothing covered.
        let expected = tessera_core::invoice::InvoiceDraft { covers: Vec::new(), ..invoice };
        let invoices = db.invoices_of_booking(Scope::All, event.id).await.expect("invoices");
        assert_eq!(invoices.iter().map(|i| (i.number, &i.draft)).collect::<Vec<_>>(), [(1, &expected)]);
        let record = db.get_booking_order(Scope::All, &orders[0].id).await.expect("get order").expect("order");
        assert_eq!(record.invoices, invoices);
        // The ticket: charged its total, no penalty, coupons never used.
        let number = TicketNumber::parse("1762100000001").expect("number");
        let ticket = db.get_ticket(Scope::All, &number).await.expect("get ticket").expect("ticket");
        let total = Money::from_minor(46_000, found.currency);
        assert_eq!((ticket.charged, ticket.total, ticket.pending_penalty), (total, total, None));
        assert_eq!(ticket.coupons[0].used_at, None);

        // New rows go in beside them: a flight invoice, without an order, takes the agency's next number.
        db.post_ledger(&NewLedgerEntry {
            agency_id: agency,
            kind: LedgerKind::TopUp,
            amount: Money::from_minor(PAYABLE_MINOR, found.currency),
            issuance_id: None,
            note: None,
            created_at: now,
        })
        .await
        .expect("top up");
        let next = flight_booking(agency, None);
        db.insert_booking(&next, &[]).await.expect("insert booking");
        db.issue(&issuance_of(&next), &RecordingSink::default()).await.expect("issue");
        let invoices = db.invoices_of_booking(Scope::All, next.id).await.expect("invoices");
        assert_eq!(
            invoices.iter().map(|i| (i.number, i.draft.order_id.is_none(), i.draft.covers.len())).collect::<Vec<_>>(),
            [(2, true, 3)]
        );
    }

    #[tokio::test]
    async fn corrupt_outbox_rows_are_errors_not_panics() {
        let dir = tempfile::TempDir::new().expect("temp dir");
        let db = SqliteDatabase::open(&dir.path().join("t.db")).await.expect("open");
        let id = tessera_core::ids::MessageId::generate();
        let now = chrono::Utc::now();
        let message = tessera_storage::NewMessage {
            id,
            agency_id: None,
            booking_id: None,
            recipient: "ops@example.com".into(),
            subject: "Daily report".into(),
            text_body: "-".into(),
            html_body: "<p>-</p>".into(),
            attachments: Vec::new(),
            created_at: now,
        };
        db.enqueue_message(&message).await.expect("enqueue");
        for corruption in [
            "UPDATE outbox SET attachments = '{\"not\": \"a list\"}'",
            "UPDATE outbox SET attachments = '[]', attempts = -1",
            "UPDATE outbox SET attempts = 0, next_attempt_at = 'yesterday'",
            "UPDATE outbox SET next_attempt_at = created_at, booking_id = 'not-a-uuid'",
        ] {
            sqlx::query(corruption).execute(&db.pool).await.expect("corrupt");
            let read = db.get_message(id).await;
            assert!(matches!(read, Err(StorageError::Backend(_))), "{corruption}: got {read:?}");
            assert!(matches!(db.list_outbox(Scope::All, 0).await, Err(StorageError::Backend(_))), "{corruption}");
        }
        // The CHECK constraint keeps statuses to the three known ones.
        assert!(sqlx::query("UPDATE outbox SET status = 'lost'").execute(&db.pool).await.is_err());
    }
}
