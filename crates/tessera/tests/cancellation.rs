//! Clients that hang up in the middle of writes, against the real binary on SQLite and on PostgreSQL: 32 clients
//! send booking intakes, issuances, voids and refunds and give up at random instants (a reqwest timeout of a few
//! milliseconds, or a raw TCP connection closed right after the request was written), so the server's handlers
//! are dropped mid-transaction. Afterwards every request on the same server and pool succeeds (200 sequential
//! intakes, then an issue, a void and a refund), and on PostgreSQL no connection is left idle in a transaction.
//! Three rounds per backend, with a pool of 4 connections so that a poisoned one would be met at once.

#[path = "support/node.rs"]
mod node;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{json, Value};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use node::{oneway, pnr, Api, Db, Node, NodeSpec, Rng};

const CLIENTS: usize = 32;
const ROUNDS: usize = 3;
const CHAOS: Duration = Duration::from_secs(4);

/// What the hanging-up clients may aim at.
struct Targets {
    /// Bookings not issued yet (as far as anyone knows).
    bookings: Mutex<Vec<String>>,
    /// Tickets to void or refund.
    tickets: Mutex<Vec<String>>,
}

fn pick(list: &Mutex<Vec<String>>, rng: &mut Rng) -> Option<String> {
    let list = list.lock().unwrap();
    (!list.is_empty()).then(|| list[rng.range(0, list.len() as u64) as usize].clone())
}

