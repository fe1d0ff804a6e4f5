//! [`MeasureId`]: how answers name a measure, whatever catalog version they came from.

use std::fmt;

/// A measure's id as its file declares it: `M` and three digits (`M017`), the form the
/// validator enforces. Small and `Copy`, so that every result can carry it; compare it
/// with a `&str` (`r.measure == "M017"`).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MeasureId([u8; 4]);

impl MeasureId {
    /// The id if `s` has the measure id form `M` + three digits.
    pub fn new(s: &str) -> Option<MeasureId> {
        match s.as_bytes() {
            &[b'M', a, b, c] if [a, b, c].iter().all(u8::is_ascii_digit) => {
                Some(MeasureId([b'M', a, b, c]))
            }
            _ => None,
        }
    }

    /// The id as text, e.g. `M017`.
    pub fn as_str(&self) -> &str {
        // `new` admits four ASCII bytes only, so this never fails.
        std::str::from_utf8(&self.0).unwrap_or("M???")
    }
}

impl fmt::Display for MeasureId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for MeasureId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<str> for MeasureId {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for MeasureId {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl serde::Serialize for MeasureId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_measure_id_form_is_an_id() {
        let id = MeasureId::new("M017").expect("an id");
        assert_eq!(id.as_str(), "M017");
        assert_eq!(id, "M017");
        assert_eq!(id.to_string(), "M017");
        for bad in ["", "M17", "M0170", "m017", "MA17", "M01７", "N017"] {
            assert_eq!(MeasureId::new(bad), None, "{bad}");
        }
        assert!(MeasureId::new("M009") < MeasureId::new("M010"));
    }
}
