//! The compiled catalog: the schema and service centre, every measure compiled, the tag
//! interner, the frozen engine and the program the inner loop runs. Built once by
//! [`assemble`] from checked measures; immutable afterwards.

use rhai::Engine;

use crate::compile;
use crate::compile::CompileBug;
use crate::compile::CompiledMeasure;
use crate::compile::engine;
use crate::compile::program::Program;
use crate::compile::tags::Interner;
use crate::profile::schema::Schema;
use crate::rules::centre::Centre;
use crate::rules::ir::Measure;
use crate::rules::ir::Test;

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

/// Compiles checked measures (sorted by id) into a catalog: interns every tag a
/// criterion or `has("…")` tests, builds the engine once, compiles each measure and lays
/// out the program.
pub(crate) fn assemble(
    schema: Schema,
    centre: Centre,
    measures: Vec<Measure>,
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
    let measures = measures
        .into_iter()
        .map(|m| compile::measure(&engine, &scope, &schema, &interner, m))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Catalog {
        program: Program::new(&measures),
        schema,
        centre,
        measures,
        hash,
        interner,
        engine,
    })
}

impl Catalog {
    pub fn measure(&self, id: &str) -> Option<&CompiledMeasure> {
        self.measures
            .binary_search_by(|m| m.measure.id.as_str().cmp(id))
            .ok()
            .map(|i| &self.measures[i])
    }
}
