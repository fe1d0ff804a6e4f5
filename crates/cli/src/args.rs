//! The arguments, as clap parses them: the global flags in [`Cli`], then one struct per
//! command that takes any.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use jiff::civil::Date;

use policy_match::dates::parse_date;
use policy_match::eval::EngineKind;
use policy_match::report::views::By;

#[derive(Parser)]
#[command(
    name = "policy-match",
    version,
    about = "Policy-eligibility engine for Keqiao's 民营经济32条: 政策找企业 and 免申即享"
)]
pub struct Cli {
    /// Rules directory (schema.toml and measures/); default: the built-in Keqiao catalog.
    #[arg(long, global = true, value_name = "DIR")]
    pub rules: Option<PathBuf>,
    /// How errors and diagnostics are printed on stderr.
    #[arg(long, global = true, value_enum, default_value_t = ErrorFormat::Human)]
    pub error_format: ErrorFormat,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum ErrorFormat {
    Human,
    Json,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum ListFormat {
    Table,
    Json,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum TextFormat {
    Text,
    Json,
}

// The doc comment of each variant is the command's help; the argument structs carry none,
// so that it stays the variant's.
#[derive(Subcommand)]
pub enum Command {
    /// Check the catalog: every error and warning, located, with a help line.
    Check(CheckArgs),
    /// List the measures, or count them by zone, window, scenario, department or article.
    List(ListArgs),
    /// The service calendar (企业服务日历): measures whose effective window opens or closes soon.
    Calendar(CalendarArgs),
    /// Print the rhai script a measure compiles to, or (`--emit sql`) one SQL query, for
    /// DuckDB and PostgreSQL, giving the eligible list of `match` (`--tables eligible`:
    /// every eligible pair of a pushed measure, before the per-enterprise cap) over a
    /// table `profiles`.
    Compile(CompileArgs),
    /// Explain every measure's outcome for one enterprise.
    Explain(ExplainArgs),
    /// Run the examples written beside the rules, with condition coverage.
    Test(TestArgs),
    /// Nightly batch: every enterprise against every measure; writes pushes, grants,
    /// near misses, undetermined pairs, errors, rejects and summary.json into DIR.
    Match(MatchArgs),
    /// Risk scans: 应享未享 (eligible, no claim) and 不应享而享 (a claim, not eligible).
    Audit(AuditArgs),
    /// The 驾驶舱 report: a finished `match` folder (and an `audit` folder) as one
    /// self-contained HTML page that opens offline.
    Report(ReportArgs),
    /// Write a synthetic Keqiao-like population (CSV, Parquet or JSON Lines by extension).
    Gen(GenArgs),
    /// Serve the catalog over HTTP: /v1/recommend, /v1/match, /v1/measures,
    /// /v1/calendar, /health, /metrics; reload the rules on SIGHUP or POST /v1/reload.
    Serve(ServeArgs),
}

/// How many pushes and unlocks an enterprise is told of (`match`, `explain`).
#[derive(Args)]
pub struct PushArgs {
    /// The most measures pushed to one enterprise: its best ranked (granted without
    /// application first, then the most specific to it, the largest cash amount, closing
    /// soon, newly eligible). The rest stay in the `eligible` table when it is asked for.
    #[arg(long, value_name = "N", default_value_t = policy_match::eval::DEFAULT_MAX_PUSHES,
          value_parser = max_pushes_arg)]
    pub max_pushes: usize,
    /// The most unlocks an enterprise is told of: the conditions that, if met, would open
    /// the most pushed measures, and 个转企 for an individual business (0: none).
    #[arg(long, value_name = "N", default_value_t = policy_match::eval::DEFAULT_MAX_UNLOCKS,
          value_parser = at_most_told)]
    pub max_unlocks: usize,
}

// `check`
#[derive(Args)]
pub struct CheckArgs {
    /// Fail on warnings too, with the exit code of an invalid catalog (3).
    #[arg(long)]
    pub deny_warnings: bool,
}

// `list`
#[derive(Args)]
pub struct ListArgs {
    #[arg(long, value_enum, default_value_t = ListFormat::Table)]
    pub format: ListFormat,
    /// Print counts per key instead of the measures.
    #[arg(long, value_parser = by_arg())]
    pub by: Option<By>,
}

/// `list --by`: the core's keys, by their names (the core knows nothing of clap).
fn by_arg() -> impl clap::builder::TypedValueParser<Value = By> {
    use clap::builder::TypedValueParser as _;
    clap::builder::PossibleValuesParser::new(By::ALL.map(By::as_str)).map(|name| {
        By::ALL
            .into_iter()
            .find(|b| b.as_str() == name)
            // The parser admits only the names of `By::ALL`.
            .unwrap_or(By::Zone)
    })
}

