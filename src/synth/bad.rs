//! Rows spoiled on purpose, as real exports have them: which rows, how, and the spoiling.
//! A spoiled row is its valid record with one thing made wrong, so the other rows of a
//! population are the same whatever `bad_rows` is.

use crate::profile::enterprise::RawValue;
use crate::profile::record::RawRecord;
use crate::profile::record::cell_problem;
use crate::profile::record::parse_cell;
use crate::profile::schema::FieldType;
use crate::profile::schema::Schema;
use crate::synth::GenOptions;
use crate::synth::draft::sort_fields;
use crate::synth::ids::USCC_CHARSET;
use crate::synth::record::valid;
use crate::synth::rng::SALT_BAD;
use crate::synth::rng::SALT_KIND;
use crate::synth::rng::SALT_SPOIL;
use crate::synth::rng::key;
use crate::synth::rng::unit;

/// How a spoiled row is wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum BadKind {
    /// The 统一社会信用代码's check character is wrong.
    CheckChar,
    /// A copy of an earlier valid row (same id), as a repeated export gives.
    DuplicateId,
    /// A tag whose namespace is not in the schema (`industy:C1713`).
    UnknownNamespace,
    /// An integer cell that is not an integer, reported in `problems` as a CSV reader does.
    WrongType,
    /// `employees = -3`.
    NegativeCount,
    /// A number field that is NaN.
    NaN,
    /// A number field that is +∞.
    Infinity,
}

impl BadKind {
    /// Every kind, in the order [`bad_kind`] draws from.
    pub const ALL: [BadKind; 7] = [
        BadKind::CheckChar,
        BadKind::DuplicateId,
        BadKind::UnknownNamespace,
        BadKind::WrongType,
        BadKind::NegativeCount,
        BadKind::NaN,
        BadKind::Infinity,
    ];
}

/// Whether row `i` is spoiled, and how. About `opts.bad_rows` of the rows are, the kinds
/// spread evenly over [`BadKind::ALL`]; a duplicate needs an earlier valid row within reach,
/// and becomes a wrong check character where there is none (row 0, or `bad_rows` near 1).
pub fn bad_kind(opts: &GenOptions, i: usize) -> Option<BadKind> {
    if !is_bad(opts, i) {
        return None;
    }
    let k = BadKind::ALL[(key(opts.seed, i, SALT_KIND) % BadKind::ALL.len() as u64) as usize];
    if k == BadKind::DuplicateId && duplicate_source(opts, i).is_none() {
        return Some(BadKind::CheckChar);
    }
    Some(k)
}

fn is_bad(opts: &GenOptions, i: usize) -> bool {
    opts.bad_rows > 0.0 && unit(key(opts.seed, i, SALT_BAD)) < opts.bad_rows
}

/// The earlier valid row a duplicate at `i` copies: one of the (up to) 1000 rows before it.
fn duplicate_source(opts: &GenOptions, i: usize) -> Option<usize> {
    if i == 0 {
        return None;
    }
    let back = key(opts.seed, i, SALT_SPOIL) % (i.min(1000) as u64);
    let start = i - 1 - back as usize;
    (start.saturating_sub(64)..=start)
        .rev()
        .find(|&j| !is_bad(opts, j))
}

