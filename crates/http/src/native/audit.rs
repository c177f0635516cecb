//! `GET /api/v1/audit`: the trail of who did what, filtered by booking, ticket or tracking id.

use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use tessera_app::audit;
use utoipa::IntoParams;

use super::error::Problem;
use super::extract::{Auth, Limit, ValidQuery};
use super::records::{AuditEntryBody, AuditList};
use super::ApiError;
use crate::AppState;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    pub booking: Option<String>,
    pub ticket: Option<String>,
    /// a request id (`X-Request-Id`): 1-128 visible ASCII characters
    #[param(pattern = "^[!-~]{1,128}$")]
    pub tracking_id: Option<String>,
    /// e.g. `document.download` (the access log), `issuance.create`
    pub action: Option<String>,
    /// 1-1000, default 200
    #[param(value_type = Option<u32>, minimum = 1, maximum = 1000)]
    pub limit: Option<Limit<1000>>,
}

#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", params(AuditQuery),
    responses((status = 200, description = "audit entries, oldest first", body = AuditList),
        (status = 404, description = "`booking` or `ticket` names nothing within the caller's reach", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "customers", body = Problem, content_type = "application/problem+json")))]
pub async fn list(
    State(state): State<AppState>,
    Auth(who): Auth,
    ValidQuery(q): ValidQuery<AuditQuery>,
) -> Result<Json<AuditList>, ApiError> {
    let query = audit::AuditQuery {
        booking: q.booking,
        ticket: q.ticket,
        tracking_id: q.tracking_id,
        action: q.action,
        limit: q.limit.map(|l| l.0),
    };
    let entries = state.app.audit(&who, query).await?;
    Ok(Json(AuditList { entries: entries.into_iter().map(AuditEntryBody::from).collect() }))
}
