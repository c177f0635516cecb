//! The e-mail outbox: messages are stored, then claimed and sent by whichever node gets to them first.
//!
//! A claim is a lease: `locked_until` is set to the end of it, and a message is only claimable while it has
//! no lease or its lease has expired. Claiming due messages locks the candidates with `FOR UPDATE SKIP
//! LOCKED`, so nodes claiming at the same time take disjoint messages instead of queueing behind each other;
//! a row another claim updated meanwhile is re-checked against the lease condition and dropped.

use chrono::{DateTime, TimeDelta, Utc};
use sqlx::types::Json;
use sqlx::PgPool;
use tessera_core::ids::MessageId;
use tessera_core::user::Scope;
use tessera_storage::{
    lease_end, oldest_first, truncate_message_error, MessageStatus, NewMessage, OutboxMessage, StorageError,
};

use crate::error::Result;
use crate::rows::{self, OUTBOX_COLUMNS};

/// Used when a caller asks for no limit.
const DEFAULT_LIMIT: i64 = 200;

pub(crate) async fn enqueue(pool: &PgPool, message: &NewMessage) -> Result<()> {
    sqlx::query(
        "INSERT INTO outbox (id, agency_id, booking_id, recipient, subject, text_body, html_body, attachments, \
         status, attempts, last_error, next_attempt_at, locked_until, created_at, sent_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 0, NULL, $10, NULL, $10, NULL)",
    )
    .bind(message.id.0)
    .bind(message.agency_id.map(|a| a.0))
    .bind(message.booking_id.map(|b| b.0))
    .bind(&message.recipient)
    .bind(&message.subject)
    .bind(&message.text_body)
    .bind(&message.html_body)
    .bind(Json(&message.attachments))
    .bind(MessageStatus::Queued.as_str())
    .bind(message.created_at)
    .execute(pool)
    .await?;
    Ok(())
}

pub(crate) async fn claim_due(
    pool: &PgPool,
    now: DateTime<Utc>,
    lease: TimeDelta,
    limit: u32,
) -> Result<Vec<OutboxMessage>> {
    if limit == 0 {
        return Ok(Vec::new());
    }
    let rows = sqlx::query(&format!(
        "UPDATE outbox SET locked_until = $1 \
         WHERE id IN ( \
             SELECT id FROM outbox \
             WHERE status = 'queued' AND next_attempt_at <= $2 AND (locked_until IS NULL OR locked_until <= $2) \
             ORDER BY created_at, id LIMIT $3 \
             FOR UPDATE SKIP LOCKED) \
         RETURNING {OUTBOX_COLUMNS}"
    ))
    .bind(lease_end(now, lease)?)
    .bind(now)
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await?;
    Ok(oldest_first(rows.iter().map(rows::outbox_message).collect::<Result<_>>()?))
}

pub(crate) async fn claim(
    pool: &PgPool,
    id: MessageId,
    now: DateTime<Utc>,
    lease: TimeDelta,
) -> Result<Option<OutboxMessage>> {
    // A concurrent claim of the same message waits for the row lock, then sees the live lease and matches
    // nothing.
    let row = sqlx::query(&format!(
        "UPDATE outbox SET locked_until = $1 \
         WHERE id = $2 AND status = 'queued' AND (locked_until IS NULL OR locked_until <= $3) \
         RETURNING {OUTBOX_COLUMNS}"
    ))
    .bind(lease_end(now, lease)?)
    .bind(id.0)
    .bind(now)
    .fetch_optional(pool)
    .await?;
    row.as_ref().map(rows::outbox_message).transpose()
}

pub(crate) async fn mark_sent(pool: &PgPool, id: MessageId, now: DateTime<Utc>) -> Result<()> {
    let done = sqlx::query(
        "UPDATE outbox SET status = 'sent', sent_at = $1, attempts = attempts + 1, locked_until = NULL \
         WHERE id = $2 AND status = 'queued'",
    )
    .bind(now)
    .bind(id.0)
    .execute(pool)
    .await?;
    if done.rows_affected() == 0 {
        ensure_exists(pool, id).await?;
    }
    Ok(())
}

pub(crate) async fn mark_failed(
    pool: &PgPool,
    id: MessageId,
    error: &str,
    retry_at: Option<DateTime<Utc>>,
) -> Result<()> {
    let status = if retry_at.is_some() { MessageStatus::Queued } else { MessageStatus::Failed };
    // Giving up keeps `next_attempt_at` as it was: the message is never due again anyway.
    let done = sqlx::query(
        "UPDATE outbox SET status = $1, attempts = attempts + 1, last_error = $2, locked_until = NULL, \
         next_attempt_at = COALESCE($3, next_attempt_at) \
         WHERE id = $4 AND status = 'queued'",
    )
    .bind(status.as_str())
    .bind(truncate_message_error(error))
    .bind(retry_at)
    .bind(id.0)
    .execute(pool)
    .await?;
    if done.rows_affected() == 0 {
        ensure_exists(pool, id).await?;
    }
    Ok(())
}

/// Tells an update that matched nothing because the message is no longer queued (fine, nothing to do) from
/// one that matched nothing because there is no such message.
async fn ensure_exists(pool: &PgPool, id: MessageId) -> Result<()> {
    let found: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM outbox WHERE id = $1)").bind(id.0).fetch_one(pool).await?;
    if found {
        Ok(())
    } else {
        Err(StorageError::NotFound.into())
    }
}

pub(crate) async fn get(pool: &PgPool, id: MessageId) -> Result<Option<OutboxMessage>> {
    let row = sqlx::query(&format!("SELECT {OUTBOX_COLUMNS} FROM outbox WHERE id = $1"))
        .bind(id.0)
        .fetch_optional(pool)
        .await?;
    row.as_ref().map(rows::outbox_message).transpose()
}

pub(crate) async fn list(pool: &PgPool, scope: Scope, limit: u32) -> Result<Vec<OutboxMessage>> {
    let limit = if limit == 0 { DEFAULT_LIMIT } else { i64::from(limit) };
    // Messages are the agency's business: a customer scope narrows to the agency, like the audit trail.
    let rows = sqlx::query(&format!(
        "SELECT {OUTBOX_COLUMNS} FROM outbox WHERE ($1::uuid IS NULL OR agency_id = $1) \
         ORDER BY created_at DESC, id DESC LIMIT $2"
    ))
    .bind(scope.agency().map(|a| a.0))
    .bind(limit)
    .fetch_all(pool)
    .await?;
    rows.iter().map(rows::outbox_message).collect()
}

pub(crate) async fn count_pending(pool: &PgPool) -> Result<u64> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE status = 'queued'").fetch_one(pool).await?;
    Ok(u64::try_from(n).unwrap_or(0))
}

pub(crate) async fn retry(pool: &PgPool, id: MessageId, now: DateTime<Utc>) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE outbox SET status = 'queued', next_attempt_at = $1, locked_until = NULL \
         WHERE id = $2 AND status IN ('queued', 'failed') AND (locked_until IS NULL OR locked_until <= $1)",
    )
    .bind(now)
    .bind(id.0)
    .execute(pool)
    .await?;
    if done.rows_affected() == 0 {
        ensure_exists(pool, id).await?;
    }
    Ok(done.rows_affected() > 0)
}
