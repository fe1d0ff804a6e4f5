//! The command line: parsing, dispatch and exit codes. `main` only calls [`run`].
//!
//! Exit codes a scheduler can act on: 0 ok, 1 fatal (bad arguments, unreadable input,
//! unknown enterprise), 3 the catalog is invalid, 4 rule tests failed.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use jiff::civil::Date;
use serde::Serialize;

use policy_match::compile::catalog::Catalog;

use policy_match::LoadError;
use policy_match::dates::parse_date;
use policy_match::eval::EngineKind;
use policy_match::profile;
use policy_match::report::explain;
use policy_match::report::views;
use policy_match::report::views::By;

pub const EXIT_OK: u8 = 0;
pub const EXIT_FATAL: u8 = 1;
pub const EXIT_CATALOG_INVALID: u8 = 3;
pub const EXIT_TESTS_FAILED: u8 = 4;

#[derive(Parser)]
#[command(
    name = "policy-match",
    version,
    about = "Policy-eligibility engine for Keqiao's 民营经济32条: 政策找企业 and 免申即享"
)]
struct Cli {
    /// Rules directory (schema.toml and measures/); default: the built-in Keqiao catalog.
    #[arg(long, global = true, value_name = "DIR")]
    rules: Option<PathBuf>,
    /// How errors and diagnostics are printed on stderr.
    #[arg(long, global = true, value_enum, default_value_t = ErrorFormat::Human)]
    error_format: ErrorFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
enum ErrorFormat {
    Human,
    Json,
}

#[derive(Clone, Copy, ValueEnum)]
enum ListFormat {
    Table,
    Json,
}

#[derive(Clone, Copy, ValueEnum)]
enum TextFormat {
    Text,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Check the catalog: every diagnostic, located, with a help line.
    Check,
    /// List the measures, or count them by zone, window, scenario, department or article.
    List {
        #[arg(long, value_enum, default_value_t = ListFormat::Table)]
        format: ListFormat,
        /// Print counts per key instead of the measures.
        #[arg(long, value_enum)]
        by: Option<ByArg>,
    },
    /// The service calendar (企业服务日历): measures whose effective window opens or closes soon.
    Calendar {
        /// First day of the period, YYYY-MM-DD; default today.
        #[arg(long, value_name = "DATE", value_parser = date_arg)]
        as_of: Option<Date>,
        /// Length of the period in days.
        #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(i32).range(0..=36_600))]
        days: i32,
        #[arg(long, value_enum, default_value_t = ListFormat::Table)]
        format: ListFormat,
    },
    /// Print the rhai script a measure compiles to, or (`--emit sql`) one SQL query, for
    /// DuckDB and PostgreSQL, giving the push list of `match` over a table `profiles`.
    Compile {
        /// Measure id, e.g. M017; required for `--emit rhai`. With `--emit sql`, the query
        /// covers this measure only; without it, every measure.
        measure: Option<String>,
        #[arg(long, value_enum, default_value_t = Emit::Rhai)]
        emit: Emit,
        /// Evaluation date of `--emit sql`, YYYY-MM-DD; default today (China Standard Time).
        #[arg(long, value_name = "DATE", value_parser = date_arg)]
        as_of: Option<Date>,
    },
    /// Explain every measure's outcome for one enterprise.
    Explain {
        /// Enterprise profiles, JSON Lines.
        #[arg(long, value_name = "FILE")]
        enterprises: PathBuf,
        /// The enterprise's 统一社会信用代码.
        #[arg(long, value_name = "USCC")]
        id: String,
        /// Evaluation date, YYYY-MM-DD; default today (China Standard Time).
        #[arg(long, value_name = "DATE", value_parser = date_arg)]
        as_of: Option<Date>,
        #[arg(long, value_enum, default_value_t = TextFormat::Text)]
        format: TextFormat,
        /// `native` (lowered expressions, rhai where not covered) or `rhai` (every expression).
        #[arg(long, value_name = "ENGINE", default_value = "native")]
        engine: EngineKind,
    },
    /// Run the examples written beside the rules, with condition coverage.
    Test {
        /// `as_of` for examples that do not set one; default today.
        #[arg(long, value_name = "DATE", value_parser = date_arg)]
        as_of: Option<Date>,
        #[arg(long, value_enum, default_value_t = TextFormat::Text)]
        format: TextFormat,
    },
    /// Nightly batch: every enterprise against every measure; writes pushes, grants,
    /// near misses, undetermined pairs, errors, rejects and summary.json into DIR.
    Match {
        /// Population: .csv, .parquet or .jsonl.
        #[arg(long, value_name = "FILE")]
        enterprises: PathBuf,
        /// Output folder; replaced whole, only when the run completes.
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// Evaluation date, YYYY-MM-DD; default today (China Standard Time).
        #[arg(long, value_name = "DATE", value_parser = date_arg)]
        as_of: Option<Date>,
        #[arg(long, value_enum, default_value_t = OutFormatArg::Csv)]
        format: OutFormatArg,
        /// The previous run's output folder: adds pushes_new and pushes_revoked.
        #[arg(long, value_name = "DIR")]
        previous: Option<PathBuf>,
        /// Process only shard K of N (0-based), by a stable hash of the id.
        #[arg(long, value_name = "K/N")]
        shard: Option<policy_match_batch::shard::Shard>,
        /// Worker threads; default: all cores.
        #[arg(long)]
        threads: Option<usize>,
        /// Rows read and evaluated at a time.
        #[arg(long, default_value_t = policy_match_batch::run::DEFAULT_CHUNK_ROWS)]
        chunk_rows: usize,
        /// `native` (lowered expressions, rhai where not covered) or `rhai` (every expression).
        #[arg(long, value_name = "ENGINE", default_value = "native")]
        engine: EngineKind,
        /// Evaluate every pair in full, without the tag-word prefilter (same outputs).
        #[arg(long)]
        no_prefilter: bool,
        /// Write only these result tables (comma-separated): pushes, grants, near_misses,
        /// undetermined, errors (the default), and push_ids (the push list as its two id
        /// columns). Only what they need is kept while running; the summary still counts
        /// everything, and rejects are always written.
        #[arg(long, value_name = "TABLES", value_delimiter = ',', value_parser = table_arg)]
        tables: Option<Vec<String>>,
        /// Print nothing but errors.
        #[arg(long)]
        quiet: bool,
    },
    /// Risk scans: 应享未享 (eligible, no claim) and 不应享而享 (a claim, not eligible).
    Audit {
        /// Population: .csv, .parquet or .jsonl.
        #[arg(long, value_name = "FILE")]
        enterprises: PathBuf,
        /// Benefits enjoyed: CSV with enterprise_id, measure_id[, amount_yuan].
        #[arg(long, value_name = "FILE")]
        claims: PathBuf,
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        #[arg(long, value_name = "DATE", value_parser = date_arg)]
        as_of: Option<Date>,
    },
    /// Write a synthetic Keqiao-like population (CSV, Parquet or JSON Lines by extension).
    Gen {
        #[arg(long)]
        count: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Fraction of rows made invalid on purpose, e.g. 0.02.
        #[arg(long, default_value_t = 0.0)]
        bad_rows: f64,
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
}

/// What `compile` prints.
#[derive(Clone, Copy, ValueEnum)]
enum Emit {
    /// The whole rhai script of one measure.
    Rhai,
    /// One SQL query returning the push list (enterprise_id, measure_id).
    Sql,
}

#[derive(Clone, Copy, ValueEnum)]
enum OutFormatArg {
    Csv,
    Parquet,
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

/// Parses the arguments, runs the command and returns the exit code.
pub fn run() -> ExitCode {
    // Structured logs on stderr, silent unless RUST_LOG asks (e.g. RUST_LOG=policy_match=info).
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .try_init();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // `--help` and `--version` go to stdout and succeed; bad arguments are fatal.
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { EXIT_FATAL } else { EXIT_OK });
        }
    };
    ExitCode::from(dispatch(&cli))
}

