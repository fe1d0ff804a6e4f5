//! What the report shows, aggregated from a finished run's folder: `summary.json` and the
//! tables, read a few columns at a time (never one row per enterprise kept), against the
//! catalog that made the run.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use policy_match::compile::catalog::Catalog;
use serde::Deserialize;

use crate::tabular::{TabularError, column_names, visit_rows};

/// How many rows a ranked list shows (the measures table shows every measure).
pub const TOP: usize = 20;

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("`{0}` is not a finished `match` folder: it has no `summary.json`")]
    NotARun(PathBuf),
    #[error("`{0}` is not a finished `audit` folder: it has no `summary.json`")]
    NotAnAudit(PathBuf),
    #[error("cannot read `{path}`: {message}")]
    Read { path: PathBuf, message: String },
    #[error(
        "the run was made with catalog `{run}`, these rules are `{rules}`: its measure ids may \
         name other measures"
    )]
    OtherCatalog { run: String, rules: String },
    #[error(transparent)]
    Table(#[from] TabularError),
    #[error("cannot write `{path}`: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl miette::Diagnostic for ReportError {
    fn help<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        match self {
            ReportError::OtherCatalog { .. } => Some(Box::new(
                "pass the rules the run was made with (`--rules DIR`), or run `match` again",
            )),
            ReportError::NotARun(_) => Some(Box::new(
                "pass the `--out` folder of `policy-match match`, once it has finished",
            )),
            _ => None,
        }
    }
}

/// The part of `summary.json` the report reads.
#[derive(Debug, Deserialize)]
struct RunSummary {
    catalog_hash: String,
    as_of: String,
    input: String,
    shard: Option<String>,
    input_rows: u64,
    enterprises_matched: u64,
    rejects: u64,
    pushes: u64,
    pushes_held_back: u64,
    amount_pending: u64,
    unlocks: u64,
    notices: u64,
    grants: u64,
    grants_amount_yuan: f64,
    near_misses: u64,
    undetermined: u64,
    errors: u64,
    pushes_new: Option<u64>,
    pushes_revoked: Option<u64>,
    #[serde(default)]
    pushes_histogram: Vec<u64>,
    by_measure: BTreeMap<String, SummaryMeasure>,
    pushes_by_zone: BTreeMap<String, u64>,
    pushes_by_window: BTreeMap<String, u64>,
    pushes_by_scenario: BTreeMap<String, u64>,
    pushes_by_department: BTreeMap<String, u64>,
}

#[derive(Debug, Deserialize)]
struct SummaryMeasure {
    eligible: u64,
    amount_pending: u64,
    undetermined: u64,
    error: u64,
    near_misses: u64,
    /// Absent from the summaries of runs before it: then `pushes` is counted.
    pushed: Option<u64>,
}

#[derive(Debug, Deserialize)]
struct AuditSummary {
    catalog_hash: String,
    claims: u64,
    should_enjoy_not_enjoyed: u64,
    enjoyed_not_eligible: u64,
    amount_differs: u64,
}

/// The headline figures.
#[derive(Debug, Clone, PartialEq)]
pub struct Headline {
    pub as_of: String,
    pub catalog_hash: String,
    pub input: String,
    pub shard: Option<String>,
    pub input_rows: u64,
    pub enterprises: u64,
    pub rejects: u64,
    pub pushes: u64,
    pub pushes_held_back: u64,
    pub amount_pending: u64,
    pub grants: u64,
    pub grants_yuan: f64,
    pub unlocks: u64,
    pub notices: u64,
    pub near_misses: u64,
    pub undetermined: u64,
    pub errors: u64,
    pub pushes_new: Option<u64>,
    pub pushes_revoked: Option<u64>,
}

/// A labelled count, and an amount where there is one.
#[derive(Debug, Clone, PartialEq)]
pub struct Count {
    pub label: String,
    pub count: u64,
    pub yuan: f64,
}

