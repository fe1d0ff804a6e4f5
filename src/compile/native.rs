//! Stage 3b: the native lowering of checked expressions.
//!
//! rhai costs a few hundred nanoseconds per call whatever the condition. Every `when`
//! clause and benefit is therefore also lowered to a small typed tree, evaluated directly
//! over an enterprise's row (`eval::native`): tag bits, and field values kept as raw
//! 64-bit words.
//!
//! The tree reproduces rhai's semantics exactly, because both engines must give the same
//! bytes: integers stay `i64` with checked arithmetic, `/` is always floating, the float
//! operators refuse infinity, and float comparisons use rhai's relative-epsilon rule
//! (`eval::native::float_cmp`). Whenever rhai would raise an error (overflow, division by zero,
//! a date out of range) the native evaluator gives up instead (`Defer`) and the pair
//! is evaluated by rhai, so even error messages are rhai's own. An expression the lowering
//! does not cover (an `if` whose branches differ in number type) stays with rhai
//! altogether.
//!
//! The lowering reads the typed tree the checker made ([`crate::lang::tree`]); it never
//! parses text.

use crate::compile::tags::Interner;
use crate::dates;
use crate::lang::tree;
use crate::lang::tree::{Cmp, Kind, Lit, Node, Pick, Ty};

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

impl Num {
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
