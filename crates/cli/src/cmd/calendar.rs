//! `calendar`: the service calendar (企业服务日历), the measures whose effective window opens
//! or closes within the period.

use policy_match::compile::catalog::Catalog;
use policy_match::report::views;

use crate::args::{CalendarArgs, ListFormat};
use crate::exit::{EXIT_OK, Outcome};
use crate::out::Out;

pub fn run(catalog: &Catalog, args: &CalendarArgs, out: &mut Out) -> Outcome {
    let as_of = args.as_of.unwrap_or_else(crate::clock::today);
    let days = args.days;
    let entries = views::calendar(catalog, as_of, days);
    match args.format {
        ListFormat::Json => out.json(&entries)?,
        ListFormat::Table => {
            out.line(format_args!(
                "{} measure event(s) from {as_of} over {days} day(s)",
                entries.len()
            ))?;
            // The title runs free: zone and window follow it, not a column.
            for e in &entries {
                let what = match e.event {
                    views::Event::Opens => "opens ",
                    views::Event::Closes => "closes",
                };
                out.line(format_args!(
                    "{}  {what}  {}  {}  {} · {}",
                    e.date, e.measure_id, e.title, e.zone, e.window
                ))?;
            }
        }
    }
    Ok(EXIT_OK)
}
