//! Explanations in plain language: why a measure found an enterprise, or why not, and
//! what is missing to qualify. Text for officers, JSON for the platform.

use std::fmt::Write as _;

use serde::Serialize;

use crate::compile::CompiledMeasure;
use crate::compile::catalog::Catalog;
use crate::eval::Digest;
use crate::eval::MeasureResult;
use crate::eval::Outcome;
use crate::eval::Recommendation;
use crate::eval::Status;
use crate::rules::ir::Measure;
use crate::rules::syntax::AmountKind;
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
    /// What the enterprise is told.
    #[serde(flatten)]
    pub told: DigestJson<'a>,
    /// Every measure, ranked as [`Recommendation::results`].
    pub results: Vec<ResultJson<'a>>,
}

/// What one enterprise is told ([`Digest`]) in JSON: the part of [`ExplainJson`] before
/// the results, which `serve`'s `/v1/match` answers per enterprise.
#[derive(Debug, Serialize)]
pub struct DigestJson<'a> {
    /// What the enterprise is pushed, best first, at most the cap ([`Digest::pushes`]).
    pub pushes: Vec<PushJson<'a>>,
    /// Eligible pairs of pushed measures the cap held back.
    pub held_back: usize,
    /// What is granted without application (免申即享).
    pub grants: Vec<GrantJson<'a>>,
    /// The steps that would open the most pushed measures, best first.
    pub unlocks: Vec<UnlockJson<'a>>,
    /// `notice` measures whose audience includes the enterprise: published once per
    /// measure through the channels of 附件2, not pushed.
    pub notices: Vec<NoticeJson<'a>>,
}

/// One push, in rank order.
#[derive(Debug, Serialize)]
pub struct PushJson<'a> {
    /// 1 for the first.
    pub rank: usize,
    /// The measure id.
    pub measure_id: &'a str,
    /// The measure's short title.
    pub title: String,
    /// The benefit in its unit, when the measure has one and it is known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub benefit: Option<BenefitJson<'a>>,
    /// The fields the amount waits on, when every condition holds but the amount is
    /// pending; empty otherwise.
    pub amount_pending: Vec<String>,
}

/// One grant without application.
#[derive(Debug, Serialize)]
pub struct GrantJson<'a> {
    /// The measure id.
    pub measure_id: &'a str,
    /// The cash amount in yuan, when the benefit is money paid.
    pub amount_yuan: Option<f64>,
}

/// One unlock: a condition to meet, and the pushed measures it would open.
#[derive(Debug, Serialize)]
pub struct UnlockJson<'a> {
    /// The condition, in the words of the rule that first tests it (or 个转企).
    pub condition: &'a str,
    /// The measures it would open, in catalog order.
    pub measure_ids: Vec<&'a str>,
}

/// One notice in scope.
#[derive(Debug, Serialize)]
pub struct NoticeJson<'a> {
    /// The measure id.
    pub measure_id: &'a str,
    /// The measure's short title.
    pub title: String,
    /// 服务方式 from 附件2: where it is published.
    pub channels: &'a str,
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
    /// Eligible, amount pending, not eligible, undetermined or error.
    pub outcome: Outcome,
    /// The benefit in yuan, when eligible and counted in yuan (cash, a tax deduction or
    /// a fee waiver: see `benefit.kind`).
    pub amount_yuan: Option<f64>,
    /// The benefit in its own unit, when eligible and the measure has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub benefit: Option<BenefitJson<'a>>,
    /// Labels of the conditions that decided a `not_eligible` outcome.
    pub failed: Vec<&'a str>,
    /// Fields whose absence left the outcome undetermined, or the amount pending.
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
    /// Cash, a tax deduction, a fee waiver or a quota: only cash is money paid.
    pub kind: AmountKind,
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
            kind: b.kind,
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

/// The `explain --format json` answer: what the enterprise is told (`digest` of
/// `rec`), then every result of `rec`, in its order.
pub fn to_json<'a>(
    catalog: &'a Catalog,
    rec: &'a Recommendation,
    digest: &Digest,
) -> ExplainJson<'a> {
    ExplainJson {
        enterprise_id: &rec.enterprise_id,
        as_of: rec.as_of.to_string(),
        catalog_hash: &rec.catalog_hash,
        told: digest_json(catalog, rec, digest),
        results: rec
            .results
            .iter()
            .map(|r| result_json(&catalog.measures[r.index], r))
            .collect(),
    }
}

/// What the enterprise is told (`digest` of `rec`) in JSON, without the results.
pub fn digest_json<'a>(
    catalog: &'a Catalog,
    rec: &Recommendation,
    digest: &Digest,
) -> DigestJson<'a> {
    let measure = |i: usize| &catalog.measures[rec.results[i].index].measure;
    DigestJson {
        pushes: digest
            .pushes
            .iter()
            .enumerate()
            .map(|(place, &i)| {
                let r = &rec.results[i];
                let m = measure(i);
                PushJson {
                    rank: place + 1,
                    measure_id: &m.id,
                    title: title(m),
                    benefit: result_json(&catalog.measures[r.index], r).benefit,
                    amount_pending: pending(r),
                }
            })
            .collect(),
        held_back: digest.held_back,
        grants: digest
            .grants
            .iter()
            .map(|&i| GrantJson {
                measure_id: &measure(i).id,
                amount_yuan: measure(i).cash(rec.results[i].amount),
            })
            .collect(),
        unlocks: unlocks_json(catalog, digest),
        notices: digest
            .notices
            .iter()
            .map(|&i| NoticeJson {
                measure_id: &measure(i).id,
                title: title(measure(i)),
                channels: &measure(i).channels,
            })
            .collect(),
    }
}

