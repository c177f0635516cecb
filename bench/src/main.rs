//! `tessera-bench`: the benchmark suite of issue 19. Starts a fresh `tessera serve`, seeds it through the API,
//! drives one scenario with N closed-loop keep-alive connections, prints a markdown table row (rate, latency
//! percentiles, errors, server CPU per request, peak RSS) and checks the money and numbering invariants.
//! See bench/README.md for the scenarios and BENCHMARKS.md for results.

mod check;
mod load;
mod seed;
mod server;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, ensure, Context};
use clap::{Parser, ValueEnum};
use serde_json::{json, Value};

use check::Expect;
use load::{Outcome, Plan, Req, Work};
use seed::{Agency, Api};
use server::{Backend, Server, ServerOpts};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Scenario {
    /// POST /api/v1/bookings (one-way flight), default 16 connections.
    Intake,
    /// POST /api/v1/bookings/{id}/issue, one agency, one carrier; default 1 connection.
    Issue,
    /// Issue spread over --agencies agencies (50), each with its own key; default 32 connections.
    IssueMulti,
    /// Issue event bookings (two events, five tickets, seven PDFs, zip, invoice); default 8 connections.
    IssueEvent,
    /// POST /api/v1/tickets/{n}/void on issued tickets; default 8 connections.
    Void,
    /// POST /api/v1/tickets/{n}/refund on issued tickets; default 8 connections.
    Refund,
    /// GET /api/v1/tickets/{n}/pdf with the API key; default 32 connections.
    Pdf,
    /// GET /d/{token} signed links without credentials; default 32 connections.
    Link,
    /// GET the events API's zip links; default 32 connections.
    Zip,
    /// POST pretix's /api/v1/organizers/{o}/events/{e}/orders/ (a pretix started by bench/pretix/run.sh).
    PretixOrders,
    /// The suite: every Tessera scenario (issue at 1, 8 and 32 connections) on each backend.
    All,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum BackendArg {
    Sqlite,
    Postgres,
    Both,
}

#[derive(Debug, Parser)]
#[command(name = "tessera-bench", about = "Load generator and benchmark suite for Tessera")]
struct Cli {
    scenario: Scenario,
    /// Default: sqlite for one scenario, both for `all`.
    #[arg(long)]
    backend: Option<BackendArg>,
    /// Concurrent keep-alive connections (default per scenario).
    #[arg(long)]
    connections: Option<usize>,
    /// Seconds to run each measurement at most.
    #[arg(long, default_value_t = 10.0)]
    duration: f64,
    /// Bookings created (intake) or seeded and issued, voided or refunded once each (default 5000); requests at most
    /// for pretix-orders. Download scenarios run for --duration.
    #[arg(long)]
    requests: Option<u64>,
    /// Agencies of issue-multi.
    #[arg(long, default_value_t = 50)]
    agencies: usize,
    /// Tickets (or event orders) issued before the download and lifecycle scenarios cycle over them.
    #[arg(long, default_value_t = 200)]
    seed_issues: u64,
    /// The tessera binary (default: `tessera` next to this executable, i.e. target/release/tessera).
    #[arg(long)]
    tessera: Option<PathBuf>,
    /// PostgreSQL maintenance database; each run creates and drops tessera_bench_<uuid> beside it.
    #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432/postgres")]
    pg_url: String,
    /// Keep the data dir and database after the run.
    #[arg(long)]
    keep: bool,
    /// Extra argument for `tessera` (repeatable), e.g. --server-arg=--db-max-connections=20.
    #[arg(long = "server-arg", allow_hyphen_values = true)]
    server_args: Vec<String>,
    /// pretix base URL (pretix-orders).
    #[arg(long, default_value = "http://127.0.0.1:8345")]
    pretix_url: String,
    #[arg(long, env = "PRETIX_TOKEN", default_value = "")]
    pretix_token: String,
    #[arg(long, default_value = "bench")]
    pretix_organizer: String,
    #[arg(long, default_value = "bench")]
    pretix_event: String,
    #[arg(long, default_value_t = 1)]
    pretix_item: u64,
    /// pretix's order creation rate (from bench/pretix/run.sh): the suite then prints Tessera's issue rates as
    /// multiples of it.
    #[arg(long)]
    pretix_rate: Option<f64>,
    /// pretix server processes whose CPU and RSS are summed (repeatable).
    #[arg(long)]
    pretix_pid: Vec<u32>,
}

/// One line of the results table.
struct Row {
    scenario: String,
    backend: String,
    connections: usize,
    outcome: Outcome,
    cpu_ms_per_req: f64,
    /// Server CPU per request spent after the last answer, until the server fell idle: the background renders
    /// of issuances' documents (`--render-ahead`).
    cpu_after_ms_per_req: f64,
    rss_mb: f64,
    /// Set when the peak could not be reset after seeding.
    rss_note: &'static str,
    check: String,
}

const HEADER: &str = "| scenario | backend | conns | requests | rate/s | p50 ms | p90 ms | p99 ms | max ms | errors | server CPU ms/req | peak RSS MB | invariants |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|";

impl Row {
    fn line(&self) -> String {
        let o = &self.outcome;
        let ms = |q: f64| o.latency_us.value_at_quantile(q) as f64 / 1000.0;
        format!(
            "| {} | {} | {} | {} | {:.1} | {:.2} | {:.2} | {:.2} | {:.2} | {} | {:.3}{} | {:.1}{} | {} |",
            self.scenario,
            self.backend,
            self.connections,
            o.requests(),
            o.rate(),
            ms(0.5),
            ms(0.9),
            ms(0.99),
            o.latency_us.max() as f64 / 1000.0,
            o.errors_text(),
            self.cpu_ms_per_req,
            if self.cpu_after_ms_per_req >= 0.0005 {
                format!(" (+{:.3} after)", self.cpu_after_ms_per_req)
            } else {
                String::new()
            },
            self.rss_mb,
            self.rss_note,
            self.check
        )
    }
}

fn default_connections(s: Scenario) -> usize {
    match s {
        Scenario::Intake => 16,
        Scenario::Issue => 1,
        Scenario::IssueMulti | Scenario::Pdf | Scenario::Link | Scenario::Zip => 32,
        Scenario::IssueEvent | Scenario::Void | Scenario::Refund | Scenario::PretixOrders | Scenario::All => 8,
    }
}

fn name(s: Scenario) -> String {
    s.to_possible_value().map(|v| v.get_name().to_owned()).unwrap_or_default()
}

/// Runs setup work (not measured) and fails on any non-2xx answer.
async fn setup_run(connections: usize, work: Work, what: &str) -> anyhow::Result<Vec<(u64, Value)>> {
    let out = load::run(Plan { connections, duration: None, max_requests: None, keep_bodies: true }, work).await?;
    ensure!(out.error_count() == 0, "seeding ({what}) failed: {}", out.errors_text());
    out.json_bodies()
}

/// Creates `count` bookings (flight or event), round-robin over `agencies`; returns `(booking id, key)`.
async fn seed_bookings(
    api: &Api,
    agencies: &[Agency],
    count: u64,
    event: bool,
) -> anyhow::Result<Vec<(String, Arc<str>)>> {
    let work = intake_work(api, agencies, count, event)?;
    let bodies = setup_run(16, work, "bookings").await?;
    bodies
        .into_iter()
        .map(|(i, b)| {
            let id = b["id"].as_str().context("booking without id")?.to_owned();
            Ok((id, agencies[i as usize % agencies.len()].key.clone()))
        })
        .collect()
}

fn intake_work(api: &Api, agencies: &[Agency], count: u64, event: bool) -> anyhow::Result<Work> {
    let docs: Vec<Arc<Vec<u8>>> = (0..count)
        .map(|i| if event { seed::event_booking(i) } else { seed::flight_booking(i) }.map(Arc::new))
        .collect::<anyhow::Result<_>>()?;
    let url = api.url("/api/v1/bookings");
    let keys: Vec<Arc<str>> = agencies.iter().map(|a| a.key.clone()).collect();
    Ok(Arc::new(move |i| {
        let doc = docs.get(i as usize)?;
        Some(Req::post(url.clone(), Some(keys[i as usize % keys.len()].clone()), Some(doc.clone())))
    }))
}

fn issue_work(api: &Api, bookings: Vec<(String, Arc<str>)>) -> Work {
    let base = api.base.clone();
    let empty = Arc::new(b"{}".to_vec());
    Arc::new(move |i| {
        let (id, key) = bookings.get(i as usize)?;
        Some(Req::post(format!("{base}/api/v1/bookings/{id}/issue"), Some(key.clone()), Some(empty.clone())))
    })
}

/// Ticket numbers with the key that reaches them, from issue answers.
fn tickets_of(issues: &[Value], key: &Arc<str>) -> Vec<(String, Arc<str>)> {
    issues
        .iter()
        .flat_map(|b| b["tickets"].as_array().cloned().unwrap_or_default())
        .filter_map(|t| t["number"].as_str().map(|n| (n.to_owned(), key.clone())))
        .collect()
}

/// Seeds `count` bookings and issues them all (not measured); returns the issue answers.
async fn seed_issued(
    api: &Api,
    agencies: &[Agency],
    count: u64,
    event: bool,
    expect: &mut Expect,
) -> anyhow::Result<Vec<Value>> {
    let bookings = seed_bookings(api, agencies, count, event).await?;
    expect.bookings += bookings.len() as u64;
    let bodies = setup_run(8, issue_work(api, bookings), "issues").await?;
    let issues: Vec<Value> = bodies.into_iter().map(|(_, b)| b).collect();
    expect.issues.extend(issues.iter().cloned());
    Ok(issues)
}

struct Ctx<'a> {
    cli: &'a Cli,
    opts: ServerOpts,
}

