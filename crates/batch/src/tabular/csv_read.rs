//! CSV population files: records cut from a buffered reader (a newline ends a record
//! only outside quotes), each chunk parsed by polars from memory with an explicit
//! all-String schema, then every cell parsed against the profile schema.

use super::*;

/// Cuts CSV input into records. A newline ends a record only after an even number of `"`
/// (RFC 4180 escapes a quote by doubling it), so quoted cells may hold newlines.
pub(super) struct CsvRecords<R> {
    inner: R,
    /// Lines read so far, for errors.
    line: usize,
}

impl<R: BufRead> CsvRecords<R> {
    /// Appends the next non-blank record to `out`, newline-terminated; false at end of input.
    /// A record over [`record::MAX_RECORD_BYTES`] is an error: the file cannot be read on
    /// past an unclosed quote.
    fn next_into(&mut self, out: &mut Vec<u8>) -> std::io::Result<bool> {
        loop {
            let start = out.len();
            let first_line = self.line + 1;
            let mut quotes = 0usize;
            loop {
                let before = out.len();
                if self.inner.read_until(b'\n', out)? == 0 {
                    break;
                }
                self.line += 1;
                quotes += out[before..].iter().filter(|&&b| b == b'"').count();
                if out.len() - start > record::MAX_RECORD_BYTES {
                    let why = if quotes.is_multiple_of(2) {
                        ""
                    } else {
                        ": a quote opened in it is never closed"
                    };
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::InvalidData,
                        format!(
                            "the record starting at line {first_line} is over {} bytes{why}",
                            record::MAX_RECORD_BYTES
                        ),
                    ));
                }
                if quotes.is_multiple_of(2) {
                    break;
                }
            }
            if out.len() == start {
                return Ok(false);
            }
            if out[start..].iter().all(|b| matches!(b, b'\r' | b'\n')) {
                out.truncate(start);
                continue;
            }
            if out.last() != Some(&b'\n') {
                out.push(b'\n');
            }
            return Ok(true);
        }
    }
}

/// Parses CSV records held in memory, every column as String.
pub(super) fn parse_csv_bytes(
    bytes: Vec<u8>,
    schema: Option<Arc<pl::Schema>>,
) -> pl::PolarsResult<pl::DataFrame> {
    let options = pl::CsvReadOptions::default()
        .with_has_header(false)
        .with_raise_if_empty(false);
    let options = match schema {
        Some(s) => options.with_schema(Some(s)),
        // Header only: no schema yet, and length 0 makes every column String.
        None => options.with_infer_schema_length(Some(0)),
    };
    options
        .into_reader_with_file_handle(Cursor::new(bytes))
        .finish()
}

pub(super) fn read_csv(
    path: &Path,
    schema: &Schema,
    chunk_rows: usize,
    sink: &mut dyn FnMut(Vec<RawRecord>),
) -> Result<usize, TabularError> {
    let file = File::open(path).map_err(io_err(path))?;
    let mut records = CsvRecords {
        inner: BufReader::new(file),
        line: 0,
    };

    let mut header = Vec::new();
    if !records.next_into(&mut header).map_err(io_err(path))? {
        return Err(format_err(
            path,
            "the file is empty; a CSV population file needs a header line",
        ));
    }
    if header.starts_with(b"\xEF\xBB\xBF") {
        header.drain(..3);
    }
    let header_df = guarded(path, "in the header: ", || parse_csv_bytes(header, None))?;
    let mut names = Vec::with_capacity(header_df.width());
    for (i, col) in header_df.columns().iter().enumerate() {
        let name = col
            .as_materialized_series()
            .str()
            .map_err(pl_err(path))?
            .get(0);
        match name.map(str::trim).filter(|n| !n.is_empty()) {
            Some(n) => names.push(n.to_owned()),
            None => {
                return Err(format_err(
                    path,
                    format!("column {} of the header has no name", i + 1),
                ));
            }
        }
    }
    let roles = layout_roles(path, schema, &names)?;
    // Explicit all-String schema: no inference, every cell is parsed below.
    let string_schema: Arc<pl::Schema> = Arc::new(
        names
            .iter()
            .map(|n| pl::Field::new(n.as_str().into(), pl::DataType::String))
            .collect(),
    );

    let mut buf = Vec::new();
    let mut in_buf = 0usize;
    let mut total = 0usize;
    loop {
        let more = records.next_into(&mut buf).map_err(io_err(path))?;
        if more {
            in_buf += 1;
        }
        if in_buf > 0 && (in_buf == chunk_rows || !more) {
            let context = format!("in data rows {}–{}: ", total + 1, total + in_buf);
            let bytes = std::mem::take(&mut buf);
            let df = guarded(path, &context, || {
                parse_csv_bytes(bytes, Some(string_schema.clone()))
            })?;
            if df.height() != in_buf {
                return Err(TabularError::Polars {
                    path: show(path),
                    message: format!(
                        "in data rows {}–{}: read {} rows where {in_buf} were expected",
                        total + 1,
                        total + in_buf,
                        df.height()
                    ),
                });
            }
            let chunk = csv_chunk(schema, &roles, &df, total + 1).map_err(pl_err(path))?;
            total += in_buf;
            in_buf = 0;
            sink(chunk);
        }
        if !more {
            return Ok(total);
        }
    }
}

pub(super) fn csv_chunk(
    schema: &Schema,
    roles: &[(usize, Role)],
    df: &pl::DataFrame,
    first_row: usize,
) -> pl::PolarsResult<Vec<RawRecord>> {
    let mut out = empty_records(first_row, df.height());
    for &(col, role) in roles {
        let ca = df.columns()[col].as_materialized_series().str()?;
        for (rec, cell) in out.iter_mut().zip(ca.iter()) {
            let Some(cell) = cell else { continue };
            match role {
                Role::Id => rec.id = Some(cell.to_owned()).filter(|s| !s.is_empty()),
                Role::Name => rec.name = Some(cell.to_owned()).filter(|s| !s.is_empty()),
                Role::Tags => rec.tags = record::split_tags(cell),
                Role::Field(i) => {
                    let field = &schema.fields[i];
                    match record::parse_cell(field.ty, cell) {
                        None => {}
                        Some(Ok(v)) => rec.fields.push((field.name.clone(), v)),
                        Some(Err(msg)) => {
                            rec.problems.push(format!("field `{}`: {msg}", field.name))
                        }
                    }
                }
            }
        }
    }
    Ok(out)
}
