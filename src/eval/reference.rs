//! The reference path: each measure's whole generated script, run alone, decided by the
//! same [`decide`]; slower, and used to prove the staged path right.

use super::*;

impl Catalog {
    /// The reference path: each measure's whole generated script, run alone, decided by
    /// the same [`decide`]. Slower; used to prove the staged path right.
    pub fn evaluate_whole_script(
        &self,
        profile: &Profile,
        measure: usize,
        as_of: Date,
    ) -> (Outcome, Option<f64>) {
        let cm = &self.measures[measure];
        if !cm.measure.in_effect(as_of) {
            return (Outcome::NotEligible, None);
        }
        let prepared = self.prepare(profile);
        let mut ev = Evaluator::with_options(self, EngineKind::Rhai, false);
        let mut subject = ev.subject(prepared.row(), as_of);
        let items = match subject.run(&cm.script_ast).map(|v| v.into_array()) {
            Ok(Ok(items)) => items,
            _ => return (Outcome::Error, None),
        };
        let statuses: Vec<Status> = items
            .iter()
            .take(cm.conditions.len())
            .map(|v| match v.as_bool() {
                Ok(true) => Status::Passed,
                Ok(false) => Status::Failed,
                Err(_) if v.is_unit() => Status::Missing,
                Err(t) => Status::Error(t.to_owned()),
            })
            .collect();
        let (outcome, _) = decide(cm, &statuses);
        match (outcome, &cm.measure.benefit, items.get(cm.conditions.len())) {
            (Outcome::Eligible, Some(_), Some(v)) if v.is_unit() => (Outcome::AmountPending, None),
            (Outcome::Eligible, Some(decl), Some(v)) => match amount(v.clone(), decl.cap) {
                Ok(a) => (Outcome::Eligible, Some(a)),
                Err(_) => (Outcome::Error, None),
            },
            (o, _, _) => (o, None),
        }
    }
}
