//! The native engine decides exactly as rhai: over random typed expressions and random
//! profiles (extreme values included, so that overflow, division by zero and dates out of
//! range all occur), and over the full catalog on a generated population.

use std::sync::{Arc, LazyLock};

use jiff::civil::{Date, date};
use policy_match::Catalog;
use policy_match::EngineKind;
use policy_match::Profile;
use policy_match::RawValue;
use policy_match::Sources;
use policy_match::profile::record::RawRecord;
use policy_match::synth;
use policy_match::synth::GenOptions;
use proptest::prelude::*;

static BUILTIN: LazyLock<Catalog> = LazyLock::new(|| Catalog::builtin().expect("built-in catalog"));

const INT_FIELDS: &[&str] = &["employees", "above_designated_since", "little_giant_year"];
const FLOAT_FIELDS: &[&str] = &["revenue_10k_yuan", "energy_intensity", "rd_expense_ratio"];
const DATE_FIELDS: &[&str] = &["founded", "dishonest_published_on"];

/// A typed expression in the officer's language, as text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum T {
    Num,
    Date,
    Bool,
}

fn leaf(t: T) -> BoxedStrategy<String> {
    match t {
        T::Num => prop_oneof![
            prop::sample::select(INT_FIELDS).prop_map(str::to_owned),
            prop::sample::select(FLOAT_FIELDS).prop_map(str::to_owned),
            prop::sample::select(vec![
                "0",
                "1",
                "2",
                "3",
                "12",
                "500",
                "2024",
                "0.0",
                "0.52",
                "1.5",
                "1e300",
                "9223372036854775807",
            ])
            .prop_map(str::to_owned),
        ]
        .boxed(),
        T::Date => prop_oneof![
            prop::sample::select(DATE_FIELDS).prop_map(str::to_owned),
            Just("as_of".to_owned()),
            prop::sample::select(vec!["date(\"2024-02-29\")", "date(\"2021-01-31\")"])
                .prop_map(str::to_owned),
        ]
        .boxed(),
        T::Bool => prop_oneof![
            Just("investor_unchanged".to_owned()),
            Just("true".to_owned()),
            Just("has(\"cert:high_tech\")".to_owned()),
            Just("has(\"industry:C17\")".to_owned()),
        ]
        .boxed(),
    }
}

fn expr(t: T, depth: u32) -> BoxedStrategy<String> {
    if depth == 0 {
        return leaf(t);
    }
    let d = depth - 1;
    let num = move || expr(T::Num, d);
    let date_ = move || expr(T::Date, d);
    let boolean = move || expr(T::Bool, d);
    match t {
        T::Num => prop_oneof![
            leaf(T::Num),
            (num(), prop::sample::select(vec!["+", "-", "*", "/"]), num())
                .prop_map(|(a, op, b)| format!("({a} {op} {b})")),
            num().prop_map(|a| format!("-({a})")),
            (prop::sample::select(vec!["min", "max"]), num(), num())
                .prop_map(|(f, a, b)| format!("{f}({a}, {b})")),
            date_().prop_map(|d| format!("year({d})")),
            (date_(), date_()).prop_map(|(a, b)| format!("days_between({a}, {b})")),
            (date_(), date_()).prop_map(|(a, b)| format!("({a} - {b})")),
            (boolean(), num(), num())
                .prop_map(|(c, a, b)| format!("(if {c} {{ {a} }} else {{ {b} }})")),
        ]
        .boxed(),
        T::Date => prop_oneof![
            leaf(T::Date),
            (date_(), num()).prop_map(|(d, n)| format!("add_months({d}, {n})")),
            (date_(), prop::sample::select(vec!["+", "-"]), num())
                .prop_map(|(d, op, n)| format!("({d} {op} {n})")),
        ]
        .boxed(),
        T::Bool => prop_oneof![
            leaf(T::Bool),
            (
                num(),
                prop::sample::select(vec!["<", "<=", ">", ">=", "==", "!="]),
                num()
            )
                .prop_map(|(a, op, b)| format!("({a} {op} {b})")),
            (
                date_(),
                prop::sample::select(vec!["<", ">=", "=="]),
                date_()
            )
                .prop_map(|(a, op, b)| format!("({a} {op} {b})")),
            (
                boolean(),
                prop::sample::select(vec!["&&", "||", "==", "!="]),
                boolean()
            )
                .prop_map(|(a, op, b)| format!("({a} {op} {b})")),
            boolean().prop_map(|b| format!("!({b})")),
        ]
        .boxed(),
    }
}

