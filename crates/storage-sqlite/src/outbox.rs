//! The e-mail outbox: messages are stored, then claimed and sent by whichever node gets to them first.
//!
//! A claim is a lease: `locked_until` is set to the end of it, and a message is only claimable while it has
//! no lease or its lease has expired. Claims run in a `BEGIN IMMEDIATE` transaction, so they are serialized
//! by SQLite's write lock and two callers never claim the same message.
//!
//! Outbox timestamps are written by [`timestamp`] in one fixed-width UTC form, so comparing the TEXT columns
//! (`next_attempt_at <= now`, `locked_until <= now`) compares the instants.

use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};
use sqlx::SqlitePool;
use tessera_core::ids::MessageId;
use tessera_core::user::Scope;
use tessera_storage::{
    lease_end, oldest_first, truncate_message_error, MessageStatus, NewMessage, OutboxMessage, StorageError,
};

use crate::rows::{self, OUTBOX_COLUMNS};
use crate::{begin_write, write_error, Result};

/// What `limit: 0` means for [`list`].
const DEFAULT_LIMIT: u32 = 200;

/// `at` as stored in the outbox: RFC 3339 in UTC with exactly six fractional digits.
pub(crate) fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, false)
}

pub(crate) async fn enqueue(pool: &SqlitePool, message: &NewMessage) -> Result<()> {
    let created_at = timestamp(message.created_at);
    sqlx::query(
        "INSERT INTO outbox (id, agency_id, booking_id, recipient, subject, text_body, html_body, attachments, \
         status, attempts, last_error, next_attempt_at, locked_until, created_at, sent_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, NULL, ?, NULL, ?, NULL)",
    )
    .bind(message.id.to_string())
    .bind(message.agency_id.map(|a| a.to_string()))
    .bind(message.booking_id.map(|b| b.to_string()))
    .bind(&message.recipient)
    .bind(&message.subject)
    .bind(&message.text_body)
    .bind(&message.html_body)
    .bind(rows::json_text(&message.attachments, "message attachments")?)
    .bind(MessageStatus::Queued.as_str())
    .bind(&created_at)
    .bind(&created_at)
    .execute(pool)
    .await
    .map_err(|e| write_error(e, "message"))?;
    Ok(())
}

pub(crate) async fn claim_due(
    pool: &SqlitePool,
    now: DateTime<Utc>,
    lease: TimeDelta,
    limit: u32,
) -> Result<Vec<OutboxMessage>> {
    if limit == 0 {
        return Ok(Vec::new());
    }
    let until = timestamp(lease_end(now, lease)?);
    let now = timestamp(now);
    let mut tx = begin_write(pool).await?;
    let ids: Vec<String> = sqlx::query_scalar(
        "SELECT id FROM outbox \
         WHERE status = 'queued' AND next_attempt_at <= ?1 AND (locked_until IS NULL OR locked_until <= ?1) \
         ORDER BY created_at, id LIMIT ?2",
    )
    .bind(&now)
    .bind(i64::from(limit))
    .fetch_all(&mut *tx)
    .await?;
    let mut claimed = Vec::with_capacity(ids.len());
    for id in ids {
        let row = sqlx::query(&format!("UPDATE outbox SET locked_until = ? WHERE id = ? RETURNING {OUTBOX_COLUMNS}"))
            .bind(&until)
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
        claimed.push(rows::outbox_message(&row)?);
    }
    tx.commit().await?;
    Ok(oldest_first(claimed))
}

pub(crate) async fn claim(
    pool: &SqlitePool,
    id: MessageId,
    now: DateTime<Utc>,
    lease: TimeDelta,
) -> Result<Option<OutboxMessage>> {
    let until = timestamp(lease_end(now, lease)?);
    let mut tx = begin_write(pool).await?;
    let row = sqlx::query(&format!(
        "UPDATE outbox SET locked_until = ?1 \
         WHERE id = ?2 AND status = 'queued' AND (locked_until IS NULL OR locked_until <= ?3) \
         RETURNING {OUTBOX_COLUMNS}"
    ))
    .bind(&until)
    .bind(id.to_string())
    .bind(timestamp(now))
    .fetch_optional(&mut *tx)
    .await?;
    let claimed = row.as_ref().map(rows::outbox_message).transpose()?;
    tx.commit().await?;
    Ok(claimed)
}

