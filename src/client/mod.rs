//! The application side: what each application instance keeps in process (a local L1 cache,
//! in-flight loads for coalescing, a circuit breaker per cluster), the value metadata a
//! strategy reads from a cached value (soft expiry, XFetch's delta), and the stampede tracker
//! that counts recomputations per expiry of a key. Pure state; `sim` drives it.

use crate::engine::IdMap;
use crate::engine::{RngStream, SimTime};
use crate::replay::exact::LruCache;
use crate::workload::trace::TraceRequest;

/// XFetch's test (Vattani, Chierichetti, Lowenstein, VLDB 2015): recompute early when
/// `now - delta * beta * ln(u) >= expiry`, u uniform in (0, 1].
pub fn xfetch_recompute(
    now: SimTime,
    delta: SimTime,
    beta: f64,
    expiry: SimTime,
    rng: &mut RngStream,
) -> bool {
    let gap_ns = -(delta.as_ns() as f64) * beta * rng.next_f64_open0().ln();
    now.as_ns() as f64 + gap_ns >= expiry.as_ns() as f64
}

/// A per-instance local cache (exact LRU of keys, TTL in whole seconds rounded up).
pub struct LocalCache {
    lru: LruCache,
    ttl_s: u32,
}

impl LocalCache {
    /// A local cache of `capacity_keys` keys whose copies live `ttl`.
    pub fn new(capacity_keys: u64, ttl: SimTime) -> LocalCache {
        LocalCache {
            lru: LruCache::new(capacity_keys, true),
            ttl_s: ttl.as_ns().div_ceil(1_000_000_000).max(1) as u32,
        }
    }

    /// True when `key_id` holds a live copy at `now`.
    pub fn get(&mut self, key_id: u64, now: SimTime) -> bool {
        self.lru.lookup(key_id, now.as_ms())
    }

    /// Stores a copy of `key_id` fetched at `now`.
    pub fn put(&mut self, key_id: u64, now: SimTime) {
        let req = TraceRequest {
            obj_id: key_id,
            obj_size: 1,
            value_size: 1,
            ttl_s: self.ttl_s,
            ..TraceRequest::default()
        };
        self.lru.insert(&req, now.as_ms());
    }
}

/// A client-side circuit breaker: opens after `threshold` consecutive failures, stays open for
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

/// What the application wrote inside a cached value (its envelope): when it was computed,
/// its soft and hard expiry, and how long the recompute took.
#[derive(Clone, Copy, Debug)]
pub struct ValueMeta {
    /// Soft expiry (stale-while-revalidate).
    pub soft_expiry: SimTime,
    /// Hard expiry (the Redis TTL).
    pub expiry: SimTime,
    /// Duration of the recompute that produced it (XFetch's delta).
    pub delta: SimTime,
}

/// Counts recomputations per expiry of a key: an episode opens at the first origin load of a
/// key with no episode open, every further load of that key joins it, and the write-back that
/// lands in Redis closes it, recording its size.
#[derive(Default)]
pub struct StampedeTracker {
    open: IdMap<u64, u32>,
}

impl StampedeTracker {
    /// A load of `key_id` starts.
    pub fn load_started(&mut self, key_id: u64) {
        *self.open.entry(key_id).or_insert(0) += 1;
    }

    /// The value of `key_id` was written; returns the closed episode's size.
    pub fn written(&mut self, key_id: u64) -> Option<u32> {
        self.open.remove(&key_id)
    }
}

/// In-process coalescing: the loads in flight per (instance, key), with the requests waiting
/// for each.
#[derive(Default)]
pub struct Coalescer {
    in_flight: IdMap<(u32, u64), Vec<u32>>,
}

impl Coalescer {
    /// Registers `req` for `key_id` in `instance`: true when it leads (no load in flight);
    /// false when it joined one and must wait.
    pub fn join(&mut self, instance: u32, key_id: u64, req: u32) -> bool {
        match self.in_flight.get_mut(&(instance, key_id)) {
            Some(waiters) => {
                waiters.push(req);
                false
            }
            None => {
                self.in_flight.insert((instance, key_id), Vec::new());
                true
            }
        }
    }

