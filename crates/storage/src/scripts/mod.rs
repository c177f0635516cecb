//! The transaction scripts: each write transaction of the [`crate::Database`] trait, written once over a
//! backend's [`WriteTx`] primitives. A script holds the steps, their order (which is the lock order), the
//! checks and the audit entry; the backend holds the SQL.
//!
//! A script takes `&mut Tx` and neither begins nor commits: [`run`] does, around it, and runs the whole
//! transaction again when the database aborted it to break a cycle (PostgreSQL's serialization failures and
//! deadlocks; SQLite's errors are never retryable, so there it runs once). Several scripts could therefore
//! share one transaction.

mod issue;
mod money;
mod transition;

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tessera_core::booking::{Booking, DistributionChannel};
use tessera_core::codes::{AccountingPrefix, TicketNumber, MAX_SERIAL};
use tessera_core::ids::AgencyId;
use tessera_core::invoice::{Invoice, InvoiceDraft};
use tessera_core::orders::{BookingOrder, BookingOrderId, OrderItemId};
use tessera_core::ticket::TicketDraft;
use tessera_core::user::Scope;

pub use issue::{issue, issue_in};
pub use money::{post, post_ledger};
pub use transition::{transition, transition_in};

use crate::{Backend, NewDocument, Result, StorageError, WriteTx};

/// How many times a transaction the database aborted is attempted in all.
pub const MAX_ATTEMPTS: u32 = 5;

/// The result of a step inside a transaction, with the backend's error.
pub type TxResult<T, X> = std::result::Result<T, <X as WriteTx>::Error>;

/// Runs `attempt` (one whole transaction: begin, script, commit) until it succeeds, fails for a reason
/// running it again cannot fix, or has been tried [`MAX_ATTEMPTS`] times. A retried attempt starts afresh;
/// what an aborted one did (documents its sink rendered included) is simply not recorded.
pub async fn run<X, T, F, Fut>(what: &str, mut attempt: F) -> Result<T>
where
    X: WriteTx,
    F: FnMut() -> Fut,
    Fut: Future<Output = TxResult<T, X>>,
{
    let mut tries = 1;
    loop {
        match attempt().await {
            Err(e) if X::is_retryable(&e) && tries < MAX_ATTEMPTS => {
                tracing::debug!(attempt = tries, what, "transaction aborted by the database, retrying");
                // Back off a little more each time so the transactions that collided do not collide again.
                tokio::time::sleep(Duration::from_millis(10 << tries)).await;
                tries += 1;
            }
            other => return other.map_err(Into::into),
        }
    }
}

/// Stores a booking and its orders together. Reads scope orders through their booking, so an order filed
/// under another booking or agency would be shown to the wrong people: such a call stores nothing.
pub async fn insert_booking<B: Backend>(db: &B, booking: &Booking, orders: &[BookingOrder]) -> Result<()> {
    if let Some(stray) = orders.iter().find(|o| o.booking_id != booking.id || o.agency_id != booking.agency_id) {
        let what = format!("booking order {} does not belong to booking {}", stray.id, booking.id);
        return Err(StorageError::Backend(what));
    }
    run::<B::Tx, _, _, _>("booking", || async {
        let mut tx = db.begin_write().await?;
        tx.insert_booking(booking, orders).await?;
        tx.commit().await
    })
    .await
}

/// [`crate::Database::set_distribution_channel`]. The items are rewritten whole: the order's lock keeps a
/// concurrent change of another item from being overwritten with the state read here.
pub async fn set_distribution_channel<B: Backend>(
    db: &B,
    scope: Scope,
    order: &BookingOrderId,
    item: &OrderItemId,
    channel: DistributionChannel,
) -> Result<Option<BookingOrder>> {
    run::<B::Tx, _, _, _>("distribution channel", || async {
        let mut tx = db.begin_write().await?;
        let Some(mut order) = tx.lock_order(scope, order).await? else { return Ok(None) };
        let Some(target) = order.item_mut(item) else { return Ok(None) };
        target.distribution_channel = channel;
        tx.set_order_items(&order).await?;
        tx.commit().await?;
        Ok(Some(order))
    })
    .await
}

