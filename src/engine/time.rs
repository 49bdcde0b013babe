//! Simulated time: a `u64` count of nanoseconds since the start of a run. Never the wall clock.

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
}

impl Add for SimTime {
    type Output = SimTime;
    fn add(self, rhs: SimTime) -> SimTime {
        SimTime(self.0 + rhs.0)
    }
}

impl AddAssign for SimTime {
    fn add_assign(&mut self, rhs: SimTime) {
        self.0 += rhs.0;
    }
}

impl Sub for SimTime {
    type Output = SimTime;
    fn sub(self, rhs: SimTime) -> SimTime {
        SimTime(self.0 - rhs.0)
    }
}

impl fmt::Display for SimTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.3}s", self.as_secs_f64())
    }
}
