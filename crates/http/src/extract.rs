//! What the vendor profiles (agent, GDS, group) take from a request, written once: the authenticated caller
//! and a JSON body. Each profile names its one error type by implementing [`Refusal`], and wraps these
//! functions in its own extractors, so a refusal always answers in that profile's envelope.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::de::DeserializeOwned;
use tessera_app::{AppError, Principal};
use tessera_core::intake::ValidationErrors;

use crate::auth::authenticate;
use crate::AppState;

/// A profile's error type, as seen by the shared extractors.
pub trait Refusal: IntoResponse + Sized {
    /// What a refusal needs to know about its request, taken before the body is read (the GDS envelope echoes
    /// the request id and time); `()` for most.
    type Context: Send;

    fn context(parts: &Parts, state: &AppState) -> Self::Context;

    fn refuse(error: AppError, context: Self::Context) -> Self;

    /// How a body that is not the profile's documented JSON is described.
    fn malformed(error: serde_json::Error) -> AppError;
}

/// The authenticated caller, or the profile's refusal (401 in its envelope).
pub async fn caller<E: Refusal>(parts: &Parts, state: &AppState) -> Result<Principal, E> {
    authenticate(&state.app, &parts.headers).await.map_err(|f| E::refuse(f.into(), E::context(parts, state)))
}

/// The body parsed as `T`; an over-limit body is [`AppError::PayloadTooLarge`] (not axum's plain-text 413), any
/// other problem is the profile's [`Refusal::malformed`].
pub async fn json<E: Refusal, T: DeserializeOwned>(req: Request, state: &AppState) -> Result<T, E> {
    let (parts, body) = req.into_parts();
    let context = E::context(&parts, state);
    let read = Bytes::from_request(Request::from_parts(parts, body), state).await;
    let parsed = match read {
        Ok(bytes) => serde_json::from_slice(&bytes).map_err(E::malformed),
        Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => Err(AppError::PayloadTooLarge),
        Err(_) => Err(AppError::Validation(ValidationErrors::single("", "the body could not be read"))),
    };
    parsed.map_err(|e| E::refuse(e, context))
}
