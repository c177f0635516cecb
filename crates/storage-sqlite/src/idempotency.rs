//! Completing and releasing idempotency claims; the claim itself is
//! [`tessera_storage::scripts::claim_idempotency`], on the primitives of [`crate::tx`].

use sqlx::SqlitePool;
use tessera_storage::{ClaimMark, StorageError};

use crate::Result;

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

/// Only the holder releases, and never a claim whose effect committed: that one is answered from its effect.
pub(crate) async fn release(pool: &SqlitePool, mark: &ClaimMark) -> Result<()> {
    sqlx::query("DELETE FROM idempotency WHERE scope_key = ? AND key = ? AND token = ? AND effect IS NULL")
        .bind(&mark.scope_key)
        .bind(&mark.key)
        .bind(&mark.token)
        .execute(pool)
        .await?;
    Ok(())
}
