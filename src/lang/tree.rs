//! The typed expression tree: what the checker makes of an officer's expression, once.
//!
//! The native lowering, the rhai script generator and the SQL emitter all read this tree
//! instead of parsing the text again, so they cannot disagree about what was written.
//! Literals keep the kind rhai gives them (an integer stays an integer, a float keeps its
//! exact value), and every node carries its static type.

use jiff::civil::Date;

/// The static type of a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ty {
    /// Always rhai's `INT` at run time.
    Int,
    /// A number not always an integer: a float, or an `if` whose branches differ in
    /// number type (rhai keeps whichever the branch taken gives).
    Float,
    Bool,
    /// A day number since 1970-01-01, an `INT` in rhai.
    Date,
}

/// A node and its static type.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// What the node gives, as far as the checker can prove.
    pub ty: Ty,
    /// What it computes from its children.
    pub kind: Kind,
}

/// What a node computes.
#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    /// A literal as rhai reads it.
    Lit(Lit),
    /// A field of the schema: its index (presence bits, row values) and its name.
    Field { index: usize, name: String },
    /// The evaluation date.
    AsOf,
    /// `has("tag")`: the tag, checked against the vocabulary.
    Has(String),
    /// `!a`.
    Not(Box<Node>),
    /// `-a` on a number that is not a literal (rhai folds `-literal` into the literal).
    Neg(Box<Node>),
    /// A comparison of two numbers, two dates, or (`==`, `!=`) two booleans.
    Compare(Cmp, Box<(Node, Node)>),
    /// Arithmetic on numbers, or on dates and integer days.
    Arith(Arith, Box<(Node, Node)>),
    /// `a && b && …`, as rhai flattens it: two operands or more.
    And(Vec<Node>),
    /// `a || b || …`: two operands or more.
    Or(Vec<Node>),
    /// `if c { a } else { b }`: condition, then, else.
    If(Box<(Node, Node, Node)>),
    /// `year(d)`.
    Year(Box<Node>),
    /// `days_between(a, b)`: `b - a` in days.
    DaysBetween(Box<(Node, Node)>),
    /// `add_months(d, n)`.
    AddMonths(Box<(Node, Node)>),
    /// `min(a, b)` or `max(a, b)`.
    Pick(Pick, Box<(Node, Node)>),
}

/// A literal, with the kind it was written as.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Lit {
    Int(i64),
    Float(f64),
    Bool(bool),
    /// `date("YYYY-MM-DD")`, checked to be a date.
    Date(Date),
}

/// A comparison operator.
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
    /// The operator as rhai spells it.
    pub fn rhai(self) -> &'static str {
        match self {
            Cmp::Lt => "<",
            Cmp::Le => "<=",
            Cmp::Gt => ">",
            Cmp::Ge => ">=",
            Cmp::Eq => "==",
            Cmp::Ne => "!=",
        }
    }
}

/// An arithmetic operator; `/` is always floating division.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arith {
    Add,
    Sub,
    Mul,
    Div,
}

impl Arith {
    /// The operator as rhai (and SQL) spells it.
    pub fn symbol(self) -> &'static str {
        match self {
            Arith::Add => "+",
            Arith::Sub => "-",
            Arith::Mul => "*",
            Arith::Div => "/",
        }
    }
}

/// `min` or `max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pick {
    Min,
    Max,
}

impl Pick {
    /// The helper's name.
    pub fn name(self) -> &'static str {
        match self {
            Pick::Min => "min",
            Pick::Max => "max",
        }
    }
}
