//! The population read in chunks, by file extension, one chunk ahead of evaluation.

use super::*;

/// Reads the population in chunks, in file order.
pub(crate) fn read_chunks(
    catalog: &Catalog,
    path: &Path,
    chunk_rows: usize,
    sink: &mut dyn FnMut(Vec<RawRecord>),
) -> Result<usize, MatchError> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    let fail = |message: String| MatchError::Input {
        path: path.to_owned(),
        message,
    };
    match ext.as_str() {
        "jsonl" | "ndjson" => {
            policy_match::profile::jsonl::read_records(path, &catalog.schema, chunk_rows, sink)
                .map_err(MatchError::ReadJsonl)
        }
        "csv" | "parquet" => {
            crate::tabular::read_population(path, &catalog.schema, chunk_rows, sink)
                .map_err(MatchError::ReadTable)
        }
        _ => Err(fail(format!(
            "unknown extension `.{ext}`: expected .csv, .parquet or .jsonl"
        ))),
    }
}

/// Where a run's population comes from.
pub(super) enum Input<'a> {
    /// A population file, read by extension ([`read_chunks`]).
    File(&'a Path),
    /// An Arrow stream in the population layout, read as Parquet is.
    /// With the name of the column of row numbers, if it has one.
    Arrow(crate::tabular::ArrowStream, Option<&'a str>),
}

/// [`read_chunks`] (or the Arrow reader) on a thread of its own, one chunk ahead of
/// `sink`: reading the next chunk overlaps checking, evaluating and spooling this one.
/// Chunks reach `sink` in input order, as from `read_chunks`.
pub(super) fn read_ahead(
    catalog: &Catalog,
    input: Input<'_>,
    chunk_rows: usize,
    sink: &mut dyn FnMut(Vec<RawRecord>),
) -> Result<usize, MatchError> {
    let (tx, rx) = std::sync::mpsc::sync_channel(1);
    std::thread::scope(|scope| {
        let reader = scope.spawn(move || {
            let send = &mut |chunk| {
                // The receiver is gone only when `sink` panicked: the rest is not needed.
                let _ = tx.send(chunk);
            };
            match input {
                Input::File(path) => read_chunks(catalog, path, chunk_rows, send),
                Input::Arrow(stream, row_numbers) => crate::tabular::read_arrow_population(
                    stream,
                    &catalog.schema,
                    chunk_rows.max(1),
                    row_numbers,
                    send,
                )
                .map_err(MatchError::ReadArrow),
            }
        });
        for chunk in rx {
            sink(chunk);
        }
        reader
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_arrive_in_file_order_ahead_or_not_and_an_unknown_extension_is_refused() {
        let catalog = Catalog::builtin().expect("built-in catalog");
        let fixture =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/enterprises.jsonl");
        let rows = |chunks: &[Vec<RawRecord>]| -> Vec<usize> {
            chunks.iter().flatten().map(|r| r.row).collect()
        };
        let mut direct = Vec::new();
        let n = read_chunks(&catalog, &fixture, 2, &mut |c| direct.push(c)).expect("reads");
        assert!(n > 2 && direct.iter().all(|c| c.len() <= 2), "{n} rows");
        let mut ahead = Vec::new();
        read_ahead(&catalog, Input::File(&fixture), 2, &mut |c| ahead.push(c)).expect("reads");
        assert_eq!(rows(&direct), rows(&ahead));
        assert!(rows(&direct).windows(2).all(|w| w[0] < w[1]));

        let err = read_chunks(&catalog, Path::new("pop.xlsx"), 2, &mut |_| {})
            .expect_err("refused")
            .to_string();
        assert!(
            err.contains("`pop.xlsx`") && err.contains("unknown extension `.xlsx`"),
            "{err}"
        );
    }
}
