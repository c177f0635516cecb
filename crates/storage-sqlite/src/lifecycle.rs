//! The ticket lifecycle after issuance: [`transition`] executes a planned void, refund, exchange or use of a
//! flight ticket or an event ticket (an order item), and the reads the lifecycle needs (a booking's invoices,
//! the order holding a download item).
//!
//! [`transition`] runs under `BEGIN IMMEDIATE`, like issuance: from its first statement no other writer runs,
//! so the state it compares with the plan cannot change before it commits. Two transitions planned from the
//! same state therefore run one after the other, and the second finds the state changed and fails with
//! [`StorageError::Stale`] before writing anything. Ticket serials and invoice numbers are drawn from the same
//! counters as issuance's, inside the transaction, so a transition that rolls back leaves no gap.

use sqlx::{QueryBuilder, Sqlite, SqliteConnection, SqlitePool};
use tessera_core::codes::TicketNumber;
use tessera_core::ids::{AgencyId, BookingId};
use tessera_core::invoice::Invoice;
use tessera_core::orders::{BookingOrderId, DownloadItemId, OrderItemId};
use tessera_core::ticket::{RelatedType, Ticket};
use tessera_core::user::Scope;
use tessera_storage::{
    NewLedgerEntry, NewTransition, Reissue, StorageError, Subject, TransitionOutcome, TransitionSink,
};

use crate::rows::{self, qualified, COUPON_COLUMNS, INVOICE_COLUMNS, ORDER_COLUMNS, TICKET_COLUMNS};
use crate::{agencies, audit, backend, begin_write, issuance, orders, push_scope, Result};

pub(crate) async fn transition(
    pool: &SqlitePool,
    change: &NewTransition,
    sink: &dyn TransitionSink,
) -> Result<TransitionOutcome> {
    // Every early return below drops `tx`, which rolls back whatever was done so far.
    let mut tx = begin_write(pool).await?;

    // 1. The subject, as the plan expects it, takes its new state. The old ticket is kept for an exchange.
    let old_ticket = match &change.subject {
        Subject::Ticket { number } => Some(change_ticket(&mut tx, change, number).await?),
        Subject::Item { order, item } => {
            change_item(&mut tx, change, order, item).await?;
            None
        }
    };

    // 2. Money, within the credit limit like every debit.
    let ledger = match change.ledger {
        Some((kind, amount)) => {
            let entry = NewLedgerEntry {
                agency_id: change.agency_id,
                kind,
                amount,
                issuance_id: change.issuance_id,
                note: Some(change.action.clone()),
                created_at: change.at,
            };
            Some(agencies::apply_ledger(&mut tx, &entry).await?)
        }
        None => None,
    };

    // 3. An exchange's new ticket.
    let reissued = match (&change.reissue, &old_ticket) {
        (None, _) => None,
        (Some(reissue), Some(old)) => Some(reissue_ticket(&mut tx, change, reissue, old).await?),
        (Some(_), None) => return Err(StorageError::Backend("only a ticket can be exchanged".into())),
    };

    // 4. The invoice, numbered after every earlier one of the agency.
    let invoice = match change.invoice_draft(reissued.as_ref()) {
        Some(draft) => {
            let numbered = orders::allocate_invoices(&mut tx, change.agency_id, &[draft], change.at).await?;
            let invoice = numbered.into_iter().next().ok_or_else(|| backend_error("no invoice number drawn"))?;
            orders::insert_invoice(&mut tx, &invoice).await?;
            Some(invoice)
        }
        None => None,
    };

    // 5. Documents, rendered while nothing of the above is visible to anyone else; a failure undoes it all.
    let outcome = TransitionOutcome { subject: change.subject.clone(), reissued, invoice, ledger };
    for document in sink.produce(&outcome).await? {
        orders::upsert_document(&mut tx, change.agency_id, &document, change.at).await?;
    }

    // 6.
    audit::insert(&mut *tx, &change.audit_entry(&outcome)).await?;
    tx.commit().await.map_err(backend)?;
    Ok(outcome)
}

