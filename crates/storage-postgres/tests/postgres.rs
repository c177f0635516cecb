//! PostgreSQL-specific behaviour the shared conformance suite does not cover: the test-database helpers
//! under parallel use, constraint-name mapping under real races, and the database-side guards.

use std::sync::Arc;

use chrono::Utc;
use rust_decimal::Decimal;
use sqlx::{Connection, PgConnection};
use tessera_core::ids::AgencyId;
use tessera_core::money::Currency;
use tessera_storage::testsuite::flight_booking;
use tessera_storage::{Database, NewAgency, StorageError};
use tessera_storage_postgres::testing::{drop_database, fresh_database, DatabaseGuard, TEST_DATABASE_PREFIX};
use tessera_storage_postgres::PostgresDatabase;

fn admin_url() -> String {
    std::env::var("TESSERA_TEST_DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

async fn database() -> (PostgresDatabase, DatabaseGuard) {
    let admin = admin_url();
    let url = fresh_database(&admin).await.expect("fresh test database");
    let guard = DatabaseGuard::new(&admin, &url);
    (PostgresDatabase::connect(&url, 10).await.expect("connect"), guard)
}

async fn exists(name: &str) -> bool {
    let mut admin = PgConnection::connect(&admin_url()).await.expect("admin connection");
    let found: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
        .bind(name)
        .fetch_one(&mut admin)
        .await
        .expect("query pg_database");
    let _ = admin.close().await;
    found
}

fn name_of(url: &str) -> &str {
    url.rsplit('/').next().unwrap_or_default()
}

async fn agency(db: &PostgresDatabase) -> AgencyId {
    let id = AgencyId::generate();
    db.create_agency(&NewAgency {
        id,
        name: "Test agency".into(),
        currency: Currency::parse("USD").expect("USD"),
        credit_limit_minor: 0,
        office_id: None,
        iata_number: None,
        timezone: tessera_core::agency::TimeZone::UTC,
        vat_percent: Decimal::ZERO,
        refund_approval: false,
        default_language: Default::default(),
        created_at: Utc::now(),
    })
    .await
    .expect("create agency");
    id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fresh_databases_in_parallel_are_distinct_migrated_and_droppable() {
    let admin = admin_url();
    let mut tasks = Vec::new();
    for _ in 0..12 {
        let admin = admin.clone();
        tasks.push(tokio::spawn(async move { fresh_database(&admin).await }));
    }
    let mut urls = Vec::new();
    for task in tasks {
        urls.push(task.await.expect("task").expect("fresh database"));
    }
    let mut names: Vec<&str> = urls.iter().map(|u| name_of(u)).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), urls.len(), "every call gets its own database");

    for url in &urls {
        assert!(name_of(url).starts_with(TEST_DATABASE_PREFIX));
        // Already migrated: connecting (which migrates) finds nothing to do, and the schema is there.
        // Spawned, to prove `connect` can run on a task (its future must be `Send`).
        let db = tokio::spawn({
            let url = url.clone();
            async move { PostgresDatabase::connect(&url, 2).await }
        })
        .await
        .expect("task")
        .expect("connect");
        let tables: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public' AND table_name IN \
             ('agencies', 'bookings', 'tickets', 'ledger', 'audit', 'idempotency')",
        )
        .fetch_one(db.pool())
        .await
        .expect("count tables");
        assert_eq!(tables, 6);
        db.close().await;
    }
    for url in &urls {
        drop_database(&admin, url).await;
        assert!(!exists(name_of(url)).await, "dropped");
    }
}

#[tokio::test]
async fn drop_database_only_drops_test_databases() {
    let admin = admin_url();
    drop_database(&admin, &admin).await;
    assert!(exists(name_of(&admin)).await, "the admin database is not a test database and must survive");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_booking_codes_conflict_by_name() {
    let (db, _guard) = database().await;
    let db = Arc::new(db);
    let agency = agency(&db).await;
    let first = flight_booking(agency, None);
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let db = db.clone();
        let mut same_code = flight_booking(agency, None);
        same_code.detail = first.detail.clone();
        tasks.push(tokio::spawn(async move { db.insert_booking(&same_code, &[], None).await }));
    }
    let (mut ok, mut conflicts) = (0, 0);
    for task in tasks {
        match task.await.expect("task") {
            Ok(()) => ok += 1,
            Err(StorageError::Conflict("booking code")) => conflicts += 1,
            Err(other) => panic!("unexpected error: {other:?}"),
        }
    }
    assert_eq!((ok, conflicts), (1, 19));
}

