//! The push list as one SQL query, for DuckDB and PostgreSQL (`compile --emit sql`).
//!
//! A data warehouse that already holds the population can compute the nightly push list
//! (精准推送) itself, and anyone can cross-check `policy-match match` with an independent
//! engine. [`push_query`] prints one query that reads a table or view `profiles` with the
//! columns `gen --out x.parquet` writes — `id`, `tags` (a list of text), then one column
//! per schema field: number `DOUBLE`, integer `BIGINT`, date `DATE`, bool `BOOLEAN`,
//! `NULL` for a missing value — and returns `(enterprise_id, measure_id)`, ordered by
//! both, exactly the pairs `match` writes to `pushes` for every enterprise it does not
//! reject.
//!
//! What the query reproduces, and how:
//!
//! - **Effective window and delivery.** `as_of` is known when the query is emitted, so
//!   measures out of their window or without `push` delivery are simply left out, and
//!   `as_of` is a `DATE` literal.
//! - **Tags.** One pass over the (enterprise, tag) pairs of `unnest(tags)` gives one
//!   boolean column per tag the measures test (named after the tag) with `bool_or`: by
//!   equality, or by `starts_with` in a hierarchical namespace (`industry:C17` matches
//!   `industry:C1713`), as `tags::Interner::tagset` does.
//! - **`when` clauses** are translated from the rhai tree that `lang::check` checks (never
//!   from the text), with rhai's semantics: integer arithmetic stays `BIGINT`, `/` is
//!   floating division and `NULLIF` turns a zero divisor into `NULL`, float comparisons
//!   use rhai's relative-epsilon rule (see `native::float_cmp`), dates are `DATE`s (`date
//!   ± integer days`, `date - date` days, `year`, `add_months` clamping to the month's end
//!   like jiff), `if` is `CASE`. Inside an expression `NULL` stands for a runtime error:
//!   `&&`, `||` and `if` short-circuit as rhai does (a `CASE` where an operand may be
//!   `NULL`), and `min`/`max` propagate it, unlike SQL's `LEAST`/`GREATEST`.
//! - **Decision** ([`crate::eval::decide`]): a clause holds when every field it reads is
//!   `NOT NULL` and it is true; the base group must hold and, if there are alternatives,
//!   one of them. A clause that fails to evaluate makes the pair an error, never pushed:
//!   in the base group it simply does not hold; in an alternative whose tag tests hold,
//!   the pair is excluded. A measure with a benefit is pushed only when every field the
//!   benefit reads is present and the amount evaluates to a number at least 0 (otherwise
//!   `match` reports the pair undetermined or an error).
//!
//! - **Shape.** One row per enterprise carries an array with one `CASE` per measure —
//!   the measure id when the pair is pushed, `NULL` otherwise — unnested and filtered:
//!   every condition is computed in a single scan of `profiles`.
//!
//! Not reproduced: arithmetic that leaves the range of `DOUBLE` or `BIGINT`, dates
//! outside years 1–9999, and float comparisons of two values whose product underflows
//! (both below about 1e-162 in magnitude): rhai errors or decides by its own rule where
//! PostgreSQL raises an error and DuckDB gives infinity — none of which a valid profile
//! holds. Rows `match` rejects (bad ids, unknown tags, out-of-range values, duplicate
//! ids) are not recognised: the query assumes a valid population, with unique ids. An
//! expression where rhai fails or not depending on which number type an `if` branch
//! gives at run time (such a number or date given to `year`, `days_between` or
//! `add_months`, which exist for integers only) has no exact translation and is refused
//! with [`SqlError`]. Rows come in the database's text collation; ids and measure ids
//! are ASCII digits and capitals, which the `C` collation (and the usual language ones)
//! orders as `match` does.
//!
//! Pure: this module builds a string and does no IO.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use jiff::civil::Date;
use rhai::{Expr as RExpr, FlowControl, Stmt, StmtBlock};

use crate::compile::catalog::Catalog;
use crate::lang::tree::Cmp;
use crate::profile::schema::FieldType;
use crate::profile::schema::Schema;
use crate::rules::ir::Delivery;
use crate::rules::ir::Group;
use crate::rules::ir::Measure;
use crate::rules::ir::Test;

/// An expression the emitter cannot translate exactly; no query is emitted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{measure}: `{expr}` has no exact SQL translation: {reason}")]
pub struct SqlError {
    pub measure: String,
    pub expr: String,
    pub reason: String,
}

/// The number type rhai holds at run time: known, or depending on an `if` branch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Num {
    Int,
    Float,
    Either,
}

