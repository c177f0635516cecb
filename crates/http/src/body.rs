//! Request bodies for the vendor profiles, which read raw bytes: an over-limit body becomes
//! [`AppError::PayloadTooLarge`], so each profile answers it in its own envelope instead of axum's plain text.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::http::StatusCode;
use tessera_app::AppError;
use tessera_core::intake::ValidationErrors;

pub(crate) fn bytes(body: Result<Bytes, BytesRejection>) -> Result<Bytes, AppError> {
    body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            AppError::PayloadTooLarge
        } else {
            AppError::Validation(ValidationErrors::single("", "the body could not be read"))
        }
    })
}
