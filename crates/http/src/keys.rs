//! The public keys scanners verify gate payloads with: `GET /.well-known/tessera-keys.json`, a JWKS (RFC 7517,
//! Ed25519 keys as in RFC 8037). Public and unauthenticated; cached briefly so a rotation reaches scanners soon.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};

use crate::native::ApiError;
use crate::AppState;

pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/.well-known/tessera-keys.json", get(jwks))
}

async fn jwks(State(state): State<AppState>) -> Result<Response, ApiError> {
    let keys = state.app.jwks().await?;
    Ok(([(header::CACHE_CONTROL, "public, max-age=300")], Json(keys)).into_response())
}
