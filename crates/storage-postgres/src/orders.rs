//! Booking orders of event bookings, their invoices and documents: inserted with the booking, listed with the
//! events API's filters.
//!
//! An order's event and items live as JSONB in its row (they are always read whole); the columns beside them
//! carry what is filtered and sorted on. Every read joins the booking and applies the [`Scope`] there, like
//! every other read: the agency on `bookings.agency_id`, a customer on `bookings.created_by`.

use chrono::{DateTime, Utc};
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, PgPool, Postgres, Row, Transaction};
use tessera_core::ids::BookingId;
use tessera_core::invoice::Invoice;
use tessera_core::orders::{BookingOrder, BookingOrderId, OrderFilter};
use tessera_core::user::Scope;
use tessera_storage::{DocumentRecord, OrderPage, OrderRecord};

use crate::error::{corrupt, unstorable, Result};
use crate::rows::{self, DOCUMENT_COLUMNS, INVOICE_COLUMNS, ORDER_COLUMNS};
use crate::ScopeParams;

/// Orders joined with their booking, in scope: the agency in `$1`, the customer in `$2`. The WHERE clause is
/// left open for more conditions.
pub(crate) const FROM_SCOPED: &str = "FROM booking_orders o JOIN bookings b ON b.id = o.booking_id \
     WHERE ($1::uuid IS NULL OR b.agency_id = $1) AND ($2::uuid IS NULL OR b.created_by = $2)";

/// The [`OrderFilter`] in `$3`..`$7`. A list that is present but empty matches nothing, as `in:[]` asks:
/// `= ANY('{}')` is false.
const FILTERED: &str = "AND ($3::uuid[] IS NULL OR o.booking_id = ANY($3)) \
     AND ($4::text[] IS NULL OR o.id = ANY($4)) \
     AND ($5::text IS NULL OR o.logistic_status = $5) \
     AND ($6::text IS NULL OR b.code = $6) \
     AND ($7::text IS NULL OR o.event_id = $7)";

/// Stores booking orders, inside the caller's transaction (the one inserting their booking).
pub(crate) async fn insert_orders(conn: &mut PgConnection, orders: &[BookingOrder]) -> Result<()> {
    if orders.is_empty() {
        return Ok(());
    }
    let mut c = OrderColumns::default();
    for o in orders {
        c.id.push(o.id.as_str());
        c.booking.push(o.booking_id.0);
        c.agency.push(o.agency_id.0);
        c.position.push(i32::try_from(o.position).map_err(|_| unstorable("order position out of range"))?);
        c.event_id.push(o.event.id.as_str());
        c.status.push(o.logistic_status.as_str());
        c.currency.push(o.currency.code());
        c.created_at.push(o.created_at);
        c.event.push(serde_json::to_value(&o.event).map_err(|e| unstorable(format!("order event: {e}")))?);
        c.items.push(serde_json::to_value(&o.items).map_err(|e| unstorable(format!("order items: {e}")))?);
    }
    // One statement for all of them (arrays unnested), like tickets.
    sqlx::query(
        "INSERT INTO booking_orders (id, booking_id, agency_id, position, event_id, logistic_status, currency, \
         created_at, event, items) \
         SELECT * FROM UNNEST($1::text[], $2::uuid[], $3::uuid[], $4::int[], $5::text[], $6::text[], $7::text[], \
                              $8::timestamptz[], $9::jsonb[], $10::jsonb[])",
    )
    .bind(&c.id)
    .bind(&c.booking)
    .bind(&c.agency)
    .bind(&c.position)
    .bind(&c.event_id)
    .bind(&c.status)
    .bind(&c.currency)
    .bind(&c.created_at)
    .bind(&c.event)
    .bind(&c.items)
    .execute(conn)
    .await?;
    Ok(())
}

#[derive(Default)]
struct OrderColumns<'a> {
    id: Vec<&'a str>,
    booking: Vec<uuid::Uuid>,
    agency: Vec<uuid::Uuid>,
    position: Vec<i32>,
    event_id: Vec<&'a str>,
    status: Vec<&'static str>,
    currency: Vec<&'a str>,
    created_at: Vec<DateTime<Utc>>,
    event: Vec<serde_json::Value>,
    items: Vec<serde_json::Value>,
}

/// A read-only transaction on one snapshot, so a read spanning several statements (a page and its count, an
/// order and its documents) sees a single state of the database.
pub(crate) async fn begin_snapshot(pool: &PgPool) -> Result<Transaction<'static, Postgres>> {
    crate::begin(pool, Some("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")).await
}

pub(crate) async fn orders_of_booking(pool: &PgPool, scope: Scope, booking: BookingId) -> Result<Vec<BookingOrder>> {
    let s = ScopeParams::of(scope);
    let rows = sqlx::query(&format!("SELECT {ORDER_COLUMNS} {FROM_SCOPED} AND o.booking_id = $3 ORDER BY o.position"))
        .bind(s.agency)
        .bind(s.customer)
        .bind(booking.0)
        .fetch_all(pool)
        .await?;
    rows.iter().map(rows::booking_order).collect()
}

