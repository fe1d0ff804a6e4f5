//! The result tables of a run, filled enterprise by enterprise in (enterprise_id,
//! measure_id) order, and the diff against a previous run.

use super::*;

/// The output tables, written as the merged results stream by.
pub(super) struct Writers<'k> {
    pub(super) pushes: TableWriter,
    pub(super) push_ids: TableWriter,
    pub(super) eligible: TableWriter,
    pub(super) digest: TableWriter,
    pub(super) unlocks: TableWriter,
    pub(super) unlock_keys: &'k UnlockKeys,
    /// `pushed[i]`: measure `i` is pushed, decided once per run.
    pub(super) pushed: &'k [bool],
    pub(super) max_unlocks: usize,
    pub(super) grants: TableWriter,
    pub(super) near_misses: TableWriter,
    pub(super) undetermined: TableWriter,
    pub(super) errors: TableWriter,
    pub(super) diff: Option<Diff>,
    /// Whether the tables are CSV, written from pre-rendered fragments.
    pub(super) csv: bool,
    pub(super) fragments: Fragments,
}

/// With a previous run: its next push, the rest of it, and the two difference tables.
pub(super) struct Diff {
    pub(super) head: Option<(String, String)>,
    pub(super) prev: Previous,
    pub(super) new: TableWriter,
    pub(super) revoked: TableWriter,
}

