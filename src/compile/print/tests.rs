//! The generated text is the officer's rhai tree: over the catalog, hand-picked forms,
//! random officer text and every kind of number.

use once_cell::sync::Lazy;
use regex::Regex;

use super::*;
use crate::compile::catalog::Catalog;
use crate::lang::check::{Want, check};
use crate::lang::parse::shape;
use crate::lang::tree::Ty;
use crate::rules::ir::Test;

/// The officer's text as the compiler used to run it: `has("…")` rewritten to the
/// tag's bit, the rest as written.
fn rewritten(source: &str, interner: &Interner) -> String {
    static HAS_CALL: Lazy<Regex> =
        Lazy::new(|| Regex::new(r#"\bhas\s*\(\s*"([^"]*)"\s*\)"#).expect("static regex"));
    HAS_CALL
        .replace_all(source, |c: &regex::Captures| match interner.bit(&c[1]) {
            Some(b) => format!("p.has({b})"),
            None => "false".to_owned(),
        })
        .into_owned()
}

/// The generated text of every expression parses to the tree rhai made of the
/// officer's text, so both evaluate alike.
fn same_tree(source: &str, want: Want, interner: &Interner) -> String {
    let schema = crate::profile::schema::builtin_for_tests();
    let checked = check(&schema, source, want).unwrap_or_else(|p| panic!("{source}: {p:?}"));
    let generated = expr(&checked.tree, interner);
    assert_eq!(
        shape(&generated).expect("generated text parses"),
        shape(&rewritten(source, interner)).expect("officer text parses"),
        "{source}\n{generated}"
    );
    generated
}

#[test]
fn the_catalog_generates_what_officers_wrote() {
    let catalog = Catalog::builtin().expect("built-in catalog");
    let mut n = 0;
    for cm in &catalog.measures {
        let whens = cm.measure.conditions().filter_map(|(_, c)| match &c.test {
            Test::When(e) => Some((e, Want::Bool)),
            _ => None,
        });
        let benefit = cm.measure.benefit.as_ref().map(|b| (&b.expr, Want::Num));
        for (e, want) in whens.chain(benefit) {
            same_tree(&e.source, want, &catalog.interner);
            n += 1;
        }
    }
    // 16 since the review that stopped one sub-item's limit from gating a whole measure
    // (M016, M018, M019, M026 read no field now); the hand-picked forms and the random
    // officer text below cover the shapes the catalog no longer holds.
    assert!(n >= 16, "{n} expressions");
}

#[test]
fn literals_operators_and_branches_read_back_alike() {
    let mut bits = Interner::default();
    for tag in [
        "kind:enterprise",
        "project:provincial_major_special",
        "cert:high_tech",
    ] {
        bits.intern(tag);
    }
    for (src, want, text) in [
        ("employees >= 10", Want::Bool, "employees >= 10"),
        ("booth_fee_yuan * 0.7", Want::Num, "booth_fee_yuan * 0.7"),
        ("3.0", Want::Num, "3.0"),
        (
            "1e300 > revenue_10k_yuan",
            Want::Bool,
            "1e300 > revenue_10k_yuan",
        ),
        ("1.5e-7 < 1E-7", Want::Bool, "1.5e-7 < 1e-7"),
        ("1_000.25 + 0x10", Want::Num, "1000.25 + 16"),
        ("-employees < -3", Want::Bool, "-employees < -3"),
        ("employees - -3.5 > 0", Want::Bool, "employees - -3.5 > 0"),
        ("-(3) + -0.0", Want::Num, "-3 + -0.0"),
        (
            "employees > -9223372036854775808",
            Want::Bool,
            "employees > -9223372036854775808",
        ),
        (
            "9223372036854775808 > employees",
            Want::Bool,
            "9.223372036854776e18 > employees",
        ),
        ("- -employees > 1", Want::Bool, "- -employees > 1"),
        ("-(-employees) > 1", Want::Bool, "- -employees > 1"),
        ("!!investor_unchanged", Want::Bool, "! !investor_unchanged"),
        (
            "-(employees + 1) * 2 > 0",
            Want::Bool,
            "-(employees + 1) * 2 > 0",
        ),
        (
            "!(employees > 1) && (has(\"cert:high_tech\") && true) && false",
            Want::Bool,
            "!(employees > 1) && p.has(2) && true && false",
        ),
        (
            "(employees > 1 || true) && false",
            Want::Bool,
            "(employees > 1 || true) && false",
        ),
        (
            "employees > 1 || true && false",
            Want::Bool,
            "employees > 1 || true && false",
        ),
        (
            "((employees - 1) - 2) - (3 - 4) * 5 / (6 * 7) == 7",
            Want::Bool,
            "employees - 1 - 2 - (3 - 4) * 5 / (6 * 7) == 7",
        ),
        (
            "founded <= as_of - 365 * 3 && date(\"2020-02-29\") != founded",
            Want::Bool,
            "founded <= as_of - 365 * 3 && date(\"2020-02-29\") != founded",
        ),
        (
            "investor_unchanged == (employees > 1) != false",
            Want::Bool,
            "investor_unchanged == employees > 1 != false",
        ),
        (
            "investor_unchanged == ((employees > 1) != false)",
            Want::Bool,
            "investor_unchanged == (employees > 1 != false)",
        ),
        (
            "project_land_quota_mu * (if has(\"project:provincial_major_special\") { 1.0 } else if has(\"cert:high_tech\") { 0.6 } else { 0.4 })",
            Want::Num,
            "project_land_quota_mu * if p.has(1) { 1.0 } else if p.has(2) { 0.6 } else { 0.4 }",
        ),
        (
            "if employees > 1 { if investor_unchanged { 1 } else { 2 } } else { 3.5 }",
            Want::Num,
            "if employees > 1 { if investor_unchanged { 1 } else { 2 } } else { 3.5 }",
        ),
        (
            "if investor_unchanged { (if employees > 1 { 1 } else { 2 }) + 1 } else { 0 } > 0",
            Want::Bool,
            "if investor_unchanged { (if employees > 1 { 1 } else { 2 }) + 1 } else { 0 } > 0",
        ),
        (
            "(if employees > 1 { 1 } else { 2 }) > 0",
            Want::Bool,
            "if employees > 1 { 1 } else { 2 } > 0",
        ),
        (
            "min(year(founded), max(days_between(founded, as_of), 1)) + employees > 0",
            Want::Bool,
            "min(year(founded), max(days_between(founded, as_of), 1)) + employees > 0",
        ),
        (
            "add_months(founded, if employees > 9 { 12 } else { employees }) < as_of",
            Want::Bool,
            "add_months(founded, if employees > 9 { 12 } else { employees }) < as_of",
        ),
        (
            "(as_of - founded) * 2 > 0",
            Want::Bool,
            "(as_of - founded) * 2 > 0",
        ),
    ] {
        let generated = same_tree(src, want, &bits);
        if !text.is_empty() {
            assert_eq!(generated, text, "{src}");
        }
    }
}

/// The one form the tree does not keep: `else { if … }` is printed `else if …`, which
/// rhai reads as an `if` statement instead of a block holding an `if` expression.
/// Both give the same value.
#[test]
fn an_if_in_an_else_block_is_printed_else_if() {
    let schema = crate::profile::schema::builtin_for_tests();
    let src = "if employees > 1 { 1 } else { if investor_unchanged { 2 } else { 3 } }";
    let tree = check(&schema, src, Want::Num).expect("checks").tree;
    let generated = expr(&tree, &Interner::default());
    assert_eq!(
        generated,
        "if employees > 1 { 1 } else if investor_unchanged { 2 } else { 3 }"
    );
    let engine = crate::compile::engine::build();
    for (employees, flag) in [(0_i64, false), (0, true), (2, false)] {
        let mut scope = rhai::Scope::new();
        scope.push("employees", employees);
        scope.push("investor_unchanged", flag);
        let eval = |text: &str| {
            engine
                .eval_expression_with_scope::<i64>(&mut scope.clone(), text)
                .expect(text)
        };
        assert_eq!(eval(&generated), eval(src), "{employees} {flag}");
    }
}

/// Random officer text, parenthesised at random, so that operators of every
/// precedence meet in every order.
struct Officer(u64);

impl Officer {
    fn below(&mut self, n: u64) -> u64 {
        // xorshift64: reproducible without a dependency.
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }

    fn pick(&mut self, xs: &[&str]) -> String {
        xs[self.below(xs.len() as u64) as usize].to_owned()
    }

    fn group(&mut self, s: String) -> String {
        if self.below(3) == 0 {
            format!("({s})")
        } else {
            s
        }
    }

    fn infix(&mut self, a: String, ops: &[&str], b: String) -> String {
        let (a, op, b) = (self.group(a), self.pick(ops), self.group(b));
        format!("{a} {op} {b}")
    }

    fn num(&mut self, depth: u32) -> String {
        if depth == 0 || self.below(4) == 0 {
            return self.pick(&[
                "employees",
                "revenue_10k_yuan",
                "0",
                "2",
                "2.5",
                "-3",
                "-0.5",
                "1e300",
                "0x10",
                "1_000",
                "9223372036854775807",
                "-9223372036854775808",
            ]);
        }
        let d = depth - 1;
        match self.below(7) {
            0 | 1 => {
                let (a, b) = (self.num(d), self.num(d));
                self.infix(a, &["+", "-", "*", "/"], b)
            }
            2 => {
                let a = self.num(d);
                format!("-{}", self.group(a))
            }
            3 => {
                let f = self.pick(&["min", "max"]);
                format!("{f}({}, {})", self.num(d), self.num(d))
            }
            4 => format!("year({})", self.date(d)),
            5 => {
                let (a, b) = (self.date(d), self.date(d));
                self.infix(a, &["-"], b)
            }
            _ => {
                let (c, a, b) = (self.boolean(d), self.num(d), self.num(d));
                if_else(c, a, b)
            }
        }
    }

    fn date(&mut self, depth: u32) -> String {
        if depth == 0 || self.below(3) == 0 {
            return self.pick(&["founded", "as_of", "date(\"2024-02-29\")"]);
        }
        let d = depth - 1;
        match self.below(3) {
            0 => format!(
                "add_months({}, {})",
                self.date(d),
                self.pick(&["1", "-12", "employees"])
            ),
            1 => {
                let (a, b) = (self.date(d), self.pick(&["30", "employees", "-1"]));
                self.infix(a, &["+", "-"], b)
            }
            _ => {
                let (c, a, b) = (self.boolean(d), self.date(d), self.date(d));
                if_else(c, a, b)
            }
        }
    }

    fn boolean(&mut self, depth: u32) -> String {
        if depth == 0 || self.below(4) == 0 {
            return self.pick(&["investor_unchanged", "true", "has(\"cert:high_tech\")"]);
        }
        let d = depth - 1;
        match self.below(6) {
            0 | 1 => {
                let (a, b) = (self.num(d), self.num(d));
                self.infix(a, &["<", "<=", ">", ">=", "==", "!="], b)
            }
            2 => {
                let (a, b) = (self.date(d), self.date(d));
                self.infix(a, &["<", "==", ">="], b)
            }
            3 => {
                let (a, b) = (self.boolean(d), self.boolean(d));
                self.infix(a, &["&&", "||", "==", "!="], b)
            }
            4 => {
                let a = self.boolean(d);
                format!("!{}", self.group(a))
            }
            _ => {
                let (c, a, b) = (self.boolean(d), self.boolean(d), self.boolean(d));
                if_else(c, a, b)
            }
        }
    }
}

/// `if c { a } else { b }`, or `else if` when `b` is an `if`, as officers write it
/// (`else { if … }` reads as another tree, see below).
fn if_else(c: String, a: String, b: String) -> String {
    if b.starts_with("if ") {
        format!("if {c} {{ {a} }} else {b}")
    } else {
        format!("if {c} {{ {a} }} else {{ {b} }}")
    }
}

#[test]
fn random_officer_text_generates_the_same_tree() {
    let schema = crate::profile::schema::builtin_for_tests();
    let mut bits = Interner::default();
    bits.intern("cert:high_tech");
    let mut officer = Officer(0x9e37_79b9_7f4a_7c15);
    let (mut tried, mut checked) = (0, 0);
    while tried < 4000 {
        tried += 1;
        let (src, want) = if officer.below(2) == 0 {
            (officer.boolean(4), Want::Bool)
        } else {
            (officer.num(4), Want::Num)
        };
        if check(&schema, &src, want).is_ok() {
            same_tree(&src, want, &bits);
            checked += 1;
        }
    }
    assert!(checked * 2 > tried, "only {checked} of {tried} checked");
}

/// Every finite float, printed, reads back as the same `f64` and stays a float; every
/// integer as the same integer.
#[test]
fn numbers_read_back_exactly() {
    let schema = crate::profile::schema::builtin_for_tests();
    let read_back = |lit: Lit| {
        let ty = if matches!(lit, Lit::Int(_)) {
            Ty::Int
        } else {
            Ty::Float
        };
        let text = expr(
            &Node {
                ty,
                kind: Kind::Lit(lit),
            },
            &Interner::default(),
        );
        match check(&schema, &text, Want::Num).map(|c| c.tree.kind) {
            Ok(Kind::Lit(back)) => back,
            other => panic!("{text}: {other:?}"),
        }
    };
    let mut officer = Officer(0x2545_f491_4f6c_dd1d);
    let mut floats = vec![
        0.0,
        -0.0,
        f64::MAX,
        f64::MIN,
        f64::MIN_POSITIVE,
        5e-324,
        0.1,
        1e300,
    ];
    let mut ints = vec![0, 1, -1, i64::MAX, i64::MIN];
    for _ in 0..3000 {
        let bits = officer.below(u64::MAX);
        floats.push(f64::from_bits(bits));
        ints.push(bits as i64);
    }
    for x in floats.into_iter().filter(|x| x.is_finite()) {
        match read_back(Lit::Float(x)) {
            Lit::Float(y) => assert_eq!(x.to_bits(), y.to_bits(), "{x:?}"),
            other => panic!("{x:?} read back as {other:?}"),
        }
    }
    for i in ints {
        assert_eq!(read_back(Lit::Int(i)), Lit::Int(i));
    }
}
