//! CSV and Parquet through polars: population files in, Parquet tables out. The only module
//! of the crate that knows polars.
//!
//! Reading is chunked so that memory is bounded by `chunk_rows`, not by the file:
//! - CSV: records are cut from a buffered reader here (a newline ends a record only outside
//!   quotes), and each chunk of records is parsed by polars' CSV reader from memory with an
//!   explicit all-String schema; cells are then parsed against the profile schema, so a bad
//!   cell rejects its row and nothing else.
//! - Parquet: the file is memory-mapped and each chunk is decoded with
//!   `ParquetReader::with_slice`, which decodes only the row groups, and the rows within
//!   them, that the slice covers.
//!
//! Writing streams too: [`TableParquetWriter`] and [`PopulationParquetWriter`] append rows to
//! column builders and write every `ROW_GROUP_ROWS` rows out as one Parquet row group, so
//! memory holds one row group, whatever the number of rows.

use std::collections::BTreeSet;
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Cursor};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::Receiver;

use polars::prelude as pl;
use polars::prelude::{
    ChunkedBuilder, IntoColumn, IntoSeries, ListBuilderTrait, SchemaExt, SerReader,
};

use policy_match::profile::record;

use crate::sink::WriterThread;
use crate::table::Cell;
use crate::table::ColType;
use crate::table::Table;
use policy_match::dates::parse_date;
use policy_match::diag::did_you_mean;
use policy_match::profile::enterprise::RawValue;
use policy_match::profile::record::RawRecord;
use policy_match::profile::schema::FieldType;
use policy_match::profile::schema::Schema;

/// Why a CSV or Parquet file could not be read or written. Always names the file.
#[derive(Debug, thiserror::Error)]
pub enum TabularError {
    #[error("`{path}`: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("`{path}`: {message}")]
    Polars { path: String, message: String },
    /// A missing required column, a column outside the population layout, a Parquet column
    /// of the wrong type, or a value that does not fit its column when writing.
    #[error("`{path}`, column `{column}`: {message}")]
    Column {
        path: String,
        column: String,
        message: String,
    },
    /// Not CSV or Parquet, no header, a duplicate or unnamed column.
    #[error("`{path}`: {message}")]
    Format { path: String, message: String },
}

fn show(path: &Path) -> String {
    path.display().to_string()
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> TabularError + '_ {
    move |source| TabularError::Io {
        path: show(path),
        source,
    }
}

fn pl_err(path: &Path) -> impl FnOnce(pl::PolarsError) -> TabularError + '_ {
    move |e| TabularError::Polars {
        path: show(path),
        message: e.to_string(),
    }
}

fn column_err(path: &Path, column: &str, message: impl Into<String>) -> TabularError {
    TabularError::Column {
        path: show(path),
        column: column.to_owned(),
        message: message.into(),
    }
}

fn format_err(path: &Path, message: impl Into<String>) -> TabularError {
    TabularError::Format {
        path: show(path),
        message: message.into(),
    }
}

/// Runs a polars call on file contents. Polars may panic on malformed input (a corrupt
/// Parquet page, a failed mmap); that becomes an error naming the file, never a panic.
/// `context` (where in the file) prefixes the message.
fn guarded<T>(
    path: &Path,
    context: &str,
    f: impl FnOnce() -> pl::PolarsResult<T>,
) -> Result<T, TabularError> {
    let message = match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(Ok(v)) => return Ok(v),
        Ok(Err(e)) => e.to_string(),
        Err(payload) => format!(
            "polars failed: {}",
            policy_match::diag::panic_message(&*payload)
        ),
    };
    Err(TabularError::Polars {
        path: show(path),
        message: format!("{context}{message}"),
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Csv,
    Parquet,
}

fn format_of(path: &Path) -> Result<Format, TabularError> {
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    if ext.eq_ignore_ascii_case("csv") {
        Ok(Format::Csv)
    } else if ext.eq_ignore_ascii_case("parquet") {
        Ok(Format::Parquet)
    } else {
        Err(format_err(
            path,
            "a population file must end in `.csv` or `.parquet`",
        ))
    }
}

/// What a column of the population layout holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Role {
    Id,
    Name,
    Tags,
    /// Index of the schema field.
    Field(usize),
}

/// Maps a file's column names onto the layout. The result is in the order rows are filled
/// (id, name, tags, then fields in schema order), so fields come out in schema order
/// whatever the file's column order.
fn layout_roles(
    path: &Path,
    schema: &Schema,
    names: &[String],
) -> Result<Vec<(usize, Role)>, TabularError> {
    let mut roles: Vec<(usize, Role)> = Vec::with_capacity(names.len());
    for (i, name) in names.iter().enumerate() {
        if names[..i].contains(name) {
            return Err(column_err(path, name, "the column appears more than once"));
        }
        let role = match name.as_str() {
            "id" => Role::Id,
            "name" => Role::Name,
            "tags" => Role::Tags,
            other => match schema.field(other) {
                Some(f) => Role::Field(f.index),
                None => {
                    let known = ["id", "name", "tags"]
                        .into_iter()
                        .chain(schema.fields.iter().map(|f| f.name.as_str()));
                    let mut message =
                        "unknown column: the population layout is `id`, `name`, `tags` and the schema's fields"
                            .to_owned();
                    if let Some(s) = did_you_mean(other, known) {
                        message.push_str(&format!("; did you mean `{s}`?"));
                    }
                    return Err(column_err(path, other, message));
                }
            },
        };
        roles.push((i, role));
    }
    for (required, role) in [("id", Role::Id), ("name", Role::Name), ("tags", Role::Tags)] {
        if !roles.iter().any(|(_, r)| *r == role) {
            return Err(column_err(path, required, "required column is missing"));
        }
    }
    roles.sort_by_key(|(_, r)| *r);
    Ok(roles)
}

fn empty_records(first_row: usize, n: usize) -> Vec<RawRecord> {
    (0..n)
        .map(|i| RawRecord {
            row: first_row + i,
            id: None,
            name: None,
            tags: Vec::new(),
            fields: Vec::new(),
            problems: Vec::new(),
        })
        .collect()
}

/// Reads a population file (CSV or Parquet, chosen by extension `.csv` / `.parquet`) in
/// chunks of at most `chunk_rows` rows, calling `sink` with each chunk of RawRecords in file
/// order. Memory is bounded by the chunk, not the file.
pub fn read_population(
    path: &Path,
    schema: &Schema,
    chunk_rows: usize,
    sink: &mut dyn FnMut(Vec<RawRecord>),
) -> Result<usize, TabularError> {
    let chunk_rows = chunk_rows.max(1);
    match format_of(path)? {
        Format::Csv => read_csv(path, schema, chunk_rows, sink),
        Format::Parquet => read_parquet(path, schema, chunk_rows, sink),
    }
}

// ---------------------------------------------------------------- CSV

