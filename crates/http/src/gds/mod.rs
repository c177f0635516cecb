//! The GDS API (an aggregator's): `POST /api/v1/flight/issueticket` with commission, tour code, corporate and
//! booker codes, answering `{system, status, error, description, trackingId, trackingTime, tickets}` with a full
//! BookingTicket per TKT and EMD. The rules themselves live in the core; this module only translates.

mod error;
mod ticket;

use axum::extract::{FromRequest, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::routing::post;
use axum::{Json, Router};
use chrono::{DateTime, SecondsFormat, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use tessera_app::issuing::IssueCommand;
use tessera_app::{AppError, Principal};
use tessera_core::intake::ValidationErrors;
use tessera_core::issuance::{Commission, Expectations, IssueOptions};

pub use error::GdsError;
pub use ticket::BookingTicket;

use crate::extract;
use crate::meta::RequestMeta;
use crate::numbers::JsonNumber;
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
    com_amount: Option<JsonNumber>,
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

/// What every answer echoes about its request: the request id (`trackingId`) and when it was handled.
#[derive(Debug, Clone)]
pub struct Tracking {
    pub id: Option<String>,
    pub at: DateTime<Utc>,
}

impl Tracking {
    fn of(parts: &Parts, state: &AppState) -> Self {
        let id = parts.headers.get(crate::REQUEST_ID_HEADER).and_then(|v| v.to_str().ok()).map(str::to_owned);
        Self { id, at: state.app.now() }
    }

    fn time(&self) -> String {
        self.at.to_rfc3339_opts(SecondsFormat::Secs, true)
    }
}

impl FromRequestParts<AppState> for Tracking {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        Ok(Self::of(parts, state))
    }
}

/// The authenticated caller; a missing or bad credential answers `AUTH_REQUIRED` / `AUTH_INVALID`.
pub struct Caller(pub Principal);

impl FromRequestParts<AppState> for Caller {
    type Rejection = GdsError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, GdsError> {
        extract::caller(parts, state).await.map(Self)
    }
}

/// A JSON body; anything else is `INVALID_REQUEST` with serde's description of the problem.
pub struct GdsJson<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for GdsJson<T> {
    type Rejection = GdsError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, GdsError> {
        extract::json(req, state).await.map(Self)
    }
}

fn commission(request: &IssueRequest) -> Result<Option<Commission>, AppError> {
    let Some(n) = &request.com_amount else { return Ok(None) };
    let value = n
        .to_decimal()
        .ok_or_else(|| AppError::Validation(ValidationErrors::single("/comAmount", "is not a number")))?;
    Ok(Some(if request.com_percentage.unwrap_or(false) {
        Commission::Percent(value)
    } else {
        Commission::Amount(value)
    }))
}

async fn issue_ticket(
    State(state): State<AppState>,
    meta: RequestMeta,
    tracking: Tracking,
    Caller(who): Caller,
    GdsJson(request): GdsJson<IssueRequest>,
) -> Result<Json<Envelope>, GdsError> {
    let refuse = |system: &Option<String>| {
        let (system, tracking) = (system.clone(), tracking.clone());
        move |error| GdsError { error, system, tracking }
    };
    let code = request.booking_code.as_deref().map(str::trim).unwrap_or_default();
    if code.is_empty() {
        let missing = AppError::Validation(ValidationErrors::single("/bookingCode", "is required"));
        return Err(refuse(&request.system)(missing));
    }
    let booking = state.app.find_booking_by_code(&who, code).await.map_err(refuse(&request.system))?;
    // From here on, answers name the booking's own ticketing system.
    let system = booking.as_flight().map(|f| f.system.to_string()).or_else(|| request.system.clone());
    let commission = commission(&request).map_err(refuse(&system))?;
    let command = IssueCommand {
        options: IssueOptions {
            commission,
            tour_code: request.tour_code,
            corporate_code: request.ca_code,
            booker_code: request.booker_code,
        },
        expect: Expectations { system: request.system, ..Default::default() },
        profile: tessera_app::telemetry::Profile::Gds,
        ..Default::default()
    };
    let issued = state.app.issue_booking(booking, command, meta.actor(Some(&who))).await.map_err(refuse(&system))?;
    let tickets = ticket::booking_tickets(&issued).map_err(refuse(&system))?;
    Ok(Json(Envelope {
        system,
        status: true,
        error: None,
        description: None,
        tracking_id: tracking.id.clone(),
        tracking_time: tracking.time(),
        tickets: Some(tickets),
    }))
}

/// Fuzz target (bolero): this profile's request bodies, as the extractors read them.
#[cfg(test)]
mod fuzz {
    #[test]
    fn request_bodies() {
        bolero::check!().for_each(|bytes: &[u8]| {
            crate::extract::fuzz_body::<super::IssueRequest>(bytes);
        });
    }
}
