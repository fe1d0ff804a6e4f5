//! Tag interning: every tag a catalog tests gets a bit; a profile becomes a bitset.

use fixedbitset::FixedBitSet;
use rustc_hash::FxHashMap;

use crate::profile::schema::Schema;

/// The tags a catalog tests, each with its bit.
#[derive(Debug, Clone, Default)]
pub struct Interner {
    // Hashed, not ordered: a profile looks up every tag and every prefix of a
    // hierarchical one, and nothing iterates the map.
    bits: FxHashMap<String, usize>,
}

impl Interner {
    pub fn intern(&mut self, tag: &str) -> usize {
        let next = self.bits.len();
        *self.bits.entry(tag.to_owned()).or_insert(next)
    }

    pub fn bit(&self, tag: &str) -> Option<usize> {
        self.bits.get(tag).copied()
    }

    pub fn len(&self) -> usize {
        self.bits.len()
    }

    pub fn is_empty(&self) -> bool {
        self.bits.is_empty()
    }

    /// The bitset of a profile's tags. In a hierarchical namespace a tag also sets the
    /// bits of every tested tag it lies below (`industry:C1713` sets `industry:C17`).
    pub fn tagset<'a>(
        &self,
        schema: &Schema,
        tags: impl IntoIterator<Item = &'a String>,
    ) -> FixedBitSet {
        let mut set = FixedBitSet::with_capacity(self.bits.len());
        for tag in tags {
            let hierarchical = tag
                .split_once(':')
                .and_then(|(ns, _)| schema.namespaces.get(ns))
                .is_some_and(|ns| ns.hierarchical);
            if hierarchical {
                let value_start = tag.find(':').map_or(tag.len(), |i| i + 1);
                for (i, _) in tag
                    .char_indices()
                    .skip(value_start)
                    .chain([(tag.len(), ' ')])
                {
                    if i > value_start
                        && let Some(b) = self.bit(&tag[..i])
                    {
                        set.insert(b);
                    }
                }
            } else if let Some(b) = self.bit(tag) {
                set.insert(b);
            }
        }
        set
    }
}
