//! Operator endpoints: agencies, top-ups, agreements, users and API keys. The app services decide who may act
//! (admins; agents read their own agency, its ledger and agreements; anyone manages their own API keys).

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use tessera_app::admin::AgencyInput;
use tessera_app::AppError;
use tessera_core::ids::{AgencyId, ApiKeyId, UserId};
use tessera_core::intake::AmountInput;
use utoipa::ToSchema;

use super::error::Problem;
use super::extract::{Auth, NativePath, ValidJson, ValidQuery};
use super::records::{AgreementsBody, CarrierAgreementBody, CodeBody, TourCodeBody};
use super::wire::{AgencyBody, ApiKeyBody, LedgerBody, UserBody};
use super::ApiError;
use crate::AppState;

/// An amount as the server takes it: a decimal string or a JSON number (in major units, or percent).
fn amount() -> utoipa::openapi::schema::Schema {
    use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Schema, Type};
    Schema::OneOf(
        OneOfBuilder::new()
            .item(ObjectBuilder::new().schema_type(Type::String))
            .item(ObjectBuilder::new().schema_type(Type::Number))
            .description(Some("a decimal string (`\"120.50\"`) or a JSON number"))
            .build(),
    )
}

/// [`amount`], or `null` for none.
fn optional_amount() -> utoipa::openapi::schema::Schema {
    use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Schema, Type};
    Schema::OneOf(
        OneOfBuilder::new()
            .item(ObjectBuilder::new().schema_type(Type::String))
            .item(ObjectBuilder::new().schema_type(Type::Number))
            .item(ObjectBuilder::new().schema_type(Type::Null))
            .description(Some("a decimal string (`\"120.50\"`), a JSON number, or null for none"))
            .build(),
    )
}

pub(crate) fn agency_id(text: &str) -> Result<AgencyId, AppError> {
    text.parse().map_err(|_| AppError::NotFound("agency"))
}

