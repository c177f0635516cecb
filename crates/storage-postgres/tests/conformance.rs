//! The backend-agnostic conformance suite (`tessera_storage::testsuite`) run against PostgreSQL, each check
//! on a fresh database cloned from the migrated template and dropped afterwards.
//!
//! Needs a server: `TESSERA_TEST_DATABASE_URL` (default `postgres://postgres@127.0.0.1:5432/test`) names a
//! database the user can connect to and create databases from.

use std::sync::Arc;

use tessera_storage_postgres::testing::{fresh_database, DatabaseGuard};
use tessera_storage_postgres::PostgresDatabase;

fn admin_url() -> String {
    std::env::var("TESSERA_TEST_DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

async fn database() -> (Arc<PostgresDatabase>, DatabaseGuard) {
    let admin = admin_url();
    let url = fresh_database(&admin).await.expect("fresh test database");
    let guard = DatabaseGuard::new(&admin, &url);
    // Enough connections for the concurrency checks to actually contend.
    let db = PostgresDatabase::connect(&url, 10).await.expect("connect to the test database");
    (Arc::new(db), guard)
}

tessera_storage::database_tests!(database());
