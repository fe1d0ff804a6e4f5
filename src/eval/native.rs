//! Evaluating the native trees (`compile::native`) over an enterprise's row, with rhai's
//! exact semantics: checked integer arithmetic, floating `/`, float operators that refuse
//! infinity, rhai's relative-epsilon float comparison ([`float_cmp`]). Wherever rhai would
//! raise an error the evaluation gives up with [`Defer`] and the pair goes to rhai.

use crate::compile::native::{Arith, Bool, Float, Int, Num};
use crate::dates;
use crate::eval::columns::Row;
use crate::lang::tree::{Cmp, Pick};

/// The native evaluator cannot decide this value the way rhai would: let rhai do it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Defer;

type Out<T> = Result<T, Defer>;

// Integer comparison is evaluation, so it lives here beside `float_cmp`.
impl Cmp {
    fn ints(self, a: i64, b: i64) -> bool {
        match self {
            Cmp::Lt => a < b,
            Cmp::Le => a <= b,
            Cmp::Gt => a > b,
            Cmp::Ge => a >= b,
            Cmp::Eq => a == b,
            Cmp::Ne => a != b,
        }
    }
}

/// rhai's float comparison (its checked build): relative to the larger magnitude, with
/// `f64::EPSILON` tolerance; absolute when either side is zero.
pub fn float_cmp(op: Cmp, x: f64, y: f64) -> bool {
    let max = if x * y == 0.0 {
        1.0
    } else {
        x.abs().max(y.abs())
    };
    if max == 0.0 {
        return matches!(op, Cmp::Eq | Cmp::Ge | Cmp::Le);
    }
    match op {
        Cmp::Eq => (x - y).abs() / max <= f64::EPSILON,
        Cmp::Ne => (x - y).abs() / max > f64::EPSILON,
        Cmp::Gt => (x - y) / max > f64::EPSILON,
        Cmp::Ge => (x - y) / max > -f64::EPSILON,
        Cmp::Lt => (y - x) / max > f64::EPSILON,
        Cmp::Le => (y - x) / max > -f64::EPSILON,
    }
}

/// Where an evaluation happens: the enterprise and the evaluation date.
pub struct At<'r> {
    pub row: &'r Row<'r>,
    pub as_of: i64,
}

impl Bool {
    pub fn eval(&self, at: &At) -> Out<bool> {
        Ok(match self {
            Bool::Const(b) => *b,
            Bool::Field(f) => at.row.value(*f) != 0,
            Bool::Has(bit) => at.row.has(*bit),
            Bool::Not(b) => !b.eval(at)?,
            Bool::And(bs) => {
                for b in bs.iter() {
                    if !b.eval(at)? {
                        return Ok(false);
                    }
                }
                true
            }
            Bool::Or(bs) => {
                for b in bs.iter() {
                    if b.eval(at)? {
                        return Ok(true);
                    }
                }
                false
            }
            Bool::Ints(op, a, b) => op.ints(a.eval(at)?, b.eval(at)?),
            Bool::Floats(op, a, b) => float_cmp(*op, a.eval(at)?, b.eval(at)?),
            Bool::Same(eq, a, b) => (a.eval(at)? == b.eval(at)?) == *eq,
            Bool::If(x) => {
                if x.0.eval(at)? {
                    x.1.eval(at)?
                } else {
                    x.2.eval(at)?
                }
            }
        })
    }
}

