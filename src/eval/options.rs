//! How to evaluate: the engine ([`EngineKind`], [`EvalOptions`]) and the batch sweep's
//! options.

use super::*;

/// Which evaluator decides `when` clauses and benefits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EngineKind {
    /// The native lowering wherever it covers the expression, rhai elsewhere.
    #[default]
    Native,
    /// rhai for every expression: the reference the native engine is proved against.
    Rhai,
}

impl EngineKind {
    /// `native` or `rhai`, as `--engine` takes it.
    pub fn as_str(self) -> &'static str {
        match self {
            EngineKind::Native => "native",
            EngineKind::Rhai => "rhai",
        }
    }
}

impl std::str::FromStr for EngineKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "native" => Ok(EngineKind::Native),
            "rhai" => Ok(EngineKind::Rhai),
            _ => Err(format!("unknown engine `{s}`: expected `native` or `rhai`")),
        }
    }
}

/// How [`Catalog::recommend_with`] and [`Catalog::evaluate_batch_with`] evaluate; the
/// default is what [`Catalog::recommend`] and [`Catalog::evaluate_batch`] use.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EvalOptions {
    /// Which engine runs the `when` clauses and benefits; both give the same answers.
    pub engine: EngineKind,
}

impl EvalOptions {
    /// The default options with `engine` chosen.
    pub const fn with_engine(engine: EngineKind) -> EvalOptions {
        EvalOptions { engine }
    }
}

/// Enterprises per block of a [`Catalog::sweep`]: enough to amortise scheduling, few
/// enough to keep every core busy to the end of a chunk.
pub const SWEEP_BLOCK: usize = 256;

/// How a [`Catalog::sweep`] evaluates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SweepOptions {
    /// The evaluation date.
    pub as_of: Date,
    /// Which engine runs the `when` clauses and benefits.
    pub engine: EngineKind,
    /// See [`Evaluator::with_options`]: a pair the prefilter decides has no statuses.
    pub prefilter: bool,
}