/// Writes a whole request on a raw connection, waits `linger`, and closes it without reading the answer.
async fn raw_hang_up(addr: &str, method: &str, path: &str, key: &str, body: &str, linger: Duration) {
    let Ok(mut stream) = TcpStream::connect(addr).await else { return };
    let request = format!(
        "{method} {path} HTTP/1.1\r\nhost: tessera\r\nx-api-key: {key}\r\ncontent-type: application/json\r\n\
         content-length: {}\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(request.as_bytes()).await;
    tokio::time::sleep(linger).await;
    drop(stream);
}

async fn chaos_client(
    node: String,
    agent: String,
    admin: String,
    targets: Arc<Targets>,
    next: Arc<AtomicUsize>,
    seed: u64,
) {
    let mut rng = Rng::new(seed);
    let client = reqwest::Client::new();
    let addr = node.trim_start_matches("http://").to_owned();
    let until = Instant::now() + CHAOS;
    while Instant::now() < until {
        let (path, key, body) = match rng.range(0, 4) {
            0 => {
                let doc = oneway(&pnr('X', next.fetch_add(1, Ordering::SeqCst)));
                ("/api/v1/bookings".to_owned(), &agent, doc)
            }
            1 => match pick(&targets.bookings, &mut rng) {
                Some(id) => (format!("/api/v1/bookings/{id}/issue"), &agent, json!({})),
                None => continue,
            },
            2 => match pick(&targets.tickets, &mut rng) {
                Some(number) => (format!("/api/v1/tickets/{number}/void"), &agent, json!({})),
                None => continue,
            },
            _ => match pick(&targets.tickets, &mut rng) {
                Some(number) => {
                    (format!("/api/v1/tickets/{number}/refund"), &admin, json!({"override_non_refundable": true}))
                }
                None => continue,
            },
        };
        let give_up = Duration::from_millis(rng.range(1, 60));
        if rng.range(0, 2) == 0 {
            raw_hang_up(&addr, "POST", &path, key, &body.to_string(), give_up).await;
            continue;
        }
        let sent = client.post(format!("{node}{path}")).header("x-api-key", key).json(&body).timeout(give_up).send();
        if let Ok(res) = sent.await {
            // Learn from the requests that got through, so later ones aim at live targets.
            if res.status() == StatusCode::CREATED && path.ends_with("/issue") {
                if let Ok(issued) = res.json::<Value>().await {
                    let numbers = issued["tickets"].as_array().into_iter().flatten();
                    targets
                        .tickets
                        .lock()
                        .unwrap()
                        .extend(numbers.filter_map(|t| t["number"].as_str().map(str::to_owned)));
                }
            }
        }
    }
}

/// The end of the server's log, for a failure message.
fn tail(node: &Node) -> String {
    let log = node.stderr();
    let from = log.len().saturating_sub(3000);
    let from = (from..log.len()).find(|i| log.is_char_boundary(*i)).unwrap_or(log.len());
    format!("server log (tail):\n{}", &log[from..])
}

/// Idle-in-transaction sessions on the database, polled for up to 5 s until there are none.
async fn open_transactions(db: &Db) -> i64 {
    let pool = sqlx::PgPool::connect(db.url().unwrap()).await.unwrap();
    let name = db.pg_name().unwrap();
    // The server's own sessions are there: the query below looks at the right database.
    let sessions: i64 = sqlx::query_scalar("SELECT count(*) FROM pg_stat_activity WHERE datname = $1")
        .bind(&name)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert!(sessions > 1, "the server's sessions on {name}: {sessions}");
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let open: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND state LIKE 'idle in transaction%'",
        )
        .bind(&name)
        .fetch_one(&pool)
        .await
        .unwrap();
        if open == 0 || Instant::now() > deadline {
            pool.close().await;
            return open;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn clients_hanging_up_mid_write_leave_a_clean_pool(postgres: bool) {
    let started = Instant::now();
    let mut rng = Rng::from_env(if postgres { "cancellation on PostgreSQL" } else { "cancellation on SQLite" });
    let db = Db::new(postgres).await;
    let seed = db.seed("100000000");
    let node = Node::start(&NodeSpec::on(&db).arg("--db-max-connections", "4").arg("--void-window-days", "1")).await;
    let (agent, admin) = (Api::key(&seed.agent_key), Api::key(&seed.admin_key));
    let next = Arc::new(AtomicUsize::new(0));

    for round in 0..ROUNDS {
        // Targets: 40 fresh bookings, half of them issued.
        let targets = Arc::new(Targets { bookings: Mutex::new(Vec::new()), tickets: Mutex::new(Vec::new()) });
        for i in 0..40 {
            let id = agent.book(&node.base, &oneway(&pnr('T', next.fetch_add(1, Ordering::SeqCst)))).await;
            if i % 2 == 0 {
                let (status, issued) =
                    agent.post_json(&node.url(&format!("/api/v1/bookings/{id}/issue")), &json!({})).await;
                assert_eq!(status, StatusCode::CREATED, "{issued}");
                let number = issued["tickets"][0]["number"].as_str().unwrap().to_owned();
                targets.tickets.lock().unwrap().push(number);
            } else {
                targets.bookings.lock().unwrap().push(id);
            }
        }

        let clients: Vec<_> = (0..CLIENTS)
            .map(|_| {
                let (n, a, d) = (node.base.clone(), seed.agent_key.clone(), seed.admin_key.clone());
                tokio::spawn(chaos_client(n, a, d, targets.clone(), next.clone(), rng.next()))
            })
            .collect();
        for client in clients {
            client.await.unwrap();
        }

        // The same server, the same pool: everything works, at once.
        let mut failures = Vec::new();
        for i in 0..200 {
            let doc = oneway(&pnr('S', next.fetch_add(1, Ordering::SeqCst)));
            let (status, body) = agent.post_json(&node.url("/api/v1/bookings"), &doc).await;
            if status != StatusCode::CREATED {
                failures.push(format!("intake {i}: {status} {body}"));
                if failures.len() == 5 {
                    break;
                }
            }
        }
        assert!(
            failures.is_empty(),
            "round {round}: intakes failed after the hang-ups: {failures:#?}\n{}",
            tail(&node)
        );
        let id = agent.book(&node.base, &oneway(&pnr('V', next.fetch_add(1, Ordering::SeqCst)))).await;
        let (status, issued) = agent.post_json(&node.url(&format!("/api/v1/bookings/{id}/issue")), &json!({})).await;
        assert_eq!(status, StatusCode::CREATED, "round {round}: issue after the hang-ups: {issued}");
        let number = issued["tickets"][0]["number"].as_str().unwrap();
        let (status, body) = agent.post_json(&node.url(&format!("/api/v1/tickets/{number}/void")), &json!({})).await;
        assert_eq!(status, StatusCode::OK, "round {round}: void after the hang-ups: {body}");
        let id = agent.book(&node.base, &oneway(&pnr('R', next.fetch_add(1, Ordering::SeqCst)))).await;
        let (status, issued) = agent.post_json(&node.url(&format!("/api/v1/bookings/{id}/issue")), &json!({})).await;
        assert_eq!(status, StatusCode::CREATED, "{issued}");
        let number = issued["tickets"][0]["number"].as_str().unwrap();
        let refund = json!({"override_non_refundable": true});
        let (status, body) = admin.post_json(&node.url(&format!("/api/v1/tickets/{number}/refund")), &refund).await;
        assert_eq!(status, StatusCode::OK, "round {round}: refund after the hang-ups: {body}");

        if postgres {
            assert_eq!(open_transactions(&db).await, 0, "round {round}: sessions left idle in a transaction");
        }
        // Money still adds up after the cancelled writes.
        let agency = admin.get_json(&node.url(&format!("/api/v1/agencies/{}", seed.agency))).await;
        let ledger = admin.get_json(&node.url(&format!("/api/v1/agencies/{}/ledger", seed.agency))).await;
        let sum: i64 = ledger.as_array().unwrap().iter().map(|e| node::minor(e["amount"].as_str().unwrap())).sum();
        assert_eq!(node::minor(agency["balance"].as_str().unwrap()), sum, "round {round}: balance = ledger sum");
    }
    assert!(!node.stderr().contains("transaction depth"), "a poisoned connection was met: {}", tail(&node));
    eprintln!("{ROUNDS} rounds of {CLIENTS} hanging-up clients in {:?}", started.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_clients_hanging_up_mid_write_leave_a_clean_pool() {
    clients_hanging_up_mid_write_leave_a_clean_pool(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_clients_hanging_up_mid_write_leave_a_clean_pool() {
    clients_hanging_up_mid_write_leave_a_clean_pool(false).await;
}
