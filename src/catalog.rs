//! A loaded catalog: the schema, every measure compiled, the tag interner and the
//! frozen engine. Loading is the only place rules are read from disk.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arc_swap::ArcSwap;
use include_dir::{Dir, include_dir};
use jiff::civil::Date;
use rhai::Engine;
use sha2::{Digest, Sha256};

use crate::centre::Centre;
use crate::compile::{self, CompiledMeasure};
use crate::diag::{self, Code, Diagnostic};
use crate::eval::Recommendation;
use crate::ir::Test;
use crate::profile::Profile;
use crate::program::Program;
use crate::schema::Schema;
use crate::tags::Interner;
use crate::{check, engine};

static BUILTIN: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/rules");

/// The longest rule or schema file accepted.
pub const MAX_RULE_FILE_BYTES: usize = 256 * 1024;

/// Why a catalog could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read rules directory `{path}`: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "rules directory `{path}` changed while it was being read ({tries} tries); publish rules by renaming a complete folder into place",
        path = .path.display()
    )]
    Unstable { path: PathBuf, tries: usize },
    #[error("the catalog is invalid: {} problem(s)", .0.len())]
    Invalid(Vec<Diagnostic>),
    #[error(transparent)]
    Bug(#[from] compile::CompileBug),
}

/// The texts of a rules directory: `schema.toml`, `centre.toml` and `measures/**/*.toml`,
/// by relative path.
#[derive(Debug, Clone, Default)]
pub struct Sources {
    pub files: BTreeMap<String, Arc<str>>,
}

impl Sources {
    pub fn builtin() -> Sources {
        let mut files = BTreeMap::new();
        collect_builtin(&BUILTIN, &mut files);
        Sources { files }
    }

    /// Reads a rules directory as one consistent snapshot: the directory is read twice
    /// and the two readings must agree, so that a rule file edited during the read cannot
    /// mix versions. A folder that keeps changing is refused after a few tries.
    pub fn read_dir(root: &Path) -> Result<Sources, LoadError> {
        snapshot(root, || Sources::read_dir_once(root))
    }

    fn read_dir_once(root: &Path) -> Result<Sources, LoadError> {
        let io = |path: &Path, source| LoadError::Io {
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
    mut read: impl FnMut() -> Result<Sources, LoadError>,
) -> Result<Sources, LoadError> {
    let mut last = read()?;
    for _ in 0..SNAPSHOT_TRIES {
        let again = read()?;
        if again.files == last.files {
            return Ok(again);
        }
        last = again;
    }
    Err(LoadError::Unstable {
        path: root.to_owned(),
        tries: SNAPSHOT_TRIES,
    })
}

const SNAPSHOT_TRIES: usize = 5;

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

/// A compiled, immutable catalog. Share it behind an `Arc`; swap it with [`SharedCatalog`].
pub struct Catalog {
    pub schema: Schema,
    pub centre: Centre,
    /// Sorted by measure id.
    pub measures: Vec<CompiledMeasure>,
    pub hash: String,
    pub(crate) interner: Interner,
    pub(crate) engine: Engine,
    pub(crate) program: Program,
}

impl std::fmt::Debug for Catalog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Catalog")
            .field("hash", &self.hash)
            .field("measures", &self.measures.len())
            .finish()
    }
}

impl Catalog {
    /// The built-in Keqiao catalog, embedded in the crate from `rules/`.
    pub fn builtin() -> Result<Catalog, LoadError> {
        Catalog::from_sources(&Sources::builtin())
    }

    pub fn load_dir(root: &Path) -> Result<Catalog, LoadError> {
        Catalog::from_sources(&Sources::read_dir(root)?)
    }

