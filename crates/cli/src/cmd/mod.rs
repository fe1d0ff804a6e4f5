//! The commands, one module each. Each `run` takes the loaded catalog, its arguments and
//! stdout (`check` also the format of stderr), and returns the exit code (see
//! `crate::exit`).

mod audit;
mod calendar;
mod check;
mod compile;
mod explain;
mod r#gen;
mod list;
mod match_;
mod report;
pub mod serve;
mod test;

use policy_match::compile::catalog::Catalog;

use crate::args::{Command, ErrorFormat};
use crate::exit::Outcome;
use crate::out::Out;

/// Runs `command` over `catalog`; diagnostics go to stderr in `format`.
pub fn run(command: &Command, catalog: &Catalog, format: ErrorFormat, out: &mut Out) -> Outcome {
    match command {
        Command::Check(args) => check::run(catalog, args, format, out),
        Command::List(args) => list::run(catalog, args, out),
        Command::Calendar(args) => calendar::run(catalog, args, out),
        Command::Compile(args) => compile::run(catalog, args, out),
        Command::Explain(args) => explain::run(catalog, args, out),
        Command::Test(args) => test::run(catalog, args, out),
        Command::Match(args) => match_::run(catalog, args),
        Command::Audit(args) => audit::run(catalog, args),
        Command::Report(args) => report::run(catalog, args),
        Command::Gen(args) => r#gen::run(catalog, args),
        // `main` runs `serve` itself: it owns its catalog, to swap it on reload.
        Command::Serve(_) => Err(crate::exit::fatal("`serve` is run by `main`")),
    }
}