impl Num {
    /// The type of `a + b`, `a * b`, `min(a, b)`: integer only when both are.
    fn arith(self, other: Num) -> Num {
        match (self, other) {
            (Num::Int, Num::Int) => Num::Int,
            (Num::Float, _) | (_, Num::Float) => Num::Float,
            _ => Num::Either,
        }
    }

    /// The type of `if c { a } else { b }`.
    fn join(self, other: Num) -> Num {
        if self == other { self } else { Num::Either }
    }
}

/// What a translated expression is. A date is a day number in rhai: as an integer it is a
/// SQL `DATE`; as a float (a date plus a fractional number of days) a `DOUBLE` day count
/// since 1970-01-01.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Bool,
    Num(Num),
    Date(Num),
}

/// A translated expression.
#[derive(Debug, Clone)]
struct Sql {
    text: String,
    kind: Kind,
    /// May be `NULL` — rhai would raise an error — even when every field it reads is set.
    fallible: bool,
}

fn sql(text: String, kind: Kind, fallible: bool) -> Sql {
    Sql {
        text,
        kind,
        fallible,
    }
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

/// A quoted identifier.
fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// A quoted string literal (standard: backslashes are plain characters).
fn string_lit(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// One line of comment text.
fn comment(s: &str) -> String {
    s.replace(['\n', '\r'], " ")
}

/// The error value of a kind: evaluating it is what rhai's failing call does.
fn error_value(kind: Kind) -> Sql {
    let ty = match kind {
        Kind::Bool => "BOOLEAN",
        Kind::Num(Num::Int) => "BIGINT",
        Kind::Num(_) | Kind::Date(Num::Float | Num::Either) => DOUBLE,
        Kind::Date(Num::Int) => "DATE",
    };
    sql(format!("CAST(NULL AS {ty})"), kind, true)
}

/// A date of number type `n` as a day number: a `DATE` becomes days since 1970-01-01.
fn days(text: &str, n: Num) -> String {
    match n {
        Num::Int => format!("CAST(({text} - DATE '1970-01-01') AS BIGINT)"),
        Num::Float | Num::Either => text.to_owned(),
    }
}

/// The comparison rhai spells `op`.
fn cmp_of(op: &str) -> Option<Cmp> {
    Some(match op {
        "<" => Cmp::Lt,
        "<=" => Cmp::Le,
        ">" => Cmp::Gt,
        ">=" => Cmp::Ge,
        "==" => Cmp::Eq,
        "!=" => Cmp::Ne,
        _ => return None,
    })
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

/// The translator of one checked expression.
struct Tr<'a> {
    schema: &'a Schema,
    as_of: Date,
    /// The SQL boolean that tests a tag.
    tag: &'a dyn Fn(&str) -> String,
}

type Res = Result<Sql, String>;

impl Tr<'_> {
    fn root(&self, source: &str) -> Res {
        let ast = crate::lang::parse::parse(source)
            .map_err(|p| format!("it does not parse: {}", p.message))?;
        match ast.statements() {
            [Stmt::Expr(e)] => self.expr(e),
            _ => Err("it is not a single expression".into()),
        }
    }

    fn expr(&self, e: &RExpr) -> Res {
        match e {
            RExpr::IntegerConstant(i, _) => Ok(sql(int_lit(*i), Kind::Num(Num::Int), false)),
            RExpr::FloatConstant(x, _) => Ok(sql(float_lit(**x), Kind::Num(Num::Float), false)),
            RExpr::BoolConstant(b, _) => Ok(sql(
                if *b { "TRUE" } else { "FALSE" }.into(),
                Kind::Bool,
                false,
            )),
            RExpr::Variable(v, ..) => self.variable(v.1.as_str()),
            RExpr::And(args, _) => self.logic(args, true),
            RExpr::Or(args, _) => self.logic(args, false),
            RExpr::FnCall(call, _) => {
                let args: Vec<&RExpr> = call.args.iter().collect();
                if call.op_token.is_some() {
                    self.operator(call.name.as_str(), &args)
                } else {
                    self.function(call.name.as_str(), &args)
                }
            }
            RExpr::Stmt(block) => self.block(block),
            _ => Err("a construct outside the checked subset".into()),
        }
    }

    fn block(&self, b: &StmtBlock) -> Res {
        match b.statements() {
            [Stmt::Expr(e)] => self.expr(e),
            [Stmt::If(flow, _)] => self.if_else(flow),
            _ => Err("a block that is not one expression".into()),
        }
    }

    fn boolean(&self, e: &RExpr) -> Res {
        let s = self.expr(e)?;
        match s.kind {
            Kind::Bool => Ok(s),
            _ => Err("a condition that is not a bool".into()),
        }
    }

    fn variable(&self, name: &str) -> Res {
        if name == "as_of" {
            return Ok(sql(date_lit(self.as_of), Kind::Date(Num::Int), false));
        }
        let f = self
            .schema
            .field(name)
            .ok_or_else(|| format!("unknown field `{name}`"))?;
        let kind = match f.ty {
            FieldType::Number => Kind::Num(Num::Float),
            FieldType::Integer => Kind::Num(Num::Int),
            FieldType::Date => Kind::Date(Num::Int),
            FieldType::Bool => Kind::Bool,
        };
        Ok(sql(ident(&f.name), kind, false))
    }

    /// `a && b && …` (`and`) or `a || b || …`, evaluated left to right and stopping as
    /// rhai does; an operand that may fail is tested with `CASE` so that a failure is not
    /// hidden by a later operand.
    fn logic(&self, args: &[RExpr], and: bool) -> Res {
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
                    Kind::Bool,
                    true,
                )
            } else {
                sql(
                    format!("({} {word} {})", p.text, acc.text),
                    Kind::Bool,
                    acc.fallible,
                )
            };
        }
        Ok(acc)
    }

    fn if_else(&self, flow: &FlowControl) -> Res {
        let c = self.boolean(&flow.expr)?;
        let a = self.block(&flow.body)?;
        let b = self.block(&flow.branch)?;
        let (a_text, b_text, kind) = match (a.kind, b.kind) {
            (Kind::Bool, Kind::Bool) => (a.text.clone(), b.text.clone(), Kind::Bool),
            (Kind::Num(x), Kind::Num(y)) => (a.text.clone(), b.text.clone(), Kind::Num(x.join(y))),
            (Kind::Date(Num::Int), Kind::Date(Num::Int)) => {
                (a.text.clone(), b.text.clone(), Kind::Date(Num::Int))
            }
            (Kind::Date(x), Kind::Date(y)) => {
                (days(&a.text, x), days(&b.text, y), Kind::Date(x.join(y)))
            }
            _ => return Err("an `if` whose branches differ in type".into()),
        };
        let text = if c.fallible {
            format!(
                "CASE WHEN {c} THEN {a_text} WHEN NOT {c} THEN {b_text} END",
                c = c.text
            )
        } else {
            format!("CASE WHEN {} THEN {a_text} ELSE {b_text} END", c.text)
        };
        Ok(sql(text, kind, c.fallible || a.fallible || b.fallible))
    }

    fn operator(&self, op: &str, args: &[&RExpr]) -> Res {
        let xs = args
            .iter()
            .map(|a| self.expr(a))
            .collect::<Result<Vec<_>, _>>()?;
        let fallible = xs.iter().any(|x| x.fallible);
        if let (Some(cmp), [a, b]) = (cmp_of(op), xs.as_slice()) {
            return self.compare(cmp, a, b);
        }
        match (op, xs.as_slice()) {
            ("!", [a]) if a.kind == Kind::Bool => {
                Ok(sql(format!("(NOT {})", a.text), Kind::Bool, fallible))
            }
            ("-", [a]) if matches!(a.kind, Kind::Num(_)) => {
                Ok(sql(format!("(- {})", a.text), a.kind, fallible))
            }
            ("/", [a, b]) => match (a.kind, b.kind) {
                (Kind::Num(x), Kind::Num(y)) => {
                    let double = |s: &Sql, n: Num| match n {
                        Num::Int => format!("CAST({} AS {DOUBLE})", s.text),
                        _ => s.text.clone(),
                    };
                    Ok(sql(
                        format!("({} / NULLIF({}, 0))", double(a, x), double(b, y)),
                        Kind::Num(Num::Float),
                        true,
                    ))
                }
                _ => Err("`/` on something other than numbers".into()),
            },
            ("+" | "-" | "*", [a, b]) => match (a.kind, b.kind) {
                (Kind::Num(x), Kind::Num(y)) => Ok(sql(
                    format!("({} {op} {})", a.text, b.text),
                    Kind::Num(x.arith(y)),
                    fallible,
                )),
                (Kind::Date(Num::Int), Kind::Date(Num::Int)) if op == "-" => Ok(sql(
                    format!("CAST(({} - {}) AS BIGINT)", a.text, b.text),
                    Kind::Num(Num::Int),
                    fallible,
                )),
                (Kind::Date(x), Kind::Date(y)) if op == "-" => Ok(sql(
                    format!("({} - {})", days(&a.text, x), days(&b.text, y)),
                    Kind::Num(x.arith(y)),
                    fallible,
                )),
                (Kind::Date(Num::Int), Kind::Num(Num::Int)) if op != "*" => Ok(sql(
                    format!("({} {op} CAST({} AS INTEGER))", a.text, b.text),
                    Kind::Date(Num::Int),
                    fallible,
                )),
                (Kind::Date(x), Kind::Num(y)) if op != "*" => Ok(sql(
                    format!("({} {op} {})", days(&a.text, x), b.text),
                    Kind::Date(x.arith(y)),
                    fallible,
                )),
                _ => Err(format!("`{op}` on these operands")),
            },
            _ => Err(format!("the operator `{op}` on these operands")),
        }
    }

    fn compare(&self, op: Cmp, a: &Sql, b: &Sql) -> Res {
        let fallible = a.fallible || b.fallible;
        let exact =
            |x: &str, y: &str| sql(format!("({x} {} {y})", sql_op(op)), Kind::Bool, fallible);
        let approx = |x: &str, y: &str| sql(float_cmp(op, x, y), Kind::Bool, fallible);
        match (a.kind, b.kind) {
            (Kind::Bool, Kind::Bool) if matches!(op, Cmp::Eq | Cmp::Ne) => {
                Ok(exact(&a.text, &b.text))
            }
            (Kind::Num(Num::Int), Kind::Num(Num::Int))
            | (Kind::Date(Num::Int), Kind::Date(Num::Int)) => Ok(exact(&a.text, &b.text)),
            (Kind::Num(_), Kind::Num(_)) => Ok(approx(&a.text, &b.text)),
            (Kind::Date(x), Kind::Date(y)) => Ok(approx(&days(&a.text, x), &days(&b.text, y))),
            _ => Err(format!("`{}` between these operands", sql_op(op))),
        }
    }

    fn function(&self, name: &str, args: &[&RExpr]) -> Res {
        match (name, args) {
            ("has", [RExpr::StringConstant(tag, _)]) => {
                Ok(sql((self.tag)(tag.as_str()), Kind::Bool, false))
            }
            ("date", [RExpr::StringConstant(s, _)]) => Ok(match crate::dates::parse_date(s) {
                Some(d) => sql(date_lit(d), Kind::Date(Num::Int), false),
                None => error_value(Kind::Date(Num::Int)),
            }),
            ("year" | "days_between" | "add_months" | "min" | "max", _) => {
                let xs = args
                    .iter()
                    .map(|a| self.expr(a))
                    .collect::<Result<Vec<_>, _>>()?;
                self.helper(name, &xs)
            }
            _ => Err(format!("the function `{name}` with these arguments")),
        }
    }

    /// `year`, `days_between` and `add_months` exist in the engine for integers only: a
    /// float argument is a runtime error there, so it is the error value here.
    fn helper(&self, name: &str, xs: &[Sql]) -> Res {
        let fallible = xs.iter().any(|x| x.fallible);
        let ints = |nums: &[Num]| -> Result<bool, String> {
            if nums.contains(&Num::Float) {
                Ok(false)
            } else if nums.contains(&Num::Either) {
                Err(format!(
                    "`{name}` given a value that is an integer or a float depending on an `if` branch"
                ))
            } else {
                Ok(true)
            }
        };
        let kinds: Vec<Kind> = xs.iter().map(|x| x.kind).collect();
        let texts: Vec<&str> = xs.iter().map(|x| x.text.as_str()).collect();
        let int = |text: String| sql(text, Kind::Num(Num::Int), fallible);
        match (name, kinds.as_slice(), texts.as_slice()) {
            ("year", [Kind::Date(n)], [d]) => Ok(if ints(&[*n])? {
                int(format!("CAST(EXTRACT(YEAR FROM {d}) AS BIGINT)"))
            } else {
                error_value(Kind::Num(Num::Int))
            }),
            ("days_between", [Kind::Date(x), Kind::Date(y)], [a, b]) => Ok(if ints(&[*x, *y])? {
                int(format!("CAST(({b} - {a}) AS BIGINT)"))
            } else {
                error_value(Kind::Num(Num::Int))
            }),
            ("add_months", [Kind::Date(x), Kind::Num(y)], [d, n]) => Ok(if ints(&[*x, *y])? {
                sql(
                    format!("CAST(({d} + {n} * INTERVAL '1 month') AS DATE)"),
                    Kind::Date(Num::Int),
                    fallible,
                )
            } else {
                error_value(Kind::Date(Num::Int))
            }),
            ("min" | "max", [Kind::Num(x), Kind::Num(y)], [a, b]) => {
                let f = if name == "min" { "LEAST" } else { "GREATEST" };
                // LEAST and GREATEST skip NULLs; a failed operand must fail the call.
                let text = if fallible {
                    format!("CASE WHEN {a} IS NULL OR {b} IS NULL THEN NULL ELSE {f}({a}, {b}) END")
                } else {
                    format!("{f}({a}, {b})")
                };
                Ok(sql(text, Kind::Num(x.arith(*y)), fallible))
            }
            _ => Err(format!("`{name}` with these arguments")),
        }
    }
}

