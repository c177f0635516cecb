//! The storage conformance suite (`tessera_storage::testsuite`) against SQLite: one trial per check, named
//! `<topic>::<check>` (so `cargo test -p tessera-storage-sqlite -- issuance` filters as usual), each on a fresh
//! database file in its own temporary directory, removed when the check ends.

use std::sync::Arc;

use libtest_mimic::{Arguments, Failed, Trial};
use tessera_storage::testsuite::{self, Check};
use tessera_storage_sqlite::SqliteDatabase;

fn main() {
    let args = Arguments::from_args();
    let trials = testsuite::all().into_iter().map(|check| Trial::test(check.full_name(), move || run(check)));
    libtest_mimic::run(&args, trials.collect()).exit();
}

/// Runs `check` on a runtime of its own, with worker threads for the checks that race writers.
fn run(check: Check) -> Result<(), Failed> {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(4).enable_all().build()?;
    runtime.block_on(async {
        let dir = tempfile::TempDir::new()?;
        let db = SqliteDatabase::open(&dir.path().join("tessera.db")).await?;
        check.run(Arc::new(db)).await;
        Ok(())
    })
}
