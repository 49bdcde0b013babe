//! Simulated time: a `u64` count of nanoseconds since the start of a run. Never the wall clock.
//!
//! Arithmetic on time cannot wrap: `+` and `-` check in every build (not only with overflow
//! checks on) and panic with both operands, because a wrapped time is a bug in the caller (a
//! reply handled before its command was sent, a deadline past the end of time). Callers that
//! mean "at least zero" or "at most the end of time" say so with `saturating_sub` /
//! `saturating_add`. [`MonotoneClock`] lets a component assert that the times it is handed
//! never go back.

use std::fmt;
use std::ops::{Add, AddAssign, Sub};

/// A point in simulated time, in nanoseconds since the run started.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SimTime(pub u64);

/// Nanoseconds in one microsecond.
pub const NS_PER_US: u64 = 1_000;
/// Nanoseconds in one millisecond.
pub const NS_PER_MS: u64 = 1_000_000;
/// Nanoseconds in one second.
pub const NS_PER_S: u64 = 1_000_000_000;

impl SimTime {
    /// Time zero: the start of the run.
    pub const ZERO: SimTime = SimTime(0);
    /// The largest representable time (about 584 years).
    pub const MAX: SimTime = SimTime(u64::MAX);

    /// From whole nanoseconds.
    pub const fn from_ns(ns: u64) -> SimTime {
        SimTime(ns)
    }
    /// From whole microseconds.
    pub const fn from_us(us: u64) -> SimTime {
        SimTime(us * NS_PER_US)
    }
    /// From whole milliseconds.
    pub const fn from_ms(ms: u64) -> SimTime {
        SimTime(ms * NS_PER_MS)
    }
    /// From whole seconds.
    pub const fn from_secs(s: u64) -> SimTime {
        SimTime(s * NS_PER_S)
    }
    /// From fractional seconds (rounded to the nearest nanosecond, negative clamps to zero).
    pub fn from_secs_f64(s: f64) -> SimTime {
        SimTime(round_to_u64(s * NS_PER_S as f64))
    }
    /// Nanoseconds since the start.
    pub const fn as_ns(self) -> u64 {
        self.0
    }
    /// Whole milliseconds since the start (truncated).
    pub const fn as_ms(self) -> u64 {
        self.0 / NS_PER_MS
    }
    /// Seconds since the start as a float.
    pub fn as_secs_f64(self) -> f64 {
        u64_to_f64(self.0) / NS_PER_S as f64
    }
    /// `self - earlier`, or zero when `earlier` is later.
    pub fn saturating_sub(self, earlier: SimTime) -> SimTime {
        SimTime(self.0.saturating_sub(earlier.0))
    }
    /// `self + d`, or [`SimTime::MAX`] when the sum would pass the end of time.
    pub fn saturating_add(self, d: SimTime) -> SimTime {
        SimTime(self.0.saturating_add(d.0))
    }
    /// `self + d`, or `None` past the end of time.
    pub fn checked_add(self, d: SimTime) -> Option<SimTime> {
        self.0.checked_add(d.0).map(SimTime)
    }
    /// `self - earlier`, or `None` when `earlier` is later.
    pub fn checked_sub(self, earlier: SimTime) -> Option<SimTime> {
        self.0.checked_sub(earlier.0).map(SimTime)
    }
}

impl Add for SimTime {
    type Output = SimTime;
    #[inline]
    fn add(self, rhs: SimTime) -> SimTime {
        match self.0.checked_add(rhs.0) {
            Some(ns) => SimTime(ns),
            None => overflow("+", self, rhs),
        }
    }
}

impl AddAssign for SimTime {
    #[inline]
    fn add_assign(&mut self, rhs: SimTime) {
        *self = *self + rhs;
    }
}

