//! The proptest versions of the cargo-fuzz targets in `fuzz/`: rule files and population
//! files (CSV, JSON Lines, Parquet) mutated from real seeds must never panic, and every
//! error must name its file. Inputs the fuzzers found are kept under `crates/cli/tests/it/fuzz_regressions/`
//! and replayed here.

use crate::support::fuzz_entry as entry;
use std::sync::LazyLock;

use proptest::prelude::*;

fn root() -> std::path::PathBuf {
    crate::support::root()
}

/// Fragments worth inserting into a rule file: TOML and expression syntax, limits.
const TOKENS: &[&str] = &[
    "(",
    ")",
    "\"",
    "'",
    "=",
    "[",
    "]",
    "{",
    "}",
    "\n",
    ",",
    "&&",
    "||",
    "!",
    "has(\"",
    "employees",
    "founded",
    "as_of",
    "1e309",
    "-",
    "/ 0",
    "0.0",
    "#",
    "'''",
    "M001",
    "when",
    "expr",
    "label",
    "alternative",
    "[[eligibility.alternative]]",
    "year(",
    "add_months(",
    "9223372036854775807",
    "date(\"2025-02-30\")",
    "if ",
    " else ",
    "kind:",
    "industry:C",
    "valid_from = 2030-01-01",
    "type = \"date\"",
    "\u{feff}",
    "中",
];

/// Applies edits to `seed`: flip a bit, insert a byte or a token, delete, truncate, or
/// duplicate a slice. Positions wrap around the current length.
fn mutate(seed: &[u8], edits: &[(u8, usize, u8)], tokens: bool) -> Vec<u8> {
    let mut b = seed.to_vec();
    for &(op, at, byte) in edits {
        let at = at % (b.len() + 1);
        match op % 5 {
            0 if at < b.len() => b[at] ^= 1 << (byte % 8),
            1 if tokens => {
                let t = TOKENS[byte as usize % TOKENS.len()].as_bytes();
                b.splice(at..at, t.iter().copied());
            }
            1 => b.insert(at, byte),
            2 if at < b.len() => {
                b.remove(at);
            }
            3 => b.truncate(at),
            4 => {
                let end = (at + byte as usize).min(b.len());
                let copy = b[at..end].to_vec();
                b.splice(at..at, copy);
            }
            _ => {}
        }
    }
    b
}

fn edits(max: usize) -> impl Strategy<Value = Vec<(u8, usize, u8)>> {
    prop::collection::vec((any::<u8>(), any::<usize>(), any::<u8>()), 1..max)
}

static RULE_SEEDS: LazyLock<Vec<Vec<u8>>> = LazyLock::new(|| entry::rule_seeds(&root()));
static CSV: LazyLock<Vec<u8>> = LazyLock::new(|| entry::population_seed("csv", 24));
static JSONL: LazyLock<Vec<u8>> = LazyLock::new(|| entry::population_seed("jsonl", 24));
static PARQUET: LazyLock<Vec<u8>> = LazyLock::new(|| entry::population_seed("parquet", 24));

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn mutated_rule_files_never_panic(pick in any::<prop::sample::Index>(), e in edits(8)) {
        let seed = &RULE_SEEDS[pick.index(RULE_SEEDS.len())];
        let (first, text) = seed.split_first().expect("pick byte");
        let text = String::from_utf8_lossy(&mutate(text, &e, true)).into_owned();
        entry::rules(&[&[*first][..], text.as_bytes()].concat());
    }

    #[test]
    fn mutated_csv_never_panics(e in edits(12)) {
        entry::population(&mutate(&CSV, &e, false), "csv");
    }

    #[test]
    fn mutated_json_lines_never_panic(e in edits(12)) {
        entry::population(&mutate(&JSONL, &e, false), "jsonl");
    }

    #[test]
    fn mutated_parquet_never_panics(e in edits(6)) {
        entry::population(&mutate(&PARQUET, &e, false), "parquet");
    }
}

#[test]
fn the_unmutated_seeds_are_read_whole() {
    for seed in RULE_SEEDS.iter() {
        entry::rules(seed);
    }
    for (bytes, ext) in [(&*CSV, "csv"), (&*JSONL, "jsonl"), (&*PARQUET, "parquet")] {
        entry::population(bytes, ext);
    }
}

/// Every input a fuzzer found (`fuzz_regressions/<target>/*` beside this file), replayed.
#[test]
fn fuzz_regressions_replay() {
    let dir = root().join("crates/cli/tests/it/fuzz_regressions");
    let mut replayed = 0;
    for target in ["rules", "csv", "jsonl", "parquet"] {
        let Ok(entries) = std::fs::read_dir(dir.join(target)) else {
            continue;
        };
        for e in entries {
            let path = e.expect("entry").path();
            let data = std::fs::read(&path).expect("readable");
            eprintln!("replaying {}", path.display());
            match target {
                "rules" => entry::rules(&data),
                ext => entry::population(&data, ext),
            }
            replayed += 1;
        }
    }
    eprintln!("{replayed} fuzz regressions replayed");
}
