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
    /// The enterprise's size (its `size:` tag's value) and industry (its `industry:`
    /// code to the 大类, `C17`), for the grants table: set only when it has a grant.
    pub size: String,
    pub industry: String,
    pub eligible: Vec<Eligible>,
    /// (measure, the condition that alone failed).
    pub near_misses: Vec<(u16, u8)>,
    /// Pushed measures an individual business would be eligible for by becoming an
    /// enterprise (个转企).
    pub conversions: Vec<u16>,
    /// (measure, the missing fields the amount waits on, joined) of eligible pairs whose
    /// amount is pending.
    pub pending: Vec<(u16, String)>,
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
    /// Every condition holds but the amount waits on a missing field: pushed, never
    /// granted.
    pub pending: bool,
    /// The push's place among the enterprise's pushes (1 = first); 0 when the measure is
    /// not pushed, or the cap held it back.
    pub rank: u8,
}

/// Flags of an encoded [`Eligible`].
const HAS_AMOUNT: u8 = 1;
const HAS_PASSED: u8 = 2;
const PENDING: u8 = 4;

impl Results {
    /// Appends the binary form: the record's length, then its fields; lengths as u32,
    /// numbers little-endian.
    pub fn encode(&self, out: &mut Vec<u8>) {
        let start = out.len();
        out.extend([0; 4]);
        let text = |out: &mut Vec<u8>, s: &str| {
            out.extend((s.len() as u32).to_le_bytes());
            out.extend(s.as_bytes());
        };
        let count = |out: &mut Vec<u8>, n: usize| out.extend((n as u32).to_le_bytes());
        text(out, &self.id);
        text(out, &self.name);
        text(out, &self.size);
        text(out, &self.industry);
        count(out, self.eligible.len());
        for e in &self.eligible {
            out.extend(e.measure.to_le_bytes());
            let flags = if e.amount.is_some() { HAS_AMOUNT } else { 0 }
                | if e.passed != 0 { HAS_PASSED } else { 0 }
                | if e.pending { PENDING } else { 0 };
            out.push(flags);
            out.push(e.rank);
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
        count(out, self.conversions.len());
        for m in &self.conversions {
            out.extend(m.to_le_bytes());
        }
        for list in [&self.pending, &self.undetermined, &self.errors] {
            count(out, list.len());
            for (m, s) in list {
                out.extend(m.to_le_bytes());
                text(out, s);
            }
        }
        let len = (out.len() - start - 4) as u32;
        out[start..start + 4].copy_from_slice(&len.to_le_bytes());
    }

    /// Reads the next record of a run into `self`, reusing its buffers (`record` holds
    /// the record's bytes); false at the end of the run.
    pub fn decode_into(&mut self, r: &mut impl Read, record: &mut Vec<u8>) -> io::Result<bool> {
        let mut four = [0u8; 4];
        match r.read_exact(&mut four) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(false),
            Err(e) => return Err(e),
        }
        record.resize(u32::from_le_bytes(four) as usize, 0);
        r.read_exact(record)?;
        let mut c = Cursor(record);
        c.text_into(&mut self.id)?;
        c.text_into(&mut self.name)?;
        c.text_into(&mut self.size)?;
        c.text_into(&mut self.industry)?;
        self.eligible.clear();
        for _ in 0..c.u32()? {
            let measure = c.u16()?;
            let flags = c.u8()?;
            let rank = c.u8()?;
            let passed = if flags & HAS_PASSED != 0 { c.u64()? } else { 0 };
            let amount = if flags & HAS_AMOUNT != 0 {
                Some(f64::from_bits(c.u64()?))
            } else {
                None
            };
            self.eligible.push(Eligible {
                measure,
                passed,
                amount,
                pending: flags & PENDING != 0,
                rank,
            });
        }
        self.near_misses.clear();
        for _ in 0..c.u32()? {
            self.near_misses.push((c.u16()?, c.u8()?));
        }
        self.conversions.clear();
        for _ in 0..c.u32()? {
            self.conversions.push(c.u16()?);
        }
        for list in [&mut self.pending, &mut self.undetermined, &mut self.errors] {
            list.clear();
            for _ in 0..c.u32()? {
                let m = c.u16()?;
                let mut text = String::new();
                c.text_into(&mut text)?;
                list.push((m, text));
            }
        }
        if c.0.is_empty() {
            Ok(true)
        } else {
            Err(invalid("a spool record is longer than its fields"))
        }
    }
}

