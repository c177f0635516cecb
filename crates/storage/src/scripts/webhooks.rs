//! Webhook events, written by the scripts inside the transaction that made the change (the transactional
//! outbox): the event commits with the change or not at all, and the delivery worker sends it afterwards.
//!
//! Each script adds its events with one call at its end ([`issued`], [`transitioned`]; [`after_ledger`] from
//! [`super::post`]); the `data` of each event is built by `tessera_core::webhook` from what the script holds.

use chrono::{DateTime, Utc};
use tessera_core::ids::{AgencyId, WebhookEventId};
use tessera_core::ledger::LedgerEntry;
use tessera_core::money::Money;
use tessera_core::webhook::{self as events, EventType};

use super::{run, TxResult};
use crate::{Backend, IssuedTickets, NewTransition, NewWebhookEvent, Result, Subject, TransitionOutcome, WriteTx};

/// Writes one event of `agency` (fanned out to its subscribed endpoints in the same statement set).
pub async fn enqueue<X: WriteTx>(
    tx: &mut X,
    agency: AgencyId,
    event_type: EventType,
    data: serde_json::Value,
    at: DateTime<Utc>,
) -> TxResult<u64, X> {
    let event = NewWebhookEvent {
        id: WebhookEventId::generate(),
        agency_id: agency,
        event_type: event_type.as_str().to_owned(),
        data,
        created_at: at,
    };
    tx.insert_webhook_event(&event).await
}

/// [`crate::Database::record_webhook_event`]: one event in a transaction of its own.
pub async fn record<B: Backend>(db: &B, event: &NewWebhookEvent) -> Result<u64> {
    run::<B::Tx, _, _, _>("webhook event", || async {
        let mut tx = db.begin_write().await?;
        let fanned_out = tx.insert_webhook_event(event).await?;
        tx.commit().await?;
        Ok(fanned_out)
    })
    .await
}

/// `issuance.created`, and `booking_order.completed` for every order an event booking's issuance delivered.
pub async fn issued<X: WriteTx>(tx: &mut X, issued: &IssuedTickets, charged: &Money) -> TxResult<(), X> {
    let orders: Vec<String> =
        issued.invoices.iter().filter_map(|i| i.draft.order_id.as_ref()).map(|o| o.as_str().to_owned()).collect();
    let invoices: Vec<u64> = issued.invoices.iter().map(|i| i.number).collect();
    let data = events::issuance_created(
        issued.issuance_id,
        issued.booking_id,
        issued.agency_id,
        charged,
        issued.issued_at,
        &issued.tickets,
        &invoices,
        &orders,
    );
    enqueue(tx, issued.agency_id, EventType::IssuanceCreated, data, issued.issued_at).await?;
    for order in &orders {
        let data = serde_json::json!({
            "booking_order_id": order,
            "booking_id": issued.booking_id.to_string(),
            "issuance_id": issued.issuance_id.to_string(),
            "completed_at": issued.issued_at,
        });
        enqueue(tx, issued.agency_id, EventType::BookingOrderCompleted, data, issued.issued_at).await?;
    }
    Ok(())
}

/// The event of a lifecycle change, if it raises one.
pub async fn transitioned<X: WriteTx>(
    tx: &mut X,
    change: &NewTransition,
    outcome: &TransitionOutcome,
) -> TxResult<(), X> {
    let Some(event_type) = EventType::of_transition(change.from, change.to, &change.from_coupons, &change.coupons)
    else {
        return Ok(());
    };
    let mut data = match &outcome.subject {
        Subject::Ticket { number } => serde_json::json!({ "ticket_number": number.to_string() }),
        Subject::Item { order, item } => {
            serde_json::json!({ "booking_order_id": order.as_str(), "order_item_id": item.to_string() })
        }
    };
    data["booking_id"] = change.booking_id.to_string().into();
    data["agency_id"] = change.agency_id.to_string().into();
    data["status"] = change.to.as_str().into();
    data["previous_status"] = change.from.as_str().into();
    data["at"] = serde_json::json!(change.at);
    if event_type == EventType::CouponUsed {
        data["coupons"] = serde_json::json!(events::newly_used(&change.from_coupons, &change.coupons));
    }
    if let Some(ledger) = &outcome.ledger {
        data["amount"] = ledger.amount.amount_string().into();
        data["currency"] = ledger.amount.currency().code().into();
    }
    if let Some(penalty) = &change.pending_penalty {
        data["pending_penalty"] = penalty.amount_string().into();
    }
    if let Some(invoice) = &outcome.invoice {
        data["invoice"] = invoice.number.into();
    }
    if let Some(ticket) = &outcome.reissued {
        data["new_ticket"] = events::ticket_data(ticket);
    }
    enqueue(tx, change.agency_id, event_type, data, change.at).await?;
    Ok(())
}

/// `balance.low` when a ledger entry took the agency's balance below its threshold (read with the balance).
pub async fn after_ledger<X: WriteTx>(tx: &mut X, entry: &LedgerEntry, threshold: Option<i64>) -> TxResult<(), X> {
    let Some(threshold) = threshold else { return Ok(()) };
    if events::crosses_low_balance(entry, threshold) {
        let threshold = Money::from_minor(threshold, entry.balance_after.currency());
        let data = events::balance_low(entry, &threshold);
        enqueue(tx, entry.agency_id, EventType::BalanceLow, data, entry.created_at).await?;
    }
    Ok(())
}
