//! Evaluation: one enterprise against one measure, as of a date, with the reasons.
//!
//! Staged: the effective window, then every tag test on the interned bitset, then the
//! `when` clauses in rhai — only when no base tag test failed, and each only when every
//! field it reads is present (a missing field is reported, never guessed). The benefit
//! runs for eligible pairs only. [`decide`] turns the condition statuses into exactly one
//! outcome; the whole-script path uses the same function.

pub mod columns;

use std::sync::Arc;

use jiff::civil::Date;
use rayon::prelude::*;
use rhai::{AST, Dynamic, Scope};
use serde::Serialize;

use crate::compile::CompiledExpr;
use crate::compile::CompiledMeasure;
use crate::compile::CondKind;
use crate::compile::Lowered;
use crate::compile::catalog::Catalog;
use crate::compile::engine::Ctx;
use crate::compile::native;
use crate::compile::program::Entry;
use crate::compile::program::TagKind;
use crate::dates;
use crate::eval::columns::Columns;
use crate::eval::columns::Row;
use crate::profile::enterprise::Profile;
use crate::profile::schema::FieldType;
use crate::rules::id::MeasureId;

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
    /// The measure, by id: look it up with [`Catalog::measure`].
    pub measure: MeasureId,
    /// The measure's position in the catalog that produced this result; meaningless
    /// against another catalog version.
    #[doc(hidden)]
    pub index: usize,
    pub outcome: Outcome,
    /// The benefit, after its cap, rounded to 0.01, when eligible and the measure has one.
    pub amount: Option<f64>,
    pub in_effect: bool,
    /// What became of each condition (condition `i` is bit `i`); [`MeasureResult::statuses`]
    /// lists them. Masks rather than a list: a result then allocates nothing unless it
    /// has something to report.
    pub marks: Marks,
    /// The message of each condition that raised an error, by condition index.
    pub errors: Vec<(usize, String)>,
    /// Fields whose absence left a condition or the benefit undetermined, sorted.
    pub missing_fields: Vec<String>,
    /// The condition index whose failure alone stands between the enterprise and the measure.
    pub near_miss: Option<usize>,
    pub error: Option<String>,
}

impl MeasureResult {
    /// A decided pair with its marks and what it reported; the pair's error text is
    /// taken, not copied.
    fn of(
        measure: MeasureId,
        pair: &mut Pair,
        marks: Marks,
        (errors, missing_fields): Reported,
    ) -> MeasureResult {
        MeasureResult {
            measure,
            index: pair.measure,
            outcome: pair.outcome,
            amount: pair.amount,
            in_effect: pair.in_effect,
            marks,
            errors,
            missing_fields,
            near_miss: pair.near_miss,
            error: pair.error.take(),
        }
    }

    /// Labels of the conditions that decided a `not_eligible` outcome.
    pub fn failed_labels<'c>(&self, m: &'c CompiledMeasure) -> Vec<&'c str> {
        if self.outcome != Outcome::NotEligible {
            return Vec::new();
        }
        if !self.in_effect {
            return vec![crate::names::OUT_OF_WINDOW];
        }
        let alts_failed =
            m.groups > 1 && self.marks.alternatives(&group_masks(m)[1..]) == Tri::False;
        m.conditions
            .iter()
            .enumerate()
            .filter(|(i, c)| self.marks.failed & (1 << i) != 0 && (c.group == 0 || alts_failed))
            .map(|(_, c)| c.label.as_str())
            .collect()
    }

    /// The amount when the measure's benefit is counted in yuan (not 亩 or a plot ratio).
    pub fn amount_yuan(&self, m: &crate::rules::ir::Measure) -> Option<f64> {
        m.yuan(self.amount)
    }

    /// Specificity for ranking: how many conditions held.
    pub fn score(&self) -> usize {
        self.marks.passed.count_ones() as usize
    }

    /// One status per condition of `m` (the measure of this result), in order.
    pub fn statuses(&self, m: &CompiledMeasure) -> Vec<Status> {
        self.marks.statuses(m.conditions.len(), &self.errors)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tri {
    True,
    False,
    Unknown,
}

/// The statuses of one pair's conditions as bit masks (bit `i` is condition `i`): what
/// held, what failed, what lacked a field, what raised an error. A condition in none of
/// them was not evaluated. Deciding a pair is a handful of mask operations.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Marks {
    pub passed: u64,
    pub failed: u64,
    pub missing: u64,
    pub error: u64,
}

