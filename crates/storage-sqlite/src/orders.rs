//! Booking orders of event bookings, their invoices and documents: inserted with the booking, completed by
//! issuance, listed with the events API's filters.
//!
//! An order's items live as JSON in its row (they are always read whole); the columns carry what is filtered
//! on. Every read joins the booking and applies the [`Scope`] there, like every other read.

use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Sqlite, SqliteConnection, SqlitePool};
use tessera_core::booking::DistributionChannel;
use tessera_core::ids::{AgencyId, BookingId};
use tessera_core::invoice::{Invoice, InvoiceDraft};
use tessera_core::orders::{BookingOrder, BookingOrderId, LogisticStatus, OrderFilter, OrderItemId};
use tessera_core::user::Scope;
use tessera_storage::{DocumentRecord, NewDocument, OrderPage, OrderRecord, StorageError};

use crate::rows::{self, qualified, DOCUMENT_COLUMNS, INVOICE_COLUMNS, ORDER_COLUMNS};
use crate::{backend, begin_read, begin_write, push_scope, write_error, Result};

pub(crate) async fn insert_orders(conn: &mut SqliteConnection, orders: &[BookingOrder]) -> Result<()> {
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
        .bind(rows::json_text(&order.event, "order event")?)
        .bind(rows::json_text(&order.items, "order items")?)
        .bind(order.currency.code())
        .execute(&mut *conn)
        .await
        .map_err(|e| write_error(e, "booking order"))?;
    }
    Ok(())
}

fn select(scope: Scope) -> QueryBuilder<'static, Sqlite> {
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
    let rows = query.build().fetch_all(pool).await.map_err(backend)?;
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
    let total: i64 = count.build_query_scalar().fetch_one(&mut *tx).await.map_err(backend)?;

    let mut query = select(scope);
    push_filter(&mut query, filter);
    let offset = i64::try_from(offset).unwrap_or(i64::MAX);
    query
        .push(" ORDER BY o.created_at, o.booking_id, o.position LIMIT ")
        .push_bind(i64::from(limit))
        .push(" OFFSET ")
        .push_bind(offset);
    let rows = query.build().fetch_all(&mut *tx).await.map_err(backend)?;
    let orders = records(&mut tx, &rows).await?;
    tx.commit().await.map_err(backend)?;
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
    let rows = query.build().fetch_all(&mut *tx).await.map_err(backend)?;
    let mut found = records(&mut tx, &rows).await?;
    tx.commit().await.map_err(backend)?;
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
        docs.build().fetch_all(&mut *conn).await.map_err(backend)?.iter().map(rows::document).collect::<Result<_>>()?;
    let mut inv: QueryBuilder<'_, Sqlite> =
        QueryBuilder::new(format!("SELECT {INVOICE_COLUMNS} FROM invoices WHERE 1 = 1"));
    push_in(&mut inv, "order_id", ids());
    inv.push(" ORDER BY number");
    let invoices: Vec<Invoice> =
        inv.build().fetch_all(&mut *conn).await.map_err(backend)?.iter().map(rows::invoice).collect::<Result<_>>()?;
    for record in &mut out {
        let id = &record.order.id;
        record.documents = documents.iter().filter(|d| d.owner.order() == Some(id)).cloned().collect();
        record.invoices = invoices.iter().filter(|i| i.draft.order_id.as_ref() == Some(id)).cloned().collect();
    }
    Ok(out)
}

pub(crate) async fn set_distribution_channel(
    pool: &SqlitePool,
    scope: Scope,
    order: &BookingOrderId,
    item: &OrderItemId,
    channel: DistributionChannel,
) -> Result<Option<BookingOrder>> {
    let mut tx = begin_write(pool).await?;
    let mut query = select(scope);
    query.push(" AND o.id = ").push_bind(order.to_string());
    let Some(row) = query.build().fetch_optional(&mut *tx).await.map_err(backend)? else { return Ok(None) };
    let mut order = rows::booking_order(&row)?;
    let Some(target) = order.item_mut(item) else { return Ok(None) };
    target.distribution_channel = channel;
    sqlx::query("UPDATE booking_orders SET items = ? WHERE id = ?")
        .bind(rows::json_text(&order.items, "order items")?)
        .bind(order.id.as_str())
        .execute(&mut *tx)
        .await
        .map_err(backend)?;
    tx.commit().await.map_err(backend)?;
    Ok(Some(order))
}

