//! Storage errors: the few business outcomes a transaction can discover, and everything else as `Backend`.

use tessera_core::booking::BookingStatus;

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// A unique constraint: what was taken, in words fit for a client (`username`, `pnr`, ...).
    #[error("{0} already exists")]
    Conflict(&'static str),
    #[error("not found")]
    NotFound,
    /// The booking was no longer `confirmed` when the issuance transaction locked it.
    #[error("booking is {0:?}")]
    BookingNotConfirmed(BookingStatus),
    #[error("insufficient balance")]
    InsufficientBalance,
    /// A lifecycle transition found its subject changed since it was planned; nothing was written.
    #[error("the ticket changed while the request ran")]
    Stale,
    #[error("ticket serials exhausted for prefix {0}")]
    SerialsExhausted(String),
    /// The idempotency claim this request ran under was taken over by a retry (its lease had expired) or
    /// already answered; the transaction rolled back so the key's effect happens once.
    #[error("the idempotency claim was lost")]
    ClaimLost,
    #[error("document rendering failed: {0}")]
    Documents(#[from] SinkError),
    /// A driver or data error. Its text is for logs only and never reaches a client.
    #[error("database error: {0}")]
    Backend(String),
}

/// Why a [`crate::DocumentSink`] could not produce the documents.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct SinkError(pub String);
