//! Enterprises as the evaluators read them: a struct-of-arrays batch.
//!
//! For each enterprise: its interned tags as bitset words, a presence bit per schema field,
//! and a 64-bit word per field holding the value (`i64` for integers and dates as day
//! numbers, the `f64` bits for numbers, 0 or 1 for booleans; the schema says which).
//! Every array is one allocation for the whole batch, so evaluating a pair allocates
//! nothing; a [`Row`] is a borrowed view of one enterprise.

use fixedbitset::FixedBitSet;
use rayon::prelude::*;

use crate::compile::catalog::Catalog;
use crate::dates;
use crate::profile::enterprise::FieldValue;
use crate::profile::enterprise::Profile;

const WORD: usize = usize::BITS as usize;

/// One row's tag words, presence words and values, and its profile, while filling.
type RowSlices<'a> = (
    ((&'a mut [usize], &'a mut [usize]), &'a mut [u64]),
    &'a Profile,
);

/// One enterprise inside a [`Columns`] batch.
#[derive(Debug, Clone, Copy)]
pub struct Row<'a> {
    pub tags: &'a [usize],
    pub present: &'a [usize],
    pub values: &'a [u64],
}

impl Row<'_> {
    #[inline]
    pub fn has(&self, bit: usize) -> bool {
        self.tags
            .get(bit / WORD)
            .is_some_and(|w| w & (1 << (bit % WORD)) != 0)
    }

    #[inline]
    pub fn is_present(&self, field: usize) -> bool {
        self.present
            .get(field / WORD)
            .is_some_and(|w| w & (1 << (field % WORD)) != 0)
    }

    /// The raw word of a field; meaningful only when the field is present.
    #[inline]
    pub fn value(&self, field: usize) -> u64 {
        self.values[field]
    }

    /// The tags as a bitset, for rhai's `p.has`.
    pub fn tag_set(&self, bits: usize) -> FixedBitSet {
        FixedBitSet::with_capacity_and_blocks(bits, self.tags.iter().copied())
    }

    pub fn present_set(&self, fields: usize) -> FixedBitSet {
        FixedBitSet::with_capacity_and_blocks(fields, self.present.iter().copied())
    }
}

/// A batch of enterprises, in the order given.
#[derive(Debug, Clone, Default)]
pub struct Columns {
    len: usize,
    tag_words: usize,
    present_words: usize,
    fields: usize,
    tags: Vec<usize>,
    present: Vec<usize>,
    values: Vec<u64>,
}

/// The word a field value is kept in.
pub fn encode(v: &FieldValue) -> u64 {
    match v {
        FieldValue::Number(x) => x.to_bits(),
        FieldValue::Integer(i) => *i as u64,
        FieldValue::Date(d) => dates::to_days(*d) as u64,
        FieldValue::Bool(b) => u64::from(*b),
    }
}

impl Columns {
    pub fn new(catalog: &Catalog, profiles: &[Profile]) -> Columns {
        let fields = catalog.schema.fields.len();
        let tag_words = catalog.interner.len().div_ceil(WORD).max(1);
        let present_words = fields.div_ceil(WORD).max(1);
        // One word per field, and at least one, so that every row has its slices.
        let fields = fields.max(1);
        let n = profiles.len();
        let mut c = Columns {
            len: n,
            tag_words,
            present_words,
            fields,
            tags: vec![0; n * tag_words],
            present: vec![0; n * present_words],
            values: vec![0; n * fields],
        };
        let fill = |(((tags, present), values), p): RowSlices| {
            let set = catalog.interner.tagset(&catalog.schema, &p.tags);
            for (w, b) in tags.iter_mut().zip(set.as_slice()) {
                *w = *b;
            }
            for (name, v) in &p.fields {
                let Some(def) = catalog.schema.field(name) else {
                    continue;
                };
                present[def.index / WORD] |= 1 << (def.index % WORD);
                values[def.index] = encode(v);
            }
        };
        // A handful of profiles (one `recommend`) is not worth waking the thread pool.
        if n < 256 {
            c.tags
                .chunks_mut(tag_words)
                .zip(c.present.chunks_mut(present_words))
                .zip(c.values.chunks_mut(fields))
                .zip(profiles)
                .for_each(fill);
        } else {
            c.tags
                .par_chunks_mut(tag_words)
                .zip(c.present.par_chunks_mut(present_words))
                .zip(c.values.par_chunks_mut(fields))
                .zip(profiles.par_iter())
                .for_each(fill);
        }
        c
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn row(&self, i: usize) -> Row<'_> {
        Row {
            tags: &self.tags[i * self.tag_words..(i + 1) * self.tag_words],
            present: &self.present[i * self.present_words..(i + 1) * self.present_words],
            values: &self.values[i * self.fields..(i + 1) * self.fields],
        }
    }
}
