//! Hostile clients against the real `tessera serve` process: connections that send nothing, half a header or half a
//! body are closed on their deadlines, and a flood of 1,100 idle or slow connections against a process limited to
//! 1,024 file descriptors does not keep `/healthz` from answering within a second.

use std::net::TcpListener as StdListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const BIN: &str = env!("CARGO_BIN_EXE_tessera");
const SECRET: &str = "conn-test-secret-conn-test-secret-0123456";

/// A `tessera serve` child on a free port, run under `ulimit -n <fds>`; killed when dropped.
struct Server {
    child: Child,
    addr: String,
    _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    async fn start(fds: u32, extra: &[&str]) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let port = StdListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let addr = format!("127.0.0.1:{port}");
        let mut command = Command::new("sh");
        command
            .arg("-c")
            .arg(format!("ulimit -n {fds} && exec \"$0\" \"$@\""))
            .arg(BIN)
            .args(["serve", "--listen", &addr, "--jwt-secret", SECRET, "--data-dir"])
            .arg(dir.path())
            .args(extra)
            .env("TESSERA_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        for (name, _) in std::env::vars().filter(|(n, _)| n.starts_with("TESSERA_")) {
            command.env_remove(name);
        }
        let server = Server { child: command.spawn().expect("spawn tessera"), addr, _dir: dir };
        let deadline = Instant::now() + Duration::from_secs(60);
        while health(&server.addr, Duration::from_secs(1)).await.is_err() {
            assert!(Instant::now() < deadline, "tessera did not come up on {}", server.addr);
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        server
    }
}

/// `GET /healthz` on a new connection within `within`: the status line, or why not.
async fn health(addr: &str, within: Duration) -> Result<String, String> {
    let exchange = async {
        let mut stream = TcpStream::connect(addr).await.map_err(|e| format!("connect: {e}"))?;
        stream
            .write_all(b"GET /healthz HTTP/1.1\r\nhost: tessera\r\nconnection: close\r\n\r\n")
            .await
            .map_err(|e| format!("write: {e}"))?;
        let mut response = Vec::new();
        stream.read_to_end(&mut response).await.map_err(|e| format!("read: {e}"))?;
        let text = String::from_utf8_lossy(&response).into_owned();
        Ok(text.lines().next().unwrap_or_default().to_owned())
    };
    tokio::time::timeout(within, exchange).await.map_err(|_| format!("no answer within {within:?}"))?
}

