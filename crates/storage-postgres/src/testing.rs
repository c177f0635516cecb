//! Throwaway databases for tests, cloned from a migrated template (the pattern crates.io uses).
//!
//! Migrating a database takes far longer than copying one, so each process migrates (at most) once: it
//! makes sure a template database named after a hash of the migrations exists, then every
//! [`fresh_database`] is a `CREATE DATABASE ... TEMPLATE` of it. Test processes running side by side
//! (`cargo test` runs test binaries of several crates) coordinate through an advisory lock on the admin
//! database, and a template only ever appears under its final name once fully migrated (it is built under a
//! temporary name and renamed), so a crash halfway leaves nothing that looks usable.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use sqlx::postgres::PgPoolOptions;
// Statements are run as `&str` through `Executor::execute`: without arguments sqlx sends them with the
// simple query protocol (required for CREATE/DROP DATABASE), and unlike `raw_sql(..).execute(..)` the boxed
// future it returns keeps our futures `Send` for callers that spawn them.
use sqlx::{Connection, Executor, PgConnection};
use tessera_storage::StorageError;
use tokio::sync::OnceCell;
use uuid::Uuid;

use crate::MIGRATOR;

/// Prefix of every database [`fresh_database`] creates; [`drop_database`] refuses to drop anything else.
pub const TEST_DATABASE_PREFIX: &str = "tessera_test_";
const TEMPLATE_PREFIX: &str = "tessera_template_";
/// Arbitrary key of the advisory lock guarding template creation across processes.
const TEMPLATE_LOCK: i64 = 0x7465_7373_6572_6101;
/// PostgreSQL's `object_in_use`: the template (or the database being renamed) still has sessions.
const OBJECT_IN_USE: &str = "55006";
const ATTEMPTS: u32 = 40;

/// The template of this process, created or found on first use.
static TEMPLATE: OnceCell<String> = OnceCell::const_new();

/// Creates an empty, fully migrated database next to the one `admin_url` points at (same server and user)
/// and returns its URL. Safe to call from many tests and processes at once. The template is looked up once
/// per process, on the server of the first `admin_url` given; a process uses one server for its tests.
pub async fn fresh_database(admin_url: &str) -> Result<String, StorageError> {
    let template = TEMPLATE.get_or_try_init(|| ensure_template(admin_url)).await?;
    let name = format!("{TEST_DATABASE_PREFIX}{}", Uuid::new_v4().simple());
    let url = with_database(admin_url, &name)?;
    let mut admin = connect(admin_url).await?;
    let created =
        with_retries(&mut admin, &format!("CREATE DATABASE {} TEMPLATE {}", quote(&name), quote(template))).await;
    let _ = admin.close().await;
    created?;
    Ok(url)
}

/// Drops a database made by [`fresh_database`], even if connections to it are still open. Best effort: a
/// failure is logged, never raised, since it only leaves garbage behind.
pub async fn drop_database(admin_url: &str, url: &str) {
    let Some(name) = database_name(url) else {
        tracing::warn!(url, "no database name in URL, nothing dropped");
        return;
    };
    if !name.starts_with(TEST_DATABASE_PREFIX) {
        tracing::warn!(name, "refusing to drop a database that is not a test database");
        return;
    }
    match connect(admin_url).await {
        Ok(mut admin) => {
            let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", quote(name));
            if let Err(e) = admin.execute(sql.as_str()).await {
                tracing::warn!(name, error = %e, "could not drop test database");
            }
            let _ = admin.close().await;
        }
        Err(e) => tracing::warn!(name, error = %e, "could not drop test database"),
    }
}

/// Drops its database (with [`drop_database`]) when it goes out of scope, e.g. at the end of a test, even
/// one that panicked. Dropping blocks the current thread briefly: it runs the `DROP DATABASE` on a
/// helper thread with its own runtime, since `Drop` cannot await.
#[derive(Debug)]
pub struct DatabaseGuard {
    admin_url: String,
    url: String,
}

