//! The nightly batch as a scheduler runs it: `gen` a population, `match` it, and check
//! what lands in the output folder.

use std::collections::BTreeSet;
use std::path::Path;

use crate::support::cli::*;

#[test]
fn csv_parquet_and_json_lines_give_byte_identical_pushes() {
    let tmp = tempfile::tempdir().unwrap();
    let mut pushes = Vec::new();
    for file in ["pop.jsonl", "pop.csv", "pop.parquet"] {
        let input = generate(tmp.path(), file, 600, 0.0);
        let out = tmp.path().join(format!("out-{file}"));
        let o = match_into(&input, &out, &[]);
        assert_eq!(
            o.status.code(),
            Some(0),
            "{file}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        pushes.push((file, read(&out.join("pushes.csv"))));
    }
    assert!(
        pushes[0].1.lines().count() > 600,
        "a realistic population gets many pushes"
    );
    for (file, text) in &pushes[1..] {
        assert!(text == &pushes[0].1, "{file} differs from {}", pushes[0].0);
    }
}

#[test]
fn bad_rows_are_rejected_with_row_and_reason_and_the_rest_is_matched() {
    let tmp = tempfile::tempdir().unwrap();
    for file in ["bad.jsonl", "bad.csv"] {
        let input = generate(tmp.path(), file, 1000, 0.05);
        let out = tmp.path().join(format!("out-{file}"));
        let o = match_into(&input, &out, &[]);
        assert_eq!(
            o.status.code(),
            Some(2),
            "completed with rejects: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let s = summary(&out);
        let rejects = s["rejects"].as_u64().unwrap();
        assert!(
            (20..=90).contains(&rejects),
            "{file}: {rejects} rejects of 1000 at 5%"
        );
        assert_eq!(s["input_rows"].as_u64().unwrap(), 1000);
        assert_eq!(
            s["enterprises_matched"].as_u64().unwrap() + rejects,
            1000,
            "{file}: nothing dropped"
        );
        let text = read(&out.join("rejects.csv"));
        let mut lines = text.lines();
        assert_eq!(lines.next(), Some("row,enterprise_id,reason"));
        for line in lines {
            let row: usize = line.split(',').next().unwrap().parse().expect("row number");
            assert!((1..=1000).contains(&row), "{line}");
            assert!(
                line.split(',').nth(2).is_some_and(|r| !r.is_empty()),
                "{line}"
            );
        }
        for why in [
            "check character",
            "duplicate id",
            "unknown tag namespace",
            "outside",
            "not",
        ] {
            assert!(
                text.contains(why),
                "{file}: no reject mentions `{why}`:\n{text}"
            );
        }
    }
}

#[test]
fn one_and_two_threads_write_identical_bytes() {
    let tmp = tempfile::tempdir().unwrap();
    let input = generate(tmp.path(), "pop.csv", 800, 0.02);
    let (a, b) = (tmp.path().join("t1"), tmp.path().join("t2"));
    match_into(&input, &a, &["--threads", "1", "--chunk-rows", "97"]);
    match_into(&input, &b, &["--threads", "2", "--chunk-rows", "300"]);
    assert_eq!(tables(&a), tables(&b));
    let (mut sa, mut sb) = (summary(&a), summary(&b));
    sa["timings_ms"] = serde_json::Value::Null;
    sb["timings_ms"] = serde_json::Value::Null;
    assert_eq!(sa, sb);
}

/// The native engine and rhai, with the prefilter and without, write the same bytes:
/// every table and the summary but its timings.
#[test]
fn engines_and_prefilter_write_identical_bytes() {
    let tmp = tempfile::tempdir().unwrap();
    let input = generate(tmp.path(), "pop.jsonl", 1500, 0.02);
    let runs = [
        ("native", &["--engine", "native"][..]),
        ("rhai", &["--engine", "rhai"][..]),
        ("native_full", &["--engine", "native", "--no-prefilter"][..]),
        ("rhai_full", &["--engine", "rhai", "--no-prefilter"][..]),
    ];
    let mut seen = Vec::new();
    for (name, args) in runs {
        let dir = tmp.path().join(name);
        let out = match_into(&input, &dir, args);
        assert_eq!(out.status.code(), Some(2), "rejects expected: {out:?}");
        let mut sum = summary(&dir);
        assert_eq!(sum["engine"], name.trim_end_matches("_full"));
        sum["timings_ms"] = serde_json::Value::Null;
        sum["engine"] = serde_json::Value::Null;
        seen.push((name, tables(&dir), sum));
    }
    let (_, tables0, sum0) = &seen[0];
    // Every table is well-formed CSV with its header's width, and a push's score is the
    // number of reasons it gives.
    for (name, text) in tables0 {
        let mut r = csv::Reader::from_reader(text.as_bytes());
        let width = r.headers().unwrap().len();
        for rec in r.records() {
            let rec = rec.unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(rec.len(), width, "{name}: {rec:?}");
            if name == "pushes.csv" {
                let reasons = rec[9].split('；').count();
                assert_eq!(rec[8].parse::<usize>().unwrap(), reasons, "{rec:?}");
            }
        }
    }
    assert!(sum0["pushes"].as_u64().unwrap() > 1000, "{sum0}");
    assert!(sum0["near_misses"].as_u64().unwrap() > 1000, "{sum0}");
    assert!(sum0["undetermined"].as_u64().unwrap() > 10, "{sum0}");
    for (name, t, sum) in &seen[1..] {
        assert!(t == tables0, "{name} differs from native");
        assert_eq!(sum, sum0, "{name}");
    }
}

#[test]
fn the_union_of_four_shards_is_the_single_run() {
    let tmp = tempfile::tempdir().unwrap();
    let input = generate(tmp.path(), "pop.jsonl", 700, 0.03);
    let whole = tmp.path().join("whole");
    match_into(&input, &whole, &[]);
    let rows = |dir: &Path, file: &str| -> BTreeSet<String> {
        read(&dir.join(file))
            .lines()
            .skip(1)
            .map(str::to_owned)
            .collect()
    };
    for file in [
        "pushes.csv",
        "grants.csv",
        "near_misses.csv",
        "undetermined.csv",
        "rejects.csv",
    ] {
        let mut union = BTreeSet::new();
        let mut total = 0;
        for k in 0..4 {
            let dir = tmp.path().join(format!("shard{k}"));
            match_into(&input, &dir, &["--shard", &format!("{k}/4")]);
            let part = rows(&dir, file);
            total += part.len();
            union.extend(part);
        }
        assert_eq!(total, union.len(), "{file}: shards overlap");
        assert_eq!(union, rows(&whole, file), "{file}");
    }
}

#[test]
fn previous_run_gives_new_and_revoked_pushes() {
    let tmp = tempfile::tempdir().unwrap();
    let before = generate(tmp.path(), "before.jsonl", 300, 0.0);
    let yesterday = tmp.path().join("yesterday");
    match_into(&before, &yesterday, &[]);
    // Tonight: the same population a year later — M072-like windows close, years pass.
    let today = tmp.path().join("today");
    let o = run(&[
        "match",
        "--enterprises",
        p(&before),
        "--out",
        p(&today),
        "--as-of",
        "2028-03-01",
        "--previous",
        p(&yesterday),
        "--quiet",
    ]);
    assert!(
        matches!(o.status.code(), Some(0 | 2)),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let set = |dir: &Path, file: &str| -> BTreeSet<(String, String)> {
        read(&dir.join(file))
            .lines()
            .skip(1)
            .map(|l| {
                let mut f = l.split(',');
                let e = f.next().unwrap().to_owned();
                let m = if file == "pushes_revoked.csv" {
                    f.next()
                } else {
                    f.nth(1)
                };
                (e, m.unwrap().to_owned())
            })
            .collect()
    };
    let (old, new) = (set(&yesterday, "pushes.csv"), set(&today, "pushes.csv"));
    let added: BTreeSet<_> = new.difference(&old).cloned().collect();
    let removed: BTreeSet<_> = old.difference(&new).cloned().collect();
    assert_eq!(set(&today, "pushes_new.csv"), added);
    assert_eq!(set(&today, "pushes_revoked.csv"), removed);
    assert!(
        !removed.is_empty(),
        "M047 ends 2027-12-31: its pushes are revoked by 2028"
    );
    // Run again against itself: nothing new, nothing revoked.
    let again = tmp.path().join("again");
    run(&[
        "match",
        "--enterprises",
        p(&before),
        "--out",
        p(&again),
        "--as-of",
        "2028-03-01",
        "--previous",
        p(&today),
        "--quiet",
    ]);
    assert_eq!(summary(&again)["pushes_new"], 0);
    assert_eq!(summary(&again)["pushes_revoked"], 0);
}

#[test]
fn a_run_killed_at_any_moment_leaves_the_previous_folder_or_none() {
    let tmp = tempfile::tempdir().unwrap();
    let input = generate(tmp.path(), "pop.jsonl", 3000, 0.0);
    let out = tmp.path().join("out");
    let complete = |dir: &Path| dir.join("summary.json").exists() && tables(dir).len() == 9;
    // First, a folder killed before it ever completed must not exist.
    let bin = assert_cmd::cargo::cargo_bin("policy-match");
    let spawn = || {
        std::process::Command::new(&bin)
            .args([
                "match",
                "--enterprises",
                p(&input),
                "--out",
                p(&out),
                "--as-of",
                "2025-06-30",
                "--quiet",
            ])
            .spawn()
            .expect("spawn")
    };
    let mut child = spawn();
    std::thread::sleep(std::time::Duration::from_millis(30));
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        !out.exists() || complete(&out),
        "a partial folder under the final name"
    );
    // Then a complete run, and kills of later runs at 24 random moments (the seed is
    // printed, to replay a failure).
    assert_eq!(match_into(&input, &out, &[]).status.code(), Some(0));
    let reference = tables(&out);
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |d| d.subsec_nanos() as u64 | 1);
    let mut state = seed;
    for i in 0..24 {
        // xorshift64: good enough to spread the moments over a run's ~400 ms.
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let wait = 5 + state % 400;
        let mut child = spawn();
        std::thread::sleep(std::time::Duration::from_millis(wait));
        let _ = child.kill();
        let _ = child.wait();
        assert!(
            complete(&out),
            "seed {seed}, kill {i} at {wait} ms: the previous folder is gone or partial"
        );
        assert_eq!(
            tables(&out),
            reference,
            "seed {seed}, kill {i} at {wait} ms: the folder changed"
        );
    }
    // What the killed runs left behind is hidden, and the next run clears it.
    assert_eq!(match_into(&input, &out, &[]).status.code(), Some(0));
    assert_eq!(
        entries(tmp.path()),
        ["out", "pop.jsonl"],
        "leftovers of killed runs"
    );
}

#[test]
fn audit_finds_benefits_missed_and_benefits_wrongly_enjoyed() {
    let tmp = tempfile::tempdir().unwrap();
    let input = generate(tmp.path(), "pop.jsonl", 500, 0.0);
    let matched = tmp.path().join("matched");
    match_into(&input, &matched, &["--tables", "eligible"]);
    let catalog = policy_match::Catalog::builtin().expect("built-in catalog");
    // Every eligible pair of a measure whose nature is a benefit: what the enterprise is
    // entitled to (no built-in measure is granted without application).
    let grants: Vec<(String, String)> = read(&matched.join("eligible.csv"))
        .lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (f[0].to_owned(), f[1].to_owned())
        })
        .filter(|(_, m)| {
            catalog.measure(m).expect("a catalog measure").nature
                == policy_match::rules::ir::Nature::Benefit
        })
        .collect();
    assert!(grants.len() > 10, "the population is entitled to benefits");
    // Claims: every entitlement but the first three, plus one benefit no one is entitled
    // to: M072's exhibition subsidy ended on 2023-12-31.
    let mut claims = String::from("enterprise_id,measure_id,amount_yuan\n");
    for (e, m) in &grants[3..] {
        claims.push_str(&format!("{e},{m},\n"));
    }
    claims.push_str(&format!("{},M072,5000\n", grants[0].0));
    let claims_path = tmp.path().join("claims.csv");
    std::fs::write(&claims_path, claims).unwrap();
    let out = tmp.path().join("audit");
    let o = run(&[
        "audit",
        "--enterprises",
        p(&input),
        "--claims",
        p(&claims_path),
        "--out",
        p(&out),
        "--as-of",
        "2025-06-30",
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let missed = read(&out.join("should_enjoy_not_enjoyed.csv"));
    for (e, m) in &grants[..3] {
        assert!(
            missed.contains(&format!("{e},{m},")),
            "应享未享 misses {e} {m}:\n{missed}"
        );
    }
    for (e, m) in &grants[3..] {
        assert!(
            !missed.contains(&format!("{e},{m},")),
            "{e} {m} was claimed"
        );
    }
    let wrongly = read(&out.join("enjoyed_not_eligible.csv"));
    assert_eq!(wrongly.lines().count(), 2, "{wrongly}");
    assert!(
        wrongly.contains(&format!("{},M072,", grants[0].0)) && wrongly.contains("不在政策有效期内"),
        "{wrongly}"
    );
}

/// The previous push list is read in step with tonight's, so it must be in order: a list
/// out of order fails the run naming the file and line, and leaves no output folder.
#[test]
fn a_previous_list_out_of_order_is_refused_with_its_line() {
    let tmp = tempfile::tempdir().unwrap();
    let input = generate(tmp.path(), "pop.jsonl", 50, 0.0);
    let prev = tmp.path().join("prev");
    std::fs::create_dir(&prev).unwrap();
    std::fs::write(
        prev.join("pushes.csv"),
        "enterprise_id,enterprise_name,measure_id\n92330603X,b,M002\n91330603Y,a,M001\n",
    )
    .unwrap();
    let out_dir = tmp.path().join("out");
    let o = match_into(&input, &out_dir, &["--previous", p(&prev)]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("pushes.csv") && stderr.contains("line 3") && stderr.contains("out of"),
        "{stderr}"
    );
    assert!(!out_dir.exists(), "no output folder after a failed run");
    assert_no_partial(tmp.path());
}

#[test]
fn tables_writes_only_the_result_tables_asked_for_and_counts_them_all() {
    let tmp = tempfile::tempdir().unwrap();
    let input = generate(tmp.path(), "pop.csv", 400, 0.05);
    let all = tmp.path().join("all");
    let some = tmp.path().join("some");
    assert_eq!(match_into(&input, &all, &[]).status.code(), Some(2));
    let o = match_into(&input, &some, &["--tables", "pushes,errors"]);
    assert_eq!(
        o.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(
        entries(&some),
        ["errors.csv", "pushes.csv", "rejects.csv", "summary.json"]
    );
    for file in ["errors.csv", "pushes.csv", "rejects.csv"] {
        assert_eq!(read(&some.join(file)), read(&all.join(file)), "{file}");
    }
    // Only what the tables written need is spooled; the summary still counts it all.
    let counts = |dir: &Path| {
        let mut s = summary(dir);
        s["timings_ms"] = serde_json::Value::Null;
        s
    };
    assert_eq!(
        counts(&all),
        counts(&some),
        "the summary counts every table"
    );
    let other = tmp.path().join("other");
    match_into(
        &input,
        &other,
        &["--tables", "grants,near_misses,undetermined"],
    );
    for file in ["grants.csv", "near_misses.csv", "undetermined.csv"] {
        assert_eq!(read(&other.join(file)), read(&all.join(file)), "{file}");
    }
    assert_eq!(counts(&all), counts(&other));

    // The push list as ids alone: the id columns of `pushes`, row for row.
    let ids = tmp.path().join("ids");
    assert_eq!(
        match_into(&input, &ids, &["--tables", "push_ids"])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        entries(&ids),
        ["push_ids.csv", "rejects.csv", "summary.json"]
    );
    assert_eq!(counts(&all), counts(&ids));
    let column = |path: &Path, names: [&str; 2]| -> Vec<(String, String)> {
        let mut r = csv::Reader::from_path(path).unwrap();
        let header = r.headers().unwrap().clone();
        let at = names.map(|n| header.iter().position(|h| h == n).unwrap());
        r.records()
            .map(|rec| {
                let rec = rec.unwrap();
                (rec[at[0]].to_owned(), rec[at[1]].to_owned())
            })
            .collect()
    };
    let want = column(&all.join("pushes.csv"), ["enterprise_id", "measure_id"]);
    assert!(want.len() > 1000);
    assert_eq!(
        column(&ids.join("push_ids.csv"), ["enterprise_id", "measure_id"]),
        want
    );

    let o = match_into(&input, &tmp.path().join("bad"), &["--tables", "push"]);
    assert_eq!(o.status.code(), Some(1));
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(e.contains("did you mean `pushes`?"), "{e}");
}

/// 精准推送: only measures that give an enterprise something (benefit, service) are pushed;
/// each `notice` measure in effect is written once to `notices` with its audience and
/// the number of enterprises in it; `internal` work reaches neither.
#[test]
fn only_benefits_and_services_are_pushed_and_each_notice_is_listed_once() {
    use policy_match::rules::ir::Nature;
    let tmp = tempfile::tempdir().unwrap();
    let input = generate(tmp.path(), "pop.jsonl", 800, 0.0);
    let out = tmp.path().join("out");
    assert_eq!(match_into(&input, &out, &[]).status.code(), Some(0));
    let catalog = policy_match::Catalog::builtin().expect("built-in catalog");
    let nature = |id: &str| catalog.measure(id).expect("a catalog measure").nature;

    let mut pushes = csv::Reader::from_path(out.join("pushes.csv")).unwrap();
    let mut pushed = BTreeSet::new();
    for row in pushes.records() {
        let id = row.unwrap()[2].to_owned();
        assert!(
            nature(&id).pushed(),
            "{id} is pushed but is {:?}",
            nature(&id)
        );
        pushed.insert(id);
    }
    assert!(pushed.len() > 20, "{} measures pushed", pushed.len());

    let summary: serde_json::Value =
        serde_json::from_str(&read(&out.join("summary.json"))).unwrap();
    let mut notices = csv::Reader::from_path(out.join("notices.csv")).unwrap();
    let mut listed = Vec::new();
    for row in notices.records() {
        let row = row.unwrap();
        let id = row[0].to_owned();
        assert_eq!(nature(&id), Nature::Notice, "{id}");
        assert!(!row[2].is_empty(), "{id}: an audience in words");
        let eligible = summary["by_measure"][&id]["eligible"].as_u64().unwrap();
        assert_eq!(row[6].parse::<u64>().unwrap(), eligible, "{id}: in scope");
        listed.push(id);
    }
    let as_of = jiff::civil::date(2025, 6, 30);
    let want: Vec<String> = catalog
        .measures()
        .filter(|m| m.nature == Nature::Notice && m.in_effect(as_of))
        .map(|m| m.id.clone())
        .collect();
    assert_eq!(
        listed, want,
        "every notice measure in effect, once, in id order"
    );
    assert_eq!(summary["notices"].as_u64(), Some(want.len() as u64));
}

/// 精准推送 caps what an enterprise receives: its best ranked pushes, at most
/// `--max-pushes` (10 by default), each with its rank; the rest stay in `eligible`, the
/// list before the cap, and the summary counts what the cap held back.
#[test]
fn each_enterprise_gets_its_best_ranked_pushes_up_to_the_cap() {
    use std::collections::BTreeMap;
    let tmp = tempfile::tempdir().unwrap();
    let input = generate(tmp.path(), "pop.jsonl", 500, 0.0);
    let pairs = |path: &Path, with_rank: bool| -> BTreeMap<(String, String), u32> {
        let mut r = csv::Reader::from_path(path).unwrap();
        let headers = r.headers().unwrap().clone();
        let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
        let (e, m) = (col("enterprise_id"), col("measure_id"));
        let rank = with_rank.then(|| col("rank"));
        r.records()
            .map(|row| {
                let row = row.unwrap();
                let k = rank.map_or(0, |c| row[c].parse().unwrap());
                ((row[e].to_owned(), row[m].to_owned()), k)
            })
            .collect()
    };
    for (extra, cap) in [(vec![], 10), (vec!["--max-pushes", "3"], 3)] {
        let out = tmp.path().join(format!("out-{cap}"));
        let mut args = vec!["--tables", "pushes,eligible"];
        args.extend(extra);
        assert_eq!(match_into(&input, &out, &args).status.code(), Some(0));
        let pushes = pairs(&out.join("pushes.csv"), true);
        let eligible = pairs(&out.join("eligible.csv"), false);
        let mut ranks: BTreeMap<&str, Vec<u32>> = BTreeMap::new();
        for ((e, m), rank) in &pushes {
            assert!(eligible.contains_key(&(e.clone(), m.clone())), "{e} {m}");
            ranks.entry(e).or_default().push(*rank);
        }
        let mut capped = 0;
        for (e, mut r) in ranks {
            r.sort_unstable();
            assert_eq!(
                r,
                (1..=r.len() as u32).collect::<Vec<_>>(),
                "{e}: ranks 1..n"
            );
            assert!(r.len() <= cap, "{e}: {} pushes", r.len());
            let all = eligible.keys().filter(|(x, _)| x == e).count();
            assert_eq!(
                r.len(),
                all.min(cap),
                "{e}: the cap keeps min(eligible, cap)"
            );
            capped += usize::from(all > cap);
        }
        assert!(
            capped > 0,
            "some enterprise has more than {cap} eligible pushes"
        );
        let summary: serde_json::Value =
            serde_json::from_str(&read(&out.join("summary.json"))).unwrap();
        assert_eq!(summary["pushes"].as_u64(), Some(pushes.len() as u64));
        assert_eq!(
            summary["pushes_held_back"].as_u64(),
            Some((eligible.len() - pushes.len()) as u64)
        );
        assert_eq!(
            summary["pushes_per_enterprise"]["max"].as_u64(),
            Some(cap as u64)
        );
    }
    let o = match_into(&input, &tmp.path().join("none"), &["--max-pushes", "0"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("must be at least 1"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// The digest is the one message a platform sends: a row per enterprise with pushes or
/// grants, its pushes in rank order with their titles, its grants and their total.
#[test]
fn the_digest_has_one_row_per_enterprise_with_its_pushes_in_rank_order() {
    use std::collections::BTreeMap;
    let tmp = tempfile::tempdir().unwrap();
    let input = generate(tmp.path(), "pop.jsonl", 400, 0.0);
    let out = tmp.path().join("out");
    assert_eq!(match_into(&input, &out, &[]).status.code(), Some(0));
    let mut ranked: BTreeMap<String, Vec<(u32, String)>> = BTreeMap::new();
    let mut pushes = csv::Reader::from_path(out.join("pushes.csv")).unwrap();
    for row in pushes.records() {
        let row = row.unwrap();
        let rank: u32 = row[10].parse().unwrap();
        ranked
            .entry(row[0].to_owned())
            .or_default()
            // A push whose amount is pending says so in the digest.
            .push((
                rank,
                format!(
                    "{} {}{}",
                    &row[2],
                    &row[3],
                    if row[14].is_empty() {
                        ""
                    } else {
                        "（金额待核定）"
                    }
                ),
            ));
    }
    let mut grants: BTreeMap<String, usize> = BTreeMap::new();
    let mut g = csv::Reader::from_path(out.join("grants.csv")).unwrap();
    for row in g.records() {
        *grants.entry(row.unwrap()[0].to_owned()).or_default() += 1;
    }
    let mut digest = csv::Reader::from_path(out.join("digest.csv")).unwrap();
    let mut seen = Vec::new();
    for row in digest.records() {
        let row = row.unwrap();
        let id = row[0].to_owned();
        let mut want = ranked.remove(&id).unwrap_or_default();
        want.sort();
        let list: Vec<String> = want.into_iter().map(|(_, text)| text).collect();
        assert_eq!(row[2].parse::<usize>().unwrap(), list.len(), "{id}");
        assert_eq!(&row[3], list.join(" | "), "{id}: pushes in rank order");
        assert_eq!(
            row[4].parse::<usize>().unwrap(),
            grants.remove(&id).unwrap_or(0),
            "{id}"
        );
        assert!(
            row[2] != *"0" || row[4] != *"0" || !row[6].is_empty(),
            "{id}: a row with nothing to say"
        );
        seen.push(id);
    }
    assert!(
        ranked.is_empty() && grants.is_empty(),
        "every enterprise with pushes or grants"
    );
    assert!(
        seen.windows(2).all(|w| w[0] < w[1]),
        "one row per enterprise, in id order"
    );
}

/// Unlocks: an enterprise's near misses on pushed measures, grouped by the condition
/// that failed, at most `--max-unlocks` an enterprise, ranked by the measures each opens.
#[test]
fn unlocks_group_near_misses_by_condition_and_are_capped() {
    use std::collections::{BTreeMap, BTreeSet};
    let tmp = tempfile::tempdir().unwrap();
    let input = generate(tmp.path(), "pop.jsonl", 400, 0.0);
    let catalog = policy_match::Catalog::builtin().expect("built-in catalog");
    for (cap, extra) in [(3usize, vec![]), (1, vec!["--max-unlocks", "1"])] {
        let out = tmp.path().join(format!("out-{cap}"));
        let mut args = vec!["--tables", "unlocks,near_misses"];
        args.extend(extra);
        assert_eq!(match_into(&input, &out, &args).status.code(), Some(0));
        // (enterprise, measure) → the label of its one failed condition.
        let mut near: BTreeMap<(String, String), String> = BTreeMap::new();
        let mut r = csv::Reader::from_path(out.join("near_misses.csv")).unwrap();
        for row in r.records() {
            let row = row.unwrap();
            near.insert((row[0].to_owned(), row[1].to_owned()), row[2].to_owned());
        }
        let mut per: BTreeMap<String, Vec<(u32, usize)>> = BTreeMap::new();
        let mut conversions = 0;
        let mut r = csv::Reader::from_path(out.join("unlocks.csv")).unwrap();
        for row in r.records() {
            let row = row.unwrap();
            let ids: BTreeSet<&str> = row[3].split(',').collect();
            assert_eq!(ids.len(), row[2].parse::<usize>().unwrap());
            // 个转企 opens measures an individual business fails on `kind:enterprise`
            // alone, which is identity and so never a near miss.
            let conversion = &row[1] == policy_match::names::CONVERSION_UNLOCK;
            if conversion {
                conversions += 1;
                assert!(
                    row[0].starts_with("92"),
                    "{}: an individual business",
                    &row[0]
                );
            }
            for id in &ids {
                assert!(catalog.measure(id).unwrap().pushed(), "{id} is pushed");
                assert_eq!(
                    near.contains_key(&(row[0].to_owned(), (*id).to_owned())),
                    !conversion,
                    "{}: {id} is a near miss unless opened by 个转企",
                    &row[0]
                );
            }
            per.entry(row[0].to_owned())
                .or_default()
                .push((row[4].parse().unwrap(), ids.len()));
        }
        assert!(!per.is_empty());
        assert!(
            conversions > 0,
            "individual businesses are told about 个转企"
        );
        for (e, mut u) in per {
            assert!(u.len() <= cap, "{e}: {} unlocks", u.len());
            u.sort_unstable();
            assert!(u.windows(2).all(|w| w[0].1 >= w[1].1), "{e}: best first");
        }
    }
}

/// 新越纺织科技 meets every condition of M008 (a 示范性 provincial major project) but has no
/// `project_land_quota_mu`: it is pushed M008 with the amount pending and the field named,
/// counted apart, never granted, and not undetermined.
#[test]
fn a_pair_whose_amount_waits_on_a_field_is_pushed_pending_and_never_granted() {
    let tmp = tempfile::tempdir().unwrap();
    let input = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/enterprises.jsonl");
    let out = tmp.path().join("out");
    let o = match_into(
        &input,
        &out,
        &["--tables", "pushes,grants,undetermined,eligible,digest"],
    );
    assert!(
        o.status.code().is_some_and(|c| c == 0 || c == 2),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    const XINYUE: &str = "91330603MA2J4UE39W";
    let mut r = csv::Reader::from_path(out.join("pushes.csv")).unwrap();
    let headers = r.headers().unwrap().clone();
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let rows: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
    let m008 = rows
        .iter()
        .find(|row| &row[col("enterprise_id")] == XINYUE && &row[col("measure_id")] == "M008")
        .expect("M008 is pushed to 新越");
    assert_eq!(&m008[col("amount_pending")], "project_land_quota_mu");
    assert_eq!(&m008[col("amount")], "");
    assert_eq!(&m008[col("amount_kind")], "quota");
    assert_eq!(&m008[col("unit")], "mu");
    // 锦虹印染, with its quota, is pushed M008 with the amount.
    let known = rows
        .iter()
        .find(|row| {
            &row[col("enterprise_id")] == "91330603MA2BK7R415" && &row[col("measure_id")] == "M008"
        })
        .expect("M008 is pushed to 锦虹");
    assert_eq!(&known[col("amount")], "48");
    assert_eq!(&known[col("amount_pending")], "");
    assert!(
        !read(&out.join("grants.csv")).contains(",M008,"),
        "never granted"
    );
    assert!(
        !read(&out.join("undetermined.csv")).contains(&format!("{XINYUE},M008,")),
        "not undetermined"
    );
    assert!(read(&out.join("eligible.csv")).contains(&format!("{XINYUE},M008\n")));
    let digest = read(&out.join("digest.csv"));
    let row = digest
        .lines()
        .find(|l| l.starts_with(XINYUE))
        .expect("新越 has a digest row");
    assert!(
        row.contains("M008 加大重大产业项目用地保障力度（金额待核定）"),
        "{row}"
    );
    let s = summary(&out);
    assert_eq!(s["amount_pending"], 1);
    assert_eq!(s["by_measure"]["M008"]["amount_pending"], 1);
    assert_eq!(s["outcomes"]["amount_pending"], 1);
}

/// With `--previous` of a run that wrote `eligible`, newly eligible pushes rank first
/// among equals; the previous list equal to tonight's changes no rank.
#[test]
fn newly_eligible_is_read_from_the_previous_eligible_list() {
    let tmp = tempfile::tempdir().unwrap();
    let input = generate(tmp.path(), "pop.jsonl", 300, 0.0);
    let first = tmp.path().join("first");
    assert_eq!(
        match_into(&input, &first, &["--tables", "pushes,eligible"])
            .status
            .code(),
        Some(0)
    );
    assert_eq!(summary(&first)["newly_eligible_ranked"], false);
    let second = tmp.path().join("second");
    let o = match_into(
        &input,
        &second,
        &["--tables", "pushes,eligible", "--previous", p(&first)],
    );
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(summary(&second)["newly_eligible_ranked"], true);
    assert_eq!(
        read(&first.join("pushes.csv")),
        read(&second.join("pushes.csv"))
    );
    // Without its eligible list, the previous run cannot say what is new.
    std::fs::remove_file(first.join("eligible.csv")).unwrap();
    let third = tmp.path().join("third");
    assert_eq!(
        match_into(&input, &third, &["--previous", p(&first)])
            .status
            .code(),
        Some(0)
    );
    assert_eq!(summary(&third)["newly_eligible_ranked"], false);
}

/// Parquet tables are gathered as dictionaries (texts keyed by measure, by enterprise, by
/// push list) and written through polars' encoder directly: read back, every table holds
/// the CSV table's rows, in order, across row groups (over 131 072 push rows here).
#[test]
fn parquet_tables_read_back_as_the_csv_tables() {
    let tmp = tempfile::tempdir().unwrap();
    let input = generate(tmp.path(), "pop.parquet", 14_000, 0.01);
    let every =
        "pushes,digest,unlocks,notices,grants,near_misses,undetermined,errors,eligible,push_ids";
    let mut texts: Vec<Vec<(String, Vec<Vec<String>>)>> = Vec::new();
    for format in ["csv", "parquet"] {
        let out = tmp.path().join(format!("out-{format}"));
        let o = match_into(&input, &out, &["--format", format, "--tables", every]);
        assert_eq!(
            o.status.code(),
            Some(2),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
        let mut tables = Vec::new();
        for name in every.split(',').chain(["rejects"]) {
            let path = out.join(format!("{name}.{format}"));
            let columns = policy_match_batch::tabular::column_names(&path).unwrap();
            let columns: Vec<&str> = columns.iter().map(String::as_str).collect();
            let mut rows = Vec::new();
            policy_match_batch::tabular::visit_rows(&path, &columns, &mut |row| {
                rows.push(
                    row.iter()
                        .map(|v| match v {
                            policy_match_batch::tabular::Value::Number(n) => n.to_string(),
                            v => v.text().to_owned(),
                        })
                        .collect(),
                );
            })
            .unwrap();
            tables.push((name.to_owned(), rows));
        }
        texts.push(tables);
    }
    let rows = |name: &str| texts[0].iter().find(|(n, _)| n == name).unwrap().1.len();
    assert!(rows("pushes") > 131_072, "{} push rows", rows("pushes"));
    assert!(rows("rejects") > 0 && rows("undetermined") > 0 && rows("digest") > 0);
    for ((name, csv), (_, parquet)) in texts[0].iter().zip(&texts[1]) {
        assert_eq!(csv.len(), parquet.len(), "{name}: rows");
        for (i, (a, b)) in csv.iter().zip(parquet).enumerate() {
            assert_eq!(a, b, "{name}, row {}", i + 1);
        }
    }
}
