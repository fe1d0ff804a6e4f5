//! Properties over randomly generated profiles and every encoded measure:
//! the staged path (tag bitsets first, then per-clause rhai) decides exactly as the
//! measure's whole generated script run alone, and the batch gives the same results on
//! 1 and on 2 threads.

use jiff::civil::{Date, date};
use policy_match::Catalog;
use policy_match::Outcome;
use policy_match::Profile;
use policy_match::RawValue;
use policy_match::profile::schema::FieldType;
use policy_match::profile::schema::Values;
use proptest::prelude::*;
use std::sync::LazyLock;

static CATALOG: LazyLock<Catalog> = LazyLock::new(|| Catalog::builtin().expect("built-in catalog"));

/// Every tag of the closed namespaces plus a spread of open ones, so that generated
/// profiles hit the catalog's criteria, including prefixes of industry codes.
fn vocabulary(c: &Catalog) -> Vec<String> {
    let mut tags = Vec::new();
    for (name, ns) in &c.schema.namespaces {
        match &ns.values {
            Values::Closed(v) => tags.extend(v.keys().map(|k| format!("{name}:{k}"))),
            Values::Pattern(_) if name == "industry" => tags.extend(
                ["C", "C17", "C1713", "C18", "F5131", "I65"].map(|v| format!("industry:{v}")),
            ),
            Values::Pattern(_) => tags.push(format!("{name}:huashe")),
        }
    }
    tags
}

/// Values near the thresholds the rules use, and some far from them.
const NUMBERS: &[f64] = &[
    0.0, 0.3, 0.519, 0.52, 0.521, 1.0, 2.4, 2.5, 2.9, 3.0, 40.0, 40.5, 80.0, 499.0, 500.0, 500.5,
    12000.0,
];
const YEARS: &[i64] = &[2019, 2022, 2023, 2024, 2025, 2026];

fn profile(c: &Catalog, seed: &[u8]) -> Profile {
    let vocab = vocabulary(c);
    let byte = |i: usize| seed[i % seed.len()];
    let tags: Vec<String> = vocab
        .iter()
        .enumerate()
        .filter(|(i, _)| byte(*i) % 3 == 0)
        .map(|(_, t)| t.clone())
        .collect();
    let mut fields = Vec::new();
    for (i, f) in c.schema.fields.iter().enumerate() {
        let b = byte(vocab.len() + 2 * i);
        let pick = byte(vocab.len() + 2 * i + 1) as usize;
        if b % 4 == 0 {
            continue; // missing: about a quarter of fields
        }
        let v = match f.ty {
            FieldType::Number => {
                let n = NUMBERS[pick % NUMBERS.len()];
                RawValue::Number(f.max.map_or(n, |max| n.min(max)))
            }
            FieldType::Integer if f.min.is_some_and(|m| m >= 1949.0) => {
                RawValue::Integer(YEARS[pick % YEARS.len()])
            }
            FieldType::Integer => RawValue::Integer(pick as i64),
            FieldType::Date => RawValue::Text(format!(
                "20{:02}-0{}-1{}",
                pick % 26,
                1 + pick % 9,
                pick % 10
            )),
            FieldType::Bool => RawValue::Bool(pick.is_multiple_of(2)),
        };
        fields.push((f.name.clone(), v));
    }
    Profile::build(
        &c.schema,
        "generated".into(),
        "generated".into(),
        tags,
        fields,
    )
    .expect("generated profile fits")
}

fn as_of_strategy() -> impl Strategy<Value = Date> {
    (2022i16..=2028, 1i8..=12, 1i8..=28).prop_map(|(y, m, d)| date(y, m, d))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn staged_evaluation_equals_the_whole_script(
        seed in prop::collection::vec(any::<u8>(), 64..128),
        as_of in as_of_strategy(),
    ) {
        let c = &*CATALOG;
        let p = profile(c, &seed);
        for r in c.recommend(&p, as_of).results {
            let whole = c.evaluate_whole_script(&p, r.index, as_of);
            prop_assert_eq!((r.outcome, r.amount), whole, "measure {} for {:?}", r.measure, &p);
        }
    }

    #[test]
    fn one_and_two_threads_give_identical_results(
        seeds in prop::collection::vec(prop::collection::vec(any::<u8>(), 64..128), 1..40),
        as_of in as_of_strategy(),
    ) {
        let c = &*CATALOG;
        let profiles: Vec<Profile> = seeds.iter().map(|s| profile(c, s)).collect();
        let run = |threads| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .expect("pool")
                .install(|| c.evaluate_batch(&profiles, as_of))
        };
        prop_assert_eq!(run(1), run(2));
    }
}

/// Guards the generator: a property over profiles that never qualify proves little.
#[test]
fn generated_profiles_reach_every_outcome_of_every_measure() {
    let c = &*CATALOG;
    let mut seen = std::collections::BTreeSet::new();
    for s in 0..600u64 {
        // splitmix64: independent bytes, so that every combination of tags turns up.
        let mut state = s.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let seed: Vec<u8> = (0..128)
            .map(|_| {
                state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
                let mut z = state;
                z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
                z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
                (z ^ (z >> 31)) as u8
            })
            .collect();
        for r in c.recommend(&profile(c, &seed), date(2025, 6, 30)).results {
            seen.insert((r.measure.to_string(), r.outcome));
        }
    }
    for cm in &c.measures {
        let id = &cm.measure.id;
        for o in [Outcome::Eligible, Outcome::NotEligible] {
            // A measure out of effect on the date (M072 ended 2023-12-31) finds nobody.
            if o == Outcome::Eligible && !cm.measure.in_effect(date(2025, 6, 30)) {
                continue;
            }
            assert!(
                seen.contains(&(id.clone(), o)),
                "no generated profile gave {id} {o:?}"
            );
        }
    }
}
