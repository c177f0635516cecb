//! Releasing idempotency claims; claiming and completing them are
//! [`tessera_storage::scripts::claim_idempotency`] and [`tessera_storage::scripts::complete_idempotency`], on
//! the primitives of [`crate::tx`].

use sqlx::SqlitePool;
use tessera_storage::ClaimMark;

use crate::Result;

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
