//! A structural check of a Parquet footer (the file metadata, Thrift compact protocol)
//! before polars decodes it.
//!
//! polars 0.55 trusts the sizes written in the footer: a corrupt or hostile file that
//! declares a list of billions of elements makes it reserve that many at once, which
//! aborts the process (found by the `parquet` fuzz target; an allocation failure is not a
//! panic and cannot be caught). This walk reads every value of the footer without
//! allocating, and refuses sizes larger than the bytes left and nesting deeper than any
//! real Parquet metadata. It knows the wire format only, not the Parquet schema: a footer
//! it accepts may still be refused by polars, with an ordinary error.

/// Nesting of structs, lists and maps accepted; real footers use fewer than ten levels.
const MAX_DEPTH: usize = 64;

/// Rows one row group may declare. polars reserves a row group's declared size before
/// decoding it; writers use far fewer (this crate 131 072, DuckDB 122 880, Spark ~1 M).
pub const MAX_GROUP_ROWS: i64 = 1 << 24;

/// Values one column chunk may declare (a list column holds several per row).
pub const MAX_CHUNK_VALUES: i64 = 1 << 26;

/// Why a footer was refused; `at` is a byte offset into the footer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("byte {at}: {what}")]
pub struct FooterError {
    pub at: usize,
    pub what: &'static str,
}

/// Where a column chunk's pages lie in the file: from the first page header, `len` bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Chunk {
    pub start: i64,
    pub len: i64,
}

/// Checks the bytes of a Parquet footer: one Thrift struct (`FileMetaData`). Besides the
/// wire format, the row counts: each row group within [`MAX_GROUP_ROWS`], each column
/// chunk within [`MAX_CHUNK_VALUES`], and the file's total equal to its row groups' sum.
/// Returns where each column chunk's pages are, for [`check_page_header`].
pub fn check(footer: &[u8]) -> Result<Vec<Chunk>, FooterError> {
    let mut w = Walk::new(footer);
    w.value(STRUCT, 0, Kind::FileMetaData)?;
    w.end_chunk();
    match w.file_rows {
        Some(n) if i128::from(n) != w.group_rows => Err(FooterError {
            at: 0,
            what: "the file's row count is not the sum of its row groups'",
        }),
        _ => Ok(w.chunks),
    }
}

/// Checks the page header at the start of `bytes` (a column chunk's pages follow one
/// another, each a header then its data): the wire format, and value counts within
/// [`MAX_CHUNK_VALUES`]. Returns the header's length and the page data's length. Fails
/// with `at == bytes.len()` when the header runs past `bytes`: read more and try again.
pub fn check_page_header(bytes: &[u8]) -> Result<(usize, usize), FooterError> {
    let mut w = Walk::new(bytes);
    w.value(STRUCT, 0, Kind::PageHeader)?;
    let data =
        usize::try_from(w.page_data).map_err(|_| w.fail("a page declares a negative size"))?;
    Ok((w.at, data))
}

/// The structs whose counts are checked; every other struct is `Other`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    FileMetaData,
    RowGroup,
    ColumnChunk,
    ColumnMetaData,
    PageHeader,
    /// `DataPageHeader`, `DictionaryPageHeader` and `DataPageHeaderV2`: field 1 is
    /// `num_values` in all three (and 2, 3 `num_nulls`, `num_rows` in the last).
    PageCounts,
    Other,
}

impl Kind {
    /// The kind of the struct (or list of structs) held by field `id` of a `self`.
    fn child(self, id: i64) -> Kind {
        match (self, id) {
            (Kind::FileMetaData, 4) => Kind::RowGroup,
            (Kind::RowGroup, 1) => Kind::ColumnChunk,
            (Kind::ColumnChunk, 3) => Kind::ColumnMetaData,
            (Kind::PageHeader, 5 | 7 | 8) => Kind::PageCounts,
            _ => Kind::Other,
        }
    }
}

const BOOL_TRUE: u8 = 1;
const BOOL_FALSE: u8 = 2;
const BYTE: u8 = 3;
const I16: u8 = 4;
const I32: u8 = 5;
const I64: u8 = 6;
const DOUBLE: u8 = 7;
const BINARY: u8 = 8;
const LIST: u8 = 9;
const SET: u8 = 10;
const MAP: u8 = 11;
const STRUCT: u8 = 12;

struct Walk<'a> {
    buf: &'a [u8],
    at: usize,
    file_rows: Option<i64>,
    group_rows: i128,
    /// The column chunks found so far, and the one being read (data page offset,
    /// dictionary page offset, compressed size).
    chunks: Vec<Chunk>,
    chunk: [Option<i64>; 3],
    /// A page header's `compressed_page_size`.
    page_data: i64,
}