/// Translates one checked expression; the SQL text, and whether it may fail.
fn translate(
    schema: &Schema,
    as_of: Date,
    tag: &dyn Fn(&str) -> String,
    source: &str,
) -> Result<Sql, String> {
    Tr { schema, as_of, tag }.root(source)
}

/// The columns of the `tagged` CTE: one per tested tag.
struct TagColumns<'a> {
    schema: &'a Schema,
    names: BTreeMap<String, String>,
}

impl<'a> TagColumns<'a> {
    fn new(schema: &'a Schema, measures: &[&Measure]) -> Self {
        let mut tags: Vec<&str> = Vec::new();
        for m in measures {
            for (_, c) in m.conditions() {
                match &c.test {
                    Test::Has(t) | Test::Lacks(t) => tags.push(t),
                    Test::Any(ts) => tags.extend(ts.iter().map(String::as_str)),
                    Test::When(e) => tags.extend(e.tags.iter().map(String::as_str)),
                }
            }
            if let Some(b) = &m.benefit {
                tags.extend(b.expr.tags.iter().map(String::as_str));
            }
        }
        tags.sort_unstable();
        tags.dedup();
        // Named after the tag (no field name holds `:`), unless PostgreSQL would cut it.
        let names = tags
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let name = if t.len() <= 63 {
                    (*t).to_owned()
                } else {
                    format!("tag#{i}")
                };
                ((*t).to_owned(), ident(&name))
            })
            .collect();
        TagColumns { schema, names }
    }

    /// The column testing `tag`; `FALSE` for a tag the CTE does not compute (none).
    fn column(&self, tag: &str) -> String {
        self.names
            .get(tag)
            .cloned()
            .unwrap_or_else(|| "FALSE".into())
    }

    /// Whether one of a profile's tags, `t.tag`, gives `tag`, as in
    /// `tags::Interner::tagset`: equal, or in a hierarchical namespace starting with it.
    fn test(&self, tag: &str) -> String {
        let hierarchical = tag
            .split_once(':')
            .and_then(|(ns, _)| self.schema.namespaces.get(ns))
            .is_some_and(|ns| ns.hierarchical);
        let value_empty = tag.split_once(':').is_none_or(|(_, v)| v.is_empty());
        if !hierarchical {
            format!("t.tag = {}", string_lit(tag))
        } else if value_empty {
            // A value must have at least one character to be matched below.
            "FALSE".into()
        } else {
            format!("starts_with(t.tag, {})", string_lit(tag))
        }
    }
}