/// Cuts CSV input into records. A newline ends a record only after an even number of `"`
/// (RFC 4180 escapes a quote by doubling it), so quoted cells may hold newlines.
struct CsvRecords<R> {
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
                    let why = if quotes % 2 == 0 {
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
                if quotes % 2 == 0 {
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
fn parse_csv_bytes(
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

fn read_csv(
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

fn csv_chunk(
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

// ---------------------------------------------------------------- Parquet

/// How a Parquet column becomes values, decided once from the file's schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Decode {
    /// A column of type Null: every row is missing.
    AllNull,
    Text,
    TagList,
    /// Cast to Float64 (floats and integers).
    Float,
    /// Cast to Int64 (integers that fit).
    Int,
    /// UInt64 may not fit an i64: checked per value.
    UInt64,
    Date,
    /// A String column holding YYYY-MM-DD.
    DateText,
    Bool,
}

fn read_kind(role: Role, schema: &Schema, dtype: &pl::DataType) -> Result<Decode, &'static str> {
    use pl::DataType as D;
    let is_int = |d: &D| {
        matches!(
            d,
            D::Int8 | D::Int16 | D::Int32 | D::Int64 | D::UInt8 | D::UInt16 | D::UInt32 | D::UInt64
        )
    };
    if *dtype == D::Null {
        return Ok(Decode::AllNull);
    }
    match role {
        Role::Id | Role::Name => match dtype {
            D::String => Ok(Decode::Text),
            _ => Err("String"),
        },
        Role::Tags => match dtype {
            D::List(inner) if matches!(**inner, D::String | D::Null) => Ok(Decode::TagList),
            _ => Err("List(String)"),
        },
        Role::Field(i) => match schema.fields[i].ty {
            FieldType::Number => match dtype {
                D::Float64 | D::Float32 => Ok(Decode::Float),
                d if is_int(d) => Ok(Decode::Float),
                _ => Err("Float64 (or another float or integer type)"),
            },
            FieldType::Integer => match dtype {
                D::UInt64 => Ok(Decode::UInt64),
                d if is_int(d) => Ok(Decode::Int),
                _ => Err("Int64 (or another integer type)"),
            },
            FieldType::Date => match dtype {
                D::Date => Ok(Decode::Date),
                D::String => Ok(Decode::DateText),
                _ => Err("Date (or String holding YYYY-MM-DD)"),
            },
            FieldType::Bool => match dtype {
                D::Boolean => Ok(Decode::Bool),
                _ => Err("Boolean"),
            },
        },
    }
}

/// Reads the footer's bytes and checks their structure before polars sees them (see
/// [`crate::parquet_footer`]): polars reserves whatever sizes a footer declares.
fn check_parquet_footer(path: &Path, file: &mut File) -> Result<(), TabularError> {
    use std::io::{Read, Seek, SeekFrom};
    let len = file.metadata().map_err(io_err(path))?.len();
    let mut tail = [0u8; 8];
    if len < 12 {
        return Err(format_err(
            path,
            "not a Parquet file: shorter than its magic bytes",
        ));
    }
    file.seek(SeekFrom::End(-8))
        .and_then(|_| file.read_exact(&mut tail))
        .map_err(io_err(path))?;
    if &tail[4..] != b"PAR1" {
        return Err(format_err(
            path,
            "not a Parquet file, or a truncated one: it does not end with `PAR1`",
        ));
    }
    let footer_len = u64::from(u32::from_le_bytes([tail[0], tail[1], tail[2], tail[3]]));
    if footer_len > len - 12 {
        return Err(format_err(
            path,
            format!("corrupt Parquet footer: {footer_len} bytes declared in a file of {len}"),
        ));
    }
    let mut footer = vec![0u8; footer_len as usize];
    file.seek(SeekFrom::End(-8 - footer_len as i64))
        .and_then(|_| file.read_exact(&mut footer))
        .map_err(io_err(path))?;
    let chunks = crate::parquet_footer::check(&footer)
        .map_err(|e| format_err(path, format!("corrupt Parquet footer, {e}")))?;
    let data_end = len - 8 - footer_len;
    for chunk in chunks {
        check_pages(path, file, chunk, data_end)?;
    }
    file.seek(SeekFrom::Start(0)).map_err(io_err(path))?;
    Ok(())
}

/// Walks the page headers of one column chunk (each header, then its data), checking
/// each before polars reads it: polars sizes buffers by a page's declared value count.
fn check_pages(
    path: &Path,
    file: &mut File,
    chunk: crate::parquet_footer::Chunk,
    data_end: u64,
) -> Result<(), TabularError> {
    use std::io::{Read, Seek, SeekFrom};
    const MAX_HEADER: usize = 1 << 20;
    let corrupt = |what: String| format_err(path, format!("corrupt Parquet page: {what}"));
    let (Ok(start), Ok(len)) = (u64::try_from(chunk.start), u64::try_from(chunk.len)) else {
        return Err(corrupt("a negative offset or size".into()));
    };
    let end = start
        .checked_add(len)
        .filter(|&e| e <= data_end)
        .ok_or_else(|| corrupt(format!("a column chunk at byte {start} runs past the data")))?;
    let mut at = start;
    let mut buf = Vec::new();
    while at < end {
        let mut want = 256usize;
        let (header, data) = loop {
            let n = (want as u64).min(end - at) as usize;
            buf.resize(n, 0);
            file.seek(SeekFrom::Start(at))
                .and_then(|_| file.read_exact(&mut buf))
                .map_err(io_err(path))?;
            match crate::parquet_footer::check_page_header(&buf) {
                Ok(found) => break found,
                Err(e) if e.at == n && n < MAX_HEADER && (n as u64) < end - at => want *= 4,
                Err(e) => return Err(corrupt(format!("the header at byte {at}, {e}"))),
            }
        };
        at = at
            .checked_add((header + data) as u64)
            .filter(|&next| next <= end)
            .ok_or_else(|| corrupt(format!("the page at byte {at} runs past its column chunk")))?;
    }
    Ok(())
}

/// The footer of a Parquet file: its metadata, read once and reused for every slice, and
/// its schema as polars types.
fn parquet_head(
    path: &Path,
    file: &mut File,
) -> Result<(pl::FileMetadataRef, pl::Schema), TabularError> {
    guarded(path, "", || {
        let mut reader = pl::ParquetReader::new(file);
        let metadata = reader.get_metadata()?.clone();
        let arrow_schema = reader.schema()?;
        Ok((
            metadata,
            pl::Schema::from_arrow_schema(arrow_schema.as_ref()),
        ))
    })
}

/// Decodes rows `offset..offset + len`: polars skips the row groups outside the slice and
/// decodes only the covered rows of the others, so memory follows `len`.
fn parquet_slice(
    path: &Path,
    file: &mut File,
    metadata: &pl::FileMetadataRef,
    columns: Option<Vec<String>>,
    offset: usize,
    len: usize,
) -> Result<pl::DataFrame, TabularError> {
    let context = format!("in rows {}–{}: ", offset + 1, offset + len);
    guarded(path, &context, || {
        let mut reader = pl::ParquetReader::new(file)
            .with_columns(columns)
            .with_slice(Some((offset, len)));
        reader.set_metadata(metadata.clone());
        reader.finish()
    })
}

fn read_parquet(
    path: &Path,
    schema: &Schema,
    chunk_rows: usize,
    sink: &mut dyn FnMut(Vec<RawRecord>),
) -> Result<usize, TabularError> {
    let mut file = File::open(path).map_err(io_err(path))?;
    check_parquet_footer(path, &mut file)?;
    let (metadata, file_schema) = parquet_head(path, &mut file)?;
    let n_rows = metadata.num_rows;

    let names: Vec<String> = file_schema.iter_names().map(|n| n.to_string()).collect();
    let mut plan = Vec::new();
    for (col, role) in layout_roles(path, schema, &names)? {
        let name = &names[col];
        let dtype = file_schema
            .get(name.as_str())
            .unwrap_or(&pl::DataType::Null);
        let kind = read_kind(role, schema, dtype).map_err(|expected| {
            column_err(
                path,
                name,
                format!("expected type {expected}, found {dtype:?}"),
            )
        })?;
        plan.push((name.clone(), role, kind));
    }

    let mut offset = 0usize;
    while offset < n_rows {
        let len = chunk_rows.min(n_rows - offset);
        let df = parquet_slice(path, &mut file, &metadata, None, offset, len)?;
        if df.height() != len {
            return Err(TabularError::Polars {
                path: show(path),
                message: format!(
                    "read {} rows at row {} where {len} were expected",
                    df.height(),
                    offset + 1
                ),
            });
        }
        let chunk = parquet_chunk(schema, &plan, &df, offset + 1).map_err(pl_err(path))?;
        offset += len;
        sink(chunk);
    }
    Ok(n_rows)
}

/// Reads two String columns of a Parquet file (a previous run's `pushes.parquet`) as a set
/// of pairs; rows where either is null are skipped. Read in slices of the two columns only.
pub fn read_pairs_parquet(
    path: &Path,
    first: &str,
    second: &str,
) -> Result<BTreeSet<(String, String)>, TabularError> {
    const SLICE_ROWS: usize = 1 << 16;
    let mut file = File::open(path).map_err(io_err(path))?;
    check_parquet_footer(path, &mut file)?;
    let (metadata, file_schema) = parquet_head(path, &mut file)?;
    for column in [first, second] {
        match file_schema.get(column) {
            None => return Err(column_err(path, column, "required column is missing")),
            Some(pl::DataType::String) => {}
            Some(other) => {
                return Err(column_err(
                    path,
                    column,
                    format!("expected type String, found {other:?}"),
                ));
            }
        }
    }
    let mut pairs = BTreeSet::new();
    let mut offset = 0usize;
    while offset < metadata.num_rows {
        let len = SLICE_ROWS.min(metadata.num_rows - offset);
        let columns = vec![first.to_owned(), second.to_owned()];
        let df = parquet_slice(path, &mut file, &metadata, Some(columns), offset, len)?;
        let a = df
            .column(first)
            .and_then(|c| c.str())
            .map_err(pl_err(path))?;
        let b = df
            .column(second)
            .and_then(|c| c.str())
            .map_err(pl_err(path))?;
        for (a, b) in a.iter().zip(b.iter()) {
            if let (Some(a), Some(b)) = (a, b) {
                pairs.insert((a.to_owned(), b.to_owned()));
            }
        }
        offset += len;
    }
    Ok(pairs)
}

fn parquet_chunk(
    schema: &Schema,
    plan: &[(String, Role, Decode)],
    df: &pl::DataFrame,
    first_row: usize,
) -> pl::PolarsResult<Vec<RawRecord>> {
    let mut out = empty_records(first_row, df.height());
    for (name, role, kind) in plan {
        let s = df.column(name)?.as_materialized_series();
        match (*role, *kind) {
            (_, Decode::AllNull) => {}
            (Role::Id, _) => {
                for (rec, v) in out.iter_mut().zip(s.str()?.iter()) {
                    rec.id = v.map(str::to_owned);
                }
            }
            (Role::Name, _) => {
                for (rec, v) in out.iter_mut().zip(s.str()?.iter()) {
                    rec.name = v.map(str::to_owned);
                }
            }
            (Role::Tags, _) => {
                for (rec, v) in out.iter_mut().zip(s.list()?.series_iter()) {
                    if let Some(inner) = v
                        && inner.dtype() == &pl::DataType::String
                    {
                        rec.tags = inner.str()?.iter().flatten().map(str::to_owned).collect();
                    }
                }
            }
            (Role::Field(i), kind) => {
                let field = &schema.fields[i];
                let put = |rec: &mut RawRecord, v: Result<RawValue, String>| match v {
                    Ok(v) => rec.fields.push((field.name.clone(), v)),
                    Err(msg) => rec.problems.push(format!("field `{}`: {msg}", field.name)),
                };
                match kind {
                    Decode::Float => {
                        let s = s.cast(&pl::DataType::Float64)?;
                        for (rec, v) in out.iter_mut().zip(s.f64()?.iter()) {
                            if let Some(v) = v {
                                put(rec, Ok(RawValue::Number(v)));
                            }
                        }
                    }
                    Decode::Int => {
                        let s = s.cast(&pl::DataType::Int64)?;
                        for (rec, v) in out.iter_mut().zip(s.i64()?.iter()) {
                            if let Some(v) = v {
                                put(rec, Ok(RawValue::Integer(v)));
                            }
                        }
                    }
                    Decode::UInt64 => {
                        for (rec, v) in out.iter_mut().zip(s.u64()?.iter()) {
                            if let Some(v) = v {
                                put(
                                    rec,
                                    i64::try_from(v)
                                        .map(RawValue::Integer)
                                        .map_err(|_| format!("`{v}` is too large for an integer")),
                                );
                            }
                        }
                    }
                    Decode::Date => {
                        for (rec, v) in out.iter_mut().zip(s.date()?.physical().iter()) {
                            if let Some(days) = v {
                                put(rec, days_to_text(days).map(RawValue::Text));
                            }
                        }
                    }
                    Decode::DateText => {
                        for (rec, v) in out.iter_mut().zip(s.str()?.iter()) {
                            if let Some(parsed) =
                                v.and_then(|v| record::parse_cell(FieldType::Date, v))
                            {
                                put(rec, parsed);
                            }
                        }
                    }
                    Decode::Bool => {
                        for (rec, v) in out.iter_mut().zip(s.bool()?.iter()) {
                            if let Some(v) = v {
                                put(rec, Ok(RawValue::Bool(v)));
                            }
                        }
                    }
                    Decode::AllNull | Decode::Text | Decode::TagList => {}
                }
            }
        }
    }
    Ok(out)
}

fn epoch() -> jiff::civil::Date {
    jiff::civil::date(1970, 1, 1)
}

/// A Parquet Date (days since 1970-01-01) as the YYYY-MM-DD text profiles parse.
fn days_to_text(days: i32) -> Result<String, String> {
    jiff::Span::new()
        .try_days(i64::from(days))
        .and_then(|span| epoch().checked_add(span))
        .map(|d| d.to_string())
        .map_err(|_| format!("day {days} after 1970-01-01 is out of range"))
}

fn text_to_days(text: &str) -> Option<i32> {
    let date = parse_date(text)?;
    epoch().until(date).ok().map(|span| span.get_days())
}

// ---------------------------------------------------------------- writing

/// Rows per row group of the Parquet files written here. The writers hold one row group in
/// memory, so this, not the number of rows, bounds their memory.
const ROW_GROUP_ROWS: usize = 1 << 17;

/// The Parquet type of a column being written.
#[derive(Debug, Clone, Copy)]
enum Kind {
    Str,
    Int,
    Float,
    /// Days since 1970-01-01, written as Date.
    Date,
    Bool,
    /// List(String).
    Tags,
}

impl From<ColType> for Kind {
    fn from(ty: ColType) -> Kind {
        match ty {
            ColType::Str => Kind::Str,
            ColType::Int => Kind::Int,
            ColType::Float => Kind::Float,
        }
    }
}

impl From<FieldType> for Kind {
    fn from(ty: FieldType) -> Kind {
        match ty {
            FieldType::Number => Kind::Float,
            FieldType::Integer => Kind::Int,
            FieldType::Date => Kind::Date,
            FieldType::Bool => Kind::Bool,
        }
    }
}

/// The values of one column in the row group being gathered.
enum Values {
    Str(pl::StringChunkedBuilder),
    Int(pl::PrimitiveChunkedBuilder<pl::Int64Type>),
    Float(pl::PrimitiveChunkedBuilder<pl::Float64Type>),
    Date(pl::PrimitiveChunkedBuilder<pl::Int32Type>),
    Bool(pl::BooleanChunkedBuilder),
    Tags(pl::ListStringChunkedBuilder),
}

/// Tags per row the tag column reserves room for.
const TAGS_PER_ROW: usize = 4;

impl Values {
    fn new(kind: Kind, name: pl::PlSmallStr, rows: usize) -> Values {
        match kind {
            Kind::Str => Values::Str(pl::StringChunkedBuilder::new(name, rows)),
            Kind::Int => Values::Int(pl::PrimitiveChunkedBuilder::new(name, rows)),
            Kind::Float => Values::Float(pl::PrimitiveChunkedBuilder::new(name, rows)),
            Kind::Date => Values::Date(pl::PrimitiveChunkedBuilder::new(name, rows)),
            Kind::Bool => Values::Bool(pl::BooleanChunkedBuilder::new(name, rows)),
            Kind::Tags => Values::Tags(pl::ListStringChunkedBuilder::new(
                name,
                rows,
                rows * TAGS_PER_ROW,
            )),
        }
    }

    fn push_null(&mut self) {
        match self {
            Values::Str(b) => b.append_null(),
            Values::Int(b) => b.append_null(),
            Values::Float(b) => b.append_null(),
            Values::Date(b) => b.append_null(),
            Values::Bool(b) => b.append_null(),
            Values::Tags(b) => b.append_null(),
        }
    }

    /// The column of the values gathered.
    fn finish(self) -> pl::PolarsResult<pl::Column> {
        let series = match self {
            Values::Str(b) => b.finish().into_series(),
            Values::Int(b) => b.finish().into_series(),
            Values::Float(b) => b.finish().into_series(),
            Values::Date(b) => b.finish().into_series().cast(&pl::DataType::Date)?,
            Values::Bool(b) => b.finish().into_series(),
            Values::Tags(mut b) => b.finish().into_series(),
        };
        Ok(series.into_column())
    }
}

struct OutColumn {
    name: pl::PlSmallStr,
    kind: Kind,
    values: Values,
}

impl OutColumn {
    /// The column gathered so far; gathering starts again, with room for `rows` rows.
    fn take(&mut self, rows: usize) -> pl::PolarsResult<pl::Column> {
        let fresh = Values::new(self.kind, self.name.clone(), rows);
        std::mem::replace(&mut self.values, fresh).finish()
    }
}

/// A Parquet file written a row group at a time: rows are appended to the columns, and
/// every `row_group_rows` rows are handed out as one row group and dropped. Row groups are
/// encoded and written on a thread of their own while the next one is filled.
struct RowGroups {
    path: PathBuf,
    columns: Vec<OutColumn>,
    /// Writes each row group, given with the context of its errors, then the footer.
    writer: WriterThread<(String, pl::DataFrame), TabularError>,
    row_group_rows: usize,
    /// Rows appended to `columns` and not written yet.
    buffered: usize,
    written: usize,
}

impl RowGroups {
    fn create(
        path: &Path,
        columns: Vec<(pl::PlSmallStr, Kind)>,
        row_group_rows: usize,
    ) -> Result<RowGroups, TabularError> {
        let row_group_rows = row_group_rows.max(1);
        let mut columns: Vec<OutColumn> = columns
            .into_iter()
            .map(|(name, kind)| OutColumn {
                values: Values::new(kind, name.clone(), 0),
                name,
                kind,
            })
            .collect();
        // The file's schema is that of the columns as they are built, so that every row
        // group matches it.
        let mut schema = pl::Schema::default();
        for c in &mut columns {
            let empty = c.take(row_group_rows).map_err(pl_err(path))?;
            schema.insert(c.name.clone(), empty.dtype().clone());
        }
        let file = File::create(path).map_err(io_err(path))?;
        // Compression and statistics are polars' defaults, as for `ParquetWriter::finish`.
        let mut writer = guarded(path, "", || {
            pl::ParquetWriter::new(BufWriter::new(file)).batched(&schema)
        })?;
        // One row group waits while another is written: memory stays at two row groups.
        let file_path = path.to_owned();
        let writer = WriterThread::spawn(move |row_groups: Receiver<(String, pl::DataFrame)>| {
            for (context, df) in row_groups {
                guarded(&file_path, &context, || writer.write_batch(&df))?;
            }
            // Reached also when the table is dropped unfinished, after an error elsewhere:
            // the partial output folder holding it is removed then.
            guarded(&file_path, "", || writer.finish()).map(drop)
        });
        Ok(RowGroups {
            path: path.to_owned(),
            columns,
            writer,
            row_group_rows,
            buffered: 0,
            written: 0,
        })
    }

    /// The 1-based number of the row being appended.
    fn next_row(&self) -> usize {
        self.written + self.buffered + 1
    }

    /// Counts a row appended to every column; a full row group is written out.
    fn row_done(&mut self) -> Result<(), TabularError> {
        self.buffered += 1;
        if self.buffered >= self.row_group_rows {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), TabularError> {
        if self.buffered == 0 {
            return Ok(());
        }
        let path = self.path.as_path();
        let rows = self.row_group_rows;
        let columns = self
            .columns
            .iter_mut()
            .map(|c| c.take(rows))
            .collect::<pl::PolarsResult<Vec<_>>>()
            .map_err(pl_err(path))?;
        let df = pl::DataFrame::new(self.buffered, columns).map_err(pl_err(path))?;
        let context = format!(
            "in rows {}–{}: ",
            self.written + 1,
            self.written + self.buffered
        );
        // Each column is one chunk, so the batch is one row group.
        self.writer.send((context, df), || TabularError::Polars {
            path: show(path),
            message: "the writing thread stopped".into(),
        })?;
        self.written += self.buffered;
        self.buffered = 0;
        Ok(())
    }

    /// Writes the last row group and the footer; returns the number of rows.
    fn finish(mut self) -> Result<usize, TabularError> {
        self.flush()?;
        self.writer.finish()?;
        Ok(self.written)
    }
}

fn describe(v: &RawValue) -> String {
    match v {
        RawValue::Number(n) => format!("the number {n}"),
        RawValue::Integer(i) => format!("the integer {i}"),
        RawValue::Text(s) => format!("the text \"{s}\""),
        RawValue::Bool(b) => format!("the bool {b}"),
    }
}

/// A field value converted to its column's type.
#[derive(Debug, Clone, Copy, PartialEq)]
enum FieldValue {
    Missing,
    Float(f64),
    Int(i64),
    Days(i32),
    Bool(bool),
}

/// Writes RawRecords as a Parquet population file in the population layout (for `gen`):
/// `id`, `name` String, `tags` List(String), then each schema field as Float64, Int64, Date
/// or Boolean. Records are written a row group at a time, so memory holds one row group
/// whatever the number of records.
pub struct PopulationParquetWriter<'s> {
    schema: &'s Schema,
    out: RowGroups,
    /// The fields of the record being appended, by field index.
    fields: Vec<FieldValue>,
}

impl<'s> PopulationParquetWriter<'s> {
    pub fn create(
        path: &Path,
        schema: &'s Schema,
    ) -> Result<PopulationParquetWriter<'s>, TabularError> {
        Self::with_row_group_rows(path, schema, ROW_GROUP_ROWS)
    }

    pub(crate) fn with_row_group_rows(
        path: &Path,
        schema: &'s Schema,
        row_group_rows: usize,
    ) -> Result<PopulationParquetWriter<'s>, TabularError> {
        let columns = [("id", Kind::Str), ("name", Kind::Str), ("tags", Kind::Tags)]
            .into_iter()
            .map(|(name, kind)| (name.into(), kind))
            .chain(
                schema
                    .fields
                    .iter()
                    .map(|f| (f.name.as_str().into(), Kind::from(f.ty))),
            )
            .collect();
        Ok(PopulationParquetWriter {
            schema,
            out: RowGroups::create(path, columns, row_group_rows)?,
            fields: Vec::with_capacity(schema.fields.len()),
        })
    }

    /// Appends one record. A field the schema does not know, or a value that is not of its
    /// field's type, is an error naming the column, and nothing of the record is written.
    /// Of a field given twice, the last value counts.
    pub fn push(&mut self, record: &RawRecord) -> Result<(), TabularError> {
        let path = self.out.path.as_path();
        self.fields.clear();
        self.fields
            .resize(self.schema.fields.len(), FieldValue::Missing);
        for (name, v) in record.fields.iter().rev() {
            let Some(field) = self.schema.field(name) else {
                return Err(column_err(
                    path,
                    name,
                    format!("record {} has a field the schema does not know", record.row),
                ));
            };
            if self.fields[field.index] != FieldValue::Missing {
                continue;
            }
            let value = match (field.ty, v) {
                (FieldType::Number, RawValue::Number(x)) => Some(FieldValue::Float(*x)),
                (FieldType::Number, RawValue::Integer(i)) => Some(FieldValue::Float(*i as f64)),
                (FieldType::Integer, RawValue::Integer(i)) => Some(FieldValue::Int(*i)),
                (FieldType::Date, RawValue::Text(t)) => text_to_days(t).map(FieldValue::Days),
                (FieldType::Bool, RawValue::Bool(b)) => Some(FieldValue::Bool(*b)),
                _ => None,
            };
            self.fields[field.index] = value.ok_or_else(|| {
                column_err(
                    path,
                    &field.name,
                    format!(
                        "record {}: {} is not a {}",
                        record.row,
                        describe(v),
                        field.ty.as_str()
                    ),
                )
            })?;
        }

        let (head, fields) = self.out.columns.split_at_mut(3);
        for (column, text) in head.iter_mut().zip([&record.id, &record.name]) {
            if let Values::Str(b) = &mut column.values {
                b.append_option(text.as_deref());
            }
        }
        if let Values::Tags(b) = &mut head[2].values {
            b.append_values_iter(record.tags.iter().map(String::as_str));
        }
        for (column, value) in fields.iter_mut().zip(&self.fields) {
            match (&mut column.values, *value) {
                (Values::Float(b), FieldValue::Float(x)) => b.append_value(x),
                (Values::Int(b), FieldValue::Int(i)) => b.append_value(i),
                (Values::Date(b), FieldValue::Days(d)) => b.append_value(d),
                (Values::Bool(b), FieldValue::Bool(v)) => b.append_value(v),
                (values, _) => values.push_null(),
            }
        }
        self.out.row_done()
    }

    /// Writes the last row group and the footer; returns the number of records.
    pub fn finish(self) -> Result<usize, TabularError> {
        self.out.finish()
    }
}

/// Writes an output table as Parquet (Str → String, Int → Int64, Float → Float64;
/// Cell::Null → null), a row group at a time, so memory holds one row group whatever the
/// number of rows. With no rows, the file still has the table's columns.
pub struct TableParquetWriter {
    types: Vec<ColType>,
    out: RowGroups,
}

impl TableParquetWriter {
    pub fn create(
        path: &Path,
        columns: &[(&'static str, ColType)],
    ) -> Result<TableParquetWriter, TabularError> {
        Self::with_row_group_rows(path, columns, ROW_GROUP_ROWS)
    }

    pub(crate) fn with_row_group_rows(
        path: &Path,
        columns: &[(&'static str, ColType)],
        row_group_rows: usize,
    ) -> Result<TableParquetWriter, TabularError> {
        let kinds = columns
            .iter()
            .map(|&(name, ty)| (name.into(), Kind::from(ty)))
            .collect();
        Ok(TableParquetWriter {
            types: columns.iter().map(|&(_, ty)| ty).collect(),
            out: RowGroups::create(path, kinds, row_group_rows)?,
        })
    }

    /// Appends one row. A row of the wrong width, or a cell that does not fit its column
    /// (an Int fits a Float column), is an error naming the column, and nothing of the row
    /// is written.
    pub fn push(&mut self, row: &[Cell]) -> Result<(), TabularError> {
        let path = self.out.path.as_path();
        let n = self.out.next_row();
        if row.len() != self.types.len() {
            // The first missing column, or the last one for a row too long.
            let column = self
                .out
                .columns
                .get(row.len())
                .or(self.out.columns.last())
                .map_or("", |c| c.name.as_str());
            return Err(column_err(
                path,
                column,
                format!(
                    "row {n} has {} cells for {} columns",
                    row.len(),
                    self.types.len()
                ),
            ));
        }
        for ((column, &ty), cell) in self.out.columns.iter().zip(&self.types).zip(row) {
            let fits = matches!(
                (ty, cell),
                (_, Cell::Null)
                    | (ColType::Str, Cell::Str(_))
                    | (ColType::Int, Cell::Int(_))
                    | (ColType::Float, Cell::Float(_) | Cell::Int(_))
            );
            if !fits {
                return Err(column_err(
                    path,
                    &column.name,
                    format!("row {n}: {cell:?} in a {ty:?} column"),
                ));
            }
        }
        for (column, cell) in self.out.columns.iter_mut().zip(row) {
            match (&mut column.values, cell) {
                (Values::Str(b), Cell::Str(s)) => b.append_value(s),
                (Values::Int(b), Cell::Int(i)) => b.append_value(*i),
                (Values::Float(b), Cell::Float(f)) => b.append_value(*f),
                (Values::Float(b), Cell::Int(i)) => b.append_value(*i as f64),
                (values, _) => values.push_null(),
            }
        }
        self.out.row_done()
    }

    /// Adds one row given as texts, typed by the columns: text as is, an empty or
    /// unreadable number as null; no cells are built.
    pub fn push_texts(&mut self, texts: &[&str]) -> Result<(), TabularError> {
        if texts.len() != self.types.len() {
            let cells: Vec<Cell> = texts.iter().map(|t| Cell::Str((*t).to_owned())).collect();
            return self.push(&cells);
        }
        for (column, text) in self.out.columns.iter_mut().zip(texts) {
            match &mut column.values {
                Values::Str(b) => b.append_value(text),
                Values::Int(b) => b.append_option(text.parse().ok()),
                Values::Float(b) => b.append_option(text.parse().ok()),
                values => values.push_null(),
            }
        }
        self.out.row_done()
    }

    /// Writes the last row group and the footer; returns the number of rows.
    pub fn finish(self) -> Result<usize, TabularError> {
        self.out.finish()
    }
}

/// Writes a whole output Table as Parquet, through [`TableParquetWriter`].
pub fn write_table_parquet(path: &Path, table: &Table) -> Result<(), TabularError> {
    let mut w = TableParquetWriter::create(path, &table.columns)?;
    for row in &table.rows {
        w.push(row)?;
    }
    w.finish()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use polars::prelude::NamedFrom;

    use super::*;

    fn schema() -> Schema {
        policy_match::profile::schema::builtin_for_tests()
    }

    fn read_all(path: &Path, schema: &Schema, chunk_rows: usize) -> (Vec<Vec<RawRecord>>, usize) {
        let mut chunks = Vec::new();
        let n = read_population(path, schema, chunk_rows, &mut |c| chunks.push(c)).unwrap();
        (chunks, n)
    }

    fn rec(
        row: usize,
        id: &str,
        name: Option<&str>,
        tags: &[&str],
        fields: Vec<(&str, RawValue)>,
    ) -> RawRecord {
        RawRecord {
            row,
            id: Some(id.to_owned()),
            name: name.map(str::to_owned),
            tags: tags.iter().map(|t| t.to_string()).collect(),
            fields: fields.into_iter().map(|(n, v)| (n.to_owned(), v)).collect(),
            problems: Vec::new(),
        }
    }

    fn field<'a>(r: &'a RawRecord, name: &str) -> Option<&'a RawValue> {
        r.fields.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    fn write_population(path: &Path, schema: &Schema, records: &[RawRecord], group: usize) {
        let mut w = PopulationParquetWriter::with_row_group_rows(path, schema, group).unwrap();
        for r in records {
            w.push(r).unwrap();
        }
        assert_eq!(w.finish().unwrap(), records.len());
    }

    /// The heights of a Parquet file's row groups.
    fn row_groups(path: &Path) -> Vec<usize> {
        let mut reader = pl::ParquetReader::new(File::open(path).unwrap());
        let metadata = reader.get_metadata().unwrap();
        metadata.row_groups.iter().map(|g| g.num_rows()).collect()
    }

    fn read_df(path: &Path) -> pl::DataFrame {
        pl::ParquetReader::new(File::open(path).unwrap())
            .finish()
            .unwrap()
    }

    #[test]
    fn parquet_round_trip() {
        let schema = schema();
        // Fields in schema (alphabetical) order, as the reader produces them.
        let records = vec![
            rec(
                1,
                "91330621MA2BXXXXX1",
                Some("绍兴甲纺织有限公司"),
                &["kind:enterprise", "size:small", "industry:C1713"],
                vec![
                    ("employees", RawValue::Integer(120)),
                    ("founded", RawValue::Text("2015-03-09".into())),
                    ("investor_unchanged", RawValue::Bool(true)),
                    ("revenue_10k_yuan", RawValue::Number(3456.5)),
                ],
            ),
            rec(2, "91330621MA2BXXXXX2", None, &[], vec![]),
            rec(
                3,
                "91330621MA2BXXXXX3",
                Some("乙"),
                &["kind:individual_business"],
                vec![
                    (
                        "dishonest_published_on",
                        RawValue::Text("1969-12-31".into()),
                    ),
                    ("investor_unchanged", RawValue::Bool(false)),
                    ("rd_expense_ratio", RawValue::Number(0.05)),
                ],
            ),
        ];
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("population.parquet");
        write_population(&path, &schema, &records, ROW_GROUP_ROWS);

        let df = pl::ParquetReader::new(File::open(&path).unwrap())
            .finish()
            .unwrap();
        let dtype = |c: &str| df.column(c).unwrap().dtype().clone();
        assert_eq!(df.width(), 3 + schema.fields.len());
        assert_eq!(
            dtype("tags"),
            pl::DataType::List(Box::new(pl::DataType::String))
        );
        assert_eq!(dtype("founded"), pl::DataType::Date);
        assert_eq!(dtype("employees"), pl::DataType::Int64);
        assert_eq!(dtype("revenue_10k_yuan"), pl::DataType::Float64);
        assert_eq!(dtype("investor_unchanged"), pl::DataType::Boolean);

        let (chunks, n) = read_all(&path, &schema, 1000);
        assert_eq!(n, 3);
        assert_eq!(chunks, vec![records]);
    }

    #[test]
    fn parquet_accepts_narrow_types_and_rejects_wrong_ones() {
        let schema = schema();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.parquet");
        let mut tags = pl::ListStringChunkedBuilder::new("tags".into(), 2, 1);
        tags.append_values_iter(["kind:enterprise"].into_iter());
        tags.append_null();
        let tags = tags.finish().into_series();
        let write = |extra: pl::Column| {
            let cols = vec![
                pl::Series::new("id".into(), ["a", "b"]).into_column(),
                pl::Series::new("name".into(), [Some("x"), None::<&str>]).into_column(),
                tags.clone().into_column(),
                extra,
            ];
            let mut df = pl::DataFrame::new(2, cols).unwrap();
            pl::ParquetWriter::new(File::create(&path).unwrap())
                .finish(&mut df)
                .unwrap();
        };

        write(pl::Series::new("employees".into(), [Some(7i32), None]).into_column());
        let (chunks, _) = read_all(&path, &schema, 10);
        assert_eq!(
            field(&chunks[0][0], "employees"),
            Some(&RawValue::Integer(7))
        );
        assert!(chunks[0][1].fields.is_empty());
        assert_eq!(chunks[0][1].name, None);

        write(pl::Series::new("revenue_10k_yuan".into(), [1.5f32, f32::NAN]).into_column());
        let (chunks, _) = read_all(&path, &schema, 10);
        assert_eq!(
            field(&chunks[0][0], "revenue_10k_yuan"),
            Some(&RawValue::Number(1.5))
        );
        assert!(
            matches!(field(&chunks[0][1], "revenue_10k_yuan"), Some(RawValue::Number(x)) if x.is_nan())
        );

        write(pl::Series::new("founded".into(), ["2020-01-02", ""]).into_column());
        let (chunks, _) = read_all(&path, &schema, 10);
        assert_eq!(
            field(&chunks[0][0], "founded"),
            Some(&RawValue::Text("2020-01-02".into()))
        );
        assert!(chunks[0][1].fields.is_empty());

        write(pl::Series::new("employees".into(), ["12", "13"]).into_column());
        let err = read_population(&path, &schema, 10, &mut |_| {})
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("p.parquet") && err.contains("employees"),
            "{err}"
        );
        assert!(err.contains("Int64") && err.contains("String"), "{err}");
    }

    #[test]
    fn csv_bad_cell_rejects_only_its_row() {
        let schema = schema();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pop.csv");
        std::fs::write(
            &path,
            "id,name,tags,employees,revenue_10k_yuan,founded,investor_unchanged\r\n\
             A1,\"甲, 有限公司\",kind:enterprise; size:small,10,100.5,2015-03-09,true\r\n\
             A2,乙,,abc,200,,\r\n\
             A3,丙,kind:enterprise,30,,2020-01-01,false\r\n",
        )
        .unwrap();
        let (chunks, n) = read_all(&path, &schema, 100);
        assert_eq!(n, 3);
        let rows = &chunks[0];
        assert_eq!(rows[0].name.as_deref(), Some("甲, 有限公司"));
        assert_eq!(rows[0].tags, vec!["kind:enterprise", "size:small"]);
        assert_eq!(
            rows[0].fields,
            vec![
                ("employees".to_owned(), RawValue::Integer(10)),
                ("founded".to_owned(), RawValue::Text("2015-03-09".into())),
                ("investor_unchanged".to_owned(), RawValue::Bool(true)),
                ("revenue_10k_yuan".to_owned(), RawValue::Number(100.5)),
            ]
        );
        assert!(rows[0].problems.is_empty());
        assert_eq!(
            rows[1].problems,
            vec!["field `employees`: `abc` is not an integer".to_owned()]
        );
        assert_eq!(
            rows[1].fields,
            vec![("revenue_10k_yuan".to_owned(), RawValue::Number(200.0))]
        );
        assert!(rows[1].tags.is_empty());
        assert!(rows[2].problems.is_empty());
        assert_eq!(field(&rows[2], "employees"), Some(&RawValue::Integer(30)));
        assert_eq!(field(&rows[2], "revenue_10k_yuan"), None);
        assert_eq!(
            rows.iter().map(|r| r.row).collect::<Vec<_>>(),
            vec![1, 2, 3]
        );
    }

    #[test]
    fn csv_unknown_column_is_fatal_and_named() {
        let schema = schema();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pop.csv");
        std::fs::write(&path, "id,name,tags,employes\nA1,x,,3\n").unwrap();
        let err = read_population(&path, &schema, 10, &mut |_| {}).unwrap_err();
        assert!(
            matches!(&err, TabularError::Column { column, .. } if column == "employes"),
            "{err:?}"
        );
        let msg = err.to_string();
        assert!(
            msg.contains("pop.csv") && msg.contains("did you mean `employees`?"),
            "{msg}"
        );

        std::fs::write(&path, "id,name,employees\nA1,x,3\n").unwrap();
        let err = read_population(&path, &schema, 10, &mut |_| {}).unwrap_err();
        assert!(
            matches!(&err, TabularError::Column { column, .. } if column == "tags"),
            "{err:?}"
        );
    }

    #[test]
    fn csv_edge_cases() {
        let schema = schema();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("e.csv");
        let read = |text: &str| {
            std::fs::write(&path, text).unwrap();
            let mut chunks = Vec::new();
            read_population(&path, &schema, 10, &mut |c| chunks.push(c)).map(|n| (n, chunks))
        };
        // BOM, header only: no rows, no chunks.
        assert_eq!(read("\u{feff}id,name,tags\n").unwrap(), (0, vec![]));
        // Short rows are missing cells; no trailing newline.
        let (n, chunks) = read("id,name,tags,employees\nA1\nA2,,,5").unwrap();
        assert_eq!(n, 2);
        assert_eq!(chunks[0][0].name, None);
        assert_eq!(
            field(&chunks[0][1], "employees"),
            Some(&RawValue::Integer(5))
        );
        for bad in [
            "",
            "id,name,tags,tags\n",
            "id,name,tags,\n",
            "id,name,tags\nA1,x,,extra\n",
        ] {
            let err = read(bad).unwrap_err().to_string();
            assert!(err.contains("e.csv"), "{bad:?}: {err}");
        }
        let err = read_population(Path::new("x.txt"), &schema, 10, &mut |_| {}).unwrap_err();
        assert!(matches!(err, TabularError::Format { .. }), "{err:?}");
        let err = read_population(&dir.path().join("none.parquet"), &schema, 10, &mut |_| {})
            .unwrap_err();
        assert!(matches!(err, TabularError::Io { .. }), "{err:?}");

        let corrupt = dir.path().join("corrupt.parquet");
        std::fs::write(&corrupt, b"PAR1 this is not parquet PAR1").unwrap();
        let err = read_population(&corrupt, &schema, 10, &mut |_| {}).unwrap_err();
        assert!(
            err.to_string().contains("corrupt Parquet footer"),
            "{err:?}"
        );

        // An empty population round-trips through Parquet.
        let empty = dir.path().join("empty.parquet");
        write_population(&empty, &schema, &[], ROW_GROUP_ROWS);
        assert_eq!(read_all(&empty, &schema, 10), (vec![], 0));
    }

    #[test]
    fn chunks_are_bounded_and_numbered() {
        let schema = schema();
        let dir = tempfile::tempdir().unwrap();
        let csv = dir.path().join("pop.csv");
        let mut text = String::from("id,name,tags,employees\n");
        for i in 1..=10 {
            // A quoted newline must not split a record.
            text.push_str(&format!("ID{i},\"line one\nline two\",,{i}\n"));
            if i == 5 {
                text.push('\n');
            }
        }
        std::fs::write(&csv, text).unwrap();

        let records: Vec<RawRecord> = (1..=10)
            .map(|i| {
                rec(
                    i,
                    &format!("ID{i}"),
                    Some("n"),
                    &["kind:enterprise"],
                    vec![("employees", RawValue::Integer(i as i64))],
                )
            })
            .collect();
        let parquet = dir.path().join("pop.parquet");
        write_population(&parquet, &schema, &records, ROW_GROUP_ROWS);

        for path in [&csv, &parquet] {
            let (chunks, n) = read_all(path, &schema, 3);
            assert_eq!(n, 10);
            assert_eq!(
                chunks.iter().map(Vec::len).collect::<Vec<_>>(),
                vec![3, 3, 3, 1]
            );
            let all: Vec<&RawRecord> = chunks.iter().flatten().collect();
            assert_eq!(
                all.iter().map(|r| r.row).collect::<Vec<_>>(),
                (1..=10).collect::<Vec<_>>()
            );
            for (i, r) in all.iter().enumerate() {
                assert_eq!(r.id.as_deref(), Some(format!("ID{}", i + 1).as_str()));
                assert_eq!(
                    field(r, "employees"),
                    Some(&RawValue::Integer(i as i64 + 1))
                );
            }
        }
        let (chunks, _) = read_all(&csv, &schema, 3);
        assert_eq!(chunks[0][0].name.as_deref(), Some("line one\nline two"));
    }

    #[test]
    fn table_parquet_round_trip() {
        let mut table = Table::new(
            "grants",
            &[
                ("id", ColType::Str),
                ("count", ColType::Int),
                ("amount", ColType::Float),
            ],
        );
        table.push(vec![Cell::Str("a".into()), Cell::Int(3), Cell::Float(1.25)]);
        table.push(vec![Cell::Null, Cell::Null, Cell::Null]);
        table.push(vec![Cell::Str("c".into()), Cell::Int(-1), Cell::Float(0.0)]);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("grants.parquet");
        write_table_parquet(&path, &table).unwrap();

        let df = pl::ParquetReader::new(File::open(&path).unwrap())
            .finish()
            .unwrap();
        let names: Vec<String> = df
            .get_column_names()
            .iter()
            .map(|n| n.to_string())
            .collect();
        assert_eq!(names, vec!["id", "count", "amount"]);
        let id: Vec<Option<String>> = df
            .column("id")
            .unwrap()
            .str()
            .unwrap()
            .iter()
            .map(|v| v.map(str::to_owned))
            .collect();
        assert_eq!(id, vec![Some("a".into()), None, Some("c".into())]);
        let count: Vec<Option<i64>> = df.column("count").unwrap().i64().unwrap().iter().collect();
        assert_eq!(count, vec![Some(3), None, Some(-1)]);
        let amount: Vec<Option<f64>> = df.column("amount").unwrap().f64().unwrap().iter().collect();
        assert_eq!(amount, vec![Some(1.25), None, Some(0.0)]);

        let mut pushes = Table::new(
            "pushes",
            &[
                ("enterprise_id", ColType::Str),
                ("measure_id", ColType::Str),
            ],
        );
        pushes.push(vec![Cell::Str("E1".into()), Cell::Str("M001".into())]);
        pushes.push(vec![Cell::Str("E2".into()), Cell::Null]);
        pushes.push(vec![Cell::Str("E1".into()), Cell::Str("M001".into())]);
        let pushes_path = dir.path().join("pushes.parquet");
        write_table_parquet(&pushes_path, &pushes).unwrap();
        let pairs = read_pairs_parquet(&pushes_path, "enterprise_id", "measure_id").unwrap();
        assert_eq!(
            pairs,
            BTreeSet::from([("E1".to_owned(), "M001".to_owned())])
        );
        let err = read_pairs_parquet(&pushes_path, "enterprise_id", "measure").unwrap_err();
        assert!(matches!(&err, TabularError::Column { column, .. } if column == "measure"));

        let mut bad = Table::new("x", &[("n", ColType::Int)]);
        bad.rows.push(vec![Cell::Str("no".into())]);
        let err = write_table_parquet(&path, &bad).unwrap_err().to_string();
        assert!(
            err.contains("grants.parquet") && err.contains("`n`"),
            "{err}"
        );
    }

    #[test]
    fn table_parquet_streams_row_groups() {
        let columns = [
            ("id", ColType::Str),
            ("count", ColType::Int),
            ("amount", ColType::Float),
        ];
        let rows: Vec<Vec<Cell>> = (0..10i64)
            .map(|i| match i % 3 {
                0 => vec![
                    Cell::Str(format!("E{i}")),
                    Cell::Int(i),
                    Cell::Float(i as f64 / 4.0),
                ],
                1 => vec![Cell::Null, Cell::Null, Cell::Null],
                _ => vec![Cell::Str(String::new()), Cell::Int(-i), Cell::Int(i)],
            })
            .collect();
        let dir = tempfile::tempdir().unwrap();
        let streamed = dir.path().join("streamed.parquet");
        let mut w = TableParquetWriter::with_row_group_rows(&streamed, &columns, 3).unwrap();
        for row in &rows {
            w.push(row).unwrap();
        }
        assert_eq!(w.finish().unwrap(), 10);
        assert_eq!(row_groups(&streamed), vec![3, 3, 3, 1]);

        let whole = dir.path().join("whole.parquet");
        let mut table = Table::new("t", &columns);
        table.rows = rows.clone();
        write_table_parquet(&whole, &table).unwrap();
        assert_eq!(row_groups(&whole), vec![10]);

        let df = read_df(&streamed);
        assert_eq!(df, read_df(&whole));
        let back: Vec<Vec<Cell>> = (0..df.height())
            .map(|r| {
                let id = df.column("id").unwrap().str().unwrap().get(r);
                let count = df.column("count").unwrap().i64().unwrap().get(r);
                let amount = df.column("amount").unwrap().f64().unwrap().get(r);
                vec![
                    id.map_or(Cell::Null, |s| Cell::Str(s.to_owned())),
                    count.map_or(Cell::Null, Cell::Int),
                    amount.map_or(Cell::Null, Cell::Float),
                ]
            })
            .collect();
        let expected: Vec<Vec<Cell>> = rows
            .iter()
            .map(|row| {
                let mut row = row.clone();
                if let Cell::Int(i) = row[2] {
                    row[2] = Cell::Float(i as f64);
                }
                row
            })
            .collect();
        assert_eq!(back, expected);

        // No rows: a valid file with the columns and their types, and no row group.
        let empty = dir.path().join("empty.parquet");
        let w = TableParquetWriter::with_row_group_rows(&empty, &columns, 3).unwrap();
        assert_eq!(w.finish().unwrap(), 0);
        assert_eq!(row_groups(&empty), Vec::<usize>::new());
        let df = read_df(&empty);
        assert_eq!(df.height(), 0);
        let schema: Vec<(String, pl::DataType)> = df
            .columns()
            .iter()
            .map(|c| (c.name().to_string(), c.dtype().clone()))
            .collect();
        assert_eq!(
            schema,
            vec![
                ("id".to_owned(), pl::DataType::String),
                ("count".to_owned(), pl::DataType::Int64),
                ("amount".to_owned(), pl::DataType::Float64),
            ]
        );
        assert!(read_pairs_parquet(&empty, "id", "id").unwrap().is_empty());
    }

    #[test]
    fn table_parquet_rejects_bad_rows_by_column() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.parquet");
        let columns = [("a", ColType::Str), ("b", ColType::Int)];
        let mut w = TableParquetWriter::with_row_group_rows(&path, &columns, 2).unwrap();
        w.push(&[Cell::Str("x".into()), Cell::Int(1)]).unwrap();
        for (row, column) in [
            (vec![Cell::Str("x".into())], "b"),
            (vec![Cell::Null, Cell::Null, Cell::Null], "b"),
            (vec![Cell::Int(1), Cell::Int(2)], "a"),
            (vec![Cell::Null, Cell::Float(0.5)], "b"),
        ] {
            let err = w.push(&row).unwrap_err();
            assert!(
                matches!(&err, TabularError::Column { column: c, .. } if c == column),
                "{row:?}: {err:?}"
            );
            let msg = err.to_string();
            assert!(
                msg.contains("bad.parquet") && msg.contains("row 2"),
                "{msg}"
            );
        }
        // The rejected rows left nothing behind.
        w.push(&[Cell::Null, Cell::Int(2)]).unwrap();
        assert_eq!(w.finish().unwrap(), 2);
        let df = read_df(&path);
        let b: Vec<Option<i64>> = df.column("b").unwrap().i64().unwrap().iter().collect();
        assert_eq!(b, vec![Some(1), Some(2)]);
    }

    #[test]
    fn population_parquet_streams_row_groups() {
        let schema = schema();
        let records: Vec<RawRecord> = (1..=10)
            .map(|i| {
                let mut fields = vec![("employees", RawValue::Integer(i as i64))];
                if i % 2 == 0 {
                    fields.push(("founded", RawValue::Text(format!("2020-01-{i:02}"))));
                    fields.push(("investor_unchanged", RawValue::Bool(i % 4 == 0)));
                }
                if i % 3 == 0 {
                    fields.push(("revenue_10k_yuan", RawValue::Number(i as f64 * 1.5)));
                }
                let tags: &[&str] = if i % 2 == 0 {
                    &["kind:enterprise"]
                } else {
                    &[]
                };
                let name = (i % 5 != 0).then_some("甲");
                rec(i, &format!("ID{i}"), name, tags, fields)
            })
            .collect();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pop.parquet");
        write_population(&path, &schema, &records, 4);
        assert_eq!(row_groups(&path), vec![4, 4, 2]);
        for chunk_rows in [3, 4, 100] {
            let (chunks, n) = read_all(&path, &schema, chunk_rows);
            assert_eq!(n, 10);
            assert_eq!(chunks.concat(), records);
        }

        let empty = dir.path().join("empty.parquet");
        write_population(&empty, &schema, &[], 4);
        assert_eq!(row_groups(&empty), Vec::<usize>::new());
        assert_eq!(read_all(&empty, &schema, 10), (vec![], 0));
        assert_eq!(read_df(&empty).width(), 3 + schema.fields.len());
    }

    #[test]
    fn population_parquet_rejects_bad_records_by_column() {
        let schema = schema();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pop.parquet");
        let mut w = PopulationParquetWriter::with_row_group_rows(&path, &schema, 2).unwrap();
        let bad = [
            (
                rec(7, "A", None, &[], vec![("employes", RawValue::Integer(1))]),
                "employes",
            ),
            (
                rec(
                    7,
                    "A",
                    None,
                    &[],
                    vec![("employees", RawValue::Number(1.5))],
                ),
                "employees",
            ),
            (
                rec(
                    7,
                    "A",
                    None,
                    &[],
                    vec![("founded", RawValue::Text("soon".into()))],
                ),
                "founded",
            ),
        ];
        for (r, column) in &bad {
            let err = w.push(r).unwrap_err();
            assert!(
                matches!(&err, TabularError::Column { column: c, .. } if c == column),
                "{err:?}"
            );
            let msg = err.to_string();
            assert!(
                msg.contains("pop.parquet") && msg.contains("record 7"),
                "{msg}"
            );
        }
        // Of a field given twice the last value counts, as before.
        let twice = rec(
            1,
            "B",
            None,
            &[],
            vec![
                ("employees", RawValue::Text("x".into())),
                ("employees", RawValue::Integer(3)),
            ],
        );
        w.push(&twice).unwrap();
        assert_eq!(w.finish().unwrap(), 1);
        let (chunks, _) = read_all(&path, &schema, 10);
        assert_eq!(
            field(&chunks[0][0], "employees"),
            Some(&RawValue::Integer(3))
        );
        assert_eq!(chunks[0][0].id.as_deref(), Some("B"));
    }
}