/// One measure's reach in the run.
#[derive(Debug, Clone, PartialEq)]
pub struct Reach {
    pub id: String,
    pub title: String,
    pub article: u32,
    pub nature: &'static str,
    pub zone: String,
    pub eligible: u64,
    pub pushed: u64,
    pub granted: u64,
    pub granted_yuan: f64,
    pub near_misses: u64,
    pub undetermined: u64,
    pub errors: u64,
}

/// A field whose absence left pairs undetermined (一企一档: what to collect first).
#[derive(Debug, Clone, PartialEq)]
pub struct Gap {
    pub field: String,
    pub meaning: String,
    /// Undetermined pairs that wait on it (alone or with other fields).
    pub pairs: u64,
    /// Pairs it alone stands in the way of: collecting it settles them.
    pub settles: u64,
    pub measures: Vec<String>,
}

/// A condition that, if met, would open measures (the run's `unlocks`).
#[derive(Debug, Clone, PartialEq)]
pub struct Unlock {
    pub condition: String,
    pub enterprises: u64,
    pub measures: Vec<String>,
}

/// The risk scans of an `audit` folder.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditFacts {
    pub claims: u64,
    pub missed: u64,
    pub wrongly: u64,
    pub amount_differs: u64,
    /// 应享未享 by measure: pairs and the amount not paid.
    pub missed_by_measure: Vec<Count>,
    pub missed_by_department: Vec<Count>,
    /// 不应享而享 by measure.
    pub wrongly_by_measure: Vec<Count>,
    pub wrongly_by_department: Vec<Count>,
}

/// Everything the report shows.
#[derive(Debug, Clone, PartialEq)]
pub struct RunFacts {
    pub headline: Headline,
    pub by_zone: Vec<Count>,
    pub by_window: Vec<Count>,
    pub by_department: Vec<Count>,
    pub by_article: Vec<Count>,
    pub by_scenario: Vec<Count>,
    /// Grants (count and yuan) by zone, by enterprise size and by industry (大类).
    pub grants_by_zone: Vec<Count>,
    pub grants_by_size: Vec<Count>,
    pub grants_by_industry: Vec<Count>,
    pub measures: Vec<Reach>,
    /// `[n]`: enterprises with `n` pushes (empty for a run before the histogram).
    pub histogram: Vec<u64>,
    pub gaps: Vec<Gap>,
    pub unlocks: Vec<Unlock>,
    pub rejects_by_reason: Vec<Count>,
    pub errors_by_measure: Vec<Count>,
    pub audit: Option<AuditFacts>,
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, ReportError> {
    let text = std::fs::read_to_string(path).map_err(|e| ReportError::Read {
        path: path.to_owned(),
        message: e.to_string(),
    })?;
    serde_json::from_str(&text).map_err(|e| ReportError::Read {
        path: path.to_owned(),
        message: e.to_string(),
    })
}

/// The `summary.json` of a finished folder (`missing` when it has none), made with
/// `catalog`: another catalog's measure ids may name other measures.
fn summary_of<T: serde::de::DeserializeOwned>(
    dir: &Path,
    missing: fn(PathBuf) -> ReportError,
    catalog: &Catalog,
    hash: fn(&T) -> &String,
) -> Result<T, ReportError> {
    let path = dir.join("summary.json");
    if !path.is_file() {
        return Err(missing(dir.to_owned()));
    }
    let s: T = read_json(&path)?;
    if *hash(&s) != catalog.hash {
        return Err(ReportError::OtherCatalog {
            run: hash(&s).clone(),
            rules: catalog.hash.clone(),
        });
    }
    Ok(s)
}

/// The table `name` of a run folder, in whichever format it was written; none when the
/// run did not write it.
fn table(dir: &Path, name: &str) -> Option<PathBuf> {
    ["parquet", "csv"]
        .into_iter()
        .map(|ext| dir.join(format!("{name}.{ext}")))
        .find(|p| p.exists())
}

/// Sorted by count, largest first, then by label; at most `top`.
fn ranked(counts: impl IntoIterator<Item = (String, (u64, f64))>, top: usize) -> Vec<Count> {
    let mut v: Vec<Count> = counts
        .into_iter()
        .filter(|(_, (n, _))| *n > 0)
        .map(|(label, (count, yuan))| Count { label, count, yuan })
        .collect();
    v.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.label.cmp(&b.label)));
    v.truncate(top);
    v
}

