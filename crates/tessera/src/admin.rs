//! `tessera admin`: the operator's commands, verb first (`create-`, `list-`, `show-`, `revoke-`, `retry-`,
//! `set-`, `add-`, `top-up`). Every read command prints a table for people, or with `--json` one JSON document
//! (an array for `list-`, an object for `show-`) for scripts. Commands that create print the new id (or key) as
//! the last word.

use clap::{Args, Subcommand};
use serde_json::{json, Value};
use tessera_app::admin::AgencyInput;
use tessera_app::{AppError, Principal, Tessera};
use tessera_core::agency::Agency;
use tessera_core::ids::{AgencyId, ApiKeyId, MessageId};
use tessera_core::ledger::LedgerEntry;
use tessera_core::user::User;
use tessera_storage::{ApiKeyRecord, MessageStatus, OutboxMessage};

#[derive(Debug, Clone, Copy, Args)]
pub struct Output {
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
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
        /// Language (BCP-47: en, vi) of documents and e-mails of bookings that do not choose one.
        #[arg(long)]
        default_language: Option<String>,
    },
    /// Every agency with its balance, credit limit and available amount.
    ListAgencies {
        #[command(flatten)]
        out: Output,
    },
    /// One agency: balance, settings and agreements.
    ShowAgency {
        #[arg(long)]
        agency: AgencyId,
        #[command(flatten)]
        out: Output,
    },
    /// Set the language (BCP-47: en, vi) of documents and e-mails of the agency's bookings that do not choose
    /// one; bookings already taken keep theirs.
    SetDefaultLanguage {
        #[arg(long)]
        agency: AgencyId,
        #[arg(long)]
        language: String,
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
    /// Create a user; agents and customers need an agency. Prints the user's id as the last word.
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
    /// Every user, or those of one agency.
    ListUsers {
        #[arg(long)]
        agency: Option<AgencyId>,
        #[command(flatten)]
        out: Output,
    },
    /// Create an API key for a user; prints the key (shown once) as the last word.
    CreateApiKey {
        #[arg(long)]
        username: String,
    },
    /// API keys (live and revoked, never the key itself) of one user or of every user of an agency.
    ListApiKeys {
        #[arg(long, required_unless_present = "agency", conflicts_with = "agency")]
        username: Option<String>,
        #[arg(long)]
        agency: Option<AgencyId>,
        #[command(flatten)]
        out: Output,
    },
    /// Revoke an API key by its id (from `list-api-keys`); it answers 401 from the next request on.
    RevokeApiKey {
        #[arg(long)]
        id: ApiKeyId,
    },
    /// Add money to an agency's balance.
    TopUp {
        #[arg(long)]
        agency: AgencyId,
        #[arg(long)]
        amount: String,
    },
    /// An agency's ledger, oldest entry first: every credit and debit with the balance after it.
    ListLedger {
        #[arg(long)]
        agency: AgencyId,
        #[command(flatten)]
        out: Output,
    },
    /// E-mail outbox messages, newest first.
    ListOutbox {
        /// Only messages in this state.
        #[arg(long, value_parser = ["queued", "sent", "failed"])]
        status: Option<String>,
        /// At most this many (the newest), 1-200.
        #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u32).range(1..=200))]
        limit: u32,
        #[command(flatten)]
        out: Output,
    },
    /// Make a failed (or waiting) e-mail due now; the outbox worker of a running server sends it.
    RetryMessage {
        #[arg(long)]
        id: MessageId,
    },
    /// Add a fresh gate-signing key: it signs the tickets of orders made from now on, older keys keep verifying.
    /// Prints the new key's id as the last word.
    RotateSigningKey,
    /// Retire a gate-signing key by its id (`kid`): tickets it signed no longer verify. The newest key cannot be
    /// retired; rotate first.
    RetireSigningKey {
        // A kid is base64url and may start with `-`: it is a value, never an option.
        #[arg(long, allow_hyphen_values = true)]
        kid: String,
    },
    /// Webhook endpoints of every agency, or of one (never their secrets).
    ListWebhooks {
        #[arg(long)]
        agency: Option<AgencyId>,
        #[command(flatten)]
        out: Output,
    },
}

