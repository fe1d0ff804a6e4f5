//! `audit`: the risk scans 应享未享 (eligible, no claim) and 不应享而享 (a claim, not
//! eligible) into an output folder; a one-line summary on stderr.

use policy_match::compile::catalog::Catalog;
use policy_match_batch::audit::AuditOptions;

use crate::args::AuditArgs;
use crate::exit::{self, EXIT_OK, EXIT_ROWS_REJECTED, Outcome};
use crate::out::note;

pub fn run(catalog: &Catalog, args: &AuditArgs) -> Outcome {
    let opts = AuditOptions {
        enterprises: args.enterprises.clone(),
        claims: args.claims.clone(),
        out: args.out.clone(),
        as_of: args.as_of.unwrap_or_else(crate::clock::today),
        chunk_rows: policy_match_batch::run::DEFAULT_CHUNK_ROWS,
    };
    let sum = policy_match_batch::audit::run_audit(catalog, &opts)
        .map_err(|e| exit::fatal(e.to_string()))?;
    note(format_args!(
        "audited {} enterprise(s), {} claim(s): {} 应享未享, {} 不应享而享, {} amount differs, {} claim(s) rejected → {}",
        sum.enterprises,
        sum.claims,
        sum.should_enjoy_not_enjoyed,
        sum.enjoyed_not_eligible,
        sum.amount_differs,
        sum.claims_rejected,
        args.out.display()
    ));
    Ok(if sum.claims_rejected > 0 || sum.rejects > 0 {
        EXIT_ROWS_REJECTED
    } else {
        EXIT_OK
    })
}
