//! Apple Wallet passes beside the tickets' PDFs: `GET /api/v1/tickets/{number}/coupons/{coupon}/pkpass` for a
//! flight coupon, `GET /api/v1/booking-orders/{order}/items/{item}/downloads/{n}/pkpass` for one PDF of an event
//! ticket; and beside each, `.../google-wallet`, a "Save to Google Wallet" link. Without configured credentials
//! they answer 501 `wallet_not_configured`.

use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use tessera_app::wallet::{WalletPass, PKPASS};
use tessera_app::AppError;
use tessera_core::codes::TicketNumber;
use utoipa::ToSchema;

use super::error::Problem;
use super::extract::{Auth, NativePath};
use super::wire::PdfFile;
use super::ApiError;
use crate::AppState;

fn send(pass: WalletPass) -> Response {
    let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{}\"", pass.filename))
        .unwrap_or(HeaderValue::from_static("attachment"));
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(PKPASS)),
            (header::CONTENT_DISPOSITION, disposition),
            (header::CACHE_CONTROL, HeaderValue::from_static("private, no-store")),
        ],
        pass.bytes,
    )
        .into_response()
}

fn number(text: &str) -> Result<u32, AppError> {
    text.parse().map_err(|_| AppError::NotFound("coupon"))
}

#[utoipa::path(get, path = "/api/v1/tickets/{number}/coupons/{coupon}/pkpass", tag = "tickets",
    params(("number" = String, Path, description = "13 digits, with or without the dash after the prefix"),
        ("coupon" = String, Path, description = "the coupon number, from 1")),
    responses((status = 200, content_type = "application/vnd.apple.pkpass", body = PdfFile, description = "an Apple Wallet boarding pass (signed zip)"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 501, body = Problem, content_type = "application/problem+json", description = "Apple Wallet is not configured on this server")))]
pub async fn coupon_pkpass(
    State(state): State<AppState>,
    Auth(who): Auth,
    NativePath((ticket, coupon)): NativePath<(String, String)>,
) -> Result<Response, ApiError> {
    let ticket = TicketNumber::parse(&ticket).map_err(|_| AppError::NotFound("ticket"))?;
    Ok(send(state.app.coupon_pkpass(&who, &ticket, number(&coupon)?).await?))
}

#[utoipa::path(get, path = "/api/v1/booking-orders/{order}/items/{item}/downloads/{n}/pkpass", tag = "tickets",
    params(("order" = String, Path), ("item" = String, Path), ("n" = String, Path, description = "which PDF of the ticket, from 1")),
    responses((status = 200, content_type = "application/vnd.apple.pkpass", body = PdfFile, description = "an Apple Wallet event ticket (signed zip)"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 501, body = Problem, content_type = "application/problem+json", description = "Apple Wallet is not configured on this server")))]
pub async fn event_pkpass(
    State(state): State<AppState>,
    Auth(who): Auth,
    NativePath((order, item, n)): NativePath<(String, String, String)>,
) -> Result<Response, ApiError> {
    let n = n.parse().map_err(|_| AppError::NotFound("download item"))?;
    Ok(send(state.app.event_pkpass(&who, &order, &item, n).await?))
}

/// A "Save to Google Wallet" link.
#[derive(Serialize, ToSchema)]
pub struct GoogleWalletLink {
    /// `https://pay.google.com/gp/v/save/<JWT>`: opening it adds the pass to the user's Google Wallet.
    pub url: String,
}

#[utoipa::path(get, path = "/api/v1/tickets/{number}/coupons/{coupon}/google-wallet", tag = "tickets",
    params(("number" = String, Path, description = "13 digits, with or without the dash after the prefix"),
        ("coupon" = String, Path, description = "the coupon number, from 1")),
    responses((status = 200, body = GoogleWalletLink, description = "a Save to Google Wallet link of the boarding pass"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 501, body = Problem, content_type = "application/problem+json", description = "Google Wallet is not configured on this server")))]
pub async fn coupon_google(
    State(state): State<AppState>,
    Auth(who): Auth,
    NativePath((ticket, coupon)): NativePath<(String, String)>,
) -> Result<Json<GoogleWalletLink>, ApiError> {
    let ticket = TicketNumber::parse(&ticket).map_err(|_| AppError::NotFound("ticket"))?;
    let url = state.app.coupon_google_link(&who, &ticket, number(&coupon)?).await?;
    Ok(Json(GoogleWalletLink { url }))
}

#[utoipa::path(get, path = "/api/v1/booking-orders/{order}/items/{item}/downloads/{n}/google-wallet", tag = "tickets",
    params(("order" = String, Path), ("item" = String, Path), ("n" = String, Path, description = "which PDF of the ticket, from 1")),
    responses((status = 200, body = GoogleWalletLink, description = "a Save to Google Wallet link of the event ticket"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 501, body = Problem, content_type = "application/problem+json", description = "Google Wallet is not configured on this server")))]
pub async fn event_google(
    State(state): State<AppState>,
    Auth(who): Auth,
    NativePath((order, item, n)): NativePath<(String, String, String)>,
) -> Result<Json<GoogleWalletLink>, ApiError> {
    let n = n.parse().map_err(|_| AppError::NotFound("download item"))?;
    let url = state.app.event_google_link(&who, &order, &item, n).await?;
    Ok(Json(GoogleWalletLink { url }))
}
