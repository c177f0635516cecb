//! Removing entries of an agency's agreements (admins): a carrier agreement, a tour code, a corporate account, a
//! booker code. Each answers 204, or 404 when the agency or the entry does not exist; a carrier or code that is not
//! one cannot be an entry, so it is not found either.

use axum::extract::State;
use axum::http::StatusCode;
use tessera_app::AppError;
use tessera_core::agency::AgreementEntry;
use tessera_core::codes::CarrierCode;

use super::admin::agency_id;
use super::extract::{Auth, NativePath};
use super::ApiError;
use crate::AppState;

fn carrier(text: &str) -> Result<CarrierCode, AppError> {
    CarrierCode::parse(text).map_err(|_| AppError::NotFound("agreement entry"))
}

async fn remove(
    state: &AppState,
    who: &tessera_app::Principal,
    id: &str,
    entry: AgreementEntry,
) -> Result<StatusCode, ApiError> {
    state.app.remove_agreement_entry(who, agency_id(id)?, &entry).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(delete, path = "/api/v1/agencies/{id}/agreements/{carrier}", tag = "admin",
    params(("id" = String, Path), ("carrier" = String, Path, description = "IATA airline designator")),
    responses((status = 204, description = "removed: the carrier is ticketed with no agreement (authorized, no cap)"),
        (status = 404, body = super::error::Problem, content_type = "application/problem+json")))]
pub async fn remove_agreement(
    State(state): State<AppState>,
    Auth(who): Auth,
    NativePath((id, code)): NativePath<(String, String)>,
) -> Result<StatusCode, ApiError> {
    remove(&state, &who, &id, AgreementEntry::Carrier(carrier(&code)?)).await
}

#[utoipa::path(delete, path = "/api/v1/agencies/{id}/tour-codes/{carrier}/{code}", tag = "admin",
    params(("id" = String, Path), ("carrier" = String, Path, description = "IATA airline designator"), ("code" = String, Path)),
    responses((status = 204, description = "removed"), (status = 404, body = super::error::Problem, content_type = "application/problem+json")))]
pub async fn remove_tour_code(
    State(state): State<AppState>,
    Auth(who): Auth,
    NativePath((id, airline, code)): NativePath<(String, String, String)>,
) -> Result<StatusCode, ApiError> {
    remove(&state, &who, &id, AgreementEntry::TourCode { carrier: carrier(&airline)?, code }).await
}

#[utoipa::path(delete, path = "/api/v1/agencies/{id}/corporate-accounts/{code}", tag = "admin",
    params(("id" = String, Path), ("code" = String, Path)),
    responses((status = 204, description = "removed"), (status = 404, body = super::error::Problem, content_type = "application/problem+json")))]
pub async fn remove_corporate_account(
    State(state): State<AppState>,
    Auth(who): Auth,
    NativePath((id, code)): NativePath<(String, String)>,
) -> Result<StatusCode, ApiError> {
    remove(&state, &who, &id, AgreementEntry::CorporateAccount(code)).await
}

#[utoipa::path(delete, path = "/api/v1/agencies/{id}/booker-codes/{code}", tag = "admin",
    params(("id" = String, Path), ("code" = String, Path)),
    responses((status = 204, description = "removed"), (status = 404, body = super::error::Problem, content_type = "application/problem+json")))]
pub async fn remove_booker_code(
    State(state): State<AppState>,
    Auth(who): Auth,
    NativePath((id, code)): NativePath<(String, String)>,
) -> Result<StatusCode, ApiError> {
    remove(&state, &who, &id, AgreementEntry::BookerCode(code)).await
}
