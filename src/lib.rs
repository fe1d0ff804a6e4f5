//! policy-match: finds, for every measure of Keqiao's "民营经济32条", the enterprises it
//! is meant for (政策找企业), and decides the benefits that need no application (免申即享).
//!
//! Stages, as in the code map of ARCHITECTURE.md: enterprise profiles ([`profile`]) and
//! rule text ([`rules`]) → checked IR, with every expression parsed and typed once
//! ([`lang`]) → compiled form ([`compile`]: tag bits, rhai ASTs, native trees) →
//! evaluation ([`eval`]) → explanations and views ([`report`]).
//!
//! ```
//! use policy_match::{Catalog, Profile, RawValue};
//! use jiff::civil::date;
//!
//! let catalog = Catalog::builtin().expect("the built-in catalog is valid");
//! let profile = Profile::build(
//!     &catalog.schema,
//!     "91330603MA2BK7R415".into(),
//!     "绍兴柯桥示例印染有限公司".into(),
//!     vec!["kind:enterprise".into(), "industry:C1713".into()],
//!     [("energy_intensity".to_string(), RawValue::Number(0.41))],
//! )
//! .expect("the profile fits the schema");
//! let answer = catalog.recommend(&profile, date(2025, 6, 30));
//! let m017 = answer
//!     .results
//!     .iter()
//!     .find(|r| catalog.measures[r.measure].measure.id == "M017")
//!     .unwrap();
//! assert_eq!(m017.outcome, policy_match::Outcome::Eligible);
//! ```

pub mod compile;
pub mod dates;
pub mod diag;
pub mod eval;
pub mod lang;
mod load;
pub mod names;
pub mod profile;
pub mod report;
pub mod rules;
pub mod sql;
pub mod synth;

/// The README's examples compile and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

pub use compile::catalog::Catalog;
pub use eval::{EngineKind, MeasureResult, Outcome, Recommendation, Status};
pub use load::{LoadError, SharedCatalog};
pub use profile::{FieldValue, Profile, RawValue};
pub use rules::sources::Sources;
