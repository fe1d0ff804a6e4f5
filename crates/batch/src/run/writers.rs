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
    /// The records written so far: the number of the enterprise whose rows are being
    /// written ([`CellRef::Run`]).
    pub(super) records: u64,
    /// The digest's push lists and unlock texts, by what they list.
    pub(super) push_lists: TextCache,
    pub(super) unlock_texts: TextCache,
}

/// Texts built from a short list of numbers (an enterprise's push list from its
/// measures), kept by that list: the many enterprises with the same list share one text
/// and one key ([`CellRef::Keyed`]) instead of each building and storing its own. At 1M
/// enterprises, 3 789 distinct push lists of 941 bytes on average.
#[derive(Default)]
pub(super) struct TextCache {
    texts: rustc_hash::FxHashMap<Vec<u32>, (u32, String)>,
    next_key: u32,
}

/// Texts a [`TextCache`] holds at most: where lists rarely repeat, it starts afresh
/// rather than grow with the population.
const TEXT_CACHE_ENTRIES: usize = 1 << 16;

impl TextCache {
    /// The key and text of the list `ident`, built by `build` when not held. A key is
    /// never given to another text.
    pub(super) fn get(&mut self, ident: &[u32], build: impl FnOnce() -> String) -> (u32, &str) {
        if !self.texts.contains_key(ident) {
            if self.texts.len() >= TEXT_CACHE_ENTRIES {
                self.texts.clear();
            }
            self.texts.insert(ident.to_vec(), (self.next_key, build()));
            self.next_key += 1;
        }
        let (key, text) = &self.texts[ident];
        (*key, text)
    }
}

/// With a previous run: its next push, the rest of it, and the two difference tables.
pub(super) struct Diff {
    pub(super) head: Option<(String, String)>,
    pub(super) prev: Previous,
    pub(super) new: TableWriter,
    pub(super) revoked: TableWriter,
}

