//! Arrow in and out through the [C stream interface] (polars-arrow's `ffi`), for callers
//! that hold Arrow data in memory (the Python package's `Catalog.match_arrow`).
//!
//! In: each batch of the stream becomes a polars data frame (no copy of the buffers) and
//! goes through the Parquet reader's own decoder (`decode_plan`, `parquet_chunk`), so an
//! Arrow population means what the same Parquet file means: the same columns, types,
//! rejects and errors. Out: a result table kept in memory by [`TableParquetWriter`]
//! (the values its Parquet file would hold) is exported as a stream of struct arrays.
//!
//! The one module of the crate with `unsafe` code: the C stream interface is raw pointers
//! by definition. Every `unsafe` block says why it holds.
//!
//! [C stream interface]: https://arrow.apache.org/docs/format/CStreamInterface.html
#![allow(unsafe_code)]

use std::ffi::c_void;

use polars::prelude::CompatLevel;
use polars_arrow::array::StructArray;
use polars_arrow::datatypes::{ArrowDataType, Field};
use polars_arrow::ffi;

use super::*;

/// What errors about the Arrow input name in place of a file.
pub const ARROW_INPUT: &str = "Arrow input";

/// An Arrow C stream (`struct ArrowArrayStream`) owned here: taken from its producer, or
/// made by [`ArrowTable::stream`] for a consumer. Dropping it releases it.
///
/// `#[repr(transparent)]`: a pointer to an `ArrowStream` is a pointer to the C struct, so
/// it can be stored where the interface expects one (a PyCapsule named
/// `arrow_array_stream`).
#[repr(transparent)]
pub struct ArrowStream(ffi::ArrowArrayStream);

impl ArrowStream {
    /// Moves the stream out of `*stream`, leaving a released one there (the C interface's
    /// move: the producer's holder then frees nothing).
    ///
    /// # Safety
    /// `stream` points to a valid, writable `struct ArrowArrayStream` of the C stream
    /// interface, not in use elsewhere.
    pub unsafe fn take(stream: *mut c_void) -> ArrowStream {
        let stream = stream.cast::<ffi::ArrowArrayStream>();
        // SAFETY: the caller's contract; `replace` reads the old value and writes the
        // released one without dropping either.
        ArrowStream(unsafe { std::ptr::replace(stream, ffi::ArrowArrayStream::empty()) })
    }
}

fn arrow_err(e: impl std::fmt::Display) -> TabularError {
    TabularError::Polars {
        path: ARROW_INPUT.to_owned(),
        message: e.to_string(),
    }
}

/// Reads a population from an Arrow stream of the population layout, batch by batch, in
/// chunks of at most `chunk_rows` rows: [`read_population`] for Arrow. Each batch is
/// decoded as a Parquet slice is, so a missing or mistyped column is an error naming the
/// column (before any row is read), and a bad row is a reject.
///
/// `row_numbers` names an integer column that is not part of the population: each row's
/// number as rejects should name it (1 for the first row of the source file). Engines
/// that split, shuffle or regroup a file before it gets here (Spark, Ray) carry the rows'
/// numbers this way, so that a reject names the row of the file, not of the batch.
/// Without it, rows are numbered from 1 in stream order.
pub fn read_arrow_population(
    stream: ArrowStream,
    schema: &Schema,
    chunk_rows: usize,
    row_numbers: Option<&str>,
    sink: &mut dyn FnMut(Vec<RawRecord>),
) -> Result<usize, TabularError> {
    let path = Path::new(ARROW_INPUT);
    let chunk_rows = chunk_rows.max(1);
    // SAFETY: `stream` holds a valid C stream (`ArrowStream::take`'s contract, or one made
    // by `export_iterator`); the reader owns it from here and releases it when dropped.
    let mut reader =
        unsafe { ffi::ArrowArrayStreamReader::try_new(Box::new(stream.0)) }.map_err(arrow_err)?;
    let ArrowDataType::Struct(fields) = reader.field().dtype() else {
        return Err(format_err(
            path,
            format!(
                "expected a stream of record batches (struct arrays), found {:?}",
                reader.field().dtype()
            ),
        ));
    };
    let mut columns: pl::Schema = fields
        .iter()
        .map(|f| (f.name.clone(), pl::DataType::from_arrow_field(f)))
        .collect();
    if let Some(name) = row_numbers {
        match columns.shift_remove(name) {
            Some(dtype) if dtype.is_integer() => {}
            Some(dtype) => {
                return Err(column_err(
                    path,
                    name,
                    format!("the row numbers must be integers, found {dtype:?}"),
                ));
            }
            None => {
                return Err(column_err(
                    path,
                    name,
                    "no such column (named as the row numbers)",
                ));
            }
        }
    }
    let plan = decode_plan(path, schema, &columns)?;
    let mut rows = 0usize;
    // SAFETY: as above; each array the stream gives is imported by polars-arrow, which
    // checks it against the stream's schema.
    while let Some(batch) = unsafe { reader.next() } {
        let batch = batch.map_err(arrow_err)?;
        let context = format!("in the batch from row {}: ", rows + 1);
        let df = guarded(path, &context, || {
            let Some(batch) = batch.as_any().downcast_ref::<StructArray>() else {
                return Err(pl::PolarsError::ComputeError(
                    "a batch is not a struct array".into(),
                ));
            };
            pl::DataFrame::try_from(batch.clone())
        })?;
        let height = df.height();
        let mut offset = 0usize;
        while offset < height {
            let len = chunk_rows.min(height - offset);
            let slice = df.slice(offset as i64, len);
            let first_row = rows + offset + 1;
            let mut chunk = guarded(path, &context, || {
                parquet_chunk(schema, &plan, &slice, first_row)
            })?;
            if let Some(name) = row_numbers {
                number_rows(path, &context, &slice, name, &mut chunk)?;
            }
            offset += len;
            sink(chunk);
        }
        rows += height;
    }
    Ok(rows)
}

