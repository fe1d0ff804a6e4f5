//! Evaluation: one enterprise against one measure, as of a date, with the reasons.
//!
//! Staged: the effective window, then every tag test on the interned bitset, then the
//! `when` clauses in rhai — only when no base tag test failed, and each only when every
//! field it reads is present (a missing field is reported, never guessed). The benefit
//! runs for eligible pairs only. [`decide`] turns the condition statuses into exactly one
//! outcome; the whole-script path uses the same function.

use std::sync::Arc;

use fixedbitset::FixedBitSet;
use jiff::civil::Date;
use rayon::prelude::*;
use rhai::{AST, Dynamic, Scope};
use serde::Serialize;

use crate::catalog::Catalog;
use crate::compile::{CompiledCondition, CompiledExpr, CompiledMeasure, CondKind};
use crate::dates;
use crate::engine::Ctx;
use crate::profile::{FieldValue, Profile};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Eligible,
    NotEligible,
    Undetermined,
    Error,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Eligible => "eligible",
            Outcome::NotEligible => "not_eligible",
            Outcome::Undetermined => "undetermined",
            Outcome::Error => "error",
        }
    }
}

/// What became of one condition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Passed,
    Failed,
    /// A field the clause reads is missing from the profile.
    Missing,
    /// Skipped: a tag test of its group (or of the base group) already failed.
    NotEvaluated,
    Error(String),
}

/// The result of one (enterprise, measure) pair.
#[derive(Debug, Clone, PartialEq)]
pub struct MeasureResult {
    /// Index into `Catalog::measures`.
    pub measure: usize,
    pub outcome: Outcome,
    /// The benefit, after its cap, rounded to 0.01, when eligible and the measure has one.
    pub amount: Option<f64>,
    pub in_effect: bool,
    /// One status per condition of the measure, in order.
    pub statuses: Vec<Status>,
    /// Fields whose absence left a condition or the benefit undetermined, sorted.
    pub missing_fields: Vec<String>,
    /// The condition index whose failure alone stands between the enterprise and the measure.
    pub near_miss: Option<usize>,
    pub error: Option<String>,
}

impl MeasureResult {
    /// Labels of the conditions that decided a `not_eligible` outcome.
    pub fn failed_labels<'c>(&self, m: &'c CompiledMeasure) -> Vec<&'c str> {
        if self.outcome != Outcome::NotEligible {
            return Vec::new();
        }
        if !self.in_effect {
            return vec![crate::check::OUT_OF_WINDOW];
        }
        let verdicts = group_verdicts(m, &self.statuses);
        let alts_failed = verdicts.len() > 1 && verdicts[1..].iter().all(|v| *v == Tri::False);
        m.conditions
            .iter()
            .zip(&self.statuses)
            .filter(|(c, s)| **s == Status::Failed && (c.group == 0 || alts_failed))
            .map(|(c, _)| c.label.as_str())
            .collect()
    }

    /// The amount when the measure's benefit is counted in yuan (not 亩 or a plot ratio).
    pub fn amount_yuan(&self, m: &crate::ir::Measure) -> Option<f64> {
        self.amount.filter(|_| {
            m.benefit
                .as_ref()
                .is_some_and(|b| b.unit == crate::syntax::Unit::Yuan)
        })
    }

    /// Labels of the conditions that held.
    pub fn passed_labels<'c>(&self, m: &'c CompiledMeasure) -> Vec<&'c str> {
        m.conditions
            .iter()
            .zip(&self.statuses)
            .filter(|(_, s)| **s == Status::Passed)
            .map(|(c, _)| c.label.as_str())
            .collect()
    }

    /// Specificity for ranking: how many conditions held.
    pub fn score(&self) -> usize {
        self.statuses
            .iter()
            .filter(|s| **s == Status::Passed)
            .count()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tri {
    True,
    False,
    Unknown,
}

fn group_verdicts(m: &CompiledMeasure, statuses: &[Status]) -> Vec<Tri> {
    let mut v = vec![Tri::True; m.groups];
    for (c, s) in m.conditions.iter().zip(statuses) {
        let g = &mut v[c.group];
        match s {
            Status::Failed => *g = Tri::False,
            Status::Missing | Status::NotEvaluated | Status::Error(_) if *g != Tri::False => {
                *g = Tri::Unknown
            }
            _ => {}
        }
    }
    v
}

/// The eligibility outcome and near miss decided by condition statuses alone.
/// Errors take precedence: a pair whose evaluation failed is never granted nor denied.
pub fn decide(m: &CompiledMeasure, statuses: &[Status]) -> (Outcome, Option<usize>) {
    if statuses.iter().any(|s| matches!(s, Status::Error(_))) {
        return (Outcome::Error, None);
    }
    let v = group_verdicts(m, statuses);
    let alts = if v.len() == 1 || v[1..].contains(&Tri::True) {
        Tri::True
    } else if v[1..].iter().all(|t| *t == Tri::False) {
        Tri::False
    } else {
        Tri::Unknown
    };
    let outcome = match (v[0], alts) {
        (Tri::False, _) | (_, Tri::False) => Outcome::NotEligible,
        (Tri::True, Tri::True) => Outcome::Eligible,
        _ => Outcome::Undetermined,
    };
    if outcome != Outcome::NotEligible {
        return (outcome, None);
    }
    // A near miss: exactly one failure, and everything else known to hold.
    let single_failure = |group: usize| {
        let mut failed = None;
        for (i, (_, s)) in m
            .conditions
            .iter()
            .zip(statuses)
            .enumerate()
            .filter(|(_, (c, _))| c.group == group)
        {
            match s {
                Status::Passed => {}
                Status::Failed if failed.is_none() => failed = Some(i),
                _ => return None,
            }
        }
        failed
    };
    let near = match (v[0], alts) {
        (Tri::False, Tri::True) => single_failure(0),
        (Tri::True, Tri::False) => (1..m.groups).find_map(single_failure),
        _ => None,
    };
    (outcome, near)
}

/// An enterprise prepared for a catalog: interned tags, field presence, script values.
pub struct Prepared<'p> {
    pub profile: &'p Profile,
    ctx: Ctx,
    values: Vec<(usize, Dynamic)>,
}

