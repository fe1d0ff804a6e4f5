//! Enterprise profiles (一企一档): identity, tags and typed fields, checked against the schema.

use std::collections::BTreeMap;
use std::io::BufRead;
use std::path::Path;

use jiff::civil::Date;
use serde::Serialize;

use crate::schema::{FieldType, Schema};
use crate::uscc::{self, UsccError};

/// A field value; dates are civil dates, numbers are finite.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum FieldValue {
    Number(f64),
    Integer(i64),
    Date(Date),
    Bool(bool),
}

/// A profile that passed the schema: every tag known, every field typed and in range.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Profile {
    pub id: String,
    pub name: String,
    pub tags: Vec<String>,
    pub fields: BTreeMap<String, FieldValue>,
}

/// Why one profile was rejected.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ProfileError {
    #[error(transparent)]
    Id(#[from] UsccError),
    #[error("not a JSON object with `id`, `name`, `tags` and `fields`: {0}")]
    Shape(String),
    #[error("{message}")]
    Tag { tag: String, message: String },
    #[error("unknown field `{field}`{}", suggestion.as_ref().map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default())]
    UnknownField {
        field: String,
        suggestion: Option<String>,
    },
    #[error("field `{field}` must be {expected}, found `{found}`")]
    FieldType {
        field: String,
        expected: &'static str,
        found: String,
    },
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
    Number(f64),
    Integer(i64),
    Text(String),
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

    /// Parses one JSON Lines record: `{"id", "name", "tags": [...], "fields": {...}}`.
    pub fn from_json(schema: &Schema, line: &str) -> Result<Profile, ProfileError> {
        #[derive(serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Record {
            id: String,
            name: String,
            #[serde(default)]
            tags: Vec<String>,
            #[serde(default)]
            fields: serde_json::Map<String, serde_json::Value>,
        }
        let rec: Record =
            serde_json::from_str(line).map_err(|e| ProfileError::Shape(e.to_string()))?;
        uscc::validate(&rec.id)?;
        let mut fields = Vec::with_capacity(rec.fields.len());
        for (k, v) in rec.fields {
            let raw = match v {
                // JSON null is "no value": the field is missing, not zero.
                serde_json::Value::Null => continue,
                serde_json::Value::Bool(b) => RawValue::Bool(b),
                serde_json::Value::String(s) => RawValue::Text(s),
                serde_json::Value::Number(n) => match n.as_i64() {
                    Some(i) => RawValue::Integer(i),
                    None => RawValue::Number(n.as_f64().unwrap_or(f64::NAN)),
                },
                other => {
                    return Err(ProfileError::FieldType {
                        field: k,
                        expected: "a scalar",
                        found: other.to_string(),
                    });
                }
            };
            fields.push((k, raw));
        }
        Profile::build(schema, rec.id, rec.name, rec.tags, fields)
    }
}

/// Parses `YYYY-MM-DD` strictly.
pub fn parse_date(s: &str) -> Option<Date> {
    if s.len() != 10 {
        return None;
    }
    s.parse::<Date>().ok()
}

/// A record of a JSON Lines file that could not be used, with where it stands.
#[derive(Debug, Clone, Serialize)]
pub struct Reject {
    pub line: usize,
    pub id: Option<String>,
    pub reason: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("cannot read enterprises file `{path}`: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
}

/// Reads a JSON Lines file of profiles. Bad lines are returned as rejects, never dropped;
/// a duplicate id is rejected on its second appearance.
pub fn read_jsonl(schema: &Schema, path: &Path) -> Result<(Vec<Profile>, Vec<Reject>), ReadError> {
    let io = |source| ReadError::Io {
        path: path.display().to_string(),
        source,
    };
    let file = std::fs::File::open(path).map_err(io)?;
    let mut profiles = Vec::new();
    let mut rejects = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for (i, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line.map_err(io)?;
        if line.trim().is_empty() {
            continue;
        }
        let line_no = i + 1;
        match Profile::from_json(schema, &line) {
            Ok(p) if !seen.insert(p.id.clone()) => rejects.push(Reject {
                line: line_no,
                id: Some(p.id.clone()),
                reason: format!("duplicate id `{}`", p.id),
            }),
            Ok(p) => profiles.push(p),
            Err(e) => rejects.push(Reject {
                line: line_no,
                id: json_id(&line),
                reason: e.to_string(),
            }),
        }
    }
    Ok((profiles, rejects))
}

fn json_id(line: &str) -> Option<String> {
    let v: serde_json::Value = serde_json::from_str(line).ok()?;
    v.get("id")?.as_str().map(str::to_owned)
}
