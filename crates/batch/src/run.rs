//! `policy-match match`: read a population in chunks, evaluate every enterprise against
//! every measure in parallel, and write the push list, the no-application grants, near
//! misses, undetermined pairs, errors, rejects and a summary — all at once, or nothing.

use std::collections::{BTreeMap, HashSet};
use std::io::Write;

use rayon::prelude::*;
use std::path::{Path, PathBuf};
use std::time::Instant;

use jiff::civil::Date;
use serde::Serialize;

use crate::outdir::OutDir;

use crate::outdir::OutDirError;
use crate::render;
use crate::render::Fragments;
use crate::shard::Shard;
use crate::spool::Eligible;
use crate::spool::Results;
use crate::spool::Spool;
use crate::table::Cell;
use crate::table::ColType;
use crate::table::Table;
use policy_match::compile::CompiledMeasure;
use policy_match::compile::catalog::Catalog;
use policy_match::eval::EngineKind;
use policy_match::eval::Outcome;
use policy_match::eval::Pair;
use policy_match::eval::Subject;
use policy_match::eval::SweepOptions;
use policy_match::eval::columns::Columns;
use policy_match::profile::enterprise::Profile;
use policy_match::profile::record::{RawRecord, Reject};
use policy_match::rules::syntax::Delivery;

/// How many input rows are read, checked and evaluated at a time: memory is bounded by
/// this, not by the population.
pub const DEFAULT_CHUNK_ROWS: usize = 10_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutFormat {
    Csv,
    Parquet,
}

impl OutFormat {
    fn ext(self) -> &'static str {
        match self {
            OutFormat::Csv => "csv",
            OutFormat::Parquet => "parquet",
        }
    }
}

/// The result tables `match` writes unless told otherwise; `rejects` and `summary.json`
/// are always written.
pub const DEFAULT_TABLES: [&str; 5] = ["pushes", "grants", "near_misses", "undetermined", "errors"];

/// Every result table `match` can write: the defaults, and `push_ids` (the push list as
/// two id columns, for warehouses that join the measure texts themselves).
pub const RESULT_TABLES: [&str; 6] = [
    DEFAULT_TABLES[0],
    DEFAULT_TABLES[1],
    DEFAULT_TABLES[2],
    DEFAULT_TABLES[3],
    DEFAULT_TABLES[4],
    "push_ids",
];

#[derive(Debug, Clone)]
pub struct MatchOptions {
    pub enterprises: PathBuf,
    pub out: PathBuf,
    pub as_of: Date,
    pub format: OutFormat,
    pub previous: Option<PathBuf>,
    pub shard: Option<Shard>,
    pub chunk_rows: usize,
    pub engine: EngineKind,
    /// Decide pairs that fail two base tag tests from bitset words alone; the outputs are
    /// the same either way.
    pub prefilter: bool,
    /// The result tables to write, from [`RESULT_TABLES`] (`None`: [`DEFAULT_TABLES`]). The others are
    /// still counted in the summary; `rejects` and `summary.json` are always written, and
    /// `pushes_new` / `pushes_revoked` whenever there is a previous run.
    pub tables: Option<Vec<String>>,
}

#[derive(Debug, thiserror::Error)]
pub enum MatchError {
    #[error("cannot read enterprises file `{path}`: {message}")]
    Input { path: PathBuf, message: String },
    /// A reader's own error, which already names the file.
    #[error("cannot read enterprises file {0}")]
    Read(String),
    #[error("cannot read previous run `{path}`: {message}")]
    Previous { path: PathBuf, message: String },
    #[error(transparent)]
    Output(#[from] OutDirError),
}

/// What a completed run reports; `summary.json` holds the same.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub catalog_hash: String,
    pub as_of: String,
    pub input: String,
    pub shard: Option<String>,
    /// The engine that decided `when` clauses and benefits: `native` or `rhai`.
    pub engine: &'static str,
    pub input_rows: usize,
    pub enterprises_matched: usize,
    pub rejects: usize,
    pub measures: usize,
    pub pairs_evaluated: u64,
    pub outcomes: BTreeMap<&'static str, u64>,
    pub pushes: usize,
    pub grants: usize,
    pub grants_amount_yuan: f64,
    pub near_misses: usize,
    pub undetermined: usize,
    pub errors: usize,
    pub pushes_new: Option<usize>,
    pub pushes_revoked: Option<usize>,
    pub by_measure: BTreeMap<String, MeasureCounts>,
    /// Pushes per zone, window, 一类事 scenario and lead department.
    pub pushes_by_zone: BTreeMap<String, usize>,
    pub pushes_by_window: BTreeMap<String, usize>,
    pub pushes_by_scenario: BTreeMap<String, usize>,
    pub pushes_by_department: BTreeMap<String, usize>,
    /// Wall-clock milliseconds per phase; the only part of the output that varies between
    /// runs on the same inputs.
    pub timings_ms: BTreeMap<&'static str, u64>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct MeasureCounts {
    pub eligible: u64,
    pub not_eligible: u64,
    pub undetermined: u64,
    pub error: u64,
    pub near_misses: u64,
}

