//! Loading and sharing a catalog: rule text checked (stage 2) and, only when no file has
//! an error, compiled (stage 3) with its warnings kept; [`SharedCatalog`] swaps catalogs
//! while serving.

use std::path::Path;
use std::sync::Arc;

use arc_swap::ArcSwap;
use jiff::civil::Date;

use crate::compile;

use crate::compile::catalog::Catalog;
use crate::diag;
use crate::diag::Code;
use crate::diag::Diagnostic;
use crate::eval::Recommendation;
use crate::profile::enterprise::Profile;
use crate::profile::schema::Schema;
use crate::rules::centre::Centre;
use crate::rules::check;
use crate::rules::sources::MAX_RULE_FILE_BYTES;
use crate::rules::sources::Sources;
use crate::rules::sources::SourcesError;

/// Why a catalog could not be loaded.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum LoadError {
    /// The rules directory could not be read.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Read(#[from] SourcesError),
    /// Rule files have errors: every diagnostic of every file, sorted by file and place.
    /// Besides the errors, it holds the warnings of the files that checked
    /// ([`Diagnostic::is_error`] tells them apart).
    #[error("the catalog is invalid: {} error(s)", errors(.0))]
    #[diagnostic(
        code(catalog::invalid),
        help("run `policy-match check` for every problem, located")
    )]
    Invalid(Vec<Diagnostic>),
    /// Checked rules failed to compile: a bug of this crate, not of the rules.
    #[error(transparent)]
    #[diagnostic(code(catalog::internal_error))]
    Bug(#[from] compile::CompileBug),
}

/// How many of `diags` are errors.
fn errors(diags: &[Diagnostic]) -> usize {
    diags.iter().filter(|d| d.is_error()).count()
}

impl Catalog {
    /// The built-in Keqiao catalog, embedded in the crate from `rules/`.
    #[cfg(feature = "builtin")]
    pub fn builtin() -> Result<Catalog, LoadError> {
        Catalog::from_sources(&Sources::builtin())
    }

    /// Reads a rules directory as one snapshot, checks and compiles it.
    pub fn load_dir(root: &Path) -> Result<Catalog, LoadError> {
        Catalog::from_sources(&Sources::read_dir(root)?)
    }

    /// Checks every file, collecting all diagnostics, then compiles; the warnings of the
    /// lint pass do not stop it and stay with the catalog ([`Catalog::warnings`]).
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
        let mut warnings = Vec::new();
        let mut ids = Vec::new();
        for (path, text) in sources
            .files
            .iter()
            .filter(|(p, _)| p.starts_with("measures/"))
        {
            let checked = check::measure(&schema, &centre, path, text);
            diags.extend(checked.diags);
            warnings.extend(checked.warnings);
            measures.extend(checked.measure);
            ids.extend(checked.id.map(|(id, span)| (id, span, path.clone())));
        }
        diags.extend(check::duplicate_ids(&ids, &sources.files));
        if !diags.is_empty() {
            diags.extend(warnings);
            diag::sort(&mut diags);
            return Err(LoadError::Invalid(diags));
        }
        measures.sort_by(|a, b| a.id.cmp(&b.id));
        diag::sort(&mut warnings);

        crate::compile::catalog::assemble(schema, centre, measures, warnings, sources.hash())
            .map_err(LoadError::from)
    }
}

/// A catalog a long-running service can swap while serving. Readers take a snapshot
/// (`current`) and use it for a whole answer, so every answer comes from one version.
pub struct SharedCatalog {
    current: ArcSwap<Catalog>,
}

impl SharedCatalog {
    /// Starts serving `catalog`.
    pub fn new(catalog: Catalog) -> SharedCatalog {
        SharedCatalog {
            current: ArcSwap::from_pointee(catalog),
        }
    }

    /// The catalog serving now: keep it for a whole answer.
    pub fn current(&self) -> Arc<Catalog> {
        self.current.load_full()
    }

    /// Loads `root` and swaps it in. On any error the old catalog keeps serving and the
    /// error (with every diagnostic) is returned.
    pub fn reload_dir(&self, root: &Path) -> Result<Arc<Catalog>, LoadError> {
        self.reload(&Sources::read_dir(root)?)
    }

    /// Compiles `sources` and swaps it in; on any error the old catalog keeps serving.
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
