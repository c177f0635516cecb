//! Crash safety of idempotent issuance against the real binary: 16 workers issue bookings concurrently, each
//! request with its own `Idempotency-Key`, while the server is killed with SIGKILL at random instants (a seeded
//! RNG, printed) and restarted on the same database and data dir, ten times over. Workers retry what they could
//! not learn with the same key. Afterwards: every acknowledged issuance exists with the same tickets, no booking
//! has two issuances, ticket numbers are unique and gap-free per prefix, balance = ledger sum = initial − charges,
//! every stored PDF passes `qpdf --check`, and (with the idempotency lease of issue 13) every key either replays
//! its stored answer or runs normally when retried — never stuck on `409 idempotency_in_progress`.

#[path = "support/node.rs"]
mod node;

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use node::{minor, oneway, pnr, qpdf_check, Api, Db, Node, NodeSpec, Rng, ONEWAY_MINOR};

/// Bookings to issue, of which the balance pays for `AFFORDABLE` exactly.
const BOOKINGS: usize = 300;
const AFFORDABLE: usize = 180;
const WORKERS: usize = 16;
const CYCLES: usize = 10;
/// `--idempotency-lease` in seconds: how long a claim whose request died blocks its key.
const LEASE: u64 = 2;

/// What the workers learned, shared between them.
#[derive(Default)]
struct Ledger {
    /// Bookings (by index) still to be issued or whose outcome is unknown.
    queue: Mutex<VecDeque<usize>>,
    /// The 2xx answer each acknowledged request got.
    acked: Mutex<HashMap<usize, Value>>,
    /// Requests refused for want of money (nothing happened; the key may run again).
    refused: Mutex<HashSet<usize>>,
    /// Answers no correct server gives; reported at the end.
    anomalies: Mutex<Vec<String>>,
}

fn key(seed: u64, i: usize) -> String {
    format!("crash-{seed}-{i}")
}

