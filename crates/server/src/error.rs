//! What a request can be refused for: one enum, each variant with its HTTP status and a
//! stable code, answered as `{"error": {"code", "message", "line"?}}`. A profile is
//! refused with the text the command line gives for the same line.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use policy_match::Diagnostic;
use serde::Serialize;

/// Why a request was not answered.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The body is not JSON.
    #[error("{message}")]
    MalformedJson {
        /// The JSON Lines reader's text, as `explain` and `match` reject the line.
        message: String,
        /// The line of the body where parsing failed.
        line: Option<usize>,
    },
    /// The body is JSON but not a profile the schema accepts: an unknown tag or field, a
    /// wrong type, a bad 统一社会信用代码.
    #[error("{0}")]
    InvalidProfile(String),
    /// The body is not UTF-8, or could not be read.
    #[error("{0}")]
    BadBody(String),
    /// The body is over `--max-body-bytes`.
    #[error("the body is over the limit of {limit} bytes")]
    BodyTooLarge {
        /// The limit.
        limit: usize,
    },
    /// `/v1/match` was sent more profiles than `--max-profiles`.
    #[error("the body holds {count} profiles, over the limit of {limit} per request")]
    TooManyProfiles {
        /// Profiles (non-blank lines) in the body.
        count: usize,
        /// The limit.
        limit: usize,
        /// The line of the first profile over the limit.
        line: usize,
    },
    /// A query parameter is unknown or its value is bad.
    #[error("{0}")]
    BadQuery(String),
    /// `/v1/measures/{id}` names no measure.
    #[error("no measure `{id}` in the catalog{}", hint.as_ref().map(|h| format!("; did you mean `{h}`?")).unwrap_or_default())]
    UnknownMeasure {
        /// The id asked for.
        id: String,
        /// The closest id, if one is close.
        hint: Option<String>,
    },
    /// No route has this path.
    #[error(
        "no endpoint `{0}`; see `GET /v1/measures`, `POST /v1/recommend`, `POST /v1/match`, `GET /v1/calendar`, `GET /health`, `GET /metrics`"
    )]
    NotFound(String),
    /// The route exists, the method does not.
    #[error("`{method}` is not allowed on `{path}`")]
    MethodNotAllowed {
        /// The method used.
        method: String,
        /// The path.
        path: String,
    },
    /// `/v1/reload` without the admin token, or with another.
    #[error("`/v1/reload` needs the header `Authorization: Bearer <admin token>`")]
    Unauthorized,
    /// `/v1/reload` when the server was started without `--admin-token`.
    #[error(
        "reload over HTTP is off: start the server with `--admin-token` (SIGHUP still reloads)"
    )]
    ReloadDisabled,
    /// A reload of a server that serves the built-in catalog: `ReloadError::BuiltIn`'s
    /// text.
    #[error("{0}")]
    ReloadUnavailable(String),
    /// The rules directory did not load; the old catalog keeps serving.
    #[error("{message}; the catalog {serving} keeps serving")]
    CatalogInvalid {
        /// The load error.
        message: String,
        /// Every diagnostic of every file, when the rules were read.
        diagnostics: Vec<Diagnostic>,
        /// The hash of the catalog still serving.
        serving: String,
    },
    /// The request took longer than `--request-timeout`.
    #[error("the request took longer than the limit of {0} ms")]
    Timeout(u128),
    /// A bug: the answer could not be computed.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::MalformedJson { .. } | ApiError::BadBody(_) | ApiError::BadQuery(_) => {
                StatusCode::BAD_REQUEST
            }
            ApiError::InvalidProfile(_) | ApiError::CatalogInvalid { .. } => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            ApiError::BodyTooLarge { .. } | ApiError::TooManyProfiles { .. } => {
                StatusCode::PAYLOAD_TOO_LARGE
            }
            ApiError::UnknownMeasure { .. } | ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::ReloadDisabled => StatusCode::FORBIDDEN,
            ApiError::ReloadUnavailable(_) => StatusCode::CONFLICT,
            ApiError::Timeout(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The stable code a client branches on.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::MalformedJson { .. } => "malformed_json",
            ApiError::InvalidProfile(_) => "invalid_profile",
            ApiError::BadBody(_) => "bad_body",
            ApiError::BodyTooLarge { .. } => "body_too_large",
            ApiError::TooManyProfiles { .. } => "too_many_profiles",
            ApiError::BadQuery(_) => "bad_query",
            ApiError::UnknownMeasure { .. } => "unknown_measure",
            ApiError::NotFound(_) => "not_found",
            ApiError::MethodNotAllowed { .. } => "method_not_allowed",
            ApiError::Unauthorized => "unauthorized",
            ApiError::ReloadDisabled => "reload_disabled",
            ApiError::ReloadUnavailable(_) => "reload_unavailable",
            ApiError::CatalogInvalid { .. } => "catalog_invalid",
            ApiError::Timeout(_) => "timeout",
            ApiError::Internal(_) => "internal",
        }
    }

    fn line(&self) -> Option<usize> {
        match self {
            ApiError::MalformedJson { line, .. } => *line,
            ApiError::TooManyProfiles { line, .. } => Some(*line),
            _ => None,
        }
    }
}

/// The error object of every refusal.
#[derive(Serialize)]
struct Body<'a> {
    error: Inner<'a>,
}

#[derive(Serialize)]
struct Inner<'a> {
    code: &'static str,
    message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    line: Option<usize>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    diagnostics: &'a [Diagnostic],
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let diagnostics = match &self {
            ApiError::CatalogInvalid { diagnostics, .. } => diagnostics.as_slice(),
            _ => &[],
        };
        let body = Body {
            error: Inner {
                code: self.code(),
                message: self.to_string(),
                line: self.line(),
                diagnostics,
            },
        };
        let mut response = (self.status(), axum::Json(body)).into_response();
        if let ApiError::Timeout(_) = self {
            response.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from_static("1"),
            );
        }
        response
    }
}
