//! The GDS profile (seed 003): `POST /api/v1/flight/issueticket` with commission, tour code, corporate and
//! booker codes, answering `{system, status, error, description, trackingId, trackingTime, tickets}` with a full
//! BookingTicket per TKT and EMD. The rules themselves live in the core; this module only translates.

mod error;
mod ticket;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use chrono::{DateTime, SecondsFormat, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use tessera_app::issuing::IssueCommand;
use tessera_app::AppError;
use tessera_core::issuance::{Commission, Expectations, IssueOptions};

pub use error::GdsError;
pub use ticket::BookingTicket;

use crate::auth::authenticate;
use crate::meta::RequestMeta;
use crate::AppState;

pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/flight/issueticket", post(issue_ticket))
}

/// The seed's request table: every field optional on the wire; a missing `bookingCode` finds nothing.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct IssueRequest {
    system: Option<String>,
    booking_code: Option<String>,
    com_amount: Option<serde_json::Number>,
    com_percentage: Option<bool>,
    booker_code: Option<String>,
    tour_code: Option<String>,
    ca_code: Option<String>,
}

/// The seed's response envelope, for success and failure alike.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Envelope {
    pub system: Option<String>,
    pub status: bool,
    pub error: Option<ErrorBody>,
    pub description: Option<String>,
    pub tracking_id: Option<String>,
    pub tracking_time: String,
    pub tickets: Option<Vec<BookingTicket>>,
}

#[derive(Serialize)]
pub struct ErrorBody {
    pub code: &'static str,
    pub message: String,
}

pub(crate) fn tracking_time(now: DateTime<Utc>) -> String {
    now.to_rfc3339_opts(SecondsFormat::Secs, true)
}

async fn issue_ticket(
    State(state): State<AppState>,
    meta: RequestMeta,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let mut system = None;
    let result = issue(&state, &meta, &headers, body, &mut system).await;
    let now = state.app.now();
    match result {
        Ok(tickets) => {
            let envelope = Envelope {
                system,
                status: true,
                error: None,
                description: None,
                tracking_id: meta.request_id.clone(),
                tracking_time: tracking_time(now),
                tickets: Some(tickets),
            };
            (StatusCode::OK, Json(envelope)).into_response()
        }
        Err(e) => GdsError { error: e, system, tracking_id: meta.request_id.clone(), at: now }.into_response(),
    }
}

async fn issue(
    state: &AppState,
    meta: &RequestMeta,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
    system: &mut Option<String>,
) -> Result<Vec<BookingTicket>, AppError> {
    let who = authenticate(&state.app, headers).await.map_err(AppError::from)?;
    let body = crate::body::bytes(body)?;
    let request: IssueRequest = serde_json::from_slice(&body).map_err(|e| {
        AppError::Validation(tessera_core::intake::ValidationErrors::single("", format!("invalid request: {e}")))
    })?;
    *system = request.system.clone();
    let code = request.booking_code.as_deref().map(str::trim).unwrap_or_default();
    if code.is_empty() {
        return Err(AppError::Validation(tessera_core::intake::ValidationErrors::single(
            "/bookingCode",
            "is required",
        )));
    }
    let booking = state.app.find_booking_by_code(&who, code).await?;
    if let Some(flight) = booking.as_flight() {
        *system = Some(flight.system.to_string());
    }
    let commission = match request.com_amount {
        Some(n) => {
            let value: Decimal = n.to_string().parse().map_err(|_| {
                AppError::Validation(tessera_core::intake::ValidationErrors::single("/comAmount", "is not a number"))
            })?;
            Some(if request.com_percentage.unwrap_or(false) {
                Commission::Percent(value)
            } else {
                Commission::Amount(value)
            })
        }
        None => None,
    };
    let command = IssueCommand {
        options: IssueOptions {
            commission,
            tour_code: request.tour_code,
            corporate_code: request.ca_code,
            booker_code: request.booker_code,
        },
        expect: Expectations { system: request.system, ..Default::default() },
        ..Default::default()
    };
    let issued = state.app.issue_booking(booking, command, meta.actor(Some(&who))).await?;
    Ok(ticket::booking_tickets(&issued))
}
