//! Many enterprises in parallel: [`Catalog::evaluate_batch`] (results) and
//! [`Catalog::sweep`] (a visitor per pair, for the batch crate and the benches), in input
//! order whatever the number of threads.

use super::*;

impl Catalog {
    /// Every enterprise against every measure, in parallel; the results are in input
    /// order and catalog order whatever the number of threads.
    pub fn evaluate_batch(&self, profiles: &[Profile], as_of: Date) -> Vec<Vec<MeasureResult>> {
        self.evaluate_batch_with(profiles, as_of, &EvalOptions::default())
    }

    /// [`Catalog::evaluate_batch`] with options.
    pub fn evaluate_batch_with(
        &self,
        profiles: &[Profile],
        as_of: Date,
        opts: &EvalOptions,
    ) -> Vec<Vec<MeasureResult>> {
        let engine = opts.engine;
        let columns = Columns::new(self, profiles);
        (0..columns.len())
            .into_par_iter()
            .map_init(
                || Evaluator::with_options(self, engine, false),
                |ev, i| ev.evaluate_all(columns.row(i), as_of),
            )
            .collect()
    }

    /// Every enterprise of `columns` against every measure, in parallel blocks of
    /// [`SWEEP_BLOCK`] enterprises. Each block starts from `init()`; `visit` sees every pair
    /// of the block in (enterprise, measure) order, with the subject for its statuses,
    /// reasons and missing fields. The blocks come back in order, so whatever the number
    /// of threads a caller that folds them in order gets the same result.
    pub fn sweep<B, I, V>(
        &self,
        columns: &Columns,
        opts: &SweepOptions,
        init: I,
        visit: V,
    ) -> Vec<B>
    where
        B: Send,
        I: Fn() -> B + Sync + Send,
        V: Fn(&mut B, usize, &Pair, &Subject) + Sync + Send,
    {
        let blocks = columns.len().div_ceil(SWEEP_BLOCK);
        (0..blocks)
            .into_par_iter()
            .map_init(
                || Evaluator::with_options(self, opts.engine, opts.prefilter),
                |ev, k| {
                    let mut block = init();
                    for i in k * SWEEP_BLOCK..columns.len().min((k + 1) * SWEEP_BLOCK) {
                        let mut subject = ev.subject(columns.row(i), opts.as_of);
                        for m in 0..self.measures.len() {
                            let pair = subject.pair(m);
                            visit(&mut block, i, &pair, &subject);
                        }
                    }
                    block
                },
            )
            .collect()
    }
}
