//! The generic event engine: simulated time, the event queue and seeded RNG streams.
//! It knows nothing about Redis, clients or traffic.

pub mod time;

pub use time::SimTime;
pub mod rng;

pub use rng::RngStream;
pub mod queue;

pub use queue::{bench_hold, EventQueue, HoldBench};

/// Hints the CPU to bring `*value`'s cache line in (x86-64 `prefetcht0`; a no-op elsewhere).
/// Only a performance hint: it never changes what the program computes.
#[inline(always)]
pub fn prefetch<T>(value: &T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: prefetching never faults and reads nothing architecturally visible.
    unsafe {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        _mm_prefetch(value as *const T as *const i8, _MM_HINT_T0);
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = value;
}
