//! `GET /api/v1/outbox`: what the e-mail outbox holds — recipient, subject, status, attempts, last error.

use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use tessera_storage::OutboxMessage;
use utoipa::IntoParams;

use super::error::Problem;
use super::extract::{Auth, Limit, ValidQuery};
use super::records::{OutboxList, OutboxMessageBody};
use super::ApiError;
use crate::AppState;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OutboxQuery {
    /// 1-1000, default 200
    #[param(value_type = Option<u32>, minimum = 1, maximum = 1000)]
    pub limit: Option<Limit<1000>>,
}

#[utoipa::path(get, path = "/api/v1/outbox", tag = "admin", params(OutboxQuery),
    responses((status = 200, description = "messages, newest first: id, recipient, subject, status (queued, sent, failed), attempts, last_error, attachments", body = OutboxList), (status = 403, body = Problem, content_type = "application/problem+json")))]
pub async fn list(
    State(state): State<AppState>,
    Auth(who): Auth,
    ValidQuery(q): ValidQuery<OutboxQuery>,
) -> Result<Json<OutboxList>, ApiError> {
    let messages: Vec<OutboxMessage> = state.app.outbox(&who, q.limit.map_or(200, |l| l.0)).await?;
    Ok(Json(OutboxList { messages: messages.into_iter().map(OutboxMessageBody::from).collect() }))
}
