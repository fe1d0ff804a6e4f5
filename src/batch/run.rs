//! `policy-match match`: read a population in chunks, evaluate every enterprise against
//! every measure in parallel, and write the push list, the no-application grants, near
//! misses, undetermined pairs, errors, rejects and a summary — all at once, or nothing.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::{Path, PathBuf};
use std::time::Instant;

use jiff::civil::Date;
use serde::Serialize;

use super::outdir::{OutDir, OutDirError};
use super::record::{RawRecord, Reject};
use super::shard::Shard;
use super::table::{Cell, ColType, Table};
use crate::catalog::Catalog;
use crate::eval::{MeasureResult, Outcome, Status};
use crate::profile::Profile;
use crate::syntax::{Delivery, Unit};

/// How many input rows are read, checked and evaluated at a time: memory is bounded by
/// this, not by the population.
pub const DEFAULT_CHUNK_ROWS: usize = 50_000;

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

#[derive(Debug, Clone)]
pub struct MatchOptions {
    pub enterprises: PathBuf,
    pub out: PathBuf,
    pub as_of: Date,
    pub format: OutFormat,
    pub previous: Option<PathBuf>,
    pub shard: Option<Shard>,
    pub chunk_rows: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum MatchError {
    #[error("cannot read enterprises file `{path}`: {message}")]
    Input { path: PathBuf, message: String },
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

/// The tables of one run, filled chunk by chunk.
struct Tables {
    pushes: Table,
    grants: Table,
    near_misses: Table,
    undetermined: Table,
    errors: Table,
    rejects: Table,
}

impl Tables {
    fn new() -> Tables {
        Tables {
            pushes: Table::new("pushes", PUSH_COLUMNS),
            grants: Table::new(
                "grants",
                &[
                    ("enterprise_id", ColType::Str),
                    ("measure_id", ColType::Str),
                    ("amount_yuan", ColType::Float),
                    ("basis", ColType::Str),
                ],
            ),
            near_misses: Table::new(
                "near_misses",
                &[
                    ("enterprise_id", ColType::Str),
                    ("measure_id", ColType::Str),
                    ("failed_condition", ColType::Str),
                ],
            ),
            undetermined: Table::new(
                "undetermined",
                &[
                    ("enterprise_id", ColType::Str),
                    ("measure_id", ColType::Str),
                    ("missing_fields", ColType::Str),
                ],
            ),
            errors: Table::new(
                "errors",
                &[
                    ("enterprise_id", ColType::Str),
                    ("measure_id", ColType::Str),
                    ("error", ColType::Str),
                ],
            ),
            rejects: Table::new(
                "rejects",
                &[
                    ("row", ColType::Int),
                    ("enterprise_id", ColType::Str),
                    ("reason", ColType::Str),
                ],
            ),
        }
    }
}

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
            super::population::read_jsonl(path, &catalog.schema, chunk_rows, sink)
                .map_err(|e| fail(e.to_string()))
        }
        #[cfg(feature = "polars")]
        "csv" | "parquet" => {
            crate::tabular::read_population(path, &catalog.schema, chunk_rows, sink)
                .map_err(|e| fail(e.to_string()))
        }
        #[cfg(not(feature = "polars"))]
        "csv" | "parquet" => Err(fail(
            "CSV and Parquet need the `polars` feature, which this build lacks".into(),
        )),
        _ => Err(fail(format!(
            "unknown extension `.{ext}`: expected .csv, .parquet or .jsonl"
        ))),
    }
}

/// The enterprise-measure pairs of a previous run's push list.
fn previous_pushes(dir: &Path) -> Result<BTreeSet<(String, String)>, MatchError> {
    let fail = |message: String| MatchError::Previous {
        path: dir.to_owned(),
        message,
    };
    let csv_path = dir.join("pushes.csv");
    if csv_path.exists() {
        let mut r = csv::Reader::from_path(&csv_path).map_err(|e| fail(e.to_string()))?;
        let mut out = BTreeSet::new();
        for rec in r.records() {
            let rec = rec.map_err(|e| fail(e.to_string()))?;
            match (rec.get(0), rec.get(2)) {
                (Some(e), Some(m)) => out.insert((e.to_owned(), m.to_owned())),
                _ => {
                    return Err(fail(format!(
                        "a row of `{}` lacks its ids",
                        csv_path.display()
                    )));
                }
            };
        }
        return Ok(out);
    }
    Err(fail(
        "it holds no pushes.csv (a previous run with --format csv)".into(),
    ))
}

fn join_statuses<'a>(
    catalog: &'a Catalog,
    r: &MeasureResult,
    want: impl Fn(&Status) -> bool,
) -> impl Iterator<Item = &'a str> {
    let cm = &catalog.measures[r.measure];
    cm.conditions
        .iter()
        .zip(r.statuses.clone())
        .filter(move |(_, st)| want(st))
        .map(|(c, _)| c.label.as_str())
}