fn plain(map: &BTreeMap<String, u64>) -> Vec<Count> {
    ranked(map.iter().map(|(k, v)| (k.clone(), (*v, 0.0))), usize::MAX)
}

/// A label, or 「未标注」 for an enterprise without that tag.
fn or_none(label: &str) -> &str {
    if label.is_empty() { "未标注" } else { label }
}

/// A reject reason with its particulars (the values in backticks) taken out, so that
/// reasons of one kind count together.
fn reason_kind(reason: &str) -> String {
    let mut out = String::with_capacity(reason.len());
    for (i, part) in reason.split('`').enumerate() {
        out.push_str(if i % 2 == 1 { "…" } else { part });
    }
    out
}

/// Reads a finished `match` folder (and an `audit` folder) into the report's facts.
pub fn read_run(
    run: &Path,
    audit: Option<&Path>,
    catalog: &Catalog,
) -> Result<RunFacts, ReportError> {
    let s: RunSummary = summary_of(run, ReportError::NotARun, catalog, |s: &RunSummary| {
        &s.catalog_hash
    })?;
    let measures_by_id: HashMap<&str, &policy_match::rules::ir::Measure> = catalog
        .measures
        .iter()
        .map(|cm| (cm.measure.id.as_str(), &cm.measure))
        .collect();

    // Pushes per measure: in the summary; counted from `pushes` for a run from before.
    let mut pushed: HashMap<String, u64> = s
        .by_measure
        .iter()
        .filter_map(|(id, c)| c.pushed.map(|n| (id.clone(), n)))
        .collect();
    let counted = s.by_measure.values().all(|c| c.pushed.is_some());
    if let (false, Some(path)) = (counted, table(run, "pushes")) {
        pushed.clear();
        visit_rows(&path, &["measure_id"], &mut |r| {
            *pushed.entry(r[0].text().to_owned()).or_insert(0) += 1;
        })?;
    }
    // Grants per measure, size and industry: from the table.
    let mut granted: BTreeMap<String, (u64, f64)> = BTreeMap::new();
    let mut by_size: BTreeMap<String, (u64, f64)> = BTreeMap::new();
    let mut by_industry: BTreeMap<String, (u64, f64)> = BTreeMap::new();
    if let Some(path) = table(run, "grants") {
        // A run of an earlier version has no size or industry: its grants count as
        // 「未标注」 rather than the report failing.
        let names = column_names(&path)?;
        let segmented = ["size", "industry"]
            .iter()
            .all(|c| names.iter().any(|n| n == c));
        let columns: &[&str] = if segmented {
            &["measure_id", "amount_yuan", "size", "industry"]
        } else {
            &["measure_id", "amount_yuan"]
        };
        visit_rows(&path, columns, &mut |r| {
            let yuan = r[1].number().unwrap_or(0.0);
            let label = |i: usize| or_none(r.get(i).map_or("", |v| v.text()));
            for (map, key) in [
                (&mut granted, r[0].text()),
                (&mut by_size, label(2)),
                (&mut by_industry, label(3)),
            ] {
                let e = map.entry(key.to_owned()).or_insert((0, 0.0));
                e.0 += 1;
                e.1 += yuan;
            }
        })?;
    }

    let mut measures = Vec::with_capacity(catalog.measures.len());
    let mut by_article: BTreeMap<String, (u64, f64)> = BTreeMap::new();
    let mut grants_by_zone: BTreeMap<String, (u64, f64)> = BTreeMap::new();
    for cm in &catalog.measures {
        let m = &cm.measure;
        let counts = s.by_measure.get(&m.id);
        let p = pushed.get(&m.id).copied().unwrap_or(0);
        let (g, gy) = granted.get(&m.id).copied().unwrap_or((0, 0.0));
        let article = format!("第{}条 {}", m.article, m.article_title);
        let a = by_article.entry(article).or_insert((0, 0.0));
        a.0 += p;
        a.1 += gy;
        if g > 0 {
            let z = grants_by_zone.entry(m.zone.clone()).or_insert((0, 0.0));
            z.0 += g;
            z.1 += gy;
        }
        measures.push(Reach {
            id: m.id.clone(),
            title: policy_match::report::explain::title(m),
            article: m.article,
            nature: m.nature.label(),
            zone: m.zone.clone(),
            eligible: counts.map_or(0, |c| c.eligible + c.amount_pending),
            pushed: p,
            granted: g,
            granted_yuan: gy,
            near_misses: counts.map_or(0, |c| c.near_misses),
            undetermined: counts.map_or(0, |c| c.undetermined),
            errors: counts.map_or(0, |c| c.error),
        });
    }

    // Data gaps: which missing fields hold pairs undetermined.
    let mut gap_pairs: BTreeMap<String, (u64, u64, BTreeSet<String>)> = BTreeMap::new();
    if let Some(path) = table(run, "undetermined") {
        visit_rows(&path, &["measure_id", "missing_fields"], &mut |r| {
            let fields: Vec<&str> = r[1].text().split(',').filter(|f| !f.is_empty()).collect();
            for f in &fields {
                let e = gap_pairs
                    .entry((*f).to_owned())
                    .or_insert_with(|| (0, 0, BTreeSet::new()));
                e.0 += 1;
                if fields.len() == 1 {
                    e.1 += 1;
                }
                e.2.insert(r[0].text().to_owned());
            }
        })?;
    }
    let mut gaps: Vec<Gap> = gap_pairs
        .into_iter()
        .map(|(field, (pairs, settles, ms))| Gap {
            meaning: catalog
                .schema
                .field(&field)
                .map(|f| f.meaning.clone())
                .unwrap_or_default(),
            field,
            pairs,
            settles,
            measures: ms.into_iter().collect(),
        })
        .collect();
    gaps.sort_by(|a, b| {
        (b.settles, b.pairs)
            .cmp(&(a.settles, a.pairs))
            .then_with(|| a.field.cmp(&b.field))
    });
    gaps.truncate(TOP);

    let mut unlock_counts: BTreeMap<String, (u64, BTreeSet<String>)> = BTreeMap::new();
    if let Some(path) = table(run, "unlocks") {
        visit_rows(&path, &["condition", "measure_ids"], &mut |r| {
            let e = unlock_counts
                .entry(r[0].text().to_owned())
                .or_insert_with(|| (0, BTreeSet::new()));
            e.0 += 1;
            e.1.extend(
                r[1].text()
                    .split([',', ' ', '，'])
                    .filter(|m| !m.is_empty())
                    .map(str::to_owned),
            );
        })?;
    }
    let mut unlocks: Vec<Unlock> = unlock_counts
        .into_iter()
        .map(|(condition, (enterprises, ms))| Unlock {
            condition,
            enterprises,
            measures: ms.into_iter().collect(),
        })
        .collect();
    unlocks.sort_by(|a, b| {
        b.enterprises
            .cmp(&a.enterprises)
            .then_with(|| a.condition.cmp(&b.condition))
    });
    unlocks.truncate(TOP);

    let mut reasons: BTreeMap<String, (u64, f64)> = BTreeMap::new();
    if let Some(path) = table(run, "rejects") {
        visit_rows(&path, &["reason"], &mut |r| {
            reasons
                .entry(reason_kind(r[0].text()))
                .or_insert((0, 0.0))
                .0 += 1;
        })?;
    }
    let errors_by_measure = ranked(
        measures
            .iter()
            .map(|m| (format!("{} {}", m.id, m.title), (m.errors, 0.0))),
        TOP,
    );

    let audit = match audit {
        Some(dir) => Some(read_audit(dir, catalog, &measures_by_id)?),
        None => None,
    };
    Ok(RunFacts {
        headline: Headline {
            as_of: s.as_of,
            catalog_hash: s.catalog_hash,
            input: s.input,
            shard: s.shard,
            input_rows: s.input_rows,
            enterprises: s.enterprises_matched,
            rejects: s.rejects,
            pushes: s.pushes,
            pushes_held_back: s.pushes_held_back,
            amount_pending: s.amount_pending,
            grants: s.grants,
            grants_yuan: s.grants_amount_yuan,
            unlocks: s.unlocks,
            notices: s.notices,
            near_misses: s.near_misses,
            undetermined: s.undetermined,
            errors: s.errors,
            pushes_new: s.pushes_new,
            pushes_revoked: s.pushes_revoked,
        },
        by_zone: plain(&s.pushes_by_zone),
        by_window: plain(&s.pushes_by_window),
        by_department: plain(&s.pushes_by_department),
        by_article: ranked(by_article, usize::MAX),
        by_scenario: plain(&s.pushes_by_scenario),
        grants_by_zone: ranked(grants_by_zone, usize::MAX),
        grants_by_size: ranked(by_size, usize::MAX),
        grants_by_industry: ranked(by_industry, TOP),
        measures,
        histogram: s.pushes_histogram,
        gaps,
        unlocks,
        rejects_by_reason: ranked(reasons, TOP),
        errors_by_measure,
        audit,
    })
}