// `calendar`
#[derive(Args)]
pub struct CalendarArgs {
    /// First day of the period, YYYY-MM-DD; default today.
    #[arg(long, value_name = "DATE", value_parser = date_arg)]
    pub as_of: Option<Date>,
    /// Length of the period in days.
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(i32).range(0..=36_600))]
    pub days: i32,
    #[arg(long, value_enum, default_value_t = ListFormat::Table)]
    pub format: ListFormat,
}

// `serve`
#[derive(Args)]
pub struct ServeArgs {
    /// The address to listen on (port 0: any free port, printed at start).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    pub listen: std::net::SocketAddr,
    /// The bearer token `POST /v1/reload` requires; without one that endpoint is off
    /// (SIGHUP still reloads). Better passed in the environment than on the command line.
    #[arg(long, value_name = "TOKEN", env = "POLICY_MATCH_ADMIN_TOKEN", hide_env_values = true,
          value_parser = token_arg)]
    pub admin_token: Option<String>,
    /// The largest request body read, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = 8 << 20,
          value_parser = clap::value_parser!(u32).range(1024..))]
    pub max_body_bytes: u32,
    /// The most profiles one `/v1/match` request may hold.
    #[arg(long, value_name = "N", default_value_t = 1000,
          value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub max_profiles: u32,
    /// The longest a request may take, in milliseconds (then 503 `timeout`).
    #[arg(long, value_name = "MS", default_value_t = 10_000,
          value_parser = clap::value_parser!(u64).range(1..=3_600_000))]
    pub request_timeout_ms: u64,
    /// Threads answering requests; default: all cores.
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..))]
    pub threads: Option<u16>,
    /// The log on stderr: `text`, or `json` (one object a line, for a log collector).
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    #[command(flatten)]
    pub push: PushArgs,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// `--admin-token`: at least 16 visible ASCII characters, so that a guess is hopeless and
/// the header can carry it.
fn token_arg(s: &str) -> Result<String, String> {
    if s.len() < 16 || !s.bytes().all(|b| b.is_ascii_graphic()) {
        return Err("must be at least 16 visible ASCII characters (no spaces)".into());
    }
    Ok(s.to_owned())
}

// `compile`
#[derive(Args)]
pub struct CompileArgs {
    /// Measure id, e.g. M017; required for `--emit rhai`. With `--emit sql`, the query
    /// covers this measure only; without it, every measure.
    pub measure: Option<String>,
    #[arg(long, value_enum, default_value_t = Emit::Rhai)]
    pub emit: Emit,
    /// Evaluation date of `--emit sql`, YYYY-MM-DD; default today (China Standard Time).
    #[arg(long, value_name = "DATE", value_parser = date_arg)]
    pub as_of: Option<Date>,
}

/// What `compile` prints.
#[derive(Clone, Copy, ValueEnum)]
pub enum Emit {
    /// The whole rhai script of one measure.
    Rhai,
    /// One SQL query returning the eligible list (enterprise_id, measure_id) that
    /// `match --tables eligible` writes: the pushes before the per-enterprise cap.
    Sql,
}

// `explain`
#[derive(Args)]
pub struct ExplainArgs {
    #[command(flatten)]
    pub push: PushArgs,
    /// Show every measure with each condition, not only what the enterprise is told.
    #[arg(long)]
    pub all: bool,
    /// Enterprise profiles, JSON Lines.
    #[arg(long, value_name = "FILE")]
    pub enterprises: PathBuf,
    /// The enterprise's 统一社会信用代码.
    #[arg(long, value_name = "USCC")]
    pub id: String,
    /// Evaluation date, YYYY-MM-DD; default today (China Standard Time).
    #[arg(long, value_name = "DATE", value_parser = date_arg)]
    pub as_of: Option<Date>,
    #[arg(long, value_enum, default_value_t = TextFormat::Text)]
    pub format: TextFormat,
    /// `native` (lowered expressions, rhai where not covered) or `rhai` (every expression).
    #[arg(long, value_name = "ENGINE", default_value = "native")]
    pub engine: EngineKind,
}

// `test`
#[derive(Args)]
pub struct TestArgs {
    /// `as_of` for examples that do not set one; default today.
    #[arg(long, value_name = "DATE", value_parser = date_arg)]
    pub as_of: Option<Date>,
    #[arg(long, value_enum, default_value_t = TextFormat::Text)]
    pub format: TextFormat,
}