/// Gives each record of `chunk` its number from the column `name` of `slice`: a positive
/// integer, never missing (a row without its number could not be named by a reject).
fn number_rows(
    path: &Path,
    context: &str,
    slice: &pl::DataFrame,
    name: &str,
    chunk: &mut [RawRecord],
) -> Result<(), TabularError> {
    let numbers = slice
        .column(name)
        .and_then(|c| c.as_materialized_series().cast(&pl::DataType::Int64))
        .map_err(|e| column_err(path, name, format!("{context}{e}")))?;
    let numbers = numbers
        .i64()
        .map_err(|e| column_err(path, name, format!("{context}{e}")))?;
    for (rec, n) in chunk.iter_mut().zip(numbers.iter()) {
        rec.row = match n {
            Some(n) if n >= 1 => n as usize,
            Some(n) => {
                return Err(column_err(
                    path,
                    name,
                    format!("{context}row number {n}: row numbers start at 1"),
                ));
            }
            None => {
                return Err(column_err(
                    path,
                    name,
                    format!("{context}a row without its number"),
                ));
            }
        };
    }
    Ok(())
}

/// A result table held in memory: the columns, types and values its Parquet file would
/// have (strings as Arrow `large_string`), in row groups.
pub struct ArrowTable {
    schema: pl::Schema,
    frames: Vec<pl::DataFrame>,
}

impl ArrowTable {
    pub(super) fn new(schema: pl::Schema, frames: Vec<pl::DataFrame>) -> ArrowTable {
        ArrowTable { schema, frames }
    }

    /// The number of rows.
    pub fn rows(&self) -> usize {
        self.frames.iter().map(pl::DataFrame::height).sum()
    }

    /// The column names, in order.
    pub fn columns(&self) -> Vec<String> {
        self.schema.iter_names().map(|n| n.to_string()).collect()
    }

    /// The table as an Arrow C stream of record batches (struct arrays), one a row group.
    /// The stream shares the table's buffers (no copy); the table can be streamed again.
    pub fn stream(&self) -> ArrowStream {
        let level = CompatLevel::oldest();
        let fields: Vec<Field> = self
            .schema
            .iter()
            .map(|(name, dtype)| dtype.to_arrow_field(name.clone(), level))
            .collect();
        let dtype = ArrowDataType::Struct(fields.clone());
        let batches = self.frames.clone().into_iter().map(move |df| {
            let height = df.height();
            let arrays = df
                .columns()
                .iter()
                .map(|c| c.as_materialized_series().rechunk().to_arrow(0, level))
                .collect();
            StructArray::try_new(dtype.clone(), height, arrays, None).map(|a| a.boxed())
        });
        let field = Field::new("".into(), ArrowDataType::Struct(fields), false);
        ArrowStream(ffi::export_iterator(Box::new(batches), field))
    }
}

#[cfg(test)]
mod tests {
    use polars::prelude::NamedFrom;

