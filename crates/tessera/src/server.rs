//! Wiring: open the database and document store, build the application and router, serve until SIGTERM.

use std::sync::Arc;

use anyhow::Context;
use axum::Router;
use rand::RngCore;
use sha2::{Digest, Sha256};
use tessera_app::{Secret, Settings, SystemClock, Tessera};
use tessera_documents::DocumentStore;
use tessera_http::HttpConfig;
use tessera_storage::Database;
use tessera_storage_postgres::PostgresDatabase;
use tessera_storage_sqlite::SqliteDatabase;
use tokio::net::TcpListener;

use crate::config::{Config, DatabaseConfig};

/// Opens the configured database (applying migrations).
pub async fn open_database(config: &Config) -> anyhow::Result<Arc<dyn Database>> {
    Ok(match &config.database {
        DatabaseConfig::Sqlite(path) => {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
            }
            Arc::new(SqliteDatabase::open(path).await.with_context(|| format!("opening SQLite at {}", path.display()))?)
        }
        DatabaseConfig::Postgres(url) => {
            let url = std::str::from_utf8(url.expose()).context("database URL is not UTF-8")?;
            Arc::new(
                PostgresDatabase::connect(url, config.db_max_connections).await.context("connecting to PostgreSQL")?,
            )
        }
    })
}

/// The configured JWT secret, or one generated once and kept in the database, so every node of one database
/// signs and checks with the same key (a per-node random key would silently break tokens across nodes). A key
/// an older version kept in `<data-dir>/jwt-secret` is adopted as the candidate, so its tokens stay valid.
async fn jwt_secret(config: &Config, db: &dyn Database) -> anyhow::Result<Secret> {
    if let Some(secret) = &config.jwt_secret {
        return Ok(secret.clone());
    }
    let legacy = std::fs::read_to_string(config.data_dir.join("jwt-secret"))
        .ok()
        .map(|s| s.trim().to_owned())
        .filter(|s| s.len() >= 32);
    let candidate = legacy.unwrap_or_else(|| {
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        hex::encode(bytes)
    });
    let secret = db.shared_secret("jwt", candidate.as_bytes()).await.context("reading the shared JWT secret")?;
    if secret.len() < 32 {
        anyhow::bail!("the JWT secret kept in the database is shorter than 32 bytes");
    }
    Ok(Secret::new(secret))
}

/// Builds the application from a configuration: database, document store and secrets.
pub async fn build_app(config: &Config) -> anyhow::Result<Tessera> {
    let db = open_database(config).await?;
    let docs = DocumentStore::from_url(&config.documents_url).context("opening the document store")?;
    // A missing bucket or refused credentials stop the start, instead of failing every issuance later.
    docs.check().await.with_context(|| format!("the document store at {} does not answer", docs.location()))?;
    tracing::info!(documents = docs.location(), "document store ready");
    let jwt = jwt_secret(config, db.as_ref()).await?;
    // Links get their own key, derived so that one configured secret is enough to run several nodes.
    let link_secret = Secret::new(
        Sha256::new().chain_update(b"tessera signed links\0").chain_update(jwt.expose()).finalize().to_vec(),
    );
    let settings = Settings {
        jwt_secret: jwt,
        token_ttl: config.token_ttl,
        link_ttl: config.link_ttl,
        zip_link_ttl: config.zip_link_ttl,
        void_window_days: config.void_window_days,
        idempotency_lease: config.idempotency_lease,
        link_secret,
        public_url: config.public_url.clone(),
        presigned_links: config.presigned_links,
        access_log: tessera_app::access_log::AccessLogSettings {
            flush_interval: config.access_log_flush,
            ..Default::default()
        },
        document_cache_bytes: config.document_cache_bytes,
        render_ahead: config.render_ahead,
    };
    let app = Tessera::new(db, docs, Arc::new(SystemClock), settings)
        .with_webhooks(config.webhooks.clone())
        .with_wallet(config.wallet.clone())
        .with_google_wallet(config.google_wallet.clone());
    Ok(match &config.mail {
        Some(mail) => app.with_mailer(tessera_app::mail::Mailer::new(mail).map_err(anyhow::Error::msg)?),
        None => app,
    })
}

/// Delivers due outbox messages every `interval`, for as long as the process runs. Several nodes may run it:
/// storage leases each message to one of them.
pub fn spawn_outbox_worker(app: Tessera, interval: std::time::Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            match app.deliver_due_messages(20).await {
                Ok(0) => {}
                Ok(sent) => tracing::info!(sent, "outbox worker delivered messages"),
                Err(e) => tracing::error!(error = %e, "outbox worker run failed"),
            }
        }
    })
}

/// Delivers due webhook events every second, and at once again after a full batch, for as long as the process
/// runs. Several nodes may run it: storage leases each delivery to one of them.
pub fn spawn_webhook_worker(app: Tessera) -> tokio::task::JoinHandle<()> {
    const BATCH: u32 = 50;
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(1));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            loop {
                match app.deliver_due_webhooks(BATCH).await {
                    Ok(delivered) if delivered >= BATCH as usize => continue,
                    Ok(_) => break,
                    Err(e) => {
                        tracing::error!(error = %e, "webhook worker run failed");
                        break;
                    }
                }
            }
        }
    })
}

pub fn router(app: Tessera, config: &Config) -> Router {
    tessera_http::router(
        app,
        HttpConfig {
            max_body_bytes: config.max_body_bytes,
            body_read_timeout: config.body_read_timeout,
            carrier_logo_url: config.carrier_logo_url.clone(),
            rate_limit: tessera_http::rate_limit::RateLimit {
                per_second: config.rate_limit_per_second,
                burst: config.rate_limit_burst,
            },
        },
    )
}

/// Serves on `listener` until SIGTERM or Ctrl-C, then lets in-flight requests finish.
pub async fn serve(listener: TcpListener, router: Router, config: &Config) -> anyhow::Result<()> {
    let limits = tessera_http::ConnectionLimits {
        max_connections: config.max_connections,
        header_read_timeout: config.header_read_timeout,
    };
    tessera_http::serve(listener, router, limits, shutdown_signal()).await.context("serving HTTP")
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing in-flight requests");
}