pub(crate) async fn list_booking_orders(
    pool: &PgPool,
    scope: Scope,
    filter: &OrderFilter,
    offset: u64,
    limit: u32,
) -> Result<OrderPage> {
    let s = ScopeParams::of(scope);
    let booking_ids: Option<Vec<uuid::Uuid>> = filter.booking_ids.as_ref().map(|ids| ids.iter().map(|b| b.0).collect());
    let order_ids: Option<Vec<&str>> = filter.order_ids.as_ref().map(|ids| ids.iter().map(|o| o.as_str()).collect());
    let status = filter.logistic_status.map(|st| st.as_str());
    // An offset past what i64 holds is past the end of any table.
    let offset = i64::try_from(offset).unwrap_or(i64::MAX);

    // One snapshot for the count and the page, so the total describes the rows returned.
    let mut tx = begin_snapshot(pool).await?;
    let total: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) {FROM_SCOPED} {FILTERED}"))
        .bind(s.agency)
        .bind(s.customer)
        .bind(&booking_ids)
        .bind(&order_ids)
        .bind(status)
        .bind(filter.booking_code.as_deref())
        .bind(filter.event_id.as_deref())
        .fetch_one(&mut *tx)
        .await?;
    let rows = sqlx::query(&format!(
        "SELECT {ORDER_COLUMNS}, b.code AS booking_code {FROM_SCOPED} {FILTERED} \
         ORDER BY o.created_at, o.booking_id, o.position LIMIT $8 OFFSET $9"
    ))
    .bind(s.agency)
    .bind(s.customer)
    .bind(&booking_ids)
    .bind(&order_ids)
    .bind(status)
    .bind(filter.booking_code.as_deref())
    .bind(filter.event_id.as_deref())
    .bind(i64::from(limit))
    .bind(offset)
    .fetch_all(&mut *tx)
    .await?;
    let orders = records(&mut tx, &rows).await?;
    tx.commit().await?;
    Ok(OrderPage { orders, total: u64::try_from(total).map_err(|_| corrupt(format!("order count {total}")))? })
}

pub(crate) async fn get_booking_order(pool: &PgPool, scope: Scope, id: &BookingOrderId) -> Result<Option<OrderRecord>> {
    let s = ScopeParams::of(scope);
    let mut tx = begin_snapshot(pool).await?;
    let row = sqlx::query(&format!("SELECT {ORDER_COLUMNS}, b.code AS booking_code {FROM_SCOPED} AND o.id = $3"))
        .bind(s.agency)
        .bind(s.customer)
        .bind(id.as_str())
        .fetch_optional(&mut *tx)
        .await?;
    let Some(row) = row else { return Ok(None) };
    let mut found = records(&mut tx, &[row]).await?;
    tx.commit().await?;
    Ok(found.pop())
}

/// The orders of `rows` with their documents and invoices: two more queries for the whole page.
async fn records(conn: &mut PgConnection, rows: &[PgRow]) -> Result<Vec<OrderRecord>> {
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        out.push(OrderRecord {
            order: rows::booking_order(row)?,
            booking_code: row.try_get("booking_code")?,
            documents: Vec::new(),
            invoices: Vec::new(),
        });
    }
    if out.is_empty() {
        return Ok(out);
    }
    let ids: Vec<&str> = out.iter().map(|r| r.order.id.as_str()).collect();
    // Byte order (COLLATE "C"), as SQLite sorts, rather than whatever the database's locale says.
    let documents: Vec<DocumentRecord> = sqlx::query(&format!(
        "SELECT {DOCUMENT_COLUMNS} FROM documents d WHERE d.order_id = ANY($1) \
         ORDER BY d.owner_kind COLLATE \"C\", d.owner_key COLLATE \"C\""
    ))
    .bind(&ids)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(rows::document)
    .collect::<Result<_>>()?;
    let invoices: Vec<Invoice> =
        sqlx::query(&format!("SELECT {INVOICE_COLUMNS} FROM invoices i WHERE i.order_id = ANY($1) ORDER BY i.number"))
            .bind(&ids)
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(rows::invoice)
            .collect::<Result<_>>()?;
    for record in &mut out {
        let id = &record.order.id;
        record.documents = documents.iter().filter(|d| d.owner.order() == Some(id)).cloned().collect();
        record.invoices = invoices.iter().filter(|i| i.draft.order_id.as_ref() == Some(id)).cloned().collect();
    }
    Ok(out)
}

pub(crate) async fn insert_invoices(conn: &mut PgConnection, invoices: &[Invoice]) -> Result<()> {
    let Some(first) = invoices.first() else { return Ok(()) };
    let (mut number, mut booking, mut order, mut kind, mut gross, mut currency, mut detail) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for i in invoices {
        number.push(i64::try_from(i.number).map_err(|_| unstorable("invoice number out of range"))?);
        booking.push(i.draft.booking_id.0);
        order.push(i.draft.order_id.as_ref().map(BookingOrderId::as_str));
        kind.push(i.draft.kind.as_str());
        gross.push(i.draft.gross.minor());
        currency.push(i.draft.currency.code());
        detail.push(serde_json::to_value(&i.draft).map_err(|e| unstorable(format!("invoice: {e}")))?);
    }
    sqlx::query(
        "INSERT INTO invoices (agency_id, number, booking_id, order_id, kind, gross_minor, currency, issued_at, \
         detail) \
         SELECT $1, u.number, u.booking_id, u.order_id, u.kind, u.gross, u.currency, $2, u.detail \
         FROM UNNEST($3::bigint[], $4::uuid[], $5::text[], $6::text[], $7::bigint[], $8::text[], $9::jsonb[]) \
              AS u(number, booking_id, order_id, kind, gross, currency, detail)",
    )
    .bind(first.agency_id.0)
    .bind(first.issued_at)
    .bind(&number)
    .bind(&booking)
    .bind(&order)
    .bind(&kind)
    .bind(&gross)
    .bind(&currency)
    .bind(&detail)
    .execute(conn)
    .await?;
    Ok(())
}