/// Adds the rows of one enterprise's results to the tables and the counts.
fn record_results(
    catalog: &Catalog,
    p: &Profile,
    results: &[MeasureResult],
    t: &mut Tables,
    sum: &mut Summary,
) {
    for r in results {
        let cm = &catalog.measures[r.measure];
        let m = &cm.measure;
        sum.pairs_evaluated += 1;
        *sum.outcomes.entry(r.outcome.as_str()).or_insert(0) += 1;
        let counts = sum.by_measure.entry(m.id.clone()).or_default();
        match r.outcome {
            Outcome::Eligible => counts.eligible += 1,
            Outcome::NotEligible => counts.not_eligible += 1,
            Outcome::Undetermined => counts.undetermined += 1,
            Outcome::Error => counts.error += 1,
        }
        match r.outcome {
            Outcome::Eligible => {
                if m.delivery.contains(&Delivery::Push) {
                    let reasons: Vec<&str> =
                        join_statuses(catalog, r, |s| *s == Status::Passed).collect();
                    t.pushes.push(vec![
                        s(&p.id),
                        s(&p.name),
                        s(&m.id),
                        s(crate::explain::title(m)),
                        s(&m.zone),
                        s(&m.window),
                        s(m.scenario_name.clone().unwrap_or_default()),
                        s(m.lead_departments.join("、")),
                        Cell::Int(r.score() as i64),
                        s(reasons.join("；")),
                    ]);
                    *sum.pushes_by_zone.entry(m.zone.clone()).or_insert(0) += 1;
                    *sum.pushes_by_window.entry(m.window.clone()).or_insert(0) += 1;
                    let scenario = m
                        .scenario_name
                        .clone()
                        .unwrap_or_else(|| crate::views::NO_SCENARIO.to_owned());
                    *sum.pushes_by_scenario.entry(scenario).or_insert(0) += 1;
                    for d in &m.lead_departments {
                        *sum.pushes_by_department.entry(d.clone()).or_insert(0) += 1;
                    }
                }
                if m.delivery.contains(&Delivery::AutoGrant) {
                    let benefit = m.benefit.as_ref();
                    let yuan = r
                        .amount
                        .filter(|_| benefit.is_some_and(|b| b.unit == Unit::Yuan));
                    let basis = match (benefit, r.amount) {
                        (Some(b), Some(a)) => format!("{}: {a} {}", b.label, b.unit.chinese()),
                        _ => join_statuses(catalog, r, |s| *s == Status::Passed)
                            .collect::<Vec<_>>()
                            .join("；"),
                    };
                    sum.grants_amount_yuan += yuan.unwrap_or(0.0);
                    t.grants.push(vec![
                        s(&p.id),
                        s(&m.id),
                        yuan.map_or(Cell::Null, Cell::Float),
                        s(basis),
                    ]);
                }
            }
            Outcome::NotEligible => {
                if let Some(i) = r.near_miss {
                    counts.near_misses += 1;
                    t.near_misses
                        .push(vec![s(&p.id), s(&m.id), s(&cm.conditions[i].label)]);
                }
            }
            Outcome::Undetermined => {
                t.undetermined
                    .push(vec![s(&p.id), s(&m.id), s(r.missing_fields.join(","))]);
            }
            Outcome::Error => {
                t.errors.push(vec![
                    s(&p.id),
                    s(&m.id),
                    s(r.error.clone().unwrap_or_default()),
                ]);
            }
        }
    }
}

fn sort_by_ids(t: &mut Table) {
    // Every table starts with enterprise_id; one enterprise's rows are already in measure
    // order, and an enterprise occurs in one chunk only, so a stable sort by it suffices.
    t.rows.sort_by(|a, b| match (&a[0], &b[0]) {
        (Cell::Str(x), Cell::Str(y)) => x.cmp(y),
        _ => std::cmp::Ordering::Equal,
    });
}

