//! Seeded random-number streams. One run seed drives everything: each component draws from its
//! own stream derived from (seed, component id), so adding a component never shifts the numbers
//! another component sees. The generator is xoshiro256++ seeded through SplitMix64, written here
//! so the byte-for-byte output never depends on a dependency's choice of algorithm.

use rand::RngCore;

/// A deterministic random-number stream (xoshiro256++).
#[derive(Clone, Debug)]
pub struct RngStream {
    s: [u64; 4],
}

/// One SplitMix64 step: advances `state` and returns a well-mixed 64-bit value.
pub fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    mix64(*state)
}

/// SplitMix64's finalizer: every input bit affects every output bit (a key id's hash).
#[inline]
pub fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// FNV-1a 64-bit hash of a byte string: stable across platforms and releases.
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xCBF2_9CE4_8422_2325;
    for &b in bytes {
        h ^= b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01B3);
    }
    h
}

impl RngStream {
    /// The stream numbered `stream_id` of run seed `seed`.
    pub fn new(seed: u64, stream_id: u64) -> RngStream {
        let mut sm = seed ^ splitmix64(&mut stream_id.wrapping_mul(0xD6E8_FEB8_6659_FD93));
        let mut s = [0u64; 4];
        for word in &mut s {
            *word = splitmix64(&mut sm);
        }
        if s == [0; 4] {
            s[0] = 1;
        }
        RngStream { s }
    }

    /// The stream named `name` (for example `"keyspace/catalog/arrivals"`) of run seed `seed`.
    pub fn named(seed: u64, name: &str) -> RngStream {
        RngStream::new(seed, fnv1a64(name.as_bytes()))
    }

    /// A child stream: deterministic in this stream's seed material and `child_id`, without
    /// advancing this stream.
    pub fn child(&self, child_id: u64) -> RngStream {
        RngStream::new(self.s[0] ^ self.s[2].rotate_left(17), child_id)
    }

    /// The next 64 random bits.
    #[inline]
    pub fn next_u64(&mut self) -> u64 {
        let result = (self.s[0].wrapping_add(self.s[3]))
            .rotate_left(23)
            .wrapping_add(self.s[0]);
        let t = self.s[1] << 17;
        self.s[2] ^= self.s[0];
        self.s[3] ^= self.s[1];
        self.s[1] ^= self.s[2];
        self.s[0] ^= self.s[3];
        self.s[2] ^= t;
        self.s[3] = self.s[3].rotate_left(45);
        result
    }

    /// A uniform float in [0, 1) with 53 random bits.
    #[inline]
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// A uniform float in (0, 1]: safe to take the logarithm of.
    #[inline]
    pub fn next_f64_open0(&mut self) -> f64 {
        ((self.next_u64() >> 11) + 1) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// A uniform integer in [0, n) (Lemire's multiply-shift; n must be > 0).
    #[inline]
    pub fn below(&mut self, n: u64) -> u64 {
        debug_assert!(n > 0);
        ((self.next_u64() as u128 * n as u128) >> 64) as u64
    }

    /// An exponential variate with the given mean.
    #[inline]
    pub fn exp(&mut self, mean: f64) -> f64 {
        -mean * self.next_f64_open0().ln()
    }
}

impl RngCore for RngStream {
    fn next_u32(&mut self) -> u32 {
        (RngStream::next_u64(self) >> 32) as u32
    }
    fn next_u64(&mut self) -> u64 {
        RngStream::next_u64(self)
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        for chunk in dest.chunks_mut(8) {
            let v = RngStream::next_u64(self).to_le_bytes();
            chunk.copy_from_slice(&v[..chunk.len()]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_reproducible_and_distinct() {
        let mut a = RngStream::new(42, 1);
        let mut b = RngStream::new(42, 1);
        let mut c = RngStream::new(42, 2);
        let xa: Vec<u64> = (0..4).map(|_| a.next_u64()).collect();
        let xb: Vec<u64> = (0..4).map(|_| b.next_u64()).collect();
        let xc: Vec<u64> = (0..4).map(|_| c.next_u64()).collect();
        assert_eq!(xa, xb);
        assert_ne!(xa, xc);
    }

    #[test]
    fn uniform_mean_and_below_range() {
        let mut r = RngStream::named(7, "test");
        let n = 200_000;
        let mean: f64 = (0..n).map(|_| r.next_f64()).sum::<f64>() / n as f64;
        assert!((mean - 0.5).abs() < 0.005, "mean {mean}");
        let mut counts = [0u32; 10];
        for _ in 0..n {
            counts[r.below(10) as usize] += 1;
        }
        for c in counts {
            assert!((c as f64 - 20_000.0).abs() < 600.0, "{counts:?}");
        }
    }

    #[test]
    fn exponential_mean() {
        let mut r = RngStream::new(3, 3);
        let n = 200_000;
        let mean: f64 = (0..n).map(|_| r.exp(2.0)).sum::<f64>() / n as f64;
        assert!((mean - 2.0).abs() < 0.03, "mean {mean}");
    }

    #[test]
    fn fnv_known_vector() {
        // FNV-1a 64 of "a" is 0xaf63dc4c8601ec8c.
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
    }
}
