//! The rule examples written beside each measure, run by `cargo test` as by
//! `policy-match test`; the catalog's hot swap; and errors that are never granted.

use std::path::Path;

use jiff::civil::date;
use policy_match::Catalog;
use policy_match::Outcome;
use policy_match::Profile;
use policy_match::RawValue;
use policy_match::SharedCatalog;
use policy_match::Sources;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn every_rule_example_passes_with_full_condition_coverage() {
    let catalog = Catalog::builtin().expect("built-in catalog");
    let report = policy_match::report::ruletest::run(&catalog, date(2025, 6, 30));
    assert!(
        report.examples >= 3 * catalog.measures.len() - 2,
        "only {} examples",
        report.examples
    );
    assert!(report.failures.is_empty(), "{:#?}", report.failures);
    assert!(
        report.uncovered.is_empty(),
        "conditions not seen both ways: {:#?}",
        report.uncovered
    );
    for cm in &catalog.measures {
        let m = &cm.measure;
        let has = |e: policy_match::rules::ir::Expect| m.examples.iter().any(|x| x.expect == e);
        assert!(
            has(policy_match::rules::ir::Expect::Eligible),
            "{}: no eligible example",
            m.id
        );
        assert!(
            has(policy_match::rules::ir::Expect::NotEligible),
            "{}: no not_eligible example",
            m.id
        );
        let reads_fields = cm
            .conditions
            .iter()
            .any(|c| matches!(c.kind, policy_match::compile::CondKind::When(_)));
        assert!(
            !reads_fields || has(policy_match::rules::ir::Expect::Undetermined),
            "{}: no undetermined example",
            m.id
        );
    }
}

/// A copy of the built-in rules with one measure file replaced.
fn sources_with(file: &str, text: &str) -> Sources {
    let mut s = Sources::builtin();
    s.files.insert(file.to_owned(), text.into());
    s
}

const EXTRA: &str = r#"
id = "M900"
article = 4
article_title = "强化用能保障"
text = "测试"
implementation = ["local"]
basic_services = ""
value_added_services = ""
channels = ""
window = "投资审批服务"
lead_departments = ["区发改局"]
delivery = ["push", "auto_grant"]
nature = "benefit"

[eligibility]
all = [{ tag = "kind:enterprise", label = "企业" }]
when = [{ expr = "revenue_10k_yuan / employees > 10.0", label = "人均营收超过10万元" }]

[benefit]
kind = "cash"
expr = "revenue_10k_yuan * 10.0"
label = "测试补助"
cap = 5000.0
"#;

fn profile(c: &Catalog, employees: i64) -> Profile {
    Profile::build(
        &c.schema,
        "91330603MA2D3LX08L".into(),
        "测试".into(),
        vec!["kind:enterprise".into()],
        [
            ("revenue_10k_yuan".to_owned(), RawValue::Number(1000.0)),
            ("employees".to_owned(), RawValue::Integer(employees)),
        ],
    )
    .expect("fits the schema")
}

#[test]
fn a_runtime_error_is_an_error_outcome_and_never_granted() {
    let c = Catalog::from_sources(&sources_with("measures/M900.toml", EXTRA)).expect("valid");
    let i = c
        .measures
        .iter()
        .position(|m| m.measure.id == "M900")
        .unwrap();
    let ok = &c.recommend(&profile(&c, 20), date(2025, 1, 1)).results;
    let r = ok.iter().find(|r| r.index == i).unwrap();
    assert_eq!(
        (r.outcome, r.amount),
        (Outcome::Eligible, Some(5000.0)),
        "capped at 5000"
    );
    // Zero employees: division by zero inside the clause.
    let bad = &c.recommend(&profile(&c, 0), date(2025, 1, 1)).results;
    let r = bad.iter().find(|r| r.index == i).unwrap();
    assert_eq!(r.outcome, Outcome::Error);
    assert_eq!(r.amount, None);
    assert!(
        r.error
            .as_deref()
            .is_some_and(|e| e.contains("division by zero")),
        "{:?}",
        r.error
    );
    // Every other measure of that enterprise is still decided.
    assert!(
        bad.iter()
            .filter(|r| r.index != i)
            .all(|r| r.outcome != Outcome::Error)
    );
}

