//! Helpers shared by the modules of this test binary.

use std::path::{Path, PathBuf};

pub mod cli;
pub mod fuzz_entry;

/// The repository root: fixtures and rules are read from there, and the binary runs there.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}
