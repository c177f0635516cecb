//! Lifecycle actions of the native profile: void, refund (and its approval), exchange and coupon use on flight
//! tickets and EMDs, the same actions on event tickets (order items), and gate check-in by QR payload.

use axum::extract::State;
use axum::Json;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use tessera_app::lifecycle::{item_status_word, Changed, Command};
use tessera_app::AppError;
use tessera_core::codes::TicketNumber;
use utoipa::ToSchema;

use super::error::Problem;
use super::extract::{Auth, Body, NativePath, ValidJson};
use super::wire::{InvoiceBody, LedgerBody, TicketBody};
use super::ApiError;
use crate::meta::RequestMeta;
use crate::AppState;

fn parse_number(text: &str) -> Result<TicketNumber, AppError> {
    TicketNumber::parse(text).map_err(|_| AppError::NotFound("ticket"))
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct RefundRequest {
    /// Kept by the agency, in major units; at most the refundable value. Default 0.
    #[schema(value_type = Option<String>)]
    pub penalty: Option<Decimal>,
    /// Admins only: refund a ticket whose fare is non-refundable.
    #[serde(default)]
    pub override_non_refundable: bool,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckinRequest {
    /// The QR code's content: a signed gate payload `TG1.<kid>.<subject>.…` (see docs/wallet.md).
    pub payload: String,
}

/// What every action answers: the subject as it is now and what the action created.
#[derive(Serialize, ToSchema)]
pub struct ActionBody {
    /// The command, e.g. `void`, `refund`, `use`.
    action: &'static str,
    /// The credit (or exchange) invoice the action created, if any.
    invoice: Option<InvoiceBody>,
    /// The money it moved, if any.
    ledger_entry: Option<LedgerBody>,
    /// A flight ticket or EMD as it is now.
    #[serde(skip_serializing_if = "Option::is_none")]
    ticket: Option<TicketBody>,
    /// An exchange's new ticket.
    #[serde(skip_serializing_if = "Option::is_none")]
    new_ticket: Option<TicketBody>,
    #[serde(skip_serializing_if = "Option::is_none")]
    exchange: Option<ExchangeBody>,
    /// An event ticket as it is now.
    #[serde(skip_serializing_if = "Option::is_none")]
    order_item: Option<OrderItemBody>,
    /// Check-in only: `accepted`.
    #[serde(skip_serializing_if = "Option::is_none")]
    result: Option<&'static str>,
}

/// How an exchange settled: amounts as decimal strings, `add_collect` negative for a residual credited.
#[derive(Serialize, ToSchema)]
pub struct ExchangeBody {
    residual_value: String,
    new_total: String,
    change_fee: String,
    add_collect: String,
    currency: String,
}

/// An event ticket (an order item) and its coupons, one per PDF.
#[derive(Serialize, ToSchema)]
pub struct OrderItemBody {
    bookingorder_id: String,
    orderitem_id: String,
    status: &'static str,
    ticket_status: &'static str,
    coupons: Vec<CouponBody>,
}

#[derive(Serialize, ToSchema)]
pub struct CouponBody {
    /// From 1.
    number: usize,
    downloaditem_id: String,
    label: String,
    status: &'static str,
    used_at: Option<DateTime<Utc>>,
}

pub(crate) fn answer(changed: &Changed) -> ActionBody {
    ActionBody {
        action: changed.action,
        invoice: changed.invoice.as_ref().map(InvoiceBody::from),
        ledger_entry: changed.ledger.as_ref().map(LedgerBody::from),
        ticket: changed.ticket.as_ref().map(TicketBody::from),
        new_ticket: changed.reissued.as_ref().map(TicketBody::from),
        exchange: changed.exchange.as_ref().map(|settled| ExchangeBody {
            residual_value: settled.residual.amount_string(),
            new_total: settled.new_total.amount_string(),
            change_fee: settled.change_fee.amount_string(),
            add_collect: settled.difference.amount_string(),
            currency: settled.difference.currency().code().to_owned(),
        }),
        order_item: match (&changed.order, &changed.item) {
            (Some(order), Some(item)) => order.item(item.as_str()).map(|i| item_body(order.id.as_str(), i)),
            _ => None,
        },
        result: None,
    }
}

fn item_body(order: &str, item: &tessera_core::orders::OrderItem) -> OrderItemBody {
    OrderItemBody {
        bookingorder_id: order.to_owned(),
        orderitem_id: item.id.to_string(),
        status: item_status_word(item.status),
        ticket_status: item.status.as_str(),
        coupons: item
            .downloads
            .iter()
            .enumerate()
            .map(|(i, d)| CouponBody {
                number: i + 1,
                downloaditem_id: d.id.to_string(),
                label: d.label.clone(),
                status: d.status.as_str(),
                used_at: d.activated,
            })
            .collect(),
    }
}

async fn on_ticket(
    state: &AppState,
    who: &tessera_app::Principal,
    meta: RequestMeta,
    number: &str,
    command: Command,
) -> Result<Json<ActionBody>, ApiError> {
    let number = parse_number(number)?;
    let changed = state.app.ticket_command(who, &number, command, meta.actor(Some(who))).await?;
    Ok(Json(answer(&changed)))
}

async fn on_item(
    state: &AppState,
    who: &tessera_app::Principal,
    meta: RequestMeta,
    (order, item): (String, String),
    command: Command,
) -> Result<Json<ActionBody>, ApiError> {
    let changed = state.app.item_command(who, &order, &item, command, meta.actor(Some(who))).await?;
    Ok(Json(answer(&changed)))
}

fn refund_command(body: &[u8]) -> Result<Command, ApiError> {
    let request: RefundRequest = super::extract::parse_json(body)?;
    Ok(Command::Refund { penalty: request.penalty, override_nonrefundable: request.override_non_refundable })
}

#[utoipa::path(post, path = "/api/v1/tickets/{number}/void", tag = "lifecycle", params(("number" = String, Path)),
    responses((status = 200, description = "the ticket VOID, coupons V, the charged amount credited, a credit invoice", body = ActionBody),
        (status = 404, body = Problem, content_type = "application/problem+json"), (status = 409, description = "used coupon, void window closed, or a status that cannot be voided", body = Problem, content_type = "application/problem+json")))]
