//! `report`: a finished run's folder as one HTML page (驾驶舱); a one-line note on stderr.

use policy_match::compile::catalog::Catalog;

use crate::args::ReportArgs;
use crate::exit::{self, EXIT_OK, Outcome};
use crate::out::note;

pub fn run(catalog: &Catalog, args: &ReportArgs) -> Outcome {
    let bytes = policy_match_batch::report::write_report(
        &args.run,
        args.audit.as_deref(),
        catalog,
        &args.out,
    )
    .map_err(|e| exit::fatal(e.to_string()))?;
    note(format_args!(
        "report of {} ({} KiB) → {}",
        args.run.display(),
        bytes.div_ceil(1024),
        args.out.display()
    ));
    Ok(EXIT_OK)
}
