//! Output tables of a batch run, and their CSV form. Parquet is written by the polars IO
//! module from the same [`Table`].

use std::io::Write;

/// The type of a column, for writers that need one (Parquet).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColType {
    Str,
    Int,
    Float,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Str(String),
    Int(i64),
    Float(f64),
    Null,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// File stem: `pushes`, `grants`, …
    pub name: &'static str,
    pub columns: Vec<(&'static str, ColType)>,
    pub rows: Vec<Vec<Cell>>,
}

impl Table {
    pub fn new(name: &'static str, columns: &[(&'static str, ColType)]) -> Table {
        Table {
            name,
            columns: columns.to_vec(),
            rows: Vec::new(),
        }
    }

    pub fn push(&mut self, row: Vec<Cell>) {
        debug_assert_eq!(
            row.len(),
            self.columns.len(),
            "row width of table {}",
            self.name
        );
        self.rows.push(row);
    }

    /// RFC 4180 CSV with a header line; floats in their shortest round-trip form, so the
    /// same values always give the same bytes.
    pub fn write_csv(&self, out: impl Write) -> std::io::Result<()> {
        let mut w = csv::Writer::from_writer(out);
        w.write_record(self.columns.iter().map(|(n, _)| *n))?;
        let mut record = Vec::with_capacity(self.columns.len());
        for row in &self.rows {
            record.clear();
            record.extend(row.iter().map(|c| match c {
                Cell::Str(s) => s.clone(),
                Cell::Int(i) => i.to_string(),
                Cell::Float(f) => f.to_string(),
                Cell::Null => String::new(),
            }));
            w.write_record(&record)?;
        }
        w.flush()
    }
}
