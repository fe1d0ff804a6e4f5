//! The numbers and dates a record reports, each only where it goes with the business and
//! its tags (`booth_fee_yuan` for some exporters, `little_giant_year` only with
//! `cert:little_giant`, …).

use crate::synth::draft::Draft;
use crate::synth::draft::LAST_YEAR;
use crate::synth::draft::Val;
use crate::synth::draft::date_in;
use crate::synth::draft::round_to;
use crate::synth::firm::Firm;
use crate::synth::sectors::Class;

/// What the tag draws decided that fields go with.
pub(super) struct Tagged {
    /// 容积率 of the enterprise's own industrial land.
    pub(super) plot_ratio: Option<f64>,
    pub(super) high_tech: bool,
    /// The year of the 专精特新"小巨人" recognition.
    pub(super) little_giant: Option<i64>,
    /// The year of the 单项冠军 recognition.
    pub(super) hidden_champion: Option<i64>,
    /// A provincial major project, which comes with a land quota.
    pub(super) project_land: bool,
    pub(super) exporter: bool,
    /// A venture, private-equity or industrial fund.
    pub(super) fund: bool,
    /// 个转企.
    pub(super) converted: bool,
    /// On the 失信 list.
    pub(super) dishonest: bool,
}

/// Every field of the record. The order is fixed: each `put` draws whether the value is
/// missing, so moving one would change every later draw.
pub(super) fn put_fields(d: &mut Draft<'_>, f: &Firm, t: &Tagged) {
    let (y, m, day) = f.founded;
    d.put("founded", Val::Date(y, m, day));
    if let Some(r) = f.revenue {
        d.put("revenue_10k_yuan", Val::F(r));
    }
    d.put("employees", Val::I(f.employees));
    energy_intensity(d, f);
    rd_expense_ratio(d, f, t.high_tech);
    if t.fund && d.rng.chance(0.8) {
        let r = d.rng.uniform(0.2, 1.0);
        d.put("fund_private_investment_ratio", Val::F(round_to(r, 2)));
    }
    credit_line(d, f);
    if let Some(p) = t.plot_ratio {
        d.put("plot_ratio", Val::F(p));
    }
    gas_peak_flow(d, f);
    if t.exporter && d.rng.chance(0.25) {
        let fee = (d.rng.lognormal(30000.0, 0.5) / 500.0).round().max(10.0) * 500.0;
        d.put("booth_fee_yuan", Val::F(fee));
    }
    research_donation(d, f, t.high_tech);
    if f.scale {
        let since = d.rng.int(
            i64::from(1998.max(f.founded_year + 1)),
            i64::from(LAST_YEAR),
        );
        d.put("above_designated_since", Val::I(since));
    }
    if t.project_land && d.rng.chance(0.8) {
        let mu = d.rng.lognormal(60.0, 0.8);
        d.put(
            "project_land_quota_mu",
            Val::F(round_to(mu.clamp(5.0, 1000.0), 1)),
        );
    }
    if t.converted && d.rng.chance(0.9) {
        let same = d.rng.chance(0.85);
        d.put("investor_unchanged", Val::B(same));
    }
    if let Some(y) = t.little_giant {
        d.put("little_giant_year", Val::I(y));
    }
    if let Some(y) = t.hidden_champion {
        d.put("hidden_champion_year", Val::I(y));
    }
    tech_renovation(d, f);
    if t.dishonest {
        let (y, m, day) = date_in(&mut d.rng, 2019.max(f.founded_year + 1), LAST_YEAR);
        d.put("dishonest_published_on", Val::Date(y, m, day));
    }
}

/// 单位工业增加值能耗 of industrial enterprises; 规上 ones report it almost always.
fn energy_intensity(d: &mut Draft<'_>, f: &Firm) {
    if let Some((median, sigma)) = f.class.energy().filter(|_| !f.individual)
        && d.rng.chance(if f.scale { 0.95 } else { 0.5 })
    {
        let e = d.rng.lognormal(median, sigma);
        d.put("energy_intensity", Val::F(round_to(e, 3)));
    }
}

/// 研发费用占比, higher for 高新技术企业 (whose recognition asks for 3 % or more).
fn rd_expense_ratio(d: &mut Draft<'_>, f: &Firm, high_tech: bool) {
    if !f.individual
        && (f.mfg || f.tech)
        && d.rng.chance(if f.scale {
            0.9
        } else if f.tech {
            0.6
        } else {
            0.35
        })
    {
        let r = if high_tech {
            0.03 + d.rng.lognormal(0.015, 0.6)
        } else {
            d.rng.lognormal(0.012, 0.8)
        };
        d.put("rd_expense_ratio", Val::F(round_to(r.min(0.6), 4)));
    }
}

/// 授信额度 (万元): a small round sum for a 个体工商户, around 12 % of revenue for an
/// enterprise.
fn credit_line(d: &mut Draft<'_>, f: &Firm) {
    if f.individual {
        if d.rng.chance(0.3) {
            let c = (d.rng.lognormal(30.0, 0.7) / 5.0).round().max(1.0) * 5.0;
            d.put("credit_line_10k_yuan", Val::F(c));
        }
    } else if d.rng.chance(if f.scale { 0.85 } else { 0.5 }) {
        let base = match f.revenue {
            Some(r) => r * d.rng.lognormal(0.12, 0.7),
            None => d.rng.lognormal(100.0, 1.0),
        };
        let c = (base / 10.0).round().max(1.0) * 10.0;
        d.put("credit_line_10k_yuan", Val::F(c));
    }
}

/// 天然气高峰小时用量, mostly of the dyeing plants and the 热电 that fire gas.
fn gas_peak_flow(d: &mut Draft<'_>, f: &Firm) {
    if f.individual {
        return;
    }
    let gas = match f.class {
        Class::Dyeing => 0.7,
        Class::Utility => 0.8,
        Class::ChemFibre => 0.5,
        Class::Chemical => 0.3,
        Class::Textile => 0.1,
        _ => 0.0,
    };
    if d.rng.chance(gas) {
        let g = d.rng.lognormal(40.0, 0.6) * (f.rev.max(100.0) / 2000.0).sqrt();
        d.put(
            "gas_peak_flow_m3_per_h",
            Val::F(round_to(g.clamp(2.0, 3000.0), 1)),
        );
    }
}

/// 基础研究捐赠 (yuan) of manufacturers, mostly 规上 high-tech ones; some report none.
fn research_donation(d: &mut Draft<'_>, f: &Firm, high_tech: bool) {
    if !f.individual
        && f.mfg
        && d.rng
            .chance(if f.scale && high_tech { 0.10 } else { 0.002 })
    {
        let v = if d.rng.chance(0.3) {
            0.0
        } else {
            (d.rng.lognormal(200_000.0, 1.0) / 1000.0).round().max(1.0) * 1000.0
        };
        d.put("basic_research_donation_yuan", Val::F(v));
    }
}

/// 技改投资 (万元) of manufacturers, in proportion to revenue.
fn tech_renovation(d: &mut Draft<'_>, f: &Firm) {
    if !f.individual && f.mfg && d.rng.chance(if f.scale { 0.35 } else { 0.08 }) {
        let t = (f.rev.max(50.0) * d.rng.lognormal(0.05, 0.8)).max(10.0);
        d.put(
            "tech_renovation_investment_10k_yuan",
            Val::F(round_to(t, 1)),
        );
    }
}
