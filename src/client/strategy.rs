//! The read strategies behind one interface: what a reader does around the cache, as a closed
//! enum (`Strategy`) of strategy types, each in its own file with one method, `next`, that
//! turns what just happened to a request (`Happened`) into its next step (`Step`). `sim`
//! drives requests and owns time; it carries out the steps and never asks which strategy it
//! runs. Adding a strategy: a file with its type and `next`, a variant here (see
//! ARCHITECTURE.md, "Add a read strategy").
//!
//! Must not: schedule events, touch shards or count anything (`sim` counts from the steps).

use super::cache_aside::CacheAside;
use super::lease::Lease;
use super::refresh_ahead::RefreshAhead;
use super::single_flight::SingleFlight;
use super::stale_while_revalidate::StaleWhileRevalidate;
use super::step::{Happened, Step};
use super::xfetch::XFetch;
use crate::engine::{RngStream, SimTime};
use crate::scenario::StrategyKind;

/// One keyspace's read strategy.
#[derive(Clone, Debug, PartialEq)]
pub enum Strategy {
    /// Cache-aside.
    CacheAside(CacheAside),
    /// Single-flight with a Redis lock.
    SingleFlight(SingleFlight),
    /// Stale-while-revalidate.
    StaleWhileRevalidate(StaleWhileRevalidate),
    /// XFetch (probabilistic early recomputation).
    XFetch(XFetch),
    /// Refresh-ahead (background refresh in the last part of the TTL).
    RefreshAhead(RefreshAhead),
    /// Leases (memcache's): one reader loads, the others wait or get a stale copy; only the
    /// lease holder writes back, and only while it holds the lease.
    Lease(Lease),
}

impl Strategy {
    /// The strategy of a resolved scenario's kind.
    pub fn of(kind: &StrategyKind) -> Strategy {
        match *kind {
            StrategyKind::CacheAside => Strategy::CacheAside(CacheAside),
            StrategyKind::SingleFlight {
                lock_ttl,
                poll,
                max_wait,
            } => Strategy::SingleFlight(SingleFlight {
                lock_ttl,
                poll,
                max_wait,
            }),
            StrategyKind::StaleWhileRevalidate { soft_ttl, lock_ttl } => {
                Strategy::StaleWhileRevalidate(StaleWhileRevalidate { soft_ttl, lock_ttl })
            }
            StrategyKind::XFetch { beta } => Strategy::XFetch(XFetch { beta }),
            StrategyKind::RefreshAhead { fraction, lock_ttl } => {
                Strategy::RefreshAhead(RefreshAhead { fraction, lock_ttl })
            }
            StrategyKind::Lease {
                lease_ttl,
                poll,
                max_wait,
                stale,
            } => Strategy::Lease(Lease {
                wait: SingleFlight {
                    lock_ttl: lease_ttl,
                    poll,
                    max_wait,
                },
                stale,
            }),
        }
    }

    /// The next step after `happened` (`rng`: the keyspace's client stream, for strategies
    /// that draw).
    #[inline]
    pub fn next(&self, happened: Happened, rng: &mut RngStream) -> Step {
        match self {
            Strategy::CacheAside(s) => s.next(happened),
            Strategy::SingleFlight(s) => s.next(happened),
            Strategy::StaleWhileRevalidate(s) => s.next(happened),
            Strategy::XFetch(s) => s.next(happened, rng),
            Strategy::RefreshAhead(s) => s.next(happened),
            Strategy::Lease(s) => s.next(happened),
        }
    }

    /// The soft TTL the value's envelope records when written with base TTL `ttl` (None: the
    /// strategy keeps no envelope).
    pub fn soft_ttl(&self, ttl: SimTime) -> Option<SimTime> {
        match self {
            Strategy::StaleWhileRevalidate(s) => Some(s.soft_ttl),
            Strategy::XFetch(_) => Some(ttl),
            Strategy::RefreshAhead(s) => Some(s.soft_ttl(ttl)),
            // The logical TTL; the lease reads the hard expiry less its stale TTL.
            Strategy::Lease(s) => (s.kept_stale_ms() > 0).then_some(ttl),
            Strategy::CacheAside(_) | Strategy::SingleFlight(_) => None,
        }
    }

    /// The TTL of the strategy's Redis lock (PX), ms.
    pub fn lock_ttl_ms(&self) -> u64 {
        match self {
            Strategy::SingleFlight(s) => s.lock_ttl.as_ms(),
            Strategy::StaleWhileRevalidate(s) => s.lock_ttl.as_ms(),
            Strategy::RefreshAhead(s) => s.lock_ttl.as_ms(),
            Strategy::Lease(s) => s.wait.lock_ttl.as_ms(),
            // Never taken; the value Redis clients commonly use.
            Strategy::CacheAside(_) | Strategy::XFetch(_) => 5_000,
        }
    }

    /// Only the holder of the refill lock may write the value back, and only while it holds
    /// it (a lease): the write-back is a script that checks the lock's token, sets the value
    /// and deletes the lock, so no separate release follows it.
    pub fn write_back_needs_lock(&self) -> bool {
        matches!(self, Strategy::Lease(_))
    }

    /// How long a written value is kept in Redis past its TTL, ms (a lease's stale copy).
    pub fn kept_stale_ms(&self) -> u64 {
        match self {
            Strategy::Lease(s) => s.kept_stale_ms(),
            _ => 0,
        }
    }
}