impl Sub for SimTime {
    type Output = SimTime;
    #[inline]
    fn sub(self, rhs: SimTime) -> SimTime {
        match self.0.checked_sub(rhs.0) {
            Some(ns) => SimTime(ns),
            None => overflow("-", self, rhs),
        }
    }
}

#[cold]
#[inline(never)]
fn overflow(op: &str, a: SimTime, b: SimTime) -> ! {
    panic!(
        "simulated time arithmetic out of range: {} ns {op} {} ns (a bug: times must not wrap)",
        a.0, b.0
    )
}

/// Asserts that the times a component is handed never decrease: every state change happens
/// at its own event's time, and events are handled in time order. Checked in every build
/// (one compare per call).
#[derive(Clone, Copy, Debug, Default)]
pub struct MonotoneClock {
    last: SimTime,
}

impl MonotoneClock {
    /// Moves the clock to `now`; panics, naming `component`, when `now` is earlier than the
    /// last time seen.
    #[inline]
    pub fn advance(&mut self, now: SimTime, component: &str) {
        if now < self.last {
            went_back(component, now, self.last);
        }
        self.last = now;
    }

    /// The last time seen.
    pub fn last(&self) -> SimTime {
        self.last
    }
}

#[cold]
#[inline(never)]
fn went_back(component: &str, now: SimTime, last: SimTime) -> ! {
    panic!(
        "{component} was handed time {} ns after time {} ns: time went back (a causality bug)",
        now.0, last.0
    )
}

impl fmt::Display for SimTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.3}s", self.as_secs_f64())
    }
}

/// 2^63 as an f64: below it, the signed conversions give what the unsigned ones would.
const TWO_POW_63: f64 = 9_223_372_036_854_775_808.0;

/// `x as u64`, bit for bit, through the CPU's signed conversion while `x` is below 2^63
/// (x86-64 converts unsigned integers only with AVX-512; without it the cast is a dozen
/// instructions on a dependency chain, and service times and network delays convert on
/// every command). NaN and negatives give 0, 2^63 and above the cast itself.
#[inline]
pub fn f64_to_u64(x: f64) -> u64 {
    if x < TWO_POW_63 {
        (x as i64).max(0) as u64
    } else {
        x as u64
    }
}

/// `n as f64`, bit for bit, through the CPU's signed conversion while `n` is below 2^63 (see
/// [`f64_to_u64`]).
#[inline]
pub fn u64_to_f64(n: u64) -> f64 {
    if n < 1 << 63 {
        n as i64 as f64
    } else {
        n as f64
    }
}

/// `(ns as f64 * factor) as u64`, bit for bit (a service time or delay scaled by a factor).
#[inline]
pub fn scale_ns(ns: u64, factor: f64) -> u64 {
    f64_to_u64(u64_to_f64(ns) * factor)
}

