//! What evaluation decides: an [`Outcome`] per pair, a [`Status`] per condition (kept
//! as [`Marks`], four 64-bit masks), the [`MeasureResult`] a caller sees, and [`decide`],
//! the one function every path ends in.

use super::*;

/// What one (enterprise, measure) pair comes to, as of a date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Every condition holds (with an amount when the measure has a benefit).
    Eligible,
    /// Every condition holds, but the benefit's amount needs a field the profile lacks:
    /// the enterprise qualifies and is told so, the amount waits on the data. Never
    /// granted: a grant needs its amount.
    AmountPending,
    /// A condition failed, or the date is outside the effective window.
    NotEligible,
    /// Nothing failed, but a condition needs a field the profile lacks.
    Undetermined,
    /// A script hit a limit or a runtime error; never granted.
    Error,
}

impl Outcome {
    /// The outcome as the outputs write it: `eligible`, `not_eligible`, …
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Eligible => "eligible",
            Outcome::AmountPending => "amount_pending",
            Outcome::NotEligible => "not_eligible",
            Outcome::Undetermined => "undetermined",
            Outcome::Error => "error",
        }
    }
}

/// What became of one condition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// The condition holds.
    Passed,
    /// The condition does not hold.
    Failed,
    /// A field the clause reads is missing from the profile.
    Missing,
    /// Skipped: a tag test of its group (or of the base group) already failed.
    NotEvaluated,
    /// Evaluating the condition raised this error.
    Error(String),
}

/// The result of one (enterprise, measure) pair.
#[derive(Debug, Clone, PartialEq)]
pub struct MeasureResult {
    /// The measure, by id: look it up with [`Catalog::measure`].
    pub measure: MeasureId,
    /// The measure's position in the catalog that produced this result; meaningless
    /// against another catalog version.
    #[doc(hidden)]
    pub index: usize,
    /// The verdict.
    pub outcome: Outcome,
    /// The benefit, after its cap, rounded to 0.01, when eligible and the measure has one.
    pub amount: Option<f64>,
    /// Whether `as_of` is inside the measure's effective window.
    pub in_effect: bool,
    /// What became of each condition (condition `i` is bit `i`); [`MeasureResult::statuses`]
    /// lists them. Masks rather than a list: a result then allocates nothing unless it
    /// has something to report.
    pub marks: Marks,
    /// The message of each condition that raised an error, by condition index.
    pub errors: Vec<(usize, String)>,
    /// Fields whose absence left a condition undetermined or the amount pending, sorted.
    pub missing_fields: Vec<String>,
    /// The condition index whose failure alone stands between the enterprise and the measure.
    pub near_miss: Option<usize>,
    /// The error that made the outcome `error`.
    pub error: Option<String>,
}

impl MeasureResult {
    /// A decided pair with its marks and what it reported; the pair's error text is
    /// taken, not copied.
    pub(super) fn of(
        measure: MeasureId,
        pair: &mut Pair,
        marks: Marks,
        (errors, missing_fields): Reported,
    ) -> MeasureResult {
        MeasureResult {
            measure,
            index: pair.measure,
            outcome: pair.outcome,
            amount: pair.amount,
            in_effect: pair.in_effect,
            marks,
            errors,
            missing_fields,
            near_miss: pair.near_miss,
            error: pair.error.take(),
        }
    }

    /// Labels of the conditions that decided a `not_eligible` outcome.
    pub fn failed_labels<'c>(&self, m: &'c CompiledMeasure) -> Vec<&'c str> {
        if self.outcome != Outcome::NotEligible {
            return Vec::new();
        }
        if !self.in_effect {
            return vec![crate::names::OUT_OF_WINDOW];
        }
        let alts_failed =
            m.groups > 1 && self.marks.alternatives(&group_masks(m)[1..]) == Tri::False;
        m.conditions
            .iter()
            .enumerate()
            .filter(|(i, c)| self.marks.failed & (1 << i) != 0 && (c.group == 0 || alts_failed))
            .map(|(_, c)| c.label.as_str())
            .collect()
    }

    /// The amount when the measure's benefit is counted in yuan (not 亩 or a plot ratio).
    pub fn amount_yuan(&self, m: &crate::rules::ir::Measure) -> Option<f64> {
        m.yuan(self.amount)
    }

    /// Specificity for ranking: how many conditions held.
    pub fn score(&self) -> usize {
        self.marks.passed.count_ones() as usize
    }

    /// One status per condition of `m` (the measure of this result), in order.
    pub fn statuses(&self, m: &CompiledMeasure) -> Vec<Status> {
        self.marks.statuses(m.conditions.len(), &self.errors)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Tri {
    True,
    False,
    Unknown,
}

/// The statuses of one pair's conditions as bit masks (bit `i` is condition `i`): what
/// held, what failed, what lacked a field, what raised an error. A condition in none of
/// them was not evaluated. Deciding a pair is a handful of mask operations.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Marks {
    /// Conditions that held.
    pub passed: u64,
    /// Conditions that failed.
    pub failed: u64,
    /// Conditions left open by a missing field.
    pub missing: u64,
    /// Conditions that raised an error.
    pub error: u64,
}

