//! `explain`: every measure's outcome for one enterprise of a JSON Lines file.

use policy_match::compile::catalog::Catalog;
use policy_match::profile;
use policy_match::report::explain;

use crate::args::{ExplainArgs, TextFormat};
use crate::exit::{self, EXIT_OK, Outcome};
use crate::out::Out;

pub fn run(catalog: &Catalog, args: &ExplainArgs, out: &mut Out) -> Outcome {
    let (profiles, rejects) = profile::jsonl::read_jsonl(&catalog.schema, &args.enterprises)
        .map_err(|e| exit::fatal(e.to_string()))?;
    let id = &args.id;
    let Some(p) = profiles.iter().find(|p| &p.id == id) else {
        let why = rejects
            .iter()
            .find(|r| r.id.as_deref() == Some(id.as_str()))
            .map(|r| format!(": line {} was rejected: {}", r.row, r.reason))
            .unwrap_or_else(|| " (no such id)".to_owned());
        return Err(exit::fatal(format!(
            "enterprise `{id}` not found in `{}`{why}",
            args.enterprises.display()
        )));
    };
    let as_of = args.as_of.unwrap_or_else(crate::clock::today);
    let rec = catalog.recommend_with(
        p,
        as_of,
        &policy_match::EvalOptions::with_engine(args.engine),
    );
    let digest = rec.digest(catalog, args.push.max_pushes, args.push.max_unlocks);
    match args.format {
        TextFormat::Text => {
            out.text(&explain::to_text(catalog, &p.name, &rec, &digest, args.all))?
        }
        TextFormat::Json => out.json(&explain::to_json(catalog, &rec, &digest))?,
    }
    Ok(EXIT_OK)
}
