//! The downloads' access log, written in batches. A download must not wait for a write transaction of its own
//! (that capped downloads at the database's commit rate), so [`AccessLog::record`] puts the entry in a bounded
//! queue and one background task writes what has queued in one transaction: when [`AccessLogSettings::batch`]
//! entries are waiting, or [`AccessLogSettings::flush_interval`] after the first of them arrived.
//!
//! - **Backpressure, never loss on overload:** the queue holds [`AccessLogSettings::capacity`] entries; when it
//!   is full, `record` waits for room, so a database that cannot keep up slows downloads instead of dropping
//!   their log rows.
//! - **Reads see what was served:** [`AccessLog::flush`] returns once everything queued before it is written;
//!   the services that read the audit trail call it first, so a download answered before the read is listed.
//! - **Shutdown:** the server flushes after the last request has finished (`Tessera::flush_access_log`).
//! - **Crash:** entries still queued (at most one flush interval's worth) are lost on a crash or `kill -9`. A
//!   download is a read that changed nothing, and its answer never promised a log row; every write the server
//!   acknowledges keeps its audit entry in its own transaction as before.
//! - **A failed write** is retried ([`RETRIES`] times, backing off); a batch the database refuses throughout is
//!   logged as an error with its size and dropped, as a failed single append was before (a traveller still gets
//!   the ticket).

use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use tessera_storage::{Database, NewAuditEntry};
use tokio::sync::{mpsc, oneshot};

/// How the access log batches its writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccessLogSettings {
    /// Longest an entry waits in the queue before its batch is written.
    pub flush_interval: Duration,
    /// Most entries written in one transaction.
    pub batch: usize,
    /// Entries the queue holds; past it, downloads wait for room.
    pub capacity: usize,
}

impl Default for AccessLogSettings {
    fn default() -> Self {
        Self { flush_interval: Duration::from_millis(50), batch: 500, capacity: 4096 }
    }
}

/// How often a batch is tried before it is given up, and the first pause between tries (doubling).
const RETRIES: u32 = 3;
const RETRY_PAUSE: Duration = Duration::from_millis(100);

enum Command {
    Entry(Box<NewAuditEntry>),
    /// Answered once every entry queued before it is written (or given up).
    Flush(oneshot::Sender<()>),
}

/// The queue and its writer; shared by every clone of the application.
pub(crate) struct AccessLog {
    settings: AccessLogSettings,
    sender: mpsc::Sender<Command>,
    /// The writer's end until the writer starts: it is spawned on first use, inside the runtime that serves.
    receiver: Mutex<Option<mpsc::Receiver<Command>>>,
    started: OnceLock<()>,
    db: Arc<dyn Database>,
}

impl AccessLog {
    pub(crate) fn new(db: Arc<dyn Database>, settings: AccessLogSettings) -> Self {
        let settings = AccessLogSettings {
            batch: settings.batch.max(1),
            capacity: settings.capacity.max(1),
            flush_interval: settings.flush_interval,
        };
        let (sender, receiver) = mpsc::channel(settings.capacity);
        Self { settings, sender, receiver: Mutex::new(Some(receiver)), started: OnceLock::new(), db }
    }

    /// Queues `entry`, waiting for room when the queue is full.
    pub(crate) async fn record(&self, entry: NewAuditEntry) {
        self.start();
        if self.sender.send(Command::Entry(Box::new(entry))).await.is_err() {
            tracing::error!("the access log writer has stopped; a download's entry is lost");
        }
    }

    /// Returns once every entry queued before the call is written.
    pub(crate) async fn flush(&self) {
        self.start();
        let (done, written) = oneshot::channel();
        if self.sender.send(Command::Flush(done)).await.is_ok() {
            // An error means the writer is gone, and with it anything left to wait for.
            let _ = written.await;
        }
    }

    fn start(&self) {
        self.started.get_or_init(|| {
            let receiver = self.receiver.lock().ok().and_then(|mut r| r.take());
            if let Some(receiver) = receiver {
                let writer = Writer { db: self.db.clone(), settings: self.settings };
                tokio::spawn(writer.run(receiver));
            }
        });
    }
}

/// Sorts a command into the batch or the flushes waiting for it.
fn take(command: Command, batch: &mut Vec<NewAuditEntry>, waiting: &mut Vec<oneshot::Sender<()>>) {
    match command {
        Command::Entry(entry) => batch.push(*entry),
        Command::Flush(done) => waiting.push(done),
    }
}

struct Writer {
    db: Arc<dyn Database>,
    settings: AccessLogSettings,
}

impl Writer {
    /// Runs until every sender is gone (the application was dropped), writing what is left first.
    async fn run(self, mut receiver: mpsc::Receiver<Command>) {
        let mut batch: Vec<NewAuditEntry> = Vec::with_capacity(self.settings.batch);
        let mut waiting: Vec<oneshot::Sender<()>> = Vec::new();
        let mut commands: Vec<Command> = Vec::with_capacity(self.settings.batch);
        loop {
            // Wait for the first command of the next batch.
            let Some(first) = receiver.recv().await else { break };
            take(first, &mut batch, &mut waiting);
            let deadline = tokio::time::Instant::now() + self.settings.flush_interval;
            // Gather until the batch is full, a flush is asked for, or the interval has passed.
            while waiting.is_empty() && batch.len() < self.settings.batch {
                let room = self.settings.batch - batch.len();
                let got = tokio::select! {
                    got = receiver.recv_many(&mut commands, room) => got,
                    () = tokio::time::sleep_until(deadline) => break,
                };
                if got == 0 {
                    // Every sender is gone: write what there is, then stop.
                    break;
                }
                for command in commands.drain(..) {
                    take(command, &mut batch, &mut waiting);
                }
            }
            self.write(&mut batch).await;
            for done in waiting.drain(..) {
                let _ = done.send(());
            }
        }
        self.write(&mut batch).await;
        for done in waiting.drain(..) {
            let _ = done.send(());
        }
    }

    async fn write(&self, batch: &mut Vec<NewAuditEntry>) {
        if batch.is_empty() {
            return;
        }
        let mut pause = RETRY_PAUSE;
        for attempt in 1..=RETRIES {
            match self.db.append_audit_batch(batch).await {
                Ok(()) => {
                    batch.clear();
                    return;
                }
                Err(e) if attempt < RETRIES => {
                    tracing::warn!(error = %e, entries = batch.len(), attempt, "could not write the access log; retrying");
                    tokio::time::sleep(pause).await;
                    pause *= 2;
                }
                Err(e) => {
                    tracing::error!(error = %e, entries = batch.len(), "could not write the access log; entries lost");
                }
            }
        }
        batch.clear();
    }
}
