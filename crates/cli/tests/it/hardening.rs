//! Hostile rules, bad and failing inputs, full disks, rules changed under a run, and hot
//! reload under load: nothing lost, nothing granted wrongly. docs/RELIABILITY.md lists
//! each failure mode with the test here that covers it.

use crate::support::fuzz_entry as entry;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use crate::support::cli::*;
use jiff::civil::date;
use policy_match::Catalog;
use policy_match::LoadError;
use policy_match::Profile;
use policy_match::SharedCatalog;
use policy_match::Sources;
use policy_match::diag::Code;
use policy_match::rules::sources::MAX_RULE_FILE_BYTES;

fn root() -> std::path::PathBuf {
    crate::support::root()
}

fn hostile(dir: &str) -> PathBuf {
    root().join("fixtures/hostile_rules").join(dir)
}

/// The measure id a fixture file declares (`id = "M9xx"`).
fn declared_id(text: &str) -> &str {
    entry::measure_id(text).expect("a fixture declares its id")
}

/// A rules folder: the real schema and centre, the built-in measures if asked, and
/// `extra` measure files (named after their ids).
fn rules_dir(at: &Path, builtin: bool, extra: &[PathBuf]) -> PathBuf {
    let dir = at.join("rules");
    std::fs::create_dir_all(dir.join("measures")).unwrap();
    for file in ["schema.toml", "centre.toml"] {
        std::fs::copy(root().join("rules").join(file), dir.join(file)).unwrap();
    }
    if builtin {
        for e in std::fs::read_dir(root().join("rules/measures")).unwrap() {
            let path = e.unwrap().path();
            std::fs::copy(&path, dir.join("measures").join(path.file_name().unwrap())).unwrap();
        }
    }
    for f in extra {
        let text = std::fs::read_to_string(f).unwrap();
        let name = format!("{}.toml", declared_id(&text));
        std::fs::write(dir.join("measures").join(name), text).unwrap();
    }
    dir
}

fn files_in(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    files
}

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

// ------------------------------------------------------------------ hostile rules

#[test]
fn hostile_rule_files_are_refused_at_load_with_every_diagnostic() {
    let mut sources = Sources::builtin();
    let mut expected = Vec::new();
    for path in files_in(&hostile("rejected")) {
        let text = std::fs::read_to_string(&path).unwrap();
        let file = format!("measures/{}.toml", declared_id(&text));
        expected.push(file.clone());
        sources.files.insert(file, text.into());
    }
    let huge = format!(
        "# {}\n{}",
        "填充".repeat(MAX_RULE_FILE_BYTES / 6 + 1),
        std::fs::read_to_string(hostile("measures/M904.toml")).unwrap()
    );
    sources
        .files
        .insert("measures/M915.toml".into(), huge.into());
    let Err(LoadError::Invalid(diags)) = Catalog::from_sources(&sources) else {
        panic!("a hostile catalog loaded");
    };
    // The oversized file is refused before anything is parsed.
    assert_eq!(diags.len(), 1, "{diags:#?}");
    assert_eq!(diags[0].file, "measures/M915.toml");
    assert!(diags[0].message.contains("over the limit"), "{diags:#?}");

    sources.files.remove("measures/M915.toml");
    let Err(LoadError::Invalid(diags)) = Catalog::from_sources(&sources) else {
        panic!("a hostile catalog loaded");
    };
    // The built-in files' warnings come along; the errors are the hostile files'.
    let diags: Vec<_> = diags.into_iter().filter(|d| d.is_error()).collect();
    let named: BTreeSet<&str> = diags.iter().map(|d| d.file.as_str()).collect();
    let expected: BTreeSet<&str> = expected.iter().map(String::as_str).collect();
    assert_eq!(named, expected, "every hostile file reported, no other");
    assert!(diags.iter().all(|d| d.code == Code::BadExpr), "{diags:#?}");
    let all = diags
        .iter()
        .map(|d| d.message.as_str())
        .collect::<Vec<_>>()
        .join("\n");
    for needle in [
        "exceeds maximum complexity",
        "over the limit of 2000",
        "unknown function `eval`",
        "unknown function `print`",
        "does not parse",
    ] {
        assert!(all.contains(needle), "no `{needle}` in:\n{all}");
    }
}

