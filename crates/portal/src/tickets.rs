//! Tickets: their coupons and statuses, their documents and signed links, and the lifecycle actions (void,
//! refund with penalty and the approval step, coupon use). Each action is one `tessera-app` lifecycle command;
//! whether it is allowed (role, agency, state, void window) is decided there.

use std::collections::HashMap;

use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{html, Markup};
use rust_decimal::Decimal;
use tessera_app::lifecycle::{Changed, Command};
use tessera_app::links::Download;
use tessera_app::{AppError, Tessera};
use tessera_core::codes::TicketNumber;
use tessera_core::intake::ValidationErrors;
use tessera_core::ticket::{CouponStatus, Ticket, TicketStatus, TicketType};
use tessera_core::user::Role;
use tessera_storage::DocumentOwner;

use crate::agent::parse_booking_id;
use crate::form::{Fields, Page, Posted};
use crate::layout::{csrf, fail, field_error, money, page, when, words, Nav, PageError};
use crate::session::{Meta, Session};
use crate::BASE;

pub(crate) fn parse_number(text: &str) -> Result<TicketNumber, AppError> {
    TicketNumber::parse(text).map_err(|_| AppError::NotFound("ticket"))
}

fn status_badge(status: TicketStatus) -> Markup {
    html! { span class=(format!("status {}", status.as_str())) { (status.as_str()) } }
}

/// The tickets of an issuance, each linking to its page.
pub fn table(tickets: &[Ticket], names: &HashMap<String, String>) -> Markup {
    html! {
        div.table-wrap { table #tickets {
            thead { tr { th scope="col" { "Number" } th scope="col" { "Type" } th scope="col" { "Passenger" } th scope="col" { "Status" }
                th scope="col" { "Coupons" } th.num scope="col" { "Total" } } }
            tbody { @for t in tickets { tr {
                td { a href=(format!("{BASE}/tickets/{}", t.number.compact())) { (t.number.dashed()) } }
                td { (t.kind.as_str()) }
                td { (names.get(&t.passenger_id).unwrap_or(&t.passenger_id)) }
                td { (status_badge(t.status)) }
                td { (t.coupons.iter().map(|c| format!("{}:{}", c.number, c.status.as_str())).collect::<Vec<_>>().join(" ")) }
                td.num { (money(t.total)) }
            } } }
        } }
    }
}

