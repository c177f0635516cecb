//! Admin pages: agencies with their balances and top-ups, the outbox, the audit log with filters. The services
//! refuse anyone but an admin; these pages only show their answers.

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use tessera_app::audit::AuditQuery;
use tessera_app::{AppError, Tessera};
use tessera_core::ids::AgencyId;

use crate::form::{Fields, Page, Posted};
use crate::layout::{csrf, fail, field_error, money, page, when, Nav, PageError};
use crate::session::Session;
use crate::BASE;

async fn agencies_page(
    app: &Tessera,
    s: &Session,
    notice: Option<String>,
    failed: Option<(AgencyId, AppError)>,
) -> Result<Response, PageError> {
    let agencies = app.list_agencies(&s.who).await.map_err(fail(s))?;
    let body = html! {
        h1 { "Agencies" }
        @if let Some(n) = &notice { p.notice role="status" #notice { (n) } }
        p.actions {
            a.button #new-agency href=(format!("{BASE}/agencies/new")) { "New agency" }
            " "
            a.button.secondary #new-user href=(format!("{BASE}/users/new")) { "New user" }
        }
        div.table-wrap { table #agencies {
            thead { tr { th scope="col" { "Agency" } th scope="col" { "Currency" } th.num scope="col" { "Balance" } th.num scope="col" { "Credit limit" }
                th scope="col" { "VAT" } th scope="col" { "Refund approval" } th scope="col" { "Top up" } } }
            tbody { @for a in &agencies {
                @let error = failed.as_ref().filter(|(id, _)| *id == a.id).and_then(|(_, e)| field_error(Some(e), "amount").or_else(|| Some(crate::layout::words(e))));
                @let field = format!("amount-{}", a.id);
                tr {
                    td { a href=(format!("{BASE}/agencies/{}", a.id)) { (a.name) } " · " a href=(format!("{BASE}/ledger?agency={}", a.id)) { "ledger" } }
                    td { (a.currency.code()) }
                    td.num { (money(a.balance)) }
                    td.num { (money(a.credit_limit)) }
                    td { (a.vat_percent) " %" }
                    td { @if a.refund_approval { "required" } @else { "no" } }
                    td {
                        form method="post" action=(format!("{BASE}/agencies/{}/top-up", a.id)) data-once novalidate {
                            (csrf(s))
                            label for=(field) { "Amount (" (a.currency.code()) ")" }
                            input id=(field) name="amount" type="text" inputmode="decimal" aria-invalid=[error.as_ref().map(|_| "true")];
                            @if let Some(e) = &error { p.error role="alert" { (e) } }
                            button type="submit" { "Top up" }
                        }
                    }
                }
            } }
        } }
    };
    let status = if failed.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    Ok((status, page("Agencies", Some(s), Nav::Agencies, body)).into_response())
}

pub async fn agencies(
    State(app): State<Tessera>,
    Page(s): Page,
    RawQuery(raw): RawQuery,
) -> Result<Response, PageError> {
    let notice = crate::form::notice(raw);
    agencies_page(&app, &s, notice, None).await
}

pub async fn top_up(
    State(app): State<Tessera>,
    Path(id): Path<String>,
    Posted { session: s, fields }: Posted,
) -> Result<Response, PageError> {
    let id: AgencyId = id.parse().map_err(|_| AppError::NotFound("agency")).map_err(fail(&s))?;
    let amount = fields.get("amount").unwrap_or_default().to_owned();
    match app.top_up(&s.who, id, &amount, Some("portal top-up".to_owned())).await {
        Ok(entry) => {
            let text = format!("Topped up {}; balance {}.", money(entry.amount), money(entry.balance_after));
            let query = form_urlencoded::Serializer::new(String::new()).append_pair("done", &text).finish();
            Ok(Redirect::to(&format!("{BASE}/agencies?{query}")).into_response())
        }
        Err(e @ AppError::Validation(_)) => agencies_page(&app, &s, None, Some((id, e))).await,
        Err(e) => Err(fail(&s)(e)),
    }
}

pub async fn outbox(State(app): State<Tessera>, Page(s): Page) -> Result<Response, PageError> {
    let messages = app.outbox(&s.who, 100).await.map_err(fail(&s))?;
    let body = html! {
        h1 { "Outbox" }
        @if messages.is_empty() { p { "No messages." } } @else {
            div.table-wrap { table #outbox {
                thead { tr { th scope="col" { "To" } th scope="col" { "Subject" } th scope="col" { "Status" } th.num scope="col" { "Attempts" } th scope="col" { "Last error" } th scope="col" { "Next attempt" } } }
                tbody { @for m in &messages { tr {
                    td { (m.recipient) } td { (m.subject) } td { (format!("{:?}", m.status).to_lowercase()) }
                    td.num { (m.attempts) } td { (m.last_error.clone().unwrap_or_default()) } td { (when(m.next_attempt_at)) }
                } } }
            } }
        }
    };
    Ok(page("Outbox", Some(&s), Nav::Outbox, body).into_response())
}

pub async fn audit(State(app): State<Tessera>, Page(s): Page, RawQuery(raw): RawQuery) -> Result<Response, PageError> {
    let q = Fields::parse(raw.unwrap_or_default().as_bytes());
    let text = |name: &str| q.get(name).map(str::to_owned);
    let query = AuditQuery {
        booking: text("booking"),
        ticket: text("ticket"),
        tracking_id: text("tracking_id"),
        action: text("action"),
        limit: Some(200),
    };
    let (entries, error) = match app.audit(&s.who, query).await {
        Ok(entries) => (entries, None),
        Err(e @ AppError::Validation(_)) => (Vec::new(), Some(e)),
        Err(e) => return Err(fail(&s)(e)),
    };
    let filter = |name: &'static str, label: &'static str| {
        let message = field_error(error.as_ref(), name);
        html! {
            div.field {
                label for=(name) { (label) }
                input id=(name) name=(name) type="text" value=(q.get(name).unwrap_or_default()) aria-invalid=[message.as_ref().map(|_| "true")];
                @if let Some(m) = &message { p.error role="alert" { (m) } }
            }
        }
    };
    let body = html! {
        h1 { "Audit log" }
        form.search method="get" action=(format!("{BASE}/audit")) role="search" aria-label="Filter the audit log" {
            (filter("action", "Action (e.g. issuance.create)"))
            (filter("booking", "Booking id"))
            (filter("ticket", "Ticket number"))
            (filter("tracking_id", "Request id"))
            div { button type="submit" { "Filter" } }
        }
        div.table-wrap { table #audit {
            thead { tr { th scope="col" { "When" } th scope="col" { "Who" } th scope="col" { "Action" } th scope="col" { "Outcome" } th scope="col" { "Booking" } th scope="col" { "Ticket" } } }
            tbody { @for e in entries.iter().rev() { tr {
                td { (when(e.created_at)) } td { (e.username) } td { (e.action) } td { (e.outcome) }
                td { @if let Some(b) = e.booking_id { a href=(format!("{BASE}/bookings/{b}")) { "booking" } } }
                td { (e.ticket_number.clone().unwrap_or_default()) }
            } } }
        } }
    };
    let status = if error.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    Ok((status, page("Audit log", Some(&s), Nav::Audit, body)).into_response())
}
