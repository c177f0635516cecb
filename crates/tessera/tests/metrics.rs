//! Prometheus metrics of a real `tessera serve` process, on SQLite and PostgreSQL: off by default (nothing at
//! `/metrics` on the API port), on with `--metrics-listen` or `TESSERA_METRICS_LISTEN` on a listener of its own,
//! where a scrape after some requests shows every metric with the expected labels and values, and routes as
//! their templates, never as raw paths. Each server is its own process, so its counters start at zero.

#[path = "support/node.rs"]
mod node;

use std::collections::HashMap;

use node::{free_port, oneway, pnr, Api, Db, Node, NodeSpec};
use reqwest::StatusCode;
use serde_json::json;

/// Samples of a scrape: the series (name with its labels, as printed) to its value.
fn samples(text: &str) -> HashMap<String, f64> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| {
            l.rsplit_once(' ').map(|(series, value)| (series.to_owned(), value.parse().unwrap_or(f64::NAN)))
        })
        .collect()
}

/// The value of the one series of `name` whose labels include every `label="value"` of `labels`.
fn value(samples: &HashMap<String, f64>, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let found: Vec<f64> = samples
        .iter()
        .filter(|(series, _)| {
            let (series_name, rest) = series.split_once('{').unwrap_or((series.as_str(), ""));
            series_name == name && labels.iter().all(|(k, v)| rest.contains(&format!("{k}=\"{v}\"")))
        })
        .map(|(_, v)| *v)
        .collect();
    assert!(found.len() <= 1, "{name} {labels:?} matches several series: {found:?}");
    found.first().copied()
}

async fn scrape(url: &str) -> String {
    let res = reqwest::get(url).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let content_type = res.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(content_type.starts_with("text/plain; version=0.0.4"), "{content_type}");
    res.text().await.unwrap()
}

