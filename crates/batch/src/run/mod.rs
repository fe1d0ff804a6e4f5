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
use crate::table::CellRef;
use crate::table::ColType;
use crate::table::Table;
use crate::tabular::{ArrowStream, ArrowTable};
use policy_match::compile::catalog::Catalog;
use policy_match::eval::EngineKind;
use policy_match::eval::Outcome;
use policy_match::eval::Pair;
use policy_match::eval::Subject;
use policy_match::eval::SweepOptions;
use policy_match::eval::columns::Columns;
use policy_match::profile::enterprise::Profile;
use policy_match::profile::record::{RawRecord, Reject};

mod evaluate;
mod input;
mod merge_threads;
mod notices;
mod options;
mod previous;
mod summary;
mod table_writer;
mod writers;

use evaluate::*;
pub(crate) use input::read_chunks;
use input::*;
use merge_threads::write_merged;
use notices::notices;
use policy_match::eval::{PushKey, PushRank, Unlock, UnlockKeys, unlocks};
use previous::*;
use summary::*;
use table_writer::*;
use writers::*;

use options::Dest;
pub use options::{
    DEFAULT_CHUNK_ROWS, DEFAULT_MAX_PUSHES, DEFAULT_MAX_UNLOCKS, DEFAULT_TABLES, MatchError,
    MatchOptions, OutFormat, RESULT_TABLES,
};
pub use summary::{MeasureCounts, Summary};

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
    let mut sum = start_summary(catalog, opts);
    let previous = opts.previous.as_deref().map(Previous::open).transpose()?;
    let previous_eligible = match opts.previous.as_deref() {
        Some(dir) => PreviousEligible::open(dir, catalog)?,
        None => None,
    };
    sum.newly_eligible_ranked = previous_eligible.is_some();
    let out = OutDir::create(&opts.out)?;
    let done = fill_and_write(
        catalog,
        opts,
        &out,
        (previous, previous_eligible.as_ref()),
        (sum, started),
        (Input::File(&opts.enterprises), Dest::Files(opts.format)),
        progress,
    )?;
    if opts.report {
        // From the complete tables, before the folder is put in place: it appears with
        // its report or not at all.
        let dir = out.path("");
        crate::report::write_report(&dir, None, catalog, &out.path("report.html"))
            .map_err(MatchError::Report)?;
    }
    out.commit()?;
    Ok(done.summary)
}

/// What [`match_arrow`] is asked for: the options of a match that apply to a population
/// in memory (no output folder, no previous run, no shard).
#[derive(Debug, Clone)]
pub struct ArrowMatchOptions {
    pub as_of: Date,
    pub chunk_rows: usize,
    pub engine: EngineKind,
    /// As [`MatchOptions::prefilter`].
    pub prefilter: bool,
    /// As [`MatchOptions::tables`].
    pub tables: Option<Vec<String>>,
    pub max_pushes: usize,
    pub max_unlocks: usize,
    /// The column holding each row's number in the source file, which rejects name (see
    /// [`crate::tabular::read_arrow_population`]); `None`: rows numbered from 1 in stream
    /// order.
    pub row_numbers: Option<String>,
}