/// [`crate::Database::replace_document`] in a transaction of its own.
pub async fn replace_document<B: Backend>(
    db: &B,
    agency: AgencyId,
    document: &NewDocument,
    at: DateTime<Utc>,
) -> Result<()> {
    run::<B::Tx, _, _, _>("document", || async {
        let mut tx = db.begin_write().await?;
        replace_document_in(&mut tx, agency, document, at).await?;
        tx.commit().await
    })
    .await
}

/// Stores `document` in place of the one with the same owner (or as a new one). The agency is all the caller
/// vouches for: the document's order, and the document it replaces, must be the agency's, or a caller could
/// overwrite another agency's files ([`StorageError::NotFound`]).
pub async fn replace_document_in<X: WriteTx>(
    tx: &mut X,
    agency: AgencyId,
    document: &NewDocument,
    at: DateTime<Utc>,
) -> TxResult<(), X> {
    if let Some(order) = document.owner.order() {
        if !tx.order_is_agencys(order, agency).await? {
            return Err(StorageError::NotFound.into());
        }
    }
    if !tx.replace_document(agency, document, at).await? {
        return Err(StorageError::NotFound.into());
    }
    Ok(())
}

/// Reserves one serial per draft and returns the ticket numbers in draft order.
///
/// Each prefix's counter moves once, by the number of tickets needing it, so an issuance gets a contiguous
/// block and serials are only consumed by transactions that commit: no gaps, no duplicates. The counters are
/// taken in sorted prefix order (not order of appearance) so that two transactions with the same prefixes
/// lock the rows in the same order; which serials a ticket gets does not depend on it.
pub async fn take_ticket_numbers<X: WriteTx>(tx: &mut X, drafts: &[TicketDraft]) -> TxResult<Vec<TicketNumber>, X> {
    let mut counts: BTreeMap<&AccountingPrefix, u64> = BTreeMap::new();
    for d in drafts {
        *counts.entry(&d.prefix).or_default() += 1;
    }
    let mut next: HashMap<&AccountingPrefix, u64> = HashMap::new();
    for (prefix, count) in counts {
        let first = tx.take_serials(prefix, count).await?;
        if first.saturating_add(count - 1) > MAX_SERIAL {
            return Err(StorageError::SerialsExhausted(prefix.to_string()).into());
        }
        next.insert(prefix, first);
    }
    let mut numbers = Vec::with_capacity(drafts.len());
    for d in drafts {
        let serial = next.get_mut(&d.prefix).ok_or_else(|| backend("prefix without a serial block"))?;
        let number = TicketNumber::new(d.prefix.clone(), *serial)
            .map_err(|_| StorageError::SerialsExhausted(d.prefix.to_string()))?;
        *serial += 1;
        numbers.push(number);
    }
    Ok(numbers)
}

/// Numbers the drafts with the agency's next invoice numbers, in draft order: gapless per agency, since
/// numbers of a transaction that rolls back are never seen.
pub async fn take_invoice_numbers<X: WriteTx>(
    tx: &mut X,
    agency: AgencyId,
    drafts: Vec<InvoiceDraft>,
    at: DateTime<Utc>,
) -> TxResult<Vec<Invoice>, X> {
    if drafts.is_empty() {
        return Ok(Vec::new());
    }
    let count = u64::try_from(drafts.len()).map_err(|_| backend("too many invoices"))?;
    let first = tx.take_invoice_numbers(agency, count).await?;
    Ok(drafts
        .into_iter()
        .zip(first..)
        .map(|(draft, number)| Invoice { number, agency_id: agency, issued_at: at, draft })
        .collect())
}

fn backend(what: &str) -> StorageError {
    StorageError::Backend(what.to_owned())
}
