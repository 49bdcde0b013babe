//! Stale-while-revalidate: the value's envelope carries a soft expiry; a hit past it is
//! served (stale) and one background refresh, behind a Redis lock, reloads it. The Redis TTL
//! is the hard expiry: a miss loads as cache-aside does.

use super::step::{Happened, Step};
use crate::engine::SimTime;

/// Stale-while-revalidate's parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StaleWhileRevalidate {
    /// Soft TTL (shorter than the keyspace's TTL, the hard one).
    pub soft_ttl: SimTime,
    /// Lock TTL of the background refresh.
    pub lock_ttl: SimTime,
}

impl StaleWhileRevalidate {
    /// Hit past the soft expiry: answer stale and refresh behind the lock. Miss: load.
    pub fn next(&self, happened: Happened) -> Step {
        match happened {
            Happened::Hit {
                now,
                envelope: Some(m),
            } if now > m.soft_expiry => Step::AnswerAndRefresh {
                stale: true,
                behind_lock: true,
            },
            Happened::Hit { .. } => Step::Answer,
            Happened::Miss | Happened::Locked { .. } | Happened::PollMissed { .. } => Step::Load,
        }
    }
}
