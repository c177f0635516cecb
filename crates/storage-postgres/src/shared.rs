//! State every node shares through the database: generated secrets, and rate-limit buckets taken in one
//! statement each.

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use tessera_storage::{epoch_micros, RateDecision, RateQuota, SigningKeyRecord, SIGNING_KEY_COLUMNS};

use crate::error::Result;

pub(crate) async fn shared_secret(pool: &PgPool, name: &str, candidate: &[u8]) -> Result<Vec<u8>> {
    // Of several nodes starting at once, the first insert wins and everyone reads it back.
    sqlx::query("INSERT INTO shared_secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING")
        .bind(name)
        .bind(candidate)
        .execute(pool)
        .await?;
    Ok(sqlx::query_scalar("SELECT value FROM shared_secrets WHERE name = $1").bind(name).fetch_one(pool).await?)
}

/// GCRA in one statement: the bucket moves on by one interval only when that keeps it within the burst span;
/// the row lock of the upsert orders concurrent takers. The second column reads the bucket as it was before
/// this statement (a data-modifying CTE's effects are invisible to its own query), which is what a refusal
/// needs to say how long to wait.
pub(crate) async fn take_rate_token(
    pool: &PgPool,
    key: &str,
    now: DateTime<Utc>,
    quota: RateQuota,
) -> Result<RateDecision> {
    let (interval, span) = quota.micros();
    let now = epoch_micros(now);
    let (taken, before): (Option<i64>, Option<i64>) = sqlx::query_as(
        "WITH taken AS ( \
             INSERT INTO rate_limits AS r (key, tat_us) VALUES ($1, $2 + $3) \
             ON CONFLICT (key) DO UPDATE SET tat_us = GREATEST(r.tat_us, $2) + $3 \
             WHERE GREATEST(r.tat_us, $2) + $3 - $2 <= $4 \
             RETURNING tat_us) \
         SELECT (SELECT tat_us FROM taken), (SELECT tat_us FROM rate_limits WHERE key = $1)",
    )
    .bind(key)
    .bind(now)
    .bind(interval)
    .bind(span)
    .fetch_one(pool)
    .await?;
    Ok(match (taken, before) {
        (Some(_), _) => RateDecision::Allowed,
        (None, Some(tat)) => RateDecision::refused(tat, now, &quota),
        // Refused without a row: only a burst span shorter than one interval could, and RateQuota has none.
        (None, None) => RateDecision::refused(now, now, &quota),
    })
}

pub(crate) async fn signing_keys(pool: &PgPool) -> Result<Vec<SigningKeyRecord>> {
    let rows = sqlx::query(&format!("SELECT {SIGNING_KEY_COLUMNS} FROM signing_keys ORDER BY created_at, kid"))
        .fetch_all(pool)
        .await?;
    rows.iter().map(crate::rows::signing_key).collect()
}

pub(crate) async fn add_signing_key(pool: &PgPool, key: &SigningKeyRecord) -> Result<()> {
    sqlx::query(
        "INSERT INTO signing_keys (kid, seed, created_at, retired_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (kid) DO NOTHING",
    )
    .bind(&key.kid)
    .bind(&key.seed)
    .bind(key.created_at)
    .bind(key.retired_at)
    .execute(pool)
    .await?;
    Ok(())
}

pub(crate) async fn retire_signing_key(pool: &PgPool, kid: &str, at: DateTime<Utc>) -> Result<bool> {
    let done = sqlx::query("UPDATE signing_keys SET retired_at = $1 WHERE kid = $2 AND retired_at IS NULL")
        .bind(at)
        .bind(kid)
        .execute(pool)
        .await?;
    Ok(done.rows_affected() == 1)
}
