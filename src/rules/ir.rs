//! Stage 2: a checked measure. Every tag is in the vocabulary, every expression is typed
//! and reads only known fields; the compiler turns this into rhai.

use jiff::civil::Date;
use serde::Serialize;

use crate::lang::check::{Want, check};
use crate::lang::problem::Problem;
use crate::lang::tree::Node;
use crate::profile::enterprise::Profile;
use crate::profile::schema::Schema;
pub use crate::rules::syntax::AmountKind;
pub use crate::rules::syntax::Delivery;
pub use crate::rules::syntax::Implementation;
pub use crate::rules::syntax::Nature;
pub use crate::rules::syntax::Unit;

/// One checked measure of 附件2: its text, routing, effective window and eligibility.
#[derive(Debug, Clone, Serialize)]
pub struct Measure {
    /// 序号 as `M001`…`M145`.
    pub id: String,
    /// The 重点工作 (article) number, 1–32.
    pub article: u32,
    /// The article's title.
    pub article_title: String,
    /// 细化措施, verbatim.
    pub text: String,
    /// 省政策宣贯 (provincial) and/or 地方细化落实 (local).
    pub implementation: Vec<Implementation>,
    /// 基本政务服务, verbatim.
    pub basic_services: String,
    /// 增值服务, verbatim.
    pub value_added_services: String,
    /// 服务方式, verbatim.
    pub channels: String,
    /// 纳入一类事或下步改革, verbatim.
    pub scenario: Option<String>,
    /// The canonical 一类事 the scenario column resolves to; `None` for 下步改革 or none.
    pub scenario_name: Option<String>,
    /// 承接窗口, verbatim, and the zone (专区) that holds it.
    pub window: String,
    /// The zone (专区) holding the window.
    pub zone: String,
    /// 牵头责任单位.
    pub lead_departments: Vec<String>,
    /// Policy topic tags (政策标签).
    pub topics: Vec<String>,
    /// 精准推送 (push) and/or 免申即享 (auto_grant).
    pub delivery: Vec<Delivery>,
    /// What the measure gives an enterprise: benefit, service, notice or internal.
    pub nature: Nature,
    /// First day of the effective window, inclusive.
    pub valid_from: Option<Date>,
    /// Last day of the effective window, inclusive.
    pub valid_until: Option<Date>,
    /// The base conditions and the alternatives.
    #[serde(skip)]
    pub eligibility: Eligibility,
    /// The benefit formula, for eligible enterprises.
    #[serde(skip)]
    pub benefit: Option<Benefit>,
    /// The rule examples (`[[example]]`).
    #[serde(skip)]
    pub examples: Vec<Example>,
    /// Path of the rule file, relative to the rules directory.
    pub file: String,
}

impl Measure {
    /// Whether the measure is granted without application (免申即享).
    pub fn auto_grant(&self) -> bool {
        self.delivery.contains(&Delivery::AutoGrant)
    }

    /// Whether eligible enterprises are pushed the measure (精准推送): its delivery
    /// includes push and its nature gives an enterprise something (benefit, service).
    pub fn pushed(&self) -> bool {
        self.delivery.contains(&Delivery::Push) && self.nature.pushed()
    }

    /// A benefit amount of this measure, kept when it is counted in yuan (cash, a tax
    /// deduction, a fee waiver; not 亩 or a plot ratio): what a claim is checked against.
    pub fn yuan(&self, amount: Option<f64>) -> Option<f64> {
        amount.filter(|_| self.benefit.as_ref().is_some_and(|b| b.unit == Unit::Yuan))
    }

    /// A benefit amount of this measure, kept only when it is money paid (`cash`): the
    /// amount pushes are ranked by and grants are totalled in. A tax deduction, a fee
    /// waiver or a quota is shown with its kind, never added to cash.
    pub fn cash(&self, amount: Option<f64>) -> Option<f64> {
        amount.filter(|_| {
            self.benefit
                .as_ref()
                .is_some_and(|b| b.kind == AmountKind::Cash)
        })
    }

