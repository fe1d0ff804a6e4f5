//! The type checker for officer-written rhai expressions (`when` clauses and benefits).
//!
//! rhai itself is dynamically typed and answers `false` to `x < true` instead of failing,
//! so a wrong comparison would silently exclude every enterprise. This module walks the
//! parsed expression and accepts only a small typed subset: numbers, dates, booleans,
//! comparisons, arithmetic, `&& || !`, `if … else …`, and the helpers listed in
//! `rules/README.md`. What it accepts it returns as a typed [`tree`](crate::lang::tree),
//! with the fields and tags the expression reads, which is how missing data is detected
//! before anything runs.

use std::collections::BTreeSet;

use rhai::{ASTNode, Expr as RExpr, FlowControl, Position, Stmt, StmtBlock};

use crate::diag::Code;
use crate::lang::parse::parse;
use crate::lang::problem::Problem;
use crate::lang::tree::{Arith, Cmp, Kind, Lit, Node, Pick, Ty};
use crate::names::HELPERS;
use crate::profile::schema::{FieldType, Schema};

/// What an expression must be: a condition is a `Bool`, a benefit a `Num`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Want {
    Bool,
    Num,
}

impl Want {
    fn name(self) -> &'static str {
        match self {
            Want::Bool => "bool",
            Want::Num => "number",
        }
    }

    fn accepts(self, t: T) -> bool {
        match self {
            Want::Bool => t == T::Bool,
            Want::Num => t.is_num(),
        }
    }
}

/// A checked expression: its typed tree and what it reads.
#[derive(Debug, Clone, PartialEq)]
pub struct Checked {
    pub tree: Node,
    /// Field names read, sorted, without duplicates.
    pub fields: Vec<String>,
    /// Tags tested with `has("…")`, in order of appearance.
    pub tags: Vec<String>,
}

/// The type the checker infers: a node's [`Ty`], or a string, which only `has` and
/// `date` take and which is therefore never a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum T {
    Int,
    Float,
    Bool,
    Date,
    Str,
}

impl T {
    fn of(ty: Ty) -> T {
        match ty {
            Ty::Int => T::Int,
            Ty::Float => T::Float,
            Ty::Bool => T::Bool,
            Ty::Date => T::Date,
        }
    }

    fn ty(self) -> Option<Ty> {
        match self {
            T::Int => Some(Ty::Int),
            T::Float => Some(Ty::Float),
            T::Bool => Some(Ty::Bool),
            T::Date => Some(Ty::Date),
            T::Str => None,
        }
    }

    /// The name of what an expression is, for the officer: integers are numbers too.
    fn kind_name(self) -> &'static str {
        match self {
            T::Int | T::Float => "number",
            T::Bool => "bool",
            T::Date => "date",
            T::Str => "string",
        }
    }

    /// The name of an operand's type. Integers are kept apart from other numbers because
    /// rhai keeps them apart: a date is a whole number of days, and `add_months(d, 1.5)`
    /// or `year(as_of + 0.5)` has no function to run, so it would fail on every pair.
    fn name(self) -> &'static str {
        match self {
            T::Int => "integer",
            other => other.kind_name(),
        }
    }

    fn is_num(self) -> bool {
        matches!(self, T::Int | T::Float)
    }

    /// The type of `+ - *`, `min`, `max` or an `if` over two numbers.
    fn join(a: T, b: T) -> T {
        if a == T::Int && b == T::Int {
            T::Int
        } else {
            T::Float
        }
    }
}

/// The type of a field's values.
fn field_ty(t: FieldType) -> Ty {
    match t {
        FieldType::Integer => Ty::Int,
        FieldType::Number => Ty::Float,
        FieldType::Date => Ty::Date,
        FieldType::Bool => Ty::Bool,
    }
}

/// A checked sub-expression: its type, and its tree unless it has none — a string, or a
/// sub-expression with a problem already reported.
struct Typed {
    t: T,
    node: Option<Node>,
}

impl Typed {
    fn leaf(ty: Ty, kind: Kind) -> Typed {
        Typed {
            t: T::of(ty),
            node: Some(Node { ty, kind }),
        }
    }

    /// A node of type `t` over one operand, when the operand has a tree.
    fn unary(t: T, a: Typed, kind: impl FnOnce(Box<Node>) -> Kind) -> Typed {
        let node = match (t.ty(), a.node) {
            (Some(ty), Some(a)) => Some(Node {
                ty,
                kind: kind(Box::new(a)),
            }),
            _ => None,
        };
        Typed { t, node }
    }

