//! A request body as text: over the limit, unreadable or not UTF-8, it is refused.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::http::StatusCode;

use crate::error::ApiError;

/// The body as UTF-8 text (a byte-order mark dropped), within `limit` bytes.
pub fn text(body: Result<Bytes, BytesRejection>, limit: usize) -> Result<String, ApiError> {
    let bytes = body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::BodyTooLarge { limit }
        } else {
            ApiError::BadBody(format!("the body could not be read: {}", e.body_text()))
        }
    })?;
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    String::from_utf8(bytes.to_vec())
        .map_err(|e| ApiError::BadBody(format!("the body is not valid UTF-8: {}", e.utf8_error())))
}
