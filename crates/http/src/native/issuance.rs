//! `POST /api/v1/bookings/{id}/issue` (idempotent with `Idempotency-Key`, see `idempotency`) and `GET /api/v1/issuances/{id}`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use rust_decimal::Decimal;
use serde::Deserialize;
use tessera_app::issuing::IssueCommand;
use tessera_app::AppError;
use tessera_core::ids::IssuanceId;
use tessera_core::intake::AmountInput;
use tessera_core::issuance::{Commission, IssueOptions};
use utoipa::ToSchema;

use super::bookings::parse_booking_id;
use super::error::Problem;
use super::extract::{parse_json, Auth, Body, NativePath};
use super::wire::IssuanceBody;
use super::ApiError;
use crate::meta::RequestMeta;
use crate::AppState;

/// Optional extras of an issuance.
#[derive(Deserialize, Default, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IssueRequest {
    /// `{"percent": 5}` of the base fares, or `{"amount": "100.00"}` in the booking currency; capped by the
    /// agency's agreement with the validating carrier.
    pub commission: Option<CommissionRequest>,
    pub reference_code: Option<String>,
    pub tour_code: Option<String>,
    pub corporate_code: Option<String>,
    pub booker_code: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "lowercase")]
pub enum CommissionRequest {
    /// A number or decimal string.
    #[schema(value_type = String)]
    Percent(AmountInput),
    #[schema(value_type = String)]
    Amount(AmountInput),
}

fn decimal(input: &AmountInput, pointer: &str) -> Result<Decimal, AppError> {
    input.as_text().trim().parse().map_err(|_| {
        AppError::Validation(tessera_core::intake::ValidationErrors::single(pointer, "is not a decimal number"))
    })
}

#[utoipa::path(post, path = "/api/v1/bookings/{id}/issue", tag = "issuance",
    params(("id" = String, Path, description = "booking id"),
           ("Idempotency-Key" = Option<String>, Header, description = "same key and body: the same response, no second effect")),
    request_body(content = Option<IssueRequest>),
    responses((status = 201, body = IssuanceBody),
              (status = 402, description = "insufficient_balance", body = Problem, content_type = "application/problem+json"),
              (status = 409, description = "already_issued, booking_cancelled, idempotency_in_progress", body = Problem, content_type = "application/problem+json"),
              (status = 422, description = "a business rule refused it (see the error code table in docs/api.md)", body = Problem, content_type = "application/problem+json")))]
pub async fn issue(
    State(state): State<AppState>,
    Auth(who): Auth,
    meta: RequestMeta,
    NativePath(id): NativePath<String>,
    Body(body): Body,
) -> Result<Response, ApiError> {
    let booking_id = parse_booking_id(&id)?;
    let request: IssueRequest = parse_json(&body)?;
    let commission = match &request.commission {
        Some(CommissionRequest::Percent(p)) => Some(Commission::Percent(decimal(p, "/commission/percent")?)),
        Some(CommissionRequest::Amount(a)) => Some(Commission::Amount(decimal(a, "/commission/amount")?)),
        None => None,
    };
    let options = IssueOptions {
        commission,
        tour_code: request.tour_code,
        corporate_code: request.corporate_code,
        booker_code: request.booker_code,
    };
    let command = IssueCommand { options, reference_code: request.reference_code, ..Default::default() };
    // An `Idempotency-Key` is handled around this handler, by the native API's idempotency layer.
    let issued = state.app.issue(&who, booking_id, command, meta.actor(Some(&who))).await?;
    Ok((StatusCode::CREATED, Json(IssuanceBody::from(&issued))).into_response())
}

pub(crate) fn parse_issuance_id(text: &str) -> Result<IssuanceId, AppError> {
    text.parse().map_err(|_| AppError::NotFound("issuance"))
}

#[utoipa::path(get, path = "/api/v1/issuances/{id}", tag = "issuance",
    params(("id" = String, Path, description = "ticketReferenceID")),
    responses((status = 200, body = IssuanceBody), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get(
    State(state): State<AppState>,
    Auth(who): Auth,
    NativePath(id): NativePath<String>,
) -> Result<Json<IssuanceBody>, ApiError> {
    let (record, tickets) = state.app.get_issuance(&who, parse_issuance_id(&id)?).await?;
    Ok(Json(IssuanceBody::new(&record, &tickets)))
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
