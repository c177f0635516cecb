//! The accept loop: HTTP/1.1 and HTTP/2 connections with a header-read deadline (which also ends idle keep-alive
//! connections) and a cap on open connections, so idle, slow or abandoned clients cannot exhaust the process's
//! file descriptors and starve everyone else.
//!
//! At the cap, a new connection is let in by shedding the connection that has been idle longest (no request in
//! flight), the way nginx reuses idle keep-alive connections when it runs short; only when every connection is
//! busy is the newcomer refused with a 503 problem. Running out of descriptors anyway (`EMFILE`) sheds the same
//! way instead of pausing the loop.

use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Notify};
use tower::ServiceExt;

/// How connections are bounded.
#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    /// Open connections at most; past it the longest-idle one is shed, or the newcomer refused.
    pub max_connections: usize,
    /// A request's headers must arrive within this time of the connection becoming ready for them (just opened,
    /// or done with its previous response), else the connection is closed.
    pub header_read_timeout: Duration,
}

/// How long a shed connection may take to finish the request it is reading before it is closed anyway.
const SHED_GRACE: Duration = Duration::from_millis(200);
/// Pause after an accept error, so a persistent one does not spin the loop.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(5);

/// Serves `router` on `listener` until `shutdown` completes, then stops accepting and waits for the open
/// connections to finish their requests.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()> + Send,
) -> std::io::Result<()> {
    let tracker = Arc::new(Tracker::default());
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut shutdown = pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => break,
        };
        let (stream, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(e) => {
                // Out of descriptors: free one by shedding the longest-idle connection, then retry.
                if matches!(e.raw_os_error(), Some(23 | 24)) {
                    tracker.shed_longest_idle();
                } else {
                    tracing::debug!(error = %e, "accept failed");
                }
                tokio::time::sleep(ACCEPT_BACKOFF).await;
                continue;
            }
        };
        if tracker.len() >= limits.max_connections && !tracker.shed_longest_idle() {
            tokio::spawn(refuse(stream));
            continue;
        }
        let connection = tracker.open();
        tokio::spawn(serve_connection(stream, peer, router.clone(), limits, connection, stop_rx.clone()));
    }
    drop(listener);
    drop(stop_rx);
    let _ = stop_tx.send(true);
    // Every connection task holds a receiver; they are all gone once each has finished.
    stop_tx.closed().await;
    Ok(())
}

async fn serve_connection(
    stream: TcpStream,
    peer: SocketAddr,
    router: Router,
    limits: ConnectionLimits,
    connection: Connection,
    mut stop: watch::Receiver<bool>,
) {
    let activity = connection.activity.clone();
    let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
        request.extensions_mut().insert(ConnectInfo(peer));
        let busy = Busy::begin(&activity);
        let response = router.clone().oneshot(request.map(axum::body::Body::new));
        async move {
            let response = response.await;
            drop(busy);
            response
        }
    });
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder.http1().timer(TokioTimer::new()).header_read_timeout(limits.header_read_timeout);
    builder.http2().timer(TokioTimer::new()).keep_alive_interval(Some(limits.header_read_timeout));
    let mut conn = pin!(builder.serve_connection_with_upgrades(TokioIo::new(stream), service));
    let shed = connection.shed.clone();
    let mut deadline: Option<tokio::time::Instant> = None;
    // Until the first request, the protocol is not even known (the auto builder waits for the client's first bytes
    // to tell HTTP/1 from HTTP/2, with no deadline of hyper's): a silent connection is ours to end.
    let first_request_due = tokio::time::sleep(limits.header_read_timeout);
    let mut first_request_due = pin!(first_request_due);
    let mut awaiting_first = true;
    loop {
        let grace_over = async {
            match deadline {
                Some(at) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            result = conn.as_mut() => {
                if let Err(e) = result {
                    tracing::debug!(error = %e, "connection ended with an error");
                }
                break;
            }
            _ = stop.changed(), if deadline.is_none() => {
                conn.as_mut().graceful_shutdown();
                deadline = Some(tokio::time::Instant::now() + Duration::from_secs(30));
            }
            () = shed.notified(), if deadline.is_none() => {
                conn.as_mut().graceful_shutdown();
                deadline = Some(tokio::time::Instant::now() + SHED_GRACE);
            }
            () = &mut first_request_due, if awaiting_first => {
                awaiting_first = false;
                if connection.activity.requests.load(Ordering::Acquire) == 0 {
                    break;
                }
            }
            () = grace_over => {
                // A request still being answered is let finish; one whose headers never came is not waited for.
                if connection.activity.in_flight.load(Ordering::Acquire) == 0 {
                    break;
                }
                deadline = Some(tokio::time::Instant::now() + SHED_GRACE);
            }
        }
    }
    drop(connection);
}

