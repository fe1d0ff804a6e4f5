//! Views of the catalog for officers and the 驾驶舱: the measures with their metadata
//! (`list --format json`, the Python binding's `Catalog.measures()`), counts by zone,
//! window, scenario, department or article, and the service calendar (企业服务日历).

use std::collections::BTreeMap;

use jiff::civil::Date;
use serde::Serialize;

use crate::compile::catalog::Catalog;
use crate::report::explain;
use crate::rules::ir::Measure;

/// One measure as `list --format json` prints it: the measure's metadata (its fields,
/// flattened), its short title and its condition labels.
#[derive(Debug, Serialize)]
pub struct ListItem<'a> {
    /// The measure: id, article, text, routing, nature, window, delivery, …
    #[serde(flatten)]
    pub measure: &'a Measure,
    /// The short title ([`explain::title`]).
    pub title: String,
    /// The labels of its conditions, in order.
    pub conditions: Vec<&'a str>,
}

/// Every measure of the catalog, in catalog order (sorted by id), as `list --format
/// json` prints them.
pub fn list(catalog: &Catalog) -> Vec<ListItem<'_>> {
    catalog
        .measures
        .iter()
        .map(|cm| ListItem {
            measure: &cm.measure,
            title: explain::title(&cm.measure),
            conditions: cm.conditions.iter().map(|c| c.label.as_str()).collect(),
        })
        .collect()
}

/// What to count measures by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum By {
    /// By service-centre zone (专区).
    Zone,
    /// By window (窗口).
    Window,
    /// By 一类事 scenario.
    Scenario,
    /// By lead department (a measure with two counts under each).
    Department,
    /// By article (条) of the 32.
    Article,
    /// By nature: benefit, service, notice, internal.
    Nature,
}

impl By {
    /// Every key, in the order `list --by` offers them.
    pub const ALL: [By; 6] = [
        By::Zone,
        By::Window,
        By::Scenario,
        By::Department,
        By::Article,
        By::Nature,
    ];

    /// The key as the command line names it: `zone`, `window`, …
    pub fn as_str(self) -> &'static str {
        match self {
            By::Zone => "zone",
            By::Window => "window",
            By::Scenario => "scenario",
            By::Department => "department",
            By::Article => "article",
            By::Nature => "nature",
        }
    }
}

/// The key a measure with no 一类事 is counted under.
pub const NO_SCENARIO: &str = "（未纳入一类事）";

/// Measure counts per key, in key order. A measure with two lead departments counts once
/// under each; every other view partitions the catalog.
pub fn counts(catalog: &Catalog, by: By) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for cm in &catalog.measures {
        let m = &cm.measure;
        let keys: Vec<String> = match by {
            By::Zone => vec![m.zone.clone()],
            By::Window => vec![m.window.clone()],
            By::Scenario => vec![
                m.scenario_name
                    .clone()
                    .unwrap_or_else(|| NO_SCENARIO.to_owned()),
            ],
            By::Department => m.lead_departments.clone(),
            By::Article => vec![format!("{:02} {}", m.article, m.article_title)],
            By::Nature => vec![m.nature.as_str().to_owned()],
        };
        for k in keys {
            *out.entry(k).or_insert(0) += 1;
        }
    }
    out
}

/// What happens to a measure's effective window on a day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Event {
    /// The effective window opens (valid_from).
    Opens,
    /// The effective window closes (valid_until): the last day it applies.
    Closes,
}

/// One day's event of the service calendar (企业服务日历).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CalendarEntry {
    /// The day.
    pub date: Date,
    /// Opens or closes.
    pub event: Event,
    /// The measure id.
    pub measure_id: String,
    /// The measure's short title.
    pub title: String,
    /// Its zone (专区).
    pub zone: String,
    /// Its window (窗口).
    pub window: String,
}

/// Measures whose effective window opens or closes in `[as_of, as_of + days]`, by date.
pub fn calendar(catalog: &Catalog, as_of: Date, days: i32) -> Vec<CalendarEntry> {
    let end = as_of.saturating_add(jiff::Span::new().days(days));
    let mut out = Vec::new();
    for cm in &catalog.measures {
        let m = &cm.measure;
        for (date, event) in [(m.valid_from, Event::Opens), (m.valid_until, Event::Closes)] {
            if let Some(d) = date
                && d >= as_of
                && d <= end
            {
                out.push(CalendarEntry {
                    date: d,
                    event,
                    measure_id: m.id.clone(),
                    title: explain::title(m),
                    zone: m.zone.clone(),
                    window: m.window.clone(),
                });
            }
        }
    }
    out.sort_by(|a, b| (a.date, a.event, &a.measure_id).cmp(&(b.date, b.event, &b.measure_id)));
    out
}
