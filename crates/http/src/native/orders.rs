//! Admin operations on event booking orders: changing an item's distribution channel, and the access log of
//! every document download.

use axum::extract::{Path, State};
use axum::Json;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::error::Problem;
use super::extract::{Auth, Limit, ValidJson, ValidQuery};
use super::records::{DownloadBody, DownloadList};
use super::ApiError;
use crate::events::OrderBody;
use crate::meta::RequestMeta;
use crate::AppState;

#[derive(Deserialize, ToSchema)]
pub struct SetChannel {
    /// `xs2event`, `external` or `external_end_client`
    pub distribution_channel: String,
}

#[utoipa::path(put, path = "/api/v1/booking-orders/{order}/items/{item}/distribution-channel", tag = "admin",
    params(("order" = String, Path), ("item" = String, Path)), request_body = SetChannel,
    responses((status = 200, description = "the order as the events profile shows it", body = OrderBody),
        (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn set_channel(
    State(state): State<AppState>,
    Auth(who): Auth,
    meta: RequestMeta,
    Path((order, item)): Path<(String, String)>,
    ValidJson(body): ValidJson<SetChannel>,
) -> Result<Json<OrderBody>, ApiError> {
    let channel = &body.distribution_channel;
    let record = state.app.set_distribution_channel(&who, &order, &item, channel, meta.actor(Some(&who))).await?;
    Ok(Json(crate::events::order_json(&record)))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DownloadsQuery {
    /// 1-1000, default 200
    #[param(value_type = Option<u32>, minimum = 1, maximum = 1000)]
    pub limit: Option<Limit<1000>>,
}

#[utoipa::path(get, path = "/api/v1/downloads", tag = "admin", params(DownloadsQuery),
    responses((status = 200, description = "every download (PDF, zip, invoice): who, what, when, from where; oldest first", body = DownloadList),
        (status = 403, body = Problem, content_type = "application/problem+json")))]
pub async fn downloads(
    State(state): State<AppState>,
    Auth(who): Auth,
    ValidQuery(q): ValidQuery<DownloadsQuery>,
) -> Result<Json<DownloadList>, ApiError> {
    let entries = state.app.access_log(&who, q.limit.map_or(200, |l| l.0)).await?;
    Ok(Json(DownloadList { downloads: entries.into_iter().map(DownloadBody::from).collect() }))
}
