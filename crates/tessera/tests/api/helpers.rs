//! `spawn_app()`: a fresh server (fresh database, fresh data folder) per test, plus small request helpers.

use std::net::SocketAddr;
use std::time::Duration;

use reqwest::{Response, StatusCode};
use serde_json::{json, Value};
use std::sync::Arc;
use tempfile::TempDir;
use tessera::config::{Config, Settings};
use tessera::server;

use tessera_app::{OffsetClock, Tessera};
use tessera_core::agency::Agency;
use tessera_core::user::{Role, User};

pub const JWT_SECRET: &str = "test-secret-test-secret-test-secret-0123";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Knobs a test may turn before the server starts.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub link_ttl: Option<u64>,
    pub token_ttl: Option<u64>,
    pub max_body_bytes: Option<usize>,
    pub smtp_url: Option<String>,
    /// Events API (per second, burst); the suite's default is high enough never to get in the way.
    pub rate_limit: Option<(u32, u32)>,
    pub zip_link_ttl: Option<u64>,
    pub void_window_days: Option<u32>,
    /// `--documents-url`; default: the data folder.
    pub documents_url: Option<String>,
    pub presigned_links: Option<bool>,
    /// `--idempotency-lease` in seconds.
    pub idempotency_lease: Option<u64>,
    /// `--webhooks-retry-delays`; default: a tenth of a second each, so retries come quickly.
    pub webhooks_retry_delays: Option<String>,
    /// `--webhooks-allow-private`; default true (the test receiver listens on 127.0.0.1).
    pub webhooks_allow_private: Option<bool>,
    /// `--access-log-flush-ms`.
    pub access_log_flush_ms: Option<u64>,
    /// Apple Wallet signing files; the pass type id is `pass.test.tessera`, the team `TEAMID1234`.
    pub wallet: Option<WalletFiles>,
    /// `--google-wallet-key` (a service-account JSON file); the issuer id is `3388000000022222222`.
    pub google_wallet_key: Option<std::path::PathBuf>,
}

/// `--wallet-cert`, `--wallet-key` and `--wallet-wwdr`.
#[derive(Debug, Clone)]
pub struct WalletFiles {
    pub cert: std::path::PathBuf,
    pub key: std::path::PathBuf,
    pub wwdr: std::path::PathBuf,
}

pub struct TestApp {
    pub backend: Backend,
    pub base: String,
    pub client: reqwest::Client,
    pub app: Tessera,
    /// NPR agency with 1,000,000.00 NPR, QR/FZ authorized with a 7% commission cap.
    pub agency: Agency,
    /// Another NPR agency, to prove isolation.
    pub other_agency: Agency,
    pub admin: User,
    pub agent: User,
    pub customer: User,
    pub admin_token: String,
    pub agent_token: String,
    pub customer_token: String,
    pub other_token: String,
    pub data_dir: TempDir,
    /// The database the server uses: a PostgreSQL URL, or a `sqlite://` URL of the file in `data_dir`.
    pub database_url: String,
    /// The server's clock: `advance` it to reach a later day.
    pub clock: Arc<OffsetClock>,
    /// Drops the PostgreSQL test database when the test is over (whatever its outcome).
    #[expect(dead_code, reason = "held for its Drop alone")]
    pub database_guard: Option<tessera_storage_postgres::testing::DatabaseGuard>,
}

