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
}

impl Needs {
    pub(super) fn of(tables: &[&str], previous: bool) -> Needs {
        let has = |name| tables.contains(&name);
        Needs {
            pushes: has("pushes") || has("push_ids") || previous,
            grants: has("grants"),
            reasons: has("pushes") || has("grants") || previous,
            near_misses: has("near_misses"),
            undetermined: has("undetermined"),
            errors: has("errors"),
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
    pub(super) pushes_by_measure: Vec<usize>,
    /// Amounts in yuan of the grants, in row order, so that their sum does not depend on
    /// how blocks were scheduled.
    pub(super) grant_amounts: Vec<f64>,
}

impl Block {
    pub(super) fn new(measures: usize) -> Block {
        Block {
            encoded: Vec::new(),
            current: None,
            by_measure: vec![MeasureCounts::default(); measures],
            pushes_by_measure: vec![0; measures],
            grant_amounts: Vec::new(),
        }
    }

    /// Encodes the enterprise being added, if it has anything to report.
    pub(super) fn flush(&mut self) {
        if let Some((_, r)) = self.current.take()
            && !(r.eligible.is_empty()
                && r.near_misses.is_empty()
                && r.undetermined.is_empty()
                && r.errors.is_empty())
        {
            r.encode(&mut self.encoded);
        }
    }

    /// Adds one pair: its count, and what it has to report.
    pub(super) fn add(
        &mut self,
        needs: Needs,
        cm: &CompiledMeasure,
        row: usize,
        p: &Profile,
        pair: &Pair,
        subject: &Subject,
    ) {
        if self.current.as_ref().is_none_or(|(r, _)| *r != row) {
            self.flush();
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
                let (pushed, granted) = (m.pushed(), m.auto_grant());
                if pushed {
                    self.pushes_by_measure[mi] += 1;
                }
                if granted {
                    self.grant_amounts.extend(m.yuan(pair.amount));
                }
                if (needs.pushes && pushed) || (needs.grants && granted) {
                    r.eligible.push(Eligible {
                        measure,
                        passed: if needs.reasons { subject.passed() } else { 0 },
                        amount: pair.amount,
                    });
                }
            }
            Outcome::NotEligible => {
                counts.not_eligible += 1;
                if let Some(c) = pair.near_miss {
                    counts.near_misses += 1;
                    if needs.near_misses {
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
    profiles: &[Profile],
) -> Vec<Block> {
    let columns = Columns::new(catalog, profiles);
    let sweep = SweepOptions {
        as_of: opts.as_of,
        engine: opts.engine,
        prefilter: opts.prefilter,
    };
    let mut blocks = catalog.sweep(
        &columns,
        &sweep,
        || Block::new(catalog.measures.len()),
        |block, i, pair, subject| {
            block.add(
                needs,
                &catalog.measures[pair.measure],
                i,
                &profiles[i],
                pair,
                subject,
            );
        },
    );
    for b in &mut blocks {
        b.flush();
    }
    blocks
}