fn fatal(cli: &Cli, message: &str) -> u8 {
    match cli.error_format {
        ErrorFormat::Human => eprintln!("error: {message}"),
        ErrorFormat::Json => eprintln!("{}", serde_json::json!({ "error": message })),
    }
    EXIT_FATAL
}

fn load(cli: &Cli) -> Result<Catalog, u8> {
    let loaded = match &cli.rules {
        Some(dir) => Catalog::load_dir(dir),
        None => Catalog::builtin(),
    };
    loaded.map_err(|e| match e {
        LoadError::Invalid(diags) => {
            let mut err = std::io::stderr().lock();
            for d in &diags {
                let _ = match cli.error_format {
                    ErrorFormat::Human => write!(err, "{}", render(d)),
                    ErrorFormat::Json => {
                        writeln!(err, "{}", serde_json::to_string(d).unwrap_or_default())
                    }
                };
            }
            if let ErrorFormat::Human = cli.error_format {
                let _ = writeln!(
                    err,
                    "error: the catalog is invalid: {} error(s), 0 warnings",
                    diags.len()
                );
            }
            EXIT_CATALOG_INVALID
        }
        other => fatal(cli, &other.to_string()),
    })
}

fn print_json(v: &impl Serialize) {
    println!(
        "{}",
        serde_json::to_string_pretty(v).expect("plain data serialises")
    );
}

