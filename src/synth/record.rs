//! A valid record: one long sequence of draws from the record's random stream.

use crate::profile::record::RawRecord;
use crate::profile::schema::Schema;
use crate::synth::draft::Draft;
use crate::synth::draft::LAST_YEAR;
use crate::synth::draft::Val;
use crate::synth::draft::date_in;
use crate::synth::draft::round_to;
use crate::synth::ids::credit_code;
use crate::synth::rng::Rng;
use crate::synth::rng::SALT_RECORD;
use crate::synth::rng::key;
use crate::synth::sectors::BRAND_1;
use crate::synth::sectors::BRAND_2;
use crate::synth::sectors::Class;
use crate::synth::sectors::ENTERPRISE_SECTORS;
use crate::synth::sectors::INDIVIDUAL_SECTORS;
use crate::synth::sectors::REGIONS;

/// A valid record: the i-th of the population before any spoiling.
pub(super) fn valid(schema: &Schema, seed: u64, i: usize) -> RawRecord {
    let mut d = Draft::new(schema, Rng::new(key(seed, i, SALT_RECORD)));
    let individual = d.rng.chance(0.60);
    let sector = if individual {
        d.rng.pick(INDIVIDUAL_SECTORS)
    } else {
        d.rng.pick(ENTERPRISE_SECTORS)
    };
    let class = sector.class;
    let mfg = class.manufacturing();

    // 成立日期: ages roughly exponential, individual businesses younger.
    let mean_age = if individual { 6.0 } else { 10.0 };
    let age = (-(1.0 - d.rng.f64()).ln() * mean_age) as i32;
    let mut fy = LAST_YEAR - age;
    if fy < 1990 {
        fy = d.rng.int(1990, 2005) as i32;
    }
    let founded = date_in(&mut d.rng, fy, fy);
    let age = LAST_YEAR - fy;

    let id = credit_code(&mut d.rng, seed, i, individual, fy);

    // Ownership.
    let ownership = if individual {
        "private"
    } else {
        let state = match class {
            Class::Utility | Class::RealEstate | Class::Finance => 0.15,
            _ => 0.012,
        };
        let foreign = if mfg { 0.04 } else { 0.015 };
        let u = d.rng.f64();
        if u < state {
            "state"
        } else if u < state + foreign {
            "foreign"
        } else {
            "private"
        }
    };

    // 上年度营业收入 (万元) and 从业人数.
    let revenue = if fy >= LAST_YEAR {
        None
    } else {
        let (median, sigma) = match (individual, mfg, class) {
            (true, true, _) => (80.0, 0.8),
            (true, _, Class::Wholesale) => (60.0, 1.0),
            (true, _, _) => (35.0, 0.9),
            (false, _, c) => c.revenue(),
        };
        let mut r = d.rng.lognormal(median, sigma);
        if age <= 1 {
            r *= d.rng.uniform(0.2, 0.7);
        }
        Some(round_to(r.max(0.5), 1))
    };
    let employees: i64 = if individual {
        let n = if mfg {
            2 + d.rng.lognormal(4.0, 0.6).round() as i64
        } else {
            let mut n = 1;
            while n < 10 && d.rng.chance(0.45) {
                n += 1;
            }
            n
        };
        n.min(60)
    } else {
        let floor = if mfg { 3 } else { 1 };
        match revenue {
            Some(r) => {
                let per_head = d.rng.lognormal(class.productivity(), 0.5);
                ((r / per_head).round() as i64).clamp(floor, 20_000)
            }
            None => d.rng.int(floor, 12),
        }
    };
    let rev = revenue.unwrap_or(0.0);
    let size = if individual {
        "micro"
    } else {
        class.size(employees, rev)
    };
    let sme = size != "large";

    // 规上 / 限上 (enterprises only): last year's list, so not exactly the threshold.
    let scale = !individual
        && revenue.is_some()
        && if rev >= class.scale_threshold() {
            d.rng.chance(0.92)
        } else {
            rev >= 0.6 * class.scale_threshold() && d.rng.chance(0.03)
        };

    let (region, town) = *d.rng.pick(REGIONS);

    // --- tags, in the order of the fixtures
    d.tag(
        "kind",
        if individual {
            "individual_business"
        } else {
            "enterprise"
        },
    );
    if d.rng.chance(0.99) {
        d.tag("ownership", ownership);
    }
    if individual {
        if d.rng.chance(0.25) {
            d.tag("size", "micro");
        }
    } else if d.rng.chance(0.97) {
        d.tag("size", size);
    }
    if scale {
        d.tag("scale", "above_designated");
    }
    if d.rng.chance(0.99) {
        d.tag("industry", sector.code);
    }
    if d.rng.chance(0.98) {
        d.tag("region", region);
    }

    // Land.
    let own_land =
        !individual && (class.industrial() && d.rng.chance(if scale { 0.75 } else { 0.25 }));
    let plot_ratio = if own_land {
        let p = round_to((1.6 + 0.5 * d.rng.normal()).clamp(0.4, 3.5), 2);
        d.tag("land", "own_industrial");
        if p < 1.2 && d.rng.chance(0.5) || d.rng.chance(0.03) {
            d.tag("land", "inefficient_industrial");
        }
        Some(p)
    } else {
        None
    };

    // Certifications.
    let tech = class == Class::Software || sector.code == "M75";
    let mut high_tech = false;
    let mut little_giant = None;
    let mut hidden_champion = None;
    if individual {
        if d.rng.chance(0.015) {
            d.tag("cert", "famous_special_new");
        }
    } else {
        let p_high_tech = if mfg {
            0.03 + if scale { 0.25 } else { 0.0 }
        } else if tech {
            0.12
        } else {
            0.002
        };
        if age >= 1 && d.rng.chance(p_high_tech) {
            high_tech = true;
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
                little_giant = Some(d.rng.int(i64::from(2019.max(fy + 3)), 2025));
            }
        }
        if mfg && scale && age >= 5 && d.rng.chance(0.012) {
            d.tag("cert", "hidden_champion");
            hidden_champion = Some(d.rng.int(i64::from(2017.max(fy + 5)), 2025));
        }
    }

    // Listing.
    if !individual && scale {
        if size == "large" && d.rng.chance(0.3) || size == "medium" && d.rng.chance(0.03) {
            d.tag("listing", "listed");
        } else if d.rng.chance(0.03) {
            d.tag("listing", "pipeline");
        }
    }

    // Major projects.
    let mut project_land = false;
    if !individual && (mfg && scale && d.rng.chance(0.08) || d.rng.chance(0.003)) {
        let p = *d.rng.pick(&[
            ("provincial_major_special", 10),
            ("provincial_major_leading", 25),
            ("provincial_major_demo", 35),
            ("major_private_investment", 30),
        ]);
        project_land = p.starts_with("provincial");
        d.tag("project", p);
    }

    // Foreign trade.
    let export_rate = if individual {
        match class {
            Class::Wholesale => 0.04,
            _ if mfg => 0.02,
            _ => 0.0,
        }
    } else {
        class.export_rate()
    };
    let exporter = d.rng.chance(export_rate);
    if exporter {
        d.tag("trade", "exporter");
    }
    if !individual && (size == "large" && d.rng.chance(0.1) || d.rng.chance(0.0002)) {
        d.tag("trade", "overseas_zone_developer");
    }

    // Business models.
    let mut fund = false;
    if individual {
        if class == Class::Ecommerce && d.rng.chance(0.3) || d.rng.chance(0.005) {
            d.tag("biz", "live_streaming");
        }
    } else {
        match class {
            Class::Finance => {
                let b = *d.rng.pick(&[
                    ("venture_capital", 50),
                    ("private_equity", 35),
                    ("industrial_fund", 10),
                    ("", 5),
                ]);
                if !b.is_empty() {
                    fund = true;
                    d.tag("biz", b);
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
    }

    // Rosters.
    if !individual {
        if d.rng.chance(if fy >= 2018 { 0.03 } else { 0.01 }) {
            d.tag("roster", "high_growth");
        }
        if d.rng.chance(if scale { 0.10 } else { 0.005 }) {
            d.tag("roster", "quality_enterprise_pool");
        }
    }

    // 个转企.
    let converted = !individual
        && ownership == "private"
        && fy >= 2018
        && matches!(size, "micro" | "small")
        && d.rng.chance(0.10);
    if converted {
        d.tag("change", "individual_to_enterprise");
    }

    // Credit.
    let dishonest = fy < LAST_YEAR && d.rng.chance(if individual { 0.008 } else { 0.015 });
    if dishonest {
        d.tag("credit", "dishonest");
    }

    // --- fields
    d.put("founded", Val::Date(founded.0, founded.1, founded.2));
    if let Some(r) = revenue {
        d.put("revenue_10k_yuan", Val::F(r));
    }
    d.put("employees", Val::I(employees));
    if let Some((median, sigma)) = class.energy().filter(|_| !individual)
        && d.rng.chance(if scale { 0.95 } else { 0.5 })
    {
        let e = d.rng.lognormal(median, sigma);
        d.put("energy_intensity", Val::F(round_to(e, 3)));
    }
    if !individual
        && (mfg || tech)
        && d.rng.chance(if scale {
            0.9
        } else if tech {
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
    if fund && d.rng.chance(0.8) {
        let r = d.rng.uniform(0.2, 1.0);
        d.put("fund_private_investment_ratio", Val::F(round_to(r, 2)));
    }
    if individual {
        if d.rng.chance(0.3) {
            let c = (d.rng.lognormal(30.0, 0.7) / 5.0).round().max(1.0) * 5.0;
            d.put("credit_line_10k_yuan", Val::F(c));
        }
    } else if d.rng.chance(if scale { 0.85 } else { 0.5 }) {
        let base = match revenue {
            Some(r) => r * d.rng.lognormal(0.12, 0.7),
            None => d.rng.lognormal(100.0, 1.0),
        };
        let c = (base / 10.0).round().max(1.0) * 10.0;
        d.put("credit_line_10k_yuan", Val::F(c));
    }
    if let Some(p) = plot_ratio {
        d.put("plot_ratio", Val::F(p));
    }
    if !individual {
        let gas = match class {
            Class::Dyeing => 0.7,
            Class::Utility => 0.8,
            Class::ChemFibre => 0.5,
            Class::Chemical => 0.3,
            Class::Textile => 0.1,
            _ => 0.0,
        };
        if d.rng.chance(gas) {
            let g = d.rng.lognormal(40.0, 0.6) * (rev.max(100.0) / 2000.0).sqrt();
            d.put(
                "gas_peak_flow_m3_per_h",
                Val::F(round_to(g.clamp(2.0, 3000.0), 1)),
            );
        }
    }
    if exporter && d.rng.chance(0.25) {
        let fee = (d.rng.lognormal(30000.0, 0.5) / 500.0).round().max(10.0) * 500.0;
        d.put("booth_fee_yuan", Val::F(fee));
    }
    if !individual && mfg && d.rng.chance(if scale && high_tech { 0.10 } else { 0.002 }) {
        let v = if d.rng.chance(0.3) {
            0.0
        } else {
            (d.rng.lognormal(200_000.0, 1.0) / 1000.0).round().max(1.0) * 1000.0
        };
        d.put("basic_research_donation_yuan", Val::F(v));
    }
    if scale {
        let since = d.rng.int(i64::from(1998.max(fy + 1)), i64::from(LAST_YEAR));
        d.put("above_designated_since", Val::I(since));
    }
    if project_land && d.rng.chance(0.8) {
        let mu = d.rng.lognormal(60.0, 0.8);
        d.put(
            "project_land_quota_mu",
            Val::F(round_to(mu.clamp(5.0, 1000.0), 1)),
        );
    }
    if converted && d.rng.chance(0.9) {
        let same = d.rng.chance(0.85);
        d.put("investor_unchanged", Val::B(same));
    }
    if let Some(y) = little_giant {
        d.put("little_giant_year", Val::I(y));
    }
    if let Some(y) = hidden_champion {
        d.put("hidden_champion_year", Val::I(y));
    }
    if !individual && mfg && d.rng.chance(if scale { 0.35 } else { 0.08 }) {
        let t = (rev.max(50.0) * d.rng.lognormal(0.05, 0.8)).max(10.0);
        d.put(
            "tech_renovation_investment_10k_yuan",
            Val::F(round_to(t, 1)),
        );
    }
    if dishonest {
        let (y, m, dd) = date_in(&mut d.rng, 2019.max(fy + 1), LAST_YEAR);
        d.put("dishonest_published_on", Val::Date(y, m, dd));
    }

    // --- name
    let brand = format!("{}{}", d.rng.choose(BRAND_1), d.rng.choose(BRAND_2));
    let word = d.rng.choose(sector.words);
    let name = if individual {
        let place = if d.rng.chance(0.7) { town } else { "" };
        format!("绍兴市柯桥区{place}{brand}{word}")
    } else {
        let big = scale || matches!(size, "large" | "medium");
        let prefix = *d.rng.pick(&[
            ("绍兴柯桥", 55),
            ("绍兴市柯桥区", 15),
            ("绍兴", 15),
            (if big { "浙江" } else { "绍兴柯桥" }, 15),
        ]);
        let form = if class == Class::Finance && d.rng.chance(0.4) {
            "合伙企业（有限合伙）"
        } else if big && d.rng.chance(0.2) {
            "股份有限公司"
        } else {
            "有限公司"
        };
        format!("{prefix}{brand}{word}{form}")
    };

    d.finish(i, id, name)
}
