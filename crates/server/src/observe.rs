//! The middleware every request goes through: a request id (the client's `x-request-id`,
//! or one of ours), the deadline of `--request-timeout`, then one log line and the
//! metrics of the answer. Nothing of the body is logged: no enterprise data at info.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request, State};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;
use crate::service::Service;

/// When a request must be answered by: set by the middleware, read by work that can stop
/// part way (`/v1/match`).
#[derive(Debug, Clone, Copy)]
pub struct Deadline {
    /// The instant.
    pub at: Instant,
    /// The limit it was set from, for the message.
    pub limit: Duration,
}

/// The header carrying the request id, both ways.
const REQUEST_ID: &str = "x-request-id";

/// The longest client request id kept; a longer or non-visible one is replaced.
const MAX_REQUEST_ID: usize = 64;

pub async fn observe(
    State(service): State<Arc<Service>>,
    mut request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let id = request
        .headers()
        .get(REQUEST_ID)
        .filter(|v| v.len() <= MAX_REQUEST_ID && v.as_bytes().iter().all(|b| b.is_ascii_graphic()))
        .cloned()
        .unwrap_or_else(|| {
            // Hex digits and a dash are valid header text.
            HeaderValue::from_str(&service.next_request_id())
                .unwrap_or(HeaderValue::from_static("-"))
        });
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", |p| p.as_str())
        .to_owned();
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let limit = service.config().limits.request_timeout;
    request.extensions_mut().insert(Deadline {
        at: started + limit,
        limit,
    });
    let mut response = match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => ApiError::Timeout(limit.as_millis()).into_response(),
    };
    let status = response.status().as_u16();
    let seconds = started.elapsed().as_secs_f64();
    service.metrics().request(&route, status, seconds);
    tracing::info!(
        request_id = %id.to_str().unwrap_or("?"),
        %method,
        path,
        status,
        latency_us = (seconds * 1e6) as u64,
        "request"
    );
    response.headers_mut().insert(REQUEST_ID, id);
    response
}
