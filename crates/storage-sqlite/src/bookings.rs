//! Bookings: stored as a few queryable columns (agency, code, status, creator) plus the full booking detail as
//! JSON, which is what issuance and documents read back.
//!
//! Every read takes a [`Scope`] and applies it in SQL, so a booking of another agency, or of another
//! customer, is simply not found.

use sqlx::{QueryBuilder, Row, Sqlite, SqlitePool};
use tessera_core::booking::{Booking, BookingDetail};
use tessera_core::ids::BookingId;
use tessera_core::search;
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
    if let Some(name) = &filter.name {
        query.push(" AND search_names LIKE ").push_bind(search::contains_pattern(name)).push(" ESCAPE '\\'");
    }
    if let Some(from) = filter.travel_from {
        query.push(" AND travel_date >= ").push_bind(from.to_string());
    }
    if let Some(to) = filter.travel_to {
        query.push(" AND travel_date <= ").push_bind(to.to_string());
    }
    let sort = filter.sort;
    let (after, order) = if sort.descending() { (" < ", " DESC") } else { (" > ", " ASC") };
    if let Some(cursor) = filter.after {
        // Hyphenated lower-case UUIDs sort as text exactly as the UUIDs sort as bytes; ISO dates as dates.
        match (sort.by_travel(), cursor.travel_date) {
            (true, Some(date)) => {
                query.push(" AND (travel_date, id)").push(after).push("(");
                query.push_bind(date.to_string()).push(", ").push_bind(cursor.id.to_string()).push(")");
            }
            _ => {
                query.push(" AND id").push(after).push_bind(cursor.id.to_string());
            }
        }
    }
    if sort.by_travel() {
        query.push(" ORDER BY travel_date").push(order).push(", id").push(order);
    } else {
        query.push(" ORDER BY id").push(order);
    }
    let limit = if filter.limit == 0 { DEFAULT_LIMIT } else { filter.limit };
    query.push(" LIMIT ").push_bind(i64::from(limit));
    let rows = query.build().fetch_all(pool).await?;
    rows.iter().map(rows::booking).collect()
}

/// Fills the search columns of bookings stored before they existed, a batch at a time; new bookings get them
/// when inserted. A detail that no longer parses gets empty names, so it is not read again.
pub(crate) async fn fill_search_columns(pool: &SqlitePool) -> Result<u64> {
    let mut filled = 0;
    loop {
        let rows =
            sqlx::query("SELECT id, detail FROM bookings WHERE search_names IS NULL LIMIT 500").fetch_all(pool).await?;
        if rows.is_empty() {
            return Ok(filled);
        }
        let mut tx = crate::begin_write(pool).await?;
        for row in &rows {
            let id: String = row.try_get("id")?;
            let detail: String = row.try_get("detail")?;
            let detail = serde_json::from_str::<BookingDetail>(&detail).ok();
            let names = detail.as_ref().map(search::names).unwrap_or_default();
            let travel = detail.as_ref().and_then(search::travel_date).map(|d| d.to_string());
            sqlx::query("UPDATE bookings SET search_names = ?, travel_date = ? WHERE id = ?")
                .bind(names)
                .bind(travel)
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        filled += rows.len() as u64;
    }
}