/// Answers a connection over the cap without reading it.
async fn refuse(mut stream: TcpStream) {
    const BODY: &str = r#"{"type":"about:blank","title":"Service Unavailable","status":503,"code":"overloaded","detail":"too many open connections, retry shortly"}"#;
    let response = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/problem+json\r\nretry-after: 1\r\n\
         connection: close\r\ncontent-length: {}\r\n\r\n{BODY}",
        BODY.len()
    );
    let _ = tokio::time::timeout(SHED_GRACE, async {
        let _ = stream.write_all(response.as_bytes()).await;
        let _ = stream.shutdown().await;
    })
    .await;
}

/// What the accept loop knows of each open connection.
#[derive(Default)]
struct Tracker {
    connections: Mutex<HashMap<u64, Entry>>,
    next_id: AtomicU64,
}

#[derive(Clone)]
struct Entry {
    activity: Arc<Activity>,
    shed: Arc<Notify>,
}

/// Requests in flight on a connection, and when it was last busy (milliseconds since `epoch`).
struct Activity {
    in_flight: AtomicUsize,
    /// Requests started on the connection so far.
    requests: AtomicU64,
    last_active_ms: AtomicU64,
    epoch: Instant,
    shed_requested: AtomicBool,
}

impl Activity {
    fn touch(&self) {
        let ms = u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_active_ms.store(ms, Ordering::Release);
    }
}

/// Marks a request in flight for as long as it lives.
struct Busy(Arc<Activity>);

impl Busy {
    fn begin(activity: &Arc<Activity>) -> Self {
        activity.in_flight.fetch_add(1, Ordering::AcqRel);
        activity.requests.fetch_add(1, Ordering::AcqRel);
        activity.touch();
        Self(activity.clone())
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.touch();
        self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

/// An open connection's registration; dropping it forgets the connection.
struct Connection {
    id: u64,
    tracker: Arc<Tracker>,
    activity: Arc<Activity>,
    shed: Arc<Notify>,
}

impl Drop for Connection {
    fn drop(&mut self) {
        if let Ok(mut connections) = self.tracker.connections.lock() {
            connections.remove(&self.id);
        }
    }
}

impl Tracker {
    fn len(&self) -> usize {
        self.connections.lock().map_or(0, |c| c.len())
    }

    fn open(self: &Arc<Self>) -> Connection {
        static EPOCH: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
        let epoch = *EPOCH.get_or_init(Instant::now);
        let activity = Arc::new(Activity {
            in_flight: AtomicUsize::new(0),
            requests: AtomicU64::new(0),
            last_active_ms: AtomicU64::new(0),
            epoch,
            shed_requested: AtomicBool::new(false),
        });
        activity.touch();
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let shed = Arc::new(Notify::new());
        let entry = Entry { activity: activity.clone(), shed: shed.clone() };
        if let Ok(mut connections) = self.connections.lock() {
            connections.insert(id, entry);
        }
        Connection { id, tracker: self.clone(), activity, shed }
    }

    /// Asks the connection idle longest (none of its requests in flight, not already asked) to close. False
    /// when every connection is busy.
    fn shed_longest_idle(&self) -> bool {
        let Ok(connections) = self.connections.lock() else { return false };
        let idle = connections
            .values()
            .filter(|e| {
                e.activity.in_flight.load(Ordering::Acquire) == 0 && !e.activity.shed_requested.load(Ordering::Acquire)
            })
            .min_by_key(|e| e.activity.last_active_ms.load(Ordering::Acquire));
        match idle {
            Some(entry) => {
                entry.activity.shed_requested.store(true, Ordering::Release);
                // notify_one stores a permit, so a connection task that is not waiting yet still sees it.
                entry.shed.notify_one();
                true
            }
            None => false,
        }
    }
}

/// The default cap: the descriptors this process may open, less a reserve for the database pool, documents and
/// logs. Reads Linux's `/proc/self/limits`; elsewhere assumes 1,024.
pub fn default_max_connections(reserve: usize) -> usize {
    let soft_limit = std::fs::read_to_string("/proc/self/limits").ok().and_then(|limits| {
        limits
            .lines()
            .find(|l| l.starts_with("Max open files"))
            .and_then(|l| l.split_whitespace().nth(3))
            .and_then(|soft| soft.parse::<usize>().ok())
    });
    soft_limit.unwrap_or(1024).saturating_sub(reserve).max(16)
}
