//! Writing a generated population to a file, in the format its extension names.

use std::io::{BufWriter, Write};
use std::path::Path;

use policy_match::profile::schema::Schema;
use policy_match::synth;
use policy_match::synth::GenOptions;

/// Writes `opts.count` generated records to `path` (`.csv`, `.parquet` or `.jsonl`),
/// through a temporary file renamed into place, so a killed run leaves no half file.
pub fn write_file(path: &Path, schema: &Schema, opts: &GenOptions) -> Result<usize, String> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.partial-{}", std::process::id()));
    let fail = |e: &dyn std::fmt::Display| format!("cannot write `{}`: {e}", path.display());
    let written = (|| -> Result<usize, String> {
        let records = synth::population(schema, opts);
        match ext.as_str() {
            "jsonl" | "ndjson" | "csv" => {
                let file = std::fs::File::create(&tmp).map_err(|e| fail(&e))?;
                let mut w = BufWriter::new(file);
                let n = if ext == "csv" {
                    crate::population::write_csv(&mut w, schema, records)
                } else {
                    crate::population::write_jsonl(&mut w, schema, records)
                }
                .map_err(|e| fail(&e))?;
                w.flush().map_err(|e| fail(&e))?;
                w.into_inner()
                    .map_err(|e| fail(&e))?
                    .sync_all()
                    .map_err(|e| fail(&e))?;
                Ok(n)
            }
            "parquet" => {
                // Streamed a row group at a time: memory does not grow with `count`.
                let mut w = crate::tabular::PopulationParquetWriter::create(&tmp, schema)
                    .map_err(|e| fail(&e))?;
                for record in records {
                    w.push(&record).map_err(|e| fail(&e))?;
                }
                let n = w.finish().map_err(|e| fail(&e))?;
                std::fs::File::open(&tmp)
                    .and_then(|f| f.sync_all())
                    .map_err(|e| fail(&e))?;
                Ok(n)
            }
            _ => Err(fail(&format!(
                "unknown extension `.{ext}`: expected .csv, .parquet or .jsonl"
            ))),
        }
    })();
    match written {
        Ok(n) => {
            std::fs::rename(&tmp, path).map_err(|e| fail(&e))?;
            Ok(n)
        }
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(e)
        }
    }
}
