//! `GET /metrics` in the Prometheus text format, on its own listener (`--metrics-listen`), so it is never
//! exposed where the APIs are and needs no credentials, as is the convention for a scrape endpoint.
//!
//! The recorder is process-wide (the `metrics` facade has one): installed once, it collects what every service
//! records. Counters and histograms are kept as they happen; the gauges that describe state (database pool,
//! outbox) are read when Prometheus scrapes, so they are never stale and cost nothing in between.

use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::Duration;

use anyhow::Context;
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tessera_app::telemetry::{DB_POOL_CONNECTIONS, DB_POOL_IDLE, DB_POOL_MAX, OUTBOX_PENDING};
use tessera_app::Tessera;
use tokio::net::TcpListener;

/// Histogram buckets of every `*_seconds` metric: 1 ms to 10 s, enough to tell a fast answer from a slow render.
const SECONDS_BUCKETS: [f64; 14] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Installs the process's recorder (once; later calls return the same handle) and describes every metric.
pub fn install() -> anyhow::Result<PrometheusHandle> {
    if let Some(handle) = HANDLE.get() {
        return Ok(handle.clone());
    }
    let handle = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), &SECONDS_BUCKETS)
        .context("configuring histogram buckets")?
        .install_recorder()
        .context("installing the metrics recorder")?;
    tessera_app::telemetry::describe();
    let handle = HANDLE.get_or_init(|| handle).clone();
    // Histogram samples are folded into their buckets by upkeep; without it they pile up between scrapes.
    let upkeep = handle.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(5));
        loop {
            tick.tick().await;
            upkeep.run_upkeep();
        }
    });
    Ok(handle)
}

#[derive(Clone)]
struct Scrape {
    handle: PrometheusHandle,
    app: Tessera,
}

/// Binds `addr` and serves `GET /metrics` there in the background; returns the bound address.
pub async fn spawn(addr: SocketAddr, app: Tessera) -> anyhow::Result<SocketAddr> {
    let handle = install()?;
    let listener = TcpListener::bind(addr).await.with_context(|| format!("binding the metrics listener {addr}"))?;
    let local = listener.local_addr()?;
    let router = Router::new().route("/metrics", get(metrics)).with_state(Scrape { handle, app });
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, router).await {
            tracing::error!(error = %e, "the metrics listener stopped");
        }
    });
    Ok(local)
}

async fn metrics(State(scrape): State<Scrape>) -> impl IntoResponse {
    match scrape.app.pool_stats().await {
        Ok(pool) => {
            metrics::gauge!(DB_POOL_CONNECTIONS).set(f64::from(pool.size));
            metrics::gauge!(DB_POOL_IDLE).set(f64::from(pool.idle));
            metrics::gauge!(DB_POOL_MAX).set(f64::from(pool.max));
        }
        Err(e) => tracing::warn!(error = %e, "metrics: cannot read the pool"),
    }
    match scrape.app.outbox_pending().await {
        // Exact up to 2^53 messages, far beyond any outbox.
        Ok(pending) => metrics::gauge!(OUTBOX_PENDING).set(pending as f64),
        Err(e) => tracing::warn!(error = %e, "metrics: cannot count the outbox"),
    }
    ([(CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], scrape.handle.render())
}
