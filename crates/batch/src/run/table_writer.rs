//! One output table: its columns, and its rows written as CSV or Parquet.

use super::*;

pub(super) const PUSH_COLUMNS: &[(&str, ColType)] = &[
    ("enterprise_id", ColType::Str),
    ("enterprise_name", ColType::Str),
    ("measure_id", ColType::Str),
    ("title", ColType::Str),
    ("zone", ColType::Str),
    ("window", ColType::Str),
    ("scenario", ColType::Str),
    ("lead_departments", ColType::Str),
    ("score", ColType::Int),
    ("reasons", ColType::Str),
    ("rank", ColType::Int),
    // The benefit's amount in its unit and its kind (`cash`, `tax_deduction`,
    // `fee_waiver`, `quota`), when the measure has one; or the fields it waits on.
    ("amount", ColType::Float),
    ("unit", ColType::Str),
    ("amount_kind", ColType::Str),
    ("amount_pending", ColType::Str),
];

pub(super) const GRANT_COLUMNS: &[(&str, ColType)] = &[
    ("enterprise_id", ColType::Str),
    ("measure_id", ColType::Str),
    ("amount_yuan", ColType::Float),
    ("basis", ColType::Str),
    // The enterprise's size and industry (大类), so that grants can be summed by them
    // from this table alone.
    ("size", ColType::Str),
    ("industry", ColType::Str),
];
pub(super) const NEAR_MISS_COLUMNS: &[(&str, ColType)] = &[
    ("enterprise_id", ColType::Str),
    ("measure_id", ColType::Str),
    ("failed_condition", ColType::Str),
];
pub(super) const UNDETERMINED_COLUMNS: &[(&str, ColType)] = &[
    ("enterprise_id", ColType::Str),
    ("measure_id", ColType::Str),
    ("missing_fields", ColType::Str),
];
pub(super) const ERROR_COLUMNS: &[(&str, ColType)] = &[
    ("enterprise_id", ColType::Str),
    ("measure_id", ColType::Str),
    ("error", ColType::Str),
];
pub(super) const REJECT_COLUMNS: &[(&str, ColType)] = &[
    ("row", ColType::Int),
    ("enterprise_id", ColType::Str),
    ("reason", ColType::Str),
];
/// One row per enterprise with anything to say: the message a platform sends.
pub(super) const DIGEST_COLUMNS: &[(&str, ColType)] = &[
    ("enterprise_id", ColType::Str),
    ("enterprise_name", ColType::Str),
    ("pushes", ColType::Int),
    ("push_list", ColType::Str),
    ("grants", ColType::Int),
    ("grants_total_yuan", ColType::Float),
    ("unlocks", ColType::Str),
    ("new_pushes", ColType::Str),
];
/// An enterprise's unlocks: the condition, the measures it would open, its rank.
pub(super) const UNLOCK_COLUMNS: &[(&str, ColType)] = &[
    ("enterprise_id", ColType::Str),
    ("condition", ColType::Str),
    ("measures", ColType::Int),
    ("measure_ids", ColType::Str),
    ("rank", ColType::Int),
];
pub(super) const REVOKED_COLUMNS: &[(&str, ColType)] = &[
    ("enterprise_id", ColType::Str),
    ("measure_id", ColType::Str),
];

pub(super) fn s(x: impl Into<String>) -> Cell {
    Cell::Str(x.into())
}

