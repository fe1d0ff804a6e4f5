//! `policy_match.Catalog`: a loaded catalog and the questions asked of it.

use std::path::PathBuf;

use pyo3::exceptions::{PyOSError, PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use policy_match::Profile;
use policy_match::eval::{DEFAULT_MAX_PUSHES, DEFAULT_MAX_UNLOCKS, EngineKind, MAX_TOLD};
use policy_match::report::{explain, views};
use policy_match_batch::run::{
    ArrowMatchOptions, DEFAULT_CHUNK_ROWS, DEFAULT_TABLES, MatchError, RESULT_TABLES, match_arrow,
};

use crate::{arrow, convert};

// The defaults of `explain` below are written as literals, so that Python's signature
// shows them; they are the command line's.
const _: () = assert!(DEFAULT_MAX_PUSHES == 10 && DEFAULT_MAX_UNLOCKS == 3);
// And `match_arrow`'s docstring names the default tables.
const _: () = assert!(DEFAULT_TABLES.len() == 8 && RESULT_TABLES.len() == 10);

/// The most threads one `match_arrow` call takes.
const MAX_THREADS: usize = 1024;

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
        let max_pushes = convert::count("max_pushes", max_pushes, 1, MAX_TOLD)?;
        let max_unlocks = convert::count("max_unlocks", max_unlocks, 0, MAX_TOLD)?;
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

    /// Matches a whole population held as Arrow, as ``policy-match match --format
    /// parquet`` matches a Parquet file: the same tables, columns, values and order.
    ///
    /// ``data`` is anything with ``__arrow_c_stream__`` (a pyarrow ``Table``,
    /// ``RecordBatch`` or ``RecordBatchReader``, a polars ``DataFrame``, …) in the
    /// population layout of ``match``: ``id``, ``name``, ``tags`` (a list of strings) and
    /// one column per schema field, typed as in a Parquet population (``gen`` writes
    /// one). It is read batch by batch through the Arrow C stream interface, never as
    /// Python objects, and checked as a Parquet file is: a missing, unknown or mistyped
    /// column raises ``ValueError`` naming the column; a bad row is a reject, never an
    /// exception.
    ///
    /// ``as_of`` is a ``'YYYY-MM-DD'`` string or a ``datetime.date``; ``tables`` the
    /// result tables to give (default ``pushes``, ``digest``, ``unlocks``, ``notices``,
    /// ``grants``, ``near_misses``, ``undetermined``, ``errors``; also ``push_ids`` and
    /// ``eligible``), as ``--tables``; ``max_pushes`` (1 to 255) and ``max_unlocks``
    /// (0 to 255) as ``--max-pushes`` and ``--max-unlocks``. ``threads`` (at least 1) is
    /// the number of threads evaluating, for this call only: 1 by default, since Spark
    /// and Ray already run one task per core. ``row_numbers`` names an integer column
    /// that is not part of the population: each row's number in the source file (from
    /// 1), which rejects then name — for engines that split or regroup a file before it
    /// gets here; without it, rows are numbered from 1 in stream order.
    ///
    /// Returns a dict: each table asked for, then ``rejects``, as an ``ArrowTable``
    /// (read it with ``pyarrow.table(t)`` or ``polars.DataFrame(t)``), and ``summary``,
    /// the dict ``summary.json`` holds (``input`` is ``'Arrow input'``). The GIL is
    /// released while the population is read and evaluated.
    #[pyo3(signature = (data, as_of, tables = None, max_pushes = 10, max_unlocks = 3, threads = 1, row_numbers = None))]
    #[allow(clippy::too_many_arguments)] // Python's keyword arguments, each documented
    fn match_arrow<'py>(
        &self,
        py: Python<'py>,
        data: &Bound<'py, PyAny>,
        as_of: &Bound<'py, PyAny>,
        tables: Option<Vec<String>>,
        max_pushes: usize,
        max_unlocks: usize,
        threads: usize,
        row_numbers: Option<String>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let as_of = convert::as_of(py, as_of)?;
        let max_pushes = convert::count("max_pushes", max_pushes, 1, MAX_TOLD)?;
        let max_unlocks = convert::count("max_unlocks", max_unlocks, 0, MAX_TOLD)?;
        let threads = convert::count("threads", threads, 1, MAX_THREADS)?;
        if let Some(unknown) = tables
            .iter()
            .flatten()
            .find(|t| !RESULT_TABLES.contains(&t.as_str()))
        {
            return Err(PyValueError::new_err(format!(
                "unknown table `{unknown}`: expected some of {}",
                RESULT_TABLES.join(", ")
            )));
        }
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .map_err(|e| PyRuntimeError::new_err(format!("cannot start {threads} threads: {e}")))?;
        let stream = arrow::take_stream(data)?;
        let opts = ArrowMatchOptions {
            as_of,
            chunk_rows: DEFAULT_CHUNK_ROWS,
            engine: EngineKind::Native,
            prefilter: true,
            tables,
            max_pushes,
            max_unlocks,
            row_numbers,
        };
        let catalog = &self.inner;
        let done = py
            .detach(|| pool.install(|| match_arrow(catalog, stream, &opts)))
            .map_err(|e| match e {
                MatchError::ReadArrow(e) => arrow::input_error(e),
                MatchError::Output(e) => PyOSError::new_err(e.to_string()),
                other => PyRuntimeError::new_err(other.to_string()),
            })?;
        let out = PyDict::new(py);
        for (name, table) in done.tables {
            out.set_item(name, arrow::ArrowTable::new(name, table))?;
        }
        out.set_item("summary", convert::to_py(py, &done.summary)?)?;
        Ok(out)
    }

    fn __repr__(&self) -> String {
        format!(
            "<policy_match.Catalog: {} measures, hash {}>",
            self.inner.measures().len(),
            self.inner.hash()
        )
    }
}
