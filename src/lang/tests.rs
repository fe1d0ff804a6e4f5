//! The checker's answers: what it accepts and reads, what it refuses and the exact
//! words it uses, and the tree it makes.

use crate::diag::Code;
use crate::lang::check::{Want, check};
use crate::lang::parse::{MAX_DEPTH, MAX_LEN};
use crate::lang::tree::{Arith, Cmp, Kind, Lit, Node, Ty};
use crate::profile::schema::Schema;

fn schema() -> Schema {
    crate::profile::schema::builtin_for_tests()
}

/// One case: the expression, the type wanted, and either the fields it reads or the
/// code of the first problem.
fn check_case(src: &str, want: Want, expected: Result<&[&str], Code>) {
    let got = check(&schema(), src, want);
    match (got, expected) {
        (Ok(e), Ok(fields)) => assert_eq!(e.fields, fields, "{src}"),
        (Err(p), Err(code)) => assert_eq!(p[0].code, code, "{src}: {p:?}"),
        (got, expected) => panic!("{src}: got {got:?}, expected {expected:?}"),
    }
}

#[test]
fn accepted_expressions_and_what_they_read() {
    for (src, want, fields) in [
        (
            "energy_intensity < 0.52",
            Want::Bool,
            &["energy_intensity"][..],
        ),
        (
            "employees >= 10 && !(revenue_10k_yuan > 2000)",
            Want::Bool,
            &["employees", "revenue_10k_yuan"],
        ),
        (
            "plot_ratio < if has(\"cert:specialized_new\") { 3.0 } else { 2.5 }",
            Want::Bool,
            &["plot_ratio"],
        ),
        ("founded <= as_of - 365 * 3", Want::Bool, &["founded"]),
        (
            "add_months(founded, if employees > 9 { 12 } else { employees }) < as_of",
            Want::Bool,
            &["employees", "founded"],
        ),
        (
            "employees / 2 < if employees > 1 { 1 } else { 0.5 }",
            Want::Bool,
            &["employees"],
        ),
        ("as_of >= add_months(founded, 3)", Want::Bool, &["founded"]),
        (
            "days_between(founded, as_of) > 1000",
            Want::Bool,
            &["founded"],
        ),
        (
            "year(as_of) - above_designated_since == 1",
            Want::Bool,
            &["above_designated_since"],
        ),
        ("founded >= date(\"2020-01-01\")", Want::Bool, &["founded"]),
        (
            "investor_unchanged == true",
            Want::Bool,
            &["investor_unchanged"],
        ),
        (
            "min(booth_fee_yuan * 0.7, 50000)",
            Want::Num,
            &["booth_fee_yuan"],
        ),
    ] {
        check_case(src, want, Ok(fields));
    }
}

#[test]
fn rejected_expressions_and_why() {
    for (src, want, code) in [
        ("employees < true", Want::Bool, Code::TypeMismatch),
        // rhai has no float version of the date helpers: every pair would fail.
        (
            "add_months(founded, 1.5) < as_of",
            Want::Bool,
            Code::TypeMismatch,
        ),
        ("year(as_of + 0.5) > 2020", Want::Bool, Code::TypeMismatch),
        ("founded < as_of - 365 / 2", Want::Bool, Code::TypeMismatch),
        (
            "add_months(founded, booth_fee_yuan) < as_of",
            Want::Bool,
            Code::TypeMismatch,
        ),
        ("founded < 2020", Want::Bool, Code::TypeMismatch),
        ("booth_fee_yuan * 0.7", Want::Bool, Code::TypeMismatch),
        ("employees > 1", Want::Num, Code::TypeMismatch),
        (
            "if employees > 1 { 1 } else { false }",
            Want::Num,
            Code::TypeMismatch,
        ),
        ("revenue > 1", Want::Bool, Code::UnknownField),
        ("has(\"cert:hightech\")", Want::Bool, Code::UnknownTag),
        ("has(kind)", Want::Bool, Code::BadExpr),
        ("pow(employees, 2) > 4", Want::Bool, Code::BadExpr),
        ("if employees > 1 { true }", Want::Bool, Code::BadExpr),
        ("employees > 1 // why", Want::Bool, Code::BadExpr),
        ("let x = 1; x > 0", Want::Bool, Code::BadExpr),
        ("[employees][0] > 1", Want::Bool, Code::BadExpr),
        ("\"a\" == \"a\"", Want::Bool, Code::TypeMismatch),
        ("date(\"2020-02-30\") < as_of", Want::Bool, Code::BadExpr),
    ] {
        check_case(src, want, Err(code));
    }
}

#[test]
fn over_long_and_over_deep_expressions_are_refused() {
    let long = format!("employees > {}", "1".repeat(MAX_LEN));
    check_case(&long, Want::Bool, Err(Code::BadExpr));
    let deep = format!(
        "{}employees > 1{}",
        "(".repeat(MAX_DEPTH + 5),
        ")".repeat(MAX_DEPTH + 5)
    );
    check_case(&deep, Want::Bool, Err(Code::BadExpr));
}

