//! `POST /v1/recommend`: one profile (the JSON Lines object) → the `explain --format json`
//! answer: pushes, grants, unlocks, notices in scope, every measure's outcome with its
//! reasons, and the hash of the one catalog that answered.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Query, State};
use axum::response::Response;
use policy_match::Profile;
use policy_match::report::explain;

use crate::error::ApiError;
use crate::query::Params;
use crate::routes::{TOLD, json, told};
use crate::service::Service;

pub async fn recommend(
    State(service): State<Arc<Service>>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let params = Params::check(query, &TOLD)?;
    let (as_of, caps) = told(&service, &params)?;
    let text = super::body::text(body, service.config().limits.max_body_bytes)?;
    let catalog = service.catalog();
    let profile = match Profile::from_json(catalog.schema(), &text) {
        Ok(profile) => profile,
        Err(e) => {
            service.metrics().profiles(0, 1);
            return Err(refusal(&text, e.to_string()));
        }
    };
    service.metrics().profiles(1, 0);
    let rec = catalog.recommend(&profile, as_of);
    let digest = rec.digest(&catalog, caps.0, caps.1);
    Ok(json(&explain::to_json(&catalog, &rec, &digest)))
}

/// A profile refused with the command line's text: malformed JSON (with the line of the
/// body where it broke) or a profile the schema does not accept.
fn refusal(text: &str, message: String) -> ApiError {
    match serde_json::from_str::<serde::de::IgnoredAny>(text) {
        Err(e) if !e.is_data() => ApiError::MalformedJson {
            message,
            line: Some(e.line()),
        },
        _ => ApiError::InvalidProfile(message),
    }
}
