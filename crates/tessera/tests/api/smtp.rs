//! A real SMTP server for the tests: `tests/support/smtp_sink.py` (Python, aiosmtpd) run as a child process.
//! It accepts every message and stores it as `<dir>/<name>.eml` + `<name>.json` (envelope); [`SmtpSink::messages`]
//! parses them back. Needs `python3` with `aiosmtpd` (`.ci/run` installs it).

use std::fs::{self, File};
use std::io::{BufRead, BufReader};
use std::net::{Ipv4Addr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use mail_parser::{MessageParser, MimeHeaders, PartType};

/// How long the sink may take to print READY.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(10);

pub struct SmtpSink {
    pub port: u16,
    /// Where the messages land; removed when the sink is dropped.
    pub dir: tempfile::TempDir,
    child: Option<Child>,
}

/// One message as the sink received it.
#[derive(Debug, Clone)]
pub struct Received {
    /// Address of the `From:` header.
    pub from: String,
    /// Envelope sender (`MAIL FROM`).
    pub mail_from: String,
    /// Envelope recipients (`RCPT TO`), including Bcc.
    pub to: Vec<String>,
    pub subject: String,
    /// The text/plain body, if there is one.
    pub text: Option<String>,
    /// The text/html body, if there is one.
    pub html: Option<String>,
    /// (file name, content type such as "application/pdf", decoded bytes).
    pub attachments: Vec<(String, String, Vec<u8>)>,
    /// The message exactly as transmitted.
    pub raw: Vec<u8>,
}

impl SmtpSink {
    /// Starts a sink on a free port with a fresh directory.
    pub fn start() -> SmtpSink {
        let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .and_then(|listener| listener.local_addr())
            .expect("no free local port for the SMTP sink")
            .port();
        SmtpSink::start_on(port)
    }

    /// Starts a sink on `port` with a fresh directory.
    pub fn start_on(port: u16) -> SmtpSink {
        let dir = tempfile::tempdir().expect("cannot create the SMTP sink's directory");
        let child = spawn(port, dir.path());
        SmtpSink { port, dir, child: Some(child) }
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Kills the server and waits for it: the port refuses connections afterwards. Stored messages stay.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server again on the same port and directory (stops it first if it is running).
    pub fn restart(&mut self) {
        self.stop();
        self.child = Some(spawn(self.port, self.dir.path()));
    }

    /// Every message received so far, in arrival order.
    pub fn messages(&self) -> Vec<Received> {
        let mut emls: Vec<PathBuf> = fs::read_dir(self.dir.path())
            .expect("cannot list the SMTP sink's directory")
            .map(|entry| entry.expect("cannot list the SMTP sink's directory").path())
            .filter(|path| path.extension().is_some_and(|ext| ext == "eml"))
            .collect();
        emls.sort();
        emls.iter().map(|path| parse(path)).collect()
    }

    /// Waits until at least `count` messages have arrived and returns all of them; panics after `timeout`.
    pub async fn wait_for(&self, count: usize, timeout: Duration) -> Vec<Received> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let messages = self.messages();
            if messages.len() >= count {
                return messages;
            }
            if tokio::time::Instant::now() >= deadline {
                let subjects: Vec<&str> = messages.iter().map(|m| m.subject.as_str()).collect();
                panic!("the SMTP sink expected {count} message(s) within {timeout:?}, got {subjects:?}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Runs smtp_sink.py and waits for its READY line; its stderr goes to `<dir>/sink.log`.
fn spawn(port: u16, dir: &Path) -> Child {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/smtp_sink.py");
    let log_path = dir.join("sink.log");
    let log = File::options().create(true).append(true).open(&log_path).expect("cannot create the SMTP sink's log");
    let mut child = Command::new("python3")
        .arg(&script)
        .args(["--host", "127.0.0.1", "--port", &port.to_string(), "--dir"])
        .arg(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(log)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run python3 for the SMTP sink (is Python 3 installed?): {e}"));

    let stdout = child.stdout.take().expect("the SMTP sink's stdout is piped");
    let (ready_tx, ready_rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = ready_tx.send(line);
    });
    match ready_rx.recv_timeout(STARTUP_TIMEOUT) {
        Ok(line) if line.trim() == "READY" => child,
        outcome => {
            let _ = child.kill();
            let _ = child.wait();
            let log = fs::read_to_string(&log_path).unwrap_or_default();
            panic!(
                "the SMTP sink did not start on port {port} ({}); needs python3 with aiosmtpd \
                 (python3 -m pip install aiosmtpd). Its stderr:\n{log}",
                if outcome.is_err() { "no READY within 10 s" } else { "it exited" },
            );
        }
    }
}

fn parse(eml: &Path) -> Received {
    let raw = fs::read(eml).unwrap_or_else(|e| panic!("cannot read {}: {e}", eml.display()));
    let sidecar =
        fs::read(eml.with_extension("json")).unwrap_or_else(|e| panic!("no envelope for {}: {e}", eml.display()));
    let envelope: serde_json::Value = serde_json::from_slice(&sidecar).expect("the envelope sidecar is JSON");
    let message =
        MessageParser::default().parse(&raw).unwrap_or_else(|| panic!("{} is not a parsable message", eml.display()));

    let from = message.from().and_then(|a| a.first()).and_then(|a| a.address()).unwrap_or_default().to_owned();
    let text = message.text_bodies().find_map(|part| match &part.body {
        PartType::Text(text) => Some(text.to_string()),
        _ => None,
    });
    let html = message.html_bodies().find_map(|part| match &part.body {
        PartType::Html(html) => Some(html.to_string()),
        _ => None,
    });
    let attachments = message
        .attachments()
        .map(|part| {
            let content_type = part
                .content_type()
                .map(|ct| match ct.subtype() {
                    Some(subtype) => format!("{}/{subtype}", ct.ctype()),
                    None => ct.ctype().to_owned(),
                })
                .unwrap_or_default();
            let name = part.attachment_name().unwrap_or_default().to_owned();
            (name, content_type, part.contents().to_vec())
        })
        .collect();

    Received {
        from,
        mail_from: envelope["mail_from"].as_str().unwrap_or_default().to_owned(),
        to: envelope["rcpt_tos"]
            .as_array()
            .map(|tos| tos.iter().filter_map(|to| to.as_str().map(str::to_owned)).collect())
            .unwrap_or_default(),
        subject: message.subject().unwrap_or_default().to_owned(),
        text,
        html,
        attachments,
        raw,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lettre::message::{header::ContentType, Attachment, MultiPart, SinglePart};
    use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

    const WAIT: Duration = Duration::from_secs(10);

    async fn send(port: u16, message: Message) -> Result<(), lettre::transport::smtp::Error> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous("127.0.0.1").port(port).build();
        transport.send(message).await.map(drop)
    }

    fn simple(subject: &str) -> Message {
        Message::builder()
            .from("tickets@tessera.test".parse().unwrap())
            .to("ada@example.test".parse().unwrap())
            .subject(subject)
            .body(format!("{subject}\n"))
            .unwrap()
    }

    #[tokio::test]
    async fn the_sink_receives_a_message_with_attachments() {
        let sink = SmtpSink::start();
        assert_eq!(sink.url(), format!("smtp://127.0.0.1:{}", sink.port));
        let pdf: Vec<u8> = b"%PDF-1.4\n".iter().copied().chain(0..=255u8).collect();
        let message = Message::builder()
            .from("Tessera <tickets@tessera.test>".parse().unwrap())
            .to("Ada Lovelace <ada@example.test>".parse().unwrap())
            .bcc("audit@tessera.test".parse().unwrap())
            .subject("Your e-ticket ✈ ABC123")
            .multipart(
                MultiPart::mixed()
                    .multipart(
                        MultiPart::alternative()
                            .singlepart(SinglePart::plain("Have a good flight, Ada.".to_owned()))
                            .singlepart(SinglePart::html("<p>Have a good flight, <b>Ada</b>.</p>".to_owned())),
                    )
                    .singlepart(
                        Attachment::new("e-ticket ABC123.pdf".to_owned())
                            .body(pdf.clone(), ContentType::parse("application/pdf").unwrap()),
                    ),
            )
            .unwrap();
        send(sink.port, message).await.expect("the sink accepts the message");

        let received = sink.wait_for(1, WAIT).await;
        assert_eq!(received.len(), 1);
        let mail = &received[0];
        assert_eq!(mail.from, "tickets@tessera.test");
        assert_eq!(mail.mail_from, "tickets@tessera.test");
        assert_eq!(mail.to, ["ada@example.test", "audit@tessera.test"]);
        assert_eq!(mail.subject, "Your e-ticket ✈ ABC123");
        assert_eq!(mail.text.as_deref().map(str::trim_end), Some("Have a good flight, Ada."));
        assert_eq!(mail.html.as_deref().map(str::trim_end), Some("<p>Have a good flight, <b>Ada</b>.</p>"));
        assert_eq!(mail.attachments.len(), 1);
        let (name, content_type, bytes) = &mail.attachments[0];
        assert_eq!(name, "e-ticket ABC123.pdf");
        assert_eq!(content_type, "application/pdf");
        assert_eq!(bytes, &pdf);
        assert!(!String::from_utf8_lossy(&mail.raw).contains("audit@tessera.test"), "Bcc stays out of the headers");
    }

    #[tokio::test]
    async fn a_stopped_sink_refuses_mail_and_a_restarted_one_takes_it_again() {
        let mut sink = SmtpSink::start();
        send(sink.port, simple("before")).await.expect("the running sink accepts mail");

        sink.stop();
        assert!(std::net::TcpStream::connect((Ipv4Addr::LOCALHOST, sink.port)).is_err(), "the port is closed");
        assert!(send(sink.port, simple("while stopped")).await.is_err(), "a stopped sink refuses mail");

        sink.restart();
        send(sink.port, simple("after")).await.expect("the restarted sink accepts mail");

        let received = sink.wait_for(2, WAIT).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        let subjects: Vec<String> = sink.messages().into_iter().map(|m| m.subject).collect();
        assert_eq!(received.len(), 2);
        assert_eq!(subjects, ["before", "after"], "nothing lost, nothing duplicated, in order");
    }
}
