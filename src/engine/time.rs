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
        SimTime((s * NS_PER_S as f64).round().max(0.0) as u64)
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
        self.0 as f64 / NS_PER_S as f64
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

#[cfg(test)]
mod tests {
    use super::*;

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
