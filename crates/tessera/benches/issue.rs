//! End-to-end issuance benchmark: a real server on SQLite (and on PostgreSQL when `TESSERA_BENCH_DATABASE_URL`
//! is set), real HTTP from this process. Reports per-request latency of booking intake, issuance (with its PDFs)
//! and PDF download, then of event issuance (ticket PDFs, zips, invoices), the order listing and a ticket download. Run: `cargo bench -p tessera --bench issue` (release build).

use std::time::{Duration, Instant};

use serde_json::Value;
use tessera::config::{Config, Settings};
use tessera::server;
use tessera_core::user::Role;

const BOOKINGS: usize = 300;
const EVENT_BOOKINGS: usize = 100;

fn stats(name: &str, mut samples: Vec<Duration>) {
    samples.sort();
    let total: Duration = samples.iter().sum();
    let pick = |q: f64| samples[((samples.len() as f64 - 1.0) * q) as usize];
    eprintln!(
        "{name:<22} n={:<4} mean {:>7.3} ms  p50 {:>7.3} ms  p95 {:>7.3} ms  p99 {:>7.3} ms",
        samples.len(),
        total.as_secs_f64() * 1000.0 / samples.len() as f64,
        pick(0.5).as_secs_f64() * 1000.0,
        pick(0.95).as_secs_f64() * 1000.0,
        pick(0.99).as_secs_f64() * 1000.0,
    );
}

async fn run(label: &str, database_url: Option<String>) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let config = Config::validate(Settings {
        data_dir: Some(dir.path().to_path_buf()),
        database_url,
        listen: Some(addr),
        jwt_secret: Some("bench-secret-bench-secret-bench-secret-01".into()),
        // Measure the server, not the events profile's per-key limit.
        rate_limit_per_second: Some(1_000_000),
        rate_limit_burst: Some(1_000_000),
        ..Default::default()
    })?;
    let app = server::build_app(&config).await?;
    let router = server::router(app.clone(), &config);
    let serve_config = config.clone();
    tokio::spawn(async move { server::serve(listener, router, &serve_config).await });
    let agency = app
        .create_agency(
            &tessera_app::Principal::operator(),
            &tessera_app::admin::AgencyInput {
                name: "Bench Travel".into(),
                currency: "NPR".into(),
                balance: Some("100000000".into()),
                ..Default::default()
            },
        )
        .await?;
    let agent = app
        .create_user(&tessera_app::Principal::operator(), "bench", "bench-password", Role::Agent, Some(agency.id))
        .await?;
    let token = app.issue_token(&agent)?.access_token;
    let client = reqwest::Client::new();
    let base = format!("http://{addr}");
    let template: Value = serde_json::from_str(include_str!("../../../examples/bookings/flight-oneway.json"))?;
    let (mut intake, mut issue, mut download) = (Vec::new(), Vec::new(), Vec::new());
    let (mut voids, mut refunds) = (Vec::new(), Vec::new());
    let mut pdf_size = 0;
    for i in 0..BOOKINGS {
        let mut doc = template.clone();
        doc["pnr"] = Value::String(format!("B{i:05}"));
        let t = Instant::now();
        let booking: Value =
            client.post(format!("{base}/api/v1/bookings")).bearer_auth(&token).json(&doc).send().await?.json().await?;
        intake.push(t.elapsed());
        let id = booking["id"].as_str().unwrap_or_default();
        let t = Instant::now();
        let res = client.post(format!("{base}/api/v1/bookings/{id}/issue")).bearer_auth(&token).send().await?;
        anyhow::ensure!(res.status() == 201, "issue failed: {}", res.text().await?);
        let issued: Value = res.json().await?;
        issue.push(t.elapsed());
        let number = issued["tickets"][0]["number"].as_str().unwrap_or_default();
        let t = Instant::now();
        let pdf =
            client.get(format!("{base}/api/v1/tickets/{number}/pdf")).bearer_auth(&token).send().await?.bytes().await?;
        download.push(t.elapsed());
        pdf_size = pdf.len();
        // Every other ticket is voided, the rest refunded: each re-renders the ticket and itinerary PDFs.
        let action = if i % 2 == 0 { "void" } else { "refund" };
        let t = Instant::now();
        let res = client.post(format!("{base}/api/v1/tickets/{number}/{action}")).bearer_auth(&token).send().await?;
        anyhow::ensure!(res.status() == 200, "{action} failed: {}", res.text().await?);
        if i % 2 == 0 {
            voids.push(t.elapsed())
        } else {
            refunds.push(t.elapsed())
        }
    }
    eprintln!("\n{label}: {BOOKINGS} one-way bookings, sequential requests over loopback");
    stats("POST /bookings", intake);
    stats("POST /bookings/{id}/issue", issue);
    stats("GET /tickets/{n}/pdf", download);
    stats("POST /tickets/{n}/void", voids);
    stats("POST /tickets/{n}/refund", refunds);
    eprintln!("e-ticket PDF size: {pdf_size} bytes");
    events(&app, &client, &base).await
}

