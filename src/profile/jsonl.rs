//! Profiles from JSON Lines, one object a line, the layout of
//! `fixtures/enterprises.jsonl`:
//! `{"id": "…", "name": "…", "tags": ["kind:enterprise", …], "fields": {"founded": "2006-03-18", "employees": 420, …}}`.
//! A missing field is left out (or `null`). Lines are read as [`RawRecord`]s that never
//! fail (a bad line carries its problem) and are checked by
//! [`RawRecord::into_profile`], so `explain` and `match` accept and refuse the same lines.

use std::fs::File;
use std::io::{self, BufRead, BufReader};
use std::path::Path;

use crate::profile::enterprise::Profile;

use crate::profile::enterprise::ProfileError;

use crate::profile::enterprise::RawValue;
use crate::profile::record::MAX_RECORD_BYTES;
use crate::profile::record::RawRecord;
use crate::profile::record::Reject;
use crate::profile::record::field_rank;
use crate::profile::schema::FieldType;
use crate::profile::schema::Schema;

/// The problem of a line over [`MAX_RECORD_BYTES`].
fn too_long(len: usize) -> String {
    format!("the line is {len} bytes long, over the limit of {MAX_RECORD_BYTES}")
}

/// The start of the problem of a line that is not a profile object.
pub const SHAPE: &str = "not a JSON object with `id`, `name`, `tags` and `fields`";

/// `"id": "…"` in a line that is not JSON, so that its reject can still name the enterprise.
fn scan_id(line: &str) -> Option<String> {
    let at = line.find("\"id\"")?;
    let rest = line[at + 4..]
        .trim_start()
        .strip_prefix(':')?
        .trim_start()
        .strip_prefix('"')?;
    let end = rest.find(['"', '\\'])?;
    Some(rest[..end].to_owned()).filter(|s| !s.is_empty())
}