    /// A node of type `t` over two operands, when both have a tree.
    fn binary(t: T, a: Typed, b: Typed, kind: impl FnOnce(Box<(Node, Node)>) -> Kind) -> Typed {
        let node = match (t.ty(), a.node, b.node) {
            (Some(ty), Some(a), Some(b)) => Some(Node {
                ty,
                kind: kind(Box::new((a, b))),
            }),
            _ => None,
        };
        Typed { t, node }
    }
}

/// Checks `source` and returns its typed tree, or every problem found.
pub fn check(schema: &Schema, source: &str, want: Want) -> Result<Checked, Vec<Problem>> {
    let ast = parse(source).map_err(|p| vec![p])?;
    let mut c = Checker {
        schema,
        problems: Vec::new(),
        fields: BTreeSet::new(),
        tags: Vec::new(),
    };
    let mut tree = None;
    match ast.statements() {
        [Stmt::Expr(root)] => {
            if let Some(x) = c.expr(root) {
                if !want.accepts(x.t) {
                    c.problems.push(Problem::new(
                        Code::TypeMismatch,
                        root.position(),
                        format!(
                            "expression is a {}, expected a {}",
                            x.t.kind_name(),
                            want.name()
                        ),
                        (want == Want::Bool).then(|| {
                            "a condition must compare something, e.g. `employees >= 10`".into()
                        }),
                    ));
                }
                tree = x.node;
            }
        }
        _ => c.problems.push(Problem::at_start(
            Code::BadExpr,
            "expected a single expression".into(),
            None,
        )),
    }
    // Belt and braces: anything the walk above did not visit is a construct we do not allow.
    ast.walk(&mut |path: &[ASTNode]| {
        if let Some(ASTNode::Stmt(s)) = path.last()
            && !matches!(s, Stmt::Expr(_) | Stmt::If(..) | Stmt::Noop(_))
        {
            c.problems.push(Problem::at_start(
                Code::BadExpr,
                "statements are not allowed in an expression".into(),
                None,
            ));
        }
        true
    });
    match tree {
        Some(tree) if c.problems.is_empty() => Ok(Checked {
            tree,
            fields: c.fields.into_iter().collect(),
            tags: c.tags,
        }),
        // A sub-expression without a tree always comes with a problem: either one was
        // reported inside it, or it is a string, which nothing but `has` and `date` (and
        // neither root type) takes.
        _ => Err(c.problems),
    }
}

struct Checker<'a> {
    schema: &'a Schema,
    problems: Vec<Problem>,
    fields: BTreeSet<String>,
    tags: Vec<String>,
}

