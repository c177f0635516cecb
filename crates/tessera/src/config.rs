//! Configuration in one typed struct, layered flags > `TESSERA_*` environment > TOML file > defaults, and
//! validated once at start so a bad setting stops the process with a clear message instead of failing later.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context};
use clap::Args;
use serde::Deserialize;
use tessera_app::webhooks::WebhookSettings;
use tessera_app::Secret;

/// Every setting, as the TOML file holds them and `serve` takes them as flags. Every field is optional here:
/// whatever the command line and environment leave unset comes from the file, then from the defaults. The
/// settings every command needs (where the data is) are flags of [`StoreArgs`] instead, so that `admin` and
/// `import` offer only those.
#[derive(Debug, Clone, Default, Args, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Settings {
    /// Folder for the SQLite database, documents and the generated JWT secret.
    #[arg(skip)]
    pub data_dir: Option<PathBuf>,
    /// Where documents (PDFs, zips) are kept: `file:///abs/path`, `s3://bucket/prefix` (configured by the
    /// `AWS_*` variables), `gs://bucket/prefix`, `az://container/prefix` or `memory://`; default
    /// `<data-dir>/documents`. Several nodes must share one bucket.
    #[arg(skip)]
    pub documents_url: Option<String>,
    /// Answer a signed link with a redirect to a short-lived URL of the bucket itself, so the bytes do not pass
    /// through the node (only with a bucket that signs URLs: s3, gs, az).
    #[arg(long, env = "TESSERA_PRESIGNED_LINKS")]
    pub presigned_links: Option<bool>,
    /// `postgres://...` to use PostgreSQL; default: SQLite in the data directory.
    #[arg(skip)]
    pub database_url: Option<String>,
    /// Address to listen on.
    #[arg(long, env = "TESSERA_LISTEN")]
    pub listen: Option<SocketAddr>,
    /// Base URL clients use to reach this server (for signed links); default http://<listen>.
    #[arg(long, env = "TESSERA_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// HS256 key for access tokens; default: a random key persisted in the data directory.
    #[arg(long, env = "TESSERA_JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<String>,
    /// Lifetime of access tokens, in seconds.
    #[arg(long, env = "TESSERA_TOKEN_TTL")]
    pub token_ttl: Option<u64>,
    /// Lifetime of signed download links, in seconds.
    #[arg(long, env = "TESSERA_LINK_TTL")]
    pub link_ttl: Option<u64>,
    /// Lifetime of the events API's signed zip download links, in seconds (at most 300: the API promises
    /// they expire within 5 minutes).
    #[arg(long, env = "TESSERA_ZIP_LINK_TTL")]
    pub zip_link_ttl: Option<u64>,
    /// Whole days after the issue day (in the agency's time zone) a ticket may still be voided; 0 (the
    /// default) allows voids until the end of the issue day only.
    #[arg(long, env = "TESSERA_VOID_WINDOW_DAYS")]
    pub void_window_days: Option<u32>,
    /// Seconds a request holds its `Idempotency-Key` before a retry may take the key over (when the
    /// request died without an outcome); 1-3600, default 30.
    #[arg(long, env = "TESSERA_IDEMPOTENCY_LEASE")]
    pub idempotency_lease: Option<u64>,
    /// Open connections at most (past it the longest-idle is closed, or a newcomer refused with 503); default:
    /// the process's file-descriptor limit less 128.
    #[arg(long, env = "TESSERA_MAX_CONNECTIONS")]
    pub max_connections: Option<usize>,
    /// Seconds a client has to send a request's headers, on a new connection or between keep-alive requests.
    #[arg(long, env = "TESSERA_HEADER_READ_TIMEOUT")]
    pub header_read_timeout: Option<u64>,
    /// Seconds a client has to send a request's whole body.
    #[arg(long, env = "TESSERA_BODY_READ_TIMEOUT")]
    pub body_read_timeout: Option<u64>,
    /// Largest accepted request body, in bytes.
    #[arg(long, env = "TESSERA_MAX_BODY_BYTES")]
    pub max_body_bytes: Option<usize>,
    /// Database connection pool size.
    #[arg(skip)]
    pub db_max_connections: Option<u32>,
    /// `text` or `json` log lines.
    #[arg(skip)]
    pub log_format: Option<String>,
    /// SMTP relay: `smtp://host:port`, `smtp://user:pass@host:587?tls=required` (STARTTLS), `smtps://host:465`.
    /// Without it e-mail stays in the outbox.
    #[arg(long, env = "TESSERA_SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<String>,
    /// Sender address of e-mail, e.g. `Tessera <tickets@example.com>`.
    #[arg(long, env = "TESSERA_SMTP_FROM")]
    pub smtp_from: Option<String>,
    /// Seconds between outbox worker runs.
    #[arg(long, env = "TESSERA_OUTBOX_INTERVAL")]
    pub outbox_interval: Option<u64>,
    /// Seconds before the first retry of a failed e-mail; doubles per attempt, up to an hour.
    #[arg(long, env = "TESSERA_MAIL_RETRY_BASE")]
    pub mail_retry_base: Option<u64>,
    /// Carrier logo URL template (agent profile), with `{code}`; default: Tessera's own badges.
    #[arg(long, env = "TESSERA_CARRIER_LOGO_URL")]
    pub carrier_logo_url: Option<String>,
    /// Events API: requests per second allowed per credential (API key or user), sustained.
    #[arg(long, env = "TESSERA_RATE_LIMIT_PER_SECOND")]
    pub rate_limit_per_second: Option<u32>,
    /// Events API: requests a credential may make at once after being idle (the token bucket's size).
    #[arg(long, env = "TESSERA_RATE_LIMIT_BURST")]
    pub rate_limit_burst: Option<u32>,
    /// Serve Prometheus metrics at `GET /metrics` on this address (its own listener; off when unset).
    #[arg(long, env = "TESSERA_METRICS_LISTEN")]
    pub metrics_listen: Option<SocketAddr>,
    /// Let webhooks reach loopback, private and link-local addresses (tests, closed networks).
    #[arg(long, env = "TESSERA_WEBHOOKS_ALLOW_PRIVATE")]
    pub webhooks_allow_private: Option<bool>,
    /// Seconds (decimals allowed) before each retry of a failed webhook delivery, comma-separated; default
    /// `5,300,1800,7200,18000,36000`. Meant for tests.
    #[arg(long, env = "TESSERA_WEBHOOKS_RETRY_DELAYS", hide = true)]
    pub webhooks_retry_delays: Option<String>,
    /// Milliseconds a download's access-log entry may wait to be written with others in one transaction
    /// (1 ms to 1 h, default 50); entries still waiting are lost if the process crashes.
    #[arg(long, env = "TESSERA_ACCESS_LOG_FLUSH_MS")]
    pub access_log_flush_ms: Option<u64>,
    /// MiB of memory for copies of recently downloaded documents, checked against their recorded SHA-256
    /// (0-4096, default 16; 0 reads the store every time).
    #[arg(long, env = "TESSERA_DOCUMENT_CACHE_MB")]
    pub document_cache_mb: Option<usize>,
    /// Issuances whose documents are rendered in the background right after the answer, at most at once
    /// (0-1024, default 2); past it, or with 0, a document is rendered when first read.
    #[arg(long, env = "TESSERA_RENDER_AHEAD")]
    pub render_ahead: Option<usize>,
    /// Apple Wallet: the Pass Type ID certificate (PEM) passes are signed with. With `--wallet-key`,
    /// `--wallet-wwdr`, `--wallet-pass-type-id` and `--wallet-team-id`; without them `.../pkpass` answers 501.
    #[arg(long, env = "TESSERA_WALLET_CERT")]
    pub wallet_cert: Option<PathBuf>,
    /// Apple Wallet: the certificate's private key (PEM, unencrypted; keep the file readable by Tessera only).
    #[arg(long, env = "TESSERA_WALLET_KEY")]
    pub wallet_key: Option<PathBuf>,
    /// Apple Wallet: Apple's WWDR intermediate certificate (PEM), included in every pass signature.
    #[arg(long, env = "TESSERA_WALLET_WWDR")]
    pub wallet_wwdr: Option<PathBuf>,
    /// Apple Wallet: the pass type identifier of the certificate, e.g. `pass.com.example.tickets`.
    #[arg(long, env = "TESSERA_WALLET_PASS_TYPE_ID")]
    pub wallet_pass_type_id: Option<String>,
    /// Apple Wallet: the Apple developer team identifier, e.g. `A1B2C3D4E5`.
    #[arg(long, env = "TESSERA_WALLET_TEAM_ID")]
    pub wallet_team_id: Option<String>,
    /// Google Wallet: the service account's JSON key file that signs "Save to Google Wallet" links. With
    /// `--google-wallet-issuer-id`; without them the links answer 501.
    #[arg(long, env = "TESSERA_GOOGLE_WALLET_KEY")]
    pub google_wallet_key: Option<PathBuf>,
    /// Google Wallet: the issuer id (digits) from the Google Pay & Wallet console.
    #[arg(long, env = "TESSERA_GOOGLE_WALLET_ISSUER_ID")]
    pub google_wallet_issuer_id: Option<String>,
}

