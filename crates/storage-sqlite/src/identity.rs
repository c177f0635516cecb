//! Users, their password hashes and their API keys: what authentication looks up.
//!
//! Only hashes are stored. An API key is found by the SHA-256 of the presented key, and a revoked key is
//! simply not found, so the caller cannot forget to check revocation.

use chrono::Utc;
use sqlx::SqlitePool;
use tessera_core::ids::{AgencyId, ApiKeyId, UserId};
use tessera_core::user::User;
use tessera_storage::{ApiKeyRecord, Credentials, NewApiKey, NewUser, StorageError};

use crate::rows::{self, qualified, API_KEY_COLUMNS, USER_COLUMNS};
use crate::{write_error, Result};

pub(crate) async fn create_user(pool: &SqlitePool, user: &NewUser) -> Result<User> {
    let row = sqlx::query(&format!(
        "INSERT INTO users (id, username, password_hash, role, agency_id, created_at) VALUES (?, ?, ?, ?, ?, ?) \
         RETURNING {USER_COLUMNS}"
    ))
    .bind(user.id.to_string())
    .bind(&user.username)
    .bind(&user.password_hash)
    .bind(user.role.as_str())
    .bind(user.agency_id.map(|a| a.to_string()))
    .bind(user.created_at)
    .fetch_one(pool)
    .await
    .map_err(|e| {
        // Two unique columns: tell a taken username (a client's mistake) from a reused id (a bug).
        let username_taken =
            e.as_database_error().is_some_and(|d| d.is_unique_violation() && d.message().contains("users.username"));
        if username_taken {
            StorageError::Conflict("username")
        } else {
            write_error(e, "user")
        }
    })?;
    rows::user(&row)
}

pub(crate) async fn get_user(pool: &SqlitePool, id: UserId) -> Result<Option<User>> {
    let row = sqlx::query(&format!("SELECT {USER_COLUMNS} FROM users WHERE id = ?"))
        .bind(id.to_string())
        .fetch_optional(pool)
        .await?;
    row.as_ref().map(rows::user).transpose()
}

pub(crate) async fn find_credentials(pool: &SqlitePool, username: &str) -> Result<Option<Credentials>> {
    let row = sqlx::query(&format!("SELECT {USER_COLUMNS}, password_hash FROM users WHERE username = ?"))
        .bind(username)
        .fetch_optional(pool)
        .await?;
    row.map(|row| Ok(Credentials { user: rows::user(&row)?, password_hash: rows::get(&row, "password_hash")? }))
        .transpose()
}

pub(crate) async fn list_users(pool: &SqlitePool, agency: Option<AgencyId>) -> Result<Vec<User>> {
    let rows = match agency {
        Some(agency) => {
            sqlx::query(&format!("SELECT {USER_COLUMNS} FROM users WHERE agency_id = ? ORDER BY username"))
                .bind(agency.to_string())
                .fetch_all(pool)
                .await
        }
        None => sqlx::query(&format!("SELECT {USER_COLUMNS} FROM users ORDER BY username")).fetch_all(pool).await,
    }?;
    rows.iter().map(rows::user).collect()
}

pub(crate) async fn create_api_key(pool: &SqlitePool, key: &NewApiKey) -> Result<ApiKeyRecord> {
    let row = sqlx::query(&format!(
        "INSERT INTO api_keys (id, user_id, key_hash, prefix, created_at) VALUES (?, ?, ?, ?, ?) \
         RETURNING {API_KEY_COLUMNS}"
    ))
    .bind(key.id.to_string())
    .bind(key.user_id.to_string())
    .bind(&key.key_hash)
    .bind(&key.prefix)
    .bind(key.created_at)
    .fetch_one(pool)
    .await
    .map_err(|e| write_error(e, "api key"))?;
    rows::api_key(&row)
}

pub(crate) async fn find_api_key(pool: &SqlitePool, key_hash: &str) -> Result<Option<(ApiKeyRecord, User)>> {
    // The user's columns are aliased so the key's `id` and the user's `id` do not collide.
    let row = sqlx::query(&format!(
        "SELECT {}, u.id AS user_row_id, u.username, u.role, u.agency_id, u.session_epoch \
         FROM api_keys k JOIN users u ON u.id = k.user_id \
         WHERE k.key_hash = ? AND k.revoked_at IS NULL",
        qualified(API_KEY_COLUMNS, "k")
    ))
    .bind(key_hash)
    .fetch_optional(pool)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let key = rows::api_key(&row)?;
    let user = rows::user_with_id(&row, "user_row_id")?;
    Ok(Some((key, user)))
}

pub(crate) async fn list_api_keys(pool: &SqlitePool, user: UserId) -> Result<Vec<ApiKeyRecord>> {
    let rows = sqlx::query(&format!("SELECT {API_KEY_COLUMNS} FROM api_keys WHERE user_id = ? ORDER BY id"))
        .bind(user.to_string())
        .fetch_all(pool)
        .await?;
    rows.iter().map(rows::api_key).collect()
}

pub(crate) async fn revoke_api_key(pool: &SqlitePool, id: ApiKeyId) -> Result<bool> {
    let done = sqlx::query("UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL")
        .bind(Utc::now())
        .bind(id.to_string())
        .execute(pool)
        .await?;
    Ok(done.rows_affected() > 0)
}

pub(crate) async fn end_sessions(pool: &SqlitePool, user: UserId) -> Result<Option<User>> {
    let row = sqlx::query(&format!(
        "UPDATE users SET session_epoch = session_epoch + 1 WHERE id = ? RETURNING {USER_COLUMNS}"
    ))
    .bind(user.to_string())
    .fetch_optional(pool)
    .await?;
    row.as_ref().map(rows::user).transpose()
}
