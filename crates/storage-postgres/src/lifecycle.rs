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

use sqlx::PgPool;
use tessera_core::ids::BookingId;
use tessera_core::invoice::Invoice;
use tessera_core::orders::{BookingOrderId, DownloadItemId};
use tessera_core::user::Scope;

use crate::error::{corrupt, Result};
use crate::rows::{self, INVOICE_COLUMNS};
use crate::ScopeParams;

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
