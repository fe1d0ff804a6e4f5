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

/// Why a footer was refused; `at` is a byte offset into the footer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("corrupt Parquet footer at byte {at}: {what}")]
pub struct FooterError {
    pub at: usize,
    pub what: &'static str,
}

/// Checks the bytes of a Parquet footer: one Thrift struct (`FileMetaData`).
pub fn check(footer: &[u8]) -> Result<(), FooterError> {
    let mut w = Walk { buf: footer, at: 0 };
    w.value(STRUCT, 0)
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
}

impl Walk<'_> {
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

    fn value(&mut self, ty: u8, depth: usize) -> Result<(), FooterError> {
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
                    if matches!(elem, BOOL_TRUE | BOOL_FALSE | BYTE) {
                        self.skip(1)?;
                    } else {
                        self.value(elem, depth + 1)?;
                    }
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
                        if matches!(t, BOOL_TRUE | BOOL_FALSE | BYTE) {
                            self.skip(1)?;
                        } else {
                            self.value(t, depth + 1)?;
                        }
                    }
                }
                Ok(())
            }
            STRUCT => loop {
                let head = self.byte()?;
                let ty = head & 0x0f;
                if ty == 0 {
                    return Ok(());
                }
                if head >> 4 == 0 {
                    self.varint()?; // a long-form field id
                }
                self.value(ty, depth + 1)?;
            },
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
        assert_eq!(check(&footer), Ok(()));
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
        // 100 nested structs
        let mut deep = vec![0x1c; 100];
        deep.extend(vec![0x00; 101]);
        assert!(check(&deep).is_err_and(|e| e.what.contains("too deep")));
    }
}