impl<'a> Walk<'a> {
    fn new(buf: &'a [u8]) -> Walk<'a> {
        Walk {
            buf,
            at: 0,
            file_rows: None,
            group_rows: 0,
            chunks: Vec::new(),
            chunk: [None; 3],
            page_data: -1,
        }
    }

    /// Records the column chunk whose metadata was just read, if any.
    fn end_chunk(&mut self) {
        if let [Some(data), dictionary, Some(len)] = std::mem::take(&mut self.chunk) {
            let start = dictionary.filter(|&d| d > 0 && d < data).unwrap_or(data);
            self.chunks.push(Chunk { start, len });
        }
    }
    fn fail(&self, what: &'static str) -> FooterError {
        FooterError { at: self.at, what }
    }

    fn left(&self) -> usize {
        self.buf.len() - self.at
    }

    fn byte(&mut self) -> Result<u8, FooterError> {
        let b = *self
            .buf
            .get(self.at)
            .ok_or_else(|| self.fail("the footer ends inside a value"))?;
        self.at += 1;
        Ok(b)
    }

    fn skip(&mut self, n: usize) -> Result<(), FooterError> {
        if n > self.left() {
            return Err(self.fail("a value runs past the end of the footer"));
        }
        self.at += n;
        Ok(())
    }

    fn varint(&mut self) -> Result<u64, FooterError> {
        let mut v = 0u64;
        for shift in (0..70).step_by(7) {
            let b = self.byte()?;
            v |= u64::from(b & 0x7f) << shift.min(63);
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(self.fail("a variable-length integer is over 10 bytes"))
    }

    /// A count of elements, each at least one byte: more than the bytes left is a lie.
    fn count(&mut self, n: u64) -> Result<usize, FooterError> {
        usize::try_from(n)
            .ok()
            .filter(|&n| n <= self.left())
            .ok_or_else(|| self.fail("a list or map declares more elements than bytes left"))
    }

    /// An integer field `id` of a struct of kind `kind`, checked where it is a count.
    fn integer(&mut self, kind: Kind, id: i64) -> Result<(), FooterError> {
        let raw = self.varint()?;
        let v = (raw >> 1) as i64 ^ -((raw & 1) as i64);
        let within = |max: i64| (0..=max).contains(&v);
        match (kind, id) {
            (Kind::FileMetaData, 3) if v < 0 => Err(self.fail("a negative row count")),
            (Kind::FileMetaData, 3) => {
                self.file_rows = Some(v);
                Ok(())
            }
            (Kind::RowGroup, 3) if !within(MAX_GROUP_ROWS) => {
                Err(self.fail("a row group declares more rows than any writer puts in one"))
            }
            (Kind::RowGroup, 3) => {
                self.group_rows += i128::from(v);
                Ok(())
            }
            (Kind::ColumnMetaData, 5) if !within(MAX_CHUNK_VALUES) => {
                Err(self.fail("a column chunk declares more values than any writer puts in one"))
            }
            (Kind::ColumnMetaData, 7 | 9 | 11) if v < 0 => {
                Err(self.fail("a negative size or offset"))
            }
            (Kind::ColumnMetaData, 7 | 9 | 11) => {
                let slot = match id {
                    9 => 0,
                    11 => 1,
                    _ => 2,
                };
                self.chunk[slot] = Some(v);
                Ok(())
            }
            (Kind::PageHeader, 2 | 3) if v < 0 => Err(self.fail("a page declares a negative size")),
            (Kind::PageHeader, 3) => {
                self.page_data = v;
                Ok(())
            }
            (Kind::PageCounts, 1..=3) if !within(MAX_CHUNK_VALUES) => {
                Err(self.fail("a page declares a value count out of range"))
            }
            _ => Ok(()),
        }
    }

    /// An element of a list, set or map: a bool or byte takes one byte there.
    fn element(&mut self, ty: u8, depth: usize, kind: Kind) -> Result<(), FooterError> {
        if matches!(ty, BOOL_TRUE | BOOL_FALSE | BYTE) {
            self.skip(1)
        } else {
            self.value(ty, depth, kind)
        }
    }

    fn value(&mut self, ty: u8, depth: usize, kind: Kind) -> Result<(), FooterError> {
        if depth > MAX_DEPTH {
            return Err(self.fail("values nested too deep"));
        }
        match ty {
            // As a struct field the value is in the type; as a list element, one byte.
            BOOL_TRUE | BOOL_FALSE | BYTE => Ok(()),
            I16 | I32 | I64 => self.varint().map(drop),
            DOUBLE => self.skip(8),
            BINARY => {
                let len = self.varint()?;
                let len = usize::try_from(len).map_err(|_| self.fail("a huge binary value"))?;
                self.skip(len)
            }
            LIST | SET => {
                let head = self.byte()?;
                let short = u64::from(head >> 4);
                let n = if short == 15 { self.varint()? } else { short };
                let n = self.count(n)?;
                let elem = head & 0x0f;
                for _ in 0..n {
                    self.element(elem, depth + 1, kind)?;
                }
                Ok(())
            }
            MAP => {
                let n = self.varint()?;
                let n = self.count(n)?;
                if n == 0 {
                    return Ok(());
                }
                let kinds = self.byte()?;
                for _ in 0..n {
                    for t in [kinds >> 4, kinds & 0x0f] {
                        self.element(t, depth + 1, Kind::Other)?;
                    }
                }
                Ok(())
            }
            STRUCT => {
                let mut id = 0i64;
                loop {
                    let head = self.byte()?;
                    let ty = head & 0x0f;
                    if ty == 0 {
                        if kind == Kind::ColumnMetaData {
                            self.end_chunk();
                        }
                        return Ok(());
                    }
                    id = match head >> 4 {
                        0 => {
                            let raw = self.varint()?;
                            (raw >> 1) as i64 ^ -((raw & 1) as i64)
                        }
                        delta => id + i64::from(delta),
                    };
                    if matches!(ty, I16 | I32 | I64) {
                        self.integer(kind, id)?;
                    } else {
                        self.value(ty, depth + 1, kind.child(id))?;
                    }
                }
            }
            _ => Err(self.fail("an unknown value type")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn well_formed_values_pass() {
        // struct { 1: i32 = 1, 2: list<binary> ["ab"], 3: map<i32,bool>{1: true}, 4: bool true }
        let footer = [
            0x15, 0x02, // field 1, i32, zigzag(1)
            0x19, 0x18, 0x02, b'a', b'b', // field 2, list of 1 binary
            0x1b, 0x01, 0x51, 0x02, 0x01, // field 3, map of 1 (i32 -> bool)
            0x11, // field 4, bool true
            0x00, // stop
        ];
        assert_eq!(check(&footer), Ok(vec![]));
    }

    #[test]
    fn lies_and_truncations_are_refused() {
        for (footer, what) in [
            // a list claiming 2^32 elements in a 9-byte footer
            (
                &[0x19, 0xf8, 0x80, 0x80, 0x80, 0x80, 0x10, 0x00][..],
                "more elements",
            ),
            // a binary of 100 bytes with 2 present
            (&[0x18, 0x64, b'a', b'b', 0x00][..], "past the end"),
            // a struct that never stops
            (&[0x15, 0x02][..], "ends inside"),
            // a varint that never ends
            (
                &[
                    0x15, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                ][..],
                "over 10 bytes",
            ),
            // type 13 does not exist
            (&[0x1d, 0x00][..], "unknown"),
        ] {
            let err = check(footer).expect_err("refused");
            assert!(err.what.contains(what), "{err}");
        }
        // row counts: { 3: num_rows, 4: [ { 3: num_rows } ] }
        let footer = |file: &[u8], group: &[u8]| {
            [&[0x36][..], file, &[0x19, 0x1c, 0x36], group, &[0x00, 0x00]].concat()
        };
        assert_eq!(
            check(&footer(&[0x0a], &[0x0a])),
            Ok(vec![]),
            "5 rows in one group of 5"
        );
        let err = check(&footer(&[0x0c], &[0x0a])).expect_err("6 declared, 5 held");
        assert!(err.what.contains("not the sum"), "{err}");
        let err = check(&footer(&[0x0a], &[0x80, 0x80, 0x80, 0x80, 0x08])).expect_err("2^30");
        assert!(err.what.contains("more rows"), "{err}");
        // page headers: { 3: compressed size 4, 5: { 1: num_values } }
        let page = |values: &[u8]| [&[0x35, 0x08, 0x2c, 0x15][..], values, &[0x00, 0x00]].concat();
        assert_eq!(check_page_header(&page(&[0x14])), Ok((7, 4)), "10 values");
        let err = check_page_header(&page(&[0x01])).expect_err("-1 values");
        assert!(err.what.contains("value count"), "{err}");
        let err = check_page_header(&page(&[0x14])[..4]).expect_err("cut");
        assert_eq!(err.at, 4, "{err}");
        // 100 nested structs
        let mut deep = vec![0x1c; 100];
        deep.extend(vec![0x00; 101]);
        assert!(check(&deep).is_err_and(|e| e.what.contains("too deep")));
    }
}