/// The built-in schema and centre, and one measure with the given clause and benefit.
fn catalog_with(when: &str, benefit: &str) -> Option<Catalog> {
    // A generated expression the checker refuses (a type it cannot prove) is skipped.
    Catalog::from_sources(&sources_with(when, benefit)).ok()
}

fn sources_with(when: &str, benefit: &str) -> Sources {
    let builtin = Sources::builtin();
    let mut files = std::collections::BTreeMap::new();
    for name in ["schema.toml", "centre.toml"] {
        files.insert(name.to_owned(), builtin.files[name].clone());
    }
    let measure = format!(
        r#"id = "M001"
article = 1
article_title = "测试"
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
all = [ {{ tag = "kind:enterprise", label = "企业" }} ]
when = [ {{ expr = '{when}', label = "条件" }} ]

[benefit]
kind = "cash"
expr = '{benefit}'
unit = "yuan"
label = "金额"
"#
    );
    files.insert("measures/M001.toml".to_owned(), Arc::from(measure));
    Sources { files }
}

fn profile(
    c: &Catalog,
    ints: [i64; 3],
    floats: [f64; 3],
    days: [Option<&str>; 2],
    flag: bool,
) -> Profile {
    let mut fields: Vec<(String, RawValue)> = Vec::new();
    for (n, v) in INT_FIELDS.iter().zip(ints) {
        // Year fields are bounded by the schema; keep them in range.
        let v = if *n == "employees" {
            v
        } else {
            1949 + v.rem_euclid(150)
        };
        fields.push(((*n).into(), RawValue::Integer(v)));
    }
    for (n, v) in FLOAT_FIELDS.iter().zip(floats) {
        let v = if *n == "rd_expense_ratio" {
            v.min(1.0)
        } else {
            v
        };
        fields.push(((*n).into(), RawValue::Number(v)));
    }
    for (n, d) in DATE_FIELDS.iter().zip(days) {
        if let Some(d) = d {
            fields.push(((*n).into(), RawValue::Text(d.into())));
        }
    }
    fields.push(("investor_unchanged".into(), RawValue::Bool(flag)));
    Profile::build(
        &c.schema,
        "91330603MA2BK7R415".into(),
        "测试".into(),
        vec!["kind:enterprise".into(), "industry:C1713".into()],
        fields,
    )
    .expect("profile fits")
}

fn as_of() -> impl Strategy<Value = Date> {
    (1990i16..=2030, 1i8..=12, 1i8..=28).prop_map(|(y, m, d)| date(y, m, d))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn native_and_rhai_decide_alike(
        when in expr(T::Bool, 3),
        benefit in expr(T::Num, 2),
        ints in prop::array::uniform3(prop_oneof![0i64..3000, Just(i64::MAX), Just(0)]),
        floats in prop::array::uniform3(prop_oneof![0.0f64..1000.0, Just(0.0), Just(0.52), Just(1e308)]),
        days in prop::array::uniform2(prop::option::of(prop::sample::select(vec!["2020-02-29", "1970-01-01", "2025-06-30"]))),
        flag in any::<bool>(),
        as_of in as_of(),
    ) {
        let Some(c) = catalog_with(&when, &benefit) else { return Ok(()) };
        let p = profile(&c, ints, floats, days, flag);
        let native = c.recommend_with(&p, as_of, &policy_match::EvalOptions::with_engine(EngineKind::Native)).results;
        let rhai = c.recommend_with(&p, as_of, &policy_match::EvalOptions::with_engine(EngineKind::Rhai)).results;
        prop_assert_eq!(native, rhai, "when `{}`, benefit `{}`", when, benefit);
    }
}

