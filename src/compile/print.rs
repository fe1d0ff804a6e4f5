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
mod tests;
