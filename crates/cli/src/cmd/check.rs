//! `check`: the catalog loaded (an invalid one is reported by `crate::catalog`); prints
//! its warnings on stderr and the summary on stdout. With `--deny-warnings`, a warning
//! fails the check as an error would.

use policy_match::compile::catalog::Catalog;

use crate::args::{CheckArgs, ErrorFormat};
use crate::exit::{self, EXIT_CATALOG_INVALID, EXIT_OK, Outcome};
use crate::out::Out;

pub fn run(catalog: &Catalog, args: &CheckArgs, format: ErrorFormat, out: &mut Out) -> Outcome {
    let warnings = catalog.warnings();
    exit::diagnostics(warnings, format);
    if args.deny_warnings && !warnings.is_empty() {
        exit::summary(
            format,
            format_args!(
                "the catalog is invalid: 0 error(s), {} warnings, denied by `--deny-warnings`",
                warnings.len()
            ),
        );
        return Ok(EXIT_CATALOG_INVALID);
    }
    out.line(format_args!(
        "ok: {} measures, 0 errors, {} warnings (catalog {})",
        catalog.measures.len(),
        warnings.len(),
        catalog.hash
    ))?;
    Ok(EXIT_OK)
}