/// A condition line: its SQL and the label it comes from.
struct Line {
    sql: String,
    note: String,
}

impl Line {
    fn render(&self) -> String {
        if self.note.is_empty() {
            self.sql.clone()
        } else {
            format!("{}  -- {}", self.sql, comment(&self.note))
        }
    }
}

struct MeasureQuery<'a> {
    schema: &'a Schema,
    as_of: Date,
    tags: &'a TagColumns<'a>,
    measure: &'a Measure,
}

/// What a `when` clause becomes: whether it holds, and whether it failed.
struct Clause {
    holds: String,
    failed: Option<String>,
}

impl MeasureQuery<'_> {
    fn error(&self, expr: &str, reason: String) -> SqlError {
        SqlError {
            measure: self.measure.id.clone(),
            expr: expr.to_owned(),
            reason,
        }
    }

    fn expr(&self, e: &crate::rules::ir::Expr) -> Result<(Sql, String), SqlError> {
        let tag = |t: &str| self.tags.column(t);
        let s = translate(self.schema, self.as_of, &tag, &e.source)
            .map_err(|r| self.error(&e.source, r))?;
        let present: Vec<String> = e
            .fields
            .iter()
            .map(|f| format!("{} IS NOT NULL", ident(f)))
            .collect();
        Ok((s, present.join(" AND ")))
    }

    fn clause(&self, e: &crate::rules::ir::Expr) -> Result<Clause, SqlError> {
        let (s, present) = self.expr(e)?;
        let value = if s.fallible {
            format!("({}) IS TRUE", s.text)
        } else {
            s.text.clone()
        };
        let guarded = |v: String| {
            if present.is_empty() {
                v
            } else {
                format!("({present} AND {v})")
            }
        };
        Ok(Clause {
            holds: guarded(value),
            failed: s.fallible.then(|| guarded(format!("({}) IS NULL", s.text))),
        })
    }

    fn tag_test(&self, t: &Test) -> Option<String> {
        match t {
            Test::Has(tag) => Some(self.tags.column(tag)),
            Test::Lacks(tag) => Some(format!("NOT {}", self.tags.column(tag))),
            Test::Any(tags) => Some(format!(
                "({})",
                tags.iter()
                    .map(|t| self.tags.column(t))
                    .collect::<Vec<_>>()
                    .join(" OR ")
            )),
            Test::When(_) => None,
        }
    }

    /// Every condition of a group, and the test that one of its clauses failed.
    fn group(&self, g: &Group) -> Result<(Vec<Line>, Option<String>), SqlError> {
        let mut lines = Vec::new();
        let mut tag_tests = Vec::new();
        let mut failures = Vec::new();
        for c in &g.conditions {
            let sql = match &c.test {
                Test::When(e) => {
                    let clause = self.clause(e)?;
                    failures.extend(clause.failed);
                    clause.holds
                }
                t => {
                    let s = self.tag_test(t).unwrap_or_else(|| "TRUE".into());
                    tag_tests.push(s.clone());
                    s
                }
            };
            lines.push(Line {
                sql,
                note: c.label.clone(),
            });
        }
        let failed = (!failures.is_empty()).then(|| {
            let any_failed = format!("({})", failures.join(" OR "));
            if tag_tests.is_empty() {
                any_failed
            } else {
                format!("({} AND {any_failed})", tag_tests.join(" AND "))
            }
        });
        Ok((lines, failed))
    }

    /// The `CASE` giving the measure's id when the pair is pushed, `NULL` otherwise.
    fn case(&self) -> Result<String, SqlError> {
        let m = self.measure;
        let mut where_: Vec<Line> = Vec::new();
        let (base, _) = self.group(&m.eligibility.base)?;
        where_.extend(base);
        if !m.eligibility.alternatives.is_empty() {
            let mut alts = Vec::new();
            let mut failures = Vec::new();
            for (i, g) in m.eligibility.alternatives.iter().enumerate() {
                let (lines, failed) = self.group(g)?;
                let label = g
                    .label
                    .clone()
                    .unwrap_or_else(|| format!("alternative {}", i + 1));
                let body = if lines.is_empty() {
                    "TRUE".to_owned()
                } else {
                    lines
                        .iter()
                        .map(Line::render)
                        .collect::<Vec<_>>()
                        .join("\n                AND ")
                };
                let or = if i == 0 {
                    "                "
                } else {
                    "\n             OR "
                };
                alts.push(format!(
                    "{or}(  -- {}\n                    {body}\n                )",
                    comment(&label)
                ));
                if let Some(f) = failed {
                    failures.push((f, label));
                }
            }
            where_.push(Line {
                sql: format!(
                    "(  -- one alternative holds\n{}\n          )",
                    alts.concat()
                ),
                note: String::new(),
            });
            for (f, label) in failures {
                where_.push(Line {
                    sql: format!("NOT {f}"),
                    note: format!("no clause of「{}」fails to evaluate", comment(&label)),
                });
            }
        }
        if let Some(b) = &m.benefit {
            let (s, present) = self.expr(&b.expr)?;
            let value = format!("({}) >= 0", s.text);
            where_.push(Line {
                sql: if present.is_empty() {
                    value
                } else {
                    format!("({present} AND {value})")
                },
                note: format!("benefit known and at least 0: {}", b.label),
            });
        }
        let mut out = String::new();
        let _ = writeln!(
            out,
            "    -- {} {}（第{}条） · {}",
            m.id,
            comment(&crate::report::explain::title(m)),
            m.article,
            comment(&m.file)
        );
        if where_.is_empty() {
            let _ = write!(out, "    {}", string_lit(&m.id));
            return Ok(out);
        }
        for (i, l) in where_.iter().enumerate() {
            let word = if i == 0 {
                "    CASE WHEN "
            } else {
                "\n          AND "
            };
            let _ = write!(out, "{word}{}", l.render());
        }
        let _ = write!(out, "\n      THEN {} END", string_lit(&m.id));
        Ok(out)
    }
}