impl MeasureCounts {
    fn add(&mut self, o: &MeasureCounts) {
        self.eligible += o.eligible;
        self.not_eligible += o.not_eligible;
        self.undetermined += o.undetermined;
        self.error += o.error;
        self.near_misses += o.near_misses;
    }
}

impl Summary {
    /// Exit status for a scheduler: 0 clean, 2 completed with rejects or per-pair errors.
    pub fn exit_code(&self) -> u8 {
        if self.rejects > 0 || self.errors > 0 {
            2
        } else {
            0
        }
    }
}

const PUSH_COLUMNS: &[(&str, ColType)] = &[
    ("enterprise_id", ColType::Str),
    ("enterprise_name", ColType::Str),
    ("measure_id", ColType::Str),
    ("title", ColType::Str),
    ("zone", ColType::Str),
    ("window", ColType::Str),
    ("scenario", ColType::Str),
    ("lead_departments", ColType::Str),
    ("score", ColType::Int),
    ("reasons", ColType::Str),
];

const GRANT_COLUMNS: &[(&str, ColType)] = &[
    ("enterprise_id", ColType::Str),
    ("measure_id", ColType::Str),
    ("amount_yuan", ColType::Float),
    ("basis", ColType::Str),
];
const NEAR_MISS_COLUMNS: &[(&str, ColType)] = &[
    ("enterprise_id", ColType::Str),
    ("measure_id", ColType::Str),
    ("failed_condition", ColType::Str),
];
const UNDETERMINED_COLUMNS: &[(&str, ColType)] = &[
    ("enterprise_id", ColType::Str),
    ("measure_id", ColType::Str),
    ("missing_fields", ColType::Str),
];
const ERROR_COLUMNS: &[(&str, ColType)] = &[
    ("enterprise_id", ColType::Str),
    ("measure_id", ColType::Str),
    ("error", ColType::Str),
];
const REJECT_COLUMNS: &[(&str, ColType)] = &[
    ("row", ColType::Int),
    ("enterprise_id", ColType::Str),
    ("reason", ColType::Str),
];
const REVOKED_COLUMNS: &[(&str, ColType)] = &[
    ("enterprise_id", ColType::Str),
    ("measure_id", ColType::Str),
];

fn s(x: impl Into<String>) -> Cell {
    Cell::Str(x.into())
}

/// Reads the population in chunks, in file order.
pub(crate) fn read_chunks(
    catalog: &Catalog,
    path: &Path,
    chunk_rows: usize,
    sink: &mut dyn FnMut(Vec<RawRecord>),
) -> Result<usize, MatchError> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    let fail = |message: String| MatchError::Input {
        path: path.to_owned(),
        message,
    };
    match ext.as_str() {
        "jsonl" | "ndjson" => {
            policy_match::profile::jsonl::read_records(path, &catalog.schema, chunk_rows, sink)
                .map_err(|e| MatchError::Read(e.to_string()))
        }
        "csv" | "parquet" => {
            crate::tabular::read_population(path, &catalog.schema, chunk_rows, sink)
                .map_err(|e| MatchError::Read(e.to_string()))
        }
        _ => Err(fail(format!(
            "unknown extension `.{ext}`: expected .csv, .parquet or .jsonl"
        ))),
    }
}

