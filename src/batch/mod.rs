//! Nightly batch matching: every enterprise of a population against every measure.

pub mod audit;
pub mod outdir;
pub mod popfile;
pub mod population;
pub mod record;
pub mod render;
pub mod run;
pub mod shard;
pub mod sink;
pub mod spool;
pub mod table;
