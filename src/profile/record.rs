//! One input row before it is checked, whatever format it came from, and the way it
//! becomes a [`Profile`] or a [`Reject`].
//!
//! The population layout shared by CSV and Parquet (and written by `gen`): columns `id`,
//! `name`, `tags`, then one column per schema field, named after it, in schema order.
//! CSV holds tags in one cell separated by `;`; Parquet as `list<string>`.

use serde::Serialize;

use crate::profile::enterprise::Profile;

use crate::profile::enterprise::RawValue;
use crate::profile::schema::Schema;
use crate::profile::uscc;

/// The longest input record (a CSV record, a JSON Lines line) read. A CSV record over it is
/// almost always an unclosed quote swallowing the rest of the file.
pub const MAX_RECORD_BYTES: usize = 1 << 20;

/// The longest cell (an id, a name, a tag, a text value) accepted; a name is copied into
/// every output row of its enterprise.
pub const MAX_CELL_BYTES: usize = 4096;

/// The separator of tags inside one CSV cell.
pub const TAG_SEPARATOR: char = ';';

/// One input row before it is checked, whatever its format.
#[derive(Debug, Clone, PartialEq)]
pub struct RawRecord {
    /// 1-based number of the data row in its file (a CSV header is not counted).
    pub row: usize,
    /// The id cell, when present.
    pub id: Option<String>,
    /// The name cell, when present.
    pub name: Option<String>,
    /// The tags, as read.
    pub tags: Vec<String>,
    /// Present cells only: an empty cell or a null is a missing field, and is left out.
    pub fields: Vec<(String, RawValue)>,
    /// Cells the reader could not read as their column's type; the row is rejected with them.
    pub problems: Vec<String>,
}

/// A row that could not be matched, and why. Never dropped: written to `rejects`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reject {
    /// 1-based number of the data row (the line of a JSON Lines file).
    pub row: usize,
    /// The id, when it could be read.
    pub id: Option<String>,
    /// Why, naming the field or cell.
    pub reason: String,
}

impl RawRecord {
    /// Checks the row: reader problems, the 统一社会信用代码, then tags and fields.
    pub fn into_profile(self, schema: &Schema) -> Result<Profile, Reject> {
        let row = self.row;
        let reject = |id: Option<String>, reason: String| Reject { row, id, reason };
        if !self.problems.is_empty() {
            return Err(reject(self.id.clone(), self.problems.join("; ")));
        }
        if let Some(problem) = self.oversized_cell() {
            let id = self.id.clone().filter(|id| id.len() <= MAX_CELL_BYTES);
            return Err(reject(id, problem));
        }
        let Some(id) = self.id.filter(|s| !s.is_empty()) else {
            return Err(reject(
                None,
                "the id (统一社会信用代码) is missing".to_owned(),
            ));
        };
        if let Err(e) = uscc::validate(&id) {
            return Err(reject(Some(id), e.to_string()));
        }
        // The record is consumed: its texts move into the profile, uncopied.
        Profile::build(
            schema,
            id.clone(),
            self.name.unwrap_or_default(),
            self.tags,
            self.fields,
        )
        .map_err(|e| reject(Some(id), e.to_string()))
    }

    fn oversized_cell(&self) -> Option<String> {
        let texts = [("id", self.id.as_deref()), ("name", self.name.as_deref())]
            .into_iter()
            .filter_map(|(c, v)| Some((c, v?)))
            .chain(self.tags.iter().map(|t| ("tags", t.as_str())))
            .chain(self.fields.iter().filter_map(|(name, v)| match v {
                RawValue::Text(t) => Some((name.as_str(), t.as_str())),
                _ => None,
            }));
        for (column, text) in texts {
            if text.len() > MAX_CELL_BYTES {
                return Some(format!(
                    "`{column}` holds {} bytes, over the limit of {MAX_CELL_BYTES}",
                    text.len()
                ));
            }
        }
        None
    }
}

/// Splits a CSV tag cell: `kind:enterprise;size:small`, blanks ignored.
pub fn split_tags(cell: &str) -> Vec<String> {
    cell.split(TAG_SEPARATOR)
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Parses a text cell as a value of `ty`; `None` for an empty cell (missing field).
pub fn parse_cell(
    ty: crate::profile::schema::FieldType,
    cell: &str,
) -> Option<Result<RawValue, String>> {
    use crate::profile::schema::FieldType;
    let cell = cell.trim();
    if cell.is_empty() {
        return None;
    }
    Some(match ty {
        FieldType::Number => cell
            .parse::<f64>()
            .map(RawValue::Number)
            .map_err(|_| format!("`{cell}` is not a number")),
        FieldType::Integer => cell
            .parse::<i64>()
            .map(RawValue::Integer)
            .map_err(|_| format!("`{cell}` is not an integer")),
        FieldType::Date => Ok(RawValue::Text(cell.to_owned())),
        FieldType::Bool => match cell {
            "true" => Ok(RawValue::Bool(true)),
            "false" => Ok(RawValue::Bool(false)),
            _ => Err(format!("`{cell}` is not true or false")),
        },
    })
}

/// How readers report a cell they could not read as its column's type:
/// ``field `employees`: `abc` is not an integer`` (`message` as
/// [`parse_cell`](parse_cell) gives it).
pub fn cell_problem(field: &str, message: &str) -> String {
    format!("field `{field}`: {message}")
}

/// The field and the raw cell text of a [`cell_problem`] whose message starts with the
/// cell in backticks, as `parse_cell`'s do; `None` for any other problem.
pub fn problem_cell(problem: &str) -> Option<(&str, &str)> {
    let rest = problem.strip_prefix("field `")?;
    let (field, rest) = rest.split_once("`: `")?;
    let end = rest.rfind("` is not ").or_else(|| rest.rfind("` "))?;
    Some((field, &rest[..end]))
}

/// Position of a field in schema order; fields outside the schema after all others.
pub fn field_rank(schema: &Schema, name: &str) -> usize {
    schema.field(name).map_or(usize::MAX, |f| f.index)
}
