//! The storage conformance suite (`tessera_storage::testsuite`) against SQLite: each check gets a fresh
//! database file in its own temporary directory, removed when the check ends.

use std::sync::Arc;

use tessera_storage_sqlite::SqliteDatabase;

tessera_storage::database_tests!(async {
    let dir = tempfile::TempDir::new().expect("temporary directory");
    let db = SqliteDatabase::open(&dir.path().join("tessera.db")).await.expect("open SQLite database");
    (Arc::new(db), dir)
});
