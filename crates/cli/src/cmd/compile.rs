//! `compile`: the rhai script of one measure, or (`--emit sql`) the SQL query giving the
//! push list of one measure or of all.

use policy_match::compile::CompiledMeasure;
use policy_match::compile::catalog::Catalog;
use policy_match::rules::ir::Measure;

use crate::args::{CompileArgs, Emit};
use crate::exit::{self, EXIT_OK, Outcome};
use crate::out::Out;

pub fn run(catalog: &Catalog, args: &CompileArgs, out: &mut Out) -> Outcome {
    let picked = match args.measure.as_deref() {
        None => None,
        Some(id) => Some(pick(catalog, id)?),
    };
    match (args.emit, picked) {
        (Emit::Rhai, _) if args.as_of.is_some() => {
            Err(exit::fatal("`--as-of` applies to `--emit sql` only"))
        }
        (Emit::Rhai, Some(cm)) => {
            out.line(format_args!("{}", cm.script))?;
            Ok(EXIT_OK)
        }
        (Emit::Rhai, None) => Err(exit::fatal(
            "`compile` needs a measure id to print its rhai script, e.g. `policy-match compile M017`",
        )),
        (Emit::Sql, picked) => {
            let as_of = args.as_of.unwrap_or_else(crate::clock::today);
            let measures: Vec<&Measure> = match picked {
                Some(cm) => vec![&cm.measure],
                None => catalog.measures.iter().map(|cm| &cm.measure).collect(),
            };
            let query = policy_match::sql::push_query(catalog, measures, as_of)
                .map_err(|e| exit::fatal(e.to_string()))?;
            out.line(format_args!("{query}"))?;
            Ok(EXIT_OK)
        }
    }
}

/// The measure `id`, or a fatal error that names the closest id.
fn pick<'c>(catalog: &'c Catalog, id: &str) -> Result<&'c CompiledMeasure, exit::Failure> {
    catalog
        .index_of(id)
        .map(|i| &catalog.measures[i])
        .ok_or_else(|| {
            let ids = catalog.measures.iter().map(|m| m.measure.id.as_str());
            let hint = policy_match::diag::did_you_mean(id, ids)
                .map(|s| format!(" (did you mean `{s}`?)"))
                .unwrap_or_default();
            exit::fatal(format!("no measure `{id}` in the catalog{hint}"))
        })
}
