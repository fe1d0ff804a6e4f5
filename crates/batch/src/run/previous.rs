//! The previous run (`--previous`): its push list, read in (enterprise, measure) order
//! to find the pushes that are new and those revoked; and its eligible list, when it
//! wrote one, to rank what is newly eligible.

use std::collections::HashMap;

use super::*;

/// The previous run's eligible list (`eligible` table), held as one bit per measure of
/// this catalog per enterprise: a pair absent from it is newly eligible. Measures the
/// catalog no longer has are left out.
pub(super) struct PreviousEligible {
    /// By packed 统一社会信用代码: bit `i` is measure `i` of the catalog.
    by_id: HashMap<u128, Box<[u64]>>,
}

impl PreviousEligible {
    /// Reads `eligible.csv` or `eligible.parquet` of `dir`; none when the previous run
    /// did not write that table (then nothing ranks as newly eligible).
    pub(super) fn open(dir: &Path, catalog: &Catalog) -> Result<Option<Self>, MatchError> {
        let fail = |path: &Path, message: String| MatchError::Previous {
            path: path.to_owned(),
            message,
        };
        let index: HashMap<&str, usize> = catalog
            .measures
            .iter()
            .enumerate()
            .map(|(i, cm)| (cm.measure.id.as_str(), i))
            .collect();
        let words = catalog.measures.len().div_ceil(64);
        let mut by_id: HashMap<u128, Box<[u64]>> = HashMap::new();
        let mut add = |path: &Path, row: usize, e: &str, m: &str| -> Result<(), MatchError> {
            let key = policy_match::profile::uscc::pack(e)
                .ok_or_else(|| fail(path, format!("row {row}: `{e}` is not a 统一社会信用代码")))?;
            if let Some(&i) = index.get(m) {
                by_id.entry(key).or_insert_with(|| vec![0; words].into())[i / 64] |= 1 << (i % 64);
            }
            Ok(())
        };
        let csv_path = dir.join("eligible.csv");
        let parquet_path = dir.join("eligible.parquet");
        if csv_path.exists() {
            let mut reader =
                csv::Reader::from_path(&csv_path).map_err(|e| fail(&csv_path, e.to_string()))?;
            let headers = reader
                .headers()
                .map_err(|e| fail(&csv_path, e.to_string()))?;
            if headers.get(0) != Some("enterprise_id") || headers.get(1) != Some("measure_id") {
                return Err(fail(
                    &csv_path,
                    "not an eligible list: its header is not `enterprise_id,measure_id`".into(),
                ));
            }
            for (i, rec) in reader.records().enumerate() {
                let rec = rec.map_err(|e| fail(&csv_path, e.to_string()))?;
                let (Some(e), Some(m)) = (rec.get(0), rec.get(1)) else {
                    return Err(fail(&csv_path, format!("line {} lacks its ids", i + 2)));
                };
                add(&csv_path, i + 2, e, m)?;
            }
        } else if parquet_path.exists() {
            let pairs =
                crate::tabular::read_pairs_parquet(&parquet_path, "enterprise_id", "measure_id")
                    .map_err(|e| fail(&parquet_path, e.to_string()))?;
            for (i, (e, m)) in pairs.iter().enumerate() {
                add(&parquet_path, i + 1, e, m)?;
            }
        } else {
            return Ok(None);
        }
        Ok(Some(PreviousEligible { by_id }))
    }

    /// Whether the previous run found enterprise `id` eligible for measure `index`.
    pub(super) fn was_eligible(&self, id: &str, index: usize) -> bool {
        policy_match::profile::uscc::pack(id)
            .and_then(|key| self.by_id.get(&key))
            .is_some_and(|bits| bits[index / 64] & (1 << (index % 64)) != 0)
    }
}

/// A previous run's push list, read in step with this run's: both are in
/// (enterprise_id, measure_id) order, so memory does not grow with its length.
pub(super) enum Previous {
    Csv {
        path: PathBuf,
        reader: csv::Reader<std::fs::File>,
        row: usize,
        last: Option<(String, String)>,
    },
    /// A Parquet push list, read whole (its pairs only).
    Pairs(std::collections::btree_set::IntoIter<(String, String)>),
}

