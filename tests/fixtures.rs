//! Data-driven fixture test: `fixtures/expected.toml` pins outcomes for the profiles of
//! `fixtures/enterprises.jsonl`, and one `check` helper runs every case through every
//! evaluation path — `recommend`, the batch on 1 and on 2 threads, and each measure's
//! whole generated script — which must all agree with the case and with each other.

use std::path::Path;

use jiff::civil::Date;
use policy_match::Catalog;
use policy_match::MeasureResult;
use policy_match::Outcome;
use policy_match::Profile;
use policy_match::profile::jsonl::read_jsonl;
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Expected {
    as_of: toml::value::Datetime,
    case: Vec<Case>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    enterprise: String,
    measure: String,
    outcome: String,
    amount: Option<f64>,
    failed: Option<Vec<String>>,
    missing: Option<Vec<String>>,
}

/// What one evaluation path said about one pair.
#[derive(Debug, Clone, PartialEq)]
struct Seen {
    outcome: Outcome,
    amount: Option<f64>,
    /// `None` where the path does not report reasons (the whole-script path).
    failed: Option<Vec<String>>,
    missing: Option<Vec<String>>,
}

fn seen(catalog: &Catalog, r: &MeasureResult) -> Seen {
    let cm = &catalog.measures[r.index];
    Seen {
        outcome: r.outcome,
        amount: r.amount,
        failed: Some(r.failed_labels(cm).into_iter().map(str::to_owned).collect()),
        missing: Some(r.missing_fields.clone()),
    }
}

fn batch(
    catalog: &Catalog,
    profiles: &[Profile],
    as_of: Date,
    threads: usize,
) -> Vec<Vec<MeasureResult>> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("thread pool")
        .install(|| catalog.evaluate_batch(profiles, as_of))
}

/// Runs one case through every path and returns a description of each disagreement.
fn check(
    catalog: &Catalog,
    profiles: &[Profile],
    paths: &[(&str, Vec<Vec<MeasureResult>>)],
    case: &Case,
    as_of: Date,
) -> Vec<String> {
    let mut problems = Vec::new();
    let Some(pi) = profiles.iter().position(|p| p.id == case.enterprise) else {
        return vec![format!("no fixture enterprise `{}`", case.enterprise)];
    };
    let Some(mi) = catalog
        .measures
        .iter()
        .position(|m| m.measure.id == case.measure)
    else {
        return vec![format!("no measure `{}`", case.measure)];
    };
    let mut results: Vec<(&str, Seen)> = paths
        .iter()
        .map(|(name, all)| {
            let r = all[pi]
                .iter()
                .find(|r| r.index == mi)
                .expect("one result per measure");
            (*name, seen(catalog, r))
        })
        .collect();
    let (outcome, amount) = catalog.evaluate_whole_script(&profiles[pi], mi, as_of);
    results.push((
        "whole-script",
        Seen {
            outcome,
            amount,
            failed: None,
            missing: None,
        },
    ));

    let tag = format!("{} {}", case.enterprise, case.measure);
    for (path, s) in &results {
        if s.outcome.as_str() != case.outcome {
            problems.push(format!(
                "{tag} [{path}]: outcome {}, expected {}",
                s.outcome.as_str(),
                case.outcome
            ));
        }
        if let Some(a) = case.amount
            && s.amount.is_none_or(|b| (a - b).abs() > 0.005)
        {
            problems.push(format!(
                "{tag} [{path}]: amount {:?}, expected {a}",
                s.amount
            ));
        }
        if let (Some(want), Some(got)) = (&case.failed, &s.failed)
            && want != got
        {
            problems.push(format!("{tag} [{path}]: failed {got:?}, expected {want:?}"));
        }
        if let (Some(want), Some(got)) = (&case.missing, &s.missing)
            && want != got
        {
            problems.push(format!(
                "{tag} [{path}]: missing {got:?}, expected {want:?}"
            ));
        }
    }
    let first = &results[0].1;
    for (path, s) in &results[1..] {
        let same = s.outcome == first.outcome
            && s.amount == first.amount
            && s.failed
                .as_ref()
                .is_none_or(|f| Some(f) == first.failed.as_ref())
            && s.missing
                .as_ref()
                .is_none_or(|m| Some(m) == first.missing.as_ref());
        if !same {
            problems.push(format!(
                "{tag}: path {path} says {s:?}, {} says {first:?}",
                results[0].0
            ));
        }
    }
    problems
}

#[test]
fn fixture_cases_hold_on_every_evaluation_path() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let catalog = Catalog::builtin().expect("built-in catalog loads");
    let (profiles, rejects) =
        read_jsonl(&catalog.schema, &root.join("fixtures/enterprises.jsonl")).expect("readable");
    assert!(rejects.is_empty(), "fixture profiles rejected: {rejects:?}");
    let text = std::fs::read_to_string(root.join("fixtures/expected.toml")).expect("readable");
    let expected: Expected = toml::from_str(&text).expect("expected.toml parses");
    let d = expected.as_of.date.expect("as_of is a date");
    let as_of = jiff::civil::date(d.year as i16, d.month as i8, d.day as i8);

    let recommend: Vec<Vec<MeasureResult>> = profiles
        .iter()
        .map(|p| catalog.recommend(p, as_of).results)
        .collect();
    let paths = [
        ("recommend", recommend),
        ("batch-1-thread", batch(&catalog, &profiles, as_of, 1)),
        ("batch-2-threads", batch(&catalog, &profiles, as_of, 2)),
    ];
    let problems: Vec<String> = expected
        .case
        .iter()
        .flat_map(|c| check(&catalog, &profiles, &paths, c, as_of))
        .collect();
    assert!(
        expected.case.len() >= 30,
        "too few fixture cases: {}",
        expected.case.len()
    );
    assert!(
        problems.is_empty(),
        "{} problem(s):\n{}",
        problems.len(),
        problems.join("\n")
    );
}