fn invalid(message: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message)
}

/// The unread rest of one spool record.
struct Cursor<'a>(&'a [u8]);

impl Cursor<'_> {
    fn take<const N: usize>(&mut self) -> io::Result<[u8; N]> {
        let (head, rest) = self
            .0
            .split_first_chunk::<N>()
            .ok_or_else(|| invalid("a spool record ends early"))?;
        self.0 = rest;
        Ok(*head)
    }

    fn u8(&mut self) -> io::Result<u8> {
        Ok(self.take::<1>()?[0])
    }

    fn u16(&mut self) -> io::Result<u16> {
        self.take().map(u16::from_le_bytes)
    }

    fn u32(&mut self) -> io::Result<u32> {
        self.take().map(u32::from_le_bytes)
    }

    fn u64(&mut self) -> io::Result<u64> {
        self.take().map(u64::from_le_bytes)
    }

    fn text_into(&mut self, into: &mut String) -> io::Result<()> {
        let len = self.u32()? as usize;
        if len > self.0.len() {
            return Err(invalid("a spool record ends early"));
        }
        let (text, rest) = self.0.split_at(len);
        self.0 = rest;
        into.clear();
        into.push_str(std::str::from_utf8(text).map_err(|e| invalid(&e.to_string()))?);
        Ok(())
    }
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
        // Each run's current record, its buffers reused from record to record.
        let mut heads = vec![Results::default(); readers.len()];
        let mut record = Vec::new();
        let mut heap = BinaryHeap::new();
        for (i, r) in readers.iter_mut().enumerate() {
            if heads[i].decode_into(r, &mut record)? {
                heap.push(Reverse((heads[i].id.clone(), i)));
            }
        }
        while let Some(Reverse((_, i))) = heap.pop() {
            sink(&heads[i])?;
            if heads[i].decode_into(&mut readers[i], &mut record)? {
                heap.push(Reverse((heads[i].id.clone(), i)));
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
            size: "small".into(),
            industry: "C17".into(),
            eligible: vec![
                Eligible {
                    measure: 3,
                    passed: 0b101,
                    amount: Some(1234.56),
                    pending: false,
                    rank: 1,
                },
                // What a run that writes no reasons and no amounts spools.
                Eligible {
                    measure: 4,
                    passed: 0,
                    amount: None,
                    pending: true,
                    rank: 0,
                },
            ],
            near_misses: vec![(7, 2)],
            conversions: vec![5, 8],
            pending: vec![(4, "project_land_quota_mu".into())],
            undetermined: vec![(9, "employees,founded".into())],
            errors: vec![(11, "division by zero".into())],
        }
    }

    #[test]
    fn a_damaged_record_is_an_error_not_a_panic() {
        let mut bytes = Vec::new();
        results("A").encode(&mut bytes);
        let mut into = Results::default();
        let mut record = Vec::new();
        // The length says more than the file holds.
        let mut r = &bytes[..bytes.len() - 1];
        assert!(into.decode_into(&mut r, &mut record).is_err());
        // A record whose fields end before its length does.
        let mut longer = bytes.clone();
        let len = u32::from_le_bytes(longer[..4].try_into().unwrap()) + 1;
        longer[..4].copy_from_slice(&len.to_le_bytes());
        longer.push(0);
        let mut r = &longer[..];
        assert!(into.decode_into(&mut r, &mut record).is_err());
        // The record itself reads back whole.
        let mut r = &bytes[..];
        assert!(into.decode_into(&mut r, &mut record).unwrap());
        assert_eq!(into, results("A"));
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
