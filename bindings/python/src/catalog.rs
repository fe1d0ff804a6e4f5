//! `policy_match.Catalog`: a loaded catalog and the questions asked of it.

use std::path::PathBuf;

use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;

use policy_match::Profile;
use policy_match::eval::{DEFAULT_MAX_PUSHES, DEFAULT_MAX_UNLOCKS};
use policy_match::report::{explain, views};

use crate::convert;

// The defaults of `explain` below are written as literals, so that Python's signature
// shows them; they are the command line's.
const _: () = assert!(DEFAULT_MAX_PUSHES == 10 && DEFAULT_MAX_UNLOCKS == 3);

/// The most pushes and unlocks the command line takes (`--max-pushes`, `--max-unlocks`):
/// `match` keeps ranks in a byte.
const MAX_COUNT: usize = 255;

/// A checked and compiled catalog of measures: the built-in Keqiao catalog
/// (``Catalog.builtin()``) or a rules directory (``Catalog.from_dir(path)``).
///
/// A catalog is immutable and safe to share between threads; to take up edited rules,
/// load the directory again. Every answer carries the catalog's ``hash``.
#[pyclass(module = "policy_match", frozen)]
pub struct Catalog {
    inner: policy_match::Catalog,
}

#[pymethods]
impl Catalog {
    /// The built-in catalog: Keqiao's 145 measures, embedded in the package at build
    /// time from the repository's ``rules/``.
    #[staticmethod]
    fn builtin(py: Python<'_>) -> PyResult<Catalog> {
        let loaded = py.detach(policy_match::Catalog::builtin);
        loaded
            .map(|inner| Catalog { inner })
            .map_err(|e| convert::load_error(py, e))
    }

    /// Loads, checks and compiles a rules directory (``schema.toml``, ``centre.toml``,
    /// ``measures/**/*.toml``), read as one consistent snapshot.
    ///
    /// Raises ``CatalogError`` (a ``ValueError``) when a file does not check: its
    /// ``diagnostics`` lists every problem of every file. Raises ``OSError`` when the
    /// directory cannot be read.
    #[staticmethod]
    fn from_dir(py: Python<'_>, path: PathBuf) -> PyResult<Catalog> {
        let loaded = py.detach(|| policy_match::Catalog::load_dir(&path));
        loaded
            .map(|inner| Catalog { inner })
            .map_err(|e| convert::load_error(py, e))
    }

    /// The catalog's content hash, 16 hex digits: the one ``policy-match check`` prints
    /// and every answer carries as ``catalog_hash``.
    #[getter]
    fn hash(&self) -> &str {
        self.inner.hash()
    }

    /// Every measure, sorted by id, as ``policy-match list --format json`` prints it:
    /// a dict of its metadata (id, article, text, routing, nature, window, delivery, …),
    /// its ``title`` and the labels of its ``conditions``.
    fn measures<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        convert::to_py(py, &views::list(&self.inner))
    }

    /// The catalog's warnings (lints that do not stop it loading), as diagnostic dicts
    /// with the fields of ``policy-match check --error-format json``.
    fn warnings<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        convert::to_py(py, &self.inner.warnings())
    }

    /// Every measure's outcome for one enterprise as of a date, and what it is told:
    /// exactly the JSON of ``policy-match explain --format json``, as a dict.
    ///
    /// ``profile`` is one object of the JSON Lines input, ``{"id": …, "name": …,
    /// "tags": [...], "fields": {...}}`` (dates as ``'YYYY-MM-DD'`` strings, a missing
    /// field left out or ``None``); a profile the command line would reject raises
    /// ``ValueError`` with the same reason. ``as_of`` is a ``'YYYY-MM-DD'`` string or a
    /// ``datetime.date``. ``max_pushes`` (1 to 255) and ``max_unlocks`` (0 to 255) cap
    /// what the enterprise is told, as ``--max-pushes`` and ``--max-unlocks`` do.
    ///
    /// The result has ``enterprise_id``, ``as_of``, ``catalog_hash``, ``pushes`` (ranked),
    /// ``held_back``, ``grants``, ``unlocks``, ``notices`` and ``results`` (every
    /// measure, with the status of each condition). The GIL is released while the
    /// enterprise is evaluated.
    #[pyo3(signature = (profile, as_of, max_pushes = 10, max_unlocks = 3))]
    fn explain<'py>(
        &self,
        py: Python<'py>,
        profile: &Bound<'py, PyAny>,
        as_of: &Bound<'py, PyAny>,
        max_pushes: usize,
        max_unlocks: usize,
    ) -> PyResult<Bound<'py, PyAny>> {
        let line = convert::profile_line(py, profile)?;
        let as_of = convert::as_of(py, as_of)?;
        let max_pushes = convert::count("max_pushes", max_pushes, 1, MAX_COUNT)?;
        let max_unlocks = convert::count("max_unlocks", max_unlocks, 0, MAX_COUNT)?;
        let catalog = &self.inner;
        let answer = py.detach(|| {
            let profile = Profile::from_json(catalog.schema(), &line)
                .map_err(|e| PyErr::new::<PyValueError, _>(e.to_string()))?;
            let rec = catalog.recommend(&profile, as_of);
            let digest = rec.digest(catalog, max_pushes, max_unlocks);
            serde_json::to_string(&explain::to_json(catalog, &rec, &digest)).map_err(|e| {
                PyErr::new::<PyRuntimeError, _>(format!("cannot serialise the answer: {e}"))
            })
        })?;
        convert::json_loads(py, &answer)
    }

    fn __repr__(&self) -> String {
        format!(
            "<policy_match.Catalog: {} measures, hash {}>",
            self.inner.measures().len(),
            self.inner.hash()
        )
    }
}
