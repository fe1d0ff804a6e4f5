//! One chunk evaluated: profiles checked, then every enterprise against every measure in
//! parallel blocks, each block keeping only what the tables being written need.

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
    pub(super) push: PushRank,
    pub(super) max_unlocks: usize,
    pub(super) keys: &'k UnlockKeys,
    /// `pushed[i]`: measure `i` is pushed (`Measure::pushed`), decided once per run
    /// rather than per pair.
    pub(super) pushed: &'k [bool],
    /// The previous run's eligible list, when it wrote one: what is newly eligible.
    pub(super) previous: Option<&'k PreviousEligible>,
}

impl<'k> Ranking<'k> {
    pub(super) fn new(
        opts: &MatchOptions,
        keys: &'k UnlockKeys,
        pushed: &'k [bool],
        previous: Option<&'k PreviousEligible>,
    ) -> Ranking<'k> {
        Ranking {
            max_pushes: opts.max_pushes,
            push: PushRank::new(opts.as_of),
            max_unlocks: opts.max_unlocks,
            keys,
            pushed,
            previous,
        }
    }

    /// The place of one push among the enterprise's ([`PushRank`]); newly eligible when
    /// the previous run's eligible list is known and lacks the pair.
    fn key(&self, catalog: &Catalog, id: &str, e: &Eligible) -> PushKey {
        let i = e.measure as usize;
        let new = self.previous.is_some_and(|p| !p.was_eligible(id, i));
        self.push.key(catalog, i, e.passed, e.amount, new)
    }
}

/// Enterprises evaluated together by one worker: what each has to report, encoded for
/// the spool (in enterprise order), and their counts.
pub(super) struct Block {
    pub(super) encoded: Vec<u8>,
    /// The enterprise being added, by row, until the next one starts.
    pub(super) current: Option<(usize, Results)>,
    /// Outcomes per measure, and the pushes the cap kept (`pushed`).
    pub(super) by_measure: Vec<MeasureCounts>,
    /// Eligible pairs of pushed measures the cap held back.
    pub(super) held_back: usize,
    /// Unlocks told (at most `max_unlocks` an enterprise).
    pub(super) unlocks: usize,
    /// `per_enterprise[n]`: how many enterprises were pushed `n` measures.
    pub(super) per_enterprise: Vec<u64>,
    /// Cash amounts of the grants, in row order, so that their sum does not depend on
    /// how blocks were scheduled.
    pub(super) grant_amounts: Vec<f64>,
    /// Whether the enterprise being added is an individual business (个体工商户), whose
    /// way to an enterprise's measures is 个转企.
    individual: bool,
}

impl Block {
    pub(super) fn new(measures: usize, ranking: Ranking<'_>) -> Block {
        Block {
            encoded: Vec::new(),
            current: None,
            by_measure: vec![MeasureCounts::default(); measures],
            held_back: 0,
            unlocks: 0,
            per_enterprise: vec![0; ranking.max_pushes + 1],
            grant_amounts: Vec::new(),
            individual: false,
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
        order.sort_by_cached_key(|&i| ranking.key(catalog, &r.id, &r.eligible[i]));
        let kept = order.len().min(ranking.max_pushes);
        for (place, &i) in order.iter().take(kept).enumerate() {
            let e = &mut r.eligible[i];
            // `max_pushes` is at most `u8::MAX` (the command line checks it).
            e.rank = u8::try_from(place + 1).unwrap_or(u8::MAX);
            self.by_measure[e.measure as usize].pushed += 1;
        }
        self.held_back += order.len() - kept;
        self.per_enterprise[kept] += 1;
        self.unlocks += unlocks(
            ranking.keys,
            ranking.pushed,
            &r.near_misses,
            &r.conversions,
            ranking.max_unlocks,
        )
        .len();
        if !needs.unlocks {
            r.conversions.clear();
        }
        if !needs.near_misses {
            let keep = needs.unlocks;
            r.near_misses
                .retain(|&(m, _)| keep && ranking.pushed[m as usize]);
        }
        r.eligible.retain(|e| {
            let granted = !e.pending && catalog.measures[e.measure as usize].measure.auto_grant();
            (needs.pushes && e.rank > 0)
                || (needs.eligible && pushed(e))
                || (needs.grants && granted)
        });
        r.pending
            .retain(|(m, _)| r.eligible.iter().any(|e| e.measure == *m));
        if !needs.reasons {
            r.eligible.iter_mut().for_each(|e| e.passed = 0);
        }
        if !(r.eligible.is_empty()
            && r.near_misses.is_empty()
            && r.conversions.is_empty()
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
            let individual = p.has_tag(policy_match::names::INDIVIDUAL_BUSINESS_TAG);
            self.current = Some((row, fresh));
            self.individual = individual;
        }
        let Some((_, r)) = self.current.as_mut() else {
            return;
        };
        let m = &cm.measure;
        let mi = pair.measure;
        let measure = mi as u16;
        let counts = &mut self.by_measure[mi];
        match pair.outcome {
            Outcome::Eligible | Outcome::AmountPending => {
                let pending = pair.outcome == Outcome::AmountPending;
                if pending {
                    counts.amount_pending += 1;
                } else {
                    counts.eligible += 1;
                }
                // An amount pending is never granted: a grant needs its amount.
                let (pushed, granted) = (ranking.pushed[mi], m.auto_grant() && !pending);
                if granted {
                    self.grant_amounts.extend(m.cash(pair.amount));
                    if needs.grants && r.size.is_empty() && r.industry.is_empty() {
                        (r.size, r.industry) = segment(p);
                    }
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
                        pending,
                        rank: 0,
                    });
                    if pending && pushed {
                        r.pending
                            .push((measure, subject.missing_fields().join(",")));
                    }
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
                } else if self.individual
                    && ranking.pushed[mi]
                    && catalog.opens_on_conversion(mi, &subject.marks())
                {
                    r.conversions.push(measure);
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
    previous: Option<&PreviousEligible>,
    profiles: &[Profile],
) -> Vec<Block> {
    let columns = Columns::new(catalog, profiles);
    let sweep = SweepOptions {
        as_of: opts.as_of,
        engine: opts.engine,
        prefilter: opts.prefilter,
    };
    let ranking = Ranking::new(opts, keys, pushed, previous);
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

/// An enterprise's size and industry as the grants table gives them: the value of its
/// `size:` tag, and its `industry:` code cut to the 大类 (a letter and two digits, `C17`),
/// the level a report groups by; empty when it has none.
fn segment(p: &Profile) -> (String, String) {
    let value = |namespace: &str| {
        p.tags
            .iter()
            .find_map(|t| t.strip_prefix(namespace))
            .unwrap_or("")
    };
    let industry: String = value("industry:").chars().take(3).collect();
    (value("size:").to_owned(), industry)
}
