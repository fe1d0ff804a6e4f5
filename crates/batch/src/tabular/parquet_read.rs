//! Parquet population files and pair lists: the footer and page headers checked first
//! (`parquet_footer`), then each chunk decoded with `ParquetReader::with_slice`, which
//! decodes only the row groups, and the rows within them, that the slice covers.

use super::*;

use polars_arrow::array::Array;

/// How a Parquet column becomes values, decided once from the file's schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Decode {
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

pub(super) fn read_kind(
    role: Role,
    schema: &Schema,
    dtype: &pl::DataType,
) -> Result<Decode, &'static str> {
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
pub(super) fn check_parquet_footer(path: &Path, file: &mut File) -> Result<(), TabularError> {
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
pub(super) fn check_pages(
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
pub(super) fn parquet_head(
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
pub(super) fn parquet_slice(
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

/// How each column of a Parquet file or an Arrow stream becomes values: the columns mapped
/// onto the population layout, each one's type checked against its role (a wrong type is
/// an error naming the column).
pub(super) fn decode_plan(
    path: &Path,
    schema: &Schema,
    columns: &pl::Schema,
) -> Result<Vec<(String, Role, Decode)>, TabularError> {
    let names: Vec<String> = columns.iter_names().map(|n| n.to_string()).collect();
    let mut plan = Vec::new();
    for (col, role) in layout_roles(path, schema, &names)? {
        let name = &names[col];
        let dtype = columns.get(name.as_str()).unwrap_or(&pl::DataType::Null);
        let kind = read_kind(role, schema, dtype).map_err(|expected| {
            column_err(
                path,
                name,
                format!("expected type {expected}, found {dtype:?}"),
            )
        })?;
        plan.push((name.clone(), role, kind));
    }
    Ok(plan)
}

pub(super) fn read_parquet(
    path: &Path,
    schema: &Schema,
    chunk_rows: usize,
    sink: &mut dyn FnMut(Vec<RawRecord>),
) -> Result<usize, TabularError> {
    let mut file = File::open(path).map_err(io_err(path))?;
    check_parquet_footer(path, &mut file)?;
    let (metadata, file_schema) = parquet_head(path, &mut file)?;
    let n_rows = metadata.num_rows;

    let plan = decode_plan(path, schema, &file_schema)?;

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

pub(super) fn parquet_chunk(
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
                let list = s.list()?;
                if list.inner_dtype() == &pl::DataType::String {
                    // Read off the Arrow arrays: a Series for every row's list costs
                    // more than the tags in it.
                    let mut recs = out.iter_mut();
                    for chunk in list.downcast_iter() {
                        let texts = chunk
                            .values()
                            .as_any()
                            .downcast_ref::<polars_arrow::array::Utf8ViewArray>()
                            .ok_or_else(|| {
                                pl::PolarsError::ComputeError("tags are not text".into())
                            })?;
                        for (i, rec) in (0..chunk.len()).zip(&mut recs) {
                            if chunk.is_valid(i) {
                                let (start, end) = chunk.offsets().start_end(i);
                                rec.tags = (start..end)
                                    .filter(|&j| texts.is_valid(j))
                                    .map(|j| texts.value(j).to_owned())
                                    .collect();
                            }
                        }
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

pub(super) fn epoch() -> jiff::civil::Date {
    jiff::civil::date(1970, 1, 1)
}

/// A Parquet Date (days since 1970-01-01) as the YYYY-MM-DD text profiles parse.
pub(super) fn days_to_text(days: i32) -> Result<String, String> {
    jiff::Span::new()
        .try_days(i64::from(days))
        .and_then(|span| epoch().checked_add(span))
        .map(|d| d.to_string())
        .map_err(|_| format!("day {days} after 1970-01-01 is out of range"))
}

pub(super) fn text_to_days(text: &str) -> Option<i32> {
    let date = parse_date(text)?;
    epoch().until(date).ok().map(|span| span.get_days())
}
