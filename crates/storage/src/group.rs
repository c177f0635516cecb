//! Group commit: the hot write scripts of many concurrent requests (issuance, booking intake, idempotency
//! claims and answers, document hashes) share one transaction and one fsync.
//!
//! A durable commit costs one flush to disk, and on one agency every issuance also waits for the same balance
//! row, so committing one request at a time caps a node at the disk's flush rate. Instead each request hands
//! its script to this node's [`Writer`], a task that takes every script waiting, runs them one after another in
//! one transaction, each inside a savepoint, and commits once. A script that fails is rolled back to its
//! savepoint alone and its caller gets its own error; the others are unaffected. Every caller hears back only
//! after the commit, so "acknowledged" still means "on disk". Batches form by themselves: while one commits,
//! the next fills; under no load a batch is one script and nothing waits.
//!
//! A request cancelled while its script waits is dropped from the batch; once its script runs, it commits or
//! rolls back with the batch whatever the caller does (the writer is its own task), and an idempotency key
//! finds its effect recorded. The claim a request runs under travels with its script ([`super::scripts`]).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};

use crate::scripts::{current_claim, with_claim, MAX_ATTEMPTS};
use crate::{ClaimMark, Result, StorageError, WriteTx};

/// A future that borrows the transaction it runs on.
pub type TxFuture<'t, T> = Pin<Box<dyn Future<Output = T> + Send + 't>>;

/// Starts a write transaction on the backend.
pub type Begin<X> = Arc<dyn Fn() -> TxFuture<'static, std::result::Result<X, <X as WriteTx>::Error>> + Send + Sync>;

/// Scripts one transaction takes at most: bounds how long one batch holds the database's locks.
const MAX_BATCH: usize = 128;

/// Scripts waiting for the writer before callers wait to hand theirs over.
const QUEUE: usize = 4096;

/// A script the writer runs for its caller: its caller may be gone, it runs on the batch's transaction, and
/// it can be told it failed without running.
trait Pending<X: WriteTx>: Send {
    fn gone(&self) -> bool;
    fn run<'t>(self: Box<Self>, tx: &'t mut X) -> TxFuture<'t, Ran>;
    fn fail(self: Box<Self>, error: StorageError);
}

/// What a script did, and how to tell its caller once the batch's commit is decided.
struct Ran {
    ok: bool,
    tell: Box<dyn FnOnce(Fate) + Send>,
}

/// How the batch ended for the scripts that succeeded in it.
#[derive(Clone)]
enum Fate {
    Committed,
    /// The database aborted the batch in a way running it again may fix.
    Retry,
    Failed(String),
}

/// What a caller hears.
enum Reply<T> {
    Done(T),
    Retry,
    Failed(StorageError),
}

type Script<X, T> =
    dyn for<'t> Fn(&'t mut X) -> TxFuture<'t, std::result::Result<T, <X as WriteTx>::Error>> + Send + Sync;

struct Job<X: WriteTx, T> {
    script: Arc<Script<X, T>>,
    reply: oneshot::Sender<Reply<T>>,
}

impl<X: WriteTx + 'static, T: Send + 'static> Pending<X> for Job<X, T> {
    fn gone(&self) -> bool {
        self.reply.is_closed()
    }

    fn run<'t>(self: Box<Self>, tx: &'t mut X) -> TxFuture<'t, Ran> {
        let Job { script, reply } = *self;
        Box::pin(async move {
            match script(tx).await {
                Ok(value) => Ran {
                    ok: true,
                    tell: Box::new(move |fate| {
                        let _ = reply.send(match fate {
                            Fate::Committed => Reply::Done(value),
                            Fate::Retry => Reply::Retry,
                            Fate::Failed(why) => Reply::Failed(StorageError::Backend(why)),
                        });
                    }),
                },
                Err(e) => {
                    let reply_with = if X::is_retryable(&e) { Reply::Retry } else { Reply::Failed(e.into()) };
                    Ran {
                        ok: false,
                        tell: Box::new(move |_| {
                            let _ = reply.send(reply_with);
                        }),
                    }
                }
            }
        })
    }

    fn fail(self: Box<Self>, error: StorageError) {
        let _ = self.reply.send(Reply::Failed(error));
    }
}

struct Envelope<X: WriteTx> {
    claim: Option<ClaimMark>,
    job: Box<dyn Pending<X>>,
}

/// A node's group-commit writer for one database. Cloning it shares the writer; the writer's task ends when
/// the last clone is dropped.
pub struct Writer<X: WriteTx> {
    queue: mpsc::Sender<Envelope<X>>,
}

impl<X: WriteTx> Clone for Writer<X> {
    fn clone(&self) -> Self {
        Self { queue: self.queue.clone() }
    }
}

impl<X: WriteTx> std::fmt::Debug for Writer<X> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Writer").finish_non_exhaustive()
    }
}

