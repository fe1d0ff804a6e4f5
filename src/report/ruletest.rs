//! Rule tests: the examples written beside each measure, run against the compiled
//! catalog, with condition coverage (every labelled condition seen holding and failing).

use jiff::civil::Date;
use serde::Serialize;

use crate::compile::catalog::Catalog;
use crate::eval::Evaluator;
use crate::eval::Outcome;
use crate::eval::Status;
use crate::rules::ir::Expect;

/// A rule example whose outcome was not the one it expects.
#[derive(Debug, Serialize)]
pub struct Failure {
    /// The measure id.
    pub measure: String,
    /// The example's name.
    pub example: String,
    /// The outcome the example expects.
    pub expected: String,
    /// The outcome the evaluator gave.
    pub got: String,
}

/// A condition the examples never saw both passing and failing.
#[derive(Debug, Serialize)]
pub struct Uncovered {
    /// The measure id.
    pub measure: String,
    /// The condition's label.
    pub label: String,
    /// `true` or `false`: the value no example produced.
    pub never_seen: bool,
}

/// What `policy-match test` found over every measure's examples.
#[derive(Debug, Default, Serialize)]
pub struct Report {
    /// Examples run.
    pub examples: usize,
    /// Examples whose outcome was the expected one.
    pub passed: usize,
    /// The others.
    pub failures: Vec<Failure>,
    /// Conditions of the catalog.
    pub conditions: usize,
    /// Conditions not covered both ways.
    pub uncovered: Vec<Uncovered>,
}

impl Report {
    /// A run passes when at least one example ran and none failed.
    pub fn ok(&self) -> bool {
        self.examples > 0 && self.failures.is_empty()
    }
}

fn expect_str(e: Expect) -> &'static str {
    match e {
        Expect::Eligible => "eligible",
        Expect::NotEligible => "not_eligible",
        Expect::Undetermined => "undetermined",
        Expect::AmountPending => "amount_pending",
    }
}

/// Runs every example of every measure; `today` is the `as_of` of examples without one.
pub fn run(catalog: &Catalog, today: Date) -> Report {
    let mut report = Report::default();
    let mut ev = Evaluator::new(catalog);
    for (mi, cm) in catalog.measures.iter().enumerate() {
        let mut seen = vec![(false, false); cm.conditions.len()];
        for ex in &cm.measure.examples {
            report.examples += 1;
            let prepared = catalog.prepare(&ex.profile);
            let r = ev.evaluate(prepared.row(), mi, ex.as_of.unwrap_or(today));
            for (s, (t, f)) in r.statuses(cm).iter().zip(seen.iter_mut()) {
                *t |= *s == Status::Passed;
                *f |= *s == Status::Failed;
            }
            let want = match ex.expect {
                Expect::Eligible => Outcome::Eligible,
                Expect::NotEligible => Outcome::NotEligible,
                Expect::Undetermined => Outcome::Undetermined,
                Expect::AmountPending => Outcome::AmountPending,
            };
            let amount_ok = match (ex.amount, r.amount) {
                (None, _) => true,
                (Some(a), Some(b)) => (a - b).abs() < 0.005,
                (Some(_), None) => false,
            };
            if r.outcome == want && amount_ok {
                report.passed += 1;
            } else {
                let fmt_amount =
                    |a: Option<f64>| a.map(|a| format!(" amount {a:.2}")).unwrap_or_default();
                let mut got = format!("{}{}", r.outcome.as_str(), fmt_amount(r.amount));
                let failed = r.failed_labels(cm);
                if !failed.is_empty() {
                    got.push_str(&format!(" (failed: {})", failed.join("；")));
                }
                if !r.missing_fields.is_empty() {
                    got.push_str(&format!(" (missing: {})", r.missing_fields.join(", ")));
                }
                if let Some(e) = &r.error {
                    got.push_str(&format!(" (error: {e})"));
                }
                report.failures.push(Failure {
                    measure: cm.measure.id.clone(),
                    example: ex.name.clone(),
                    expected: format!("{}{}", expect_str(ex.expect), fmt_amount(ex.amount)),
                    got,
                });
            }
        }
        report.conditions += cm.conditions.len();
        for (c, (t, f)) in cm.conditions.iter().zip(seen) {
            for (seen_it, value) in [(t, true), (f, false)] {
                if !seen_it {
                    report.uncovered.push(Uncovered {
                        measure: cm.measure.id.clone(),
                        label: c.label.clone(),
                        never_seen: value,
                    });
                }
            }
        }
    }
    report
}
