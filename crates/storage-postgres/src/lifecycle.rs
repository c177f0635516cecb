//! The ticket lifecycle after issuance: [`transition`] executes a planned void, refund, exchange or use of a
//! flight ticket or an event ticket (an order item), and the reads the lifecycle needs (a booking's invoices,
//! the order holding a download item).
//!
//! The subject's row (the ticket, or the booking order holding the item) is locked `FOR UPDATE` before it is
//! compared with the plan, so two transitions planned from the same state queue on that row: the first
//! commits, and the second, reading the row after the lock, finds it changed and fails with
//! [`StorageError::Stale`] having written nothing. Locks are taken in the order issuance takes its own — the
//! booking row (only an exchange, which rewrites the booking), the subject, the agency row (the ledger entry),
//! the `ticket_serials` row, the issuance row (an exchange's new ticket takes the next ordinal), the agency's
//! `invoice_serials` row — so a transition and an issuance cannot wait on each other in a cycle. Should
//! PostgreSQL still abort the transaction (serialization failure, deadlock), it is run again whole.

use std::time::Duration;

use sqlx::types::Json;
use sqlx::{PgConnection, PgPool};
use tessera_core::codes::TicketNumber;
use tessera_core::ids::BookingId;
use tessera_core::invoice::Invoice;
use tessera_core::orders::{BookingOrderId, DownloadItemId, OrderItemId};
use tessera_core::ticket::{RelatedType, Ticket};
use tessera_core::user::Scope;
use tessera_storage::{NewTransition, Reissue, StorageError, Subject, TransitionOutcome, TransitionSink};

use crate::agencies::{self, LedgerRow};
use crate::error::{corrupt, unstorable, Result};
use crate::issuance::{self, MAX_ATTEMPTS, TICKET_COLUMNS};
use crate::rows::{self, INVOICE_COLUMNS, ORDER_COLUMNS};
use crate::{audit, orders, ScopeParams};

pub(crate) async fn transition(
    pool: &PgPool,
    change: &NewTransition,
    sink: &dyn TransitionSink,
) -> Result<TransitionOutcome> {
    let mut attempt = 1;
    loop {
        match transition_once(pool, change, sink).await {
            Err(e) if e.is_retryable() && attempt < MAX_ATTEMPTS => {
                tracing::debug!(attempt, action = %change.action, "transition aborted by the database, retrying");
                tokio::time::sleep(Duration::from_millis(10 << attempt)).await;
                attempt += 1;
            }
            other => return other,
        }
    }
}

/// One attempt. Returning early drops `tx`, which rolls everything back. A retried attempt calls the sink
/// again; documents of an aborted attempt are simply not recorded.
async fn transition_once(
    pool: &PgPool,
    change: &NewTransition,
    sink: &dyn TransitionSink,
) -> Result<TransitionOutcome> {
    let mut tx = pool.begin().await?;

    // 1. The subject, locked, as the plan expects it, takes its new state. The old ticket is kept for an
    //    exchange, which locks the booking it rewrites first (see the module docs).
    if change.reissue.is_some() {
        lock_booking(&mut tx, change).await?;
    }
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
            let (balance_after, currency) = agencies::apply(&mut tx, change.agency_id, amount.minor())
                .await?
                .ok_or(StorageError::InsufficientBalance)?;
            if currency != amount.currency().code() {
                return Err(unstorable(format!("ledger entry in {} for an account in {currency}", amount.currency())));
            }
            let row = LedgerRow {
                agency_id: change.agency_id,
                kind,
                amount,
                balance_after,
                issuance_id: change.issuance_id,
                note: Some(&change.action),
                created_at: change.at,
            };
            Some(agencies::insert_ledger(&mut tx, row).await?)
        }
        None => None,
    };

    // 3. An exchange's new ticket.
    let reissued = match (&change.reissue, &old_ticket) {
        (None, _) => None,
        (Some(reissue), Some(old)) => Some(reissue_ticket(&mut tx, change, reissue, old).await?),
        (Some(_), None) => return Err(unstorable("only a ticket can be exchanged")),
    };

    // 4. The invoice, numbered after every earlier one of the agency.
    let invoice = match change.invoice_draft(reissued.as_ref()) {
        Some(draft) => {
            let numbered = orders::allocate_invoices(&mut tx, change.agency_id, &[draft], change.at).await?;
            orders::insert_invoices(&mut tx, &numbered).await?;
            Some(numbered.into_iter().next().ok_or_else(|| corrupt("no invoice number drawn"))?)
        }
        None => None,
    };

    // 5. Documents, rendered while nothing of the above is visible to anyone else; a failure undoes it all.
    let outcome = TransitionOutcome { subject: change.subject.clone(), reissued, invoice, ledger };
    let documents = sink.produce(&outcome).await.map_err(StorageError::Documents)?;
    for document in &documents {
        orders::upsert_document(&mut tx, change.agency_id, document, change.at).await?;
    }

    // 6.
    audit::insert(&mut tx, &change.audit_entry(&outcome)).await?;
    tx.commit().await?;
    Ok(outcome)
}

