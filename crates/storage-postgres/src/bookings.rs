//! Bookings: read back within a [`Scope`]; inserted with their orders by
//! [`tessera_storage::scripts::insert_booking`] and flipped to `ticketed` by the issuance script.
//!
//! The structured detail is kept as JSONB (the serde form of [`tessera_core::booking::BookingDetail`]); the
//! columns beside it (`code`, `status`, `agency_id`, `created_by`) are the ones queries filter on.

use sqlx::{PgPool, Row};
use tessera_core::booking::{Booking, BookingDetail};
use tessera_core::ids::BookingId;
use tessera_core::search;
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
    let sort = filter.sort;
    // Only fixed fragments chosen by the sort enter the SQL text; every value is bound.
    let (after, order) = if sort.descending() { ("<", "DESC") } else { (">", "ASC") };
    let (keyset, order_by) = if sort.by_travel() {
        (
            format!("($8::date IS NULL OR (travel_date, id) {after} ($8, $7))"),
            format!("travel_date {order}, id {order}"),
        )
    } else {
        (format!("($7::uuid IS NULL OR id {after} $7)"), format!("id {order}"))
    };
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM bookings WHERE {IN_SCOPE} \
           AND ($3::text IS NULL OR code = $3) \
           AND ($4::text IS NULL OR status = $4) \
           AND ($5::text IS NULL OR search_names LIKE $5 ESCAPE '\\') \
           AND ($6::date IS NULL OR travel_date >= $6) \
           AND ($9::date IS NULL OR travel_date <= $9) \
           AND ($7::uuid IS NULL OR {keyset}) \
         ORDER BY {order_by} LIMIT $10"
    ))
    .bind(s.agency)
    .bind(s.customer)
    .bind(filter.pnr.as_deref())
    .bind(filter.status.map(|st| st.as_str()))
    .bind(filter.name.as_deref().map(search::contains_pattern))
    .bind(filter.travel_from)
    .bind(filter.after.map(|a| a.id.0))
    .bind(filter.after.and_then(|a| a.travel_date))
    .bind(filter.travel_to)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    rows.iter().map(rows::booking).collect()
}

/// Fills the search columns of bookings stored before they existed, a batch at a time; new bookings get them
/// when inserted. Several nodes starting at once may fill the same rows: they write the same values. A detail
/// that no longer parses gets empty names, so it is not read again.
pub(crate) async fn fill_search_columns(pool: &PgPool) -> Result<u64> {
    let mut filled = 0;
    loop {
        let rows =
            sqlx::query("SELECT id, detail FROM bookings WHERE search_names IS NULL LIMIT 500").fetch_all(pool).await?;
        if rows.is_empty() {
            return Ok(filled);
        }
        let mut tx = pool.begin().await?;
        for row in &rows {
            let id: uuid::Uuid = row.try_get("id")?;
            let detail: serde_json::Value = row.try_get("detail")?;
            let detail = serde_json::from_value::<BookingDetail>(detail).ok();
            let names = detail.as_ref().map(search::names).unwrap_or_default();
            let travel = detail.as_ref().and_then(search::travel_date);
            sqlx::query("UPDATE bookings SET search_names = $2, travel_date = $3 WHERE id = $1")
                .bind(id)
                .bind(names)
                .bind(travel)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        filled += rows.len() as u64;
    }
}
