//! Names and labels shared by stages that must not depend on each other: the validator
//! and the evaluator, the schema and the expression language.

/// The helper functions an officer's expression may call.
pub const HELPERS: [&str; 7] = [
    "has",
    "date",
    "year",
    "days_between",
    "add_months",
    "min",
    "max",
];

/// Names that expressions use for other things and no field may take, besides the
/// helper functions ([`HELPERS`]).
pub const RESERVED: &[&str] = &["p", "as_of", "true", "false"];

/// The label a measure reports when `as_of` is outside its effective window.
pub const OUT_OF_WINDOW: &str = "不在政策有效期内";
