//! The storage conformance suite (`tessera_storage::testsuite`) against PostgreSQL: one trial per check, named
//! `<topic>::<check>` (so `cargo test -p tessera-storage-postgres -- issuance` filters as usual), each on a
//! fresh database cloned from the migrated template and dropped afterwards.
//!
//! Needs a server: `TESSERA_TEST_DATABASE_URL` (default `postgres://postgres@127.0.0.1:5432/test`) names a
//! database the user can connect to and create databases from.

use std::sync::Arc;

use libtest_mimic::{Arguments, Failed, Trial};
use tessera_storage::testsuite::{self, Check};
use tessera_storage_postgres::testing::{fresh_database, DatabaseGuard};
use tessera_storage_postgres::PostgresDatabase;

fn main() {
    let args = Arguments::from_args();
    let trials = testsuite::all().into_iter().map(|check| Trial::test(check.full_name(), move || run(check)));
    libtest_mimic::run(&args, trials.collect()).exit();
}

fn admin_url() -> String {
    std::env::var("TESSERA_TEST_DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// Runs `check` on a runtime of its own, with worker threads for the checks that race writers.
fn run(check: Check) -> Result<(), Failed> {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(4).enable_all().build()?;
    runtime.block_on(async {
        let admin = admin_url();
        let url = fresh_database(&admin).await?;
        // Drops the database when the check ends, passed or panicked.
        let _guard = DatabaseGuard::new(&admin, &url);
        // Enough connections for the concurrency checks to actually contend.
        let db = PostgresDatabase::connect(&url, 10).await?;
        check.run(Arc::new(db)).await;
        Ok(())
    })
}
