//! A real webhook receiver for the tests: `tests/support/webhook_receiver.py` (Python's standard HTTP server)
//! run as a child process. It verifies every delivery's signature with the `standardwebhooks` package — an
//! implementation independent of Tessera's — and records what it got; it can be told to answer with an error.
//! Needs `python3` with `standardwebhooks` (`.ci/run` installs it).

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// How long the receiver may take to print READY.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(10);

pub struct Receiver {
    pub port: u16,
    child: Child,
    client: reqwest::Client,
}

impl Receiver {
    pub fn start() -> Receiver {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/webhook_receiver.py");
        let mut child = Command::new("python3")
            .arg(&script)
            .args(["--host", "127.0.0.1"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run python3 for the webhook receiver: {e}"));
        let stdout = child.stdout.take().expect("the receiver's stdout is piped");
        let (ready_tx, ready_rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = ready_tx.send(line);
        });
        let port = match ready_rx.recv_timeout(STARTUP_TIMEOUT) {
            Ok(line) if line.starts_with("READY ") => line.trim()["READY ".len()..].parse().expect("a port"),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("the webhook receiver did not start; needs python3 with standardwebhooks")
            }
        };
        Receiver { port, child, client: reqwest::Client::new() }
    }

    /// The URL deliveries to `path` go to.
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// Adds a secret the receiver tries when verifying deliveries to `path` (index = order added).
    pub async fn add_secret(&self, path: &str, secret: &str) {
        let res = self.client.post(self.url("/_secrets")).json(&json!({"path": path, "secret": secret})).send().await;
        assert!(res.expect("receiver").status().is_success());
    }

    /// The next `count` deliveries to `path` are answered with `status`.
    pub async fn fail_next(&self, path: &str, count: u32, status: u16) {
        let order = json!({"path": path, "count": count, "status": status});
        let res = self.client.post(self.url("/_fail")).json(&order).send().await;
        assert!(res.expect("receiver").status().is_success());
    }

    /// Every delivery received so far, in arrival order.
    pub async fn received(&self) -> Vec<Value> {
        let res = self.client.get(self.url("/_received")).send().await.expect("receiver");
        res.json().await.expect("json")
    }

    /// Waits (up to 30 s) until `count` deliveries to `path` have arrived; returns them.
    pub async fn wait_for(&self, path: &str, count: usize) -> Vec<Value> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let got: Vec<Value> = self.received().await.into_iter().filter(|r| r["path"] == path).collect();
            if got.len() >= count {
                return got;
            }
            assert!(Instant::now() < deadline, "only {} of {count} deliveries to {path} arrived: {got:?}", got.len());
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
