//! Extractors of the native profile: the authenticated caller, and JSON bodies whose problems answer as
//! structured 422s (with a JSON pointer) or 413, never as plain-text rejections.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use tessera_app::{AppError, Principal};
use tessera_core::intake::ValidationErrors;

use super::ApiError;
use crate::auth::authenticate;
use crate::AppState;

/// The authenticated caller.
pub struct Auth(pub Principal);

impl FromRequestParts<AppState> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        Ok(Self(authenticate(&state.app, &parts.headers).await?))
    }
}

/// A request body read whole, refused with 413 past the configured limit, 415 when it has content not declared
/// as JSON, and 422 when a string in it holds a control character (`edge::screen_json`).
pub struct Body(pub Bytes);

impl FromRequest<AppState> for Body {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let headers = req.headers().clone();
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                ApiError(AppError::PayloadTooLarge)
            } else {
                ApiError(AppError::Validation(ValidationErrors::single("", "the body could not be read")))
            }
        })?;
        crate::edge::screen_json(&headers, &bytes)?;
        Ok(Body(bytes))
    }
}

/// A JSON body parsed into `T`; a type error or unknown field answers 422 naming the field.
pub struct ValidJson<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for ValidJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let Body(bytes) = Body::from_request(req, state).await?;
        parse_json(&bytes).map(ValidJson)
    }
}

pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let bytes = if bytes.iter().all(u8::is_ascii_whitespace) { b"{}".as_slice() } else { bytes };
    let mut de = serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let mut pointer = crate::extract::pointer(e.path());
        let reason = crate::extract::in_words(e.inner());
        // A missing field is named by its own pointer, not its parent's.
        if let Some(field) = reason.strip_prefix("missing field `").and_then(|r| r.split('`').next()) {
            pointer = format!("{pointer}/{}", crate::edge::escape(field));
        }
        ApiError(AppError::Validation(ValidationErrors::single(pointer, reason)))
    })
}

/// Query parameters parsed into `T`; a malformed value answers 422 naming the parameter.
pub struct ValidQuery<T>(pub T);

impl<T: DeserializeOwned + Send> FromRequestParts<AppState> for ValidQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state).await.map(|q| ValidQuery(q.0)).map_err(|e| {
            // The rejection text names the parameter and the problem ("limit: invalid digit found in string").
            let text = e.body_text();
            let detail = crate::extract::text_in_words(text.trim_start_matches("Failed to deserialize query string: "));
            // The pointer names the parameter, so the reason need not repeat it.
            let (pointer, reason) = match detail.split_once(": ") {
                Some((field, reason)) => (format!("/query/{}", crate::edge::escape(field.trim())), reason.to_owned()),
                None => (String::new(), detail),
            };
            ApiError(AppError::Validation(ValidationErrors::single(pointer, reason)))
        })
    }
}

/// Path parameters; a segment that cannot be decoded (invalid UTF-8) cannot name anything, so it answers 404
/// in the native envelope instead of axum's plain-text 400.
pub struct NativePath<T>(pub T);

impl<T: DeserializeOwned + Send> FromRequestParts<AppState> for NativePath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|p| NativePath(p.0))
            .map_err(|_| ApiError(AppError::NotFound("resource")))
    }
}

/// A page size from 1 to `MAX`: outside that range (0, 201, `1e6`, text) the request is refused with 422
/// naming `/query/limit`, never silently clamped.
#[derive(Debug, Clone, Copy)]
pub struct Limit<const MAX: u32>(pub u32);

impl<'de, const MAX: u32> serde::Deserialize<'de> for Limit<MAX> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse::<u32>()
            .ok()
            .filter(|n| (1..=MAX).contains(n))
            .map(Limit)
            .ok_or_else(|| serde::de::Error::custom(format!("must be a whole number from 1 to {MAX}")))
    }
}