impl Marks {
    pub fn of(statuses: &[Status]) -> Marks {
        let mut m = Marks::default();
        for (i, s) in statuses.iter().enumerate() {
            let bit = 1 << i;
            match s {
                Status::Passed => m.passed |= bit,
                Status::Failed => m.failed |= bit,
                Status::Missing => m.missing |= bit,
                Status::Error(_) => m.error |= bit,
                Status::NotEvaluated => {}
            }
        }
        m
    }

    /// The statuses of `n` conditions; `errors` holds the message of each error mark.
    pub fn statuses(&self, n: usize, errors: &[(usize, String)]) -> Vec<Status> {
        (0..n)
            .map(|i| {
                let bit = 1 << i;
                if self.passed & bit != 0 {
                    Status::Passed
                } else if self.failed & bit != 0 {
                    Status::Failed
                } else if self.missing & bit != 0 {
                    Status::Missing
                } else if self.error & bit != 0 {
                    let message = errors.iter().find(|(c, _)| *c == i);
                    Status::Error(message.map(|(_, e)| e.clone()).unwrap_or_default())
                } else {
                    Status::NotEvaluated
                }
            })
            .collect()
    }

    /// The verdict of the group whose conditions are `group`.
    #[inline]
    fn verdict(&self, group: u64) -> Tri {
        if self.failed & group != 0 {
            Tri::False
        } else if self.passed & group == group {
            Tri::True
        } else {
            Tri::Unknown
        }
    }

    /// The verdict of the alternatives together: true when there are none.
    #[inline]
    fn alternatives(&self, alts: &[u64]) -> Tri {
        if alts.is_empty() {
            return Tri::True;
        }
        let mut all_false = true;
        for &g in alts {
            match self.verdict(g) {
                Tri::True => return Tri::True,
                Tri::False => {}
                Tri::Unknown => all_false = false,
            }
        }
        if all_false { Tri::False } else { Tri::Unknown }
    }

    /// The one failed condition of a group whose every other condition held.
    fn single_failure(&self, group: u64) -> Option<usize> {
        let f = self.failed & group;
        // Exactly one bit, without `count_ones` (nor `is_power_of_two`, which calls it):
        // the baseline x86-64 target has no popcount instruction, and this runs per pair.
        (f != 0 && f & (f - 1) == 0 && (self.passed | f) & group == group)
            .then(|| f.trailing_zeros() as usize)
    }
}

/// The eligibility outcome and near miss decided by condition statuses alone.
/// Errors take precedence: a pair whose evaluation failed is never granted nor denied.
pub fn decide(m: &CompiledMeasure, statuses: &[Status]) -> (Outcome, Option<usize>) {
    let groups = group_masks(m);
    decide_marks(groups[0], &groups[1..], &Marks::of(statuses))
}

/// For each group of a measure, the bits of its conditions.
fn group_masks(m: &CompiledMeasure) -> Vec<u64> {
    let mut groups = vec![0; m.groups];
    for (i, c) in m.conditions.iter().enumerate() {
        groups[c.group] |= 1 << i;
    }
    groups
}

/// [`decide`] on marks, given the measure's group masks: the base group, the alternatives.
#[inline(always)]
fn decide_marks(base_group: u64, alt_groups: &[u64], marks: &Marks) -> (Outcome, Option<usize>) {
    if marks.error != 0 {
        return (Outcome::Error, None);
    }
    let base = marks.verdict(base_group);
    let alts = marks.alternatives(alt_groups);
    let outcome = match (base, alts) {
        (Tri::False, _) | (_, Tri::False) => Outcome::NotEligible,
        (Tri::True, Tri::True) => Outcome::Eligible,
        _ => Outcome::Undetermined,
    };
    // A near miss: exactly one failure, and everything else known to hold.
    let near = match (base, alts) {
        (Tri::False, Tri::True) => marks.single_failure(base_group),
        (Tri::True, Tri::False) => alt_groups.iter().find_map(|&g| marks.single_failure(g)),
        _ => None,
    };
    (outcome, near)
}

/// Which evaluator decides `when` clauses and benefits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EngineKind {
    /// The native lowering wherever it covers the expression, rhai elsewhere.
    #[default]
    Native,
    /// rhai for every expression: the reference the native engine is proved against.
    Rhai,
}

impl EngineKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EngineKind::Native => "native",
            EngineKind::Rhai => "rhai",
        }
    }
}

