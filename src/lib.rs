//! policy-match: finds, for every measure of Keqiao's "民营经济32条", the enterprises it
//! is meant for (政策找企业), and decides the benefits that need no application (免申即享).
//!
//! The public API is what this page lists: a [`Catalog`] (loaded, checked and compiled
//! rules), [`Profile`]s (一企一档), and answers — a [`Recommendation`] of
//! [`MeasureResult`]s that name their measure by [`MeasureId`] and carry the catalog
//! hash. The stage modules are public for the batch crate, the benches and the fuzz
//! targets, and hidden from these docs: they are not a stable API.
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
//!     catalog.schema(),
//!     "91330603MA2BK7R415".into(),
//!     "绍兴柯桥示例印染有限公司".into(),
//!     vec!["kind:enterprise".into(), "industry:C1713".into()],
//!     [("energy_intensity".to_string(), RawValue::Number(0.41))],
//! )
//! .expect("the profile fits the schema");
//! let answer = catalog.recommend(&profile, date(2025, 6, 30));
//! let m017 = answer.results.iter().find(|r| r.measure == "M017").unwrap();
//! assert_eq!(m017.outcome, policy_match::Outcome::Eligible);
//! assert_eq!(answer.catalog_hash, catalog.hash());
//! println!("{}", catalog.measure("M017").unwrap().text);
//! ```

#![deny(missing_docs)]

#[doc(hidden)]
pub mod compile;
#[doc(hidden)]
pub mod dates;
pub mod diag;
#[doc(hidden)]
pub mod eval;
#[doc(hidden)]
pub mod lang;
mod load;
#[doc(hidden)]
pub mod names;
#[doc(hidden)]
pub mod profile;
pub mod report;
#[doc(hidden)]
pub mod rules;
pub mod sql;
#[doc(hidden)]
pub mod synth;

/// The README's examples compile and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

pub use compile::catalog::Catalog;
pub use diag::Diagnostic;
pub use eval::{EngineKind, EvalOptions, MeasureResult, Outcome, Recommendation, Status};
pub use load::{LoadError, SharedCatalog};
pub use profile::jsonl::{ReadError, read_jsonl, read_jsonl_from};
pub use profile::record::Reject;
pub use profile::schema::Schema;
pub use profile::{FieldValue, Profile, ProfileError, RawValue};
pub use rules::centre::Centre;
pub use rules::id::MeasureId;
pub use rules::ir::Measure;
pub use rules::sources::{Sources, SourcesError};
