//! The real `tessera` binary: operator commands (and their `--json` reads), `serve` as a child process
//! (readiness, graceful SIGTERM), `serve --demo`, configuration precedence (flag > TESSERA_* environment > TOML
//! file), and which options each command's `--help` offers.

use std::io::Read;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tempfile::TempDir;

const BIN: &str = env!("CARGO_BIN_EXE_tessera");
const SECRET: &str = "cli-test-secret-cli-test-secret-01234567";
const ONEWAY: &str = include_str!("../../../examples/bookings/flight-oneway.json");

/// `tessera` with no TESSERA_* variables from the environment running the tests.
fn tessera() -> Command {
    let mut cmd = Command::new(BIN);
    for (name, _) in std::env::vars().filter(|(n, _)| n.starts_with("TESSERA_")) {
        cmd.env_remove(name);
    }
    cmd.env("TESSERA_LOG", "warn");
    cmd
}

/// Runs a command to completion (at most 60 s).
fn run(cmd: &mut Command) -> Output {
    let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("spawn tessera");
    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait().expect("wait").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("{cmd:?} did not finish within 60 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().expect("output")
}

/// `tessera admin <line>` (split on whitespace) against `db`, asserting success; returns stdout.
fn admin(db: &Db, line: &str) -> String {
    let args: Vec<&str> = line.split_whitespace().collect();
    let out = run(tessera().args(db.args()).arg("admin").args(&args));
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "admin {args:?} failed: {stderr}");
    stdout.into_owned()
}

/// `tessera admin <line>` that must fail cleanly; returns stderr.
fn admin_fails(db: &Db, line: &str) -> String {
    let args: Vec<&str> = line.split_whitespace().collect();
    let out = run(tessera().args(db.args()).arg("admin").args(&args));
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!out.status.success(), "admin {args:?} should fail");
    assert!(stderr.starts_with("tessera: ") || stderr.contains("error:"), "a readable message: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    stderr
}

fn last_word(text: &str) -> &str {
    text.split_whitespace().last().unwrap_or_default()
}

/// Where a test keeps its data: always a temp data dir, optionally a fresh PostgreSQL database.
struct Db {
    dir: TempDir,
    pg: Option<tessera_storage_postgres::testing::DatabaseGuard>,
}

impl Db {
    fn sqlite() -> Self {
        Self { dir: tempfile::tempdir().unwrap(), pg: None }
    }

