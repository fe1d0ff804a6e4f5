//! `report`: a finished run's folder as one HTML page, the same whatever format the run
//! wrote; a folder that is not a run, or a run of other rules, is refused by name.

use crate::support::cli::*;

#[test]
fn csv_and_parquet_runs_give_the_same_report_and_no_enterprise_is_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pop = generate(dir.path(), "pop.parquet", 400, 0.02);
    let mut pages = Vec::new();
    for format in ["csv", "parquet"] {
        let out = dir.path().join(format);
        let done = match_into(&pop, &out, &["--format", format]);
        assert_code(&done, 2);
        let html = dir.path().join(format!("{format}.html"));
        let done = run(&["report", p(&out), "--out", p(&html)]);
        assert_code(&done, 0);
        pages.push(read(&html));
    }
    // The input path is in the subtitle; the rest is the same page.
    let strip = |page: &str| page.replace("pop.parquet", "");
    assert_eq!(strip(&pages[0]), strip(&pages[1]));
    let page = &pages[0];
    assert!(
        page.contains("<h2>八、数据质量</h2>") && page.contains("duplicate id"),
        "rejects by reason"
    );
    // Aggregates only: no enterprise's id appears.
    let pushes = read(&dir.path().join("csv").join("pushes.csv"));
    let some_id = pushes
        .lines()
        .nth(1)
        .and_then(|l| l.split(',').next())
        .expect("a push");
    assert!(!page.contains(some_id));
    assert_no_partial(dir.path());
}

#[test]
fn a_folder_that_is_not_a_run_or_a_run_of_other_rules_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let html = dir.path().join("r.html");
    let done = run(&["report", p(dir.path()), "--out", p(&html)]);
    assert_eq!(done.status.code(), Some(1));
    let err = String::from_utf8_lossy(&done.stderr);
    assert!(err.contains("is not a finished `match` folder"), "{err}");
    // A run of other rules: its measure ids may name other measures.
    let pop = generate(dir.path(), "pop.parquet", 50, 0.0);
    let out = dir.path().join("run");
    assert_eq!(match_into(&pop, &out, &[]).status.code(), Some(0));
    let summary = read(&out.join("summary.json"));
    let hash = crate::support::cli::summary(&out)["catalog_hash"]
        .as_str()
        .expect("a hash")
        .to_owned();
    std::fs::write(
        out.join("summary.json"),
        summary.replace(&hash, "0000000000000000"),
    )
    .expect("written");
    let done = run(&["report", p(&out), "--out", p(&html)]);
    assert_eq!(done.status.code(), Some(1));
    let err = String::from_utf8_lossy(&done.stderr);
    assert!(
        err.contains("made with catalog `0000000000000000`"),
        "{err}"
    );
    assert!(!html.exists());
}

#[test]
fn match_report_writes_the_page_report_would_into_the_folder() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pop = generate(dir.path(), "pop.parquet", 200, 0.0);
    let out = dir.path().join("run");
    let done = match_into(&pop, &out, &["--report"]);
    assert_code(&done, 0);
    let html = dir.path().join("again.html");
    assert_eq!(
        run(&["report", p(&out), "--out", p(&html)]).status.code(),
        Some(0)
    );
    assert_eq!(read(&out.join("report.html")), read(&html));
    assert_no_partial(dir.path());
    assert!(
        !entries(&out).iter().any(|n| n.starts_with('.')),
        "{:?}",
        entries(&out)
    );
}

#[test]
fn grants_are_summed_by_size_and_industry_and_an_older_run_still_reports() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pop = generate(dir.path(), "pop.csv", 50, 0.0);
    let out = dir.path().join("run");
    assert_eq!(match_into(&pop, &out, &[]).status.code(), Some(0));
    let html = dir.path().join("r.html");
    for (header, row, label) in [
        (
            "enterprise_id,measure_id,amount_yuan,basis,size,industry",
            "91330603MA2BK7R415,M001,2500,x,small,C17",
            "C17",
        ),
        // Before grants named size and industry.
        (
            "enterprise_id,measure_id,amount_yuan,basis",
            "91330603MA2BK7R415,M001,2500,x",
            "未标注",
        ),
    ] {
        std::fs::write(out.join("grants.csv"), format!("{header}\n{row}\n")).expect("written");
        let done = run(&["report", p(&out), "--out", p(&html)]);
        assert_code(&done, 0);
        let page = read(&html);
        let at = page
            .find("id=\"chart-grants-industry\"")
            .expect("the chart");
        let chart = &page[at..at + page[at..].find("</figure>").expect("closed")];
        assert!(chart.contains(label) && chart.contains("<rect"), "{chart}");
        assert!(page.contains("2,500 元"));
    }
}

#[test]
fn a_hostile_enterprise_name_never_reaches_the_page() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pop = generate(dir.path(), "pop.jsonl", 60, 0.0);
    let hostile = "<script>alert(\"柯桥\")</script><img src=x onerror=alert(1)>";
    let lines: Vec<String> = read(&pop)
        .lines()
        .map(|line| {
            let mut v: serde_json::Value = serde_json::from_str(line).expect("a profile");
            v["name"] = hostile.into();
            v.to_string()
        })
        .collect();
    std::fs::write(&pop, lines.join("\n")).expect("written");
    let out = dir.path().join("run");
    let done = match_into(&pop, &out, &["--report"]);
    assert_code(&done, 0);
    // In CSV, the quotes doubled.
    assert!(
        read(&out.join("pushes.csv")).contains("<script>alert("),
        "the name went through"
    );
    let page = read(&out.join("report.html"));
    assert!(
        !page.contains("<script>alert") && !page.contains("<img"),
        "unescaped"
    );
    assert_eq!(
        page.matches("<script").count(),
        1,
        "the page's own script only"
    );
}

#[test]
fn pushes_per_measure_come_from_the_summary_or_for_an_older_run_from_the_table() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pop = generate(dir.path(), "pop.csv", 120, 0.0);
    let out = dir.path().join("run");
    assert_code(&match_into(&pop, &out, &[]), 0);
    let mut pages = Vec::new();
    for older in [false, true] {
        if older {
            // A summary from before `by_measure.*.pushed`.
            let mut s = summary(&out);
            for counts in s["by_measure"]
                .as_object_mut()
                .expect("by measure")
                .values_mut()
            {
                counts.as_object_mut().expect("counts").remove("pushed");
            }
            std::fs::write(out.join("summary.json"), s.to_string()).expect("written");
        }
        let html = dir.path().join(format!("{older}.html"));
        assert_code(&run(&["report", p(&out), "--out", p(&html)]), 0);
        pages.push(read(&html));
    }
    assert_eq!(pages[0], pages[1]);
    assert!(
        pages[0].contains("<td class=\"n\">120</td>"),
        "M001 pushed to all"
    );
}