fn dispatch(cli: &Cli) -> u8 {
    let catalog = match load(cli) {
        Ok(c) => c,
        Err(code) => return code,
    };
    match &cli.command {
        Command::Check => {
            println!(
                "ok: {} measures, 0 errors, 0 warnings (catalog {})",
                catalog.measures.len(),
                catalog.hash
            );
            EXIT_OK
        }
        Command::List { format, by: None } => {
            list(&catalog, *format);
            EXIT_OK
        }
        Command::List {
            format,
            by: Some(by),
        } => {
            let counts = views::counts(&catalog, (*by).into());
            match format {
                ListFormat::Json => print_json(&counts),
                ListFormat::Table => {
                    for (k, n) in &counts {
                        println!("{n:>4}  {k}");
                    }
                    println!(
                        "{:>4}  total ({} measures)",
                        counts.values().sum::<usize>(),
                        catalog.measures.len()
                    );
                }
            }
            EXIT_OK
        }
        Command::Calendar {
            as_of,
            days,
            format,
        } => {
            let as_of = as_of.unwrap_or_else(crate::clock::today);
            let entries = views::calendar(&catalog, as_of, *days);
            match format {
                ListFormat::Json => print_json(&entries),
                ListFormat::Table => {
                    println!(
                        "{} measure event(s) from {as_of} over {days} day(s)",
                        entries.len()
                    );
                    for e in &entries {
                        let what = match e.event {
                            views::Event::Opens => "opens ",
                            views::Event::Closes => "closes",
                        };
                        println!(
                            "{}  {what}  {}  {}  {} · {}",
                            e.date, e.measure_id, e.title, e.zone, e.window
                        );
                    }
                }
            }
            EXIT_OK
        }
        Command::Compile {
            measure,
            emit,
            as_of,
        } => {
            let picked = match measure
                .as_deref()
                .map(|id| (id, catalog.index_of(id).map(|i| &catalog.measures[i])))
            {
                None => None,
                Some((_, Some(cm))) => Some(cm),
                Some((id, None)) => {
                    let ids = catalog.measures.iter().map(|m| m.measure.id.as_str());
                    let hint = policy_match::diag::did_you_mean(id, ids)
                        .map(|s| format!(" (did you mean `{s}`?)"));
                    return fatal(
                        cli,
                        &format!(
                            "no measure `{id}` in the catalog{}",
                            hint.unwrap_or_default()
                        ),
                    );
                }
            };
            match (emit, picked) {
                (Emit::Rhai, _) if as_of.is_some() => {
                    fatal(cli, "`--as-of` applies to `--emit sql` only")
                }
                (Emit::Rhai, Some(cm)) => {
                    println!("{}", cm.script);
                    EXIT_OK
                }
                (Emit::Rhai, None) => fatal(
                    cli,
                    "`compile` needs a measure id to print its rhai script, e.g. `policy-match compile M017`",
                ),
                (Emit::Sql, picked) => {
                    let as_of = as_of.unwrap_or_else(crate::clock::today);
                    let measures: Vec<&policy_match::rules::ir::Measure> = match picked {
                        Some(cm) => vec![&cm.measure],
                        None => catalog.measures.iter().map(|cm| &cm.measure).collect(),
                    };
                    match policy_match::sql::push_query(&catalog, measures, as_of) {
                        Ok(q) => {
                            println!("{q}");
                            EXIT_OK
                        }
                        Err(e) => fatal(cli, &e.to_string()),
                    }
                }
            }
        }
        Command::Explain {
            enterprises,
            id,
            as_of,
            format,
            engine,
        } => {
            let (profiles, rejects) = match profile::jsonl::read_jsonl(&catalog.schema, enterprises)
            {
                Ok(x) => x,
                Err(e) => return fatal(cli, &e.to_string()),
            };
            let Some(p) = profiles.iter().find(|p| &p.id == id) else {
                let why = rejects
                    .iter()
                    .find(|r| r.id.as_deref() == Some(id.as_str()))
                    .map(|r| format!(": line {} was rejected: {}", r.row, r.reason))
                    .unwrap_or_else(|| " (no such id)".to_owned());
                return fatal(
                    cli,
                    &format!(
                        "enterprise `{id}` not found in `{}`{why}",
                        enterprises.display()
                    ),
                );
            };
            let rec = catalog.recommend_with(
                p,
                as_of.unwrap_or_else(crate::clock::today),
                &policy_match::EvalOptions { engine: *engine },
            );
            match format {
                TextFormat::Text => print!("{}", explain::to_text(&catalog, &p.name, &rec)),
                TextFormat::Json => print_json(&explain::to_json(&catalog, &rec)),
            }
            EXIT_OK
        }
        Command::Match {
            enterprises,
            out,
            as_of,
            format,
            previous,
            shard,
            threads,
            chunk_rows,
            engine,
            no_prefilter,
            tables,
            quiet,
        } => {
            let opts = policy_match_batch::run::MatchOptions {
                enterprises: enterprises.clone(),
                out: out.clone(),
                as_of: as_of.unwrap_or_else(crate::clock::today),
                format: match format {
                    OutFormatArg::Csv => policy_match_batch::run::OutFormat::Csv,
                    OutFormatArg::Parquet => policy_match_batch::run::OutFormat::Parquet,
                },
                previous: previous.clone(),
                shard: *shard,
                chunk_rows: *chunk_rows,
                engine: *engine,
                prefilter: !no_prefilter,
                tables: tables.clone(),
            };
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads.unwrap_or(0))
                .build();
            let pool = match pool {
                Ok(p) => p,
                Err(e) => return fatal(cli, &format!("cannot start worker threads: {e}")),
            };
            // A progress line on a terminal only: logs and schedulers get none.
            use std::io::IsTerminal;
            let bar = (!quiet && std::io::stderr().is_terminal()).then(|| {
                let bar = indicatif::ProgressBar::new_spinner();
                bar.set_style(
                    indicatif::ProgressStyle::with_template(
                        "{spinner} {human_pos} rows matched ({per_sec}, {elapsed})",
                    )
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
                );
                bar
            });
            let result = pool.install(|| {
                policy_match_batch::run::run_match_with_progress(&catalog, &opts, &mut |rows| {
                    if let Some(bar) = &bar {
                        bar.set_position(rows as u64);
                    }
                })
            });
            if let Some(bar) = bar {
                bar.finish_and_clear();
            }
            match result {
                Ok(sum) => {
                    if !quiet {
                        eprintln!(
                            "matched {} enterprise(s) of {} row(s) against {} measures as of {}: {} pushes, {} grants, {} near misses, {} undetermined, {} errors, {} rejects → {}",
                            sum.enterprises_matched,
                            sum.input_rows,
                            sum.measures,
                            sum.as_of,
                            sum.pushes,
                            sum.grants,
                            sum.near_misses,
                            sum.undetermined,
                            sum.errors,
                            sum.rejects,
                            out.display()
                        );
                    }
                    sum.exit_code()
                }
                Err(e) => fatal(cli, &e.to_string()),
            }
        }
        Command::Audit {
            enterprises,
            claims,
            out,
            as_of,
        } => {
            let opts = policy_match_batch::audit::AuditOptions {
                enterprises: enterprises.clone(),
                claims: claims.clone(),
                out: out.clone(),
                as_of: as_of.unwrap_or_else(crate::clock::today),
                chunk_rows: policy_match_batch::run::DEFAULT_CHUNK_ROWS,
            };
            match policy_match_batch::audit::run_audit(&catalog, &opts) {
                Ok(sum) => {
                    eprintln!(
                        "audited {} enterprise(s), {} claim(s): {} 应享未享, {} 不应享而享, {} amount differs, {} claim(s) rejected → {}",
                        sum.enterprises,
                        sum.claims,
                        sum.should_enjoy_not_enjoyed,
                        sum.enjoyed_not_eligible,
                        sum.amount_differs,
                        sum.claims_rejected,
                        out.display()
                    );
                    if sum.claims_rejected > 0 || sum.rejects > 0 {
                        2
                    } else {
                        EXIT_OK
                    }
                }
                Err(e) => fatal(cli, &e.to_string()),
            }
        }
        Command::Gen {
            count,
            seed,
            bad_rows,
            out,
        } => {
            let opts = policy_match::synth::GenOptions {
                count: *count,
                seed: *seed,
                bad_rows: *bad_rows,
            };
            match policy_match_batch::popfile::write_file(out, &catalog.schema, &opts) {
                Ok(n) => {
                    eprintln!("wrote {n} row(s) to {}", out.display());
                    EXIT_OK
                }
                Err(e) => fatal(cli, &e),
            }
        }
        Command::Test { as_of, format } => {
            let report = policy_match::report::ruletest::run(
                &catalog,
                as_of.unwrap_or_else(crate::clock::today),
            );
            match format {
                TextFormat::Json => print_json(&report),
                TextFormat::Text => {
                    for f in &report.failures {
                        println!(
                            "FAIL {} example `{}`: expected {}, got {}",
                            f.measure, f.example, f.expected, f.got
                        );
                    }
                    for u in &report.uncovered {
                        println!(
                            "uncovered {}「{}」never {}",
                            u.measure, u.label, u.never_seen
                        );
                    }
                    let covered = report.conditions * 2 - report.uncovered.len();
                    println!(
                        "{} passed, {} failed; condition coverage {covered}/{} (each condition seen true and false)",
                        report.passed,
                        report.failures.len(),
                        report.conditions * 2
                    );
                }
            }
            if report.ok() {
                EXIT_OK
            } else {
                EXIT_TESTS_FAILED
            }
        }
    }
}

