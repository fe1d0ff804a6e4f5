//! A problem found in an expression, placed within the expression's text.

use rhai::Position;

use crate::diag::Code;

/// One problem in an expression; `line`/`column` are 1-based within the expression text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub code: Code,
    pub message: String,
    pub help: Option<String>,
    pub line: usize,
    pub column: usize,
}

impl Problem {
    /// A problem at rhai's position `at` (the start when rhai gives none).
    pub(crate) fn new(code: Code, at: Position, message: String, help: Option<String>) -> Self {
        Problem {
            code,
            message,
            help,
            line: at.line().unwrap_or(1),
            column: at.position().unwrap_or(1),
        }
    }

    /// A problem with the whole expression, placed at its start.
    pub(crate) fn at_start(code: Code, message: String, help: Option<String>) -> Self {
        Problem::new(code, Position::NONE, message, help)
    }
}