fn backend_error(what: &str) -> StorageError {
    StorageError::Backend(what.to_owned())
}

/// A plan must give every coupon its new state; anything else is a bug in the caller, not a stale plan.
fn check_coupon_count(change: &NewTransition, stored: usize) -> Result<()> {
    if change.coupons.len() == stored {
        return Ok(());
    }
    Err(StorageError::Backend(format!("the plan has {} coupon states for {stored} coupons", change.coupons.len())))
}

/// Checks the ticket against the plan and writes its new status, pending penalty and coupons. Returns the
/// ticket as it was.
async fn change_ticket(conn: &mut SqliteConnection, change: &NewTransition, number: &TicketNumber) -> Result<Ticket> {
    let ticket = load_ticket(conn, change.agency_id, change.booking_id, number).await?.ok_or(StorageError::NotFound)?;
    if !change.is_current(ticket.status, &ticket.coupon_states()) {
        return Err(StorageError::Stale);
    }
    check_coupon_count(change, ticket.coupons.len())?;
    // The column holds minor units in the ticket's currency only.
    if let Some(penalty) = change.pending_penalty.filter(|p| p.currency() != ticket.total.currency()) {
        return Err(StorageError::Backend(format!(
            "penalty in {} for a ticket in {}",
            penalty.currency(),
            ticket.total.currency()
        )));
    }
    let compact = number.compact();
    sqlx::query("UPDATE tickets SET status = ?, pending_penalty_minor = ? WHERE number = ?")
        .bind(change.to.as_str())
        .bind(change.pending_penalty.map(|p| p.minor()))
        .bind(&compact)
        .execute(&mut *conn)
        .await
        .map_err(backend)?;
    for (coupon, state) in ticket.coupons.iter().zip(&change.coupons) {
        sqlx::query("UPDATE coupons SET status = ?, used_at = ? WHERE ticket_number = ? AND number = ?")
            .bind(state.status.as_str())
            .bind(state.used_at)
            .bind(&compact)
            .bind(i64::from(coupon.number))
            .execute(&mut *conn)
            .await
            .map_err(backend)?;
    }
    Ok(ticket)
}

/// A ticket with its coupons, if it belongs to the agency's booking.
async fn load_ticket(
    conn: &mut SqliteConnection,
    agency: AgencyId,
    booking: BookingId,
    number: &TicketNumber,
) -> Result<Option<Ticket>> {
    let compact = number.compact();
    let row = sqlx::query(&format!(
        "SELECT {TICKET_COLUMNS} FROM tickets WHERE number = ? AND agency_id = ? AND booking_id = ?"
    ))
    .bind(&compact)
    .bind(agency.to_string())
    .bind(booking.to_string())
    .fetch_optional(&mut *conn)
    .await
    .map_err(backend)?;
    let Some(row) = row else { return Ok(None) };
    let coupons = sqlx::query(&format!("SELECT {COUPON_COLUMNS} FROM coupons WHERE ticket_number = ? ORDER BY number"))
        .bind(&compact)
        .fetch_all(&mut *conn)
        .await
        .map_err(backend)?;
    let coupons = coupons.iter().map(rows::coupon).collect::<Result<Vec<_>>>()?;
    rows::ticket(&row, coupons).map(Some)
}

/// Checks the order item against the plan and rewrites the order's items with its new status, pending penalty
/// and download items (its coupons).
async fn change_item(
    conn: &mut SqliteConnection,
    change: &NewTransition,
    order: &BookingOrderId,
    item: &OrderItemId,
) -> Result<()> {
    let row = sqlx::query(&format!(
        "SELECT {ORDER_COLUMNS} FROM booking_orders WHERE id = ? AND agency_id = ? AND booking_id = ?"
    ))
    .bind(order.as_str())
    .bind(change.agency_id.to_string())
    .bind(change.booking_id.to_string())
    .fetch_optional(&mut *conn)
    .await
    .map_err(backend)?;
    let mut order = rows::booking_order(&row.ok_or(StorageError::NotFound)?)?;
    let target = order.item_mut(item).ok_or(StorageError::NotFound)?;
    if !change.is_current(target.status, &target.coupon_states()) {
        return Err(StorageError::Stale);
    }
    check_coupon_count(change, target.downloads.len())?;
    target.status = change.to;
    target.pending_penalty = change.pending_penalty;
    for (download, state) in target.downloads.iter_mut().zip(&change.coupons) {
        download.status = state.status;
        download.activated = state.used_at;
    }
    sqlx::query("UPDATE booking_orders SET items = ? WHERE id = ?")
        .bind(rows::json_text(&order.items, "order items")?)
        .bind(order.id.as_str())
        .execute(&mut *conn)
        .await
        .map_err(backend)?;
    Ok(())
}

