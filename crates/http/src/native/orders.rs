//! Admin operations on event booking orders: changing an item's distribution channel, and the access log of
//! every document download.

use axum::extract::{Path, State};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use tessera_app::AppError;
use tessera_core::booking::DistributionChannel;
use tessera_core::intake::ValidationErrors;
use utoipa::{IntoParams, ToSchema};

use super::extract::{Auth, ValidJson, ValidQuery};
use super::ApiError;
use crate::meta::RequestMeta;
use crate::AppState;

#[derive(Deserialize, ToSchema)]
pub struct SetChannel {
    /// `xs2event`, `external` or `external_end_client`
    pub distribution_channel: String,
}

#[utoipa::path(put, path = "/api/v1/booking-orders/{order}/items/{item}/distribution-channel", tag = "admin",
    params(("order" = String, Path), ("item" = String, Path)), request_body = SetChannel,
    responses((status = 200, description = "the order as the events profile shows it", body = Object),
        (status = 403), (status = 404), (status = 422)))]
pub async fn set_channel(
    State(state): State<AppState>,
    Auth(who): Auth,
    meta: RequestMeta,
    Path((order, item)): Path<(String, String)>,
    ValidJson(body): ValidJson<SetChannel>,
) -> Result<Json<Value>, ApiError> {
    let channel = DistributionChannel::parse(&body.distribution_channel).ok_or_else(|| {
        AppError::Validation(ValidationErrors::single(
            "/distribution_channel",
            "must be `xs2event`, `external` or `external_end_client`",
        ))
    })?;
    let record = state.app.set_distribution_channel(&who, &order, &item, channel, meta.actor(Some(&who))).await?;
    Ok(Json(crate::events::order_json(&record)))
}

#[derive(Deserialize, IntoParams)]
pub struct DownloadsQuery {
    /// 1-1000, default 200
    pub limit: Option<u32>,
}

#[utoipa::path(get, path = "/api/v1/downloads", tag = "admin", params(DownloadsQuery),
    responses((status = 200, description = "every download (PDF, zip, invoice): who, what, when, from where; oldest first", body = Object),
        (status = 403)))]
pub async fn downloads(
    State(state): State<AppState>,
    Auth(who): Auth,
    ValidQuery(q): ValidQuery<DownloadsQuery>,
) -> Result<Json<Value>, ApiError> {
    let entries = state.app.access_log(&who, q.limit.unwrap_or(200).clamp(1, 1000)).await?;
    let downloads: Vec<Value> = entries
        .iter()
        .map(|e| {
            json!({
                "at": e.created_at,
                "username": e.username,
                "user_id": e.user_id,
                "client_addr": e.client_addr,
                "agency_id": e.agency_id,
                "document": e.detail.get("document"),
                "owner": e.detail.get("owner"),
                "sha256": e.detail.get("sha256"),
                "via": e.detail.get("via"),
                "tracking_id": e.tracking_id,
            })
        })
        .collect();
    Ok(Json(json!({ "downloads": downloads })))
}
