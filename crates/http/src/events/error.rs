//! The events profile's errors: `{"error": "<code>", "message": "<text>"}` with a fitting status. The seed
//! documents no error bodies, so this shape is ours (see docs/api.md); codes are shared with the native profile.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;
use tessera_app::AppError;

use crate::native::classify;

#[derive(Debug)]
pub enum EventsError {
    App(AppError),
    /// A query the listing cannot read (`in:[…]` malformed, a page out of range, ...).
    BadRequest(String),
    /// Over the credential's rate limit; retry after this many seconds.
    RateLimited(u64),
}

impl<E: Into<AppError>> From<E> for EventsError {
    fn from(e: E) -> Self {
        Self::App(e.into())
    }
}

impl IntoResponse for EventsError {
    fn into_response(self) -> Response {
        let (status, code, message, retry_after) = match self {
            Self::BadRequest(message) => (StatusCode::BAD_REQUEST, "bad_request", message, None),
            Self::RateLimited(secs) => (
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                format!("Too many requests; retry in {secs} s"),
                Some(secs),
            ),
            Self::App(e) => {
                let (status, code) = classify(&e);
                let message = match &e {
                    AppError::Internal(detail)
                    | AppError::DocumentGeneration(detail)
                    | AppError::DocumentUnavailable(detail) => {
                        tracing::error!(error = %detail, "events request failed");
                        e.to_string()
                    }
                    AppError::NotFound(what) => format!("{} not found", capitalized(what)),
                    other => other.to_string(),
                };
                (status, code, message, None)
            }
        };
        let mut response = (status, Json(json!({"error": code, "message": message}))).into_response();
        if let Some(v) = retry_after.and_then(|secs| HeaderValue::from_str(&secs.to_string()).ok()) {
            response.headers_mut().insert(header::RETRY_AFTER, v);
        }
        response
    }
}

fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}
