//! Synthetic Keqiao-like populations (柯桥区: 印染、纺织、轻纺城) for benchmarks, demos and
//! batch tests. Deterministic, no IO, no RNG crate: record `i` is a function of
//! `(seed, i)` only, so a population can be generated in chunks or shards and always comes
//! out the same.
//!
//! What a record looks like (shares are of all records unless said otherwise):
//! - ~60 % 个体工商户 (`kind:individual_business`, 统一社会信用代码 `92…`), the rest
//!   enterprises (`91…`): ~94 % private, a few foreign, ~2 % state (more among utilities,
//!   real estate and funds).
//! - Industry (GB/T 4754-2017): manufacturers are mostly textiles (C17: 化纤织造 C1751,
//!   化纤织物染整 C1752, 棉印染 C1713, 针织 C1761/C1762, 布艺 C1773 …), then garments (C18),
//!   chemical fibres (C28), dyes and auxiliaries (C26) and a little else; enterprises are
//!   also textile traders (F5131, 中国轻纺城), services, construction, funds (J67).
//!   个体工商户 are mostly wholesale/retail (F51/F52), catering (H62), resident services
//!   (O80/O81) and small weaving, 布艺 and garment workshops.
//! - Revenue (万元, previous year) log-normal by sector, employees from revenue over a
//!   log-normal productivity; the size class (`size:*`) follows the 2017 统计上大中小微型
//!   企业划分办法 thresholds, so most enterprises are micro or small; `scale:above_designated`
//!   follows the 规上/限上 revenue thresholds (~8–10 % of enterprises).
//! - Certifications, listing, exports, business models, land, projects, rosters and credit
//!   tags at plausible rates, each with only the fields that go with it (`booth_fee_yuan` for
//!   some exporters, `little_giant_year` only with `cert:little_giant`, …).
//! - Every field value is left out at random with probability [`MISSING`].
//!
//! With `bad_rows > 0` about that fraction of rows is spoiled on purpose, one [`BadKind`]
//! each (see [`bad_kind`]).
//!
//! How it is built: `firm` draws who a business is, `record` its tags section by section,
//! `fields` its numbers, all from one random stream per row (`rng`) in a fixed order; `draft`
//! keeps only what the schema has, `sectors` holds the tables, `ids` the 统一社会信用代码, and
//! `bad` spoils rows.

mod bad;
mod draft;
mod fields;
mod firm;
mod ids;
mod record;
mod rng;
mod sectors;

pub use crate::synth::bad::BadKind;
pub use crate::synth::bad::bad_kind;

use crate::profile::record::RawRecord;
use crate::profile::schema::Schema;

/// What to generate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GenOptions {
    /// How many records [`population`] yields.
    pub count: usize,
    /// Picks the population: the same seed always gives the same records.
    pub seed: u64,
    /// fraction of rows made invalid on purpose (0 = none)
    pub bad_rows: f64,
}

/// The probability that a field value the record would have is left out (missing data).
pub const MISSING: f64 = 0.03;

/// Ids are unique for row indices below this (31⁶, the `MA` + 6 character space).
pub const MAX_UNIQUE_IDS: usize = 887_503_681;

/// The i-th record depends only on (seed, i): generation can be chunked and sharded.
pub fn record(schema: &Schema, opts: &GenOptions, i: usize) -> RawRecord {
    match bad_kind(opts, i) {
        None => record::valid(schema, opts.seed, i),
        Some(kind) => bad::spoil(schema, opts, i, kind),
    }
}

