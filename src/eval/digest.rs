//! What one enterprise is told ([`Digest`]): its ranked pushes up to the cap, its grants,
//! its unlocks and the notices addressed to it — the picture `explain` shows and the
//! batch's `digest` row carries, from the same ranking.

use super::*;

/// How many pushes an enterprise is sent by default (精准推送: the few it can act on).
pub const DEFAULT_MAX_PUSHES: usize = 10;

/// How many unlocks an enterprise is told about by default.
pub const DEFAULT_MAX_UNLOCKS: usize = 3;

/// The most pushes, or unlocks, an enterprise can be told of: the batch keeps a push's
/// rank in a byte. Callers refuse larger caps (`--max-pushes`, `--max-unlocks`, Python).
pub const MAX_TOLD: usize = u8::MAX as usize;

/// What one enterprise is told, as indices into [`Recommendation::results`].
#[derive(Debug, Clone, PartialEq)]
pub struct Digest {
    /// The pushes, best first, at most the cap: eligible (or amount pending) results of
    /// measures that are pushed (`benefit`, `service`).
    pub pushes: Vec<usize>,
    /// Eligible results of pushed measures that the cap held back.
    pub held_back: usize,
    /// Results granted without application (免申即享): eligible with the amount known.
    pub grants: Vec<usize>,
    /// The steps that would open the most pushed measures, best first.
    pub unlocks: Vec<Unlock>,
    /// Results of `notice` measures whose audience includes the enterprise: published
    /// once per measure, not pushed.
    pub notices: Vec<usize>,
}

impl Recommendation {
    /// What the enterprise is told: at most `max_pushes` pushes and `max_unlocks`
    /// unlocks, ranked as the batch ranks them.
    pub fn digest(&self, catalog: &Catalog, max_pushes: usize, max_unlocks: usize) -> Digest {
        let measure = |r: &MeasureResult| &catalog.measures[r.index].measure;
        let eligible =
            |r: &MeasureResult| matches!(r.outcome, Outcome::Eligible | Outcome::AmountPending);
        // The results are ranked: eligible first, in push order.
        let pushable: Vec<usize> = (0..self.results.len())
            .filter(|&i| eligible(&self.results[i]) && measure(&self.results[i]).pushed())
            .collect();
        let kept = pushable.len().min(max_pushes);
        let grants = (0..self.results.len())
            .filter(|&i| {
                let r = &self.results[i];
                r.outcome == Outcome::Eligible && measure(r).auto_grant()
            })
            .collect();
        let notices = (0..self.results.len())
            .filter(|&i| {
                let r = &self.results[i];
                eligible(r) && measure(r).nature == crate::rules::ir::Nature::Notice
            })
            .collect();
        let mut near: Vec<(u16, u8)> = Vec::new();
        let mut conversions: Vec<u16> = Vec::new();
        for r in &self.results {
            if let Some(c) = r.near_miss {
                near.push((r.index as u16, c as u8));
            } else if self.individual_business
                && r.outcome == Outcome::NotEligible
                && catalog.opens_on_conversion(r.index, &r.marks)
            {
                conversions.push(r.index as u16);
            }
        }
        // In catalog order, as the batch gathers them.
        near.sort_unstable();
        conversions.sort_unstable();
        let unlocks = unlocks(
            &catalog.unlock_keys,
            catalog.pushed(),
            &near,
            &conversions,
            max_unlocks,
        );
        Digest {
            pushes: pushable[..kept].to_vec(),
            held_back: pushable.len() - kept,
            grants,
            unlocks,
            notices,
        }
    }
}
