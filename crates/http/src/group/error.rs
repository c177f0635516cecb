//! The group profile's one error type and its answers, `{"status": false, "message": "..."}`, in the seed's
//! words: "No token provided" / "Invalid signature" (401), "Authorization fail. you are <role>." (400),
//! "Create ticket fail: <why>" and, for sending, "Can not generate ticket" (400) or "Send Email fail: <why>" (500).
//! Every application error has its own status here; server-side details go to the log, never to the client.

use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;
use tessera_app::AppError;
use tessera_core::intake::ValidationErrors;

use crate::extract::Refusal;
use crate::AppState;

/// What the caller was doing when it failed: the seed words the two endpoints' failures differently.
#[derive(Debug)]
pub enum GroupError {
    /// `POST /tickets`, and the shared extractors of both endpoints.
    Create(AppError),
    /// `GET /tickets`: generating and e-mailing the tickets.
    Send(AppError),
}

impl From<AppError> for GroupError {
    fn from(e: AppError) -> Self {
        Self::Create(e)
    }
}

impl Refusal for GroupError {
    type Context = ();

    fn context(_: &Parts, _: &AppState) {}

    fn refuse(error: AppError, (): ()) -> Self {
        error.into()
    }

    /// The only field is the booking code; a body without it (or not JSON at all) lacks it.
    fn malformed(_: serde_json::Error) -> AppError {
        ValidationErrors::single("/booking_code", "is required").into()
    }
}

/// A success: `{"status": true, "message": ...}` with the seed's status.
pub struct Said(pub StatusCode, pub &'static str);

impl IntoResponse for Said {
    fn into_response(self) -> Response {
        (self.0, Json(json!({"status": true, "message": self.1}))).into_response()
    }
}

fn fields(v: &ValidationErrors) -> String {
    v.0.iter().map(|f| format!("{} {}", f.pointer.trim_start_matches('/'), f.reason)).collect::<Vec<_>>().join("; ")
}

/// Logs what only the operator may see and hands back what the client is told instead.
fn logged(e: &AppError, detail: &str, told: &'static str) -> String {
    tracing::error!(error = %e, detail, "group profile request failed");
    told.to_owned()
}

/// Who is calling, and why creating tickets failed. The seed answers every refusal with 409 "Create ticket
/// fail: ..." (unknown bookings and missing codes included, as clients of the seed expect); failures of the
/// server are 500s.
fn create_failure(e: &AppError) -> (StatusCode, String) {
    use StatusCode as S;
    let fail = |status, why: &str| (status, format!("Create ticket fail: {why}"));
    match e {
        AppError::Unauthenticated => (S::UNAUTHORIZED, "No token provided".into()),
        AppError::InvalidCredentials => (S::UNAUTHORIZED, "Invalid signature".into()),
        AppError::Forbidden(role) => (S::BAD_REQUEST, format!("Authorization fail. you are {role}.")),
        AppError::Issue(i) => fail(S::CONFLICT, &i.to_string()),
        AppError::NotFound(_) => fail(S::CONFLICT, "booking not found"),
        AppError::Validation(v) => fail(S::CONFLICT, &fields(v)),
        AppError::Conflict(_)
        | AppError::InsufficientBalance
        | AppError::Stale
        | AppError::IdempotencyInProgress
        | AppError::Lifecycle(_)
        | AppError::NothingToSend
        | AppError::NotReady => fail(S::CONFLICT, &e.to_string()),
        AppError::IdempotencyMismatch => fail(S::UNPROCESSABLE_ENTITY, &e.to_string()),
        AppError::PayloadTooLarge => fail(S::PAYLOAD_TOO_LARGE, &e.to_string()),
        AppError::UnsupportedMediaType => fail(S::UNSUPPORTED_MEDIA_TYPE, &e.to_string()),
        AppError::LinkInvalid | AppError::NotDownloadable(_) => fail(S::FORBIDDEN, &e.to_string()),
        AppError::WalletNotConfigured(_) => fail(S::NOT_IMPLEMENTED, &e.to_string()),
        AppError::LinkExpired => fail(S::GONE, &e.to_string()),
        AppError::DocumentGeneration(detail) => {
            fail(S::INTERNAL_SERVER_ERROR, &logged(e, detail, "the ticket documents could not be generated"))
        }
        AppError::DocumentUnavailable(detail) => {
            fail(S::SERVICE_UNAVAILABLE, &logged(e, detail, "the document is temporarily unavailable"))
        }
        AppError::Internal(detail) | AppError::MailFailed(detail) => {
            fail(S::INTERNAL_SERVER_ERROR, &logged(e, detail, "internal error"))
        }
    }
}

/// Why sending tickets failed: nothing to send is the seed's 400 "Can not generate ticket"; a mail server that
/// did not take the message is a 500 whose reason stays in the log (the message stays queued and is retried).
fn send_failure(e: &AppError) -> (StatusCode, String) {
    use StatusCode as S;
    match e {
        AppError::Unauthenticated | AppError::InvalidCredentials | AppError::Forbidden(_) => create_failure(e),
        AppError::NotFound(_)
        | AppError::Validation(_)
        | AppError::NothingToSend
        | AppError::NotReady
        | AppError::NotDownloadable(_)
        | AppError::WalletNotConfigured(_) => (S::BAD_REQUEST, "Can not generate ticket".into()),
        AppError::MailFailed(reason) => {
            let told = logged(e, reason, "the mail server did not accept the message; it will be retried");
            (S::INTERNAL_SERVER_ERROR, format!("Send Email fail: {told}"))
        }
        AppError::Issue(_)
        | AppError::InsufficientBalance
        | AppError::Stale
        | AppError::Conflict(_)
        | AppError::Lifecycle(_)
        | AppError::IdempotencyMismatch
        | AppError::IdempotencyInProgress
        | AppError::PayloadTooLarge
        | AppError::UnsupportedMediaType
        | AppError::LinkInvalid
        | AppError::LinkExpired
        | AppError::DocumentGeneration(_)
        | AppError::DocumentUnavailable(_)
        | AppError::Internal(_) => {
            (S::INTERNAL_SERVER_ERROR, format!("Send Email fail: {}", logged(e, &format!("{e:?}"), "internal error")))
        }
    }
}

impl IntoResponse for GroupError {
    fn into_response(self) -> Response {
        let (status, message) = match &self {
            Self::Create(e) => create_failure(e),
            Self::Send(e) => send_failure(e),
        };
        (status, Json(json!({"status": false, "message": message}))).into_response()
    }
}