impl Catalog {
    pub fn prepare<'p>(&self, profile: &'p Profile) -> Prepared<'p> {
        let tags = self.interner.tagset(&self.schema, &profile.tags);
        let mut present = FixedBitSet::with_capacity(self.schema.fields.len());
        let mut values = Vec::with_capacity(profile.fields.len());
        for (name, v) in &profile.fields {
            let Some(def) = self.schema.field(name) else {
                continue;
            };
            present.insert(def.index);
            let d = match v {
                FieldValue::Number(n) => Dynamic::from_float(*n),
                FieldValue::Integer(i) => Dynamic::from_int(*i),
                FieldValue::Date(d) => Dynamic::from_int(dates::to_days(*d)),
                FieldValue::Bool(b) => Dynamic::from_bool(*b),
            };
            values.push((def.index, d));
        }
        Prepared {
            profile,
            ctx: Ctx {
                tags: Arc::new(tags),
                present: Arc::new(present),
            },
            values,
        }
    }
}

/// Evaluates prepared enterprises; one per worker thread, its `Scope` reused.
pub struct Evaluator<'c> {
    catalog: &'c Catalog,
    scope: Scope<'static>,
}

impl<'c> Evaluator<'c> {
    pub fn new(catalog: &'c Catalog) -> Self {
        Evaluator {
            catalog,
            scope: Scope::new(),
        }
    }

    /// Fills the scope with this enterprise's values. Missing fields are left out of the
    /// scope altogether, so no script can read them by accident.
    fn load(&mut self, e: &Prepared, as_of: Date) {
        self.scope.clear();
        self.scope.push("p", e.ctx.clone());
        self.scope.push("as_of", dates::to_days(as_of));
        for (i, v) in &e.values {
            self.scope
                .push_dynamic(self.catalog.schema.fields[*i].name.clone(), v.clone());
        }
    }

    fn run(&mut self, ast: &AST) -> Result<Dynamic, String> {
        self.catalog
            .engine
            .eval_ast_with_scope::<Dynamic>(&mut self.scope, ast)
            .map_err(|e| e.to_string())
    }

    fn when(&mut self, e: &Prepared, x: &CompiledExpr) -> Status {
        if !x.fields.iter().all(|&f| e.ctx.present.contains(f)) {
            return Status::Missing;
        }
        match self.run(&x.ast) {
            Ok(v) => match v.as_bool() {
                Ok(true) => Status::Passed,
                Ok(false) => Status::Failed,
                Err(t) => Status::Error(format!("condition gave a {t}, not a bool")),
            },
            Err(err) => Status::Error(err),
        }
    }

