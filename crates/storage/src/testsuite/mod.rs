//! The conformance suite every storage backend must pass, so all backends behave the same.
//!
//! A check is an async fn taking a fresh, empty database; it panics (through `assert!`) when the backend
//! misbehaves. Checks are grouped by topic, one module each (`agencies`, `issuance`, `outbox`, ...), and
//! [`all`] lists them as [`Check`]s named `<topic>::<check>`. A backend runs each on its own database with a
//! `harness = false` test (`libtest-mimic`), so `cargo test -p <backend> -- issuance` filters as usual and a
//! failure names the behaviour that broke. In a backend crate's `tests/conformance.rs`:
//!
//! ```text
//! let trials = tessera_storage::testsuite::all().into_iter().map(|check| {
//!     Trial::test(check.full_name(), move || {
//!         let runtime = tokio::runtime::Runtime::new()?;
//!         runtime.block_on(async { check.run(Arc::new(fresh_database().await)).await });
//!         Ok(())
//!     })
//! });
//! ```
//!
//! # No check can be forgotten
//!
//! A check is written inside the `checks!` macro of its topic module, which defines the fn and lists it in
//! the module's `CHECKS` from the same tokens: there is no separate list to keep, so a defined check is a
//! registered one and the counts cannot differ. What remains is collecting each module's `CHECKS` in [`all`]:
//! `CHECKS` is `pub(super)` and the check fns are private, so a module left out of [`all`] is dead code, which
//! fails `cargo clippy --workspace --all-targets -- -D warnings` (and warns in every build). A topic file never
//! declared with `mod` is not compiled at all; the unit test at the end of this module catches that, and
//! counts the check fns written in the files against [`all`].
//!
//! rustfmt does not format inside macro invocations: keep the checks' lines within 120 columns by hand.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use crate::Database;

/// Defines the check fns of a topic module and, from the same tokens, its `CHECKS` (each fn once, in the
/// order written). Every item must be `async fn name(db: Arc<dyn Database>) { ... }`, doc comments allowed.
macro_rules! checks {
    ($($(#[$attr:meta])* async fn $name:ident($db:ident: Arc<dyn Database>) $body:block)*) => {
        $(
            $(#[$attr])*
            async fn $name($db: Arc<dyn Database>) $body
        )*

        /// This topic's checks, in the order they are written.
        pub(super) const CHECKS: &[$crate::testsuite::Check] = &[
            $($crate::testsuite::Check::new(module_path!(), stringify!($name), |db| Box::pin($name(db))),)*
        ];
    };
}

mod data;
mod sinks;
mod transitions;

mod agencies;
mod audit;
mod bookings;
mod event_issuance;
mod group_commit;
mod health;
mod idempotency;
mod identity;
mod issuance;
mod lifecycle;
mod orders;
mod outbox;
mod shared;
mod webhooks;

pub use data::{
    draft_for, event_booking, flight_booking, orders_for, EVENT_MATCH, EVENT_PASS, EVENT_PAYABLE_MINOR, PAYABLE_MINOR,
    PREFIX,
};
pub use sinks::{EventSink, FailingSink, PendingSink, RecordingSink, TransitionRecorder};

/// What running a check returns: a future that completes when the check passed and panics when it failed.
pub type CheckFuture = Pin<Box<dyn Future<Output = ()> + Send>>;

/// One check of the suite, made only by `checks!`.
#[derive(Clone, Copy)]
pub struct Check {
    module: &'static str,
    name: &'static str,
    run: fn(Arc<dyn Database>) -> CheckFuture,
}

impl Check {
    const fn new(module: &'static str, name: &'static str, run: fn(Arc<dyn Database>) -> CheckFuture) -> Self {
        Self { module, name, run }
    }

    /// The topic module the check is written in, e.g. `issuance`.
    pub fn topic(&self) -> &'static str {
        self.module.rsplit("::").next().unwrap_or(self.module)
    }

    /// The check's own name, e.g. `issue_happy_path`.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// `<topic>::<check>`, the name a test harness reports it under.
    pub fn full_name(&self) -> String {
        format!("{}::{}", self.topic(), self.name)
    }

    /// Runs the check against `db`, which must be fresh and empty.
    pub fn run(&self, db: Arc<dyn Database>) -> CheckFuture {
        (self.run)(db)
    }
}

/// Every check of the suite, topic by topic.
pub fn all() -> Vec<Check> {
    [
        health::CHECKS,
        shared::CHECKS,
        agencies::CHECKS,
        identity::CHECKS,
        bookings::CHECKS,
        issuance::CHECKS,
        group_commit::CHECKS,
        audit::CHECKS,
        idempotency::CHECKS,
        orders::CHECKS,
        event_issuance::CHECKS,
        outbox::CHECKS,
        lifecycle::CHECKS,
        webhooks::CHECKS,
    ]
    .concat()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::path::Path;

    /// The files under `src/testsuite` that define checks, with how many each defines, read from the source:
    /// a file nobody declared with `mod` compiles to nothing, so only its text shows its checks.
    fn written() -> Vec<(String, usize)> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/testsuite");
        let mut files = Vec::new();
        for entry in std::fs::read_dir(&dir).expect("read src/testsuite") {
            let path = entry.expect("directory entry").path();
            let text = std::fs::read_to_string(&path).expect("read a topic file");
            // A check's signature, which `checks!` insists on; helpers take `&dyn Database`.
            let count = text.lines().filter(|l| l.contains("fn ") && l.contains("(db: Arc<dyn Database>)")).count();
            if text.contains("\nchecks! {") {
                let stem = path.file_stem().expect("file name").to_string_lossy().into_owned();
                files.push((stem, count));
            }
        }
        files
    }

    #[test]
    fn every_topic_file_is_collected() {
        let topics: BTreeSet<String> = super::all().iter().map(|c| c.topic().to_owned()).collect();
        let files: BTreeSet<String> = written().into_iter().map(|(stem, _)| stem).collect();
        assert_eq!(files, topics, "every file with a `checks!` block must be a module listed in `all()`");
    }

    #[test]
    fn every_written_check_is_registered_once() {
        let checks = super::all();
        let names: BTreeSet<String> = checks.iter().map(|c| c.full_name()).collect();
        assert_eq!(names.len(), checks.len(), "check names are unique");
        let written: usize = written().iter().map(|(_, count)| count).sum();
        assert_eq!(checks.len(), written, "every check-shaped fn written in a topic file is a registered check");
    }
}
