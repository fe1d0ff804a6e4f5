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

/// One cell of a row being written, borrowed. The text variants say what repeats, so
/// that a Parquet writer stores it once (`tabular`'s text columns); CSV writes them all
/// alike.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum CellRef<'a> {
    Text(&'a str),
    /// Text of a row of some entity (an enterprise's id, on each of its rows), with the
    /// entity's number: consecutive rows with the same number have the same text, and a
    /// run of them stores it once, without comparing texts.
    Run(u64, &'a str),
    /// Text fixed by a key the caller gives (a measure's title, by the measure's index):
    /// every row with the key has the same text, throughout the table.
    Keyed(u32, &'a str),
    Int(i64),
    /// A number; `None` is null.
    Float(Option<f64>),
}

impl CellRef<'_> {
    pub fn to_cell(&self) -> Cell {
        match *self {
            CellRef::Text(t) | CellRef::Run(_, t) | CellRef::Keyed(_, t) => Cell::Str(t.to_owned()),
            CellRef::Int(i) => Cell::Int(i),
            CellRef::Float(f) => f.map_or(Cell::Null, Cell::Float),
        }
    }

    /// The cell as CSV text before quoting: numbers in their shortest round-trip form,
    /// null as nothing.
    pub fn write_text(&self, out: &mut String) {
        use std::fmt::Write as _;
        match *self {
            CellRef::Text(t) | CellRef::Run(_, t) | CellRef::Keyed(_, t) => out.push_str(t),
            // Writing to a String cannot fail.
            CellRef::Int(i) => drop(write!(out, "{i}")),
            CellRef::Float(Some(f)) => drop(write!(out, "{f}")),
            CellRef::Float(None) => {}
        }
    }
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
