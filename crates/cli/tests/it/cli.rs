//! The command line as a scheduler and an officer see it: exit codes, located
//! diagnostics (snapshot of the rendered output), explanations and scripts.

use std::path::PathBuf;

use assert_cmd::Command;

use crate::support::cli::copy_tree;

fn root() -> std::path::PathBuf {
    crate::support::root()
}

fn cmd() -> Command {
    crate::support::cli::cmd()
}

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8(out.stdout.clone()).expect("utf-8")
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8(out.stderr.clone()).expect("utf-8")
}

/// `fixtures/broken_rules` beside copies of the real schema and centre, in a temporary directory.
fn broken_rules() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    for file in ["schema.toml", "centre.toml"] {
        std::fs::copy(root().join("rules").join(file), dir.path().join(file)).expect("copy");
    }
    copy_tree(
        &root().join("fixtures/broken_rules/measures"),
        &dir.path().join("measures"),
    );
    let path = dir.path().to_owned();
    (dir, path)
}

/// The built-in catalog loads with warnings: `check` draws each on stderr as a warning,
/// counts them in its `ok:` line and exits 0.
/// A rules folder of the built-in schema and centre and one built-in measure, its
/// `[allow]` acknowledgement taken away: a catalog with one warning.
fn one_unacknowledged(id: &str) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    for file in ["schema.toml", "centre.toml"] {
        std::fs::copy(root().join("rules").join(file), dir.path().join(file)).expect("copy");
    }
    std::fs::create_dir(dir.path().join("measures")).expect("mkdir");
    let text =
        std::fs::read_to_string(root().join(format!("rules/measures/{id}.toml"))).expect("read");
    let start = text
        .find("[allow]")
        .expect("the measure acknowledges a warning");
    let end = text[start..].find("\n\n").map_or(text.len(), |n| start + n);
    let bare = format!("{}{}", &text[..start], &text[end..]);
    std::fs::write(dir.path().join(format!("measures/{id}.toml")), &bare).expect("write");
    (dir, bare)
}

#[test]
fn check_accepts_the_builtin_catalog_and_counts_its_warnings() {
    // Every warning of the built-in catalog is acknowledged in its file.
    let out = cmd().arg("check").output().expect("runs");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stderr(&out).is_empty(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.starts_with("ok: 145 measures, 0 errors, 0 warnings (catalog "),
        "{text}"
    );

    // One left unacknowledged: drawn as a warning and counted.
    let (dir, _) = one_unacknowledged("M016");
    let check = |format: &str| {
        cmd()
            .args(["check", "--error-format", format, "--rules"])
            .arg(dir.path())
            .output()
            .expect("runs")
    };
    let out = check("human");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let err = stderr(&out);
    assert_eq!(
        err.lines().filter(|l| l.starts_with("lint::")).count(),
        1,
        "{err}"
    );
    assert_eq!(err.matches("  ⚠ ").count(), 1, "drawn as a warning: {err}");
    assert!(!err.contains("  × "), "no error: {err}");
    assert!(
        stdout(&out).starts_with("ok: 1 measures, 0 errors, 1 warnings (catalog "),
        "{}",
        stdout(&out)
    );

    // The same warning as JSON, one a line, marked a warning.
    let out = check("json");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let warnings: Vec<serde_json::Value> = stderr(&out)
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object a line"))
        .collect();
    assert_eq!(warnings.len(), 1);
    for w in &warnings {
        assert_eq!(w["severity"], "warning", "{w}");
        assert_eq!(w["code"], "lint::identity_only", "{w}");
        assert!(
            w["line"].as_u64().is_some() && w["measure"] == "M016",
            "{w}"
        );
    }
}