/// Operator output goes to stdout on purpose: it is the command's result, parsed by scripts.
#[allow(clippy::print_stdout)]
fn emit(out: Output, value: &Value, table: impl FnOnce() -> String) {
    if out.json {
        println!("{value}");
    } else {
        print!("{}", table());
    }
}

/// Runs one admin command; an app error becomes one readable line.
pub async fn run(app: &Tessera, cmd: Admin) -> anyhow::Result<()> {
    execute(app, cmd).await.map_err(crate::cli::readable)
}

#[allow(clippy::print_stdout)]
async fn execute(app: &Tessera, cmd: Admin) -> Result<(), AppError> {
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
            default_language,
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
                default_language,
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
        Admin::ListAgencies { out } => {
            let agencies = app.list_agencies(&op).await?;
            let value = Value::Array(agencies.iter().map(agency_json).collect());
            emit(out, &value, || {
                table(
                    &["ID", "NAME", "CURRENCY", "BALANCE", "CREDIT LIMIT", "AVAILABLE"],
                    agencies.iter().map(|a| {
                        vec![
                            a.id.to_string(),
                            a.name.clone(),
                            a.currency.to_string(),
                            a.balance.amount_string(),
                            a.credit_limit.amount_string(),
                            a.available().amount_string(),
                        ]
                    }),
                )
            });
        }
        Admin::ShowAgency { agency, out } => {
            let a = app.get_agency(&op, agency).await?;
            let agreements = app.agreements(&op, agency).await?;
            let mut value = agency_json(&a);
            value["agreements"] = json!(agreements
                .carriers
                .iter()
                .map(|c| json!({
                    "carrier": c.carrier.as_str(),
                    "authorized": c.authorized,
                    "commission_cap_percent": c.commission_cap_percent.map(|p| p.to_string()),
                }))
                .collect::<Vec<_>>());
            value["tour_codes"] = json!(agreements.tour_codes.iter().map(|t| t.code.clone()).collect::<Vec<_>>());
            value["corporate_accounts"] = json!(agreements.corporate_accounts);
            value["booker_codes"] = json!(agreements.booker_codes);
            emit(out, &value, || {
                let mut text = String::new();
                for (key, field) in [
                    ("id", "id"),
                    ("name", "name"),
                    ("currency", "currency"),
                    ("balance", "balance"),
                    ("credit limit", "credit_limit"),
                    ("available", "available"),
                    ("office id", "office_id"),
                    ("IATA number", "iata_number"),
                    ("time zone", "timezone"),
                    ("VAT %", "vat_percent"),
                    ("refund approval", "refund_approval"),
                    ("language", "default_language"),
                ] {
                    text.push_str(&format!("{key:<16} {}\n", plain(&value[field])));
                }
                for c in &agreements.carriers {
                    let cap = c.commission_cap_percent.map_or("none".to_owned(), |p| format!("{p}%"));
                    text.push_str(&format!(
                        "{:<16} {} authorized={} commission cap {cap}\n",
                        "agreement",
                        c.carrier.as_str(),
                        c.authorized
                    ));
                }
                text
            });
        }
        Admin::SetDefaultLanguage { agency, language } => {
            let a = app.set_default_language(&op, agency, &language).await?;
            println!("agency {} writes documents in {} by default", a.name, a.default_language);
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
        Admin::RotateSigningKey => {
            let kid = app.rotate_signing_key(&op).await?;
            println!("signing key added {kid}");
        }
        Admin::RetireSigningKey { kid } => {
            app.retire_signing_key(&op, &kid).await?;
            println!("signing key {kid} retired");
        }
        Admin::CreateUser { username, password, role, agency } => {
            let u = app.create_user_in_role(&op, &username, &password, &role, agency).await?;
            println!("created {} {} {}", u.role.as_str(), u.username, u.id);
        }
        Admin::ListUsers { agency, out } => {
            let users = app.list_users(&op, agency).await?;
            let value = Value::Array(users.iter().map(user_json).collect());
            emit(out, &value, || {
                table(
                    &["ID", "USERNAME", "ROLE", "AGENCY"],
                    users.iter().map(|u| {
                        vec![
                            u.id.to_string(),
                            u.username.clone(),
                            u.role.as_str().to_owned(),
                            u.agency_id.map_or("-".to_owned(), |a| a.to_string()),
                        ]
                    }),
                )
            });
        }
        Admin::CreateApiKey { username } => {
            let user = app.find_user_by_username(&username).await?;
            let (record, key) = app.create_api_key(&op, user.id).await?;
            println!("API key {} for {username} (shown once): {key}", record.id);
        }
        Admin::ListApiKeys { username, agency, out } => {
            let users = match (username, agency) {
                (Some(name), _) => vec![app.find_user_by_username(&name).await?],
                (None, Some(agency)) => {
                    app.get_agency(&op, agency).await?;
                    app.list_users(&op, Some(agency)).await?
                }
                (None, None) => Vec::new(),
            };
            let mut keys: Vec<(User, ApiKeyRecord)> = Vec::new();
            for user in users {
                for key in app.list_api_keys(&op, user.id).await? {
                    keys.push((user.clone(), key));
                }
            }
            let value = Value::Array(keys.iter().map(|(u, k)| api_key_json(u, k)).collect());
            emit(out, &value, || {
                table(
                    &["ID", "PREFIX", "USERNAME", "CREATED", "REVOKED"],
                    keys.iter().map(|(u, k)| {
                        vec![
                            k.id.to_string(),
                            k.prefix.clone(),
                            u.username.clone(),
                            k.created_at.to_rfc3339(),
                            k.revoked_at.map_or("-".to_owned(), |t| t.to_rfc3339()),
                        ]
                    }),
                )
            });
        }
        Admin::ListWebhooks { agency, out } => {
            if let Some(agency) = agency {
                app.get_agency(&op, agency).await?;
            }
            let hooks: Vec<_> =
                app.list_webhooks(&op).await?.into_iter().filter(|w| agency.is_none_or(|a| w.agency_id == a)).collect();
            let value = Value::Array(
                hooks
                    .iter()
                    .map(|w| {
                        json!({
                            "id": w.id.to_string(),
                            "agency_id": w.agency_id.to_string(),
                            "url": w.url,
                            "events": w.events,
                            "description": w.description,
                            "status": w.status.as_str(),
                            "created_at": w.created_at.to_rfc3339(),
                        })
                    })
                    .collect(),
            );
            emit(out, &value, || {
                table(
                    &["ID", "AGENCY", "STATUS", "URL", "EVENTS"],
                    hooks.iter().map(|w| {
                        vec![
                            w.id.to_string(),
                            w.agency_id.to_string(),
                            w.status.as_str().to_owned(),
                            w.url.clone(),
                            w.events.join(","),
                        ]
                    }),
                )
            });
        }
        Admin::RevokeApiKey { id } => {
            app.revoke_api_key(&op, id).await?;
            println!("API key {id} revoked");
        }
        Admin::TopUp { agency, amount } => {
            let e = app.top_up(&op, agency, &amount, Some("top-up from the command line".into())).await?;
            println!("balance now {} {}", e.balance_after.amount_string(), e.balance_after.currency());
        }
        Admin::ListLedger { agency, out } => {
            let entries = app.ledger(&op, agency).await?;
            let value = Value::Array(entries.iter().map(ledger_json).collect());
            emit(out, &value, || {
                table(
                    &["ID", "AT", "KIND", "AMOUNT", "BALANCE AFTER", "NOTE"],
                    entries.iter().map(|e| {
                        vec![
                            e.id.to_string(),
                            e.created_at.to_rfc3339(),
                            e.kind.as_str().to_owned(),
                            e.amount.amount_string(),
                            e.balance_after.amount_string(),
                            e.note.clone().unwrap_or_default(),
                        ]
                    }),
                )
            });
        }
        Admin::ListOutbox { status, limit, out } => {
            let messages: Vec<OutboxMessage> = app
                .outbox(&op, limit)
                .await?
                .into_iter()
                .filter(|m| status.as_deref().is_none_or(|s| s == m.status.as_str()))
                .collect();
            let value = Value::Array(messages.iter().map(message_json).collect());
            emit(out, &value, || {
                table(
                    &["ID", "CREATED", "STATUS", "ATTEMPTS", "RECIPIENT", "SUBJECT", "LAST ERROR"],
                    messages.iter().map(|m| {
                        vec![
                            m.id.to_string(),
                            m.created_at.to_rfc3339(),
                            m.status.as_str().to_owned(),
                            m.attempts.to_string(),
                            m.recipient.clone(),
                            m.subject.clone(),
                            m.last_error.clone().unwrap_or_default(),
                        ]
                    }),
                )
            });
        }
        Admin::RetryMessage { id } => {
            let (retried, message) = app.retry_message(&op, id).await?;
            if !retried {
                let why = match message.status {
                    MessageStatus::Sent => "it was sent already",
                    _ => "it is being sent right now",
                };
                return Err(AppError::Validation(tessera_core::intake::ValidationErrors::single(
                    "/id",
                    format!("message {id} was not retried: {why}"),
                )));
            }
            println!("message {id} is due now (attempts so far {})", message.attempts);
        }
    }
    Ok(())
}