    /// The leader's fetch finished: returns the requests that waited for it.
    pub fn finish(&mut self, instance: u32, key_id: u64) -> Vec<u32> {
        self.in_flight
            .remove(&(instance, key_id))
            .unwrap_or_default()
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

    #[test]
    fn xfetch_probability_matches_its_closed_form() {
        // P(recompute) = P(-ln u >= (expiry - now) / (delta beta)) = exp(-(expiry-now)/(delta beta)).
        let mut rng = RngStream::new(3, 3);
        let (delta, beta) = (SimTime::from_ms(100), 1.0);
        let expiry = SimTime::from_secs(10);
        let now = expiry - SimTime::from_ms(150);
        let n = 200_000;
        let hits = (0..n)
            .filter(|_| xfetch_recompute(now, delta, beta, expiry, &mut rng))
            .count();
        let p = hits as f64 / n as f64;
        let want = (-1.5f64).exp();
        assert!((p - want).abs() < 0.005, "{p} vs {want}");
    }

    #[test]
    fn coalescer_and_stampede_tracker() {
        let mut c = Coalescer::default();
        assert!(c.join(0, 7, 1));
        assert!(!c.join(0, 7, 2));
        assert!(c.join(1, 7, 3));
        assert_eq!(c.finish(0, 7), vec![2]);
        let mut s = StampedeTracker::default();
        s.load_started(7);
        s.load_started(7);
        assert_eq!(s.written(7), Some(2));
        assert_eq!(s.written(7), None);
    }

    #[test]
    fn local_cache_ttl() {
        let mut l = LocalCache::new(2, SimTime::from_ms(1500));
        l.put(1, SimTime::ZERO);
        assert!(l.get(1, SimTime::from_ms(1999)));
        assert!(!l.get(1, SimTime::from_ms(2001)));
    }
}

/// What the application knows of one actor's rate-limit state: the same arithmetic the Redis
/// commands perform, kept client-side so the simulator knows the collection's size and whether
/// the request is admitted (`rate_limit_per_window`).
#[derive(Clone, Debug)]
enum ActorWindow {
    Fixed {
        window_id: u64,
        count: u64,
    },
    Sliding {
        times_ms: std::collections::VecDeque<u64>,
    },
    Bucket {
        tokens: f64,
        last_ms: u64,
    },
}

/// Rate limiters of one keyspace: one state per actor, in a dense array indexed by the
/// actor's number (its tenant's offset plus its popularity rank), so the simulator can fetch
/// an actor's line ahead of its request (`prefetch`); it costs 40 bytes per actor of the
/// keyspace (its popularity table costs 8 per rank already). Each state remembers the Redis key it
/// belongs to: a new key (a new version, or a fixed window's next window) starts afresh, as
/// a new Redis key would.
pub struct RateLimiters {
    actors: Vec<Option<(u64, ActorWindow)>>,
}

/// The outcome of one rate-limited request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Admission {
    /// Whether the request is within the limit.
    pub allowed: bool,
    /// Entries the actor's window holds after the request (the sorted set's size; the counter
    /// value for a fixed window; 1 for a token bucket).
    pub entries: u64,
}

impl RateLimiters {
    /// Limiters for `actors` actors, numbered `0..actors`.
    pub fn new(actors: usize) -> RateLimiters {
        RateLimiters {
            actors: vec![None; actors],
        }
    }

    /// Hints the CPU to load actor `actor`'s state (it must be `< actors`).
    #[inline]
    pub fn prefetch(&self, actor: usize) {
        if let Some(state) = self.actors.get(actor) {
            // A 40-byte state may straddle two cache lines.
            crate::engine::prefetch_span(state);
        }
    }

    /// Reads actor `actor`'s state (best prefetched already) and hints the CPU to load both
    /// ends of its sliding window, where the next admission pops and pushes.
    #[inline]
    pub fn prefetch_window(&self, actor: usize) {
        if let Some(Some((_, ActorWindow::Sliding { times_ms }))) = self.actors.get(actor) {
            if let Some(front) = times_ms.front() {
                crate::engine::prefetch(front);
            }
            if let Some(back) = times_ms.back() {
                crate::engine::prefetch(back);
            }
        }
    }

