//! The load generator: N closed-loop keep-alive HTTP/1.1 connections, every latency in an HDR histogram.
//!
//! Each connection is its own `reqwest::Client` holding at most one idle connection, so N tasks are exactly N TCP
//! connections, each sending its next request as soon as the previous answer has been read in full (closed loop:
//! the rate is what the server sustains, not what we offer).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use hdrhistogram::Histogram;
use reqwest::Method;

/// One request to send; `index` is the work item it came from.
#[derive(Clone)]
pub struct Req {
    pub method: Method,
    pub url: String,
    pub api_key: Option<Arc<str>>,
    /// Extra header (e.g. pretix's `Authorization: Token ...`).
    pub header: Option<(&'static str, Arc<str>)>,
    pub json: Option<Arc<Vec<u8>>>,
}

impl Req {
    pub fn get(url: String, api_key: Option<Arc<str>>) -> Self {
        Self { method: Method::GET, url, api_key, header: None, json: None }
    }

    pub fn post(url: String, api_key: Option<Arc<str>>, json: Option<Arc<Vec<u8>>>) -> Self {
        Self { method: Method::POST, url, api_key, header: None, json }
    }
}

/// Produces the request for work item `i`, or `None` when there is no more work.
pub type Work = Arc<dyn Fn(u64) -> Option<Req> + Send + Sync>;

/// How long to run: until `duration` has passed or `max_requests` were sent (or the work runs out).
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    pub connections: usize,
    pub duration: Option<Duration>,
    pub max_requests: Option<u64>,
    /// Keep the bodies of successful answers (for invariants and follow-up work).
    pub keep_bodies: bool,
}

/// What a run measured.
pub struct Outcome {
    /// Latencies of every answered request (any status), in microseconds.
    pub latency_us: Histogram<u64>,
    pub ok: u64,
    /// Failed requests by HTTP status; 0 counts transport errors (connect, reset, timeout).
    pub errors: BTreeMap<u16, u64>,
    pub elapsed: Duration,
    /// `(work item, body)` of every 2xx answer, when asked for.
    pub bodies: Vec<(u64, Vec<u8>)>,
}

impl Outcome {
    pub fn requests(&self) -> u64 {
        self.ok + self.errors.values().sum::<u64>()
    }

    pub fn error_count(&self) -> u64 {
        self.errors.values().sum()
    }

    pub fn rate(&self) -> f64 {
        self.requests() as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// `409×3 io×1`, or `0`.
    pub fn errors_text(&self) -> String {
        if self.errors.is_empty() {
            return "0".into();
        }
        self.errors
            .iter()
            .map(|(s, n)| if *s == 0 { format!("io×{n}") } else { format!("{s}×{n}") })
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// Bodies parsed as JSON, in work-item order.
    pub fn json_bodies(&self) -> anyhow::Result<Vec<(u64, serde_json::Value)>> {
        let mut out = Vec::with_capacity(self.bodies.len());
        for (i, b) in &self.bodies {
            out.push((*i, serde_json::from_slice(b).with_context(|| format!("answer to work item {i} is not JSON"))?));
        }
        out.sort_by_key(|(i, _)| *i);
        Ok(out)
    }
}

fn new_histogram() -> Histogram<u64> {
    // 1 µs to 10 min at 3 significant digits: bounds are constants, so this cannot fail.
    Histogram::new_with_bounds(1, 600_000_000, 3)
        .unwrap_or_else(|_| Histogram::new(3).unwrap_or_else(|_| unreachable!()))
}

fn client() -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .http1_only()
        .pool_max_idle_per_host(1)
        .tcp_nodelay(true)
        .timeout(Duration::from_secs(120))
        .build()?)
}

/// Runs `work` with `plan.connections` closed-loop connections.
pub async fn run(plan: Plan, work: Work) -> anyhow::Result<Outcome> {
    let next = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let deadline = plan.duration.map(|d| start + d);
    let mut tasks = Vec::with_capacity(plan.connections);
    for _ in 0..plan.connections.max(1) {
        let client = client()?;
        let next = next.clone();
        let work = work.clone();
        tasks.push(tokio::spawn(async move {
            let mut hist = new_histogram();
            let mut ok = 0u64;
            let mut errors: BTreeMap<u16, u64> = BTreeMap::new();
            let mut bodies = Vec::new();
            loop {
                if deadline.is_some_and(|d| Instant::now() >= d) {
                    break;
                }
                let i = next.fetch_add(1, Ordering::Relaxed);
                if plan.max_requests.is_some_and(|m| i >= m) {
                    break;
                }
                let Some(req) = work(i) else { break };
                let mut rb = client.request(req.method, &req.url);
                if let Some(k) = &req.api_key {
                    rb = rb.header("X-API-KEY", k.as_ref());
                }
                if let Some((name, value)) = &req.header {
                    rb = rb.header(*name, value.as_ref());
                }
                if let Some(body) = &req.json {
                    rb = rb.header("content-type", "application/json").body(body.as_ref().clone());
                }
                let t0 = Instant::now();
                let answer = match rb.send().await {
                    Ok(resp) => {
                        let status = resp.status().as_u16();
                        resp.bytes().await.map(|b| (status, b))
                    }
                    Err(e) => Err(e),
                };
                let us = t0.elapsed().as_micros() as u64;
                let _ = hist.record(us.clamp(1, 600_000_000));
                match answer {
                    Ok((status, body)) if (200..300).contains(&status) => {
                        ok += 1;
                        if plan.keep_bodies {
                            bodies.push((i, body.to_vec()));
                        }
                    }
                    Ok((status, _)) => *errors.entry(status).or_default() += 1,
                    Err(_) => *errors.entry(0).or_default() += 1,
                }
            }
            (hist, ok, errors, bodies)
        }));
    }
    let mut out = Outcome {
        latency_us: new_histogram(),
        ok: 0,
        errors: BTreeMap::new(),
        elapsed: Duration::ZERO,
        bodies: Vec::new(),
    };
    for t in tasks {
        let (hist, ok, errors, bodies) = t.await.context("a connection task panicked")?;
        out.latency_us.add(&hist).context("merging histograms")?;
        out.ok += ok;
        for (s, n) in errors {
            *out.errors.entry(s).or_default() += n;
        }
        out.bodies.extend(bodies);
    }
    out.elapsed = start.elapsed();
    Ok(out)
}