#[test]
fn a_failed_reload_keeps_the_old_catalog_serving() {
    let shared = SharedCatalog::new(Catalog::builtin().expect("built-in"));
    let before = shared.current().hash.clone();
    let broken = EXTRA.replace("kind:enterprise", "kind:enterprize");
    let err = shared
        .reload(&sources_with("measures/M900.toml", &broken))
        .expect_err("rejected");
    assert!(err.to_string().contains("invalid"), "{err}");
    assert_eq!(shared.current().hash, before);

    let next = shared
        .reload(&sources_with("measures/M900.toml", EXTRA))
        .expect("accepted");
    assert_ne!(next.hash, before);
    assert_eq!(shared.current().hash, next.hash);
    assert!(shared.current().measure("M900").is_some());
}

#[test]
fn reloading_from_a_directory_reads_what_is_on_disk() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("measures")).unwrap();
    for file in ["schema.toml", "centre.toml"] {
        std::fs::copy(root().join("rules").join(file), dir.path().join(file)).unwrap();
    }
    std::fs::write(dir.path().join("measures/M900.toml"), EXTRA).unwrap();
    let shared = SharedCatalog::new(Catalog::builtin().unwrap());
    let c = shared.reload_dir(dir.path()).expect("valid directory");
    assert_eq!(c.measures.len(), 1);
    std::fs::write(dir.path().join("measures/M900.toml"), "id = ").unwrap();
    assert!(shared.reload_dir(dir.path()).is_err());
    assert_eq!(
        shared.current().hash,
        c.hash,
        "the last good catalog still serves"
    );
}

/// Every measure says what it gives an enterprise; a file without its nature, or with a
/// misspelt one, is a located diagnostic with a help line.
/// M900 given as `text` is refused with exactly one error, of `code`, located, its
/// message and help containing `message` and `help`.
fn refused_once(text: &str, code: policy_match::diag::Code, message: &str, help: &str) {
    let err =
        Catalog::from_sources(&sources_with("measures/M900.toml", text)).expect_err("refused");
    let policy_match::LoadError::Invalid(diags) = err else {
        panic!("{err}");
    };
    let errors: Vec<_> = diags.iter().filter(|d| d.is_error()).collect();
    assert_eq!(errors.len(), 1, "{errors:#?}");
    let d = errors[0];
    assert_eq!(d.code, code);
    assert_eq!(d.measure.as_deref(), Some("M900"));
    assert!(d.line.is_some(), "located: {d}");
    assert!(d.message.contains(message), "{d}");
    assert!(d.help.as_deref().is_some_and(|h| h.contains(help)), "{d}");
}

#[test]
fn a_measure_without_its_nature_or_with_a_misspelt_one_is_refused() {
    use policy_match::diag::Code;
    let misspelt = EXTRA.replace("nature = \"benefit\"", "nature = \"benfit\"");
    let missing = EXTRA.replace("nature = \"benefit\"\n", "");
    for (text, message, help) in [
        (
            misspelt.as_str(),
            "unknown nature `benfit`",
            "did you mean `benefit`?",
        ),
        (missing.as_str(), "`nature` is missing", "`internal`"),
    ] {
        refused_once(text, Code::BadNature, message, help);
    }
}

/// A benefit says what kind of amount it is (cash, a tax deduction, a fee waiver, a
/// quota), in a unit that kind can be counted in: a misspelling, a missing kind and a
/// quota in yuan are each one located error.
#[test]
fn a_benefit_without_its_amount_kind_or_with_a_wrong_one_is_refused() {
    use policy_match::diag::Code;
    let misspelt = EXTRA.replace("kind = \"cash\"", "kind = \"cahs\"");
    let missing = EXTRA.replace("kind = \"cash\"\n", "");
    let quota_in_yuan = EXTRA.replace("kind = \"cash\"", "kind = \"quota\"");
    for (text, message, help) in [
        (
            misspelt.as_str(),
            "unknown amount kind `cahs`",
            "did you mean `cash`?",
        ),
        (
            missing.as_str(),
            "the benefit has no `kind`",
            "`tax_deduction`",
        ),
        (
            quota_in_yuan.as_str(),
            "an amount of kind `quota` cannot be counted in `yuan`",
            "`mu` or `plot_ratio`",
        ),
    ] {
        refused_once(text, Code::BadAmountKind, message, help);
    }
}

