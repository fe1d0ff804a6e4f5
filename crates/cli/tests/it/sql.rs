//! The push-list query of `compile --emit sql`, checked without a database: it is
//! deterministic, covers exactly the measures in effect that are pushed, and is well
//! formed enough to hand to one (balanced parentheses, one statement, no `;`). Running it
//! in DuckDB and PostgreSQL against `match` is done by hand (see `benches/harness.py`).

use assert_cmd::Command;
use jiff::civil::{Date, date};
use policy_match::Catalog;
use policy_match::rules::ir::Measure;

fn catalog() -> Catalog {
    Catalog::builtin().expect("built-in catalog")
}

fn query(catalog: &Catalog, as_of: Date) -> String {
    let measures = catalog.measures.iter().map(|cm| &cm.measure);
    policy_match::sql::push_query(catalog, measures, as_of).expect("the catalog translates")
}

fn pushed(m: &Measure, as_of: Date) -> bool {
    m.in_effect(as_of) && m.pushed()
}

/// The query without its comments and string literals, for structural checks.
fn code_only(q: &str) -> String {
    let mut out = String::new();
    for line in q.lines() {
        let mut in_string = false;
        let mut chars = line.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '\'' => in_string = !in_string,
                '-' if !in_string && chars.peek() == Some(&'-') => break,
                _ if in_string => {}
                c => out.push(c),
            }
        }
        out.push('\n');
    }
    out
}

#[test]
fn the_query_is_deterministic_and_names_every_pushed_measure_in_effect() {
    let catalog = catalog();
    for as_of in [date(2025, 6, 30), date(2024, 3, 15), date(2023, 6, 30)] {
        let q = query(&catalog, as_of);
        assert_eq!(q, query(&catalog, as_of), "deterministic");
        assert_eq!(q, query(&Catalog::builtin().expect("catalog"), as_of));
        let mut n = 0;
        for cm in &catalog.measures {
            let m = &cm.measure;
            let named = q.contains(&format!("'{}'", m.id));
            assert_eq!(named, pushed(m, as_of), "{} as of {as_of}", m.id);
            n += usize::from(named);
        }
        assert!(n > 60, "{n} measures as of {as_of}");
        assert!(q.contains(&format!("for {n} measure(s) in effect")), "{q}");
        assert!(q.contains(&format!("DATE '{as_of}'")), "as_of is a literal");
    }
    // The effective windows of the catalog do leave measures out.
    let q = query(&catalog, date(2025, 6, 30));
    assert!(!q.contains("'M096'") && q.contains("'M073'"));
}

#[test]
fn the_query_is_one_well_formed_statement() {
    let q = query(&catalog(), date(2025, 6, 30));
    let code = code_only(&q);
    let mut depth = 0i64;
    for c in code.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            _ => {}
        }
        assert!(depth >= 0, "a `)` closes nothing");
    }
    assert_eq!(depth, 0, "unbalanced parentheses");
    assert!(!code.contains(';'), "one statement, no terminator");
    assert_eq!(code.matches("CASE").count(), code.matches("END").count());
    assert!(q.trim_end().ends_with("ORDER BY enterprise_id, measure_id"));
    // Every tag column is computed once and every field read is quoted.
    assert!(q.contains("bool_or(t.tag = 'kind:enterprise') AS \"kind:enterprise\""));
    assert!(q.contains("bool_or(starts_with(t.tag, 'industry:C')) AS \"industry:C\""));
    assert!(q.contains("profiles.\"energy_intensity\""));
}

#[test]
fn one_measure_or_none() {
    let catalog = catalog();
    let m017 = catalog.measure("M017").expect("M017");
    let q = policy_match::sql::push_query(&catalog, [m017], date(2025, 6, 30)).expect("sql");
    assert!(
        q.contains("THEN 'M017' END") && !q.contains("'M001'"),
        "{q}"
    );
    assert!(q.contains("\"energy_intensity\" IS NOT NULL"), "{q}");
    // A missing quota leaves M008's amount pending: still in the list, as `match`
    // pushes it (the harness checks the lists equal over a million enterprises).
    let m008 = catalog.measure("M008").expect("M008");
    let q = policy_match::sql::push_query(&catalog, [m008], date(2025, 6, 30)).expect("sql");
    assert!(
        q.contains("NOT (\"project_land_quota_mu\" IS NOT NULL) OR"),
        "{q}"
    );
    // Out of its window, a measure contributes nothing: an empty query of the same shape.
    let m096 = catalog.measure("M096").expect("M096");
    let q = policy_match::sql::push_query(&catalog, [m096], date(2025, 6, 30)).expect("sql");
    assert!(!q.contains("'M096'") && q.contains("WHERE FALSE"), "{q}");
}

#[test]
fn cli_prints_the_library_query_and_keeps_the_rhai_default() {
    let catalog = catalog();
    let out = Command::cargo_bin("policy-match")
        .expect("binary built")
        .args(["compile", "--emit", "sql", "--as-of", "2025-06-30"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0));
    let printed = String::from_utf8(out.stdout).expect("utf-8");
    assert_eq!(printed, format!("{}\n", query(&catalog, date(2025, 6, 30))));

    let out = Command::cargo_bin("policy-match")
        .expect("binary built")
        .args(["compile", "M017"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("// M017 "));

    for args in [
        &["compile"][..],
        &["compile", "M017", "--as-of", "2025-06-30"],
        &["compile", "--emit", "sql", "M999"],
    ] {
        let out = Command::cargo_bin("policy-match")
            .expect("binary built")
            .args(args)
            .output()
            .expect("runs");
        assert_eq!(out.status.code(), Some(1), "{args:?}");
    }
}