/// Where the data is: the options of every command (`serve`, `admin`, `import`), given before or after it.
#[derive(Debug, Clone, Default, Args)]
pub struct StoreArgs {
    /// Optional TOML file with the same settings (kebab-case keys); flags and TESSERA_* variables win over it.
    #[arg(long, env = "TESSERA_CONFIG", global = true)]
    pub config: Option<PathBuf>,
    /// Folder for the SQLite database, documents and the generated JWT secret.
    #[arg(long, env = "TESSERA_DATA_DIR", global = true)]
    pub data_dir: Option<PathBuf>,
    /// `postgres://...` to use PostgreSQL; default: SQLite in the data directory.
    #[arg(long, env = "TESSERA_DATABASE_URL", global = true, hide_env_values = true)]
    pub database_url: Option<String>,
    /// Where documents (PDFs, zips) are kept: `file:///abs/path`, `s3://bucket/prefix` (configured by the
    /// `AWS_*` variables), `gs://bucket/prefix`, `az://container/prefix` or `memory://`; default
    /// `<data-dir>/documents`. Several nodes must share one bucket.
    #[arg(long, env = "TESSERA_DOCUMENTS_URL", global = true)]
    pub documents_url: Option<String>,
    /// Database connection pool size.
    #[arg(long, env = "TESSERA_DB_MAX_CONNECTIONS", global = true)]
    pub db_max_connections: Option<u32>,
    /// `text` or `json` log lines.
    #[arg(long, env = "TESSERA_LOG_FORMAT", global = true)]
    pub log_format: Option<String>,
}