/// `--deny-warnings` fails a catalog with warnings as an invalid one fails (exit 3),
/// and passes one without.
#[test]
fn check_deny_warnings_fails_on_a_warning_with_the_exit_code_of_errors() {
    // The built-in catalog has nothing to deny.
    let out = cmd()
        .args(["check", "--deny-warnings"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));

    // One measure, its acknowledgement taken away: denied.
    let (dir, m016) = one_unacknowledged("M016");
    let measure = dir.path().join("measures/M016.toml");
    let check = |deny: bool| {
        let mut c = cmd();
        c.arg("check").arg("--rules").arg(dir.path());
        if deny {
            c.arg("--deny-warnings");
        }
        c.output().expect("runs")
    };
    let out = check(false);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).starts_with("ok: 1 measures, 0 errors, 1 warnings"),
        "{}",
        stdout(&out)
    );
    assert!(
        stderr(&out).contains("lint::identity_only"),
        "{}",
        stderr(&out)
    );
    let denied = check(true);
    assert_eq!(denied.status.code(), Some(3));
    assert!(stdout(&denied).is_empty(), "{}", stdout(&denied));
    assert!(
        stderr(&denied).ends_with(
            "error: the catalog is invalid: 0 error(s), 1 warnings, denied by `--deny-warnings`\n"
        ),
        "{}",
        stderr(&denied)
    );

    // Beside an error, the warning is listed and counted too.
    let broken = dir.path().join("measures/M900.toml");
    std::fs::write(&broken, "id = \"M900\"\n").expect("write");
    let out = check(false);
    assert_eq!(out.status.code(), Some(3));
    let err = stderr(&out);
    assert!(
        err.contains("  ⚠ M016: ") && err.contains("  × M900: "),
        "{err}"
    );
    assert!(
        err.ends_with("error: the catalog is invalid: 1 error(s), 1 warnings\n"),
        "{err}"
    );
    std::fs::remove_file(&broken).expect("remove");

    std::fs::write(
        &measure,
        format!("{m016}\n[allow]\nidentity_only = \"面向全体企业\"\n"),
    )
    .expect("write");
    let out = check(true);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stderr(&out).is_empty(), "{}", stderr(&out));
    assert!(
        stdout(&out).starts_with("ok: 1 measures, 0 errors, 0 warnings"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn check_reports_every_problem_of_a_broken_directory_with_its_place() {
    let (_guard, dir) = broken_rules();
    let out = cmd()
        .args(["check", "--rules"])
        .arg(&dir)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(3));
    assert!(stdout(&out).is_empty());
    insta::assert_snapshot!("broken_rules_human", stderr(&out));
}

#[test]
fn check_json_errors_carry_file_line_code_and_measure() {
    let (_guard, dir) = broken_rules();
    let out = cmd()
        .args(["check", "--error-format", "json", "--rules"])
        .arg(&dir)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(3));
    let diags: Vec<serde_json::Value> = stderr(&out)
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object a line"))
        .collect();
    let codes: std::collections::BTreeSet<&str> =
        diags.iter().map(|d| d["code"].as_str().unwrap()).collect();
    for want in [
        "rule::unknown_tag",
        "rule::unknown_field",
        "rule::type_mismatch",
        "rule::bad_expr",
        "rule::duplicate_id",
        "rule::empty_eligibility",
        "rule::dates_out_of_order",
        "rule::syntax",
        "rule::empty_label",
    ] {
        assert!(codes.contains(want), "no {want} in {codes:?}");
    }
    for d in &diags {
        assert!(
            d["file"]
                .as_str()
                .is_some_and(|f| f.starts_with("measures/")),
            "{d}"
        );
        assert!(
            d["line"].as_u64().is_some() && d["measure"].as_str().is_some(),
            "{d}"
        );
        assert_eq!(d["severity"], "error", "{d}");
    }
}

