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
        timezone: "UTC".into(),
        vat_percent: Decimal::ZERO,
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
        tasks.push(tokio::spawn(async move { db.insert_booking(&same_code, &[]).await }));
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