    use super::*;
    use crate::run::{
        ArrowMatchOptions, DEFAULT_CHUNK_ROWS, MatchError, MatchOptions, OutFormat, RESULT_TABLES,
        match_arrow, run_match,
    };
    use polars::prelude::IntoColumn;
    use policy_match::compile::catalog::Catalog;
    use policy_match::eval::{DEFAULT_MAX_PUSHES, DEFAULT_MAX_UNLOCKS, EngineKind};

    fn read(path: &Path) -> pl::DataFrame {
        let file = File::open(path).expect("written");
        pl::ParquetReader::new(file).finish().expect("reads")
    }

    /// A data frame as an Arrow stream, in batches of `rows`.
    fn stream_of(df: &pl::DataFrame, rows: usize) -> ArrowStream {
        let frames = (0..df.height())
            .step_by(rows)
            .map(|at| df.slice(at as i64, rows))
            .collect();
        ArrowTable::new(df.schema().as_ref().clone(), frames).stream()
    }

    fn options() -> ArrowMatchOptions {
        ArrowMatchOptions {
            as_of: jiff::civil::date(2026, 11, 26),
            chunk_rows: 64,
            engine: EngineKind::Native,
            prefilter: true,
            tables: Some(RESULT_TABLES.iter().map(|t| t.to_string()).collect()),
            max_pushes: DEFAULT_MAX_PUSHES,
            max_unlocks: DEFAULT_MAX_UNLOCKS,
            row_numbers: None,
        }
    }

    #[test]
    fn a_population_streamed_as_arrow_gives_the_tables_of_its_parquet_file() {
        let catalog = Catalog::builtin().expect("built-in catalog");
        let dir = tempfile::tempdir().expect("tempdir");
        let pop = dir.path().join("pop.parquet");
        let generate = policy_match::synth::GenOptions {
            count: 300,
            seed: 7,
            bad_rows: 0.05,
        };
        crate::popfile::write_file(&pop, &catalog.schema, &generate).expect("generated");
        let opts = options();
        let files = MatchOptions {
            enterprises: pop.clone(),
            out: dir.path().join("out"),
            as_of: opts.as_of,
            format: OutFormat::Parquet,
            previous: None,
            shard: None,
            chunk_rows: DEFAULT_CHUNK_ROWS,
            engine: opts.engine,
            prefilter: true,
            tables: opts.tables.clone(),
            max_pushes: opts.max_pushes,
            max_unlocks: opts.max_unlocks,
            report: false,
        };
        let summary = run_match(&catalog, &files).expect("matched");
        // Batches of 50 rows, chunks of 64: neither lines up with the file's.
        let done = match_arrow(&catalog, stream_of(&read(&pop), 50), &opts).expect("matched");
        let names: Vec<&str> = done.tables.iter().map(|(n, _)| *n).collect();
        assert_eq!(names[..RESULT_TABLES.len()], RESULT_TABLES);
        assert_eq!(names[RESULT_TABLES.len()..], ["rejects"]);
        assert!(summary.rejects > 0 && summary.pushes > 0, "{summary:?}");
        assert_eq!(done.summary.rejects, summary.rejects);
        assert_eq!(done.summary.pushes, summary.pushes);
        assert_eq!(done.summary.input, ARROW_INPUT);
        for (name, table) in &done.tables {
            let expected = read(&files.out.join(format!("{name}.parquet")));
            let mut got = pl::DataFrame::empty_with_schema(&table.schema);
            for frame in &table.frames {
                got.vstack_mut(frame).expect("same columns");
            }
            assert_eq!(got.schema(), expected.schema(), "{name}");
            assert!(got.equals_missing(&expected), "{name}: {got} {expected}");
            assert_eq!(table.rows(), expected.height(), "{name}");
        }
    }

    /// A generated population (seed 3) as its Parquet file reads.
    fn generated(catalog: &Catalog, count: usize, bad_rows: f64) -> pl::DataFrame {
        let dir = tempfile::tempdir().expect("tempdir");
        let pop = dir.path().join("pop.parquet");
        let generate = policy_match::synth::GenOptions {
            count,
            seed: 3,
            bad_rows,
        };
        crate::popfile::write_file(&pop, &catalog.schema, &generate).expect("generated");
        read(&pop)
    }

    /// The rows' numbers, column `row` of `df`: `first` for its first row, then on.
    fn numbered(df: &pl::DataFrame, first: i64) -> pl::DataFrame {
        let numbers: Vec<i64> = (first..first + df.height() as i64).collect();
        let mut df = df.clone();
        df.with_column(pl::Column::new("row".into(), numbers))
            .expect("a column");
        df
    }

