//! `POST /v1/match`: a JSON Lines body (one profile a line, as `match` reads a file) →
//! each enterprise's digest (what it is told, as `/v1/recommend` tells it), and every
//! line refused with the command line's reason. A bad line is listed, never an error.

use std::sync::Arc;
use std::time::Instant;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Query, State};
use axum::response::Response;
use policy_match::report::explain::{self, DigestJson};
use policy_match::{Catalog, Reject, read_jsonl_from};
use serde::Serialize;

use crate::error::ApiError;
use crate::observe::Deadline;
use crate::routes::{TOLD, json, told};
use crate::service::Service;

/// How many profiles are answered between two looks at the deadline.
const DEADLINE_EVERY: usize = 32;

#[derive(Serialize)]
struct Answer<'a> {
    catalog_hash: &'a str,
    as_of: String,
    digests: Vec<EnterpriseDigest<'a>>,
    rejects: Vec<RejectJson>,
}

/// One enterprise's digest: its id, then what it is told.
#[derive(Serialize)]
struct EnterpriseDigest<'a> {
    enterprise_id: String,
    #[serde(flatten)]
    told: DigestJson<'a>,
}

/// A line refused: its number in the body, the id when readable, why.
#[derive(Serialize)]
struct RejectJson {
    line: usize,
    id: Option<String>,
    reason: String,
}

impl From<Reject> for RejectJson {
    fn from(r: Reject) -> RejectJson {
        RejectJson {
            line: r.row,
            id: r.id,
            reason: r.reason,
        }
    }
}

pub async fn match_(
    State(service): State<Arc<Service>>,
    Extension(deadline): Extension<Deadline>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let params = crate::query::Params::check(query, &TOLD)?;
    let (as_of, (max_pushes, max_unlocks)) = told(&service, &params)?;
    let text = super::body::text(body, service.config().limits.max_body_bytes)?;
    let limit = service.config().limits.max_profiles;
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty());
    if let Some((line, _)) = lines.nth(limit) {
        let count = limit + 1 + lines.count();
        return Err(ApiError::TooManyProfiles {
            count,
            limit,
            line: line + 1,
        });
    }
    // The middleware's deadline bounds the wait: a request still waiting then is a 503.
    let permit = service
        .evaluator()
        .await
        .ok_or_else(|| ApiError::Internal("the evaluators are closed".into()))?;
    let catalog = service.catalog();
    let worker = Arc::clone(&service);
    // Up to `max_profiles` evaluations: off the async workers, bounded by the deadline.
    tokio::task::spawn_blocking(move || {
        let _permit = permit;
        let (profiles, rejects) = read_jsonl_from(catalog.schema(), text.as_bytes())
            .map_err(|e| ApiError::BadBody(e.to_string()))?;
        worker.metrics().profiles(profiles.len(), rejects.len());
        let digests = digests(
            &catalog,
            &profiles,
            as_of,
            (max_pushes, max_unlocks),
            deadline,
        )?;
        Ok(json(&Answer {
            catalog_hash: catalog.hash(),
            as_of: as_of.to_string(),
            digests,
            rejects: rejects.into_iter().map(RejectJson::from).collect(),
        }))
    })
    .await
    .map_err(|e| ApiError::Internal(format!("the match task failed: {e}")))?
}

/// Each profile's digest, in body order; stops with [`ApiError::Timeout`] past the
/// deadline.
fn digests<'a>(
    catalog: &'a Catalog,
    profiles: &[policy_match::Profile],
    as_of: jiff::civil::Date,
    (max_pushes, max_unlocks): (usize, usize),
    deadline: Deadline,
) -> Result<Vec<EnterpriseDigest<'a>>, ApiError> {
    let mut out = Vec::with_capacity(profiles.len());
    for (i, profile) in profiles.iter().enumerate() {
        if i % DEADLINE_EVERY == 0 && Instant::now() > deadline.at {
            return Err(ApiError::Timeout(deadline.limit.as_millis()));
        }
        let rec = catalog.recommend(profile, as_of);
        let digest = rec.digest(catalog, max_pushes, max_unlocks);
        out.push(EnterpriseDigest {
            enterprise_id: rec.enterprise_id.clone(),
            told: explain::digest_json(catalog, &rec, &digest),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    /// Work that is still going at its deadline stops there, rather than run to the end
    /// for an answer no one waits for.
    #[test]
    fn evaluation_past_the_deadline_stops_with_a_timeout() {
        let catalog = Catalog::builtin().expect("the built-in catalog loads");
        let line = r#"{"id": "91330603MA2BK7R415", "name": "示例", "tags": ["kind:enterprise"], "fields": {}}"#;
        let profile = policy_match::Profile::from_json(catalog.schema(), line).expect("a profile");
        let as_of = jiff::civil::date(2025, 6, 30);
        let limit = Duration::from_millis(5);
        let past = Deadline {
            at: Instant::now() - limit,
            limit,
        };
        let stopped = digests(
            &catalog,
            std::slice::from_ref(&profile),
            as_of,
            (10, 3),
            past,
        );
        assert!(matches!(stopped, Err(ApiError::Timeout(5))));
        let ahead = Deadline {
            at: Instant::now() + Duration::from_secs(60),
            limit,
        };
        let answered = digests(&catalog, &[profile], as_of, (10, 3), ahead).expect("in time");
        assert_eq!(answered.len(), 1);
    }
}