fn user_id(text: &str) -> Result<UserId, AppError> {
    text.parse().map_err(|_| AppError::NotFound("user"))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateAgency {
    pub name: String,
    /// ISO 4217 code
    #[schema(pattern = "^[A-Z]{3}$")]
    pub currency: String,
    #[schema(schema_with = optional_amount)]
    pub balance: Option<AmountInput>,
    #[schema(schema_with = optional_amount)]
    pub credit_limit: Option<AmountInput>,
    #[schema(pattern = "^[A-Z0-9]{4,12}$")]
    pub office_id: Option<String>,
    #[schema(pattern = "^[0-9]{8}$")]
    pub iata_number: Option<String>,
    pub timezone: Option<String>,
    /// VAT included in event ticket prices, in percent (`"21"`, or a number).
    #[schema(schema_with = optional_amount)]
    pub vat_percent: Option<AmountInput>,
    /// Refunds wait for an admin's approval (`TORFND`); default false.
    pub refund_approval: Option<bool>,
    /// BCP-47 tag (`en`, `vi`) of the documents of bookings that do not choose a language; default `en`.
    #[schema(pattern = "^([Ee][Nn]|[Vv][Ii])(-[A-Za-z0-9]{1,8})*$")]
    pub default_language: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/agencies", tag = "admin", request_body = CreateAgency,
    responses((status = 201, body = AgencyBody), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn create_agency(
    State(state): State<AppState>,
    Auth(who): Auth,
    ValidJson(body): ValidJson<CreateAgency>,
) -> Result<(StatusCode, Json<AgencyBody>), ApiError> {
    let input = AgencyInput {
        name: body.name,
        currency: body.currency,
        balance: body.balance.map(|b| b.as_text()),
        credit_limit: body.credit_limit.map(|c| c.as_text()),
        office_id: body.office_id,
        iata_number: body.iata_number,
        timezone: body.timezone,
        vat_percent: body.vat_percent.map(|v| v.as_text()),
        refund_approval: body.refund_approval,
        default_language: body.default_language,
    };
    let agency = state.app.create_agency(&who, &input).await?;
    Ok((StatusCode::CREATED, Json(AgencyBody::from(&agency))))
}

#[utoipa::path(get, path = "/api/v1/agencies", tag = "admin", responses((status = 200, body = Vec<AgencyBody>)))]
pub async fn list_agencies(State(state): State<AppState>, Auth(who): Auth) -> Result<Json<Vec<AgencyBody>>, ApiError> {
    Ok(Json(state.app.list_agencies(&who).await?.iter().map(AgencyBody::from).collect()))
}

#[utoipa::path(get, path = "/api/v1/agencies/{id}", tag = "admin", params(("id" = String, Path)),
    responses((status = 200, body = AgencyBody, description = "balance, credit_limit and available as decimal strings"), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get_agency(
    State(state): State<AppState>,
    Auth(who): Auth,
    NativePath(id): NativePath<String>,
) -> Result<Json<AgencyBody>, ApiError> {
    Ok(Json(AgencyBody::from(&state.app.get_agency(&who, agency_id(&id)?).await?)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TopUp {
    /// Positive, in the agency's currency.
    #[schema(schema_with = amount)]
    pub amount: AmountInput,
    pub note: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/agencies/{id}/top-ups", tag = "admin", request_body = TopUp,
    params(("id" = String, Path)), responses((status = 201, body = LedgerBody), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn top_up(
    State(state): State<AppState>,
    Auth(who): Auth,
    NativePath(id): NativePath<String>,
    ValidJson(body): ValidJson<TopUp>,
) -> Result<(StatusCode, Json<LedgerBody>), ApiError> {
    let entry = state.app.top_up(&who, agency_id(&id)?, &body.amount.as_text(), body.note).await?;
    Ok((StatusCode::CREATED, Json(LedgerBody::from(&entry))))
}

#[utoipa::path(get, path = "/api/v1/agencies/{id}/ledger", tag = "admin", params(("id" = String, Path)),
    responses((status = 200, body = Vec<LedgerBody>)))]
pub async fn ledger(
    State(state): State<AppState>,
    Auth(who): Auth,
    NativePath(id): NativePath<String>,
) -> Result<Json<Vec<LedgerBody>>, ApiError> {
    Ok(Json(state.app.ledger(&who, agency_id(&id)?).await?.iter().map(LedgerBody::from).collect()))
}

#[utoipa::path(get, path = "/api/v1/agencies/{id}/agreements", tag = "admin", params(("id" = String, Path)),
    responses((status = 200, description = "carriers, tour codes, corporate accounts and booker codes", body = AgreementsBody)))]
pub async fn agreements(
    State(state): State<AppState>,
    Auth(who): Auth,
    NativePath(id): NativePath<String>,
) -> Result<Json<AgreementsBody>, ApiError> {
    Ok(Json(AgreementsBody::from(state.app.agreements(&who, agency_id(&id)?).await?)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Agreement {
    /// Required: a PUT states the whole agreement, so an empty body cannot re-authorize a carrier by accident.
    pub authorized: bool,
    /// Highest commission in percent of base fares; absent means no commission.
    #[schema(schema_with = optional_amount)]
    pub commission_cap: Option<AmountInput>,
}

#[utoipa::path(put, path = "/api/v1/agencies/{id}/agreements/{carrier}", tag = "admin", request_body = Agreement,
    params(("id" = String, Path), ("carrier" = String, Path, pattern = "^([A-Z][A-Z0-9]|[0-9][A-Z])$", description = "IATA airline designator")),
    responses((status = 200, body = CarrierAgreementBody)))]
pub async fn set_agreement(
    State(state): State<AppState>,
    Auth(who): Auth,
    NativePath((id, carrier)): NativePath<(String, String)>,
    ValidJson(body): ValidJson<Agreement>,
) -> Result<Json<CarrierAgreementBody>, ApiError> {
    let cap = body.commission_cap.map(|c| c.as_text());
    let a = state.app.set_agreement(&who, agency_id(&id)?, &carrier, body.authorized, cap.as_deref()).await?;
    Ok(Json(CarrierAgreementBody::from(a)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTourCode {
    /// IATA airline designator
    #[schema(pattern = "^([A-Z][A-Z0-9]|[0-9][A-Z])$")]
    pub carrier: String,
    pub code: String,
    pub valid_from: Option<String>,
    pub valid_to: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/agencies/{id}/tour-codes", tag = "admin", request_body = NewTourCode,
    params(("id" = String, Path)), responses((status = 201, body = TourCodeBody)))]
pub async fn add_tour_code(
    State(state): State<AppState>,
    Auth(who): Auth,
    NativePath(id): NativePath<String>,
    ValidJson(b): ValidJson<NewTourCode>,
) -> Result<(StatusCode, Json<TourCodeBody>), ApiError> {
    let t = state
        .app
        .add_tour_code(&who, agency_id(&id)?, &b.carrier, &b.code, b.valid_from.as_deref(), b.valid_to.as_deref())
        .await?;
    Ok((StatusCode::CREATED, Json(TourCodeBody::from(t))))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCorporateAccount {
    pub code: String,
}

#[utoipa::path(post, path = "/api/v1/agencies/{id}/corporate-accounts", tag = "admin", request_body = NewCorporateAccount,
    params(("id" = String, Path)), responses((status = 201, body = CodeBody)))]
pub async fn add_corporate_account(
    State(state): State<AppState>,
    Auth(who): Auth,
    NativePath(id): NativePath<String>,
    ValidJson(b): ValidJson<NewCorporateAccount>,
) -> Result<(StatusCode, Json<CodeBody>), ApiError> {
    state.app.add_corporate_account(&who, agency_id(&id)?, &b.code).await?;
    Ok((StatusCode::CREATED, Json(CodeBody { code: b.code.trim().to_owned() })))
}

#[utoipa::path(post, path = "/api/v1/agencies/{id}/booker-codes", tag = "admin", request_body = NewCorporateAccount,
    params(("id" = String, Path)), responses((status = 201, body = CodeBody)))]
pub async fn add_booker_code(
    State(state): State<AppState>,
    Auth(who): Auth,
    NativePath(id): NativePath<String>,
    ValidJson(b): ValidJson<NewCorporateAccount>,
) -> Result<(StatusCode, Json<CodeBody>), ApiError> {
    state.app.add_booker_code(&who, agency_id(&id)?, &b.code).await?;
    Ok((StatusCode::CREATED, Json(CodeBody { code: b.code.trim().to_owned() })))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefundApproval {
    pub required: bool,
}

#[utoipa::path(put, path = "/api/v1/agencies/{id}/refund-approval", tag = "admin", request_body = RefundApproval,
    params(("id" = String, Path)), responses((status = 200, body = AgencyBody), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn set_refund_approval(
    State(state): State<AppState>,
    Auth(who): Auth,
    NativePath(id): NativePath<String>,
    ValidJson(b): ValidJson<RefundApproval>,
) -> Result<Json<AgencyBody>, ApiError> {
    Ok(Json(AgencyBody::from(&state.app.set_refund_approval(&who, agency_id(&id)?, b.required).await?)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DefaultLanguage {
    /// BCP-47 tag: `en` or `vi` (a region such as `vi-VN` is accepted and dropped).
    #[schema(pattern = "^([Ee][Nn]|[Vv][Ii])(-[A-Za-z0-9]{1,8})*$")]
    pub language: String,
}

#[utoipa::path(put, path = "/api/v1/agencies/{id}/default-language", tag = "admin", request_body = DefaultLanguage,
    params(("id" = String, Path)), responses((status = 200, body = AgencyBody), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn set_default_language(
    State(state): State<AppState>,
    Auth(who): Auth,
    NativePath(id): NativePath<String>,
    ValidJson(b): ValidJson<DefaultLanguage>,
) -> Result<Json<AgencyBody>, ApiError> {
    Ok(Json(AgencyBody::from(&state.app.set_default_language(&who, agency_id(&id)?, &b.language).await?)))
}

fn percent() -> utoipa::openapi::schema::Schema {
    use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Schema, Type};
    Schema::OneOf(
        OneOfBuilder::new()
            .item(ObjectBuilder::new().schema_type(Type::String))
            .item(ObjectBuilder::new().schema_type(Type::Number))
            .description(Some("a percentage from 0 to below 100 with at most 2 decimals: a decimal string (`\"21\"`) or a JSON number"))
            .build(),
    )
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AgencySettingsRequest {
    /// VAT included in event ticket prices, in percent; applies to what is billed from now on.
    #[schema(schema_with = percent)]
    pub vat_percent: AmountInput,
    /// Refunds wait for an admin's approval (`TORFND`).
    pub refund_approval: bool,
    /// BCP-47 tag (`en`, `vi`) of the documents of bookings that do not choose a language, from now on.
    #[schema(pattern = "^([Ee][Nn]|[Vv][Ii])(-[A-Za-z0-9]{1,8})*$")]
    pub default_language: String,
}

#[utoipa::path(put, path = "/api/v1/agencies/{id}/settings", tag = "admin", request_body = AgencySettingsRequest,
    description = "Changes the agency's VAT rate, refund approval and documents' language together, or nothing when a field is refused (every refusal is listed). What was issued keeps the rate and language it was issued with.",
    params(("id" = String, Path)), responses((status = 200, body = AgencyBody), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn update_settings(
    State(state): State<AppState>,
    Auth(who): Auth,
    NativePath(id): NativePath<String>,
    ValidJson(b): ValidJson<AgencySettingsRequest>,
) -> Result<Json<AgencyBody>, ApiError> {
    let input = tessera_app::admin::SettingsInput {
        vat_percent: b.vat_percent.as_text(),
        refund_approval: b.refund_approval,
        default_language: b.default_language,
    };
    Ok(Json(AgencyBody::from(&state.app.update_agency_settings(&who, agency_id(&id)?, &input).await?)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUserRequest {
    pub username: String,
    pub password: String,
    /// `admin`, `agent` or `customer`
    pub role: String,
    pub agency_id: Option<uuid::Uuid>,
}

#[utoipa::path(post, path = "/api/v1/users", tag = "admin", request_body = NewUserRequest,
    responses((status = 201, body = UserBody), (status = 409, description = "username taken", body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn create_user(
    State(state): State<AppState>,
    Auth(who): Auth,
    ValidJson(b): ValidJson<NewUserRequest>,
) -> Result<(StatusCode, Json<UserBody>), ApiError> {
    let agency = b.agency_id.map(AgencyId);
    let user = state.app.create_user_in_role(&who, &b.username, &b.password, &b.role, agency).await?;
    Ok((StatusCode::CREATED, Json(UserBody::from(&user))))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UsersQuery {
    pub agency_id: Option<uuid::Uuid>,
}

#[utoipa::path(get, path = "/api/v1/users", tag = "admin", params(UsersQuery), responses((status = 200, body = Vec<UserBody>)))]
pub async fn list_users(
    State(state): State<AppState>,
    Auth(who): Auth,
    ValidQuery(q): ValidQuery<UsersQuery>,
) -> Result<Json<Vec<UserBody>>, ApiError> {
    let users = state.app.list_users(&who, q.agency_id.map(AgencyId)).await?;
    Ok(Json(users.iter().map(UserBody::from).collect()))
}

#[utoipa::path(post, path = "/api/v1/users/{id}/api-keys", tag = "admin", params(("id" = String, Path)),
    responses((status = 201, body = ApiKeyBody, description = "the key is shown once, in this response")))]
pub async fn create_api_key(
    State(state): State<AppState>,
    Auth(who): Auth,
    NativePath(id): NativePath<String>,
) -> Result<(StatusCode, Json<ApiKeyBody>), ApiError> {
    let (record, key) = state.app.create_api_key(&who, user_id(&id)?).await?;
    Ok((StatusCode::CREATED, Json(ApiKeyBody::new(&record, Some(key)))))
}

#[utoipa::path(get, path = "/api/v1/users/{id}/api-keys", tag = "admin", params(("id" = String, Path)),
    responses((status = 200, body = Vec<ApiKeyBody>)))]
pub async fn list_api_keys(
    State(state): State<AppState>,
    Auth(who): Auth,
    NativePath(id): NativePath<String>,
) -> Result<Json<Vec<ApiKeyBody>>, ApiError> {
    let keys = state.app.list_api_keys(&who, user_id(&id)?).await?;
    Ok(Json(keys.iter().map(|k| ApiKeyBody::new(k, None)).collect()))
}

#[utoipa::path(delete, path = "/api/v1/api-keys/{id}", tag = "admin", params(("id" = String, Path)),
    responses((status = 204, description = "revoked"), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn revoke_api_key(
    State(state): State<AppState>,
    Auth(who): Auth,
    NativePath(id): NativePath<String>,
) -> Result<StatusCode, ApiError> {
    let key: ApiKeyId = id.parse().map_err(|_| AppError::NotFound("api key"))?;
    state.app.revoke_api_key(&who, key).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(delete, path = "/api/v1/users/{id}/sessions", tag = "identity", params(("id" = String, Path)),
    description = "Ends every session of the user (the caller's own, or anyone's for an admin): each access token issued to them before stops working at once, on every node. API keys stay.",
    responses((status = 204, description = "every earlier access token of the user is refused from now on"), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn end_sessions(
    State(state): State<AppState>,
    Auth(who): Auth,
    NativePath(id): NativePath<String>,
) -> Result<StatusCode, ApiError> {
    state.app.end_sessions(&who, user_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}
