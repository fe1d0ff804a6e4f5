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
    /// Tag tests alone, no benefit, no prefilter words: the tag words decide the pair.
    pub tags_decide: bool,
}

/// What ranking a pair reads of its measure, beside the entry: kept apart, so that the
/// sweep's entries stay small, and out of the large compiled measure, so that ranking 145
/// pairs touches two cache lines per few measures.
#[derive(Debug, Clone, Copy)]
pub struct RankTraits {
    /// The conditions that narrow the audience: all but tag tests on kind and ownership.
    pub narrow: u64,
    pub auto_grant: bool,
    /// Whether the benefit's amount is cash, which pushes are ranked by.
    pub cash: bool,
}

/// A bitset word in which the base group requires bits (`has`) and forbids bits (`lacks`).
#[derive(Debug, Clone, Copy)]
pub struct PreWord {
    pub word: usize,
    pub required: usize,
    pub forbidden: usize,
}

/// One tag test on one bitset word: the condition holds when the word shares a bit with
/// `mask`, or, for `lacks`, when it shares none. An `any` over tags in several words is one
/// test per word, each setting the same condition, so that the tests of a pair are a
/// straight run of word operations without a branch on the kind of test.
#[derive(Debug, Clone, Copy)]
pub struct WordTest {
    pub mask: usize,
    pub word: u32,
    pub condition: u8,
    pub lacks: bool,
}

/// A `when` clause: its condition index and group.
#[derive(Debug, Clone, Copy)]
pub struct WhenRef {
    pub condition: u8,
    pub group: u8,
}

#[derive(Debug, Clone, Default)]
pub struct Program {
    pub entries: Vec<Entry>,
    /// One per entry.
    pub ranking: Vec<RankTraits>,
    prefilter: Vec<PreWord>,
    tags: Vec<WordTest>,
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
                let (bits, lacks) = match &c.kind {
                    CondKind::Has(b) => (std::slice::from_ref(b), false),
                    CondKind::Lacks(b) => (std::slice::from_ref(b), true),
                    CondKind::Any(bs) => (bs.as_slice(), false),
                    CondKind::When(_) => {
                        p.whens.push(WhenRef {
                            condition: i as u8,
                            group: c.group as u8,
                        });
                        continue;
                    }
                };
                tag_conditions |= 1 << i;
                let tests0 = p.tags.len();
                for &bit in bits {
                    let (word, mask) = ((bit / WORD) as u32, 1 << (bit % WORD));
                    match p.tags[tests0..].iter_mut().find(|t| t.word == word) {
                        Some(t) => t.mask |= mask,
                        None => p.tags.push(WordTest {
                            mask,
                            word,
                            condition: i as u8,
                            lacks,
                        }),
                    }
                }
                if c.group == 0 && !matches!(c.kind, CondKind::Any(_)) {
                    let word = bits[0] / WORD;
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
                    let mask = 1 << (bits[0] % WORD);
                    if lacks {
                        p.prefilter[at].forbidden |= mask;
                    } else {
                        p.prefilter[at].required |= mask;
                    }
                }
            }
            // The prefilter decides a pair only on two certain failures: a measure with
            // fewer than two base `has`/`lacks` tests could never be decided by it, and one
            // that tag tests alone decide costs no more to decide in full. A measure of tag
            // tests with alternatives keeps its prefilter words when it has some, since a
            // prefiltered pair has no statuses.
            let base_words = cm
                .conditions
                .iter()
                .filter(|c| c.group == 0 && matches!(c.kind, CondKind::Has(_) | CondKind::Lacks(_)))
                .count();
            let tags_decide = p.whens.len() == whens0
                && cm.benefit.is_none()
                && (cm.groups == 1 || base_words < 2);
            if base_words < 2 || tags_decide {
                p.prefilter.truncate(pre0);
            }
            p.ranking.push(RankTraits {
                narrow: !cm.broad,
                auto_grant: m.auto_grant(),
                cash: m.cash(Some(0.0)).is_some(),
            });
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
    pub fn tags(&self, e: &Entry) -> &[WordTest] {
        &self.tags[range(e.tags)]
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
