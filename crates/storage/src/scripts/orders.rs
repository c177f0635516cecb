//! Bookings with their orders, an order item's distribution channel, and documents replacing their owner's.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use tessera_core::booking::{Booking, DistributionChannel};
use tessera_core::ids::AgencyId;
use tessera_core::orders::{BookingOrder, BookingOrderId, OrderItemId};
use tessera_core::user::Scope;

use super::idempotency::record_effect;
use super::{run, TxResult};
use crate::group::Writer;
use crate::{Backend, NewAuditEntry, NewDocument, Result, StorageError, WriteTx};

/// Stores a booking, its orders and its audit entry together. Reads scope orders through their booking, so an
/// order filed under another booking or agency would be shown to the wrong people: such a call stores nothing.
pub async fn insert_booking<X: WriteTx + 'static>(
    writer: &Writer<X>,
    booking: &Booking,
    orders: &[BookingOrder],
    audit: Option<&NewAuditEntry>,
) -> Result<()> {
    if let Some(stray) = orders.iter().find(|o| o.booking_id != booking.id || o.agency_id != booking.agency_id) {
        let what = format!("booking order {} does not belong to booking {}", stray.id, booking.id);
        return Err(StorageError::Backend(what));
    }
    let all = Arc::new((booking.clone(), orders.to_vec(), audit.cloned()));
    writer
        .run(move |tx| {
            let all = all.clone();
            Box::pin(async move {
                let (booking, orders, audit) = &*all;
                tx.insert_booking(booking, orders).await?;
                if let Some(entry) = audit {
                    tx.insert_audit(entry).await?;
                }
                record_effect(tx, || serde_json::json!({ "booking": booking.id.to_string() })).await
            })
        })
        .await
}

/// [`crate::Database::append_audit`], in the next group commit of `writer`: an audit entry written on its own
/// (a booking taken in, a refusal) costs no flush of its own.
pub async fn append_audit<X: WriteTx + 'static>(writer: &Writer<X>, entry: &NewAuditEntry) -> Result<()> {
    let entry = Arc::new(entry.clone());
    writer
        .run(move |tx| {
            let entry = entry.clone();
            Box::pin(async move { tx.insert_audit(&entry).await })
        })
        .await
}

/// [`crate::Database::fill_documents`]: records the rendered files of documents an issuance stored as
/// pending, in the next group commit. A document no longer pending (a read rendered it first, or a lifecycle
/// change replaced it) is left as it is.
pub async fn fill_documents<X: WriteTx + 'static>(
    writer: &Writer<X>,
    agency: AgencyId,
    documents: &[NewDocument],
) -> Result<()> {
    if documents.iter().any(NewDocument::is_pending) {
        return Err(StorageError::Backend("a document filled in without its file".into()));
    }
    let documents = Arc::new(documents.to_vec());
    writer
        .run(move |tx| {
            let documents = documents.clone();
            Box::pin(async move { tx.fill_documents(agency, &documents).await })
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
