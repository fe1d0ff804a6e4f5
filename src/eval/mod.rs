//! Evaluation: one enterprise against one measure, as of a date, with the reasons.
//!
//! Staged: the effective window, then every tag test on the interned bitset, then the
//! `when` clauses in rhai — only when no base tag test failed, and each only when every
//! field it reads is present (a missing field is reported, never guessed). The benefit
//! runs for eligible pairs only. [`decide`] turns the condition statuses into exactly one
//! outcome; the whole-script path uses the same function.

pub mod columns;
mod digest;
mod evaluator;
pub mod native;
mod options;
mod outcome;
mod push;
mod rank;
mod reference;
mod sweep;

use evaluator::*;
use outcome::*;

pub use crate::compile::unlock_keys::UnlockKeys;
pub use digest::{DEFAULT_MAX_PUSHES, DEFAULT_MAX_UNLOCKS, Digest, MAX_TOLD};
pub use evaluator::{Evaluator, Pair, Prepared, Subject, amount};
pub use options::{EngineKind, EvalOptions, SWEEP_BLOCK, SweepOptions};
pub use outcome::{Marks, MeasureResult, Outcome, Status, decide};
pub use push::{CLOSING_SOON_DAYS, PushKey, PushRank, Unlock, specificity, unlocks};
pub use rank::Recommendation;

use std::sync::Arc;

use jiff::civil::Date;
use rayon::prelude::*;
use rhai::{AST, Dynamic, Scope};
use serde::Serialize;

use crate::compile::CompiledExpr;
use crate::compile::CompiledMeasure;
use crate::compile::CondKind;
use crate::compile::Lowered;
use crate::compile::catalog::Catalog;
use crate::compile::engine::Ctx;
use crate::compile::program::Entry;
use crate::dates;
use crate::eval::columns::Columns;
use crate::eval::columns::Row;
use crate::profile::enterprise::Profile;
use crate::profile::schema::FieldType;
use crate::rules::id::MeasureId;

#[cfg(test)]
mod tests {
    //! Failures inside the engine that no checked rule can provoke: a panicking helper and
    //! an exhausted operation budget. Both are reached here by changing the catalog's own
    //! engine after loading the rules of `fixtures/hostile_rules`.
    use super::*;
    use crate::profile::enterprise::RawValue;
    use crate::rules::sources::Sources;
    use rhai::INT;

    const RHAI: EvalOptions = EvalOptions {
        engine: EngineKind::Rhai,
    };

    fn hostile() -> Catalog {
        let mut sources = Sources::builtin();
        sources
            .files
            .retain(|path, _| !path.starts_with("measures/"));
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/hostile_rules/measures");
        for entry in std::fs::read_dir(dir).expect("fixtures") {
            let path = entry.expect("entry").path();
            let name = path.file_name().expect("name").to_string_lossy();
            let text = std::fs::read_to_string(&path).expect("readable");
            sources
                .files
                .insert(format!("measures/{name}"), text.into());
        }
        Catalog::from_sources(&sources).expect("the hostile rules load")
    }

    fn population(c: &Catalog) -> Vec<Profile> {
        (0..300)
            .map(|i: i64| {
                let founded = format!("{}-03-{:02}", 1990 + i % 30, 1 + i % 28);
                Profile::build(
                    &c.schema,
                    format!("E{i:04}"),
                    "测试".into(),
                    vec!["kind:enterprise".into()],
                    [
                        ("employees".to_owned(), RawValue::Integer(1 + i % 12)),
                        ("revenue_10k_yuan".to_owned(), RawValue::Number(i as f64)),
                        ("founded".to_owned(), RawValue::Text(founded)),
                    ],
                )
                .expect("fits the schema")
            })
            .collect()
    }

    fn index(c: &Catalog, id: &str) -> usize {
        c.measures.iter().position(|m| m.measure.id == id).unwrap()
    }