    /// Whether `as_of` falls in the effective window (both ends inclusive).
    pub fn in_effect(&self, as_of: Date) -> bool {
        self.valid_from.is_none_or(|d| as_of >= d) && self.valid_until.is_none_or(|d| as_of <= d)
    }

    /// Every condition in evaluation order: the base group, then each alternative.
    pub fn conditions(&self) -> impl Iterator<Item = (usize, &Condition)> {
        std::iter::once(&self.eligibility.base)
            .chain(&self.eligibility.alternatives)
            .enumerate()
            .flat_map(|(g, group)| group.conditions.iter().map(move |c| (g, c)))
    }
}

#[derive(Debug, Clone, Default)]
pub struct Eligibility {
    pub base: Group,
    /// When non-empty, at least one must hold besides the base group.
    pub alternatives: Vec<Group>,
}

/// A conjunction of labelled conditions; tag tests first, then `when` clauses.
#[derive(Debug, Clone, Default)]
pub struct Group {
    pub label: Option<String>,
    pub conditions: Vec<Condition>,
}

#[derive(Debug, Clone)]
pub struct Condition {
    pub label: String,
    pub test: Test,
}

#[derive(Debug, Clone)]
pub enum Test {
    /// The tag (or, in a hierarchical namespace, a tag below it) is present.
    Has(String),
    /// At least one of the tags is present.
    Any(Vec<String>),
    /// The tag is absent.
    Lacks(String),
    /// A boolean rhai expression over fields.
    When(Expr),
}

impl Test {
    pub fn is_tag(&self) -> bool {
        !matches!(self, Test::When(_))
    }

    /// The tags a tag test names; none for a `when` clause (its `has("…")` tags are
    /// [`Expr::tags`]).
    pub fn tags(&self) -> &[String] {
        match self {
            Test::Has(t) | Test::Lacks(t) => std::slice::from_ref(t),
            Test::Any(ts) => ts,
            Test::When(_) => &[],
        }
    }

    /// Whether the test reads only what an enterprise is, not what it could change: tags
    /// of the schema's identity namespaces (kind, ownership, industry, business model,
    /// region), or a clause over identity fields (its founding date) and such tags.
    pub fn is_identity(&self, schema: &Schema) -> bool {
        match self {
            Test::When(e) => {
                !e.fields.is_empty()
                    && e.fields.iter().all(|f| schema.is_identity_field(f))
                    && e.tags.iter().all(|t| schema.is_identity(t))
            }
            _ => self.tags().iter().all(|t| schema.is_identity(t)),
        }
    }
}

/// A checked rhai expression: the officer's text, the typed tree made of it once, and
/// what it reads.
#[derive(Debug, Clone)]
pub struct Expr {
    pub source: String,
    pub tree: Node,
    /// Field names read, sorted, without duplicates.
    pub fields: Vec<String>,
    /// Tags tested with `has("…")`, in order of appearance.
    pub tags: Vec<String>,
}

impl Expr {
    /// Checks `source` against the schema; every problem found when it does not pass.
    pub fn check(schema: &Schema, source: &str, want: Want) -> Result<Expr, Vec<Problem>> {
        let c = check(schema, source, want)?;
        Ok(Expr {
            source: source.to_owned(),
            tree: c.tree,
            fields: c.fields,
            tags: c.tags,
        })
    }
}

#[derive(Debug, Clone)]
pub struct Benefit {
    pub expr: Expr,
    pub kind: AmountKind,
    pub unit: Unit,
    pub label: String,
    pub cap: Option<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Expect {
    Eligible,
    NotEligible,
    Undetermined,
    AmountPending,
}

/// A rule test: a profile the measure must (or must not) find.
#[derive(Debug, Clone)]
pub struct Example {
    pub name: String,
    pub expect: Expect,
    pub as_of: Option<Date>,
    pub profile: Profile,
    pub amount: Option<f64>,
}