    /// Every measure of the catalog for one enterprise, in catalog order.
    pub fn evaluate_all(&mut self, e: &Prepared, as_of: Date) -> Vec<MeasureResult> {
        self.load(e, as_of);
        (0..self.catalog.measures.len())
            .map(|i| self.evaluate_loaded(e, i, as_of))
            .collect()
    }

    /// One measure for one enterprise.
    pub fn evaluate(&mut self, e: &Prepared, measure: usize, as_of: Date) -> MeasureResult {
        self.load(e, as_of);
        self.evaluate_loaded(e, measure, as_of)
    }

    fn evaluate_loaded(&mut self, e: &Prepared, index: usize, as_of: Date) -> MeasureResult {
        let cm = &self.catalog.measures[index];
        let mut r = MeasureResult {
            measure: index,
            outcome: Outcome::NotEligible,
            amount: None,
            in_effect: cm.measure.in_effect(as_of),
            statuses: vec![Status::NotEvaluated; cm.conditions.len()],
            missing_fields: Vec::new(),
            near_miss: None,
            error: None,
        };
        if !r.in_effect {
            return r;
        }
        let tags = &e.ctx.tags;
        for (c, s) in cm.conditions.iter().zip(r.statuses.iter_mut()) {
            let held = match &c.kind {
                CondKind::Has(b) => tags.contains(*b),
                CondKind::Any(bs) => bs.iter().any(|b| tags.contains(*b)),
                CondKind::Lacks(b) => !tags.contains(*b),
                CondKind::When(_) => continue,
            };
            *s = if held { Status::Passed } else { Status::Failed };
        }
        let failed_tag_groups: Vec<bool> = (0..cm.groups)
            .map(|g| {
                cm.conditions
                    .iter()
                    .zip(&r.statuses)
                    .any(|(c, s)| c.group == g && *s == Status::Failed)
            })
            .collect();
        if !failed_tag_groups[0] {
            for (c, s) in cm.conditions.iter().zip(r.statuses.iter_mut()) {
                if let CondKind::When(x) = &c.kind
                    && !failed_tag_groups[c.group]
                {
                    *s = self.when(e, x);
                }
            }
        }
        self.finish(e, cm, &mut r);
        r
    }

    /// Decides the outcome from the statuses, then computes the benefit if eligible.
    fn finish(&mut self, e: &Prepared, cm: &CompiledMeasure, r: &mut MeasureResult) {
        let (outcome, near) = decide(cm, &r.statuses);
        r.outcome = outcome;
        r.near_miss = near;
        r.error = r.statuses.iter().find_map(|s| match s {
            Status::Error(m) => Some(m.clone()),
            _ => None,
        });
        let mut missing: Vec<usize> = cm
            .conditions
            .iter()
            .zip(&r.statuses)
            .filter(|(_, s)| **s == Status::Missing)
            .flat_map(|(c, _)| when_fields(c))
            .filter(|f| !e.ctx.present.contains(*f))
            .collect();
        if outcome == Outcome::Eligible
            && let (Some(b), Some(decl)) = (&cm.benefit, &cm.measure.benefit)
        {
            let absent: Vec<usize> = b
                .fields
                .iter()
                .copied()
                .filter(|f| !e.ctx.present.contains(*f))
                .collect();
            if !absent.is_empty() {
                r.outcome = Outcome::Undetermined;
                missing.extend(absent);
            } else {
                match self.run(&b.ast).and_then(|v| amount(v, decl.cap)) {
                    Ok(a) => r.amount = Some(a),
                    Err(err) => {
                        r.outcome = Outcome::Error;
                        r.error = Some(format!("benefit: {err}"));
                    }
                }
            }
        }
        missing.sort_unstable();
        missing.dedup();
        let mut names: Vec<String> = missing
            .iter()
            .map(|&i| self.catalog.schema.fields[i].name.clone())
            .collect();
        names.sort();
        r.missing_fields = names;
    }
}

fn when_fields(c: &CompiledCondition) -> Vec<usize> {
    match &c.kind {
        CondKind::When(x) => x.fields.clone(),
        _ => Vec::new(),
    }
}

