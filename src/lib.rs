//! policy-match: finds, for every measure of Keqiao's "民营经济32条", the enterprises it
//! is meant for (政策找企业), and decides the benefits that need no application (免申即享).
//!
//! Stages, as in the code map of ARCHITECTURE.md: rule text ([`syntax`]) → checked IR
//! ([`check`] into [`ir`]) → compiled form ([`compile`], rhai ASTs and tag bits) →
//! evaluation ([`eval`]) → explanations ([`explain`]).
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

pub mod batch;
pub mod catalog;
pub mod centre;
pub mod check;
pub mod columns;
pub mod compile;
pub mod dates;
pub mod diag;
pub mod engine;
pub mod eval;
pub mod explain;
pub mod ir;
pub mod native;
pub mod parquet_footer;
pub mod profile;
pub mod program;
pub mod ruletest;
pub mod schema;
pub mod sql;
pub mod syntax;
pub mod synth;
#[cfg(feature = "polars")]
pub mod tabular;
pub mod tags;
pub mod typing;
pub mod uscc;
pub mod views;

#[cfg(feature = "cli")]
pub mod cli;

/// The README's examples compile and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

pub use catalog::{Catalog, LoadError, SharedCatalog, Sources};
pub use eval::{EngineKind, MeasureResult, Outcome, Recommendation, Status};
pub use profile::{FieldValue, Profile, RawValue};