pub async fn void(
    State(state): State<AppState>,
    Auth(who): Auth,
    meta: RequestMeta,
    NativePath(number): NativePath<String>,
) -> Result<Json<ActionBody>, ApiError> {
    on_ticket(&state, &who, meta, &number, Command::Void).await
}

#[utoipa::path(post, path = "/api/v1/tickets/{number}/refund", tag = "lifecycle", params(("number" = String, Path)),
    request_body = RefundRequest,
    responses((status = 200, description = "RFND (or TORFND when the agency approves refunds), unused coupons R, the refund credited", body = ActionBody),
        (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 409, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn refund(
    State(state): State<AppState>,
    Auth(who): Auth,
    meta: RequestMeta,
    NativePath(number): NativePath<String>,
    Body(body): Body,
) -> Result<Json<ActionBody>, ApiError> {
    let command = refund_command(&body)?;
    on_ticket(&state, &who, meta, &number, command).await
}

#[utoipa::path(post, path = "/api/v1/tickets/{number}/refund/approve", tag = "lifecycle", params(("number" = String, Path)),
    responses((status = 200, body = ActionBody), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 409, body = Problem, content_type = "application/problem+json")))]
pub async fn approve(
    State(state): State<AppState>,
    Auth(who): Auth,
    meta: RequestMeta,
    NativePath(number): NativePath<String>,
) -> Result<Json<ActionBody>, ApiError> {
    on_ticket(&state, &who, meta, &number, Command::ApproveRefund).await
}

#[utoipa::path(post, path = "/api/v1/tickets/{number}/refund/reject", tag = "lifecycle", params(("number" = String, Path)),
    responses((status = 200, body = ActionBody), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 409, body = Problem, content_type = "application/problem+json")))]
pub async fn reject(
    State(state): State<AppState>,
    Auth(who): Auth,
    meta: RequestMeta,
    NativePath(number): NativePath<String>,
) -> Result<Json<ActionBody>, ApiError> {
    on_ticket(&state, &who, meta, &number, Command::RejectRefund).await
}

#[utoipa::path(post, path = "/api/v1/tickets/{number}/exchange", tag = "lifecycle", params(("number" = String, Path)),
    request_body(content = Object, description = "`journeys` and `fares` in the intake's shapes, `change_fee`"),
    responses((status = 200, description = "the old ticket EXCH, the new one issued (relatedType ORGN), add-collect debited or residual credited", body = ActionBody),
        (status = 402, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 409, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn exchange(
    State(state): State<AppState>,
    Auth(who): Auth,
    meta: RequestMeta,
    NativePath(number): NativePath<String>,
    Body(body): Body,
) -> Result<Json<ActionBody>, ApiError> {
    on_ticket(&state, &who, meta, &number, Command::Exchange(body.to_vec())).await
}

#[utoipa::path(post, path = "/api/v1/tickets/{number}/coupons/{coupon}/use", tag = "lifecycle",
    params(("number" = String, Path), ("coupon" = u32, Path, description = "from 1")),
    responses((status = 200, description = "coupon F; the ticket USED once every coupon is", body = ActionBody), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 409, body = Problem, content_type = "application/problem+json")))]
