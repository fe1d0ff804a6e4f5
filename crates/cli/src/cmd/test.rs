//! `test`: the examples written beside the rules, with condition coverage.

use policy_match::compile::catalog::Catalog;
use policy_match::report::ruletest::{self, Report};

use crate::args::{TestArgs, TextFormat};
use crate::exit::{EXIT_OK, EXIT_TESTS_FAILED, Outcome};
use crate::out::Out;

pub fn run(catalog: &Catalog, args: &TestArgs, out: &mut Out) -> Outcome {
    let report = ruletest::run(catalog, args.as_of.unwrap_or_else(crate::clock::today));
    match args.format {
        TextFormat::Json => out.json(&report)?,
        TextFormat::Text => text(&report, out)?,
    }
    Ok(if report.ok() {
        EXIT_OK
    } else {
        EXIT_TESTS_FAILED
    })
}

fn text(report: &Report, out: &mut Out) -> std::io::Result<()> {
    for f in &report.failures {
        out.line(format_args!(
            "FAIL {} example `{}`: expected {}, got {}",
            f.measure, f.example, f.expected, f.got
        ))?;
    }
    for u in &report.uncovered {
        out.line(format_args!(
            "uncovered {}「{}」never {}",
            u.measure, u.label, u.never_seen
        ))?;
    }
    let covered = report.conditions * 2 - report.uncovered.len();
    out.line(format_args!(
        "{} passed, {} failed; condition coverage {covered}/{} (each condition seen true and false)",
        report.passed,
        report.failures.len(),
        report.conditions * 2
    ))
}
