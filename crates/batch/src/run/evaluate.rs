//! One chunk evaluated: profiles checked, then every enterprise against every measure in
//! parallel blocks, each block keeping only what the tables being written need.

use std::cmp::Reverse;

use super::*;

/// What a push row says of its measure, rendered once per run.
pub(super) struct MeasureText {
    pub(super) title: String,
    pub(super) scenario: String,
    pub(super) departments: String,
}

pub(super) fn measure_texts(catalog: &Catalog) -> Vec<MeasureText> {
    catalog
        .measures
        .iter()
        .map(|cm| MeasureText {
            title: policy_match::report::explain::title(&cm.measure),
            scenario: cm.measure.scenario_name.clone().unwrap_or_default(),
            departments: cm.measure.lead_departments.join("、"),
        })
        .collect()
}

/// What the tables being written need from each enterprise: the spool carries no more,
/// and the summary's counts come from the tallies, never from the rows written.
#[derive(Debug, Clone, Copy)]
pub(super) struct Needs {
    /// Eligible pairs of measures delivered by push (`pushes`, `push_ids`, a diff).
    pub(super) pushes: bool,
    /// Eligible pairs of measures granted without application (`grants`).
    pub(super) grants: bool,
    /// The conditions that held (the reasons of `pushes`, the basis of `grants`).
    pub(super) reasons: bool,
    pub(super) near_misses: bool,
    pub(super) undetermined: bool,
    pub(super) errors: bool,
    /// Every eligible pair of a pushed measure, held back by the cap or not (`eligible`).
    pub(super) eligible: bool,
    /// The near misses of pushed measures, grouped into unlocks (`unlocks`, `digest`).
    pub(super) unlocks: bool,
}

impl Needs {
    pub(super) fn of(tables: &[&str], previous: bool) -> Needs {
        let has = |name| tables.contains(&name);
        Needs {
            eligible: has("eligible"),
            unlocks: has("unlocks") || has("digest"),
            pushes: has("pushes") || has("push_ids") || has("digest") || previous,
            grants: has("grants") || has("digest"),
            reasons: has("pushes") || has("grants") || previous,
            near_misses: has("near_misses"),
            undetermined: has("undetermined"),
            errors: has("errors"),
        }
    }
}

/// How an enterprise's pushes are ranked and capped (精准推送: the few it can act on).
#[derive(Clone, Copy)]
pub(super) struct Ranking<'k> {
    pub(super) max_pushes: usize,
    /// A measure whose effective window ends on or before this day is closing soon.
    pub(super) closing_by: Option<Date>,
    pub(super) max_unlocks: usize,
    pub(super) keys: &'k UnlockKeys,
    /// `pushed[i]`: measure `i` is pushed (`Measure::pushed`), decided once per run
    /// rather than per pair.
    pub(super) pushed: &'k [bool],
}

/// How many days ahead a closing window moves a push up (the service calendar's period).
const CLOSING_SOON_DAYS: i64 = 30;

impl<'k> Ranking<'k> {
    pub(super) fn new(
        opts: &MatchOptions,
        keys: &'k UnlockKeys,
        pushed: &'k [bool],
    ) -> Ranking<'k> {
        Ranking {
            max_pushes: opts.max_pushes,
            closing_by: opts
                .as_of
                .checked_add(jiff::Span::new().days(CLOSING_SOON_DAYS))
                .ok(),
            max_unlocks: opts.max_unlocks,
            keys,
            pushed,
        }
    }

    /// The order of an enterprise's pushes, best first: granted without application,
    /// then the conditions that held beyond identity (how specific the measure is to
    /// this enterprise), the amount in yuan, a window closing soon, and the measure id.
    fn key(&self, catalog: &Catalog, e: &Eligible) -> (bool, u32, Reverse<Amount>, bool, u16) {
        let cm = &catalog.measures[e.measure as usize];
        let m = &cm.measure;
        let specific = (e.passed & !cm.identity).count_ones();
        let closing = match (m.valid_until, self.closing_by) {
            (Some(until), Some(by)) => until <= by,
            _ => false,
        };
        (
            !m.auto_grant(),
            u32::MAX - specific,
            Reverse(Amount(m.yuan(e.amount))),
            !closing,
            e.measure,
        )
    }
}

/// An amount in yuan ordered as a number, none below every amount.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Amount(Option<f64>);

impl Eq for Amount {}

impl PartialOrd for Amount {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Amount {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        match (self.0, other.0) {
            (Some(a), Some(b)) => a.total_cmp(&b),
            (a, b) => a.is_some().cmp(&b.is_some()),
        }
    }
}

/// Enterprises evaluated together by one worker: what each has to report, encoded for
/// the spool (in enterprise order), and their counts.
pub(super) struct Block {
    pub(super) encoded: Vec<u8>,
    /// The enterprise being added, by row, until the next one starts.
    pub(super) current: Option<(usize, Results)>,
    pub(super) by_measure: Vec<MeasureCounts>,
    /// Pushes kept by the cap, per measure.
    pub(super) pushes_by_measure: Vec<usize>,
    /// Eligible pairs of pushed measures the cap held back.
    pub(super) held_back: usize,
    /// Unlocks told (at most `max_unlocks` an enterprise).
    pub(super) unlocks: usize,
    /// `per_enterprise[n]`: how many enterprises were pushed `n` measures.
    pub(super) per_enterprise: Vec<u64>,
    /// Amounts in yuan of the grants, in row order, so that their sum does not depend on
    /// how blocks were scheduled.
    pub(super) grant_amounts: Vec<f64>,
}

