//! The agent profile's error envelope, `{"success": false, "data": {"error": "..."}}`, with the vendor's exact
//! strings. The seed gives no status codes; ours are listed in docs/api.md.

use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;
use tessera_app::AppError;
use tessera_core::issuance::IssueError;

use crate::extract::Refusal;
use crate::AppState;

pub const INVALID: &str = "Invalid Ticket Parameters.";
pub const ALREADY_ISSUED: &str = "Ticket already issued.";
pub const INVALID_PNR: &str = "Invalid PNR record";
pub const BOOKING_NOT_FOUND: &str = "Booking Records Not Found.";
pub const INSUFFICIENT: &str = "Insufficient balance amount. Please top up and continue.";
pub const NOT_AVAILABLE: &str = "Sorry! Flight has been booked or not available. Please try with another flight.";
pub const TICKET_NOT_FOUND: &str = "Ticket Records Not Found.";
pub const NOT_GENERATED: &str = "Invalid Ticket Parameters. Ticket could not be generated.";
pub const UNAUTHENTICATED: &str = "Unauthenticated.";
/// Our own words where the seed has none: a body past the size limit, and a body not sent as JSON.
pub const TOO_LARGE: &str = "Request body too large.";
pub const NOT_JSON: &str = "Request body must be JSON (Content-Type: application/json).";
pub const INTERNAL: &str = "Something went wrong. Please try again later.";

/// Which record a 404 is about: the issue endpoint looks up bookings, the download endpoint issuances.
#[derive(Debug, Clone, Copy)]
pub enum Missing {
    Booking,
    Ticket,
}

/// The agent profile's one error type: an application error, and which record a 404 is about.
#[derive(Debug)]
pub struct AgentError {
    pub error: AppError,
    pub missing: Missing,
}

impl AgentError {
    /// An error of the download endpoint, where what is missing is a ticket.
    pub fn about_ticket(error: AppError) -> Self {
        Self { error, missing: Missing::Ticket }
    }
}

/// Bookings are what the issue endpoint (and every shared extractor) looks up.
impl From<AppError> for AgentError {
    fn from(error: AppError) -> Self {
        Self { error, missing: Missing::Booking }
    }
}

/// The seed calls every bad request "Invalid Ticket Parameters.", whatever is wrong with it.
pub fn invalid() -> AppError {
    AppError::Issue(IssueError::RequestMismatch("request"))
}

impl Refusal for AgentError {
    type Context = ();

    fn context(_: &Parts, _: &AppState) {}

    fn refuse(error: AppError, (): ()) -> Self {
        error.into()
    }

    fn malformed(_: serde_json::Error) -> AppError {
        invalid()
    }
}

fn classify(e: &AppError, missing: Missing) -> (StatusCode, &'static str) {
    match e {
        AppError::Unauthenticated | AppError::InvalidCredentials => (StatusCode::UNAUTHORIZED, UNAUTHENTICATED),
        AppError::NotFound(_) => match missing {
            Missing::Booking => (StatusCode::NOT_FOUND, BOOKING_NOT_FOUND),
            Missing::Ticket => (StatusCode::NOT_FOUND, TICKET_NOT_FOUND),
        },
        AppError::Issue(i) => match i {
            IssueError::AlreadyIssued => (StatusCode::CONFLICT, ALREADY_ISSUED),
            IssueError::PnrMismatch => (StatusCode::UNPROCESSABLE_ENTITY, INVALID_PNR),
            IssueError::InsufficientBalance { .. } => (StatusCode::PAYMENT_REQUIRED, INSUFFICIENT),
            // The booking can no longer be ticketed, whatever the request says.
            IssueError::Cancelled
            | IssueError::DeadlinePassed(_)
            | IssueError::Departed
            | IssueError::NotAFlight
            | IssueError::CarrierNotAuthorized(_)
            | IssueError::NdcPaymentMissing => (StatusCode::CONFLICT, NOT_AVAILABLE),
            _ => (StatusCode::UNPROCESSABLE_ENTITY, INVALID),
        },
        AppError::InsufficientBalance => (StatusCode::PAYMENT_REQUIRED, INSUFFICIENT),
        AppError::Stale => (StatusCode::CONFLICT, INVALID),
        AppError::DocumentGeneration(_) => (StatusCode::INTERNAL_SERVER_ERROR, NOT_GENERATED),
        AppError::DocumentUnavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, NOT_GENERATED),
        AppError::PayloadTooLarge => (StatusCode::PAYLOAD_TOO_LARGE, TOO_LARGE),
        AppError::UnsupportedMediaType => (StatusCode::UNSUPPORTED_MEDIA_TYPE, NOT_JSON),
        AppError::Forbidden(_) => (StatusCode::FORBIDDEN, INVALID),
        AppError::Validation(_)
        | AppError::Conflict(_)
        | AppError::IdempotencyMismatch
        | AppError::IdempotencyInProgress
        | AppError::LinkInvalid
        | AppError::LinkExpired => (StatusCode::UNPROCESSABLE_ENTITY, INVALID),
        AppError::NothingToSend
        | AppError::NotReady
        | AppError::NotDownloadable(_)
        | AppError::WalletNotConfigured(_) => (StatusCode::NOT_FOUND, TICKET_NOT_FOUND),
        // No lifecycle action reaches this profile; should one, the ticket's state is the conflict.
        AppError::Lifecycle(_) => (StatusCode::CONFLICT, INVALID),
        AppError::Internal(_) | AppError::MailFailed(_) => (StatusCode::INTERNAL_SERVER_ERROR, INTERNAL),
    }
}

impl IntoResponse for AgentError {
    fn into_response(self) -> Response {
        let (status, message) = classify(&self.error, self.missing);
        if let AppError::Internal(detail)
        | AppError::DocumentGeneration(detail)
        | AppError::DocumentUnavailable(detail) = &self.error
        {
            tracing::error!(error = %detail, "agent profile request failed");
        }
        (status, Json(json!({"success": false, "data": {"error": message}}))).into_response()
    }
}
