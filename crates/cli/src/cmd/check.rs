//! `check`: the catalog loaded (its diagnostics are reported by `crate::catalog`); says so.

use policy_match::compile::catalog::Catalog;

use crate::exit::{EXIT_OK, Outcome};
use crate::out::Out;

pub fn run(catalog: &Catalog, out: &mut Out) -> Outcome {
    out.line(format_args!(
        "ok: {} measures, 0 errors, 0 warnings (catalog {})",
        catalog.measures.len(),
        catalog.hash
    ))?;
    Ok(EXIT_OK)
}
