//! A real S3-compatible server for tests: moto's server mode (`pip install 'moto[server]'`; `.ci/run` installs
//! it), on a free port. It runs under a shell that kills it when our end of its stdin closes, so it never
//! outlives the test process, even one that is killed.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Moto {
    pub endpoint: String,
    child: Child,
}

impl Drop for Moto {
    fn drop(&mut self) {
        // Closing the shell's stdin is what stops moto: the shell then kills it and exits. Killing the shell
        // instead would leave moto running, orphaned, after the tests.
        drop(self.child.stdin.take());
        let _ = self.child.wait();
    }
}

impl Moto {
    pub async fn start() -> Moto {
        let port = TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port();
        let script = format!("moto_server -H 127.0.0.1 -p {port} >/dev/null 2>&1 & pid=$!; cat >/dev/null; kill $pid");
        let child = Command::new("sh")
            .args(["-c", &script])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .expect("sh must be available to run moto_server");
        let moto = Moto { endpoint: format!("http://127.0.0.1:{port}"), child };
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        while client.get(&moto.endpoint).send().await.is_err() {
            assert!(
                Instant::now() < deadline,
                "moto_server did not answer on {} within 30 s; install it with pip install 'moto[server]' (.ci/run does)",
                moto.endpoint
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        moto
    }

    pub async fn create_bucket(&self, bucket: &str) {
        let response = reqwest::Client::new().put(format!("{}/{bucket}", self.endpoint)).send().await.expect("moto");
        assert!(response.status().is_success(), "creating bucket {bucket}: {}", response.status());
    }

    /// The `object_store` settings that point an S3 client at this server.
    pub fn options(&self) -> [(&'static str, &str); 5] {
        [
            ("aws_endpoint", self.endpoint.as_str()),
            ("aws_access_key_id", "testing"),
            ("aws_secret_access_key", "testing"),
            ("aws_region", "us-east-1"),
            ("aws_allow_http", "true"),
        ]
    }
}
