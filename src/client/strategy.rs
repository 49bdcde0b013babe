//! The read strategies behind one interface: what a reader does around the cache, as a closed
//! enum (`Strategy`) of strategy types, each in its own file with one method, `next`, that
//! turns what just happened to a request (`Happened`) into its next step (`Step`). `sim`
//! drives requests and owns time; it carries out the steps and never asks which strategy it
//! runs. Adding a strategy: a file with its type and `next`, a variant here (see
//! ARCHITECTURE.md, "Add a read strategy").
//!
//! Must not: schedule events, touch shards or count anything (`sim` counts from the steps).

use super::cache_aside::CacheAside;
use super::envelope::ValueMeta;
use super::single_flight::SingleFlight;
use super::stale_while_revalidate::StaleWhileRevalidate;
use super::xfetch::XFetch;
use crate::engine::{RngStream, SimTime};
use crate::scenario::StrategyKind;

/// What just happened to a user request, as its read strategy sees it.
#[derive(Clone, Copy, Debug)]
pub enum Happened {
    /// The first GET found nothing.
    Miss,
    /// The reply to the refill lock (`SET lock NX PX`) taken after a miss, `waited` after the
    /// request began waiting for it.
    Locked {
        /// Whether the lock was taken.
        acquired: bool,
        /// How long the request has waited for the value so far.
        waited: SimTime,
    },
    /// A GET made after waiting for a lock holder found nothing, `waited` after the request
    /// began waiting.
    PollMissed {
        /// How long the request has waited for the value so far.
        waited: SimTime,
    },
    /// A GET found the value at `now`; its envelope when the application keeps one.
    Hit {
        /// When the reply reached the client.
        now: SimTime,
        /// The value's envelope (soft expiry, delta), if written by a strategy that keeps one.
        envelope: Option<ValueMeta>,
    },
}

/// The next step of a user request, decided by its read strategy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// Load from the origin and write back.
    Load,
    /// Take the refill lock (`SET lock NX PX`) before loading.
    TakeLock,
    /// The refill lock is held: load from the origin, write back, release the lock.
    LoadHoldingLock,
    /// Wait for the lock holder: GET the value again `after` from now.
    Poll {
        /// Wait before the next GET.
        after: SimTime,
    },
    /// Waited too long for a lock holder: load from the origin without the lock.
    LoadAfterWaiting,
    /// Answer with the value found.
    Answer,
    /// Answer with the value found and refresh it in the background.
    AnswerAndRefresh {
        /// The value served is past its soft expiry (stale).
        stale: bool,
        /// The refresh first takes a Redis lock so that one instance refreshes.
        behind_lock: bool,
    },
}

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
        }
    }

    /// The soft TTL the value's envelope records when written with base TTL `ttl` (None: the
    /// strategy keeps no envelope).
    pub fn soft_ttl(&self, ttl: SimTime) -> Option<SimTime> {
        match self {
            Strategy::StaleWhileRevalidate(s) => Some(s.soft_ttl),
            Strategy::XFetch(_) => Some(ttl),
            Strategy::CacheAside(_) | Strategy::SingleFlight(_) => None,
        }
    }

    /// The TTL of the strategy's Redis lock (PX), ms.
    pub fn lock_ttl_ms(&self) -> u64 {
        match self {
            Strategy::SingleFlight(s) => s.lock_ttl.as_ms(),
            Strategy::StaleWhileRevalidate(s) => s.lock_ttl.as_ms(),
            // Never taken; the value Redis clients commonly use.
            Strategy::CacheAside(_) | Strategy::XFetch(_) => 5_000,
        }
    }
}
