//! The randomness of the generator, with no RNG crate so that the numbers never change under
//! a dependency update: hashes of (seed, row, salt) pick each row's stream, and xoshiro256**
//! draws from it.

const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;

// One salt per use of `key`, all different, so that a row's record stream, its bad-row
// draws and its id offset are independent of one another.
pub(super) const SALT_RECORD: u64 = 0x5245_434F_5244_0001;
pub(super) const SALT_BAD: u64 = 0x4241_4452_4F57_0002;
pub(super) const SALT_KIND: u64 = 0x4B49_4E44_0000_0003;
pub(super) const SALT_SPOIL: u64 = 0x5350_4F49_4C00_0004;
pub(super) const SALT_IDS: u64 = 0x4944_5300_0000_0005;

/// The splitmix64 finaliser: a bijection on u64 that mixes every bit.
pub(super) const fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A 64-bit hash of (seed, i, salt).
pub(super) fn key(seed: u64, i: usize, salt: u64) -> u64 {
    mix(mix(seed ^ salt) ^ mix((i as u64).wrapping_add(GOLDEN)))
}

/// A hash as a uniform number in [0, 1), from its top 53 bits.
pub(super) fn unit(h: u64) -> f64 {
    (h >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// xoshiro256**, seeded through splitmix64.
pub(super) struct Rng([u64; 4]);

impl Rng {
    pub(super) fn new(seed: u64) -> Rng {
        let mut x = seed;
        let mut s = [0u64; 4];
        for v in &mut s {
            x = x.wrapping_add(GOLDEN);
            *v = mix(x);
        }
        Rng(s)
    }

    fn next_u64(&mut self) -> u64 {
        let s = &mut self.0;
        let result = s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
    }

    /// Uniform in [0, 1).
    pub(super) fn f64(&mut self) -> f64 {
        unit(self.next_u64())
    }

    pub(super) fn chance(&mut self, p: f64) -> bool {
        self.f64() < p
    }

    /// Uniform in 0..n (n > 0).
    fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// Uniform in lo..=hi.
    pub(super) fn int(&mut self, lo: i64, hi: i64) -> i64 {
        if hi <= lo {
            return lo;
        }
        lo + self.below((hi - lo + 1) as u64) as i64
    }

    pub(super) fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.f64()
    }

    /// Standard normal (Box–Muller).
    pub(super) fn normal(&mut self) -> f64 {
        let u1 = 1.0 - self.f64();
        let u2 = self.f64();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }

    /// Log-normal with the given median and log-standard-deviation.
    pub(super) fn lognormal(&mut self, median: f64, sigma: f64) -> f64 {
        median * (sigma * self.normal()).exp()
    }

    /// One of `items` with probability proportional to its weight.
    pub(super) fn pick<'a, T>(&mut self, items: &'a [(T, u32)]) -> &'a T {
        let total: u32 = items.iter().map(|(_, w)| w).sum();
        let mut r = self.below(u64::from(total)) as u32;
        for (item, w) in items {
            if r < *w {
                return item;
            }
            r -= w;
        }
        &items[items.len() - 1].0
    }

    pub(super) fn choose<'a>(&mut self, items: &'a [&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
}
