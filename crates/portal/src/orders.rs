//! An issued event booking's orders on its page: each ticket (order item) with its holder, seat, status and PDFs,
//! the order's zip bundle, and the item's void and refund. Each action is one `tessera-app` lifecycle command on
//! the item; whether it is allowed (role, agency, state) is decided there.

use axum::extract::{Path, State};
use axum::response::Response;
use maud::{html, Markup};
use tessera_app::lifecycle::Command;
use tessera_app::{AppError, Tessera};
use tessera_core::orders::{BookingOrder, LogisticStatus, OrderItem};
use tessera_core::ticket::TicketStatus;

use crate::form::{Page, Posted};
use crate::layout::{csrf, fail, field_error, money, words, PageError};
use crate::session::{Meta, Session};
use crate::tickets::{changed_to, penalty, send};
use crate::BASE;

/// The last item action that was refused, shown next to that item's forms.
pub struct ItemError {
    pub item: String,
    pub error: AppError,
}

fn status_badge(status: TicketStatus) -> Markup {
    html! { span class=(format!("status {}", status.as_str())) { (status.as_str()) } }
}

fn seat(item: &OrderItem) -> String {
    let Some(seat) = &item.seat else { return String::new() };
    [("Section", &seat.section), ("row", &seat.row), ("seat", &seat.seat)]
        .into_iter()
        .filter_map(|(label, v)| v.as_ref().map(|v| format!("{label} {v}")))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The orders of an issued event booking: per order its zip, per item its PDFs and (for staff) its actions.
pub fn section(s: &Session, orders: &[BookingOrder], staff: bool, refused: Option<&ItemError>) -> Markup {
    html! {
        h2 { "Orders" }
        @for order in orders {
            section.order aria-labelledby=(format!("order-{}", order.id)) {
                h3 id=(format!("order-{}", order.id)) { (order.event.name) " — order " (order.id) }
                p {
                    "Logistic status: " (order.logistic_status.as_str()) ". "
                    @if order.logistic_status == LogisticStatus::Completed {
                        a.zip href=(format!("{BASE}/orders/{}/zip", order.id)) { "Download the order's tickets (zip)" }
                    }
                }
                div.table-wrap { table.items {
                    thead { tr { th scope="col" { "Ticket" } th scope="col" { "Holder" } th scope="col" { "Seat" }
                        th scope="col" { "Status" } th.num scope="col" { "Price" } th scope="col" { "PDFs" }
                        @if staff { th scope="col" { "Actions" } } } }
                    tbody { @for item in &order.items { (item_row(s, order, item, staff, refused)) } }
                } }
            }
        }
    }
}

fn item_row(s: &Session, order: &BookingOrder, item: &OrderItem, staff: bool, refused: Option<&ItemError>) -> Markup {
    let base = format!("{BASE}/orders/{}/items/{}", order.id, item.id);
    let error = refused.filter(|r| r.item == item.id.as_str()).map(|r| &r.error);
    let penalty_error = field_error(error, "penalty");
    let alert = error.filter(|_| penalty_error.is_none()).map(words);
    let penalty_id = format!("penalty-{}", item.id);
    html! {
        tr id=(format!("item-{}", item.id)) {
            td { (item.ticket_name) " (" (item.category) ")" }
            td { (item.guest.as_ref().map(|g| format!("{} {}", g.first_name, g.last_name)).unwrap_or_default()) }
            td { (seat(item)) }
            td.item-status { (status_badge(item.status)) }
            td.num { (money(item.unit_price)) }
            td {
                @if item.downloadable() {
                    ul.plain { @for (n, d) in item.downloads.iter().enumerate() {
                        li { a.item-pdf href=(format!("{base}/pdf/{}", d.link.as_str())) {
                            @if d.label.is_empty() { "PDF" } @else { (d.label) } " (PDF " (n + 1) ")" } }
                    } }
                } @else {
                    "—"
                }
            }
            @if staff {
                td {
                    @if let Some(a) = &alert { p.alert role="alert" .item-error { (a) } }
                    @if item.status == TicketStatus::Open {
                        form.inline method="post" action=(format!("{base}/void")) {
                            (csrf(s))
                            button.secondary.item-void type="submit" { "Void" }
                        }
                        form.inline method="post" action=(format!("{base}/refund")) {
                            (csrf(s))
                            label for=(penalty_id) { "Penalty" }
                            input id=(penalty_id) name="penalty" type="text" inputmode="decimal" size="8"
                                aria-invalid=[penalty_error.as_ref().map(|_| "true")]
                                aria-describedby=[penalty_error.as_ref().map(|_| format!("{penalty_id}-error"))];
                            button.secondary.item-refund type="submit" { "Refund" }
                            @if let Some(e) = &penalty_error { p.error role="alert" id=(format!("{penalty_id}-error")) { (e) } }
                        }
                    }
                }
            }
        }
    }
}

/// Runs a lifecycle command on an order item and answers with its booking's page: redirected with a notice
/// when done, rendered with the refusal in words next to the item when not.
async fn act(
    app: &Tessera,
    s: &Session,
    meta: &Meta,
    (order, item): (String, String),
    command: Result<Command, AppError>,
    done: &str,
) -> Result<Response, PageError> {
    let record = app.get_order(&s.who, &order).await.map_err(fail(s))?;
    let booking = record.order.booking_id;
    let outcome = match command {
        Ok(command) => app.item_command(&s.who, &order, &item, command, meta.actor(&s.who)).await,
        Err(e) => Err(e),
    };
    match outcome {
        Ok(changed) => Ok(changed_to(&format!("{BASE}/bookings/{booking}"), done, &changed)),
        Err(e @ (AppError::NotFound(_) | AppError::Forbidden(_) | AppError::Internal(_))) => Err(fail(s)(e)),
        Err(error) => {
            let refused = ItemError { item, error };
            crate::agent::render_booking(app, s, booking, None, Some(&refused)).await
        }
    }
}

pub async fn void(
    State(app): State<Tessera>,
    meta: Meta,
    Path(path): Path<(String, String)>,
    Posted { session: s, .. }: Posted,
) -> Result<Response, PageError> {
    act(&app, &s, &meta, path, Ok(Command::Void), "Ticket voided.").await
}

pub async fn refund(
    State(app): State<Tessera>,
    meta: Meta,
    Path(path): Path<(String, String)>,
    Posted { session: s, fields }: Posted,
) -> Result<Response, PageError> {
    act(&app, &s, &meta, path, penalty(&fields), "Refund recorded.").await
}

pub async fn pdf(
    State(app): State<Tessera>,
    Page(s): Page,
    meta: Meta,
    Path((order, item, link)): Path<(String, String, String)>,
) -> Result<Response, PageError> {
    let result = app.download_ticket(&s.who, &order, &item, &link).await;
    send(&app, &s, &meta, result).await
}

pub async fn zip(
    State(app): State<Tessera>,
    Page(s): Page,
    meta: Meta,
    Path(order): Path<String>,
) -> Result<Response, PageError> {
    let result = app.order_zip(&s.who, &order).await;
    send(&app, &s, &meta, result).await
}
