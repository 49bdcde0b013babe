//! A client-side circuit breaker in front of Redis, per application instance and cluster.

use crate::engine::SimTime;

/// A circuit breaker: opens after `threshold` consecutive failures, stays open for
/// `open_for`, then lets one probe through (half-open); a success closes it.
#[derive(Clone, Debug, Default)]
pub struct Breaker {
    failures: u32,
    open_until: Option<SimTime>,
}

impl Breaker {
    /// Whether a call may go to Redis at `now` (closed, or half-open after the open period).
    pub fn allows(&self, now: SimTime) -> bool {
        self.open_until.is_none_or(|t| now >= t)
    }

    /// Records a call's outcome at `now`. Returns true when this failure opened the breaker.
    pub fn record(&mut self, now: SimTime, ok: bool, threshold: u32, open_for: SimTime) -> bool {
        if ok {
            self.failures = 0;
            self.open_until = None;
            return false;
        }
        self.failures += 1;
        if self.failures >= threshold {
            self.failures = 0;
            self.open_until = Some(now + open_for);
            return true;
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn breaker_opens_and_half_opens() {
        let mut b = Breaker::default();
        let t = SimTime::from_secs(1);
        let open = SimTime::from_secs(10);
        assert!(!b.record(t, false, 3, open));
        assert!(!b.record(t, false, 3, open));
        assert!(b.record(t, false, 3, open));
        assert!(!b.allows(t + SimTime::from_secs(5)));
        assert!(b.allows(t + SimTime::from_secs(10)));
        b.record(t + SimTime::from_secs(10), true, 3, open);
        assert!(b.allows(t + SimTime::from_secs(10)));
    }
}