impl Checker<'_> {
    fn report(
        &mut self,
        code: Code,
        at: Position,
        message: String,
        help: Option<String>,
    ) -> Option<Typed> {
        self.problems.push(Problem::new(code, at, message, help));
        None
    }

    fn mismatch(&mut self, at: Position, what: &str, tys: &[T]) -> Option<Typed> {
        let list: Vec<_> = tys.iter().map(|t| t.name()).collect();
        let help = (tys.contains(&T::Date) && tys.contains(&T::Float)).then(|| {
            "dates count whole days and months: round with an integer field or constant".into()
        });
        self.report(
            Code::TypeMismatch,
            at,
            format!("`{what}` cannot take ({})", list.join(", ")),
            help,
        )
    }

    /// Every argument checked, problems in all of them reported; `None` if any has an
    /// unknown type.
    fn each(&mut self, args: &[&RExpr]) -> Option<Vec<Typed>> {
        let checked: Vec<Option<Typed>> = args.iter().map(|a| self.expr(a)).collect();
        checked.into_iter().collect()
    }

    /// The type and tree of `e`; `None` when a problem inside leaves its type unknown.
    fn expr(&mut self, e: &RExpr) -> Option<Typed> {
        match e {
            RExpr::IntegerConstant(i, _) => Some(Typed::leaf(Ty::Int, Kind::Lit(Lit::Int(*i)))),
            RExpr::FloatConstant(x, _) => {
                Some(Typed::leaf(Ty::Float, Kind::Lit(Lit::Float(**x))))
            }
            RExpr::BoolConstant(b, _) => Some(Typed::leaf(Ty::Bool, Kind::Lit(Lit::Bool(*b)))),
            RExpr::StringConstant(..) => Some(Typed {
                t: T::Str,
                node: None,
            }),
            RExpr::Variable(v, _, at) => self.variable(v.1.as_str(), *at),
            RExpr::And(args, _) | RExpr::Or(args, _) => {
                let mut ok = true;
                let mut nodes = Vec::new();
                for a in args.iter() {
                    match self.expr(a) {
                        Some(x) if x.t == T::Bool => nodes.push(x.node),
                        Some(x) => {
                            self.mismatch(a.position(), "&& / ||", &[x.t]);
                            ok = false;
                        }
                        None => ok = false,
                    }
                }
                let and = matches!(e, RExpr::And(..));
                let node = nodes.into_iter().collect::<Option<Vec<_>>>().map(|ns| Node {
                    ty: Ty::Bool,
                    kind: if and { Kind::And(ns) } else { Kind::Or(ns) },
                });
                ok.then_some(Typed { t: T::Bool, node })
            }
            RExpr::FnCall(call, at) => {
                let args: Vec<&RExpr> = call.args.iter().collect();
                if call.op_token.is_some() {
                    self.operator(call.name.as_str(), &args, *at)
                } else {
                    self.function(call.name.as_str(), &args, *at)
                }
            }
            RExpr::Stmt(block) => match block.statements() {
                [Stmt::If(flow, at)] => self.if_expr(flow, *at),
                [Stmt::Expr(e)] => self.expr(e),
                _ => self.report(Code::BadExpr, e.position(), "a block must hold one expression".into(), None),
            },
            other => self.report(
                Code::BadExpr,
                other.position(),
                "this construct is not allowed in a rule expression".into(),
                Some("use fields, numbers, comparisons, `&& || !`, `if … else …` and the helpers in rules/README.md".into()),
            ),
        }
    }

    fn variable(&mut self, name: &str, at: Position) -> Option<Typed> {
        if name == "as_of" {
            return Some(Typed::leaf(Ty::Date, Kind::AsOf));
        }
        match self.schema.field(name) {
            Some(f) => {
                self.fields.insert(f.name.clone());
                Some(Typed::leaf(
                    field_ty(f.ty),
                    Kind::Field {
                        index: f.index,
                        name: f.name.clone(),
                    },
                ))
            }
            None => {
                let help = self
                    .schema
                    .suggest_field(name)
                    .map(|s| format!("did you mean `{s}`?"));
                self.report(
                    Code::UnknownField,
                    at,
                    format!("unknown field `{name}`"),
                    help,
                )
            }
        }
    }

    fn if_expr(&mut self, flow: &FlowControl, at: Position) -> Option<Typed> {
        let cond = self.expr(&flow.expr);
        if let Some(c) = &cond
            && c.t != T::Bool
        {
            self.mismatch(flow.expr.position(), "if", &[c.t]);
        }
        let body = self.block(&flow.body, at)?;
        let branch = self.block(&flow.branch, at)?;
        let t = if body.t.is_num() && branch.t.is_num() {
            T::join(body.t, branch.t)
        } else if body.t != branch.t {
            return self.report(
                Code::TypeMismatch,
                at,
                format!(
                    "the branches of `if` differ: {} and {}",
                    body.t.name(),
                    branch.t.name()
                ),
                None,
            );
        } else {
            body.t
        };
        let cond = cond?;
        let node = match (t.ty(), cond.t, cond.node, body.node, branch.node) {
            (Some(ty), T::Bool, Some(c), Some(a), Some(b)) => Some(Node {
                ty,
                kind: Kind::If(Box::new((c, a, b))),
            }),
            _ => None,
        };
        Some(Typed { t, node })
    }

    fn block(&mut self, b: &StmtBlock, at: Position) -> Option<Typed> {
        match b.statements() {
            [Stmt::Expr(e)] => self.expr(e),
            [Stmt::If(flow, at)] => self.if_expr(flow, *at),
            [] => self.report(
                Code::BadExpr,
                at,
                "`if` needs an `else` branch in an expression".into(),
                Some("write `if c { a } else { b }`".into()),
            ),
            _ => self.report(
                Code::BadExpr,
                at,
                "a branch must hold one expression".into(),
                None,
            ),
        }
    }

    fn operator(&mut self, op: &str, args: &[&RExpr], at: Position) -> Option<Typed> {
        let xs = self.each(args)?;
        let tys: Vec<T> = xs.iter().map(|x| x.t).collect();
        let mut xs = xs.into_iter();
        let typed = match (xs.next(), xs.next(), xs.next()) {
            (Some(a), None, None) => unary(op, a),
            (Some(a), Some(b), None) => binary(op, a, b),
            _ => None,
        };
        typed.or_else(|| self.mismatch(at, op, &tys))
    }

    fn function(&mut self, name: &str, args: &[&RExpr], at: Position) -> Option<Typed> {
        match (name, args) {
            ("has", [RExpr::StringConstant(tag, tag_at)]) => {
                let node = match self.schema.check_tag(tag) {
                    Ok(_) => {
                        self.tags.push(tag.to_string());
                        Some(Node {
                            ty: Ty::Bool,
                            kind: Kind::Has(tag.to_string()),
                        })
                    }
                    Err(p) => {
                        self.report(Code::UnknownTag, *tag_at, p.message(tag), p.help());
                        None
                    }
                };
                Some(Typed { t: T::Bool, node })
            }
            ("has", _) => self.report(
                Code::BadExpr,
                at,
                "`has` takes one tag written as a string literal".into(),
                Some("e.g. `has(\"cert:specialized_new\")`".into()),
            ),
            ("date", [RExpr::StringConstant(s, s_at)]) => {
                let node = match crate::dates::parse_date(s) {
                    Some(d) => Some(Node {
                        ty: Ty::Date,
                        kind: Kind::Lit(Lit::Date(d)),
                    }),
                    None => {
                        self.report(
                            Code::BadExpr,
                            *s_at,
                            format!("`{s}` is not a date YYYY-MM-DD"),
                            None,
                        );
                        None
                    }
                };
                Some(Typed { t: T::Date, node })
            }
            ("date", _) => self.report(
                Code::BadExpr,
                at,
                "`date` takes one string literal YYYY-MM-DD".into(),
                None,
            ),
            ("year" | "days_between" | "add_months" | "min" | "max", _) => {
                let xs = self.each(args)?;
                let tys: Vec<T> = xs.iter().map(|x| x.t).collect();
                let mut xs = xs.into_iter();
                let typed = match (name, xs.next(), xs.next(), xs.next()) {
                    ("year", Some(d), None, None) if d.t == T::Date => {
                        Some(Typed::unary(T::Int, d, Kind::Year))
                    }
                    ("days_between", Some(a), Some(b), None)
                        if (a.t, b.t) == (T::Date, T::Date) =>
                    {
                        Some(Typed::binary(T::Int, a, b, Kind::DaysBetween))
                    }
                    ("add_months", Some(d), Some(n), None) if (d.t, n.t) == (T::Date, T::Int) => {
                        Some(Typed::binary(T::Date, d, n, Kind::AddMonths))
                    }
                    ("min" | "max", Some(a), Some(b), None) if a.t.is_num() && b.t.is_num() => {
                        let pick = if name == "min" { Pick::Min } else { Pick::Max };
                        let t = T::join(a.t, b.t);
                        Some(Typed::binary(t, a, b, |ab| Kind::Pick(pick, ab)))
                    }
                    _ => None,
                };
                typed.or_else(|| self.mismatch(at, name, &tys))
            }
            _ => {
                let help = crate::diag::did_you_mean(name, HELPERS)
                    .map(|s| format!("did you mean `{s}`?"));
                self.report(
                    Code::BadExpr,
                    at,
                    format!("unknown function `{name}`"),
                    help,
                )
            }
        }
    }
}