    /// Admits (or not) a request of actor number `actor`, whose Redis key is `key_id`, at
    /// `now_ms` under `algorithm` with `limit` requests per `window_ms` (no limit: always
    /// allowed).
    pub fn admit(
        &mut self,
        actor: usize,
        key_id: u64,
        now_ms: u64,
        window_ms: u64,
        limit: Option<u32>,
        algorithm: crate::scenario::RateLimitAlgorithm,
    ) -> Admission {
        use crate::scenario::RateLimitAlgorithm as A;
        let max = limit.map_or(u64::MAX, u64::from);
        let slot = &mut self.actors[actor];
        if !matches!(slot, Some((k, _)) if *k == key_id) {
            let fresh = match algorithm {
                A::FixedWindow => ActorWindow::Fixed {
                    window_id: now_ms / window_ms,
                    count: 0,
                },
                A::SlidingWindow => ActorWindow::Sliding {
                    times_ms: Default::default(),
                },
                A::TokenBucket => ActorWindow::Bucket {
                    tokens: max.min(u32::MAX as u64) as f64,
                    last_ms: now_ms,
                },
            };
            *slot = Some((key_id, fresh));
        }
        let Some((_, state)) = slot else {
            unreachable!("the slot was filled above")
        };
        match state {
            ActorWindow::Fixed { window_id, count } => {
                if *window_id != now_ms / window_ms {
                    *window_id = now_ms / window_ms;
                    *count = 0;
                }
                *count += 1; // INCR counts refused requests too
                Admission {
                    allowed: *count <= max,
                    entries: *count,
                }
            }
            ActorWindow::Sliding { times_ms } => {
                while times_ms.front().is_some_and(|&t| t + window_ms <= now_ms) {
                    times_ms.pop_front(); // ZREMRANGEBYSCORE -inf (now - window)
                }
                let allowed = (times_ms.len() as u64) < max;
                if allowed {
                    times_ms.push_back(now_ms); // ZADD only when admitted
                }
                Admission {
                    allowed,
                    entries: times_ms.len() as u64,
                }
            }
            ActorWindow::Bucket { tokens, last_ms } => {
                if limit.is_some() {
                    let refill = (now_ms - *last_ms) as f64 * max as f64 / window_ms as f64;
                    *tokens = (*tokens + refill).min(max as f64);
                }
                *last_ms = now_ms;
                let allowed = limit.is_none() || *tokens >= 1.0;
                if allowed && limit.is_some() {
                    *tokens -= 1.0;
                }
                Admission {
                    allowed,
                    entries: 1,
                }
            }
        }
    }
}

#[cfg(test)]
mod rate_limit_tests {
    use super::*;
    use crate::scenario::RateLimitAlgorithm as A;

    #[test]
    fn fixed_window_resets_each_window() {
        let mut r = RateLimiters::new(1);
        let a: Vec<bool> = [0, 10, 20, 1_000, 1_010]
            .iter()
            .map(|&t| r.admit(0, 1, t, 1_000, Some(2), A::FixedWindow).allowed)
            .collect();
        assert_eq!(a, [true, true, false, true, true]);
    }

    #[test]
    fn sliding_window_counts_the_last_window() {
        let mut r = RateLimiters::new(1);
        let a: Vec<(bool, u64)> = [0, 400, 800, 1_000, 1_399, 1_400]
            .iter()
            .map(|&t| {
                let x = r.admit(0, 1, t, 1_000, Some(2), A::SlidingWindow);
                (x.allowed, x.entries)
            })
            .collect();
        assert_eq!(
            a,
            [
                (true, 1),
                (true, 2),
                (false, 2),
                (true, 2),
                (false, 2),
                (true, 2)
            ]
        );
    }

    #[test]
    fn an_actor_state_is_40_bytes() {
        assert_eq!(std::mem::size_of::<Option<(u64, ActorWindow)>>(), 40);
    }

    #[test]
    fn a_new_key_of_the_same_actor_starts_afresh() {
        let mut r = RateLimiters::new(2);
        for t in [0, 1] {
            assert!(r.admit(1, 7, t, 1_000, Some(2), A::SlidingWindow).allowed);
        }
        assert!(!r.admit(1, 7, 2, 1_000, Some(2), A::SlidingWindow).allowed);
        // Actor 0 is another actor; key 8 is actor 1's next version.
        assert!(r.admit(0, 7, 3, 1_000, Some(2), A::SlidingWindow).allowed);
        let fresh = r.admit(1, 8, 4, 1_000, Some(2), A::SlidingWindow);
        assert_eq!((fresh.allowed, fresh.entries), (true, 1));
    }

    #[test]
    fn token_bucket_refills_at_limit_per_window() {
        let mut r = RateLimiters::new(1);
        // 10 per second: a burst of 10 passes, the 11th waits 100 ms for a token.
        let burst = (0..11)
            .filter(|_| r.admit(0, 1, 0, 1_000, Some(10), A::TokenBucket).allowed)
            .count();
        assert_eq!(burst, 10);
        assert!(!r.admit(0, 1, 50, 1_000, Some(10), A::TokenBucket).allowed);
        assert!(r.admit(0, 1, 110, 1_000, Some(10), A::TokenBucket).allowed);
    }
}
