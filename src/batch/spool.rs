//! Output tables too large to hold in memory: each chunk's rows go to a sorted run file,
//! and the runs are merged by enterprise id at the end (an external merge sort), so a
//! run's memory is bounded by one chunk whatever the population.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Write};
use std::path::PathBuf;

use super::table::{Cell, ColType};

pub struct Spool {
    pub name: &'static str,
    pub columns: Vec<(&'static str, ColType)>,
    dir: PathBuf,
    runs: Vec<PathBuf>,
    current: Option<BufWriter<File>>,
    pub rows: usize,
}

fn cell_text(c: &Cell) -> String {
    match c {
        Cell::Str(s) => s.clone(),
        Cell::Int(i) => i.to_string(),
        Cell::Float(f) => f.to_string(),
        Cell::Null => String::new(),
    }
}

impl Spool {
    /// A spool whose run files live in `dir` (inside the partial output folder).
    pub fn new(name: &'static str, columns: &[(&'static str, ColType)], dir: PathBuf) -> Spool {
        Spool {
            name,
            columns: columns.to_vec(),
            dir,
            runs: Vec::new(),
            current: None,
            rows: 0,
        }
    }

    /// Starts the run of a chunk; rows pushed until [`Spool::end_run`] must be in
    /// enterprise-id order.
    pub fn start_run(&mut self) -> io::Result<()> {
        let path = self
            .dir
            .join(format!("{}.{}.run", self.name, self.runs.len()));
        let w = BufWriter::new(File::create(&path)?);
        self.runs.push(path);
        self.current = Some(w);
        Ok(())
    }

    /// Appends rows already rendered as CSV records (no header), in enterprise-id order.
    pub fn push_raw(&mut self, bytes: &[u8], rows: usize) -> io::Result<()> {
        let w = self
            .current
            .as_mut()
            .ok_or_else(|| io::Error::other("rows pushed outside a run"))?;
        w.write_all(bytes)?;
        self.rows += rows;
        Ok(())
    }

    pub fn push(&mut self, row: &[Cell]) -> io::Result<()> {
        let mut w = csv::WriterBuilder::new()
            .has_headers(false)
            .from_writer(Vec::new());
        w.write_record(row.iter().map(cell_text))?;
        let bytes = w.into_inner().map_err(|e| e.into_error())?;
        self.push_raw(&bytes, 1)
    }

    pub fn end_run(&mut self) -> io::Result<()> {
        if let Some(mut w) = self.current.take() {
            w.flush()?;
        }
        Ok(())
    }

    /// Merges the runs by their first column (the enterprise id), calling `sink` with every
    /// row in order; ties keep run order. Deletes the run files.
    pub fn merge(
        mut self,
        sink: &mut dyn FnMut(&csv::StringRecord) -> io::Result<()>,
    ) -> io::Result<()> {
        self.end_run()?;
        let mut readers = Vec::with_capacity(self.runs.len());
        for path in &self.runs {
            readers.push(
                csv::ReaderBuilder::new()
                    .has_headers(false)
                    .from_reader(BufReader::new(File::open(path)?)),
            );
        }
        let mut heads: Vec<csv::StringRecord> = vec![csv::StringRecord::new(); readers.len()];
        let mut heap = BinaryHeap::new();
        for (i, r) in readers.iter_mut().enumerate() {
            if r.read_record(&mut heads[i])? {
                heap.push(Reverse((heads[i].get(0).unwrap_or("").to_owned(), i)));
            }
        }
        while let Some(Reverse((_, i))) = heap.pop() {
            sink(&heads[i])?;
            if readers[i].read_record(&mut heads[i])? {
                heap.push(Reverse((heads[i].get(0).unwrap_or("").to_owned(), i)));
            }
        }
        for path in &self.runs {
            std::fs::remove_file(path)?;
        }
        Ok(())
    }
}

/// Converts a merged CSV record back into typed cells, for the Parquet writer.
pub fn cells(columns: &[(&'static str, ColType)], rec: &csv::StringRecord) -> Vec<Cell> {
    columns
        .iter()
        .zip(rec.iter())
        .map(|((_, ty), text)| match ty {
            _ if text.is_empty() && *ty != ColType::Str => Cell::Null,
            ColType::Str => Cell::Str(text.to_owned()),
            ColType::Int => text.parse().map_or(Cell::Null, Cell::Int),
            ColType::Float => text.parse().map_or(Cell::Null, Cell::Float),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_merge_in_id_order() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Spool::new(
            "t",
            &[("enterprise_id", ColType::Str), ("n", ColType::Int)],
            dir.path().to_owned(),
        );
        for run in [&["A", "C", "E"][..], &["B", "D"], &[], &["0", "F"]] {
            s.start_run().unwrap();
            for (i, id) in run.iter().enumerate() {
                s.push(&[Cell::Str((*id).to_owned()), Cell::Int(i as i64)])
                    .unwrap();
            }
            s.end_run().unwrap();
        }
        let mut got = Vec::new();
        s.merge(&mut |r| {
            got.push(r.get(0).unwrap().to_owned());
            Ok(())
        })
        .unwrap();
        assert_eq!(got, ["0", "A", "B", "C", "D", "E", "F"]);
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            0,
            "run files removed"
        );
    }
}
