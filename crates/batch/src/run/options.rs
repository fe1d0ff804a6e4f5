//! What a run is asked for (`MatchOptions`, the tables, the output format) and how it
//! fails (`MatchError`).

use super::*;

/// How many input rows are read, checked and evaluated at a time: memory is bounded by
/// this, not by the population.
pub const DEFAULT_CHUNK_ROWS: usize = 50_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutFormat {
    Csv,
    Parquet,
}

impl OutFormat {
    pub(super) fn ext(self) -> &'static str {
        match self {
            OutFormat::Csv => "csv",
            OutFormat::Parquet => "parquet",
        }
    }
}

/// The result tables `match` writes unless told otherwise; `rejects` and `summary.json`
/// are always written.
pub const DEFAULT_TABLES: [&str; 8] = [
    "pushes",
    "digest",
    "unlocks",
    "notices",
    "grants",
    "near_misses",
    "undetermined",
    "errors",
];

/// Every result table `match` can write: the defaults, `push_ids` (the push list as two
/// id columns, for warehouses that join the measure texts themselves) and `eligible`
/// (every eligible pair of a pushed measure, before the cap: the list `compile --emit sql`
/// gives, for audits and warehouses).
pub const RESULT_TABLES: [&str; 10] = [
    DEFAULT_TABLES[0],
    DEFAULT_TABLES[1],
    DEFAULT_TABLES[2],
    DEFAULT_TABLES[3],
    DEFAULT_TABLES[4],
    DEFAULT_TABLES[5],
    DEFAULT_TABLES[6],
    DEFAULT_TABLES[7],
    "push_ids",
    "eligible",
];

pub use policy_match::eval::{DEFAULT_MAX_PUSHES, DEFAULT_MAX_UNLOCKS};

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
    /// The most pushes an enterprise gets, its best ranked ([`DEFAULT_MAX_PUSHES`]); at
    /// least 1.
    pub max_pushes: usize,
    /// The most unlocks an enterprise is told of ([`DEFAULT_MAX_UNLOCKS`]).
    pub max_unlocks: usize,
    /// Also write the 驾驶舱 report of the run, `report.html`, into the output folder
    /// (as `policy-match report` would from the finished folder).
    pub report: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum MatchError {
    #[error("cannot read enterprises file `{path}`: {message}")]
    Input { path: PathBuf, message: String },
    /// The JSON Lines reader's error, which already names the file.
    #[error("cannot read enterprises file {0}")]
    ReadJsonl(#[source] std::io::Error),
    /// The CSV or Parquet reader's error, which already names the file.
    #[error("cannot read enterprises file {0}")]
    ReadTable(#[source] crate::tabular::TabularError),
    #[error("cannot read previous run `{path}`: {message}")]
    Previous { path: PathBuf, message: String },
    /// The Arrow reader's error: a missing or mistyped column names it.
    #[error("cannot read the Arrow input: {0}")]
    ReadArrow(#[source] crate::tabular::TabularError),
    #[error(transparent)]
    Output(#[from] OutDirError),
    #[error("cannot write the report: {0}")]
    Report(#[source] crate::report::ReportError),
}

/// Where a run's tables go: files of the output folder, or tables kept in memory
/// ([`crate::tabular::ArrowTable`], the values the Parquet files would hold).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Dest {
    Files(OutFormat),
    Memory,
}
