//! Bookings: stored as a few queryable columns (agency, code, status, creator) plus the full booking detail as
//! JSON, which is what issuance and documents read back.
//!
//! Every read takes a [`Scope`] and applies it in SQL, so a booking of another agency, or of another
//! customer, is simply not found.

use sqlx::{QueryBuilder, Sqlite, SqlitePool};
use tessera_core::booking::Booking;
use tessera_core::ids::BookingId;
use tessera_core::user::Scope;
use tessera_storage::BookingFilter;

use crate::rows::{self, BOOKING_COLUMNS};
use crate::{push_scope, Result};

/// What `limit: 0` means: the caller did not ask, so a page of reasonable size.
const DEFAULT_LIMIT: u32 = 50;

fn select(scope: Scope) -> QueryBuilder<'static, Sqlite> {
    let mut query = QueryBuilder::new(format!("SELECT {BOOKING_COLUMNS} FROM bookings WHERE 1 = 1"));
    push_scope(&mut query, scope, "agency_id", "created_by");
    query
}

pub(crate) async fn get_booking(pool: &SqlitePool, scope: Scope, id: BookingId) -> Result<Option<Booking>> {
    let mut query = select(scope);
    query.push(" AND id = ").push_bind(id.to_string());
    let row = query.build().fetch_optional(pool).await?;
    row.as_ref().map(rows::booking).transpose()
}

pub(crate) async fn find_booking_by_code(pool: &SqlitePool, scope: Scope, code: &str) -> Result<Option<Booking>> {
    let mut query = select(scope);
    // Codes are unique per agency only; with Scope::All the oldest booking wins, deterministically.
    query.push(" AND code = ").push_bind(code.to_owned()).push(" ORDER BY id LIMIT 1");
    let row = query.build().fetch_optional(pool).await?;
    row.as_ref().map(rows::booking).transpose()
}

pub(crate) async fn list_bookings(pool: &SqlitePool, scope: Scope, filter: &BookingFilter) -> Result<Vec<Booking>> {
    let mut query = select(scope);
    if let Some(pnr) = &filter.pnr {
        query.push(" AND code = ").push_bind(pnr.clone());
    }
    if let Some(status) = filter.status {
        query.push(" AND status = ").push_bind(status.as_str());
    }
    if let Some(after) = filter.after {
        // Hyphenated lower-case UUIDs sort as text exactly as the UUIDs sort as bytes.
        query.push(" AND id > ").push_bind(after.to_string());
    }
    let limit = if filter.limit == 0 { DEFAULT_LIMIT } else { filter.limit };
    query.push(" ORDER BY id LIMIT ").push_bind(i64::from(limit));
    let rows = query.build().fetch_all(pool).await?;
    rows.iter().map(rows::booking).collect()
}