/// Row `i` spoiled as `kind` says. Where the schema lacks the field a kind needs, the row
/// gets a wrong check character instead, so that it is still rejected.
pub(super) fn spoil(schema: &Schema, opts: &GenOptions, i: usize, kind: BadKind) -> RawRecord {
    let h = key(opts.seed, i, SALT_SPOIL);
    let mut r = valid(schema, opts.seed, i);
    match kind {
        BadKind::CheckChar => wrong_check(&mut r, h),
        BadKind::DuplicateId => match duplicate_source(opts, i) {
            Some(j) => {
                r = valid(schema, opts.seed, j);
                r.row = i + 1;
            }
            // Not reached: `bad_kind` turns such a duplicate into a wrong check character.
            None => wrong_check(&mut r, h),
        },
        BadKind::UnknownNamespace => unknown_namespace(schema, &mut r, h),
        BadKind::WrongType => match spoil_field(schema, "employees", FieldType::Integer) {
            Some(f) => wrong_type(&mut r, f, h),
            None => wrong_check(&mut r, h),
        },
        BadKind::NegativeCount => match spoil_field(schema, "employees", FieldType::Integer) {
            Some(f) => set_field(schema, &mut r, f, RawValue::Integer(-3)),
            None => wrong_check(&mut r, h),
        },
        BadKind::NaN => match spoil_field(schema, "revenue_10k_yuan", FieldType::Number) {
            Some(f) => set_field(schema, &mut r, f, RawValue::Number(f64::NAN)),
            None => wrong_check(&mut r, h),
        },
        BadKind::Infinity => match spoil_field(schema, "energy_intensity", FieldType::Number) {
            Some(f) => set_field(schema, &mut r, f, RawValue::Number(f64::INFINITY)),
            None => wrong_check(&mut r, h),
        },
    }
    r
}

/// Swaps the id's check character for another of the set: the id stays well-formed, so
/// only the check rejects it.
fn wrong_check(r: &mut RawRecord, h: u64) {
    // `valid` gives every record an id, 18 characters of USCC_CHARSET (see `uscc_id`).
    let id = r.id.as_mut().expect("generated records have an id");
    // Not empty: 18 characters, as above.
    let last = id.pop().expect("18 characters") as u8;
    let at = USCC_CHARSET.iter().position(|&c| c == last);
    // Of the set: `uscc::check_char` picks the check character from the same 31.
    let at = at.expect("a check character of the set");
    let shift = 1 + (h >> 32) as usize % (USCC_CHARSET.len() - 1);
    id.push(USCC_CHARSET[(at + shift) % USCC_CHARSET.len()] as char);
}

/// Adds a tag whose namespace the schema lacks: a misspelt or foreign one, prefixed with
/// `x` until the schema does not know it.
fn unknown_namespace(schema: &Schema, r: &mut RawRecord, h: u64) {
    let industry = r
        .tags
        .iter()
        .find_map(|t| t.strip_prefix("industry:"))
        .unwrap_or("C1713")
        .to_owned();
    let candidates = [
        format!("industy:{industry}"),
        "sector:textile".to_owned(),
        "qualification:high_tech".to_owned(),
        "regoin:keqiao".to_owned(),
    ];
    let mut tag = candidates[(h % candidates.len() as u64) as usize].clone();
    while schema
        .namespaces
        .contains_key(tag.split(':').next().unwrap_or_default())
    {
        tag.insert(0, 'x');
    }
    r.tags.push(tag);
}

/// Drops integer field `f` and reports a cell that did not parse, as a CSV reader does.
fn wrong_type(r: &mut RawRecord, f: &str, h: u64) {
    let texts = ["abc", "十二", "12人", "n/a", "1,200", "3.5"];
    let text = texts[(h % texts.len() as u64) as usize];
    let msg = match parse_cell(FieldType::Integer, text) {
        Some(Err(m)) => m,
        // Every text above fails to parse as an integer.
        _ => unreachable!("`{text}` is not an integer"),
    };
    r.fields.retain(|(n, _)| n != f);
    r.problems.push(cell_problem(f, &msg));
}

/// The field a spoil touches: `preferred` if the schema has it with type `ty`,
/// else the first field of that type.
fn spoil_field<'s>(schema: &'s Schema, preferred: &str, ty: FieldType) -> Option<&'s str> {
    match schema.field(preferred) {
        Some(f) if f.ty == ty => Some(f.name.as_str()),
        _ => schema
            .fields
            .iter()
            .find(|f| f.ty == ty)
            .map(|f| f.name.as_str()),
    }
}

fn set_field(schema: &Schema, r: &mut RawRecord, name: &str, v: RawValue) {
    r.fields.retain(|(n, _)| n != name);
    r.fields.push((name.to_owned(), v));
    sort_fields(schema, &mut r.fields);
}
