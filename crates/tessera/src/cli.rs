//! The `tessera` command line: `serve` and the operator's `admin` commands.
//!
//! `admin` commands call the same app services as the native API, as [`Principal::operator`]: whoever can run
//! the binary against the database is the operator, an admin, so the services' authorization always passes.

use std::path::PathBuf;

use anyhow::{anyhow, Context};
use clap::{Parser, Subcommand};
use tessera_app::admin::AgencyInput;
use tessera_app::{AppError, Principal, Tessera};
use tessera_core::ids::AgencyId;

use crate::config::{Config, LogFormat, Settings};
use crate::{demo, server};

#[derive(Debug, Parser)]
#[command(name = "tessera", version, about = "Ticket issuance and e-ticket distribution server")]
pub struct Cli {
    /// Optional TOML file with the same settings (kebab-case keys); flags and TESSERA_* variables win over it.
    #[arg(long, env = "TESSERA_CONFIG", global = true)]
    pub config: Option<PathBuf>,
    #[command(flatten)]
    pub settings: Settings,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server.
    Serve {
        /// Also create a demo agency, users, an API key and the example bookings (if absent), and print how to use them.
        #[arg(long)]
        demo: bool,
    },
    /// Operator commands against the same database.
    #[command(subcommand)]
    Admin(Admin),
}

#[derive(Debug, Subcommand)]
pub enum Admin {
    /// Open an agency; prints its id as the last word.
    CreateAgency {
        #[arg(long)]
        name: String,
        #[arg(long)]
        currency: String,
        #[arg(long)]
        balance: Option<String>,
        #[arg(long)]
        credit_limit: Option<String>,
        #[arg(long)]
        office_id: Option<String>,
        #[arg(long)]
        iata_number: Option<String>,
        #[arg(long)]
        timezone: Option<String>,
        /// VAT included in event ticket prices, in percent (printed on invoices).
        #[arg(long)]
        vat_percent: Option<String>,
        /// Refunds wait in TORFND until an admin approves them.
        #[arg(long)]
        refund_approval: bool,
    },
    /// Authorize (or not) a validating carrier for an agency, with a commission cap in percent.
    SetAgreement {
        #[arg(long)]
        agency: AgencyId,
        #[arg(long)]
        carrier: String,
        #[arg(long)]
        commission_cap: Option<String>,
        #[arg(long)]
        unauthorize: bool,
    },
    /// Add a tour code valid for one carrier, optionally between two dates (YYYY-MM-DD).
    AddTourCode {
        #[arg(long)]
        agency: AgencyId,
        #[arg(long)]
        carrier: String,
        #[arg(long)]
        code: String,
        #[arg(long)]
        valid_from: Option<String>,
        #[arg(long)]
        valid_to: Option<String>,
    },
    /// Add a corporate account code (`caCode`).
    AddCorporateAccount {
        #[arg(long)]
        agency: AgencyId,
        #[arg(long)]
        code: String,
    },
    /// Add a booker code (`bookerCode`): an agent or representative allowed to book in the agency's name.
    AddBookerCode {
        #[arg(long)]
        agency: AgencyId,
        #[arg(long)]
        code: String,
    },
    /// Create a user; agents and customers need an agency.
    CreateUser {
        #[arg(long)]
        username: String,
        #[arg(long)]
        password: String,
        #[arg(long, value_parser = ["admin", "agent", "customer"])]
        role: String,
        #[arg(long)]
        agency: Option<AgencyId>,
    },
    /// Create an API key for a user; prints the key (shown once) as the last word.
    CreateApiKey {
        #[arg(long)]
        username: String,
    },
    /// Add money to an agency's balance.
    TopUp {
        #[arg(long)]
        agency: AgencyId,
        #[arg(long)]
        amount: String,
    },
}

