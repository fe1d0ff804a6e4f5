//! The enterprise service centre (企业综合服务中心): its zones (专区), the windows (窗口)
//! each holds, and the 一类事 scenarios. Parsed from `rules/centre.toml`; every measure's
//! window and scenario must resolve here.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::diag::Code;

use crate::diag::Diagnostic;

use crate::diag::did_you_mean;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ScenarioKind {
    /// 世行评估指标领域
    WorldBank,
    /// 柯桥特色服务领域
    Keqiao,
}

/// A zone (专区) of the enterprise service centre and its windows.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Zone {
    /// Its name.
    pub name: String,
    #[serde(default)]
    pub aliases: Vec<String>,
    /// The windows (窗口) it holds.
    pub windows: Vec<String>,
}

/// A 一类事 scenario.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Its canonical name.
    pub name: String,
    /// Which field of 事项三 it belongs to.
    pub kind: ScenarioKind,
    #[serde(default)]
    pub aliases: Vec<String>,
    /// Articles 事项三 names for the scenario.
    #[serde(default)]
    pub articles: Vec<u32>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Reform {
    values: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCentre {
    zone: Vec<Zone>,
    #[serde(default)]
    scenario: Vec<Scenario>,
    #[serde(default)]
    reform: Reform,
}

/// What the 纳入一类事或下步改革 column of a measure resolves to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScenarioRef {
    /// A 一类事 scenario, by its canonical name.
    Scenario(String),
    /// Left to a later reform (下步改革…) or explicitly none (否).
    Reform(String),
}

/// The enterprise service centre (`centre.toml`): zones, windows, scenarios.
#[derive(Debug, Clone)]
pub struct Centre {
    /// The 8 zones.
    pub zones: Vec<Zone>,
    /// The 一类事 scenarios.
    pub scenarios: Vec<Scenario>,
    reform: Vec<String>,
    window_zone: BTreeMap<String, usize>,
    scenario_names: BTreeMap<String, usize>,
}

impl Centre {
    /// Parses `centre.toml`, every problem a diagnostic.
    pub fn parse(file: &str, text: &Arc<str>) -> Result<Centre, Vec<Diagnostic>> {
        let raw: RawCentre = toml::from_str(text).map_err(|e| {
            let d = Diagnostic::new(Code::CentreSyntax, file, e.message().trim().to_owned());
            vec![match e.span() {
                Some(span) => d.at(text, span),
                None => d,
            }]
        })?;
        let mut diags = Vec::new();
        let mut window_zone = BTreeMap::new();
        for (i, z) in raw.zone.iter().enumerate() {
            for w in &z.windows {
                if let Some(prev) = window_zone.insert(w.clone(), i) {
                    diags.push(Diagnostic::new(
                        Code::CentreSyntax,
                        file,
                        format!(
                            "window `{w}` is in both `{}` and `{}`",
                            raw.zone[prev].name, z.name
                        ),
                    ));
                }
            }
        }
        let mut scenario_names = BTreeMap::new();
        for (i, s) in raw.scenario.iter().enumerate() {
            for n in std::iter::once(&s.name).chain(&s.aliases) {
                if scenario_names.insert(n.clone(), i).is_some() || raw.reform.values.contains(n) {
                    diags.push(Diagnostic::new(
                        Code::CentreSyntax,
                        file,
                        format!("scenario name `{n}` is declared twice"),
                    ));
                }
            }
        }
        if !diags.is_empty() {
            return Err(diags);
        }
        Ok(Centre {
            zones: raw.zone,
            scenarios: raw.scenario,
            reform: raw.reform.values,
            window_zone,
            scenario_names,
        })
    }

    /// The zone holding `window`.
    pub fn zone_of(&self, window: &str) -> Result<&Zone, Option<String>> {
        match self.window_zone.get(window) {
            Some(&i) => Ok(&self.zones[i]),
            None => Err(
                did_you_mean(window, self.window_zone.keys().map(String::as_str))
                    .map(str::to_owned),
            ),
        }
    }

    /// What a measure's 纳入一类事或下步改革 value names; the error carries a "did you mean".
    pub fn resolve_scenario(&self, value: &str) -> Result<ScenarioRef, Option<String>> {
        if let Some(&i) = self.scenario_names.get(value) {
            return Ok(ScenarioRef::Scenario(self.scenarios[i].name.clone()));
        }
        if self.reform.iter().any(|r| r == value) {
            return Ok(ScenarioRef::Reform(value.to_owned()));
        }
        let names = self
            .scenario_names
            .keys()
            .chain(&self.reform)
            .map(String::as_str);
        Err(did_you_mean(value, names).map(str::to_owned))
    }
}
