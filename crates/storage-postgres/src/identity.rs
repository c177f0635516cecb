//! Users and API keys: who can log in, and with what.
//!
//! Only hashes are stored (argon2 PHC strings for passwords, SHA-256 for API keys); lookups by key hash go
//! through a unique index, and revoked keys are kept (with `revoked_at`) so the audit trail can still name them.

use chrono::Utc;
use sqlx::PgPool;
use tessera_core::ids::{AgencyId, ApiKeyId, UserId};
use tessera_core::user::User;
use tessera_storage::{ApiKeyRecord, Credentials, NewApiKey, NewUser};

use crate::error::Result;
use crate::rows;

pub(crate) async fn create_user(pool: &PgPool, user: &NewUser) -> Result<User> {
    let row = sqlx::query(
        "INSERT INTO users (id, username, password_hash, role, agency_id, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id, username, role, agency_id, session_epoch",
    )
    .bind(user.id.0)
    .bind(&user.username)
    .bind(&user.password_hash)
    .bind(user.role.as_str())
    .bind(user.agency_id.map(|a| a.0))
    .bind(user.created_at)
    .fetch_one(pool)
    .await?;
    rows::user(&row)
}

pub(crate) async fn get_user(pool: &PgPool, id: UserId) -> Result<Option<User>> {
    let row = sqlx::query("SELECT id, username, role, agency_id, session_epoch FROM users WHERE id = $1")
        .bind(id.0)
        .fetch_optional(pool)
        .await?;
    row.as_ref().map(rows::user).transpose()
}

pub(crate) async fn find_credentials(pool: &PgPool, username: &str) -> Result<Option<Credentials>> {
    let row = sqlx::query(
        "SELECT id, username, role, agency_id, session_epoch, password_hash FROM users WHERE username = $1",
    )
    .bind(username)
    .fetch_optional(pool)
    .await?;
    let Some(row) = row else { return Ok(None) };
    Ok(Some(Credentials { user: rows::user(&row)?, password_hash: sqlx::Row::try_get(&row, "password_hash")? }))
}

pub(crate) async fn list_users(pool: &PgPool, agency: Option<AgencyId>) -> Result<Vec<User>> {
    let rows = sqlx::query(
        "SELECT id, username, role, agency_id, session_epoch FROM users \
         WHERE ($1::uuid IS NULL OR agency_id = $1) ORDER BY username",
    )
    .bind(agency.map(|a| a.0))
    .fetch_all(pool)
    .await?;
    rows.iter().map(rows::user).collect()
}

pub(crate) async fn create_api_key(pool: &PgPool, key: &NewApiKey) -> Result<ApiKeyRecord> {
    let row = sqlx::query(
        "INSERT INTO api_keys (id, user_id, key_hash, prefix, created_at) VALUES ($1, $2, $3, $4, $5) \
         RETURNING id, user_id, prefix, created_at, revoked_at",
    )
    .bind(key.id.0)
    .bind(key.user_id.0)
    .bind(&key.key_hash)
    .bind(&key.prefix)
    .bind(key.created_at)
    .fetch_one(pool)
    .await?;
    rows::api_key(&row, "id")
}

pub(crate) async fn find_api_key(pool: &PgPool, key_hash: &str) -> Result<Option<(ApiKeyRecord, User)>> {
    let row = sqlx::query(
        "SELECT k.id AS key_id, k.user_id, k.prefix, k.created_at, k.revoked_at, \
                u.id, u.username, u.role, u.agency_id, u.session_epoch \
         FROM api_keys k JOIN users u ON u.id = k.user_id \
         WHERE k.key_hash = $1 AND k.revoked_at IS NULL",
    )
    .bind(key_hash)
    .fetch_optional(pool)
    .await?;
    let Some(row) = row else { return Ok(None) };
    Ok(Some((rows::api_key(&row, "key_id")?, rows::user(&row)?)))
}

pub(crate) async fn list_api_keys(pool: &PgPool, user: UserId) -> Result<Vec<ApiKeyRecord>> {
    let rows = sqlx::query(
        "SELECT id, user_id, prefix, created_at, revoked_at FROM api_keys WHERE user_id = $1 \
         ORDER BY created_at, id",
    )
    .bind(user.0)
    .fetch_all(pool)
    .await?;
    rows.iter().map(|r| rows::api_key(r, "id")).collect()
}

pub(crate) async fn revoke_api_key(pool: &PgPool, id: ApiKeyId) -> Result<bool> {
    let done = sqlx::query("UPDATE api_keys SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL")
        .bind(id.0)
        .bind(Utc::now())
        .execute(pool)
        .await?;
    Ok(done.rows_affected() > 0)
}

pub(crate) async fn end_sessions(pool: &PgPool, user: UserId) -> Result<Option<User>> {
    let row = sqlx::query(
        "UPDATE users SET session_epoch = session_epoch + 1 WHERE id = $1 \
         RETURNING id, username, role, agency_id, session_epoch",
    )
    .bind(user.0)
    .fetch_optional(pool)
    .await?;
    row.as_ref().map(rows::user).transpose()
}