    async fn postgres() -> Self {
        let admin_url = std::env::var("TESSERA_TEST_DATABASE_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
        let url =
            tessera_storage_postgres::testing::fresh_database(&admin_url).await.expect("PostgreSQL must be reachable");
        Self {
            dir: tempfile::tempdir().unwrap(),
            pg: Some(tessera_storage_postgres::testing::DatabaseGuard::new(&admin_url, &url)),
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn args(&self) -> Vec<String> {
        let mut args = vec!["--data-dir".to_owned(), self.path().display().to_string()];
        if let Some(pg) = &self.pg {
            args.extend(["--database-url".to_owned(), pg.url().to_owned()]);
        }
        args
    }
}

/// A `tessera serve` child process, killed when dropped; its output is collected as it comes.
struct Server {
    child: Child,
    base: String,
    stdout: Arc<Mutex<String>>,
    stderr: Arc<Mutex<String>>,
}

fn drain(mut from: impl Read + Send + 'static) -> Arc<Mutex<String>> {
    let sink = Arc::new(Mutex::new(String::new()));
    let to = sink.clone();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = from.read(&mut buf) {
            if n == 0 {
                break;
            }
            to.lock().unwrap().push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    });
    sink
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

impl Server {
    /// Starts `tessera [global args] serve [extra]` on a free port and waits until `/readyz` answers 200.
    async fn start(db: &Db, global: &[&str], extra: &[&str], env: &[(&str, &str)]) -> Server {
        let port = free_port();
        let mut cmd = tessera();
        cmd.args(db.args()).args(global).args(["serve", "--listen", &format!("127.0.0.1:{port}")]).args(extra);
        cmd.envs(env.iter().copied()).stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("spawn tessera serve");
        let (stdout, stderr) = (drain(child.stdout.take().unwrap()), drain(child.stderr.take().unwrap()));
        let mut server = Server { child, base: format!("http://127.0.0.1:{port}"), stdout, stderr };
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(res) = client.get(format!("{}/readyz", server.base)).send().await {
                if res.status() == reqwest::StatusCode::OK {
                    return server;
                }
            }
            let exited = server.child.try_wait().expect("wait");
            assert!(exited.is_none(), "server exited with {exited:?}: {}", server.stderr.lock().unwrap());
            assert!(Instant::now() < deadline, "server did not get ready: {}", server.stderr.lock().unwrap());
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn stdout(&self) -> String {
        self.stdout.lock().unwrap().clone()
    }

    /// Sends SIGTERM and asserts a successful exit within 10 s.
    fn terminate(mut self) {
        let status = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status().expect("kill");
        assert!(status.success());
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                assert!(status.success(), "exit after SIGTERM: {status}; {}", self.stderr.lock().unwrap());
                return;
            }
            assert!(Instant::now() < deadline, "no exit within 10 s of SIGTERM");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    async fn get(&self, path: &str, key: &str) -> Value {
        let res =
            reqwest::Client::new().get(format!("{}{path}", self.base)).header("X-API-KEY", key).send().await.unwrap();
        assert_eq!(res.status(), reqwest::StatusCode::OK, "GET {path}");
        res.json().await.unwrap()
    }

    async fn post(&self, path: &str, key: &str, body: &str) -> Value {
        let client = reqwest::Client::new();
        let res = client
            .post(format!("{}{path}", self.base))
            .header("X-API-KEY", key)
            .header("content-type", "application/json");
        let res = res.body(body.to_owned()).send().await.unwrap();
        assert_eq!(res.status(), reqwest::StatusCode::CREATED, "POST {path}");
        res.json().await.unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An NPR agency (credit limit 50) with an agent and its API key, made with the admin commands: (agency id, key).
fn agency_with_key(db: &Db, username: &str, balance: &str) -> (String, String) {
    let out = admin(
        db,
        &format!(
            "create-agency --name CLI-Travel --currency NPR --balance {balance} --credit-limit 50 \
        --office-id KTMNP2100 --iata-number 35123456 --timezone Asia/Kathmandu"
        ),
    );
    let agency = last_word(&out).to_owned();
    agency.parse::<uuid::Uuid>().unwrap_or_else(|_| panic!("the last word is the agency id: {out}"));
    admin(db, &format!("create-user --username {username} --password clerk-password --role agent --agency {agency}"));
    let out = admin(db, &format!("create-api-key --username {username}"));
    let key = last_word(&out).to_owned();
    assert!(key.starts_with("tsk_"), "{out}");
    (agency, key)
}

async fn admin_commands_then_serve(db: Db) {
    let (agency, key) = agency_with_key(&db, "clerk", "1000");
    let out = admin(&db, &format!("set-agreement --agency {agency} --carrier QR --commission-cap 5"));
    assert!(out.contains("authorized=true") && out.contains("5%"), "{out}");
    let out = admin(&db, &format!("set-agreement --agency {agency} --carrier FZ --unauthorize"));
    assert!(out.contains("authorized=false"), "{out}");
    let dates = "--valid-from 2027-01-01 --valid-to 2027-06-30";
    admin(&db, &format!("add-tour-code --agency {agency} --carrier QR --code QRSPRING {dates}"));
    admin(&db, &format!("add-corporate-account --agency {agency} --code CORP42"));
    let out = admin(&db, &format!("top-up --agency {agency} --amount 250.50"));
    assert!(out.contains("1250.50"), "{out}");
    let out = admin(&db, &format!("set-default-language --agency {agency} --language vi-VN"));
    assert!(out.contains("writes documents in vi by default"), "{out}");
    let stderr = admin_fails(&db, &format!("set-default-language --agency {agency} --language fr"));
    assert!(stderr.contains("language `fr` is not supported; supported languages: en, vi"), "{stderr}");
    let stderr = admin_fails(&db, "create-agency --name Paris --currency EUR --default-language french");
    assert!(stderr.contains("default_language: `french` is not a BCP-47 language tag"), "{stderr}");
    let out = admin(&db, "create-agency --name Saigon --currency VND --default-language vi");
    let saigon = last_word(&out).to_owned();
    let shown = admin(&db, &format!("show-agency --agency {saigon}"));
    assert!(shown.lines().any(|l| l.starts_with("language") && l.trim_end().ends_with("vi")), "{shown}");

    let stderr = admin_fails(&db, "create-agency --name Bad --currency xx");
    assert!(stderr.contains("currency"), "{stderr}");
    let stderr = admin_fails(&db, "create-agency --name Mars --currency NPR --timezone Mars/Olympus_Mons");
    assert!(stderr.contains("timezone: `Mars/Olympus_Mons` is not an IANA time zone"), "{stderr}");
    let stderr = admin_fails(&db, &format!("top-up --agency {} --amount 1", uuid::Uuid::new_v4()));
    assert!(stderr.contains("not found"), "{stderr}");
    let stderr = admin_fails(
        &db,
        &format!("create-user --username clerk --password clerk-password --role agent --agency {agency}"),
    );
    assert!(stderr.contains("exists"), "{stderr}");
    for line in [
        format!("top-up --agency {agency} --amount=-5"),
        format!("set-agreement --agency {agency} --carrier QR --commission-cap 101"),
        format!("add-tour-code --agency {agency} --carrier QR --code X --valid-from 2027-06-30 --valid-to 2027-01-01"),
        format!("create-user --username someone --password short --role agent --agency {agency}"),
        "create-user --username someone --password long-enough --role king".to_owned(),
        "create-api-key --username nobody".to_owned(),
        "top-up --agency not-a-uuid --amount 1".to_owned(),
    ] {
        admin_fails(&db, &line);
    }

    let server = Server::start(&db, &[], &["--jwt-secret", SECRET], &[]).await;
    let ready: Value = reqwest::get(format!("{}/readyz", server.base)).await.unwrap().json().await.unwrap();
    assert_eq!(ready["database"], if db.pg.is_some() { "postgres" } else { "sqlite" });
    let body = server.get(&format!("/api/v1/agencies/{agency}"), &key).await;
    assert_eq!(body["balance"], "1250.50", "{body}");
    assert_eq!(body["credit_limit"], "50.00");
    assert_eq!(body["available"], "1300.50");
    assert_eq!(body["office_id"], "KTMNP2100");
    assert_eq!(body["default_language"], "vi", "set by the CLI, read by the server");
    let agreements = server.get(&format!("/api/v1/agencies/{agency}/agreements"), &key).await;
    let carriers = agreements["carriers"].as_array().unwrap();
    assert!(carriers.iter().any(|c| c["carrier"] == "QR" && c["authorized"] == true), "{agreements}");
    assert!(carriers.iter().any(|c| c["carrier"] == "FZ" && c["authorized"] == false), "{agreements}");
    assert_eq!(agreements["tour_codes"][0]["code"], "QRSPRING");
    assert_eq!(agreements["corporate_accounts"], json!(["CORP42"]));
    server.terminate();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_commands_then_serve_on_sqlite() {
    admin_commands_then_serve(Db::sqlite()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_commands_then_serve_on_postgres() {
    admin_commands_then_serve(Db::postgres().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_demo_prints_working_credentials_and_reuses_its_data() {
    let db = Db::sqlite();
    let server = Server::start(&db, &[], &["--demo", "--jwt-secret", SECRET], &[]).await;
    let out = server.stdout();
    for needle in ["admin", "agent", "customer", "API key", "curl", "PQMJ8E"] {
        assert!(out.contains(needle), "`{needle}` in {out}");
    }
    let key_line = out.lines().find(|l| l.contains("API key")).unwrap();
    let key = last_word(key_line);
    assert!(key.starts_with("tsk_"), "{key_line}");
    let bookings = server.get("/api/v1/bookings", key).await;
    assert!(bookings["bookings"].as_array().unwrap().iter().any(|b| b["pnr"] == "PQMJ8E"), "{bookings}");
    server.terminate();

    let again = Server::start(&db, &[], &["--demo", "--jwt-secret", SECRET], &[]).await;
    let out = again.stdout();
    assert!(out.contains("already") && out.contains("reusing"), "{out}");
    let bookings = again.get("/api/v1/bookings", key).await;
    assert_eq!(
        bookings["bookings"].as_array().unwrap().iter().filter(|b| b["pnr"] == "PQMJ8E").count(),
        1,
        "seeded once"
    );
    again.terminate();
}

/// Seconds from now until a freshly signed link for `number` expires.
async fn link_ttl(server: &Server, key: &str, number: &str) -> i64 {
    let link = server.post(&format!("/api/v1/tickets/{number}/link"), key, "{}").await;
    let expires: chrono::DateTime<chrono::Utc> = link["expires_at"].as_str().unwrap().parse().unwrap();
    (expires - chrono::Utc::now()).num_seconds()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn link_ttl_comes_from_the_flag_then_the_environment_then_the_file() {
    let db = Db::sqlite();
    let (_, key) = agency_with_key(&db, "linker", "100000");
    let config = db.path().join("tessera.toml");
    std::fs::write(&config, "link-ttl = 300\n").unwrap();
    let config = config.display().to_string();

    let server =
        Server::start(&db, &[], &["--jwt-secret", SECRET, "--link-ttl", "200"], &[("TESSERA_LINK_TTL", "100")]).await;
    let booking = server.post("/api/v1/bookings", &key, ONEWAY).await;
    let issued = server.post(&format!("/api/v1/bookings/{}/issue", booking["id"].as_str().unwrap()), &key, "{}").await;
    let number = issued["tickets"][0]["number"].as_str().unwrap().to_owned();
    let ttl = link_ttl(&server, &key, &number).await;
    assert!((195..=200).contains(&ttl), "flag beats environment: {ttl}");
    server.terminate();

    let server =
        Server::start(&db, &["--config", &config], &["--jwt-secret", SECRET], &[("TESSERA_LINK_TTL", "100")]).await;
    let ttl = link_ttl(&server, &key, &number).await;
    assert!((95..=100).contains(&ttl), "environment beats file: {ttl}");
    server.terminate();

    let server = Server::start(&db, &["--config", &config], &["--jwt-secret", SECRET], &[]).await;
    let ttl = link_ttl(&server, &key, &number).await;
    assert!((295..=300).contains(&ttl), "file beats default: {ttl}");
    server.terminate();
}

#[test]
fn invalid_configuration_stops_with_a_clear_message() {
    let db = Db::sqlite();
    let bad_toml = db.path().join("bad.toml");
    std::fs::write(&bad_toml, "link-ttl = 300\ncolour = \"red\"\n").unwrap();
    let bad_toml = bad_toml.display().to_string();
    let cases: [(&[&str], &str); 6] = [
        (&["serve", "--jwt-secret", "short"], "--jwt-secret must be at least 32 characters"),
        (&["serve", "--link-ttl", "0"], "--link-ttl must be between"),
        (&["serve", "--database-url", "mysql://db/x"], "--database-url must start with"),
        (&["serve", "--log-format", "xml"], "--log-format must be"),
        (&["--config", &bad_toml, "serve"], "bad.toml"),
        (&["--config", "/nonexistent/tessera.toml", "serve"], "/nonexistent/tessera.toml"),
    ];
    for (args, message) in cases {
        let listen = format!("--listen=127.0.0.1:{}", free_port());
        let mut args = args.to_vec();
        let at = args.iter().position(|a| *a == "serve").expect("a serve command") + 1;
        args.insert(at, &listen);
        let out = run(tessera().args(db.args()).args(&args));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?} should fail");
        assert!(stderr.contains(message), "{args:?}: `{message}` in {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

/// `tessera admin <line> --json` parsed.
fn admin_json(db: &Db, line: &str) -> Value {
    let out = admin(db, &format!("{line} --json"));
    serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("{line}: not JSON ({e}): {out}"))
}

async fn admin_reads_and_revocation(db: Db) {
    let (agency, key) = agency_with_key(&db, "reader", "100000");
    let (other, _) = agency_with_key(&db, "bystander", "5");
    admin(&db, &format!("top-up --agency {agency} --amount 250.50"));
    admin(&db, &format!("set-agreement --agency {agency} --carrier QR --commission-cap 5"));

    let agencies = admin_json(&db, "list-agencies");
    let mine = agencies.as_array().unwrap().iter().find(|a| a["id"] == agency.as_str()).expect("listed");
    assert_eq!(mine["balance"], "100250.50");
    assert_eq!(mine["credit_limit"], "50.00");
    assert_eq!(mine["available"], "100300.50");
    assert_eq!(mine["currency"], "NPR");
    assert!(agencies.as_array().unwrap().iter().any(|a| a["id"] == other.as_str()));
    let table = admin(&db, "list-agencies");
    assert!(table.starts_with("ID") && table.contains("AVAILABLE") && table.contains("100300.50"), "{table}");

    let shown = admin_json(&db, &format!("show-agency --agency {agency}"));
    assert_eq!(shown["balance"], "100250.50");
    assert_eq!(shown["office_id"], "KTMNP2100");
    assert_eq!(shown["timezone"], "Asia/Kathmandu");
    assert_eq!(shown["agreements"][0]["carrier"], "QR");
    assert_eq!(shown["agreements"][0]["commission_cap_percent"], "5");
    assert!(admin(&db, &format!("show-agency --agency {agency}")).contains("100250.50"));
    let stderr = admin_fails(&db, &format!("show-agency --agency {}", uuid::Uuid::new_v4()));
    assert!(stderr.contains("not found"), "{stderr}");

    let users = admin_json(&db, &format!("list-users --agency {agency}"));
    assert_eq!(users, json!([{"id": users[0]["id"], "username": "reader", "role": "agent", "agency_id": agency}]));
    let everyone = admin_json(&db, "list-users");
    assert_eq!(everyone.as_array().unwrap().len(), 2, "{everyone}");

    let ledger = admin_json(&db, &format!("list-ledger --agency {agency}"));
    let kinds: Vec<&str> = ledger.as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["top_up", "top_up"], "{ledger}");
    assert_eq!(ledger[1]["amount"], "250.50");
    assert_eq!(ledger[1]["balance_after"], "100250.50");
    assert_eq!(ledger[1]["note"], "top-up from the command line");

    // A second key; both listed (never the key itself), by user and by agency.
    let out = admin(&db, "create-api-key --username reader");
    let second = last_word(&out).to_owned();
    let keys = admin_json(&db, "list-api-keys --username reader");
    assert_eq!(keys.as_array().unwrap().len(), 2, "{keys}");
    assert!(keys.as_array().unwrap().iter().all(|k| k["revoked_at"].is_null() && k["username"] == "reader"));
    assert!(!keys.to_string().contains(&key) && !keys.to_string().contains(&second), "keys are never shown again");
    assert_eq!(admin_json(&db, &format!("list-api-keys --agency {agency}")), keys);
    let first_id = keys
        .as_array()
        .unwrap()
        .iter()
        .find(|k| key.starts_with(k["prefix"].as_str().unwrap()))
        .expect("the first key by its prefix")["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let server = Server::start(&db, &[], &["--jwt-secret", SECRET], &[]).await;
    server.get(&format!("/api/v1/agencies/{agency}"), &key).await;
    let out = admin(&db, &format!("revoke-api-key --id {first_id}"));
    assert!(out.contains("revoked"), "{out}");
    // The running server refuses the revoked key at once; the other key still works.
    let res = reqwest::Client::new()
        .get(format!("{}/api/v1/agencies/{agency}", server.base))
        .header("X-API-KEY", &key)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), reqwest::StatusCode::UNAUTHORIZED);
    server.get(&format!("/api/v1/agencies/{agency}"), &second).await;
    let keys = admin_json(&db, "list-api-keys --username reader");
    let revoked: Vec<&Value> = keys.as_array().unwrap().iter().filter(|k| !k["revoked_at"].is_null()).collect();
    assert_eq!(revoked.len(), 1);
    assert_eq!(revoked[0]["id"], first_id.as_str());
    let stderr = admin_fails(&db, &format!("revoke-api-key --id {first_id}"));
    assert!(stderr.contains("not found"), "{stderr}");

    // An e-mail waiting in the outbox (no SMTP relay): listed, and retried on request.
    assert_eq!(admin_json(&db, "list-outbox"), json!([]));
    let booking = server.post("/api/v1/bookings", &second, ONEWAY).await;
    server.post(&format!("/api/v1/bookings/{}/issue", booking["id"].as_str().unwrap()), &second, "{}").await;
    let res = reqwest::Client::new()
        .get(format!("{}/tickets?booking_code=PQMJ8E", server.base))
        .header("X-API-KEY", &second)
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success());
    // A webhook endpoint, for `list-webhooks` below.
    assert_eq!(admin_json(&db, "list-webhooks"), json!([]));
    let res = reqwest::Client::new()
        .post(format!("{}/api/v1/webhooks", server.base))
        .header("X-API-KEY", &second)
        .json(
            &json!({"url": "https://hooks.example.com/tessera", "events": ["issuance.created"], "description": "ops"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), reqwest::StatusCode::CREATED);
    let created: Value = res.json().await.unwrap();
    server.terminate();
    let outbox = admin_json(&db, "list-outbox");
    assert_eq!(outbox.as_array().unwrap().len(), 1, "{outbox}");
    assert_eq!(outbox[0]["status"], "queued");
    assert_eq!(outbox[0]["recipient"], "traveller@example.com");
    assert_eq!(admin_json(&db, "list-outbox --status failed"), json!([]));
    let id = outbox[0]["id"].as_str().unwrap();
    let out = admin(&db, &format!("retry-message --id {id}"));
    assert!(out.contains("due now"), "{out}");
    let stderr = admin_fails(&db, &format!("retry-message --id {}", uuid::Uuid::new_v4()));
    assert!(stderr.contains("not found"), "{stderr}");
    let ledger = admin_json(&db, &format!("list-ledger --agency {agency}"));
    assert_eq!(ledger[2]["kind"], "issuance_debit", "{ledger}");
    assert_eq!(ledger[2]["amount"], "-41893.00");

    // Webhook endpoints an agency registered through the API, never with their secret; by agency too.
    let hooks = admin_json(&db, "list-webhooks");
    assert_eq!(
        hooks,
        json!([{
            "id": created["id"], "agency_id": agency, "url": "https://hooks.example.com/tessera",
            "events": ["issuance.created"], "description": "ops", "status": "active", "created_at": hooks[0]["created_at"],
        }])
    );
    assert!(!hooks.to_string().contains(created["secret"].as_str().unwrap()), "the secret is never listed");
    assert_eq!(admin_json(&db, &format!("list-webhooks --agency {agency}")), hooks);
    assert_eq!(admin_json(&db, &format!("list-webhooks --agency {other}")), json!([]));
    assert!(admin(&db, "list-webhooks").contains("https://hooks.example.com/tessera"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_reads_and_revocation_on_sqlite() {
    admin_reads_and_revocation(Db::sqlite()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_reads_and_revocation_on_postgres() {
    admin_reads_and_revocation(Db::postgres().await).await;
}

#[test]
fn help_offers_each_command_its_own_options() {
    let help = |args: &[&str]| {
        let out = run(tessera().args(args));
        assert!(out.status.success(), "{args:?}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    for args in [&["admin", "--help"][..], &["admin", "list-agencies", "--help"], &["import", "--help"]] {
        let text = help(args);
        for used in ["--data-dir", "--database-url", "--config"] {
            assert!(text.contains(used), "{args:?} offers {used}: {text}");
        }
        for server_only in ["--listen", "--jwt-secret", "--smtp-url", "--rate-limit-burst", "--metrics-listen"] {
            assert!(!text.contains(server_only), "{args:?} does not offer {server_only}: {text}");
        }
    }
    let admin = help(&["admin", "--help"]);
    for verb in [
        "list-agencies",
        "show-agency",
        "list-users",
        "create-api-key",
        "list-api-keys",
        "revoke-api-key",
        "top-up",
        "list-ledger",
        "list-outbox",
        "retry-message",
        "list-webhooks",
    ] {
        assert!(admin.contains(verb), "{verb}: {admin}");
    }
    assert!(help(&["admin", "list-users", "--help"]).contains("--json"));
    let serve = help(&["serve", "--help"]);
    for flag in ["--listen", "--jwt-secret", "--metrics-listen", "--data-dir", "--demo"] {
        assert!(serve.contains(flag), "serve offers {flag}: {serve}");
    }
}
