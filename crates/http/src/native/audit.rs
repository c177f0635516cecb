//! `GET /api/v1/audit`: the trail of who did what, filtered by booking, ticket or tracking id.

use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use tessera_app::AppError;
use tessera_core::codes::TicketNumber;
use tessera_storage::{AuditEntry, AuditFilter};
use utoipa::IntoParams;

use super::extract::{Auth, ValidQuery};
use super::ApiError;
use crate::AppState;

#[derive(Deserialize, IntoParams)]
pub struct AuditQuery {
    pub booking: Option<String>,
    pub ticket: Option<String>,
    pub tracking_id: Option<String>,
    /// e.g. `document.download` (the access log), `issuance.create`
    pub action: Option<String>,
    /// 1-1000, default 200
    pub limit: Option<u32>,
}

#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", params(AuditQuery),
    responses((status = 200, description = "audit entries, oldest first", body = Object), (status = 403, description = "customers")))]
pub async fn list(
    State(state): State<AppState>,
    Auth(who): Auth,
    ValidQuery(q): ValidQuery<AuditQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    if who.role() == tessera_core::user::Role::Customer {
        return Err(AppError::Forbidden("customer").into());
    }
    if let Some(t) = &q.tracking_id {
        if t.is_empty() || t.len() > 128 || t.chars().any(char::is_control) {
            return Err(AppError::Validation(tessera_core::intake::ValidationErrors::single(
                "/query/tracking_id",
                "is not a tracking id",
            ))
            .into());
        }
    }
    let filter = AuditFilter {
        action: q.action.clone().filter(|a| !a.is_empty()),
        booking_id: match q.booking.as_deref() {
            Some(b) => Some(b.parse().map_err(|_| AppError::NotFound("booking"))?),
            None => None,
        },
        ticket_number: match q.ticket.as_deref() {
            Some(t) => Some(TicketNumber::parse(t).map_err(|_| AppError::NotFound("ticket"))?.compact()),
            None => None,
        },
        tracking_id: q.tracking_id,
        limit: q.limit.unwrap_or(200).clamp(1, 1000),
    };
    let entries: Vec<AuditEntry> = state.app.db().list_audit(who.scope, &filter).await.map_err(AppError::from)?;
    Ok(Json(serde_json::json!({ "entries": entries })))
}