fn describe(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a bool",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

/// One JSON Lines line as a RawRecord; never fails, a bad line gives a problem.
pub(crate) fn parse_line(schema: &Schema, row: usize, line: &str) -> RawRecord {
    use serde_json::Value;
    let mut r = RawRecord {
        row,
        id: None,
        name: None,
        tags: Vec::new(),
        fields: Vec::new(),
        problems: Vec::new(),
    };
    let obj = match serde_json::from_str::<Value>(line) {
        Ok(Value::Object(obj)) => obj,
        Ok(other) => {
            r.problems
                .push(format!("{SHAPE}: found {}", describe(&other)));
            return r;
        }
        Err(e) => {
            r.id = scan_id(line);
            r.problems.push(format!("{SHAPE}: {e}"));
            return r;
        }
    };
    for (k, v) in obj {
        match (k.as_str(), v) {
            ("id", Value::String(s)) => r.id = Some(s),
            ("name", Value::String(s)) => r.name = Some(s),
            ("id" | "name" | "tags" | "fields" | "problems", Value::Null) => {}
            ("id", v @ Value::Number(_)) => {
                r.problems
                    .push(format!("`id` must be a string, found `{v}`"));
                r.id = Some(v.to_string());
            }
            ("tags", Value::Array(items)) => {
                for t in items {
                    match t {
                        Value::String(s) => r.tags.push(s),
                        other => r
                            .problems
                            .push(format!("`tags` must hold strings, found `{other}`")),
                    }
                }
            }
            ("fields", Value::Object(fields)) => {
                for (name, v) in fields {
                    let numeric = schema
                        .field(&name)
                        .is_some_and(|f| matches!(f.ty, FieldType::Number | FieldType::Integer));
                    let raw = match v {
                        // JSON null is "no value": the field is missing, not zero.
                        Value::Null => continue,
                        Value::Bool(b) => RawValue::Bool(b),
                        Value::Number(n) => match n.as_i64() {
                            Some(i) => RawValue::Integer(i),
                            None => RawValue::Number(n.as_f64().unwrap_or(f64::NAN)),
                        },
                        Value::String(s)
                            if numeric
                                && matches!(
                                    s.trim().to_ascii_lowercase().as_str(),
                                    "nan"
                                        | "inf"
                                        | "+inf"
                                        | "-inf"
                                        | "infinity"
                                        | "+infinity"
                                        | "-infinity"
                                ) =>
                        {
                            r.problems
                                .push(format!("field `{name}`: `{s}` is not a finite number"));
                            continue;
                        }
                        Value::String(s) => RawValue::Text(s),
                        other => {
                            r.problems
                                .push(format!("field `{name}` must be a scalar, found `{other}`"));
                            continue;
                        }
                    };
                    r.fields.push((name, raw));
                }
            }
            ("problems", Value::Array(items)) => {
                r.problems.extend(items.into_iter().map(|p| match p {
                    Value::String(s) => s,
                    other => other.to_string(),
                }));
            }
            (key @ ("id" | "name" | "tags" | "fields" | "problems"), other) => {
                let expected = match key {
                    "tags" | "problems" => "a list of strings",
                    "fields" => "an object",
                    _ => "a string",
                };
                r.problems.push(format!(
                    "`{key}` must be {expected}, found {}",
                    describe(&other)
                ));
            }
            (other, _) => {
                r.problems.push(format!("unknown key `{other}`: {SHAPE}"));
            }
        }
    }
    r.fields.sort_by_key(|(n, _)| field_rank(schema, n));
    r
}

/// Reads JSON Lines in chunks of at most chunk_rows into RawRecords, calling `sink` with
/// each chunk in file order; returns how many records were read. `row` is the physical
/// line number; blank lines are skipped. Never fails on a bad line: a line that is not a
/// JSON object of the right shape becomes a RawRecord with its id (if readable) and a
/// problem. Only the file itself failing to open or read is an error. Repeated ids are
/// left to the caller, which sees every chunk.
pub fn read_records(
    path: &Path,
    schema: &Schema,
    chunk_rows: usize,
    sink: &mut dyn FnMut(Vec<RawRecord>),
) -> Result<usize, io::Error> {
    let named = |e: io::Error| io::Error::new(e.kind(), format!("`{}`: {e}", path.display()));
    let file = File::open(path).map_err(named)?;
    read_records_from(
        BufReader::with_capacity(1 << 16, file),
        schema,
        chunk_rows,
        sink,
    )
    .map_err(named)
}

/// [`read_records`] over any reader: a file, or the body of a request (`serve`).
pub fn read_records_from(
    mut reader: impl BufRead,
    schema: &Schema,
    chunk_rows: usize,
    sink: &mut dyn FnMut(Vec<RawRecord>),
) -> Result<usize, io::Error> {
    let chunk_rows = chunk_rows.max(1);
    let mut chunk = Vec::with_capacity(chunk_rows.min(1 << 16));
    let mut buf = Vec::new();
    let (mut line_no, mut total) = (0usize, 0usize);
    loop {
        buf.clear();
        let read = read_line_capped(&mut reader, &mut buf)?;
        if read == 0 {
            break;
        }
        line_no += 1;
        let mut bytes = buf.as_slice();
        if line_no == 1 {
            bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        }
        // Without its line end, a parse error is placed on line 1 of the record, as
        // `Profile::from_json` (and `serve`) place it, not at the start of a line 2.
        let bytes = bytes.strip_suffix(b"\n").unwrap_or(bytes);
        let bytes = bytes.strip_suffix(b"\r").unwrap_or(bytes);
        let unreadable = |problem: String| RawRecord {
            row: line_no,
            id: scan_id(&String::from_utf8_lossy(bytes)),
            name: None,
            tags: Vec::new(),
            fields: Vec::new(),
            problems: vec![problem],
        };
        let record = match std::str::from_utf8(bytes) {
            _ if read > MAX_RECORD_BYTES => unreadable(too_long(read)),
            Ok(line) if line.trim().is_empty() => continue,
            Ok(line) => parse_line(schema, line_no, line),
            Err(e) => unreadable(format!("the line is not valid UTF-8: {e}")),
        };
        chunk.push(record);
        total += 1;
        if chunk.len() == chunk_rows {
            sink(std::mem::replace(
                &mut chunk,
                Vec::with_capacity(chunk_rows.min(1 << 16)),
            ));
        }
    }
    if !chunk.is_empty() {
        sink(chunk);
    }
    Ok(total)
}

/// Reads one line into `buf`, keeping at most [`MAX_RECORD_BYTES`] + 1 bytes of it in
/// memory; returns the line's full length (0 at the end of input).
fn read_line_capped(reader: &mut impl BufRead, buf: &mut Vec<u8>) -> io::Result<usize> {
    let mut len = 0;
    loop {
        let available = match reader.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if available.is_empty() {
            return Ok(len);
        }
        let (take, done) = match available.iter().position(|&b| b == b'\n') {
            Some(i) => (i + 1, true),
            None => (available.len(), false),
        };
        let room = (MAX_RECORD_BYTES + 1).saturating_sub(buf.len());
        buf.extend_from_slice(&available[..take.min(room)]);
        reader.consume(take);
        len += take;
        if done {
            return Ok(len);
        }
    }
}

impl Profile {
    /// Parses one JSON Lines record: `{"id", "name", "tags": [...], "fields": {...}}`,
    /// with the reader and checks of the batch (`match`), so both accept the same lines
    /// — the size limit of a line included.
    pub fn from_json(schema: &Schema, line: &str) -> Result<Profile, ProfileError> {
        if line.len() > MAX_RECORD_BYTES {
            return Err(ProfileError::Record(too_long(line.len())));
        }
        parse_line(schema, 1, line)
            .into_profile(schema)
            .map_err(|r| ProfileError::Record(r.reason))
    }
}

/// Why a JSON Lines file of profiles could not be read at all (a bad line is a
/// [`Reject`], not an error).
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum ReadError {
    /// The message names the file.
    #[error("cannot read enterprises file {0}")]
    Io(#[source] std::io::Error),
}

/// Reads a JSON Lines file of profiles, as `match` reads it. Bad lines are returned as
/// rejects (`row` is the line number), never dropped; a duplicate id is rejected on its
/// second appearance.
pub fn read_jsonl(schema: &Schema, path: &Path) -> Result<(Vec<Profile>, Vec<Reject>), ReadError> {
    checked(schema, |sink| read_records(path, schema, 1024, sink))
}

/// [`read_jsonl`] over any reader, e.g. the JSON Lines body of a request: the profiles
/// in line order, and the rejected lines (`row` is the line number).
pub fn read_jsonl_from(
    schema: &Schema,
    reader: impl BufRead,
) -> Result<(Vec<Profile>, Vec<Reject>), ReadError> {
    checked(schema, |sink| read_records_from(reader, schema, 1024, sink))
}

/// The records `read` feeds, checked: profiles, and rejects for bad lines and repeated ids.
fn checked(
    schema: &Schema,
    read: impl FnOnce(&mut dyn FnMut(Vec<RawRecord>)) -> io::Result<usize>,
) -> Result<(Vec<Profile>, Vec<Reject>), ReadError> {
    let mut profiles = Vec::new();
    let mut rejects = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    read(&mut |chunk| {
        for record in chunk {
            let row = record.row;
            match record.into_profile(schema) {
                Ok(p) if !seen.insert(p.id.clone()) => rejects.push(Reject {
                    row,
                    id: Some(p.id.clone()),
                    reason: format!("duplicate id `{}`", p.id),
                }),
                Ok(p) => profiles.push(p),
                Err(r) => rejects.push(r),
            }
        }
    })
    .map_err(ReadError::Io)?;
    Ok((profiles, rejects))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A profile given as one string (an embedder's, a Python dict's) meets the limit a
    /// file's line does, with the same reason.
    #[test]
    fn a_profile_over_the_line_limit_is_refused_as_the_reader_refuses_it() {
        let schema = crate::profile::schema::builtin_for_tests();
        let name = "名".repeat(MAX_RECORD_BYTES / 3 + 1);
        let line = format!(
            r#"{{"id": "91330603MA2D3LX08L", "name": "{name}", "tags": ["kind:enterprise"], "fields": {{}}}}"#
        );
        let err = Profile::from_json(&schema, &line).expect_err("refused");
        assert_eq!(err.to_string(), too_long(line.len()));
        let ok = r#"{"id": "91330603MA2D3LX08L", "name": "永丰", "tags": ["kind:enterprise"], "fields": {}}"#;
        assert!(Profile::from_json(&schema, ok).is_ok());
    }
}