pub fn init_tracing(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("TESSERA_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn,tower_http=warn"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let config = Config::load(cli.settings, cli.config.as_deref())?;
    init_tracing(config.log_format);
    match cli.command {
        Command::Serve { demo } => {
            let app = server::build_app(&config).await?;
            let listener = tokio::net::TcpListener::bind(config.listen)
                .await
                .with_context(|| format!("binding {}", config.listen))?;
            let local = listener.local_addr()?;
            if demo {
                demo::seed(&app, &config, local).await?;
            }
            server::spawn_outbox_worker(app.clone(), config.outbox_interval);
            server::spawn_webhook_worker(app.clone());
            tracing::info!(address = %local, database = app.backend(), "tessera is listening");
            let served = server::serve(listener, server::router(app.clone(), &config), &config).await;
            // Every request has finished: write the access-log entries still queued before the process ends.
            app.flush_access_log().await;
            served
        }
        Command::Admin(cmd) => {
            let app = server::build_app(&config).await?;
            admin(&app, cmd).await.map_err(|e| match e {
                AppError::Validation(v) => {
                    let lines: Vec<String> =
                        v.0.iter().map(|f| format!("{}: {}", f.pointer.trim_start_matches('/'), f.reason)).collect();
                    anyhow!("invalid input: {}", lines.join("; "))
                }
                other => anyhow!(other.to_string()),
            })
        }
    }
}

/// Operator output goes to stdout on purpose: it is the command's result, parsed by scripts (last word).
#[allow(clippy::print_stdout)]
async fn admin(app: &Tessera, cmd: Admin) -> Result<(), AppError> {
    let op = Principal::operator();
    match cmd {
        Admin::CreateAgency {
            name,
            currency,
            balance,
            credit_limit,
            office_id,
            iata_number,
            timezone,
            vat_percent,
            refund_approval,
        } => {
            let input = AgencyInput {
                name,
                currency,
                balance,
                credit_limit,
                office_id,
                iata_number,
                timezone,
                vat_percent,
                refund_approval: Some(refund_approval),
            };
            let a = app.create_agency(&op, &input).await?;
            println!(
                "created agency {} ({}, balance {} {}) {}",
                a.name,
                a.currency,
                a.balance.amount_string(),
                a.currency,
                a.id
            );
        }
        Admin::SetAgreement { agency, carrier, commission_cap, unauthorize } => {
            let a = app.set_agreement(&op, agency, &carrier, !unauthorize, commission_cap.as_deref()).await?;
            let cap = a.commission_cap_percent.map_or("none".to_owned(), |c| format!("{c}%"));
            println!("agreement {}: authorized={} commission cap {cap}", a.carrier, a.authorized);
        }
        Admin::AddTourCode { agency, carrier, code, valid_from, valid_to } => {
            let t = app.add_tour_code(&op, agency, &carrier, &code, valid_from.as_deref(), valid_to.as_deref()).await?;
            println!("tour code {} for {} added", t.code, t.carrier);
        }
        Admin::AddCorporateAccount { agency, code } => {
            app.add_corporate_account(&op, agency, &code).await?;
            println!("corporate account {} added", code.trim());
        }
        Admin::AddBookerCode { agency, code } => {
            app.add_booker_code(&op, agency, &code).await?;
            println!("booker code {} added", code.trim());
        }
        Admin::CreateUser { username, password, role, agency } => {
            let u = app.create_user_in_role(&op, &username, &password, &role, agency).await?;
            println!("created {} {} {}", u.role.as_str(), u.username, u.id);
        }
        Admin::CreateApiKey { username } => {
            let user = app.find_user_by_username(&username).await?;
            let (_, key) = app.create_api_key(&op, user.id).await?;
            println!("API key for {username} (shown once): {key}");
        }
        Admin::TopUp { agency, amount } => {
            let e = app.top_up(&op, agency, &amount, Some("top-up from the command line".into())).await?;
            println!("balance now {} {}", e.balance_after.amount_string(), e.balance_after.currency());
        }
    }
    Ok(())
}
