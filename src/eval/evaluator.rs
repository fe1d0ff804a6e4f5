//! The staged evaluator: an [`Evaluator`] per worker (a reused rhai scope, the last
//! pair's marks), a [`Subject`] per enterprise, and [`Subject::pair`] deciding one measure:
//! the effective window, tag tests on bitset words, then `when` clauses natively or in
//! rhai, then the benefit.

use super::*;

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
    pub(super) catalog: &'c Catalog,
    pub(super) engine: EngineKind,
    pub(super) prefilter: bool,
    pub(super) scope: Scope<'static>,
    /// Whether `scope` holds the current subject's values.
    pub(super) loaded: bool,
    /// The last pair's statuses, and the message of each condition that raised an error.
    pub(super) marks: Marks,
    pub(super) errors: Vec<(usize, String)>,
    pub(super) missing: Vec<usize>,
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
pub(super) type Reported = (Vec<(usize, String)>, Vec<String>);

/// An evaluator working on one enterprise: its rhai scope is filled at most once, and
/// only if some expression needs rhai.
pub struct Subject<'e, 'c, 'r> {
    pub(super) ev: &'e mut Evaluator<'c>,
    pub(super) row: Row<'r>,
    pub(super) as_of_days: i64,
}

impl<'c> Subject<'_, 'c, '_> {
    /// Fills the scope with this enterprise's values. Missing fields are left out of the
    /// scope altogether, so no script can read them by accident.
    pub(super) fn load(&mut self) {
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

    pub(super) fn run(&mut self, ast: &AST) -> Result<Dynamic, String> {
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

    pub(super) fn all_present(&self, fields: &[usize]) -> bool {
        fields.iter().all(|&f| self.row.is_present(f))
    }

    pub(super) fn at(&self) -> native::At<'_> {
        native::At {
            row: &self.row,
            as_of: self.as_of_days,
        }
    }

    pub(super) fn when(&mut self, x: &CompiledExpr) -> Status {
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

    pub(super) fn benefit(&mut self, b: &CompiledExpr, cap: Option<f64>) -> Result<f64, String> {
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
    /// Inlined where it is called: most measures (tag tests alone, no clause, no benefit)
    /// are decided here in a few dozen instructions, the rest out of line. Those measures
    /// skip the prefilter, which could save them nothing.
    #[inline(always)]
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
        let alternatives = self.ev.catalog.program.alternatives(e);
        let (outcome, near_miss) = decide_marks(e.base_group, alternatives, e.identity, &marks);
        Pair {
            measure: index,
            outcome,
            in_effect: true,
            near_miss,
            amount: None,
            error: None,
        }
    }

    /// The conditions whose tag tests hold, without a branch on the outcome of each test
    /// nor on its kind: which tests hold is data.
    #[inline(always)]
    pub(super) fn tag_tests(&self, e: &Entry) -> u64 {
        let mut passed = 0;
        for t in self.ev.catalog.program.tags(e) {
            let word = self.row.tags.get(t.word as usize).copied().unwrap_or(0);
            let held = (word & t.mask != 0) != t.lacks;
            passed |= u64::from(held) << t.condition;
        }
        passed
    }

    /// [`Subject::pair`] for every other measure, and out of its effective window.
    #[inline(never)]
    pub(super) fn pair_in_full(&mut self, index: usize) -> Pair {
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
    pub(super) fn prefiltered(&self, e: &Entry) -> bool {
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
    pub(super) fn rest(&mut self, e: &Entry, mut marks: Marks, mut pair: Pair) -> Pair {
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
        let (outcome, near) =
            decide_marks(e.base_group, program.alternatives(e), e.identity, &marks);
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
                pair.outcome = Outcome::AmountPending;
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

    /// What became of each condition of the last pair, as masks.
    pub fn marks(&self) -> Marks {
        self.ev.marks
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
    pub(super) fn reported(&self) -> Reported {
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

pub(super) fn amount_value(x: f64, cap: Option<f64>) -> Result<f64, String> {
    if !x.is_finite() || x < 0.0 {
        return Err(format!(
            "benefit amount {x} is not a finite number at least 0"
        ));
    }
    let x = cap.map_or(x, |c| x.min(c));
    Ok((x * 100.0).round() / 100.0)
}