    #[test]
    fn rejects_name_the_rows_by_the_column_of_row_numbers() {
        let catalog = Catalog::builtin().expect("built-in catalog");
        let df = generated(&catalog, 200, 0.1);
        let plain = match_arrow(&catalog, stream_of(&df, 50), &options()).expect("matched");
        let opts = ArrowMatchOptions {
            row_numbers: Some("row".into()),
            ..options()
        };
        // As if the file's rows 1001.. had come in batches of 50.
        let done =
            match_arrow(&catalog, stream_of(&numbered(&df, 1001), 50), &opts).expect("matched");
        assert!(done.summary.rejects > 0);
        for ((name, got), (_, expected)) in done.tables.iter().zip(&plain.tables) {
            let frames = |t: &ArrowTable| {
                let mut all = pl::DataFrame::empty_with_schema(&t.schema);
                for frame in &t.frames {
                    all.vstack_mut(frame).expect("same columns");
                }
                all
            };
            let (got, mut expected) = (frames(got), frames(expected));
            if *name == "rejects" {
                let shifted = expected
                    .column("row")
                    .expect("row")
                    .as_materialized_series()
                    + 1000;
                expected.with_column(shifted.into()).expect("a column");
            }
            assert!(got.equals_missing(&expected), "{name}: {got} {expected}");
        }
    }

    #[test]
    fn a_call_removes_the_scratch_of_a_killed_process_and_keeps_a_live_one_s() {
        let catalog = Catalog::builtin().expect("built-in catalog");
        let temp = std::env::temp_dir();
        // No process has this id (above Linux's highest, 2^22).
        let dead = temp.join(".policy-match-arrow-4294967294-0.partial-4294967294");
        let live = temp.join(format!(
            ".policy-match-arrow-{0}-999999.partial-{0}",
            std::process::id()
        ));
        for dir in [&dead, &live] {
            std::fs::create_dir_all(dir.join(".runs")).expect("a scratch folder");
        }
        let df = pl::df! { "id" => ["91330603MA2BK7R415"] }.expect("a frame");
        // Refused (no `name` column), after the sweep.
        let _ = match_arrow(&catalog, stream_of(&df, 10), &options());
        assert!(!dead.exists() || !cfg!(target_os = "linux"));
        assert!(live.exists());
        std::fs::remove_dir_all(&live).expect("removed");
    }

    #[test]
    fn row_numbers_are_a_present_integer_column_from_one() {
        let catalog = Catalog::builtin().expect("built-in catalog");
        let df = generated(&catalog, 20, 0.0);
        let opts = |column: &str| ArrowMatchOptions {
            row_numbers: Some(column.into()),
            ..options()
        };
        let refusal = |df: &pl::DataFrame, column: &str| {
            match_arrow(&catalog, stream_of(df, 10), &opts(column))
                .err()
                .expect("refused")
                .to_string()
        };
        let missing = refusal(&df, "row");
        assert!(
            missing.contains("`row`") && missing.contains("no such column"),
            "{missing}"
        );
        let zero = refusal(&numbered(&df, 0), "row");
        assert!(zero.contains("row numbers start at 1"), "{zero}");
        let text = refusal(&df, "name");
        assert!(
            text.contains("`name`") && text.contains("must be integers"),
            "{text}"
        );
    }

    #[test]
    fn a_missing_or_mistyped_column_is_an_error_naming_it() {
        let catalog = Catalog::builtin().expect("built-in catalog");
        let df = pl::df! {
            "id" => ["91330603MA2BK7R415"],
            "name" => ["绍兴柯桥锦虹印染有限公司"],
            "employees" => ["many"],
        }
        .expect("a frame");
        let err = match_arrow(&catalog, stream_of(&df, 10), &options())
            .err()
            .expect("refused");
        let MatchError::ReadArrow(TabularError::Column { column, .. }) = &err else {
            panic!("{err}");
        };
        assert_eq!(column, "tags", "{err}");
        let tags = pl::Series::new("tags".into(), [pl::Series::new("".into(), ["a:b"])]);
        let mut df = df;
        df.with_column(tags.into_column()).expect("a column");
        let err = match_arrow(&catalog, stream_of(&df, 10), &options())
            .err()
            .expect("refused")
            .to_string();
        assert!(
            err.contains("column `employees`: expected type Int64"),
            "{err}"
        );
    }
}
