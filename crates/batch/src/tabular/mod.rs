//! CSV and Parquet through polars: population files in, Parquet tables out; and the same
//! population and tables as Arrow in memory (`arrow`). The only module of the crate that
//! knows polars.
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
use std::io::{BufRead, BufReader, Cursor};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::Receiver;

use polars::prelude as pl;
use polars::prelude::{ChunkedBuilder, IntoSeries, ListBuilderTrait, SchemaExt, SerReader};

use policy_match::profile::record;

use crate::sink::WriterThread;
use crate::table::Cell;
use crate::table::CellRef;
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

mod arrow;
mod csv_read;
mod parquet_file;
mod parquet_read;
mod parquet_write;
mod text_column;
mod visit;

pub use arrow::{ARROW_INPUT, ArrowStream, ArrowTable, read_arrow_population};

use csv_read::*;
pub use parquet_read::read_pairs_parquet;
use parquet_read::*;
pub use parquet_write::{
    PopulationParquetWriter, TableParquetWriter, table_to_arrow, write_table_parquet,
};
pub use visit::{Value, column_names, visit_rows};

#[cfg(test)]
mod tests {
    use polars::prelude::NamedFrom;

    use super::parquet_write::ROW_GROUP_ROWS;

    use super::*;
    use polars::prelude::IntoColumn;

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
