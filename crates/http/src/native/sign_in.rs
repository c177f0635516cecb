//! `POST /api/v1/sign-in`: username and password for a short-lived JWT.

use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::error::Problem;
use super::extract::ValidJson;
use super::ApiError;
use crate::AppState;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignIn {
    pub username: String,
    pub password: String,
}

#[derive(Serialize, ToSchema)]
pub struct TokenBody {
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds until the token expires.
    pub expires_in: u64,
}

#[utoipa::path(post, path = "/api/v1/sign-in", tag = "identity", request_body = SignIn,
    responses((status = 200, body = TokenBody), (status = 401, description = "wrong username or password", body = Problem, content_type = "application/problem+json")))]
pub async fn sign_in(
    State(state): State<AppState>,
    ValidJson(body): ValidJson<SignIn>,
) -> Result<Json<TokenBody>, ApiError> {
    let token = state.app.sign_in(&body.username, &body.password).await?;
    Ok(Json(TokenBody {
        access_token: token.access_token,
        token_type: token.token_type.to_owned(),
        expires_in: token.expires_in,
    }))
}
