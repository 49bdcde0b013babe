//! The generic event engine: simulated time, the event queue and seeded RNG streams.
//! It knows nothing about Redis, clients or traffic.

pub mod time;

pub use time::{MonotoneClock, SimTime};
pub mod rng;

pub use rng::RngStream;
pub mod queue;

pub mod machine;
pub mod root;
pub use machine::{prefetch, prefetch_span, HugePageAlloc};
pub use queue::{bench_hold, EventQueue, HoldBench};

/// A fast hasher for maps keyed by simulator ids (already well-spread 64-bit numbers): a
/// multiply-rotate combine and a SplitMix64 finish, instead of SipHash. Only for lookups: such
/// maps are never iterated into output, so their order cannot reach a result.
#[derive(Clone, Copy, Debug, Default)]
pub struct IdHasher(u64);

impl std::hash::Hasher for IdHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(b as u64);
        }
    }
    #[inline]
    fn write_u32(&mut self, n: u32) {
        self.write_u64(n as u64);
    }
    #[inline]
    fn write_u16(&mut self, n: u16) {
        self.write_u64(n as u64);
    }
    #[inline]
    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(23) ^ n).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
    #[inline]
    fn finish(&self) -> u64 {
        let mut s = self.0;
        rng::splitmix64(&mut s)
    }
}

/// A `HashMap` keyed by simulator ids, hashed with `IdHasher`.
pub type IdMap<K, V> = std::collections::HashMap<K, V, std::hash::BuildHasherDefault<IdHasher>>;