#[test]
fn a_missing_rules_directory_is_fatal_and_named() {
    let out = cmd()
        .args(["check", "--rules", "no/such/dir"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("no/such/dir"), "{}", stderr(&out));
}

const PROFILES: &str = "fixtures/enterprises.jsonl";
/// 永丰印染: energy intensity exactly 0.52, no basic-research figure.
const YONGFENG: &str = "91330603MA2D3LX08L";

fn explain(id: &str, format: &str) -> std::process::Output {
    explain_with(id, format, &[])
}

fn explain_with(id: &str, format: &str, extra: &[&str]) -> std::process::Output {
    cmd()
        .current_dir(root())
        .args([
            "explain",
            "--enterprises",
            PROFILES,
            "--id",
            id,
            "--as-of",
            "2025-06-30",
            "--format",
            format,
        ])
        .args(extra)
        .output()
        .expect("runs")
}

#[test]
fn explain_json_has_one_result_per_measure_and_keeps_missing_data_apart() {
    let out = explain(YONGFENG, "json");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["enterprise_id"], YONGFENG);
    assert_eq!(v["as_of"], "2025-06-30");
    assert_eq!(v["catalog_hash"].as_str().map(str::len), Some(16));
    let catalog = policy_match::Catalog::builtin().unwrap();
    let results = v["results"].as_array().expect("results");
    assert_eq!(results.len(), catalog.measures.len());
    let by_id = |id: &str| {
        results
            .iter()
            .find(|r| r["measure_id"] == id)
            .expect("present")
    };

    // 0.52 is not 低于 0.52: a failed condition, named.
    let m017 = by_id("M017");
    assert_eq!(m017["outcome"], "not_eligible");
    assert_eq!(
        m017["failed"],
        serde_json::json!(["单位工业增加值能耗低于0.52吨标准煤/万元"])
    );
    // No basic-research figure: undetermined, with the field, never not_eligible.
    let m041 = by_id("M041");
    assert_eq!(m041["outcome"], "undetermined");
    assert_eq!(
        m041["missing_fields"],
        serde_json::json!(["basic_research_donation_yuan"])
    );
    assert_eq!(m041["failed"], serde_json::json!([]));
    for r in results {
        for key in [
            "measure_id",
            "title",
            "outcome",
            "amount_yuan",
            "failed",
            "missing_fields",
        ] {
            assert!(r.get(key).is_some(), "{key} missing in {r}");
        }
    }
}