impl std::str::FromStr for EngineKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "native" => Ok(EngineKind::Native),
            "rhai" => Ok(EngineKind::Rhai),
            _ => Err(format!("unknown engine `{s}`: expected `native` or `rhai`")),
        }
    }
}

/// How [`Catalog::recommend_with`] and [`Catalog::evaluate_batch_with`] evaluate; the
/// default is what [`Catalog::recommend`] and [`Catalog::evaluate_batch`] use.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EvalOptions {
    /// Which engine runs the `when` clauses and benefits; both give the same answers.
    pub engine: EngineKind,
}

/// Enterprises per block of a [`Catalog::sweep`]: enough to amortise scheduling, few
/// enough to keep every core busy to the end of a chunk.
pub const SWEEP_BLOCK: usize = 256;

/// How a [`Catalog::sweep`] evaluates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SweepOptions {
    pub as_of: Date,
    pub engine: EngineKind,
    /// See [`Evaluator::with_options`]: a pair the prefilter decides has no statuses.
    pub prefilter: bool,
}

/// One enterprise prepared on its own: a batch of one.
pub struct Prepared<'p> {
    pub profile: &'p Profile,
    columns: Columns,
}

impl Prepared<'_> {
    pub fn row(&self) -> Row<'_> {
        self.columns.row(0)
    }
}

impl Catalog {
    pub fn prepare<'p>(&self, profile: &'p Profile) -> Prepared<'p> {
        Prepared {
            profile,
            columns: Columns::new(self, std::slice::from_ref(profile)),
        }
    }
}

/// Evaluates enterprises; one per worker thread, its buffers and rhai `Scope` reused, so
/// that a pair allocates nothing unless it has something to report.
pub struct Evaluator<'c> {
    catalog: &'c Catalog,
    engine: EngineKind,
    prefilter: bool,
    scope: Scope<'static>,
    /// Whether `scope` holds the current subject's values.
    loaded: bool,
    /// The last pair's statuses, and the message of each condition that raised an error.
    marks: Marks,
    errors: Vec<(usize, String)>,
    missing: Vec<usize>,
}

/// The verdict on one pair. The condition statuses stay in the [`Subject`] until its next
/// pair.
#[derive(Debug, Clone, PartialEq)]
pub struct Pair {
    pub measure: usize,
    pub outcome: Outcome,
    pub in_effect: bool,
    pub near_miss: Option<usize>,
    pub amount: Option<f64>,
    pub error: Option<String>,
}

impl<'c> Evaluator<'c> {
    /// The native engine, every condition evaluated (statuses complete for explanations).
    pub fn new(catalog: &'c Catalog) -> Self {
        Self::with_options(catalog, EngineKind::Native, false)
    }

    /// With `prefilter`, a pair whose base group already fails two tag tests is decided
    /// `not_eligible` from bitset words alone and its statuses are left unevaluated: for
    /// batches, which report nothing of such pairs.
    pub fn with_options(catalog: &'c Catalog, engine: EngineKind, prefilter: bool) -> Self {
        Evaluator {
            catalog,
            engine,
            prefilter,
            scope: Scope::new(),
            loaded: false,
            marks: Marks::default(),
            errors: Vec::new(),
            missing: Vec::new(),
        }
    }

    /// Starts on one enterprise.
    pub fn subject<'e, 'r>(&'e mut self, row: Row<'r>, as_of: Date) -> Subject<'e, 'c, 'r> {
        self.loaded = false;
        Subject {
            ev: self,
            row,
            as_of_days: dates::to_days(as_of),
        }
    }

    /// Every measure of the catalog for one enterprise, in catalog order.
    pub fn evaluate_all(&mut self, row: Row, as_of: Date) -> Vec<MeasureResult> {
        let mut s = self.subject(row, as_of);
        (0..s.ev.catalog.measures.len())
            .map(|i| s.result(i))
            .collect()
    }

    /// One measure for one enterprise.
    pub fn evaluate(&mut self, row: Row, measure: usize, as_of: Date) -> MeasureResult {
        self.subject(row, as_of).result(measure)
    }
}

/// A pair's error texts by condition, and its missing field names.
type Reported = (Vec<(usize, String)>, Vec<String>);

/// An evaluator working on one enterprise: its rhai scope is filled at most once, and
/// only if some expression needs rhai.
pub struct Subject<'e, 'c, 'r> {
    ev: &'e mut Evaluator<'c>,
    row: Row<'r>,
    as_of_days: i64,
}

