//! Idempotency keys: the first request with a key claims it, its response is stored, and retries of the same
//! request get that response replayed instead of doing the work twice.
//!
//! The claim is an `INSERT ... ON CONFLICT DO NOTHING`: of two concurrent requests with one key exactly one
//! inserts; the other waits for that insert to commit and then reads what is there.

use chrono::Utc;
use sqlx::PgPool;
use tessera_storage::{IdempotencyClaim, StorageError};

use crate::error::{corrupt, Result};

/// A claim released between our failed insert and our read frees the key; try again this many times.
const CLAIM_ATTEMPTS: usize = 3;

pub(crate) async fn claim(pool: &PgPool, scope_key: &str, key: &str, request_hash: &str) -> Result<IdempotencyClaim> {
    for _ in 0..CLAIM_ATTEMPTS {
        let inserted = sqlx::query(
            "INSERT INTO idempotency (scope_key, key, request_hash, status, body, created_at) \
             VALUES ($1, $2, $3, NULL, NULL, $4) ON CONFLICT (scope_key, key) DO NOTHING",
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
        let existing = sqlx::query_as::<_, (String, Option<i32>, Option<Vec<u8>>)>(
            "SELECT request_hash, status, body FROM idempotency WHERE scope_key = $1 AND key = $2",
        )
        .bind(scope_key)
        .bind(key)
        .fetch_optional(pool)
        .await?;
        let Some((stored_hash, status, body)) = existing else { continue };
        if stored_hash != request_hash {
            return Ok(IdempotencyClaim::Mismatch);
        }
        return Ok(match status {
            None => IdempotencyClaim::InProgress,
            Some(status) => IdempotencyClaim::Completed {
                status: u16::try_from(status).map_err(|_| corrupt(format!("HTTP status {status}")))?,
                body: body.unwrap_or_default(),
            },
        });
    }
    Err(StorageError::Backend(format!("idempotency key {key} kept changing hands")).into())
}

pub(crate) async fn complete(pool: &PgPool, scope_key: &str, key: &str, status: u16, body: &[u8]) -> Result<()> {
    let done = sqlx::query("UPDATE idempotency SET status = $3, body = $4 WHERE scope_key = $1 AND key = $2")
        .bind(scope_key)
        .bind(key)
        .bind(i32::from(status))
        .bind(body)
        .execute(pool)
        .await?;
    // Completing a claim that does not exist means the response would silently not be replayed; say so.
    if done.rows_affected() == 0 {
        return Err(StorageError::NotFound.into());
    }
    Ok(())
}

pub(crate) async fn release(pool: &PgPool, scope_key: &str, key: &str) -> Result<()> {
    sqlx::query("DELETE FROM idempotency WHERE scope_key = $1 AND key = $2")
        .bind(scope_key)
        .bind(key)
        .execute(pool)
        .await?;
    Ok(())
}
