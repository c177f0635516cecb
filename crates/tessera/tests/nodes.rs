//! Two `tessera serve` processes behind one imaginary load balancer: one PostgreSQL database, one S3-compatible
//! bucket (moto's server, reached through the standard `AWS_*` variables), a data dir of their own each. What an
//! operator needs from N identical nodes: credentials made on one work on the other, races split across the nodes
//! have one winner and cannot overdraw, documents, signed links and zips rendered by one are served by the other,
//! the events API's rate limit is one budget, each queued e-mail is sent once, and without `--jwt-secret` the
//! generated keys are shared through the database. Each race is repeated within its test.

#[path = "support/moto.rs"]
mod moto;
#[path = "support/node.rs"]
mod node;
// The SMTP sink of the HTTP suite (its own tests run here too: they are quick).
#[allow(dead_code)]
#[path = "api/smtp.rs"]
mod smtp;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use tempfile::TempDir;
use tokio::sync::OnceCell;

use moto::Moto;
use node::{minor, oneway, pnr, qpdf_check, Api, Db, Node, NodeSpec, Seed, EVENT, ONEWAY_MINOR};

static MOTO: OnceCell<Moto> = OnceCell::const_new();

/// One moto server for the whole binary; each test gets a bucket of its own.
async fn bucket() -> (&'static Moto, String) {
    let moto = MOTO.get_or_init(Moto::start).await;
    let bucket = format!("nodes-{}", uuid::Uuid::new_v4().simple());
    moto.create_bucket(&bucket).await;
    (moto, bucket)
}

/// Two nodes on one database and one bucket, each with its own data dir.
struct Cluster {
    db: Db,
    seed: Seed,
    a: Node,
    b: Node,
    specs: [NodeSpec; 2],
    _dirs: [TempDir; 2],
}

impl Cluster {
    /// `tune` adds flags to both nodes' specs (same configuration everywhere, as behind a balancer).
    async fn start(tune: impl Fn(NodeSpec) -> NodeSpec) -> Cluster {
        let db = Db::postgres().await;
        let seed = db.seed("100000000");
        let (moto, bucket) = bucket().await;
        let dirs = [tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap()];
        let spec = |dir: &TempDir| {
            let mut spec = NodeSpec::on_dir(&db, dir.path()).arg("--documents-url", &format!("s3://{bucket}/docs"));
            // The standard variables an operator sets (AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, ..., AWS_ALLOW_HTTP).
            for (key, value) in moto.options() {
                let name = if key == "aws_endpoint" { "AWS_ENDPOINT_URL".to_owned() } else { key.to_ascii_uppercase() };
                spec = spec.env(&name, value);
            }
            tune(spec)
        };
        let specs = [spec(&dirs[0]), spec(&dirs[1])];
        let (a, b) = tokio::join!(Node::start(&specs[0]), Node::start(&specs[1]));
        Cluster { db, seed, a, b, specs, _dirs: dirs }
    }

    /// Node A for even `i`, node B for odd: how a round-robin balancer splits requests.
    fn node(&self, i: usize) -> &Node {
        if i % 2 == 0 {
            &self.a
        } else {
            &self.b
        }
    }

    fn agent(&self) -> Api {
        Api::key(&self.seed.agent_key)
    }

    fn admin(&self) -> Api {
        Api::key(&self.seed.admin_key)
    }
}

