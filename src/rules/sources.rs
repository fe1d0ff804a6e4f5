//! The text of a rules directory (规则目录): read from disk as one consistent snapshot,
//! or the copy embedded at build time. The only place rules are read from disk.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[cfg(feature = "builtin")]
use include_dir::{Dir, include_dir};
use sha2::{Digest, Sha256};

#[cfg(feature = "builtin")]
static BUILTIN: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/rules");

/// The longest rule or schema file accepted.
pub const MAX_RULE_FILE_BYTES: usize = 256 * 1024;

/// Why a rules directory could not be read.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum SourcesError {
    /// A file or folder of the directory could not be read.
    #[error("cannot read rules directory `{path}`: {source}")]
    Io {
        /// The file or folder that failed.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The directory kept changing while it was read.
    #[error(
        "rules directory `{path}` changed while it was being read ({tries} tries); publish rules by renaming a complete folder into place",
        path = .path.display()
    )]
    Unstable {
        /// The rules directory.
        path: PathBuf,
        /// How many readings were compared.
        tries: usize,
    },
}

/// The texts of a rules directory: `schema.toml`, `centre.toml` and `measures/**/*.toml`,
/// by relative path.
#[derive(Debug, Clone, Default)]
pub struct Sources {
    /// Each file's text by path relative to the folder (`measures/M017.toml`).
    pub files: BTreeMap<String, Arc<str>>,
}

impl Sources {
    /// The built-in Keqiao rules, embedded from `rules/` at build time.
    #[cfg(feature = "builtin")]
    pub fn builtin() -> Sources {
        let mut files = BTreeMap::new();
        collect_builtin(&BUILTIN, &mut files);
        Sources { files }
    }

    /// Reads a rules directory as one consistent snapshot: the directory is read twice
    /// and the two readings must agree, so that a rule file edited during the read cannot
    /// mix versions. A folder that keeps changing is refused after a few tries.
    pub fn read_dir(root: &Path) -> Result<Sources, SourcesError> {
        snapshot(root, || Sources::read_dir_once(root))
    }

    fn read_dir_once(root: &Path) -> Result<Sources, SourcesError> {
        let io = |path: &Path, source| SourcesError::Io {
            path: path.to_owned(),
            source,
        };
        let mut files = BTreeMap::new();
        for name in ["schema.toml", "centre.toml"] {
            let path = root.join(name);
            let text = std::fs::read_to_string(&path).map_err(|e| io(&path, e))?;
            files.insert(name.to_owned(), Arc::from(text));
        }
        let mut stack = vec![root.join("measures")];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).map_err(|e| io(&dir, e))? {
                let path = entry.map_err(|e| io(&dir, e))?.path();
                if path.is_dir() {
                    stack.push(path);
                } else if path.extension().is_some_and(|e| e == "toml") {
                    let text = std::fs::read_to_string(&path).map_err(|e| io(&path, e))?;
                    let rel = path
                        .strip_prefix(root)
                        .unwrap_or(&path)
                        .to_string_lossy()
                        .replace('\\', "/");
                    files.insert(rel, Arc::from(text));
                }
            }
        }
        Ok(Sources { files })
    }

    /// A content hash of every file, stable across platforms: answers carry it so that
    /// each can be traced to the exact catalog that produced it.
    pub fn hash(&self) -> String {
        let mut h = Sha256::new();
        for (path, text) in &self.files {
            h.update((path.len() as u64).to_le_bytes());
            h.update(path.as_bytes());
            h.update((text.len() as u64).to_le_bytes());
            h.update(text.as_bytes());
        }
        h.finalize()
            .iter()
            .take(8)
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

/// Reads until two readings in a row agree, at most [`SNAPSHOT_TRIES`] times after the
/// first.
fn snapshot(
    root: &Path,
    mut read: impl FnMut() -> Result<Sources, SourcesError>,
) -> Result<Sources, SourcesError> {
    let mut last = read()?;
    for _ in 0..SNAPSHOT_TRIES {
        let again = read()?;
        if again.files == last.files {
            return Ok(again);
        }
        last = again;
    }
    Err(SourcesError::Unstable {
        path: root.to_owned(),
        tries: SNAPSHOT_TRIES,
    })
}

const SNAPSHOT_TRIES: usize = 5;

#[cfg(feature = "builtin")]
fn collect_builtin(dir: &Dir<'static>, out: &mut BTreeMap<String, Arc<str>>) {
    for f in dir.files() {
        let path = f.path().to_string_lossy().replace('\\', "/");
        let wanted = path == "schema.toml"
            || path == "centre.toml"
            || (path.starts_with("measures/") && path.ends_with(".toml"));
        if wanted && let Some(text) = f.contents_utf8() {
            out.insert(path, Arc::from(text));
        }
    }
    for d in dir.dirs() {
        collect_builtin(d, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn version(n: usize) -> Sources {
        let mut s = Sources::default();
        s.files
            .insert("measures/M001.toml".into(), format!("# {n}").into());
        s
    }

    #[test]
    fn a_snapshot_is_two_readings_that_agree() {
        let root = Path::new("rules");
        // Changed once during the read: the second and third readings agree.
        let mut readings = [1, 2, 2].into_iter().map(version);
        let got = snapshot(root, || Ok(readings.next().unwrap())).unwrap();
        assert_eq!(got.files, version(2).files);
        // Changing at every reading: refused, naming the folder.
        let mut n = 0;
        let err = snapshot(root, || {
            n += 1;
            Ok(version(n))
        })
        .unwrap_err();
        assert!(
            matches!(err, SourcesError::Unstable { tries: 5, .. }),
            "{err}"
        );
        assert!(
            err.to_string()
                .contains("`rules` changed while it was being read")
        );
        assert_eq!(n, 6, "one reading, then five tries");
    }
}
