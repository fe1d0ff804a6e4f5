//! `match`: the nightly batch, every enterprise against every measure, into an output
//! folder; a one-line summary on stderr.

use std::io::IsTerminal as _;

use indicatif::{ProgressBar, ProgressStyle};
use policy_match::compile::catalog::Catalog;
use policy_match_batch::run::{MatchOptions, OutFormat, Summary};

use crate::args::{MatchArgs, OutFormatArg};
use crate::exit::{self, Outcome};
use crate::out::note;

pub fn run(catalog: &Catalog, args: &MatchArgs) -> Outcome {
    let opts = MatchOptions {
        enterprises: args.enterprises.clone(),
        out: args.out.clone(),
        as_of: args.as_of.unwrap_or_else(crate::clock::today),
        format: match args.format {
            OutFormatArg::Csv => OutFormat::Csv,
            OutFormatArg::Parquet => OutFormat::Parquet,
        },
        previous: args.previous.clone(),
        shard: args.shard,
        chunk_rows: args.chunk_rows,
        engine: args.engine,
        prefilter: !args.no_prefilter,
        tables: args.tables.clone(),
        max_pushes: args.push.max_pushes,
        max_unlocks: args.push.max_unlocks,
        report: args.report,
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(args.threads.unwrap_or(0))
        .build()
        .map_err(|e| exit::fatal(format!("cannot start worker threads: {e}")))?;
    let bar = progress_bar(args.quiet);
    let result = pool.install(|| {
        policy_match_batch::run::run_match_with_progress(catalog, &opts, &mut |rows| {
            if let Some(bar) = &bar {
                bar.set_position(rows as u64);
            }
        })
    });
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let sum = result.map_err(|e| exit::fatal(e.to_string()))?;
    if !args.quiet {
        summary(&sum, args);
    }
    Ok(sum.exit_code())
}

/// A progress line on a terminal only: logs and schedulers get none.
fn progress_bar(quiet: bool) -> Option<ProgressBar> {
    (!quiet && std::io::stderr().is_terminal()).then(|| {
        let bar = ProgressBar::new_spinner();
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} {human_pos} rows matched ({per_sec}, {elapsed})",
            )
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar
    })
}

fn summary(sum: &Summary, args: &MatchArgs) {
    note(format_args!(
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
        args.out.display()
    ));
}