/// A plan must give every coupon its new state; anything else is a bug in the caller, not a stale plan.
fn check_coupon_count(change: &NewTransition, stored: usize) -> Result<()> {
    if change.coupons.len() == stored {
        return Ok(());
    }
    Err(unstorable(format!("the plan has {} coupon states for {stored} coupons", change.coupons.len())))
}

async fn lock_booking(conn: &mut PgConnection, change: &NewTransition) -> Result<()> {
    let found: Option<i32> = sqlx::query_scalar("SELECT 1 FROM bookings WHERE id = $1 AND agency_id = $2 FOR UPDATE")
        .bind(change.booking_id.0)
        .bind(change.agency_id.0)
        .fetch_optional(conn)
        .await?;
    found.map(|_| ()).ok_or_else(|| StorageError::NotFound.into())
}

/// Locks the ticket, checks it against the plan and writes its new status, pending penalty and coupons.
/// Returns the ticket as it was.
async fn change_ticket(conn: &mut PgConnection, change: &NewTransition, number: &TicketNumber) -> Result<Ticket> {
    let compact = number.compact();
    let row = sqlx::query(&format!(
        "SELECT {TICKET_COLUMNS} FROM tickets t WHERE t.number = $1 AND t.agency_id = $2 AND t.booking_id = $3 \
         FOR UPDATE"
    ))
    .bind(&compact)
    .bind(change.agency_id.0)
    .bind(change.booking_id.0)
    .fetch_optional(&mut *conn)
    .await?;
    let row = row.ok_or(StorageError::NotFound)?;
    // Coupons change only under their ticket's lock, which this transaction now holds.
    let ticket = issuance::with_coupons(conn, &[row]).await?.pop().ok_or(StorageError::NotFound)?;
    if !change.is_current(ticket.status, &ticket.coupon_states()) {
        return Err(StorageError::Stale.into());
    }
    check_coupon_count(change, ticket.coupons.len())?;
    // The column holds minor units in the ticket's currency only.
    if let Some(penalty) = change.pending_penalty.filter(|p| p.currency() != ticket.total.currency()) {
        return Err(unstorable(format!(
            "penalty in {} for a ticket in {}",
            penalty.currency(),
            ticket.total.currency()
        )));
    }
    sqlx::query("UPDATE tickets SET status = $2, pending_penalty_minor = $3 WHERE number = $1")
        .bind(&compact)
        .bind(change.to.as_str())
        .bind(change.pending_penalty.map(|p| p.minor()))
        .execute(&mut *conn)
        .await?;
    for (coupon, state) in ticket.coupons.iter().zip(&change.coupons) {
        let coupon_number = i32::try_from(coupon.number).map_err(|_| unstorable("coupon number out of range"))?;
        sqlx::query("UPDATE coupons SET status = $3, used_at = $4 WHERE ticket_number = $1 AND number = $2")
            .bind(&compact)
            .bind(coupon_number)
            .bind(state.status.as_str())
            .bind(state.used_at)
            .execute(&mut *conn)
            .await?;
    }
    Ok(ticket)
}

