//! The report's page: the facts laid out for the template (numbers formatted, charts as
//! geometry), rendered by askama from `templates/report.html`, which escapes every text.

use askama::Template;

use super::facts::{Count, Reach, RunFacts};

/// Width of a bar chart's drawing, in SVG units; labels take the left part.
const CHART_WIDTH: f64 = 640.0;
const LABEL_WIDTH: f64 = 230.0;
const VALUE_WIDTH: f64 = 90.0;
const ROW_HEIGHT: f64 = 22.0;
/// Labels longer than this many characters are cut in the drawing (the whole label is
/// the bar's tooltip and in the table beside).
const LABEL_CHARS: usize = 15;

/// One bar of a horizontal bar chart.
pub struct Bar {
    pub label: String,
    pub short: String,
    pub value: String,
    pub y: f64,
    pub text_y: f64,
    pub width: f64,
}

/// A horizontal bar chart drawn as inline SVG.
pub struct BarChart {
    pub id: &'static str,
    pub title: String,
    pub bars: Vec<Bar>,
    pub height: f64,
    pub label_width: f64,
    pub width: f64,
}

impl BarChart {
    fn new(id: &'static str, title: &str, rows: &[(String, f64, String)]) -> Self {
        let max = rows.iter().map(|r| r.1).fold(0.0, f64::max);
        let span = CHART_WIDTH - LABEL_WIDTH - VALUE_WIDTH;
        let bars = rows
            .iter()
            .enumerate()
            .map(|(i, (label, value, text))| {
                let y = i as f64 * ROW_HEIGHT;
                let short: String = if label.chars().count() > LABEL_CHARS {
                    label.chars().take(LABEL_CHARS - 1).chain(['…']).collect()
                } else {
                    label.clone()
                };
                Bar {
                    label: label.clone(),
                    short,
                    value: text.clone(),
                    y: y + 3.0,
                    text_y: y + 15.0,
                    width: if max > 0.0 {
                        (value / max * span).max(1.0)
                    } else {
                        0.0
                    },
                }
            })
            .collect::<Vec<_>>();
        BarChart {
            id,
            title: title.to_owned(),
            height: (bars.len().max(1) as f64) * ROW_HEIGHT,
            bars,
            label_width: LABEL_WIDTH,
            width: CHART_WIDTH,
        }
    }

    fn of_counts(id: &'static str, title: &str, counts: &[Count]) -> Self {
        let rows: Vec<(String, f64, String)> = counts
            .iter()
            .map(|c| (c.label.clone(), c.count as f64, group(c.count)))
            .collect();
        BarChart::new(id, title, &rows)
    }

    /// The amounts, largest first; entries without one left out.
    fn of_amounts(id: &'static str, title: &str, counts: &[Count]) -> Self {
        let mut rows: Vec<(String, f64, String)> = counts
            .iter()
            .filter(|c| c.yuan > 0.0)
            .map(|c| (c.label.clone(), c.yuan, yuan(c.yuan)))
            .collect();
        rows.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        BarChart::new(id, title, &rows)
    }
}

/// One column of the pushes-per-enterprise histogram.
pub struct Column {
    pub label: String,
    pub value: String,
    pub x: f64,
    pub y: f64,
    pub height: f64,
    pub width: f64,
}

/// A headline figure.
pub struct Figure {
    pub label: &'static str,
    pub value: String,
}

/// One row of the measures table: the measure's reach, its amount formatted.
pub struct MeasureRow {
    pub reach: Reach,
    pub granted_yuan: String,
    /// Eligible for nobody and pushed to nobody: a rule or a data gap to look at.
    pub unreached: bool,
}

/// A row of a plain table: a label and its figures.
pub struct Row {
    pub cells: Vec<String>,
}

