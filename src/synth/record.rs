//! A valid record: the business, then its tags section by section, then its fields and its
//! name. Every step draws from the record's one random stream, so the steps run in a fixed
//! order; reordering them (or the draws inside one) changes what a seed generates, which
//! the golden test in `synth` catches.

use crate::profile::record::RawRecord;
use crate::profile::schema::Schema;
use crate::synth::draft::Draft;
use crate::synth::draft::LAST_YEAR;
use crate::synth::draft::round_to;
use crate::synth::fields::Tagged;
use crate::synth::fields::put_fields;
use crate::synth::firm::Firm;
use crate::synth::rng::Rng;
use crate::synth::rng::SALT_RECORD;
use crate::synth::rng::key;
use crate::synth::sectors::BRAND_1;
use crate::synth::sectors::BRAND_2;
use crate::synth::sectors::Class;

/// The i-th record of the population before any spoiling.
pub(super) fn valid(schema: &Schema, seed: u64, i: usize) -> RawRecord {
    let mut d = Draft::new(schema, Rng::new(key(seed, i, SALT_RECORD)));
    let f = Firm::draw(&mut d.rng, seed, i);
    basic_tags(&mut d, &f);
    let plot_ratio = land(&mut d, &f);
    let certs = certifications(&mut d, &f);
    listing(&mut d, &f);
    let project_land = major_project(&mut d, &f);
    let exporter = foreign_trade(&mut d, &f);
    let fund = business_models(&mut d, &f);
    rosters(&mut d, &f);
    let converted = conversion(&mut d, &f);
    let dishonest = credit(&mut d, &f);
    let tagged = Tagged {
        plot_ratio,
        high_tech: certs.high_tech,
        little_giant: certs.little_giant,
        hidden_champion: certs.hidden_champion,
        project_land,
        exporter,
        fund,
        converted,
        dishonest,
    };
    put_fields(&mut d, &f, &tagged);
    let name = name(&mut d.rng, &f);
    d.finish(i, f.id, name)
}

/// Kind, ownership, size, scale, industry and region, in the order of the fixtures; a few
/// registers lack ownership, size, industry or region, so those are sometimes left out.
fn basic_tags(d: &mut Draft<'_>, f: &Firm) {
    d.tag(
        "kind",
        if f.individual {
            "individual_business"
        } else {
            "enterprise"
        },
    );
    if d.rng.chance(0.99) {
        d.tag("ownership", f.ownership);
    }
    if f.individual {
        if d.rng.chance(0.25) {
            d.tag("size", "micro");
        }
    } else if d.rng.chance(0.97) {
        d.tag("size", f.size);
    }
    if f.scale {
        d.tag("scale", "above_designated");
    }
    if d.rng.chance(0.99) {
        d.tag("industry", f.sector.code);
    }
    if d.rng.chance(0.98) {
        d.tag("region", f.region);
    }
}

/// Own industrial land, mostly of 规上 plants, and its plot ratio (容积率); a low ratio
/// makes the plot likely 低效用地.
fn land(d: &mut Draft<'_>, f: &Firm) -> Option<f64> {
    let own_land =
        !f.individual && (f.class.industrial() && d.rng.chance(if f.scale { 0.75 } else { 0.25 }));
    if !own_land {
        return None;
    }
    let p = round_to((1.6 + 0.5 * d.rng.normal()).clamp(0.4, 3.5), 2);
    d.tag("land", "own_industrial");
    if p < 1.2 && d.rng.chance(0.5) || d.rng.chance(0.03) {
        d.tag("land", "inefficient_industrial");
    }
    Some(p)
}

/// The certifications that fields go with.
struct Certs {
    high_tech: bool,
    little_giant: Option<i64>,
    hidden_champion: Option<i64>,
}

/// 高新技术企业, 科技型中小企业, 创新型中小企业, 专精特新 and its 小巨人, 单项冠军; each
/// recognition needs the ones below it and a few years of age, as the real ones do.
fn certifications(d: &mut Draft<'_>, f: &Firm) -> Certs {
    let mut certs = Certs {
        high_tech: false,
        little_giant: None,
        hidden_champion: None,
    };
    if f.individual {
        if d.rng.chance(0.015) {
            d.tag("cert", "famous_special_new");
        }
        return certs;
    }
    let (mfg, tech, sme, scale, age) = (f.mfg, f.tech, f.sme, f.scale, f.age);
    let p_high_tech = if mfg {
        0.03 + if scale { 0.25 } else { 0.0 }
    } else if tech {
        0.12
    } else {
        0.002
    };
    if age >= 1 && d.rng.chance(p_high_tech) {
        certs.high_tech = true;
        d.tag("cert", "high_tech");
    }
    if sme && d.rng.chance(if mfg || tech { 0.08 } else { 0.01 }) {
        d.tag("cert", "tech_sme");
    }
    let specialized = sme
        && age >= 2
        && d.rng.chance(if mfg && scale {
            0.09
        } else if mfg || tech {
            0.008
        } else {
            0.0
        });
    if specialized || (sme && (mfg || tech) && d.rng.chance(0.02)) {
        d.tag("cert", "innovative_sme");
    }
    if specialized {
        d.tag("cert", "specialized_new");
        if scale && age >= 3 && d.rng.chance(0.08) {
            d.tag("cert", "little_giant");
            let first = i64::from(2019.max(f.founded_year + 3));
            certs.little_giant = Some(d.rng.int(first, i64::from(LAST_YEAR)));
        }
    }
    if mfg && scale && age >= 5 && d.rng.chance(0.012) {
        d.tag("cert", "hidden_champion");
        let first = i64::from(2017.max(f.founded_year + 5));
        certs.hidden_champion = Some(d.rng.int(first, i64::from(LAST_YEAR)));
    }
    certs
}

