//! What a business does and where: the GB/T 4754-2017 sectors of Keqiao's enterprises and
//! 个体工商户 with their weights, the figures each class of sector draws its numbers from, the
//! 镇街 and the syllables of brand names.

/// What kind of business a sector is: it sets the revenue, head count, energy use, export
/// rate and size bounds a record draws from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Class {
    /// 印染: dyeing and finishing (C17x3, C1752, C1762).
    Dyeing,
    /// Weaving, knitting, home and industrial textiles.
    Textile,
    Garment,
    /// Dyes and textile auxiliaries (C26).
    Chemical,
    /// Chemical fibres (C28).
    ChemFibre,
    OtherMfg,
    Wholesale,
    Retail,
    Ecommerce,
    Catering,
    Services,
    Software,
    Finance,
    Construction,
    RealEstate,
    Logistics,
    /// 热电 (D4430): steam for the dyeing plants.
    Utility,
}

impl Class {
    pub(super) fn manufacturing(self) -> bool {
        matches!(
            self,
            Class::Dyeing
                | Class::Textile
                | Class::Garment
                | Class::Chemical
                | Class::ChemFibre
                | Class::OtherMfg
        )
    }

    pub(super) fn industrial(self) -> bool {
        self.manufacturing() || self == Class::Utility
    }

    /// Median and log-sd of an enterprise's revenue in 万元.
    pub(super) fn revenue(self) -> (f64, f64) {
        match self {
            Class::Dyeing => (2200.0, 1.2),
            Class::Textile => (240.0, 1.4),
            Class::Garment => (250.0, 1.3),
            Class::Chemical => (700.0, 1.4),
            Class::ChemFibre => (1500.0, 1.6),
            Class::OtherMfg => (300.0, 1.3),
            Class::Wholesale => (150.0, 1.4),
            Class::Retail => (100.0, 1.2),
            Class::Ecommerce => (150.0, 1.5),
            Class::Catering => (80.0, 1.0),
            Class::Services => (100.0, 1.4),
            Class::Software => (150.0, 1.5),
            Class::Finance => (200.0, 1.8),
            Class::Construction => (800.0, 1.5),
            Class::RealEstate => (1500.0, 1.8),
            Class::Logistics => (200.0, 1.3),
            Class::Utility => (8000.0, 1.0),
        }
    }

    /// Median revenue per employee, 万元.
    pub(super) fn productivity(self) -> f64 {
        match self {
            Class::Dyeing => 120.0,
            Class::Textile => 60.0,
            Class::Garment => 25.0,
            Class::Chemical => 150.0,
            Class::ChemFibre => 250.0,
            Class::OtherMfg => 50.0,
            Class::Wholesale => 150.0,
            Class::Retail => 60.0,
            Class::Ecommerce => 80.0,
            Class::Catering => 15.0,
            Class::Services => 30.0,
            Class::Software => 40.0,
            Class::Finance => 100.0,
            Class::Construction => 40.0,
            Class::RealEstate => 200.0,
            Class::Logistics => 40.0,
            Class::Utility => 300.0,
        }
    }

    /// Median and log-sd of 单位工业增加值能耗 (吨标准煤/万元).
    pub(super) fn energy(self) -> Option<(f64, f64)> {
        Some(match self {
            Class::Dyeing => (0.55, 0.22),
            Class::ChemFibre => (0.65, 0.25),
            Class::Chemical => (0.45, 0.3),
            Class::Textile => (0.22, 0.35),
            Class::Garment => (0.06, 0.4),
            Class::OtherMfg => (0.15, 0.4),
            Class::Utility => (1.8, 0.2),
            _ => return None,
        })
    }

    /// Share of enterprises that export.
    pub(super) fn export_rate(self) -> f64 {
        match self {
            Class::Dyeing => 0.45,
            Class::Textile => 0.35,
            Class::Garment => 0.40,
            Class::ChemFibre => 0.30,
            Class::Chemical => 0.25,
            Class::OtherMfg => 0.15,
            Class::Wholesale => 0.30,
            Class::Ecommerce => 0.08,
            _ => 0.02,
        }
    }

    /// 规上 / 限上 revenue threshold, 万元.
    pub(super) fn scale_threshold(self) -> f64 {
        match self {
            Class::Retail | Class::Ecommerce => 500.0,
            Class::Catering => 200.0,
            Class::Software | Class::Services | Class::Finance | Class::RealEstate => 1000.0,
            Class::Construction => 5000.0,
            _ => 2000.0,
        }
    }

