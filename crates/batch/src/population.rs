//! Population writers for `gen`: records as JSON Lines (the layout of
//! `fixtures/enterprises.jsonl`, read back by the core's `profile::jsonl`) and as the
//! CSV population layout (read back by `tabular`).
//!
//! JSON Lines, one object a line:
//! `{"id": "…", "name": "…", "tags": ["kind:enterprise", …], "fields": {"founded": "2006-03-18", "employees": 420, …}}`.
//! A missing field is left out (or `null`). Numbers keep their kind: integers are written
//! without a point, other numbers with one (`86000.0`), so a record reads back as it was
//! written.
//!
//! Rows that are wrong on purpose stay wrong through a file, for the reader to reject:
//! - a NaN or infinite number cannot be a JSON number; it is written as the string `"NaN"`,
//!   `"inf"` or `"-inf"`, which the reader turns into a problem of the row;
//! - a cell a reader could not read (a problem ``field `employees`: `abc` is not an
//!   integer``, see [`cell_problem`](policy_match::profile::record::cell_problem)) is written back as its raw text;
//! - other problems, which no cell holds, are written in JSON Lines under `"problems"`,
//!   and read back as problems; CSV has no place for them, and refuses the record.

use std::io::{self, Write};

use policy_match::profile::record::{field_rank, problem_cell};

use policy_match::profile::record::RawRecord;

use policy_match::profile::enterprise::RawValue;
use policy_match::profile::record::TAG_SEPARATOR;
use policy_match::profile::schema::Schema;

fn invalid(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, message)
}

// ------------------------------------------------------------------------ JSON Lines

fn push_json_str(buf: &mut Vec<u8>, s: &str) {
    // Writing a string to a Vec cannot fail.
    serde_json::to_writer(&mut *buf, s).expect("writing to a Vec cannot fail");
}

fn push_json_value(buf: &mut Vec<u8>, v: &RawValue) {
    match v {
        RawValue::Number(n) if n.is_nan() => buf.extend_from_slice(b"\"NaN\""),
        RawValue::Number(n) if n.is_infinite() => {
            buf.extend_from_slice(if *n > 0.0 { b"\"inf\"" } else { b"\"-inf\"" });
        }
        // serde_json writes finite floats in their shortest round-trip form, always with a
        // point or an exponent (`86000.0`), so they read back as numbers, not integers.
        RawValue::Number(n) => serde_json::to_writer(&mut *buf, n).expect("finite"),
        RawValue::Integer(i) => buf.extend_from_slice(i.to_string().as_bytes()),
        RawValue::Text(s) => push_json_str(buf, s),
        RawValue::Bool(b) => buf.extend_from_slice(if *b { b"true" } else { b"false" }),
    }
}

/// One record as a JSON Lines line, newline included.
fn jsonl_line(buf: &mut Vec<u8>, schema: &Schema, r: &RawRecord) {
    buf.push(b'{');
    let mut first = true;
    let mut key = |buf: &mut Vec<u8>, k: &str| {
        if !first {
            buf.extend_from_slice(b", ");
        }
        first = false;
        push_json_str(buf, k);
        buf.extend_from_slice(b": ");
    };
    if let Some(id) = &r.id {
        key(buf, "id");
        push_json_str(buf, id);
    }
    if let Some(name) = &r.name {
        key(buf, "name");
        push_json_str(buf, name);
    }
    key(buf, "tags");
    buf.push(b'[');
    for (k, t) in r.tags.iter().enumerate() {
        if k > 0 {
            buf.extend_from_slice(b", ");
        }
        push_json_str(buf, t);
    }
    buf.push(b']');

    // Fields in schema order, then the raw text of unreadable cells.
    let mut fields: Vec<(&str, Option<&RawValue>, &str)> = r
        .fields
        .iter()
        .map(|(n, v)| (n.as_str(), Some(v), ""))
        .collect();
    let mut other_problems = Vec::new();
    for p in &r.problems {
        match problem_cell(p) {
            Some((f, text)) if !fields.iter().any(|(n, _, _)| *n == f) => {
                fields.push((f, None, text))
            }
            _ => other_problems.push(p.as_str()),
        }
    }
    fields.sort_by_key(|(n, _, _)| field_rank(schema, n));
    key(buf, "fields");
    buf.push(b'{');
    for (k, (name, value, text)) in fields.iter().enumerate() {
        if k > 0 {
            buf.extend_from_slice(b", ");
        }
        push_json_str(buf, name);
        buf.extend_from_slice(b": ");
        match value {
            Some(v) => push_json_value(buf, v),
            None => push_json_str(buf, text),
        }
    }
    buf.push(b'}');
    if !other_problems.is_empty() {
        key(buf, "problems");
        buf.push(b'[');
        for (k, p) in other_problems.iter().enumerate() {
            if k > 0 {
                buf.extend_from_slice(b", ");
            }
            push_json_str(buf, p);
        }
        buf.push(b']');
    }
    buf.extend_from_slice(b"}\n");
}

