//! rhai text generated from a typed tree: what each clause and benefit compiles from.
//!
//! The text is generated, never copied from the rule, so nothing an officer writes can
//! change the shape of a script. Literals are printed so that rhai reads the same value
//! of the same kind back (an integer stays an integer, a float keeps its point and its
//! exact value), and `has("tag")` becomes a test of the tag's bit, `p.has(BIT)`.
//!
//! Parentheses are printed where rhai's precedence needs them, and only there: rhai then
//! parses the text into the very tree it made of the officer's text, and the text nests
//! no deeper than the officer's did. Parenthesising every operand would nest deeper,
//! since each pair of parentheses costs two levels of rhai's expression depth, and the
//! longest expressions the checker accepts would no longer compile within the engine's
//! limit.

use std::fmt::Write as _;

use crate::compile::tags::Interner;
use crate::lang::tree::{Arith, Cmp, Kind, Lit, Node};

/// The rhai text of a checked expression.
pub(crate) fn expr(tree: &Node, interner: &Interner) -> String {
    let mut p = Printer {
        out: String::new(),
        interner,
    };
    p.node(tree, Place::EXPR);
    p.out
}

/// How tightly an operator binds: rhai's precedences (`Token::precedence`), unary
/// operators above every binary one, and what is never split above all.
fn binding(n: &Node) -> u8 {
    match &n.kind {
        Kind::Or(_) => 30,
        Kind::And(_) => 60,
        Kind::Compare(Cmp::Eq | Cmp::Ne, _) => 90,
        Kind::Compare(..) => 130,
        Kind::Arith(Arith::Add | Arith::Sub, _) => 150,
        Kind::Arith(..) => 180,
        Kind::Not(_) | Kind::Neg(_) => UNARY,
        // An `if` is a primary expression, except where it starts a statement.
        Kind::Lit(_)
        | Kind::Field { .. }
        | Kind::AsOf
        | Kind::Has(_)
        | Kind::If(_)
        | Kind::Year(_)
        | Kind::DaysBetween(_)
        | Kind::AddMonths(_)
        | Kind::Pick(..) => u8::MAX,
    }
}

const UNARY: u8 = 200;

/// Where a node is printed.
#[derive(Clone, Copy)]
struct Place {
    /// A node binding less tightly than this is parenthesised.
    min: u8,
    /// The text starts a statement (a branch of an `if`), where rhai would read a
    /// leading `if` as an `if` statement, which no operator can follow.
    starts_statement: bool,
}

impl Place {
    /// Delimited already: the whole expression, an argument, a condition.
    const EXPR: Place = Place {
        min: 0,
        starts_statement: false,
    };

    fn operand(min: u8) -> Place {
        Place {
            min,
            starts_statement: false,
        }
    }
}

struct Printer<'a> {
    out: String,
    interner: &'a Interner,
}

