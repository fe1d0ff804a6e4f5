//! One checked expression as SQL, translated from its typed tree with rhai's semantics
//! (see the module documentation of [`crate::sql`]).

use jiff::civil::Date;

use crate::lang::tree::{Arith, Cmp, Kind, Lit, Node, Pick, Ty};
use crate::sql::ident;

/// A translated expression.
#[derive(Debug, Clone)]
pub(super) struct Sql {
    pub(super) text: String,
    /// May be `NULL` — rhai would raise an error — even when every field it reads is set.
    pub(super) fallible: bool,
}

fn sql(text: String, fallible: bool) -> Sql {
    Sql { text, fallible }
}

const DOUBLE: &str = "DOUBLE PRECISION";

fn float_lit(x: f64) -> String {
    // `{:?}` is the shortest text that reads back as the same f64; parsing a string is
    // correctly rounded in both databases, unlike a decimal literal in arithmetic.
    format!("CAST('{x:?}' AS {DOUBLE})")
}

fn int_lit(i: i64) -> String {
    format!("CAST({i} AS BIGINT)")
}

fn date_lit(d: Date) -> String {
    format!("DATE '{d}'")
}

/// The SQL spelling of a comparison operator.
fn sql_op(op: Cmp) -> &'static str {
    match op {
        Cmp::Lt => "<",
        Cmp::Le => "<=",
        Cmp::Gt => ">",
        Cmp::Ge => ">=",
        Cmp::Eq => "=",
        Cmp::Ne => "<>",
    }
}

/// rhai's float comparison (checked build): relative to the larger magnitude with
/// `f64::EPSILON` tolerance, absolute when either side is zero. The scale is never 0, so
/// the division cannot fail; `x - y` is written as rhai computes it.
fn float_cmp(op: Cmp, x: &str, y: &str) -> String {
    let eps = float_lit(f64::EPSILON);
    let scale =
        format!("CASE WHEN {x} = 0 OR {y} = 0 THEN 1 ELSE GREATEST(abs({x}), abs({y})) END");
    match op {
        Cmp::Gt => format!("(({x} - {y}) / {scale} > {eps})"),
        Cmp::Ge => format!("(({x} - {y}) / {scale} > -{eps})"),
        Cmp::Lt => format!("(({y} - {x}) / {scale} > {eps})"),
        Cmp::Le => format!("(({y} - {x}) / {scale} > -{eps})"),
        Cmp::Eq => format!("(abs({x} - {y}) / {scale} <= {eps})"),
        Cmp::Ne => format!("(abs({x} - {y}) / {scale} > {eps})"),
    }
}

fn is_num(ty: Ty) -> bool {
    matches!(ty, Ty::Int | Ty::Float)
}

/// The translator of one checked expression. A tree the checker made always translates;
/// the errors are for a tree built otherwise, of types no rule can have.
pub(super) struct Tr<'a> {
    pub(super) as_of: Date,
    /// The SQL boolean that tests a tag.
    pub(super) tag: &'a dyn Fn(&str) -> String,
}

type Res = Result<Sql, String>;