    /// Size class by the 2017 统计上大中小微型企业划分办法: (employees, revenue 万元) lower
    /// bounds for large, medium and small; both must be met.
    pub(super) fn size(self, employees: i64, revenue: f64) -> &'static str {
        let bounds: [(i64, f64); 3] = match self {
            c if c.industrial() => [(1000, 40000.0), (300, 2000.0), (20, 300.0)],
            Class::Wholesale => [(200, 40000.0), (20, 5000.0), (5, 1000.0)],
            Class::Retail | Class::Ecommerce => [(300, 20000.0), (50, 500.0), (10, 100.0)],
            Class::Catering => [(300, 10000.0), (100, 2000.0), (10, 100.0)],
            Class::Software => [(300, 10000.0), (100, 1000.0), (10, 50.0)],
            Class::Logistics => [(1000, 30000.0), (300, 3000.0), (20, 200.0)],
            Class::Construction => [(0, 80000.0), (0, 6000.0), (0, 300.0)],
            Class::RealEstate => [(0, 200000.0), (0, 1000.0), (0, 100.0)],
            _ => [(300, 0.0), (100, 0.0), (10, 0.0)],
        };
        for ((e, r), name) in bounds.into_iter().zip(["large", "medium", "small"]) {
            if employees >= e && revenue >= r {
                return name;
            }
        }
        "micro"
    }
}

/// An industry code (GB/T 4754-2017) as the generator uses it.
pub(super) struct Sector {
    pub(super) code: &'static str,
    pub(super) class: Class,
    /// Words for the enterprise or shop name.
    pub(super) words: &'static [&'static str],
}

