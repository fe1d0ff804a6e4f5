//! The sandboxed rhai engine that every compiled measure runs on.
//!
//! Built once per catalog and never changed afterwards; with rhai's `sync` feature it is
//! shared by every worker thread. `Engine::new_raw` gives no standard library: only the
//! helpers registered here exist. Helpers that read the profile are volatile so the
//! optimiser never folds them, and none of them can panic (a panic inside a native
//! function would escape rhai and abort a whole batch).

use std::sync::Arc;

use fixedbitset::FixedBitSet;
use rhai::{Engine, EvalAltResult, FLOAT, FuncRegistration, INT, OptimizationLevel, Position};

use crate::dates;
use crate::lang::parse::MAX_DEPTH;

/// Operations one script may perform before it is stopped; generous for any real rule,
/// small enough that a hostile one ends in microseconds.
pub const MAX_OPERATIONS: u64 = 50_000;

/// Nesting the generated script adds around an officer's expression (the array of
/// conditions, the presence guard's `if` and block, parentheses).
const WRAPPER_DEPTH: usize = 8;

/// The expression depth the engine allows, in rhai's count: an expression the checker
/// accepted at [`MAX_DEPTH`] must compile here once printed from its tree. The printed
/// text nests no deeper than the officer's (parentheses, calls, `if`), but rhai also
/// counts one level per operator of a chain (`a + b + c` costs two), and the printed
/// text leaves out the parentheses an officer may put around the start of a chain
/// (`(a + b) + c` is the same tree as `a + b + c`): one chain can then hold the
/// operators of up to `MAX_DEPTH / 2` nested groups of up to `MAX_DEPTH` each. rhai
/// parses a chain in a loop, so those levels cost no stack.
const GENERATED_DEPTH: usize = MAX_DEPTH * (MAX_DEPTH / 2 + 1) + WRAPPER_DEPTH;

/// What a script sees of the enterprise: its interned tags and which fields are present.
#[derive(Clone)]
pub struct Ctx {
    pub tags: Arc<FixedBitSet>,
    pub present: Arc<FixedBitSet>,
}

fn err(msg: String) -> Box<EvalAltResult> {
    Box::new(EvalAltResult::ErrorRuntime(msg.into(), Position::NONE))
}

fn finite(x: FLOAT) -> Result<FLOAT, Box<EvalAltResult>> {
    if x.is_finite() {
        Ok(x)
    } else {
        Err(err(format!("arithmetic result {x} is not a finite number")))
    }
}

fn divide(a: FLOAT, b: FLOAT) -> Result<FLOAT, Box<EvalAltResult>> {
    if b == 0.0 {
        return Err(Box::new(EvalAltResult::ErrorArithmetic(
            "division by zero".into(),
            Position::NONE,
        )));
    }
    finite(a / b)
}

