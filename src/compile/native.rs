//! Stage 3b: the native lowering of checked expressions.
//!
//! rhai costs a few hundred nanoseconds per call whatever the condition. Every `when`
//! clause and benefit is therefore also lowered to a small typed tree evaluated directly
//! over an enterprise's [`Row`]: tag bits, and field values kept as raw 64-bit words.
//!
//! The tree reproduces rhai's semantics exactly, because both engines must give the same
//! bytes: integers stay `i64` with checked arithmetic, `/` is always floating, the float
//! operators refuse infinity, and float comparisons use rhai's relative-epsilon rule
//! (see [`float_cmp`]). Whenever rhai would raise an error (overflow, division by zero,
//! a date out of range) the native evaluator gives up instead — [`Defer`] — and the pair
//! is evaluated by rhai, so even error messages are rhai's own. An expression the lowering
//! does not cover (an `if` whose branches differ in number type) stays with rhai
//! altogether.
//!
//! The lowering reads the typed tree the checker made ([`crate::lang::tree`]); it never
//! parses text.

use crate::compile::tags::Interner;
use crate::dates;
use crate::eval::columns::Row;
use crate::lang::tree;
use crate::lang::tree::{Cmp, Kind, Lit, Node, Pick, Ty};

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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arith {
    Add,
    Sub,
    Mul,
}

/// A boolean expression.
#[derive(Debug, Clone)]
pub enum Bool {
    Const(bool),
    Field(usize),
    Has(usize),
    Not(Box<Bool>),
    And(Box<[Bool]>),
    Or(Box<[Bool]>),
    Ints(Cmp, Box<Int>, Box<Int>),
    Floats(Cmp, Box<Float>, Box<Float>),
    /// `==` (true) or `!=` (false) between booleans.
    Same(bool, Box<Bool>, Box<Bool>),
    If(Box<(Bool, Bool, Bool)>),
}

/// An integer expression: rhai's `INT`, also dates as day numbers.
#[derive(Debug, Clone)]
pub enum Int {
    Const(i64),
    Field(usize),
    AsOf,
    Arith(Arith, Box<Int>, Box<Int>),
    Neg(Box<Int>),
    Pick(Pick, Box<Int>, Box<Int>),
    Year(Box<Int>),
    AddMonths(Box<Int>, Box<Int>),
    DaysBetween(Box<Int>, Box<Int>),
    If(Box<(Bool, Int, Int)>),
}

/// A floating-point expression.
#[derive(Debug, Clone)]
pub enum Float {
    Const(f64),
    Field(usize),
    FromInt(Box<Int>),
    Arith(Arith, Box<Float>, Box<Float>),
    Div(Box<Float>, Box<Float>),
    Neg(Box<Float>),
    Pick(Pick, Box<Float>, Box<Float>),
    If(Box<(Bool, Float, Float)>),
}

/// A number as rhai would hold it: the benefit formulas may give either.
#[derive(Debug, Clone)]
pub enum Num {
    Int(Int),
    Float(Float),
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
    pub fn eval(&self, at: &At) -> Out<f64> {
        match self {
            Num::Int(i) => Ok(i.eval(at)? as f64),
            Num::Float(f) => f.eval(at),
        }
    }

    fn float(self) -> Float {
        match self {
            Num::Int(i) => Float::FromInt(Box::new(i)),
            Num::Float(f) => f,
        }
    }
}

/// A lowered value of any type, while lowering.
enum Val {
    Bool(Bool),
    Num(Num),
}

/// Lowers a checked boolean expression (a `when` clause); `None` when it is not covered.
pub fn lower_bool(interner: &Interner, tree: &Node) -> Option<Bool> {
    match (Lower { interner }).expr(tree)? {
        Val::Bool(b) => Some(b),
        Val::Num(_) => None,
    }
}

/// Lowers a checked numeric expression (a benefit); `None` when it is not covered.
pub fn lower_num(interner: &Interner, tree: &Node) -> Option<Num> {
    match (Lower { interner }).expr(tree)? {
        Val::Num(n) => Some(n),
        Val::Bool(_) => None,
    }
}

struct Lower<'a> {
    interner: &'a Interner,
}