impl DatabaseGuard {
    /// Guards `url`, a database made by [`fresh_database`] from `admin_url`.
    pub fn new(admin_url: &str, url: &str) -> Self {
        Self { admin_url: admin_url.to_owned(), url: url.to_owned() }
    }

    pub fn url(&self) -> &str {
        &self.url
    }
}

impl Drop for DatabaseGuard {
    fn drop(&mut self) {
        let (admin_url, url) = (std::mem::take(&mut self.admin_url), std::mem::take(&mut self.url));
        let dropper =
            std::thread::spawn(move || match tokio::runtime::Builder::new_current_thread().enable_all().build() {
                Ok(runtime) => runtime.block_on(drop_database(&admin_url, &url)),
                Err(e) => tracing::warn!(url, error = %e, "no runtime to drop the test database"),
            });
        let _ = dropper.join();
    }
}

/// Finds or builds the template for the migrations compiled into this crate; returns its name.
async fn ensure_template(admin_url: &str) -> Result<String, StorageError> {
    let name = format!("{TEMPLATE_PREFIX}{:016x}", migrations_hash());
    let mut admin = connect(admin_url).await?;
    // Session-level lock: released explicitly below, or by the server when this connection goes away.
    sqlx::query("SELECT pg_advisory_lock($1)").bind(TEMPLATE_LOCK).execute(&mut admin).await.map_err(backend)?;
    let built = build_template_if_missing(&mut admin, admin_url, &name).await;
    let _ = sqlx::query("SELECT pg_advisory_unlock($1)").bind(TEMPLATE_LOCK).execute(&mut admin).await;
    let _ = admin.close().await;
    built.map(|()| name)
}

async fn build_template_if_missing(admin: &mut PgConnection, admin_url: &str, name: &str) -> Result<(), StorageError> {
    let exists: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
        .bind(name)
        .fetch_one(&mut *admin)
        .await
        .map_err(backend)?;
    if exists {
        return Ok(());
    }
    // We hold the lock, so a database under the building name is the leftover of a crashed build.
    let building = format!("{name}_build");
    with_retries(admin, &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", quote(&building))).await?;
    with_retries(admin, &format!("CREATE DATABASE {}", quote(&building))).await?;
    // A one-connection pool rather than a bare connection: `Migrator::run` on `&mut PgConnection` makes this
    // future not `Send` for every lifetime, and callers spawn `fresh_database` onto tasks.
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .connect(&with_database(admin_url, &building)?)
        .await
        .map_err(|e| StorageError::Backend(format!("connecting to {building}: {e}")))?;
    let migrated =
        send(MIGRATOR.run(&pool)).await.map_err(|e| StorageError::Backend(format!("migrating template: {e}")));
    // Close before renaming: neither RENAME nor a later CREATE ... TEMPLATE tolerates other sessions.
    pool.close().await;
    migrated?;
    with_retries(admin, &format!("ALTER DATABASE {} RENAME TO {}", quote(&building), quote(name))).await?;
    // Nobody needs to connect to a template, and a session on it (autovacuum's, on a loaded machine) would make
    // every CREATE ... TEMPLATE of it fail; closing it to connections keeps it usable.
    with_retries(admin, &format!("ALTER DATABASE {} WITH ALLOW_CONNECTIONS false", quote(name))).await
}

/// Runs a database-level statement, retrying while the database involved still has other sessions (a
/// just-closed connection's server process can take a moment to exit).
async fn with_retries(admin: &mut PgConnection, sql: &str) -> Result<(), StorageError> {
    let mut attempt = 1;
    loop {
        match admin.execute(sql).await {
            Ok(_) => return Ok(()),
            Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some(OBJECT_IN_USE) && attempt < ATTEMPTS => {
                // Past a few tries, whoever is still on the database (a closed pool's lingering backend, an
                // autovacuum worker of a busy machine) is not going to leave soon by itself: ask it to.
                if attempt >= 5 {
                    terminate_sessions_of(admin, sql).await;
                }
                tokio::time::sleep(Duration::from_millis((50 * u64::from(attempt)).min(500))).await;
                attempt += 1;
            }
            Err(e) => return Err(StorageError::Backend(format!("{sql}: {e}"))),
        }
    }
}

/// Ends the other sessions on the test databases `sql` names (ours only: their names carry our prefixes).
async fn terminate_sessions_of(admin: &mut PgConnection, sql: &str) {
    let names: Vec<&str> = sql
        .split('"')
        .skip(1)
        .step_by(2)
        .filter(|n| n.starts_with(TEST_DATABASE_PREFIX) || n.starts_with(TEMPLATE_PREFIX))
        .collect();
    for name in names {
        let _ = sqlx::query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
        )
        .bind(name)
        .execute(&mut *admin)
        .await;
    }
}