impl Marks {
    /// The masks of a list of statuses (condition `i` is bit `i`).
    pub fn of(statuses: &[Status]) -> Marks {
        let mut m = Marks::default();
        for (i, s) in statuses.iter().enumerate() {
            let bit = 1 << i;
            match s {
                Status::Passed => m.passed |= bit,
                Status::Failed => m.failed |= bit,
                Status::Missing => m.missing |= bit,
                Status::Error(_) => m.error |= bit,
                Status::NotEvaluated => {}
            }
        }
        m
    }

    /// The statuses of `n` conditions; `errors` holds the message of each error mark.
    pub fn statuses(&self, n: usize, errors: &[(usize, String)]) -> Vec<Status> {
        (0..n)
            .map(|i| {
                let bit = 1 << i;
                if self.passed & bit != 0 {
                    Status::Passed
                } else if self.failed & bit != 0 {
                    Status::Failed
                } else if self.missing & bit != 0 {
                    Status::Missing
                } else if self.error & bit != 0 {
                    let message = errors.iter().find(|(c, _)| *c == i);
                    Status::Error(message.map(|(_, e)| e.clone()).unwrap_or_default())
                } else {
                    Status::NotEvaluated
                }
            })
            .collect()
    }

    /// The verdict of the group whose conditions are `group`.
    #[inline]
    pub(super) fn verdict(&self, group: u64) -> Tri {
        if self.failed & group != 0 {
            Tri::False
        } else if self.passed & group == group {
            Tri::True
        } else {
            Tri::Unknown
        }
    }

    /// The verdict of the alternatives together: true when there are none.
    #[inline]
    pub(super) fn alternatives(&self, alts: &[u64]) -> Tri {
        if alts.is_empty() {
            return Tri::True;
        }
        let mut all_false = true;
        for &g in alts {
            match self.verdict(g) {
                Tri::True => return Tri::True,
                Tri::False => {}
                Tri::Unknown => all_false = false,
            }
        }
        if all_false { Tri::False } else { Tri::Unknown }
    }

    /// The one failed condition of a group whose every other condition held.
    pub(super) fn single_failure(&self, group: u64) -> Option<usize> {
        let f = self.failed & group;
        // Exactly one bit, without `count_ones` (nor `is_power_of_two`, which calls it):
        // the baseline x86-64 target has no popcount instruction, and this runs per pair.
        (f != 0 && f & (f - 1) == 0 && (self.passed | f) & group == group)
            .then(|| f.trailing_zeros() as usize)
    }
}

/// The eligibility outcome and near miss decided by condition statuses alone.
/// Errors take precedence: a pair whose evaluation failed is never granted nor denied.
pub fn decide(m: &CompiledMeasure, statuses: &[Status]) -> (Outcome, Option<usize>) {
    let groups = group_masks(m);
    decide_marks(groups[0], &groups[1..], m.identity, &Marks::of(statuses))
}

/// For each group of a measure, the bits of its conditions.
pub(super) fn group_masks(m: &CompiledMeasure) -> Vec<u64> {
    let mut groups = vec![0; m.groups];
    for (i, c) in m.conditions.iter().enumerate() {
        groups[c.group] |= 1 << i;
    }
    groups
}

/// [`decide`] on marks, given the measure's group masks: the base group, the alternatives.
#[inline(always)]
pub(super) fn decide_marks(
    base_group: u64,
    alt_groups: &[u64],
    identity: u64,
    marks: &Marks,
) -> (Outcome, Option<usize>) {
    if marks.error != 0 {
        return (Outcome::Error, None);
    }
    let base = marks.verdict(base_group);
    let alts = marks.alternatives(alt_groups);
    let outcome = match (base, alts) {
        (Tri::False, _) | (_, Tri::False) => Outcome::NotEligible,
        (Tri::True, Tri::True) => Outcome::Eligible,
        _ => Outcome::Undetermined,
    };
    // A near miss: exactly one failure, everything else known to hold, and the failure
    // something the enterprise could change (not its identity).
    let near = match (base, alts) {
        (Tri::False, Tri::True) => marks.single_failure(base_group),
        (Tri::True, Tri::False) => alt_groups.iter().find_map(|&g| marks.single_failure(g)),
        _ => None,
    }
    .filter(|&i| identity & (1 << i) == 0);
    (outcome, near)
}
