//! `policy-match audit`: the risk scans of 附件2 row 4 — 应享未享 (entitled, not enjoyed)
//! and 不应享而享 (enjoyed, not entitled) — comparing a population's eligibility with the
//! benefits actually enjoyed (claims).

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use jiff::civil::Date;
use serde::Serialize;

use crate::outdir::OutDir;
use crate::run::MatchError;
use crate::run::read_chunks;
use crate::table::Cell;
use crate::table::ColType;
use crate::table::Table;
use policy_match::compile::catalog::Catalog;
use policy_match::eval::Outcome;
use policy_match::profile::record::RawRecord;

#[derive(Debug, Clone)]
pub struct AuditOptions {
    pub enterprises: PathBuf,
    pub claims: PathBuf,
    pub out: PathBuf,
    pub as_of: Date,
    pub chunk_rows: usize,
}

/// One benefit actually enjoyed.
#[derive(Debug, Clone, PartialEq)]
struct Claim {
    row: usize,
    measure: String,
    amount_yuan: Option<f64>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct AuditSummary {
    pub catalog_hash: String,
    pub as_of: String,
    pub enterprises: usize,
    pub rejects: usize,
    pub claims: usize,
    pub claims_rejected: usize,
    pub should_enjoy_not_enjoyed: usize,
    pub enjoyed_not_eligible: usize,
    pub amount_differs: usize,
}

fn s(x: impl Into<String>) -> Cell {
    Cell::Str(x.into())
}

/// Reads claims: CSV with header `enterprise_id,measure_id[,amount_yuan]`.
fn read_claims(path: &Path) -> Result<(BTreeMap<String, Vec<Claim>>, usize), MatchError> {
    let fail = |message: String| MatchError::Input {
        path: path.to_owned(),
        message,
    };
    let mut r = csv::Reader::from_path(path).map_err(|e| fail(e.to_string()))?;
    let headers = r.headers().map_err(|e| fail(e.to_string()))?.clone();
    let col = |name: &str| headers.iter().position(|h| h == name);
    let (Some(ei), Some(mi)) = (col("enterprise_id"), col("measure_id")) else {
        return Err(fail(
            "claims need the columns `enterprise_id` and `measure_id`".into(),
        ));
    };
    let ai = col("amount_yuan");
    let mut claims: BTreeMap<String, Vec<Claim>> = BTreeMap::new();
    let mut n = 0;
    for (i, rec) in r.records().enumerate() {
        let rec = rec.map_err(|e| fail(e.to_string()))?;
        let row = i + 1;
        let amount_yuan = match ai
            .and_then(|a| rec.get(a))
            .map(str::trim)
            .filter(|a| !a.is_empty())
        {
            Some(a) => Some(
                a.parse::<f64>()
                    .ok()
                    .filter(|x| x.is_finite())
                    .ok_or_else(|| fail(format!("row {row}: amount `{a}` is not a number")))?,
            ),
            None => None,
        };
        let id = rec.get(ei).unwrap_or("").trim().to_owned();
        let measure = rec.get(mi).unwrap_or("").trim().to_owned();
        claims.entry(id).or_default().push(Claim {
            row,
            measure,
            amount_yuan,
        });
        n += 1;
    }
    Ok((claims, n))
}

pub fn run_audit(catalog: &Catalog, opts: &AuditOptions) -> Result<AuditSummary, MatchError> {
    let (mut claims, claim_count) = read_claims(&opts.claims)?;
    let mut sum = AuditSummary {
        catalog_hash: catalog.hash.clone(),
        as_of: opts.as_of.to_string(),
        claims: claim_count,
        ..AuditSummary::default()
    };
    let mut missed = Table::new(
        "should_enjoy_not_enjoyed",
        &[
            ("enterprise_id", ColType::Str),
            ("measure_id", ColType::Str),
            ("amount_yuan", ColType::Float),
        ],
    );
    let mut wrongly = Table::new(
        "enjoyed_not_eligible",
        &[
            ("enterprise_id", ColType::Str),
            ("measure_id", ColType::Str),
            ("claim_row", ColType::Int),
            ("outcome", ColType::Str),
            ("failed", ColType::Str),
            ("missing_fields", ColType::Str),
        ],
    );
    let mut differs = Table::new(
        "amount_differs",
        &[
            ("enterprise_id", ColType::Str),
            ("measure_id", ColType::Str),
            ("claim_row", ColType::Int),
            ("claimed_yuan", ColType::Float),
            ("entitled_yuan", ColType::Float),
        ],
    );
    let mut claim_rejects = Table::new(
        "claims_rejected",
        &[
            ("claim_row", ColType::Int),
            ("enterprise_id", ColType::Str),
            ("measure_id", ColType::Str),
            ("reason", ColType::Str),
        ],
    );
    let index: BTreeMap<&str, usize> = catalog
        .measures
        .iter()
        .enumerate()
        .map(|(i, m)| (m.measure.id.as_str(), i))
        .collect();
    // Measures with something to enjoy: granted without application, or with an amount.
    // What an enterprise can be entitled to and fail to claim: a measure whose nature
    // is a benefit (money, a quota, a tax or fee reduction), or one granted without
    // application.
    let benefit = |i: usize| {
        let m = &catalog.measures[i].measure;
        m.auto_grant() || m.nature == policy_match::rules::ir::Nature::Benefit
    };
    let mut seen = HashSet::new();
    read_chunks(
        catalog,
        &opts.enterprises,
        opts.chunk_rows.max(1),
        &mut |chunk: Vec<RawRecord>| {
            let mut profiles = Vec::new();
            for rec in chunk {
                match rec.into_profile(&catalog.schema) {
                    Ok(p) if seen.insert(p.id.clone()) => profiles.push(p),
                    _ => sum.rejects += 1,
                }
            }
            let results = catalog.evaluate_batch(&profiles, opts.as_of);
            for (p, rs) in profiles.iter().zip(&results) {
                sum.enterprises += 1;
                let mine = claims.remove(&p.id).unwrap_or_default();
                let claimed: HashSet<&str> = mine.iter().map(|c| c.measure.as_str()).collect();
                for r in rs {
                    let cm = &catalog.measures[r.index];
                    let yuan = r.amount_yuan(&cm.measure);
                    // An amount pending is still a benefit the enterprise is entitled to.
                    if matches!(r.outcome, Outcome::Eligible | Outcome::AmountPending)
                        && benefit(r.index)
                        && !claimed.contains(cm.measure.id.as_str())
                    {
                        missed.push(vec![
                            s(&p.id),
                            s(&cm.measure.id),
                            yuan.map_or(Cell::Null, Cell::Float),
                        ]);
                    }
                }
                for c in &mine {
                    let Some(&i) = index.get(c.measure.as_str()) else {
                        claim_rejects.push(vec![
                            Cell::Int(c.row as i64),
                            s(&p.id),
                            s(&c.measure),
                            s(format!("no measure `{}` in the catalog", c.measure)),
                        ]);
                        continue;
                    };
                    let r = &rs[i];
                    let cm = &catalog.measures[i];
                    // A claim whose amount is pending is eligible; its amount cannot be
                    // checked until the field it waits on is recorded.
                    if !matches!(r.outcome, Outcome::Eligible | Outcome::AmountPending) {
                        wrongly.push(vec![
                            s(&p.id),
                            s(&c.measure),
                            Cell::Int(c.row as i64),
                            s(r.outcome.as_str()),
                            s(r.failed_labels(cm).join("；")),
                            s(r.missing_fields.join(",")),
                        ]);
                    } else if let (Some(claimed), Some(entitled)) =
                        (c.amount_yuan, r.amount_yuan(&cm.measure))
                        && (claimed - entitled).abs() >= 0.005
                    {
                        differs.push(vec![
                            s(&p.id),
                            s(&c.measure),
                            Cell::Int(c.row as i64),
                            Cell::Float(claimed),
                            Cell::Float(entitled),
                        ]);
                    }
                }
            }
        },
    )?;
    // Claims of enterprises absent from the population (or rejected from it).
    for (id, cs) in claims {
        for c in cs {
            claim_rejects.push(vec![
                Cell::Int(c.row as i64),
                s(&id),
                s(&c.measure),
                s(format!(
                    "enterprise `{id}` is not in the population, or its row was rejected"
                )),
            ]);
        }
    }
    for t in [&mut missed, &mut wrongly, &mut differs] {
        t.rows.sort_by(|a, b| match (&a[0], &b[0], &a[1], &b[1]) {
            (Cell::Str(x), Cell::Str(y), Cell::Str(m), Cell::Str(n)) => (x, m).cmp(&(y, n)),
            _ => std::cmp::Ordering::Equal,
        });
    }
    claim_rejects.rows.sort_by_key(|r| match r[0] {
        Cell::Int(i) => i,
        _ => 0,
    });
    sum.should_enjoy_not_enjoyed = missed.rows.len();
    sum.enjoyed_not_eligible = wrongly.rows.len();
    sum.amount_differs = differs.rows.len();
    sum.claims_rejected = claim_rejects.rows.len();

    let out = OutDir::create(&opts.out)?;
    for t in [&missed, &wrongly, &differs, &claim_rejects] {
        out.write(&format!("{}.csv", t.name), |w| t.write_csv(w))?;
    }
    // Plain data (strings, numbers, maps with string keys) always serialises.
    let json = serde_json::to_string_pretty(&sum).expect("plain data serialises");
    out.write("summary.json", |w| {
        use std::io::Write;
        writeln!(w, "{json}")
    })?;
    out.commit()?;
    Ok(sum)
}