/// A JSON value as a table cell: strings without quotes, null as `-`.
fn plain(value: &Value) -> String {
    match value {
        Value::Null => "-".to_owned(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Left-aligned columns as wide as their widest cell, two spaces apart.
fn table(headers: &[&str], rows: impl Iterator<Item = Vec<String>>) -> String {
    let rows: Vec<Vec<String>> = rows.collect();
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<String>| {
        let padded: Vec<String> = cells.iter().zip(&widths).map(|(c, w)| format!("{c:<w$}")).collect();
        format!("{}\n", padded.join("  ").trim_end())
    };
    let mut text = line(headers.iter().map(|h| (*h).to_owned()).collect());
    for row in rows {
        text.push_str(&line(row));
    }
    text
}

fn agency_json(a: &Agency) -> Value {
    json!({
        "id": a.id.to_string(),
        "name": a.name,
        "currency": a.currency.to_string(),
        "balance": a.balance.amount_string(),
        "credit_limit": a.credit_limit.amount_string(),
        "available": a.available().amount_string(),
        "office_id": a.office_id.as_ref().map(|o| o.as_str().to_owned()),
        "iata_number": a.iata_number.as_ref().map(|n| n.as_str().to_owned()),
        "timezone": a.timezone.to_string(),
        "vat_percent": a.vat_percent.to_string(),
        "refund_approval": a.refund_approval,
        "default_language": a.default_language.code(),
    })
}

fn user_json(u: &User) -> Value {
    json!({
        "id": u.id.to_string(),
        "username": u.username,
        "role": u.role.as_str(),
        "agency_id": u.agency_id.map(|a| a.to_string()),
    })
}

fn api_key_json(u: &User, k: &ApiKeyRecord) -> Value {
    json!({
        "id": k.id.to_string(),
        "prefix": k.prefix,
        "user_id": u.id.to_string(),
        "username": u.username,
        "created_at": k.created_at.to_rfc3339(),
        "revoked_at": k.revoked_at.map(|t| t.to_rfc3339()),
    })
}

fn ledger_json(e: &LedgerEntry) -> Value {
    json!({
        "id": e.id,
        "kind": e.kind.as_str(),
        "amount": e.amount.amount_string(),
        "balance_after": e.balance_after.amount_string(),
        "currency": e.amount.currency().to_string(),
        "issuance_id": e.issuance_id.map(|i| i.to_string()),
        "note": e.note,
        "created_at": e.created_at.to_rfc3339(),
    })
}

fn message_json(m: &OutboxMessage) -> Value {
    json!({
        "id": m.id.to_string(),
        "agency_id": m.agency_id.map(|a| a.to_string()),
        "booking_id": m.booking_id.map(|b| b.to_string()),
        "recipient": m.recipient,
        "subject": m.subject,
        "status": m.status.as_str(),
        "attempts": m.attempts,
        "last_error": m.last_error,
        "next_attempt_at": m.next_attempt_at.to_rfc3339(),
        "created_at": m.created_at.to_rfc3339(),
        "sent_at": m.sent_at.map(|t| t.to_rfc3339()),
    })
}