/// A near miss is something an enterprise could change: a failed condition on what it
/// is (kind, ownership, industry, business model, region: identity namespaces of the schema) never is.
#[test]
fn no_near_miss_names_an_identity_condition() {
    use policy_match::rules::ir::Test;
    let catalog = Catalog::builtin().expect("built-in catalog");
    let opts = policy_match::synth::GenOptions {
        count: 600,
        seed: 11,
        bad_rows: 0.0,
    };
    let profiles: Vec<Profile> = (0..opts.count)
        .filter_map(|i| {
            policy_match::synth::record(&catalog.schema, &opts, i)
                .into_profile(&catalog.schema)
                .ok()
        })
        .collect();
    let identity = |t: &str| catalog.schema().is_identity(t);
    let schema = catalog.schema();
    let (mut near, mut individual) = (0, 0);
    for rows in catalog.evaluate_batch(&profiles, date(2026, 11, 26)) {
        for r in rows {
            let Some(i) = r.near_miss else { continue };
            let m = catalog.measure(r.measure.as_str()).expect("its measure");
            let (_, c) = m.conditions().nth(i).expect("the condition");
            let only_identity = match &c.test {
                Test::Has(t) | Test::Lacks(t) => identity(t),
                Test::Any(ts) => ts.iter().all(|t| identity(t)),
                // A clause over the founding date alone (刚入市) is what the enterprise is.
                Test::When(e) => {
                    !e.fields.is_empty()
                        && e.fields.iter().all(|f| schema.is_identity_field(f))
                        && e.tags.iter().all(|t| identity(t))
                }
            };
            assert!(
                !only_identity,
                "{}: near miss on identity 「{}」",
                r.measure, c.label
            );
            near += 1;
            individual += usize::from(c.label == "企业");
        }
    }
    assert!(near > 1000, "near misses on what can change remain: {near}");
    assert_eq!(individual, 0);
}

// ------------------------------------------------------------------ warnings

/// The warnings `M900` gets when `text` replaces it in the built-in catalog, which loads.
fn m900_warnings(text: &str) -> Vec<policy_match::diag::Diagnostic> {
    let c = Catalog::from_sources(&sources_with("measures/M900.toml", text)).expect("loads");
    assert!(c.measure("M900").is_some());
    c.warnings()
        .iter()
        .filter(|d| d.measure.as_deref() == Some("M900"))
        .cloned()
        .collect()
}

/// `EXTRA` as a `service` pushed to every enterprise: no `when` clause, no benefit.
fn every_enterprise() -> String {
    EXTRA
        .replace("nature = \"benefit\"", "nature = \"service\"")
        .replace("delivery = [\"push\", \"auto_grant\"]", "delivery = [\"push\"]")
        .replace(
            "when = [{ expr = \"revenue_10k_yuan / employees > 10.0\", label = \"人均营收超过10万元\" }]\n",
            "any = [{ tags = [\"ownership:private\", \"ownership:foreign\"], label = \"民营\" }]\n",
        )
        .replace(
            "[benefit]\nkind = \"cash\"\nexpr = \"revenue_10k_yuan * 10.0\"\nlabel = \"测试补助\"\ncap = 5000.0\n",
            "",
        )
}

#[test]
fn a_measure_with_nothing_to_look_at_twice_has_no_warning() {
    assert!(m900_warnings(EXTRA).is_empty());
}

