//! Results too large to hold in memory: each chunk's results go to a run file, one
//! compact binary record per enterprise in enterprise-id order, and the runs are merged
//! by id at the end (an external merge sort). Rows are rendered as text only once, from
//! the merged records: a push row is some 250 bytes of text, its record a dozen.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::PathBuf;

/// What one enterprise gets from every measure, beyond the counts.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Results {
    pub id: String,
    pub name: String,
    pub eligible: Vec<Eligible>,
    /// (measure, the condition that alone failed).
    pub near_misses: Vec<(u16, u8)>,
    /// (measure, the missing fields, joined).
    pub undetermined: Vec<(u16, String)>,
    /// (measure, the error).
    pub errors: Vec<(u16, String)>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Eligible {
    pub measure: u16,
    /// The conditions that held (bit `i` is condition `i`); 0 when no table being written
    /// shows them, and then not spooled.
    pub passed: u64,
    pub amount: Option<f64>,
}

/// Flags of an encoded [`Eligible`].
const HAS_AMOUNT: u8 = 1;
const HAS_PASSED: u8 = 2;

impl Results {
    /// Appends the binary form: lengths as u32, numbers little-endian.
    pub fn encode(&self, out: &mut Vec<u8>) {
        let text = |out: &mut Vec<u8>, s: &str| {
            out.extend((s.len() as u32).to_le_bytes());
            out.extend(s.as_bytes());
        };
        let count = |out: &mut Vec<u8>, n: usize| out.extend((n as u32).to_le_bytes());
        text(out, &self.id);
        text(out, &self.name);
        count(out, self.eligible.len());
        for e in &self.eligible {
            out.extend(e.measure.to_le_bytes());
            let flags = if e.amount.is_some() { HAS_AMOUNT } else { 0 }
                | if e.passed != 0 { HAS_PASSED } else { 0 };
            out.push(flags);
            if e.passed != 0 {
                out.extend(e.passed.to_le_bytes());
            }
            if let Some(a) = e.amount {
                out.extend(a.to_le_bytes());
            }
        }
        count(out, self.near_misses.len());
        for (m, c) in &self.near_misses {
            out.extend(m.to_le_bytes());
            out.push(*c);
        }
        for list in [&self.undetermined, &self.errors] {
            count(out, list.len());
            for (m, s) in list {
                out.extend(m.to_le_bytes());
                text(out, s);
            }
        }
    }

    /// Reads one record; `None` at the end of the run.
    fn decode(r: &mut impl Read) -> io::Result<Option<Results>> {
        let mut four = [0u8; 4];
        match r.read_exact(&mut four) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
            Err(e) => return Err(e),
        }
        let id = read_text(r, u32::from_le_bytes(four))?;
        let len = read_u32(r)?;
        let name = read_text(r, len)?;
        let mut x = Results {
            id,
            name,
            ..Results::default()
        };
        for _ in 0..read_u32(r)? {
            let measure = read_u16(r)?;
            let mut flags = [0u8; 1];
            r.read_exact(&mut flags)?;
            let mut eight = [0u8; 8];
            let passed = if flags[0] & HAS_PASSED != 0 {
                r.read_exact(&mut eight)?;
                u64::from_le_bytes(eight)
            } else {
                0
            };
            let amount = if flags[0] & HAS_AMOUNT != 0 {
                r.read_exact(&mut eight)?;
                Some(f64::from_le_bytes(eight))
            } else {
                None
            };
            x.eligible.push(Eligible {
                measure,
                passed,
                amount,
            });
        }
        for _ in 0..read_u32(r)? {
            let m = read_u16(r)?;
            let mut c = [0u8; 1];
            r.read_exact(&mut c)?;
            x.near_misses.push((m, c[0]));
        }
        for list in [&mut x.undetermined, &mut x.errors] {
            for _ in 0..read_u32(r)? {
                let m = read_u16(r)?;
                let len = read_u32(r)?;
                list.push((m, read_text(r, len)?));
            }
        }
        Ok(Some(x))
    }
}

