//! `list`: the measures as a table or JSON, or (`--by`) their counts per key.

use policy_match::compile::catalog::Catalog;
use policy_match::report::explain;
use policy_match::report::views::{self, By};

use crate::args::{ListArgs, ListFormat};
use crate::exit::{EXIT_OK, Outcome};
use crate::out::Out;
use crate::table::{self, Align, Column};

pub fn run(catalog: &Catalog, args: &ListArgs, out: &mut Out) -> Outcome {
    match (args.by, args.format) {
        (None, ListFormat::Table) => measures_table(catalog, out)?,
        (None, ListFormat::Json) => out.json(&views::list(catalog))?,
        (Some(by), format) => counts(catalog, by, format, out)?,
    }
    Ok(EXIT_OK)
}

/// The columns of the measures table: id, article, nature, mode, zone / window, scenario,
/// title.
const COLUMNS: [Column; 7] = [
    column(0, 5, Align::Left),
    column(1, 3, Align::Right),
    column(2, 8, Align::Left),
    column(2, 8, Align::Left),
    column(2, 32, Align::Left),
    column(2, 16, Align::Left),
    column(2, 0, Align::Left),
];

const fn column(gap: usize, min_width: usize, align: Align) -> Column {
    Column {
        gap,
        min_width,
        align,
    }
}

const HEADER: [&str; 7] = [
    "id",
    "art",
    "nature",
    "mode",
    "zone / window",
    "scenario",
    "title",
];

fn measures_table(catalog: &Catalog, out: &mut Out) -> std::io::Result<()> {
    let mut rows = vec![HEADER.map(str::to_owned).to_vec()];
    for cm in &catalog.measures {
        let m = &cm.measure;
        let mode = if m.auto_grant() {
            "免申即享"
        } else {
            "精准推送"
        };
        rows.push(vec![
            m.id.clone(),
            m.article.to_string(),
            m.nature.as_str().to_owned(),
            mode.to_owned(),
            format!("{} / {}", m.zone, m.window),
            m.scenario.as_deref().unwrap_or("—").to_owned(),
            explain::title(m),
        ]);
    }
    for line in table::layout(&COLUMNS, &rows) {
        out.line(format_args!("{line}"))?;
    }
    Ok(())
}

fn counts(catalog: &Catalog, by: By, format: ListFormat, out: &mut Out) -> std::io::Result<()> {
    let counts = views::counts(catalog, by);
    match format {
        ListFormat::Json => out.json(&counts),
        ListFormat::Table => {
            for (k, n) in &counts {
                out.line(format_args!("{n:>4}  {k}"))?;
            }
            out.line(format_args!(
                "{:>4}  total ({} measures)",
                counts.values().sum::<usize>(),
                catalog.measures.len()
            ))
        }
    }
}