impl Block {
    pub(super) fn new(measures: usize, ranking: Ranking<'_>) -> Block {
        Block {
            encoded: Vec::new(),
            current: None,
            by_measure: vec![MeasureCounts::default(); measures],
            pushes_by_measure: vec![0; measures],
            held_back: 0,
            unlocks: 0,
            per_enterprise: vec![0; ranking.max_pushes + 1],
            grant_amounts: Vec::new(),
        }
    }

    /// Ranks the pushes of the enterprise being added and keeps the best
    /// `max_pushes`, then encodes what it has to report, if anything.
    pub(super) fn flush(&mut self, catalog: &Catalog, needs: Needs, ranking: Ranking<'_>) {
        let Some((_, mut r)) = self.current.take() else {
            return;
        };
        let pushed = |e: &Eligible| ranking.pushed[e.measure as usize];
        let mut order: Vec<usize> = (0..r.eligible.len())
            .filter(|&i| pushed(&r.eligible[i]))
            .collect();
        order.sort_by_cached_key(|&i| ranking.key(catalog, &r.eligible[i]));
        let kept = order.len().min(ranking.max_pushes);
        for (place, &i) in order.iter().take(kept).enumerate() {
            let e = &mut r.eligible[i];
            // `max_pushes` is at most `u8::MAX` (the command line checks it).
            e.rank = u8::try_from(place + 1).unwrap_or(u8::MAX);
            self.pushes_by_measure[e.measure as usize] += 1;
        }
        self.held_back += order.len() - kept;
        self.per_enterprise[kept] += 1;
        self.unlocks += unlocks(
            ranking.keys,
            ranking.pushed,
            &r.near_misses,
            ranking.max_unlocks,
        )
        .len();
        if !needs.near_misses {
            let keep = needs.unlocks;
            r.near_misses
                .retain(|&(m, _)| keep && ranking.pushed[m as usize]);
        }
        r.eligible.retain(|e| {
            let granted = catalog.measures[e.measure as usize].measure.auto_grant();
            (needs.pushes && e.rank > 0)
                || (needs.eligible && pushed(e))
                || (needs.grants && granted)
        });
        if !needs.reasons {
            r.eligible.iter_mut().for_each(|e| e.passed = 0);
        }
        if !(r.eligible.is_empty()
            && r.near_misses.is_empty()
            && r.undetermined.is_empty()
            && r.errors.is_empty())
        {
            r.encode(&mut self.encoded);
        }
    }

    /// Adds one pair: its count, and what it has to report.
    #[allow(clippy::too_many_arguments)] // the sweep's visitor hands them over as they come
    pub(super) fn add(
        &mut self,
        catalog: &Catalog,
        needs: Needs,
        ranking: Ranking<'_>,
        row: usize,
        p: &Profile,
        pair: &Pair,
        subject: &Subject,
    ) {
        let cm = &catalog.measures[pair.measure];
        if self.current.as_ref().is_none_or(|(r, _)| *r != row) {
            self.flush(catalog, needs, ranking);
            let fresh = Results {
                id: p.id.clone(),
                name: p.name.clone(),
                ..Results::default()
            };
            self.current = Some((row, fresh));
        }
        let Some((_, r)) = self.current.as_mut() else {
            return;
        };
        let m = &cm.measure;
        let mi = pair.measure;
        let measure = mi as u16;
        let counts = &mut self.by_measure[mi];
        match pair.outcome {
            Outcome::Eligible => {
                counts.eligible += 1;
                let (pushed, granted) = (ranking.pushed[mi], m.auto_grant());
                if granted {
                    self.grant_amounts.extend(m.yuan(pair.amount));
                }
                // Every push is kept until the enterprise is complete: the cap, and the
                // summary's counts, need them all ranked, whatever tables are written.
                if pushed || (needs.grants && granted) {
                    r.eligible.push(Eligible {
                        measure,
                        passed: if pushed || needs.reasons {
                            subject.passed()
                        } else {
                            0
                        },
                        amount: pair.amount,
                        rank: 0,
                    });
                }
            }
            Outcome::NotEligible => {
                counts.not_eligible += 1;
                if let Some(c) = pair.near_miss {
                    counts.near_misses += 1;
                    // Every enterprise's unlocks are counted, whatever tables are written.
                    if needs.near_misses || ranking.pushed[mi] {
                        r.near_misses.push((measure, c as u8));
                    }
                }
            }
            Outcome::Undetermined => {
                counts.undetermined += 1;
                if needs.undetermined {
                    r.undetermined
                        .push((measure, subject.missing_fields().join(",")));
                }
            }
            Outcome::Error => {
                counts.error += 1;
                if needs.errors {
                    r.errors
                        .push((measure, pair.error.clone().unwrap_or_default()));
                }
            }
        }
    }
}

/// Evaluates one chunk (sorted by id) in blocks on every worker; blocks come back in order.
pub(super) fn evaluate_chunk(
    catalog: &Catalog,
    opts: &MatchOptions,
    needs: Needs,
    keys: &UnlockKeys,
    pushed: &[bool],
    profiles: &[Profile],
) -> Vec<Block> {
    let columns = Columns::new(catalog, profiles);
    let sweep = SweepOptions {
        as_of: opts.as_of,
        engine: opts.engine,
        prefilter: opts.prefilter,
    };
    let ranking = Ranking::new(opts, keys, pushed);
    let mut blocks = catalog.sweep(
        &columns,
        &sweep,
        || Block::new(catalog.measures.len(), ranking),
        |block, i, pair, subject| {
            block.add(catalog, needs, ranking, i, &profiles[i], pair, subject);
        },
    );
    for b in &mut blocks {
        b.flush(catalog, needs, ranking);
    }
    blocks
}
