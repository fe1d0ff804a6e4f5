//! Between Python and the core: answers go out as the core's JSON, read back by Python's
//! `json.loads` (a dict is exactly what the command line prints, key order included);
//! a profile comes in through `json.dumps` and the core's JSON Lines parser (so it is
//! accepted or refused as `explain` and `match` accept or refuse that line); dates and
//! load errors.

use pyo3::exceptions::{
    PyFileNotFoundError, PyOSError, PyPermissionError, PyRuntimeError, PyTypeError, PyValueError,
};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString};
use serde::Serialize;

use jiff::civil::Date;
use policy_match::dates::parse_date;
use policy_match::{Diagnostic, LoadError, SourcesError};

use crate::CatalogError;

/// `value` as Python objects: the core's JSON of it, parsed by `json.loads`.
pub fn to_py<'py>(py: Python<'py>, value: &impl Serialize) -> PyResult<Bound<'py, PyAny>> {
    let text = serde_json::to_string(value)
        .map_err(|e| PyRuntimeError::new_err(format!("cannot serialise the answer: {e}")))?;
    json_loads(py, &text)
}

/// Python's `json.loads(text)`.
pub fn json_loads<'py>(py: Python<'py>, text: &str) -> PyResult<Bound<'py, PyAny>> {
    py.import(intern!(py, "json"))?
        .call_method1(intern!(py, "loads"), (text,))
}

/// A profile object (`{"id", "name", "tags", "fields"}`) as one JSON Lines line, for
/// `Profile::from_json`. A NaN or infinite number, or a value JSON has no form for, is
/// refused here (`ValueError`, `TypeError`): a JSON Lines file cannot hold it either.
pub fn profile_line(py: Python<'_>, profile: &Bound<'_, PyAny>) -> PyResult<String> {
    let kwargs = PyDict::new(py);
    kwargs.set_item(intern!(py, "allow_nan"), false)?;
    py.import(intern!(py, "json"))?
        .call_method(intern!(py, "dumps"), (profile,), Some(&kwargs))?
        .extract()
}

/// `as_of` as a civil date: a `'YYYY-MM-DD'` string or a `datetime.date` (not a
/// `datetime.datetime`, whose time of day would be dropped silently).
pub fn as_of(py: Python<'_>, value: &Bound<'_, PyAny>) -> PyResult<Date> {
    let text: String = if value.is_instance_of::<PyString>() {
        value.extract()?
    } else {
        let datetime = py.import(intern!(py, "datetime"))?;
        let type_name = value.get_type().name()?;
        if value.is_instance(&datetime.getattr(intern!(py, "datetime"))?)? {
            return Err(PyTypeError::new_err(
                "`as_of` must be a date, not a datetime: pass `.date()`",
            ));
        }
        if !value.is_instance(&datetime.getattr(intern!(py, "date"))?)? {
            return Err(PyTypeError::new_err(format!(
                "`as_of` must be a 'YYYY-MM-DD' string or a datetime.date, found {type_name}"
            )));
        }
        value.call_method0(intern!(py, "isoformat"))?.extract()?
    };
    // The command line's `--as-of` parser and message.
    parse_date(&text)
        .ok_or_else(|| PyValueError::new_err(format!("`{text}` is not a date YYYY-MM-DD")))
}

/// A count argument in `0..=max` (`min` the least), with the command line's bounds.
pub fn count(name: &str, value: usize, min: usize, max: usize) -> PyResult<usize> {
    if (min..=max).contains(&value) {
        Ok(value)
    } else {
        Err(PyValueError::new_err(format!(
            "`{name}` must be {min} to {max}, found {value}"
        )))
    }
}

/// A load error as a Python exception: [`CatalogError`] with every diagnostic for rules
/// that do not check, `OSError` (or its `FileNotFoundError`, `PermissionError`) for a
/// directory that cannot be read, `RuntimeError` for a bug of the compiler.
pub fn load_error(py: Python<'_>, error: LoadError) -> PyErr {
    let message = error.to_string();
    match error {
        LoadError::Invalid(diags) => catalog_error(py, message, &diags),
        LoadError::Read(SourcesError::Io { source, .. }) => match source.kind() {
            std::io::ErrorKind::NotFound => PyFileNotFoundError::new_err(message),
            std::io::ErrorKind::PermissionDenied => PyPermissionError::new_err(message),
            _ => PyOSError::new_err(message),
        },
        LoadError::Read(_) => PyOSError::new_err(message),
        LoadError::Bug(_) => PyRuntimeError::new_err(message),
    }
}

/// `CatalogError("<the core's message>, N warnings; first error: <where and what>")`
/// with `.diagnostics`, every diagnostic as the command line's JSON has it.
fn catalog_error(py: Python<'_>, message: String, diags: &[Diagnostic]) -> PyErr {
    let warnings = diags.iter().filter(|d| !d.is_error()).count();
    let mut message = format!("{message}, {warnings} warnings");
    if let Some(first) = diags.iter().find(|d| d.is_error()).or(diags.first()) {
        message.push_str(&format!("; first: {first}"));
    }
    let err = CatalogError::new_err(message);
    let attached = to_py(py, &diags).and_then(|list| {
        err.value(py)
            .setattr(intern!(py, "diagnostics"), list)
            .map(|()| err.clone_ref(py))
    });
    attached.unwrap_or_else(|e| e)
}
