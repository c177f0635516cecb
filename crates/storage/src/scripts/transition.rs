//! The ticket lifecycle after issuance: a planned void, refund, exchange or use of a flight ticket or an
//! event ticket (an order item), executed atomically.
//!
//! The subject (the ticket, or the booking order holding the item) is locked before it is compared with the
//! plan, so two transitions planned from the same state run one after the other and the second finds the
//! state changed and fails with [`StorageError::Stale`], having written nothing. Locks are taken in the order
//! issuance takes its own — the booking row (only an exchange, which rewrites the booking), the subject, the
//! agency row (the ledger entry), the `ticket_serials` row, the issuance row (an exchange's new ticket takes
//! the next ordinal), the agency's `invoice_serials` row — so a transition and an issuance cannot wait on
//! each other in a cycle.

use tessera_core::codes::TicketNumber;
use tessera_core::orders::{BookingOrderId, OrderItemId};
use tessera_core::ticket::Ticket;
use tessera_core::user::Scope;

use super::idempotency::record_effect;
use super::{backend, post, replace_document_in, run, take_invoice_numbers, take_ticket_numbers, TxResult};
use crate::{
    Backend, NewLedgerEntry, NewTransition, Reissue, Result, StorageError, Subject, TransitionOutcome, TransitionSink,
    WriteTx,
};

/// [`crate::Database::transition`]: [`transition_in`] in a transaction of its own.
pub async fn transition<B: Backend>(
    db: &B,
    change: &NewTransition,
    sink: &dyn TransitionSink,
) -> Result<TransitionOutcome> {
    run::<B::Tx, _, _, _>(&change.action, || async {
        let mut tx = db.begin_write().await?;
        let outcome = transition_in(&mut tx, change, sink).await?;
        record_effect(&mut tx, || transition_effect(change, &outcome)).await?;
        tx.commit().await?;
        Ok(outcome)
    })
    .await
}

/// The effect a transition records on its idempotency claim: its subject and action, and what it produced.
fn transition_effect(change: &NewTransition, outcome: &TransitionOutcome) -> serde_json::Value {
    let mut effect = match &outcome.subject {
        Subject::Ticket { number } => serde_json::json!({ "ticket": number.compact() }),
        Subject::Item { order, item } => serde_json::json!({ "order": order.as_str(), "item": item.to_string() }),
    };
    effect["action"] = change.action.clone().into();
    if let Some(ledger) = &outcome.ledger {
        effect["ledger"] = ledger.id.into();
    }
    if let Some(invoice) = &outcome.invoice {
        effect["invoice"] = invoice.number.into();
    }
    if let Some(ticket) = &outcome.reissued {
        effect["reissued"] = ticket.number.compact().into();
    }
    effect
}

/// Executes the change, lets `sink` render what it affects, replaces those documents and appends the audit
/// entry. An error leaves the transaction for the caller to drop, which rolls everything back.
pub async fn transition_in<X: WriteTx>(
    tx: &mut X,
    change: &NewTransition,
    sink: &dyn TransitionSink,
) -> TxResult<TransitionOutcome, X> {
    let outcome = apply(tx, change).await?;
    // Rendered while nothing of the above is visible to anyone else; a failure undoes it all.
    let documents = sink.produce(&outcome).await.map_err(StorageError::Documents)?;
    for document in &documents {
        replace_document_in(tx, change.agency_id, document, change.at).await?;
    }
    tx.insert_audit(&change.audit_entry(&outcome)).await?;
    super::webhooks::transitioned(tx, change, &outcome).await?;
    Ok(outcome)
}