/// Takes the next `drafts.len()` invoice numbers of the agency, in draft order. Runs inside the issuance
/// transaction, so numbers of an issuance that rolls back are never seen: no gaps.
pub(crate) async fn allocate_invoices(
    conn: &mut SqliteConnection,
    agency: AgencyId,
    drafts: &[InvoiceDraft],
    at: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<Invoice>> {
    if drafts.is_empty() {
        return Ok(Vec::new());
    }
    let n = i64::try_from(drafts.len()).map_err(|e| StorageError::Backend(e.to_string()))?;
    let end: i64 = sqlx::query_scalar(
        "INSERT INTO invoice_serials (agency_id, next_number) VALUES (?1, 1 + ?2) \
         ON CONFLICT (agency_id) DO UPDATE SET next_number = invoice_serials.next_number + ?2 RETURNING next_number",
    )
    .bind(agency.to_string())
    .bind(n)
    .fetch_one(&mut *conn)
    .await
    .map_err(backend)?;
    let first = u64::try_from(end - n).map_err(|e| StorageError::Backend(e.to_string()))?;
    Ok(drafts
        .iter()
        .enumerate()
        .map(|(i, d)| Invoice { number: first + i as u64, agency_id: agency, issued_at: at, draft: d.clone() })
        .collect())
}

pub(crate) async fn insert_invoice(conn: &mut SqliteConnection, invoice: &Invoice) -> Result<()> {
    sqlx::query(
        "INSERT INTO invoices (agency_id, number, booking_id, order_id, kind, gross_minor, currency, issued_at, \
         detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(invoice.agency_id.to_string())
    .bind(i64::try_from(invoice.number).map_err(|e| StorageError::Backend(e.to_string()))?)
    .bind(invoice.draft.booking_id.to_string())
    .bind(invoice.draft.order_id.as_ref().map(BookingOrderId::as_str))
    .bind(invoice.draft.kind.as_str())
    .bind(invoice.draft.gross.minor())
    .bind(invoice.draft.currency.code())
    .bind(invoice.issued_at)
    .bind(rows::json_text(&invoice.draft, "invoice")?)
    .execute(&mut *conn)
    .await
    .map_err(|e| write_error(e, "invoice"))?;
    Ok(())
}

pub(crate) async fn complete_orders(conn: &mut SqliteConnection, booking: BookingId) -> Result<()> {
    sqlx::query("UPDATE booking_orders SET logistic_status = ? WHERE booking_id = ?")
        .bind(LogisticStatus::Completed.as_str())
        .bind(booking.to_string())
        .execute(&mut *conn)
        .await
        .map_err(backend)?;
    Ok(())
}

pub(crate) async fn insert_document(
    conn: &mut SqliteConnection,
    agency: AgencyId,
    document: &NewDocument,
    at: chrono::DateTime<chrono::Utc>,
    replace: bool,
) -> Result<()> {
    let verb = if replace { "INSERT OR REPLACE" } else { "INSERT" };
    sqlx::query(&format!(
        "{verb} INTO documents (id, owner_kind, owner_key, agency_id, storage_key, sha256, size, content_type, \
         filename, created_at, order_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    ))
    .bind(document.id.to_string())
    .bind(document.owner.kind())
    .bind(document.owner.key())
    .bind(agency.to_string())
    .bind(&document.storage_key)
    .bind(&document.sha256)
    .bind(document.size)
    .bind(&document.content_type)
    .bind(&document.filename)
    .bind(at)
    .bind(document.owner.order().map(|o| o.to_string()))
    .execute(&mut *conn)
    .await
    .map_err(|e| write_error(e, "document"))?;
    Ok(())
}

pub(crate) async fn replace_document(
    pool: &SqlitePool,
    agency: AgencyId,
    document: &NewDocument,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<()> {
    let mut tx = begin_write(pool).await?;
    upsert_document(&mut tx, agency, document, at).await?;
    tx.commit().await.map_err(backend)
}

/// Stores `document` in place of the one with the same owner (or as a new one), inside the caller's
/// transaction. The agency is all the caller vouches for: the document's order, and the document it replaces,
/// must be the agency's, or a caller could overwrite another agency's files ([`StorageError::NotFound`]).
pub(crate) async fn upsert_document(
    conn: &mut SqliteConnection,
    agency: AgencyId,
    document: &NewDocument,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<()> {
    if let Some(order) = document.owner.order() {
        let ours: bool =
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM booking_orders WHERE id = ? AND agency_id = ?)")
                .bind(order.as_str())
                .bind(agency.to_string())
                .fetch_one(&mut *conn)
                .await
                .map_err(backend)?;
        if !ours {
            return Err(StorageError::NotFound);
        }
    }
    let theirs: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM documents WHERE owner_kind = ? AND owner_key = ? AND agency_id <> ?)",
    )
    .bind(document.owner.kind())
    .bind(document.owner.key())
    .bind(agency.to_string())
    .fetch_one(&mut *conn)
    .await
    .map_err(backend)?;
    if theirs {
        return Err(StorageError::NotFound);
    }
    insert_document(conn, agency, document, at, true).await
}