impl<X: WriteTx + 'static> Writer<X> {
    /// Starts the writer's task on the current Tokio runtime.
    pub fn start(begin: Begin<X>) -> Self {
        let (queue, jobs) = mpsc::channel(QUEUE);
        tokio::spawn(work(begin, jobs));
        Self { queue }
    }

    /// Runs `script` in the next batch and returns its result once the batch is committed. A script the
    /// database aborted to break a cycle runs again in a later batch, up to [`MAX_ATTEMPTS`] times in all.
    pub async fn run<T, F>(&self, script: F) -> Result<T>
    where
        T: Send + 'static,
        F: for<'t> Fn(&'t mut X) -> TxFuture<'t, std::result::Result<T, X::Error>> + Send + Sync + 'static,
    {
        let script: Arc<Script<X, T>> = Arc::new(script);
        let claim = current_claim();
        for _ in 0..MAX_ATTEMPTS {
            let (reply, answer) = oneshot::channel();
            let job = Box::new(Job { script: script.clone(), reply });
            self.queue
                .send(Envelope { claim: claim.clone(), job })
                .await
                .map_err(|_| StorageError::Backend("the database writer has stopped".into()))?;
            match answer.await {
                Ok(Reply::Done(value)) => return Ok(value),
                Ok(Reply::Failed(e)) => return Err(e),
                Ok(Reply::Retry) => tracing::debug!("batch aborted by the database, running the script again"),
                Err(_) => return Err(StorageError::Backend("the database writer dropped a script".into())),
            }
        }
        Err(StorageError::Backend(format!("a write kept being aborted by the database ({MAX_ATTEMPTS} attempts)")))
    }
}

async fn work<X: WriteTx + 'static>(begin: Begin<X>, mut jobs: mpsc::Receiver<Envelope<X>>) {
    while let Some(first) = jobs.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        batch.retain(|e| !e.job.gone());
        if batch.is_empty() {
            continue;
        }
        // In a task of its own, so a script that panics fails its batch (rolled back; its callers hear that the
        // writer dropped their scripts) instead of ending the writer and with it every later write of the node.
        let begin = begin.clone();
        if let Err(e) = tokio::spawn(async move { commit_batch(&begin, batch).await }).await {
            tracing::error!(error = %e, "a group-commit batch panicked; it was rolled back");
        }
    }
}

/// Runs a batch in one transaction, each script in a savepoint of its own, commits, and tells every caller.
async fn commit_batch<X: WriteTx + 'static>(begin: &Begin<X>, batch: Vec<Envelope<X>>) {
    let mut tx = match begin().await {
        Ok(tx) => tx,
        Err(e) => {
            let why: StorageError = e.into();
            let why = why.to_string();
            for envelope in batch {
                envelope.job.fail(StorageError::Backend(why.clone()));
            }
            return;
        }
    };
    // A script alone in its batch needs no savepoint: if it fails, the whole transaction is rolled back. That
    // spares two round trips to the database when there is no load to batch.
    let alone = batch.len() == 1;
    let mut ran = Vec::with_capacity(batch.len());
    let mut rest = batch.into_iter();
    let mut broken = None;
    for envelope in rest.by_ref() {
        if !alone {
            if let Err(e) = tx.savepoint().await {
                broken = Some((e, Some(envelope)));
                break;
            }
        }
        let outcome = match envelope.claim {
            Some(mark) => with_claim(mark, envelope.job.run(&mut tx)).await,
            None => envelope.job.run(&mut tx).await,
        };
        let closed = match (alone, outcome.ok) {
            (true, _) => Ok(()),
            (false, true) => tx.release_savepoint().await,
            (false, false) => tx.rollback_to_savepoint().await,
        };
        ran.push(outcome);
        if let Err(e) = closed {
            broken = Some((e, None));
            break;
        }
    }
    let fate = match broken {
        // The transaction itself failed (the disk, the connection): nothing of the batch is kept.
        Some((e, unrun)) => {
            let fate = fate_of::<X>(e);
            let why = match &fate {
                Fate::Failed(why) => why.clone(),
                _ => "the batch was aborted".to_owned(),
            };
            for envelope in unrun.into_iter().chain(rest) {
                envelope.job.fail(StorageError::Backend(why.clone()));
            }
            drop(tx);
            fate
        }
        // Nothing succeeded, so nothing is kept: rolled back (dropped) rather than flushed to disk for nothing.
        None if ran.iter().all(|r| !r.ok) => {
            drop(tx);
            Fate::Committed
        }
        None => match tx.commit().await {
            Ok(()) => Fate::Committed,
            Err(e) => fate_of::<X>(e),
        },
    };
    for outcome in ran {
        (outcome.tell)(fate.clone());
    }
}

fn fate_of<X: WriteTx>(e: X::Error) -> Fate {
    if X::is_retryable(&e) {
        Fate::Retry
    } else {
        let e: StorageError = e.into();
        tracing::error!(error = %e, "a group commit failed");
        Fate::Failed(e.to_string())
    }
}
