//! What only the SQLite backend can check: its pragmas, its URLs, and states the `Database` trait cannot
//! produce (exhausted serials, corrupt rows, rows written by older versions of the schema). The behaviour
//! shared with other backends is checked by `tests/conformance.rs`.

use std::path::Path;
use std::sync::Arc;

use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use tessera_core::booking::Booking;
use tessera_core::codes::{TicketNumber, MAX_SERIAL};
use tessera_core::ids::{AgencyId, IssuanceId};
use tessera_core::ledger::LedgerKind;
use tessera_core::money::{Currency, Money};
use tessera_core::orders::BookingOrder;
use tessera_core::user::Scope;
use tessera_storage::testsuite::{draft_for, event_booking, flight_booking, orders_for, RecordingSink, PAYABLE_MINOR};
use tessera_storage::{Actor, Database, NewAgency, NewIssuance, NewLedgerEntry, StorageError};
use tessera_storage_sqlite::SqliteDatabase;

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
        timezone: "Asia/Kathmandu".parse().expect("a time zone"),
        vat_percent: rust_decimal::Decimal::ZERO,
        refund_approval: false,
        default_language: Default::default(),
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
        sqlx::query_scalar("PRAGMA journal_mode").fetch_one(db.pool()).await.expect("journal_mode");
    assert_eq!(journal_mode, "wal");
    for (pragma, expected) in [("foreign_keys", 1), ("synchronous", 2), ("busy_timeout", 10_000)] {
        let value: i64 = sqlx::query_scalar(&format!("PRAGMA {pragma}")).fetch_one(db.pool()).await.expect(pragma);
        // synchronous = 2 is FULL: a commit is on disk before it returns.
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
    db.insert_booking(&booking, &[], None).await.expect("insert");
    // Two serials left; the issuance needs three.
    sqlx::query("INSERT INTO ticket_serials (prefix, next_serial) VALUES ('157', ?)")
        .bind(i64::try_from(MAX_SERIAL - 1).expect("fits"))
        .execute(db.pool())
        .await
        .expect("seed serials");
    let new = issuance_of(&booking);
    let refused = db.issue(&new, Arc::new(RecordingSink::default())).await;
    assert!(matches!(&refused, Err(StorageError::SerialsExhausted(p)) if p == "157"), "got {refused:?}");
    assert!(db.get_issuance(Scope::All, new.id).await.expect("get").is_none());
    let next: i64 = sqlx::query_scalar("SELECT next_serial FROM ticket_serials WHERE prefix = '157'")
        .fetch_one(db.pool())
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
    db.insert_booking(&booking, &[], None).await.expect("insert");
    sqlx::query("UPDATE bookings SET detail = '{\"type\":\"flight\"}', status = 'lost'")
        .execute(db.pool())
        .await
        .expect("corrupt");
    let read = db.get_booking(Scope::All, booking.id).await;
    assert!(matches!(read, Err(StorageError::Backend(_))), "got {read:?}");
    sqlx::query("UPDATE agencies SET currency = 'usd'").execute(db.pool()).await.expect("corrupt");
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

/// Inserts a booking and its orders as the code before the lifecycle migration did, with raw SQL (the backend's
/// own insert needs the current schema).
async fn insert_old_booking(pool: &sqlx::SqlitePool, booking: &Booking, orders: &[BookingOrder]) {
    sqlx::query(
        "INSERT INTO bookings (id, agency_id, kind, code, status, created_by, created_at, detail) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(booking.id.to_string())
    .bind(booking.agency_id.to_string())
    .bind(booking.kind())
    .bind(booking.code())
    .bind(booking.status.as_str())
    .bind(booking.created_by.map(|u| u.to_string()))
    .bind(booking.created_at)
    .bind(serde_json::to_string(&booking.detail).expect("booking detail"))
    .execute(pool)
    .await
    .expect("old booking");
    for order in orders {
        sqlx::query(
            "INSERT INTO booking_orders (id, booking_id, agency_id, position, event_id, logistic_status, \
             created_at, event, items, currency) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(order.id.as_str())
        .bind(order.booking_id.to_string())
        .bind(order.agency_id.to_string())
        .bind(order.position)
        .bind(&order.event.id)
        .bind(order.logistic_status.as_str())
        .bind(order.created_at)
        .bind(serde_json::to_string(&order.event).expect("order event"))
        .bind(serde_json::to_string(&order.items).expect("order items"))
        .bind(order.currency.code())
        .execute(pool)
        .await
        .expect("old booking order");
    }
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
    insert_old_booking(&pool, &event, &orders).await;
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
    insert_old_booking(&pool, &flight, &[]).await;
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
        sqlx::query_as("PRAGMA foreign_key_check").fetch_all(db.pool()).await.expect("foreign key check");
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
    db.insert_booking(&next, &[], None).await.expect("insert booking");
    db.issue(&issuance_of(&next), Arc::new(RecordingSink::default())).await.expect("issue");
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
        sqlx::query(corruption).execute(db.pool()).await.expect("corrupt");
        let read = db.get_message(id).await;
        assert!(matches!(read, Err(StorageError::Backend(_))), "{corruption}: got {read:?}");
        assert!(matches!(db.list_outbox(Scope::All, 0).await, Err(StorageError::Backend(_))), "{corruption}");
    }
    // The CHECK constraint keeps statuses to the three known ones.
    assert!(sqlx::query("UPDATE outbox SET status = 'lost'").execute(db.pool()).await.is_err());
}

/// Bookings stored before the search columns existed (their columns NULL) are filled in when the database is
/// opened, and are then found by name and travel day like new ones.
#[tokio::test]
async fn opening_fills_the_search_columns_of_older_bookings() {
    let dir = tempfile::TempDir::new().expect("temp dir");
    let path = dir.path().join("older.db");
    let db = SqliteDatabase::open(&path).await.expect("open");
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
    assert!(db.list_bookings(Scope::All, &by_name).await.expect("list").is_empty());
    db.close().await;

    let again = SqliteDatabase::open(&path).await.expect("reopen");
    let found = again.list_bookings(Scope::All, &by_name).await.expect("list");
    assert_eq!(found.iter().map(|b| b.id).collect::<Vec<_>>(), vec![booking.id]);
    let day: Option<String> =
        sqlx::query_scalar("SELECT travel_date FROM bookings").fetch_one(again.pool()).await.expect("travel date");
    assert_eq!(day, tessera_core::search::travel_date(&booking.detail).map(|d| d.to_string()));
}
