//! Stage 3c: the whole catalog as one compact program for the evaluator's inner loop.
//!
//! A [`CompiledMeasure`] is large (texts, rhai ASTs, labels) and scattered over the heap;
//! walking 145 of them per enterprise costs a cache miss or more per pair. Here every
//! measure is a small fixed-size [`Entry`] in one array, with its prefilter words, tag
//! tests and group masks in three more flat arrays, so that deciding the common pair
//! touches a few contiguous cache lines. `when` clauses and benefits are still read from
//! the compiled measure, and only when the tag tests leave them to decide.

use std::ops::Range;

use crate::compile::CompiledMeasure;

use crate::compile::CondKind;
use crate::dates;

const WORD: usize = usize::BITS as usize;

/// One measure.
#[derive(Debug, Clone, Copy)]
pub struct Entry {
    /// The effective window as day numbers, both ends inclusive.
    pub from: i64,
    pub until: i64,
    prefilter: (u32, u32),
    tags: (u32, u32),
    groups: (u32, u32),
    whens: (u32, u32),
    /// The conditions decided by tag tests.
    pub tag_conditions: u64,
    /// The conditions of the base group (also the first of `groups`, kept here so that a
    /// measure without alternatives reads no other array).
    pub base_group: u64,
    /// The conditions that test only identity tags: never a near miss.
    pub identity: u64,
    pub has_benefit: bool,
    /// One group of tag tests alone, no benefit: the tag words decide the pair.
    pub tags_decide: bool,
}

/// A bitset word in which the base group requires bits (`has`) and forbids bits (`lacks`).
#[derive(Debug, Clone, Copy)]
pub struct PreWord {
    pub word: usize,
    pub required: usize,
    pub forbidden: usize,
}

/// One tag test: the condition it decides, and how.
#[derive(Debug, Clone, Copy)]
pub struct TagTest {
    pub condition: u8,
    pub kind: TagKind,
    /// The bit for `Has` and `Lacks`; for `Any`, the start of its bits in `any_bits`.
    pub bit: u32,
    /// For `Any`, the number of its bits.
    pub len: u32,
}

/// A `when` clause: its condition index and group.
#[derive(Debug, Clone, Copy)]
pub struct WhenRef {
    pub condition: u8,
    pub group: u8,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TagKind {
    Has,
    Any,
    Lacks,
}

#[derive(Debug, Clone, Default)]
pub struct Program {
    pub entries: Vec<Entry>,
    prefilter: Vec<PreWord>,
    tags: Vec<TagTest>,
    any_bits: Vec<u32>,
    whens: Vec<WhenRef>,
    /// For each group of each measure, the bits of its conditions.
    groups: Vec<u64>,
}

#[inline]
fn range(r: (u32, u32)) -> Range<usize> {
    r.0 as usize..r.1 as usize
}

fn span(start: usize, end: usize) -> (u32, u32) {
    (start as u32, end as u32)
}

impl Program {
    /// Measures are at most 64 conditions (the checker's limit), so a condition index fits
    /// a `u8` and a group mask a `u64`.
    pub fn new(measures: &[CompiledMeasure]) -> Program {
        let mut p = Program::default();
        for cm in measures {
            let m = &cm.measure;
            let (pre0, tags0, groups0, whens0) = (
                p.prefilter.len(),
                p.tags.len(),
                p.groups.len(),
                p.whens.len(),
            );
            p.groups.extend(std::iter::repeat_n(0, cm.groups));
            let mut tag_conditions = 0;
            for (i, c) in cm.conditions.iter().enumerate() {
                p.groups[groups0 + c.group] |= 1 << i;
                let (kind, bit, len) = match &c.kind {
                    CondKind::Has(b) => (TagKind::Has, *b, 0),
                    CondKind::Lacks(b) => (TagKind::Lacks, *b, 0),
                    CondKind::Any(bs) => {
                        let start = p.any_bits.len();
                        p.any_bits.extend(bs.iter().map(|&b| b as u32));
                        (TagKind::Any, start, bs.len())
                    }
                    CondKind::When(_) => {
                        p.whens.push(WhenRef {
                            condition: i as u8,
                            group: c.group as u8,
                        });
                        continue;
                    }
                };
                tag_conditions |= 1 << i;
                p.tags.push(TagTest {
                    condition: i as u8,
                    kind,
                    bit: bit as u32,
                    len: len as u32,
                });
                if c.group == 0 && kind != TagKind::Any {
                    let word = bit / WORD;
                    let at = match p.prefilter[pre0..].iter().position(|w| w.word == word) {
                        Some(at) => pre0 + at,
                        None => {
                            p.prefilter.push(PreWord {
                                word,
                                required: 0,
                                forbidden: 0,
                            });
                            p.prefilter.len() - 1
                        }
                    };
                    let mask = 1 << (bit % WORD);
                    if kind == TagKind::Has {
                        p.prefilter[at].required |= mask;
                    } else {
                        p.prefilter[at].forbidden |= mask;
                    }
                }
            }
            let tags_decide = cm.groups == 1 && p.whens.len() == whens0 && cm.benefit.is_none();
            // The prefilter decides a pair only on two certain failures: a measure with
            // fewer than two base `has`/`lacks` tests could never be decided by it, and one
            // that tag tests alone decide costs no more to decide in full.
            let base_words = cm
                .conditions
                .iter()
                .filter(|c| c.group == 0 && matches!(c.kind, CondKind::Has(_) | CondKind::Lacks(_)))
                .count();
            if base_words < 2 || tags_decide {
                p.prefilter.truncate(pre0);
            }
            p.entries.push(Entry {
                from: m.valid_from.map_or(i64::MIN, dates::to_days),
                until: m.valid_until.map_or(i64::MAX, dates::to_days),
                prefilter: span(pre0, p.prefilter.len()),
                tags: span(tags0, p.tags.len()),
                groups: span(groups0, p.groups.len()),
                whens: span(whens0, p.whens.len()),
                tag_conditions,
                base_group: p.groups[groups0],
                identity: cm.identity,
                has_benefit: cm.benefit.is_some(),
                tags_decide,
            });
        }
        p
    }

    #[inline]
    pub fn prefilter(&self, e: &Entry) -> &[PreWord] {
        &self.prefilter[range(e.prefilter)]
    }

    #[inline]
    pub fn tags(&self, e: &Entry) -> &[TagTest] {
        &self.tags[range(e.tags)]
    }

    #[inline]
    pub fn any_bits(&self, t: &TagTest) -> &[u32] {
        &self.any_bits[t.bit as usize..(t.bit + t.len) as usize]
    }

    /// The `when` clauses of a measure, in condition order.
    #[inline]
    pub fn whens(&self, e: &Entry) -> &[WhenRef] {
        &self.whens[range(e.whens)]
    }

    /// The group masks of a measure's alternatives.
    #[inline]
    pub fn alternatives(&self, e: &Entry) -> &[u64] {
        &self.groups(e)[1..]
    }

    /// The group masks of a measure: the base group first, then each alternative.
    #[inline]
    pub fn groups(&self, e: &Entry) -> &[u64] {
        &self.groups[range(e.groups)]
    }
}
