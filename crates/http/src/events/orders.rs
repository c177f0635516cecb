//! `GET /v1/bookingorders` (filtered, paged) and `GET /v1/bookingorders/{bookingorder_id}`.

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, RawQuery, State};
use axum::Json;
use serde_json::{json, Value};

use super::error::EventsError;
use super::{query, wire, Caller};
use crate::AppState;

pub async fn list(
    State(state): State<AppState>,
    Caller(who): Caller,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, EventsError> {
    let q = query::parse(raw.as_deref())?;
    let page = state.app.list_orders(&who, &q.filter, q.page, q.page_size).await?;
    let pages = page.total.div_ceil(u64::from(q.page_size));
    let next_page = if q.page < pages { q.link(q.page + 1) } else { String::new() };
    // A page past the end links back to the last one that has orders.
    let previous_page = if q.page > 1 && pages > 0 { q.link((q.page - 1).min(pages)) } else { String::new() };
    Ok(Json(json!({
        "bookingorders": page.orders.iter().map(wire::order).collect::<Vec<_>>(),
        "pagination": {
            "total_size": page.total,
            "page_size": q.page_size,
            "page_number": q.page,
            "next_page": next_page,
            "previous_page": previous_page,
        },
    })))
}

pub async fn get(
    State(state): State<AppState>,
    Caller(who): Caller,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<wire::OrderBody>, EventsError> {
    let Path(id) = id.map_err(|_| tessera_app::AppError::NotFound("booking order"))?;
    let record = state.app.get_order(&who, &id).await?;
    Ok(Json(wire::order(&record)))
}