/// Reads until the server closes the connection; how long that took, or None if it stayed open for `limit`.
async fn closed_within(stream: &mut TcpStream, limit: Duration) -> Option<(Duration, Vec<u8>)> {
    let started = Instant::now();
    let mut received = Vec::new();
    let read = tokio::time::timeout(limit, stream.read_to_end(&mut received)).await;
    // A reset is a close too.
    read.ok().map(|_| (started.elapsed(), received))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_half_header_and_half_body_connections_are_closed_on_their_deadlines() {
    let server =
        Server::start(4096, &["--header-read-timeout", "1", "--body-read-timeout", "1", "--log-format", "json"]).await;

    // Nothing at all.
    let mut silent = TcpStream::connect(&server.addr).await.unwrap();
    // Half a header, then nothing.
    let mut half_header = TcpStream::connect(&server.addr).await.unwrap();
    half_header.write_all(b"GET /healthz HTTP/1.1\r\nhost: tes").await.unwrap();
    // A whole header announcing 100 bytes of body, then 10 of them.
    let mut half_body = TcpStream::connect(&server.addr).await.unwrap();
    half_body
        .write_all(b"POST /api/v1/sign-in HTTP/1.1\r\nhost: tessera\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{\"username")
        .await
        .unwrap();
    // Kept alive after a first request, then silent.
    let mut kept_alive = TcpStream::connect(&server.addr).await.unwrap();
    kept_alive.write_all(b"GET /healthz HTTP/1.1\r\nhost: tessera\r\n\r\n").await.unwrap();

    for (what, stream) in [
        ("silent", &mut silent),
        ("half header", &mut half_header),
        ("half body", &mut half_body),
        ("kept alive", &mut kept_alive),
    ] {
        let (after, received) = closed_within(stream, Duration::from_secs(10))
            .await
            .unwrap_or_else(|| panic!("{what}: still open after 10 s"));
        assert!(after < Duration::from_secs(5), "{what}: closed only after {after:?}");
        let text = String::from_utf8_lossy(&received);
        match what {
            "kept alive" => assert!(text.starts_with("HTTP/1.1 200"), "{what}: {text}"),
            // A body that stops coming is answered, not just dropped: the client learns the request failed.
            "half body" => assert!(text.is_empty() || text.starts_with("HTTP/1.1 4"), "{what}: {text}"),
            _ => assert!(!text.starts_with("HTTP/1.1 2"), "{what}: {text}"),
        }
    }
    assert_eq!(health(&server.addr, Duration::from_secs(1)).await.unwrap(), "HTTP/1.1 200 OK");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eleven_hundred_idle_or_slow_connections_do_not_starve_health_checks() {
    // The default deadlines (10 s for headers): the flood has to be survived by shedding, not by waiting.
    let server = Server::start(1024, &[]).await;
    let mut flood = Vec::new();
    for i in 0..1100 {
        let Ok(Ok(mut stream)) = tokio::time::timeout(Duration::from_secs(2), TcpStream::connect(&server.addr)).await
        else {
            // The kernel's accept queue may be full for a moment; a refused attacker is fine.
            continue;
        };
        if i % 2 == 1 {
            let _ = stream.write_all(b"GET /api/v1/bookings HTTP/1.1\r\nhost: tessera\r\nx-slow: ").await;
        }
        flood.push(stream);
    }
    assert!(flood.len() >= 1000, "the flood opened only {} connections", flood.len());
    for attempt in 0..10 {
        let status = health(&server.addr, Duration::from_secs(1)).await;
        assert_eq!(status.as_deref(), Ok("HTTP/1.1 200 OK"), "health check {attempt} under a flood of {}", flood.len());
    }
    drop(flood);
    assert_eq!(health(&server.addr, Duration::from_secs(1)).await.unwrap(), "HTTP/1.1 200 OK");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_the_cap_with_every_connection_busy_a_newcomer_is_refused_in_words() {
    let server = Server::start(4096, &["--max-connections", "2"]).await;
    // Two connections each in the middle of a request body: busy, so neither can be shed.
    let mut busy = Vec::new();
    for _ in 0..2 {
        let mut stream = TcpStream::connect(&server.addr).await.unwrap();
        stream
            .write_all(b"POST /api/v1/sign-in HTTP/1.1\r\nhost: tessera\r\ncontent-type: application/json\r\ncontent-length: 50\r\n\r\n{")
            .await
            .unwrap();
        busy.push(stream);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut newcomer = TcpStream::connect(&server.addr).await.unwrap();
    let _ = newcomer.write_all(b"GET /healthz HTTP/1.1\r\nhost: tessera\r\n\r\n").await;
    let (_, received) = closed_within(&mut newcomer, Duration::from_secs(5)).await.expect("answered and closed");
    let text = String::from_utf8_lossy(&received);
    assert!(text.starts_with("HTTP/1.1 503 Service Unavailable"), "{text}");
    assert!(text.contains("retry-after: 1") && text.contains(r#""code":"overloaded""#), "{text}");
    drop(busy);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_id_is_echoed_only_when_short_and_printable() {
    let server = Server::start(4096, &[]).await;
    let echoed = |id: &str| {
        let request =
            format!("GET /healthz HTTP/1.1\r\nhost: tessera\r\nconnection: close\r\nx-request-id: {id}\r\n\r\n");
        let addr = server.addr.clone();
        async move {
            let mut stream = TcpStream::connect(&addr).await.unwrap();
            stream.write_all(request.as_bytes()).await.unwrap();
            let mut response = Vec::new();
            stream.read_to_end(&mut response).await.unwrap();
            let text = String::from_utf8_lossy(&response).into_owned();
            assert!(text.starts_with("HTTP/1.1 200"), "{text}");
            text.lines().find_map(|l| l.strip_prefix("x-request-id: ")).unwrap_or_default().to_owned()
        }
    };
    assert_eq!(echoed("client-trace-42").await, "client-trace-42");
    let is_generated = |id: &str| uuid::Uuid::parse_str(id).is_ok();
    for unusable in ["a".repeat(129), "tab\there".into(), "caf\u{e9}".into(), "two words".into()] {
        let answered = echoed(&unusable).await;
        assert!(is_generated(&answered), "{unusable:?} was answered with {answered:?}");
    }
    assert_eq!(echoed(&"b".repeat(128)).await, "b".repeat(128));
}