fn read_audit(
    dir: &Path,
    catalog: &Catalog,
    measures: &HashMap<&str, &policy_match::rules::ir::Measure>,
) -> Result<AuditFacts, ReportError> {
    let s: AuditSummary = summary_of(dir, ReportError::NotAnAudit, catalog, |s: &AuditSummary| {
        &s.catalog_hash
    })?;
    let label = |id: &str| match measures.get(id) {
        Some(m) => format!("{id} {}", policy_match::report::explain::title(m)),
        None => id.to_owned(),
    };
    let departments = |id: &str| -> Vec<String> {
        measures
            .get(id)
            .map(|m| m.lead_departments.clone())
            .unwrap_or_default()
    };
    let tally =
        |name: &str, amount: Option<&str>| -> Result<(Vec<Count>, Vec<Count>), ReportError> {
            let mut by_measure: BTreeMap<String, (u64, f64)> = BTreeMap::new();
            let mut by_department: BTreeMap<String, (u64, f64)> = BTreeMap::new();
            if let Some(path) = table(dir, name) {
                let mut columns = vec!["measure_id"];
                columns.extend(amount);
                visit_rows(&path, &columns, &mut |r| {
                    let yuan = r.get(1).and_then(|v| v.number()).unwrap_or(0.0);
                    let id = r[0].text();
                    let e = by_measure.entry(label(id)).or_insert((0, 0.0));
                    e.0 += 1;
                    e.1 += yuan;
                    for d in departments(id) {
                        let e = by_department.entry(d).or_insert((0, 0.0));
                        e.0 += 1;
                        e.1 += yuan;
                    }
                })?;
            }
            Ok((ranked(by_measure, TOP), ranked(by_department, TOP)))
        };
    let (missed_by_measure, missed_by_department) =
        tally("should_enjoy_not_enjoyed", Some("amount_yuan"))?;
    let (wrongly_by_measure, wrongly_by_department) = tally("enjoyed_not_eligible", None)?;
    Ok(AuditFacts {
        claims: s.claims,
        missed: s.should_enjoy_not_enjoyed,
        wrongly: s.enjoyed_not_eligible,
        amount_differs: s.amount_differs,
        missed_by_measure,
        missed_by_department,
        wrongly_by_measure,
        wrongly_by_department,
    })
}
