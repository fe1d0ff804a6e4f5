//! The nightly batch of policy-match: population files in (CSV, Parquet, JSON Lines),
//! result tables out (CSV, Parquet) into an output folder written all or nothing, and
//! the runs over them: `match`, `audit`, `gen`. The only crate of the workspace that
//! uses polars.

pub mod audit;
pub mod outdir;
pub mod parquet_footer;
pub mod popfile;
pub mod population;
pub mod render;
pub mod report;
pub mod run;
pub mod shard;
pub mod sink;
pub mod spool;
pub mod table;
pub mod tabular;
