//! Sending stored documents: signed `/d/{token}` links and the shared file response (ETag, attachment name).

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use tessera_app::links::{Download, LinkTarget};
use tessera_app::AppError;

use crate::meta::RequestMeta;
use crate::native::ApiError;
use crate::AppState;

pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/d/{token}", get(open_link))
}

/// Follows a signed link: no credentials needed; tampered → 403, expired → 410. With `--presigned-links` the
/// answer is a 307 to the bucket's own short-lived URL; the download is audited either way.
async fn open_link(
    State(state): State<AppState>,
    token: Result<Path<String>, PathRejection>,
    meta: RequestMeta,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    // A token that is not even UTF-8 was not signed by us.
    let Path(token) = token.map_err(|_| ApiError(AppError::LinkInvalid))?;
    match state.app.open_link(&token).await? {
        LinkTarget::File(download) => {
            state.app.audit_download(meta.actor(None), &download.record, "signed_link").await;
            Ok(file_response(download, &headers))
        }
        LinkTarget::Redirect { record, url } => {
            state.app.audit_download(meta.actor(None), &record, "presigned_link").await;
            let location = HeaderValue::from_str(&url).map_err(|e| ApiError(AppError::Internal(e.to_string())))?;
            let no_store = HeaderValue::from_static("private, no-store");
            Ok((StatusCode::TEMPORARY_REDIRECT, [(header::LOCATION, location), (header::CACHE_CONTROL, no_store)])
                .into_response())
        }
    }
}

/// The document as an attachment, with its SHA-256 as a strong ETag; a matching `If-None-Match` gets 304.
pub(crate) fn file_response(download: Download, request: &HeaderMap) -> Response {
    let etag = format!("\"{}\"", download.record.sha256);
    let matches = request
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    let etag_value = HeaderValue::from_str(&etag).unwrap_or(HeaderValue::from_static("\"\""));
    if matches {
        return (StatusCode::NOT_MODIFIED, [(header::ETAG, etag_value)]).into_response();
    }
    // Stored file names are ours (ASCII, no quotes), so they need no escaping.
    let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{}\"", download.record.filename))
        .unwrap_or(HeaderValue::from_static("attachment"));
    let content_type = HeaderValue::from_str(&download.record.content_type)
        .unwrap_or(HeaderValue::from_static("application/octet-stream"));
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, content_type),
            (header::CONTENT_DISPOSITION, disposition),
            (header::ETAG, etag_value),
            (header::CACHE_CONTROL, HeaderValue::from_static("private, no-store")),
        ],
        download.bytes,
    )
        .into_response()
}