#[tokio::test]
async fn the_ledger_refuses_edits_in_the_database() {
    let (db, _guard) = database().await;
    let agency = agency(&db).await;
    db.post_ledger(&tessera_storage::NewLedgerEntry {
        agency_id: agency,
        kind: tessera_core::ledger::LedgerKind::TopUp,
        amount: tessera_core::money::Money::from_minor(100, Currency::parse("USD").expect("USD")),
        issuance_id: None,
        note: None,
        created_at: Utc::now(),
    })
    .await
    .expect("post");
    let update = sqlx::query("UPDATE ledger SET amount_minor = 1").execute(db.pool()).await;
    assert!(update.is_err(), "UPDATE on the ledger must fail");
    let delete = sqlx::query("DELETE FROM ledger").execute(db.pool()).await;
    assert!(delete.is_err(), "DELETE on the ledger must fail");
    assert_eq!(db.ledger(agency).await.expect("ledger").len(), 1);
}

#[tokio::test]
async fn the_balance_check_constraint_reads_as_insufficient_balance() {
    let (db, _guard) = database().await;
    let agency = agency(&db).await;
    // Bypass the conditional UPDATE the backend uses, to see the last line of defence and its mapping.
    let raw =
        sqlx::query("UPDATE agencies SET balance_minor = -1 WHERE id = $1").bind(agency.0).execute(db.pool()).await;
    let Err(sqlx::Error::Database(e)) = raw else { panic!("the CHECK constraint must refuse: {raw:?}") };
    assert_eq!(e.constraint(), Some("agencies_balance_within_credit"));
    let refused = db.set_credit_limit(agency, -1).await;
    assert!(matches!(refused, Err(StorageError::InsufficientBalance)), "got {refused:?}");
}

#[tokio::test]
async fn corrupt_outbox_rows_are_errors_not_panics() {
    let (db, _guard) = database().await;
    let id = tessera_core::ids::MessageId::generate();
    let message = tessera_storage::NewMessage {
        id,
        agency_id: None,
        booking_id: None,
        recipient: "ops@example.com".into(),
        subject: "Daily report".into(),
        text_body: "-".into(),
        html_body: "<p>-</p>".into(),
        attachments: Vec::new(),
        created_at: Utc::now(),
    };
    db.enqueue_message(&message).await.expect("enqueue");
    for corruption in [
        "UPDATE outbox SET attachments = '{\"not\": \"a list\"}'",
        "UPDATE outbox SET attachments = '[]', attempts = -1",
    ] {
        sqlx::query(corruption).execute(db.pool()).await.expect("corrupt");
        let read = db.get_message(id).await;
        assert!(matches!(read, Err(StorageError::Backend(_))), "{corruption}: got {read:?}");
    }
    // The CHECK constraint keeps statuses to the three known ones.
    assert!(sqlx::query("UPDATE outbox SET status = 'lost'").execute(db.pool()).await.is_err());
    let again = db.enqueue_message(&message).await;
    assert!(matches!(&again, Err(StorageError::Conflict("message"))), "got {again:?}");
}

/// A folder of copies of the migrations up to and including the one named `last`, removed when dropped.
struct OlderMigrations(std::path::PathBuf);