/// `x.round().max(0.0) as u64`, bit for bit, without `f64::round` (a libm call on the baseline
/// x86-64 target; every arrival's time goes through it). Below 0.5 (NaN included) it is 0.
/// From 0.5 to 2^52, x + 0.5 is exact in x's binade (x's ulp divides 0.5) and, when it
/// reaches the next binade, lands at or above a whole number that is x rounded, so
/// truncating it rounds half away from zero. From 2^52 on, x is whole (or saturates).
#[inline]
pub fn round_to_u64(x: f64) -> u64 {
    const WHOLE_FROM: f64 = 4_503_599_627_370_496.0; // 2^52
    if !(x >= 0.5) {
        0
    } else if x < WHOLE_FROM {
        // Below 2^52 + 1: the signed conversion is exact (see `f64_to_u64`).
        (x + 0.5) as i64 as u64
    } else {
        x as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Floats where conversions and rounding change behaviour (NaN, infinities, signs, half
    /// integers, every power of two up to 2^64 with one ulp either side), and 200,000 random
    /// ones spread over 64 binades.
    fn edge_and_random_floats() -> Vec<f64> {
        let mut xs = vec![
            f64::NAN,
            f64::NEG_INFINITY,
            f64::INFINITY,
            f64::MAX,
            -1.5,
            -0.5,
            -0.0,
            0.0,
            f64::MIN_POSITIVE,
            0.49999999999999994,
            0.5,
            0.5000000000000001,
            0.9999999999999999,
            1.4999999999999998,
            1.5,
            2.5,
            3.4999999999999996,
            4_503_599_627_370_495.5,
            4_503_599_627_370_496.0,
            4_503_599_627_370_497.0,
            9_007_199_254_740_993.0,
            TWO_POW_63,
            1.8446744073709552e19,
            1e300,
        ];
        for e in 0..=64 {
            for base in [2f64.powi(e), 2f64.powi(e) - 0.5, 2f64.powi(e) + 0.5] {
                xs.extend([base, base.next_down(), base.next_up(), -base]);
            }
        }
        let mut state = 0x1234_5678_9ABC_DEF0u64;
        for _ in 0..200_000 {
            state = crate::engine::rng::mix64(state);
            let unit = (state >> 11) as f64 / (1u64 << 53) as f64;
            xs.push(unit * 2f64.powi((state % 64) as i32));
        }
        xs
    }

    #[test]
    fn round_to_u64_is_libm_round_bit_for_bit() {
        for x in edge_and_random_floats() {
            let expected = x.round().max(0.0) as u64;
            assert_eq!(round_to_u64(x), expected, "x = {x:e}");
        }
    }

    #[test]
    fn signed_conversions_give_the_unsigned_casts_bit_for_bit() {
        for x in edge_and_random_floats() {
            assert_eq!(f64_to_u64(x), x as u64, "x = {x:e}");
        }
        let mut ns = vec![0, 1, u64::MAX, u64::MAX - 1, 1 << 53, (1 << 53) + 1];
        for e in 0..64 {
            let p = 1u64 << e;
            ns.extend([p - 1, p, p + 1, p | (p >> 1) | 1]);
        }
        let mut state = 0x0FED_CBA9_8765_4321u64;
        for _ in 0..200_000 {
            state = crate::engine::rng::mix64(state);
            ns.push(state >> (state % 64));
        }
        let factors = [0.0, 0.5, 1.0, 1.3, 2.0, 7.25, 1e-3, 1e6];
        for (i, &n) in ns.iter().enumerate() {
            assert_eq!(u64_to_f64(n).to_bits(), (n as f64).to_bits(), "n = {n}");
            let factor = factors[i % factors.len()];
            assert_eq!(
                scale_ns(n, factor),
                (n as f64 * factor) as u64,
                "{n} x {factor}"
            );
        }
    }

    #[test]
    #[should_panic(expected = "out of range")]
    fn subtraction_below_zero_panics_in_every_build() {
        let _ = SimTime::from_ns(1) - SimTime::from_ns(2);
    }

    #[test]
    #[should_panic(expected = "out of range")]
    fn addition_past_the_end_of_time_panics() {
        let _ = SimTime::MAX + SimTime::from_ns(1);
    }

    #[test]
    fn saturating_and_checked_forms_do_not_panic() {
        assert_eq!(SimTime::MAX.saturating_add(SimTime(5)), SimTime::MAX);
        assert_eq!(SimTime(1).saturating_sub(SimTime(5)), SimTime::ZERO);
        assert_eq!(SimTime::MAX.checked_add(SimTime(1)), None);
        assert_eq!(SimTime(1).checked_sub(SimTime(2)), None);
        assert_eq!(SimTime(7) - SimTime(2), SimTime(5));
    }

    #[test]
    #[should_panic(expected = "time went back")]
    fn a_monotone_clock_refuses_an_earlier_time() {
        let mut c = MonotoneClock::default();
        c.advance(SimTime(10), "origin");
        c.advance(SimTime(10), "origin");
        c.advance(SimTime(9), "origin");
    }
}
