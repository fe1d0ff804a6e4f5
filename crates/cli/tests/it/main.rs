//! The command line and the batch crate end to end: one test binary, so that polars is
//! linked once. Each module is one concern; `support` holds the shared helpers.

mod batch;
mod cli;
mod fuzz_inputs;
mod hardening;
mod report;
mod serve;
mod sql;
mod support;