#[test]
fn a_runtime_failure_is_an_error_for_that_pair_only_and_never_granted() {
    let tmp = tempfile::tempdir().unwrap();
    let input = generate(tmp.path(), "pop.csv", 2000, 0.0);
    let plain = rules_dir(&tmp.path().join("plain"), true, &[]);
    let with_hostile = rules_dir(
        &tmp.path().join("hostile"),
        true,
        &files_in(&hostile("measures")),
    );
    // The per-pair tables: pushes are ranked and capped per enterprise, so a measure
    // added to the catalog moves the others' ranks; `eligible` is the push list before
    // the cap, pair by pair.
    let per_pair = "eligible,notices,grants,near_misses,undetermined,errors";
    let baseline = tmp.path().join("baseline");
    let o = match_into(
        &input,
        &baseline,
        &["--rules", p(&plain), "--tables", per_pair],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));

    let mut outputs = Vec::new();
    for engine in ["native", "rhai"] {
        let out = tmp.path().join(engine);
        let o = match_into(
            &input,
            &out,
            &[
                "--rules",
                p(&with_hostile),
                "--engine",
                engine,
                "--tables",
                per_pair,
            ],
        );
        assert_eq!(o.status.code(), Some(2), "errors exit 2: {}", stderr(&o));
        let s = summary(&out);
        let errors = s["by_measure"]["M901"]["error"].as_u64().unwrap();
        assert!(errors > 0, "no division by zero met");
        assert_eq!(s["errors"].as_u64(), Some(errors));
        for id in ["M902", "M903", "M904"] {
            assert_eq!(s["by_measure"][id]["error"], 0, "{id}");
        }
        let error_rows = read(&out.join("errors.csv"));
        assert_eq!(error_rows.lines().count() as u64, errors + 1);
        let errored: BTreeSet<&str> = error_rows
            .lines()
            .skip(1)
            .map(|l| {
                assert!(l.contains(",M901,"), "{l}");
                l.split(',').next().unwrap()
            })
            .collect();
        let grants = read(&out.join("grants.csv"));
        for line in grants.lines().filter(|l| l.contains(",M901,")) {
            let id = line.split(',').next().unwrap();
            assert!(!errored.contains(id), "an error granted: {line}");
        }
        // Each grant names its enterprise's size and industry (大类), for the report.
        let mut rows = csv::Reader::from_path(out.join("grants.csv")).unwrap();
        let header: Vec<String> = rows.headers().unwrap().iter().map(String::from).collect();
        assert_eq!(header[4..], ["size", "industry"]);
        let segments: Vec<(String, String)> = rows
            .records()
            .map(|r| {
                let r = r.unwrap();
                (r[4].to_owned(), r[5].to_owned())
            })
            .collect();
        assert!(!segments.is_empty(), "no grant to look at");
        assert!(
            segments
                .iter()
                .all(|(_, i)| i.is_empty() || (i.len() == 3 && i.is_ascii())),
            "{segments:?}"
        );
        assert!(segments.iter().any(|(s, i)| !s.is_empty() && !i.is_empty()));
        // Every built-in measure's rows are exactly the baseline's.
        for (name, text) in tables(&out) {
            let kept: Vec<&str> = text.lines().filter(|l| !l.contains(",M90")).collect();
            let want = read(&baseline.join(&name));
            assert_eq!(kept, want.lines().collect::<Vec<_>>(), "{name} ({engine})");
        }
        outputs.push(tables(&out));
    }
    assert_eq!(
        outputs[0], outputs[1],
        "the engines agree on the errors too"
    );
}

// ------------------------------------------------------------------ hot reload

