//! The issuance: the one transaction that turns a confirmed booking into numbered tickets, where money,
//! ticket and invoice numbers and booking state change together.
//!
//! Locks are taken in one order — the booking row, then the agency row (the debit), then the
//! `ticket_serials` rows in sorted prefix order, then the agency's `invoice_serials` row, then the booking's
//! orders (completed) — so two issuances cannot wait on each other in a cycle. Concurrent attempts on one
//! booking queue on the booking row; the first commits `ticketed` and the rest, reading the status after the
//! lock, fail with [`StorageError::BookingNotConfirmed`].

use std::sync::Arc;

use tessera_core::booking::BookingStatus;
use tessera_core::ledger::LedgerKind;
use tessera_core::ticket::Ticket;

use super::idempotency::record_effect;
use super::{post, take_invoice_numbers, take_ticket_numbers, TxResult};
use crate::group::Writer;
use crate::{
    covering_issued, DocumentSink, IssuanceRecord, IssuedTickets, NewAuditEntry, NewDocument, NewIssuance,
    NewLedgerEntry, Result, StorageError, WriteTx,
};

/// [`crate::Database::issue`]: [`issue_in`] in the next group commit of `writer`.
pub async fn issue<X: WriteTx + 'static>(
    writer: &Writer<X>,
    issuance: &NewIssuance,
    sink: Arc<dyn DocumentSink>,
) -> Result<IssuanceRecord> {
    let issuance = Arc::new(issuance.clone());
    writer
        .run(move |tx| {
            let (issuance, sink) = (issuance.clone(), sink.clone());
            Box::pin(async move {
                let record = issue_in(tx, &issuance, sink.as_ref()).await?;
                record_effect(tx, || serde_json::json!({ "issuance": issuance.id.to_string() })).await?;
                Ok(record)
            })
        })
        .await
}

/// Numbers the issuance, lets `sink` name its documents and records it all. An error leaves the
/// transaction for the caller to drop, which rolls everything back.
pub async fn issue_in<X: WriteTx>(
    tx: &mut X,
    issuance: &NewIssuance,
    sink: &dyn DocumentSink,
) -> TxResult<IssuanceRecord, X> {
    let issued = number(tx, issuance).await?;
    // Named, not rendered: the files are rendered after the commit, off every lock (see the sink's docs).
    let documents = sink.produce(&issued).await.map_err(StorageError::Documents)?;
    record(tx, issuance, &issued, &documents).await
}

/// Checks the booking, debits the agency and draws the ticket and invoice numbers.
async fn number<X: WriteTx>(tx: &mut X, issuance: &NewIssuance) -> TxResult<IssuedTickets, X> {
    let draft = &issuance.draft;
    // 1. The booking row's lock serializes every issuance attempt of this booking.
    let status = tx.lock_booking(draft.agency_id, draft.booking_id).await?.ok_or(StorageError::NotFound)?;
    if status != BookingStatus::Confirmed {
        return Err(StorageError::BookingNotConfirmed(status).into());
    }

    // 2. The debit, within the credit limit; the agency row stays locked, so balance and ledger move together.
    let debit = NewLedgerEntry {
        agency_id: draft.agency_id,
        kind: LedgerKind::IssuanceDebit,
        amount: draft.payable.negate(),
        issuance_id: Some(issuance.id),
        note: None,
        created_at: issuance.issued_at,
    };
    post(tx, &debit).await?;

    // 3. Ticket numbers.
    let numbers = take_ticket_numbers(tx, &draft.tickets).await?;
    let tickets: Vec<Ticket> = draft
        .tickets
        .iter()
        .cloned()
        .zip(numbers)
        .map(|(d, number)| {
            Ticket::from_draft(d, number, issuance.id, draft.booking_id, draft.agency_id, issuance.issued_at)
        })
        .collect();

    // 4. Invoice numbers; a flight invoice lists the ticket numbers just drawn.
    let drafts = covering_issued(&draft.invoices, &tickets);
    let invoices = take_invoice_numbers(tx, draft.agency_id, drafts, issuance.issued_at).await?;
    Ok(IssuedTickets {
        issuance_id: issuance.id,
        booking_id: draft.booking_id,
        agency_id: draft.agency_id,
        issued_at: issuance.issued_at,
        tickets,
        invoices,
    })
}

/// Stores the issuance, its tickets, documents and invoices, delivers the orders, marks the booking ticketed
/// and appends the audit entry.
async fn record<X: WriteTx>(
    tx: &mut X,
    issuance: &NewIssuance,
    issued: &IssuedTickets,
    documents: &[NewDocument],
) -> TxResult<IssuanceRecord, X> {
    let draft = &issuance.draft;
    let record = IssuanceRecord {
        id: issuance.id,
        booking_id: draft.booking_id,
        agency_id: draft.agency_id,
        amount_charged: draft.payable,
        commission: draft.commission,
        issued_at: issuance.issued_at,
        issued_by: issuance.actor.user_id,
        attributes: issuance.attributes.clone(),
    };
    tx.insert_issuance(&record).await?;
    tx.insert_tickets(&issued.tickets, 0).await?;
    tx.insert_documents(draft.agency_id, documents, issuance.issued_at).await?;
    tx.insert_invoices(&issued.invoices).await?;
    // An event booking's orders are delivered with their invoices; a flight invoice has no order.
    if issued.invoices.iter().any(|i| i.draft.order_id.is_some()) {
        tx.complete_orders(draft.booking_id).await?;
    }
    tx.set_booking_status(draft.booking_id, BookingStatus::Ticketed).await?;
    tx.insert_audit(&NewAuditEntry {
        agency_id: Some(draft.agency_id),
        actor: issuance.actor.clone(),
        action: "issuance.create".into(),
        booking_id: Some(draft.booking_id),
        ticket_number: None,
        issuance_id: Some(issuance.id),
        outcome: "success".into(),
        detail: serde_json::json!({
            "tickets": issued.tickets.iter().map(|t| t.number.compact()).collect::<Vec<_>>(),
            "invoices": issued.invoices.iter().map(|i| i.number).collect::<Vec<_>>(),
            "amount": draft.payable.amount_string(),
            "currency": draft.payable.currency().code(),
            "attributes": issuance.attributes,
        }),
        created_at: issuance.issued_at,
    })
    .await?;
    super::webhooks::issued(tx, issued, &draft.payable).await?;
    Ok(record)
}
