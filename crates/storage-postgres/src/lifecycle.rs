//! Reads the lifecycle needs: a booking's invoices, the order holding a download item. Transitions
//! themselves, with their lock order, are [`tessera_storage::scripts::transition`], run on [`crate::tx`].

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