#[test]
fn hot_reload_under_load_answers_from_exactly_one_catalog() {
    let a = Sources::builtin();
    let mut b = Sources::builtin();
    for path in files_in(&hostile("measures")) {
        let text = std::fs::read_to_string(&path).unwrap();
        b.files
            .insert(format!("measures/{}.toml", declared_id(&text)), text.into());
    }
    let mut broken = b.clone();
    broken.files.insert(
        "measures/M001.toml".into(),
        "id = \"M001\"\n[eligibility".into(),
    );

    let as_of = date(2025, 6, 30);
    let catalogs = [
        Catalog::from_sources(&a).unwrap(),
        Catalog::from_sources(&b).unwrap(),
    ];
    let profiles: Vec<Profile> = read(&root().join("fixtures/enterprises.jsonl"))
        .lines()
        .map(|l| Profile::from_json(&catalogs[0].schema, l).expect("fixture profile"))
        .collect();
    // What each version answers, per enterprise: the reference for every answer below.
    let expected: Vec<(String, Vec<_>)> = catalogs
        .iter()
        .map(|c| {
            let answers = profiles
                .iter()
                .map(|p| c.recommend(p, as_of).results)
                .collect();
            (c.hash.clone(), answers)
        })
        .collect();
    assert_ne!(expected[0].0, expected[1].0);

    let shared = Arc::new(SharedCatalog::new(Catalog::from_sources(&a).unwrap()));
    let stop = Arc::new(AtomicBool::new(false));
    // Answers per reader and version, for the swapper to know when every reader has been
    // served by both versions.
    let seen: Arc<[[AtomicUsize; 2]; 3]> = Arc::new(Default::default());
    let readers: Vec<_> = (0..3)
        .map(|t| {
            let (shared, stop, seen, profiles, expected) = (
                Arc::clone(&shared),
                Arc::clone(&stop),
                Arc::clone(&seen),
                profiles.clone(),
                expected.clone(),
            );
            std::thread::spawn(move || {
                let mut i = t;
                while !stop.load(Ordering::Relaxed) {
                    let k = i % profiles.len();
                    let answer = shared.recommend(&profiles[k], as_of);
                    let version = expected
                        .iter()
                        .position(|(hash, _)| *hash == answer.catalog_hash)
                        .unwrap_or_else(|| panic!("unknown catalog {}", answer.catalog_hash));
                    assert_eq!(
                        answer.results, expected[version].1[k],
                        "an answer mixing catalog versions"
                    );
                    seen[t][version].fetch_add(1, Ordering::Relaxed);
                    i += 1;
                }
            })
        })
        .collect();
    let served_by_both = || {
        seen.iter()
            .all(|r| r.iter().all(|n| n.load(Ordering::Relaxed) > 0))
    };
    let mut rounds = 0;
    while rounds < 30 || !served_by_both() {
        assert!(
            rounds < 3000,
            "readers not served by both versions: {seen:?}"
        );
        let next = if rounds % 2 == 0 { &b } else { &a };
        shared.reload(next).expect("a valid catalog");
        let before = shared.current().hash.clone();
        match shared.reload(&broken) {
            Err(LoadError::Invalid(diags)) => {
                assert!(diags.iter().any(|d| d.file == "measures/M001.toml"));
            }
            other => panic!("a broken catalog was not refused: {other:?}"),
        }
        assert_eq!(
            shared.current().hash,
            before,
            "the old catalog keeps serving"
        );
        rounds += 1;
    }
    stop.store(true, Ordering::Relaxed);
    for r in readers {
        r.join().expect("a reader panicked");
    }
}

// ------------------------------------------------------------------ inputs