async fn metrics_are_scraped_with_route_templates(postgres: bool) {
    let db = Db::new(postgres).await;
    let seed = db.seed("1000000");

    // Off by default: the API port has no /metrics.
    let plain = Node::start(&NodeSpec::on(&db)).await;
    let res = reqwest::get(plain.url("/metrics")).await.unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert!(!plain.stderr().contains("metrics at"), "{}", plain.stderr());
    drop(plain);

    // On: the flag on SQLite, the environment variable on PostgreSQL.
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let spec = if postgres {
        NodeSpec::on(&db).env("TESSERA_METRICS_LISTEN", &addr)
    } else {
        NodeSpec::on(&db).arg("--metrics-listen", &addr)
    };
    let node = Node::start(&spec).await;
    let metrics_url = format!("http://{addr}/metrics");
    let api = Api::key(&seed.agent_key);

    let booking = api.book(&node.base, &oneway(&pnr('M', 1))).await;
    api.get_json(&node.url(&format!("/api/v1/bookings/{booking}"))).await;
    api.get_json(&node.url(&format!("/api/v1/bookings/{booking}"))).await;
    let (status, issued) = api.post_json(&node.url(&format!("/api/v1/bookings/{booking}/issue")), &json!({})).await;
    assert_eq!(status, StatusCode::CREATED);
    // The answer may come before its PDFs (render-ahead): reading them renders whatever is still pending, so the
    // render histogram has both kinds whichever way they were made.
    let number = issued["tickets"][0]["number"].as_str().unwrap();
    let reference = issued["ticketReferenceID"].as_str().unwrap();
    for path in [format!("/api/v1/tickets/{number}/pdf"), format!("/api/v1/issuances/{reference}/pdf")] {
        assert_eq!(api.get(&node.url(&path)).send().await.unwrap().status(), StatusCode::OK, "{path}");
    }
    let (status, again) = api.post_json(&node.url(&format!("/api/v1/bookings/{booking}/issue")), &json!({})).await;
    assert_eq!(status, StatusCode::CONFLICT, "{again}");
    let raw = format!("/no/such/{}", uuid::Uuid::new_v4());
    assert_eq!(api.get(&node.url(&raw)).send().await.unwrap().status(), StatusCode::NOT_FOUND);
    let anonymous = reqwest::get(node.url("/api/v1/bookings")).await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);

    let text = scrape(&metrics_url).await;
    let s = samples(&text);
    let requests = |method: &str, route: &str, status: &str| {
        value(&s, "http_requests_total", &[("method", method), ("route", route), ("status", status)])
    };
    assert_eq!(requests("POST", "/api/v1/bookings", "201"), Some(1.0), "{text}");
    assert_eq!(requests("GET", "/api/v1/bookings/{id}", "200"), Some(2.0), "{text}");
    assert_eq!(requests("POST", "/api/v1/bookings/{id}/issue", "201"), Some(1.0), "{text}");
    assert_eq!(requests("POST", "/api/v1/bookings/{id}/issue", "409"), Some(1.0), "{text}");
    assert_eq!(requests("GET", "unmatched", "404"), Some(1.0), "{text}");
    assert_eq!(requests("GET", "/api/v1/bookings", "401"), Some(1.0), "{text}");
    // Never a raw path or an id as a label.
    assert!(!text.contains(&booking) && !text.contains("/no/such"), "{text}");
    let count = value(
        &s,
        "http_request_duration_seconds_count",
        &[("method", "GET"), ("route", "/api/v1/bookings/{id}"), ("status", "200")],
    );
    assert_eq!(count, Some(2.0), "{text}");
    let inf = value(
        &s,
        "http_request_duration_seconds_bucket",
        &[("route", "/api/v1/bookings/{id}"), ("status", "200"), ("le", "+Inf")],
    );
    assert_eq!(inf, Some(2.0), "a histogram with buckets: {text}");
    assert!(text.contains("# TYPE http_request_duration_seconds histogram"), "{text}");

    assert_eq!(value(&s, "tessera_issuances_total", &[("profile", "native"), ("outcome", "success")]), Some(1.0));
    assert_eq!(
        value(&s, "tessera_issuances_total", &[("profile", "native"), ("outcome", "already_issued")]),
        Some(1.0),
        "{text}"
    );
    assert_eq!(value(&s, "tessera_tickets_issued_total", &[("type", "TKT")]), Some(1.0), "{text}");
    for kind in ["eticket", "itinerary"] {
        let rendered = value(&s, "tessera_document_render_seconds_count", &[("kind", kind)]);
        assert!(rendered.is_some_and(|n| n >= 1.0), "{kind}: {text}");
    }
    assert!(text.contains("# TYPE tessera_document_render_seconds histogram"), "{text}");
    assert_eq!(value(&s, "tessera_outbox_pending", &[]), Some(0.0), "{text}");
    for outcome in ["success", "failure"] {
        assert_eq!(value(&s, "tessera_webhook_deliveries_total", &[("outcome", outcome)]), Some(0.0), "{text}");
    }
    let size = value(&s, "tessera_db_pool_connections", &[]).expect("pool size");
    let idle = value(&s, "tessera_db_pool_idle_connections", &[]).expect("pool idle");
    let max = value(&s, "tessera_db_pool_max_connections", &[]).expect("pool max");
    assert!(size >= 1.0 && idle <= size && size <= max, "{size} {idle} {max}");
    let version = env!("CARGO_PKG_VERSION");
    assert_eq!(value(&s, "tessera_build_info", &[("version", version)]), Some(1.0), "{text}");
    for name in ["http_requests_total", "tessera_issuances_total", "tessera_outbox_pending"] {
        assert!(text.contains(&format!("# HELP {name} ")), "{name} is described: {text}");
    }

    // A queued e-mail shows in the outbox gauge at the next scrape.
    let group = Api::key(&seed.agent_key);
    let res = group.get(&node.url(&format!("/tickets?booking_code={}", pnr('M', 1)))).send().await.unwrap();
    assert!(res.status().is_success(), "{}", res.text().await.unwrap());
    let s = samples(&scrape(&metrics_url).await);
    assert_eq!(value(&s, "tessera_outbox_pending", &[]), Some(1.0));
    // The scrape itself is not an API request: the API's counters did not move.
    assert_eq!(
        value(&s, "http_requests_total", &[("method", "GET"), ("route", "/api/v1/bookings/{id}"), ("status", "200")]),
        Some(2.0)
    );
    assert!(value(&s, "http_requests_total", &[("route", "/metrics")]).is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_on_sqlite() {
    metrics_are_scraped_with_route_templates(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_on_postgres() {
    metrics_are_scraped_with_route_templates(true).await;
}