/// The tables of a match kept in memory, and its summary.
pub struct ArrowMatch {
    /// The summary `summary.json` would hold (`input` is [`crate::tabular::ARROW_INPUT`]).
    pub summary: Summary,
    /// The result tables asked for, in [`RESULT_TABLES`] order, then `rejects`: the
    /// columns and values of the Parquet files `match --format parquet` writes.
    pub tables: Vec<(&'static str, ArrowTable)>,
}

/// A match over a population given as an Arrow stream, its tables kept in memory: the
/// same reader checks (those of a Parquet file), the same evaluation and the same writers
/// as [`run_match`] with `--format parquet`. Chunks are spooled to a scratch folder under
/// the system temp folder, removed before returning. Evaluation runs on the current rayon
/// pool.
pub fn match_arrow(
    catalog: &Catalog,
    input: ArrowStream,
    opts: &ArrowMatchOptions,
) -> Result<ArrowMatch, MatchError> {
    static CALLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let started = Instant::now();
    let call = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    // The process id in the name: another process's scratch folder is never this one.
    let temp = std::env::temp_dir();
    sweep_dead_scratch(&temp);
    let scratch = temp.join(format!("{SCRATCH_PREFIX}{}-{call}", std::process::id()));
    let match_opts = MatchOptions {
        enterprises: PathBuf::from(crate::tabular::ARROW_INPUT),
        out: scratch,
        as_of: opts.as_of,
        format: OutFormat::Parquet,
        previous: None,
        shard: None,
        chunk_rows: opts.chunk_rows,
        engine: opts.engine,
        prefilter: opts.prefilter,
        tables: opts.tables.clone(),
        max_pushes: opts.max_pushes,
        max_unlocks: opts.max_unlocks,
        report: false,
    };
    let sum = start_summary(catalog, &match_opts);
    // Never committed: dropped, it is removed.
    let out = OutDir::create(&match_opts.out)?;
    let mut done = fill_and_write(
        catalog,
        &match_opts,
        &out,
        (None, None),
        (sum, started),
        (
            Input::Arrow(input, opts.row_numbers.as_deref()),
            Dest::Memory,
        ),
        &mut |_| {},
    )?;
    let place = |name: &str| RESULT_TABLES.iter().position(|t| *t == name);
    done.tables
        .sort_by_key(|(name, _)| place(name).unwrap_or(RESULT_TABLES.len()));
    Ok(done)
}

/// The name of a `match_arrow` scratch folder: this, the process id, `-`, the call.
const SCRATCH_PREFIX: &str = "policy-match-arrow-";

/// Removes the scratch folders (partial output folders, `.NAME.partial-PID`) of
/// `match_arrow` calls whose process is gone — a Spark or Ray worker killed mid-call —
/// so that a long-lived cluster does not fill its temp folder with spools. Linux only
/// (a process is alive while `/proc/PID` exists); a reused process id keeps its folder
/// until that process ends too.
fn sweep_dead_scratch(temp: &Path) {
    if !cfg!(target_os = "linux") {
        return;
    }
    let Ok(entries) = std::fs::read_dir(temp) else {
        return;
    };
    let prefix = format!(".{SCRATCH_PREFIX}");
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix(&prefix))
            .and_then(|rest| rest.split('-').next())
            .and_then(|pid| pid.parse::<u32>().ok())
        else {
            continue;
        };
        if !Path::new("/proc").join(pid.to_string()).exists() {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// A run's summary before anything is read.
fn start_summary(catalog: &Catalog, opts: &MatchOptions) -> Summary {
    Summary {
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
        pushes_held_back: 0,
        pushes_by_nature: BTreeMap::new(),
        amount_pending: 0,
        newly_eligible_ranked: false,
        unlocks: 0,
        pushes_per_enterprise: Distribution::default(),
        pushes_histogram: Vec::new(),
        notices: 0,
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
    }
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

/// Reads, evaluates and spools chunk by chunk (the spool under `out`), then merges every
/// table into `out`, or into tables kept in memory, returned with the summary (none for
/// files).
fn fill_and_write(
    catalog: &Catalog,
    opts: &MatchOptions,
    out: &OutDir,
    (previous, previous_eligible): (Option<Previous>, Option<&PreviousEligible>),
    (mut sum, started): (Summary, Instant),
    (input, dest): (Input<'_>, Dest),
    progress: &mut dyn FnMut(usize),
) -> Result<ArrowMatch, MatchError> {
    let mut in_memory = Vec::new();
    let mut rows_read = 0;
    let mut timings = BTreeMap::new();
    let runs = out.path(".runs");
    std::fs::create_dir(&runs).map_err(io_to_output(out, ".runs"))?;
    let mut spool = Spool::new(runs.clone());
    // Every id read so far, packed (ids are checked 统一社会信用代码 by now): the one
    // structure that grows with the population, 16 bytes an id instead of some 64.
    let mut seen: HashSet<u128> = HashSet::new();
    let texts = measure_texts(catalog);
    let unlock_keys = &catalog.unlock_keys;
    let pushed = catalog.pushed();
    let selected: Vec<&str> = RESULT_TABLES
        .into_iter()
        .filter(|name| match &opts.tables {
            Some(t) => t.iter().any(|n| n == name),
            None => DEFAULT_TABLES.contains(name),
        })
        .collect();
    let needs = Needs::of(&selected, previous.is_some());
    let mut by_measure = vec![MeasureCounts::default(); catalog.measures.len()];
    let mut per_enterprise = vec![0u64; opts.max_pushes + 1];
    let mut evaluate_ms = 0u128;
    let mut rejects: Vec<Reject> = Vec::new();
    let mut failure: Option<std::io::Error> = None;
    let rows = read_ahead(catalog, input, opts.chunk_rows.max(1), &mut |chunk: Vec<
        RawRecord,
    >| {
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
        let blocks = evaluate_chunk(
            catalog,
            opts,
            needs,
            unlock_keys,
            pushed,
            previous_eligible,
            &profiles,
        );
        evaluate_ms += t0.elapsed().as_millis();
        let write_run = || -> std::io::Result<()> {
            spool.start_run()?;
            for block in blocks {
                for (mi, c) in block.by_measure.iter().enumerate() {
                    by_measure[mi].add(c);
                }
                sum.pushes_held_back += block.held_back;
                sum.unlocks += block.unlocks;
                for (n, k) in block.per_enterprise.iter().enumerate() {
                    per_enterprise[n] += k;
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
    })?;
    if let Some(e) = failure {
        return Err(io_to_output(out, ".runs")(e));
    }
    sum.input_rows = rows;
    tally(catalog, &mut sum, &by_measure);
    sum.pushes_per_enterprise = Distribution::of(&per_enterprise);
    sum.pushes_histogram = per_enterprise;
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
    if let Some(t) = write_table(out, &reject_table, dest)? {
        in_memory.push(("rejects", t));
    }
    sum.rejects = rejects.len();
    let notice_table = notices(catalog, opts.as_of, &by_measure);
    sum.notices = notice_table.rows.len();
    if selected.contains(&"notices")
        && let Some(t) = write_table(out, &notice_table, dest)?
    {
        in_memory.push(("notices", t));
    }
    sum.grants_amount_yuan = (sum.grants_amount_yuan * 100.0).round() / 100.0;

    // Every table in one pass over the merged results. With a previous run, its push
    // list is read in step: both are in (enterprise_id, measure_id) order, so one pass
    // finds what is new and what was revoked.
    let table = |name, columns| TableWriter::create(out, name, columns, dest);
    let result = |name: &'static str, columns| {
        if selected.contains(&name) {
            table(name, columns)
        } else {
            Ok(TableWriter::skipped(name))
        }
    };
    let w = Writers {
        pushes: result("pushes", PUSH_COLUMNS)?,
        push_ids: result("push_ids", REVOKED_COLUMNS)?,
        eligible: result("eligible", REVOKED_COLUMNS)?,
        digest: result("digest", DIGEST_COLUMNS)?,
        unlocks: result("unlocks", UNLOCK_COLUMNS)?,
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
        ..Writers::none(
            catalog,
            (unlock_keys, pushed, opts.max_unlocks),
            dest == Dest::Files(OutFormat::Csv),
        )
    };
    let mut groups = w.split(catalog);
    let (merged, previous_failure) = write_merged(spool, catalog, &texts, &mut groups);
    if let Some(e) = previous_failure {
        return Err(e);
    }
    merged.map_err(io_to_output(out, ".runs"))?;
    let mut w = Writers::join(groups);
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
                .write(&[CellRef::Text(&old.0), CellRef::Text(&old.1)], None)
                .map_err(io_to_output(out, &file))?;
            head = prev.next()?;
        }
        sum.pushes_new = Some(new.rows);
        sum.pushes_revoked = Some(revoked.rows);
        new.finish(out)?;
        revoked.finish(out)?;
    }
    for (name, t) in [
        ("pushes", w.pushes),
        ("push_ids", w.push_ids),
        ("eligible", w.eligible),
        ("digest", w.digest),
        ("unlocks", w.unlocks),
        ("grants", w.grants),
        ("near_misses", w.near_misses),
        ("undetermined", w.undetermined),
        ("errors", w.errors),
    ] {
        if let Some(t) = t.finish(out)? {
            in_memory.push((name, t));
        }
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
    if let Dest::Files(_) = dest {
        // Plain data (strings, numbers, maps with string keys) always serialises.
        let summary = serde_json::to_string_pretty(&sum).expect("plain data serialises");
        out.write("summary.json", |w| {
            use std::io::Write;
            writeln!(w, "{summary}")
        })?;
    }
    Ok(ArrowMatch {
        summary: sum,
        tables: in_memory,
    })
}
