//! The catalog every command starts from: a rules directory, or the built-in one.

use std::path::Path;

use policy_match::LoadError;
use policy_match::compile::catalog::Catalog;

use crate::args::ErrorFormat;
use crate::exit;

/// Loads the catalog of `rules`, or the built-in one; on failure, reports it on stderr in
/// `format` and returns the exit code.
pub fn load(rules: Option<&Path>, format: ErrorFormat) -> Result<Catalog, u8> {
    let loaded = match rules {
        Some(dir) => Catalog::load_dir(dir),
        None => Catalog::builtin(),
    };
    loaded.map_err(|e| match e {
        LoadError::Invalid(diags) => exit::catalog_invalid(&diags, format),
        other => exit::report(exit::fatal(other.to_string()), format),
    })
}
