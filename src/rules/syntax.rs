//! Stage 1: the text of a measure file, deserialised as written, with source spans.
//!
//! Nothing here is checked beyond TOML shape; the validator (`check`) turns these into IR.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;
use toml::value::Datetime;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MeasureFile {
    pub id: Spanned<String>,
    pub article: Spanned<u32>,
    pub article_title: String,
    pub text: String,
    pub implementation: Spanned<Vec<Implementation>>,
    pub basic_services: String,
    pub value_added_services: String,
    pub channels: String,
    pub scenario: Option<Spanned<String>>,
    pub window: Spanned<String>,
    pub lead_departments: Vec<String>,
    #[serde(default)]
    pub topics: Vec<String>,
    pub delivery: Spanned<Vec<Delivery>>,
    /// What the measure gives an enterprise; checked against [`Nature`] by the validator
    /// (so that a misspelling gets a "did you mean").
    pub nature: Option<Spanned<String>>,
    pub valid_from: Option<Spanned<Datetime>>,
    pub valid_until: Option<Spanned<Datetime>>,
    pub eligibility: Spanned<Eligibility>,
    pub benefit: Option<Benefit>,
    /// Warnings the officer acknowledges, each with a reason; checked by `lint::allow`.
    pub allow: Option<Allow>,
    #[serde(default, rename = "example")]
    pub examples: Vec<Spanned<Example>>,
}

/// The `[allow]` table as written: lint name → reason, each with its place.
pub type Allow = Spanned<BTreeMap<Spanned<String>, Spanned<String>>>;

/// 落实类型: 省政策宣贯 (provincial) and/or 地方细化落实 (local).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Implementation {
    Provincial,
    Local,
}

/// 精准推送 (push) and/or 免申即享 (auto_grant).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Delivery {
    Push,
    AutoGrant,
}

/// What a measure gives an enterprise, by an officer's reading of the seed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Nature {
    /// Money, a quota, a tax or fee reduction the enterprise receives.
    Benefit,
    /// A procedure, channel or service the enterprise can use.
    Service,
    /// A rule or right everyone in the audience should know.
    Notice,
    /// The government's own work, with nothing for an enterprise to do.
    Internal,
}

impl Nature {
    /// Every nature, in the order the rule format lists them.
    pub const ALL: [Nature; 4] = [
        Nature::Benefit,
        Nature::Service,
        Nature::Notice,
        Nature::Internal,
    ];

    /// The nature in the words of a report for the service centre.
    pub fn label(self) -> &'static str {
        match self {
            Nature::Benefit => "惠企兑现",
            Nature::Service => "服务",
            Nature::Notice => "告知",
            Nature::Internal => "内部工作",
        }
    }

    /// The nature as rule files write it.
    pub fn as_str(self) -> &'static str {
        match self {
            Nature::Benefit => "benefit",
            Nature::Service => "service",
            Nature::Notice => "notice",
            Nature::Internal => "internal",
        }
    }

    /// Whether a measure of this nature is pushed to each eligible enterprise: it gives
    /// the enterprise something to receive or use. A `notice` goes once per measure to
    /// its audience; `internal` work is not sent to enterprises at all.
    pub fn pushed(self) -> bool {
        matches!(self, Nature::Benefit | Nature::Service)
    }

    /// The nature a rule file's text names, if any.
    pub fn parse(text: &str) -> Option<Nature> {
        Nature::ALL.into_iter().find(|n| n.as_str() == text)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Eligibility {
    #[serde(default)]
    pub all: Vec<TagCond>,
    #[serde(default)]
    pub any: Vec<AnyCond>,
    #[serde(default)]
    pub none: Vec<TagCond>,
    #[serde(default)]
    pub when: Vec<WhenCond>,
    #[serde(default)]
    pub alternative: Vec<Spanned<Alternative>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Alternative {
    pub label: Spanned<String>,
    #[serde(default)]
    pub all: Vec<TagCond>,
    #[serde(default)]
    pub any: Vec<AnyCond>,
    #[serde(default)]
    pub none: Vec<TagCond>,
    #[serde(default)]
    pub when: Vec<WhenCond>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TagCond {
    pub tag: Spanned<String>,
    pub label: Spanned<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnyCond {
    pub tags: Spanned<Vec<Spanned<String>>>,
    pub label: Spanned<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WhenCond {
    pub expr: Spanned<String>,
    pub label: Spanned<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Benefit {
    pub expr: Spanned<String>,
    /// What kind of amount it is; checked against [`AmountKind`] by the validator.
    pub kind: Option<Spanned<String>>,
    #[serde(default)]
    pub unit: Unit,
    pub label: Spanned<String>,
    pub cap: Option<Spanned<f64>>,
}

/// What kind of value a benefit amount is. Amounts are ranked and totalled only with
/// their own kind: a 加计扣除 of 100万 is not 100万 paid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AmountKind {
    /// Money paid to the enterprise (补助, 奖励), in yuan.
    Cash,
    /// A reduction of taxable income (税前扣除, 加计扣除), in yuan: not money paid.
    TaxDeduction,
    /// A fee or charge not collected (免收, 减免), in yuan.
    FeeWaiver,
    /// A quota or allowance (用地计划指标, 容积率上限), in its own unit.
    Quota,
}

impl AmountKind {
    /// Every kind, in the order the rule format lists them.
    pub const ALL: [AmountKind; 4] = [
        AmountKind::Cash,
        AmountKind::TaxDeduction,
        AmountKind::FeeWaiver,
        AmountKind::Quota,
    ];

    /// The kind as rule files write it.
    pub fn as_str(self) -> &'static str {
        match self {
            AmountKind::Cash => "cash",
            AmountKind::TaxDeduction => "tax_deduction",
            AmountKind::FeeWaiver => "fee_waiver",
            AmountKind::Quota => "quota",
        }
    }

    /// The kind in the words of the outputs.
    pub fn chinese(self) -> &'static str {
        match self {
            AmountKind::Cash => "资金",
            AmountKind::TaxDeduction => "税前扣除额",
            AmountKind::FeeWaiver => "减免费用",
            AmountKind::Quota => "指标",
        }
    }

    /// The kind a rule file's text names, if any.
    pub fn parse(text: &str) -> Option<AmountKind> {
        AmountKind::ALL.into_iter().find(|k| k.as_str() == text)
    }

    /// Whether an amount of this kind may be counted in `unit`: money in yuan, a
    /// quota in anything but yuan.
    pub fn fits(self, unit: Unit) -> bool {
        (self == AmountKind::Quota) != (unit == Unit::Yuan)
    }
}

/// What a benefit amount counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    /// 元
    #[default]
    Yuan,
    /// 亩 of land-use plan quota (用地计划指标)
    Mu,
    /// a plot-ratio ceiling (容积率上限)
    PlotRatio,
}

impl Unit {
    pub fn as_str(self) -> &'static str {
        match self {
            Unit::Yuan => "yuan",
            Unit::Mu => "mu",
            Unit::PlotRatio => "plot_ratio",
        }
    }

    pub fn chinese(self) -> &'static str {
        match self {
            Unit::Yuan => "元",
            Unit::Mu => "亩",
            Unit::PlotRatio => "（容积率）",
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Example {
    pub name: String,
    pub expect: Spanned<String>,
    pub as_of: Option<Datetime>,
    #[serde(default)]
    pub tags: Vec<Spanned<String>>,
    #[serde(default)]
    pub fields: BTreeMap<String, Spanned<toml::Value>>,
    pub amount: Option<f64>,
}
