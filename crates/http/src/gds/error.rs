//! The GDS profile's error codes: one stable code per business rule (the table in docs/api.md), answered in the
//! same envelope as a success with `status: false`.

use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use tessera_app::AppError;
use tessera_core::intake::ValidationErrors;
use tessera_core::issuance::IssueError;

use super::{Envelope, ErrorBody, Tracking};
use crate::extract::Refusal;
use crate::AppState;

/// The GDS profile's one error type: what went wrong, the ticketing system the answer names (the request's,
/// or the booking's once it is found) and the request's tracking.
#[derive(Debug)]
pub struct GdsError {
    pub error: AppError,
    pub system: Option<String>,
    pub tracking: Tracking,
}

impl Refusal for GdsError {
    type Context = Tracking;

    fn context(parts: &Parts, state: &AppState) -> Tracking {
        Tracking::of(parts, state)
    }

    fn refuse(error: AppError, tracking: Tracking) -> Self {
        Self { error, system: None, tracking }
    }

    fn malformed(error: serde_json::Error) -> AppError {
        AppError::Validation(ValidationErrors::single(
            "",
            format!("invalid request: {}", crate::extract::in_words(&error)),
        ))
    }
}

pub(crate) fn classify(e: &AppError) -> (StatusCode, &'static str) {
    use StatusCode as S;
    match e {
        AppError::Unauthenticated => (S::UNAUTHORIZED, "AUTH_REQUIRED"),
        AppError::InvalidCredentials => (S::UNAUTHORIZED, "AUTH_INVALID"),
        AppError::Forbidden(_) => (S::FORBIDDEN, "FORBIDDEN"),
        AppError::Validation(_) => (S::BAD_REQUEST, "INVALID_REQUEST"),
        AppError::PayloadTooLarge => (S::PAYLOAD_TOO_LARGE, "INVALID_REQUEST"),
        AppError::UnsupportedMediaType => (S::UNSUPPORTED_MEDIA_TYPE, "INVALID_REQUEST"),
        AppError::NotFound(_) => (S::NOT_FOUND, "BOOKING_NOT_FOUND"),
        AppError::Issue(i) => match i {
            IssueError::AlreadyIssued => (S::CONFLICT, "BOOKING_ALREADY_TICKETED"),
            IssueError::Cancelled => (S::CONFLICT, "BOOKING_CANCELLED"),
            IssueError::NotAFlight | IssueError::EventStarted | IssueError::NotApplicable(_) => {
                (S::UNPROCESSABLE_ENTITY, "BOOKING_NOT_A_FLIGHT")
            }
            IssueError::DeadlinePassed(_) => (S::UNPROCESSABLE_ENTITY, "TICKETING_TIME_LIMIT_EXPIRED"),
            IssueError::Departed => (S::UNPROCESSABLE_ENTITY, "FLIGHT_DEPARTED"),
            IssueError::IncompletePassenger { .. } => (S::UNPROCESSABLE_ENTITY, "PASSENGER_INFO_INCOMPLETE"),
            IssueError::NdcPaymentMissing => (S::UNPROCESSABLE_ENTITY, "NDC_PAYMENT_REQUIRED"),
            IssueError::CarrierNotAuthorized(_) => (S::FORBIDDEN, "CARRIER_NOT_AUTHORIZED"),
            IssueError::InvalidCommission(_) => (S::UNPROCESSABLE_ENTITY, "COMMISSION_INVALID"),
            IssueError::CommissionAboveCap { .. } => (S::UNPROCESSABLE_ENTITY, "COMMISSION_EXCEEDS_AGREEMENT"),
            IssueError::UnknownTourCode(_) => (S::UNPROCESSABLE_ENTITY, "TOUR_CODE_UNKNOWN"),
            IssueError::TourCodeWrongCarrier(..) => (S::UNPROCESSABLE_ENTITY, "TOUR_CODE_CARRIER_MISMATCH"),
            IssueError::TourCodeInactive(_) => (S::UNPROCESSABLE_ENTITY, "TOUR_CODE_INACTIVE"),
            IssueError::UnknownCorporateAccount(_) => (S::UNPROCESSABLE_ENTITY, "CORPORATE_CODE_UNKNOWN"),
            IssueError::UnknownBookerCode(_) => (S::UNPROCESSABLE_ENTITY, "BOOKER_CODE_UNKNOWN"),
            IssueError::CurrencyMismatch { .. } => (S::UNPROCESSABLE_ENTITY, "CURRENCY_MISMATCH"),
            IssueError::InsufficientBalance { .. } => (S::PAYMENT_REQUIRED, "INSUFFICIENT_BALANCE"),
            IssueError::RequestMismatch(_) | IssueError::PnrMismatch => (S::UNPROCESSABLE_ENTITY, "SYSTEM_MISMATCH"),
            IssueError::UnknownPrefix(_) | IssueError::Money(_) => (S::UNPROCESSABLE_ENTITY, "BOOKING_NOT_TICKETABLE"),
        },
        AppError::InsufficientBalance => (S::PAYMENT_REQUIRED, "INSUFFICIENT_BALANCE"),
        AppError::Stale => (S::CONFLICT, "REQUEST_CONFLICT"),
        AppError::DocumentGeneration(_) => (S::INTERNAL_SERVER_ERROR, "DOCUMENT_GENERATION_FAILED"),
        AppError::DocumentUnavailable(_) => (S::SERVICE_UNAVAILABLE, "DOCUMENT_UNAVAILABLE"),
        AppError::Conflict(_)
        | AppError::IdempotencyMismatch
        | AppError::IdempotencyInProgress
        | AppError::LinkInvalid
        | AppError::LinkExpired => (S::CONFLICT, "REQUEST_CONFLICT"),
        AppError::NothingToSend
        | AppError::NotReady
        | AppError::NotDownloadable(_)
        | AppError::Lifecycle(_)
        | AppError::WalletNotConfigured(_) => (S::CONFLICT, "REQUEST_CONFLICT"),
        AppError::Internal(_) | AppError::MailFailed(_) => (S::INTERNAL_SERVER_ERROR, "INTERNAL_ERROR"),
    }
}

impl IntoResponse for GdsError {
    fn into_response(self) -> Response {
        let (status, code) = classify(&self.error);
        let message = match &self.error {
            AppError::Internal(detail)
            | AppError::DocumentGeneration(detail)
            | AppError::DocumentUnavailable(detail) => {
                tracing::error!(error = %detail, "gds profile request failed");
                self.error.to_string()
            }
            AppError::Validation(v) => {
                v.0.iter()
                    .map(|f| format!("{} {}", f.pointer, f.reason).trim().to_owned())
                    .collect::<Vec<_>>()
                    .join("; ")
            }
            other => other.to_string(),
        };
        let envelope = Envelope {
            system: self.system,
            status: false,
            error: Some(ErrorBody { code, message: message.clone() }),
            description: Some(message),
            tracking_time: self.tracking.time(),
            tracking_id: self.tracking.id,
            tickets: None,
        };
        (status, Json(envelope)).into_response()
    }
}
