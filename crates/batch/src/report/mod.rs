//! `policy-match report` (驾驶舱): a finished `match` folder, and optionally an `audit`
//! folder, as one self-contained HTML page — inline CSS, inline SVG charts, no request
//! of any kind — for the service centre and the district's leaders.
//!
//! Two stages: [`read_run`] aggregates the run's outputs (`summary.json` and the tables,
//! a few columns at a time: the report of a million enterprises is as small as that of
//! a thousand), [`render`] lays the facts out through an askama template that escapes
//! every text.

mod facts;
mod page;

use std::path::Path;

use askama::Template;
pub use facts::{
    AuditFacts, Count, Gap, Headline, Reach, ReportError, RunFacts, TOP, Unlock, read_run,
};

/// The page, as HTML.
pub fn render(facts: &RunFacts) -> String {
    // Rendering writes into a String from values already formatted: it cannot fail but
    // for a formatting bug, which the tests would show.
    page::Page::new(facts)
        .render()
        .unwrap_or_else(|e| format!("<!DOCTYPE html><p>report failed to render: {e}</p>"))
}

/// Writes the report of `run` (and `audit`) to `out`, whole or not at all (a hidden
/// sibling renamed into place); returns its size in bytes.
pub fn write_report(
    run: &Path,
    audit: Option<&Path>,
    catalog: &policy_match::compile::catalog::Catalog,
    out: &Path,
) -> Result<usize, ReportError> {
    let facts = read_run(run, audit, catalog)?;
    let html = render(&facts);
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "report.html".into());
    let partial = out.with_file_name(format!(".{name}.partial-{}", std::process::id()));
    let write = |source| ReportError::Write {
        path: out.to_owned(),
        source,
    };
    std::fs::write(&partial, html.as_bytes()).map_err(write)?;
    std::fs::rename(&partial, out).map_err(|e| {
        let _ = std::fs::remove_file(&partial);
        write(e)
    })?;
    Ok(html.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOSTILE: &str = "<script>alert(\"x\")</script>&'";

    fn count(label: &str, count: u64) -> Count {
        Count {
            label: label.to_owned(),
            count,
            yuan: count as f64 * 100.0,
        }
    }

    fn facts() -> RunFacts {
        RunFacts {
            headline: Headline {
                as_of: "2026-11-26".into(),
                catalog_hash: "f5c6acd71377ccd5".into(),
                input: HOSTILE.into(),
                shard: None,
                input_rows: 1000,
                enterprises: 990,
                rejects: 10,
                pushes: 9900,
                pushes_held_back: 12,
                amount_pending: 1,
                grants: 3,
                grants_yuan: 30000.0,
                unlocks: 40,
                notices: 32,
                near_misses: 77,
                undetermined: 88,
                errors: 0,
                pushes_new: None,
                pushes_revoked: None,
            },
            by_zone: vec![count("综合服务专区", 500), count(HOSTILE, 20)],
            by_window: vec![count("综合窗口", 400)],
            by_department: vec![count("区经信局", 300)],
            by_article: vec![count("第1条 降低税费负担", 200)],
            by_scenario: vec![],
            grants_by_zone: vec![count("综合服务专区", 3)],
            grants_by_size: vec![count("small", 2), count("未标注", 1)],
            grants_by_industry: vec![count("C17", 3)],
            measures: vec![Reach {
                id: "M001".into(),
                title: HOSTILE.into(),
                article: 1,
                nature: "benefit",
                zone: "综合服务专区".into(),
                eligible: 0,
                pushed: 0,
                granted: 0,
                granted_yuan: 0.0,
                near_misses: 0,
                undetermined: 0,
                errors: 0,
            }],
            histogram: vec![0, 5, 985],
            gaps: vec![Gap {
                field: "energy_intensity".into(),
                meaning: HOSTILE.into(),
                pairs: 88,
                settles: 80,
                measures: vec!["M017".into()],
            }],
            unlocks: vec![Unlock {
                condition: HOSTILE.into(),
                enterprises: 40,
                measures: vec!["M013".into()],
            }],
            rejects_by_reason: vec![count("duplicate id …", 10)],
            errors_by_measure: vec![],
            audit: None,
        }
    }

    #[test]
    fn every_text_from_data_is_escaped_and_the_page_requests_nothing() {
        let html = render(&facts());
        assert!(
            !html.contains("<script>alert"),
            "unescaped text in the page"
        );
        assert!(html.contains("&#60;script&#62;alert") || html.contains("&lt;script&gt;alert"));
        // One script: the table sort, inline.
        assert_eq!(html.matches("<script").count(), 1);
        for reference in [
            "src=", "href=", "url(", "@import", "http:", "https:", "<link",
        ] {
            assert!(
                !html.contains(reference),
                "the page refers out: `{reference}`"
            );
        }
    }

    #[test]
    fn every_section_has_its_heading_and_charts_their_bars() {
        let html = render(&facts());
        for (id, heading) in [
            ("headline", "一、总览"),
            ("structure", "二、按服务中心结构"),
            ("measures", "三、政策措施触达"),
            ("enterprises", "四、企业"),
            ("gaps", "五、数据缺口（一企一档）"),
            ("unlocks", "六、差一点：可解锁条件"),
            ("audit", "七、风险扫描"),
            ("quality", "八、数据质量"),
        ] {
            assert!(
                html.contains(&format!("<section id=\"{id}\"><h2>{heading}</h2>")),
                "{id}"
            );
        }
        for chart in [
            "zone",
            "window",
            "department",
            "article",
            "histogram",
            "unlocks",
            "rejects",
        ] {
            let at = html.find(&format!("id=\"chart-{chart}\"")).expect(chart);
            let figure = &html[at..at + html[at..].find("</figure>").expect("closed")];
            assert!(
                figure.contains("<svg") && figure.contains("<rect"),
                "{chart}: {figure}"
            );
        }
        // A measure that reaches nobody stands out.
        assert!(html.contains("<tr class=\"unreached\"><td>M001</td>"));
        assert!(html.contains("9,900"));
    }
}
