//! Single-flight with a Redis lock: on a miss take `SET lock NX PX`; the holder loads and
//! SETs; the others poll with GET every `poll` until `max_wait`, then load themselves.

use super::step::{Happened, Step};
use crate::engine::SimTime;

/// Single-flight's parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SingleFlight {
    /// Lock TTL (PX).
    pub lock_ttl: SimTime,
    /// Wait between polls.
    pub poll: SimTime,
    /// Longest wait before loading from the origin without the lock.
    pub max_wait: SimTime,
}

impl SingleFlight {
    /// Miss: take the lock. Lock taken: load. Lock held by another, or a poll that found
    /// nothing: poll again, unless the next poll would pass `max_wait`.
    pub fn next(&self, happened: Happened) -> Step {
        match happened {
            Happened::Miss => Step::TakeLock,
            Happened::Locked { acquired: true, .. } => Step::LoadHoldingLock,
            Happened::Locked { waited, .. } | Happened::PollMissed { waited } => {
                if waited + self.poll > self.max_wait {
                    Step::LoadAfterWaiting
                } else {
                    Step::Poll { after: self.poll }
                }
            }
            Happened::Hit { .. } => Step::Answer,
        }
    }
}
