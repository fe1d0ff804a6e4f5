//! The routes, one module per group, and what they share: the JSON answer and the push
//! and unlock caps of a request.

mod admin;
mod body;
mod catalog;
mod match_;
mod recommend;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{Method, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use jiff::civil::Date;
use policy_match::eval::MAX_TOLD;
use serde::Serialize;

use crate::error::ApiError;
use crate::query::Params;
use crate::service::Service;

/// Every route of the service, with its fallbacks, limits and the request middleware.
pub fn router(service: Arc<Service>) -> Router {
    let max_body = service.config().limits.max_body_bytes;
    Router::new()
        .route("/v1/recommend", post(recommend::recommend))
        .route("/v1/match", post(match_::match_))
        .route("/v1/measures", get(catalog::measures))
        .route("/v1/measures/{id}", get(catalog::measure))
        .route("/v1/calendar", get(catalog::calendar))
        .route("/v1/reload", post(admin::reload))
        .route("/health", get(admin::health))
        .route("/metrics", get(admin::metrics))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(max_body))
        .layer(axum::middleware::from_fn_with_state(
            Arc::clone(&service),
            crate::observe::observe,
        ))
        .with_state(service)
}

async fn not_found(uri: Uri) -> ApiError {
    ApiError::NotFound(uri.path().to_owned())
}

async fn method_not_allowed(method: Method, uri: Uri) -> ApiError {
    ApiError::MethodNotAllowed {
        method: method.to_string(),
        path: uri.path().to_owned(),
    }
}

/// `value` as a JSON answer with status 200.
pub fn json(value: &impl Serialize) -> Response {
    match serde_json::to_vec(value) {
        Ok(bytes) => ([(header::CONTENT_TYPE, "application/json")], bytes).into_response(),
        Err(e) => ApiError::Internal(format!("cannot serialise the answer: {e}")).into_response(),
    }
}

/// The query parameters of the routes that tell enterprises (`/v1/recommend`,
/// `/v1/match`), read by [`told`].
pub const TOLD: [&str; 3] = ["as_of", "max_pushes", "max_unlocks"];

/// `as_of` (default today) and the caps on pushes and unlocks (default the server's),
/// with the command line's bounds: at least one push, at most [`MAX_TOLD`] of each.
pub fn told(service: &Service, params: &Params) -> Result<(Date, (usize, usize)), ApiError> {
    let as_of = params.date("as_of")?.unwrap_or_else(|| service.today());
    let config = service.config();
    let most = MAX_TOLD as i64;
    let pushes = params.count("max_pushes", 1, most)?;
    let unlocks = params.count("max_unlocks", 0, most)?;
    // Both are within 0..=MAX_TOLD.
    let caps = (
        pushes.map_or(config.max_pushes, |n| n as usize),
        unlocks.map_or(config.max_unlocks, |n| n as usize),
    );
    Ok((as_of, caps))
}
