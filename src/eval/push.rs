//! 精准推送 for one enterprise: the order its pushes are ranked in ([`PushRank`]), and
//! its near misses grouped into unlocks ([`UnlockKeys`], [`unlocks`]) — one place that
//! the batch, `explain` and every embedding read, so that they tell an enterprise the
//! same thing.

use std::cmp::Reverse;

use super::*;
use crate::compile::unlock_keys::UnlockKeys;
use crate::rules::ir::Measure;

/// How many days ahead a closing effective window moves a push up (the service
/// calendar's period).
pub const CLOSING_SOON_DAYS: i64 = 30;

/// How an enterprise's pushes are ordered, as of a date: granted without application
/// first, then the conditions that held beyond kind and ownership (how specific it is to
/// this enterprise), the cash amount, a window closing soon, newly eligible, and the
/// measure's place in the catalog (its id).
#[derive(Debug, Clone, Copy)]
pub struct PushRank {
    /// A measure whose effective window ends on or before this day is closing soon.
    closing_by: Option<Date>,
    /// The same day as a day number, to compare with a program entry's window.
    closing_by_day: Option<i64>,
}

/// The sort key of one push: smaller is better.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct PushKey(bool, Reverse<u32>, Reverse<Cash>, bool, bool, usize);

impl PushRank {
    /// The ranking of pushes as of `as_of`.
    pub fn new(as_of: Date) -> PushRank {
        let closing_by = as_of
            .checked_add(jiff::Span::new().days(CLOSING_SOON_DAYS))
            .ok();
        PushRank {
            closing_by,
            closing_by_day: closing_by.map(dates::to_days),
        }
    }

    /// The key of measure `index` of `catalog`, whose conditions `passed` held, with
    /// its amount; `new` when the pair was not eligible in the previous run.
    pub fn key(
        &self,
        catalog: &Catalog,
        index: usize,
        passed: u64,
        amount: Option<f64>,
        new: bool,
    ) -> PushKey {
        let m = &catalog.measures[index].measure;
        PushKey(
            !m.auto_grant(),
            Reverse(specificity(catalog, index, passed)),
            Reverse(Cash(m.cash(amount))),
            !self.closing_soon(m),
            !new,
            index,
        )
    }
}

impl PushRank {
    /// Whether the measure's effective window ends within [`CLOSING_SOON_DAYS`].
    pub fn closing_soon(&self, m: &Measure) -> bool {
        match (m.valid_until, self.closing_by) {
            (Some(until), Some(by)) => until <= by,
            _ => false,
        }
    }

    /// [`PushRank::closing_soon`] of the measure whose entry is `e`: its window's end is
    /// the same day as a day number (`i64::MAX` when it has none).
    pub(super) fn entry_closing_soon(&self, e: &Entry) -> bool {
        self.closing_by_day.is_some_and(|by| e.until <= by)
    }
}

/// How specific measure `index` is to an enterprise whose conditions `passed` held: the
/// conditions that narrow the audience (all but tag tests on kind and ownership, which
/// every other market entity shares) that held in the groups that hold (the base group
/// and every alternative met), so that an alternative it does not meet adds nothing.
///
/// Inlined: `recommend` reads it for every measure, and most measures are one group.
#[inline(always)]
pub fn specificity(catalog: &Catalog, index: usize, passed: u64) -> u32 {
    let program = &catalog.program;
    let e = &program.entries[index];
    let holds = |g: u64| if g & !passed == 0 { g } else { 0 };
    let held = program
        .alternatives(e)
        .iter()
        .fold(holds(e.base_group), |mask, &g| mask | holds(g));
    // Most pairs hold no group: skip the popcount, which the baseline x86-64 target
    // does in software.
    match passed & held & program.ranking[index].narrow {
        0 => 0,
        narrowing => narrowing.count_ones(),
    }
}

/// A cash amount ordered as a number, none below every amount.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Cash(Option<f64>);

impl Eq for Cash {}

impl PartialOrd for Cash {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Cash {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        match (self.0, other.0) {
            (Some(a), Some(b)) => a.total_cmp(&b),
            (a, b) => a.is_some().cmp(&b.is_some()),
        }
    }
}

/// One step an enterprise could take, and the pushed measures it would open.
#[derive(Debug, Clone, PartialEq)]
pub struct Unlock {
    /// The condition's key in [`UnlockKeys`].
    pub key: u32,
    /// Measure indices, in catalog order.
    pub measures: Vec<u16>,
}

/// The enterprise's unlocks, best first, at most `max`: near misses of pushed measures
/// (`(measure, condition)`) grouped by their condition, and the pushed measures that
/// becoming an enterprise would open (`conversions`) as one more; ranked by how many
/// measures each opens, then by key (the catalog order of the condition's first
/// appearance, 个转企 last).
pub fn unlocks(
    keys: &UnlockKeys,
    pushed: &[bool],
    near_misses: &[(u16, u8)],
    conversions: &[u16],
    max: usize,
) -> Vec<Unlock> {
    let mut groups: Vec<Unlock> = Vec::new();
    let steps = near_misses
        .iter()
        .map(|&(m, c)| (m, keys.key(m as usize, c as usize)))
        .chain(conversions.iter().map(|&m| (m, keys.conversion())));
    for (m, key) in steps {
        if !pushed[m as usize] {
            continue;
        }
        match groups.iter_mut().find(|g| g.key == key) {
            Some(g) => g.measures.push(m),
            None => groups.push(Unlock {
                key,
                measures: vec![m],
            }),
        }
    }
    groups.sort_by(|a, b| {
        b.measures
            .len()
            .cmp(&a.measures.len())
            .then(a.key.cmp(&b.key))
    });
    groups.truncate(max);
    groups
}

