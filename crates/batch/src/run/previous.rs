//! The previous run's push list (`--previous`), read in (enterprise, measure) order to
//! find the pushes that are new and those revoked.

use super::*;

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