    /// Checks every file, collecting all diagnostics, then compiles.
    pub fn from_sources(sources: &Sources) -> Result<Catalog, LoadError> {
        let mut diags = Vec::new();
        for (path, text) in &sources.files {
            if text.len() > MAX_RULE_FILE_BYTES {
                diags.push(Diagnostic::new(
                    Code::Io,
                    path,
                    format!(
                        "file is {} bytes, over the limit of {MAX_RULE_FILE_BYTES}",
                        text.len()
                    ),
                ));
            }
        }
        if !diags.is_empty() {
            return Err(LoadError::Invalid(diags));
        }
        let Some(schema_text) = sources.files.get("schema.toml") else {
            return Err(LoadError::Invalid(vec![Diagnostic::new(
                Code::Io,
                "schema.toml",
                "`schema.toml` is missing",
            )]));
        };
        let Some(centre_text) = sources.files.get("centre.toml") else {
            return Err(LoadError::Invalid(vec![Diagnostic::new(
                Code::Io,
                "centre.toml",
                "`centre.toml` is missing",
            )]));
        };
        let schema = Schema::parse("schema.toml", schema_text);
        let centre = Centre::parse("centre.toml", centre_text);
        let (schema, centre) = match (schema, centre) {
            (Ok(s), Ok(c)) => (s, c),
            (s, c) => {
                diags.extend(s.err().into_iter().flatten());
                diags.extend(c.err().into_iter().flatten());
                return Err(LoadError::Invalid(diags));
            }
        };
        let mut measures = Vec::new();
        let mut ids = Vec::new();
        for (path, text) in sources
            .files
            .iter()
            .filter(|(p, _)| p.starts_with("measures/"))
        {
            let checked = check::measure(&schema, &centre, path, text);
            diags.extend(checked.diags);
            measures.extend(checked.measure);
            ids.extend(checked.id.map(|(id, span)| (id, span, path.clone())));
        }
        diags.extend(check::duplicate_ids(&ids, &sources.files));
        if !diags.is_empty() {
            diag::sort(&mut diags);
            return Err(LoadError::Invalid(diags));
        }
        measures.sort_by(|a, b| a.id.cmp(&b.id));

        let mut interner = Interner::default();
        for m in &measures {
            for (_, c) in m.conditions() {
                match &c.test {
                    Test::Has(t) | Test::Lacks(t) => {
                        interner.intern(t);
                    }
                    Test::Any(ts) => ts.iter().for_each(|t| {
                        interner.intern(t);
                    }),
                    Test::When(e) => e.tags.iter().for_each(|t| {
                        interner.intern(t);
                    }),
                }
            }
            if let Some(b) = &m.benefit {
                b.expr.tags.iter().for_each(|t| {
                    interner.intern(t);
                });
            }
        }
        let engine = engine::build();
        let scope = compile::compile_scope(&schema);
        let measures = measures
            .into_iter()
            .map(|m| compile::measure(&engine, &scope, &schema, &interner, m))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Catalog {
            program: Program::new(&measures),
            schema,
            centre,
            measures,
            hash: sources.hash(),
            interner,
            engine,
        })
    }

    pub fn measure(&self, id: &str) -> Option<&CompiledMeasure> {
        self.measures
            .binary_search_by(|m| m.measure.id.as_str().cmp(id))
            .ok()
            .map(|i| &self.measures[i])
    }
}

/// A catalog a long-running service can swap while serving. Readers take a snapshot
/// (`current`) and use it for a whole answer, so every answer comes from one version.
pub struct SharedCatalog {
    current: ArcSwap<Catalog>,
}

impl SharedCatalog {
    pub fn new(catalog: Catalog) -> SharedCatalog {
        SharedCatalog {
            current: ArcSwap::from_pointee(catalog),
        }
    }

    pub fn current(&self) -> Arc<Catalog> {
        self.current.load_full()
    }

    /// Loads `root` and swaps it in. On any error the old catalog keeps serving and the
    /// error (with every diagnostic) is returned.
    pub fn reload_dir(&self, root: &Path) -> Result<Arc<Catalog>, LoadError> {
        self.reload(&Sources::read_dir(root)?)
    }

    pub fn reload(&self, sources: &Sources) -> Result<Arc<Catalog>, LoadError> {
        let next = Arc::new(Catalog::from_sources(sources)?);
        self.current.store(Arc::clone(&next));
        Ok(next)
    }

    /// [`Catalog::recommend`] on one snapshot: the whole answer, and the hash it carries,
    /// come from the catalog that was current when it started, whatever is swapped in
    /// meanwhile.
    pub fn recommend(&self, profile: &Profile, as_of: Date) -> Recommendation {
        self.current.load().recommend(profile, as_of)
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
        assert!(matches!(err, LoadError::Unstable { tries: 5, .. }), "{err}");
        assert!(
            err.to_string()
                .contains("`rules` changed while it was being read")
        );
        assert_eq!(n, 6, "one reading, then five tries");
    }
}