/// [`read_chunks`] on a thread of its own, one chunk ahead of `sink`: reading the next
/// chunk overlaps checking, evaluating and spooling this one. Chunks reach `sink` in file
/// order, as from `read_chunks`.
fn read_ahead(
    catalog: &Catalog,
    path: &Path,
    chunk_rows: usize,
    sink: &mut dyn FnMut(Vec<RawRecord>),
) -> Result<usize, MatchError> {
    let (tx, rx) = std::sync::mpsc::sync_channel(1);
    std::thread::scope(|scope| {
        let reader = scope.spawn(move || {
            read_chunks(catalog, path, chunk_rows, &mut |chunk| {
                // The receiver is gone only when `sink` panicked: the rest is not needed.
                let _ = tx.send(chunk);
            })
        });
        for chunk in rx {
            sink(chunk);
        }
        reader
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

/// A previous run's push list, read in step with this run's: both are in
/// (enterprise_id, measure_id) order, so memory does not grow with its length.
enum Previous {
    Csv {
        path: PathBuf,
        reader: csv::Reader<std::fs::File>,
        row: usize,
        last: Option<(String, String)>,
    },
    /// A Parquet push list, read whole (its pairs only).
    Pairs(std::collections::btree_set::IntoIter<(String, String)>),
}

impl Previous {
    fn open(dir: &Path) -> Result<Previous, MatchError> {
        let fail = |message: String| MatchError::Previous {
            path: dir.to_owned(),
            message,
        };
        let csv_path = dir.join("pushes.csv");
        if csv_path.exists() {
            let mut reader = csv::Reader::from_path(&csv_path).map_err(|e| fail(e.to_string()))?;
            let headers = reader.headers().map_err(|e| fail(e.to_string()))?;
            if headers.get(0) != Some("enterprise_id") || headers.get(2) != Some("measure_id") {
                return Err(fail(format!(
                    "`{}` is not a push list: its header is `{}`",
                    csv_path.display(),
                    headers.iter().collect::<Vec<_>>().join(",")
                )));
            }
            return Ok(Previous::Csv {
                path: csv_path,
                reader,
                row: 1,
                last: None,
            });
        }
        if dir.join("pushes.parquet").exists() {
            return crate::tabular::read_pairs_parquet(
                &dir.join("pushes.parquet"),
                "enterprise_id",
                "measure_id",
            )
            .map(|pairs| Previous::Pairs(pairs.into_iter()))
            .map_err(|e| fail(e.to_string()));
        }
        Err(fail("it holds no pushes.csv or pushes.parquet".into()))
    }

    /// The next pair, checked to follow the one before.
    fn next(&mut self) -> Result<Option<(String, String)>, MatchError> {
        let (path, reader, row, last) = match self {
            Previous::Pairs(pairs) => return Ok(pairs.next()),
            Previous::Csv {
                path,
                reader,
                row,
                last,
            } => (path, reader, row, last),
        };
        let fail = |message: String| MatchError::Previous {
            path: path.clone(),
            message,
        };
        let mut rec = csv::StringRecord::new();
        if !reader
            .read_record(&mut rec)
            .map_err(|e| fail(e.to_string()))?
        {
            return Ok(None);
        }
        *row += 1;
        let (Some(e), Some(m)) = (rec.get(0), rec.get(2)) else {
            return Err(fail(format!("line {row} lacks its ids")));
        };
        let pair = (e.to_owned(), m.to_owned());
        if last.as_ref().is_some_and(|l| *l >= pair) {
            return Err(fail(format!(
                "line {row} (`{e}`, `{m}`) is out of (enterprise_id, measure_id) order"
            )));
        }
        *last = Some(pair.clone());
        Ok(Some(pair))
    }
}

/// What a push row says of its measure, rendered once per run.
struct MeasureText {
    title: String,
    scenario: String,
    departments: String,
}

fn measure_texts(catalog: &Catalog) -> Vec<MeasureText> {
    catalog
        .measures
        .iter()
        .map(|cm| MeasureText {
            title: policy_match::report::explain::title(&cm.measure),
            scenario: cm.measure.scenario_name.clone().unwrap_or_default(),
            departments: cm.measure.lead_departments.join("、"),
        })
        .collect()
}

/// What the tables being written need from each enterprise: the spool carries no more,
/// and the summary's counts come from the tallies, never from the rows written.
#[derive(Debug, Clone, Copy)]
struct Needs {
    /// Eligible pairs of measures delivered by push (`pushes`, `push_ids`, a diff).
    pushes: bool,
    /// Eligible pairs of measures granted without application (`grants`).
    grants: bool,
    /// The conditions that held (the reasons of `pushes`, the basis of `grants`).
    reasons: bool,
    near_misses: bool,
    undetermined: bool,
    errors: bool,
}

impl Needs {
    fn of(tables: &[&str], previous: bool) -> Needs {
        let has = |name| tables.contains(&name);
        Needs {
            pushes: has("pushes") || has("push_ids") || previous,
            grants: has("grants"),
            reasons: has("pushes") || has("grants") || previous,
            near_misses: has("near_misses"),
            undetermined: has("undetermined"),
            errors: has("errors"),
        }
    }
}

/// Enterprises evaluated together by one worker: what each has to report, encoded for
/// the spool (in enterprise order), and their counts.
struct Block {
    encoded: Vec<u8>,
    /// The enterprise being added, by row, until the next one starts.
    current: Option<(usize, Results)>,
    by_measure: Vec<MeasureCounts>,
    pushes_by_measure: Vec<usize>,
    /// Amounts in yuan of the grants, in row order, so that their sum does not depend on
    /// how blocks were scheduled.
    grant_amounts: Vec<f64>,
}

impl Block {
    fn new(measures: usize) -> Block {
        Block {
            encoded: Vec::new(),
            current: None,
            by_measure: vec![MeasureCounts::default(); measures],
            pushes_by_measure: vec![0; measures],
            grant_amounts: Vec::new(),
        }
    }

    /// Encodes the enterprise being added, if it has anything to report.
    fn flush(&mut self) {
        if let Some((_, r)) = self.current.take()
            && !(r.eligible.is_empty()
                && r.near_misses.is_empty()
                && r.undetermined.is_empty()
                && r.errors.is_empty())
        {
            r.encode(&mut self.encoded);
        }
    }

    /// Adds one pair: its count, and what it has to report.
    fn add(
        &mut self,
        needs: Needs,
        cm: &CompiledMeasure,
        row: usize,
        p: &Profile,
        pair: &Pair,
        subject: &Subject,
    ) {
        if self.current.as_ref().is_none_or(|(r, _)| *r != row) {
            self.flush();
            let fresh = Results {
                id: p.id.clone(),
                name: p.name.clone(),
                ..Results::default()
            };
            self.current = Some((row, fresh));
        }
        let Some((_, r)) = self.current.as_mut() else {
            return;
        };
        let m = &cm.measure;
        let mi = pair.measure;
        let measure = mi as u16;
        let counts = &mut self.by_measure[mi];
        match pair.outcome {
            Outcome::Eligible => {
                counts.eligible += 1;
                let (pushed, granted) = (m.delivery.contains(&Delivery::Push), m.auto_grant());
                if pushed {
                    self.pushes_by_measure[mi] += 1;
                }
                if granted {
                    self.grant_amounts.extend(m.yuan(pair.amount));
                }
                if (needs.pushes && pushed) || (needs.grants && granted) {
                    r.eligible.push(Eligible {
                        measure,
                        passed: if needs.reasons { subject.passed() } else { 0 },
                        amount: pair.amount,
                    });
                }
            }
            Outcome::NotEligible => {
                counts.not_eligible += 1;
                if let Some(c) = pair.near_miss {
                    counts.near_misses += 1;
                    if needs.near_misses {
                        r.near_misses.push((measure, c as u8));
                    }
                }
            }
            Outcome::Undetermined => {
                counts.undetermined += 1;
                if needs.undetermined {
                    r.undetermined
                        .push((measure, subject.missing_fields().join(",")));
                }
            }
            Outcome::Error => {
                counts.error += 1;
                if needs.errors {
                    r.errors
                        .push((measure, pair.error.clone().unwrap_or_default()));
                }
            }
        }
    }
}

/// Evaluates one chunk (sorted by id) in blocks on every worker; blocks come back in order.
fn evaluate_chunk(
    catalog: &Catalog,
    opts: &MatchOptions,
    needs: Needs,
    profiles: &[Profile],
) -> Vec<Block> {
    let columns = Columns::new(catalog, profiles);
    let sweep = SweepOptions {
        as_of: opts.as_of,
        engine: opts.engine,
        prefilter: opts.prefilter,
    };
    let mut blocks = catalog.sweep(
        &columns,
        &sweep,
        || Block::new(catalog.measures.len()),
        |block, i, pair, subject| {
            block.add(
                needs,
                &catalog.measures[pair.measure],
                i,
                &profiles[i],
                pair,
                subject,
            );
        },
    );
    for b in &mut blocks {
        b.flush();
    }
    blocks
}

/// The output tables, written as the merged results stream by.
struct Writers {
    pushes: TableWriter,
    push_ids: TableWriter,
    grants: TableWriter,
    near_misses: TableWriter,
    undetermined: TableWriter,
    errors: TableWriter,
    diff: Option<Diff>,
    /// Whether the tables are CSV, written from pre-rendered fragments.
    csv: bool,
    fragments: Fragments,
}

/// With a previous run: its next push, the rest of it, and the two difference tables.
struct Diff {
    head: Option<(String, String)>,
    prev: Previous,
    new: TableWriter,
    revoked: TableWriter,
}

impl Writers {
    /// Writes the rows of one enterprise. A failure to read the previous run is kept in
    /// `previous_failure`, apart from failures to write.
    fn write(
        &mut self,
        catalog: &Catalog,
        texts: &[MeasureText],
        r: &Results,
        previous_failure: &mut Option<MatchError>,
    ) -> std::io::Result<()> {
        let id_fragment = render::fields(&[&r.id]);
        let enterprise_fragment = render::fields(&[&r.id, &r.name]);
        for e in &r.eligible {
            let mi = e.measure as usize;
            let cm = &catalog.measures[mi];
            let m = &cm.measure;
            // The reasons as text, for the rows not built from fragments.
            let reasons = || cm.labels(e.passed).collect::<Vec<_>>().join("；");
            let pushed = m.delivery.contains(&Delivery::Push);
            if pushed && self.push_ids.enabled() {
                // A measure id is `M` and three digits: nothing to quote.
                let ids: [&[u8]; 2] = [&id_fragment, m.id.as_bytes()];
                self.push_ids
                    .write(&[&r.id, &m.id], self.csv.then_some(&ids[..]))?;
            }
            if pushed && (self.pushes.enabled() || self.diff.is_some()) {
                let t = &texts[mi];
                let score = e.passed.count_ones().to_string();
                let reasons_text = if self.csv { String::new() } else { reasons() };
                let cells = [
                    r.id.as_str(),
                    &r.name,
                    &m.id,
                    &t.title,
                    &m.zone,
                    &m.window,
                    &t.scenario,
                    &t.departments,
                    &score,
                    &reasons_text,
                ];
                let [measure_part, reasons_part] = self.fragments.push(catalog, mi, e.passed);
                let fragments: [&[u8]; 3] = [&enterprise_fragment, measure_part, reasons_part];
                let fragments = self.csv.then_some(&fragments[..]);
                if self.pushes.enabled() {
                    self.pushes.write(&cells, fragments)?;
                }
                if let Some(Diff {
                    head,
                    prev,
                    new,
                    revoked,
                }) = self.diff.as_mut()
                {
                    let key = (r.id.as_str(), m.id.as_str());
                    let mut advance = |head: &mut Option<(String, String)>| match prev.next() {
                        Ok(next) => {
                            *head = next;
                            Ok(())
                        }
                        Err(e) => {
                            *previous_failure = Some(e);
                            Err(std::io::Error::other("the previous run could not be read"))
                        }
                    };
                    while let Some(old) = head
                        .as_ref()
                        .filter(|(e, m)| (e.as_str(), m.as_str()) < key)
                    {
                        revoked.write(&[&old.0, &old.1], None)?;
                        advance(head)?;
                    }
                    if head
                        .as_ref()
                        .is_some_and(|(e, m)| (e.as_str(), m.as_str()) == key)
                    {
                        advance(head)?;
                    } else {
                        new.write(&cells, fragments)?;
                    }
                }
            }
            if m.auto_grant() && self.grants.enabled() {
                let yuan = m.yuan(e.amount);
                let basis = match (&m.benefit, e.amount) {
                    (Some(decl), Some(a)) => format!("{}: {a} {}", decl.label, decl.unit.chinese()),
                    _ => reasons(),
                };
                let amount = yuan.map_or_else(String::new, |a| a.to_string());
                self.grants.write(&[&r.id, &m.id, &amount, &basis], None)?;
            }
        }
        for &(mi, c) in &r.near_misses {
            let cm = &catalog.measures[mi as usize];
            let cells = [
                r.id.as_str(),
                &cm.measure.id,
                &cm.conditions[c as usize].label,
            ];
            let fragments: [&[u8]; 2] = [
                &id_fragment,
                &self.fragments.near_miss[mi as usize][c as usize],
            ];
            self.near_misses
                .write(&cells, self.csv.then_some(&fragments[..]))?;
        }
        for (mi, missing) in &r.undetermined {
            let id = &catalog.measures[*mi as usize].measure.id;
            self.undetermined.write(&[&r.id, id, missing], None)?;
        }
        for (mi, error) in &r.errors {
            let id = &catalog.measures[*mi as usize].measure.id;
            self.errors.write(&[&r.id, id, error], None)?;
        }
        Ok(())
    }
}

/// The summary's counts, from the per-measure tallies.
fn tally(catalog: &Catalog, sum: &mut Summary, by_measure: &[MeasureCounts], pushes: &[usize]) {
    for ((cm, c), &n) in catalog.measures.iter().zip(by_measure).zip(pushes) {
        let m = &cm.measure;
        for (outcome, k) in [
            (Outcome::Eligible, c.eligible),
            (Outcome::NotEligible, c.not_eligible),
            (Outcome::Undetermined, c.undetermined),
            (Outcome::Error, c.error),
        ] {
            sum.pairs_evaluated += k;
            if k > 0 {
                *sum.outcomes.entry(outcome.as_str()).or_insert(0) += k;
            }
        }
        sum.near_misses += c.near_misses as usize;
        sum.undetermined += c.undetermined as usize;
        sum.errors += c.error as usize;
        if m.auto_grant() {
            sum.grants += c.eligible as usize;
        }
        sum.pushes += n;
        sum.by_measure.insert(m.id.clone(), c.clone());
        if n == 0 {
            continue;
        }
        *sum.pushes_by_zone.entry(m.zone.clone()).or_insert(0) += n;
        *sum.pushes_by_window.entry(m.window.clone()).or_insert(0) += n;
        let scenario = m
            .scenario_name
            .clone()
            .unwrap_or_else(|| policy_match::report::views::NO_SCENARIO.to_owned());
        *sum.pushes_by_scenario.entry(scenario).or_insert(0) += n;
        for d in &m.lead_departments {
            *sum.pushes_by_department.entry(d.clone()).or_insert(0) += n;
        }
    }
}

/// Runs a whole match. The output folder appears complete, or the previous one stays.
pub fn run_match(catalog: &Catalog, opts: &MatchOptions) -> Result<Summary, MatchError> {
    run_match_with_progress(catalog, opts, &mut |_| {})
}

/// [`run_match`], calling `progress` with the number of input rows read after each chunk.
pub fn run_match_with_progress(
    catalog: &Catalog,
    opts: &MatchOptions,
    progress: &mut dyn FnMut(usize),
) -> Result<Summary, MatchError> {
    let started = Instant::now();
    let sum = Summary {
        catalog_hash: catalog.hash.clone(),
        as_of: opts.as_of.to_string(),
        input: opts.enterprises.display().to_string(),
        shard: opts.shard.map(|s| s.to_string()),
        engine: opts.engine.as_str(),
        input_rows: 0,
        enterprises_matched: 0,
        rejects: 0,
        measures: catalog.measures.len(),
        pairs_evaluated: 0,
        outcomes: BTreeMap::new(),
        pushes: 0,
        grants: 0,
        grants_amount_yuan: 0.0,
        near_misses: 0,
        undetermined: 0,
        errors: 0,
        pushes_new: None,
        pushes_revoked: None,
        by_measure: catalog
            .measures
            .iter()
            .map(|m| (m.measure.id.clone(), MeasureCounts::default()))
            .collect(),
        pushes_by_zone: BTreeMap::new(),
        pushes_by_window: BTreeMap::new(),
        pushes_by_scenario: BTreeMap::new(),
        pushes_by_department: BTreeMap::new(),
        timings_ms: BTreeMap::new(),
    };
    let previous = opts.previous.as_deref().map(Previous::open).transpose()?;
    let out = OutDir::create(&opts.out)?;
    let sum = fill_and_write(catalog, opts, &out, previous, sum, started, progress)?;
    out.commit()?;
    Ok(sum)
}

fn io_to_output(out: &OutDir, file: &str) -> impl Fn(std::io::Error) -> MatchError {
    let path = out.path(file);
    move |source| {
        MatchError::Output(OutDirError::Io {
            path: path.clone(),
            source,
        })
    }
}

/// Reads, evaluates and spools chunk by chunk, then merges every table into `out`.
fn fill_and_write(
    catalog: &Catalog,
    opts: &MatchOptions,
    out: &OutDir,
    previous: Option<Previous>,
    mut sum: Summary,
    started: Instant,
    progress: &mut dyn FnMut(usize),
) -> Result<Summary, MatchError> {
    let mut rows_read = 0;
    let mut timings = BTreeMap::new();
    let runs = out.path(".runs");
    std::fs::create_dir(&runs).map_err(io_to_output(out, ".runs"))?;
    let mut spool = Spool::new(runs.clone());
    // Every id read so far, packed (ids are checked 统一社会信用代码 by now): the one
    // structure that grows with the population, 16 bytes an id instead of some 64.
    let mut seen: HashSet<u128> = HashSet::new();
    let texts = measure_texts(catalog);
    let selected: Vec<&str> = RESULT_TABLES
        .into_iter()
        .filter(|name| match &opts.tables {
            Some(t) => t.iter().any(|n| n == name),
            None => DEFAULT_TABLES.contains(name),
        })
        .collect();
    let needs = Needs::of(&selected, previous.is_some());
    let mut by_measure = vec![MeasureCounts::default(); catalog.measures.len()];
    let mut pushes_by_measure = vec![0usize; catalog.measures.len()];
    let mut evaluate_ms = 0u128;
    let mut rejects: Vec<Reject> = Vec::new();
    let mut failure: Option<std::io::Error> = None;
    let rows = read_ahead(
        catalog,
        &opts.enterprises,
        opts.chunk_rows.max(1),
        &mut |chunk: Vec<RawRecord>| {
            if failure.is_some() {
                return;
            }
            rows_read += chunk.len();
            let mut profiles = Vec::with_capacity(chunk.len());
            // Checked in parallel, kept in file order.
            let checked: Vec<(usize, Result<Profile, Reject>)> = chunk
                .into_par_iter()
                // Rows without a readable id hash as the empty id, so that the union of
                // the shards' rejects is the single run's.
                .filter(|rec| {
                    opts.shard
                        .is_none_or(|shard| shard.contains(rec.id.as_deref().unwrap_or("")))
                })
                .map(|rec| (rec.row, rec.into_profile(&catalog.schema)))
                .collect();
            for (row, checked) in checked {
                match checked {
                    Ok(p) => match policy_match::profile::uscc::pack(&p.id) {
                        Some(key) if seen.insert(key) => profiles.push(p),
                        Some(_) => rejects.push(Reject {
                            row,
                            id: Some(p.id.clone()),
                            reason: format!("duplicate id `{}`", p.id),
                        }),
                        // Not reached: `into_profile` accepts checked codes only.
                        None => rejects.push(Reject {
                            row,
                            id: Some(p.id.clone()),
                            reason: format!("`{}` is not a 统一社会信用代码", p.id),
                        }),
                    },
                    Err(r) => rejects.push(r),
                }
            }
            // Each chunk becomes one sorted run of the spool.
            profiles.sort_by(|a, b| a.id.cmp(&b.id));
            let t0 = Instant::now();
            let blocks = evaluate_chunk(catalog, opts, needs, &profiles);
            evaluate_ms += t0.elapsed().as_millis();
            let write_run = || -> std::io::Result<()> {
                spool.start_run()?;
                for block in blocks {
                    for (mi, c) in block.by_measure.iter().enumerate() {
                        by_measure[mi].add(c);
                        pushes_by_measure[mi] += block.pushes_by_measure[mi];
                    }
                    for a in &block.grant_amounts {
                        sum.grants_amount_yuan += a;
                    }
                    spool.append(&block.encoded)?;
                }
                spool.end_run()
            };
            failure = write_run().err();
            sum.enterprises_matched += profiles.len();
            tracing::debug!(
                rows_read,
                enterprises = profiles.len(),
                "chunk evaluated and spooled"
            );
            progress(rows_read);
        },
    )?;
    if let Some(e) = failure {
        return Err(io_to_output(out, ".runs")(e));
    }
    sum.input_rows = rows;
    tally(catalog, &mut sum, &by_measure, &pushes_by_measure);
    timings.insert(
        "read_check_evaluate_spool",
        started.elapsed().as_millis() as u64,
    );
    timings.insert("of_which_evaluate", evaluate_ms as u64);
    tracing::info!(
        rows,
        matched = sum.enterprises_matched,
        rejects = rejects.len(),
        "input read and evaluated"
    );

    let t1 = Instant::now();
    rejects.sort_by_key(|r| r.row);
    let mut reject_table = Table::new("rejects", REJECT_COLUMNS);
    for r in &rejects {
        reject_table.push(vec![
            Cell::Int(r.row as i64),
            s(r.id.clone().unwrap_or_default()),
            s(&r.reason),
        ]);
    }
    write_table(out, &reject_table, opts.format)?;
    sum.rejects = rejects.len();
    sum.grants_amount_yuan = (sum.grants_amount_yuan * 100.0).round() / 100.0;

    // Every table in one pass over the merged results. With a previous run, its push
    // list is read in step: both are in (enterprise_id, measure_id) order, so one pass
    // finds what is new and what was revoked.
    let table = |name, columns| TableWriter::create(out, name, columns, opts.format);
    let result = |name: &'static str, columns| {
        if selected.contains(&name) {
            table(name, columns)
        } else {
            Ok(TableWriter::skipped(name))
        }
    };
    let mut w = Writers {
        pushes: result("pushes", PUSH_COLUMNS)?,
        push_ids: result("push_ids", REVOKED_COLUMNS)?,
        grants: result("grants", GRANT_COLUMNS)?,
        near_misses: result("near_misses", NEAR_MISS_COLUMNS)?,
        undetermined: result("undetermined", UNDETERMINED_COLUMNS)?,
        errors: result("errors", ERROR_COLUMNS)?,
        diff: match previous {
            Some(mut prev) => Some(Diff {
                head: prev.next()?,
                prev,
                new: table("pushes_new", PUSH_COLUMNS)?,
                revoked: table("pushes_revoked", REVOKED_COLUMNS)?,
            }),
            None => None,
        },
        csv: opts.format == OutFormat::Csv,
        fragments: Fragments::new(catalog),
    };
    let mut previous_failure: Option<MatchError> = None;
    let merged = spool.merge(&mut |r| w.write(catalog, &texts, r, &mut previous_failure));
    if let Some(e) = previous_failure {
        return Err(e);
    }
    merged.map_err(io_to_output(out, ".runs"))?;
    if let Some(Diff {
        mut head,
        mut prev,
        new,
        mut revoked,
    }) = w.diff.take()
    {
        while let Some(old) = head {
            let file = revoked.file.clone();
            revoked
                .write(&[&old.0, &old.1], None)
                .map_err(io_to_output(out, &file))?;
            head = prev.next()?;
        }
        sum.pushes_new = Some(new.rows);
        sum.pushes_revoked = Some(revoked.rows);
        new.finish(out)?;
        revoked.finish(out)?;
    }
    for t in [
        w.pushes,
        w.push_ids,
        w.grants,
        w.near_misses,
        w.undetermined,
        w.errors,
    ] {
        t.finish(out)?;
    }
    std::fs::remove_dir(&runs).map_err(io_to_output(out, ".runs"))?;
    timings.insert("merge_and_write", t1.elapsed().as_millis() as u64);
    tracing::info!(
        pushes = sum.pushes,
        grants = sum.grants,
        "outputs merged and written"
    );
    timings.insert("total", started.elapsed().as_millis() as u64);
    sum.timings_ms = timings;
    let summary = serde_json::to_string_pretty(&sum).expect("plain data serialises");
    out.write("summary.json", |w| {
        use std::io::Write;
        writeln!(w, "{summary}")
    })?;
    Ok(sum)
}

/// Writes one output table from merged rows, streaming to disk: CSV row by row, Parquet a
/// row group at a time.
struct TableWriter {
    file: String,
    csv: Option<crate::sink::ThreadedFile>,
    line: Vec<u8>,
    parquet: Option<crate::tabular::TableParquetWriter>,
    rows: usize,
}

impl TableWriter {
    fn enabled(&self) -> bool {
        if self.parquet.is_some() {
            return true;
        }
        self.csv.is_some()
    }

    /// A table that is not written.
    fn skipped(name: &'static str) -> TableWriter {
        TableWriter {
            file: name.to_owned(),
            csv: None,
            line: Vec::new(),
            parquet: None,
            rows: 0,
        }
    }

    fn create(
        out: &OutDir,
        name: &'static str,
        columns: &[(&'static str, ColType)],
        format: OutFormat,
    ) -> Result<TableWriter, MatchError> {
        let file = format!("{name}.{}", format.ext());
        let csv = match format {
            OutFormat::Csv => {
                let mut w = crate::sink::ThreadedFile::create(&out.path(&file))
                    .map_err(io_to_output(out, &file))?;
                let names: Vec<&str> = columns.iter().map(|(n, _)| *n).collect();
                let mut header = render::fields(&names);
                header.push(b'\n');
                w.write_all(&header).map_err(io_to_output(out, &file))?;
                Some(w)
            }
            OutFormat::Parquet => None,
        };
        let parquet = match format {
            OutFormat::Csv => None,
            OutFormat::Parquet => Some(
                crate::tabular::TableParquetWriter::create(&out.path(&file), columns)
                    .map_err(|e| io_to_output(out, &file)(std::io::Error::other(e.to_string())))?,
            ),
        };
        Ok(TableWriter {
            file,
            csv,
            line: Vec::new(),
            parquet,
            rows: 0,
        })
    }

    /// Writes one row given its texts, and for CSV optionally its fragments already
    /// rendered ([`render::fields`]) so that they need not be quoted again.
    fn write(&mut self, texts: &[&str], fragments: Option<&[&[u8]]>) -> std::io::Result<()> {
        self.rows += 1;
        if let Some(w) = self.csv.as_mut() {
            self.line.clear();
            match fragments {
                Some(parts) => render::row(&mut self.line, parts),
                None => {
                    self.line.extend(render::fields(texts));
                    self.line.push(b'\n');
                }
            }
            w.write_all(&self.line)?;
        }
        if let Some(w) = self.parquet.as_mut() {
            w.push_texts(texts)
                .map_err(|e| std::io::Error::other(e.to_string()))?;
        }
        Ok(())
    }

    fn finish(self, out: &OutDir) -> Result<(), MatchError> {
        if let Some(w) = self.csv {
            w.finish().map_err(io_to_output(out, &self.file))?;
            out.sync(&self.file)?;
        }
        if let Some(w) = self.parquet {
            w.finish()
                .map_err(|e| io_to_output(out, &self.file)(std::io::Error::other(e.to_string())))?;
            out.sync(&self.file)?;
        }
        Ok(())
    }
}

fn write_table(out: &OutDir, table: &Table, format: OutFormat) -> Result<(), MatchError> {
    let file = format!("{}.{}", table.name, format.ext());
    match format {
        OutFormat::Csv => out.write(&file, |w| table.write_csv(w))?,
        OutFormat::Parquet => {
            crate::tabular::write_table_parquet(&out.path(&file), table).map_err(|e| {
                MatchError::Output(OutDirError::Io {
                    path: out.path(&file),
                    source: std::io::Error::other(e.to_string()),
                })
            })?;
            out.sync(&file)?;
        }
    }
    Ok(())
}
