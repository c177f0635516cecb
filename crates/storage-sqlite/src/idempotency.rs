//! Idempotency keys: the first request with a key claims it, later copies get its stored response replayed.
//!
//! The claim is an INSERT that the primary key makes atomic: of two racing copies exactly one inserts, the
//! other reads the winner's row.

use chrono::Utc;
use sqlx::SqlitePool;
use tessera_storage::{IdempotencyClaim, StorageError};

use crate::Result;

/// A claim can vanish between our failed INSERT and our SELECT (the holder released it); then we try again.
/// Losing that race this many times in a row means something is badly wrong.
const CLAIM_ATTEMPTS: usize = 5;

pub(crate) async fn claim(
    pool: &SqlitePool,
    scope_key: &str,
    key: &str,
    request_hash: &str,
) -> Result<IdempotencyClaim> {
    for _ in 0..CLAIM_ATTEMPTS {
        let inserted = sqlx::query(
            "INSERT INTO idempotency (scope_key, key, request_hash, created_at) VALUES (?, ?, ?, ?) \
             ON CONFLICT (scope_key, key) DO NOTHING",
        )
        .bind(scope_key)
        .bind(key)
        .bind(request_hash)
        .bind(Utc::now())
        .execute(pool)
        .await?;
        if inserted.rows_affected() == 1 {
            return Ok(IdempotencyClaim::Claimed);
        }
        let existing: Option<(String, Option<i64>, Option<Vec<u8>>)> =
            sqlx::query_as("SELECT request_hash, status, body FROM idempotency WHERE scope_key = ? AND key = ?")
                .bind(scope_key)
                .bind(key)
                .fetch_optional(pool)
                .await?;
        let Some((stored_hash, status, body)) = existing else {
            continue;
        };
        if stored_hash != request_hash {
            return Ok(IdempotencyClaim::Mismatch);
        }
        return Ok(match status {
            None => IdempotencyClaim::InProgress,
            Some(status) => IdempotencyClaim::Completed {
                status: u16::try_from(status)
                    .map_err(|_| StorageError::Backend(format!("stored idempotency status {status} is invalid")))?,
                body: body.unwrap_or_default(),
            },
        });
    }
    Err(StorageError::Backend(format!("idempotency key kept changing while claiming it ({CLAIM_ATTEMPTS} attempts)"))
        .into())
}

pub(crate) async fn complete(pool: &SqlitePool, scope_key: &str, key: &str, status: u16, body: &[u8]) -> Result<()> {
    let done = sqlx::query("UPDATE idempotency SET status = ?, body = ? WHERE scope_key = ? AND key = ?")
        .bind(i64::from(status))
        .bind(body)
        .bind(scope_key)
        .bind(key)
        .execute(pool)
        .await?;
    // Completing a claim that does not exist means the response would silently not be replayed; say so.
    if done.rows_affected() == 0 {
        return Err(StorageError::NotFound.into());
    }
    Ok(())
}

pub(crate) async fn release(pool: &SqlitePool, scope_key: &str, key: &str) -> Result<()> {
    sqlx::query("DELETE FROM idempotency WHERE scope_key = ? AND key = ?")
        .bind(scope_key)
        .bind(key)
        .execute(pool)
        .await?;
    Ok(())
}
