//! Unlock keys: the same condition across measures named once, so that an enterprise's
//! near misses group into unlocks (「高新技术企业（可新享 3 项）」) — catalog data, built
//! when the catalog is.

use std::collections::HashMap;

use crate::compile::CompiledMeasure;
use crate::rules::ir::Test;

/// The same condition across measures: measures that test the same tag (or tags, or
/// expression) share one key, named by the label of the first measure that tests it.
/// One more key, the last, is 个转企 ([`crate::names::CONVERSION_UNLOCK`]).
#[derive(Debug, Clone)]
pub struct UnlockKeys {
    /// `key_of[measure][condition]`.
    key_of: Vec<Vec<u32>>,
    labels: Vec<String>,
}

impl UnlockKeys {
    /// The keys of every condition of `measures`.
    pub fn new(measures: &[CompiledMeasure]) -> UnlockKeys {
        let mut index: HashMap<String, u32> = HashMap::new();
        let mut labels = Vec::new();
        let key_of = measures
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
        labels.push(crate::names::CONVERSION_UNLOCK.to_owned());
        UnlockKeys { key_of, labels }
    }

    /// The label an unlock is named by.
    pub fn label(&self, key: u32) -> &str {
        &self.labels[key as usize]
    }

    /// The key of condition `condition` of measure `measure`.
    pub fn key(&self, measure: usize, condition: usize) -> u32 {
        self.key_of[measure][condition]
    }

    /// The key of 个转企, after every condition's.
    pub fn conversion(&self) -> u32 {
        (self.labels.len() - 1) as u32
    }
}