impl Tr<'_> {
    /// The SQL of `n`, and whether it may fail.
    pub(super) fn expr(&self, n: &Node) -> Res {
        match &n.kind {
            Kind::Lit(Lit::Int(i)) => Ok(sql(int_lit(*i), false)),
            Kind::Lit(Lit::Float(x)) => Ok(sql(float_lit(*x), false)),
            Kind::Lit(Lit::Bool(b)) => Ok(sql(if *b { "TRUE" } else { "FALSE" }.into(), false)),
            Kind::Lit(Lit::Date(d)) => Ok(sql(date_lit(*d), false)),
            Kind::Field { name, .. } => Ok(sql(ident(name), false)),
            Kind::AsOf => Ok(sql(date_lit(self.as_of), false)),
            Kind::Has(tag) => Ok(sql((self.tag)(tag), false)),
            Kind::Not(a) => {
                let a = self.boolean(a)?;
                Ok(sql(format!("(NOT {})", a.text), a.fallible))
            }
            Kind::Neg(a) if is_num(a.ty) => {
                let a = self.expr(a)?;
                Ok(sql(format!("(- {})", a.text), a.fallible))
            }
            Kind::Neg(_) => Err("`-` on something other than a number".into()),
            Kind::Compare(op, ab) => self.compare(*op, &ab.0, &ab.1),
            Kind::Arith(op, ab) => self.arith(*op, &ab.0, &ab.1),
            Kind::And(xs) => self.logic(xs, true),
            Kind::Or(xs) => self.logic(xs, false),
            Kind::If(x) => self.if_else(&x.0, &x.1, &x.2),
            Kind::Year(d) if d.ty == Ty::Date => {
                let d = self.expr(d)?;
                Ok(sql(
                    format!("CAST(EXTRACT(YEAR FROM {}) AS BIGINT)", d.text),
                    d.fallible,
                ))
            }
            Kind::DaysBetween(ab) if (ab.0.ty, ab.1.ty) == (Ty::Date, Ty::Date) => {
                let (a, b) = (self.expr(&ab.0)?, self.expr(&ab.1)?);
                Ok(sql(
                    format!("CAST(({} - {}) AS BIGINT)", b.text, a.text),
                    a.fallible || b.fallible,
                ))
            }
            Kind::AddMonths(dn) if (dn.0.ty, dn.1.ty) == (Ty::Date, Ty::Int) => {
                let (d, n) = (self.expr(&dn.0)?, self.expr(&dn.1)?);
                Ok(sql(
                    format!(
                        "CAST(({} + {} * INTERVAL '1 month') AS DATE)",
                        d.text, n.text
                    ),
                    d.fallible || n.fallible,
                ))
            }
            Kind::Pick(pick, ab) if is_num(ab.0.ty) && is_num(ab.1.ty) => {
                self.pick(*pick, &ab.0, &ab.1)
            }
            Kind::Year(_) | Kind::DaysBetween(_) | Kind::AddMonths(_) | Kind::Pick(..) => {
                Err("a helper given arguments of other types than it takes".into())
            }
        }
    }

    fn boolean(&self, n: &Node) -> Res {
        if n.ty == Ty::Bool {
            self.expr(n)
        } else {
            Err("a condition that is not a bool".into())
        }
    }

    /// `a && b && …` (`and`) or `a || b || …`, evaluated left to right and stopping as
    /// rhai does; an operand that may fail is tested with `CASE` so that a failure is not
    /// hidden by a later operand.
    fn logic(&self, args: &[Node], and: bool) -> Res {
        let parts = args
            .iter()
            .map(|a| self.boolean(a))
            .collect::<Result<Vec<_>, _>>()?;
        let Some((last, init)) = parts.split_last() else {
            return Err("an empty `&&` or `||`".into());
        };
        let (word, stop) = if and {
            ("AND", "FALSE")
        } else {
            ("OR", "TRUE")
        };
        let mut acc = last.clone();
        for p in init.iter().rev() {
            acc = if p.fallible {
                let (on_true, on_false) = if and {
                    (acc.text.as_str(), stop)
                } else {
                    (stop, acc.text.as_str())
                };
                sql(
                    format!(
                        "CASE WHEN {c} THEN {on_true} WHEN NOT {c} THEN {on_false} END",
                        c = p.text
                    ),
                    true,
                )
            } else {
                sql(format!("({} {word} {})", p.text, acc.text), acc.fallible)
            };
        }
        Ok(acc)
    }

    fn if_else(&self, c: &Node, a: &Node, b: &Node) -> Res {
        let same = (is_num(a.ty) && is_num(b.ty)) || a.ty == b.ty;
        if !same {
            return Err("an `if` whose branches differ in type".into());
        }
        let c = self.boolean(c)?;
        let (a, b) = (self.expr(a)?, self.expr(b)?);
        let text = if c.fallible {
            format!(
                "CASE WHEN {c} THEN {a} WHEN NOT {c} THEN {b} END",
                c = c.text,
                a = a.text,
                b = b.text
            )
        } else {
            format!("CASE WHEN {} THEN {} ELSE {} END", c.text, a.text, b.text)
        };
        Ok(sql(text, c.fallible || a.fallible || b.fallible))
    }

    fn compare(&self, op: Cmp, a: &Node, b: &Node) -> Res {
        let (ta, tb) = (a.ty, b.ty);
        let exact = match (ta, tb) {
            (Ty::Bool, Ty::Bool) if matches!(op, Cmp::Eq | Cmp::Ne) => true,
            (Ty::Int, Ty::Int) | (Ty::Date, Ty::Date) => true,
            _ if is_num(ta) && is_num(tb) => false,
            _ => return Err(format!("`{}` between these operands", sql_op(op))),
        };
        let (a, b) = (self.expr(a)?, self.expr(b)?);
        let text = if exact {
            format!("({} {} {})", a.text, sql_op(op), b.text)
        } else {
            float_cmp(op, &a.text, &b.text)
        };
        Ok(sql(text, a.fallible || b.fallible))
    }

    /// Arithmetic: integer operations stay `BIGINT`, `/` is floating and a zero divisor
    /// is `NULL`; a date minus a date is a number of days, a date plus or minus an
    /// integer a date.
    fn arith(&self, op: Arith, a: &Node, b: &Node) -> Res {
        let (ta, tb) = (a.ty, b.ty);
        let (x, y) = (self.expr(a)?, self.expr(b)?);
        let fallible = x.fallible || y.fallible;
        let sym = op.symbol();
        match (op, ta, tb) {
            (Arith::Div, ..) if is_num(ta) && is_num(tb) => {
                let double = |s: &Sql, t: Ty| match t {
                    Ty::Int => format!("CAST({} AS {DOUBLE})", s.text),
                    _ => s.text.clone(),
                };
                Ok(sql(
                    format!("({} / NULLIF({}, 0))", double(&x, ta), double(&y, tb)),
                    true,
                ))
            }
            (Arith::Div, ..) => Err("`/` on something other than numbers".into()),
            _ if is_num(ta) && is_num(tb) => {
                Ok(sql(format!("({} {sym} {})", x.text, y.text), fallible))
            }
            (Arith::Sub, Ty::Date, Ty::Date) => Ok(sql(
                format!("CAST(({} - {}) AS BIGINT)", x.text, y.text),
                fallible,
            )),
            (Arith::Add | Arith::Sub, Ty::Date, Ty::Int) => Ok(sql(
                format!("({} {sym} CAST({} AS INTEGER))", x.text, y.text),
                fallible,
            )),
            _ => Err(format!("`{sym}` on these operands")),
        }
    }

    fn pick(&self, pick: Pick, a: &Node, b: &Node) -> Res {
        let (a, b) = (self.expr(a)?, self.expr(b)?);
        let fallible = a.fallible || b.fallible;
        let f = match pick {
            Pick::Min => "LEAST",
            Pick::Max => "GREATEST",
        };
        let (a, b) = (a.text, b.text);
        // LEAST and GREATEST skip NULLs; a failed operand must fail the call.
        let text = if fallible {
            format!("CASE WHEN {a} IS NULL OR {b} IS NULL THEN NULL ELSE {f}({a}, {b}) END")
        } else {
            format!("{f}({a}, {b})")
        };
        Ok(sql(text, fallible))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lang::check::{Want, check};
    use crate::lang::problem::Problem;
    use jiff::civil::date;

    /// The checked tree of `source`, a condition or an amount.
    fn tree(source: &str) -> Result<Node, Vec<Problem>> {
        let schema = crate::profile::schema::builtin_for_tests();
        check(&schema, source, Want::Bool)
            .or_else(|_| check(&schema, source, Want::Num))
            .map(|c| c.tree)
    }

    fn tr(source: &str) -> Result<(String, bool), String> {
        let tag = |t: &str| ident(t);
        let tree = tree(source).unwrap_or_else(|p| panic!("{source}: {p:?}"));
        Tr {
            as_of: date(2025, 6, 30),
            tag: &tag,
        }
        .expr(&tree)
        .map(|s| (s.text, s.fallible))
    }

    const EPS: &str = "CAST('2.220446049250313e-16' AS DOUBLE PRECISION)";

    /// rhai's `x < y` on floats, as emitted.
    fn lt(x: &str, y: &str) -> String {
        format!(
            "(({y} - {x}) / CASE WHEN {x} = 0 OR {y} = 0 THEN 1 ELSE GREATEST(abs({x}), abs({y})) END > {EPS})"
        )
    }

    #[test]
    fn expressions_translate_to_sql() {
        let ei = "\"energy_intensity\"";
        let c052 = "CAST('0.52' AS DOUBLE PRECISION)";
        let cases: Vec<(&str, String, bool)> = vec![
            ("energy_intensity < 0.52", lt(ei, c052), false),
            (
                "employees >= 10",
                "(\"employees\" >= CAST(10 AS BIGINT))".into(),
                false,
            ),
            (
                "investor_unchanged == true",
                "(\"investor_unchanged\" = TRUE)".into(),
                false,
            ),
            (
                "!(employees > 1) && has(\"cert:high_tech\")",
                "((NOT (\"employees\" > CAST(1 AS BIGINT))) AND \"cert:high_tech\")".into(),
                false,
            ),
            (
                "employees > 1 || has(\"cert:high_tech\")",
                "((\"employees\" > CAST(1 AS BIGINT)) OR \"cert:high_tech\")".into(),
                false,
            ),
            (
                "year(founded) >= year(as_of) - 1",
                "(CAST(EXTRACT(YEAR FROM \"founded\") AS BIGINT) >= (CAST(EXTRACT(YEAR FROM DATE '2025-06-30') AS BIGINT) - CAST(1 AS BIGINT)))".into(),
                false,
            ),
            (
                "as_of >= add_months(dishonest_published_on, 3)",
                "(DATE '2025-06-30' >= CAST((\"dishonest_published_on\" + CAST(3 AS BIGINT) * INTERVAL '1 month') AS DATE))".into(),
                false,
            ),
            (
                "founded <= as_of - 365 * 3",
                "(\"founded\" <= (DATE '2025-06-30' - CAST((CAST(365 AS BIGINT) * CAST(3 AS BIGINT)) AS INTEGER)))".into(),
                false,
            ),
            (
                "days_between(founded, as_of) > 1000",
                "(CAST((DATE '2025-06-30' - \"founded\") AS BIGINT) > CAST(1000 AS BIGINT))".into(),
                false,
            ),
            (
                "as_of - founded == 7",
                "(CAST((DATE '2025-06-30' - \"founded\") AS BIGINT) = CAST(7 AS BIGINT))".into(),
                false,
            ),
            (
                "founded >= date(\"2020-01-01\")",
                "(\"founded\" >= DATE '2020-01-01')".into(),
                false,
            ),
            (
                "employees / 4",
                "(CAST(\"employees\" AS DOUBLE PRECISION) / NULLIF(CAST(CAST(4 AS BIGINT) AS DOUBLE PRECISION), 0))".into(),
                true,
            ),
            (
                "booth_fee_yuan / 2.0",
                "(\"booth_fee_yuan\" / NULLIF(CAST('2.0' AS DOUBLE PRECISION), 0))".into(),
                true,
            ),
            (
                "if has(\"cert:specialized_new\") { 3.0 } else { 2.5 }",
                "CASE WHEN \"cert:specialized_new\" THEN CAST('3.0' AS DOUBLE PRECISION) ELSE CAST('2.5' AS DOUBLE PRECISION) END".into(),
                false,
            ),
            (
                "if has(\"project:provincial_major_special\") { 1.0 } else if has(\"project:provincial_major_leading\") { 0.6 } else { 0.4 }",
                "CASE WHEN \"project:provincial_major_special\" THEN CAST('1.0' AS DOUBLE PRECISION) ELSE CASE WHEN \"project:provincial_major_leading\" THEN CAST('0.6' AS DOUBLE PRECISION) ELSE CAST('0.4' AS DOUBLE PRECISION) END END".into(),
                false,
            ),
            (
                "min(booth_fee_yuan * 0.7, 50000)",
                "LEAST((\"booth_fee_yuan\" * CAST('0.7' AS DOUBLE PRECISION)), CAST(50000 AS BIGINT))".into(),
                false,
            ),
            (
                "-employees < -3",
                "((- \"employees\") < CAST(-3 AS BIGINT))".into(),
                false,
            ),
        ];
        for (src, want, fallible) in cases {
            assert_eq!(tr(src), Ok((want, fallible)), "{src}");
        }
    }

    #[test]
    fn a_failing_operand_is_not_hidden_by_sql_three_valued_logic() {
        let div = "(CAST(\"employees\" AS DOUBLE PRECISION) / NULLIF(CAST(CAST(0 AS BIGINT) AS DOUBLE PRECISION), 0))";
        let cmp = lt(div, "CAST(1 AS BIGINT)");
        for (src, want) in [
            (
                // rhai stops at a false left operand, and fails on a failing one.
                "employees / 0 < 1 && false",
                format!("CASE WHEN {cmp} THEN FALSE WHEN NOT {cmp} THEN FALSE END"),
            ),
            ("false && employees / 0 < 1", format!("(FALSE AND {cmp})")),
            (
                "employees / 0 < 1 || true",
                format!("CASE WHEN {cmp} THEN TRUE WHEN NOT {cmp} THEN TRUE END"),
            ),
            (
                "if employees / 0 < 1 { 1 } else { 2 } > 0",
                format!(
                    "(CASE WHEN {cmp} THEN CAST(1 AS BIGINT) WHEN NOT {cmp} THEN CAST(2 AS BIGINT) END > CAST(0 AS BIGINT))"
                ),
            ),
            (
                "max(employees / 0, 1)",
                format!(
                    "CASE WHEN {div} IS NULL OR CAST(1 AS BIGINT) IS NULL THEN NULL ELSE GREATEST({div}, CAST(1 AS BIGINT)) END"
                ),
            ),
        ] {
            assert_eq!(tr(src), Ok((want, true)), "{src}");
        }
    }

    #[test]
    fn numbers_that_may_be_floats_never_reach_integer_helpers_or_dates() {
        // rhai has `year`, `days_between` and `add_months` for integers only, and a date
        // plus a fraction of a day would be a float: the checker refuses all of them, so
        // the translation never meets one.
        for src in [
            "founded + 0.5 > as_of",
            "year(founded + 0.5) > 2000",
            "add_months(founded, 1.0) < as_of",
            "add_months(founded, if has(\"cert:high_tech\") { 1 } else { 1.5 }) < as_of",
            "year(if has(\"cert:high_tech\") { founded } else { founded + 0.5 }) > 2000",
            "(if has(\"cert:high_tech\") { founded } else { founded + 0.5 }) < as_of",
        ] {
            assert!(tree(src).is_err(), "{src}");
        }
        // Mixed number branches compare as floats.
        let (text, fallible) =
            tr("(if has(\"cert:high_tech\") { 1 } else { 1.5 }) < employees").expect("translates");
        assert!(!fallible);
        assert!(
            text.starts_with("((\"employees\" - CASE WHEN \"cert:high_tech\" THEN CAST(1 AS BIGINT) ELSE CAST('1.5' AS DOUBLE PRECISION) END) / CASE WHEN"),
            "{text}"
        );
    }
}