/// Records `0..opts.count`.
pub fn population<'s>(
    schema: &'s Schema,
    opts: &GenOptions,
) -> impl Iterator<Item = RawRecord> + use<'s> {
    let opts = *opts;
    (0..opts.count).map(move |i| record(schema, &opts, i))
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, HashSet};

    use super::*;
    use crate::profile::enterprise::RawValue;

    const GOLDEN_DIGEST: &str = "ab12298bee022905d80bda07b8d64c6570b4867e540e4cb987231436d460d4b4";

    fn schema() -> Schema {
        crate::profile::schema::builtin_for_tests()
    }

    fn opts(count: usize, seed: u64, bad_rows: f64) -> GenOptions {
        GenOptions {
            count,
            seed,
            bad_rows,
        }
    }

    /// Equality that treats NaN as equal to itself.
    fn same(a: &RawRecord, b: &RawRecord) -> bool {
        format!("{a:?}") == format!("{b:?}")
    }

    fn has(r: &RawRecord, tag: &str) -> bool {
        r.tags.iter().any(|t| t == tag)
    }

    fn field<'a>(r: &'a RawRecord, name: &str) -> Option<&'a RawValue> {
        r.fields.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    /// Rejected by the profile check or as a repeated id, as a batch run would.
    fn rejects(schema: &Schema, records: &[RawRecord]) -> Vec<(usize, String)> {
        let mut seen = HashSet::new();
        let mut out = Vec::new();
        for r in records {
            match r.clone().into_profile(schema) {
                Err(e) => out.push((r.row, e.reason)),
                Ok(p) if !seen.insert(p.id.clone()) => {
                    out.push((r.row, format!("duplicate id `{}`", p.id)));
                }
                Ok(_) => {}
            }
        }
        out
    }

    /// The digest of every record of two populations (one with bad rows, one without), as
    /// `Debug` text: any change to what a seed generates changes it. Benchmarks, fixtures and
    /// shards written by earlier runs rely on a seed always giving the same population, so a
    /// change here must be deliberate (and the constant updated with it).
    #[test]
    fn golden_populations_are_unchanged() {
        use sha2::{Digest, Sha256};
        let schema = schema();
        let mut hasher = Sha256::new();
        for o in [opts(20_000, 7, 0.02), opts(5_000, 3, 0.0)] {
            for r in population(&schema, &o) {
                hasher.update(format!("{r:?}\n").as_bytes());
            }
        }
        let hex: String = hasher
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(hex, GOLDEN_DIGEST);
    }

    #[test]
    fn generation_is_deterministic() {
        let schema = schema();
        let a: Vec<_> = population(&schema, &opts(300, 7, 0.1)).collect();
        let b: Vec<_> = population(&schema, &opts(300, 7, 0.1)).collect();
        assert!(a.iter().zip(&b).all(|(x, y)| same(x, y)));
        assert_eq!(a.len(), 300);
        let c: Vec<_> = population(&schema, &opts(300, 8, 0.1)).collect();
        let differ = a.iter().zip(&c).filter(|(x, y)| !same(x, y)).count();
        assert!(
            differ > 290,
            "only {differ} of 300 records differ between seeds"
        );
        assert_ne!(a[0].id, c[0].id);
    }

    #[test]
    fn a_record_depends_only_on_seed_and_index() {
        let schema = schema();
        let o = opts(2000, 42, 0.2);
        for i in [0, 1, 2, 17, 499, 1000, 1999] {
            let nth = population(&schema, &o).nth(i).unwrap();
            assert!(same(&record(&schema, &o, i), &nth), "record {i}");
            // The count does not matter: a shard generates the same rows.
            let shard = opts(i + 1, 42, 0.2);
            assert!(
                same(&record(&schema, &shard, i), &nth),
                "record {i} of a shorter run"
            );
            assert_eq!(nth.row, i + 1);
        }
    }

    #[test]
    fn valid_population_passes_the_schema_with_unique_ids() {
        let schema = schema();
        let records: Vec<_> = population(&schema, &opts(5000, 1, 0.0)).collect();
        let mut ids = HashSet::new();
        for r in &records {
            let id = r.id.clone().unwrap();
            assert!(ids.insert(id.clone()), "duplicate id {id}");
            let prefix = if has(r, "kind:individual_business") {
                "92"
            } else {
                "91"
            };
            assert!(id.starts_with(prefix), "{id}");
            if let Err(e) = r.clone().into_profile(&schema) {
                panic!("row {} rejected: {}\n{r:?}", e.row, e.reason);
            }
        }
    }

    #[test]
    fn every_namespace_and_field_is_used() {
        let schema = schema();
        let records: Vec<_> = population(&schema, &opts(20_000, 2, 0.0)).collect();
        for ns in schema.namespaces.keys() {
            let prefix = format!("{ns}:");
            assert!(
                records
                    .iter()
                    .any(|r| r.tags.iter().any(|t| t.starts_with(&prefix))),
                "{ns}"
            );
        }
        for f in &schema.fields {
            assert!(
                records.iter().any(|r| field(r, &f.name).is_some()),
                "{}",
                f.name
            );
        }
    }

    #[test]
    fn fields_go_with_their_tags() {
        let schema = schema();
        for r in population(&schema, &opts(20_000, 3, 0.0)) {
            let only_with = [
                ("little_giant_year", "cert:little_giant"),
                ("hidden_champion_year", "cert:hidden_champion"),
                ("booth_fee_yuan", "trade:exporter"),
                ("above_designated_since", "scale:above_designated"),
                ("investor_unchanged", "change:individual_to_enterprise"),
                ("dishonest_published_on", "credit:dishonest"),
                ("plot_ratio", "land:own_industrial"),
            ];
            for (f, tag) in only_with {
                assert!(
                    field(&r, f).is_none() || has(&r, tag),
                    "{f} without {tag}: {r:?}"
                );
            }
            if has(&r, "cert:little_giant") {
                assert!(has(&r, "cert:specialized_new"), "{r:?}");
            }
            if has(&r, "kind:individual_business") {
                assert!(
                    !has(&r, "scale:above_designated") && field(&r, "energy_intensity").is_none()
                );
            }
            if let (Some(RawValue::Integer(since)), Some(RawValue::Text(founded))) =
                (field(&r, "above_designated_since"), field(&r, "founded"))
            {
                assert!(*since > founded[..4].parse::<i64>().unwrap(), "{r:?}");
            }
        }
    }

    #[test]
    fn bad_rows_are_rejected_at_about_their_rate_and_every_kind_occurs() {
        let schema = schema();
        let o = opts(5000, 11, 0.05);
        let records: Vec<_> = population(&schema, &o).collect();
        let rejected = rejects(&schema, &records);
        let share = rejected.len() as f64 / records.len() as f64;
        assert!(
            (0.035..=0.065).contains(&share),
            "{} rejected",
            rejected.len()
        );

        // Exactly the spoiled rows are rejected, each for its reason.
        let mut by_kind: BTreeMap<BadKind, usize> = BTreeMap::new();
        let planned: Vec<(usize, BadKind)> = (0..o.count)
            .filter_map(|i| bad_kind(&o, i).map(|k| (i + 1, k)))
            .collect();
        assert_eq!(rejected.len(), planned.len());
        for ((row, reason), (planned_row, kind)) in rejected.iter().zip(&planned) {
            assert_eq!(row, planned_row);
            *by_kind.entry(*kind).or_default() += 1;
            let expect = match kind {
                BadKind::CheckChar => "check character",
                BadKind::DuplicateId => "duplicate id",
                BadKind::UnknownNamespace => "unknown tag namespace",
                BadKind::WrongType => "is not an integer",
                BadKind::NegativeCount => "field `employees` = -3 is outside",
                BadKind::NaN => "field `revenue_10k_yuan` must be number, found `NaN`",
                BadKind::Infinity => "field `energy_intensity` must be number, found `inf`",
            };
            assert!(reason.contains(expect), "row {row} ({kind:?}): {reason}");
        }
        for kind in BadKind::ALL {
            assert!(
                by_kind.get(&kind).copied().unwrap_or(0) >= 10,
                "{kind:?}: {by_kind:?}"
            );
        }
        eprintln!("bad rows by kind: {by_kind:?}");

        // The valid rows are the same as with bad_rows = 0.
        let clean: Vec<_> = population(&schema, &opts(5000, 11, 0.0)).collect();
        for (i, (a, b)) in records.iter().zip(&clean).enumerate() {
            if bad_kind(&o, i).is_none() {
                assert!(same(a, b), "row {i}");
            }
        }
    }

    #[test]
    fn shares_are_keqiao_like() {
        let schema = schema();
        let records: Vec<_> = population(&schema, &opts(20_000, 5, 0.0)).collect();
        let n = records.len() as f64;
        let count = |f: &dyn Fn(&RawRecord) -> bool| records.iter().filter(|r| f(r)).count() as f64;
        let industry_starts = |r: &RawRecord, p: &str| {
            r.tags.iter().any(|t| {
                t.strip_prefix("industry:")
                    .is_some_and(|c| c.starts_with(p))
            })
        };
        let enterprises = count(&|r| has(r, "kind:enterprise"));
        let individual = count(&|r| has(r, "kind:individual_business")) / n;
        let manufacturers = count(&|r| industry_starts(r, "C"));
        let c17 = count(&|r| industry_starts(r, "C17")) / manufacturers;
        let ent_mfg = count(&|r| has(r, "kind:enterprise") && industry_starts(r, "C"));
        let ent_c17 = count(&|r| has(r, "kind:enterprise") && industry_starts(r, "C17")) / ent_mfg;
        let dyeing = count(&|r| {
            ["C1713", "C1723", "C1733", "C1743", "C1752", "C1762"]
                .iter()
                .any(|c| r.tags.iter().any(|t| t == &format!("industry:{c}")))
        }) / manufacturers;
        let scale = count(&|r| has(r, "scale:above_designated")) / enterprises;
        let private =
            count(&|r| has(r, "kind:enterprise") && has(r, "ownership:private")) / enterprises;
        let size = |s: &str| {
            count(&|r| has(r, "kind:enterprise") && has(r, &format!("size:{s}"))) / enterprises
        };
        let cert = |c: &str| count(&|r| has(r, &format!("cert:{c}"))) / enterprises;
        let exporters_c17 = count(&|r| has(r, "trade:exporter") && industry_starts(r, "C17"))
            / count(&|r| industry_starts(r, "C17"));
        let wholesale_retail_ib = count(&|r| {
            has(r, "kind:individual_business")
                && (industry_starts(r, "F51") || industry_starts(r, "F52"))
        }) / count(&|r| has(r, "kind:individual_business"));
        let fields_present = count(&|r| field(r, "founded").is_some()) / n;
        eprintln!(
            "individual {individual:.3}; C17 of manufacturers {c17:.3} (of manufacturing enterprises \
             {ent_c17:.3}); dyeing of manufacturers {dyeing:.3}; of enterprises: scale {scale:.3}, \
             private {private:.3}, micro {:.3}, small {:.3}, medium {:.3}, large {:.3}, \
             high_tech {:.4}, tech_sme {:.4}, specialized_new {:.4}, little_giant {:.4}, \
             hidden_champion {:.4}; exporters among C17 {exporters_c17:.3}; F51/F52 of individual \
             businesses {wholesale_retail_ib:.3}; founded present {fields_present:.3}",
            size("micro"),
            size("small"),
            size("medium"),
            size("large"),
            cert("high_tech"),
            cert("tech_sme"),
            cert("specialized_new"),
            cert("little_giant"),
            cert("hidden_champion"),
        );
        assert!((0.57..=0.63).contains(&individual), "{individual}");
        assert!((0.6..=0.85).contains(&c17), "{c17}");
        assert!((0.65..=0.8).contains(&ent_c17), "{ent_c17}");
        assert!((0.07..=0.11).contains(&scale), "{scale}");
        assert!((0.9..=0.97).contains(&private), "{private}");
        assert!(size("micro") + size("small") > 0.8);
        assert!(size("large") < 0.01);
        assert!(cert("little_giant") < 0.005 && cert("little_giant") > 0.0);
        assert!((0.01..=0.06).contains(&cert("high_tech")));
        assert!((0.25..=0.5).contains(&exporters_c17), "{exporters_c17}");
        assert!(wholesale_retail_ib > 0.5, "{wholesale_retail_ib}");
        assert!((0.95..=0.99).contains(&fields_present), "{fields_present}");
    }
}
