//! Shards of a population, by a stable hash of the 统一社会信用代码.
//!
//! FNV-1a (64-bit) over the id's bytes: fixed by its definition, so a code lands in the
//! same shard on every platform and in every version of this crate.

use std::fmt;
use std::str::FromStr;

/// Shard `index` of `count`, 0-based (Kubernetes' JOB_COMPLETION_INDEX is 0-based too).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
}

pub fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

impl Shard {
    pub fn contains(&self, id: &str) -> bool {
        fnv1a64(id.as_bytes()) % u64::from(self.count) == u64::from(self.index)
    }
}

impl FromStr for Shard {
    type Err = String;

    fn from_str(s: &str) -> Result<Shard, String> {
        let bad = || format!("`{s}` is not a shard K/N with 0 <= K < N");
        let (k, n) = s.split_once('/').ok_or_else(bad)?;
        let (index, count): (u32, u32) =
            (k.parse().map_err(|_| bad())?, n.parse().map_err(|_| bad())?);
        if count == 0 || index >= count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hash_is_pinned() {
        // Published FNV-1a test vectors: a change here would move enterprises between shards.
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a64(b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn every_id_is_in_exactly_one_shard() {
        let n = 4;
        for i in 0..1000 {
            let id = format!("91330603MA{i:07}X");
            let hits = (0..n)
                .filter(|&k| Shard { index: k, count: n }.contains(&id))
                .count();
            assert_eq!(hits, 1);
        }
        assert!("4/4".parse::<Shard>().is_err() && "1/0".parse::<Shard>().is_err());
        assert_eq!("3/4".parse::<Shard>(), Ok(Shard { index: 3, count: 4 }));
    }
}
