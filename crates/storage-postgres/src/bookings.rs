//! Bookings: read back within a [`Scope`]; inserted with their orders by
//! [`tessera_storage::scripts::insert_booking`] and flipped to `ticketed` by the issuance script.
//!
//! The structured detail is kept as JSONB (the serde form of [`tessera_core::booking::BookingDetail`]); the
//! columns beside it (`code`, `status`, `agency_id`, `created_by`) are the ones queries filter on.

use sqlx::PgPool;
use tessera_core::booking::Booking;
use tessera_core::ids::BookingId;
use tessera_core::user::Scope;
use tessera_storage::BookingFilter;

use crate::error::Result;
use crate::{rows, ScopeParams};

const COLUMNS: &str = "id, agency_id, kind, code, status, created_by, created_at, detail";
/// The scope filter on `bookings`, with the agency in `$1` and the customer in `$2`.
const IN_SCOPE: &str = "($1::uuid IS NULL OR agency_id = $1) AND ($2::uuid IS NULL OR created_by = $2)";
/// Used when a caller asks for no limit.
const DEFAULT_LIMIT: i64 = 50;

pub(crate) async fn get(pool: &PgPool, scope: Scope, id: BookingId) -> Result<Option<Booking>> {
    let s = ScopeParams::of(scope);
    let row = sqlx::query(&format!("SELECT {COLUMNS} FROM bookings WHERE {IN_SCOPE} AND id = $3"))
        .bind(s.agency)
        .bind(s.customer)
        .bind(id.0)
        .fetch_optional(pool)
        .await?;
    row.as_ref().map(rows::booking).transpose()
}

pub(crate) async fn find_by_code(pool: &PgPool, scope: Scope, code: &str) -> Result<Option<Booking>> {
    let s = ScopeParams::of(scope);
    // Codes are unique per agency only: an admin looking across agencies gets the oldest match.
    let row =
        sqlx::query(&format!("SELECT {COLUMNS} FROM bookings WHERE {IN_SCOPE} AND code = $3 ORDER BY id LIMIT 1"))
            .bind(s.agency)
            .bind(s.customer)
            .bind(code)
            .fetch_optional(pool)
            .await?;
    row.as_ref().map(rows::booking).transpose()
}

pub(crate) async fn list(pool: &PgPool, scope: Scope, filter: &BookingFilter) -> Result<Vec<Booking>> {
    let s = ScopeParams::of(scope);
    let limit = if filter.limit == 0 { DEFAULT_LIMIT } else { i64::from(filter.limit) };
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM bookings WHERE {IN_SCOPE} \
           AND ($3::text IS NULL OR code = $3) \
           AND ($4::text IS NULL OR status = $4) \
           AND ($5::uuid IS NULL OR id > $5) \
         ORDER BY id LIMIT $6"
    ))
    .bind(s.agency)
    .bind(s.customer)
    .bind(filter.pnr.as_deref())
    .bind(filter.status.map(|st| st.as_str()))
    .bind(filter.after.map(|a| a.0))
    .bind(limit)
    .fetch_all(pool)
    .await?;
    rows.iter().map(rows::booking).collect()
}
