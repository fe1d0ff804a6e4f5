//! Query parameters: each route names those it takes, an unknown one is refused with the
//! closest known name, and values are read with the command line's parsers and messages.

use axum::extract::Query;
use axum::extract::rejection::QueryRejection;
use jiff::civil::Date;
use policy_match::dates::parse_date;
use policy_match::diag::did_you_mean;

use crate::error::ApiError;

/// A request's query parameters, checked against the names its route takes.
pub struct Params(Vec<(String, String)>);

impl Params {
    /// The parameters of `query`, refused when one is not in `allowed` or is given twice.
    pub fn check(
        query: Result<Query<Vec<(String, String)>>, QueryRejection>,
        allowed: &[&str],
    ) -> Result<Params, ApiError> {
        let Query(pairs) = query.map_err(|e| ApiError::BadQuery(e.body_text()))?;
        for (i, (key, _)) in pairs.iter().enumerate() {
            if !allowed.contains(&key.as_str()) {
                let hint = did_you_mean(key, allowed.iter().copied())
                    .map(|k| format!("; did you mean `{k}`?"))
                    .unwrap_or_default();
                let known = if allowed.is_empty() {
                    "this endpoint takes none".to_owned()
                } else {
                    format!("this endpoint takes {}", quoted(allowed))
                };
                return Err(ApiError::BadQuery(format!(
                    "unknown query parameter `{key}` ({known}){hint}"
                )));
            }
            if pairs[..i].iter().any(|(k, _)| k == key) {
                return Err(ApiError::BadQuery(format!(
                    "query parameter `{key}` is given twice"
                )));
            }
        }
        Ok(Params(pairs))
    }

    fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// A date `YYYY-MM-DD`, as `--as-of` reads it.
    pub fn date(&self, key: &str) -> Result<Option<Date>, ApiError> {
        self.get(key)
            .map(|s| {
                parse_date(s).ok_or_else(|| {
                    ApiError::BadQuery(format!("`{key}`: `{s}` is not a date YYYY-MM-DD"))
                })
            })
            .transpose()
    }

    /// A whole number in `min..=max`.
    pub fn count(&self, key: &str, min: i64, max: i64) -> Result<Option<i64>, ApiError> {
        self.get(key)
            .map(|s| match s.parse::<i64>() {
                Ok(n) if (min..=max).contains(&n) => Ok(n),
                _ => Err(ApiError::BadQuery(format!(
                    "`{key}` must be a whole number from {min} to {max}, found `{s}`"
                ))),
            })
            .transpose()
    }
}

fn quoted(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}
