//! Reads of what issuance created: issuances, tickets with their coupons, documents. The issuance itself is
//! [`tessera_storage::scripts::issue`], run on [`crate::tx`].

use std::collections::HashMap;

use sqlx::{QueryBuilder, Sqlite, SqlitePool};
use tessera_core::codes::TicketNumber;
use tessera_core::ids::{BookingId, IssuanceId};
use tessera_core::ticket::{Coupon, Ticket};
use tessera_core::user::Scope;
use tessera_storage::{DocumentOwner, DocumentRecord, IssuanceRecord};

use crate::rows::{self, qualified, COUPON_COLUMNS, DOCUMENT_COLUMNS, ISSUANCE_COLUMNS, TICKET_COLUMNS};
use crate::{begin_read, push_scope, Result};

pub(crate) async fn get_issuance(pool: &SqlitePool, scope: Scope, id: IssuanceId) -> Result<Option<IssuanceRecord>> {
    issuance_where(pool, scope, "i.id", id.to_string()).await
}

pub(crate) async fn find_issuance_by_booking(
    pool: &SqlitePool,
    scope: Scope,
    booking: BookingId,
) -> Result<Option<IssuanceRecord>> {
    issuance_where(pool, scope, "i.booking_id", booking.to_string()).await
}

/// One issuance by a unique column (`i.id` or `i.booking_id`, both ours, never input), within the scope.
async fn issuance_where(
    pool: &SqlitePool,
    scope: Scope,
    column: &str,
    value: String,
) -> Result<Option<IssuanceRecord>> {
    let mut query: QueryBuilder<'_, Sqlite> = QueryBuilder::new(format!(
        "SELECT {} FROM issuances i JOIN bookings b ON b.id = i.booking_id WHERE {column} = ",
        qualified(ISSUANCE_COLUMNS, "i")
    ));
    query.push_bind(value);
    push_scope(&mut query, scope, "b.agency_id", "b.created_by");
    let row = query.build().fetch_optional(pool).await?;
    row.as_ref().map(rows::issuance).transpose()
}

pub(crate) async fn get_ticket(pool: &SqlitePool, scope: Scope, number: &TicketNumber) -> Result<Option<Ticket>> {
    let number = number.compact();
    let mut query: QueryBuilder<'_, Sqlite> = QueryBuilder::new(format!(
        "SELECT {} FROM tickets t JOIN bookings b ON b.id = t.booking_id WHERE t.number = ",
        qualified(TICKET_COLUMNS, "t")
    ));
    query.push_bind(number.clone());
    push_scope(&mut query, scope, "b.agency_id", "b.created_by");
    // The ticket and its coupons from one snapshot.
    let mut tx = begin_read(pool).await?;
    let Some(row) = query.build().fetch_optional(&mut *tx).await? else {
        return Ok(None);
    };
    let coupons = sqlx::query(&format!("SELECT {COUPON_COLUMNS} FROM coupons WHERE ticket_number = ? ORDER BY number"))
        .bind(&number)
        .fetch_all(&mut *tx)
        .await?;
    tx.commit().await?;
    let coupons = coupons.iter().map(rows::coupon).collect::<Result<Vec<_>>>()?;
    rows::ticket(&row, coupons).map(Some)
}

pub(crate) async fn tickets_of_issuance(pool: &SqlitePool, scope: Scope, id: IssuanceId) -> Result<Vec<Ticket>> {
    let id = id.to_string();
    let mut query: QueryBuilder<'_, Sqlite> = QueryBuilder::new(format!(
        "SELECT {} FROM tickets t JOIN bookings b ON b.id = t.booking_id WHERE t.issuance_id = ",
        qualified(TICKET_COLUMNS, "t")
    ));
    query.push_bind(id.clone());
    push_scope(&mut query, scope, "b.agency_id", "b.created_by");
    query.push(" ORDER BY t.ordinal");
    let mut tx = begin_read(pool).await?;
    let tickets = query.build().fetch_all(&mut *tx).await?;
    if tickets.is_empty() {
        return Ok(Vec::new());
    }
    // Only coupons of tickets the scope let through above are attached below.
    let coupon_rows = sqlx::query(&format!(
        "SELECT {} FROM coupons c JOIN tickets t ON t.number = c.ticket_number WHERE t.issuance_id = ? \
         ORDER BY c.ticket_number, c.number",
        qualified(COUPON_COLUMNS, "c")
    ))
    .bind(&id)
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    let mut coupons: HashMap<String, Vec<Coupon>> = HashMap::new();
    for row in &coupon_rows {
        let ticket: String = rows::get(row, "ticket_number")?;
        coupons.entry(ticket).or_default().push(rows::coupon(row)?);
    }
    tickets
        .iter()
        .map(|row| {
            let number: String = rows::get(row, "number")?;
            rows::ticket(row, coupons.remove(&number).unwrap_or_default())
        })
        .collect()
}

pub(crate) async fn get_document(
    pool: &SqlitePool,
    scope: Scope,
    owner: &DocumentOwner,
) -> Result<Option<DocumentRecord>> {
    // The scope is checked on the booking the owner belongs to, reached through the owner's table.
    let join = match owner {
        DocumentOwner::Ticket(_) => "JOIN tickets o ON o.number = d.owner_key",
        DocumentOwner::Issuance(_) => "JOIN issuances o ON o.id = d.owner_key",
        DocumentOwner::Download(..) | DocumentOwner::OrderZip(_) | DocumentOwner::Invoice(..) => {
            "JOIN booking_orders o ON o.id = d.order_id"
        }
        DocumentOwner::BookingInvoice(..) => {
            "JOIN invoices o ON o.agency_id = d.agency_id AND d.owner_key = o.booking_id || ':' || o.number"
        }
    };
    let mut query: QueryBuilder<'_, Sqlite> = QueryBuilder::new(format!(
        "SELECT {} FROM documents d {join} JOIN bookings b ON b.id = o.booking_id WHERE d.owner_kind = ",
        qualified(DOCUMENT_COLUMNS, "d")
    ));
    query.push_bind(owner.kind()).push(" AND d.owner_key = ").push_bind(owner.key());
    // A download item's key alone does not name its order: the order asked for must be the document's.
    if let Some(order) = owner.order() {
        query.push(" AND d.order_id = ").push_bind(order.to_string());
    }
    push_scope(&mut query, scope, "b.agency_id", "b.created_by");
    let row = query.build().fetch_optional(pool).await?;
    row.as_ref().map(rows::document).transpose()
}