/// One Tessera scenario on one backend: fresh server, seed, measure, check, stop.
async fn run_tessera(ctx: &Ctx<'_>, scenario: Scenario, connections: usize) -> anyhow::Result<Row> {
    let server = Server::start(&ctx.opts).await?;
    let result = measure(ctx, &server, scenario, connections).await;
    if result.is_err() {
        eprintln!("server log tail:\n{}", server.log_tail());
    }
    server.stop().await?;
    result
}

async fn measure(ctx: &Ctx<'_>, server: &Server, scenario: Scenario, connections: usize) -> anyhow::Result<Row> {
    let cli = ctx.cli;
    let api = Api::new(&server.base, &server.admin_key)?;
    let n_bookings = cli.requests.unwrap_or(5000);
    let currency = if scenario == Scenario::IssueEvent || scenario == Scenario::Zip {
        seed::EVENT_CURRENCY
    } else {
        seed::FLIGHT_CURRENCY
    };
    let agency_count = if scenario == Scenario::IssueMulti { cli.agencies } else { 1 };
    let agencies = seed::agencies(&api, &server.admin, agency_count, currency).await?;
    let key = agencies[0].key.clone();
    let mut expect = Expect::default();
    // Downloads run for --duration; --requests counts bookings (intake, issue, lifecycle).
    let mut max_requests = None;
    let mut keep_bodies = false;

    let work: Work = match scenario {
        Scenario::Intake => {
            max_requests = Some(n_bookings);
            keep_bodies = true;
            intake_work(&api, &agencies, n_bookings, false)?
        }
        Scenario::Issue | Scenario::IssueMulti | Scenario::IssueEvent => {
            let bookings = seed_bookings(&api, &agencies, n_bookings, scenario == Scenario::IssueEvent).await?;
            expect.bookings += bookings.len() as u64;
            keep_bodies = true;
            issue_work(&api, bookings)
        }
        Scenario::Void | Scenario::Refund => {
            let issues = seed_issued(&api, &agencies, n_bookings, false, &mut expect).await?;
            let tickets = tickets_of(&issues, &key);
            let action = if scenario == Scenario::Void { "void" } else { "refund" };
            let base = api.base.clone();
            let empty = Arc::new(b"{}".to_vec());
            Arc::new(move |i| {
                let (n, key) = tickets.get(i as usize)?;
                Some(Req::post(format!("{base}/api/v1/tickets/{n}/{action}"), Some(key.clone()), Some(empty.clone())))
            })
        }
        Scenario::Pdf | Scenario::Link => {
            let issues = seed_issued(&api, &agencies, cli.seed_issues, false, &mut expect).await?;
            let tickets = tickets_of(&issues, &key);
            ensure!(!tickets.is_empty(), "no tickets to download");
            let urls: Vec<(String, Option<Arc<str>>)> = if scenario == Scenario::Pdf {
                tickets.iter().map(|(n, k)| (api.url(&format!("/api/v1/tickets/{n}/pdf")), Some(k.clone()))).collect()
            } else {
                let mut urls = Vec::new();
                for (n, k) in &tickets {
                    let link = api.post(k, &format!("/api/v1/tickets/{n}/link"), &json!({})).await?;
                    urls.push((link["url"].as_str().context("link without url")?.to_owned(), None));
                }
                urls
            };
            Arc::new(move |i| {
                let (url, key) = &urls[i as usize % urls.len()];
                Some(Req::get(url.clone(), key.clone()))
            })
        }
        Scenario::Zip => {
            let issues = seed_issued(&api, &agencies, cli.seed_issues.min(100), true, &mut expect).await?;
            let mut urls = Vec::new();
            for b in &issues {
                let booking = b["booking_id"].as_str().context("issuance without booking_id")?;
                let orders = api.get(&key, &format!("/v1/bookingorders?booking_id={booking}")).await?;
                for o in orders["bookingorders"].as_array().into_iter().flatten() {
                    let id = o["bookingorder_id"].as_str().context("order without id")?;
                    let link = api.get(&key, &format!("/v1/etickets/download/zip/{id}")).await?;
                    urls.push(link.as_str().context("zip link is not a string")?.to_owned());
                }
            }
            ensure!(!urls.is_empty(), "no zip links");
            Arc::new(move |i| Some(Req::get(urls[i as usize % urls.len()].clone(), None)))
        }
        Scenario::PretixOrders | Scenario::All => bail!("not a Tessera scenario"),
    };

    let peak_reset = server::reset_peak_rss(server.pid);
    let cpu0 = server::cpu_seconds(server.pid)?;
    let plan = Plan { connections, duration: Some(Duration::from_secs_f64(cli.duration)), max_requests, keep_bodies };
    let outcome = load::run(plan, work).await?;
    let cpu = server::cpu_seconds(server.pid)? - cpu0;
    let cpu_after = server::cpu_until_idle(server.pid).await?;
    let rss = server::peak_rss_kb(server.pid)? as f64 / 1024.0;

    match scenario {
        Scenario::Intake => expect.bookings += outcome.ok,
        Scenario::Issue | Scenario::IssueMulti | Scenario::IssueEvent => {
            expect.issues.extend(outcome.json_bodies()?.into_iter().map(|(_, b)| b));
        }
        Scenario::Void => expect.voids += outcome.ok,
        Scenario::Refund => expect.refunds += outcome.ok,
        _ => {}
    }
    let check = match check::verify(&api, &agencies, &expect).await {
        Ok(()) => "ok".to_owned(),
        Err(e) => format!("BROKEN: {e:#}"),
    };
    let label = match scenario {
        Scenario::IssueMulti => format!("issue-multi ({} agencies)", agencies.len()),
        _ => name(scenario),
    };
    Ok(Row {
        scenario: label,
        backend: ctx.opts.backend.name().to_owned(),
        connections,
        cpu_ms_per_req: cpu * 1000.0 / outcome.requests().max(1) as f64,
        cpu_after_ms_per_req: cpu_after * 1000.0 / outcome.requests().max(1) as f64,
        rss_mb: rss,
        rss_note: if peak_reset { "" } else { " (incl. setup)" },
        outcome,
        check,
    })
}

