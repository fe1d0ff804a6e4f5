//! The fuzzing entry points, shared by the cargo-fuzz targets in `fuzz/` and their
//! proptest versions in `tests/fuzz_inputs.rs`. Each takes arbitrary bytes and panics only
//! where the crate breaks a promise: a panic of its own, an error that does not name its
//! file or row, a generated script that does not compile, or engines that disagree.

#![allow(dead_code)] // each includer uses some of the entry points

use std::path::Path;
use std::sync::LazyLock;

use jiff::civil::{Date, date};
use policy_match::Catalog;
use policy_match::LoadError;
use policy_match::Profile;
use policy_match::Sources;
use policy_match::eval::EngineKind;

static BUILTIN_SOURCES: LazyLock<Sources> = LazyLock::new(Sources::builtin);
static BUILTIN: LazyLock<Catalog> =
    LazyLock::new(|| Catalog::builtin().expect("the built-in catalog loads"));
static FIXTURE_LINES: &str = include_str!("../../../../../fixtures/enterprises.jsonl");
const AS_OF: Date = date(2025, 6, 30);

/// The fixture enterprises, read against `catalog`'s schema (those that fit it).
fn fixture_profiles(catalog: &Catalog) -> Vec<Profile> {
    FIXTURE_LINES
        .lines()
        .filter_map(|line| Profile::from_json(&catalog.schema, line).ok())
        .collect()
}

/// For the fuzz targets: libfuzzer-sys installs a panic hook that aborts on every panic,
/// even one the crate catches on purpose (polars panics on some malformed Parquet, and
/// `tabular` turns that into an error naming the file). Back to the default hook: a panic
/// that escapes an entry point still aborts the run, through libfuzzer-sys's own
/// `catch_unwind` around each input.
pub fn keep_caught_panics() {
    let _ = std::panic::take_hook();
}

/// Rule files. The first byte picks which file of the built-in rules the rest replaces:
/// `schema.toml`, `centre.toml`, or a measure. A catalog that loads is evaluated over the
/// fixture enterprises by both engines, which must agree.
pub fn rules(data: &[u8]) {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let file = match pick % 4 {
        0 => "schema.toml".to_owned(),
        1 => "centre.toml".to_owned(),
        _ => format!("measures/{}.toml", measure_id(text).unwrap_or("M001")),
    };
    // The schema, the centre and three measures: each input checks and compiles in
    // well under a millisecond, and a measure that replaces one of the three collides
    // with nothing.
    let mut sources = BUILTIN_SOURCES.clone();
    sources
        .files
        .retain(|path, _| !path.starts_with("measures/") || path.as_str() < "measures/M004");
    sources.files.insert(file, text.into());
    match Catalog::from_sources(&sources) {
        Ok(catalog) => {
            for profile in fixture_profiles(&catalog) {
                let native = catalog.recommend_with(
                    &profile,
                    AS_OF,
                    &policy_match::EvalOptions::with_engine(EngineKind::Native),
                );
                let rhai = catalog.recommend_with(
                    &profile,
                    AS_OF,
                    &policy_match::EvalOptions::with_engine(EngineKind::Rhai),
                );
                assert_eq!(native.results, rhai.results, "{}", profile.id);
            }
        }
        Err(LoadError::Invalid(diags)) => {
            assert!(!diags.is_empty(), "refused without a diagnostic");
            for d in &diags {
                assert!(
                    sources.files.contains_key(&d.file),
                    "diagnostic names no file of the catalog: {d:?}"
                );
            }
        }
        Err(e) => panic!("{e}"),
    }
}

/// The id a measure file declares, when it is a well-formed one: the file is named after
/// it, so that a mutated built-in measure replaces the original instead of clashing.
pub fn measure_id(text: &str) -> Option<&str> {
    let id = text
        .lines()
        .find_map(|l| l.strip_prefix("id = \""))?
        .split('"')
        .next()?;
    let digits = id.strip_prefix('M')?;
    (digits.len() == 3 && digits.bytes().all(|b| b.is_ascii_digit())).then_some(id)
}

/// A population file with extension `ext` (`csv`, `parquet` or `jsonl`), read in small
/// chunks as `match` reads it; every record becomes a profile or a reject, and the
/// profiles are evaluated. A file-level error must name the file.
pub fn population(data: &[u8], ext: &str) {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let path = dir.path().join(format!("population.{ext}"));
    std::fs::write(&path, data).expect("written");
    let schema = &BUILTIN.schema;
    let mut records = Vec::new();
    let read = if ext == "jsonl" {
        policy_match::profile::jsonl::read_records(&path, schema, 7, &mut |c| records.extend(c))
            .map_err(|e| e.to_string())
    } else {
        policy_match_batch::tabular::read_population(&path, schema, 7, &mut |c| records.extend(c))
            .map_err(|e| e.to_string())
    };
    match read {
        Ok(n) => {
            assert_eq!(n, records.len(), "the count returned is the records given");
            assert!(
                records.windows(2).all(|w| w[0].row < w[1].row),
                "rows in file order"
            );
            let profiles: Vec<Profile> = records
                .into_iter()
                .filter_map(|r| r.into_profile(schema).ok())
                .collect();
            BUILTIN.evaluate_batch(&profiles, AS_OF);
        }
        Err(message) => assert_names(&message, &path),
    }
    if ext == "jsonl" {
        // The reader of `explain` too.
        if let Err(e) = policy_match::profile::jsonl::read_jsonl(schema, &path) {
            assert_names(&e.to_string(), &path);
        }
    }
}

fn assert_names(message: &str, path: &Path) {
    assert!(
        message.contains(&path.display().to_string()),
        "the error does not name the file: {message}"
    );
}

/// Seeds for the rules target, in its input format (a pick byte, then the text): the
/// built-in schema, centre and measures, and the broken and hostile fixture measures.
pub fn rule_seeds(root: &Path) -> Vec<Vec<u8>> {
    let with = |pick: u8, text: &str| [&[pick][..], text.as_bytes()].concat();
    let mut seeds = Vec::new();
    for (path, text) in &BUILTIN_SOURCES.files {
        let pick = match path.as_str() {
            "schema.toml" => 0,
            "centre.toml" => 1,
            _ => 2,
        };
        seeds.push(with(pick, text));
    }
    for dir in [
        "fixtures/broken_rules/measures",
        "fixtures/broken_rules/measures/more",
        "fixtures/hostile_rules/measures",
        "fixtures/hostile_rules/rejected",
    ] {
        let mut files: Vec<_> = std::fs::read_dir(root.join(dir))
            .expect("fixture folder")
            .map(|e| e.expect("entry").path())
            .filter(|p| p.extension().is_some_and(|e| e == "toml"))
            .collect();
        files.sort();
        for f in files {
            seeds.push(with(2, &std::fs::read_to_string(f).expect("utf-8 fixture")));
        }
    }
    seeds
}

/// A generated population of `count` rows, a fifth of them spoiled, in format `ext`.
pub fn population_seed(ext: &str, count: usize) -> Vec<u8> {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let path = dir.path().join(format!("seed.{ext}"));
    let opts = policy_match::synth::GenOptions {
        count,
        seed: 11,
        bad_rows: 0.2,
    };
    policy_match_batch::popfile::write_file(&path, &BUILTIN.schema, &opts).expect("generated");
    std::fs::read(&path).expect("readable")
}