    /// Every pair of every measure but `bad` is as in `reference`; no error is granted.
    fn only_measure_affected(
        reference: &[Vec<MeasureResult>],
        got: &[Vec<MeasureResult>],
        bad: usize,
    ) {
        for (r, g) in reference.iter().zip(got) {
            for (a, b) in r.iter().zip(g) {
                if a.index != bad {
                    assert_eq!(a, b);
                }
                if b.outcome == Outcome::Error {
                    assert_eq!(b.amount, None, "an error is never granted");
                }
            }
        }
    }

    #[test]
    fn the_ranking_key_orders_as_the_plain_tuple() {
        let c = Catalog::builtin().expect("built-in");
        let lines = include_str!("../../fixtures/enterprises.jsonl");
        let as_of = jiff::civil::date(2025, 6, 30);
        for line in lines.lines() {
            let p = Profile::from_json(&c.schema, line).expect("fixture");
            let ranked = c.recommend(&p, as_of).results;
            let mut plain = ranked.clone();
            plain.reverse();
            let push = PushRank::new(as_of);
            let key = |r: &MeasureResult| push.key(&c, r.index, r.marks.passed, r.amount, false);
            plain.sort_by(|a, b| {
                rank::rank(a.outcome, a.near_miss)
                    .cmp(&rank::rank(b.outcome, b.near_miss))
                    .then(key(a).cmp(&key(b)))
            });
            let ids = |rs: &[MeasureResult]| rs.iter().map(|r| r.index).collect::<Vec<_>>();
            assert_eq!(ids(&ranked), ids(&plain), "{}", p.id);
        }
    }

    #[test]
    fn a_panic_inside_a_helper_is_that_pairs_error_and_the_batch_goes_on() {
        let reference = hostile();
        let profiles = population(&reference);
        let as_of = jiff::civil::date(2025, 6, 30);
        let want = reference.evaluate_batch_with(&profiles, as_of, &RHAI);

        let mut c = hostile();
        // Replaces the catalog's `year` with one that panics on odd days.
        c.engine.register_fn("year", |d: INT| -> INT {
            assert!(d % 2 == 0, "helper bug on day {d}");
            2000
        });
        let bad = index(&c, "M903");
        let got = c.evaluate_batch_with(&profiles, as_of, &RHAI);
        only_measure_affected(&want, &got, bad);
        let mut errors = 0;
        for (p, results) in profiles.iter().zip(&got) {
            let r = &results[bad];
            let day = match p.fields.get("founded") {
                Some(crate::profile::enterprise::FieldValue::Date(d)) => dates::to_days(*d),
                other => panic!("{other:?}"),
            };
            if day % 2 == 0 {
                assert_eq!(r.outcome, Outcome::Eligible, "{}", p.id);
            } else {
                errors += 1;
                assert_eq!(r.outcome, Outcome::Error, "{}", p.id);
                let message = r.error.as_deref().unwrap_or_default();
                assert!(
                    message.contains("internal error: helper bug on day"),
                    "{message}"
                );
            }
        }
        assert!(errors > 50 && errors < 250, "{errors} errors");
    }

    #[test]
    fn an_exhausted_operation_budget_is_that_pairs_error() {
        let reference = hostile();
        let profiles = population(&reference);
        let as_of = jiff::civil::date(2025, 6, 30);
        let bad = index(&reference, "M902");
        let want = reference.evaluate_batch_with(&profiles, as_of, &RHAI);
        // The longest and deepest expressions a rule may hold stay far under the budget.
        assert!(want.iter().all(|r| r[bad].outcome == Outcome::Eligible));

        let mut c = hostile();
        c.engine.set_max_operations(100);
        let got = c.evaluate_batch_with(&profiles, as_of, &RHAI);
        only_measure_affected(&want, &got, bad);
        for r in &got {
            assert_eq!(r[bad].outcome, Outcome::Error);
            let message = r[bad].error.as_deref().unwrap_or_default();
            assert!(message.contains("Too many operations"), "{message}");
        }
    }
}