#[test]
fn explain_text_shows_each_condition_passed_and_failed() {
    let out = explain_with(YONGFENG, "text", &["--all"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    insta::with_settings!({ filters => vec![(r"catalog [0-9a-f]{16}", "catalog [hash]")] }, {
        insta::assert_snapshot!("explain_yongfeng", stdout(&out));
    });
}

/// By default an officer sees what the enterprise is told: its ranked pushes (at most
/// the cap), grants, unlocks and notices in scope, and the rest as counts.
#[test]
fn explain_text_shows_what_the_enterprise_is_told_and_folds_the_rest() {
    let out = explain(YONGFENG, "text");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    insta::with_settings!({ filters => vec![(r"catalog [0-9a-f]{16}", "catalog [hash]")] }, {
        insta::assert_snapshot!("explain_yongfeng_digest", stdout(&out));
    });
    let text = stdout(&out);
    assert!(text.contains("推送 pushed: 10 "), "{text}");
    let short = explain_with(
        YONGFENG,
        "text",
        &["--max-pushes", "3", "--max-unlocks", "1"],
    );
    let short = stdout(&short);
    assert!(short.contains("推送 pushed: 3 "), "{short}");
    assert!(short.contains("可解锁 unlocks: 1\n"), "{short}");
}

/// `explain` tells each enterprise what `match` pushes it, in the same order: one
/// ranking, in the library.
#[test]
fn explain_pushes_are_the_pushes_match_writes() {
    let tmp = tempfile::tempdir().unwrap();
    let out_dir = tmp.path().join("out");
    let input = root().join(PROFILES);
    let o = crate::support::cli::match_into(&input, &out_dir, &["--tables", "pushes,unlocks"]);
    assert!(
        o.status.code().is_some_and(|c| c == 0 || c == 2),
        "{}",
        stderr(&o)
    );
    let mut by_enterprise: std::collections::BTreeMap<String, Vec<(u32, String)>> =
        Default::default();
    let mut r = csv::Reader::from_path(out_dir.join("pushes.csv")).unwrap();
    let headers = r.headers().unwrap().clone();
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let (e, m, rank) = (col("enterprise_id"), col("measure_id"), col("rank"));
    for row in r.records() {
        let row = row.unwrap();
        by_enterprise
            .entry(row[e].to_owned())
            .or_default()
            .push((row[rank].parse().unwrap(), row[m].to_owned()));
    }
    let mut unlocks: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    let mut r = csv::Reader::from_path(out_dir.join("unlocks.csv")).unwrap();
    for row in r.records() {
        let row = row.unwrap();
        unlocks
            .entry(row[0].to_owned())
            .or_default()
            .push(row[1].to_owned());
    }
    let text = std::fs::read_to_string(&input).unwrap();
    let mut checked = 0;
    for line in text.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let id = v["id"].as_str().unwrap();
        let out = explain(id, "json");
        if out.status.code() != Some(0) {
            continue; // a fixture row the reader rejects
        }
        let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let told: Vec<(u32, String)> = j["pushes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                (
                    p["rank"].as_u64().unwrap() as u32,
                    p["measure_id"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        let mut written = by_enterprise.get(id).cloned().unwrap_or_default();
        written.sort();
        assert_eq!(told, written, "{id}");
        let told_unlocks: Vec<String> = j["unlocks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["condition"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(
            told_unlocks,
            unlocks.get(id).cloned().unwrap_or_default(),
            "{id}"
        );
        checked += 1;
    }
    assert!(checked >= 10, "{checked} enterprises checked");
}

#[test]
fn explain_of_an_unknown_enterprise_is_fatal() {
    let out = explain("91110000802100433B", "text");
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("not found"), "{}", stderr(&out));
}

#[test]
fn compile_prints_the_generated_script() {
    let out = cmd().args(["compile", "M017"]).output().expect("runs");
    assert_eq!(out.status.code(), Some(0));
    let script = stdout(&out);
    assert!(script.contains("(energy_intensity < 0.52)"), "{script}");
    assert!(script.contains("p.present("), "{script}");
    let out = cmd().args(["compile", "M17"]).output().expect("runs");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("did you mean `M017`?"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn test_command_runs_the_rule_examples() {
    let out = cmd()
        .args(["test", "--as-of", "2025-06-30"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(
        stdout(&out).contains(" failed; condition coverage"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn list_json_gives_every_measure_with_routing() {
    let out = cmd()
        .args(["list", "--format", "json"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let items = v.as_array().expect("array");
    let m072 = items
        .iter()
        .find(|m| m["id"] == "M072")
        .expect("M072 listed");
    assert_eq!(m072["window"], "涉外经营服务");
    assert_eq!(m072["valid_until"], "2023-12-31");
    assert_eq!(m072["delivery"], serde_json::json!(["push"]));
    assert_eq!(m072["nature"], "benefit");
}

#[test]
fn list_by_zone_partitions_the_catalog_into_the_eight_zones() {
    let out = cmd()
        .args(["list", "--by", "zone", "--format", "json"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0));
    let counts: std::collections::BTreeMap<String, usize> =
        serde_json::from_slice(&out.stdout).expect("json");
    let catalog = policy_match::Catalog::builtin().unwrap();
    assert_eq!(counts.values().sum::<usize>(), catalog.measures.len());
    let zones: Vec<&str> = catalog
        .centre
        .zones
        .iter()
        .map(|z| z.name.as_str())
        .collect();
    assert_eq!(zones.len(), 8);
    assert!(
        counts.keys().all(|k| zones.contains(&k.as_str())),
        "{counts:?}"
    );
}

#[test]
fn calendar_lists_windows_closing_within_the_period_inclusive() {
    let events = |days: &str| -> Vec<serde_json::Value> {
        let out = cmd()
            .args([
                "calendar",
                "--as-of",
                "2027-12-01",
                "--days",
                days,
                "--format",
                "json",
            ])
            .output()
            .expect("runs");
        assert_eq!(out.status.code(), Some(0));
        serde_json::from_slice(&out.stdout).expect("json")
    };
    // M047's policy runs until 2027-12-31 (延续执行至2027年12月31日): 30 days after 12-01.
    let in_30 = events("30");
    assert!(
        in_30.iter().any(|e| e["measure_id"] == "M047"
            && e["event"] == "closes"
            && e["date"] == "2027-12-31"),
        "{in_30:?}"
    );
    assert!(events("29").iter().all(|e| e["measure_id"] != "M047"));
}

#[test]
fn a_failing_rule_example_names_measure_and_example_and_exits_4() {
    let dir = tempfile::tempdir().expect("tempdir");
    for file in ["schema.toml", "centre.toml"] {
        std::fs::copy(root().join("rules").join(file), dir.path().join(file)).expect("copy");
    }
    std::fs::create_dir(dir.path().join("measures")).expect("mkdir");
    let m017 = std::fs::read_to_string(root().join("rules/measures/M017.toml")).expect("read");
    // The officer got the inclusivity wrong in the example: 0.52 is not 低于 0.52.
    let wrong = m017.replacen("expect = \"not_eligible\"", "expect = \"eligible\"", 1);
    std::fs::write(dir.path().join("measures/M017.toml"), wrong).expect("write");
    let out = cmd()
        .args(["test", "--as-of", "2025-06-30", "--rules"])
        .arg(dir.path())
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(4));
    let text = stdout(&out);
    assert!(
        text.contains(
            "FAIL M017 example `能耗恰为0.52不属于低于`: expected eligible, got not_eligible"
        ),
        "{text}"
    );
}

/// Runs `args` with stdout piped, reads three lines, closes the pipe and waits: the
/// command must end quietly with exit 0, as `policy-match list | head -3` should.
fn read_three_lines_then_close(args: &[&str]) {
    use std::io::BufRead as _;
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("policy-match"))
        .current_dir(root())
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut lines = std::io::BufReader::new(child.stdout.take().expect("stdout")).lines();
    for _ in 0..3 {
        lines.next().expect("a line").expect("utf-8");
    }
    drop(lines);
    let out = child.wait_with_output().expect("waits");
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{args:?}: {err}");
    assert!(
        !err.contains("panicked") && !err.contains("Broken pipe"),
        "{args:?}: {err}"
    );
}

#[test]
fn a_closed_pipe_ends_the_command_quietly() {
    read_three_lines_then_close(&["list"]);
    // More than a pipe's buffer (64 KiB) and the writer's: the command is still writing
    // when the pipe closes, whatever the scheduling.
    read_three_lines_then_close(&["list", "--format", "json"]);
    read_three_lines_then_close(&[
        "explain",
        "--enterprises",
        PROFILES,
        "--id",
        YONGFENG,
        "--as-of",
        "2025-06-30",
        "--format",
        "json",
    ]);
}

#[test]
fn list_columns_line_up_in_display_width() {
    use unicode_width::UnicodeWidthStr as _;
    let out = cmd().arg("list").output().expect("runs");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    // Columns: id, art (aligned right), mode, zone / window, scenario, title, two spaces or
    // more apart. For each, where it starts (art: where it ends) in display columns.
    let columns = |line: &str| -> Vec<usize> {
        let mut fields: Vec<(usize, usize)> = Vec::new(); // byte ranges
        let mut start = 0;
        while fields.len() < 5 {
            let rest = &line[start..];
            let end = rest.find("  ").map_or(line.len(), |i| start + i);
            fields.push((start, end));
            let next = line[end..].trim_start_matches(' ');
            start = line.len() - next.len();
        }
        fields.push((start, line.len()));
        let at = |byte: usize| line[..byte].width();
        let mut cols: Vec<usize> = fields.iter().map(|&(s, _)| at(s)).collect();
        cols[1] = at(fields[1].1);
        cols
    };
    let mut lines = text.lines();
    let header = lines.next().expect("a header");
    let want = columns(header);
    assert_eq!(want.len(), 6, "{header}");
    let mut rows = 0;
    for line in lines {
        assert_eq!(columns(line), want, "\n{header}\n{line}");
        rows += 1;
    }
    let catalog = policy_match::Catalog::builtin().unwrap();
    assert_eq!(rows, catalog.measures.len());
    // Chinese text in the padded columns: the test is not about ASCII alone.
    assert!(text.lines().any(|l| l.contains("要素保障专区")), "{text}");
}
