//! What a completed run reports (`summary.json`): counts per outcome and per measure,
//! tallied from each block's counts.

use super::*;

/// What a completed run reports; `summary.json` holds the same.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub catalog_hash: String,
    pub as_of: String,
    pub input: String,
    pub shard: Option<String>,
    /// The engine that decided `when` clauses and benefits: `native` or `rhai`.
    pub engine: &'static str,
    pub input_rows: usize,
    pub enterprises_matched: usize,
    pub rejects: usize,
    pub measures: usize,
    pub pairs_evaluated: u64,
    pub outcomes: BTreeMap<&'static str, u64>,
    /// Pushes written: each enterprise's best ranked, at most `max_pushes`.
    pub pushes: usize,
    /// Eligible pairs of pushed measures the cap held back (in `eligible`, not pushed).
    pub pushes_held_back: usize,
    /// Pushes by the nature of their measure (`benefit`, `service`): only those two are
    /// pushed.
    pub pushes_by_nature: BTreeMap<&'static str, usize>,
    /// Pairs whose every condition holds but whose amount waits on a missing field:
    /// pushed (when the measure is), never granted; not counted as undetermined.
    pub amount_pending: usize,
    /// Whether the previous run's eligible list was read, so that newly eligible pushes
    /// rank first among equals (`--previous` of a run that wrote `eligible`).
    pub newly_eligible_ranked: bool,
    /// Unlocks told: per enterprise, the conditions that would open the most pushed
    /// measures, at most `max_unlocks`.
    pub unlocks: usize,
    /// Pushes per enterprise matched, zeros included.
    pub pushes_per_enterprise: Distribution,
    /// Enterprises matched by their number of pushes: `[n]` of them got `n`
    /// (`max_pushes + 1` entries). Summaries of shards, or of an engine's partitions, add
    /// up entry by entry; the distribution above is computed from it.
    pub pushes_histogram: Vec<u64>,
    /// `notice` measures in effect, each written once to `notices`.
    pub notices: usize,
    pub grants: usize,
    /// The grants' cash amounts summed (a tax deduction or a quota is not cash).
    pub grants_amount_yuan: f64,
    pub near_misses: usize,
    pub undetermined: usize,
    pub errors: usize,
    pub pushes_new: Option<usize>,
    pub pushes_revoked: Option<usize>,
    pub by_measure: BTreeMap<String, MeasureCounts>,
    /// Pushes per zone, window, 一类事 scenario and lead department.
    pub pushes_by_zone: BTreeMap<String, usize>,
    pub pushes_by_window: BTreeMap<String, usize>,
    pub pushes_by_scenario: BTreeMap<String, usize>,
    pub pushes_by_department: BTreeMap<String, usize>,
    /// Wall-clock milliseconds per phase; the only part of the output that varies between
    /// runs on the same inputs.
    pub timings_ms: BTreeMap<&'static str, u64>,
}

/// A distribution of counts over enterprises.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Distribution {
    pub median: u64,
    pub p90: u64,
    pub max: u64,
}

impl Distribution {
    /// From a histogram: `counts[n]` enterprises had `n`. A quantile is the smallest `n`
    /// that at least that share of enterprises do not exceed.
    pub fn of(counts: &[u64]) -> Distribution {
        let total: u64 = counts.iter().sum();
        let quantile = |q: f64| -> u64 {
            let need = ((total as f64) * q).ceil().max(1.0) as u64;
            let mut seen = 0;
            for (n, k) in counts.iter().enumerate() {
                seen += k;
                if seen >= need {
                    return n as u64;
                }
            }
            0
        };
        Distribution {
            median: quantile(0.5),
            p90: quantile(0.9),
            max: counts.iter().rposition(|&k| k > 0).unwrap_or(0) as u64,
        }
    }
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct MeasureCounts {
    pub eligible: u64,
    /// Every condition holds; the amount waits on a missing field.
    pub amount_pending: u64,
    pub not_eligible: u64,
    pub undetermined: u64,
    pub error: u64,
    pub near_misses: u64,
    /// Pushes kept by the per-enterprise cap: in the summary, so that a reader of the
    /// run need not count `pushes`.
    pub pushed: u64,
}

impl MeasureCounts {
    pub(super) fn add(&mut self, o: &MeasureCounts) {
        self.eligible += o.eligible;
        self.amount_pending += o.amount_pending;
        self.not_eligible += o.not_eligible;
        self.undetermined += o.undetermined;
        self.error += o.error;
        self.near_misses += o.near_misses;
        self.pushed += o.pushed;
    }
}

impl Summary {
    /// Exit status for a scheduler: 0 clean, 2 completed with rejects or per-pair errors.
    pub fn exit_code(&self) -> u8 {
        if self.rejects > 0 || self.errors > 0 {
            2
        } else {
            0
        }
    }
}

/// The summary's counts, from the per-measure tallies.
pub(super) fn tally(catalog: &Catalog, sum: &mut Summary, by_measure: &[MeasureCounts]) {
    for (cm, c) in catalog.measures.iter().zip(by_measure) {
        let m = &cm.measure;
        let n = c.pushed as usize;
        for (outcome, k) in [
            (Outcome::Eligible, c.eligible),
            (Outcome::AmountPending, c.amount_pending),
            (Outcome::NotEligible, c.not_eligible),
            (Outcome::Undetermined, c.undetermined),
            (Outcome::Error, c.error),
        ] {
            sum.pairs_evaluated += k;
            if k > 0 {
                *sum.outcomes.entry(outcome.as_str()).or_insert(0) += k;
            }
        }
        sum.near_misses += c.near_misses as usize;
        sum.undetermined += c.undetermined as usize;
        sum.amount_pending += c.amount_pending as usize;
        sum.errors += c.error as usize;
        if m.auto_grant() {
            sum.grants += c.eligible as usize;
        }
        sum.pushes += n;
        sum.by_measure.insert(m.id.clone(), c.clone());
        if n == 0 {
            continue;
        }
        *sum.pushes_by_nature.entry(m.nature.as_str()).or_insert(0) += n;
        *sum.pushes_by_zone.entry(m.zone.clone()).or_insert(0) += n;
        *sum.pushes_by_window.entry(m.window.clone()).or_insert(0) += n;
        let scenario = m
            .scenario_name
            .clone()
            .unwrap_or_else(|| policy_match::report::views::NO_SCENARIO.to_owned());
        *sum.pushes_by_scenario.entry(scenario).or_insert(0) += n;
        for d in &m.lead_departments {
            *sum.pushes_by_department.entry(d.clone()).or_insert(0) += n;
        }
    }
}
