//! The application's one error type. Profiles map it to their envelopes; internal details stay in logs.

use tessera_core::intake::ValidationErrors;
use tessera_core::issuance::IssueError;
use tessera_storage::StorageError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The request body broke the contract; every field is listed.
    #[error("invalid request")]
    Validation(#[from] ValidationErrors),
    /// Not there, or not within the caller's reach (the two are indistinguishable on purpose).
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("authentication required")]
    Unauthenticated,
    #[error("invalid or expired credentials")]
    InvalidCredentials,
    #[error("not allowed for role {0}")]
    Forbidden(&'static str),
    #[error("{0} already exists")]
    Conflict(&'static str),
    /// A business rule refused the issuance.
    #[error(transparent)]
    Issue(#[from] IssueError),
    /// The agency's balance plus credit limit does not cover a debit (a business refusal, not a failure). The
    /// issuance and lifecycle services answer [`IssueError::InsufficientBalance`] with the amounts instead.
    #[error("insufficient balance")]
    InsufficientBalance,
    /// What the request acted on changed while it ran and kept changing; the client may simply retry.
    #[error("the resource changed while the request ran; retry")]
    Stale,
    /// A lifecycle rule refused the action (void, refund, exchange, use).
    #[error(transparent)]
    Lifecycle(#[from] tessera_core::lifecycle::LifecycleError),
    #[error("this Idempotency-Key was used with a different request")]
    IdempotencyMismatch,
    #[error("a request with this Idempotency-Key is still in progress")]
    IdempotencyInProgress,
    #[error("the link signature is invalid")]
    LinkInvalid,
    #[error("the link has expired")]
    LinkExpired,
    #[error("the request body is too large")]
    PayloadTooLarge,
    /// A body was sent without saying it is JSON (`Content-Type: application/json`) where JSON is read.
    #[error("the request body must be JSON, sent with Content-Type: application/json")]
    UnsupportedMediaType,
    /// A document could not be produced.
    #[error("document generation failed")]
    DocumentGeneration(String),
    /// A document the database records could neither be read from the store nor re-rendered to the bytes it
    /// recorded (the detail, logged, says why); the client may retry later.
    #[error("the document is temporarily unavailable")]
    DocumentUnavailable(String),
    /// The ticket exists but is distributed by someone else (`external`, `external_end_client`).
    #[error("tickets distributed through `{0}` cannot be downloaded here")]
    NotDownloadable(&'static str),
    /// The booking order has not been issued yet, so its documents do not exist.
    #[error("the booking order is not completed yet")]
    NotReady,
    /// The booking has no issued tickets to send.
    #[error("no tickets to send for this booking")]
    NothingToSend,
    /// The SMTP relay refused or could not be reached; the message stays queued.
    #[error("{0}")]
    MailFailed(String),
    /// Anything else: logged with detail, answered as a generic 500.
    /// Passes of this wallet (`Apple Wallet`, `Google Wallet`) need signing credentials the operator has not set.
    #[error("{0} passes are not configured on this server")]
    WalletNotConfigured(&'static str),

    #[error("internal error")]
    Internal(String),
}

impl From<StorageError> for AppError {
    fn from(e: StorageError) -> Self {
        match e {
            StorageError::Conflict(what) => Self::Conflict(what),
            StorageError::NotFound => Self::NotFound("resource"),
            StorageError::BookingNotConfirmed(tessera_core::booking::BookingStatus::Cancelled) => {
                Self::Issue(IssueError::Cancelled)
            }
            StorageError::BookingNotConfirmed(_) => Self::Issue(IssueError::AlreadyIssued),
            StorageError::Documents(e) => Self::DocumentGeneration(e.0),
            StorageError::InsufficientBalance => Self::InsufficientBalance,
            StorageError::Stale => Self::Stale,
            StorageError::ClaimLost => Self::IdempotencyInProgress,
            other @ (StorageError::SerialsExhausted(_) | StorageError::Backend(_)) => Self::Internal(other.to_string()),
        }
    }
}

impl From<tessera_documents::DocumentError> for AppError {
    fn from(e: tessera_documents::DocumentError) -> Self {
        Self::Internal(format!("documents: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn business_outcomes_from_storage_are_not_internal_errors() {
        assert!(matches!(AppError::from(StorageError::InsufficientBalance), AppError::InsufficientBalance));
        assert!(matches!(AppError::from(StorageError::Stale), AppError::Stale));
        assert!(matches!(AppError::from(StorageError::Backend("boom".into())), AppError::Internal(_)));
    }
}
