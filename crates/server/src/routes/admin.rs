//! The operator's endpoints: `GET /health`, `GET /metrics` and `POST /v1/reload` (off
//! unless the server was started with `--admin-token`).

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use policy_match::LoadError;
use serde::Serialize;

use crate::error::ApiError;
use crate::metrics;
use crate::routes::json;
use crate::service::{ReloadError, Service, Trigger};

#[derive(Serialize)]
struct Health<'a> {
    status: &'static str,
    catalog_hash: &'a str,
    measures: usize,
}

pub async fn health(State(service): State<Arc<Service>>) -> Response {
    let catalog = service.catalog();
    json(&Health {
        status: "ok",
        catalog_hash: catalog.hash(),
        measures: catalog.measures.len(),
    })
}

pub async fn metrics(State(service): State<Arc<Service>>) -> Response {
    (
        [(header::CONTENT_TYPE, metrics::CONTENT_TYPE)],
        service.metrics().render(),
    )
        .into_response()
}

#[derive(Serialize)]
struct Reloaded<'a> {
    catalog_hash: &'a str,
    previous_hash: &'a str,
    measures: usize,
}

pub async fn reload(
    State(service): State<Arc<Service>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let Some(token) = &service.config().admin_token else {
        return Err(ApiError::ReloadDisabled);
    };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    if !constant_time_eq::constant_time_eq(given.as_bytes(), token.as_bytes()) {
        return Err(ApiError::Unauthorized);
    }
    let previous = service.catalog();
    let worker = Arc::clone(&service);
    // Reading and compiling a rules directory takes milliseconds: off the async workers.
    let result = tokio::task::spawn_blocking(move || worker.reload(Trigger::Http))
        .await
        .map_err(|e| ApiError::Internal(format!("the reload task failed: {e}")))?;
    match result {
        Ok(catalog) => Ok(json(&Reloaded {
            catalog_hash: catalog.hash(),
            previous_hash: previous.hash(),
            measures: catalog.measures.len(),
        })),
        Err(e @ ReloadError::BuiltIn) => Err(ApiError::ReloadUnavailable(e.to_string())),
        Err(ReloadError::Load(e)) => {
            let message = e.to_string();
            let diagnostics = match e {
                LoadError::Invalid(diagnostics) => diagnostics,
                _ => Vec::new(),
            };
            Err(ApiError::CatalogInvalid {
                message,
                diagnostics,
                serving: service.catalog().hash().to_owned(),
            })
        }
    }
}