#[derive(Template)]
#[template(path = "report.html")]
pub struct Page {
    pub title: String,
    pub subtitle: String,
    pub figures: Vec<Figure>,
    pub structure: Vec<BarChart>,
    pub measures: Vec<MeasureRow>,
    pub unreached: usize,
    pub histogram: Vec<Column>,
    pub histogram_height: f64,
    pub histogram_width: f64,
    /// Grants by size and by industry: counts, then amounts.
    pub grant_charts: Vec<BarChart>,
    pub gaps: Vec<Row>,
    pub unlocks: Vec<Row>,
    pub unlock_chart: BarChart,
    pub audit: Option<Audit>,
    pub rejects: BarChart,
    /// The reject reasons in full (the chart cuts long labels).
    pub reject_reasons: Vec<Row>,
    pub errors: BarChart,
}

pub struct Audit {
    pub figures: Vec<Figure>,
    pub charts: Vec<BarChart>,
}

/// `1234567` as `1,234,567`.
pub fn group(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Yuan, whole, grouped: `1,234,567 元`.
pub fn yuan(x: f64) -> String {
    format!("{} 元", group(x.round().max(0.0) as u64))
}

const HISTOGRAM_WIDTH: f64 = 640.0;
const HISTOGRAM_HEIGHT: f64 = 160.0;

fn histogram(counts: &[u64]) -> Vec<Column> {
    let max = counts.iter().copied().max().unwrap_or(0) as f64;
    let n = counts.len().max(1) as f64;
    let slot = HISTOGRAM_WIDTH / n;
    counts
        .iter()
        .enumerate()
        .map(|(i, &k)| {
            let height = if max > 0.0 {
                k as f64 / max * (HISTOGRAM_HEIGHT - 30.0)
            } else {
                0.0
            };
            Column {
                label: i.to_string(),
                value: group(k),
                x: i as f64 * slot + slot * 0.15,
                y: HISTOGRAM_HEIGHT - 16.0 - height,
                height,
                width: slot * 0.7,
            }
        })
        .collect()
}

impl Page {
    pub fn new(f: &RunFacts) -> Page {
        let h = &f.headline;
        let mut figures = vec![
            Figure {
                label: "企业（已匹配）",
                value: group(h.enterprises),
            },
            Figure {
                label: "拒收行",
                value: group(h.rejects),
            },
            Figure {
                label: "精准推送",
                value: group(h.pushes),
            },
            Figure {
                label: "因上限未推送",
                value: group(h.pushes_held_back),
            },
            Figure {
                label: "免申即享",
                value: group(h.grants),
            },
            Figure {
                label: "免申即享金额",
                value: yuan(h.grants_yuan),
            },
            Figure {
                label: "金额待核定",
                value: group(h.amount_pending),
            },
            Figure {
                label: "可解锁提示",
                value: group(h.unlocks),
            },
            Figure {
                label: "政策告知",
                value: group(h.notices),
            },
            Figure {
                label: "差一点（近似符合）",
                value: group(h.near_misses),
            },
            Figure {
                label: "待定（缺数据）",
                value: group(h.undetermined),
            },
            Figure {
                label: "评估错误",
                value: group(h.errors),
            },
        ];
        if let Some(n) = h.pushes_new {
            figures.push(Figure {
                label: "新增推送",
                value: group(n),
            });
        }
        if let Some(n) = h.pushes_revoked {
            figures.push(Figure {
                label: "撤回推送",
                value: group(n),
            });
        }
        let mut structure = vec![
            BarChart::of_counts("zone", "推送 · 按专区", &f.by_zone),
            BarChart::of_counts("window", "推送 · 按窗口", &f.by_window),
            BarChart::of_counts("department", "推送 · 按牵头部门", &f.by_department),
            BarChart::of_counts("article", "推送 · 按条款（32条）", &f.by_article),
            BarChart::of_counts("scenario", "推送 · 按一类事场景", &f.by_scenario),
        ];
        if !f.grants_by_zone.is_empty() {
            structure.push(BarChart::of_amounts(
                "grants-zone",
                "免申即享金额 · 按专区",
                &f.grants_by_zone,
            ));
        }
        let measures: Vec<MeasureRow> = f
            .measures
            .iter()
            .map(|m| MeasureRow {
                reach: m.clone(),
                granted_yuan: if m.granted > 0 {
                    yuan(m.granted_yuan)
                } else {
                    String::new()
                },
                unreached: m.eligible == 0 && m.pushed == 0,
            })
            .collect();
        let unreached = measures.iter().filter(|m| m.unreached).count();
        let gaps = f
            .gaps
            .iter()
            .map(|g| Row {
                cells: vec![
                    g.field.clone(),
                    g.meaning.clone(),
                    group(g.settles),
                    group(g.pairs),
                    g.measures.join("、"),
                ],
            })
            .collect();
        let unlocks = f
            .unlocks
            .iter()
            .map(|u| Row {
                cells: vec![
                    u.condition.clone(),
                    group(u.enterprises),
                    u.measures.join("、"),
                ],
            })
            .collect();
        let unlock_counts: Vec<Count> = f
            .unlocks
            .iter()
            .map(|u| Count {
                label: u.condition.clone(),
                count: u.enterprises,
                yuan: 0.0,
            })
            .collect();
        let audit = f.audit.as_ref().map(|a| Audit {
            figures: vec![
                Figure {
                    label: "申领记录",
                    value: group(a.claims),
                },
                Figure {
                    label: "应享未享",
                    value: group(a.missed),
                },
                Figure {
                    label: "不应享而享",
                    value: group(a.wrongly),
                },
                Figure {
                    label: "金额不符",
                    value: group(a.amount_differs),
                },
            ],
            charts: vec![
                BarChart::of_counts("missed-measure", "应享未享 · 按措施", &a.missed_by_measure),
                BarChart::of_amounts(
                    "missed-amount",
                    "应享未享金额 · 按措施",
                    &a.missed_by_measure,
                ),
                BarChart::of_counts(
                    "missed-department",
                    "应享未享 · 按牵头部门",
                    &a.missed_by_department,
                ),
                BarChart::of_counts(
                    "wrongly-measure",
                    "不应享而享 · 按措施",
                    &a.wrongly_by_measure,
                ),
                BarChart::of_counts(
                    "wrongly-department",
                    "不应享而享 · 按牵头部门",
                    &a.wrongly_by_department,
                ),
            ],
        });
        let shard = h
            .shard
            .as_deref()
            .map(|s| format!(" · 分片 {s}"))
            .unwrap_or_default();
        Page {
            title: format!("政策找企业 · 夜间匹配报告 · {}", h.as_of),
            subtitle: format!(
                "截至 {} · 规则库 {} · 输入 {}（{} 行）{shard}",
                h.as_of,
                h.catalog_hash,
                h.input,
                group(h.input_rows)
            ),
            figures,
            structure,
            measures,
            unreached,
            histogram: histogram(&f.histogram),
            histogram_height: HISTOGRAM_HEIGHT,
            histogram_width: HISTOGRAM_WIDTH,
            grant_charts: vec![
                BarChart::of_counts("grants-size", "免申即享 · 按企业规模", &f.grants_by_size),
                BarChart::of_amounts(
                    "grants-size-amount",
                    "免申即享金额 · 按企业规模",
                    &f.grants_by_size,
                ),
                BarChart::of_counts(
                    "grants-industry",
                    "免申即享 · 按行业（大类）",
                    &f.grants_by_industry,
                ),
                BarChart::of_amounts(
                    "grants-industry-amount",
                    "免申即享金额 · 按行业（大类）",
                    &f.grants_by_industry,
                ),
            ],
            gaps,
            unlocks,
            unlock_chart: BarChart::of_counts("unlocks", "可解锁条件 · 企业数", &unlock_counts),
            audit,
            rejects: BarChart::of_counts("rejects", "拒收行 · 按原因", &f.rejects_by_reason),
            reject_reasons: f
                .rejects_by_reason
                .iter()
                .map(|c| Row {
                    cells: vec![c.label.clone(), group(c.count)],
                })
                .collect(),
            errors: BarChart::of_counts("errors", "评估错误 · 按措施", &f.errors_by_measure),
        }
    }
}
