//! The downloads' access log is written in batches (docs/api.md, Access log): a graceful stop (SIGTERM) writes
//! what is still queued before the process exits. The node runs with a flush interval of an hour, so the entries
//! can reach the database only through the stop's flush; a node started afterwards on the same database lists
//! every one of them. On SQLite and PostgreSQL, against the real binary.

#[path = "support/node.rs"]
mod node;

use std::collections::HashSet;

use reqwest::StatusCode;
use serde_json::json;

use node::{oneway, Api, Db, Node, NodeSpec};

/// Downloads made before the stop.
const DOWNLOADS: usize = 40;

async fn a_graceful_stop_writes_the_queued_access_log(postgres: bool) {
    let db = Db::new(postgres).await;
    let seed = db.seed("100000000");
    let agent = Api::key(&seed.agent_key);
    let admin = Api::key(&seed.admin_key);
    let spec = NodeSpec::on(&db).arg("--access-log-flush-ms", "3600000");
    let node = Node::start(&spec).await;
    let booking = agent.book(&node.base, &oneway("SHUTDN")).await;
    let (status, issued) = agent.post_json(&node.url(&format!("/api/v1/bookings/{booking}/issue")), &json!({})).await;
    assert_eq!(status, StatusCode::CREATED, "{issued}");
    let number = issued["tickets"][0]["number"].as_str().unwrap().to_owned();
    let (status, link) = agent.post_json(&node.url(&format!("/api/v1/tickets/{number}/link")), &json!({})).await;
    assert_eq!(status, StatusCode::CREATED, "{link}");
    let link = link["url"].as_str().unwrap().to_owned();

    let mut tracking = HashSet::new();
    for i in 0..DOWNLOADS {
        let id = format!("shutdown-{i}");
        let request = if i % 2 == 0 {
            agent.get(&node.url(&format!("/api/v1/tickets/{number}/pdf")))
        } else {
            agent.client.get(&link)
        };
        let res = request.header("x-request-id", &id).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert!(res.bytes().await.unwrap().starts_with(b"%PDF-"));
        tracking.insert(id);
    }
    node.terminate();

    // A new node on the same database: its own queue is empty, so what it lists is what the stop wrote.
    let node = Node::start(&spec).await;
    let audit = admin.get_json(&node.url("/api/v1/audit?action=document.download&limit=1000")).await;
    let entries = audit["entries"].as_array().unwrap();
    assert_eq!(entries.len(), DOWNLOADS, "{audit}");
    let seen: HashSet<String> = entries.iter().map(|e| e["tracking_id"].as_str().unwrap().to_owned()).collect();
    assert_eq!(seen, tracking, "one entry per download, each its own");
    let via = |v: &str| entries.iter().filter(|e| e["detail"]["via"] == v).count();
    assert_eq!((via("api"), via("signed_link")), (DOWNLOADS / 2, DOWNLOADS / 2));
    let compact = number.replace('-', "");
    assert!(entries.iter().all(|e| e["ticket_number"].as_str() == Some(compact.as_str())));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_a_graceful_stop_writes_the_queued_access_log() {
    a_graceful_stop_writes_the_queued_access_log(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_a_graceful_stop_writes_the_queued_access_log() {
    a_graceful_stop_writes_the_queued_access_log(true).await;
}
