//! Files of a booking order: one ticket PDF by its `download_link`, the zip bundle behind a short-lived link
//! (answered as a bare JSON string), and invoice PDFs. Every download is recorded in the access log.

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::Json;
use tessera_app::AppError;

use super::error::EventsError;
use super::Caller;
use crate::download::file_response;
use crate::meta::RequestMeta;
use crate::AppState;

/// A path segment that is not even valid UTF-8 names nothing of ours.
fn path<T>(p: Result<Path<T>, PathRejection>, what: &'static str) -> Result<T, EventsError> {
    p.map(|Path(v)| v).map_err(|_| EventsError::App(AppError::NotFound(what)))
}

pub async fn ticket(
    State(state): State<AppState>,
    Caller(who): Caller,
    meta: RequestMeta,
    headers: HeaderMap,
    params: Result<Path<(String, String, String)>, PathRejection>,
) -> Result<Response, EventsError> {
    // axum has already percent-decoded the segment, so `ticket-abcde.pdf` and `ticket%2Dabcde.pdf` are one
    // link; anything else (`..`, slashes, other files) matches none of the item's links and is not found.
    let (order, item, link) = path(params, "download link")?;
    let download = state.app.download_ticket(&who, &order, &item, &link).await?;
    state.app.audit_download(meta.actor(Some(&who)), &download.record, "events_api").await;
    Ok(file_response(download, &headers))
}

pub async fn zip(
    State(state): State<AppState>,
    Caller(who): Caller,
    order: Result<Path<String>, PathRejection>,
) -> Result<Json<String>, EventsError> {
    let order = path(order, "booking order")?;
    let link = state.app.order_zip_link(&who, &order).await?;
    Ok(Json(link.url))
}

pub async fn invoice(
    State(state): State<AppState>,
    Caller(who): Caller,
    meta: RequestMeta,
    headers: HeaderMap,
    params: Result<Path<(String, String)>, PathRejection>,
) -> Result<Response, EventsError> {
    let (order, number) = path(params, "invoice")?;
    let download = state.app.invoice_pdf(&who, &order, &number).await?;
    state.app.audit_download(meta.actor(Some(&who)), &download.record, "events_api").await;
    Ok(file_response(download, &headers))
}
