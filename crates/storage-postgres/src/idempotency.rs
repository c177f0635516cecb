//! Completing and releasing idempotency claims, whose stored response is replayed to retries of the same
//! request; the claim itself is [`tessera_storage::scripts::claim_idempotency`], on [`crate::tx`].

use sqlx::PgPool;
use tessera_storage::{ClaimMark, StorageError};

use crate::error::Result;

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

/// Only the holder releases, and never a claim whose effect committed: that one is answered from its effect.
pub(crate) async fn release(pool: &PgPool, mark: &ClaimMark) -> Result<()> {
    sqlx::query("DELETE FROM idempotency WHERE scope_key = $1 AND key = $2 AND token = $3 AND effect IS NULL")
        .bind(&mark.scope_key)
        .bind(&mark.key)
        .bind(&mark.token)
        .execute(pool)
        .await?;
    Ok(())
}
