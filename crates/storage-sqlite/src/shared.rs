//! State kept in the database rather than in the process: generated secrets, and rate-limit buckets.

use chrono::{DateTime, Utc};
use sqlx::SqlitePool;
use tessera_storage::{epoch_micros, RateDecision, RateQuota, SigningKeyRecord, SIGNING_KEY_COLUMNS};

use crate::outbox::timestamp;
use crate::{begin_write, Result};

pub(crate) async fn shared_secret(pool: &SqlitePool, name: &str, candidate: &[u8]) -> Result<Vec<u8>> {
    sqlx::query("INSERT INTO shared_secrets (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING")
        .bind(name)
        .bind(candidate)
        .execute(pool)
        .await?;
    Ok(sqlx::query_scalar("SELECT value FROM shared_secrets WHERE name = ?").bind(name).fetch_one(pool).await?)
}

/// GCRA, the same statement as PostgreSQL's; SQLite has no data-modifying CTE, so a refusal reads the bucket in
/// a second statement of the same (write-locked) transaction.
pub(crate) async fn take_rate_token(
    pool: &SqlitePool,
    key: &str,
    now: DateTime<Utc>,
    quota: RateQuota,
) -> Result<RateDecision> {
    let (interval, span) = quota.micros();
    let now = epoch_micros(now);
    let mut tx = begin_write(pool).await?;
    let taken: Option<i64> = sqlx::query_scalar(
        "INSERT INTO rate_limits (key, tat_us) VALUES (?1, ?2 + ?3) \
         ON CONFLICT (key) DO UPDATE SET tat_us = MAX(tat_us, ?2) + ?3 \
         WHERE MAX(tat_us, ?2) + ?3 - ?2 <= ?4 \
         RETURNING tat_us",
    )
    .bind(key)
    .bind(now)
    .bind(interval)
    .bind(span)
    .fetch_optional(&mut *tx)
    .await?;
    let decision = match taken {
        Some(_) => RateDecision::Allowed,
        None => {
            let tat: i64 = sqlx::query_scalar("SELECT tat_us FROM rate_limits WHERE key = ?")
                .bind(key)
                .fetch_one(&mut *tx)
                .await?;
            RateDecision::refused(tat, now, &quota)
        }
    };
    tx.commit().await?;
    Ok(decision)
}

pub(crate) async fn signing_keys(pool: &SqlitePool) -> Result<Vec<SigningKeyRecord>> {
    let rows = sqlx::query(&format!("SELECT {SIGNING_KEY_COLUMNS} FROM signing_keys ORDER BY created_at, kid"))
        .fetch_all(pool)
        .await?;
    rows.iter().map(crate::rows::signing_key).collect()
}

pub(crate) async fn add_signing_key(pool: &SqlitePool, key: &SigningKeyRecord) -> Result<()> {
    sqlx::query(
        "INSERT INTO signing_keys (kid, seed, created_at, retired_at) VALUES (?, ?, ?, ?) ON CONFLICT (kid) DO NOTHING",
    )
    .bind(&key.kid)
    .bind(&key.seed)
    .bind(timestamp(key.created_at))
    .bind(key.retired_at.map(timestamp))
    .execute(pool)
    .await?;
    Ok(())
}

pub(crate) async fn retire_signing_key(pool: &SqlitePool, kid: &str, at: DateTime<Utc>) -> Result<bool> {
    let done = sqlx::query("UPDATE signing_keys SET retired_at = ? WHERE kid = ? AND retired_at IS NULL")
        .bind(timestamp(at))
        .bind(kid)
        .execute(pool)
        .await?;
    Ok(done.rows_affected() == 1)
}
