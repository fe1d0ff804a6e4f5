//! One enterprise against the whole catalog, ranked ([`Catalog::recommend`]): eligible
//! (amount pending among them), undetermined, near misses, other not-eligible, errors;
//! each group in the order pushes are ranked ([`PushRank`]).

use super::*;

impl Subject<'_, '_, '_> {
    /// Every measure decided and ranked: eligible and amount pending, undetermined, near
    /// misses, other not-eligible, errors; each group in push order ([`PushRank`]).
    pub(super) fn ranked(&mut self, push: PushRank) -> Vec<MeasureResult> {
        let catalog = self.ev.catalog;
        let n = catalog.measures.len();
        // Each pair kept as plain data until its place is known, its rare owned parts
        // aside: moving whole results through a sort costs more than deciding them.
        let mut decided: Vec<(Pair, Marks, usize)> = Vec::with_capacity(n);
        let mut extras: Vec<Reported> = Vec::new();
        for i in 0..n {
            let pair = self.pair(i);
            let extra = if self.ev.errors.is_empty() && self.ev.missing.is_empty() {
                usize::MAX
            } else {
                extras.push(self.reported());
                extras.len() - 1
            };
            decided.push((pair, self.ev.marks, extra));
        }
        let cash = |p: &Pair| catalog.measures[p.measure].measure.cash(p.amount);
        // The distinct cash amounts, largest first. An amount enters its result's key as
        // its place in this list, so that the whole key is one small integer.
        let mut amounts: Vec<f64> = decided.iter().filter_map(|(p, ..)| cash(p)).collect();
        amounts.sort_unstable_by(|a, b| b.total_cmp(a));
        amounts.dedup_by(|a, b| a.total_cmp(b).is_eq());
        // `PushRank::key` packed: the rank (3 bits), not granted without application (1),
        // the conditions that narrow the audience, descending (7 bits: at most 64 conditions), the
        // amount's place (9 bits, none last), not closing soon (1), then the measure
        // index, which makes every key distinct. Nothing is new to a single enterprise.
        let mut keys: Vec<u64> = decided
            .iter()
            .map(|(p, marks, _)| {
                let m = &catalog.measures[p.measure];
                let place = cash(p).map_or(amounts.len(), |a| {
                    amounts.partition_point(|x| x.total_cmp(&a).is_gt())
                }) as u64;
                let specific = u64::from(specificity(catalog, p.measure, marks.passed).min(127));
                (u64::from(rank(p.outcome, p.near_miss)) << 60)
                    | (u64::from(!m.measure.auto_grant()) << 59)
                    | ((127 - specific) << 52)
                    | (place << 43)
                    | (u64::from(!push.closing_soon(&m.measure)) << 42)
                    | p.measure as u64
            })
            .collect();
        keys.sort_unstable();
        keys.iter()
            .map(|k| {
                let (pair, marks, extra) = &mut decided[(k & u64::from(u32::MAX)) as usize];
                let reported = extras
                    .get_mut(*extra)
                    .map(std::mem::take)
                    .unwrap_or_default();
                MeasureResult::of(catalog.ids[pair.measure], pair, *marks, reported)
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