pub(crate) async fn mark_sent(pool: &SqlitePool, id: MessageId, now: DateTime<Utc>) -> Result<()> {
    let mut tx = begin_write(pool).await?;
    let done = sqlx::query(
        "UPDATE outbox SET status = 'sent', sent_at = ?, attempts = attempts + 1, locked_until = NULL \
         WHERE id = ? AND status = 'queued'",
    )
    .bind(timestamp(now))
    .bind(id.to_string())
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 0 {
        ensure_exists(&mut tx, id).await?;
    }
    tx.commit().await?;
    Ok(())
}

pub(crate) async fn mark_failed(
    pool: &SqlitePool,
    id: MessageId,
    error: &str,
    retry_at: Option<DateTime<Utc>>,
) -> Result<()> {
    let status = if retry_at.is_some() { MessageStatus::Queued } else { MessageStatus::Failed };
    let mut tx = begin_write(pool).await?;
    // Giving up keeps `next_attempt_at` as it was: the message is never due again anyway.
    let done = sqlx::query(
        "UPDATE outbox SET status = ?, attempts = attempts + 1, last_error = ?, locked_until = NULL, \
         next_attempt_at = COALESCE(?, next_attempt_at) \
         WHERE id = ? AND status = 'queued'",
    )
    .bind(status.as_str())
    .bind(truncate_message_error(error))
    .bind(retry_at.map(timestamp))
    .bind(id.to_string())
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 0 {
        ensure_exists(&mut tx, id).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Tells an update that matched nothing because the message is no longer queued (fine, nothing to do) from
/// one that matched nothing because there is no such message.
async fn ensure_exists(tx: &mut sqlx::Transaction<'static, sqlx::Sqlite>, id: MessageId) -> Result<()> {
    let found: Option<i64> =
        sqlx::query_scalar("SELECT 1 FROM outbox WHERE id = ?").bind(id.to_string()).fetch_optional(&mut **tx).await?;
    found.map(|_| ()).ok_or(StorageError::NotFound.into())
}

pub(crate) async fn get(pool: &SqlitePool, id: MessageId) -> Result<Option<OutboxMessage>> {
    let row = sqlx::query(&format!("SELECT {OUTBOX_COLUMNS} FROM outbox WHERE id = ?"))
        .bind(id.to_string())
        .fetch_optional(pool)
        .await?;
    row.as_ref().map(rows::outbox_message).transpose()
}

pub(crate) async fn list(pool: &SqlitePool, scope: Scope, limit: u32) -> Result<Vec<OutboxMessage>> {
    let limit = if limit == 0 { DEFAULT_LIMIT } else { limit };
    // Messages are the agency's business: a customer scope narrows to the agency, like the audit trail.
    let rows = sqlx::query(&format!(
        "SELECT {OUTBOX_COLUMNS} FROM outbox WHERE (?1 IS NULL OR agency_id = ?1) \
         ORDER BY created_at DESC, id DESC LIMIT ?2"
    ))
    .bind(scope.agency().map(|a| a.to_string()))
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await?;
    rows.iter().map(rows::outbox_message).collect()
}

pub(crate) async fn count_pending(pool: &SqlitePool) -> Result<u64> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE status = 'queued'").fetch_one(pool).await?;
    Ok(u64::try_from(n).unwrap_or(0))
}

pub(crate) async fn retry(pool: &SqlitePool, id: MessageId, now: DateTime<Utc>) -> Result<bool> {
    let mut tx = begin_write(pool).await?;
    let done = sqlx::query(
        "UPDATE outbox SET status = 'queued', next_attempt_at = ?1, locked_until = NULL \
         WHERE id = ?2 AND status IN ('queued', 'failed') AND (locked_until IS NULL OR locked_until <= ?1)",
    )
    .bind(timestamp(now))
    .bind(id.to_string())
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 0 {
        ensure_exists(&mut tx, id).await?;
    }
    tx.commit().await?;
    Ok(done.rows_affected() > 0)
}
