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

/// The tag of an enterprise (企业), as opposed to an individual business (个体工商户).
pub const ENTERPRISE_TAG: &str = "kind:enterprise";

/// The tag of an individual business (个体工商户).
pub const INDIVIDUAL_BUSINESS_TAG: &str = "kind:individual_business";

/// The unlock an individual business is told about when becoming an enterprise would
/// open measures: 个转企 is a path it can take, unlike the rest of its identity.
pub const CONVERSION_UNLOCK: &str = "个转企（个体工商户转型为企业）";
