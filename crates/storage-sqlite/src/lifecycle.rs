//! Reads the lifecycle needs: a booking's invoices, the order holding a download item. Transitions
//! themselves are [`tessera_storage::scripts::transition`], run on [`crate::tx`].

use sqlx::{QueryBuilder, Sqlite, SqlitePool};
use tessera_core::ids::BookingId;
use tessera_core::invoice::Invoice;
use tessera_core::orders::{BookingOrderId, DownloadItemId};
use tessera_core::user::Scope;

use crate::rows::{self, qualified, INVOICE_COLUMNS};
use crate::{push_scope, Result};
use tessera_storage::decode::corrupt;

pub(crate) async fn invoices_of_booking(pool: &SqlitePool, scope: Scope, booking: BookingId) -> Result<Vec<Invoice>> {
    let mut query: QueryBuilder<'_, Sqlite> = QueryBuilder::new(format!(
        "SELECT {} FROM invoices i JOIN bookings b ON b.id = i.booking_id WHERE i.booking_id = ",
        qualified(INVOICE_COLUMNS, "i")
    ));
    query.push_bind(booking.to_string());
    push_scope(&mut query, scope, "b.agency_id", "b.created_by");
    // One booking's invoices are one agency's, whose numbers grow with time.
    query.push(" ORDER BY i.number");
    let rows = query.build().fetch_all(pool).await?;
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
    let order: Option<String> = query.build_query_scalar().fetch_optional(pool).await?;
    Ok(order.as_deref().map(BookingOrderId::parse).transpose().map_err(|e| corrupt("order_id", e))?)
}
