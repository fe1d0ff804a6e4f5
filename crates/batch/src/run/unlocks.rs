//! Unlocks: an enterprise's near misses grouped by the condition that failed, so that it
//! reads 「高新技术企业（可新享 3 项：M040、M041、M043）」 once instead of one near miss per
//! measure, ranked by how many pushed measures each would open.

use std::collections::HashMap;

use super::*;
use policy_match::rules::ir::Test;

/// The same condition across measures: measures that test the same tag (or tags, or
/// expression) share one key, named by the label of the first measure that tests it.
pub(super) struct UnlockKeys {
    /// `key_of[measure][condition]`.
    key_of: Vec<Vec<u32>>,
    labels: Vec<String>,
}

impl UnlockKeys {
    pub(super) fn new(catalog: &Catalog) -> UnlockKeys {
        let mut index: HashMap<String, u32> = HashMap::new();
        let mut labels = Vec::new();
        let key_of = catalog
            .measures
            .iter()
            .map(|cm| {
                cm.measure
                    .conditions()
                    .map(|(_, c)| {
                        let canonical = match &c.test {
                            Test::Has(t) => format!("has {t}"),
                            Test::Lacks(t) => format!("lacks {t}"),
                            Test::Any(ts) => {
                                let mut ts = ts.clone();
                                ts.sort();
                                format!("any {}", ts.join(" "))
                            }
                            Test::When(e) => format!("when {}", e.source),
                        };
                        *index.entry(canonical).or_insert_with(|| {
                            labels.push(c.label.clone());
                            (labels.len() - 1) as u32
                        })
                    })
                    .collect()
            })
            .collect();
        UnlockKeys { key_of, labels }
    }

    /// The label an unlock is named by.
    pub(super) fn label(&self, key: u32) -> &str {
        &self.labels[key as usize]
    }
}

/// One condition an enterprise could meet, and the pushed measures it would open.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Unlock {
    pub(super) key: u32,
    /// Measure indices, in catalog order.
    pub(super) measures: Vec<u16>,
}

/// The enterprise's unlocks, best first, at most `max`: near misses of pushed measures
/// grouped by their condition, ranked by how many measures each opens, then by key (the
/// catalog order of the condition's first appearance).
pub(super) fn unlocks(
    keys: &UnlockKeys,
    pushed: &[bool],
    near_misses: &[(u16, u8)],
    max: usize,
) -> Vec<Unlock> {
    let mut groups: Vec<Unlock> = Vec::new();
    for &(m, c) in near_misses {
        if !pushed[m as usize] {
            continue;
        }
        let key = keys.key_of[m as usize][c as usize];
        match groups.iter_mut().find(|g| g.key == key) {
            Some(g) => g.measures.push(m),
            None => groups.push(Unlock {
                key,
                measures: vec![m],
            }),
        }
    }
    groups.sort_by(|a, b| {
        b.measures
            .len()
            .cmp(&a.measures.len())
            .then(a.key.cmp(&b.key))
    });
    groups.truncate(max);
    groups
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn near_misses_on_one_condition_become_one_unlock_ranked_by_what_it_opens() {
        let catalog = Catalog::builtin().expect("built-in catalog");
        let keys = UnlockKeys::new(&catalog);
        // The condition shared by the most pushed measures, as (measure, condition) pairs.
        let mut by_key: HashMap<u32, Vec<(u16, u8)>> = HashMap::new();
        for (i, cm) in catalog.measures.iter().enumerate() {
            if !cm.measure.pushed() {
                continue;
            }
            for (c, &key) in keys.key_of[i].iter().enumerate() {
                by_key.entry(key).or_default().push((i as u16, c as u8));
            }
        }
        let (_, shared) = by_key
            .into_iter()
            .max_by_key(|(key, pairs)| (pairs.len(), std::cmp::Reverse(*key)))
            .expect("a pushed measure");
        assert!(shared.len() >= 2, "{shared:?}");
        let other = catalog
            .measures
            .iter()
            .position(|cm| cm.measure.pushed() && cm.measure.conditions().count() > 1)
            .expect("a pushed measure");
        let mut near = shared.clone();
        near.push((other as u16, 1));
        near.sort_unstable();
        let pushed: Vec<bool> = catalog
            .measures
            .iter()
            .map(|cm| cm.measure.pushed())
            .collect();
        let got = unlocks(&keys, &pushed, &near, 3);
        assert_eq!(got[0].measures.len(), shared.len());
        assert_eq!(
            got[0].measures,
            shared.iter().map(|&(m, _)| m).collect::<Vec<_>>()
        );
        assert!(!keys.label(got[0].key).is_empty());
        assert_eq!(unlocks(&keys, &pushed, &near, 1).len(), 1, "capped");
        assert!(unlocks(&keys, &pushed, &near, 0).is_empty());
    }
}