impl Writers<'_> {
    /// Writes the rows of one enterprise. A failure to read the previous run is kept in
    /// `previous_failure`, apart from failures to write.
    pub(super) fn write(
        &mut self,
        catalog: &Catalog,
        texts: &[MeasureText],
        r: &Results,
        previous_failure: &mut Option<MatchError>,
    ) -> std::io::Result<()> {
        let id_fragment = render::fields(&[&r.id]);
        let enterprise_fragment = render::fields(&[&r.id, &r.name]);
        // The push ids new since the previous run, for the digest.
        let mut new_pushes: Vec<&str> = Vec::new();
        for e in &r.eligible {
            let mi = e.measure as usize;
            let cm = &catalog.measures[mi];
            let m = &cm.measure;
            // The reasons as text, for the rows not built from fragments.
            let reasons = || cm.labels(e.passed).collect::<Vec<_>>().join("；");
            // A measure id is `M` and three digits: nothing to quote.
            let ids: [&[u8]; 2] = [&id_fragment, m.id.as_bytes()];
            if self.pushed[mi] && self.eligible.enabled() {
                self.eligible
                    .write(&[&r.id, &m.id], self.csv.then_some(&ids[..]))?;
            }
            // Pushed, and kept by the cap.
            let pushed = e.rank > 0;
            if pushed && self.push_ids.enabled() {
                self.push_ids
                    .write(&[&r.id, &m.id], self.csv.then_some(&ids[..]))?;
            }
            if pushed && (self.pushes.enabled() || self.diff.is_some()) {
                let t = &texts[mi];
                let score = e.passed.count_ones().to_string();
                let reasons_text = if self.csv { String::new() } else { reasons() };
                let rank = e.rank.to_string();
                let amount = e.amount.map_or_else(String::new, |a| a.to_string());
                let (unit, kind) = m
                    .benefit
                    .as_ref()
                    .map_or(("", ""), |b| (b.unit.as_str(), b.kind.as_str()));
                let pending = if e.pending {
                    r.pending
                        .iter()
                        .find(|(pm, _)| *pm == e.measure)
                        .map_or("", |(_, fields)| fields.as_str())
                } else {
                    ""
                };
                let amount_cells = render::fields(&[&amount, unit, kind, pending]);
                let cells = [
                    r.id.as_str(),
                    &r.name,
                    &m.id,
                    &t.title,
                    &m.zone,
                    &m.window,
                    &t.scenario,
                    &t.departments,
                    &score,
                    &reasons_text,
                    &rank,
                    &amount,
                    unit,
                    kind,
                    pending,
                ];
                let [measure_part, reasons_part] = self.fragments.push(catalog, mi, e.passed);
                // A rank is digits: nothing to quote.
                let fragments: [&[u8]; 5] = [
                    &enterprise_fragment,
                    measure_part,
                    reasons_part,
                    rank.as_bytes(),
                    &amount_cells,
                ];
                let fragments = self.csv.then_some(&fragments[..]);
                if self.pushes.enabled() {
                    self.pushes.write(&cells, fragments)?;
                }
                if let Some(Diff {
                    head,
                    prev,
                    new,
                    revoked,
                }) = self.diff.as_mut()
                {
                    let key = (r.id.as_str(), m.id.as_str());
                    let mut advance = |head: &mut Option<(String, String)>| match prev.next() {
                        Ok(next) => {
                            *head = next;
                            Ok(())
                        }
                        Err(e) => {
                            *previous_failure = Some(e);
                            Err(std::io::Error::other("the previous run could not be read"))
                        }
                    };
                    while let Some(old) = head
                        .as_ref()
                        .filter(|(e, m)| (e.as_str(), m.as_str()) < key)
                    {
                        revoked.write(&[&old.0, &old.1], None)?;
                        advance(head)?;
                    }
                    if head
                        .as_ref()
                        .is_some_and(|(e, m)| (e.as_str(), m.as_str()) == key)
                    {
                        advance(head)?;
                    } else {
                        new.write(&cells, fragments)?;
                        new_pushes.push(&m.id);
                    }
                }
            }
            if m.auto_grant() && !e.pending && self.grants.enabled() {
                let yuan = m.cash(e.amount);
                let basis = match (&m.benefit, e.amount) {
                    (Some(decl), Some(a)) => format!("{}: {a} {}", decl.label, decl.unit.chinese()),
                    _ => reasons(),
                };
                let amount = yuan.map_or_else(String::new, |a| a.to_string());
                self.grants
                    .write(&[&r.id, &m.id, &amount, &basis, &r.size, &r.industry], None)?;
            }
        }
        let unlocks = if self.unlocks.enabled() || self.digest.enabled() {
            unlocks(
                self.unlock_keys,
                self.pushed,
                &r.near_misses,
                &r.conversions,
                self.max_unlocks,
            )
        } else {
            Vec::new()
        };
        for (place, u) in unlocks.iter().enumerate() {
            let ids = u
                .measures
                .iter()
                .map(|&m| catalog.measures[m as usize].measure.id.as_str())
                .collect::<Vec<_>>()
                .join(",");
            self.unlocks.write(
                &[
                    &r.id,
                    self.unlock_keys.label(u.key),
                    &u.measures.len().to_string(),
                    &ids,
                    &(place + 1).to_string(),
                ],
                None,
            )?;
        }
        if self.digest.enabled() {
            self.digest(catalog, texts, r, &unlocks, &new_pushes)?;
        }
        for &(mi, c) in &r.near_misses {
            let cm = &catalog.measures[mi as usize];
            let cells = [
                r.id.as_str(),
                &cm.measure.id,
                &cm.conditions[c as usize].label,
            ];
            let fragments: [&[u8]; 2] = [
                &id_fragment,
                &self.fragments.near_miss[mi as usize][c as usize],
            ];
            self.near_misses
                .write(&cells, self.csv.then_some(&fragments[..]))?;
        }
        for (mi, missing) in &r.undetermined {
            let id = &catalog.measures[*mi as usize].measure.id;
            self.undetermined.write(&[&r.id, id, missing], None)?;
        }
        for (mi, error) in &r.errors {
            let id = &catalog.measures[*mi as usize].measure.id;
            self.errors.write(&[&r.id, id, error], None)?;
        }
        Ok(())
    }

    /// The enterprise's digest row, when it has pushes or grants: its pushes in rank
    /// order with their titles, its grants and their total in yuan, and the pushes new
    /// since the previous run.
    fn digest(
        &mut self,
        catalog: &Catalog,
        texts: &[MeasureText],
        r: &Results,
        unlocks: &[Unlock],
        new_pushes: &[&str],
    ) -> std::io::Result<()> {
        let mut pushes: Vec<(u8, usize, bool)> = r
            .eligible
            .iter()
            .filter(|e| e.rank > 0)
            .map(|e| (e.rank, e.measure as usize, e.pending))
            .collect();
        pushes.sort_unstable();
        let granted: Vec<f64> = r
            .eligible
            .iter()
            .filter(|e| !e.pending && catalog.measures[e.measure as usize].measure.auto_grant())
            .map(|e| {
                catalog.measures[e.measure as usize]
                    .measure
                    .cash(e.amount)
                    .unwrap_or(0.0)
            })
            .collect();
        if pushes.is_empty() && granted.is_empty() && unlocks.is_empty() {
            return Ok(());
        }
        // 「高新技术企业（可新享 3 项：M040、M041、M043）」
        let unlock_text = unlocks
            .iter()
            .map(|u| {
                let ids: Vec<&str> = u
                    .measures
                    .iter()
                    .map(|&m| catalog.measures[m as usize].measure.id.as_str())
                    .collect();
                format!(
                    "{}（可新享 {} 项：{}）",
                    self.unlock_keys.label(u.key),
                    ids.len(),
                    ids.join("、")
                )
            })
            .collect::<Vec<_>>()
            .join(" | ");
        let list = pushes
            .iter()
            .map(|&(_, mi, pending)| {
                // An amount that waits on a missing field is said so: 金额待核定.
                let note = if pending { "（金额待核定）" } else { "" };
                format!(
                    "{} {}{note}",
                    catalog.measures[mi].measure.id, texts[mi].title
                )
            })
            .collect::<Vec<_>>()
            .join(" | ");
        // Summed in measure order, rounded to 0.01 as every amount is.
        // (A fold from +0.0: an empty `sum` of floats is -0.0.)
        let total = (granted.iter().fold(0.0, |a, b| a + b) * 100.0).round() / 100.0;
        self.digest.write(
            &[
                &r.id,
                &r.name,
                &pushes.len().to_string(),
                &list,
                &granted.len().to_string(),
                &total.to_string(),
                &unlock_text,
                &new_pushes.join(","),
            ],
            None,
        )
    }
}
