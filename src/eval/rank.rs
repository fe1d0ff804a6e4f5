//! One enterprise against the whole catalog, ranked ([`Catalog::recommend`]): eligible
//! (amount pending among them), undetermined, near misses, other not-eligible, errors;
//! each group in the order pushes are ranked ([`PushRank`]).

use super::*;

/// One decided pair, kept as plain data until its place is known: moving whole results
/// through a sort costs more than deciding them.
struct Decided {
    marks: Marks,
    amount: Option<f64>,
    near_miss: Option<usize>,
    outcome: Outcome,
    in_effect: bool,
    /// Where its rare owned parts are in `extras`, if it has some.
    extra: Option<u32>,
}

impl Subject<'_, '_, '_> {
    /// Every measure decided and ranked: eligible and amount pending, undetermined, near
    /// misses, other not-eligible, errors; each group in push order ([`PushRank`]).
    pub(super) fn ranked(&mut self, push: PushRank) -> Vec<MeasureResult> {
        let catalog = self.ev.catalog;
        let program = &catalog.program;
        let n = catalog.measures.len();
        let mut decided: Vec<Decided> = Vec::with_capacity(n);
        let mut extras: Vec<(Reported, Option<String>)> = Vec::new();
        // `PushRank::key` packed: the rank (3 bits), not granted without application (1),
        // the conditions that narrow the audience, descending (7 bits: at most 64
        // conditions), the amount's place (9 bits, none last; added below, once every
        // amount is known), not closing soon (1), then the measure index, which makes
        // every key distinct. Nothing is new to a single enterprise.
        let mut keys: Vec<u64> = Vec::with_capacity(n);
        // The distinct cash amounts, largest first. An amount enters its result's key as
        // its place in this list, so that the whole key is one small integer.
        let mut amounts: Vec<f64> = Vec::new();
        for i in 0..n {
            let pair = self.pair(i);
            let extra = if self.ev.errors.is_empty()
                && self.ev.missing.is_empty()
                && pair.error.is_none()
            {
                None
            } else {
                extras.push((self.reported(), pair.error));
                Some(extras.len() as u32 - 1)
            };
            let marks = self.ev.marks;
            let traits = program.ranking[i];
            let specific = u64::from(specificity(catalog, i, marks.passed).min(127));
            keys.push(
                (u64::from(rank(pair.outcome, pair.near_miss)) << 60)
                    | (u64::from(!traits.auto_grant) << 59)
                    | ((127 - specific) << 52)
                    | (u64::from(!push.entry_closing_soon(&program.entries[i])) << 42)
                    | i as u64,
            );
            if traits.cash {
                amounts.extend(pair.amount);
            }
            decided.push(Decided {
                marks,
                amount: pair.amount,
                near_miss: pair.near_miss,
                outcome: pair.outcome,
                in_effect: pair.in_effect,
                extra,
            });
        }
        amounts.sort_unstable_by(|a, b| b.total_cmp(a));
        amounts.dedup_by(|a, b| a.total_cmp(b).is_eq());
        for (key, d) in keys.iter_mut().zip(&decided) {
            let i = (*key & u64::from(u32::MAX)) as usize;
            let place = d
                .amount
                .filter(|_| program.ranking[i].cash)
                .map_or(amounts.len(), |a| {
                    amounts.partition_point(|x| x.total_cmp(&a).is_gt())
                }) as u64;
            *key |= place << 43;
        }
        keys.sort_unstable();
        keys.iter()
            .map(|k| {
                let i = (k & u64::from(u32::MAX)) as usize;
                let d = &decided[i];
                let ((errors, missing_fields), error) = d
                    .extra
                    .map(|x| std::mem::take(&mut extras[x as usize]))
                    .unwrap_or_default();
                MeasureResult {
                    measure: catalog.ids[i],
                    index: i,
                    outcome: d.outcome,
                    amount: d.amount,
                    in_effect: d.in_effect,
                    marks: d.marks,
                    errors,
                    missing_fields,
                    near_miss: d.near_miss,
                    error,
                }
            })
            .collect()
    }
}

/// The ranked answer for one enterprise.
#[derive(Debug, Clone)]
pub struct Recommendation {
    /// The enterprise's 统一社会信用代码.
    pub enterprise_id: String,
    /// The evaluation date.
    pub as_of: Date,
    /// The hash of the catalog that answered: every result comes from it.
    pub catalog_hash: String,
    /// Whether the enterprise is an individual business (个体工商户), for which
    /// becoming an enterprise (个转企) is an unlock.
    pub individual_business: bool,
    /// One result per measure, ranked: eligible and amount pending, undetermined, near
    /// misses, other not-eligible, errors; each group in push order ([`PushRank`]).
    pub results: Vec<MeasureResult>,
}

pub(super) fn rank(outcome: Outcome, near_miss: Option<usize>) -> u8 {
    match (outcome, near_miss) {
        (Outcome::Eligible | Outcome::AmountPending, _) => 0,
        (Outcome::Undetermined, _) => 1,
        (Outcome::NotEligible, Some(_)) => 2,
        (Outcome::NotEligible, None) => 3,
        (Outcome::Error, _) => 4,
    }
}

impl Catalog {
    /// Every measure for one enterprise, ranked, with reasons; the native engine.
    pub fn recommend(&self, profile: &Profile, as_of: Date) -> Recommendation {
        self.recommend_with(profile, as_of, &EvalOptions::default())
    }

    /// [`Catalog::recommend`] with options.
    pub fn recommend_with(
        &self,
        profile: &Profile,
        as_of: Date,
        opts: &EvalOptions,
    ) -> Recommendation {
        let prepared = self.prepare(profile);
        let results = Evaluator::with_options(self, opts.engine, false)
            .subject(prepared.row(), as_of)
            .ranked(PushRank::new(as_of));
        Recommendation {
            enterprise_id: profile.id.clone(),
            as_of,
            catalog_hash: self.hash.clone(),
            individual_business: profile.has_tag(crate::names::INDIVIDUAL_BUSINESS_TAG),
            results,
        }
    }
}
