//! A booking's invoices: `GET /api/v1/bookings/{id}/invoices` and each one's PDF.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use axum::Json;

use super::bookings::parse_booking_id;
use super::error::Problem;
use super::extract::{Auth, NativePath};
use super::wire::{InvoiceBody, PdfFile};
use super::ApiError;
use crate::download::file_response;
use crate::meta::RequestMeta;
use crate::AppState;

#[utoipa::path(get, path = "/api/v1/bookings/{id}/invoices", tag = "bookings", params(("id" = String, Path)),
    responses((status = 200, description = "the issuance invoice, credit and exchange invoices, oldest first", body = Vec<InvoiceBody>),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn list(
    State(state): State<AppState>,
    Auth(who): Auth,
    NativePath(id): NativePath<String>,
) -> Result<Json<Vec<InvoiceBody>>, ApiError> {
    let invoices = state.app.booking_invoices(&who, parse_booking_id(&id)?).await?;
    Ok(Json(invoices.iter().map(InvoiceBody::from).collect()))
}

#[utoipa::path(get, path = "/api/v1/bookings/{id}/invoices/{number}/pdf", tag = "bookings",
    params(("id" = String, Path), ("number" = String, Path)),
    responses((status = 200, content_type = "application/pdf", body = PdfFile, description = "the invoice; ETag is its SHA-256"), (status = 304, description = "not modified: the `If-None-Match` ETag is current"), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn pdf(
    State(state): State<AppState>,
    Auth(who): Auth,
    meta: RequestMeta,
    NativePath((id, number)): NativePath<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let download = state.app.booking_invoice_pdf(&who, parse_booking_id(&id)?, &number).await?;
    state.app.audit_download(meta.actor(Some(&who)), &download.record, "api").await;
    Ok(file_response(download, &headers))
}