pub fn build() -> Engine {
    let mut e = Engine::new_raw();
    e.set_strict_variables(true);
    e.set_max_operations(MAX_OPERATIONS);
    e.set_max_expr_depths(GENERATED_DEPTH, GENERATED_DEPTH);
    e.set_max_string_size(1024);
    e.set_max_array_size(1024);
    e.set_optimization_level(OptimizationLevel::Full);
    // Registered operators below must win over rhai's built-in ones.
    e.set_fast_operators(false);
    e.register_type_with_name::<Ctx>("Profile");

    FuncRegistration::new("has")
        .with_volatility(true)
        .register_into_engine(&mut e, |c: &mut Ctx, bit: INT| {
            usize::try_from(bit).is_ok_and(|b| c.tags.contains(b))
        });
    FuncRegistration::new("present")
        .with_volatility(true)
        .register_into_engine(&mut e, |c: &mut Ctx, i: INT| {
            usize::try_from(i).is_ok_and(|i| c.present.contains(i))
        });

    // `new_raw` has no logic package: the only unary operators are the ones given here.
    e.register_fn("!", |b: bool| !b);
    e.register_fn("-", |x: FLOAT| -x);
    e.register_fn("-", |x: INT| -> Result<INT, Box<EvalAltResult>> {
        x.checked_neg()
            .ok_or_else(|| err(format!("-({x}) overflows")))
    });

    e.register_fn("date", |s: &str| -> Result<INT, Box<EvalAltResult>> {
        crate::dates::parse_date(s)
            .map(dates::to_days)
            .ok_or_else(|| err(format!("`{s}` is not a date")))
    });
    e.register_fn("year", |d: INT| -> Result<INT, Box<EvalAltResult>> {
        dates::from_days(d)
            .map(|d| INT::from(d.year()))
            .ok_or_else(|| err(format!("day {d} is out of range")))
    });
    e.register_fn(
        "add_months",
        |d: INT, n: INT| -> Result<INT, Box<EvalAltResult>> {
            let date =
                dates::from_days(d).ok_or_else(|| err(format!("day {d} is out of range")))?;
            let months =
                i32::try_from(n).map_err(|_| err(format!("{n} months is out of range")))?;
            jiff::Span::new()
                .try_months(months)
                .and_then(|span| date.checked_add(span))
                .map(dates::to_days)
                .map_err(|e| err(format!("adding {n} months to {date}: {e}")))
        },
    );
    e.register_fn(
        "days_between",
        |a: INT, b: INT| -> Result<INT, Box<EvalAltResult>> {
            b.checked_sub(a)
                .ok_or_else(|| err("date difference overflows".into()))
        },
    );
    e.register_fn("min", |a: FLOAT, b: FLOAT| a.min(b));
    e.register_fn("max", |a: FLOAT, b: FLOAT| a.max(b));
    e.register_fn("min", |a: INT, b: INT| a.min(b));
    e.register_fn("max", |a: INT, b: INT| a.max(b));
    e.register_fn("min", |a: INT, b: FLOAT| (a as FLOAT).min(b));
    e.register_fn("max", |a: INT, b: FLOAT| (a as FLOAT).max(b));
    e.register_fn("min", |a: FLOAT, b: INT| a.min(b as FLOAT));
    e.register_fn("max", |a: FLOAT, b: INT| a.max(b as FLOAT));

    // Division never yields infinity or NaN: a NaN makes `!(x < c)` true and would
    // grant a benefit on garbage.
    e.register_fn("/", divide);
    // The other float operators refuse infinity (and so NaN) too; integer overflow is
    // already an error in rhai.
    e.register_fn("+", |a: FLOAT, b: FLOAT| finite(a + b));
    e.register_fn("-", |a: FLOAT, b: FLOAT| finite(a - b));
    e.register_fn("*", |a: FLOAT, b: FLOAT| finite(a * b));
    e.register_fn("+", |a: INT, b: FLOAT| finite(a as FLOAT + b));
    e.register_fn("-", |a: INT, b: FLOAT| finite(a as FLOAT - b));
    e.register_fn("*", |a: INT, b: FLOAT| finite(a as FLOAT * b));
    e.register_fn("+", |a: FLOAT, b: INT| finite(a + b as FLOAT));
    e.register_fn("-", |a: FLOAT, b: INT| finite(a - b as FLOAT));
    e.register_fn("*", |a: FLOAT, b: INT| finite(a * b as FLOAT));
    e.register_fn("/", |a: INT, b: FLOAT| divide(a as FLOAT, b));
    e.register_fn("/", |a: FLOAT, b: INT| divide(a, b as FLOAT));
    e.register_fn("/", |a: INT, b: INT| divide(a as FLOAT, b as FLOAT));
    e
}

#[cfg(test)]
mod tests {
    use super::*;
    use rhai::{Dynamic, Scope};

    fn eval(src: &str) -> Result<Dynamic, String> {
        let e = build();
        let mut scope = Scope::new();
        scope.push("x", 0.5 as FLOAT);
        scope.push("n", 4 as INT);
        let ast = e
            .compile_expression_with_scope(&scope, src)
            .map_err(|e| e.to_string())?;
        e.eval_ast_with_scope::<Dynamic>(&mut scope, &ast)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn operators_work_on_the_raw_engine() {
        for (src, want) in [
            ("!(x < 1.0)", false),
            ("!false", true),
            ("x < 1 && n >= 4.0", true),
            ("-x < 0", true),
            ("n / 8 == 0.5", true),
            ("x * 2 + n - 1 == 4.0", true),
            ("if n > 3 { x } else { 0.0 } == 0.5", true),
            ("min(n, x) == 0.5 && max(x, n) == 4", true),
            ("year(date(\"2025-06-30\")) == 2025", true),
            (
                "days_between(date(\"2025-01-01\"), date(\"2025-03-01\")) == 59",
                true,
            ),
            (
                "add_months(date(\"2025-01-31\"), 1) == date(\"2025-02-28\")",
                true,
            ),
            (
                "add_months(date(\"2025-03-31\"), -12) == date(\"2024-03-31\")",
                true,
            ),
        ] {
            assert_eq!(eval(src).map(|d| d.as_bool()), Ok(Ok(want)), "{src}");
        }
    }

    #[test]
    fn arithmetic_that_would_give_nan_or_infinity_is_an_error() {
        for src in ["x / 0.0 > 1", "n / 0 > 1", "0.0 / 0.0 < 1"] {
            assert!(
                eval(src).is_err_and(|e| e.contains("division by zero")),
                "{src}"
            );
        }
        for src in [
            "x * 1.0e308 * 10.0 > 1",
            "1.0e308 + 1.0e308 > x",
            "-1.0e308 - 1.0e308 < n",
        ] {
            assert!(
                eval(src).is_err_and(|e| e.contains("not a finite number")),
                "{src}"
            );
        }
    }

    #[test]
    fn helpers_refuse_out_of_range_arguments_without_panicking() {
        for src in [
            "add_months(0, 1000000) > 0",
            "add_months(0, -9999999999) > 0",
            "year(99999999999) > 0",
        ] {
            assert!(eval(src).is_err(), "{src}");
        }
    }
}
