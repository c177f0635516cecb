//! The real `tessera serve` binary as a node for the multi-process tests (`crash.rs`, `cancellation.rs`,
//! `nodes.rs`): a child process on its own port, killed (SIGKILL) when dropped or when a test crashes it on
//! purpose; the database it runs on (SQLite in a data dir, or a fresh PostgreSQL database); the operator's
//! `tessera admin` commands; and small request helpers over an API key.
#![allow(dead_code)] // Each test binary uses its own part of this module.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::Value;
use tempfile::TempDir;

pub const BIN: &str = env!("CARGO_BIN_EXE_tessera");
pub const SECRET: &str = "node-test-secret-node-test-secret-0123456";
pub const ONEWAY: &str = include_str!("../../../../examples/bookings/flight-oneway.json");
pub const EVENT: &str = include_str!("../../../../examples/bookings/event.json");
/// What the one-way example costs (no commission), in the agency's minor units (NPR: 2 decimals).
pub const ONEWAY_MINOR: i64 = 4_189_300;

/// `tessera` with no TESSERA_* or AWS_* variables from the environment running the tests.
pub fn tessera() -> Command {
    let mut cmd = Command::new(BIN);
    for (name, _) in std::env::vars().filter(|(n, _)| n.starts_with("TESSERA_") || n.starts_with("AWS_")) {
        cmd.env_remove(name);
    }
    cmd.env("TESSERA_LOG", "warn");
    cmd
}