/// One output table's file being written row by row, in one format: the one place the
/// formats differ, so that the run never branches on the format per row.
pub(super) trait TableSink: Send {
    /// Writes one row given its cells, and for CSV optionally its fragments already
    /// rendered ([`render::fields`]) so that they need not be quoted again.
    fn write_row(
        &mut self,
        cells: &[CellRef<'_>],
        fragments: Option<&[&[u8]]>,
    ) -> std::io::Result<()>;
    /// Writes what is buffered and closes the file; a table kept in memory is given back.
    fn finish(self: Box<Self>) -> std::io::Result<Option<ArrowTable>>;
}

/// CSV, written by a thread of its own from 1 MiB blocks.
struct CsvSink {
    file: crate::sink::ThreadedFile,
    line: Vec<u8>,
    /// One cell's text at a time.
    cell: String,
}

impl TableSink for CsvSink {
    fn write_row(
        &mut self,
        cells: &[CellRef<'_>],
        fragments: Option<&[&[u8]]>,
    ) -> std::io::Result<()> {
        self.line.clear();
        match fragments {
            Some(parts) => render::row(&mut self.line, parts),
            None => {
                render::cells(&mut self.line, cells, &mut self.cell);
                self.line.push(b'\n');
            }
        }
        self.file.write_all(&self.line)
    }

    fn finish(self: Box<Self>) -> std::io::Result<Option<ArrowTable>> {
        self.file.finish().map(|()| None)
    }
}

/// Parquet, a row group at a time.
struct ParquetSink(crate::tabular::TableParquetWriter);

impl TableSink for ParquetSink {
    fn write_row(&mut self, cells: &[CellRef<'_>], _: Option<&[&[u8]]>) -> std::io::Result<()> {
        self.0.push_cells(cells).map_err(std::io::Error::other)
    }

    fn finish(self: Box<Self>) -> std::io::Result<Option<ArrowTable>> {
        self.0.finish().map(|_| None).map_err(std::io::Error::other)
    }
}

/// In memory: the Parquet writer's columns and values, kept as an Arrow table.
struct MemorySink(crate::tabular::TableParquetWriter);

impl TableSink for MemorySink {
    fn write_row(&mut self, cells: &[CellRef<'_>], _: Option<&[&[u8]]>) -> std::io::Result<()> {
        self.0.push_cells(cells).map_err(std::io::Error::other)
    }

    fn finish(self: Box<Self>) -> std::io::Result<Option<ArrowTable>> {
        self.0.into_arrow().map(Some).map_err(std::io::Error::other)
    }
}

/// Writes one output table from merged rows, streaming to disk through its
/// [`TableSink`]; a table not asked for has none and counts nothing.
pub(super) struct TableWriter {
    pub(super) file: String,
    sink: Option<Box<dyn TableSink>>,
    pub(super) rows: usize,
}

impl TableWriter {
    pub(super) fn enabled(&self) -> bool {
        self.sink.is_some()
    }

    /// A table that is not written.
    pub(super) fn skipped(name: &'static str) -> TableWriter {
        TableWriter {
            file: name.to_owned(),
            sink: None,
            rows: 0,
        }
    }

