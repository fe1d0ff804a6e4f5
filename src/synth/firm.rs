//! Who a business is: kind, sector, age, id, ownership, revenue, head count, size class, 规上
//! status and 镇街. These are a record's first draws, and every later draw depends on them.

use crate::synth::draft::LAST_YEAR;
use crate::synth::draft::date_in;
use crate::synth::draft::round_to;
use crate::synth::ids::credit_code;
use crate::synth::rng::Rng;
use crate::synth::sectors::Class;
use crate::synth::sectors::ENTERPRISE_SECTORS;
use crate::synth::sectors::INDIVIDUAL_SECTORS;
use crate::synth::sectors::REGIONS;
use crate::synth::sectors::Sector;

/// The facts about a business that its tags, fields and name follow from.
pub(super) struct Firm {
    /// A 个体工商户 rather than an enterprise.
    pub(super) individual: bool,
    pub(super) sector: &'static Sector,
    pub(super) class: Class,
    pub(super) mfg: bool,
    /// Software and 科技推广 (M75): the services that technology certifications go to.
    pub(super) tech: bool,
    /// 成立日期 (year, month, day).
    pub(super) founded: (i32, u32, u32),
    pub(super) founded_year: i32,
    /// Whole years from the founding year to [`LAST_YEAR`].
    pub(super) age: i32,
    /// The 统一社会信用代码.
    pub(super) id: String,
    /// `private`, `state` or `foreign`.
    pub(super) ownership: &'static str,
    /// 上年度营业收入, 万元; none for a business founded in [`LAST_YEAR`].
    pub(super) revenue: Option<f64>,
    /// The revenue, 0 where there is none: what the size and scale tests compare.
    pub(super) rev: f64,
    /// 从业人数.
    pub(super) employees: i64,
    /// `micro`, `small`, `medium` or `large`.
    pub(super) size: &'static str,
    /// Not large (中小企业).
    pub(super) sme: bool,
    /// 规上 / 限上.
    pub(super) scale: bool,
    /// The 镇街's pinyin tag value and its Chinese name.
    pub(super) region: &'static str,
    pub(super) town: &'static str,
}

impl Firm {
    /// The business of row `i`, drawn from `rng` in a fixed order: the order of the draws
    /// is part of what a seed generates.
    pub(super) fn draw(rng: &mut Rng, seed: u64, i: usize) -> Firm {
        let individual = rng.chance(0.60);
        let sector = if individual {
            rng.pick(INDIVIDUAL_SECTORS)
        } else {
            rng.pick(ENTERPRISE_SECTORS)
        };
        let class = sector.class;
        let (founded_year, founded) = founding(rng, individual);
        let age = LAST_YEAR - founded_year;
        let id = credit_code(rng, seed, i, individual, founded_year);
        let ownership = ownership(rng, individual, class);
        let revenue = revenue(rng, individual, class, founded_year, age);
        let employees = employees(rng, individual, class, revenue);
        let rev = revenue.unwrap_or(0.0);
        let size = if individual {
            "micro"
        } else {
            class.size(employees, rev)
        };
        let scale = !individual && revenue.is_some() && above_designated(rng, class, rev);
        let (region, town) = *rng.pick(REGIONS);
        Firm {
            individual,
            sector,
            class,
            mfg: class.manufacturing(),
            tech: class == Class::Software || sector.code == "M75",
            founded,
            founded_year,
            age,
            id,
            ownership,
            revenue,
            rev,
            employees,
            size,
            sme: size != "large",
            scale,
            region,
            town,
        }
    }
}

/// The founding year and 成立日期: ages roughly exponential, individual businesses younger,
/// and the oldest spread over 1990–2005 rather than reaching back decades.
fn founding(rng: &mut Rng, individual: bool) -> (i32, (i32, u32, u32)) {
    let mean_age = if individual { 6.0 } else { 10.0 };
    let age = (-(1.0 - rng.f64()).ln() * mean_age) as i32;
    let mut year = LAST_YEAR - age;
    if year < 1990 {
        year = rng.int(1990, 2005) as i32;
    }
    (year, date_in(rng, year, year))
}

fn ownership(rng: &mut Rng, individual: bool, class: Class) -> &'static str {
    if individual {
        return "private";
    }
    let state = match class {
        Class::Utility | Class::RealEstate | Class::Finance => 0.15,
        _ => 0.012,
    };
    let foreign = if class.manufacturing() { 0.04 } else { 0.015 };
    let u = rng.f64();
    if u < state {
        "state"
    } else if u < state + foreign {
        "foreign"
    } else {
        "private"
    }
}

/// 上年度营业收入 (万元): log-normal by sector, less for a business in its first full year.
fn revenue(
    rng: &mut Rng,
    individual: bool,
    class: Class,
    founded_year: i32,
    age: i32,
) -> Option<f64> {
    if founded_year >= LAST_YEAR {
        return None;
    }
    let (median, sigma) = match (individual, class.manufacturing(), class) {
        (true, true, _) => (80.0, 0.8),
        (true, _, Class::Wholesale) => (60.0, 1.0),
        (true, _, _) => (35.0, 0.9),
        (false, _, c) => c.revenue(),
    };
    let mut r = rng.lognormal(median, sigma);
    if age <= 1 {
        r *= rng.uniform(0.2, 0.7);
    }
    Some(round_to(r.max(0.5), 1))
}

/// 从业人数: a 个体工商户 is the owner and a few helpers (a workshop more); an enterprise's
/// head count is its revenue over a log-normal productivity.
fn employees(rng: &mut Rng, individual: bool, class: Class, revenue: Option<f64>) -> i64 {
    let mfg = class.manufacturing();
    if individual {
        let n = if mfg {
            2 + rng.lognormal(4.0, 0.6).round() as i64
        } else {
            let mut n = 1;
            while n < 10 && rng.chance(0.45) {
                n += 1;
            }
            n
        };
        return n.min(60);
    }
    let floor = if mfg { 3 } else { 1 };
    match revenue {
        Some(r) => {
            let per_head = rng.lognormal(class.productivity(), 0.5);
            ((r / per_head).round() as i64).clamp(floor, 20_000)
        }
        None => rng.int(floor, 12),
    }
}

/// 规上 / 限上 (enterprises with a revenue): last year's list, so not exactly the threshold.
fn above_designated(rng: &mut Rng, class: Class, rev: f64) -> bool {
    if rev >= class.scale_threshold() {
        rng.chance(0.92)
    } else {
        rev >= 0.6 * class.scale_threshold() && rng.chance(0.03)
    }
}
