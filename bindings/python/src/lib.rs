//! `policy_match._native`: the Python extension behind the package `policy_match`.
//!
//! A thin layer over the core library: `catalog::Catalog` wraps a loaded
//! `policy_match::Catalog`; every answer is the core's, serialised as the command line
//! serialises it (`list --format json`, `explain --format json`, `--error-format json`
//! diagnostics) and handed to Python as plain dicts and lists (`convert`); `match_arrow`
//! is the batch crate's match over an Arrow stream, its tables handed back as Arrow
//! streams (`arrow`). Nothing here decides anything about a measure or an enterprise.

use pyo3::prelude::*;

mod arrow;
mod catalog;
mod convert;

pyo3::create_exception!(
    policy_match,
    CatalogError,
    pyo3::exceptions::PyValueError,
    concat!(
        "A rules directory that does not check.\n\n",
        "The message names how many errors and warnings there are and the first error;\n",
        "``diagnostics`` holds every problem found, errors and the warnings of the files\n",
        "that checked, in file order, as dicts with the fields of\n",
        "``policy-match --error-format json``: code, severity, message, help, file,\n",
        "measure, line, column (absent ones left out)."
    )
);

/// The native part of `policy_match`; import the package, not this module.
#[pymodule]
mod _native {
    #[pymodule_export]
    use super::CatalogError;
    #[pymodule_export]
    use super::arrow::ArrowTable;
    #[pymodule_export]
    use super::catalog::Catalog;

    use pyo3::prelude::*;

    #[pymodule_init]
    fn init(m: &Bound<'_, PyModule>) -> PyResult<()> {
        m.add("__version__", env!("CARGO_PKG_VERSION"))
    }
}