/// Boxes a future as `Send`. `Migrator::run` is a generic `async fn` whose future rustc cannot prove `Send`
/// "for all lifetimes" once it is nested in ours (rust-lang/rust#102211), which would make `fresh_database`
/// impossible to spawn onto a task; boxing it here checks `Send` at a concrete lifetime instead.
fn send<'a, T>(future: impl Future<Output = T> + Send + 'a) -> Pin<Box<dyn Future<Output = T> + Send + 'a>> {
    Box::pin(future)
}

async fn connect(url: &str) -> Result<PgConnection, StorageError> {
    PgConnection::connect(url).await.map_err(|e| StorageError::Backend(format!("connecting to {url}: {e}")))
}

fn backend(e: sqlx::Error) -> StorageError {
    StorageError::Backend(e.to_string())
}

/// FNV-1a over the versions and checksums of the migrations: any change to them names a new template.
fn migrations_hash() -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for migration in MIGRATOR.iter() {
        for byte in migration.version.to_le_bytes().iter().chain(migration.checksum.iter()) {
            hash ^= u64::from(*byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    hash
}

/// Splits `scheme://authority/database?query` into its parts.
fn split_url(url: &str) -> Option<(&str, &str, &str, &str)> {
    let scheme_end = url.find("://")? + 3;
    let (scheme, rest) = url.split_at(scheme_end);
    let (path, query) = rest.find('?').map_or((rest, ""), |i| rest.split_at(i));
    let (authority, database) = path.find('/').map_or((path, ""), |i| (&path[..i], &path[i + 1..]));
    Some((scheme, authority, database, query))
}

/// `url` with its database replaced by `name` (user, host, port and query parameters kept).
fn with_database(url: &str, name: &str) -> Result<String, StorageError> {
    let (scheme, authority, _, query) =
        split_url(url).ok_or_else(|| StorageError::Backend(format!("not a postgres:// URL: {url}")))?;
    Ok(format!("{scheme}{authority}/{name}{query}"))
}

fn database_name(url: &str) -> Option<&str> {
    split_url(url).map(|(_, _, database, _)| database).filter(|d| !d.is_empty())
}

/// Quotes an identifier; the names here are generated, but quoting keeps that from mattering.
fn quote(identifier: &str) -> String {
    format!("\"{}\"", identifier.replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert_eq!(with_database("postgres://u@h:5432/test", "x").ok().as_deref(), Some("postgres://u@h:5432/x"));
        assert_eq!(
            with_database("postgres://u@h/test?sslmode=disable", "x").ok().as_deref(),
            Some("postgres://u@h/x?sslmode=disable")
        );
        assert_eq!(with_database("postgres://u@h", "x").ok().as_deref(), Some("postgres://u@h/x"));
        assert!(with_database("nonsense", "x").is_err());
        assert_eq!(database_name("postgres://u@h/tessera_test_1?a=b"), Some("tessera_test_1"));
        assert_eq!(database_name("postgres://u@h"), None);
        assert_eq!(quote("a\"b"), "\"a\"\"b\"");
    }
}