/// A benefit value as an amount: a finite number, at least 0, capped, rounded to 0.01.
pub fn amount(v: Dynamic, cap: Option<f64>) -> Result<f64, String> {
    let x = if let Ok(f) = v.as_float() {
        f
    } else if let Ok(i) = v.as_int() {
        i as f64
    } else {
        return Err(format!("benefit gave a {}, not a number", v.type_name()));
    };
    if !x.is_finite() || x < 0.0 {
        return Err(format!(
            "benefit amount {x} is not a finite number at least 0"
        ));
    }
    let x = cap.map_or(x, |c| x.min(c));
    Ok((x * 100.0).round() / 100.0)
}

/// The ranked answer for one enterprise.
#[derive(Debug, Clone)]
pub struct Recommendation {
    pub enterprise_id: String,
    pub as_of: Date,
    pub catalog_hash: String,
    /// One result per measure, ranked: eligible (by amount in yuan, then specificity), undetermined,
    /// near misses, other not-eligible, errors; ties by measure id.
    pub results: Vec<MeasureResult>,
}

fn rank(r: &MeasureResult) -> u8 {
    match (r.outcome, r.near_miss) {
        (Outcome::Eligible, _) => 0,
        (Outcome::Undetermined, _) => 1,
        (Outcome::NotEligible, Some(_)) => 2,
        (Outcome::NotEligible, None) => 3,
        (Outcome::Error, _) => 4,
    }
}

/// Ranks results in place; amounts are compared only between benefits in yuan.
pub fn sort_ranked(catalog: &Catalog, results: &mut [MeasureResult]) {
    let yuan = |r: &MeasureResult| {
        r.amount_yuan(&catalog.measures[r.measure].measure)
            .unwrap_or(-1.0)
    };
    results.sort_by(|a, b| {
        rank(a)
            .cmp(&rank(b))
            .then(yuan(b).total_cmp(&yuan(a)))
            .then(b.score().cmp(&a.score()))
            .then(a.measure.cmp(&b.measure))
    });
}

impl Catalog {
    /// Every measure for one enterprise, ranked, with reasons.
    pub fn recommend(&self, profile: &Profile, as_of: Date) -> Recommendation {
        let prepared = self.prepare(profile);
        let mut results = Evaluator::new(self).evaluate_all(&prepared, as_of);
        sort_ranked(self, &mut results);
        Recommendation {
            enterprise_id: profile.id.clone(),
            as_of,
            catalog_hash: self.hash.clone(),
            results,
        }
    }

    /// Every enterprise against every measure, in parallel; the results are in input
    /// order and catalog order whatever the number of threads.
    pub fn evaluate_batch(&self, profiles: &[Profile], as_of: Date) -> Vec<Vec<MeasureResult>> {
        profiles
            .par_iter()
            .map_init(
                || Evaluator::new(self),
                |ev, p| ev.evaluate_all(&self.prepare(p), as_of),
            )
            .collect()
    }

    /// The reference path: each measure's whole generated script, run alone, decided by
    /// the same [`decide`]. Slower; used to prove the staged path right.
    pub fn evaluate_whole_script(
        &self,
        profile: &Profile,
        measure: usize,
        as_of: Date,
    ) -> (Outcome, Option<f64>) {
        let cm = &self.measures[measure];
        if !cm.measure.in_effect(as_of) {
            return (Outcome::NotEligible, None);
        }
        let prepared = self.prepare(profile);
        let mut ev = Evaluator::new(self);
        ev.load(&prepared, as_of);
        let items = match ev.run(&cm.script_ast).map(|v| v.into_array()) {
            Ok(Ok(items)) => items,
            _ => return (Outcome::Error, None),
        };
        let statuses: Vec<Status> = items
            .iter()
            .take(cm.conditions.len())
            .map(|v| match v.as_bool() {
                Ok(true) => Status::Passed,
                Ok(false) => Status::Failed,
                Err(_) if v.is_unit() => Status::Missing,
                Err(t) => Status::Error(t.to_owned()),
            })
            .collect();
        let (outcome, _) = decide(cm, &statuses);
        match (outcome, &cm.measure.benefit, items.get(cm.conditions.len())) {
            (Outcome::Eligible, Some(_), Some(v)) if v.is_unit() => (Outcome::Undetermined, None),
            (Outcome::Eligible, Some(decl), Some(v)) => match amount(v.clone(), decl.cap) {
                Ok(a) => (Outcome::Eligible, Some(a)),
                Err(_) => (Outcome::Error, None),
            },
            (o, _, _) => (o, None),
        }
    }
}
