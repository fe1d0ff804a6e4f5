//! The 统一社会信用代码 (GB 32100) of a generated record: registration type, 区划 code, a
//! 9-character organisation part unique to the row, and the check characters of both
//! standards.

use crate::profile::uscc;
use crate::synth::MAX_UNIQUE_IDS;
use crate::synth::rng::Rng;
use crate::synth::rng::SALT_IDS;
use crate::synth::rng::mix;

pub(super) use crate::profile::uscc::CHARSET as USCC_CHARSET;

/// The code of row `i` of a business founded in `founded_year`; `9` (registered with 市场监管),
/// then `1` for an enterprise or `2` for a 个体工商户.
pub(super) fn credit_code(
    rng: &mut Rng,
    seed: u64,
    i: usize,
    individual: bool,
    founded_year: i32,
) -> String {
    let numeric = !individual && founded_year < 2015 && rng.chance(0.85);
    // 330621 is 绍兴县, which became 柯桥区 (330603) in 2013.
    let division = if founded_year < 2013 && rng.chance(0.1) {
        "330621"
    } else {
        "330603"
    };
    uscc_id(
        if individual { "2" } else { "1" },
        division,
        &org_part(seed, i, numeric),
    )
}

/// GB 11714 check character of an 8-character organisation code.
fn org_check(code: &[u8; 8]) -> u8 {
    const W: [u32; 8] = [3, 7, 9, 10, 5, 8, 4, 2];
    let value = |c: u8| match c {
        b'0'..=b'9' => u32::from(c - b'0'),
        _ => u32::from(c - b'A') + 10,
    };
    let sum: u32 = code.iter().zip(W).map(|(&c, w)| value(c) * w).sum();
    match 11 - sum % 11 {
        10 => b'X',
        11 => b'0',
        d => b'0' + d as u8,
    }
}

/// The 9-character organisation part for row `i`: a bijection of `i` (for a fixed seed),
/// so ids never collide. Registrations from 2015 on have the `MA…` form; older
/// enterprises a numeric organisation code.
fn org_part(seed: u64, i: usize, numeric: bool) -> [u8; 9] {
    let h = mix(seed ^ SALT_IDS);
    let mut code = [0u8; 8];
    if numeric && (i as u64) < 100_000_000 {
        // odd and not a multiple of 5: a bijection mod 10⁸
        const N: u64 = 100_000_000;
        let x = (48_271_u64.wrapping_mul(i as u64) % N + h % N) % N;
        for (k, c) in code.iter_mut().enumerate() {
            *c = b'0' + ((x / 10u64.pow(7 - k as u32)) % 10) as u8;
        }
    } else {
        // not a multiple of 31: a bijection mod 31⁶
        const N: u64 = MAX_UNIQUE_IDS as u64;
        let x = ((i as u64 % N) * 387_420_489 % N + h % N) % N;
        code[0] = b'M';
        code[1] = b'A';
        for k in 0..6 {
            code[2 + k] = USCC_CHARSET[((x / 31u64.pow(5 - k as u32)) % 31) as usize];
        }
    }
    let mut out = [0u8; 9];
    out[..8].copy_from_slice(&code);
    out[8] = org_check(&code);
    out
}

fn uscc_id(type_code: &str, division: &str, org: &[u8; 9]) -> String {
    let mut id = String::with_capacity(18);
    id.push('9');
    id.push_str(type_code);
    id.push_str(division);
    id.extend(org.iter().map(|&c| char::from(c)));
    // Cannot fail: the callers pass a one-digit type and a six-digit division, and every
    // character of `org` comes from USCC_CHARSET (org_check gives a digit or `X`).
    let check = uscc::check_char(&id).expect("17 characters of the GB 32100 set");
    id.push(check);
    id
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn organisation_codes_are_a_bijection_and_checked() {
        let mut seen = HashSet::new();
        for i in 0..20_000 {
            for numeric in [false, true] {
                let org = org_part(9, i, numeric);
                assert!(seen.insert(org), "collision at {i}");
                assert!(org.iter().all(|c| USCC_CHARSET.contains(c)));
            }
        }
        // The worked example of GB 11714: D2143569-X.
        assert_eq!(org_check(b"D2143569"), b'X');
        let id = uscc_id("1", "330603", &org_part(0, 0, false));
        assert_eq!(uscc::validate(&id), Ok(()));
    }
}