impl Printer<'_> {
    fn node(&mut self, n: &Node, at: Place) {
        let leading_if = at.starts_statement && matches!(n.kind, Kind::If(_));
        if binding(n) < at.min || leading_if {
            self.out.push('(');
            self.bare(n, Place::EXPR);
            self.out.push(')');
        } else {
            self.bare(n, at);
        }
    }

    /// `n` without parentheses around it; `at` says whether its first operand starts a
    /// statement.
    fn bare(&mut self, n: &Node, at: Place) {
        match &n.kind {
            Kind::Lit(lit) => self.lit(*lit),
            Kind::Field { name, .. } => self.out.push_str(name),
            Kind::AsOf => self.out.push_str("as_of"),
            Kind::Has(tag) => match self.interner.bit(tag) {
                Some(b) => {
                    let _ = write!(self.out, "p.has({b})");
                }
                // Unreachable for a compiled catalog, which interns every tag its
                // expressions test; no profile carries a tag without a bit.
                None => self.out.push_str("false"),
            },
            Kind::Not(a) => self.prefix('!', a),
            Kind::Neg(a) => self.prefix('-', a),
            Kind::Compare(op, ab) => self.infix(n, &ab.0, op.rhai(), &ab.1, at),
            Kind::Arith(op, ab) => self.infix(n, &ab.0, op.symbol(), &ab.1, at),
            Kind::And(xs) | Kind::Or(xs) => {
                let word = if matches!(n.kind, Kind::And(_)) {
                    " && "
                } else {
                    " || "
                };
                // rhai flattens a chain into one node; an operand of the same operator
                // is parenthesised, so that the tree read back is this one.
                let operand = Place::operand(binding(n) + 1);
                for (i, x) in xs.iter().enumerate() {
                    if i > 0 {
                        self.out.push_str(word);
                        self.node(x, operand);
                    } else {
                        self.node(x, first(operand, at));
                    }
                }
            }
            Kind::If(x) => self.if_else(&x.0, &x.1, &x.2),
            Kind::Year(d) => self.call("year", &[d]),
            Kind::DaysBetween(ab) => self.call("days_between", &[&ab.0, &ab.1]),
            Kind::AddMonths(dn) => self.call("add_months", &[&dn.0, &dn.1]),
            Kind::Pick(pick, ab) => self.call(pick.name(), &[&ab.0, &ab.1]),
        }
    }

    /// A literal: integers in decimal, floats in Rust's shortest round-trip form (always
    /// with a point or an exponent, so rhai reads a float, and the same `f64`). A minus
    /// sign is part of the literal: rhai reads `-5` after an operator, `(`, `,` or `{`
    /// as one token, as it does in officer text.
    fn lit(&mut self, lit: Lit) {
        let _ = match lit {
            Lit::Int(i) => write!(self.out, "{i}"),
            Lit::Float(x) => write!(self.out, "{x:?}"),
            Lit::Bool(b) => write!(self.out, "{b}"),
            Lit::Date(d) => write!(self.out, "date(\"{d}\")"),
        };
    }

    /// `!a` or `-a`; a space keeps `- -a` from reading as `--`.
    fn prefix(&mut self, op: char, a: &Node) {
        self.out.push(op);
        let start = self.out.len();
        self.node(a, Place::operand(UNARY));
        if self.out[start..].starts_with(op) {
            self.out.insert(start, ' ');
        }
    }

    /// `a op b`, left-associative as every rhai operator used here.
    fn infix(&mut self, n: &Node, a: &Node, op: &str, b: &Node, at: Place) {
        let own = binding(n);
        self.node(a, first(Place::operand(own), at));
        let _ = write!(self.out, " {op} ");
        self.node(b, Place::operand(own + 1));
    }

    /// `if c { a } else { b }`, and `else if` for an `if` in the else branch, as officers
    /// write them.
    fn if_else(&mut self, c: &Node, a: &Node, b: &Node) {
        self.out.push_str("if ");
        self.node(c, Place::EXPR);
        self.out.push_str(" { ");
        self.branch(a);
        self.out.push_str(" } else ");
        if let Kind::If(x) = &b.kind {
            self.if_else(&x.0, &x.1, &x.2);
        } else {
            self.out.push_str("{ ");
            self.branch(b);
            self.out.push_str(" }");
        }
    }

    /// A branch: an `if` there is an `if` statement, as in officer text; anything else
    /// is an expression statement, which must not start with `if`.
    fn branch(&mut self, n: &Node) {
        if let Kind::If(x) = &n.kind {
            self.if_else(&x.0, &x.1, &x.2);
        } else {
            self.node(
                n,
                Place {
                    min: 0,
                    starts_statement: true,
                },
            );
        }
    }

    fn call(&mut self, name: &str, args: &[&Node]) {
        self.out.push_str(name);
        self.out.push('(');
        for (i, a) in args.iter().enumerate() {
            if i > 0 {
                self.out.push_str(", ");
            }
            self.node(a, Place::EXPR);
        }
        self.out.push(')');
    }
}

/// The place of an operator's first operand: where the operator is, as far as starting a
/// statement goes.
fn first(operand: Place, at: Place) -> Place {
    Place {
        starts_statement: at.starts_statement,
        ..operand
    }
}

#[cfg(test)]
mod tests {
    use once_cell::sync::Lazy;
    use regex::Regex;

    use super::*;
    use crate::compile::catalog::Catalog;
    use crate::lang::check::{Want, check};
    use crate::lang::parse::shape;
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
        assert!(n >= 20, "{n} expressions");
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
}