pub fn pg_admin_url() -> String {
    std::env::var("TESSERA_TEST_DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, Options::default()).await
}

pub async fn spawn_app_with(backend: Backend, options: Options) -> TestApp {
    let data_dir = tempfile::tempdir().expect("temp dir");
    let database_url =
        match backend {
            Backend::Sqlite => None,
            Backend::Postgres => Some(tessera_storage_postgres::testing::fresh_database(&pg_admin_url()).await.expect(
                "PostgreSQL must be reachable for the postgres half of the suite (set TESSERA_TEST_DATABASE_URL)",
            )),
        };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr: SocketAddr = listener.local_addr().expect("addr");
    let database_guard =
        database_url.as_deref().map(|url| tessera_storage_postgres::testing::DatabaseGuard::new(&pg_admin_url(), url));
    let database_url_seen =
        database_url.clone().unwrap_or_else(|| format!("sqlite://{}", data_dir.path().join("tessera.db").display()));
    let settings = Settings {
        data_dir: Some(data_dir.path().to_path_buf()),
        database_url,
        listen: Some(addr),
        jwt_secret: Some(JWT_SECRET.into()),
        link_ttl: options.link_ttl,
        token_ttl: options.token_ttl,
        max_body_bytes: options.max_body_bytes,
        db_max_connections: Some(8),
        smtp_url: options.smtp_url,
        smtp_from: Some("Tessera Tickets <tickets@tessera.test>".into()),
        outbox_interval: Some(1),
        mail_retry_base: Some(1),
        rate_limit_per_second: Some(options.rate_limit.map_or(10_000, |r| r.0)),
        rate_limit_burst: Some(options.rate_limit.map_or(10_000, |r| r.1)),
        zip_link_ttl: options.zip_link_ttl,
        documents_url: options.documents_url,
        presigned_links: options.presigned_links,
        idempotency_lease: options.idempotency_lease,
        webhooks_allow_private: Some(options.webhooks_allow_private.unwrap_or(true)),
        webhooks_retry_delays: Some(options.webhooks_retry_delays.unwrap_or_else(|| "0.1,0.1,0.1,0.1,0.1,0.1".into())),
        access_log_flush_ms: options.access_log_flush_ms,
        wallet_cert: options.wallet.as_ref().map(|w| w.cert.clone()),
        wallet_key: options.wallet.as_ref().map(|w| w.key.clone()),
        wallet_wwdr: options.wallet.as_ref().map(|w| w.wwdr.clone()),
        wallet_pass_type_id: options.wallet.as_ref().map(|_| "pass.test.tessera".to_owned()),
        wallet_team_id: options.wallet.as_ref().map(|_| "TEAMID1234".to_owned()),
        google_wallet_issuer_id: options.google_wallet_key.as_ref().map(|_| "3388000000022222222".to_owned()),
        google_wallet_key: options.google_wallet_key,
        // A day of slack, so a void never meets the local midnight of a test that runs across it.
        void_window_days: Some(options.void_window_days.unwrap_or(1)),
        ..Default::default()
    };
    let config = Config::validate(settings).expect("config");
    let clock = Arc::new(OffsetClock::default());
    let app = server::build_app(&config).await.expect("build app").with_clock(clock.clone());
    let router = server::router(app.clone(), &config);
    server::spawn_outbox_worker(app.clone(), config.outbox_interval);
    server::spawn_webhook_worker(app.clone());
    let serve_config = config.clone();
    tokio::spawn(async move {
        let _ = server::serve(listener, router, &serve_config).await;
    });
    let agency = new_agency(&app, "Test Travel", "NPR", "1000000").await;
    let other_agency = new_agency(&app, "Other Travel", "NPR", "1000000").await;
    let admin = app.create_user(&op(), "root", "root-password", Role::Admin, None).await.expect("admin");
    let agent = app.create_user(&op(), "agent", "agent-password", Role::Agent, Some(agency.id)).await.expect("agent");
    let customer = app
        .create_user(&op(), "customer", "customer-password", Role::Customer, Some(agency.id))
        .await
        .expect("customer");
    let other_agent =
        app.create_user(&op(), "other", "other-password", Role::Agent, Some(other_agency.id)).await.expect("other");
    let token = |u: &User| app.issue_token(u).expect("token").access_token;
    TestApp {
        backend,
        base: format!("http://{addr}"),
        client: reqwest::Client::builder().timeout(Duration::from_secs(60)).build().expect("client"),
        admin_token: token(&admin),
        agent_token: token(&agent),
        customer_token: token(&customer),
        other_token: token(&other_agent),
        app,
        agency,
        other_agency,
        admin,
        agent,
        customer,
        data_dir,
        database_url: database_url_seen,
        database_guard,
        clock,
    }
}

pub async fn new_agency(app: &Tessera, name: &str, currency: &str, balance: &str) -> Agency {
    let agency = app
        .create_agency(
            &op(),
            &tessera_app::admin::AgencyInput {
                name: name.into(),
                currency: currency.into(),
                balance: Some(balance.into()),
                office_id: Some("KTMNP2100".into()),
                iata_number: Some("35123456".into()),
                timezone: Some("Asia/Kathmandu".into()),
                ..Default::default()
            },
        )
        .await
        .expect("agency");
    for carrier in ["QR", "FZ"] {
        app.set_agreement(&op(), agency.id, carrier, true, Some("7")).await.expect("agreement");
    }
    agency
}

/// One of the shipped example bookings.
pub fn example(name: &str) -> Value {
    let text = match name {
        "oneway" => include_str!("../../../../examples/bookings/flight-oneway.json"),
        "round" => include_str!("../../../../examples/bookings/flight-round.json"),
        "multicity" => include_str!("../../../../examples/bookings/flight-multicity.json"),
        "family" => include_str!("../../../../examples/bookings/flight-vn-family.json"),
        "event" => include_str!("../../../../examples/bookings/event.json"),
        other => panic!("no example {other}"),
    };
    serde_json::from_str(text).expect("example json")
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn get(&self, path: &str, token: &str) -> Response {
        self.client.get(self.url(path)).bearer_auth(token).send().await.expect("request")
    }

    pub async fn post(&self, path: &str, token: &str, body: &Value) -> Response {
        self.client.post(self.url(path)).bearer_auth(token).json(body).send().await.expect("request")
    }

    /// Creates a booking as `token` and returns its body, asserting 201.
    pub async fn book(&self, token: &str, doc: &Value) -> Value {
        let res = self.post("/api/v1/bookings", token, doc).await;
        let status = res.status();
        let body: Value = res.json().await.expect("json");
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body
    }

    /// Issues a booking as `token`, returning status and body.
    pub async fn issue(&self, token: &str, booking_id: &str, body: Value) -> (StatusCode, Value) {
        let res = self.post(&format!("/api/v1/bookings/{booking_id}/issue"), token, &body).await;
        let status = res.status();
        (status, res.json().await.expect("json"))
    }

    /// The agency as its API shows it (balance etc. as decimal strings).
    pub async fn agency_body(&self, agency: &Agency) -> Value {
        let res = self.get(&format!("/api/v1/agencies/{}", agency.id), &self.admin_token).await;
        assert_eq!(res.status(), StatusCode::OK);
        res.json().await.expect("json")
    }

    pub async fn balance(&self, agency: &Agency) -> String {
        self.agency_body(agency).await["balance"].as_str().expect("balance").to_owned()
    }

    pub async fn ledger(&self, agency: &Agency) -> Vec<Value> {
        let res = self.get(&format!("/api/v1/agencies/{}/ledger", agency.id), &self.admin_token).await;
        assert_eq!(res.status(), StatusCode::OK);
        res.json().await.expect("json")
    }
}

/// Asserts a problem+json answer with this status and code, and returns it.
pub async fn expect_problem(res: Response, status: StatusCode, code: &str) -> Value {
    assert_eq!(res.status(), status, "status");
    let content_type = res.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    let body: Value = res.json().await.expect("problem json");
    assert_eq!(content_type, "application/problem+json", "{body}");
    assert_eq!(body["code"], json!(code), "{body}");
    assert_eq!(body["status"], json!(status.as_u16()), "{body}");
    body
}

/// Runs each listed `async fn(TestApp)` once on SQLite and once on PostgreSQL.
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(crate::helpers::spawn_app(crate::helpers::Backend::Sqlite).await).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(crate::helpers::spawn_app(crate::helpers::Backend::Postgres).await).await;
                }
            )*
        }
    };
}

