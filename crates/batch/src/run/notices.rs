//! The `notices` table: each `notice` measure in effect, once, with its audience in words
//! and how many enterprises of the run are in it — to be published through the channels
//! 附件2 lists, instead of being pushed to every enterprise one by one.

use super::*;
use policy_match::rules::ir::{Measure, Nature};

pub(super) const NOTICE_COLUMNS: &[(&str, ColType)] = &[
    ("measure_id", ColType::Str),
    ("title", ColType::Str),
    ("audience", ColType::Str),
    ("zone", ColType::Str),
    ("window", ColType::Str),
    ("channels", ColType::Str),
    ("in_scope", ColType::Int),
];

/// Who a measure addresses, in its own labels: the base conditions, and one of the
/// alternatives when it has any (「企业；小微企业（以下之一：…）」).
fn audience(m: &Measure) -> String {
    let base: Vec<&str> = m
        .eligibility
        .base
        .conditions
        .iter()
        .map(|c| c.label.as_str())
        .collect();
    let mut words = base.join("；");
    let alternatives: Vec<&str> = m
        .eligibility
        .alternatives
        .iter()
        .filter_map(|g| g.label.as_deref())
        .collect();
    if !alternatives.is_empty() {
        if !words.is_empty() {
            words.push('；');
        }
        words.push_str(&format!("以下之一：{}", alternatives.join(" / ")));
    }
    words
}

/// One row per `notice` measure in effect on `as_of`, in id order; `in_scope` is the
/// number of the run's enterprises for whom it is eligible (`by_measure`, in catalog
/// order).
pub(super) fn notices(catalog: &Catalog, as_of: Date, by_measure: &[MeasureCounts]) -> Table {
    let mut table = Table::new("notices", NOTICE_COLUMNS);
    for (cm, counts) in catalog.measures.iter().zip(by_measure) {
        let m = &cm.measure;
        if m.nature != Nature::Notice || !m.in_effect(as_of) {
            continue;
        }
        table.push(vec![
            s(&m.id),
            s(policy_match::report::explain::title(m)),
            s(audience(m)),
            s(&m.zone),
            s(&m.window),
            s(&m.channels),
            Cell::Int(counts.eligible as i64),
        ]);
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_notice_measure_in_effect_once_with_its_audience_and_count() {
        let catalog = Catalog::builtin().expect("built-in catalog");
        let as_of = jiff::civil::date(2026, 11, 26);
        let counts: Vec<MeasureCounts> = (0..catalog.measures.len())
            .map(|i| MeasureCounts {
                eligible: i as u64,
                ..MeasureCounts::default()
            })
            .collect();
        let table = notices(&catalog, as_of, &counts);
        let want: Vec<(usize, &str)> = catalog
            .measures
            .iter()
            .enumerate()
            .filter(|(_, cm)| cm.measure.nature == Nature::Notice && cm.measure.in_effect(as_of))
            .map(|(i, cm)| (i, cm.measure.id.as_str()))
            .collect();
        assert!(!want.is_empty());
        assert_eq!(table.rows.len(), want.len());
        for (row, (i, id)) in table.rows.iter().zip(&want) {
            assert_eq!(row[0], Cell::Str((*id).to_owned()));
            assert!(
                matches!(&row[2], Cell::Str(a) if !a.is_empty()),
                "{id}: an audience"
            );
            assert_eq!(row[6], Cell::Int(*i as i64), "{id}: its own count");
        }
    }
}