/// A ticket's page; `notice` tells what just happened, `error` why the last action was refused.
async fn render(
    app: &Tessera,
    s: &Session,
    number: &TicketNumber,
    notice: Option<String>,
    link: Option<tessera_app::links::SignedLink>,
    error: Option<AppError>,
) -> Result<Response, PageError> {
    let (t, invoices) = app.ticket_with_invoices(&s.who, number).await.map_err(fail(s))?;
    let booking = app.get_booking(&s.who, t.booking_id).await.map_err(fail(s))?;
    let names = crate::agent::passenger_names(&booking);
    let staff = s.who.role() != Role::Customer;
    let base = format!("{BASE}/tickets/{}", t.number.compact());
    let penalty_error = field_error(error.as_ref(), "penalty");
    let alert = error.as_ref().filter(|_| penalty_error.is_none()).map(words);
    let body = html! {
        h1 { "Ticket " (t.number.dashed()) }
        @if let Some(n) = &notice { p.notice role="status" #notice { (n) } }
        @if let Some(a) = &alert { p.alert role="alert" #action-error { (a) } }
        dl.facts {
            dt { "Status" } dd #ticket-status { (status_badge(t.status)) }
            dt { "Type" } dd { (t.kind.as_str()) }
            dt { "Passenger" } dd #passenger { (names.get(&t.passenger_id).unwrap_or(&t.passenger_id)) }
            dt { "Booking" } dd { a href=(format!("{BASE}/bookings/{}", t.booking_id)) { (booking.code()) } }
            dt { "Issued" } dd { (when(t.issued_at)) }
            dt { "Total" } dd { (money(t.total)) }
            dt { "Charged" } dd { (money(t.charged)) }
            @if let Some(p) = t.pending_penalty { dt { "Penalty (refund awaiting approval)" } dd { (money(p)) } }
        }
        div.actions {
            a.button #ticket-pdf href=(format!("{base}/pdf")) { "Download e-ticket (PDF)" }
            form.inline method="post" action=(format!("{base}/link")) {
                (csrf(s))
                button.secondary #make-link type="submit" { "Make a signed link" }
            }
        }
        @if let Some(l) = &link {
            div.link-box {
                label for="signed-link" { "Signed link (valid until " (when(l.expires_at)) ")" }
                input #signed-link type="text" readonly value=(l.url);
                button.secondary type="button" data-copy="signed-link" hidden { "Copy" }
            }
        }
        h2 { "Coupons" }
        div.table-wrap { table #coupons {
            thead { tr { th scope="col" { "Coupon" } th scope="col" { "Flight" } th scope="col" { "Route" } th scope="col" { "Date" } th scope="col" { "Status" }
                @if staff { th scope="col" { "Action" } } } }
            tbody { @for c in &t.coupons { tr {
                td { (c.number) }
                td { (c.carrier.clone().unwrap_or_default()) " " (c.flight_number.clone().unwrap_or_default()) }
                td { (c.origin.clone().unwrap_or_default()) "–" (c.destination.clone().unwrap_or_default()) }
                td { (c.departure_date.map(|d| d.to_string()).unwrap_or_default()) }
                td { (c.status.as_str()) }
                @if staff { td { @if c.status == CouponStatus::Open && t.status == TicketStatus::Open {
                    form.inline method="post" action=(format!("{base}/coupons/{}/use", c.number)) data-once {
                        (csrf(s))
                        button.secondary type="submit" aria-label=(format!("Mark coupon {} used", c.number)) { "Mark used" }
                    }
                } } }
            } } }
        } }
        @if staff && t.status == TicketStatus::Open {
            h2 { "Void, refund or exchange" }
            div.actions {
                form method="post" action=(format!("{base}/void")) data-once {
                    (csrf(s))
                    button.danger #void type="submit" { "Void ticket" }
                }
                @if t.kind == TicketType::TKT && t.coupons.iter().any(|c| c.status == CouponStatus::Open) {
                    a.button.secondary #exchange href=(format!("{base}/exchange")) { "Exchange…" }
                }
                form method="post" action=(format!("{base}/refund")) data-once novalidate {
                    (csrf(s))
                    div.field {
                        label for="penalty" { "Refund penalty (" (t.total.currency().code()) ")" }
                        input #penalty name="penalty" type="text" inputmode="decimal" placeholder="0"
                            aria-invalid=[penalty_error.as_ref().map(|_| "true")] aria-describedby=[penalty_error.as_ref().map(|_| "penalty-error")];
                        @if let Some(e) = &penalty_error { p.error #penalty-error role="alert" { (e) } }
                    }
                    button.danger #refund type="submit" { "Refund ticket" }
                }
            }
        }
        @if s.who.is_admin() && t.status == TicketStatus::RefundPending {
            h2 { "Refund awaiting approval" }
            div.actions {
                form method="post" action=(format!("{base}/refund/approve")) data-once { (csrf(s)) button #approve type="submit" { "Approve refund" } }
                form method="post" action=(format!("{base}/refund/reject")) data-once { (csrf(s)) button.secondary #reject type="submit" { "Reject refund" } }
            }
        }
        @if !invoices.is_empty() {
            h2 { "Invoices" }
            ul { @for inv in &invoices {
                li { a href=(format!("{BASE}/bookings/{}/invoices/{}/pdf", t.booking_id, inv.number)) { (inv.draft.kind.as_str()) " " (inv.number) " (PDF)" }
                     " — " (money(inv.draft.gross)) }
            } }
        }
    };
    let status = if error.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    Ok((status, page(&format!("Ticket {}", t.number.dashed()), Some(s), Nav::Bookings, body)).into_response())
}

pub async fn ticket(
    State(app): State<Tessera>,
    Page(s): Page,
    Path(number): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Response, PageError> {
    let number = parse_number(&number).map_err(fail(&s))?;
    let notice = crate::form::notice(raw);
    render(&app, &s, &number, notice, None, None).await
}

fn file(download: Download) -> Response {
    let header_value =
        |text: &str, fallback: &'static str| HeaderValue::from_str(text).unwrap_or(HeaderValue::from_static(fallback));
    let headers = [
        (header::CONTENT_TYPE, header_value(&download.record.content_type, "application/octet-stream")),
        (
            header::CONTENT_DISPOSITION,
            header_value(&format!("attachment; filename=\"{}\"", download.record.filename), "attachment"),
        ),
        (header::ETAG, header_value(&format!("\"{}\"", download.record.sha256), "\"\"")),
        (header::CACHE_CONTROL, HeaderValue::from_static("private, no-store")),
    ];
    (headers, download.bytes).into_response()
}

pub(crate) async fn send(
    app: &Tessera,
    s: &Session,
    meta: &Meta,
    result: Result<Download, AppError>,
) -> Result<Response, PageError> {
    let download = result.map_err(fail(s))?;
    app.audit_download(meta.actor(&s.who), &download.record, "portal").await;
    Ok(file(download))
}

pub async fn ticket_pdf(
    State(app): State<Tessera>,
    Page(s): Page,
    meta: Meta,
    Path(number): Path<String>,
) -> Result<Response, PageError> {
    let number = parse_number(&number).map_err(fail(&s))?;
    let result = app.document(&s.who, &DocumentOwner::Ticket(number)).await;
    send(&app, &s, &meta, result).await
}

pub async fn issuance_pdf(
    State(app): State<Tessera>,
    Page(s): Page,
    meta: Meta,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let id = id.parse().map_err(|_| AppError::NotFound("issuance")).map_err(fail(&s))?;
    let result = app.document(&s.who, &DocumentOwner::Issuance(id)).await;
    send(&app, &s, &meta, result).await
}

pub async fn invoice_pdf(
    State(app): State<Tessera>,
    Page(s): Page,
    meta: Meta,
    Path((id, number)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let id = parse_booking_id(&id).map_err(fail(&s))?;
    let result = app.booking_invoice_pdf(&s.who, id, &number).await;
    send(&app, &s, &meta, result).await
}

pub async fn link(
    State(app): State<Tessera>,
    Path(number): Path<String>,
    Posted { session: s, .. }: Posted,
) -> Result<Response, PageError> {
    let number = parse_number(&number).map_err(fail(&s))?;
    let link = app.document_link(&s.who, DocumentOwner::Ticket(number.clone())).await.map_err(fail(&s))?;
    render(&app, &s, &number, None, Some(link), None).await
}

/// The redirect to `page` after a lifecycle change: `done` as its notice, with the agency's new balance when money
/// moved.
pub(crate) fn changed_to(page: &str, done: &str, changed: &Changed) -> Response {
    let mut text = done.to_owned();
    if let Some(entry) = &changed.ledger {
        text.push_str(&format!(" Balance {} ({}).", money(entry.balance_after), money(entry.amount)));
    }
    let query = form_urlencoded::Serializer::new(String::new()).append_pair("done", &text).finish();
    Redirect::to(&format!("{page}?{query}")).into_response()
}

/// Runs a lifecycle command and answers with the ticket's page: redirected with a notice when done, rendered
/// with the refusal in words next to the form when not.
async fn act(
    app: &Tessera,
    s: &Session,
    meta: &Meta,
    number: &str,
    command: Result<Command, AppError>,
    done: &str,
) -> Result<Response, PageError> {
    let number = parse_number(number).map_err(fail(s))?;
    let outcome = match command {
        Ok(command) => app.ticket_command(&s.who, &number, command, meta.actor(&s.who)).await,
        Err(e) => Err(e),
    };
    match outcome {
        Ok(changed) => Ok(changed_to(&format!("{BASE}/tickets/{}", number.compact()), done, &changed)),
        Err(e @ (AppError::NotFound(_) | AppError::Forbidden(_) | AppError::Internal(_))) => Err(fail(s)(e)),
        Err(e) => render(app, s, &number, None, None, Some(e)).await,
    }
}

pub async fn void(
    State(app): State<Tessera>,
    meta: Meta,
    Path(number): Path<String>,
    Posted { session: s, .. }: Posted,
) -> Result<Response, PageError> {
    act(&app, &s, &meta, &number, Ok(Command::Void), "Voided.").await
}

pub(crate) fn penalty(fields: &Fields) -> Result<Command, AppError> {
    let penalty = match fields.get("penalty") {
        None => None,
        Some(text) => Some(text.parse::<Decimal>().map_err(|_| {
            AppError::Validation(ValidationErrors::single(
                "/penalty",
                "is not an amount (digits, and a dot before the decimals)",
            ))
        })?),
    };
    Ok(Command::Refund { penalty, override_nonrefundable: false })
}

pub async fn refund(
    State(app): State<Tessera>,
    meta: Meta,
    Path(number): Path<String>,
    Posted { session: s, fields }: Posted,
) -> Result<Response, PageError> {
    act(&app, &s, &meta, &number, penalty(&fields), "Refund recorded.").await
}

pub async fn approve_refund(
    State(app): State<Tessera>,
    meta: Meta,
    Path(number): Path<String>,
    Posted { session: s, .. }: Posted,
) -> Result<Response, PageError> {
    act(&app, &s, &meta, &number, Ok(Command::ApproveRefund), "Refund approved.").await
}

pub async fn reject_refund(
    State(app): State<Tessera>,
    meta: Meta,
    Path(number): Path<String>,
    Posted { session: s, .. }: Posted,
) -> Result<Response, PageError> {
    act(&app, &s, &meta, &number, Ok(Command::RejectRefund), "Refund rejected.").await
}

pub async fn use_coupon(
    State(app): State<Tessera>,
    meta: Meta,
    Path((number, coupon)): Path<(String, String)>,
    Posted { session: s, .. }: Posted,
) -> Result<Response, PageError> {
    let command = coupon.parse::<u32>().map(Command::Use).map_err(|_| AppError::NotFound("coupon"));
    act(&app, &s, &meta, &number, command, "Coupon marked used.").await
}