/// The fields the measures read, in schema order.
fn fields_read<'s>(schema: &'s Schema, measures: &[&Measure]) -> Vec<&'s str> {
    let mut read = std::collections::BTreeSet::new();
    for m in measures {
        for (_, c) in m.conditions() {
            if let Test::When(e) = &c.test {
                read.extend(e.fields.iter().map(String::as_str));
            }
        }
        if let Some(b) = &m.benefit {
            read.extend(b.expr.fields.iter().map(String::as_str));
        }
    }
    schema
        .fields
        .iter()
        .map(|f| f.name.as_str())
        .filter(|f| read.contains(f))
        .collect()
}

/// The push list of `match` as of `as_of`, restricted to `measures` (those out of their
/// effective window or without push delivery contribute nothing), as one SQL query over
/// a table or view `profiles`. See the module documentation.
pub fn push_query<'m>(
    catalog: &Catalog,
    measures: impl IntoIterator<Item = &'m Measure>,
    as_of: Date,
) -> Result<String, SqlError> {
    let pushed: Vec<&Measure> = measures
        .into_iter()
        .filter(|m| m.in_effect(as_of) && m.delivery.contains(&Delivery::Push))
        .collect();
    let tags = TagColumns::new(&catalog.schema, &pushed);
    let cases = pushed
        .iter()
        .map(|m| {
            MeasureQuery {
                schema: &catalog.schema,
                as_of,
                tags: &tags,
                measure: m,
            }
            .case()
        })
        .collect::<Result<Vec<_>, _>>()?;

    let mut q = String::new();
    let _ = writeln!(
        q,
        "-- policy-match push list (精准推送) as of {as_of}, catalog {}: the (enterprise, measure)",
        catalog.hash
    );
    let _ = writeln!(
        q,
        "-- pairs `policy-match match --as-of {as_of}` pushes, for {} measure(s) in effect with push",
        pushed.len()
    );
    let _ = writeln!(
        q,
        "-- delivery. Reads `profiles`: id, tags (a list of text), one column per schema field (NULL: missing)."
    );
    if cases.is_empty() {
        let _ = write!(
            q,
            "SELECT CAST(NULL AS VARCHAR) AS enterprise_id, CAST(NULL AS VARCHAR) AS measure_id\nWHERE FALSE"
        );
        return Ok(q);
    }
    let mut columns = vec!["profiles.id".to_owned()];
    columns.extend(
        fields_read(&catalog.schema, &pushed)
            .iter()
            .map(|f| format!("profiles.{}", ident(f))),
    );
    if tags.names.is_empty() {
        let _ = writeln!(q, "WITH tagged AS (");
        let _ = writeln!(q, "  SELECT {}", columns.join(", "));
        let _ = writeln!(q, "  FROM profiles\n)");
    } else {
        // One pass over every (enterprise, tag) pair; ids are unique in a valid population.
        let _ = writeln!(q, "WITH tag_tests AS (\n  SELECT t.id");
        for (tag, name) in &tags.names {
            let _ = writeln!(q, "    , bool_or({}) AS {name}", tags.test(tag));
        }
        let _ = writeln!(
            q,
            "  FROM (SELECT profiles.id, unnest(profiles.tags) AS tag FROM profiles) AS t\n  GROUP BY t.id\n),"
        );
        let _ = writeln!(q, "tagged AS (\n  SELECT {}", columns.join(", "));
        for name in tags.names.values() {
            let _ = writeln!(q, "    , COALESCE(tag_tests.{name}, FALSE) AS {name}");
        }
        let _ = writeln!(
            q,
            "  FROM profiles LEFT JOIN tag_tests ON tag_tests.id = profiles.id\n)"
        );
    }
    // One row per enterprise with one array entry per measure: the measure id when the
    // pair is pushed, NULL otherwise.
    let _ = writeln!(q, "SELECT enterprise_id, measure_id\nFROM (");
    let _ = writeln!(q, "  SELECT tagged.id AS enterprise_id, unnest(ARRAY[");
    let _ = writeln!(q, "{}", cases.join(",\n"));
    let _ = write!(
        q,
        "  ]) AS measure_id\n  FROM tagged\n) AS pairs\nWHERE measure_id IS NOT NULL\nORDER BY enterprise_id, measure_id"
    );
    Ok(q)
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn tr(source: &str) -> Result<(String, bool), String> {
        let schema = crate::profile::schema::builtin_for_tests();
        let tag = |t: &str| ident(t);
        translate(&schema, date(2025, 6, 30), &tag, source).map(|s| (s.text, s.fallible))
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
    fn floats_as_dates_and_helpers_rhai_has_only_for_integers() {
        // A date plus half a day is a float day number in rhai: compared as such.
        let (text, _) = tr("founded + 0.5 > as_of").expect("translates");
        assert!(
            text.contains("CAST((\"founded\" - DATE '1970-01-01') AS BIGINT) + CAST('0.5' AS DOUBLE PRECISION)"),
            "{text}"
        );
        // `year` of a float is a runtime error in the engine: the error value here.
        assert_eq!(
            tr("year(founded + 0.5) > 2000").map(|t| t.1),
            Ok(true),
            "year of a float fails"
        );
        assert!(
            tr("year(founded + 0.5) > 2000")
                .is_ok_and(|(t, _)| t.starts_with("(CAST(NULL AS BIGINT) > "))
        );
        assert!(
            tr("add_months(founded, 1.0) < as_of")
                .is_ok_and(|(t, f)| f && t.starts_with("(CAST(NULL AS DATE) < "))
        );
        // Whether rhai fails depends on the branch taken: refused.
        for src in [
            "add_months(founded, if has(\"cert:high_tech\") { 1 } else { 1.5 }) < as_of",
            "year(if has(\"cert:high_tech\") { founded } else { founded + 0.5 }) > 2000",
        ] {
            assert!(tr(src).is_err(), "{src}");
        }
        // Mixed number branches compare as floats, exactly as rhai does either way.
        assert!(tr("(if has(\"cert:high_tech\") { 1 } else { 1.5 }) < employees").is_ok());
        assert!(
            tr("(if has(\"cert:high_tech\") { founded } else { founded + 0.5 }) < as_of").is_ok()
        );
    }

    #[test]
    fn a_clause_failing_in_an_alternative_excludes_the_pair() {
        use crate::rules::ir::Condition;
        use crate::rules::ir::Eligibility;
        use crate::rules::ir::Group;
        let catalog = Catalog::builtin().expect("built-in catalog");
        let check = |src: &str| {
            crate::rules::ir::Expr::check(&catalog.schema, src, crate::lang::check::Want::Bool)
                .expect(src)
        };
        let cond = |test| Condition {
            label: "c".into(),
            test,
        };
        let mut m = catalog.measure("M017").expect("M017").measure.clone();
        m.eligibility = Eligibility {
            base: Group {
                label: None,
                conditions: vec![cond(Test::Has("kind:enterprise".into()))],
            },
            alternatives: vec![
                Group {
                    label: Some("small".into()),
                    conditions: vec![cond(Test::Has("size:small".into()))],
                },
                Group {
                    label: Some("ratio".into()),
                    conditions: vec![
                        cond(Test::Lacks("size:micro".into())),
                        cond(Test::When(check("revenue_10k_yuan / employees > 10.0"))),
                    ],
                },
            ],
        };
        let q = push_query(&catalog, [&m], date(2025, 6, 30)).expect("translates");
        let present = "\"employees\" IS NOT NULL AND \"revenue_10k_yuan\" IS NOT NULL";
        for part in [
            "(  -- one alternative holds",
            "(  -- small\n                    \"size:small\"  -- c\n                )",
            &format!(
                "OR (  -- ratio\n                    NOT \"size:micro\"  -- c\n                AND ({present} AND ("
            ),
            &format!("AND NOT (NOT \"size:micro\" AND (({present} AND (("),
            ") IS NULL)))  -- no clause of「ratio」fails to evaluate",
        ] {
            assert!(q.contains(part), "{part}\n{q}");
        }
    }

    #[test]
    fn tags_are_tested_exactly_or_by_prefix_in_hierarchical_namespaces() {
        let schema = crate::profile::schema::builtin_for_tests();
        let cols = TagColumns {
            schema: &schema,
            names: BTreeMap::new(),
        };
        assert_eq!(
            cols.test("industry:C17"),
            "starts_with(t.tag, 'industry:C17')"
        );
        assert_eq!(cols.test("cert:it's"), "t.tag = 'cert:it''s'");
        assert_eq!(cols.column("kind:none"), "FALSE");
        assert_eq!(ident("a\"b"), "\"a\"\"b\"");
    }
}