/// Guards the generator: most generated clauses must pass the checker and be lowered.
#[test]
fn generated_clauses_are_checked_and_lowered() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let (mut loaded, mut lowered) = (0, 0);
    for _ in 0..200 {
        let when = expr(T::Bool, 3).new_tree(&mut runner).unwrap().current();
        if let Some(c) = catalog_with(&when, "1") {
            loaded += 1;
            let cm = &c.measures[0];
            lowered += cm
                .conditions
                .iter()
                .filter(|k| matches!(&k.kind, policy_match::compile::CondKind::When(x) if x.native.is_some()))
                .count();
        }
    }
    assert!(
        loaded >= 150,
        "only {loaded} of 200 generated clauses loaded"
    );
    // Not lowered, by design: `add_months` or `year` given a float (rhai has no such
    // function, so every such pair is an error) and `if` branches of different number
    // types. The generator makes both on purpose, so rhai's handling of them is compared.
    assert!(
        lowered * 4 >= loaded * 3,
        "only {lowered} of {loaded} lowered"
    );
}

/// Every `when` clause and benefit of the built-in catalog is covered by the lowering.
#[test]
fn the_whole_catalog_is_lowered() {
    let mut not_lowered = Vec::new();
    for cm in &BUILTIN.measures {
        let whens = cm.conditions.iter().filter_map(|c| match &c.kind {
            policy_match::compile::CondKind::When(x) => Some(x),
            _ => None,
        });
        for x in whens.chain(cm.benefit.as_ref()) {
            if x.native.is_none() {
                not_lowered.push(format!("{}: {}", cm.measure.id, x.source));
            }
        }
    }
    assert!(not_lowered.is_empty(), "{not_lowered:#?}");
}

/// The full catalog over a generated population: both engines, identical results.
#[test]
fn native_equals_rhai_on_the_catalog_over_a_generated_population() {
    let c = &*BUILTIN;
    let opts = GenOptions {
        count: 3000,
        seed: 11,
        bad_rows: 0.0,
    };
    let profiles: Vec<Profile> = (0..opts.count)
        .map(|i| synth::record(&c.schema, &opts, i))
        .filter_map(|r: RawRecord| r.into_profile(&c.schema).ok())
        .collect();
    assert!(profiles.len() > 2900);
    for as_of in [date(2025, 6, 30), date(2023, 3, 1)] {
        let native = c.evaluate_batch_with(
            &profiles,
            as_of,
            &policy_match::EvalOptions::with_engine(EngineKind::Native),
        );
        let rhai = c.evaluate_batch_with(
            &profiles,
            as_of,
            &policy_match::EvalOptions::with_engine(EngineKind::Rhai),
        );
        assert!(native == rhai, "engines differ on {as_of}");
    }
}

/// Statuses are 64-bit masks: a measure of more than 64 conditions is refused when the
/// catalog loads, with its own diagnostic.
#[test]
fn a_measure_of_more_than_64_conditions_is_refused() {
    // `n` clauses besides the measure's one tag test.
    let clauses = |n: usize| {
        (0..n)
            .map(|i| format!("employees >= {i}"))
            .collect::<Vec<_>>()
            .join("', label = \"条件\" }, { expr = '")
    };
    assert!(
        catalog_with(&clauses(63), "1").is_some(),
        "64 conditions load"
    );
    let err = Catalog::from_sources(&sources_with(&clauses(64), "1")).unwrap_err();
    let policy_match::LoadError::Invalid(diags) = err else {
        panic!("{err}")
    };
    assert!(
        diags
            .iter()
            .any(|d| d.code == policy_match::diag::Code::TooManyConditions),
        "{diags:?}"
    );
}