/// Listed or in the 上市 pipeline: 规上 enterprises only, the large ones most.
fn listing(d: &mut Draft<'_>, f: &Firm) {
    if f.individual || !f.scale {
        return;
    }
    if f.size == "large" && d.rng.chance(0.3) || f.size == "medium" && d.rng.chance(0.03) {
        d.tag("listing", "listed");
    } else if d.rng.chance(0.03) {
        d.tag("listing", "pipeline");
    }
}

/// A 省重大项目 or 重大民间投资项目; the provincial ones come with a land quota.
fn major_project(d: &mut Draft<'_>, f: &Firm) -> bool {
    if f.individual || !(f.mfg && f.scale && d.rng.chance(0.08) || d.rng.chance(0.003)) {
        return false;
    }
    let p = *d.rng.pick(&[
        ("provincial_major_special", 10),
        ("provincial_major_leading", 25),
        ("provincial_major_demo", 35),
        ("major_private_investment", 30),
    ]);
    d.tag("project", p);
    p.starts_with("provincial")
}

/// Exporters (by sector; few 个体工商户) and the rare 境外经贸合作区 developer.
fn foreign_trade(d: &mut Draft<'_>, f: &Firm) -> bool {
    let export_rate = if f.individual {
        match f.class {
            Class::Wholesale => 0.04,
            _ if f.mfg => 0.02,
            _ => 0.0,
        }
    } else {
        f.class.export_rate()
    };
    let exporter = d.rng.chance(export_rate);
    if exporter {
        d.tag("trade", "exporter");
    }
    if !f.individual && (f.size == "large" && d.rng.chance(0.1) || d.rng.chance(0.0002)) {
        d.tag("trade", "overseas_zone_developer");
    }
    exporter
}

/// E-commerce, live streaming, platforms and funds, by sector; whether it is a fund.
fn business_models(d: &mut Draft<'_>, f: &Firm) -> bool {
    if f.individual {
        if f.class == Class::Ecommerce && d.rng.chance(0.3) || d.rng.chance(0.005) {
            d.tag("biz", "live_streaming");
        }
        return false;
    }
    match f.class {
        Class::Finance => {
            let b = *d.rng.pick(&[
                ("venture_capital", 50),
                ("private_equity", 35),
                ("industrial_fund", 10),
                ("", 5),
            ]);
            if !b.is_empty() {
                d.tag("biz", b);
                return true;
            }
        }
        Class::Software => {
            if d.rng.chance(0.1) {
                d.tag("biz", "platform");
            }
            if d.rng.chance(0.1) {
                d.tag("biz", "industrial_internet_platform");
            }
        }
        Class::Ecommerce => {
            d.tag("biz", "ecommerce");
            if d.rng.chance(0.05) {
                d.tag("biz", "platform");
            }
            if d.rng.chance(0.25) {
                d.tag("biz", "live_streaming");
            }
        }
        Class::Wholesale => {
            if d.rng.chance(0.08) {
                d.tag("biz", "ecommerce");
            }
            if d.rng.chance(0.02) {
                d.tag("biz", "live_streaming");
            }
        }
        Class::Services if d.rng.chance(0.02) => d.tag("biz", "platform"),
        c if c.manufacturing() && d.rng.chance(0.03) => d.tag("biz", "ecommerce"),
        _ => {}
    }
    false
}

/// The 高成长 and 优质企业 rosters (enterprises only).
fn rosters(d: &mut Draft<'_>, f: &Firm) {
    if f.individual {
        return;
    }
    if d.rng
        .chance(if f.founded_year >= 2018 { 0.03 } else { 0.01 })
    {
        d.tag("roster", "high_growth");
    }
    if d.rng.chance(if f.scale { 0.10 } else { 0.005 }) {
        d.tag("roster", "quality_enterprise_pool");
    }
}

/// 个转企: a young, small private enterprise that was a 个体工商户.
fn conversion(d: &mut Draft<'_>, f: &Firm) -> bool {
    let converted = !f.individual
        && f.ownership == "private"
        && f.founded_year >= 2018
        && matches!(f.size, "micro" | "small")
        && d.rng.chance(0.10);
    if converted {
        d.tag("change", "individual_to_enterprise");
    }
    converted
}

/// On the 失信 list, which a business founded this year has had no time to reach.
fn credit(d: &mut Draft<'_>, f: &Firm) -> bool {
    let dishonest =
        f.founded_year < LAST_YEAR && d.rng.chance(if f.individual { 0.008 } else { 0.015 });
    if dishonest {
        d.tag("credit", "dishonest");
    }
    dishonest
}

/// The registered name: 绍兴市柯桥区, mostly the 镇街, then 字号 and trade for a 个体工商户;
/// place, 字号, trade and company form for an enterprise, `浙江…` only for the bigger ones.
fn name(rng: &mut Rng, f: &Firm) -> String {
    let brand = format!("{}{}", rng.choose(BRAND_1), rng.choose(BRAND_2));
    let word = rng.choose(f.sector.words);
    if f.individual {
        let place = if rng.chance(0.7) { f.town } else { "" };
        return format!("绍兴市柯桥区{place}{brand}{word}");
    }
    let big = f.scale || matches!(f.size, "large" | "medium");
    let prefix = *rng.pick(&[
        ("绍兴柯桥", 55),
        ("绍兴市柯桥区", 15),
        ("绍兴", 15),
        (if big { "浙江" } else { "绍兴柯桥" }, 15),
    ]);
    let form = if f.class == Class::Finance && rng.chance(0.4) {
        "合伙企业（有限合伙）"
    } else if big && rng.chance(0.2) {
        "股份有限公司"
    } else {
        "有限公司"
    };
    format!("{prefix}{brand}{word}{form}")
}