#[test]
fn a_pushed_measure_testing_only_identity_is_a_warning() {
    use policy_match::diag::{Code, Severity};
    let text = every_enterprise();
    let warnings = m900_warnings(&text);
    assert_eq!(warnings.len(), 1, "{warnings:#?}");
    let w = &warnings[0];
    assert_eq!(
        (w.code, w.severity),
        (Code::IdentityOnly, Severity::Warning)
    );
    assert!(!w.is_error());
    assert_eq!(
        w.message,
        "`M900` is a `service` measure whose conditions test only identity (`kind:enterprise`, \
         `ownership:private`, `ownership:foreign`): every such enterprise is pushed it"
    );
    assert!(
        w.help.as_deref().is_some_and(|h| h.contains("[allow]")),
        "{w}"
    );
    assert_eq!(w.file, "measures/M900.toml");
    assert_eq!(
        (w.line, w.column),
        (Some(15), Some(1)),
        "at `[eligibility]`: {w}"
    );
    assert_eq!(
        policy_match::diag::Code::IdentityOnly.as_str(),
        "lint::identity_only"
    );

    // A notice goes to its audience once: not pushed, no warning.
    let notice = text.replace("nature = \"service\"", "nature = \"notice\"");
    assert!(m900_warnings(&notice).is_empty());
    // One condition on what the enterprise does is enough, in an alternative too.
    let narrower = format!(
        "{text}\n[[eligibility.alternative]]\nlabel = \"有研发投入\"\n\
         when = [{{ expr = \"rd_expense_ratio > 0.0\", label = \"有研发投入\" }}]\n"
    );
    assert!(m900_warnings(&narrower).is_empty());
    // So is a condition on a tag outside the identity namespaces.
    let certified = text.replace(
        "label = \"民营\" }]\n",
        "label = \"民营\" }]\nnone = [{ tag = \"credit:dishonest\", label = \"无严重失信记录\" }]\n",
    );
    assert!(m900_warnings(&certified).is_empty());
}

#[test]
fn an_auto_grant_without_a_benefit_is_a_warning() {
    use policy_match::diag::Code;
    let text = EXTRA.replace(
        "[benefit]\nkind = \"cash\"\nexpr = \"revenue_10k_yuan * 10.0\"\nlabel = \"测试补助\"\ncap = 5000.0\n",
        "",
    );
    let warnings = m900_warnings(&text);
    assert_eq!(warnings.len(), 1, "{warnings:#?}");
    let w = &warnings[0];
    assert_eq!(w.code, Code::AutoGrantWithoutAmount);
    assert!(
        w.message.starts_with(
            "`M900` is granted without application (`auto_grant`) but has no `[benefit]`"
        ),
        "{w}"
    );
    assert_eq!(w.line, Some(12), "at `delivery`: {w}");
    // Pushed only: the officer decides the amount on application.
    let pushed = text.replace(
        "delivery = [\"push\", \"auto_grant\"]",
        "delivery = [\"push\"]",
    );
    assert!(m900_warnings(&pushed).is_empty());
}

#[test]
fn an_allowed_warning_is_not_reported() {
    let text = every_enterprise();
    let allowed = format!("{text}\n[allow]\nidentity_only = \"事项一：面向全体市场主体\"\n");
    assert!(m900_warnings(&allowed).is_empty());
    // Allowing one lint leaves the other.
    let both = text.replace(
        "delivery = [\"push\"]",
        "delivery = [\"push\", \"auto_grant\"]",
    );
    let codes =
        |t: &str| -> Vec<&str> { m900_warnings(t).iter().map(|d| d.code.as_str()).collect() };
    // In the order of the file: `delivery`, then `[eligibility]`.
    assert_eq!(
        codes(&both),
        ["lint::auto_grant_without_amount", "lint::identity_only"]
    );
    let one = format!("{both}\n[allow]\nauto_grant_without_amount = \"按文件固定金额拨付\"\n");
    assert_eq!(codes(&one), ["lint::identity_only"]);
}

