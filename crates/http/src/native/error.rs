//! The native profile's error envelope: `application/problem+json` (RFC 9457) with a stable `code`.
//! This is the one place where application errors become native HTTP answers.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use tessera_app::issuing::issue_error_code;
use tessera_app::lifecycle::{first_use, lifecycle_error_code};
use tessera_app::AppError;
use tessera_core::intake::FieldError;
use tessera_core::issuance::IssueError;
use tessera_core::lifecycle::LifecycleError;
use utoipa::ToSchema;

#[derive(Debug)]
pub struct ApiError(pub AppError);

impl<E: Into<AppError>> From<E> for ApiError {
    fn from(e: E) -> Self {
        Self(e.into())
    }
}

/// An RFC 9457 problem: what every native error answers, as `application/problem+json`.
#[derive(Serialize, ToSchema)]
pub struct Problem<'a> {
    /// Always `about:blank`: the `code` says what went wrong.
    #[serde(rename = "type")]
    kind: &'static str,
    title: &'a str,
    status: u16,
    /// Stable machine name, e.g. `validation_failed`, `insufficient_balance` (docs/api.md lists them).
    code: &'a str,
    detail: String,
    /// Every offending field of a `validation_failed`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<FieldErrorBody>>)]
    errors: Option<&'a [FieldError]>,
    /// An "already used" refusal: when the first use was.
    #[serde(skip_serializing_if = "Option::is_none")]
    used_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// One offending field: an RFC 6901 JSON pointer and why.
#[derive(ToSchema)]
#[allow(dead_code)] // describes core's `FieldError` in the document
pub struct FieldErrorBody {
    pointer: String,
    reason: String,
}

/// Status and stable code for every application error.
pub(crate) fn classify(e: &AppError) -> (StatusCode, &'static str) {
    match e {
        AppError::Validation(_) => (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed"),
        AppError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
        AppError::Unauthenticated => (StatusCode::UNAUTHORIZED, "unauthenticated"),
        AppError::InvalidCredentials => (StatusCode::UNAUTHORIZED, "invalid_credentials"),
        AppError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
        AppError::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
        AppError::InsufficientBalance => (StatusCode::PAYMENT_REQUIRED, "insufficient_balance"),
        AppError::Stale => (StatusCode::CONFLICT, "concurrent_update"),
        AppError::Issue(i) => (issue_status(i), issue_error_code(i)),
        AppError::Lifecycle(l) => (lifecycle_status(l), lifecycle_error_code(l)),
        AppError::IdempotencyMismatch => (StatusCode::UNPROCESSABLE_ENTITY, "idempotency_key_reused"),
        AppError::IdempotencyInProgress => (StatusCode::CONFLICT, "idempotency_in_progress"),
        AppError::PayloadTooLarge => (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
        AppError::UnsupportedMediaType => (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type"),
        AppError::LinkInvalid => (StatusCode::FORBIDDEN, "link_invalid"),
        AppError::LinkExpired => (StatusCode::GONE, "link_expired"),
        AppError::DocumentGeneration(_) => (StatusCode::INTERNAL_SERVER_ERROR, "document_generation_failed"),
        AppError::DocumentUnavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "document_unavailable"),
        AppError::NothingToSend => (StatusCode::CONFLICT, "nothing_to_send"),
        AppError::NotDownloadable(_) => (StatusCode::FORBIDDEN, "not_downloadable"),
        AppError::NotReady => (StatusCode::CONFLICT, "not_completed"),
        AppError::MailFailed(_) => (StatusCode::BAD_GATEWAY, "mail_failed"),
        AppError::WalletNotConfigured(_) => (StatusCode::NOT_IMPLEMENTED, "wallet_not_configured"),
        AppError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal_error"),
    }
}

fn issue_status(e: &IssueError) -> StatusCode {
    match e {
        IssueError::AlreadyIssued | IssueError::Cancelled => StatusCode::CONFLICT,
        IssueError::InsufficientBalance { .. } => StatusCode::PAYMENT_REQUIRED,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    }
}

/// Refusals of the ticket's state are conflicts; bad amounts are the request's fault.
pub(crate) fn lifecycle_status(e: &LifecycleError) -> StatusCode {
    match e {
        LifecycleError::NoSuchCoupon(_) => StatusCode::NOT_FOUND,
        LifecycleError::InvalidPenalty { .. } | LifecycleError::InvalidChangeFee | LifecycleError::Money(_) => {
            StatusCode::UNPROCESSABLE_ENTITY
        }
        _ => StatusCode::CONFLICT,
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = classify(&self.0);
        let detail = match &self.0 {
            // Internal details go to the log, never to the client.
            AppError::Internal(msg) | AppError::DocumentGeneration(msg) | AppError::DocumentUnavailable(msg) => {
                tracing::error!(error = %msg, "request failed");
                self.0.to_string()
            }
            other => other.to_string(),
        };
        let errors = match &self.0 {
            AppError::Validation(v) => Some(v.0.as_slice()),
            _ => None,
        };
        let problem = Problem {
            kind: "about:blank",
            title: status.canonical_reason().unwrap_or("Error"),
            status: status.as_u16(),
            code,
            detail,
            errors,
            used_at: match &self.0 {
                AppError::Lifecycle(l) => first_use(l),
                _ => None,
            },
        };
        let body = serde_json::to_vec(&problem).unwrap_or_default();
        let mut response = (status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
        if status == StatusCode::UNAUTHORIZED {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if matches!(self.0, AppError::IdempotencyInProgress) {
            // The idempotency layer overwrites this with the seconds left on the holder's lease when it knows them.
            headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A refused debit and a request that lost every retry are outcomes the client can act on, not 500s.
    #[test]
    fn business_outcomes_have_their_own_status_and_code() {
        assert_eq!(classify(&AppError::InsufficientBalance), (StatusCode::PAYMENT_REQUIRED, "insufficient_balance"));
        assert_eq!(classify(&AppError::Stale), (StatusCode::CONFLICT, "concurrent_update"));
        let stale = ApiError(AppError::Stale).into_response();
        assert_eq!(stale.status(), StatusCode::CONFLICT);
    }

    /// A request whose key was taken over mid-way (its change rolled back) is told to come back shortly.
    #[test]
    fn idempotency_in_progress_says_when_to_retry() {
        let response = ApiError(AppError::IdempotencyInProgress).into_response();
        assert_eq!(response.status(), StatusCode::CONFLICT);
        assert_eq!(response.headers()[header::RETRY_AFTER], "1");
    }
}
