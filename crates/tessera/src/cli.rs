//! The `tessera` command line: `serve`, the operator's `admin` commands and `import`.
//!
//! `admin` and `import` call the same app services as the native API, as [`Principal::operator`]: whoever can
//! run the binary against the database is the operator, an admin, so the services' authorization always passes.
//! Only the options that say where the data is ([`StoreArgs`]) are shared by every command; the server's own
//! settings are options of `serve` alone, so `tessera admin --help` lists what admin commands use.

use anyhow::{anyhow, Context};
use clap::{Parser, Subcommand};
use tessera_app::AppError;

use crate::admin::Admin;
use crate::config::{Config, LogFormat, Settings, StoreArgs};
use crate::import::ImportArgs;
use crate::{demo, server};

#[derive(Debug, Parser)]
#[command(name = "tessera", version, about = "Ticket issuance and e-ticket distribution server")]
pub struct Cli {
    #[command(flatten)]
    pub store: StoreArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server.
    Serve {
        #[command(flatten)]
        settings: Box<Settings>,
        /// Also create a demo agency, users, an API key and the example bookings (if absent), and print how to use them.
        #[arg(long)]
        demo: bool,
    },
    /// Operator commands against the same database (`--json` on every read command).
    #[command(subcommand)]
    Admin(Admin),
    /// Check a gate payload (a ticket's QR code) offline against the published public keys.
    Verify(crate::verify::VerifyArgs),
    /// Load bookings (NDJSON, one intake document a line, or a folder of `.json` files) into an agency.
    Import(ImportArgs),
}

/// Log lines go to stderr; `default` is the level when `TESSERA_LOG` is unset.
pub fn init_tracing(format: LogFormat, default: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("TESSERA_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

/// Runs a command; `Ok(false)` is a command that ran but did not succeed in full (an import with failed lines).
pub async fn run(cli: Cli) -> anyhow::Result<bool> {
    if let Command::Verify(args) = &cli.command {
        return crate::verify::run(args);
    }
    let file = cli.store.config.clone();
    let settings = match &cli.command {
        Command::Serve { settings, .. } => (**settings).clone(),
        Command::Admin(_) | Command::Import(_) | Command::Verify(_) => Settings::default(),
    };
    let config = Config::load(cli.store.over(settings), file.as_deref())?;
    match cli.command {
        Command::Serve { demo, .. } => {
            init_tracing(config.log_format, "info,sqlx=warn,tower_http=warn");
            let app = server::build_app(&config).await?;
            let listener = tokio::net::TcpListener::bind(config.listen)
                .await
                .with_context(|| format!("binding {}", config.listen))?;
            let local = listener.local_addr()?;
            if demo {
                demo::seed(&app, &config, local).await?;
            }
            if let Some(addr) = config.metrics_listen {
                let bound = crate::metrics::spawn(addr, app.clone()).await?;
                tracing::info!(address = %bound, "metrics at /metrics");
            }
            server::spawn_outbox_worker(app.clone(), config.outbox_interval);
            server::spawn_webhook_worker(app.clone());
            tracing::info!(address = %local, database = app.backend(), "tessera is listening");
            let served = server::serve(listener, server::router(app.clone(), &config), &config).await;
            // Every request has finished: let the issuances' background renders end (a few seconds at most; what
            // is left pending renders on first read), then write the access-log entries still queued.
            let _ = tokio::time::timeout(std::time::Duration::from_secs(10), app.settle_renders()).await;
            app.flush_access_log().await;
            served?;
            Ok(true)
        }
        Command::Admin(cmd) => {
            init_tracing(config.log_format, "warn");
            let app = server::build_app(&config).await?;
            crate::admin::run(&app, cmd).await?;
            Ok(true)
        }
        Command::Verify(args) => crate::verify::run(&args),
        Command::Import(args) => {
            init_tracing(config.log_format, "warn");
            let app = server::build_app(&config).await?;
            crate::import::run(&app, args).await
        }
    }
}

/// An app error as one line for an operator: field errors as `field: reason`.
pub(crate) fn readable(e: AppError) -> anyhow::Error {
    match e {
        AppError::Validation(v) => {
            let lines: Vec<String> =
                v.0.iter().map(|f| format!("{}: {}", f.pointer.trim_start_matches('/'), f.reason)).collect();
            anyhow!("invalid input: {}", lines.join("; "))
        }
        other => anyhow!(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::{Cli, Command};
    use crate::admin::Admin;

    /// Key ids are base64url: one may begin with `-` and must still be taken as the value of `--kid`.
    #[test]
    fn a_kid_that_starts_with_a_dash_is_a_value() {
        let cli = Cli::try_parse_from(["tessera", "admin", "retire-signing-key", "--kid", "-_3f9Q"]);
        match cli.map(|c| c.command) {
            Ok(Command::Admin(Admin::RetireSigningKey { kid })) => assert_eq!(kid, "-_3f9Q"),
            other => panic!("{:?}", other.err()),
        }
    }
}