impl<'c> Subject<'_, 'c, '_> {
    /// Fills the scope with this enterprise's values. Missing fields are left out of the
    /// scope altogether, so no script can read them by accident.
    fn load(&mut self) {
        let ev = &mut *self.ev;
        let schema = &ev.catalog.schema;
        ev.scope.clear();
        ev.scope.push(
            "p",
            Ctx {
                tags: Arc::new(self.row.tag_set(ev.catalog.interner.len())),
                present: Arc::new(self.row.present_set(schema.fields.len())),
            },
        );
        ev.scope.push("as_of", self.as_of_days);
        for f in &schema.fields {
            if !self.row.is_present(f.index) {
                continue;
            }
            let w = self.row.value(f.index);
            let d = match f.ty {
                FieldType::Number => Dynamic::from_float(f64::from_bits(w)),
                FieldType::Integer | FieldType::Date => Dynamic::from_int(w as i64),
                FieldType::Bool => Dynamic::from_bool(w != 0),
            };
            ev.scope.push_dynamic(f.name.clone(), d);
        }
        ev.loaded = true;
    }

    fn run(&mut self, ast: &AST) -> Result<Dynamic, String> {
        if !self.ev.loaded {
            self.load();
        }
        let ev = &mut *self.ev;
        let engine = &ev.catalog.engine;
        let scope = &mut ev.scope;
        // rhai does not catch a panic inside a registered function; left alone it would
        // unwind through rayon and abort the whole batch. It becomes this pair's error,
        // and the scope, which the panic may have left half-updated, is rebuilt.
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            engine.eval_ast_with_scope::<Dynamic>(scope, ast)
        }))
        .unwrap_or_else(|payload| {
            ev.loaded = false;
            Err(format!("internal error: {}", crate::diag::panic_message(&*payload)).into())
        })
        .map_err(|e| e.to_string())
    }

    fn all_present(&self, fields: &[usize]) -> bool {
        fields.iter().all(|&f| self.row.is_present(f))
    }

    fn at(&self) -> native::At<'_> {
        native::At {
            row: &self.row,
            as_of: self.as_of_days,
        }
    }

    fn when(&mut self, x: &CompiledExpr) -> Status {
        if !self.all_present(&x.fields) {
            return Status::Missing;
        }
        if self.ev.engine == EngineKind::Native
            && let Some(Lowered::Bool(b)) = &x.native
            && let Ok(held) = b.eval(&self.at())
        {
            return if held { Status::Passed } else { Status::Failed };
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

    fn benefit(&mut self, b: &CompiledExpr, cap: Option<f64>) -> Result<f64, String> {
        if self.ev.engine == EngineKind::Native
            && let Some(Lowered::Num(n)) = &b.native
            && let Ok(x) = n.eval(&self.at())
        {
            return amount_value(x, cap);
        }
        self.run(&b.ast).and_then(|v| amount(v, cap))
    }

    /// Decides one measure. The statuses are complete unless the evaluator prefilters and
    /// the pair was decided by its tag words alone.
    ///
    /// Inlined where it is called: most measures (one group of tag tests, no clause, no
    /// benefit) are decided here in a few dozen instructions, the rest out of line. Those
    /// measures skip the prefilter, which could save them nothing.
    #[inline]
    pub fn pair(&mut self, index: usize) -> Pair {
        let e = &self.ev.catalog.program.entries[index];
        if !(e.tags_decide && (e.from..=e.until).contains(&self.as_of_days)) {
            return self.pair_in_full(index);
        }
        self.ev.errors.clear();
        self.ev.missing.clear();
        let passed = self.tag_tests(e);
        let marks = Marks {
            passed,
            failed: e.tag_conditions & !passed,
            ..Marks::default()
        };
        self.ev.marks = marks;
        let (outcome, near_miss) = decide_marks(e.base_group, &[], &marks);
        Pair {
            measure: index,
            outcome,
            in_effect: true,
            near_miss,
            amount: None,
            error: None,
        }
    }

    /// The conditions whose tag tests hold, without a branch on the outcome of each test:
    /// which tests hold is data.
    #[inline(always)]
    fn tag_tests(&self, e: &Entry) -> u64 {
        let program = &self.ev.catalog.program;
        let mut passed = 0;
        for t in program.tags(e) {
            let held = match t.kind {
                TagKind::Has => self.row.has(t.bit as usize),
                TagKind::Lacks => !self.row.has(t.bit as usize),
                TagKind::Any => program
                    .any_bits(t)
                    .iter()
                    .any(|&b| self.row.has(b as usize)),
            };
            passed |= u64::from(held) << t.condition;
        }
        passed
    }

    /// [`Subject::pair`] for every other measure, and out of its effective window.
    #[inline(never)]
    fn pair_in_full(&mut self, index: usize) -> Pair {
        let catalog: &'c Catalog = self.ev.catalog;
        let e = &catalog.program.entries[index];
        self.ev.errors.clear();
        self.ev.missing.clear();
        let pair = Pair {
            measure: index,
            outcome: Outcome::NotEligible,
            in_effect: (e.from..=e.until).contains(&self.as_of_days),
            near_miss: None,
            amount: None,
            error: None,
        };
        if !pair.in_effect || (self.ev.prefilter && self.prefiltered(e)) {
            self.ev.marks = Marks::default();
            return pair;
        }
        let passed = self.tag_tests(e);
        let marks = Marks {
            passed,
            failed: e.tag_conditions & !passed,
            ..Marks::default()
        };
        self.rest(e, marks, pair)
    }

    /// Whether the prefilter decides the pair: two certain failures among the base tag
    /// tests, counted without a popcount (see `single_failure`).
    fn prefiltered(&self, e: &Entry) -> bool {
        let (mut some, mut two) = (false, false);
        for w in self.ev.catalog.program.prefilter(e) {
            let t = self.row.tags.get(w.word).copied().unwrap_or(0);
            let f = (w.required & !t) | (w.forbidden & t);
            two |= (some && f != 0) || (f & f.wrapping_sub(1)) != 0;
            some |= f != 0;
        }
        two
    }

    /// The `when` clauses, the alternatives and the benefit, after the tag tests.
    fn rest(&mut self, e: &Entry, mut marks: Marks, mut pair: Pair) -> Pair {
        let catalog: &'c Catalog = self.ev.catalog;
        let program = &catalog.program;
        let index = pair.measure;
        let row = self.row;
        let whens = program.whens(e);
        if !whens.is_empty() && marks.failed & e.base_group == 0 {
            let groups = program.groups(e);
            let cm: &'c CompiledMeasure = &catalog.measures[index];
            for w in whens {
                if marks.failed & groups[w.group as usize] == 0 {
                    let i = w.condition as usize;
                    let CondKind::When(x) = &cm.conditions[i].kind else {
                        unreachable!("the program lists `when` clauses only")
                    };
                    let bit = 1 << i;
                    match self.when(x) {
                        Status::Passed => marks.passed |= bit,
                        Status::Failed => marks.failed |= bit,
                        Status::Missing => {
                            marks.missing |= bit;
                            self.ev
                                .missing
                                .extend(x.fields.iter().filter(|&&f| !row.is_present(f)));
                        }
                        Status::Error(e) => {
                            marks.error |= bit;
                            self.ev.errors.push((i, e));
                        }
                        Status::NotEvaluated => {}
                    }
                }
            }
        }
        self.ev.marks = marks;
        let (outcome, near) = decide_marks(e.base_group, program.alternatives(e), &marks);
        pair.outcome = outcome;
        pair.near_miss = near;
        if marks.error != 0 {
            pair.error = self.ev.errors.first().map(|(_, e)| e.clone());
        }
        // The compiled measure is large and far away: read only when there is a benefit.
        if outcome == Outcome::Eligible
            && e.has_benefit
            && let cm = &catalog.measures[index]
            && let (Some(b), Some(decl)) = (&cm.benefit, &cm.measure.benefit)
        {
            if !self.all_present(&b.fields) {
                pair.outcome = Outcome::Undetermined;
                self.ev
                    .missing
                    .extend(b.fields.iter().filter(|&&f| !row.is_present(f)));
            } else {
                match self.benefit(b, decl.cap) {
                    Ok(a) => pair.amount = Some(a),
                    Err(err) => {
                        pair.outcome = Outcome::Error;
                        pair.error = Some(format!("benefit: {err}"));
                    }
                }
            }
        }
        pair
    }

    /// The conditions of the last pair that held (bit `i` is condition `i`).
    pub fn passed(&self) -> u64 {
        self.ev.marks.passed
    }

    /// Specificity of the last pair, for ranking: how many conditions held.
    pub fn score(&self) -> usize {
        self.ev.marks.passed.count_ones() as usize
    }

    /// The statuses of the last pair decided, one per condition of `index`.
    pub fn statuses(&self, index: usize) -> Vec<Status> {
        let n = self.ev.catalog.measures[index].conditions.len();
        self.ev.marks.statuses(n, &self.ev.errors)
    }

    /// Fields whose absence left the last pair undetermined, sorted by name, without
    /// duplicates.
    pub fn missing_fields(&self) -> Vec<&'c str> {
        let fields = &self.ev.catalog.schema.fields;
        let mut names: Vec<&'c str> = self
            .ev
            .missing
            .iter()
            .map(|&i| fields[i].name.as_str())
            .collect();
        names.sort_unstable();
        names.dedup();
        names
    }

    /// One measure decided, with everything an explanation needs.
    pub fn result(&mut self, index: usize) -> MeasureResult {
        let mut pair = self.pair(index);
        MeasureResult::of(
            self.ev.catalog.ids[pair.measure],
            &mut pair,
            self.ev.marks,
            self.reported(),
        )
    }

    /// The last pair's error texts and missing field names, owned.
    fn reported(&self) -> Reported {
        // Most pairs have neither: skip the generic paths that find so.
        let errors = if self.ev.errors.is_empty() {
            Vec::new()
        } else {
            self.ev.errors.clone()
        };
        let missing = if self.ev.missing.is_empty() {
            Vec::new()
        } else {
            self.missing_fields()
                .into_iter()
                .map(str::to_owned)
                .collect()
        };
        (errors, missing)
    }

    /// Every measure decided and ranked: eligible (by amount in yuan, then specificity),
    /// undetermined, near misses, other not-eligible, errors; ties by measure index.
    /// Amounts are compared only between benefits in yuan.
    fn ranked(&mut self) -> Vec<MeasureResult> {
        let catalog = self.ev.catalog;
        let n = catalog.measures.len();
        // Each pair kept as plain data until its place is known, its rare owned parts
        // aside: moving whole results through a sort costs more than deciding them.
        let mut decided: Vec<(Pair, Marks, usize)> = Vec::with_capacity(n);
        let mut extras: Vec<Reported> = Vec::new();
        for i in 0..n {
            let pair = self.pair(i);
            let extra = if self.ev.errors.is_empty() && self.ev.missing.is_empty() {
                usize::MAX
            } else {
                extras.push(self.reported());
                extras.len() - 1
            };
            decided.push((pair, self.ev.marks, extra));
        }
        let yuan = |p: &Pair| catalog.measures[p.measure].measure.yuan(p.amount);
        // The distinct amounts in yuan, largest first. An amount enters its result's key
        // as its place in this list, so that the whole key is one small integer.
        let mut amounts: Vec<f64> = decided.iter().filter_map(|(p, ..)| yuan(p)).collect();
        amounts.sort_unstable_by(|a, b| b.total_cmp(a));
        amounts.dedup_by(|a, b| a.total_cmp(b).is_eq());
        // The rank, then the amount's place (none last), then the score descending (7 bits:
        // at most 64 conditions), then the measure index, which makes every key distinct.
        let mut keys: Vec<u64> = decided
            .iter()
            .map(|(p, marks, _)| {
                let place = yuan(p).map_or(amounts.len(), |a| {
                    amounts.partition_point(|x| x.total_cmp(&a).is_gt())
                }) as u64;
                let score_desc = 127 - u64::from(marks.passed.count_ones().min(127));
                (u64::from(rank(p.outcome, p.near_miss)) << 48)
                    | (place << 39)
                    | (score_desc << 32)
                    | p.measure as u64
            })
            .collect();
        keys.sort_unstable();
        keys.iter()
            .map(|k| {
                let (pair, marks, extra) = &mut decided[(k & u64::from(u32::MAX)) as usize];
                let reported = extras
                    .get_mut(*extra)
                    .map(std::mem::take)
                    .unwrap_or_default();
                MeasureResult::of(catalog.ids[pair.measure], pair, *marks, reported)
            })
            .collect()
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
    amount_value(x, cap)
}

fn amount_value(x: f64, cap: Option<f64>) -> Result<f64, String> {
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

fn rank(outcome: Outcome, near_miss: Option<usize>) -> u8 {
    match (outcome, near_miss) {
        (Outcome::Eligible, _) => 0,
        (Outcome::Undetermined, _) => 1,
        (Outcome::NotEligible, Some(_)) => 2,
        (Outcome::NotEligible, None) => 3,
        (Outcome::Error, _) => 4,
    }
}

impl Catalog {
    /// Every measure for one enterprise, ranked, with reasons; the native engine.
    pub fn recommend(&self, profile: &Profile, as_of: Date) -> Recommendation {
        self.recommend_with(profile, as_of, &EvalOptions::default())
    }

    /// [`Catalog::recommend`] with options.
    pub fn recommend_with(
        &self,
        profile: &Profile,
        as_of: Date,
        opts: &EvalOptions,
    ) -> Recommendation {
        let prepared = self.prepare(profile);
        let results = Evaluator::with_options(self, opts.engine, false)
            .subject(prepared.row(), as_of)
            .ranked();
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
        self.evaluate_batch_with(profiles, as_of, &EvalOptions::default())
    }

    /// [`Catalog::evaluate_batch`] with options.
    pub fn evaluate_batch_with(
        &self,
        profiles: &[Profile],
        as_of: Date,
        opts: &EvalOptions,
    ) -> Vec<Vec<MeasureResult>> {
        let engine = opts.engine;
        let columns = Columns::new(self, profiles);
        (0..columns.len())
            .into_par_iter()
            .map_init(
                || Evaluator::with_options(self, engine, false),
                |ev, i| ev.evaluate_all(columns.row(i), as_of),
            )
            .collect()
    }

    /// Every enterprise of `columns` against every measure, in parallel blocks of
    /// [`SWEEP_BLOCK`] enterprises. Each block starts from `init()`; `visit` sees every pair
    /// of the block in (enterprise, measure) order, with the subject for its statuses,
    /// reasons and missing fields. The blocks come back in order, so whatever the number
    /// of threads a caller that folds them in order gets the same result.
    pub fn sweep<B, I, V>(
        &self,
        columns: &Columns,
        opts: &SweepOptions,
        init: I,
        visit: V,
    ) -> Vec<B>
    where
        B: Send,
        I: Fn() -> B + Sync + Send,
        V: Fn(&mut B, usize, &Pair, &Subject) + Sync + Send,
    {
        let blocks = columns.len().div_ceil(SWEEP_BLOCK);
        (0..blocks)
            .into_par_iter()
            .map_init(
                || Evaluator::with_options(self, opts.engine, opts.prefilter),
                |ev, k| {
                    let mut block = init();
                    for i in k * SWEEP_BLOCK..columns.len().min((k + 1) * SWEEP_BLOCK) {
                        let mut subject = ev.subject(columns.row(i), opts.as_of);
                        for m in 0..self.measures.len() {
                            let pair = subject.pair(m);
                            visit(&mut block, i, &pair, &subject);
                        }
                    }
                    block
                },
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
        let mut ev = Evaluator::with_options(self, EngineKind::Rhai, false);
        let mut subject = ev.subject(prepared.row(), as_of);
        let items = match subject.run(&cm.script_ast).map(|v| v.into_array()) {
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

#[cfg(test)]
mod tests {
    //! Failures inside the engine that no checked rule can provoke: a panicking helper and
    //! an exhausted operation budget. Both are reached here by changing the catalog's own
    //! engine after loading the rules of `fixtures/hostile_rules`.
    use super::*;
    use crate::profile::enterprise::RawValue;
    use crate::rules::sources::Sources;
    use rhai::INT;

    fn hostile() -> Catalog {
        let mut sources = Sources::builtin();
        sources
            .files
            .retain(|path, _| !path.starts_with("measures/"));
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/hostile_rules/measures");
        for entry in std::fs::read_dir(dir).expect("fixtures") {
            let path = entry.expect("entry").path();
            let name = path.file_name().expect("name").to_string_lossy();
            let text = std::fs::read_to_string(&path).expect("readable");
            sources
                .files
                .insert(format!("measures/{name}"), text.into());
        }
        Catalog::from_sources(&sources).expect("the hostile rules load")
    }

    fn population(c: &Catalog) -> Vec<Profile> {
        (0..300)
            .map(|i: i64| {
                let founded = format!("{}-03-{:02}", 1990 + i % 30, 1 + i % 28);
                Profile::build(
                    &c.schema,
                    format!("E{i:04}"),
                    "测试".into(),
                    vec!["kind:enterprise".into()],
                    [
                        ("employees".to_owned(), RawValue::Integer(1 + i % 12)),
                        ("revenue_10k_yuan".to_owned(), RawValue::Number(i as f64)),
                        ("founded".to_owned(), RawValue::Text(founded)),
                    ],
                )
                .expect("fits the schema")
            })
            .collect()
    }

    fn index(c: &Catalog, id: &str) -> usize {
        c.measures.iter().position(|m| m.measure.id == id).unwrap()
    }

    /// Every pair of every measure but `bad` is as in `reference`; no error is granted.
    fn only_measure_affected(
        reference: &[Vec<MeasureResult>],
        got: &[Vec<MeasureResult>],
        bad: usize,
    ) {
        for (r, g) in reference.iter().zip(got) {
            for (a, b) in r.iter().zip(g) {
                if a.index != bad {
                    assert_eq!(a, b);
                }
                if b.outcome == Outcome::Error {
                    assert_eq!(b.amount, None, "an error is never granted");
                }
            }
        }
    }

    #[test]
    fn the_ranking_key_orders_as_the_plain_tuple() {
        let c = Catalog::builtin().expect("built-in");
        let lines = include_str!("../../fixtures/enterprises.jsonl");
        let as_of = jiff::civil::date(2025, 6, 30);
        for line in lines.lines() {
            let p = Profile::from_json(&c.schema, line).expect("fixture");
            let ranked = c.recommend(&p, as_of).results;
            let mut plain = ranked.clone();
            plain.reverse();
            let yuan =
                |r: &MeasureResult| r.amount_yuan(&c.measures[r.index].measure).unwrap_or(-1.0);
            plain.sort_by(|a, b| {
                rank(a.outcome, a.near_miss)
                    .cmp(&rank(b.outcome, b.near_miss))
                    .then(yuan(b).total_cmp(&yuan(a)))
                    .then(b.score().cmp(&a.score()))
                    .then(a.index.cmp(&b.index))
            });
            let ids = |rs: &[MeasureResult]| rs.iter().map(|r| r.index).collect::<Vec<_>>();
            assert_eq!(ids(&ranked), ids(&plain), "{}", p.id);
        }
    }

    #[test]
    fn a_panic_inside_a_helper_is_that_pairs_error_and_the_batch_goes_on() {
        let reference = hostile();
        let profiles = population(&reference);
        let as_of = jiff::civil::date(2025, 6, 30);
        let want = reference.evaluate_batch_with(
            &profiles,
            as_of,
            &EvalOptions {
                engine: EngineKind::Rhai,
            },
        );

        let mut c = hostile();
        // Replaces the catalog's `year` with one that panics on odd days.
        c.engine.register_fn("year", |d: INT| -> INT {
            assert!(d % 2 == 0, "helper bug on day {d}");
            2000
        });
        let bad = index(&c, "M903");
        let got = c.evaluate_batch_with(
            &profiles,
            as_of,
            &EvalOptions {
                engine: EngineKind::Rhai,
            },
        );
        only_measure_affected(&want, &got, bad);
        let mut errors = 0;
        for (p, results) in profiles.iter().zip(&got) {
            let r = &results[bad];
            let day = match p.fields.get("founded") {
                Some(crate::profile::enterprise::FieldValue::Date(d)) => dates::to_days(*d),
                other => panic!("{other:?}"),
            };
            if day % 2 == 0 {
                assert_eq!(r.outcome, Outcome::Eligible, "{}", p.id);
            } else {
                errors += 1;
                assert_eq!(r.outcome, Outcome::Error, "{}", p.id);
                let message = r.error.as_deref().unwrap_or_default();
                assert!(
                    message.contains("internal error: helper bug on day"),
                    "{message}"
                );
            }
        }
        assert!(errors > 50 && errors < 250, "{errors} errors");
    }

    #[test]
    fn an_exhausted_operation_budget_is_that_pairs_error() {
        let reference = hostile();
        let profiles = population(&reference);
        let as_of = jiff::civil::date(2025, 6, 30);
        let bad = index(&reference, "M902");
        let want = reference.evaluate_batch_with(
            &profiles,
            as_of,
            &EvalOptions {
                engine: EngineKind::Rhai,
            },
        );
        // The longest and deepest expressions a rule may hold stay far under the budget.
        assert!(want.iter().all(|r| r[bad].outcome == Outcome::Eligible));

        let mut c = hostile();
        c.engine.set_max_operations(100);
        let got = c.evaluate_batch_with(
            &profiles,
            as_of,
            &EvalOptions {
                engine: EngineKind::Rhai,
            },
        );
        only_measure_affected(&want, &got, bad);
        for r in &got {
            assert_eq!(r[bad].outcome, Outcome::Error);
            let message = r[bad].error.as_deref().unwrap_or_default();
            assert!(message.contains("Too many operations"), "{message}");
        }
    }
}