/// Like [`both_backends!`] for tests that need [`Options`]: each fn takes the backend and spawns its own app.
macro_rules! both_backends_custom {
    ($($name:ident),* $(,)?) => {
        mod sqlite_custom {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(crate::helpers::Backend::Sqlite).await;
                }
            )*
        }
        mod postgres_custom {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(crate::helpers::Backend::Postgres).await;
                }
            )*
        }
    };
}

/// The operator (an admin who is no stored user), as the CLI acts: for setting up agencies and users.
pub fn op() -> tessera_app::Principal {
    tessera_app::Principal::operator()
}

/// `qpdf --check` must be clean; returns what `pdftotext` reads.
pub fn readable_text(bytes: &[u8]) -> String {
    let file = tempfile::Builder::new().suffix(".pdf").tempfile().unwrap();
    std::fs::write(file.path(), bytes).unwrap();
    let check = std::process::Command::new("qpdf").arg("--check").arg(file.path()).output().expect("qpdf is installed");
    assert_eq!(
        check.status.code(),
        Some(0),
        "qpdf --check: {}{}",
        String::from_utf8_lossy(&check.stdout),
        String::from_utf8_lossy(&check.stderr)
    );
    let text =
        std::process::Command::new("pdftotext").arg(file.path()).arg("-").output().expect("pdftotext is installed");
    assert!(text.status.success(), "pdftotext: {}", String::from_utf8_lossy(&text.stderr));
    String::from_utf8(text.stdout).expect("pdftotext prints UTF-8")
}
