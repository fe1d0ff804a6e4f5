//! Reading a result table back, a few columns at a time, whether `match` wrote it as CSV
//! or Parquet: for readers that aggregate a finished run (the report), never holding the
//! table whole.

use super::*;

/// One cell of a result table as read back.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value<'a> {
    Text(&'a str),
    Number(f64),
    Null,
}

impl<'a> Value<'a> {
    /// The text, or `""` for a null; a number as no text.
    pub fn text(self) -> &'a str {
        match self {
            Value::Text(s) => s,
            _ => "",
        }
    }

    /// The number: a Parquet number, or CSV text that parses as one.
    pub fn number(self) -> Option<f64> {
        match self {
            Value::Number(x) => Some(x),
            Value::Text(s) => s.parse().ok(),
            Value::Null => None,
        }
    }
}

/// Calls `row` with the cells of `columns`, in that order, for every row of the result
/// table at `path` (`.csv` or `.parquet`), in file order. A missing column is an error
/// naming it. CSV text is given as written (an empty field as `Text("")`).
pub fn visit_rows(
    path: &Path,
    columns: &[&str],
    row: &mut dyn FnMut(&[Value<'_>]),
) -> Result<usize, TabularError> {
    match path.extension().and_then(|e| e.to_str()) {
        Some("parquet") => visit_parquet(path, columns, row),
        _ => visit_csv(path, columns, row),
    }
}

/// The column names of the result table at `path` (`.csv` or `.parquet`), without reading
/// its rows.
pub fn column_names(path: &Path) -> Result<Vec<String>, TabularError> {
    if path.extension().and_then(|e| e.to_str()) == Some("parquet") {
        let mut file = File::open(path).map_err(io_err(path))?;
        check_parquet_footer(path, &mut file)?;
        let (_, schema) = parquet_head(path, &mut file)?;
        return Ok(schema.iter_names().map(|n| n.to_string()).collect());
    }
    let mut reader = ::csv::Reader::from_path(path).map_err(|e| format_err(path, e.to_string()))?;
    let headers = reader
        .headers()
        .map_err(|e| format_err(path, e.to_string()))?;
    Ok(headers.iter().map(str::to_owned).collect())
}

fn visit_csv(
    path: &Path,
    columns: &[&str],
    row: &mut dyn FnMut(&[Value<'_>]),
) -> Result<usize, TabularError> {
    let mut reader = ::csv::Reader::from_path(path).map_err(|e| format_err(path, e.to_string()))?;
    let headers = reader
        .headers()
        .map_err(|e| format_err(path, e.to_string()))?
        .clone();
    let at: Vec<usize> = columns
        .iter()
        .map(|c| {
            headers
                .iter()
                .position(|h| h == *c)
                .ok_or_else(|| column_err(path, c, "required column is missing"))
        })
        .collect::<Result<_, _>>()?;
    let mut record = ::csv::StringRecord::new();
    let mut rows = 0;
    while reader
        .read_record(&mut record)
        .map_err(|e| format_err(path, format!("line {}: {e}", rows + 2)))?
    {
        let cells: Vec<Value<'_>> = at
            .iter()
            .map(|&i| Value::Text(record.get(i).unwrap_or("")))
            .collect();
        row(&cells);
        rows += 1;
    }
    Ok(rows)
}

fn visit_parquet(
    path: &Path,
    columns: &[&str],
    row: &mut dyn FnMut(&[Value<'_>]),
) -> Result<usize, TabularError> {
    const SLICE_ROWS: usize = 1 << 16;
    let mut file = File::open(path).map_err(io_err(path))?;
    check_parquet_footer(path, &mut file)?;
    let (metadata, file_schema) = parquet_head(path, &mut file)?;
    for c in columns {
        if file_schema.get(c).is_none() {
            return Err(column_err(path, c, "required column is missing"));
        }
    }
    let wanted: Vec<String> = columns.iter().map(|c| c.to_string()).collect();
    let mut offset = 0usize;
    while offset < metadata.num_rows {
        let len = SLICE_ROWS.min(metadata.num_rows - offset);
        let df = parquet_slice(
            path,
            &mut file,
            &metadata,
            Some(wanted.clone()),
            offset,
            len,
        )?;
        let slice: Vec<Vec<Value<'_>>> = columns
            .iter()
            .map(|c| column_values(path, &df, c))
            .collect::<Result<_, _>>()?;
        let mut cells = Vec::with_capacity(columns.len());
        for i in 0..df.height() {
            cells.clear();
            cells.extend(slice.iter().map(|col| col[i]));
            row(&cells);
        }
        offset += len;
    }
    Ok(metadata.num_rows)
}

/// A column of a slice as values: text as is, any number as `f64`.
fn column_values<'a>(
    path: &Path,
    df: &'a pl::DataFrame,
    name: &str,
) -> Result<Vec<Value<'a>>, TabularError> {
    let column = df.column(name).map_err(pl_err(path))?;
    if column.dtype() == &pl::DataType::String {
        let strings = column.str().map_err(pl_err(path))?;
        return Ok(strings
            .iter()
            .map(|v| v.map_or(Value::Null, Value::Text))
            .collect());
    }
    if !column.dtype().is_primitive_numeric() {
        return Err(column_err(
            path,
            name,
            format!("expected text or a number, found {:?}", column.dtype()),
        ));
    }
    let numbers = column
        .as_materialized_series()
        .cast(&pl::DataType::Float64)
        .map_err(pl_err(path))?;
    let numbers: Vec<Value<'a>> = numbers
        .f64()
        .map_err(pl_err(path))?
        .iter()
        .map(|v| v.map_or(Value::Null, Value::Number))
        .collect();
    Ok(numbers)
}