impl<'k> Writers<'k> {
    /// Writers of no table (each [`TableWriter::skipped`]), to be given their tables:
    /// `unlocks` is the unlock keys, the measures pushed, and the most unlocks told.
    pub(super) fn none(
        catalog: &Catalog,
        (unlock_keys, pushed, max_unlocks): (&'k UnlockKeys, &'k [bool], usize),
        csv: bool,
    ) -> Writers<'k> {
        Writers {
            pushes: TableWriter::skipped("pushes"),
            push_ids: TableWriter::skipped("push_ids"),
            eligible: TableWriter::skipped("eligible"),
            digest: TableWriter::skipped("digest"),
            unlocks: TableWriter::skipped("unlocks"),
            unlock_keys,
            pushed,
            max_unlocks,
            grants: TableWriter::skipped("grants"),
            near_misses: TableWriter::skipped("near_misses"),
            undetermined: TableWriter::skipped("undetermined"),
            errors: TableWriter::skipped("errors"),
            diff: None,
            csv,
            fragments: Fragments::new(catalog),
            records: 0,
            push_lists: TextCache::default(),
            unlock_texts: TextCache::default(),
        }
    }

    /// The tables in two groups written on threads of their own
    /// ([`super::merge_threads`]): the push lists, and the rest. One group when one of
    /// them would have nothing to write, or with a previous run, whose new pushes the
    /// digest lists.
    pub(super) fn split(mut self, catalog: &Catalog) -> Vec<Writers<'k>> {
        let mut rest = Writers::none(
            catalog,
            (self.unlock_keys, self.pushed, self.max_unlocks),
            self.csv,
        );
        let lists = [&self.pushes, &self.push_ids, &self.eligible];
        let others = [
            &self.digest,
            &self.unlocks,
            &self.grants,
            &self.near_misses,
            &self.undetermined,
            &self.errors,
        ];
        if self.diff.is_some()
            || !lists.iter().any(|t| t.enabled())
            || !others.iter().any(|t| t.enabled())
        {
            return vec![self];
        }
        for (from, to) in [
            (&mut self.digest, &mut rest.digest),
            (&mut self.unlocks, &mut rest.unlocks),
            (&mut self.grants, &mut rest.grants),
            (&mut self.near_misses, &mut rest.near_misses),
            (&mut self.undetermined, &mut rest.undetermined),
            (&mut self.errors, &mut rest.errors),
        ] {
            std::mem::swap(from, to);
        }
        vec![self, rest]
    }

    /// The groups of [`Writers::split`] as one again, each table from the group that
    /// wrote it.
    pub(super) fn join(groups: Vec<Writers<'k>>) -> Writers<'k> {
        let mut groups = groups.into_iter();
        // `split` gives one group or more.
        let mut w = groups.next().expect("at least one group");
        for g in groups {
            for (into, from) in [
                (&mut w.pushes, g.pushes),
                (&mut w.push_ids, g.push_ids),
                (&mut w.eligible, g.eligible),
                (&mut w.digest, g.digest),
                (&mut w.unlocks, g.unlocks),
                (&mut w.grants, g.grants),
                (&mut w.near_misses, g.near_misses),
                (&mut w.undetermined, g.undetermined),
                (&mut w.errors, g.errors),
            ] {
                if from.enabled() {
                    *into = from;
                }
            }
        }
        w
    }

    /// Writes the rows of one enterprise. A failure to read the previous run is kept in
    /// `previous_failure`, apart from failures to write.
    pub(super) fn write(
        &mut self,
        catalog: &Catalog,
        texts: &[MeasureText],
        r: &Results,
        previous_failure: &mut Option<MatchError>,
    ) -> std::io::Result<()> {
        // CSV rows are joined from fragments rendered once; Parquet takes typed cells.
        let (id_fragment, enterprise_fragment) = if self.csv {
            (render::fields(&[&r.id]), render::fields(&[&r.id, &r.name]))
        } else {
            (Vec::new(), Vec::new())
        };
        self.records += 1;
        let record = self.records;
        let id = CellRef::Run(record, &r.id);
        // The push ids new since the previous run, for the digest.
        let mut new_pushes: Vec<&str> = Vec::new();
        for e in &r.eligible {
            let mi = e.measure as usize;
            let cm = &catalog.measures[mi];
            let m = &cm.measure;
            // Texts of the measure alone are keyed by its index.
            let key = e.measure as u32;
            let measure_id = CellRef::Keyed(key, &m.id);
            // A measure id is `M` and three digits: nothing to quote.
            let ids: [&[u8]; 2] = [&id_fragment, m.id.as_bytes()];
            if self.pushed[mi] && self.eligible.enabled() {
                self.eligible
                    .write(&[id, measure_id], self.csv.then_some(&ids[..]))?;
            }
            // Pushed, and kept by the cap.
            let pushed = e.rank > 0;
            if pushed && self.push_ids.enabled() {
                self.push_ids
                    .write(&[id, measure_id], self.csv.then_some(&ids[..]))?;
            }
            if pushed && (self.pushes.enabled() || self.diff.is_some()) {
                let t = &texts[mi];
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
                let parts = self.fragments.push(catalog, mi, e.passed);
                let cells = [
                    id,
                    CellRef::Run(record, &r.name),
                    measure_id,
                    CellRef::Keyed(key, &t.title),
                    CellRef::Keyed(key, &m.zone),
                    CellRef::Keyed(key, &m.window),
                    CellRef::Keyed(key, &t.scenario),
                    CellRef::Keyed(key, &t.departments),
                    CellRef::Int(i64::from(e.passed.count_ones())),
                    CellRef::Keyed(parts.reasons_key, parts.reasons),
                    CellRef::Int(i64::from(e.rank)),
                    CellRef::Float(e.amount),
                    CellRef::Keyed(key, unit),
                    CellRef::Keyed(key, kind),
                    // Nearly always none: one text shared by every row.
                    if pending.is_empty() {
                        CellRef::Keyed(0, "")
                    } else {
                        CellRef::Text(pending)
                    },
                ];
                let (rank, amount_cells) = if self.csv {
                    let amount = e.amount.map_or_else(String::new, |a| a.to_string());
                    (
                        e.rank.to_string(),
                        render::fields(&[&amount, unit, kind, pending]),
                    )
                } else {
                    (String::new(), Vec::new())
                };
                // A rank is digits: nothing to quote.
                let fragments: [&[u8]; 5] = [
                    &enterprise_fragment,
                    parts.measure,
                    parts.reasons_csv,
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
                        revoked.write(&[CellRef::Text(&old.0), CellRef::Text(&old.1)], None)?;
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
                let basis = match (&m.benefit, e.amount) {
                    (Some(decl), Some(a)) => format!("{}: {a} {}", decl.label, decl.unit.chinese()),
                    _ => self
                        .fragments
                        .push(catalog, mi, e.passed)
                        .reasons
                        .to_owned(),
                };
                self.grants.write(
                    &[
                        id,
                        measure_id,
                        CellRef::Float(m.cash(e.amount)),
                        CellRef::Text(&basis),
                        CellRef::Run(record, &r.size),
                        CellRef::Run(record, &r.industry),
                    ],
                    None,
                )?;
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
                    id,
                    CellRef::Keyed(u.key, self.unlock_keys.label(u.key)),
                    CellRef::Int(u.measures.len() as i64),
                    CellRef::Text(&ids),
                    CellRef::Int(place as i64 + 1),
                ],
                None,
            )?;
        }
        if self.digest.enabled() {
            self.digest(catalog, texts, r, &unlocks, &new_pushes)?;
        }
        for &(mi, c) in &r.near_misses {
            let cm = &catalog.measures[mi as usize];
            // A condition's label, keyed by its measure and place.
            let condition = (u32::from(mi) << 8) | u32::from(c);
            let cells = [
                id,
                CellRef::Keyed(u32::from(mi), &cm.measure.id),
                CellRef::Keyed(condition, &cm.conditions[c as usize].label),
            ];
            let fragments: [&[u8]; 2] = [
                &id_fragment,
                &self.fragments.near_miss[mi as usize][c as usize],
            ];
            self.near_misses
                .write(&cells, self.csv.then_some(&fragments[..]))?;
        }
        for (mi, missing) in &r.undetermined {
            let measure_id = &catalog.measures[*mi as usize].measure.id;
            self.undetermined.write(
                &[
                    id,
                    CellRef::Keyed(u32::from(*mi), measure_id),
                    CellRef::Text(missing),
                ],
                None,
            )?;
        }
        for (mi, error) in &r.errors {
            let measure_id = &catalog.measures[*mi as usize].measure.id;
            self.errors.write(
                &[
                    id,
                    CellRef::Keyed(u32::from(*mi), measure_id),
                    CellRef::Text(error),
                ],
                None,
            )?;
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
        // 「高新技术企业（可新享 3 项：M040、M041、M043）」, by the unlocks' keys and
        // measures.
        let mut ident = Vec::new();
        for u in unlocks {
            ident.push(u.key);
            ident.push(u.measures.len() as u32);
            ident.extend(u.measures.iter().map(|&m| u32::from(m)));
        }
        let unlock_keys = self.unlock_keys;
        let (unlocks_key, unlock_text) = self.unlock_texts.get(&ident, || {
            unlocks
                .iter()
                .map(|u| {
                    let ids: Vec<&str> = u
                        .measures
                        .iter()
                        .map(|&m| catalog.measures[m as usize].measure.id.as_str())
                        .collect();
                    format!(
                        "{}（可新享 {} 项：{}）",
                        unlock_keys.label(u.key),
                        ids.len(),
                        ids.join("、")
                    )
                })
                .collect::<Vec<_>>()
                .join(" | ")
        });
        // The pushes in rank order, by their measures and pending amounts.
        ident.clear();
        ident.extend(
            pushes
                .iter()
                .map(|&(_, mi, pending)| ((mi as u32) << 1) | u32::from(pending)),
        );
        let (list_key, list) = self.push_lists.get(&ident, || {
            let mut list = String::new();
            for (i, &(_, mi, pending)) in pushes.iter().enumerate() {
                if i > 0 {
                    list.push_str(" | ");
                }
                list.push_str(&catalog.measures[mi].measure.id);
                list.push(' ');
                list.push_str(&texts[mi].title);
                // An amount that waits on a missing field is said so: 金额待核定.
                if pending {
                    list.push_str("（金额待核定）");
                }
            }
            list
        });
        // Summed in measure order, rounded to 0.01 as every amount is.
        // (A fold from +0.0: an empty `sum` of floats is -0.0.)
        let total = (granted.iter().fold(0.0, |a, b| a + b) * 100.0).round() / 100.0;
        self.digest.write(
            &[
                CellRef::Text(&r.id),
                CellRef::Text(&r.name),
                CellRef::Int(pushes.len() as i64),
                CellRef::Keyed(list_key, list),
                CellRef::Int(granted.len() as i64),
                CellRef::Float(Some(total)),
                CellRef::Keyed(unlocks_key, unlock_text),
                CellRef::Text(&new_pushes.join(",")),
            ],
            None,
        )
    }
}
