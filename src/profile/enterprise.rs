//! Enterprise profiles (一企一档): identity, tags and typed fields, checked against the schema.

use std::collections::BTreeMap;

use jiff::civil::Date;
use serde::Serialize;

use crate::dates::parse_date;
use crate::profile::schema::FieldType;

use crate::profile::schema::Schema;
use crate::profile::uscc::UsccError;

/// A field value; dates are civil dates, numbers are finite.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum FieldValue {
    /// A `number` field.
    Number(f64),
    /// An `integer` field.
    Integer(i64),
    /// A `date` field.
    Date(Date),
    /// A `bool` field.
    Bool(bool),
}

/// A profile that passed the schema: every tag known, every field typed and in range.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Profile {
    /// The 统一社会信用代码.
    pub id: String,
    /// The enterprise name.
    pub name: String,
    /// `namespace:value` tags, sorted.
    pub tags: Vec<String>,
    /// The figures present, by field name; a missing field is absent, never zero.
    pub fields: BTreeMap<String, FieldValue>,
}

/// Why one profile was rejected.
#[derive(Debug, Clone, PartialEq, thiserror::Error, miette::Diagnostic)]
pub enum ProfileError {
    /// The id is not a valid 统一社会信用代码.
    #[error(transparent)]
    Id(#[from] UsccError),
    /// A JSON Lines record the batch reader would reject, with its reason.
    #[error("{0}")]
    Record(String),
    /// A tag outside the schema's vocabulary.
    #[error("{message}")]
    Tag { tag: String, message: String },
    /// A field the schema does not declare.
    #[error("unknown field `{field}`{}", suggestion.as_ref().map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default())]
    UnknownField {
        field: String,
        suggestion: Option<String>,
    },
    /// A value of the wrong type for its field.
    #[error("field `{field}` must be {expected}, found `{found}`")]
    FieldType {
        field: String,
        expected: &'static str,
        found: String,
    },
    /// A value outside its field's bounds.
    #[error("field `{field}` = {value} is outside [{min}, {max}]")]
    OutOfRange {
        field: String,
        value: f64,
        min: f64,
        max: f64,
    },
}

/// A field value before it is checked: what JSON, TOML or a CSV cell gives.
#[derive(Debug, Clone, PartialEq)]
pub enum RawValue {
    /// A JSON number with a fraction or exponent.
    Number(f64),
    /// A JSON integer.
    Integer(i64),
    /// A string (a date is written `YYYY-MM-DD`).
    Text(String),
    /// `true` or `false`.
    Bool(bool),
}

impl RawValue {
    fn describe(&self) -> String {
        match self {
            RawValue::Number(n) => n.to_string(),
            RawValue::Integer(i) => i.to_string(),
            RawValue::Text(s) => format!("\"{s}\""),
            RawValue::Bool(b) => b.to_string(),
        }
    }
}

impl Profile {
    /// Whether the profile carries `tag` exactly (`kind:individual_business`).
    pub fn has_tag(&self, tag: &str) -> bool {
        self.tags.binary_search_by(|t| t.as_str().cmp(tag)).is_ok()
    }

    /// Checks tags and fields against the schema. The id is checked separately
    /// (`check_id`) because rule examples use synthetic ids.
    pub fn build(
        schema: &Schema,
        id: String,
        name: String,
        tags: Vec<String>,
        fields: impl IntoIterator<Item = (String, RawValue)>,
    ) -> Result<Profile, ProfileError> {
        for tag in &tags {
            if let Err(p) = schema.check_tag(tag) {
                let mut message = p.message(tag);
                if let Some(h) = p.help() {
                    message.push_str(&format!(" ({h})"));
                }
                return Err(ProfileError::Tag {
                    tag: tag.clone(),
                    message,
                });
            }
        }
        let mut tags = tags;
        tags.sort();
        tags.dedup();
        let mut out = BTreeMap::new();
        for (name, raw) in fields {
            let Some(def) = schema.field(&name) else {
                return Err(ProfileError::UnknownField {
                    suggestion: schema.suggest_field(&name),
                    field: name,
                });
            };
            let mismatch = |raw: &RawValue| ProfileError::FieldType {
                field: def.name.clone(),
                expected: def.ty.as_str(),
                found: raw.describe(),
            };
            let value = match (def.ty, &raw) {
                (FieldType::Number, RawValue::Number(n)) => FieldValue::Number(*n),
                (FieldType::Number, RawValue::Integer(i)) => FieldValue::Number(*i as f64),
                (FieldType::Integer, RawValue::Integer(i)) => FieldValue::Integer(*i),
                (FieldType::Integer, RawValue::Number(n))
                    if n.fract() == 0.0 && n.abs() < 9.0e15 =>
                {
                    FieldValue::Integer(*n as i64)
                }
                (FieldType::Bool, RawValue::Bool(b)) => FieldValue::Bool(*b),
                (FieldType::Date, RawValue::Text(s)) => {
                    FieldValue::Date(parse_date(s).ok_or_else(|| mismatch(&raw))?)
                }
                _ => return Err(mismatch(&raw)),
            };
            let numeric = match value {
                FieldValue::Number(n) => Some(n),
                FieldValue::Integer(i) => Some(i as f64),
                _ => None,
            };
            if let Some(v) = numeric {
                if !v.is_finite() {
                    return Err(mismatch(&raw));
                }
                let (min, max) = (
                    def.min.unwrap_or(f64::NEG_INFINITY),
                    def.max.unwrap_or(f64::INFINITY),
                );
                if v < min || v > max {
                    return Err(ProfileError::OutOfRange {
                        field: def.name.clone(),
                        value: v,
                        min,
                        max,
                    });
                }
            }
            out.insert(name, value);
        }
        Ok(Profile {
            id,
            name,
            tags,
            fields: out,
        })
    }
}