/// The fields an amount-pending result waits on; empty otherwise.
fn pending(r: &MeasureResult) -> Vec<String> {
    if r.outcome == Outcome::AmountPending {
        r.missing_fields.clone()
    } else {
        Vec::new()
    }
}

fn unlocks_json<'a>(catalog: &'a Catalog, digest: &Digest) -> Vec<UnlockJson<'a>> {
    digest
        .unlocks
        .iter()
        .map(|u| UnlockJson {
            condition: catalog.unlock_keys.label(u.key),
            measure_ids: u
                .measures
                .iter()
                .map(|&m| catalog.measures[m as usize].measure.id.as_str())
                .collect(),
        })
        .collect()
}

/// The plain-text explanation an officer reads: what the enterprise is told (its
/// ranked pushes with their conditions, grants, unlocks, notices in scope), then the
/// rest folded under its counts — or, with `all`, every measure with every condition.
pub fn to_text(
    catalog: &Catalog,
    name: &str,
    rec: &Recommendation,
    digest: &Digest,
    all: bool,
) -> String {
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
        "{} measures: {} eligible, {} amount pending, {} undetermined, {} not eligible ({} near miss), {} error\n",
        rec.results.len(),
        count(Outcome::Eligible),
        count(Outcome::AmountPending),
        count(Outcome::Undetermined),
        count(Outcome::NotEligible),
        near,
        count(Outcome::Error),
    );
    let measure = |i: usize| &catalog.measures[rec.results[i].index].measure;
    let _ = writeln!(
        s,
        "推送 pushed: {} (ranked; {} more eligible held back by the cap)",
        digest.pushes.len(),
        digest.held_back
    );
    for (place, &i) in digest.pushes.iter().enumerate() {
        let _ = write!(s, "{:>2}. ", place + 1);
        measure_block(&mut s, catalog, &rec.results[i], true);
    }
    let _ = writeln!(s, "\n免申即享 granted: {}", digest.grants.len());
    for &i in &digest.grants {
        let m = measure(i);
        let amount = m
            .cash(rec.results[i].amount)
            .map_or_else(String::new, |a| format!(" · {a:.2} 元"));
        let _ = writeln!(s, "    {} {}{amount}", m.id, title(m));
    }
    let _ = writeln!(s, "\n可解锁 unlocks: {}", digest.unlocks.len());
    for (place, u) in unlocks_json(catalog, digest).iter().enumerate() {
        let _ = writeln!(
            s,
            "{:>2}. {}（可新享 {} 项：{}）",
            place + 1,
            u.condition,
            u.measure_ids.len(),
            u.measure_ids.join("、")
        );
    }
    let _ = writeln!(
        s,
        "\n政策告知 notices in scope (published once, not pushed): {}",
        digest.notices.len()
    );
    for &i in &digest.notices {
        let m = measure(i);
        let _ = writeln!(s, "    {} {}", m.id, title(m));
    }
    let told: std::collections::BTreeSet<usize> = digest
        .pushes
        .iter()
        .chain(&digest.grants)
        .chain(&digest.notices)
        .copied()
        .collect();
    let rest = |o: Outcome| {
        (0..rec.results.len())
            .filter(|i| !told.contains(i) && rec.results[*i].outcome == o)
            .count()
    };
    let _ = writeln!(
        s,
        "\n其余 the rest: {} eligible not pushed (held back, internal work, or not pushed), {} undetermined, {} not eligible, {} error",
        rest(Outcome::Eligible) + rest(Outcome::AmountPending),
        rest(Outcome::Undetermined),
        rest(Outcome::NotEligible),
        rest(Outcome::Error),
    );
    if !all {
        let _ = writeln!(
            s,
            "    (`explain --all` shows every measure with its conditions)"
        );
        return s;
    }
    let _ = writeln!(s, "\n全部措施 every measure:");
    for r in &rec.results {
        measure_block(&mut s, catalog, r, false);
    }
    s
}

/// One measure's outcome with each condition, its missing fields, near miss, amount
/// and error.
/// With `held_only`, alternatives the enterprise does not meet are left out (a push
/// shows why it is sent, not every way it might have been).
fn measure_block(s: &mut String, catalog: &Catalog, r: &MeasureResult, held_only: bool) {
    let cm = &catalog.measures[r.index];
    let groups = catalog.program.groups(&catalog.program.entries[r.index]);
    let shown = |g: usize| !held_only || g == 0 || groups[g] & !r.marks.passed == 0;
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
        return;
    }
    let mut group = 0;
    for (c, st) in cm.conditions.iter().zip(r.statuses(cm)) {
        if !shown(c.group) {
            continue;
        }
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
    // Missing for a condition (undetermined), or for the amount alone (pending).
    let missing = if r.outcome == Outcome::AmountPending {
        "amount pending, waits on"
    } else {
        "missing"
    };
    for f in &r.missing_fields {
        let def = catalog.schema.field(f);
        let meaning = def.map_or("", |d| d.meaning.as_str());
        let _ = writeln!(s, "    {missing}: `{f}` {meaning}");
    }
    if let Some(i) = r.near_miss {
        let _ = writeln!(
            s,
            "    near miss: only「{}」is not met",
            cm.conditions[i].label
        );
    }
    if let (Some(a), Some(b)) = (r.amount, &m.benefit) {
        let _ = writeln!(
            s,
            "    amount: {a:.2} {} · {} ({})",
            b.unit.chinese(),
            b.kind.chinese(),
            b.label
        );
    }
    if let Some(e) = &r.error {
        let _ = writeln!(s, "    error: {e}");
    }
}
