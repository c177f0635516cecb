//! Releasing idempotency claims; claiming and completing them are
//! [`tessera_storage::scripts::claim_idempotency`] and [`tessera_storage::scripts::complete_idempotency`], on
//! [`crate::tx`].

use sqlx::PgPool;
use tessera_storage::ClaimMark;

use crate::error::Result;

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
