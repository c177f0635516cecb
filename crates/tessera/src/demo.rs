//! `tessera serve --demo`: a ready-to-try installation — agencies with balances and agreements, users, an
//! API key and the example bookings — created once, then printed with copy-paste `curl` lines.

use std::io::Write;
use std::net::SocketAddr;

use anyhow::Context;
use tessera_app::admin::AgencyInput;
use tessera_app::{Principal, Tessera};
use tessera_core::agency::Agency;
use tessera_core::booking::Booking;
use tessera_core::user::{Role, Scope, User};
use tessera_storage::Actor;

use crate::config::Config;

pub const ADMIN: (&str, &str) = ("admin", "tessera-admin");
pub const AGENT: (&str, &str) = ("agent", "tessera-agent");
pub const CUSTOMER: (&str, &str) = ("customer", "tessera-customer");
pub const AGENT_HANOI: (&str, &str) = ("agent.hanoi", "tessera-agent");
pub const AGENT_EVENTS: (&str, &str) = ("agent.events", "tessera-agent");

const ONEWAY: &str = include_str!("../../../examples/bookings/flight-oneway.json");
const ROUND: &str = include_str!("../../../examples/bookings/flight-round.json");
const MULTICITY: &str = include_str!("../../../examples/bookings/flight-multicity.json");
const FAMILY: &str = include_str!("../../../examples/bookings/flight-vn-family.json");
const EVENT: &str = include_str!("../../../examples/bookings/event.json");

fn input(name: &str, currency: &str, balance: &str, office: &str, iata: &str, tz: &str) -> AgencyInput {
    AgencyInput {
        name: name.into(),
        currency: currency.into(),
        balance: Some(balance.into()),
        credit_limit: None,
        office_id: Some(office.into()),
        iata_number: Some(iata.into()),
        timezone: Some(tz.into()),
        vat_percent: None,
        refund_approval: None,
        default_language: None,
    }
}

async fn user(
    app: &Tessera,
    (name, password): (&str, &str),
    role: Role,
    agency: Option<&Agency>,
) -> anyhow::Result<User> {
    Ok(app.create_user(&Principal::operator(), name, password, role, agency.map(|a| a.id)).await?)
}

async fn book(app: &Tessera, who: &User, document: &str) -> anyhow::Result<Booking> {
    let scope = Scope::of(who).context("demo user without scope")?;
    let principal = Principal { user: who.clone(), scope, api_key: None };
    let actor = Actor {
        user_id: Some(who.id),
        username: who.username.clone(),
        client_addr: None,
        tracking_id: Some("demo-seed".into()),
    };
    Ok(app.create_booking(&principal, document.as_bytes(), actor).await?)
}

/// Creates the demo data unless it exists, then prints how to use it.
pub async fn seed(app: &Tessera, config: &Config, addr: SocketAddr) -> anyhow::Result<()> {
    let base = if config.public_url.ends_with(&addr.port().to_string()) {
        config.public_url.clone()
    } else {
        format!("http://{addr}")
    };
    let mut out = std::io::stdout().lock();
    let op = Principal::operator();
    let existing = match app.find_user_by_username(ADMIN.0).await {
        Ok(_) => true,
        Err(tessera_app::AppError::NotFound(_)) => false,
        Err(e) => return Err(e.into()),
    };
    if existing {
        writeln!(out, "\nDemo data is already in {} — reusing it.", config.data_dir.display())?;
        print_usage(&mut out, &base, None)?;
        return Ok(());
    }
    let ktm = app
        .create_agency(&op, &input("Demo Travel Kathmandu", "NPR", "500000", "KTMNP2100", "35123456", "Asia/Kathmandu"))
        .await?;
    app.set_agreement(&op, ktm.id, "QR", true, Some("7")).await?;
    app.set_agreement(&op, ktm.id, "FZ", true, Some("5")).await?;
    app.add_tour_code(&op, ktm.id, "QR", "QRPROMO", Some("2026-01-01"), Some("2027-12-31")).await?;
    app.add_corporate_account(&op, ktm.id, "CORP001").await?;
    let han = app
        .create_agency(&op, &input("Demo Travel Hanoi", "VND", "50000000", "HANVN28DB", "37963973", "Asia/Ho_Chi_Minh"))
        .await?;
    app.set_agreement(&op, han.id, "VN", true, Some("5")).await?;
    app.add_tour_code(&op, han.id, "VN", "PROMO2024", Some("2026-01-01"), Some("2027-12-31")).await?;
    app.add_corporate_account(&op, han.id, "CORP001").await?;
    app.add_booker_code(&op, han.id, "AGENT001").await?;
    let ams = app
        // Dutch VAT on event tickets (9%), printed on the e-invoices.
        .create_agency(
            &op,
            &AgencyInput {
                vat_percent: Some("9".into()),
                ..input("Demo Events Amsterdam", "EUR", "20000", "AMSNL2100", "63212345", "Europe/Amsterdam")
            },
        )
        .await?;

    user(app, ADMIN, Role::Admin, None).await?;
    let agent = user(app, AGENT, Role::Agent, Some(&ktm)).await?;
    let customer = user(app, CUSTOMER, Role::Customer, Some(&ktm)).await?;
    let agent_hanoi = user(app, AGENT_HANOI, Role::Agent, Some(&han)).await?;
    let agent_events = user(app, AGENT_EVENTS, Role::Agent, Some(&ams)).await?;
    let (_, key) = app.create_api_key(&op, agent.id).await?;

    let bookings = [
        book(app, &agent, ONEWAY).await?,
        book(app, &customer, ROUND).await?,
        book(app, &agent, MULTICITY).await?,
        book(app, &agent_hanoi, FAMILY).await?,
        book(app, &agent_events, EVENT).await?,
    ];
    writeln!(out, "\nDemo data created in {}:", config.data_dir.display())?;
    for (agency, owner) in [(&ktm, "agent, customer"), (&han, "agent.hanoi"), (&ams, "agent.events")] {
        writeln!(
            out,
            "  agency {} ({}, balance {} {}) {}  — users: {owner}",
            agency.name,
            agency.currency,
            agency.balance.amount_string(),
            agency.currency,
            agency.id
        )?;
    }
    for b in &bookings {
        writeln!(
            out,
            "  booking {} {:<6} {} {}",
            b.kind(),
            b.code(),
            b.id,
            if b.created_by == Some(customer.id) { "(the customer's)" } else { "" }
        )?;
    }
    print_usage(&mut out, &base, Some((&key, &bookings[0])))?;
    Ok(())
}