/// Every expression the checker accepts compiles, however deeply it nests: the script
/// generated from its tree (parenthesised, inside the whole-measure array and presence
/// guard) stays within the evaluating engine's depth. Each shape is grown until the
/// checker refuses it.
#[test]
fn the_deepest_accepted_expressions_compile() {
    type Shape = Box<dyn Fn(usize) -> String>;
    let shapes: Vec<(&str, Shape)> = vec![
        (
            "left chain",
            Box::new(|k| format!("employees{} > 1", " + employees".repeat(k))),
        ),
        (
            "right nesting",
            Box::new(|k| {
                format!(
                    "{}employees{} > 1",
                    "employees + (".repeat(k),
                    ")".repeat(k)
                )
            }),
        ),
        (
            "left nesting",
            Box::new(|k| format!("{}employees{} > 1", "(".repeat(k), " - 1)".repeat(k))),
        ),
        (
            "negation",
            Box::new(|k| format!("{}employees > 1", "- ".repeat(k))),
        ),
        (
            "not",
            Box::new(|k| format!("{}(employees > 1)", "! ".repeat(k))),
        ),
        (
            "else if",
            Box::new(|k| format!("{}{{ 0 }} > 1", "if employees > 1 { 1 } else ".repeat(k))),
        ),
        (
            "then if",
            Box::new(|k| {
                format!(
                    "{}1{} > 1",
                    "if employees > 1 { ".repeat(k),
                    " } else { 2 }".repeat(k)
                )
            }),
        ),
        (
            "if in an operand",
            Box::new(|k| {
                format!(
                    "{}1{} > 1",
                    "employees + (if investor_unchanged { ".repeat(k),
                    " } else { 2 })".repeat(k)
                )
            }),
        ),
        // The printed text drops parentheses around the start of a chain (the same tree),
        // so the chain grows by every group's operators.
        (
            "nested groups of 16",
            Box::new(|k| {
                let ops = " + employees".repeat(15);
                format!(
                    "{}employees{} > 1",
                    "(".repeat(k),
                    format!("{ops})").repeat(k)
                )
            }),
        ),
        (
            "nested groups of 8",
            Box::new(|k| {
                let ops = " + employees".repeat(7);
                format!(
                    "{}employees{} > 1",
                    "(".repeat(k),
                    format!("{ops})").repeat(k)
                )
            }),
        ),
        (
            "chained groups",
            Box::new(|k| {
                let group = format!("({})", vec!["employees"; k].join(" + "));
                format!("{} > 1", vec![group; 2].join(" + "))
            }),
        ),
        (
            "calls",
            Box::new(|k| format!("{}employees{} > 1", "min(".repeat(k), ", 1)".repeat(k))),
        ),
        (
            "comparisons",
            Box::new(|k| {
                format!(
                    "{}true{}",
                    "investor_unchanged == (".repeat(k),
                    ")".repeat(k)
                )
            }),
        ),
        (
            "and chain",
            Box::new(|k| format!("{}true", "employees > 1 && ".repeat(k))),
        ),
        (
            "dates",
            Box::new(|k| {
                format!(
                    "{}founded{} < as_of",
                    "add_months(".repeat(k),
                    ", 1)".repeat(k)
                )
            }),
        ),
    ];
    for (name, shape) in shapes {
        let mut accepted = 0;
        for k in 1.. {
            match Catalog::from_sources(&sources_with(&shape(k), "1")) {
                Ok(_) => accepted = k,
                Err(policy_match::LoadError::Invalid(_)) => break,
                Err(e) => panic!("{name}, {k} deep: {e}"),
            }
        }
        assert!(accepted > 0, "{name}: nothing accepted");
        let benefit = |k| shape(k).replace(" > 1", "").replace(" < as_of", " - as_of");
        if name != "comparisons" && name != "not" && name != "and chain" {
            for k in 1.. {
                match Catalog::from_sources(&sources_with("true", &benefit(k))) {
                    Ok(_) => {}
                    Err(policy_match::LoadError::Invalid(_)) => break,
                    Err(e) => panic!("{name} as a benefit, {k} deep: {e}"),
                }
            }
        }
    }
}
