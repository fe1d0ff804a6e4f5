//! A record while it is generated: its random stream, and tags and fields kept only where
//! the schema has them, so that the generator serves a trimmed schema too.

use crate::profile::enterprise::RawValue;
use crate::profile::record::RawRecord;
use crate::profile::record::field_rank;
use crate::profile::schema::FieldType;
use crate::profile::schema::Schema;
use crate::synth::MISSING;
use crate::synth::rng::Rng;

/// The last date generated: the as-of date of the examples.
pub(super) const LAST_YEAR: i32 = 2025;
const LAST_MONTH: u32 = 6;

/// A record being built: tags and fields checked against the schema as they are added.
pub(super) struct Draft<'s> {
    schema: &'s Schema,
    pub(super) rng: Rng,
    tags: Vec<String>,
    fields: Vec<(String, RawValue)>,
}

/// A field value before [`Draft::put`] fits it to the schema's type and bounds.
pub(super) enum Val {
    F(f64),
    I(i64),
    Date(i32, u32, u32),
    B(bool),
}

impl<'s> Draft<'s> {
    pub(super) fn new(schema: &'s Schema, rng: Rng) -> Draft<'s> {
        Draft {
            schema,
            rng,
            tags: Vec::with_capacity(12),
            fields: Vec::with_capacity(12),
        }
    }

    pub(super) fn tag(&mut self, ns: &str, value: &str) {
        if self.schema.namespaces.contains_key(ns) {
            self.tags.push(format!("{ns}:{value}"));
        }
    }

    /// Adds a field the schema has, in its type and within its bounds; left out with
    /// probability [`MISSING`].
    pub(super) fn put(&mut self, name: &str, v: Val) {
        let Some(def) = self.schema.field(name) else {
            return;
        };
        if self.rng.chance(MISSING) {
            return;
        }
        let lo = def.min.unwrap_or(f64::NEG_INFINITY);
        let hi = def.max.unwrap_or(f64::INFINITY);
        let raw = match (def.ty, v) {
            (FieldType::Number, Val::F(x)) => RawValue::Number(x.clamp(lo, hi)),
            (FieldType::Number, Val::I(x)) => RawValue::Number((x as f64).clamp(lo, hi)),
            (FieldType::Integer, Val::I(x)) => {
                RawValue::Integer((x as f64).clamp(lo.ceil(), hi.floor()) as i64)
            }
            (FieldType::Integer, Val::F(x)) => {
                RawValue::Integer(x.round().clamp(lo.ceil(), hi.floor()) as i64)
            }
            (FieldType::Date, Val::Date(y, m, d)) => {
                RawValue::Text(format!("{y:04}-{m:02}-{d:02}"))
            }
            (FieldType::Bool, Val::B(b)) => RawValue::Bool(b),
            _ => return,
        };
        self.fields.push((name.to_owned(), raw));
    }

    /// The record of row index `i`, its fields in schema order as a reader gives them.
    pub(super) fn finish(self, i: usize, id: String, name: String) -> RawRecord {
        let mut fields = self.fields;
        sort_fields(self.schema, &mut fields);
        RawRecord {
            row: i + 1,
            id: Some(id),
            name: Some(name),
            tags: self.tags,
            fields,
            problems: Vec::new(),
        }
    }
}

/// Puts fields in schema order (those outside it last), as a reader gives them.
pub(super) fn sort_fields(schema: &Schema, fields: &mut [(String, RawValue)]) {
    fields.sort_by_key(|(n, _)| field_rank(schema, n));
}

/// A date in the years `lo_year..=hi_year`, not after the as-of month.
pub(super) fn date_in(rng: &mut Rng, lo_year: i32, hi_year: i32) -> (i32, u32, u32) {
    let y = rng.int(i64::from(lo_year), i64::from(hi_year.min(LAST_YEAR))) as i32;
    let m_hi = if y == LAST_YEAR { LAST_MONTH } else { 12 };
    let m = rng.int(1, i64::from(m_hi)) as u32;
    let d = rng.int(1, i64::from(days_in_month(y, m))) as u32;
    (y, m, d)
}

fn days_in_month(y: i32, m: u32) -> u32 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// `v` rounded to `decimals` places, as the figures of a register are.
pub(super) fn round_to(v: f64, decimals: i32) -> f64 {
    let p = 10f64.powi(decimals);
    (v * p).round() / p
}