/// Writes records as JSON Lines (the `fixtures/enterprises.jsonl` format), one write per
/// record; returns how many were written.
pub fn write_jsonl(
    mut out: impl Write,
    schema: &Schema,
    records: impl IntoIterator<Item = RawRecord>,
) -> io::Result<usize> {
    let mut buf = Vec::with_capacity(1024);
    let mut n = 0;
    for r in records {
        buf.clear();
        jsonl_line(&mut buf, schema, &r);
        out.write_all(&buf)?;
        n += 1;
    }
    out.flush()?;
    Ok(n)
}

// ------------------------------------------------------------------------ CSV

fn csv_cell(v: &RawValue) -> String {
    match v {
        // Display gives the shortest round-trip form, and `NaN` / `inf` / `-inf`, which a
        // reader parses back as the non-finite number the profile check then rejects.
        RawValue::Number(n) => n.to_string(),
        RawValue::Integer(i) => i.to_string(),
        RawValue::Text(s) => s.clone(),
        RawValue::Bool(b) => b.to_string(),
    }
}

/// Writes records in the CSV population layout: header `id,name,tags,<every schema field
/// in schema order>`, tags joined with [`TAG_SEPARATOR`], an empty cell for a missing value,
/// dates as `YYYY-MM-DD`, bools as `true`/`false`; an unreadable cell (a [`cell_problem`](policy_match::profile::record::cell_problem))
/// is written as its raw text. Returns how many records were written.
///
/// Fails with `InvalidInput` on a record the layout cannot hold: a field outside the
/// schema, a tag containing the separator, or a problem that is not a cell's.
pub fn write_csv(
    out: impl Write,
    schema: &Schema,
    records: impl IntoIterator<Item = RawRecord>,
) -> io::Result<usize> {
    let mut w = csv::Writer::from_writer(out);
    let header = ["id", "name", "tags"]
        .into_iter()
        .chain(schema.fields.iter().map(|f| f.name.as_str()));
    w.write_record(header)?;
    let mut cells = vec![String::new(); 3 + schema.fields.len()];
    let mut tags = String::new();
    let mut n = 0;
    for r in records {
        cells.iter_mut().for_each(String::clear);
        let row = r.row;
        let column = |name: &str| schema.field(name).map(|f| 3 + f.index);
        cells[0] = r.id.unwrap_or_default();
        cells[1] = r.name.unwrap_or_default();
        tags.clear();
        for (k, t) in r.tags.iter().enumerate() {
            if t.contains(TAG_SEPARATOR) {
                return Err(invalid(format!(
                    "row {row}: tag `{t}` contains `{TAG_SEPARATOR}`, the CSV tag separator"
                )));
            }
            if k > 0 {
                tags.push(TAG_SEPARATOR);
            }
            tags.push_str(t);
        }
        cells[2].push_str(&tags);
        for (name, v) in &r.fields {
            let Some(c) = column(name) else {
                return Err(invalid(format!(
                    "row {row}: field `{name}` is not in the schema, so the CSV layout has no column for it"
                )));
            };
            cells[c] = csv_cell(v);
        }
        for p in &r.problems {
            match problem_cell(p).and_then(|(f, text)| Some((column(f)?, text))) {
                Some((c, text)) if cells[c].is_empty() => cells[c] = text.to_owned(),
                _ => {
                    return Err(invalid(format!(
                        "row {row}: the problem `{p}` is not a cell's, and a CSV row has no place for it"
                    )));
                }
            }
        }
        w.write_record(&cells)?;
        n += 1;
    }
    w.flush()?;
    Ok(n)
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use std::path::Path;

    use super::*;
    use policy_match::profile::jsonl::{SHAPE, read_records as read_jsonl};
    use policy_match::profile::record::split_tags;
    use policy_match::profile::record::{cell_problem, parse_cell};
    use policy_match::synth;
    use policy_match::synth::BadKind;
    use policy_match::synth::GenOptions;

    fn schema() -> Schema {
        policy_match::profile::schema::builtin_for_tests()
    }

    fn generate(schema: &Schema, count: usize, seed: u64, bad_rows: f64) -> Vec<RawRecord> {
        synth::population(
            schema,
            &GenOptions {
                count,
                seed,
                bad_rows,
            },
        )
        .collect()
    }

    /// Equality that treats NaN as equal to itself.
    fn same(a: &RawRecord, b: &RawRecord) -> bool {
        format!("{a:?}") == format!("{b:?}")
    }

    fn read_all(path: &Path, schema: &Schema, chunk_rows: usize) -> (Vec<Vec<RawRecord>>, usize) {
        let mut chunks = Vec::new();
        let n = read_jsonl(path, schema, chunk_rows, &mut |c| chunks.push(c)).unwrap();
        (chunks, n)
    }

    fn write_file(
        schema: &Schema,
        records: &[RawRecord],
    ) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("population.jsonl");
        let file = std::fs::File::create(&path).unwrap();
        let n = write_jsonl(io::BufWriter::new(file), schema, records.iter().cloned()).unwrap();
        assert_eq!(n, records.len());
        (dir, path)
    }

    fn rejected(schema: &Schema, records: &[RawRecord]) -> Vec<usize> {
        let mut seen = HashSet::new();
        records
            .iter()
            .filter(|r| match RawRecord::clone(r).into_profile(schema) {
                Err(_) => true,
                Ok(p) => !seen.insert(p.id),
            })
            .map(|r| r.row)
            .collect()
    }

    /// A CSV reader as the population layout defines it, for the round trip.
    fn read_csv(schema: &Schema, text: &[u8]) -> Vec<RawRecord> {
        let mut reader = csv::Reader::from_reader(text);
        let header: Vec<String> = reader
            .headers()
            .unwrap()
            .iter()
            .map(str::to_owned)
            .collect();
        let mut expected = vec!["id".to_owned(), "name".to_owned(), "tags".to_owned()];
        expected.extend(schema.fields.iter().map(|f| f.name.clone()));
        assert_eq!(header, expected);
        reader
            .records()
            .enumerate()
            .map(|(i, rec)| {
                let rec = rec.unwrap();
                let mut r = RawRecord {
                    row: i + 1,
                    id: Some(rec[0].to_owned()).filter(|s| !s.is_empty()),
                    name: Some(rec[1].to_owned()).filter(|s| !s.is_empty()),
                    tags: split_tags(&rec[2]),
                    fields: Vec::new(),
                    problems: Vec::new(),
                };
                for f in &schema.fields {
                    match parse_cell(f.ty, &rec[3 + f.index]) {
                        None => {}
                        Some(Ok(v)) => r.fields.push((f.name.clone(), v)),
                        Some(Err(m)) => r.problems.push(cell_problem(&f.name, &m)),
                    }
                }
                r
            })
            .collect()
    }

    #[test]
    fn jsonl_round_trip() {
        let schema = schema();
        let records = generate(&schema, 200, 4, 0.0);
        let (_dir, path) = write_file(&schema, &records);
        let (chunks, n) = read_all(&path, &schema, 37);
        assert_eq!(n, 200);
        assert_eq!(
            chunks.iter().map(Vec::len).collect::<Vec<_>>(),
            vec![37, 37, 37, 37, 37, 15]
        );
        let back: Vec<RawRecord> = chunks.into_iter().flatten().collect();
        assert_eq!(back, records);
    }

    #[test]
    fn jsonl_keeps_bad_rows_bad() {
        let schema = schema();
        let records = generate(&schema, 200, 4, 0.25);
        let (_dir, path) = write_file(&schema, &records);
        let (chunks, _) = read_all(&path, &schema, 64);
        let back: Vec<RawRecord> = chunks.into_iter().flatten().collect();
        assert_eq!(back.len(), records.len());
        let opts = GenOptions {
            count: 200,
            seed: 4,
            bad_rows: 0.25,
        };
        let mut kinds = HashSet::new();
        for (i, (a, b)) in records.iter().zip(&back).enumerate() {
            match synth::bad_kind(&opts, i) {
                // NaN and a cell the CSV reader could not read come back as another value.
                Some(k @ (BadKind::NaN | BadKind::Infinity | BadKind::WrongType)) => {
                    kinds.insert(k);
                    let reason = b.clone().into_profile(&schema).unwrap_err().reason;
                    let expect = match k {
                        BadKind::WrongType => "field `employees` must be integer, found",
                        BadKind::NaN => "field `revenue_10k_yuan`: `NaN` is not a finite number",
                        _ => "field `energy_intensity`: `inf` is not a finite number",
                    };
                    assert!(reason.contains(expect), "{k:?}: {reason}");
                }
                k => {
                    kinds.extend(k);
                    assert_eq!(a, b, "row {}", i + 1);
                }
            }
        }
        assert_eq!(kinds.len(), BadKind::ALL.len(), "{kinds:?}");
        assert_eq!(rejected(&schema, &records), rejected(&schema, &back));
    }

    #[test]
    fn csv_round_trip() {
        let schema = schema();
        let records = generate(&schema, 200, 6, 0.2);
        let mut out = Vec::new();
        assert_eq!(
            write_csv(&mut out, &schema, records.iter().cloned()).unwrap(),
            200
        );
        let back = read_csv(&schema, &out);
        assert_eq!(back.len(), 200);
        for (a, b) in records.iter().zip(&back) {
            assert!(same(a, b), "\n{a:?}\n{b:?}");
        }
        assert_eq!(rejected(&schema, &records), rejected(&schema, &back));
        assert!(!rejected(&schema, &records).is_empty());
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.contains(",NaN,") && text.contains(",inf,"),
            "non-finite numbers are written as text"
        );
    }

    #[test]
    fn csv_refuses_what_it_cannot_hold() {
        let schema = schema();
        let mut r = generate(&schema, 1, 0, 0.0).remove(0);
        r.fields.push(("employes".into(), RawValue::Integer(3)));
        let err = write_csv(Vec::new(), &schema, [r]).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
        assert!(err.to_string().contains("employes"), "{err}");

        let mut r = generate(&schema, 1, 0, 0.0).remove(0);
        r.problems.push(format!("{SHAPE}: trailing characters"));
        assert!(write_csv(Vec::new(), &schema, [r]).is_err());
    }

    #[test]
    fn reading_never_fails_on_a_bad_line() {
        let schema = schema();
        let good = r#"{"id": "91330603MA2BK7R415", "name": "甲", "tags": ["kind:enterprise"], "fields": {"employees": 420, "revenue_10k_yuan": 86000.0, "founded": "2006-03-18", "plot_ratio": null, "investor_unchanged": true}}"#;
        let lines = [
            good,                                                                        // 1
            "",                                                         // 2: blank, skipped
            r#"{"id": "91330603MA2D3LX08L", "name": "乙", "tags": [}"#, // 3: not JSON
            "[1, 2]",                                                   // 4
            r#"{"id": "X", "tags": "kind:enterprise"}"#,                // 5
            r#"{"id": "Y", "fields": {"employees": [1]}, "extra": 1}"#, // 6
            r#"{"id": "Z", "fields": {"revenue_10k_yuan": "NaN", "employees": "abc"}}"#, // 7
            "   ",                                                      // 8: blank
            r#"{"name": "无代码"}"#,                                    // 9
        ];
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.jsonl");
        let mut text = lines.join("\r\n").into_bytes();
        text.extend_from_slice(b"\n\xFF\xFE{\"id\": \"W\"}"); // 10: not UTF-8, no final newline
        std::fs::write(&path, text).unwrap();

        let (chunks, n) = read_all(&path, &schema, 2);
        assert_eq!(n, 8);
        assert!(chunks.iter().all(|c| c.len() <= 2));
        let rows: Vec<RawRecord> = chunks.into_iter().flatten().collect();
        assert_eq!(
            rows.iter().map(|r| r.row).collect::<Vec<_>>(),
            vec![1, 3, 4, 5, 6, 7, 9, 10]
        );

        let first = &rows[0];
        assert!(first.problems.is_empty());
        assert_eq!(
            first.fields,
            vec![
                ("employees".to_owned(), RawValue::Integer(420)),
                ("founded".to_owned(), RawValue::Text("2006-03-18".into())),
                ("investor_unchanged".to_owned(), RawValue::Bool(true)),
                ("revenue_10k_yuan".to_owned(), RawValue::Number(86000.0)),
            ]
        );
        assert!(first.clone().into_profile(&schema).is_ok());

        let reason = |r: &RawRecord| r.clone().into_profile(&schema).unwrap_err();
        let r3 = reason(&rows[1]);
        assert_eq!(r3.id.as_deref(), Some("91330603MA2D3LX08L"));
        assert!(r3.reason.starts_with(SHAPE), "{}", r3.reason);
        assert!(reason(&rows[2]).reason.contains("found an array"));
        assert!(
            reason(&rows[3])
                .reason
                .contains("`tags` must be a list of strings, found a string")
        );
        let r6 = reason(&rows[4]).reason;
        assert!(
            r6.contains("field `employees` must be a scalar") && r6.contains("unknown key `extra`"),
            "{r6}"
        );
        let r7 = &rows[5];
        assert_eq!(
            r7.problems,
            vec!["field `revenue_10k_yuan`: `NaN` is not a finite number".to_owned()]
        );
        assert_eq!(
            r7.fields,
            vec![("employees".to_owned(), RawValue::Text("abc".into()))]
        );
        let r9 = reason(&rows[6]);
        assert_eq!((r9.id, r9.reason.contains("missing")), (None, true));
        let r10 = reason(&rows[7]);
        assert!(r10.reason.contains("UTF-8"), "{}", r10.reason);

        let err =
            read_jsonl(&dir.path().join("absent.jsonl"), &schema, 10, &mut |_| {}).unwrap_err();
        assert!(err.to_string().contains("absent.jsonl"), "{err}");
    }

    #[test]
    fn the_fixture_round_trips_through_write_jsonl() {
        let schema = schema();
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/enterprises.jsonl");
        let (chunks, _) = read_all(&path, &schema, 100);
        let records: Vec<RawRecord> = chunks.into_iter().flatten().collect();
        let (_dir, copy) = write_file(&schema, &records);
        let (again, _) = read_all(&copy, &schema, 100);
        assert_eq!(again.into_iter().flatten().collect::<Vec<_>>(), records);
    }

    #[test]
    fn cell_problems_parse_back() {
        let p = cell_problem("employees", "`1,2` is not an integer");
        assert_eq!(problem_cell(&p), Some(("employees", "1,2")));
        let p = cell_problem("investor_unchanged", "`yes` is not true or false");
        assert_eq!(problem_cell(&p), Some(("investor_unchanged", "yes")));
        assert_eq!(problem_cell("the id (统一社会信用代码) is missing"), None);
    }
}