impl OlderMigrations {
    fn up_to(last: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("tessera-migrations-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir(&dir).expect("migrations folder");
        let ours = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
        for entry in std::fs::read_dir(ours).expect("read migrations") {
            let path = entry.expect("migration").path();
            let name = path.file_name().expect("file name").to_string_lossy().into_owned();
            if name.as_str() <= last || name.starts_with(last) {
                std::fs::copy(&path, dir.join(&name)).expect("copy migration");
            }
        }
        Self(dir)
    }
}

impl Drop for OlderMigrations {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// An empty database (no schema) on the test server, dropped with its guard.
async fn empty_database() -> (String, DatabaseGuard) {
    use sqlx::Executor;
    let admin = admin_url();
    let name = format!("{TEST_DATABASE_PREFIX}{}", uuid::Uuid::new_v4().simple());
    let mut conn = PgConnection::connect(&admin).await.expect("admin connection");
    conn.execute(format!("CREATE DATABASE \"{name}\"").as_str()).await.expect("create database");
    let _ = conn.close().await;
    let (path, query) = admin.split_once('?').map_or((admin.as_str(), None), |(p, q)| (p, Some(q)));
    let server = path.rsplit_once('/').map_or(path, |(server, _)| server);
    let url = match query {
        Some(q) => format!("{server}/{name}?{q}"),
        None => format!("{server}/{name}"),
    };
    let guard = DatabaseGuard::new(&admin, &url);
    (url, guard)
}

#[tokio::test]
async fn rows_written_before_the_lifecycle_migration_still_read() {
    use sqlx::types::Json;
    use tessera_core::ids::{BookingId, IssuanceId};
    use tessera_core::ledger::LedgerKind;
    use tessera_core::money::Money;
    use tessera_core::user::Scope;
    use tessera_storage::testsuite::{draft_for, event_booking, orders_for, RecordingSink, PAYABLE_MINOR};

    let (url, _guard) = empty_database().await;
    let older = OlderMigrations::up_to("20250801000000");
    let pool = sqlx::postgres::PgPoolOptions::new().max_connections(1).connect(&url).await.expect("connect");
    sqlx::migrate::Migrator::new(older.0.as_path()).await.expect("older migrations").run(&pool).await.expect("migrate");
    let now = Utc::now();

    // What the code before the lifecycle migration wrote: an agency, an event booking whose order has an invoice
    // without booking id or covers in its detail, and a flight ticket without a charged amount.
    let agency = AgencyId::generate();
    sqlx::query(
        "INSERT INTO agencies (id, name, currency, balance_minor, credit_limit_minor, timezone, created_at, \
         vat_percent) VALUES ($1, 'Old agency', 'USD', 0, 0, 'UTC', $2, '0')",
    )
    .bind(agency.0)
    .bind(now)
    .execute(&pool)
    .await
    .expect("old agency");
    let insert_booking = |booking: tessera_core::booking::Booking| {
        let pool = pool.clone();
        async move {
            sqlx::query(
                "INSERT INTO bookings (id, agency_id, kind, code, status, created_at, detail) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(booking.id.0)
            .bind(booking.agency_id.0)
            .bind(booking.kind())
            .bind(booking.code())
            .bind(booking.status.as_str())
            .bind(booking.created_at)
            .bind(Json(&booking.detail))
            .execute(&pool)
            .await
            .expect("old booking");
        }
    };
    let event = event_booking(agency, None);
    let orders = orders_for(&event);
    insert_booking(event.clone()).await;
    for order in &orders {
        sqlx::query(
            "INSERT INTO booking_orders (id, booking_id, agency_id, position, event_id, logistic_status, currency, \
             created_at, event, items) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(order.id.as_str())
        .bind(order.booking_id.0)
        .bind(order.agency_id.0)
        .bind(i32::try_from(order.position).expect("position"))
        .bind(&order.event.id)
        .bind(order.logistic_status.as_str())
        .bind(order.currency.code())
        .bind(order.created_at)
        .bind(Json(&order.event))
        .bind(Json(&order.items))
        .execute(&pool)
        .await
        .expect("old order");
    }
    let invoice = tessera_core::invoice::invoice_for(&orders[0], Decimal::ZERO).expect("invoice");
    let mut detail = serde_json::to_value(&invoice).expect("detail");
    let fields = detail.as_object_mut().expect("an object");
    fields.remove("booking_id");
    fields.remove("covers");
    sqlx::query(
        "INSERT INTO invoices (agency_id, number, order_id, kind, gross_minor, currency, issued_at, detail) \
         VALUES ($1, 1, $2, 'invoice', $3, 'USD', $4, $5)",
    )
    .bind(agency.0)
    .bind(orders[0].id.as_str())
    .bind(invoice.gross.minor())
    .bind(now)
    .bind(&detail)
    .execute(&pool)
    .await
    .expect("old invoice");
    sqlx::query("INSERT INTO invoice_serials (agency_id, next_number) VALUES ($1, 2)")
        .bind(agency.0)
        .execute(&pool)
        .await
        .expect("old invoice counter");
    let flight = flight_booking(agency, None);
    insert_booking(flight.clone()).await;
    let issuance = IssuanceId::generate();
    sqlx::query(
        "INSERT INTO issuances (id, booking_id, agency_id, amount_minor, commission_minor, currency, issued_at, \
         attributes) VALUES ($1, $2, $3, 46000, 0, 'USD', $4, '{}')",
    )
    .bind(issuance.0)
    .bind(flight.id.0)
    .bind(agency.0)
    .bind(now)
    .execute(&pool)
    .await
    .expect("old issuance");
    sqlx::query(
        "INSERT INTO tickets (number, issuance_id, booking_id, agency_id, ordinal, passenger_id, kind, status, \
         base_minor, total_minor, currency, taxes, issued_at) \
         VALUES ('1762100000001', $1, $2, $3, 0, 'P1', 'TKT', 'OPEN', 40000, 46000, 'USD', '[]', $4)",
    )
    .bind(issuance.0)
    .bind(flight.id.0)
    .bind(agency.0)
    .bind(now)
    .execute(&pool)
    .await
    .expect("old ticket");
    sqlx::query("INSERT INTO coupons (ticket_number, number, status) VALUES ('1762100000001', 1, 'O')")
        .execute(&pool)
        .await
        .expect("old coupon");
    pool.close().await;

    let db = PostgresDatabase::connect(&url, 2).await.expect("migrate to the lifecycle schema");
    let found = db.get_agency(agency).await.expect("get agency").expect("agency");
    assert!(!found.refund_approval);
    // The invoice: its booking from its order, nothing covered.
    let expected = tessera_core::invoice::InvoiceDraft { covers: Vec::new(), ..invoice };
    let invoices = db.invoices_of_booking(Scope::All, event.id).await.expect("invoices");
    assert_eq!(invoices.iter().map(|i| (i.number, &i.draft)).collect::<Vec<_>>(), [(1, &expected)]);
    let record = db.get_booking_order(Scope::All, &orders[0].id).await.expect("get order").expect("order");
    assert_eq!(record.invoices, invoices);
    // The ticket: charged its total, no penalty, coupons never used.
    let number = tessera_core::codes::TicketNumber::parse("1762100000001").expect("number");
    let ticket = db.get_ticket(Scope::All, &number).await.expect("get ticket").expect("ticket");
    let total = Money::from_minor(46_000, found.currency);
    assert_eq!((ticket.charged, ticket.total, ticket.pending_penalty), (total, total, None));
    assert_eq!(ticket.coupons[0].used_at, None);

    // New rows go in beside them: a flight invoice, without an order, takes the agency's next number.
    db.post_ledger(&tessera_storage::NewLedgerEntry {
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
    db.insert_booking(&next, &[], None).await.expect("insert booking");
    let new = tessera_storage::NewIssuance {
        id: IssuanceId::generate(),
        draft: draft_for(&next),
        issued_at: now,
        actor: tessera_storage::Actor {
            user_id: None,
            username: "system".into(),
            client_addr: None,
            tracking_id: None,
        },
        attributes: serde_json::json!({}),
    };
    db.issue(&new, std::sync::Arc::new(RecordingSink::default())).await.expect("issue");
    let invoices = db.invoices_of_booking(Scope::All, next.id).await.expect("invoices");
    let summary: Vec<_> =
        invoices.iter().map(|i| (i.number, i.draft.order_id.is_none(), i.draft.covers.len())).collect();
    assert_eq!(summary, [(2, true, 3)]);
    assert!(db.invoices_of_booking(Scope::All, BookingId::generate()).await.expect("invoices").is_empty());
    db.close().await;
}

/// Bookings stored before the search columns existed (their columns NULL) are filled in when a node connects,
/// and are then found by name like new ones.
#[tokio::test]
async fn connecting_fills_the_search_columns_of_older_bookings() {
    let admin = admin_url();
    let url = fresh_database(&admin).await.expect("fresh test database");
    let _guard = DatabaseGuard::new(&admin, &url);
    let db = PostgresDatabase::connect(&url, 10).await.expect("connect");
    let agency = agency(&db).await;
    let booking = flight_booking(agency, None);
    db.insert_booking(&booking, &[], None).await.expect("insert");
    sqlx::query("UPDATE bookings SET search_names = NULL, travel_date = NULL")
        .execute(db.pool())
        .await
        .expect("forget the search columns");
    let by_name = tessera_storage::BookingFilter {
        name: Some(tessera_core::search::fold("sherpa")),
        ..tessera_storage::BookingFilter::default()
    };
    let scope = tessera_core::user::Scope::All;
    assert!(db.list_bookings(scope, &by_name).await.expect("list").is_empty());
    db.close().await;

    let again = PostgresDatabase::connect(&url, 2).await.expect("reconnect");
    let found = again.list_bookings(scope, &by_name).await.expect("list");
    assert_eq!(found.iter().map(|b| b.id).collect::<Vec<_>>(), vec![booking.id]);
    again.close().await;
}