async fn worker(
    base: String,
    api: Api,
    bookings: Arc<Vec<String>>,
    seen: Arc<Ledger>,
    stop: Arc<AtomicBool>,
    seed: u64,
) {
    while !stop.load(Ordering::SeqCst) {
        let Some(i) = seen.queue.lock().unwrap().pop_front() else { break };
        let url = format!("{base}/api/v1/bookings/{}/issue", bookings[i]);
        let answer = match api.post(&url).header("idempotency-key", key(seed, i)).json(&json!({})).send().await {
            Ok(res) => {
                let status = res.status();
                res.text().await.ok().map(|text| (status, serde_json::from_str::<Value>(&text).unwrap_or(Value::Null)))
            }
            Err(_) => None,
        };
        let requeue = || seen.queue.lock().unwrap().push_back(i);
        match answer {
            // The server died under the request, or before it: the outcome is unknown, ask again later.
            None => requeue(),
            Some((status, body)) if status.is_success() => {
                seen.acked.lock().unwrap().insert(i, body);
            }
            Some((StatusCode::PAYMENT_REQUIRED, body)) if body["code"] == "insufficient_balance" => {
                seen.refused.lock().unwrap().insert(i);
            }
            Some((StatusCode::CONFLICT, body)) if body["code"] == "idempotency_in_progress" => {
                requeue();
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Some((status, _)) if status.is_server_error() => requeue(),
            Some((status, body)) => seen.anomalies.lock().unwrap().push(format!("booking {i}: {status} {body}")),
        }
    }
}

/// Ticket numbers and the issuance reference of an issuance answer.
fn summary(body: &Value) -> (String, Vec<String>) {
    let reference = body["ticketReferenceID"].as_str().unwrap_or_default().to_owned();
    let numbers = body["tickets"]
        .as_array()
        .map(|t| t.iter().map(|t| t["number"].as_str().unwrap_or_default().to_owned()).collect())
        .unwrap_or_default();
    (reference, numbers)
}

/// The crash run; `lease` is the `--idempotency-lease` to pass (None: today's server, without the flag, where
/// a key can be stranded, so the never-stuck check is skipped).
async fn crash_cycles(postgres: bool, lease: Option<u64>) {
    let started = Instant::now();
    let mut rng = Rng::from_env(if postgres { "crash on PostgreSQL" } else { "crash on SQLite" });
    let seed = rng.next();
    let db = Db::new(postgres).await;
    let initial = ONEWAY_MINOR * AFFORDABLE as i64;
    let seed_data = db.seed(&format!("{}.{:02}", initial / 100, initial % 100));
    let mut spec = NodeSpec::on(&db);
    if let Some(lease) = lease {
        spec = spec.arg("--idempotency-lease", &lease.to_string());
    }
    let agent = Api::key(&seed_data.agent_key);
    let admin = Api::key(&seed_data.admin_key);

    let node = Node::start(&spec).await;
    let mut intakes = Vec::new();
    for chunk in (0..BOOKINGS).collect::<Vec<_>>().chunks(BOOKINGS.div_ceil(8)) {
        let (agent, base, chunk) = (agent.clone(), node.base.clone(), chunk.to_vec());
        intakes.push(tokio::spawn(async move {
            let mut ids = Vec::new();
            for i in chunk {
                ids.push(agent.book(&base, &oneway(&pnr('C', i))).await);
            }
            ids
        }));
    }
    let mut bookings = Vec::new();
    for intake in intakes {
        bookings.extend(intake.await.unwrap());
    }
    let bookings = Arc::new(bookings);
    let seen = Arc::new(Ledger::default());
    seen.queue.lock().unwrap().extend(0..BOOKINGS);

    let mut node = Some(node);
    for cycle in 0..CYCLES {
        let running = match node.take() {
            Some(node) => node,
            None => Node::start(&spec).await,
        };
        let stop = Arc::new(AtomicBool::new(false));
        let workers: Vec<_> = (0..WORKERS)
            .map(|_| {
                let args = (running.base.clone(), agent.clone(), bookings.clone(), seen.clone(), stop.clone());
                tokio::spawn(worker(args.0, args.1, args.2, args.3, args.4, seed))
            })
            .collect();
        let after = Duration::from_millis(rng.range(50, 600));
        tokio::time::sleep(after).await;
        running.kill9();
        stop.store(true, Ordering::SeqCst);
        for w in workers {
            w.await.unwrap();
        }
        let (acked, pending) = (seen.acked.lock().unwrap().len(), seen.queue.lock().unwrap().len());
        eprintln!("cycle {cycle}: killed after {after:?}; {acked} acknowledged, {pending} pending");
    }

    let node = Node::start(&spec).await;
    let mut answers: HashMap<usize, Value> = seen.acked.lock().unwrap().clone();
    let mut problems: Vec<String> = seen.anomalies.lock().unwrap().clone();
    if let Some(lease) = lease {
        // Past the lease every claim of a killed request is reclaimable: each key replays or runs, now.
        tokio::time::sleep(Duration::from_secs(lease) + Duration::from_millis(500)).await;
        for pass in 0..2 {
            let retries: Vec<_> = (0..BOOKINGS)
                .map(|i| {
                    let url = node.url(&format!("/api/v1/bookings/{}/issue", bookings[i]));
                    let request = agent.post(&url).header("idempotency-key", key(seed, i)).json(&json!({}));
                    async move {
                        let res = request.send().await.expect("the restarted server answers");
                        let replayed = res.headers().get("idempotent-replayed").is_some_and(|v| v == "true");
                        let status = res.status();
                        (i, status, replayed, res.json::<Value>().await.unwrap_or(Value::Null))
                    }
                })
                .collect();
            for (i, status, replayed, body) in futures::future::join_all(retries).await {
                match (status, answers.get(&i)) {
                    (s, Some(before)) if s.is_success() => {
                        if summary(before) != summary(&body) || !replayed {
                            problems.push(format!("pass {pass}, key {i}: answered {before} first, then {body}"));
                        }
                    }
                    (s, None) if s.is_success() => {
                        answers.insert(i, body);
                    }
                    (StatusCode::PAYMENT_REQUIRED, None) if body["code"] == "insufficient_balance" => {}
                    (s, _) => problems.push(format!("pass {pass}, key {i}: retried after the lease: {s} {body}")),
                }
            }
        }
    }

    // What the server holds now, read through its API.
    let ledger = admin.get_json(&node.url(&format!("/api/v1/agencies/{}/ledger", seed_data.agency))).await;
    let ledger = ledger.as_array().unwrap().clone();
    let agency = admin.get_json(&node.url(&format!("/api/v1/agencies/{}", seed_data.agency))).await;
    let balance = minor(agency["balance"].as_str().unwrap());
    let ledger_sum: i64 = ledger.iter().map(|e| minor(e["amount"].as_str().unwrap())).sum();
    let debits: Vec<&Value> = ledger.iter().filter(|e| e["kind"] == "issuance_debit").collect();
    let charged: i64 = -debits.iter().map(|e| minor(e["amount"].as_str().unwrap())).sum::<i64>();
    assert_eq!(balance, ledger_sum, "balance = ledger sum");
    assert_eq!(balance, initial - charged, "balance = initial − charges");
    assert!(balance >= 0, "no overdraft: {balance}");

    let mut by_booking: HashMap<String, Value> = HashMap::new();
    let mut numbers: Vec<String> = Vec::new();
    for debit in &debits {
        let reference = debit["ticketReferenceID"].as_str().unwrap();
        let issuance = agent.get_json(&node.url(&format!("/api/v1/issuances/{reference}"))).await;
        assert_eq!(minor(issuance["amount_charged"].as_str().unwrap()), -minor(debit["amount"].as_str().unwrap()));
        numbers.extend(summary(&issuance).1);
        let booking = issuance["booking_id"].as_str().unwrap().to_owned();
        if let Some(other) = by_booking.insert(booking.clone(), issuance) {
            problems.push(format!("booking {booking} has two issuances: {other} and {reference}"));
        }
    }
    for (i, id) in bookings.iter().enumerate() {
        let booking = agent.get_json(&node.url(&format!("/api/v1/bookings/{id}"))).await;
        let expected = if by_booking.contains_key(id) { "ticketed" } else { "confirmed" };
        if booking["status"] != expected {
            problems.push(format!("booking {i} is {} with issuance {:?}", booking["status"], by_booking.get(id)));
        }
        if let Some(answer) = answers.get(&i) {
            match by_booking.get(id) {
                Some(issuance) if summary(issuance) == summary(answer) => {}
                found => problems.push(format!("key {i} was answered {answer} but the server holds {found:?}")),
            }
        }
    }
    if lease.is_some() {
        // Every key ran to its end: the money paid for exactly AFFORDABLE issuances.
        if by_booking.len() != AFFORDABLE || balance != 0 {
            problems.push(format!(
                "once every key was retried: {} issuances (the money pays for {AFFORDABLE}), balance {balance}",
                by_booking.len()
            ));
        }
    }

    let total = numbers.len();
    let mut per_prefix: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    for number in &numbers {
        let (prefix, serial) = number.split_once('-').unwrap_or_else(|| panic!("ticket number {number}"));
        per_prefix.entry(prefix.to_owned()).or_default().push(serial.parse().unwrap());
    }
    for (prefix, serials) in &mut per_prefix {
        serials.sort_unstable();
        let unique = serials.iter().collect::<HashSet<_>>().len();
        assert_eq!(unique, serials.len(), "ticket numbers are unique under {prefix}");
        let span = serials.last().unwrap() - serials.first().unwrap() + 1;
        assert_eq!(span as usize, serials.len(), "serials under {prefix} are gap-free: {serials:?}");
    }

    // Every stored PDF, through the API, is a valid file whose ETag is its SHA-256.
    let mut paths: Vec<String> = by_booking
        .values()
        .map(|issuance| format!("/api/v1/issuances/{}/pdf", issuance["ticketReferenceID"].as_str().unwrap()))
        .collect();
    paths.extend(numbers.iter().map(|n| format!("/api/v1/tickets/{n}/pdf")));
    let downloads = paths.iter().map(|path| {
        let request = agent.get(&node.url(path));
        async move {
            let res = request.send().await.unwrap();
            let status = res.status();
            let etag = res.headers().get("etag").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
            (path, status, etag, res.bytes().await.unwrap())
        }
    });
    for (path, status, etag, bytes) in futures::future::join_all(downloads).await {
        if status != StatusCode::OK {
            problems.push(format!("{path}: {status} {}", String::from_utf8_lossy(&bytes)));
            continue;
        }
        if etag != format!("\"{}\"", hex::encode(Sha256::digest(&bytes))) {
            problems.push(format!("{path}: ETag {etag} is not the SHA-256 of the bytes"));
        }
        if let Err(complaint) = qpdf_check(&bytes) {
            problems.push(format!("{path}: qpdf --check: {complaint}"));
        }
    }
    let shown = problems.iter().take(20).cloned().collect::<Vec<_>>().join("\n");
    assert!(problems.is_empty(), "{} problem(s), the first {}:\n{shown}", problems.len(), problems.len().min(20));
    eprintln!(
        "{} issuances ({} acknowledged to the workers), {total} tickets, {} PDFs checked, in {:?}",
        by_booking.len(),
        seen.acked.lock().unwrap().len(),
        paths.len(),
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_kill_9_during_idempotent_issuance_loses_nothing_and_strands_no_key() {
    crash_cycles(true, Some(LEASE)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_kill_9_during_idempotent_issuance_loses_nothing_and_strands_no_key() {
    crash_cycles(false, Some(LEASE)).await;
}

/// The same crashes on today's server: money, numbering, documents and every acknowledged issuance survive
/// (a stranded key is tolerated here; the tests above refuse it once the lease exists).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_kill_9_during_issuance_keeps_money_numbering_and_acknowledged_issuances() {
    crash_cycles(true, None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_kill_9_during_issuance_keeps_money_numbering_and_acknowledged_issuances() {
    crash_cycles(false, None).await;
}