/// Short, so that a table row fits on a line.
const fn s(code: &'static str, class: Class, words: &'static [&'static str]) -> Sector {
    Sector { code, class, words }
}

const DYE: &[&str] = &["印染", "染整", "印花", "染织"];
const WEAVE: &[&str] = &["纺织", "织造", "纺织品", "布业"];

/// Enterprises: (sector, weight).
pub(super) const ENTERPRISE_SECTORS: &[(Sector, u32)] = &[
    (s("C1752", Class::Dyeing, DYE), 25),
    (s("C1713", Class::Dyeing, DYE), 18),
    (s("C1762", Class::Dyeing, &["针织印染", "印染"]), 8),
    (s("C1723", Class::Dyeing, &["毛纺染整"]), 3),
    (s("C1743", Class::Dyeing, &["丝绸印染", "丝绸"]), 4),
    (s("C1733", Class::Dyeing, &["麻纺染整"]), 1),
    (s("C1751", Class::Textile, WEAVE), 120),
    (s("C1712", Class::Textile, &["棉纺织", "织造"]), 12),
    (s("C1761", Class::Textile, &["针织", "针纺"]), 35),
    (s("C1771", Class::Textile, &["家纺", "床上用品"]), 15),
    (
        s("C1773", Class::Textile, &["布艺", "窗饰", "家居布艺"]),
        40,
    ),
    (s("C1781", Class::Textile, &["无纺布", "非织造布"]), 15),
    (s("C1742", Class::Textile, &["丝绸", "丝织"]), 8),
    (s("C1763", Class::Textile, &["针织品"]), 6),
    (s("C1819", Class::Garment, &["服饰", "制衣"]), 30),
    (s("C1829", Class::Garment, &["针织服饰", "制衣"]), 20),
    (s("C1830", Class::Garment, &["服饰"]), 10),
    (s("C2645", Class::Chemical, &["染料", "化工"]), 10),
    (s("C2661", Class::Chemical, &["助剂", "化工"]), 10),
    (s("C2822", Class::ChemFibre, &["化纤", "涤纶"]), 18),
    (s("C2821", Class::ChemFibre, &["锦纶", "化纤"]), 3),
    (s("C2826", Class::ChemFibre, &["氨纶"]), 2),
    (s("C2812", Class::ChemFibre, &["化纤"]), 2),
    (s("C3551", Class::OtherMfg, &["纺织机械", "机械"]), 12),
    (s("C2231", Class::OtherMfg, &["包装"]), 7),
    (s("C2927", Class::OtherMfg, &["塑业"]), 6),
    (
        s(
            "F5131",
            Class::Wholesale,
            &["纺织品", "布业", "贸易", "面料"],
        ),
        200,
    ),
    (s("F5132", Class::Wholesale, &["服饰贸易", "服装"]), 25),
    (s("F5169", Class::Wholesale, &["化工贸易"]), 15),
    (s("F5292", Class::Ecommerce, &["电子商务", "网络科技"]), 25),
    (s("F5231", Class::Retail, &["布艺", "商贸"]), 10),
    (s("F5232", Class::Retail, &["服饰", "商贸"]), 5),
    (s("H6210", Class::Catering, &["餐饮管理", "餐饮"]), 10),
    (
        s(
            "L72",
            Class::Services,
            &["企业管理咨询", "会展服务", "商务服务"],
        ),
        40,
    ),
    (s("M75", Class::Services, &["科技", "纺织科技", "设计"]), 20),
    (
        s("I6513", Class::Software, &["信息科技", "网络科技", "软件"]),
        15,
    ),
    (
        s("J67", Class::Finance, &["创业投资", "股权投资", "投资管理"]),
        12,
    ),
    (s("E47", Class::Construction, &["建设", "建筑"]), 20),
    (s("E48", Class::Construction, &["建设工程", "市政工程"]), 12),
    (s("K7010", Class::RealEstate, &["房地产开发", "置业"]), 10),
    (s("G54", Class::Logistics, &["物流", "运输"]), 30),
    (s("D4430", Class::Utility, &["热电", "能源"]), 3),
];

/// 个体工商户: (sector, weight).
pub(super) const INDIVIDUAL_SECTORS: &[(Sector, u32)] = &[
    (
        s(
            "F5131",
            Class::Wholesale,
            &["布行", "纺织品商行", "面料经营部", "布业商行"],
        ),
        280,
    ),
    (
        s("F5132", Class::Wholesale, &["服装商行", "服饰经营部"]),
        40,
    ),
    (
        s("F5231", Class::Retail, &["布艺店", "窗帘店", "床品店"]),
        70,
    ),
    (s("F5232", Class::Retail, &["服装店", "服饰店"]), 80),
    (s("F5292", Class::Ecommerce, &["网店", "电子商务商行"]), 50),
    (s("F5221", Class::Retail, &["粮油店", "便利店"]), 50),
    (s("F5223", Class::Retail, &["水果店", "蔬菜店"]), 30),
    (s("H6210", Class::Catering, &["饭店", "酒家"]), 60),
    (
        s("H6220", Class::Catering, &["面馆", "小吃店", "快餐店"]),
        60,
    ),
    (
        s("O80", Class::Services, &["理发店", "家政服务部", "洗衣店"]),
        70,
    ),
    (s("O81", Class::Services, &["电器维修部", "汽车修理店"]), 40),
    (s("G54", Class::Logistics, &["货运部", "托运部"]), 30),
    (s("C1751", Class::Textile, &["织造厂", "纺织厂"]), 40),
    (
        s("C1773", Class::Textile, &["布艺加工厂", "窗帘加工厂"]),
        25,
    ),
    (s("C1761", Class::Textile, &["针织厂"]), 10),
    (s("C1819", Class::Garment, &["服装加工厂", "制衣厂"]), 25),
    (s("C1829", Class::Garment, &["针织服装厂"]), 10),
    (s("L72", Class::Services, &["广告工作室", "设计工作室"]), 10),
];

/// 镇街 of 柯桥区: (pinyin tag value, Chinese, weight).
pub(super) const REGIONS: &[((&str, &str), u32)] = &[
    (("keqiao", "柯桥"), 18),
    (("huashe", "华舍"), 9),
    (("maan", "马鞍"), 9),
    (("qianqing", "钱清"), 8),
    (("qixian", "齐贤"), 7),
    (("anchang", "安昌"), 7),
    (("keyan", "柯岩"), 7),
    (("yangxunqiao", "杨汛桥"), 6),
    (("hutang", "湖塘"), 6),
    (("fuquan", "福全"), 6),
    (("lanting", "兰亭"), 4),
    (("pingshui", "平水"), 4),
    (("lizhu", "漓渚"), 3),
    (("xialv", "夏履"), 2),
    (("wangtan", "王坛"), 2),
    (("jidong", "稽东"), 2),
];

/// The first and second characters of a 字号 (brand name).
pub(super) const BRAND_1: &[&str] = &[
    "锦", "恒", "永", "华", "盛", "金", "瑞", "鑫", "宏", "兴", "天", "富", "嘉", "明", "东", "越",
    "新", "汇", "亚", "中", "佳", "绿", "万", "蓝", "裕", "博", "聚", "和", "长", "荣", "宝", "彩",
    "凯", "诚", "龙", "丽", "美", "海", "梦", "丝",
];
pub(super) const BRAND_2: &[&str] = &[
    "虹", "丰", "泰", "达", "源", "利", "发", "辉", "润", "隆", "纺", "锦", "盛", "诚", "祥", "宇",
    "帆", "阳", "光", "彩", "艺", "美", "瑞", "通", "力", "鑫", "华", "远", "成", "昌",
];
