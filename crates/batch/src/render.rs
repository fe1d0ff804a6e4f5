//! CSV rows built from pre-rendered fragments.
//!
//! A push row is mostly text that depends on the measure alone (id, title, zone, window,
//! scenario, departments) or on the enterprise alone (id, name). The csv writer quotes
//! each field on its own, so a row is the comma-joined renderings of its parts: each part
//! is rendered once — per measure at the start of the run, per enterprise as it streams
//! by — and a row costs a few copies instead of quoting 250 bytes anew.

use policy_match::compile::catalog::Catalog;

use crate::table::CellRef;

/// The fields rendered as one CSV fragment: quoted where the csv writer would quote them,
/// comma-separated, without a line end.
pub fn fields(cells: &[&str]) -> Vec<u8> {
    let mut out = Vec::with_capacity(cells.iter().map(|c| c.len() + 1).sum());
    for (i, cell) in cells.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        push_field(&mut out, cell);
    }
    out
}

/// Appends typed cells as [`fields`] renders their texts ([`CellRef::write_text`]);
/// `scratch` holds each cell's text in turn.
pub fn cells(out: &mut Vec<u8>, cells: &[CellRef<'_>], scratch: &mut String) {
    for (i, cell) in cells.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        scratch.clear();
        cell.write_text(scratch);
        push_field(out, scratch);
    }
}

fn push_field(out: &mut Vec<u8>, cell: &str) {
    // Most fields need no quotes and are copied; the csv writer renders the others.
    // (It also quotes a record of one empty field, `""`, so that it is not an empty
    // line; inside a longer row that field is written as nothing, as here.)
    if cell
        .bytes()
        .any(|b| matches!(b, b',' | b'"' | b'\n' | b'\r'))
    {
        out.extend(quoted(cell));
    } else {
        out.extend_from_slice(cell.as_bytes());
    }
}

/// One field as the csv writer renders it in a record of two fields.
fn quoted(cell: &str) -> Vec<u8> {
    let mut w = csv::WriterBuilder::new()
        .has_headers(false)
        .from_writer(Vec::new());
    // Writing to memory cannot fail; an error would leave the field empty, and the
    // fragment test below would catch a difference.
    let _ = w.write_record([cell, ""]);
    let mut out = w.into_inner().unwrap_or_default();
    // Drop the `,` and line end of the empty second field.
    out.truncate(out.len().saturating_sub(2));
    out
}

/// What each measure contributes to the rows of a run.
pub struct Fragments {
    /// `measure_id,title,zone,window,scenario,lead_departments` of a push row.
    push: Vec<Vec<u8>>,
    /// `measure_id,label` of a near-miss row, per condition.
    pub near_miss: Vec<Vec<Vec<u8>>>,
    /// The reasons per measure, for each set of conditions that held seen so far (an
    /// eligible pair's set is nearly always the same, so the list stays short).
    reasons: Vec<Vec<Reasons>>,
    /// The key the next set of reasons seen gets.
    next_key: u32,
}

/// A push's reasons: the labels of the conditions that held.
struct Reasons {
    passed: u64,
    /// `score,reasons` as CSV.
    csv: Vec<u8>,
    /// The labels joined by `；`.
    text: String,
    /// The same for every push with these reasons, in the run: a key of the text
    /// ([`CellRef::Keyed`]).
    key: u32,
}

/// A push row's parts that depend on its measure and its reasons alone.
pub struct PushParts<'f> {
    /// `measure_id,title,zone,window,scenario,lead_departments` as CSV.
    pub measure: &'f [u8],
    /// `score,reasons` as CSV.
    pub reasons_csv: &'f [u8],
    pub reasons: &'f str,
    pub reasons_key: u32,
}

impl Fragments {
    pub fn new(catalog: &Catalog) -> Fragments {
        let push = catalog
            .measures
            .iter()
            .map(|cm| {
                let m = &cm.measure;
                fields(&[
                    &m.id,
                    &policy_match::report::explain::title(m),
                    &m.zone,
                    &m.window,
                    m.scenario_name.as_deref().unwrap_or_default(),
                    &m.lead_departments.join("、"),
                ])
            })
            .collect();
        let near_miss = catalog
            .measures
            .iter()
            .map(|cm| {
                cm.conditions
                    .iter()
                    .map(|c| fields(&[&cm.measure.id, &c.label]))
                    .collect()
            })
            .collect();
        Fragments {
            push,
            near_miss,
            reasons: (0..catalog.measures.len()).map(|_| Vec::new()).collect(),
            next_key: 0,
        }
    }

    /// The measure's part of a push row, and its reasons for the conditions that held.
    pub fn push(&mut self, catalog: &Catalog, measure: usize, passed: u64) -> PushParts<'_> {
        let seen = &mut self.reasons[measure];
        let at = match seen.iter().position(|r| r.passed == passed) {
            Some(at) => at,
            None => {
                let labels: Vec<&str> = catalog.measures[measure].labels(passed).collect();
                let text = labels.join("；");
                seen.push(Reasons {
                    passed,
                    csv: fields(&[&passed.count_ones().to_string(), &text]),
                    text,
                    key: self.next_key,
                });
                self.next_key += 1;
                seen.len() - 1
            }
        };
        let r = &self.reasons[measure][at];
        PushParts {
            measure: &self.push[measure],
            reasons_csv: &r.csv,
            reasons: &r.text,
            reasons_key: r.key,
        }
    }
}

/// Appends one row: the fragments joined by commas, and a line end.
pub fn row(out: &mut Vec<u8>, parts: &[&[u8]]) {
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(p);
    }
    out.push(b'\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Joined fragments are byte for byte what the csv writer makes of the whole record.
    #[test]
    fn fragments_join_into_the_writers_row() {
        let cells = [
            "91330603MA2BK7R415",
            "绍兴,柯桥\"示例\"",
            "M017",
            "",
            "多行\n文本",
            "7",
            "",
        ];
        let whole = {
            let mut w = csv::WriterBuilder::new()
                .has_headers(false)
                .from_writer(Vec::new());
            w.write_record(cells).unwrap();
            w.into_inner().unwrap()
        };
        for split in 1..cells.len() {
            let mut out = Vec::new();
            row(
                &mut out,
                &[&fields(&cells[..split]), &fields(&cells[split..])],
            );
            assert_eq!(out, whole, "split at {split}");
        }
    }
}
