//! Translating driver errors into [`StorageError`].
//!
//! Every module works with the crate-local [`Error`], which keeps the raw [`sqlx::Error`] until the last
//! moment: the scripts' retry loop needs the SQLSTATE ([`Error::is_retryable`]), and the public boundary
//! needs the constraint name to tell a client *what* already exists.

use tessera_storage::StorageError;

/// A failure inside the backend: either a business outcome already decided, or a driver error not yet mapped.
#[derive(Debug)]
pub enum Error {
    Storage(StorageError),
    Db(sqlx::Error),
}

pub(crate) type Result<T, E = Error> = std::result::Result<T, E>;

impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Self {
        Self::Db(e)
    }
}

impl From<StorageError> for Error {
    fn from(e: StorageError) -> Self {
        Self::Storage(e)
    }
}

impl From<Error> for StorageError {
    fn from(e: Error) -> Self {
        match e {
            Error::Storage(e) => e,
            Error::Db(e) => map_db_error(e),
        }
    }
}

/// Shorthand for "stored data is not what we wrote": decode failures are backend errors, never panics.
pub(crate) fn corrupt(what: impl std::fmt::Display) -> Error {
    Error::Storage(StorageError::Backend(format!("stored data: {what}")))
}

/// A value handed to the backend that cannot be stored (out of a column's range, not serializable).
pub(crate) fn unstorable(what: impl std::fmt::Display) -> Error {
    Error::Storage(StorageError::Backend(format!("cannot store: {what}")))
}

const UNIQUE_VIOLATION: &str = "23505";
const CHECK_VIOLATION: &str = "23514";
const SERIALIZATION_FAILURE: &str = "40001";
const DEADLOCK_DETECTED: &str = "40P01";

impl Error {
    /// Whether running the whole transaction again may succeed: PostgreSQL aborted it to break a cycle.
    pub(crate) fn is_retryable(&self) -> bool {
        match self {
            Error::Db(sqlx::Error::Database(db)) => {
                matches!(db.code().as_deref(), Some(SERIALIZATION_FAILURE | DEADLOCK_DETECTED))
            }
            _ => false,
        }
    }
}

fn map_db_error(e: sqlx::Error) -> StorageError {
    if let sqlx::Error::Database(db) = &e {
        match db.code().as_deref() {
            Some(UNIQUE_VIOLATION) => return StorageError::Conflict(conflict_word(db.constraint())),
            // Only the balance has a CHECK constraint; hitting it means a debit did not fit the credit limit.
            Some(CHECK_VIOLATION) if db.constraint() == Some("agencies_balance_within_credit") => {
                return StorageError::InsufficientBalance
            }
            _ => {}
        }
    }
    StorageError::Backend(e.to_string())
}

/// The client-facing name of what a unique constraint protects (see the migrations for the names).
fn conflict_word(constraint: Option<&str>) -> &'static str {
    match constraint {
        Some("users_username_key") => "username",
        Some("users_pkey") => "user",
        Some("agencies_pkey") => "agency",
        Some("bookings_agency_code_key") => "booking code",
        Some("bookings_pkey") => "booking",
        Some("api_keys_pkey" | "api_keys_key_hash_key") => "api key",
        Some("issuances_pkey" | "issuances_booking_id_key") => "issuance",
        Some("tickets_pkey") => "ticket number",
        Some("coupons_pkey") => "coupon",
        Some("documents_pkey" | "documents_owner_key") => "document",
        Some("booking_orders_pkey" | "booking_orders_booking_position_key") => "booking order",
        Some("invoices_pkey") => "invoice",
        Some("idempotency_pkey") => "idempotency key",
        Some("outbox_pkey") => "message",
        Some("webhooks_pkey") => "webhook",
        _ => "record",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constraint_words() {
        assert_eq!(conflict_word(Some("users_username_key")), "username");
        assert_eq!(conflict_word(Some("bookings_agency_code_key")), "booking code");
        assert_eq!(conflict_word(None), "record");
    }
}
