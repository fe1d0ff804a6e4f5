//! The catalog's views: `GET /v1/measures` (metadata, routing, nature, effective window,
//! as `list --format json` prints them), `GET /v1/measures/{id}`, and `GET /v1/calendar`
//! (the service calendar, as `calendar --format json`).

use std::sync::Arc;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use policy_match::diag::did_you_mean;
use policy_match::report::views;
use serde::Serialize;

use crate::error::ApiError;
use crate::query::Params;
use crate::routes::json;
use crate::service::Service;

#[derive(Serialize)]
struct Measures<'a> {
    catalog_hash: &'a str,
    measures: Vec<views::ListItem<'a>>,
}

#[derive(Serialize)]
struct OneMeasure<'a> {
    catalog_hash: &'a str,
    measure: views::ListItem<'a>,
}

#[derive(Serialize)]
struct Calendar<'a> {
    catalog_hash: &'a str,
    from: String,
    days: i64,
    entries: Vec<views::CalendarEntry>,
}

pub async fn measures(
    State(service): State<Arc<Service>>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Response, ApiError> {
    Params::check(query, &[])?;
    let catalog = service.catalog();
    Ok(json(&Measures {
        catalog_hash: catalog.hash(),
        measures: views::list(&catalog),
    }))
}

pub async fn measure(
    State(service): State<Arc<Service>>,
    Path(id): Path<String>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Response, ApiError> {
    Params::check(query, &[])?;
    let catalog = service.catalog();
    let list = views::list(&catalog);
    let Some(item) = list.into_iter().find(|item| item.measure.id == id) else {
        let hint = did_you_mean(&id, catalog.measures.iter().map(|m| m.measure.id.as_str()))
            .map(str::to_owned);
        return Err(ApiError::UnknownMeasure { id, hint });
    };
    Ok(json(&OneMeasure {
        catalog_hash: catalog.hash(),
        measure: item,
    }))
}

/// The longest calendar period, as `calendar --days` allows.
const MAX_DAYS: i64 = 36_600;

pub async fn calendar(
    State(service): State<Arc<Service>>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Response, ApiError> {
    let params = Params::check(query, &["from", "days"])?;
    let from = params.date("from")?.unwrap_or_else(|| service.today());
    let days = params.count("days", 0, MAX_DAYS)?.unwrap_or(30);
    let catalog = service.catalog();
    // `days` is at most MAX_DAYS, which fits an i32.
    let entries = views::calendar(&catalog, from, days as i32);
    Ok(json(&Calendar {
        catalog_hash: catalog.hash(),
        from: from.to_string(),
        days,
        entries,
    }))
}