/// Locks the booking order, checks the item against the plan and rewrites the order's items with its new
/// status, pending penalty and download items (its coupons).
async fn change_item(
    conn: &mut PgConnection,
    change: &NewTransition,
    order: &BookingOrderId,
    item: &OrderItemId,
) -> Result<()> {
    let row = sqlx::query(&format!(
        "SELECT {ORDER_COLUMNS} FROM booking_orders o WHERE o.id = $1 AND o.agency_id = $2 AND o.booking_id = $3 \
         FOR UPDATE"
    ))
    .bind(order.as_str())
    .bind(change.agency_id.0)
    .bind(change.booking_id.0)
    .fetch_optional(&mut *conn)
    .await?;
    let mut order = rows::booking_order(&row.ok_or(StorageError::NotFound)?)?;
    let target = order.item_mut(item).ok_or(StorageError::NotFound)?;
    if !change.is_current(target.status, &target.coupon_states()) {
        return Err(StorageError::Stale.into());
    }
    check_coupon_count(change, target.downloads.len())?;
    target.status = change.to;
    target.pending_penalty = change.pending_penalty;
    for (download, state) in target.downloads.iter_mut().zip(&change.coupons) {
        download.status = state.status;
        download.activated = state.used_at;
    }
    sqlx::query("UPDATE booking_orders SET items = $2 WHERE id = $1")
        .bind(order.id.as_str())
        .bind(Json(&order.items))
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Numbers and stores an exchange's new ticket, links the two tickets both ways and records the amended
/// booking. The new ticket goes last among the tickets of the old one's issuance.
async fn reissue_ticket(
    conn: &mut PgConnection,
    change: &NewTransition,
    reissue: &Reissue,
    old: &Ticket,
) -> Result<Ticket> {
    let numbers = issuance::allocate_serials(conn, std::slice::from_ref(&reissue.draft)).await?;
    let number = numbers.into_iter().next().ok_or_else(|| corrupt("no ticket number drawn"))?;
    let ticket = reissue.ticket(old, number, change.at);
    // The issuance row's lock keeps two exchanges under one issuance from taking the same ordinal.
    sqlx::query("SELECT 1 FROM issuances WHERE id = $1 FOR UPDATE").bind(old.issuance_id.0).execute(&mut *conn).await?;
    let ordinal: i32 = sqlx::query_scalar("SELECT COALESCE(MAX(ordinal) + 1, 0) FROM tickets WHERE issuance_id = $1")
        .bind(old.issuance_id.0)
        .fetch_one(&mut *conn)
        .await?;
    issuance::insert_tickets(conn, std::slice::from_ref(&ticket), ordinal).await?;
    sqlx::query("UPDATE tickets SET related_number = $2, related_type = $3 WHERE number = $1")
        .bind(old.number.compact())
        .bind(ticket.number.compact())
        .bind(RelatedType::EXCH.as_str())
        .execute(&mut *conn)
        .await?;
    sqlx::query("UPDATE bookings SET detail = $3 WHERE id = $1 AND agency_id = $2")
        .bind(change.booking_id.0)
        .bind(change.agency_id.0)
        .bind(Json(&reissue.booking))
        .execute(&mut *conn)
        .await?;
    Ok(ticket)
}

pub(crate) async fn invoices_of_booking(pool: &PgPool, scope: Scope, booking: BookingId) -> Result<Vec<Invoice>> {
    let s = ScopeParams::of(scope);
    // One booking's invoices are one agency's, whose numbers grow with time.
    let rows = sqlx::query(&format!(
        "SELECT {INVOICE_COLUMNS} FROM invoices i JOIN bookings b ON b.id = i.booking_id \
         WHERE i.booking_id = $3 AND ($1::uuid IS NULL OR b.agency_id = $1) \
           AND ($2::uuid IS NULL OR b.created_by = $2) \
         ORDER BY i.number"
    ))
    .bind(s.agency)
    .bind(s.customer)
    .bind(booking.0)
    .fetch_all(pool)
    .await?;
    rows.iter().map(rows::invoice).collect()
}

pub(crate) async fn order_of_download(
    pool: &PgPool,
    scope: Scope,
    download: &DownloadItemId,
) -> Result<Option<BookingOrderId>> {
    let s = ScopeParams::of(scope);
    let order: Option<String> = sqlx::query_scalar(
        "SELECT d.order_id FROM documents d JOIN booking_orders o ON o.id = d.order_id \
         JOIN bookings b ON b.id = o.booking_id \
         WHERE d.owner_kind = 'download' AND d.owner_key = $3 \
           AND ($1::uuid IS NULL OR b.agency_id = $1) AND ($2::uuid IS NULL OR b.created_by = $2)",
    )
    .bind(s.agency)
    .bind(s.customer)
    .bind(download.as_str())
    .fetch_optional(pool)
    .await?;
    order.as_deref().map(BookingOrderId::parse).transpose().map_err(corrupt)
}
