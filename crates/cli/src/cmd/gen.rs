//! `gen`: a synthetic Keqiao-like population, written as CSV, Parquet or JSON Lines by the
//! file's extension.

use policy_match::compile::catalog::Catalog;
use policy_match::synth::GenOptions;

use crate::args::GenArgs;
use crate::exit::{self, EXIT_OK, Outcome};
use crate::out::note;

pub fn run(catalog: &Catalog, args: &GenArgs) -> Outcome {
    let opts = GenOptions {
        count: args.count,
        seed: args.seed,
        bad_rows: args.bad_rows,
    };
    let n = policy_match_batch::popfile::write_file(&args.out, &catalog.schema, &opts)
        .map_err(exit::fatal)?;
    note(format_args!("wrote {n} row(s) to {}", args.out.display()));
    Ok(EXIT_OK)
}
