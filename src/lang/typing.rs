//! The type checker for officer-written rhai expressions (`when` clauses and benefits).
//!
//! rhai itself is dynamically typed and answers `false` to `x < true` instead of failing,
//! so a wrong comparison would silently exclude every enterprise. This module walks the
//! parsed expression and accepts only a small typed subset: numbers, dates, booleans,
//! comparisons, arithmetic, `&& || !`, `if … else …`, and the helpers listed in
//! `rules/README.md`. It also records which fields and tags the expression reads, which
//! is how missing data is detected before any script runs.

use std::collections::BTreeSet;

use once_cell::sync::Lazy;
use rhai::{ASTNode, Engine, Expr as RExpr, OptimizationLevel, Position, Stmt};

use crate::diag::Code;
use crate::names::HELPERS;
use crate::profile::schema::FieldType;
use crate::profile::schema::Schema;
use crate::rules::ir::Expr;

/// What an expression must be: a condition is a `Bool`, a benefit a `Num`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ty {
    Num,
    Bool,
    Date,
    Str,
}

impl Ty {
    fn name(self) -> &'static str {
        match self {
            Ty::Num => "number",
            Ty::Bool => "bool",
            Ty::Date => "date",
            Ty::Str => "string",
        }
    }
}

/// The type the checker infers. Integers are kept apart from other numbers because rhai
/// keeps them apart: a date is a whole number of days, and `add_months(d, 1.5)` or
/// `year(as_of + 0.5)` has no function to run, so it would be an error on every pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum T {
    Int,
    Float,
    Bool,
    Date,
    Str,
}

impl T {
    fn kind(self) -> Ty {
        match self {
            T::Int | T::Float => Ty::Num,
            T::Bool => Ty::Bool,
            T::Date => Ty::Date,
            T::Str => Ty::Str,
        }
    }

