//! Stage 3: checked IR to compiled form.
//!
//! Tag tests become bit indices, decided on bitsets before any script runs. Each `when`
//! clause and the benefit become one rhai AST, compiled once and shared by all threads.
//! Each measure also gets one whole rhai script that computes every condition and the
//! benefit on its own: `policy-match compile` prints it, and a property test proves the
//! staged path (bitsets, then clause ASTs) decides exactly as that script does.
//!
//! Every script is generated from the typed trees the checker made (`print` for an
//! expression, `script` for a whole measure), never copied from the officer's text, so
//! no rule can change the structure of a script.

pub mod catalog;
pub mod engine;
pub mod native;
mod print;
pub mod program;
mod script;
pub mod tags;
pub mod unlock_keys;

use rhai::{AST, Dynamic, Engine, Scope};

use crate::compile::engine::Ctx;
use crate::compile::tags::Interner;
use crate::lang::check::Want;
use crate::profile::schema::FieldType;
use crate::profile::schema::Schema;
use crate::rules::ir::Expr;
use crate::rules::ir::Measure;
use crate::rules::ir::Test;

#[derive(Debug, Clone)]
pub struct CompiledMeasure {
    pub measure: Measure,
    /// The conditions that test only identity tags (condition `i` is bit `i`): never a
    /// near miss.
    pub identity: u64,
    /// The tag tests on namespaces that do not narrow an audience (kind, ownership):
    /// left out of a push's specificity.
    pub broad: u64,
    /// The conditions an individual business meets by becoming an enterprise (个转企):
    /// those that test `kind:enterprise`.
    pub conversion: u64,
    /// Every condition in order, base group first (group 0), then the alternatives.
    pub conditions: Vec<CompiledCondition>,
    /// Number of groups: 1 + the number of alternatives.
    pub groups: usize,
    pub benefit: Option<CompiledExpr>,
    /// The whole-measure script and its AST.
    pub script: String,
    pub script_ast: AST,
}

impl CompiledMeasure {
    /// The labels of the conditions in `mask` (bit `i` is condition `i`), in order.
    pub fn labels(&self, mask: u64) -> impl Iterator<Item = &str> {
        self.conditions
            .iter()
            .enumerate()
            .filter(move |(i, _)| mask & (1 << i) != 0)
            .map(|(_, c)| c.label.as_str())
    }
}

#[derive(Debug, Clone)]
pub struct CompiledCondition {
    pub group: usize,
    pub label: String,
    pub kind: CondKind,
}

#[derive(Debug, Clone)]
pub enum CondKind {
    Has(usize),
    Any(Vec<usize>),
    Lacks(usize),
    When(CompiledExpr),
}

#[derive(Debug, Clone)]
pub struct CompiledExpr {
    /// The rhai text generated from the expression's tree, `has("…")` as bit tests.
    pub source: String,
    pub ast: AST,
    /// Schema indices of the fields read; the clause runs only when all are present.
    pub fields: Vec<usize>,
    /// The same expression lowered for the native evaluator, when the lowering covers it.
    pub native: Option<Lowered>,
}

#[derive(Debug, Clone)]
pub enum Lowered {
    Bool(native::Bool),
    Num(native::Num),
}

/// The one place a generated script failed to compile: that is a bug in this crate,
/// not in the rule, and is reported as such.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[error(
    "internal error: the script generated for {measure} does not compile ({error}); please report this bug"
)]
pub struct CompileBug {
    pub measure: String,
    pub error: String,
}

/// A scope holding every name a script may read, with a value of its type; compiling
/// against it lets strict-variables mode reject anything else. Values, never constants,
/// so the optimiser cannot fold per-enterprise data.
pub fn compile_scope(schema: &Schema) -> Scope<'static> {
    let mut scope = Scope::new();
    scope.push(
        "p",
        Ctx {
            tags: Default::default(),
            present: Default::default(),
        },
    );
    scope.push("as_of", 0 as rhai::INT);
    for f in &schema.fields {
        let v: Dynamic = match f.ty {
            FieldType::Number => Dynamic::from_float(0.0),
            FieldType::Integer | FieldType::Date => Dynamic::from_int(0),
            FieldType::Bool => Dynamic::from_bool(false),
        };
        scope.push_dynamic(f.name.clone(), v);
    }
    scope
}

pub fn measure(
    engine: &Engine,
    scope: &Scope,
    schema: &Schema,
    interner: &Interner,
    m: Measure,
) -> Result<CompiledMeasure, CompileBug> {
    let bug = |e: rhai::ParseError| CompileBug {
        measure: m.id.clone(),
        error: e.to_string(),
    };
    let bits = |t: &str| {
        // `assemble` interns every tag a criterion or `has("…")` tests before compiling.
        interner
            .bit(t)
            .expect("catalog tags are interned before compiling")
    };
    let compile_expr = |e: &Expr, want: Want| -> Result<CompiledExpr, rhai::ParseError> {
        let native = match want {
            Want::Bool => native::lower_bool(interner, &e.tree).map(Lowered::Bool),
            Want::Num => native::lower_num(interner, &e.tree).map(Lowered::Num),
        };
        let source = print::expr(&e.tree, interner);
        let ast = engine.compile_expression_with_scope(scope, &source)?;
        let fields = e
            .fields
            .iter()
            .filter_map(|f| schema.field(f))
            .map(|f| f.index)
            .collect();
        Ok(CompiledExpr {
            source,
            ast,
            fields,
            native,
        })
    };

    let mut conditions = Vec::new();
    for (group, c) in m.conditions() {
        let kind = match &c.test {
            Test::Has(t) => CondKind::Has(bits(t)),
            Test::Any(ts) => CondKind::Any(ts.iter().map(|t| bits(t)).collect()),
            Test::Lacks(t) => CondKind::Lacks(bits(t)),
            Test::When(e) => CondKind::When(compile_expr(e, Want::Bool).map_err(bug)?),
        };
        conditions.push(CompiledCondition {
            group,
            label: c.label.clone(),
            kind,
        });
    }
    let benefit = m
        .benefit
        .as_ref()
        .map(|b| compile_expr(&b.expr, Want::Num))
        .transpose()
        .map_err(bug)?;

    let script = script::measure(&m, &conditions, benefit.as_ref(), schema);
    let script_ast = engine
        .compile_expression_with_scope(scope, &script)
        .map_err(bug)?;
    let identity = m
        .conditions()
        .enumerate()
        .filter(|(_, (_, c))| c.test.is_identity(schema))
        .fold(0u64, |mask, (i, _)| mask | 1 << i);
    // Tag tests on what every other market entity shares (kind, ownership): they do not
    // make a measure specific to an enterprise.
    let broad = m
        .conditions()
        .enumerate()
        .filter(|(_, (_, c))| c.test.is_tag() && c.test.tags().iter().all(|t| !schema.narrows(t)))
        .fold(0u64, |mask, (i, _)| mask | 1 << i);
    let enterprise = crate::names::ENTERPRISE_TAG;
    let conversion = m
        .conditions()
        .enumerate()
        .filter(|(_, (_, c))| match &c.test {
            Test::Has(t) => t == enterprise,
            Test::Any(ts) => ts.iter().any(|t| t == enterprise),
            Test::Lacks(_) | Test::When(_) => false,
        })
        .fold(0u64, |mask, (i, _)| mask | 1 << i);
    Ok(CompiledMeasure {
        identity,
        broad,
        conversion,
        groups: 1 + m.eligibility.alternatives.len(),
        measure: m,
        conditions,
        benefit,
        script,
        script_ast,
    })
}
