//! Leases (memcache's, "Scaling Memcache at Facebook", NSDI 2013, §3.2.1) on Redis: the first
//! reader that misses takes the key's lease, the others wait for the holder's value or are
//! served a stale copy, and only the lease holder may write the value back, and only while
//! it still holds the lease, so a write-back that an invalidation overtook is refused
//! (no stale set).
//!
//! The Redis commands a client would send, as modelled:
//! - a miss: `SET lease:{key} <token> NX PX lease_ttl` (`Step::TakeLock`; the lease key has
//!   the value key's hash tag, so both live on one shard);
//! - the others: `GET key` every `poll` (`Step::Poll`) until `max_wait`; past it they load
//!   without a lease and answer, but never write back (`Step::LoadAfterWaiting`);
//! - the holder's write-back, a script: `if GET lease:{key} == <token> then SET key value PX
//!   ttl; DEL lease:{key} end` ([`Leases::holds`] with the lease key live in the shard; when
//!   the lease was deleted, expired or taken again by another reader, the script only reads
//!   the lease key);
//! - an invalidation (`DEL` on a delete-on-event) removes the value and its lease.
//!
//! With `stale = "serve"` the value is written with `stale_ttl` more in Redis than its
//! logical TTL (`PX ttl + stale_ttl`), its envelope recording the hard expiry: a hit past the
//! logical expiry is a stale copy, served at once while one reader reloads it in the
//! background behind the lease (`SET lease NX PX`, as memcache serves a stale item to the
//! readers that did not get the lease; here the reader that takes it is served the stale copy
//! too). A stale copy is never served more than `stale_ttl` after its logical expiry, and an
//! invalidation deletes it. With `stale = "wait"` nothing is kept past the TTL.
//!
//! Stampede: one load per expiry while the lease outlives the load (cache-aside's is
//! 1 + λ·δ for requests at rate λ and a load of δ).

use super::envelope::ValueMeta;
use super::single_flight::SingleFlight;
use super::step::{Happened, Step};
use crate::engine::{IdMap, SimTime};
use crate::scenario::LeaseStale;

/// The lease strategy's parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Lease {
    /// How a reader takes the lease and waits for its holder: as single-flight takes and
    /// waits for its lock (`lock_ttl` is the lease's TTL).
    pub wait: SingleFlight,
    /// Wait for the holder, or serve a stale copy.
    pub stale: LeaseStale,
}

impl Lease {
    /// Hit past the logical expiry (a stale copy, `stale = "serve"`): answer stale and
    /// reload behind the lease. Otherwise as single-flight: a miss takes the lease, its holder
    /// loads (the write-back is guarded by it), the others poll until `max_wait`.
    pub fn next(&self, happened: Happened) -> Step {
        match happened {
            Happened::Hit {
                now,
                envelope: Some(m),
            } if self.is_stale(now, &m) => Step::AnswerAndRefresh {
                stale: true,
                behind_lock: true,
            },
            _ => self.wait.next(happened),
        }
    }

    /// A value found at `now` with envelope `m` is a stale copy: past its logical expiry
    /// (the hard expiry less the stale TTL).
    fn is_stale(&self, now: SimTime, m: &ValueMeta) -> bool {
        match self.stale {
            LeaseStale::Wait => false,
            LeaseStale::Serve { stale_ttl } => now > m.expiry.saturating_sub(stale_ttl),
        }
    }

    /// How long a written value is kept in Redis past its TTL, ms (the stale copy).
    pub fn kept_stale_ms(&self) -> u64 {
        match self.stale {
            LeaseStale::Wait => 0,
            LeaseStale::Serve { stale_ttl } => stale_ttl.as_ms(),
        }
    }
}

/// The leases a keyspace's readers were granted: per lease key, the token Redis holds (the
/// value of the last `SET lease NX` that succeeded). Whether the lease key still exists is
/// the shard's to say; this says whose it is.
#[derive(Default)]
pub struct Leases {
    tokens: IdMap<u64, u64>,
    last_token: u64,
}

impl Leases {
    /// `SET lease NX` succeeded on `lease_id`: the new token it holds (never 0, the token of
    /// a reader without a lease).
    pub fn grant(&mut self, lease_id: u64) -> u64 {
        self.last_token += 1;
        self.tokens.insert(lease_id, self.last_token);
        self.last_token
    }

    /// The lease key `lease_id`, if it still exists, holds `token`.
    pub fn holds(&self, lease_id: u64, token: u64) -> bool {
        token != 0 && self.tokens.get(&lease_id) == Some(&token)
    }

    /// The holder's write-back deleted lease key `lease_id`.
    pub fn released(&mut self, lease_id: u64) {
        self.tokens.remove(&lease_id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lease(stale: LeaseStale) -> Lease {
        Lease {
            wait: SingleFlight {
                lock_ttl: SimTime::from_secs(5),
                poll: SimTime::from_ms(20),
                max_wait: SimTime::from_ms(100),
            },
            stale,
        }
    }

    #[test]
    fn a_miss_takes_the_lease_and_the_others_wait_until_max_wait() {
        let s = lease(LeaseStale::Wait);
        assert_eq!(s.next(Happened::Miss), Step::TakeLock);
        let locked = |acquired, ms| Happened::Locked {
            acquired,
            waited: SimTime::from_ms(ms),
        };
        assert_eq!(s.next(locked(true, 1)), Step::LoadHoldingLock);
        assert_eq!(
            s.next(locked(false, 1)),
            Step::Poll {
                after: SimTime::from_ms(20)
            }
        );
        let polled = |ms| Happened::PollMissed {
            waited: SimTime::from_ms(ms),
        };
        assert_eq!(
            s.next(polled(80)),
            Step::Poll {
                after: SimTime::from_ms(20)
            }
        );
        assert_eq!(s.next(polled(81)), Step::LoadAfterWaiting);
        assert_eq!(s.kept_stale_ms(), 0);
    }

    #[test]
    fn a_stale_copy_is_served_only_past_the_logical_expiry() {
        let stale_ttl = SimTime::from_secs(10);
        let s = lease(LeaseStale::Serve { stale_ttl });
        assert_eq!(s.kept_stale_ms(), 10_000);
        // Written at 0 with a TTL of 60 s: Redis keeps it 70 s.
        let envelope = Some(ValueMeta {
            soft_expiry: SimTime::from_secs(60),
            expiry: SimTime::from_secs(70),
            delta: SimTime::from_ms(50),
        });
        let hit = |now| Happened::Hit { now, envelope };
        assert_eq!(s.next(hit(SimTime::from_secs(60))), Step::Answer);
        assert_eq!(
            s.next(hit(SimTime::from_ms(60_001))),
            Step::AnswerAndRefresh {
                stale: true,
                behind_lock: true
            }
        );
        // Waiting never serves what it does not keep.
        let wait = lease(LeaseStale::Wait);
        assert_eq!(wait.next(hit(SimTime::from_ms(69_000))), Step::Answer);
    }

    #[test]
    fn only_the_current_token_holds_the_lease() {
        let mut l = Leases::default();
        let first = l.grant(7);
        assert!(l.holds(7, first));
        assert!(!l.holds(7, 0), "a reader without a lease");
        // The lease expired or was deleted, and another reader took it again.
        let second = l.grant(7);
        assert!(!l.holds(7, first));
        assert!(l.holds(7, second));
        l.released(7);
        assert!(!l.holds(7, second));
    }
}