/// `!a` or `-a`, when rhai's operator takes `a`'s type.
fn unary(op: &str, a: Typed) -> Option<Typed> {
    match (op, a.t) {
        ("!", T::Bool) => Some(Typed::unary(T::Bool, a, Kind::Not)),
        ("-", t) if t.is_num() => Some(Typed::unary(t, a, Kind::Neg)),
        _ => None,
    }
}

/// `a op b`, when rhai's operator takes these types.
fn binary(op: &str, a: Typed, b: Typed) -> Option<Typed> {
    use T::{Bool, Date, Float, Int};
    let nums = a.t.is_num() && b.t.is_num();
    let cmp = match op {
        "<" => Some(Cmp::Lt),
        "<=" => Some(Cmp::Le),
        ">" => Some(Cmp::Gt),
        ">=" => Some(Cmp::Ge),
        "==" => Some(Cmp::Eq),
        "!=" => Some(Cmp::Ne),
        _ => None,
    };
    if let Some(cmp) = cmp {
        let equality = matches!(cmp, Cmp::Eq | Cmp::Ne);
        let takes = nums || (a.t, b.t) == (Date, Date) || (equality && (a.t, b.t) == (Bool, Bool));
        return takes.then(|| Typed::binary(Bool, a, b, |ab| Kind::Compare(cmp, ab)));
    }
    let arith = match op {
        "+" => Arith::Add,
        "-" => Arith::Sub,
        "*" => Arith::Mul,
        "/" => Arith::Div,
        _ => return None,
    };
    let t = match (arith, a.t, b.t) {
        (Arith::Div, ..) if nums => Float,
        (_, x, y) if nums => T::join(x, y),
        (Arith::Sub, Date, Date) => Int,
        (Arith::Add | Arith::Sub, Date, Int) => Date,
        _ => return None,
    };
    Some(Typed::binary(t, a, b, |ab| Kind::Arith(arith, ab)))
}
