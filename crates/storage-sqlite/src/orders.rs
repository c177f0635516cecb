//! Booking orders of event bookings, their invoices and documents, listed with the events API's filters.
//!
//! An order's items live as JSON in its row (they are always read whole); the columns carry what is filtered
//! on. Every read joins the booking and applies the [`Scope`] there, like every other read.

use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Sqlite, SqliteConnection, SqlitePool};
use tessera_core::ids::BookingId;
use tessera_core::invoice::Invoice;
use tessera_core::orders::{BookingOrder, BookingOrderId, OrderFilter};
use tessera_core::user::Scope;
use tessera_storage::{DocumentRecord, OrderPage, OrderRecord};

use crate::rows::{self, qualified, DOCUMENT_COLUMNS, INVOICE_COLUMNS, ORDER_COLUMNS};
use crate::{begin_read, push_scope, Result};

pub(crate) fn select(scope: Scope) -> QueryBuilder<'static, Sqlite> {
    let mut query = QueryBuilder::new(format!(
        "SELECT {}, b.code AS booking_code FROM booking_orders o JOIN bookings b ON b.id = o.booking_id WHERE 1 = 1",
        qualified(ORDER_COLUMNS, "o")
    ));
    push_scope(&mut query, scope, "b.agency_id", "b.created_by");
    query
}

pub(crate) async fn orders_of_booking(
    pool: &SqlitePool,
    scope: Scope,
    booking: BookingId,
) -> Result<Vec<BookingOrder>> {
    let mut query = select(scope);
    query.push(" AND o.booking_id = ").push_bind(booking.to_string()).push(" ORDER BY o.position");
    let rows = query.build().fetch_all(pool).await?;
    rows.iter().map(rows::booking_order).collect()
}

fn push_filter(query: &mut QueryBuilder<'_, Sqlite>, filter: &OrderFilter) {
    if let Some(ids) = &filter.booking_ids {
        push_in(query, "o.booking_id", ids.iter().map(ToString::to_string));
    }
    if let Some(ids) = &filter.order_ids {
        push_in(query, "o.id", ids.iter().map(ToString::to_string));
    }
    if let Some(status) = filter.logistic_status {
        query.push(" AND o.logistic_status = ").push_bind(status.as_str());
    }
    if let Some(code) = &filter.booking_code {
        query.push(" AND b.code = ").push_bind(code.clone());
    }
    if let Some(event) = &filter.event_id {
        query.push(" AND o.event_id = ").push_bind(event.clone());
    }
}

/// `column IN (…)`; an empty list matches nothing, as `in:[]` asks.
fn push_in(query: &mut QueryBuilder<'_, Sqlite>, column: &str, values: impl Iterator<Item = String>) {
    let values: Vec<String> = values.collect();
    if values.is_empty() {
        query.push(" AND 1 = 0");
        return;
    }
    query.push(" AND ").push(column).push(" IN (");
    let mut list = query.separated(", ");
    for v in values {
        list.push_bind(v);
    }
    list.push_unseparated(")");
}

pub(crate) async fn list_booking_orders(
    pool: &SqlitePool,
    scope: Scope,
    filter: &OrderFilter,
    offset: u64,
    limit: u32,
) -> Result<OrderPage> {
    // One snapshot for the count and the page, so the totals describe the rows returned.
    let mut tx = begin_read(pool).await?;
    let mut count: QueryBuilder<'_, Sqlite> =
        QueryBuilder::new("SELECT COUNT(*) FROM booking_orders o JOIN bookings b ON b.id = o.booking_id WHERE 1 = 1");
    push_scope(&mut count, scope, "b.agency_id", "b.created_by");
    push_filter(&mut count, filter);
    let total: i64 = count.build_query_scalar().fetch_one(&mut *tx).await?;

    let mut query = select(scope);
    push_filter(&mut query, filter);
    let offset = i64::try_from(offset).unwrap_or(i64::MAX);
    query
        .push(" ORDER BY o.created_at, o.booking_id, o.position LIMIT ")
        .push_bind(i64::from(limit))
        .push(" OFFSET ")
        .push_bind(offset);
    let rows = query.build().fetch_all(&mut *tx).await?;
    let orders = records(&mut tx, &rows).await?;
    tx.commit().await?;
    Ok(OrderPage { orders, total: u64::try_from(total).unwrap_or(0) })
}

pub(crate) async fn get_booking_order(
    pool: &SqlitePool,
    scope: Scope,
    id: &BookingOrderId,
) -> Result<Option<OrderRecord>> {
    let mut tx = begin_read(pool).await?;
    let mut query = select(scope);
    query.push(" AND o.id = ").push_bind(id.to_string());
    let rows = query.build().fetch_all(&mut *tx).await?;
    let mut found = records(&mut tx, &rows).await?;
    tx.commit().await?;
    Ok(found.pop())
}

/// The orders of `rows` with their documents and invoices, two queries for the whole page.
async fn records(conn: &mut SqliteConnection, rows: &[SqliteRow]) -> Result<Vec<OrderRecord>> {
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let booking_code: String = rows::get(row, "booking_code")?;
        out.push(OrderRecord { order: rows::booking_order(row)?, booking_code, documents: vec![], invoices: vec![] });
    }
    if out.is_empty() {
        return Ok(out);
    }
    let ids = || out.iter().map(|r| r.order.id.to_string()).collect::<Vec<_>>().into_iter();
    let mut docs: QueryBuilder<'_, Sqlite> =
        QueryBuilder::new(format!("SELECT {DOCUMENT_COLUMNS} FROM documents WHERE 1 = 1"));
    push_in(&mut docs, "order_id", ids());
    docs.push(" ORDER BY owner_kind, owner_key");
    let documents: Vec<DocumentRecord> =
        docs.build().fetch_all(&mut *conn).await?.iter().map(rows::document).collect::<Result<_>>()?;
    let mut inv: QueryBuilder<'_, Sqlite> =
        QueryBuilder::new(format!("SELECT {INVOICE_COLUMNS} FROM invoices WHERE 1 = 1"));
    push_in(&mut inv, "order_id", ids());
    inv.push(" ORDER BY number");
    let invoices: Vec<Invoice> =
        inv.build().fetch_all(&mut *conn).await?.iter().map(rows::invoice).collect::<Result<_>>()?;
    for record in &mut out {
        let id = &record.order.id;
        record.documents = documents.iter().filter(|d| d.owner.order() == Some(id)).cloned().collect();
        record.invoices = invoices.iter().filter(|i| i.draft.order_id.as_ref() == Some(id)).cloned().collect();
    }
    Ok(out)
}
