//! Explanations in plain language: why a measure found an enterprise, or why not, and
//! what is missing to qualify. Text for officers, JSON for the platform.

use std::fmt::Write as _;

use serde::Serialize;

use crate::compile::CompiledMeasure;
use crate::compile::catalog::Catalog;
use crate::eval::MeasureResult;
use crate::eval::Outcome;
use crate::eval::Recommendation;
use crate::eval::Status;
use crate::rules::ir::Measure;
use crate::rules::syntax::Delivery;
use crate::rules::syntax::Unit;

/// A short title of a measure: its text up to the first full stop, without the
/// circled ordinal, at most 40 characters.
pub fn title(m: &Measure) -> String {
    let text = m
        .text
        .trim_start_matches(|c: char| ('①'..='⑳').contains(&c));
    let first = text.split(['。', '；']).next().unwrap_or(text);
    let mut t: String = first.chars().take(40).collect();
    if first.chars().count() > 40 {
        t.push('…');
    }
    t
}

/// The `explain --format json` answer for one enterprise.
#[derive(Debug, Serialize)]
pub struct ExplainJson<'a> {
    /// The enterprise's 统一社会信用代码.
    pub enterprise_id: &'a str,
    /// The evaluation date, `YYYY-MM-DD`.
    pub as_of: String,
    /// The hash of the catalog that answered.
    pub catalog_hash: &'a str,
    /// Every measure, ranked as [`Recommendation::results`].
    pub results: Vec<ResultJson<'a>>,
}

/// One measure's outcome for the enterprise, with its reasons.
#[derive(Debug, Serialize)]
pub struct ResultJson<'a> {
    /// The measure id, e.g. `M017`.
    pub measure_id: &'a str,
    /// The measure's short title ([`title`]).
    pub title: String,
    /// The article (条) of the 32 the measure belongs to.
    pub article: u32,
    /// The article's title.
    pub article_title: &'a str,
    /// Eligible, not eligible, undetermined or error.
    pub outcome: Outcome,
    /// The benefit in yuan, when eligible and counted in yuan.
    pub amount_yuan: Option<f64>,
    /// The benefit in its own unit, when eligible and the measure has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub benefit: Option<BenefitJson<'a>>,
    /// Labels of the conditions that decided a `not_eligible` outcome.
    pub failed: Vec<&'a str>,
    /// Fields whose absence left the outcome undetermined.
    pub missing_fields: Vec<String>,
    /// The one condition whose failure alone stands in the way.
    pub near_miss: Option<&'a str>,
    /// Whether the measure is granted without application (免申即享).
    pub auto_grant: bool,
    /// How many conditions held (specificity, for ranking).
    pub score: usize,
    /// Every condition with its status, in evaluation order.
    pub conditions: Vec<ConditionJson<'a>>,
    /// The error that made the outcome `error`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// A benefit amount in its unit.
#[derive(Debug, Serialize)]
pub struct BenefitJson<'a> {
    /// The amount after its cap, rounded to 0.01.
    pub amount: f64,
    /// Yuan, 亩 or a plot ratio.
    pub unit: Unit,
    /// The benefit's Chinese label.
    pub label: &'a str,
}

/// One condition's status.
#[derive(Debug, Serialize)]
pub struct ConditionJson<'a> {
    /// The condition's Chinese label.
    pub label: &'a str,
    /// 0 for the base conditions, n for the n-th alternative.
    pub group: usize,
    /// `passed`, `failed`, `missing_data`, `not_evaluated` or `error`.
    pub status: &'static str,
}

fn status_str(s: &Status) -> &'static str {
    match s {
        Status::Passed => "passed",
        Status::Failed => "failed",
        Status::Missing => "missing_data",
        Status::NotEvaluated => "not_evaluated",
        Status::Error(_) => "error",
    }
}

/// One result in the `explain --format json` shape.
#[doc(hidden)]
pub fn result_json<'a>(cm: &'a CompiledMeasure, r: &MeasureResult) -> ResultJson<'a> {
    let m = &cm.measure;
    let benefit = match (&m.benefit, r.amount) {
        (Some(b), Some(amount)) => Some(BenefitJson {
            amount,
            unit: b.unit,
            label: &b.label,
        }),
        _ => None,
    };
    ResultJson {
        measure_id: &m.id,
        title: title(m),
        article: m.article,
        article_title: &m.article_title,
        outcome: r.outcome,
        amount_yuan: r.amount_yuan(m),
        benefit,
        failed: r.failed_labels(cm),
        missing_fields: r.missing_fields.clone(),
        near_miss: r.near_miss.map(|i| cm.conditions[i].label.as_str()),
        auto_grant: m.delivery.contains(&Delivery::AutoGrant),
        score: r.score(),
        conditions: cm
            .conditions
            .iter()
            .zip(r.statuses(cm))
            .map(|(c, s)| ConditionJson {
                label: &c.label,
                group: c.group,
                status: status_str(&s),
            })
            .collect(),
        error: r.error.clone(),
    }
}