/// Every diagnostic of the checker, message, help and place, for a spread of refused
/// (and a few accepted) expressions: the messages officers see must not change.
#[test]
fn diagnostics_are_exact() {
    let cases = [
        (Want::Bool, r#""#),
        (Want::Bool, r#"   "#),
        (Want::Bool, r#"employees > 1 // why"#),
        (Want::Bool, r#"employees > /* x */ 1"#),
        (Want::Bool, r#"employees >"#),
        (Want::Bool, r#"(employees"#),
        (Want::Bool, r#"employees > > 1"#),
        (Want::Bool, r#"1 +"#),
        (Want::Bool, r#"if employees > 1 { 1 } else"#),
        (Want::Bool, r#"employees"#),
        (Want::Num, r#"employees > 1"#),
        (Want::Num, r#""a""#),
        (Want::Bool, r#""a" == "a""#),
        (Want::Bool, r#""a""#),
        (Want::Bool, r#"{ let x = 1; x } > 0"#),
        (Want::Bool, r#"let x = 1; x > 0"#),
        (Want::Bool, r#"employees && true"#),
        (Want::Bool, r#"true || booth_fee_yuan"#),
        (Want::Bool, r#"{ employees; founded } > 0"#),
        (Want::Bool, r#"[employees][0] > 1"#),
        (Want::Bool, r#"employees.abs() > 1"#),
        (Want::Bool, r#"() == ()"#),
        (Want::Bool, r#"'c' == 'c'"#),
        (Want::Bool, r#"#{a: 1}.a > 0"#),
        (Want::Bool, r#"`x${employees}` == "x""#),
        (Want::Bool, r#"revenue > 1"#),
        (Want::Bool, r#"employes > 1"#),
        (Want::Bool, r#"qqqqqqqqq > 1"#),
        (Want::Bool, r#"p.has(1)"#),
        (Want::Bool, r#"p > 1"#),
        (Want::Bool, r#"if employees { 1 } else { 2 } > 0"#),
        (Want::Bool, r#"if employees > 1 { true }"#),
        (
            Want::Bool,
            r#"if employees > 1 { let a = 1; 2 } else { 3 } > 0"#,
        ),
        (Want::Bool, r#"if employees > 1 { 1 } else { true }"#),
        (Want::Num, r#"if employees > 1 { 1 } else { false }"#),
        (Want::Bool, r#"has(kind)"#),
        (Want::Bool, r#"has("cert:hightech")"#),
        (Want::Bool, r#"has("nosuch:thing")"#),
        (Want::Bool, r#"has("cert:high_tech", "cert:high_tech")"#),
        (Want::Bool, r#"has()"#),
        (Want::Bool, r#"date("2020-02-30") < as_of"#),
        (Want::Bool, r#"date(founded) < as_of"#),
        (Want::Bool, r#"date("2020-1-1") < as_of"#),
        (Want::Bool, r#"year(1) > 0"#),
        (Want::Bool, r#"days_between(founded, 1) > 0"#),
        (Want::Bool, r#"add_months(founded, 1.5) < as_of"#),
        (Want::Bool, r#"add_months(founded, booth_fee_yuan) < as_of"#),
        (Want::Bool, r#"min(true, 1) > 0"#),
        (Want::Bool, r#"year() > 0"#),
        (Want::Bool, r#"year(founded, founded) > 0"#),
        (Want::Bool, r#"yaer(as_of) > 0"#),
        (Want::Bool, r#"foo(1) > 0"#),
        (Want::Bool, r#"unknown1 > 1 && unknown2 < 2"#),
        (Want::Bool, r#"year(x) + y > 0"#),
        (Want::Bool, r#"-true"#),
        (Want::Bool, r#"!1"#),
        (Want::Bool, r#"employees % 2 == 0"#),
        (Want::Bool, r#"employees ** 2 > 0"#),
        (Want::Bool, r#"founded + founded > as_of"#),
        (Want::Bool, r#"founded * 2 > as_of"#),
        (Want::Bool, r#"as_of + 1.5 > founded"#),
        (Want::Bool, r#"founded < as_of - 365 / 2"#),
        (Want::Bool, r#"employees in [1, 2]"#),
        (Want::Bool, r#"employees ?? 1 > 0"#),
        (Want::Bool, r#"employees < true"#),
        (Want::Bool, r#"founded < 2020"#),
        (Want::Bool, r#"booth_fee_yuan * 0.7"#),
        (Want::Num, r#"employees > 1"#),
        (Want::Bool, r#"year(as_of + 0.5) > 2020"#),
        (Want::Bool, r#"pow(employees, 2) > 4"#),
        (Want::Bool, r#"investor_unchanged < true"#),
        (Want::Bool, r#"founded == 1"#),
        (
            Want::Bool,
            r#"!(employees > 1) && employees + true > 0 || has("cert:nope")"#,
        ),
        (Want::Bool, r#"if "a" { 1 } else { 2 } > 0"#),
        (Want::Bool, r#"if employees > 1 { "a" } else { "b" }"#),
        (
            Want::Num,
            r#"if employees > 1 { 1 } else if employees > 2 { founded } else { 2 }"#,
        ),
        (Want::Bool, r#"min(founded, 1) > 0"#),
        (Want::Bool, r#"max(1, 2, 3) > 0"#),
        (Want::Bool, r#"employees = 1"#),
        (Want::Bool, r#"employees >= 10 &&"#),
        (Want::Bool, r#"fn f() { 1 }"#),
        (Want::Bool, r#"switch employees { 1 => true, _ => false }"#),
        (Want::Bool, r#"while true { }"#),
        (Want::Bool, r#"employees > 1; employees < 2"#),
        (Want::Bool, r#"+employees > 0"#),
        (Want::Bool, r#"-employees > true"#),
        (
            Want::Bool,
            r#"year(founded) > year(as_of) - booth_fee_yuan * true"#,
        ),
        (Want::Num, r#"true"#),
        (Want::Num, r#"founded"#),
        (
            Want::Num,
            r#"if has("cert:high_tech") { 1 } else { 1.5 } == 1"#,
        ),
        (Want::Bool, r#"has("industry:")"#),
        (Want::Bool, r#"has("industry:C17x")"#),
        (Want::Bool, r#"x.y > 1"#),
        (Want::Bool, r#"employees[0] > 1"#),
    ];
    let mut out = String::new();
    for (want, src) in cases {
        let got = match check(&schema(), src, want) {
            Ok(e) => format!("ok: reads {:?}, tags {:?}", e.fields, e.tags),
            Err(problems) => problems
                .iter()
                .map(|p| {
                    format!(
                        "{:?} {}:{} {} [help: {}]",
                        p.code,
                        p.line,
                        p.column,
                        p.message,
                        p.help.as_deref().unwrap_or("-")
                    )
                })
                .collect::<Vec<_>>()
                .join("\n    "),
        };
        out.push_str(&format!("{want:?} {src}\n    {got}\n"));
    }
    let mut settings = insta::Settings::clone_current();
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| insta::assert_snapshot!("lang_diagnostics", out));
}

fn tree(src: &str, want: Want) -> Node {
    check(&schema(), src, want).expect(src).tree
}

fn lit(ty: Ty, lit: Lit) -> Node {
    Node {
        ty,
        kind: Kind::Lit(lit),
    }
}

#[test]
fn literals_keep_the_kind_and_value_rhai_reads() {
    for (src, want) in [
        ("1", lit(Ty::Int, Lit::Int(1))),
        ("1.0", lit(Ty::Float, Lit::Float(1.0))),
        ("0x10", lit(Ty::Int, Lit::Int(16))),
        ("1_000", lit(Ty::Int, Lit::Int(1000))),
        ("1e300", lit(Ty::Float, Lit::Float(1e300))),
        ("0.1", lit(Ty::Float, Lit::Float(0.1))),
        // rhai folds a negated literal into the literal, parenthesised or not.
        ("-3", lit(Ty::Int, Lit::Int(-3))),
        ("-(3)", lit(Ty::Int, Lit::Int(-3))),
        ("-9223372036854775808", lit(Ty::Int, Lit::Int(i64::MIN))),
        // Too large for an integer: rhai reads a float.
        (
            "9223372036854775808",
            lit(Ty::Float, Lit::Float(2f64.powi(63))),
        ),
        ("-0.0", lit(Ty::Float, Lit::Float(-0.0))),
    ] {
        let got = tree(src, Want::Num);
        assert_eq!(got, want, "{src}");
        if let (Kind::Lit(Lit::Float(a)), Kind::Lit(Lit::Float(b))) = (&got.kind, &want.kind) {
            assert_eq!(a.to_bits(), b.to_bits(), "{src}");
        }
    }
}

#[test]
fn nodes_carry_their_static_type() {
    let t = tree(
        "employees / 2 < if employees > 1 { 1 } else { 0.5 }",
        Want::Bool,
    );
    let Kind::Compare(Cmp::Lt, ab) = &t.kind else {
        panic!("{t:?}")
    };
    assert_eq!(ab.0.ty, Ty::Float, "`/` is floating");
    assert!(matches!(ab.0.kind, Kind::Arith(Arith::Div, _)));
    // Branches of different number types: not always an integer.
    assert_eq!(ab.1.ty, Ty::Float);
    let t = tree("as_of - founded", Want::Num);
    assert_eq!(t.ty, Ty::Int, "a date minus a date is days");
    let t = tree("founded + 30 > as_of", Want::Bool);
    let Kind::Compare(_, ab) = &t.kind else {
        panic!("{t:?}")
    };
    assert_eq!(ab.0.ty, Ty::Date);
    let t = tree(
        "has(\"cert:high_tech\") && date(\"2020-01-01\") < founded",
        Want::Bool,
    );
    let Kind::And(parts) = &t.kind else {
        panic!("{t:?}")
    };
    assert_eq!(parts[0].kind, Kind::Has("cert:high_tech".into()));
    let Kind::Compare(_, ab) = &parts[1].kind else {
        panic!("{t:?}")
    };
    assert_eq!(
        ab.0,
        lit(Ty::Date, Lit::Date(jiff::civil::date(2020, 1, 1)))
    );
    assert!(matches!(&ab.1.kind, Kind::Field { name, .. } if name == "founded"));
}
