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
//! does not cover (an `if` whose branches differ in number type, a helper given a float
//! where rhai only has an integer version) stays with rhai altogether.

use rhai::{Expr as RExpr, FnCallExpr, Stmt};

use crate::compile::tags::Interner;
use crate::dates;
use crate::eval::columns::Row;
use crate::profile::schema::FieldType;
use crate::profile::schema::Schema;

/// The native evaluator cannot decide this value the way rhai would: let rhai do it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Defer;

type Out<T> = Result<T, Defer>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmp {
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
}

impl Cmp {
    /// The operator rhai spells `op`.
    pub(crate) fn of(op: &str) -> Option<Cmp> {
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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pick {
    Min,
    Max,
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
pub fn lower_bool(schema: &Schema, interner: &Interner, source: &str) -> Option<Bool> {
    match Lower::new(schema, interner).root(source)? {
        Val::Bool(b) => Some(b),
        Val::Num(_) => None,
    }
}

/// Lowers a checked numeric expression (a benefit); `None` when it is not covered.
pub fn lower_num(schema: &Schema, interner: &Interner, source: &str) -> Option<Num> {
    match Lower::new(schema, interner).root(source)? {
        Val::Num(n) => Some(n),
        Val::Bool(_) => None,
    }
}

struct Lower<'a> {
    schema: &'a Schema,
    interner: &'a Interner,
}

impl<'a> Lower<'a> {
    fn new(schema: &'a Schema, interner: &'a Interner) -> Self {
        Lower { schema, interner }
    }

    fn root(&self, source: &str) -> Option<Val> {
        let ast = crate::lang::parse::parse(source).ok()?;
        match ast.statements() {
            [Stmt::Expr(e)] => self.expr(e),
            _ => None,
        }
    }

    fn expr(&self, e: &RExpr) -> Option<Val> {
        Some(match e {
            RExpr::IntegerConstant(i, _) => Val::Num(Num::Int(Int::Const(*i))),
            RExpr::FloatConstant(x, _) => Val::Num(Num::Float(Float::Const(**x))),
            RExpr::BoolConstant(b, _) => Val::Bool(Bool::Const(*b)),
            RExpr::Variable(v, ..) => self.variable(v.1.as_str())?,
            RExpr::And(args, _) | RExpr::Or(args, _) => {
                let parts = args
                    .iter()
                    .map(|a| self.boolean(a))
                    .collect::<Option<Vec<_>>>()?
                    .into_boxed_slice();
                Val::Bool(if matches!(e, RExpr::And(..)) {
                    Bool::And(parts)
                } else {
                    Bool::Or(parts)
                })
            }
            RExpr::FnCall(call, _) if call.op_token.is_some() => self.operator(call)?,
            RExpr::FnCall(call, _) => self.function(call)?,
            RExpr::Stmt(block) => match block.statements() {
                [Stmt::If(flow, _)] => self.if_else(flow)?,
                [Stmt::Expr(e)] => self.expr(e)?,
                _ => return None,
            },
            _ => return None,
        })
    }

    fn boolean(&self, e: &RExpr) -> Option<Bool> {
        match self.expr(e)? {
            Val::Bool(b) => Some(b),
            Val::Num(_) => None,
        }
    }

    fn num(&self, e: &RExpr) -> Option<Num> {
        match self.expr(e)? {
            Val::Num(n) => Some(n),
            Val::Bool(_) => None,
        }
    }

    fn int(&self, e: &RExpr) -> Option<Int> {
        match self.num(e)? {
            Num::Int(i) => Some(i),
            Num::Float(_) => None,
        }
    }

    fn branch(&self, b: &rhai::StmtBlock) -> Option<Val> {
        match b.statements() {
            [Stmt::Expr(e)] => self.expr(e),
            [Stmt::If(flow, _)] => self.if_else(flow),
            _ => None,
        }
    }

    fn if_else(&self, flow: &rhai::FlowControl) -> Option<Val> {
        let c = self.boolean(&flow.expr)?;
        Some(
            match (self.branch(&flow.body)?, self.branch(&flow.branch)?) {
                (Val::Bool(a), Val::Bool(b)) => Val::Bool(Bool::If(Box::new((c, a, b)))),
                (Val::Num(Num::Int(a)), Val::Num(Num::Int(b))) => {
                    Val::Num(Num::Int(Int::If(Box::new((c, a, b)))))
                }
                (Val::Num(Num::Float(a)), Val::Num(Num::Float(b))) => {
                    Val::Num(Num::Float(Float::If(Box::new((c, a, b)))))
                }
                // rhai keeps whichever number type the branch taken gives; not lowered.
                _ => return None,
            },
        )
    }

    fn variable(&self, name: &str) -> Option<Val> {
        if name == "as_of" {
            return Some(Val::Num(Num::Int(Int::AsOf)));
        }
        let f = self.schema.field(name)?;
        Some(match f.ty {
            FieldType::Number => Val::Num(Num::Float(Float::Field(f.index))),
            FieldType::Integer | FieldType::Date => Val::Num(Num::Int(Int::Field(f.index))),
            FieldType::Bool => Val::Bool(Bool::Field(f.index)),
        })
    }

    fn operator(&self, call: &FnCallExpr) -> Option<Val> {
        let op = call.name.as_str();
        let args: Vec<Val> = call
            .args
            .iter()
            .map(|a| self.expr(a))
            .collect::<Option<_>>()?;
        let mut args = args.into_iter();
        let (a, b) = (args.next()?, args.next());
        if args.next().is_some() {
            return None;
        }
        Some(match (op, a, b) {
            ("!", Val::Bool(a), None) => Val::Bool(Bool::Not(Box::new(a))),
            ("-", Val::Num(Num::Int(a)), None) => Val::Num(Num::Int(Int::Neg(Box::new(a)))),
            ("-", Val::Num(Num::Float(a)), None) => Val::Num(Num::Float(Float::Neg(Box::new(a)))),
            ("==" | "!=", Val::Bool(a), Some(Val::Bool(b))) => {
                Val::Bool(Bool::Same(op == "==", Box::new(a), Box::new(b)))
            }
            (_, Val::Num(a), Some(Val::Num(b))) => {
                if let Some(cmp) = Cmp::of(op) {
                    return Some(Val::Bool(match (a, b) {
                        (Num::Int(a), Num::Int(b)) => Bool::Ints(cmp, Box::new(a), Box::new(b)),
                        (a, b) => Bool::Floats(cmp, Box::new(a.float()), Box::new(b.float())),
                    }));
                }
                let arith = match op {
                    "+" => Arith::Add,
                    "-" => Arith::Sub,
                    "*" => Arith::Mul,
                    "/" => {
                        return Some(Val::Num(Num::Float(Float::Div(
                            Box::new(a.float()),
                            Box::new(b.float()),
                        ))));
                    }
                    _ => return None,
                };
                Val::Num(match (a, b) {
                    (Num::Int(a), Num::Int(b)) => {
                        Num::Int(Int::Arith(arith, Box::new(a), Box::new(b)))
                    }
                    (a, b) => Num::Float(Float::Arith(
                        arith,
                        Box::new(a.float()),
                        Box::new(b.float()),
                    )),
                })
            }
            _ => return None,
        })
    }

    fn function(&self, call: &FnCallExpr) -> Option<Val> {
        let args: Vec<&RExpr> = call.args.iter().collect();
        Some(match (call.name.as_str(), args.as_slice()) {
            ("has", [RExpr::StringConstant(tag, _)]) => Val::Bool(match self.interner.bit(tag) {
                Some(b) => Bool::Has(b),
                // As in the rhai rewrite: a tag no profile can carry.
                None => Bool::Const(false),
            }),
            ("date", [RExpr::StringConstant(s, _)]) => {
                let d = crate::dates::parse_date(s)?;
                Val::Num(Num::Int(Int::Const(dates::to_days(d))))
            }
            ("year", [d]) => Val::Num(Num::Int(Int::Year(Box::new(self.int(d)?)))),
            ("add_months", [d, n]) => Val::Num(Num::Int(Int::AddMonths(
                Box::new(self.int(d)?),
                Box::new(self.int(n)?),
            ))),
            ("days_between", [a, b]) => Val::Num(Num::Int(Int::DaysBetween(
                Box::new(self.int(a)?),
                Box::new(self.int(b)?),
            ))),
            (name @ ("min" | "max"), [a, b]) => {
                let pick = if name == "min" { Pick::Min } else { Pick::Max };
                Val::Num(match (self.num(a)?, self.num(b)?) {
                    (Num::Int(a), Num::Int(b)) => {
                        Num::Int(Int::Pick(pick, Box::new(a), Box::new(b)))
                    }
                    (a, b) => {
                        Num::Float(Float::Pick(pick, Box::new(a.float()), Box::new(b.float())))
                    }
                })
            }
            _ => return None,
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