impl Lower<'_> {
    fn expr(&self, n: &Node) -> Option<Val> {
        Some(match &n.kind {
            Kind::Lit(Lit::Int(i)) => Val::Num(Num::Int(Int::Const(*i))),
            Kind::Lit(Lit::Float(x)) => Val::Num(Num::Float(Float::Const(*x))),
            Kind::Lit(Lit::Bool(b)) => Val::Bool(Bool::Const(*b)),
            Kind::Lit(Lit::Date(d)) => Val::Num(Num::Int(Int::Const(dates::to_days(*d)))),
            Kind::Field { index, .. } => match n.ty {
                Ty::Float => Val::Num(Num::Float(Float::Field(*index))),
                Ty::Int | Ty::Date => Val::Num(Num::Int(Int::Field(*index))),
                Ty::Bool => Val::Bool(Bool::Field(*index)),
            },
            Kind::AsOf => Val::Num(Num::Int(Int::AsOf)),
            Kind::Has(tag) => Val::Bool(match self.interner.bit(tag) {
                Some(b) => Bool::Has(b),
                // As in the rhai script: a tag no profile can carry.
                None => Bool::Const(false),
            }),
            Kind::Not(a) => Val::Bool(Bool::Not(Box::new(self.boolean(a)?))),
            Kind::Neg(a) => Val::Num(match self.num(a)? {
                Num::Int(a) => Num::Int(Int::Neg(Box::new(a))),
                Num::Float(a) => Num::Float(Float::Neg(Box::new(a))),
            }),
            Kind::Compare(op, ab) => self.compare(*op, &ab.0, &ab.1)?,
            Kind::Arith(op, ab) => Val::Num(self.arith(*op, &ab.0, &ab.1)?),
            Kind::And(xs) => Val::Bool(Bool::And(self.booleans(xs)?)),
            Kind::Or(xs) => Val::Bool(Bool::Or(self.booleans(xs)?)),
            Kind::If(x) => self.if_else(&x.0, &x.1, &x.2)?,
            Kind::Year(d) => Val::Num(Num::Int(Int::Year(Box::new(self.int(d)?)))),
            Kind::AddMonths(dn) => Val::Num(Num::Int(Int::AddMonths(
                Box::new(self.int(&dn.0)?),
                Box::new(self.int(&dn.1)?),
            ))),
            Kind::DaysBetween(ab) => Val::Num(Num::Int(Int::DaysBetween(
                Box::new(self.int(&ab.0)?),
                Box::new(self.int(&ab.1)?),
            ))),
            Kind::Pick(pick, ab) => Val::Num(match (self.num(&ab.0)?, self.num(&ab.1)?) {
                (Num::Int(a), Num::Int(b)) => Num::Int(Int::Pick(*pick, Box::new(a), Box::new(b))),
                (a, b) => Num::Float(Float::Pick(*pick, Box::new(a.float()), Box::new(b.float()))),
            }),
        })
    }

    fn boolean(&self, n: &Node) -> Option<Bool> {
        match self.expr(n)? {
            Val::Bool(b) => Some(b),
            Val::Num(_) => None,
        }
    }

    fn booleans(&self, xs: &[Node]) -> Option<Box<[Bool]>> {
        xs.iter()
            .map(|x| self.boolean(x))
            .collect::<Option<Vec<_>>>()
            .map(Vec::into_boxed_slice)
    }

    fn num(&self, n: &Node) -> Option<Num> {
        match self.expr(n)? {
            Val::Num(n) => Some(n),
            Val::Bool(_) => None,
        }
    }

    fn int(&self, n: &Node) -> Option<Int> {
        match self.num(n)? {
            Num::Int(i) => Some(i),
            Num::Float(_) => None,
        }
    }

    fn if_else(&self, c: &Node, a: &Node, b: &Node) -> Option<Val> {
        let c = self.boolean(c)?;
        Some(match (self.expr(a)?, self.expr(b)?) {
            (Val::Bool(a), Val::Bool(b)) => Val::Bool(Bool::If(Box::new((c, a, b)))),
            (Val::Num(Num::Int(a)), Val::Num(Num::Int(b))) => {
                Val::Num(Num::Int(Int::If(Box::new((c, a, b)))))
            }
            (Val::Num(Num::Float(a)), Val::Num(Num::Float(b))) => {
                Val::Num(Num::Float(Float::If(Box::new((c, a, b)))))
            }
            // rhai keeps whichever number type the branch taken gives; not lowered.
            _ => return None,
        })
    }

    fn compare(&self, op: Cmp, a: &Node, b: &Node) -> Option<Val> {
        Some(Val::Bool(match (self.expr(a)?, self.expr(b)?) {
            (Val::Bool(a), Val::Bool(b)) => match op {
                Cmp::Eq => Bool::Same(true, Box::new(a), Box::new(b)),
                Cmp::Ne => Bool::Same(false, Box::new(a), Box::new(b)),
                _ => return None,
            },
            (Val::Num(Num::Int(a)), Val::Num(Num::Int(b))) => {
                Bool::Ints(op, Box::new(a), Box::new(b))
            }
            (Val::Num(a), Val::Num(b)) => {
                Bool::Floats(op, Box::new(a.float()), Box::new(b.float()))
            }
            _ => return None,
        }))
    }

    fn arith(&self, op: tree::Arith, a: &Node, b: &Node) -> Option<Num> {
        let (a, b) = (self.num(a)?, self.num(b)?);
        let op = match op {
            tree::Arith::Add => Arith::Add,
            tree::Arith::Sub => Arith::Sub,
            tree::Arith::Mul => Arith::Mul,
            tree::Arith::Div => {
                return Some(Num::Float(Float::Div(
                    Box::new(a.float()),
                    Box::new(b.float()),
                )));
            }
        };
        Some(match (a, b) {
            (Num::Int(a), Num::Int(b)) => Num::Int(Int::Arith(op, Box::new(a), Box::new(b))),
            (a, b) => Num::Float(Float::Arith(op, Box::new(a.float()), Box::new(b.float()))),
        })
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