#[derive(Serialize)]
struct ListItem<'a> {
    #[serde(flatten)]
    measure: &'a policy_match::rules::ir::Measure,
    title: String,
    conditions: Vec<&'a str>,
}

fn list(catalog: &Catalog, format: ListFormat) {
    match format {
        ListFormat::Json => {
            let items: Vec<_> = catalog
                .measures
                .iter()
                .map(|cm| ListItem {
                    measure: &cm.measure,
                    title: explain::title(&cm.measure),
                    conditions: cm.conditions.iter().map(|c| c.label.as_str()).collect(),
                })
                .collect();
            print_json(&items);
        }
        ListFormat::Table => {
            println!(
                "id    art  mode      zone / window                     scenario          title"
            );
            for cm in &catalog.measures {
                let m = &cm.measure;
                let mode = if m.auto_grant() {
                    "免申即享"
                } else {
                    "精准推送"
                };
                println!(
                    "{:<5} {:>3}  {}  {:<32}  {:<16}  {}",
                    m.id,
                    m.article,
                    mode,
                    format!("{} / {}", m.zone, m.window),
                    m.scenario.as_deref().unwrap_or("—"),
                    explain::title(m)
                );
            }
        }
    }
}

/// A diagnostic as miette draws it, without colour, for terminals and snapshots.
fn render(d: &policy_match::diag::Diagnostic) -> String {
    let handler =
        miette::GraphicalReportHandler::new_themed(miette::GraphicalTheme::unicode_nocolor())
            .with_width(100)
            .with_links(false);
    let mut out = String::new();
    if handler.render_report(&mut out, &d.report()).is_err() {
        out = format!("{d}\n");
    }
    out
}

/// `list --by`: what to count measures by.
#[derive(Debug, Clone, Copy, ValueEnum)]
enum ByArg {
    Zone,
    Window,
    Scenario,
    Department,
    Article,
}

impl From<ByArg> for By {
    fn from(b: ByArg) -> By {
        match b {
            ByArg::Zone => By::Zone,
            ByArg::Window => By::Window,
            ByArg::Scenario => By::Scenario,
            ByArg::Department => By::Department,
            ByArg::Article => By::Article,
        }
    }
}