fn print_usage(out: &mut impl Write, base: &str, fresh: Option<(&str, &Booking)>) -> anyhow::Result<()> {
    writeln!(
        out,
        "\nUsers (username / password): {}/{}  {}/{}  {}/{}  {}/{}  {}/{}",
        ADMIN.0,
        ADMIN.1,
        AGENT.0,
        AGENT.1,
        CUSTOMER.0,
        CUSTOMER.1,
        AGENT_HANOI.0,
        AGENT_HANOI.1,
        AGENT_EVENTS.0,
        AGENT_EVENTS.1
    )?;
    match fresh {
        Some((key, _)) => writeln!(out, "API key of `agent` (shown once): {key}")?,
        None => writeln!(out, "API keys: `tessera admin create-api-key --username agent` makes a new one.")?,
    }
    let booking = fresh.map_or("<booking id from the list>".to_owned(), |(_, b)| b.id.to_string());
    writeln!(
        out,
        "\nIn a browser: {base}/portal/ (sign in as {} / {}, or {} / {} for the admin pages)",
        AGENT.0, AGENT.1, ADMIN.0, ADMIN.1
    )?;
    writeln!(out, "\nTry it:")?;
    writeln!(out, "  TOKEN=$(curl -s -X POST {base}/api/v1/sign-in -H 'content-type: application/json' -d '{{\"username\":\"agent\",\"password\":\"tessera-agent\"}}' | sed -E 's/.*\"access_token\":\"([^\"]+)\".*/\\1/')")?;
    writeln!(out, "  curl -s {base}/api/v1/bookings -H \"Authorization: Bearer $TOKEN\"")?;
    writeln!(out, "  REF=$(curl -s -X POST {base}/api/v1/bookings/{booking}/issue -H \"Authorization: Bearer $TOKEN\" | sed -E 's/.*\"ticketReferenceID\":\"([^\"]+)\".*/\\1/')")?;
    writeln!(out, "  curl -s -o eticket.pdf {base}/api/v1/issuances/$REF/pdf -H \"Authorization: Bearer $TOKEN\"")?;
    writeln!(out, "  curl -s -X POST {base}/api/v1/issuances/$REF/link -H \"Authorization: Bearer $TOKEN\"")?;
    writeln!(
        out,
        "Events profile (booking orders of the event booking CODE123, as agent.events; README has the whole flow):"
    )?;
    writeln!(out, "  ETOKEN=$(curl -s -X POST {base}/api/v1/sign-in -H 'content-type: application/json' -d '{{\"username\":\"agent.events\",\"password\":\"tessera-agent\"}}' | sed -E 's/.*\"access_token\":\"([^\"]+)\".*/\\1/')")?;
    writeln!(out, "  curl -s '{base}/v1/bookingorders?booking_code=CODE123' -H \"Authorization: Bearer $ETOKEN\"")?;
    writeln!(out, "OpenAPI: {base}/api/v1/openapi.json\n")?;
    Ok(())
}