/// Runs a whole match. The output folder appears complete, or the previous one stays.
pub fn run_match(catalog: &Catalog, opts: &MatchOptions) -> Result<Summary, MatchError> {
    let started = Instant::now();
    let mut timings = BTreeMap::new();
    let mut t = Tables::new();
    let mut sum = Summary {
        catalog_hash: catalog.hash.clone(),
        as_of: opts.as_of.to_string(),
        input: opts.enterprises.display().to_string(),
        shard: opts.shard.map(|s| s.to_string()),
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
    let previous = opts.previous.as_deref().map(previous_pushes).transpose()?;

    let mut seen: HashSet<String> = HashSet::new();
    let mut evaluate_ms = 0u128;
    let mut rejects: Vec<Reject> = Vec::new();
    let rows = read_chunks(
        catalog,
        &opts.enterprises,
        opts.chunk_rows.max(1),
        &mut |chunk: Vec<RawRecord>| {
            let mut profiles = Vec::with_capacity(chunk.len());
            for rec in chunk {
                // Rows without a readable id go to shard 0's hash bucket of "", so that the
                // union of the shards' rejects is the single run's.
                if let Some(shard) = opts.shard
                    && !shard.contains(rec.id.as_deref().unwrap_or(""))
                {
                    continue;
                }
                let row = rec.row;
                match rec.into_profile(&catalog.schema) {
                    Ok(p) if !seen.insert(p.id.clone()) => rejects.push(Reject {
                        row,
                        id: Some(p.id.clone()),
                        reason: format!("duplicate id `{}`", p.id),
                    }),
                    Ok(p) => profiles.push(p),
                    Err(r) => rejects.push(r),
                }
            }
            let t0 = Instant::now();
            let results = catalog.evaluate_batch(&profiles, opts.as_of);
            evaluate_ms += t0.elapsed().as_millis();
            for (p, rs) in profiles.iter().zip(&results) {
                record_results(catalog, p, rs, &mut t, &mut sum);
            }
            sum.enterprises_matched += profiles.len();
        },
    )?;
    sum.input_rows = rows;
    timings.insert("read_check_evaluate", started.elapsed().as_millis() as u64);
    timings.insert("of_which_evaluate", evaluate_ms as u64);

    let t1 = Instant::now();
    rejects.sort_by_key(|r| r.row);
    for r in &rejects {
        t.rejects.push(vec![
            Cell::Int(r.row as i64),
            s(r.id.clone().unwrap_or_default()),
            s(&r.reason),
        ]);
    }
    for table in [
        &mut t.pushes,
        &mut t.grants,
        &mut t.near_misses,
        &mut t.undetermined,
        &mut t.errors,
    ] {
        sort_by_ids(table);
    }
    sum.rejects = rejects.len();
    sum.pushes = t.pushes.rows.len();
    sum.grants = t.grants.rows.len();
    sum.near_misses = t.near_misses.rows.len();
    sum.undetermined = t.undetermined.rows.len();
    sum.errors = t.errors.rows.len();
    sum.grants_amount_yuan = (sum.grants_amount_yuan * 100.0).round() / 100.0;

    let mut extra = Vec::new();
    if let Some(prev) = previous {
        let pair = |row: &Vec<Cell>| match (&row[0], &row[2]) {
            (Cell::Str(e), Cell::Str(m)) => (e.clone(), m.clone()),
            _ => (String::new(), String::new()),
        };
        let mut new = Table::new("pushes_new", PUSH_COLUMNS);
        let now: BTreeSet<(String, String)> = t.pushes.rows.iter().map(pair).collect();
        for row in &t.pushes.rows {
            if !prev.contains(&pair(row)) {
                new.push(row.clone());
            }
        }
        let mut revoked = Table::new(
            "pushes_revoked",
            &[
                ("enterprise_id", ColType::Str),
                ("measure_id", ColType::Str),
            ],
        );
        for (e, m) in prev.difference(&now) {
            revoked.push(vec![s(e), s(m)]);
        }
        sum.pushes_new = Some(new.rows.len());
        sum.pushes_revoked = Some(revoked.rows.len());
        extra.push(new);
        extra.push(revoked);
    }
    timings.insert("sort", t1.elapsed().as_millis() as u64);

    let t2 = Instant::now();
    let out = OutDir::create(&opts.out)?;
    let tables = [
        &t.pushes,
        &t.grants,
        &t.near_misses,
        &t.undetermined,
        &t.errors,
        &t.rejects,
    ];
    let written = tables
        .into_iter()
        .chain(extra.iter())
        .try_for_each(|table| write_table(&out, table, opts.format));
    if let Err(e) = written {
        out.abandon();
        return Err(e);
    }
    timings.insert("write", t2.elapsed().as_millis() as u64);
    timings.insert("total", started.elapsed().as_millis() as u64);
    sum.timings_ms = timings;
    let summary = serde_json::to_string_pretty(&sum).expect("plain data serialises");
    if let Err(e) = out.write("summary.json", |w| {
        use std::io::Write;
        writeln!(w, "{summary}")
    }) {
        out.abandon();
        return Err(e.into());
    }
    out.commit()?;
    Ok(sum)
}

fn write_table(out: &OutDir, table: &Table, format: OutFormat) -> Result<(), MatchError> {
    let file = format!("{}.{}", table.name, format.ext());
    match format {
        OutFormat::Csv => out.write(&file, |w| table.write_csv(w))?,
        #[cfg(feature = "polars")]
        OutFormat::Parquet => {
            crate::tabular::write_table_parquet(&out.path(&file), table).map_err(|e| {
                MatchError::Output(OutDirError::Io {
                    path: out.path(&file),
                    source: std::io::Error::other(e.to_string()),
                })
            })?;
            out.sync(&file)?;
        }
        #[cfg(not(feature = "polars"))]
        OutFormat::Parquet => {
            return Err(MatchError::Output(OutDirError::Io {
                path: out.path(&file),
                source: std::io::Error::other("Parquet output needs the `polars` feature"),
            }));
        }
    }
    Ok(())
}