    pub(super) fn create(
        out: &OutDir,
        name: &'static str,
        columns: &[(&'static str, ColType)],
        dest: Dest,
    ) -> Result<TableWriter, MatchError> {
        let format = match dest {
            Dest::Files(format) => format,
            Dest::Memory => {
                let sink = crate::tabular::TableParquetWriter::in_memory(name, columns)
                    .map_err(|e| io_to_output(out, name)(std::io::Error::other(e)))?;
                return Ok(TableWriter {
                    file: name.to_owned(),
                    sink: Some(Box::new(MemorySink(sink))),
                    rows: 0,
                });
            }
        };
        let file = format!("{name}.{}", format.ext());
        let sink: Box<dyn TableSink> = match format {
            OutFormat::Csv => {
                let mut w = crate::sink::ThreadedFile::create(&out.path(&file))
                    .map_err(io_to_output(out, &file))?;
                let names: Vec<&str> = columns.iter().map(|(n, _)| *n).collect();
                let mut header = render::fields(&names);
                header.push(b'\n');
                w.write_all(&header).map_err(io_to_output(out, &file))?;
                Box::new(CsvSink {
                    file: w,
                    line: Vec::new(),
                    cell: String::new(),
                })
            }
            OutFormat::Parquet => Box::new(ParquetSink(
                crate::tabular::TableParquetWriter::create(&out.path(&file), columns)
                    .map_err(|e| io_to_output(out, &file)(std::io::Error::other(e)))?,
            )),
        };
        Ok(TableWriter {
            file,
            sink: Some(sink),
            rows: 0,
        })
    }

    /// Writes one row given its cells, and for CSV optionally its fragments already
    /// rendered ([`render::fields`]) so that they need not be quoted again.
    pub(super) fn write(
        &mut self,
        cells: &[CellRef<'_>],
        fragments: Option<&[&[u8]]>,
    ) -> std::io::Result<()> {
        self.rows += 1;
        match self.sink.as_mut() {
            Some(sink) => sink.write_row(cells, fragments),
            None => Ok(()),
        }
    }

    /// Closes the table's file, or gives back the table kept in memory.
    pub(super) fn finish(self, out: &OutDir) -> Result<Option<ArrowTable>, MatchError> {
        let Some(sink) = self.sink else {
            return Ok(None);
        };
        match sink.finish().map_err(io_to_output(out, &self.file))? {
            Some(table) => Ok(Some(table)),
            None => {
                out.sync(&self.file)?;
                Ok(None)
            }
        }
    }
}

/// Writes a whole table as a file of the output folder, or gives it back in memory.
pub(super) fn write_table(
    out: &OutDir,
    table: &Table,
    dest: Dest,
) -> Result<Option<ArrowTable>, MatchError> {
    let format = match dest {
        Dest::Files(format) => format,
        Dest::Memory => {
            return crate::tabular::table_to_arrow(table)
                .map(Some)
                .map_err(|e| io_to_output(out, table.name)(std::io::Error::other(e)));
        }
    };
    let file = format!("{}.{}", table.name, format.ext());
    match format {
        OutFormat::Csv => out.write(&file, |w| table.write_csv(w))?,
        OutFormat::Parquet => {
            crate::tabular::write_table_parquet(&out.path(&file), table).map_err(|e| {
                MatchError::Output(OutDirError::Io {
                    path: out.path(&file),
                    source: std::io::Error::other(e),
                })
            })?;
            out.sync(&file)?;
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use CellRef::*;

    const COLUMNS: &[(&str, ColType)] = &[("enterprise_id", ColType::Str), ("note", ColType::Str)];

    #[test]
    fn a_skipped_table_counts_its_rows_and_writes_nothing() {
        let mut t = TableWriter::skipped("pushes");
        assert!(!t.enabled());
        t.write(&[Text("A"), Text("x")], None)
            .expect("no file to fail");
        assert_eq!(t.rows, 1);
    }

    #[test]
    fn a_csv_table_quotes_what_it_must_and_takes_rendered_fragments_as_they_are() {
        let dir = tempfile::tempdir().expect("tempdir");
        let target = dir.path().join("out");
        let out = OutDir::create(&target).expect("partial folder");
        let mut t =
            TableWriter::create(&out, "notes", COLUMNS, Dest::Files(OutFormat::Csv)).expect("file");
        assert!(t.enabled());
        t.write(&[Run(1, "A"), Text("a, \"quoted\" note")], None)
            .expect("row");
        let a = render::fields(&["B"]);
        let b = render::fields(&["绍兴"]);
        t.write(&[Text("ignored"), Text("ignored")], Some(&[&a, &b]))
            .expect("row");
        assert_eq!(t.rows, 2);
        t.finish(&out).expect("finished");
        let text = std::fs::read_to_string(out.path("notes.csv")).expect("written");
        assert_eq!(
            text,
            "enterprise_id,note\nA,\"a, \"\"quoted\"\" note\"\nB,绍兴\n"
        );
    }

    #[test]
    fn a_parquet_table_reads_back_with_its_rows() {
        let dir = tempfile::tempdir().expect("tempdir");
        let out = OutDir::create(&dir.path().join("out")).expect("partial folder");
        let mut t = TableWriter::create(&out, "notes", COLUMNS, Dest::Files(OutFormat::Parquet))
            .expect("file");
        t.write(&[Run(1, "A"), Keyed(1, "一")], None).expect("row");
        t.write(&[Run(2, "B"), Keyed(2, "二")], None).expect("row");
        t.finish(&out).expect("finished");
        let pairs =
            crate::tabular::read_pairs_parquet(&out.path("notes.parquet"), "enterprise_id", "note")
                .expect("reads back");
        let got: Vec<(String, String)> = pairs.into_iter().collect();
        assert_eq!(got, [("A".into(), "一".into()), ("B".into(), "二".into())]);
    }
}