    fn name(self) -> &'static str {
        match self {
            T::Int => "integer",
            T::Float => "number",
            other => other.kind().name(),
        }
    }

    fn of_field(t: FieldType) -> T {
        match t {
            FieldType::Integer => T::Int,
            FieldType::Number => T::Float,
            FieldType::Date => T::Date,
            FieldType::Bool => T::Bool,
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

/// One problem in an expression; `line`/`column` are 1-based within the expression text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub code: Code,
    pub message: String,
    pub help: Option<String>,
    pub line: usize,
    pub column: usize,
}

/// Parses only: no functions registered, nothing folded, so the tree is as written.
static PARSER: Lazy<Engine> = Lazy::new(|| {
    let mut e = Engine::new_raw();
    e.set_optimization_level(OptimizationLevel::None);
    e.set_max_expr_depths(MAX_DEPTH, MAX_DEPTH);
    e
});

/// Parses an expression as written, without checking it; for walks over checked text.
pub(crate) fn parse(source: &str) -> Result<rhai::AST, rhai::ParseError> {
    PARSER.compile_expression(source)
}

/// The deepest nesting an expression may have; the evaluating engine allows a little more
/// for the script generated around it.
pub const MAX_DEPTH: usize = 32;
/// The longest expression an officer may write.
pub const MAX_LEN: usize = 2000;

/// Checks `source` and returns the IR expression, or every problem found.
pub fn check(schema: &Schema, source: &str, want: Ty) -> Result<Expr, Vec<Problem>> {
    let at = |code, message: String, help: Option<String>| Problem {
        code,
        message,
        help,
        line: 1,
        column: 1,
    };
    if source.len() > MAX_LEN {
        return Err(vec![at(
            Code::BadExpr,
            format!(
                "expression is {} bytes long, over the limit of {MAX_LEN}",
                source.len()
            ),
            Some("split it into several labelled clauses".into()),
        )]);
    }
    if source.contains("//") || source.contains("/*") {
        return Err(vec![at(
            Code::BadExpr,
            "comments are not allowed inside an expression".into(),
            Some("put the comment on its own TOML line, starting with `#`".into()),
        )]);
    }
    let ast = parse(source).map_err(|e| {
        let (line, column) = pos(e.position());
        vec![Problem {
            code: Code::BadExpr,
            message: format!("expression does not parse: {}", e.err_type()),
            help: None,
            line,
            column,
        }]
    })?;
    let mut c = Checker {
        schema,
        problems: Vec::new(),
        fields: BTreeSet::new(),
        tags: Vec::new(),
    };
    let root = match ast.statements() {
        [Stmt::Expr(e)] => Some(&**e),
        _ => None,
    };
    match root.map(|e| c.expr(e)) {
        Some(Some(ty)) if ty.kind() != want => {
            let (line, column) = pos(root.map_or(Position::NONE, RExpr::position));
            c.problems.push(Problem {
                code: Code::TypeMismatch,
                message: format!(
                    "expression is a {}, expected a {}",
                    ty.kind().name(),
                    want.name()
                ),
                help: (want == Ty::Bool)
                    .then(|| "a condition must compare something, e.g. `employees >= 10`".into()),
                line,
                column,
            });
        }
        Some(_) => {}
        None => c.problems.push(at(
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
            c.problems.push(at(
                Code::BadExpr,
                "statements are not allowed in an expression".into(),
                None,
            ));
        }
        true
    });
    if c.problems.is_empty() {
        Ok(Expr {
            source: source.to_owned(),
            fields: c.fields.into_iter().collect(),
            tags: c.tags,
        })
    } else {
        Err(c.problems)
    }
}

fn pos(p: Position) -> (usize, usize) {
    (p.line().unwrap_or(1), p.position().unwrap_or(1))
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
    ) -> Option<T> {
        let (line, column) = pos(at);
        self.problems.push(Problem {
            code,
            message,
            help,
            line,
            column,
        });
        None
    }

    fn mismatch(&mut self, at: Position, what: &str, tys: &[T]) -> Option<T> {
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

    /// The type of `e`, or `None` when a problem was reported inside it.
    fn expr(&mut self, e: &RExpr) -> Option<T> {
        match e {
            RExpr::IntegerConstant(..) => Some(T::Int),
            RExpr::FloatConstant(..) => Some(T::Float),
            RExpr::BoolConstant(..) => Some(T::Bool),
            RExpr::StringConstant(..) => Some(T::Str),
            RExpr::Variable(v, _, at) => self.variable(v.1.as_str(), *at),
            RExpr::And(args, _) | RExpr::Or(args, _) => {
                let mut ok = true;
                for a in args.iter() {
                    match self.expr(a) {
                        Some(T::Bool) => {}
                        Some(t) => {
                            self.mismatch(a.position(), "&& / ||", &[t]);
                            ok = false;
                        }
                        None => ok = false,
                    }
                }
                ok.then_some(T::Bool)
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

    fn variable(&mut self, name: &str, at: Position) -> Option<T> {
        if name == "as_of" {
            return Some(T::Date);
        }
        match self.schema.field(name) {
            Some(f) => {
                self.fields.insert(f.name.clone());
                Some(T::of_field(f.ty))
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

    fn if_expr(&mut self, flow: &rhai::FlowControl, at: Position) -> Option<T> {
        let cond = self.expr(&flow.expr);
        if let Some(t) = cond
            && t != T::Bool
        {
            self.mismatch(flow.expr.position(), "if", &[t]);
        }
        let body = self.block(&flow.body, at)?;
        let branch = self.block(&flow.branch, at)?;
        if body.is_num() && branch.is_num() {
            return cond.map(|_| T::join(body, branch));
        }
        if body != branch {
            return self.report(
                Code::TypeMismatch,
                at,
                format!(
                    "the branches of `if` differ: {} and {}",
                    body.name(),
                    branch.name()
                ),
                None,
            );
        }
        cond.map(|_| body)
    }

    fn block(&mut self, b: &rhai::StmtBlock, at: Position) -> Option<T> {
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

    fn operator(&mut self, op: &str, args: &[&RExpr], at: Position) -> Option<T> {
        let tys: Vec<Option<T>> = args.iter().map(|a| self.expr(a)).collect();
        let tys: Vec<T> = tys.into_iter().collect::<Option<_>>()?;
        use T::*;
        let out = match (op, tys.as_slice()) {
            ("!", [Bool]) => Bool,
            ("-", [t]) if t.is_num() => *t,
            ("<" | "<=" | ">" | ">=", [a, b]) if a.is_num() && b.is_num() => Bool,
            ("<" | "<=" | ">" | ">=", [Date, Date]) => Bool,
            ("==" | "!=", [a, b]) if a.is_num() && b.is_num() => Bool,
            ("==" | "!=", [Date, Date] | [Bool, Bool]) => Bool,
            ("+" | "-" | "*", [a, b]) if a.is_num() && b.is_num() => T::join(*a, *b),
            ("/", [a, b]) if a.is_num() && b.is_num() => Float,
            ("-", [Date, Date]) => Int,
            ("+" | "-", [Date, Int]) => Date,
            _ => return self.mismatch(at, op, &tys),
        };
        Some(out)
    }

    fn function(&mut self, name: &str, args: &[&RExpr], at: Position) -> Option<T> {
        use T::*;
        match (name, args) {
            ("has", [RExpr::StringConstant(tag, tag_at)]) => {
                match self.schema.check_tag(tag) {
                    Ok(_) => self.tags.push(tag.to_string()),
                    Err(p) => {
                        self.report(Code::UnknownTag, *tag_at, p.message(tag), p.help());
                    }
                }
                Some(Bool)
            }
            ("has", _) => self.report(
                Code::BadExpr,
                at,
                "`has` takes one tag written as a string literal".into(),
                Some("e.g. `has(\"cert:specialized_new\")`".into()),
            ),
            ("date", [RExpr::StringConstant(s, s_at)]) => {
                if crate::dates::parse_date(s).is_none() {
                    self.report(
                        Code::BadExpr,
                        *s_at,
                        format!("`{s}` is not a date YYYY-MM-DD"),
                        None,
                    );
                }
                Some(Date)
            }
            ("date", _) => self.report(
                Code::BadExpr,
                at,
                "`date` takes one string literal YYYY-MM-DD".into(),
                None,
            ),
            ("year" | "days_between" | "add_months" | "min" | "max", _) => {
                let tys: Vec<Option<T>> = args.iter().map(|a| self.expr(a)).collect();
                let tys: Vec<T> = tys.into_iter().collect::<Option<_>>()?;
                match (name, tys.as_slice()) {
                    ("year", [Date]) => Some(Int),
                    ("days_between", [Date, Date]) => Some(Int),
                    ("add_months", [Date, Int]) => Some(Date),
                    ("min" | "max", [a, b]) if a.is_num() && b.is_num() => Some(T::join(*a, *b)),
                    _ => self.mismatch(at, name, &tys),
                }
            }
            _ => {
                let known = HELPERS;
                let help =
                    crate::diag::did_you_mean(name, known).map(|s| format!("did you mean `{s}`?"));
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

#[cfg(test)]
mod tests {
    use super::*;

    fn schema() -> Schema {
        crate::profile::schema::builtin_for_tests()
    }

    /// One case: the expression, the type wanted, and either the fields it reads or the
    /// code of the first problem.
    fn check_case(src: &str, want: Ty, expected: Result<&[&str], Code>) {
        let got = check(&schema(), src, want);
        match (got, expected) {
            (Ok(e), Ok(fields)) => assert_eq!(e.fields, fields, "{src}"),
            (Err(p), Err(code)) => assert_eq!(p[0].code, code, "{src}: {p:?}"),
            (got, expected) => panic!("{src}: got {got:?}, expected {expected:?}"),
        }
    }

    #[test]
    fn accepted_expressions_and_what_they_read() {
        for (src, want, fields) in [
            (
                "energy_intensity < 0.52",
                Ty::Bool,
                &["energy_intensity"][..],
            ),
            (
                "employees >= 10 && !(revenue_10k_yuan > 2000)",
                Ty::Bool,
                &["employees", "revenue_10k_yuan"],
            ),
            (
                "plot_ratio < if has(\"cert:specialized_new\") { 3.0 } else { 2.5 }",
                Ty::Bool,
                &["plot_ratio"],
            ),
            ("founded <= as_of - 365 * 3", Ty::Bool, &["founded"]),
            (
                "add_months(founded, if employees > 9 { 12 } else { employees }) < as_of",
                Ty::Bool,
                &["employees", "founded"],
            ),
            (
                "employees / 2 < if employees > 1 { 1 } else { 0.5 }",
                Ty::Bool,
                &["employees"],
            ),
            ("as_of >= add_months(founded, 3)", Ty::Bool, &["founded"]),
            (
                "days_between(founded, as_of) > 1000",
                Ty::Bool,
                &["founded"],
            ),
            (
                "year(as_of) - above_designated_since == 1",
                Ty::Bool,
                &["above_designated_since"],
            ),
            ("founded >= date(\"2020-01-01\")", Ty::Bool, &["founded"]),
            (
                "investor_unchanged == true",
                Ty::Bool,
                &["investor_unchanged"],
            ),
            (
                "min(booth_fee_yuan * 0.7, 50000)",
                Ty::Num,
                &["booth_fee_yuan"],
            ),
        ] {
            check_case(src, want, Ok(fields));
        }
    }

    #[test]
    fn rejected_expressions_and_why() {
        for (src, want, code) in [
            ("employees < true", Ty::Bool, Code::TypeMismatch),
            // rhai has no float version of the date helpers: every pair would fail.
            (
                "add_months(founded, 1.5) < as_of",
                Ty::Bool,
                Code::TypeMismatch,
            ),
            ("year(as_of + 0.5) > 2020", Ty::Bool, Code::TypeMismatch),
            ("founded < as_of - 365 / 2", Ty::Bool, Code::TypeMismatch),
            (
                "add_months(founded, booth_fee_yuan) < as_of",
                Ty::Bool,
                Code::TypeMismatch,
            ),
            ("founded < 2020", Ty::Bool, Code::TypeMismatch),
            ("booth_fee_yuan * 0.7", Ty::Bool, Code::TypeMismatch),
            ("employees > 1", Ty::Num, Code::TypeMismatch),
            (
                "if employees > 1 { 1 } else { false }",
                Ty::Num,
                Code::TypeMismatch,
            ),
            ("revenue > 1", Ty::Bool, Code::UnknownField),
            ("has(\"cert:hightech\")", Ty::Bool, Code::UnknownTag),
            ("has(kind)", Ty::Bool, Code::BadExpr),
            ("pow(employees, 2) > 4", Ty::Bool, Code::BadExpr),
            ("if employees > 1 { true }", Ty::Bool, Code::BadExpr),
            ("employees > 1 // why", Ty::Bool, Code::BadExpr),
            ("let x = 1; x > 0", Ty::Bool, Code::BadExpr),
            ("[employees][0] > 1", Ty::Bool, Code::BadExpr),
            ("\"a\" == \"a\"", Ty::Bool, Code::TypeMismatch),
            ("date(\"2020-02-30\") < as_of", Ty::Bool, Code::BadExpr),
        ] {
            check_case(src, want, Err(code));
        }
    }

    #[test]
    fn over_long_and_over_deep_expressions_are_refused() {
        let long = format!("employees > {}", "1".repeat(MAX_LEN));
        check_case(&long, Ty::Bool, Err(Code::BadExpr));
        let deep = format!(
            "{}employees > 1{}",
            "(".repeat(MAX_DEPTH + 5),
            ")".repeat(MAX_DEPTH + 5)
        );
        check_case(&deep, Ty::Bool, Err(Code::BadExpr));
    }

    /// Every diagnostic of the checker, message, help and place, for a spread of refused
    /// (and a few accepted) expressions: the messages officers see must not change.
    #[test]
    fn diagnostics_are_exact() {
        let cases = [
            (Ty::Bool, r#""#),
            (Ty::Bool, r#"   "#),
            (Ty::Bool, r#"employees > 1 // why"#),
            (Ty::Bool, r#"employees > /* x */ 1"#),
            (Ty::Bool, r#"employees >"#),
            (Ty::Bool, r#"(employees"#),
            (Ty::Bool, r#"employees > > 1"#),
            (Ty::Bool, r#"1 +"#),
            (Ty::Bool, r#"if employees > 1 { 1 } else"#),
            (Ty::Bool, r#"employees"#),
            (Ty::Num, r#"employees > 1"#),
            (Ty::Num, r#""a""#),
            (Ty::Bool, r#""a" == "a""#),
            (Ty::Bool, r#""a""#),
            (Ty::Bool, r#"{ let x = 1; x } > 0"#),
            (Ty::Bool, r#"let x = 1; x > 0"#),
            (Ty::Bool, r#"employees && true"#),
            (Ty::Bool, r#"true || booth_fee_yuan"#),
            (Ty::Bool, r#"{ employees; founded } > 0"#),
            (Ty::Bool, r#"[employees][0] > 1"#),
            (Ty::Bool, r#"employees.abs() > 1"#),
            (Ty::Bool, r#"() == ()"#),
            (Ty::Bool, r#"'c' == 'c'"#),
            (Ty::Bool, r#"#{a: 1}.a > 0"#),
            (Ty::Bool, r#"`x${employees}` == "x""#),
            (Ty::Bool, r#"revenue > 1"#),
            (Ty::Bool, r#"employes > 1"#),
            (Ty::Bool, r#"qqqqqqqqq > 1"#),
            (Ty::Bool, r#"p.has(1)"#),
            (Ty::Bool, r#"p > 1"#),
            (Ty::Bool, r#"if employees { 1 } else { 2 } > 0"#),
            (Ty::Bool, r#"if employees > 1 { true }"#),
            (
                Ty::Bool,
                r#"if employees > 1 { let a = 1; 2 } else { 3 } > 0"#,
            ),
            (Ty::Bool, r#"if employees > 1 { 1 } else { true }"#),
            (Ty::Num, r#"if employees > 1 { 1 } else { false }"#),
            (Ty::Bool, r#"has(kind)"#),
            (Ty::Bool, r#"has("cert:hightech")"#),
            (Ty::Bool, r#"has("nosuch:thing")"#),
            (Ty::Bool, r#"has("cert:high_tech", "cert:high_tech")"#),
            (Ty::Bool, r#"has()"#),
            (Ty::Bool, r#"date("2020-02-30") < as_of"#),
            (Ty::Bool, r#"date(founded) < as_of"#),
            (Ty::Bool, r#"date("2020-1-1") < as_of"#),
            (Ty::Bool, r#"year(1) > 0"#),
            (Ty::Bool, r#"days_between(founded, 1) > 0"#),
            (Ty::Bool, r#"add_months(founded, 1.5) < as_of"#),
            (Ty::Bool, r#"add_months(founded, booth_fee_yuan) < as_of"#),
            (Ty::Bool, r#"min(true, 1) > 0"#),
            (Ty::Bool, r#"year() > 0"#),
            (Ty::Bool, r#"year(founded, founded) > 0"#),
            (Ty::Bool, r#"yaer(as_of) > 0"#),
            (Ty::Bool, r#"foo(1) > 0"#),
            (Ty::Bool, r#"unknown1 > 1 && unknown2 < 2"#),
            (Ty::Bool, r#"year(x) + y > 0"#),
            (Ty::Bool, r#"-true"#),
            (Ty::Bool, r#"!1"#),
            (Ty::Bool, r#"employees % 2 == 0"#),
            (Ty::Bool, r#"employees ** 2 > 0"#),
            (Ty::Bool, r#"founded + founded > as_of"#),
            (Ty::Bool, r#"founded * 2 > as_of"#),
            (Ty::Bool, r#"as_of + 1.5 > founded"#),
            (Ty::Bool, r#"founded < as_of - 365 / 2"#),
            (Ty::Bool, r#"employees in [1, 2]"#),
            (Ty::Bool, r#"employees ?? 1 > 0"#),
            (Ty::Bool, r#"employees < true"#),
            (Ty::Bool, r#"founded < 2020"#),
            (Ty::Bool, r#"booth_fee_yuan * 0.7"#),
            (Ty::Num, r#"employees > 1"#),
            (Ty::Bool, r#"year(as_of + 0.5) > 2020"#),
            (Ty::Bool, r#"pow(employees, 2) > 4"#),
            (Ty::Bool, r#"investor_unchanged < true"#),
            (Ty::Bool, r#"founded == 1"#),
            (
                Ty::Bool,
                r#"!(employees > 1) && employees + true > 0 || has("cert:nope")"#,
            ),
            (Ty::Bool, r#"if "a" { 1 } else { 2 } > 0"#),
            (Ty::Bool, r#"if employees > 1 { "a" } else { "b" }"#),
            (
                Ty::Num,
                r#"if employees > 1 { 1 } else if employees > 2 { founded } else { 2 }"#,
            ),
            (Ty::Bool, r#"min(founded, 1) > 0"#),
            (Ty::Bool, r#"max(1, 2, 3) > 0"#),
            (Ty::Bool, r#"employees = 1"#),
            (Ty::Bool, r#"employees >= 10 &&"#),
            (Ty::Bool, r#"fn f() { 1 }"#),
            (Ty::Bool, r#"switch employees { 1 => true, _ => false }"#),
            (Ty::Bool, r#"while true { }"#),
            (Ty::Bool, r#"employees > 1; employees < 2"#),
            (Ty::Bool, r#"+employees > 0"#),
            (Ty::Bool, r#"-employees > true"#),
            (
                Ty::Bool,
                r#"year(founded) > year(as_of) - booth_fee_yuan * true"#,
            ),
            (Ty::Num, r#"true"#),
            (Ty::Num, r#"founded"#),
            (
                Ty::Num,
                r#"if has("cert:high_tech") { 1 } else { 1.5 } == 1"#,
            ),
            (Ty::Bool, r#"has("industry:")"#),
            (Ty::Bool, r#"has("industry:C17x")"#),
            (Ty::Bool, r#"x.y > 1"#),
            (Ty::Bool, r#"employees[0] > 1"#),
        ];
        let mut out = String::new();
        for (want, src) in cases {
            let got = match check(&schema(), src, want) {
                Ok(e) => format!("ok: reads {:?}, tags {:?}", e.fields, e.tags),
                Err(problems) => problems
                    .iter()
                    .map(|p| {
                        format!(
                            "{:?} {}:{} {} [help: {}]",
                            p.code,
                            p.line,
                            p.column,
                            p.message,
                            p.help.as_deref().unwrap_or("-")
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("\n    "),
            };
            out.push_str(&format!("{want:?} {src}\n    {got}\n"));
        }
        let mut settings = insta::Settings::clone_current();
        settings.set_prepend_module_to_snapshot(false);
        settings.bind(|| insta::assert_snapshot!("lang_diagnostics", out));
    }
}
