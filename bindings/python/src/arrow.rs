//! Arrow across the boundary, through the [PyCapsule interface] of the Arrow C stream
//! interface: a population comes in as whatever `__arrow_c_stream__()` gives (no Python
//! object per value), result tables go out as [`ArrowTable`]s with their own
//! `__arrow_c_stream__`. The batch crate reads and writes the streams; this module only
//! moves them in and out of capsules.
//!
//! With `policy_match_batch::tabular::arrow`, the one module of the workspace allowed
//! `unsafe` code: the capsule holds a raw `struct ArrowArrayStream`.
//!
//! [PyCapsule interface]: https://arrow.apache.org/docs/format/CDataInterface/PyCapsuleInterface.html
#![allow(unsafe_code)]

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::PyCapsule;

use policy_match_batch::tabular::{self, ArrowStream};

/// The name the PyCapsule interface gives a capsule holding an `ArrowArrayStream`.
const STREAM: &std::ffi::CStr = c"arrow_array_stream";

/// Takes the Arrow stream out of `data.__arrow_c_stream__()`: the capsule is left holding
/// a released stream, and the returned one owns the data.
pub fn take_stream(data: &Bound<'_, PyAny>) -> PyResult<ArrowStream> {
    let py = data.py();
    if !data.hasattr(intern!(py, "__arrow_c_stream__"))? {
        return Err(PyTypeError::new_err(format!(
            "data must have `__arrow_c_stream__` (a pyarrow Table, RecordBatch or \
             RecordBatchReader, a polars DataFrame, …); got {}",
            data.get_type().name()?
        )));
    }
    let capsule = data
        .call_method0(intern!(py, "__arrow_c_stream__"))?
        .cast_into::<PyCapsule>()
        .map_err(|_| PyTypeError::new_err("`__arrow_c_stream__()` did not return a PyCapsule"))?;
    let stream = capsule.pointer_checked(Some(STREAM))?;
    // SAFETY: a capsule named `arrow_array_stream` holds a `struct ArrowArrayStream` (the
    // PyCapsule interface), alive while `capsule` is; `take` moves it out and marks the
    // capsule's copy released, so its destructor frees nothing.
    Ok(unsafe { ArrowStream::take(stream.as_ptr()) })
}

/// One result table of ``Catalog.match_arrow``, held in memory: read it with any Arrow
/// consumer of the PyCapsule interface (``pyarrow.table(t)``,
/// ``pyarrow.RecordBatchReader.from_stream(t)``, ``polars.DataFrame(t)``), as many
/// times as needed.
///
/// The columns, types and values are those of the Parquet file
/// ``policy-match match --format parquet`` writes for the table (text as
/// ``large_string``, counts as ``int64``, amounts as ``float64``).
#[pyclass(module = "policy_match", frozen)]
pub struct ArrowTable {
    name: &'static str,
    table: tabular::ArrowTable,
}

impl ArrowTable {
    pub fn new(name: &'static str, table: tabular::ArrowTable) -> ArrowTable {
        ArrowTable { name, table }
    }
}

#[pymethods]
impl ArrowTable {
    /// The table's name: ``pushes``, ``rejects``, …
    #[getter]
    fn name(&self) -> &str {
        self.name
    }

    /// The column names, in order.
    #[getter]
    fn columns(&self) -> Vec<String> {
        self.table.columns()
    }

    /// The number of rows.
    fn __len__(&self) -> usize {
        self.table.rows()
    }

    /// The table as an Arrow C stream (a PyCapsule named ``arrow_array_stream``).
    /// ``requested_schema`` is accepted and ignored: the table has one schema.
    #[pyo3(signature = (requested_schema = None))]
    fn __arrow_c_stream__<'py>(
        &self,
        py: Python<'py>,
        requested_schema: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyCapsule>> {
        let _ = requested_schema;
        PyCapsule::new_with_value(py, self.table.stream(), STREAM)
    }

    fn __repr__(&self) -> String {
        format!(
            "<policy_match.ArrowTable {}: {} rows, columns {}>",
            self.name,
            self.table.rows(),
            self.table.columns().join(", ")
        )
    }
}

/// A `ValueError` for a population that cannot be read: a missing or mistyped column
/// (named), a stream that is not record batches.
pub fn input_error(e: impl std::fmt::Display) -> PyErr {
    PyValueError::new_err(e.to_string())
}