impl Int {
    pub fn eval(&self, at: &At) -> Out<i64> {
        match self {
            Int::Const(i) => Ok(*i),
            Int::Field(f) => Ok(at.row.value(*f) as i64),
            Int::AsOf => Ok(at.as_of),
            Int::Arith(op, a, b) => {
                let (a, b) = (a.eval(at)?, b.eval(at)?);
                match op {
                    Arith::Add => a.checked_add(b),
                    Arith::Sub => a.checked_sub(b),
                    Arith::Mul => a.checked_mul(b),
                }
                .ok_or(Defer)
            }
            Int::Neg(a) => a.eval(at)?.checked_neg().ok_or(Defer),
            Int::Pick(p, a, b) => {
                let (a, b) = (a.eval(at)?, b.eval(at)?);
                Ok(match p {
                    Pick::Min => a.min(b),
                    Pick::Max => a.max(b),
                })
            }
            Int::Year(d) => dates::from_days(d.eval(at)?)
                .map(|d| i64::from(d.year()))
                .ok_or(Defer),
            Int::AddMonths(d, n) => {
                let (d, n) = (d.eval(at)?, n.eval(at)?);
                let date = dates::from_days(d).ok_or(Defer)?;
                let months = i32::try_from(n).map_err(|_| Defer)?;
                jiff::Span::new()
                    .try_months(months)
                    .and_then(|span| date.checked_add(span))
                    .map(dates::to_days)
                    .map_err(|_| Defer)
            }
            Int::DaysBetween(a, b) => {
                let (a, b) = (a.eval(at)?, b.eval(at)?);
                b.checked_sub(a).ok_or(Defer)
            }
            Int::If(x) => {
                if x.0.eval(at)? {
                    x.1.eval(at)
                } else {
                    x.2.eval(at)
                }
            }
        }
    }
}

fn finite(x: f64) -> Out<f64> {
    if x.is_finite() { Ok(x) } else { Err(Defer) }
}

impl Float {
    pub fn eval(&self, at: &At) -> Out<f64> {
        match self {
            Float::Const(x) => Ok(*x),
            Float::Field(f) => Ok(f64::from_bits(at.row.value(*f))),
            Float::FromInt(i) => Ok(i.eval(at)? as f64),
            Float::Arith(op, a, b) => {
                let (a, b) = (a.eval(at)?, b.eval(at)?);
                finite(match op {
                    Arith::Add => a + b,
                    Arith::Sub => a - b,
                    Arith::Mul => a * b,
                })
            }
            Float::Div(a, b) => {
                let (a, b) = (a.eval(at)?, b.eval(at)?);
                if b == 0.0 {
                    return Err(Defer);
                }
                finite(a / b)
            }
            Float::Neg(a) => Ok(-a.eval(at)?),
            Float::Pick(p, a, b) => {
                let (a, b) = (a.eval(at)?, b.eval(at)?);
                Ok(match p {
                    Pick::Min => a.min(b),
                    Pick::Max => a.max(b),
                })
            }
            Float::If(x) => {
                if x.0.eval(at)? {
                    x.1.eval(at)
                } else {
                    x.2.eval(at)
                }
            }
        }
    }
}

impl Num {
    /// The value as rhai's benefit amount would read it.
    pub fn eval(&self, at: &At<'_>) -> Out<f64> {
        match self {
            Num::Int(i) => Ok(i.eval(at)? as f64),
            Num::Float(f) => f.eval(at),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn float_comparison_is_rhai_comparison() {
        let engine = crate::compile::engine::build();
        let values = [
            0.0,
            -0.0,
            1e-300,
            1e-15,
            0.3,
            0.1 + 0.2,
            0.52,
            -2.5,
            1e308,
            7.0,
        ];
        let ops = [
            ("<", Cmp::Lt),
            ("<=", Cmp::Le),
            (">", Cmp::Gt),
            (">=", Cmp::Ge),
            ("==", Cmp::Eq),
            ("!=", Cmp::Ne),
        ];
        for x in values {
            for y in values {
                for (text, op) in ops {
                    let mut scope = rhai::Scope::new();
                    scope.push("x", x);
                    scope.push("y", y);
                    let want: bool = engine
                        .eval_expression_with_scope(&mut scope, &format!("x {text} y"))
                        .unwrap();
                    assert_eq!(float_cmp(op, x, y), want, "{x:e} {text} {y:e}");
                }
            }
        }
        assert!(float_cmp(Cmp::Eq, 0.1 + 0.2, 0.3), "within tolerance");
    }
}