pub async fn use_coupon(
    State(state): State<AppState>,
    Auth(who): Auth,
    meta: RequestMeta,
    NativePath((number, coupon)): NativePath<(String, String)>,
) -> Result<Json<ActionBody>, ApiError> {
    // Only the canonical spelling names a coupon (`1`, not `01`).
    let n: u32 = coupon.parse().ok().filter(|n: &u32| n.to_string() == coupon).ok_or(AppError::NotFound("coupon"))?;
    on_ticket(&state, &who, meta, &number, Command::Use(n)).await
}

#[utoipa::path(post, path = "/api/v1/booking-orders/{order}/items/{item}/void", tag = "lifecycle",
    params(("order" = String, Path), ("item" = String, Path)),
    responses((status = 200, description = "the event ticket void, credited, a credit invoice, gone from the zip", body = ActionBody), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 409, body = Problem, content_type = "application/problem+json")))]
pub async fn void_item(
    State(state): State<AppState>,
    Auth(who): Auth,
    meta: RequestMeta,
    NativePath(path): NativePath<(String, String)>,
) -> Result<Json<ActionBody>, ApiError> {
    on_item(&state, &who, meta, path, Command::Void).await
}

#[utoipa::path(post, path = "/api/v1/booking-orders/{order}/items/{item}/refund", tag = "lifecycle",
    params(("order" = String, Path), ("item" = String, Path)), request_body = RefundRequest,
    responses((status = 200, body = ActionBody), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 409, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn refund_item(
    State(state): State<AppState>,
    Auth(who): Auth,
    meta: RequestMeta,
    NativePath(path): NativePath<(String, String)>,
    Body(body): Body,
) -> Result<Json<ActionBody>, ApiError> {
    let command = refund_command(&body)?;
    on_item(&state, &who, meta, path, command).await
}

#[utoipa::path(post, path = "/api/v1/booking-orders/{order}/items/{item}/refund/approve", tag = "lifecycle",
    params(("order" = String, Path), ("item" = String, Path)),
    responses((status = 200, body = ActionBody), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 409, body = Problem, content_type = "application/problem+json")))]
pub async fn approve_item(
    State(state): State<AppState>,
    Auth(who): Auth,
    meta: RequestMeta,
    NativePath(path): NativePath<(String, String)>,
) -> Result<Json<ActionBody>, ApiError> {
    on_item(&state, &who, meta, path, Command::ApproveRefund).await
}

#[utoipa::path(post, path = "/api/v1/booking-orders/{order}/items/{item}/refund/reject", tag = "lifecycle",
    params(("order" = String, Path), ("item" = String, Path)),
    responses((status = 200, body = ActionBody), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 409, body = Problem, content_type = "application/problem+json")))]
pub async fn reject_item(
    State(state): State<AppState>,
    Auth(who): Auth,
    meta: RequestMeta,
    NativePath(path): NativePath<(String, String)>,
) -> Result<Json<ActionBody>, ApiError> {
    on_item(&state, &who, meta, path, Command::RejectRefund).await
}

#[utoipa::path(post, path = "/api/v1/checkin", tag = "lifecycle", request_body = CheckinRequest,
    description = "A gate scan of a signed QR payload: an event ticket PDF's code, or a flight coupon's (its e-ticket's gate code or boarding pass).",
    responses((status = 200, description = "first scan: accepted", body = ActionBody),
        (status = 404, description = "not a ticket of ours (or another agency's)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "already used (`used_at` is the first scan's time), or a coupon that no longer admits (void, refunded, exchanged)", body = Problem, content_type = "application/problem+json")))]
pub async fn checkin(
    State(state): State<AppState>,
    Auth(who): Auth,
    meta: RequestMeta,
    ValidJson(body): ValidJson<CheckinRequest>,
) -> Result<Json<ActionBody>, ApiError> {
    let changed = state.app.checkin(&who, &body.payload, meta.actor(Some(&who))).await?;
    Ok(Json(ActionBody { result: Some("accepted"), ..answer(&changed) }))
}