fn read_u32(r: &mut impl Read) -> io::Result<u32> {
    let mut b = [0u8; 4];
    r.read_exact(&mut b)?;
    Ok(u32::from_le_bytes(b))
}

fn read_u16(r: &mut impl Read) -> io::Result<u16> {
    let mut b = [0u8; 2];
    r.read_exact(&mut b)?;
    Ok(u16::from_le_bytes(b))
}

fn read_text(r: &mut impl Read, len: u32) -> io::Result<String> {
    let mut buf = vec![0u8; len as usize];
    r.read_exact(&mut buf)?;
    String::from_utf8(buf).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
}

/// The sorted runs of one match, in a folder inside the partial output.
pub struct Spool {
    dir: PathBuf,
    runs: Vec<PathBuf>,
    current: Option<BufWriter<File>>,
}

impl Spool {
    pub fn new(dir: PathBuf) -> Spool {
        Spool {
            dir,
            runs: Vec::new(),
            current: None,
        }
    }

    /// Starts the run of a chunk; records appended until [`Spool::end_run`] must be in
    /// enterprise-id order.
    pub fn start_run(&mut self) -> io::Result<()> {
        let path = self.dir.join(format!("{}.run", self.runs.len()));
        self.current = Some(BufWriter::new(File::create(&path)?));
        self.runs.push(path);
        Ok(())
    }

    /// Appends records already encoded with [`Results::encode`].
    pub fn append(&mut self, encoded: &[u8]) -> io::Result<()> {
        self.current
            .as_mut()
            .ok_or_else(|| io::Error::other("records appended outside a run"))?
            .write_all(encoded)
    }

    pub fn end_run(&mut self) -> io::Result<()> {
        if let Some(mut w) = self.current.take() {
            w.flush()?;
        }
        Ok(())
    }

    /// Merges the runs by enterprise id, calling `sink` with every record in order; ties
    /// keep run order. Deletes the run files.
    pub fn merge(mut self, sink: &mut dyn FnMut(&Results) -> io::Result<()>) -> io::Result<()> {
        self.end_run()?;
        let mut readers = Vec::with_capacity(self.runs.len());
        for path in &self.runs {
            readers.push(BufReader::with_capacity(1 << 16, File::open(path)?));
        }
        let mut heads: Vec<Option<Results>> = Vec::with_capacity(readers.len());
        let mut heap = BinaryHeap::new();
        for (i, r) in readers.iter_mut().enumerate() {
            let head = Results::decode(r)?;
            if let Some(h) = &head {
                heap.push(Reverse((h.id.clone(), i)));
            }
            heads.push(head);
        }
        while let Some(Reverse((_, i))) = heap.pop() {
            if let Some(h) = heads[i].take() {
                sink(&h)?;
            }
            heads[i] = Results::decode(&mut readers[i])?;
            if let Some(h) = &heads[i] {
                heap.push(Reverse((h.id.clone(), i)));
            }
        }
        for path in &self.runs {
            std::fs::remove_file(path)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn results(id: &str) -> Results {
        Results {
            id: id.into(),
            name: format!("企业{id}"),
            eligible: vec![
                Eligible {
                    measure: 3,
                    passed: 0b101,
                    amount: Some(1234.56),
                },
                // What a run that writes no reasons and no amounts spools.
                Eligible {
                    measure: 4,
                    passed: 0,
                    amount: None,
                },
            ],
            near_misses: vec![(7, 2)],
            undetermined: vec![(9, "employees,founded".into())],
            errors: vec![(11, "division by zero".into())],
        }
    }

    #[test]
    fn runs_merge_in_id_order_and_records_survive_the_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Spool::new(dir.path().to_owned());
        for run in [&["A", "C", "E"][..], &["B", "D"], &[], &["0", "F"]] {
            s.start_run().unwrap();
            let mut bytes = Vec::new();
            for id in run {
                results(id).encode(&mut bytes);
            }
            s.append(&bytes).unwrap();
            s.end_run().unwrap();
        }
        let mut got = Vec::new();
        s.merge(&mut |r| {
            assert_eq!(*r, results(&r.id));
            got.push(r.id.clone());
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