#[test]
fn an_unknown_allow_key_or_an_empty_reason_is_an_error() {
    use policy_match::diag::Code;
    let text = every_enterprise();
    for (allow, message, help) in [
        (
            "identity_onyl = \"面向全体\"",
            "`[allow]` names no lint `identity_onyl`",
            "did you mean `identity_only`?",
        ),
        (
            "everything = \"面向全体\"",
            "`[allow]` names no lint `everything`",
            "`identity_only`, `auto_grant_without_amount`",
        ),
        (
            "identity_only = \"  \"",
            "`[allow]` gives `identity_only` no reason",
            "quoting the seed",
        ),
    ] {
        let file = format!("{text}\n[allow]\n{allow}\n");
        let err =
            Catalog::from_sources(&sources_with("measures/M900.toml", &file)).expect_err("refused");
        // It counts the errors, not the warnings beside them.
        assert_eq!(err.to_string(), "the catalog is invalid: 1 error(s)");
        let policy_match::LoadError::Invalid(diags) = err else {
            panic!("{err}");
        };
        let errors: Vec<_> = diags.iter().filter(|d| d.is_error()).collect();
        assert_eq!(errors.len(), 1, "{errors:#?}");
        let d = errors[0];
        assert_eq!(d.code, Code::BadAllow);
        assert_eq!(d.measure.as_deref(), Some("M900"));
        assert!(d.line.is_some(), "located: {d}");
        assert_eq!(d.message, message);
        assert!(d.help.as_deref().is_some_and(|h| h.contains(help)), "{d}");
    }
}

/// Every built-in measure pushed to every enterprise of an identity says why, in an
/// `[allow]` quoting the seed: the built-in catalog has no warning, and taking one
/// acknowledgement away brings its warning back, naming the measure.
#[test]
fn the_builtin_catalog_acknowledges_every_warning_and_an_unacknowledged_one_is_reported() {
    use policy_match::diag::Code;
    let catalog = Catalog::builtin().expect("built-in catalog");
    assert!(catalog.warnings().is_empty(), "{:#?}", catalog.warnings());
    let sources = Sources::builtin();
    let text = sources.files["measures/M001.toml"].to_string();
    let start = text
        .find("[allow]")
        .expect("M001 acknowledges identity_only");
    let end = text[start..].find("\n\n").map_or(text.len(), |n| start + n);
    let bare = format!("{}{}", &text[..start], &text[end..]);
    let c = Catalog::from_sources(&sources_with("measures/M001.toml", &bare)).expect("valid");
    let warnings = c.warnings();
    assert_eq!(warnings.len(), 1, "{warnings:#?}");
    let w = &warnings[0];
    assert!(!w.is_error(), "{w}");
    assert_eq!(w.code, Code::IdentityOnly, "{w}");
    assert_eq!(w.measure.as_deref(), Some("M001"));
    assert!(c.measure("M001").expect("M001").nature.pushed());
}

/// The catalog review's ranking case: a small private dyeing firm whose energy intensity
/// (0.41) is below the green channel's 0.52 is pushed M017 ahead of measures any small
/// private firm gets (M029, M113); the anti-discrimination rule and the law's 宣贯 (M021,
/// M145) are notices, not pushes.
#[test]
fn a_dyeing_firm_below_the_energy_threshold_is_pushed_the_green_channel_first() {
    let c = Catalog::builtin().expect("built-in catalog");
    let p = Profile::build(
        &c.schema,
        "91330603MA2D3LX08L".into(),
        "测试印染".into(),
        [
            "kind:enterprise",
            "ownership:private",
            "size:small",
            "industry:C1713",
        ]
        .map(String::from)
        .to_vec(),
        [
            ("energy_intensity".to_owned(), RawValue::Number(0.41)),
            ("employees".to_owned(), RawValue::Integer(30)),
        ],
    )
    .expect("fits the schema");
    let rec = c.recommend(&p, date(2026, 11, 26));
    let digest = rec.digest(&c, 10, 3);
    let pushed: Vec<&str> = digest
        .pushes
        .iter()
        .map(|&i| rec.results[i].measure.as_str())
        .collect();
    let place = |id: &str| pushed.iter().position(|m| *m == id);
    let m017 = place("M017").expect("M017 is pushed");
    for broad in ["M029", "M113"] {
        assert!(place(broad).is_none_or(|p| p > m017), "{pushed:?}");
    }
    let noticed: Vec<&str> = digest
        .notices
        .iter()
        .map(|&i| rec.results[i].measure.as_str())
        .collect();
    for notice in ["M021", "M145"] {
        assert!(
            place(notice).is_none() && noticed.contains(&notice),
            "{noticed:?}"
        );
    }
}