impl Catalog {
    /// Whether becoming an enterprise (个转企) alone would make an individual business
    /// eligible for measure `index`: every failed condition is one that tests
    /// `kind:enterprise`, and with those met the pair would be decided eligible. A pair
    /// whose other conditions were not all evaluated is not counted.
    pub fn opens_on_conversion(&self, index: usize, marks: &Marks) -> bool {
        let conversion = self.measures[index].conversion;
        if marks.failed == 0 || marks.failed & !conversion != 0 {
            return false;
        }
        let e = &self.program.entries[index];
        let met = Marks {
            passed: marks.passed | marks.failed,
            failed: 0,
            ..*marks
        };
        let alternatives = self.program.alternatives(e);
        decide_marks(e.base_group, alternatives, e.identity, &met).0 == Outcome::Eligible
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn near_misses_on_one_condition_become_one_unlock_ranked_by_what_it_opens() {
        let catalog = Catalog::builtin().expect("built-in catalog");
        let keys = &catalog.unlock_keys;
        // The condition shared by the most pushed measures, as (measure, condition) pairs.
        let mut by_key: HashMap<u32, Vec<(u16, u8)>> = HashMap::new();
        for (i, cm) in catalog.measures.iter().enumerate() {
            if !cm.measure.pushed() {
                continue;
            }
            for c in 0..cm.conditions.len() {
                let key = keys.key(i, c);
                by_key.entry(key).or_default().push((i as u16, c as u8));
            }
        }
        let (_, shared) = by_key
            .into_iter()
            .max_by_key(|(key, pairs)| (pairs.len(), std::cmp::Reverse(*key)))
            .expect("a pushed measure");
        assert!(shared.len() >= 2, "{shared:?}");
        let other = catalog
            .measures
            .iter()
            .position(|cm| cm.measure.pushed() && cm.measure.conditions().count() > 1)
            .expect("a pushed measure");
        let mut near = shared.clone();
        near.push((other as u16, 1));
        near.sort_unstable();
        let pushed = catalog.pushed();
        let got = unlocks(keys, pushed, &near, &[], 3);
        assert_eq!(got[0].measures.len(), shared.len());
        assert_eq!(
            got[0].measures,
            shared.iter().map(|&(m, _)| m).collect::<Vec<_>>()
        );
        assert!(!keys.label(got[0].key).is_empty());
        assert_eq!(unlocks(keys, pushed, &near, &[], 1).len(), 1, "capped");
        assert!(unlocks(keys, pushed, &near, &[], 0).is_empty());
        // 个转企 is one unlock, whatever number of measures it opens, and only pushed
        // measures count.
        let conversions: Vec<u16> = (0..catalog.measures.len() as u16).collect();
        let got = unlocks(keys, pushed, &[], &conversions, 3);
        assert_eq!(got.len(), 1);
        assert_eq!(keys.label(got[0].key), crate::names::CONVERSION_UNLOCK);
        assert_eq!(got[0].measures.len(), pushed.iter().filter(|&&p| p).count());
    }

    #[test]
    fn a_newly_eligible_push_ranks_first_among_equals_and_only_there() {
        let catalog = Catalog::builtin().expect("built-in catalog");
        let rank = PushRank::new(jiff::civil::date(2026, 11, 26));
        // Two pushed measures of one group with one condition beyond kind and ownership, every
        // condition held, no amount: equal but for their place in the catalog.
        let all = |i: usize| (1u64 << catalog.measures[i].conditions.len()) - 1;
        let plain: Vec<usize> = (0..catalog.measures.len())
            .filter(|&i| {
                let cm = &catalog.measures[i];
                cm.measure.pushed()
                    && !cm.measure.auto_grant()
                    && cm.groups == 1
                    && (all(i) & !cm.broad).count_ones() == 1
                    && cm.measure.valid_until.is_none()
            })
            .collect();
        assert!(plain.len() >= 2, "{plain:?}");
        let (a, b) = (plain[0], plain[1]);
        let key = |i: usize, new: bool| rank.key(&catalog, i, all(i), None, new);
        assert!(key(a, false) < key(b, false), "by catalog order");
        assert!(key(b, true) < key(a, false), "newly eligible first");
        // A more specific measure stays ahead of a newly eligible one.
        let specific = (0..catalog.measures.len())
            .find(|&i| {
                let cm = &catalog.measures[i];
                cm.measure.pushed()
                    && !cm.measure.auto_grant()
                    && cm.groups == 1
                    && (all(i) & !cm.broad).count_ones() >= 2
            })
            .expect("a pushed measure of two conditions beyond kind and ownership");
        assert!(rank.key(&catalog, specific, all(specific), None, false) < key(b, true));
    }

    #[test]
    fn specificity_leaves_out_kind_and_ownership_only() {
        let catalog = Catalog::builtin().expect("built-in catalog");
        let index = |id: &str| catalog.measures.iter().position(|cm| cm.measure.id == id);
        // M084: 企业, 平台企业 — the platform is what narrows, though it is identity
        // (never a near miss).
        let m084 = index("M084").expect("M084");
        let all = (1u64 << catalog.measures[m084].conditions.len()) - 1;
        assert_eq!(catalog.measures[m084].conditions.len(), 2);
        assert_eq!(specificity(&catalog, m084, all), 1);
        assert_eq!(
            catalog.measures[m084].identity, all,
            "every condition is identity"
        );
    }
}
