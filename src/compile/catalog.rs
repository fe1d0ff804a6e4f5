//! The compiled catalog: the schema and service centre, every measure compiled, the tag
//! interner, the frozen engine and the program the inner loop runs. Built once by
//! `assemble` from checked measures and their warnings; immutable afterwards.

use rhai::Engine;

use crate::compile;
use crate::compile::CompileBug;
use crate::compile::CompiledMeasure;
use crate::compile::engine;
use crate::compile::program::Program;
use crate::compile::tags::Interner;
use crate::compile::unlock_keys::UnlockKeys;
use crate::diag::Diagnostic;
use crate::profile::schema::Schema;
use crate::rules::centre::Centre;
use crate::rules::id::MeasureId;
use crate::rules::ir::Measure;
use crate::rules::ir::Test;

/// A compiled, immutable catalog: load it with [`Catalog::builtin`],
/// [`Catalog::load_dir`] or [`Catalog::from_sources`]; share it behind an `Arc`; swap it
/// while serving with [`SharedCatalog`](crate::SharedCatalog).
///
/// Its fields are the batch crate's and the benches' view of the compiled form, not part
/// of the public API: use the accessors.
pub struct Catalog {
    #[doc(hidden)]
    pub schema: Schema,
    #[doc(hidden)]
    pub centre: Centre,
    /// Sorted by measure id.
    #[doc(hidden)]
    pub measures: Vec<CompiledMeasure>,
    /// `ids[i]` is the id of `measures[i]`.
    #[doc(hidden)]
    pub ids: Vec<MeasureId>,
    #[doc(hidden)]
    pub hash: String,
    /// The conditions of every measure keyed for unlocks.
    #[doc(hidden)]
    pub unlock_keys: UnlockKeys,
    /// `pushed[i]`: measure `i` is pushed (`Measure::pushed`), decided once here rather
    /// than per pair or per answer.
    pushed: Vec<bool>,
    /// The lint pass's warnings, sorted by file and place.
    pub(crate) warnings: Vec<Diagnostic>,
    pub(crate) interner: Interner,
    pub(crate) engine: Engine,
    pub(crate) program: Program,
}

impl std::fmt::Debug for Catalog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Catalog")
            .field("hash", &self.hash)
            .field("measures", &self.measures.len())
            .field("warnings", &self.warnings.len())
            .finish()
    }
}

/// Compiles checked measures (sorted by id) into a catalog that keeps their warnings:
/// interns every tag a criterion or `has("…")` tests, builds the engine once, compiles
/// each measure and lays out the program.
pub(crate) fn assemble(
    schema: Schema,
    centre: Centre,
    measures: Vec<Measure>,
    warnings: Vec<Diagnostic>,
    hash: String,
) -> Result<Catalog, CompileBug> {
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
    let ids = measures
        .iter()
        .map(|m| {
            MeasureId::new(&m.id).ok_or_else(|| CompileBug {
                measure: m.id.clone(),
                error: "a checked measure id is not of the form `M001`".into(),
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let measures = measures
        .into_iter()
        .map(|m| compile::measure(&engine, &scope, &schema, &interner, m))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Catalog {
        program: Program::new(&measures),
        unlock_keys: UnlockKeys::new(&measures),
        pushed: measures.iter().map(|cm| cm.measure.pushed()).collect(),
        ids,
        schema,
        centre,
        measures,
        hash,
        warnings,
        interner,
        engine,
    })
}

impl Catalog {
    /// The content hash of the rules the catalog was built from; every answer carries it.
    pub fn hash(&self) -> &str {
        &self.hash
    }

    /// The warnings of the lint pass (`lint::*` codes), sorted by file and place: what
    /// an officer should look at twice. They did not stop the catalog from loading; a
    /// measure file acknowledges one with `[allow]`.
    pub fn warnings(&self) -> &[Diagnostic] {
        &self.warnings
    }

    /// The profile vocabulary (`schema.toml`) profiles are checked against.
    pub fn schema(&self) -> &Schema {
        &self.schema
    }

    /// Whether each measure, in catalog order, is pushed to eligible enterprises
    /// ([`Measure::pushed`]).
    pub fn pushed(&self) -> &[bool] {
        &self.pushed
    }

    /// The enterprise service centre (`centre.toml`): zones, windows, 一类事 scenarios.
    pub fn centre(&self) -> &Centre {
        &self.centre
    }

    /// Every measure, checked, in id order.
    pub fn measures(&self) -> impl ExactSizeIterator<Item = &Measure> + '_ {
        self.measures.iter().map(|cm| &cm.measure)
    }

    /// The measure with this id, if the catalog has it.
    pub fn measure(&self, id: &str) -> Option<&Measure> {
        self.index_of(id).map(|i| &self.measures[i].measure)
    }

    /// The position of a measure in this catalog's compiled form (not stable across
    /// catalog versions: answers name measures by id).
    #[doc(hidden)]
    pub fn index_of(&self, id: &str) -> Option<usize> {
        self.measures
            .binary_search_by(|m| m.measure.id.as_str().cmp(id))
            .ok()
    }
}