#[test]
fn oversized_cells_and_records_are_refused_with_row_and_file() {
    let tmp = tempfile::tempdir().unwrap();
    let csv = generate(tmp.path(), "pop.csv", 50, 0.0);
    let text = read(&csv);
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    // Row 3: a 5000-byte name. Everything else is matched.
    let mut cells: Vec<String> = lines[3].split(',').map(str::to_owned).collect();
    cells[1] = "名".repeat(2000);
    lines[3] = cells.join(",");
    std::fs::write(&csv, lines.join("\n") + "\n").unwrap();
    let out = tmp.path().join("out");
    let o = match_into(&csv, &out, &[]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let rejects = read(&out.join("rejects.csv"));
    assert_eq!(rejects.lines().count(), 2, "{rejects}");
    assert!(rejects.contains("3,") && rejects.contains("`name` holds 6000 bytes"));
    assert_eq!(summary(&out)["enterprises_matched"], 49);

    // An unclosed quote would swallow the rest of the file: refused, naming file and line.
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    lines[5] = lines[5].replacen(',', ",\"", 1);
    let filler = "x".repeat(2000);
    let body = lines.join("\n") + "\n" + &format!("{filler}\n").repeat(600)[..];
    std::fs::write(&csv, body).unwrap();
    let o = match_into(&csv, &tmp.path().join("out2"), &[]);
    assert_eq!(o.status.code(), Some(1));
    let e = stderr(&o);
    assert!(
        e.contains(p(&csv)) && e.contains("line 6") && e.contains("never closed"),
        "{e}"
    );
    assert!(!tmp.path().join("out2").exists());

    // A JSON Lines line over the limit is that row's reject.
    let jsonl = tmp.path().join("pop.jsonl");
    let long = format!("{{\"id\": \"{}\"}}", "9".repeat(1 << 20));
    let good = read(&root().join("fixtures/enterprises.jsonl"));
    std::fs::write(&jsonl, format!("{long}\n{good}")).unwrap();
    let out = tmp.path().join("out3");
    let o = match_into(&jsonl, &out, &[]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let rejects = read(&out.join("rejects.csv"));
    assert!(rejects.contains("over the limit of 1048576"), "{rejects}");
    assert_eq!(
        summary(&out)["enterprises_matched"],
        good.lines().filter(|l| !l.trim().is_empty()).count()
    );
}

#[test]
fn unreadable_or_truncated_inputs_fail_naming_the_file() {
    let tmp = tempfile::tempdir().unwrap();
    let parquet = generate(tmp.path(), "pop.parquet", 500, 0.0);
    let bytes = std::fs::read(&parquet).unwrap();
    let out = tmp.path().join("out");
    for cut in [bytes.len() / 2, bytes.len() - 3, 10] {
        std::fs::write(&parquet, &bytes[..cut]).unwrap();
        let o = match_into(&parquet, &out, &[]);
        assert_eq!(o.status.code(), Some(1), "cut at {cut}");
        assert!(stderr(&o).contains(p(&parquet)), "{}", stderr(&o));
        assert!(!out.exists(), "an output folder from a failed run");
    }
    for path in [tmp.path().to_owned(), tmp.path().join("absent.csv")] {
        let o = match_into(&path, &out, &[]);
        assert_eq!(o.status.code(), Some(1), "{}", path.display());
        assert!(stderr(&o).contains(p(&path)), "{}", stderr(&o));
        assert!(!out.exists());
    }
    // A line format cut mid-record: the cut row is rejected by its number, the rest matched.
    let csv = generate(tmp.path(), "pop.csv", 40, 0.0);
    let text = read(&csv);
    let cut = text.len() - text.lines().last().unwrap().len() / 2;
    std::fs::write(&csv, &text[..cut]).unwrap();
    let o = match_into(&csv, &out, &[]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let rejects = read(&out.join("rejects.csv"));
    assert!(
        rejects.lines().nth(1).is_some_and(|l| l.starts_with("40,")),
        "{rejects}"
    );
}

// ------------------------------------------------------------------ failing runs

/// `match` under a file-size limit: the shell ignores SIGXFSZ, so a write past the limit
/// fails with EFBIG as on a full disk.
fn match_with_file_limit(input: &Path, out: &Path, kib: u64) -> std::process::Output {
    let bin = assert_cmd::cargo::cargo_bin("policy-match");
    std::process::Command::new("bash")
        .arg("-c")
        .arg(format!(
            "trap '' XFSZ; ulimit -f {kib}; exec \"$0\" match --enterprises \"$1\" --out \"$2\" --as-of 2025-06-30 --quiet"
        ))
        .arg(bin)
        .arg(input)
        .arg(out)
        .output()
        .expect("bash runs")
}

#[test]
fn a_full_disk_fails_clearly_and_leaves_the_previous_output() {
    let tmp = tempfile::tempdir().unwrap();
    let input = generate(tmp.path(), "pop.jsonl", 1500, 0.0);
    let out = tmp.path().join("out");
    assert_eq!(match_into(&input, &out, &[]).status.code(), Some(0));
    let previous = tables(&out);
    let biggest = std::fs::metadata(out.join("near_misses.csv"))
        .unwrap()
        .len();
    assert!(biggest > 200 * 1024, "the run must outgrow the limit");

    let o = match_with_file_limit(&input, &out, 64);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(
        e.contains("cannot write output folder") && e.contains("File too large"),
        "{e}"
    );
    assert_eq!(tables(&out), previous, "the previous output is untouched");
    assert_no_partial(tmp.path());
}

#[test]
fn rules_changed_during_a_run_do_not_mix_versions() {
    let tmp = tempfile::tempdir().unwrap();
    let input = generate(tmp.path(), "pop.jsonl", 6000, 0.0);
    let rules = rules_dir(tmp.path(), true, &[]);
    let reference = tmp.path().join("reference");
    assert_eq!(
        match_into(&input, &reference, &["--rules", p(&rules)])
            .status
            .code(),
        Some(0)
    );
    let original_hash = summary(&reference)["catalog_hash"].clone();

    let out = tmp.path().join("out");
    let bin = assert_cmd::cargo::cargo_bin("policy-match");
    let mut child = std::process::Command::new(bin)
        .args(["match", "--enterprises", p(&input), "--out", p(&out)])
        .args(["--as-of", "2025-06-30", "--quiet", "--rules", p(&rules)])
        .spawn()
        .unwrap();
    // The partial folder appears once the rules are loaded; then they are rewritten.
    let started = std::time::Instant::now();
    while !entries(tmp.path())
        .iter()
        .any(|n| n.starts_with(".out.partial"))
    {
        assert!(started.elapsed().as_secs() < 60, "the run never started");
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    std::fs::remove_file(rules.join("measures/M001.toml")).unwrap();
    let m2 = read(&rules.join("measures/M002.toml"));
    std::fs::write(
        rules.join("measures/M002.toml"),
        m2.replace("kind:enterprise", "ownership:private"),
    )
    .unwrap();
    assert!(
        child.try_wait().unwrap().is_none(),
        "the run ended before the rules changed: the test proves nothing"
    );
    let status = child.wait().unwrap();
    assert!(status.success(), "{status}");
    assert_eq!(summary(&out)["catalog_hash"], original_hash);
    assert_eq!(
        tables(&out),
        tables(&reference),
        "the run saw only the rules it loaded"
    );

    // The next run reads the new rules, whole.
    let next = tmp.path().join("next");
    assert_eq!(
        match_into(&input, &next, &["--rules", p(&rules)])
            .status
            .code(),
        Some(0)
    );
    assert_ne!(summary(&next)["catalog_hash"], original_hash);
    assert!(summary(&next)["by_measure"].get("M001").is_none());
}