async fn apply<X: WriteTx>(tx: &mut X, change: &NewTransition) -> TxResult<TransitionOutcome, X> {
    // 1. The subject, locked, as the plan expects it, takes its new state. The old ticket is kept for an
    //    exchange, which locks the booking it rewrites first.
    if change.reissue.is_some() {
        tx.lock_booking(change.agency_id, change.booking_id).await?.ok_or(StorageError::NotFound)?;
    }
    let old_ticket = match &change.subject {
        Subject::Ticket { number } => Some(change_ticket(tx, change, number).await?),
        Subject::Item { order, item } => {
            change_item(tx, change, order, item).await?;
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
            Some(post(tx, &entry).await?)
        }
        None => None,
    };

    // 3. An exchange's new ticket.
    let reissued = match (&change.reissue, &old_ticket) {
        (None, _) => None,
        (Some(reissue), Some(old)) => Some(reissue_ticket(tx, change, reissue, old).await?),
        (Some(_), None) => return Err(backend("only a ticket can be exchanged").into()),
    };

    // 4. The invoice, numbered after every earlier one of the agency.
    let invoice = match change.invoice_draft(reissued.as_ref()) {
        Some(draft) => {
            let numbered = take_invoice_numbers(tx, change.agency_id, vec![draft], change.at).await?;
            tx.insert_invoices(&numbered).await?;
            Some(numbered.into_iter().next().ok_or_else(|| backend("no invoice number drawn"))?)
        }
        None => None,
    };
    Ok(TransitionOutcome { subject: change.subject.clone(), reissued, invoice, ledger })
}

/// A plan must give every coupon its new state; anything else is a bug in the caller, not a stale plan.
fn check_coupon_count(change: &NewTransition, stored: usize) -> Result<()> {
    if change.coupons.len() == stored {
        return Ok(());
    }
    Err(StorageError::Backend(format!("the plan has {} coupon states for {stored} coupons", change.coupons.len())))
}

/// Locks the ticket, checks it against the plan and writes its new status, pending penalty and coupons.
/// Returns the ticket as it was.
async fn change_ticket<X: WriteTx>(tx: &mut X, change: &NewTransition, number: &TicketNumber) -> TxResult<Ticket, X> {
    let old = tx.lock_ticket(change.agency_id, change.booking_id, number).await?.ok_or(StorageError::NotFound)?;
    if !change.is_current(old.status, &old.coupon_states()) {
        return Err(StorageError::Stale.into());
    }
    check_coupon_count(change, old.coupons.len())?;
    // The pending penalty is stored in minor units of the ticket's currency.
    if let Some(penalty) = change.pending_penalty.filter(|p| p.currency() != old.total.currency()) {
        let what = format!("penalty in {} for a ticket in {}", penalty.currency(), old.total.currency());
        return Err(StorageError::Backend(what).into());
    }
    let mut new = old.clone();
    new.status = change.to;
    new.pending_penalty = change.pending_penalty;
    for (coupon, state) in new.coupons.iter_mut().zip(&change.coupons) {
        coupon.status = state.status;
        coupon.used_at = state.used_at;
    }
    tx.update_ticket(&new).await?;
    Ok(old)
}

/// Locks the booking order, checks the item against the plan and rewrites the order's items with its new
/// status, pending penalty and download items (its coupons).
async fn change_item<X: WriteTx>(
    tx: &mut X,
    change: &NewTransition,
    order: &BookingOrderId,
    item: &OrderItemId,
) -> TxResult<(), X> {
    let order = tx.lock_order(Scope::Agency(change.agency_id), order).await?;
    let mut order = order.filter(|o| o.booking_id == change.booking_id).ok_or(StorageError::NotFound)?;
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
    tx.set_order_items(&order).await
}

/// Numbers and stores an exchange's new ticket, links the two tickets both ways and records the amended
/// booking. The new ticket goes last among the tickets of the old one's issuance.
async fn reissue_ticket<X: WriteTx>(
    tx: &mut X,
    change: &NewTransition,
    reissue: &Reissue,
    old: &Ticket,
) -> TxResult<Ticket, X> {
    let numbers = take_ticket_numbers(tx, std::slice::from_ref(&reissue.draft)).await?;
    let number = numbers.into_iter().next().ok_or_else(|| backend("no ticket number drawn"))?;
    let ticket = reissue.ticket(old, number, change.at);
    let ordinal = tx.next_ticket_ordinal(old.issuance_id).await?;
    tx.insert_tickets(std::slice::from_ref(&ticket), ordinal).await?;
    tx.link_exchange(&old.number, &ticket.number).await?;
    tx.set_booking_detail(change.booking_id, &reissue.booking).await?;
    Ok(ticket)
}