/// Runs a command to completion (at most 60 s).
pub fn run(cmd: &mut Command) -> Output {
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

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

pub fn pg_admin_url() -> String {
    std::env::var("TESSERA_TEST_DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// The database every node of a test shares: SQLite lives in a data dir, so it is one dir that every restart
/// reuses; PostgreSQL is a fresh database (dropped afterwards) and each node may have a data dir of its own.
pub struct Db {
    /// The data dir of the SQLite database, or of the first node on PostgreSQL.
    pub dir: TempDir,
    pub pg: Option<tessera_storage_postgres::testing::DatabaseGuard>,
}

impl Db {
    pub fn sqlite() -> Db {
        Db { dir: tempfile::tempdir().unwrap(), pg: None }
    }

    pub async fn postgres() -> Db {
        let admin = pg_admin_url();
        let url =
            tessera_storage_postgres::testing::fresh_database(&admin).await.expect("PostgreSQL must be reachable");
        Db {
            dir: tempfile::tempdir().unwrap(),
            pg: Some(tessera_storage_postgres::testing::DatabaseGuard::new(&admin, &url)),
        }
    }

    pub async fn new(postgres: bool) -> Db {
        if postgres {
            Db::postgres().await
        } else {
            Db::sqlite()
        }
    }

    pub fn url(&self) -> Option<&str> {
        self.pg.as_ref().map(|pg| pg.url())
    }

    /// `--data-dir <dir> [--database-url <url>]`.
    pub fn args_with_dir(&self, dir: &Path) -> Vec<String> {
        let mut args = vec!["--data-dir".to_owned(), dir.display().to_string()];
        if let Some(url) = self.url() {
            args.extend(["--database-url".to_owned(), url.to_owned()]);
        }
        args
    }

    pub fn args(&self) -> Vec<String> {
        self.args_with_dir(self.dir.path())
    }

    /// The PostgreSQL database's name.
    pub fn pg_name(&self) -> Option<String> {
        self.url().and_then(|u| u.rsplit('/').next()).map(|n| n.split('?').next().unwrap_or(n).to_owned())
    }

    /// `tessera admin <line>` (split on whitespace), asserting success; returns stdout.
    pub fn admin(&self, line: &str) -> String {
        let args: Vec<&str> = line.split_whitespace().collect();
        let out = run(tessera().args(self.args()).arg("admin").args(&args));
        assert!(out.status.success(), "admin {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// An NPR agency with `balance` and no credit, an agent and an admin with an API key each, made with the
    /// admin commands.
    pub fn seed(&self, balance: &str) -> Seed {
        let last = |text: String| text.split_whitespace().last().unwrap_or_default().to_owned();
        let agency = last(self.admin(&format!(
            "create-agency --name Node-Travel --currency NPR --balance {balance} --credit-limit 0 \
             --office-id KTMNP2100 --iata-number 35123456 --timezone Asia/Kathmandu"
        )));
        self.admin(&format!("create-user --username clerk --password clerk-password --role agent --agency {agency}"));
        let agent_key = last(self.admin("create-api-key --username clerk"));
        self.admin("create-user --username root --password root-password --role admin");
        let admin_key = last(self.admin("create-api-key --username root"));
        assert!(agent_key.starts_with("tsk_") && admin_key.starts_with("tsk_"));
        Seed { agency, agent_key, admin_key }
    }
}

/// What [`Db::seed`] made.
#[derive(Debug, Clone)]
pub struct Seed {
    pub agency: String,
    pub agent_key: String,
    pub admin_key: String,
}

/// How to start a node: its data dir, the shared database, extra flags and environment.
#[derive(Debug, Clone)]
pub struct NodeSpec {
    pub data_dir: PathBuf,
    pub db_args: Vec<String>,
    pub extra: Vec<String>,
    pub env: Vec<(String, String)>,
}

impl NodeSpec {
    /// A node on `db` using the db's own data dir, with `--jwt-secret`.
    pub fn on(db: &Db) -> NodeSpec {
        NodeSpec {
            data_dir: db.dir.path().to_path_buf(),
            db_args: db.args(),
            extra: vec!["--jwt-secret".into(), SECRET.into()],
            env: Vec::new(),
        }
    }

    /// A node on `db` with a data dir of its own (`dir`).
    pub fn on_dir(db: &Db, dir: &Path) -> NodeSpec {
        NodeSpec { data_dir: dir.to_path_buf(), db_args: db.args_with_dir(dir), ..NodeSpec::on(db) }
    }

    pub fn arg(mut self, flag: &str, value: &str) -> NodeSpec {
        self.extra.extend([flag.to_owned(), value.to_owned()]);
        self
    }

    pub fn env(mut self, name: &str, value: &str) -> NodeSpec {
        self.env.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Without `--jwt-secret`: the node generates (or finds) its keys itself.
    pub fn without_secret(mut self) -> NodeSpec {
        if let Some(at) = self.extra.iter().position(|a| a == "--jwt-secret") {
            self.extra.drain(at..at + 2);
        }
        self
    }
}

/// A running `tessera serve`; SIGKILLed when dropped. It runs under a shell that kills it when our end of the
/// shell's stdin closes, so a node never outlives the test process, even one that is killed (as moto does).
pub struct Node {
    /// The shell; its stdin is the lifeline.
    shell: Child,
    /// The `tessera serve` process itself.
    pid: u32,
    pub base: String,
    stderr: Arc<Mutex<String>>,
}

/// Whether `pid` is running (not gone, not a zombie).
fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| stat.rsplit_once(')').map(|(_, rest)| !rest.trim_start().starts_with('Z')))
        .unwrap_or(false)
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
            let mut text = to.lock().unwrap();
            // Keep the tail only: a long run logs a lot.
            if text.len() > 64 * 1024 {
                let cut = text.len() - 32 * 1024;
                let cut = (cut..text.len()).find(|i| text.is_char_boundary(*i)).unwrap_or(text.len());
                text.drain(..cut);
            }
            text.push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    });
    sink
}

impl Node {
    /// Starts the node on a free port and waits (at most 60 s) until `/readyz` answers 200.
    pub async fn start(spec: &NodeSpec) -> Node {
        Node::try_start(spec).await.unwrap_or_else(|e| panic!("{e}"))
    }

    /// Like [`Node::start`], but a node that exits or never gets ready is an error with its stderr.
    pub async fn try_start(spec: &NodeSpec) -> Result<Node, String> {
        let port = free_port();
        // tessera()'s environment (no TESSERA_* or AWS_* of ours), carried over to the shell that runs it.
        let cmd = tessera();
        let script = "\"$0\" \"$@\" </dev/null >/dev/null & pid=$!; echo $pid; cat >/dev/null; kill -9 $pid 2>/dev/null; wait $pid";
        let mut shell = Command::new("sh");
        shell.args(["-c", script]).arg(cmd.get_program());
        for (name, value) in cmd.get_envs() {
            match value {
                Some(value) => shell.env(name, value),
                None => shell.env_remove(name),
            };
        }
        shell.args(&spec.db_args).args(["serve", "--listen", &format!("127.0.0.1:{port}")]).args(&spec.extra);
        // The events API's limit is one budget for all nodes of a database: out of the way of every test but the
        // one about it, whose flags win over these variables.
        shell.env("TESSERA_RATE_LIMIT_PER_SECOND", "100000").env("TESSERA_RATE_LIMIT_BURST", "100000");
        shell.envs(spec.env.iter().map(|(k, v)| (k, v)));
        shell.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = shell.spawn().expect("spawn sh for tessera serve");
        let stderr = drain(child.stderr.take().unwrap());
        let mut line = String::new();
        std::io::BufRead::read_line(&mut std::io::BufReader::new(child.stdout.take().unwrap()), &mut line).unwrap();
        let pid: u32 = line.trim().parse().unwrap_or_else(|_| panic!("the shell printed no pid: {line:?}"));
        let node = Node { shell: child, pid, base: format!("http://127.0.0.1:{port}"), stderr };
        let client = reqwest::Client::builder().timeout(Duration::from_secs(2)).build().unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(res) = client.get(format!("{}/readyz", node.base)).send().await {
                if res.status() == StatusCode::OK {
                    return Ok(node);
                }
            }
            if !alive(node.pid) {
                // Let the drain thread catch the last words.
                tokio::time::sleep(Duration::from_millis(100)).await;
                return Err(format!("tessera serve exited: {}", node.stderr()));
            }
            if Instant::now() > deadline {
                return Err(format!("tessera serve did not get ready within 60 s: {}", node.stderr()));
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// `kill -TERM`, the stop an orchestrator asks for, then waits (at most 60 s) until the process has exited
    /// of itself: in-flight requests finished, queues flushed.
    pub fn terminate(self) {
        let _ = Command::new("sh").args(["-c", &format!("kill -TERM {}", self.pid)]).status();
        let deadline = Instant::now() + Duration::from_secs(60);
        while alive(self.pid) {
            assert!(Instant::now() < deadline, "tessera serve did not stop within 60 s of SIGTERM: {}", self.stderr());
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// `kill -9`: no shutdown, no flush, no rollback — as a power cut would leave it.
    pub fn kill9(self) {
        // Dropping does it.
    }

    fn stop(&mut self) {
        // The shell's builtin: no procps needed.
        let _ = Command::new("sh").args(["-c", &format!("kill -9 {}", self.pid)]).status();
        // Closing the lifeline ends the shell, which reaps the process: once it has exited, so has the node.
        drop(self.shell.stdin.take());
        let _ = self.shell.wait();
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A client for one credential (an API key or a bearer token) against any node.
#[derive(Clone)]
pub struct Api {
    pub client: reqwest::Client,
    header: (&'static str, String),
}

impl Api {
    pub fn key(key: &str) -> Api {
        Api::with("x-api-key", key.to_owned())
    }

    pub fn bearer(token: &str) -> Api {
        Api::with("authorization", format!("Bearer {token}"))
    }

    fn with(name: &'static str, value: String) -> Api {
        let client = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().unwrap();
        Api { client, header: (name, value) }
    }

    pub fn get(&self, url: &str) -> reqwest::RequestBuilder {
        self.client.get(url).header(self.header.0, &self.header.1)
    }

    pub fn post(&self, url: &str) -> reqwest::RequestBuilder {
        self.client.post(url).header(self.header.0, &self.header.1)
    }

    pub fn put(&self, url: &str) -> reqwest::RequestBuilder {
        self.client.put(url).header(self.header.0, &self.header.1)
    }

    pub fn delete(&self, url: &str) -> reqwest::RequestBuilder {
        self.client.delete(url).header(self.header.0, &self.header.1)
    }

    /// GET that must answer 200; the JSON body.
    pub async fn get_json(&self, url: &str) -> Value {
        let res = self.get(url).send().await.unwrap_or_else(|e| panic!("GET {url}: {e}"));
        let status = res.status();
        let text = res.text().await.unwrap();
        assert_eq!(status, StatusCode::OK, "GET {url}: {text}");
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("GET {url} is not JSON: {text}"))
    }

    /// POST of a JSON body: status and JSON body (Null if there is none).
    pub async fn post_json(&self, url: &str, body: &Value) -> (StatusCode, Value) {
        let res = self.post(url).json(body).send().await.unwrap_or_else(|e| panic!("POST {url}: {e}"));
        let status = res.status();
        let text = res.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// POST /api/v1/bookings that must answer 201; the booking's id.
    pub async fn book(&self, node: &str, doc: &Value) -> String {
        let (status, body) = self.post_json(&format!("{node}/api/v1/bookings"), doc).await;
        assert_eq!(status, StatusCode::CREATED, "intake: {body}");
        body["id"].as_str().unwrap().to_owned()
    }
}

/// The one-way example under another PNR (PNRs are unique per agency).
pub fn oneway(pnr: &str) -> Value {
    let mut doc: Value = serde_json::from_str(ONEWAY).unwrap();
    doc["pnr"] = pnr.into();
    doc["journeys"][0]["airline_confirmation_code"] = pnr.into();
    doc
}

/// A six-letter PNR for `n` (distinct for distinct `n` below 26^6), prefixed by a test's own letter.
pub fn pnr(tag: char, n: usize) -> String {
    let mut out = String::from(tag);
    let mut rest = n;
    for _ in 0..5 {
        out.push((b'A' + (rest % 26) as u8) as char);
        rest /= 26;
    }
    out
}

/// Minor units of a decimal string with two decimals ("-41893.00" → -4189300).
pub fn minor(amount: &str) -> i64 {
    let (whole, cents) = amount.split_once('.').unwrap_or((amount, "00"));
    let negative = whole.starts_with('-');
    let whole: i64 = whole.trim_start_matches('-').parse().unwrap();
    let cents: i64 = format!("{cents:0<2}")[..2].parse().unwrap();
    let value = whole * 100 + cents;
    if negative {
        -value
    } else {
        value
    }
}

/// `qpdf --check` on the bytes: Ok, or qpdf's complaint.
pub fn qpdf_check(bytes: &[u8]) -> Result<(), String> {
    let file = tempfile::Builder::new().suffix(".pdf").tempfile().unwrap();
    std::fs::write(file.path(), bytes).unwrap();
    let check = Command::new("qpdf").arg("--check").arg(file.path()).output().expect("qpdf is installed");
    if check.status.code() == Some(0) {
        Ok(())
    } else {
        Err(format!("{}{}", String::from_utf8_lossy(&check.stdout), String::from_utf8_lossy(&check.stderr)))
    }
}

/// A small seeded RNG (xorshift64*), so a failing run can be replayed from the seed it printed.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// From `TESSERA_TEST_SEED` if set, else from the clock; prints the seed.
    pub fn from_env(what: &str) -> Rng {
        let seed = std::env::var("TESSERA_TEST_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(|| {
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64
        });
        eprintln!("{what}: seed {seed} (replay with TESSERA_TEST_SEED={seed})");
        Rng::new(seed)
    }

    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `low..high`.
    pub fn range(&mut self, low: u64, high: u64) -> u64 {
        low + self.next() % (high - low).max(1)
    }
}