impl StoreArgs {
    /// `settings` with the store options of the command line put in.
    pub fn over(self, settings: Settings) -> Settings {
        Settings {
            data_dir: self.data_dir,
            database_url: self.database_url,
            documents_url: self.documents_url,
            db_max_connections: self.db_max_connections,
            log_format: self.log_format,
            ..settings
        }
    }
}

impl Settings {
    /// Fills what is unset from `lower` (the next layer down).
    fn or(self, lower: Settings) -> Settings {
        Settings {
            data_dir: self.data_dir.or(lower.data_dir),
            documents_url: self.documents_url.or(lower.documents_url),
            presigned_links: self.presigned_links.or(lower.presigned_links),
            database_url: self.database_url.or(lower.database_url),
            listen: self.listen.or(lower.listen),
            public_url: self.public_url.or(lower.public_url),
            jwt_secret: self.jwt_secret.or(lower.jwt_secret),
            token_ttl: self.token_ttl.or(lower.token_ttl),
            link_ttl: self.link_ttl.or(lower.link_ttl),
            zip_link_ttl: self.zip_link_ttl.or(lower.zip_link_ttl),
            void_window_days: self.void_window_days.or(lower.void_window_days),
            idempotency_lease: self.idempotency_lease.or(lower.idempotency_lease),
            max_body_bytes: self.max_body_bytes.or(lower.max_body_bytes),
            max_connections: self.max_connections.or(lower.max_connections),
            header_read_timeout: self.header_read_timeout.or(lower.header_read_timeout),
            body_read_timeout: self.body_read_timeout.or(lower.body_read_timeout),
            db_max_connections: self.db_max_connections.or(lower.db_max_connections),
            log_format: self.log_format.or(lower.log_format),
            carrier_logo_url: self.carrier_logo_url.or(lower.carrier_logo_url),
            smtp_url: self.smtp_url.or(lower.smtp_url),
            smtp_from: self.smtp_from.or(lower.smtp_from),
            outbox_interval: self.outbox_interval.or(lower.outbox_interval),
            mail_retry_base: self.mail_retry_base.or(lower.mail_retry_base),
            rate_limit_per_second: self.rate_limit_per_second.or(lower.rate_limit_per_second),
            rate_limit_burst: self.rate_limit_burst.or(lower.rate_limit_burst),
            webhooks_allow_private: self.webhooks_allow_private.or(lower.webhooks_allow_private),
            webhooks_retry_delays: self.webhooks_retry_delays.or(lower.webhooks_retry_delays),
            access_log_flush_ms: self.access_log_flush_ms.or(lower.access_log_flush_ms),
            document_cache_mb: self.document_cache_mb.or(lower.document_cache_mb),
            render_ahead: self.render_ahead.or(lower.render_ahead),
            metrics_listen: self.metrics_listen.or(lower.metrics_listen),
            wallet_cert: self.wallet_cert.or(lower.wallet_cert),
            wallet_key: self.wallet_key.or(lower.wallet_key),
            wallet_wwdr: self.wallet_wwdr.or(lower.wallet_wwdr),
            wallet_pass_type_id: self.wallet_pass_type_id.or(lower.wallet_pass_type_id),
            wallet_team_id: self.wallet_team_id.or(lower.wallet_team_id),
            google_wallet_key: self.google_wallet_key.or(lower.google_wallet_key),
            google_wallet_issuer_id: self.google_wallet_issuer_id.or(lower.google_wallet_issuer_id),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseConfig {
    Sqlite(PathBuf),
    Postgres(Secret),
}

/// The validated configuration the process runs with.
#[derive(Debug, Clone)]
pub struct Config {
    pub data_dir: PathBuf,
    pub database: DatabaseConfig,
    /// The document store's URL (see [`Settings::documents_url`]), absolute.
    pub documents_url: String,
    /// Signed links redirect to the bucket's own presigned URL.
    pub presigned_links: bool,
    pub listen: SocketAddr,
    pub public_url: String,
    /// None: generate or read `<data_dir>/jwt-secret`.
    pub jwt_secret: Option<Secret>,
    pub token_ttl: Duration,
    pub link_ttl: Duration,
    /// Lifetime of the events API's zip download links, 1 s to 5 min.
    pub zip_link_ttl: Duration,
    /// Days after the issue day a ticket may still be voided (0-30).
    pub void_window_days: u32,
    /// How long an idempotency claim is held before a retry may take it over (1 s to 1 h).
    pub idempotency_lease: Duration,
    pub max_body_bytes: usize,
    pub max_connections: usize,
    pub header_read_timeout: Duration,
    pub body_read_timeout: Duration,
    pub db_max_connections: u32,
    pub log_format: LogFormat,
    pub carrier_logo_url: String,
    pub mail: Option<tessera_app::mail::MailSettings>,
    pub outbox_interval: Duration,
    /// Events API rate limit per credential: sustained requests per second, at least 1.
    pub rate_limit_per_second: u32,
    /// Events API rate limit per credential: token bucket size, at least 1 (may be below `rate_limit_per_second`).
    pub rate_limit_burst: u32,
    pub webhooks: tessera_app::webhooks::WebhookSettings,
    /// Longest a download's access-log entry waits for its batch to be written (1 ms to 1 h).
    pub access_log_flush: Duration,
    /// Bytes of downloaded documents kept in memory (0: none).
    pub document_cache_bytes: usize,
    /// See `Settings::render_ahead`.
    pub render_ahead: usize,
    /// Where `GET /metrics` is served; None: no metrics.
    pub metrics_listen: Option<SocketAddr>,
    /// Apple Wallet pass signing; None: not configured.
    pub wallet: Option<std::sync::Arc<tessera_documents::wallet::WalletSigner>>,
    /// "Save to Google Wallet" link signing; None: not configured.
    pub google_wallet: Option<std::sync::Arc<tessera_app::google_wallet::GoogleWallet>>,
}

pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";

impl Config {
    /// Layers the command line/environment over the TOML file (if any) over the defaults, and validates.
    pub fn load(cli: Settings, file: Option<&Path>) -> anyhow::Result<Config> {
        let from_file = match file {
            Some(path) => {
                let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
                toml::from_str::<Settings>(&text).with_context(|| format!("parsing {}", path.display()))?
            }
            None => Settings::default(),
        };
        Self::validate(cli.or(from_file))
    }

    pub fn validate(s: Settings) -> anyhow::Result<Config> {
        let data_dir = s.data_dir.unwrap_or_else(|| PathBuf::from("./data"));
        let listen = match s.listen {
            Some(l) => l,
            None => DEFAULT_LISTEN.parse().context("default listen address")?,
        };
        let database = match s.database_url {
            Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
                DatabaseConfig::Postgres(Secret::new(url.into_bytes()))
            }
            Some(url) if url.starts_with("sqlite://") => {
                DatabaseConfig::Sqlite(PathBuf::from(url.trim_start_matches("sqlite://")))
            }
            Some(_) => bail!("--database-url must start with postgres:// or sqlite://"),
            None => DatabaseConfig::Sqlite(data_dir.join("tessera.db")),
        };
        let documents_url = match s.documents_url {
            Some(url) => url,
            None => {
                let dir = std::path::absolute(data_dir.join("documents")).context("resolving the data directory")?;
                url::Url::from_directory_path(&dir)
                    .map_err(|()| anyhow::anyhow!("{} cannot be written as a file:// URL", dir.display()))?
                    .to_string()
            }
        };
        let store_scheme = documents_url.split_once("://").map(|(scheme, _)| scheme);
        if !matches!(
            store_scheme,
            Some("file" | "memory" | "s3" | "s3a" | "gs" | "az" | "adl" | "azure" | "abfs" | "abfss")
        ) {
            bail!("--documents-url must be a file://, s3://, gs://, az:// or memory:// URL");
        }
        let presigned_links = s.presigned_links.unwrap_or(false);
        if presigned_links && matches!(store_scheme, Some("file" | "memory")) {
            bail!("--presigned-links needs a bucket (s3://, gs://, az://) as --documents-url");
        }
        let public_url = s.public_url.unwrap_or_else(|| format!("http://{listen}")).trim_end_matches('/').to_owned();
        if !(public_url.starts_with("http://") || public_url.starts_with("https://")) {
            bail!("--public-url must be an http:// or https:// URL");
        }
        let jwt_secret = match s.jwt_secret {
            Some(secret) if secret.len() < 32 => bail!("--jwt-secret must be at least 32 characters"),
            Some(secret) => Some(Secret::new(secret.into_bytes())),
            None => None,
        };
        let token_ttl = s.token_ttl.unwrap_or(3600);
        let link_ttl = s.link_ttl.unwrap_or(900);
        let zip_link_ttl = s.zip_link_ttl.unwrap_or(300);
        if !(1..=7 * 86_400).contains(&token_ttl) {
            bail!("--token-ttl must be between 1 second and 7 days");
        }
        if !(1..=86_400).contains(&link_ttl) {
            bail!("--link-ttl must be between 1 second and 1 day");
        }
        if !(1..=300).contains(&zip_link_ttl) {
            bail!("--zip-link-ttl must be between 1 and 300 seconds (the events API promises zip links expire within 5 minutes)");
        }
        let void_window_days = s.void_window_days.unwrap_or(0);
        if void_window_days > 30 {
            bail!("--void-window-days must be between 0 and 30");
        }
        let idempotency_lease = s.idempotency_lease.unwrap_or(30);
        if !(1..=3600).contains(&idempotency_lease) {
            bail!("--idempotency-lease must be between 1 and 3600 seconds");
        }
        let max_body_bytes = s.max_body_bytes.unwrap_or(1024 * 1024);
        if !(1024..=64 * 1024 * 1024).contains(&max_body_bytes) {
            bail!("--max-body-bytes must be between 1 KiB and 64 MiB");
        }
        let max_connections = s.max_connections.unwrap_or_else(|| tessera_http::default_max_connections(128));
        if max_connections == 0 {
            bail!("--max-connections must be at least 1");
        }
        let header_read_timeout = s.header_read_timeout.unwrap_or(10);
        if !(1..=300).contains(&header_read_timeout) {
            bail!("--header-read-timeout must be between 1 and 300 seconds");
        }
        let body_read_timeout = s.body_read_timeout.unwrap_or(30);
        if !(1..=3600).contains(&body_read_timeout) {
            bail!("--body-read-timeout must be between 1 and 3600 seconds");
        }
        let db_max_connections = s.db_max_connections.unwrap_or(10);
        if db_max_connections == 0 {
            bail!("--db-max-connections must be at least 1");
        }
        let rate_limit_per_second = s.rate_limit_per_second.unwrap_or(10);
        if rate_limit_per_second == 0 {
            bail!("--rate-limit-per-second must be at least 1");
        }
        let rate_limit_burst = s.rate_limit_burst.unwrap_or(20);
        if rate_limit_burst == 0 {
            bail!("--rate-limit-burst must be at least 1");
        }
        let access_log_flush_ms = s.access_log_flush_ms.unwrap_or(50);
        if !(1..=3_600_000).contains(&access_log_flush_ms) {
            bail!("--access-log-flush-ms must be between 1 and 3600000 (one hour)");
        }
        let document_cache_mb = s.document_cache_mb.unwrap_or(16);
        if document_cache_mb > 4096 {
            bail!("--document-cache-mb must be between 0 and 4096");
        }
        let render_ahead = s.render_ahead.unwrap_or(2);
        if render_ahead > 1024 {
            bail!("--render-ahead must be between 0 and 1024");
        }
        let log_format = match s.log_format.as_deref() {
            None | Some("text") => LogFormat::Text,
            Some("json") => LogFormat::Json,
            Some(other) => bail!("--log-format must be `text` or `json`, not `{other}`"),
        };
        let carrier_logo_url = s.carrier_logo_url.unwrap_or_else(|| format!("{public_url}/logos/{{code}}.svg"));
        if !carrier_logo_url.contains("{code}") {
            bail!("--carrier-logo-url must contain {{code}}");
        }
        let retry_base = Duration::from_secs(s.mail_retry_base.unwrap_or(30).max(1));
        let mail = match s.smtp_url {
            Some(url) if url.starts_with("smtp://") || url.starts_with("smtps://") => {
                Some(tessera_app::mail::MailSettings {
                    smtp_url: Secret::new(url.into_bytes()),
                    from: s.smtp_from.unwrap_or_else(|| "Tessera <tickets@localhost>".into()),
                    retry_base,
                })
            }
            Some(_) => bail!("--smtp-url must start with smtp:// or smtps://"),
            None => None,
        };
        let outbox_interval = Duration::from_secs(s.outbox_interval.unwrap_or(5).clamp(1, 3600));
        let webhooks = webhook_settings(s.webhooks_allow_private, s.webhooks_retry_delays.as_deref())?;
        let wallet = wallet_signer(
            s.wallet_cert.as_deref(),
            s.wallet_key.as_deref(),
            s.wallet_wwdr.as_deref(),
            s.wallet_pass_type_id.as_deref(),
            s.wallet_team_id.as_deref(),
        )?;
        let google_wallet = match (s.google_wallet_key, s.google_wallet_issuer_id) {
            (Some(path), Some(issuer)) => {
                let json = std::fs::read(&path)
                    .with_context(|| format!("reading the --google-wallet-key {}", path.display()))?;
                let google = tessera_app::google_wallet::GoogleWallet::from_service_account(
                    &json,
                    &issuer,
                    vec![public_url.clone()],
                )
                .map_err(|e| anyhow::anyhow!("--google-wallet-key {}: {e}", path.display()))?;
                Some(std::sync::Arc::new(google))
            }
            (None, None) => None,
            _ => bail!("Google Wallet needs both --google-wallet-key and --google-wallet-issuer-id"),
        };
        Ok(Config {
            google_wallet,
            wallet,
            webhooks,
            mail,
            outbox_interval,
            carrier_logo_url,
            data_dir,
            database,
            documents_url,
            presigned_links,
            listen,
            public_url,
            jwt_secret,
            token_ttl: Duration::from_secs(token_ttl),
            link_ttl: Duration::from_secs(link_ttl),
            zip_link_ttl: Duration::from_secs(zip_link_ttl),
            void_window_days,
            idempotency_lease: Duration::from_secs(idempotency_lease),
            max_body_bytes,
            max_connections,
            header_read_timeout: Duration::from_secs(header_read_timeout),
            body_read_timeout: Duration::from_secs(body_read_timeout),
            db_max_connections,
            log_format,
            rate_limit_per_second,
            rate_limit_burst,
            access_log_flush: Duration::from_millis(access_log_flush_ms),
            document_cache_bytes: document_cache_mb * 1024 * 1024,
            render_ahead,
            metrics_listen: s.metrics_listen,
        })
    }
}

/// The Apple Wallet signer: all five settings or none; the files are read and checked now (the key must belong
/// to the certificate), so a bad setup stops the start instead of failing the first pass.
fn wallet_signer(
    cert: Option<&Path>,
    key: Option<&Path>,
    wwdr: Option<&Path>,
    pass_type_id: Option<&str>,
    team_id: Option<&str>,
) -> anyhow::Result<Option<std::sync::Arc<tessera_documents::wallet::WalletSigner>>> {
    let (Some(cert), Some(key), Some(wwdr), Some(pass_type_id), Some(team_id)) =
        (cert, key, wwdr, pass_type_id, team_id)
    else {
        if cert.is_some() || key.is_some() || wwdr.is_some() || pass_type_id.is_some() || team_id.is_some() {
            bail!(
                "Apple Wallet needs all of --wallet-cert, --wallet-key, --wallet-wwdr, --wallet-pass-type-id and \
                 --wallet-team-id"
            );
        }
        return Ok(None);
    };
    let read =
        |path: &Path, what: &str| std::fs::read(path).with_context(|| format!("reading the {what} {}", path.display()));
    let signer = tessera_documents::wallet::WalletSigner::from_pem(
        &read(cert, "--wallet-cert")?,
        &read(key, "--wallet-key")?,
        &read(wwdr, "--wallet-wwdr")?,
        pass_type_id,
        team_id,
    )?;
    Ok(Some(std::sync::Arc::new(signer)))
}

/// The webhook settings: private addresses only when asked, the default retry schedule unless one is given.
fn webhook_settings(allow_private: Option<bool>, delays: Option<&str>) -> anyhow::Result<WebhookSettings> {
    let mut settings = WebhookSettings { allow_private: allow_private.unwrap_or(false), ..Default::default() };
    if let Some(text) = delays {
        let parsed: Option<Vec<Duration>> = text
            .split(',')
            .map(|d| d.trim().parse::<f64>().ok().and_then(|s| Duration::try_from_secs_f64(s).ok()))
            .collect();
        match parsed {
            Some(delays) if !delays.is_empty() && delays.iter().all(|d| *d <= Duration::from_secs(7 * 86_400)) => {
                settings.retry_delays = delays;
            }
            _ => bail!("--webhooks-retry-delays must be comma-separated seconds, each at most 7 days"),
        }
    }
    Ok(settings)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid() {
        let c = Config::validate(Settings::default()).unwrap();
        assert_eq!(c.listen.to_string(), DEFAULT_LISTEN);
        assert_eq!(c.link_ttl, Duration::from_secs(900));
        assert_eq!(c.idempotency_lease, Duration::from_secs(30));
        assert_eq!(c.zip_link_ttl, Duration::from_secs(300));
        assert_eq!((c.rate_limit_per_second, c.rate_limit_burst), (10, 20));
        assert_eq!(c.max_body_bytes, 1024 * 1024);
        assert_eq!(c.database, DatabaseConfig::Sqlite(PathBuf::from("./data/tessera.db")));
        assert_eq!(c.public_url, "http://127.0.0.1:8080");
        let documents = std::path::absolute("./data/documents").unwrap();
        assert_eq!(c.documents_url, url::Url::from_directory_path(documents).unwrap().as_str());
        assert!(!c.presigned_links);
        assert_eq!(c.access_log_flush, Duration::from_millis(50));
    }

    #[test]
    fn access_log_flush_is_a_millisecond_to_an_hour() {
        let with = |ms| Config::validate(Settings { access_log_flush_ms: Some(ms), ..Default::default() });
        assert_eq!(with(1).unwrap().access_log_flush, Duration::from_millis(1));
        assert_eq!(with(3_600_000).unwrap().access_log_flush, Duration::from_secs(3600));
        for bad in [0, 3_600_001] {
            assert_eq!(
                with(bad).unwrap_err().to_string(),
                "--access-log-flush-ms must be between 1 and 3600000 (one hour)"
            );
        }
        let file: Settings = toml::from_str("access-log-flush-ms = 100").unwrap();
        assert_eq!(Config::validate(file).unwrap().access_log_flush, Duration::from_millis(100));
    }

    #[test]
    fn render_ahead_is_zero_to_1024() {
        let with = |n| Config::validate(Settings { render_ahead: Some(n), ..Default::default() });
        assert_eq!(Config::validate(Settings::default()).unwrap().render_ahead, 2);
        assert_eq!(with(0).unwrap().render_ahead, 0);
        assert_eq!(with(1025).unwrap_err().to_string(), "--render-ahead must be between 0 and 1024");
    }

    #[test]
    fn document_cache_is_zero_to_four_gib() {
        let with = |mb| Config::validate(Settings { document_cache_mb: Some(mb), ..Default::default() });
        assert_eq!(Config::validate(Settings::default()).unwrap().document_cache_bytes, 16 * 1024 * 1024);
        assert_eq!(with(0).unwrap().document_cache_bytes, 0);
        assert_eq!(with(4096).unwrap().document_cache_bytes, 4096 * 1024 * 1024);
        assert_eq!(with(4097).unwrap_err().to_string(), "--document-cache-mb must be between 0 and 4096");
    }

    #[test]
    fn idempotency_lease_is_one_second_to_an_hour() {
        let with = |secs| Config::validate(Settings { idempotency_lease: Some(secs), ..Default::default() });
        assert_eq!(with(1).unwrap().idempotency_lease, Duration::from_secs(1));
        assert_eq!(with(3600).unwrap().idempotency_lease, Duration::from_secs(3600));
        for bad in [0, 3601] {
            assert_eq!(with(bad).unwrap_err().to_string(), "--idempotency-lease must be between 1 and 3600 seconds");
        }
    }

    #[test]
    fn documents_url_names_a_store_and_presigned_links_need_a_bucket() {
        let with = |url: &str, presigned: bool| {
            Config::validate(Settings {
                documents_url: Some(url.into()),
                presigned_links: Some(presigned),
                ..Default::default()
            })
        };
        assert_eq!(with("s3://bucket/prefix", true).unwrap().documents_url, "s3://bucket/prefix");
        assert!(with("memory://", false).is_ok());
        assert_eq!(
            with("ftp://x/y", false).unwrap_err().to_string(),
            "--documents-url must be a file://, s3://, gs://, az:// or memory:// URL"
        );
        assert_eq!(
            with("file:///srv/docs", true).unwrap_err().to_string(),
            "--presigned-links needs a bucket (s3://, gs://, az://) as --documents-url"
        );
    }

    #[test]
    fn flags_win_over_file_over_defaults() {
        let file: Settings = toml::from_str("link-ttl = 60\nmax-body-bytes = 4096\nlisten = \"0.0.0.0:9000\"").unwrap();
        let cli = Settings { link_ttl: Some(30), ..Default::default() };
        let c = Config::validate(cli.or(file)).unwrap();
        assert_eq!(c.link_ttl, Duration::from_secs(30));
        assert_eq!(c.max_body_bytes, 4096);
        assert_eq!(c.listen.to_string(), "0.0.0.0:9000");
    }

    #[test]
    fn rate_limit_and_zip_link_ttl_layer_like_the_rest() {
        let file: Settings =
            toml::from_str("rate-limit-per-second = 5\nrate-limit-burst = 50\nzip-link-ttl = 120").unwrap();
        let cli = Settings { rate_limit_per_second: Some(2), zip_link_ttl: Some(60), ..Default::default() };
        let c = Config::validate(cli.or(file)).unwrap();
        assert_eq!(c.rate_limit_per_second, 2);
        assert_eq!(c.rate_limit_burst, 50);
        assert_eq!(c.zip_link_ttl, Duration::from_secs(60));

        // A burst below the rate is allowed (requests are then spread out, never bunched).
        let c = Config::validate(Settings {
            rate_limit_per_second: Some(100),
            rate_limit_burst: Some(1),
            ..Default::default()
        })
        .unwrap();
        assert_eq!((c.rate_limit_per_second, c.rate_limit_burst), (100, 1));
        let c = Config::validate(Settings { zip_link_ttl: Some(1), ..Default::default() }).unwrap();
        assert_eq!(c.zip_link_ttl, Duration::from_secs(1));
    }

    #[test]
    fn rate_limit_and_zip_link_ttl_flags_parse() {
        #[derive(clap::Parser)]
        struct Cli {
            #[command(flatten)]
            settings: Settings,
        }
        let cli = <Cli as clap::Parser>::try_parse_from([
            "tessera",
            "--rate-limit-per-second",
            "3",
            "--rate-limit-burst",
            "7",
            "--zip-link-ttl",
            "90",
        ])
        .unwrap();
        let s = cli.settings;
        assert_eq!((s.rate_limit_per_second, s.rate_limit_burst, s.zip_link_ttl), (Some(3), Some(7), Some(90)));
    }

    #[test]
    fn bad_rate_limit_and_zip_link_ttl_are_refused_with_a_clear_message() {
        let error = |s: Settings| Config::validate(s).unwrap_err().to_string();
        assert_eq!(
            error(Settings { rate_limit_per_second: Some(0), ..Default::default() }),
            "--rate-limit-per-second must be at least 1"
        );
        assert_eq!(
            error(Settings { rate_limit_burst: Some(0), ..Default::default() }),
            "--rate-limit-burst must be at least 1"
        );
        for ttl in [0, 301, 3600] {
            let message = error(Settings { zip_link_ttl: Some(ttl), ..Default::default() });
            assert!(message.starts_with("--zip-link-ttl must be between 1 and 300 seconds"), "{ttl}: {message}");
        }
    }

    #[test]
    fn bad_settings_are_refused() {
        let bad = |s: Settings| Config::validate(s).is_err();
        assert!(bad(Settings { jwt_secret: Some("short".into()), ..Default::default() }));
        assert!(bad(Settings { database_url: Some("mysql://x".into()), ..Default::default() }));
        assert!(bad(Settings { link_ttl: Some(0), ..Default::default() }));
        assert!(bad(Settings { zip_link_ttl: Some(0), ..Default::default() }));
        assert!(bad(Settings { zip_link_ttl: Some(301), ..Default::default() }));
        assert!(bad(Settings { rate_limit_per_second: Some(0), ..Default::default() }));
        assert!(bad(Settings { rate_limit_burst: Some(0), ..Default::default() }));
        assert!(bad(Settings { log_format: Some("xml".into()), ..Default::default() }));
        assert!(toml::from_str::<Settings>("unknown-key = 1").is_err());
    }

    #[test]
    fn webhook_retry_delays_and_private_addresses() {
        let defaults = Config::validate(Settings::default()).unwrap().webhooks;
        assert!(!defaults.allow_private);
        assert_eq!(defaults.retry_delays, tessera_app::webhooks::DEFAULT_RETRY_DELAYS.to_vec());
        let s = Settings {
            webhooks_allow_private: Some(true),
            webhooks_retry_delays: Some("0.5, 2".into()),
            ..Default::default()
        };
        let custom = Config::validate(s).unwrap().webhooks;
        assert!(custom.allow_private);
        assert_eq!(custom.retry_delays, vec![Duration::from_millis(500), Duration::from_secs(2)]);
        for bad in ["", "1,x", "-1", "700000"] {
            let s = Settings { webhooks_retry_delays: Some(bad.into()), ..Default::default() };
            let err = Config::validate(s).unwrap_err().to_string();
            assert_eq!(err, "--webhooks-retry-delays must be comma-separated seconds, each at most 7 days", "{bad}");
        }
    }

    #[test]
    fn secrets_do_not_leak_through_debug() {
        let c = Config::validate(Settings {
            jwt_secret: Some("x".repeat(40)),
            database_url: Some("postgres://user:hunter2@db/tessera".into()),
            ..Default::default()
        })
        .unwrap();
        let text = format!("{c:?}");
        assert!(!text.contains("hunter2") && !text.contains(&"x".repeat(40)), "{text}");
    }
}
