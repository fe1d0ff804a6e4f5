//! The only parse of officer text: limits first, then rhai's parser, as written.

use once_cell::sync::Lazy;
use rhai::{AST, Engine, OptimizationLevel};

use crate::diag::Code;
use crate::lang::problem::Problem;

/// The deepest nesting an expression may have; the evaluating engine allows more for
/// the script generated around it.
pub const MAX_DEPTH: usize = 32;
/// The longest expression an officer may write.
pub const MAX_LEN: usize = 2000;

/// Parses only: no functions registered, nothing folded, so the tree is as written.
static PARSER: Lazy<Engine> = Lazy::new(|| {
    let mut e = Engine::new_raw();
    e.set_optimization_level(OptimizationLevel::None);
    e.set_max_expr_depths(MAX_DEPTH, MAX_DEPTH);
    e
});

/// Parses `source` as one rhai expression, refusing over-long text, and comments: an
/// explanation belongs on a TOML line of its own, where every reader of the rule sees it.
pub(crate) fn parse(source: &str) -> Result<AST, Problem> {
    if source.len() > MAX_LEN {
        return Err(Problem::at_start(
            Code::BadExpr,
            format!(
                "expression is {} bytes long, over the limit of {MAX_LEN}",
                source.len()
            ),
            Some("split it into several labelled clauses".into()),
        ));
    }
    if source.contains("//") || source.contains("/*") {
        return Err(Problem::at_start(
            Code::BadExpr,
            "comments are not allowed inside an expression".into(),
            Some("put the comment on its own TOML line, starting with `#`".into()),
        ));
    }
    PARSER.compile_expression(source).map_err(|e| {
        Problem::new(
            Code::BadExpr,
            e.position(),
            format!("expression does not parse: {}", e.err_type()),
            None,
        )
    })
}

/// rhai's tree of `source` as text, positions left out (` @ 1:5`, `, 1:5)`, a block's
/// span ` @ 1:5-33`): texts of the same shape are the same tree to rhai. For tests that
/// compare generated text with officer text.
#[cfg(test)]
pub(crate) fn shape(source: &str) -> Result<String, Problem> {
    // A literal pattern: it cannot fail to compile.
    static POSITION: Lazy<regex::Regex> =
        Lazy::new(|| regex::Regex::new(r"( @ |, )?\d+:\d+(-\d+(:\d+)?)?").expect("static regex"));
    let ast = parse(source)?;
    Ok(POSITION
        .replace_all(&format!("{:?}", ast.statements()), "")
        .into_owned())
}