/// Event bookings: each issuance renders 6 ticket PDFs, 2 zip bundles and 2 invoices (examples/bookings/event.json).
async fn events(app: &tessera_app::Tessera, client: &reqwest::Client, base: &str) -> anyhow::Result<()> {
    let agency = app
        .create_agency(
            &tessera_app::Principal::operator(),
            &tessera_app::admin::AgencyInput {
                name: "Bench Events".into(),
                currency: "EUR".into(),
                balance: Some("100000000".into()),
                vat_percent: Some("9".into()),
                ..Default::default()
            },
        )
        .await?;
    let agent = app
        .create_user(
            &tessera_app::Principal::operator(),
            "bench.events",
            "bench-password",
            Role::Agent,
            Some(agency.id),
        )
        .await?;
    let token = app.issue_token(&agent)?.access_token;
    let template: Value = serde_json::from_str(include_str!("../../../examples/bookings/event.json"))?;
    let (mut issue, mut list, mut pdf) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..EVENT_BOOKINGS {
        let mut doc = template.clone();
        doc["booking_code"] = Value::String(format!("EV{i:05}"));
        let booking: Value =
            client.post(format!("{base}/api/v1/bookings")).bearer_auth(&token).json(&doc).send().await?.json().await?;
        let id = booking["id"].as_str().unwrap_or_default();
        let t = Instant::now();
        let res = client.post(format!("{base}/api/v1/bookings/{id}/issue")).bearer_auth(&token).send().await?;
        anyhow::ensure!(res.status() == 201, "event issue failed: {}", res.text().await?);
        issue.push(t.elapsed());
        let t = Instant::now();
        let orders: Value = client
            .get(format!("{base}/v1/bookingorders?booking_id={id}"))
            .bearer_auth(&token)
            .send()
            .await?
            .json()
            .await?;
        list.push(t.elapsed());
        let order = &orders["bookingorders"][0];
        let (o, item) = (order["bookingorder_id"].as_str().unwrap_or_default(), &order["items"][0]);
        let url = format!(
            "{base}/v1/etickets/download/{o}/{}/url/{}",
            item["orderitem_id"].as_str().unwrap_or_default(),
            item["download_link"].as_str().unwrap_or_default()
        );
        let t = Instant::now();
        let res = client.get(url).bearer_auth(&token).send().await?;
        anyhow::ensure!(res.status() == 200, "event PDF download failed: {}", res.status());
        res.bytes().await?;
        pdf.push(t.elapsed());
    }
    eprintln!("{EVENT_BOOKINGS} event bookings (2 orders, 6 ticket PDFs, 2 zips, 2 invoices each)");
    stats("POST /bookings/{id}/issue", issue);
    stats("GET /v1/bookingorders", list);
    stats("GET /v1/etickets/…/url/…", pdf);
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async {
        run("SQLite", None).await?;
        if let Ok(url) = std::env::var("TESSERA_BENCH_DATABASE_URL") {
            let fresh = tessera_storage_postgres::testing::fresh_database(&url).await?;
            run("PostgreSQL", Some(fresh)).await?;
        }
        Ok(())
    })
}
