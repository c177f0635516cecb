//! Tickets and their documents: `GET /api/v1/tickets/{number}`, PDFs of tickets and issuances, signed links.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Json;
use tessera_app::AppError;
use tessera_core::codes::TicketNumber;
use tessera_storage::DocumentOwner;

use super::error::Problem;
use super::extract::{Auth, NativePath};
use super::issuance::parse_issuance_id;
use super::wire::{LinkBody, PdfFile, TicketBody};
use super::ApiError;
use crate::download::file_response;
use crate::meta::RequestMeta;
use crate::AppState;

fn parse_number(text: &str) -> Result<TicketNumber, AppError> {
    TicketNumber::parse(text).map_err(|_| AppError::NotFound("ticket"))
}

#[utoipa::path(get, path = "/api/v1/tickets/{number}", tag = "tickets",
    params(("number" = String, Path, description = "13 digits, with or without the dash after the prefix")),
    responses((status = 200, body = TicketBody), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get(
    State(state): State<AppState>,
    Auth(who): Auth,
    NativePath(number): NativePath<String>,
) -> Result<Json<TicketBody>, ApiError> {
    let (ticket, invoices) = state.app.ticket_with_invoices(&who, &parse_number(&number)?).await?;
    let mut body = TicketBody::from(&ticket);
    body.invoices = Some(invoices.iter().map(super::wire::InvoiceBody::from).collect());
    Ok(Json(body))
}

async fn send(
    state: &AppState,
    who: &tessera_app::Principal,
    meta: RequestMeta,
    owner: DocumentOwner,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    let download = state.app.document(who, &owner).await?;
    state.app.audit_download(meta.actor(Some(who)), &download.record, "api").await;
    Ok(file_response(download, headers))
}

#[utoipa::path(get, path = "/api/v1/tickets/{number}/pdf", tag = "tickets",
    params(("number" = String, Path)),
    responses((status = 200, content_type = "application/pdf", body = PdfFile, description = "the e-ticket; ETag is its SHA-256"), (status = 304, description = "not modified: the `If-None-Match` ETag is current"), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn ticket_pdf(
    State(state): State<AppState>,
    Auth(who): Auth,
    meta: RequestMeta,
    NativePath(number): NativePath<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    send(&state, &who, meta, DocumentOwner::Ticket(parse_number(&number)?), &headers).await
}

#[utoipa::path(get, path = "/api/v1/issuances/{id}/pdf", tag = "issuance",
    params(("id" = String, Path, description = "ticketReferenceID")),
    responses((status = 200, content_type = "application/pdf", body = PdfFile, description = "every passenger's e-ticket in one PDF"), (status = 304, description = "not modified: the `If-None-Match` ETag is current"), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn issuance_pdf(
    State(state): State<AppState>,
    Auth(who): Auth,
    meta: RequestMeta,
    NativePath(id): NativePath<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    send(&state, &who, meta, DocumentOwner::Issuance(parse_issuance_id(&id)?), &headers).await
}

async fn link(
    state: &AppState,
    who: &tessera_app::Principal,
    owner: DocumentOwner,
) -> Result<(StatusCode, Json<LinkBody>), ApiError> {
    let link = state.app.document_link(who, owner).await?;
    Ok((StatusCode::CREATED, Json(LinkBody { url: link.url, expires_at: link.expires_at })))
}

#[utoipa::path(post, path = "/api/v1/tickets/{number}/link", tag = "tickets", params(("number" = String, Path)),
    responses((status = 201, body = LinkBody, description = "a signed link that needs no credentials until it expires"), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn ticket_link(
    State(state): State<AppState>,
    Auth(who): Auth,
    NativePath(number): NativePath<String>,
) -> Result<(StatusCode, Json<LinkBody>), ApiError> {
    link(&state, &who, DocumentOwner::Ticket(parse_number(&number)?)).await
}

#[utoipa::path(post, path = "/api/v1/issuances/{id}/link", tag = "issuance", params(("id" = String, Path)),
    responses((status = 201, body = LinkBody), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn issuance_link(
    State(state): State<AppState>,
    Auth(who): Auth,
    NativePath(id): NativePath<String>,
) -> Result<(StatusCode, Json<LinkBody>), ApiError> {
    link(&state, &who, DocumentOwner::Issuance(parse_issuance_id(&id)?)).await
}