/// The same link on another node (links carry the issuing node's public URL; their token is what counts).
fn rebase(url: &str, from: &Node, to: &Node) -> String {
    assert!(url.starts_with(&from.base), "{url} is not a link of {}", from.base);
    url.replacen(&from.base, &to.base, 1)
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// GET that must answer 200 with the ETag of its bytes: the bytes.
async fn fetch(request: reqwest::RequestBuilder, what: &str) -> Vec<u8> {
    let res = request.send().await.unwrap_or_else(|e| panic!("{what}: {e}"));
    let status = res.status();
    let etag = res.headers().get("etag").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let bytes = res.bytes().await.unwrap().to_vec();
    assert_eq!(status, StatusCode::OK, "{what}: {}", String::from_utf8_lossy(&bytes[..bytes.len().min(500)]));
    if let Some(etag) = etag {
        assert_eq!(etag, format!("\"{}\"", sha256_hex(&bytes)), "{what}: the ETag is the SHA-256 of the bytes");
    }
    bytes
}

async fn sign_in(node: &Node, username: &str, password: &str) -> String {
    let body = json!({"username": username, "password": password});
    let res = reqwest::Client::new().post(node.url("/api/v1/sign-in")).json(&body).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    res.json::<Value>().await.unwrap()["access_token"].as_str().unwrap().to_owned()
}

/// The id of the user called `username`, as the admin API lists it.
async fn user_id(admin: &Api, node: &Node, username: &str) -> String {
    let users = admin.get_json(&node.url("/api/v1/users")).await;
    let user = users.as_array().unwrap().iter().find(|u| u["username"] == username).expect("the user exists");
    user["id"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn tokens_and_api_keys_made_on_one_node_work_on_the_other() {
    let cluster = Cluster::start(|spec| spec).await;
    let (a, b) = (&cluster.a, &cluster.b);
    let token = sign_in(a, "clerk", "clerk-password").await;
    let bookings = Api::bearer(&token).get(&b.url("/api/v1/bookings")).send().await.unwrap();
    assert_eq!(bookings.status(), StatusCode::OK, "a token signed by A is good on B");

    // A key made on B works on A; revoked on A, B refuses it on the next request.
    let admin = cluster.admin();
    let clerk = user_id(&admin, b, "clerk").await;
    let (status, created) = admin.post_json(&b.url(&format!("/api/v1/users/{clerk}/api-keys")), &json!({})).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let key = Api::key(created["key"].as_str().unwrap());
    assert_eq!(key.get(&a.url("/api/v1/bookings")).send().await.unwrap().status(), StatusCode::OK);
    let id = created["id"].as_str().unwrap();
    let revoked = admin.delete(&a.url(&format!("/api/v1/api-keys/{id}"))).send().await.unwrap();
    assert!(revoked.status().is_success(), "revoking on A: {}", revoked.status());
    for node in [b, a] {
        let res = key.get(&node.url("/api/v1/bookings")).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "a key revoked on A, used on {}", node.base);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn thirty_concurrent_issues_of_one_booking_across_two_nodes_succeed_once() {
    let cluster = Cluster::start(|spec| spec).await;
    let agent = cluster.agent();
    for round in 0..5 {
        let id = agent.book(&cluster.a.base, &oneway(&pnr('I', round))).await;
        let attempts = (0..30).map(|i| {
            let url = cluster.node(i).url(&format!("/api/v1/bookings/{id}/issue"));
            // Half of them with keys of their own: idempotency must not open a second way in.
            let request = agent.post(&url).json(&json!({}));
            let request =
                if i % 4 < 2 { request.header("idempotency-key", format!("race-{round}-{i}")) } else { request };
            async move {
                let res = request.send().await.unwrap();
                let status = res.status();
                (status, res.json::<Value>().await.unwrap_or(Value::Null))
            }
        });
        let answers = futures::future::join_all(attempts).await;
        let won: Vec<&Value> = answers.iter().filter(|(s, _)| *s == StatusCode::CREATED).map(|(_, b)| b).collect();
        assert_eq!(won.len(), 1, "round {round}: {answers:?}");
        for (status, body) in &answers {
            assert!(
                *status == StatusCode::CREATED || (*status == StatusCode::CONFLICT && body["code"] == "already_issued"),
                "round {round}: a loser answers 409 already_issued, not {status} {body}"
            );
        }
        let ledger =
            cluster.admin().get_json(&cluster.b.url(&format!("/api/v1/agencies/{}/ledger", cluster.seed.agency))).await;
        let debits =
            ledger.as_array().unwrap().iter().filter(|e| e["ticketReferenceID"] == won[0]["ticketReferenceID"]);
        assert_eq!(debits.count(), 1, "round {round}: one debit");
    }
    let ledger =
        cluster.admin().get_json(&cluster.a.url(&format!("/api/v1/agencies/{}/ledger", cluster.seed.agency))).await;
    let issued = ledger.as_array().unwrap().iter().filter(|e| e["kind"] == "issuance_debit").count();
    assert_eq!(issued, 5, "five bookings, five debits");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_balance_race_across_two_nodes_cannot_overdraw() {
    let cluster = Cluster::start(|spec| spec).await;
    let admin = cluster.admin();
    for round in 0..4 {
        // An agency whose balance pays for exactly three one-way bookings, and its own agent.
        let balance = ONEWAY_MINOR * 3;
        let agency = json!({"name": format!("Race {round}"), "currency": "NPR", "balance": format!("{}.00", balance / 100),
                            "credit_limit": "0", "office_id": "KTMNP2100", "iata_number": "35123456", "timezone": "Asia/Kathmandu"});
        let (status, agency) = admin.post_json(&cluster.a.url("/api/v1/agencies"), &agency).await;
        assert_eq!(status, StatusCode::CREATED, "{agency}");
        let agency = agency["id"].as_str().unwrap().to_owned();
        let username = format!("racer{round}");
        let user = json!({"username": username, "password": "racer-password", "role": "agent", "agency_id": agency});
        let (status, body) = admin.post_json(&cluster.b.url("/api/v1/users"), &user).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let agent = Api::bearer(&sign_in(&cluster.a, &username, "racer-password").await);
        let mut bookings = Vec::new();
        for i in 0..12 {
            bookings.push(agent.book(&cluster.node(i).base, &oneway(&pnr('B', i))).await);
        }
        let attempts = bookings.iter().enumerate().map(|(i, id)| {
            let request =
                agent.post(&cluster.node(i + 1).url(&format!("/api/v1/bookings/{id}/issue"))).json(&json!({}));
            async move {
                let res = request.send().await.unwrap();
                let status = res.status();
                (status, res.json::<Value>().await.unwrap_or(Value::Null))
            }
        });
        let answers = futures::future::join_all(attempts).await;
        let won = answers.iter().filter(|(s, _)| *s == StatusCode::CREATED).count();
        for (status, body) in &answers {
            assert!(
                *status == StatusCode::CREATED
                    || (*status == StatusCode::PAYMENT_REQUIRED && body["code"] == "insufficient_balance"),
                "round {round}: {status} {body}"
            );
        }
        assert_eq!(won, 3, "round {round}: the balance pays for three: {answers:?}");
        for node in [&cluster.a, &cluster.b] {
            let body = admin.get_json(&node.url(&format!("/api/v1/agencies/{agency}"))).await;
            assert_eq!(body["balance"], "0.00", "round {round}: {body}");
            let ledger = admin.get_json(&node.url(&format!("/api/v1/agencies/{agency}/ledger"))).await;
            let sum: i64 = ledger.as_array().unwrap().iter().map(|e| minor(e["amount"].as_str().unwrap())).sum();
            assert_eq!(sum, 0, "round {round}: the ledger adds up to the balance");
        }
    }
}

/// An EUR agency for the event examples, with an agent's API key (made with the admin commands).
fn eur_agent(db: &Db) -> Api {
    let last = |text: String| text.split_whitespace().last().unwrap_or_default().to_owned();
    let agency =
        last(db.admin("create-agency --name Euro-Events --currency EUR --balance 1000000 --timezone Europe/Amsterdam"));
    db.admin(&format!("create-user --username eventer --password eventer-password --role agent --agency {agency}"));
    Api::key(&last(db.admin("create-api-key --username eventer")))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn documents_links_and_zips_rendered_on_one_node_are_served_by_the_other() {
    let cluster = Cluster::start(|spec| spec).await;
    let (a, b) = (&cluster.a, &cluster.b);
    let agent = cluster.agent();
    for round in 0..3 {
        let id = agent.book(&a.base, &oneway(&pnr('D', round))).await;
        let (status, issued) = agent.post_json(&a.url(&format!("/api/v1/bookings/{id}/issue")), &json!({})).await;
        assert_eq!(status, StatusCode::CREATED, "{issued}");
        let number = issued["tickets"][0]["number"].as_str().unwrap();
        let reference = issued["ticketReferenceID"].as_str().unwrap();
        for path in [format!("/api/v1/tickets/{number}/pdf"), format!("/api/v1/issuances/{reference}/pdf")] {
            let from_b = fetch(agent.get(&b.url(&path)), &format!("B {path}")).await;
            let from_a = fetch(agent.get(&a.url(&path)), &format!("A {path}")).await;
            assert_eq!(from_a, from_b, "{path}: one document, whichever node serves it");
            qpdf_check(&from_b).unwrap();
        }
        // A signed link made by A opens on B, and one made by B opens on A.
        for (maker, opener) in [(a, b), (b, a)] {
            let (status, link) =
                agent.post_json(&maker.url(&format!("/api/v1/tickets/{number}/link")), &json!({})).await;
            assert_eq!(status, StatusCode::CREATED, "{link}");
            let url = rebase(link["url"].as_str().unwrap(), maker, opener);
            let bytes = fetch(reqwest::Client::new().get(&url), &url).await;
            assert!(bytes.starts_with(b"%PDF-"), "{url}");
        }
    }

    // Zips: rendered by B at issuance, linked by A, served by both; rebuilt by both at once, still one zip.
    let events = eur_agent(&cluster.db);
    let admin = cluster.admin();
    for round in 0..3 {
        let mut doc: Value = serde_json::from_str(EVENT).unwrap();
        doc["booking_code"] = format!("ZIP{round}").into();
        let id = events.book(&b.base, &doc).await;
        let (status, issued) = events.post_json(&b.url(&format!("/api/v1/bookings/{id}/issue")), &json!({})).await;
        assert_eq!(status, StatusCode::CREATED, "{issued}");
        let orders = events.get_json(&a.url(&format!("/v1/bookingorders?booking_id={id}"))).await;
        let order = &orders["bookingorders"][0];
        let order_id = order["bookingorder_id"].as_str().unwrap().to_owned();
        let item = order["items"][0]["orderitem_id"].as_str().unwrap().to_owned();

        // Both nodes flip the same item's channel at once, several times: every rebuild leaves a zip whose bytes
        // are the recorded zip_sha, served the same by both.
        for flip in 0..4 {
            let path = format!("/api/v1/booking-orders/{order_id}/items/{item}/distribution-channel");
            let channel = if flip % 2 == 0 { "external" } else { "xs2event" };
            let body = json!({"distribution_channel": channel});
            let (ra, rb) =
                tokio::join!(admin.put(&a.url(&path)).json(&body).send(), admin.put(&b.url(&path)).json(&body).send());
            assert_eq!((ra.unwrap().status(), rb.unwrap().status()), (StatusCode::OK, StatusCode::OK), "flip {flip}");
            let order = events.get_json(&b.url(&format!("/v1/bookingorders/{order_id}"))).await;
            let zip_sha = order["zip_sha"].as_str().unwrap_or_else(|| panic!("a zip_sha: {order}")).to_owned();
            for (linker, server) in [(a, b), (b, a)] {
                let link = events.get_json(&linker.url(&format!("/v1/etickets/download/zip/{order_id}"))).await;
                let url = rebase(link.as_str().unwrap(), linker, server);
                let zip = fetch(reqwest::Client::new().get(&url), &url).await;
                assert!(zip.starts_with(b"PK"), "round {round}, flip {flip}: {url} is a zip");
                assert_eq!(sha256_hex(&zip), zip_sha, "round {round}, flip {flip}: the served zip is the recorded one");
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_events_rate_limit_is_one_budget_across_nodes() {
    const BURST: usize = 10;
    let cluster =
        Cluster::start(|spec| spec.arg("--rate-limit-per-second", "1").arg("--rate-limit-burst", &BURST.to_string()))
            .await;
    let admin = cluster.admin();
    let clerk = user_id(&admin, &cluster.a, "clerk").await;
    for round in 0..3 {
        // A fresh credential each round: a full bucket of its own.
        let (status, created) =
            admin.post_json(&cluster.a.url(&format!("/api/v1/users/{clerk}/api-keys")), &json!({})).await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        let key = Api::key(created["key"].as_str().unwrap());
        let started = Instant::now();
        let requests = (0..40).map(|i| {
            let request = key.get(&cluster.node(i).url("/v1/bookingorders"));
            async move {
                let res = request.send().await.unwrap();
                (res.status(), res.headers().get("retry-after").and_then(|v| v.to_str().ok()).map(str::to_owned))
            }
        });
        let answers = futures::future::join_all(requests).await;
        let elapsed = started.elapsed().as_secs_f64();
        let ok = answers.iter().filter(|(s, _)| *s == StatusCode::OK).count();
        for (status, retry_after) in &answers {
            assert!(
                *status == StatusCode::OK || (*status == StatusCode::TOO_MANY_REQUESTS && retry_after.is_some()),
                "round {round}: {status} {retry_after:?}"
            );
        }
        // One bucket of BURST, refilled at 1/s while the requests ran; per node it would be twice the burst.
        let allowed = BURST + elapsed.ceil() as usize;
        assert!(
            ok >= BURST && ok <= allowed,
            "round {round}: {ok} of 40 allowed in {elapsed:.2} s; one budget allows {allowed}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn each_queued_email_is_sent_once_by_one_of_the_nodes() {
    let sink = smtp::SmtpSink::start();
    // Without a relay the group API only queues; then both nodes come back with one and race for the outbox.
    let mut cluster = Cluster::start(|spec| spec).await;
    let mailing = |spec: &NodeSpec| {
        spec.clone()
            .arg("--smtp-url", &sink.url())
            .arg("--smtp-from", "Tessera <tickets@tessera.test>")
            .arg("--outbox-interval", "1")
            .arg("--mail-retry-base", "1")
    };
    let agent = cluster.agent();
    let mut expected: Vec<String> = Vec::new();
    for round in 0..3 {
        if round > 0 {
            let (a, b) = tokio::join!(Node::start(&cluster.specs[0]), Node::start(&cluster.specs[1]));
            (cluster.a, cluster.b) = (a, b);
        }
        for i in 0..6 {
            let code = pnr('M', round * 10 + i);
            let id = agent.book(&cluster.node(i).base, &oneway(&code)).await;
            let (status, issued) =
                agent.post_json(&cluster.node(i + 1).url(&format!("/api/v1/bookings/{id}/issue")), &json!({})).await;
            assert_eq!(status, StatusCode::CREATED, "{issued}");
            let res = agent.get(&cluster.node(i).url(&format!("/tickets?booking_code={code}"))).send().await.unwrap();
            assert_eq!(res.status(), StatusCode::OK, "queued: {}", res.text().await.unwrap());
            expected.push(issued["ticketReferenceID"].as_str().unwrap().to_owned());
        }
        let with_relay = [mailing(&cluster.specs[0]), mailing(&cluster.specs[1])];
        let (a, b) = tokio::join!(Node::start(&with_relay[0]), Node::start(&with_relay[1]));
        (cluster.a, cluster.b) = (a, b);
        sink.wait_for(expected.len(), Duration::from_secs(20)).await;
        // Two more worker runs on each node: a second send would show up now.
        tokio::time::sleep(Duration::from_millis(2500)).await;
        let mut seen: HashMap<String, usize> = expected.iter().map(|k| (k.clone(), 0)).collect();
        for message in sink.messages() {
            let text = message.text.unwrap_or_default();
            let reference = text.lines().find_map(|l| l.strip_prefix("Ticket reference: ")).unwrap_or_default();
            *seen.entry(reference.trim().to_owned()).or_default() += 1;
        }
        let want = expected.len();
        assert!(seen.values().all(|n| *n == 1) && seen.len() == want, "round {round}: each message once: {seen:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn without_a_jwt_secret_tokens_and_links_from_one_node_work_on_the_other() {
    let cluster = Cluster::start(NodeSpec::without_secret).await;
    let (a, b) = (&cluster.a, &cluster.b);
    let agent = cluster.agent();
    let id = agent.book(&a.base, &oneway("NOSECR")).await;
    let (status, issued) = agent.post_json(&a.url(&format!("/api/v1/bookings/{id}/issue")), &json!({})).await;
    assert_eq!(status, StatusCode::CREATED, "{issued}");
    let number = issued["tickets"][0]["number"].as_str().unwrap();
    for round in 0..2 {
        for (signer, checker) in [(a, b), (b, a)] {
            let token = sign_in(signer, "clerk", "clerk-password").await;
            let res = Api::bearer(&token).get(&checker.url("/api/v1/bookings")).send().await.unwrap();
            assert_eq!(res.status(), StatusCode::OK, "round {round}: a token of {} on {}", signer.base, checker.base);
            let (status, link) =
                agent.post_json(&signer.url(&format!("/api/v1/tickets/{number}/link")), &json!({})).await;
            assert_eq!(status, StatusCode::CREATED, "{link}");
            let url = rebase(link["url"].as_str().unwrap(), signer, checker);
            fetch(reqwest::Client::new().get(&url), &url).await;
        }
    }
    // A restarted node keeps the shared keys: a token from before still works.
    let token = sign_in(a, "clerk", "clerk-password").await;
    let Cluster { a, b, specs, .. } = cluster;
    a.kill9();
    drop(b);
    let b = Node::start(&specs[1]).await;
    let res = Api::bearer(&token).get(&b.url("/api/v1/bookings")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK, "a token from before the restart");
}

/// Deletes every object in the bucket (a wiped bucket, a lost disk), with boto3 (moto depends on it): moto
/// refuses unsigned deletes. How many there were.
fn wipe(bucket: &str) -> usize {
    let moto = MOTO.get().expect("moto is running");
    let script = "import sys, boto3\n\
        s3 = boto3.client('s3', endpoint_url=sys.argv[1], aws_access_key_id='testing', \
        aws_secret_access_key='testing', region_name='us-east-1')\n\
        keys = [o['Key'] for o in s3.list_objects_v2(Bucket=sys.argv[2]).get('Contents', [])]\n\
        for key in keys: s3.delete_object(Bucket=sys.argv[2], Key=key)\n\
        print(len(keys))\n";
    let out = std::process::Command::new("python3").args(["-c", script, &moto.endpoint, bucket]).output().unwrap();
    assert!(out.status.success(), "wiping {bucket}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_wiped_bucket_is_refilled_by_whichever_node_is_asked() {
    let cluster = Cluster::start(|spec| spec).await;
    let (a, b) = (&cluster.a, &cluster.b);
    let bucket = cluster.specs[0].extra.iter().find_map(|arg| arg.strip_prefix("s3://")).unwrap();
    let bucket = bucket.split('/').next().unwrap().to_owned();
    let agent = cluster.agent();
    let events = eur_agent(&cluster.db);
    for round in 0..2 {
        let id = agent.book(&a.base, &oneway(&pnr('W', round))).await;
        let (status, issued) = agent.post_json(&a.url(&format!("/api/v1/bookings/{id}/issue")), &json!({})).await;
        assert_eq!(status, StatusCode::CREATED, "{issued}");
        let number = issued["tickets"][0]["number"].as_str().unwrap().to_owned();
        let reference = issued["ticketReferenceID"].as_str().unwrap().to_owned();
        let mut doc: Value = serde_json::from_str(EVENT).unwrap();
        doc["booking_code"] = format!("WIPE{round}").into();
        let event = events.book(&a.base, &doc).await;
        let (status, body) = events.post_json(&a.url(&format!("/api/v1/bookings/{event}/issue")), &json!({})).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let orders = events.get_json(&a.url(&format!("/v1/bookingorders?booking_id={event}"))).await;
        let order = orders["bookingorders"][0]["bookingorder_id"].as_str().unwrap().to_owned();
        let zip_sha = orders["bookingorders"][0]["zip_sha"].as_str().unwrap().to_owned();

        let paths = [format!("/api/v1/tickets/{number}/pdf"), format!("/api/v1/issuances/{reference}/pdf")];
        let mut before = Vec::new();
        for path in &paths {
            before.push(fetch(agent.get(&a.url(path)), path).await);
        }
        assert!(wipe(&bucket) > 0, "the bucket held the documents");
        // Asked on B, from a database that knows them: rendered again, the same bytes, and stored again.
        for (path, bytes) in paths.iter().zip(&before) {
            let again = fetch(agent.get(&b.url(path)), &format!("B {path} after the wipe")).await;
            assert_eq!(sha256_hex(&again), sha256_hex(bytes), "{path}: rendering is deterministic");
            let from_a = fetch(agent.get(&a.url(path)), &format!("A {path} after the wipe")).await;
            assert_eq!(from_a, again);
        }
        let link = events.get_json(&b.url(&format!("/v1/etickets/download/zip/{order}"))).await;
        let zip = fetch(reqwest::Client::new().get(link.as_str().unwrap()), "the zip after the wipe").await;
        assert_eq!(sha256_hex(&zip), zip_sha, "round {round}: the zip is rebuilt byte for byte");
    }
}
