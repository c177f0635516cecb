//! Carrier badges at `/logos/{code}.svg`: the default target of `carrierLogo` links, so a fresh installation's
//! links resolve to an image. Operators with real artwork point `--carrier-logo-url` at their CDN instead.

use axum::extract::Path;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use tessera_core::codes::CarrierCode;

use crate::AppState;

pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/logos/{file}", get(logo))
}

async fn logo(Path(file): Path<String>) -> Response {
    let Some(code) = file.strip_suffix(".svg").and_then(|c| CarrierCode::parse(c).ok()) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    // The code is two characters A-Z0-9, so it is safe to place in the markup as is.
    let svg = format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64" viewBox="0 0 64 64"><rect width="64" height="64" rx="12" fill="#1f3a5f"/><text x="32" y="41" font-family="DejaVu Sans, Arial, sans-serif" font-size="24" font-weight="bold" fill="#fff" text-anchor="middle">{code}</text></svg>"##
    );
    ([(header::CONTENT_TYPE, "image/svg+xml"), (header::CACHE_CONTROL, "public, max-age=86400")], svg).into_response()
}