/// Order creation against a running pretix (see bench/pretix/run.sh); orders are counted before and after.
async fn run_pretix(cli: &Cli, connections: usize) -> anyhow::Result<Row> {
    let base = cli.pretix_url.trim_end_matches('/');
    let orders = format!("{base}/api/v1/organizers/{}/events/{}/orders/", cli.pretix_organizer, cli.pretix_event);
    let auth: Arc<str> = format!("Token {}", cli.pretix_token).into();
    let client = reqwest::Client::new();
    let count = |client: reqwest::Client, auth: Arc<str>, url: String| async move {
        let v: Value =
            client.get(url).header("Authorization", auth.as_ref()).send().await?.error_for_status()?.json().await?;
        v["count"].as_u64().context("pretix order list without count")
    };
    let before = count(client.clone(), auth.clone(), format!("{orders}?page_size=1")).await?;
    let item = cli.pretix_item;
    let work: Work = Arc::new(move |i| {
        let body = json!({
            "email": format!("bench{i}@example.com"),
            "locale": "en",
            "sales_channel": "web",
            "payment_provider": "manual",
            "positions": [{"item": item, "attendee_name_parts": {"full_name": format!("Bench Guest {i}")}}]
        });
        let mut req = Req::post(orders.clone(), None, Some(Arc::new(serde_json::to_vec(&body).ok()?)));
        req.header = Some(("Authorization", auth.clone()));
        Some(req)
    });
    let pids = &cli.pretix_pid;
    let cpu_sum = || pids.iter().map(|p| server::cpu_seconds(*p).unwrap_or(0.0)).sum::<f64>();
    let cpu0 = cpu_sum();
    let plan = Plan {
        connections,
        duration: Some(Duration::from_secs_f64(cli.duration)),
        max_requests: cli.requests,
        keep_bodies: false,
    };
    let outcome = load::run(plan, work).await?;
    let cpu = cpu_sum() - cpu0;
    let rss: u64 = pids.iter().map(|p| server::peak_rss_kb(*p).unwrap_or(0)).sum();
    let orders_url =
        format!("{}/api/v1/organizers/{}/events/{}/orders/?page_size=1", base, cli.pretix_organizer, cli.pretix_event);
    let after = count(client, format!("Token {}", cli.pretix_token).into(), orders_url).await?;
    let check = if after - before == outcome.ok {
        "ok".to_owned()
    } else {
        format!("BROKEN: {} orders stored for {} created", after - before, outcome.ok)
    };
    Ok(Row {
        scenario: "pretix-orders".into(),
        backend: "pretix".into(),
        connections,
        cpu_ms_per_req: cpu * 1000.0 / outcome.requests().max(1) as f64,
        cpu_after_ms_per_req: 0.0,
        rss_mb: rss as f64 / 1024.0,
        rss_note: " (lifetime)",
        outcome,
        check,
    })
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let backends: Vec<Backend> = match cli.backend.unwrap_or(if cli.scenario == Scenario::All {
        BackendArg::Both
    } else {
        BackendArg::Sqlite
    }) {
        BackendArg::Sqlite => vec![Backend::Sqlite],
        BackendArg::Postgres => vec![Backend::Postgres],
        BackendArg::Both => vec![Backend::Sqlite, Backend::Postgres],
    };
    let mut plan: Vec<(Backend, Scenario, usize)> = Vec::new();
    match cli.scenario {
        Scenario::PretixOrders => {
            let row = run_pretix(&cli, cli.connections.unwrap_or(8)).await?;
            println!("{HEADER}\n{}", row.line());
            ensure!(row.check == "ok", "invariant broken");
            return Ok(());
        }
        Scenario::All => {
            for &b in &backends {
                for (s, c) in [
                    (Scenario::Intake, 16),
                    (Scenario::Issue, 1),
                    (Scenario::Issue, 8),
                    (Scenario::Issue, 32),
                    (Scenario::IssueMulti, 32),
                    (Scenario::IssueEvent, 8),
                    (Scenario::Void, 8),
                    (Scenario::Refund, 8),
                    (Scenario::Pdf, 32),
                    (Scenario::Link, 32),
                    (Scenario::Zip, 32),
                ] {
                    plan.push((b, s, cli.connections.unwrap_or(c)));
                }
            }
        }
        s => {
            for &b in &backends {
                plan.push((b, s, cli.connections.unwrap_or_else(|| default_connections(s))));
            }
        }
    }
    let mut rows = Vec::new();
    let mut failed = Vec::new();
    eprintln!("{HEADER}");
    for (backend, scenario, connections) in plan {
        let ctx = Ctx {
            cli: &cli,
            opts: ServerOpts {
                tessera: cli.tessera.clone().unwrap_or_else(server::default_tessera),
                backend,
                pg_url: cli.pg_url.clone(),
                keep: cli.keep,
                extra_args: cli.server_args.clone(),
            },
        };
        match run_tessera(&ctx, scenario, connections).await {
            Ok(row) => {
                eprintln!("{}", row.line());
                if row.check != "ok" {
                    failed.push(format!("{} on {}: {}", row.scenario, row.backend, row.check));
                }
                rows.push(row);
            }
            Err(e) => {
                eprintln!("{} on {} at {connections} connections failed: {e:#}", name(scenario), backend.name());
                failed.push(format!("{} on {}: {e:#}", name(scenario), backend.name()));
            }
        }
    }
    println!("{HEADER}");
    for r in &rows {
        println!("{}", r.line());
    }
    if let Some(pretix) = cli.pretix_rate.filter(|r| *r > 0.0) {
        println!("\nAgainst pretix order creation at {pretix:.1}/s:\n");
        for r in rows.iter().filter(|r| r.scenario.starts_with("issue")) {
            println!(
                "- {} on {}, {} connections: {:.0}×",
                r.scenario,
                r.backend,
                r.connections,
                r.outcome.ok as f64 / r.outcome.elapsed.as_secs_f64().max(1e-9) / pretix
            );
        }
    }
    if !failed.is_empty() {
        bail!("{} run(s) failed:\n{}", failed.len(), failed.join("\n"));
    }
    Ok(())
}