/// The `explain --format json` answer: every result of `rec`, in its order.
pub fn to_json<'a>(catalog: &'a Catalog, rec: &'a Recommendation) -> ExplainJson<'a> {
    ExplainJson {
        enterprise_id: &rec.enterprise_id,
        as_of: rec.as_of.to_string(),
        catalog_hash: &rec.catalog_hash,
        results: rec
            .results
            .iter()
            .map(|r| result_json(&catalog.measures[r.index], r))
            .collect(),
    }
}

/// The plain-text explanation an officer reads: every measure, every condition.
pub fn to_text(catalog: &Catalog, name: &str, rec: &Recommendation) -> String {
    let mut s = String::new();
    let count = |o: Outcome| rec.results.iter().filter(|r| r.outcome == o).count();
    let near = rec.results.iter().filter(|r| r.near_miss.is_some()).count();
    let _ = writeln!(
        s,
        "{} {} · as of {} · catalog {}",
        rec.enterprise_id, name, rec.as_of, rec.catalog_hash
    );
    let _ = writeln!(
        s,
        "{} measures: {} eligible, {} undetermined, {} not eligible ({} near miss), {} error\n",
        rec.results.len(),
        count(Outcome::Eligible),
        count(Outcome::Undetermined),
        count(Outcome::NotEligible),
        near,
        count(Outcome::Error),
    );
    for r in &rec.results {
        let cm = &catalog.measures[r.index];
        let m = &cm.measure;
        let mark = match r.outcome {
            Outcome::Eligible => "✔",
            Outcome::AmountPending => "✔?",
            Outcome::NotEligible => "✘",
            Outcome::Undetermined => "?",
            Outcome::Error => "!",
        };
        let mode = if m.delivery.contains(&Delivery::AutoGrant) {
            " · 免申即享"
        } else {
            ""
        };
        let _ = writeln!(
            s,
            "{mark} {} {} — {}（第{}条 {}）{mode}",
            m.id,
            r.outcome.as_str(),
            title(m),
            m.article,
            m.article_title
        );
        if !r.in_effect {
            let from = m.valid_from.map_or("—".to_owned(), |d| d.to_string());
            let until = m.valid_until.map_or("—".to_owned(), |d| d.to_string());
            let _ = writeln!(
                s,
                "    ✘ {}（有效期 {from} 至 {until}）",
                crate::names::OUT_OF_WINDOW
            );
            continue;
        }
        let mut group = 0;
        for (c, st) in cm.conditions.iter().zip(r.statuses(cm)) {
            if c.group != group {
                group = c.group;
                let label = m.eligibility.alternatives[group - 1]
                    .label
                    .as_deref()
                    .unwrap_or("");
                let _ = writeln!(s, "    或（其一成立即可）· {label}");
            }
            let indent = if c.group == 0 { "    " } else { "      " };
            let line = match st {
                Status::Passed => format!("✔ {}", c.label),
                Status::Failed => format!("✘ {}", c.label),
                Status::Missing => format!("? {} — 缺少数据", c.label),
                Status::NotEvaluated => format!("· {} — 未评估（标签条件未满足）", c.label),
                Status::Error(e) => format!("! {} — 评估出错: {e}", c.label),
            };
            let _ = writeln!(s, "{indent}{line}");
        }
        for f in &r.missing_fields {
            let def = catalog.schema.field(f);
            let meaning = def.map_or("", |d| d.meaning.as_str());
            let _ = writeln!(s, "    missing: `{f}` {meaning}");
        }
        if let Some(i) = r.near_miss {
            let _ = writeln!(
                s,
                "    near miss: only「{}」is not met",
                cm.conditions[i].label
            );
        }
        if let (Some(a), Some(b)) = (r.amount, &m.benefit) {
            let _ = writeln!(s, "    amount: {a:.2} {} ({})", b.unit.chinese(), b.label);
        }
        if let Some(e) = &r.error {
            let _ = writeln!(s, "    error: {e}");
        }
    }
    s
}