impl Previous {
    pub(super) fn open(dir: &Path) -> Result<Previous, MatchError> {
        let fail = |message: String| MatchError::Previous {
            path: dir.to_owned(),
            message,
        };
        let csv_path = dir.join("pushes.csv");
        if csv_path.exists() {
            let mut reader = csv::Reader::from_path(&csv_path).map_err(|e| fail(e.to_string()))?;
            let headers = reader.headers().map_err(|e| fail(e.to_string()))?;
            if headers.get(0) != Some("enterprise_id") || headers.get(2) != Some("measure_id") {
                return Err(fail(format!(
                    "`{}` is not a push list: its header is `{}`",
                    csv_path.display(),
                    headers.iter().collect::<Vec<_>>().join(",")
                )));
            }
            return Ok(Previous::Csv {
                path: csv_path,
                reader,
                row: 1,
                last: None,
            });
        }
        if dir.join("pushes.parquet").exists() {
            return crate::tabular::read_pairs_parquet(
                &dir.join("pushes.parquet"),
                "enterprise_id",
                "measure_id",
            )
            .map(|pairs| Previous::Pairs(pairs.into_iter()))
            .map_err(|e| fail(e.to_string()));
        }
        Err(fail("it holds no pushes.csv or pushes.parquet".into()))
    }

    /// The next pair, checked to follow the one before.
    pub(super) fn next(&mut self) -> Result<Option<(String, String)>, MatchError> {
        let (path, reader, row, last) = match self {
            Previous::Pairs(pairs) => return Ok(pairs.next()),
            Previous::Csv {
                path,
                reader,
                row,
                last,
            } => (path, reader, row, last),
        };
        let fail = |message: String| MatchError::Previous {
            path: path.clone(),
            message,
        };
        let mut rec = csv::StringRecord::new();
        if !reader
            .read_record(&mut rec)
            .map_err(|e| fail(e.to_string()))?
        {
            return Ok(None);
        }
        *row += 1;
        let (Some(e), Some(m)) = (rec.get(0), rec.get(2)) else {
            return Err(fail(format!("line {row} lacks its ids")));
        };
        let pair = (e.to_owned(), m.to_owned());
        if last.as_ref().is_some_and(|l| *l >= pair) {
            return Err(fail(format!(
                "line {row} (`{e}`, `{m}`) is out of (enterprise_id, measure_id) order"
            )));
        }
        *last = Some(pair.clone());
        Ok(Some(pair))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn folder(pushes: &str) -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("pushes.csv"), pushes).expect("write");
        dir
    }

    fn all(prev: &mut Previous) -> Result<Vec<(String, String)>, MatchError> {
        let mut out = Vec::new();
        while let Some(pair) = prev.next()? {
            out.push(pair);
        }
        Ok(out)
    }

    #[test]
    fn a_push_list_is_read_in_order() {
        let dir = folder("enterprise_id,name,measure_id\nA,甲,M001\nA,甲,M017\nB,乙,M001\n");
        let mut prev = Previous::open(dir.path()).expect("opens");
        let pairs = all(&mut prev).expect("in order");
        let ids: Vec<(&str, &str)> = pairs
            .iter()
            .map(|(e, m)| (e.as_str(), m.as_str()))
            .collect();
        assert_eq!(ids, [("A", "M001"), ("A", "M017"), ("B", "M001")]);
    }

    #[test]
    fn a_list_out_of_order_or_repeated_is_refused_with_its_line() {
        for (text, line) in [
            ("enterprise_id,name,measure_id\nB,乙,M001\nA,甲,M001\n", 3),
            ("enterprise_id,name,measure_id\nA,甲,M017\nA,甲,M017\n", 3),
        ] {
            let dir = folder(text);
            let mut prev = Previous::open(dir.path()).expect("opens");
            let err = all(&mut prev).expect_err("refused").to_string();
            assert!(err.contains(&format!("line {line} ")), "{err}");
            assert!(err.contains("pushes.csv"), "names the file: {err}");
        }
    }

    #[test]
    fn a_folder_without_a_push_list_or_with_another_table_is_refused() {
        let empty = tempfile::tempdir().expect("tempdir");
        let err = Previous::open(empty.path())
            .err()
            .expect("refused")
            .to_string();
        assert!(
            err.contains("holds no pushes.csv or pushes.parquet"),
            "{err}"
        );
        let other = folder("enterprise_id,measure_id,amount_yuan\nA,M001,1\n");
        let err = Previous::open(other.path())
            .err()
            .expect("refused")
            .to_string();
        assert!(err.contains("is not a push list"), "{err}");
    }
}