// `match`
#[derive(Args)]
pub struct MatchArgs {
    /// Population: .csv, .parquet or .jsonl.
    #[arg(long, value_name = "FILE")]
    pub enterprises: PathBuf,
    /// Output folder; replaced whole, only when the run completes.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Evaluation date, YYYY-MM-DD; default today (China Standard Time).
    #[arg(long, value_name = "DATE", value_parser = date_arg)]
    pub as_of: Option<Date>,
    #[arg(long, value_enum, default_value_t = OutFormatArg::Csv)]
    pub format: OutFormatArg,
    /// The previous run's output folder: adds pushes_new and pushes_revoked.
    #[arg(long, value_name = "DIR")]
    pub previous: Option<PathBuf>,
    /// Process only shard K of N (0-based), by a stable hash of the id.
    #[arg(long, value_name = "K/N")]
    pub shard: Option<policy_match_batch::shard::Shard>,
    /// Worker threads; default: all cores.
    #[arg(long)]
    pub threads: Option<usize>,
    /// Rows read and evaluated at a time.
    #[arg(long, default_value_t = policy_match_batch::run::DEFAULT_CHUNK_ROWS)]
    pub chunk_rows: usize,
    /// `native` (lowered expressions, rhai where not covered) or `rhai` (every expression).
    #[arg(long, value_name = "ENGINE", default_value = "native")]
    pub engine: EngineKind,
    /// Evaluate every pair in full, without the tag-word prefilter (same outputs).
    #[arg(long)]
    pub no_prefilter: bool,
    /// Write only these result tables (comma-separated): pushes, digest, unlocks, notices, grants,
    /// near_misses, undetermined, errors (the default), push_ids (the push list as its
    /// two id columns) and eligible (every eligible pair of a pushed measure, before the
    /// cap: the list `compile --emit sql` gives). Only what they need is kept while
    /// running; the summary still counts everything, and rejects are always written.
    #[arg(long, value_name = "TABLES", value_delimiter = ',', value_parser = table_arg)]
    pub tables: Option<Vec<String>>,
    #[command(flatten)]
    pub push: PushArgs,
    /// Also write the 驾驶舱 report, `report.html`, into the output folder (what
    /// `policy-match report DIR` writes from the finished folder).
    #[arg(long)]
    pub report: bool,
    /// Print nothing but errors.
    #[arg(long)]
    pub quiet: bool,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum OutFormatArg {
    Csv,
    Parquet,
}

// `report`
#[derive(Args)]
pub struct ReportArgs {
    /// The `--out` folder of a finished `match` (CSV or Parquet tables, `summary.json`).
    #[arg(value_name = "RUN_DIR")]
    pub run: PathBuf,
    /// The `--out` folder of `audit`, for the risk scans (应享未享, 不应享而享).
    #[arg(long, value_name = "DIR")]
    pub audit: Option<PathBuf>,
    /// The HTML file to write.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
}

// `audit`
#[derive(Args)]
pub struct AuditArgs {
    /// Population: .csv, .parquet or .jsonl.
    #[arg(long, value_name = "FILE")]
    pub enterprises: PathBuf,
    /// Benefits enjoyed: CSV with enterprise_id, measure_id[, amount_yuan].
    #[arg(long, value_name = "FILE")]
    pub claims: PathBuf,
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    #[arg(long, value_name = "DATE", value_parser = date_arg)]
    pub as_of: Option<Date>,
}

// `gen`
#[derive(Args)]
pub struct GenArgs {
    #[arg(long)]
    pub count: usize,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Fraction of rows made invalid on purpose, e.g. 0.02.
    #[arg(long, default_value_t = 0.0)]
    pub bad_rows: f64,
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
}

fn table_arg(s: &str) -> Result<String, String> {
    let tables = policy_match_batch::run::RESULT_TABLES;
    if tables.contains(&s) {
        Ok(s.to_owned())
    } else {
        let hint = policy_match::diag::did_you_mean(s, tables)
            .map(|t| format!("; did you mean `{t}`?"))
            .unwrap_or_default();
        Err(format!(
            "`{s}` is not a result table ({}){hint}",
            tables.join(", ")
        ))
    }
}

fn date_arg(s: &str) -> Result<Date, String> {
    parse_date(s).ok_or_else(|| format!("`{s}` is not a date YYYY-MM-DD"))
}

/// `--max-pushes`: 1 to [`MAX_TOLD`](policy_match::eval::MAX_TOLD). Zero would be an
/// empty push list; `--tables` drops tables.
fn max_pushes_arg(s: &str) -> Result<usize, String> {
    match at_most_told(s)? {
        0 => {
            Err("must be at least 1 (to write no pushes, leave `pushes` out of `--tables`)".into())
        }
        n => Ok(n),
    }
}

/// A count from 0 to [`MAX_TOLD`](policy_match::eval::MAX_TOLD) (ranks are kept in a byte).
fn at_most_told(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(n) if n <= policy_match::eval::MAX_TOLD => Ok(n),
        Ok(_) => Err(format!("at most {}", policy_match::eval::MAX_TOLD)),
        Err(e) => Err(e.to_string()),
    }
}
