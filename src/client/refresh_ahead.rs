//! Refresh-ahead (Caffeine's `refreshAfterWrite`): a hit that finds less than
//! `refresh_ahead_fraction` of the value's TTL left answers at once with the value, still
//! fresh, and refreshes it in the background; a Redis lock (`SET lock NX PX`) lets one
//! instance refresh while the others go on answering. A miss loads as cache-aside does.
//!
//! With requests at rate λ on a key of TTL T written at 0, the refresh starts at the first
//! hit after (1 − f)·T; the value stays in Redis while the reload runs, so no reader misses
//! and the key's stampede is one load per TTL, as long as a hit lands in the last f·T
//! (probability 1 − e^(−λ·f·T)) and the reload ends before the hard expiry.

use super::envelope::ValueMeta;
use super::step::{Happened, Step};
use crate::engine::SimTime;

/// Refresh-ahead's parameters.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RefreshAhead {
    /// Refresh once less than this fraction of the TTL is left (0 < f < 1).
    pub fraction: f64,
    /// Lock TTL of the background refresh.
    pub lock_ttl: SimTime,
}

impl RefreshAhead {
    /// The soft TTL recorded in the value's envelope: the part of `ttl` after which a hit
    /// refreshes.
    pub fn soft_ttl(&self, ttl: SimTime) -> SimTime {
        SimTime::from_secs_f64(ttl.as_secs_f64() * (1.0 - self.fraction))
    }

    /// Hit past the soft TTL: answer (fresh) and refresh behind the lock. Miss: load.
    pub fn next(&self, happened: Happened) -> Step {
        match happened {
            Happened::Hit {
                now,
                envelope: Some(ValueMeta { soft_expiry, .. }),
            } if now > soft_expiry => Step::AnswerAndRefresh {
                stale: false,
                behind_lock: true,
            },
            Happened::Hit { .. } => Step::Answer,
            Happened::Miss | Happened::Locked { .. } | Happened::PollMissed { .. } => Step::Load,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refreshes_once_less_than_the_fraction_is_left() {
        let s = RefreshAhead {
            fraction: 0.25,
            lock_ttl: SimTime::from_secs(5),
        };
        let ttl = SimTime::from_secs(60);
        assert_eq!(s.soft_ttl(ttl), SimTime::from_secs(45));
        let envelope = Some(ValueMeta {
            soft_expiry: s.soft_ttl(ttl),
            expiry: ttl,
            delta: SimTime::from_ms(50),
        });
        let hit = |now| Happened::Hit { now, envelope };
        assert_eq!(s.next(hit(SimTime::from_secs(45))), Step::Answer);
        assert_eq!(
            s.next(hit(SimTime::from_secs(46))),
            Step::AnswerAndRefresh {
                stale: false,
                behind_lock: true
            }
        );
        assert_eq!(s.next(Happened::Miss), Step::Load);
    }
}