/// Numbers and stores an exchange's new ticket, links the two tickets both ways and records the amended
/// booking. The new ticket goes last among the tickets of the old one's issuance.
async fn reissue_ticket(
    conn: &mut SqliteConnection,
    change: &NewTransition,
    reissue: &Reissue,
    old: &Ticket,
) -> Result<Ticket> {
    let numbers = issuance::allocate_numbers(conn, std::slice::from_ref(&reissue.draft)).await?;
    let number = numbers.into_iter().next().ok_or_else(|| backend_error("no ticket number drawn"))?;
    let ticket = reissue.ticket(old, number, change.at);
    let ordinal: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(ordinal) + 1, 0) FROM tickets WHERE issuance_id = ?")
        .bind(old.issuance_id.to_string())
        .fetch_one(&mut *conn)
        .await
        .map_err(backend)?;
    let ordinal = usize::try_from(ordinal).map_err(|e| StorageError::Backend(format!("ticket ordinal: {e}")))?;
    issuance::insert_ticket(conn, &ticket, ordinal).await?;
    sqlx::query("UPDATE tickets SET related_number = ?, related_type = ? WHERE number = ?")
        .bind(ticket.number.compact())
        .bind(RelatedType::EXCH.as_str())
        .bind(old.number.compact())
        .execute(&mut *conn)
        .await
        .map_err(backend)?;
    sqlx::query("UPDATE bookings SET detail = ? WHERE id = ? AND agency_id = ?")
        .bind(rows::json_text(&reissue.booking, "booking detail")?)
        .bind(change.booking_id.to_string())
        .bind(change.agency_id.to_string())
        .execute(&mut *conn)
        .await
        .map_err(backend)?;
    Ok(ticket)
}

pub(crate) async fn invoices_of_booking(pool: &SqlitePool, scope: Scope, booking: BookingId) -> Result<Vec<Invoice>> {
    let mut query: QueryBuilder<'_, Sqlite> = QueryBuilder::new(format!(
        "SELECT {} FROM invoices i JOIN bookings b ON b.id = i.booking_id WHERE i.booking_id = ",
        qualified(INVOICE_COLUMNS, "i")
    ));
    query.push_bind(booking.to_string());
    push_scope(&mut query, scope, "b.agency_id", "b.created_by");
    // One booking's invoices are one agency's, whose numbers grow with time.
    query.push(" ORDER BY i.number");
    let rows = query.build().fetch_all(pool).await.map_err(backend)?;
    rows.iter().map(rows::invoice).collect()
}

pub(crate) async fn order_of_download(
    pool: &SqlitePool,
    scope: Scope,
    download: &DownloadItemId,
) -> Result<Option<BookingOrderId>> {
    let mut query: QueryBuilder<'_, Sqlite> = QueryBuilder::new(
        "SELECT d.order_id FROM documents d JOIN booking_orders o ON o.id = d.order_id \
         JOIN bookings b ON b.id = o.booking_id WHERE d.owner_kind = 'download' AND d.owner_key = ",
    );
    query.push_bind(download.to_string());
    push_scope(&mut query, scope, "b.agency_id", "b.created_by");
    let order: Option<String> = query.build_query_scalar().fetch_optional(pool).await.map_err(backend)?;
    order
        .map(|o| {
            BookingOrderId::parse(&o).map_err(|e| StorageError::Backend(format!("stored order_id is invalid: {e}")))
        })
        .transpose()
}
