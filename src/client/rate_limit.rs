//! Rate limiters per actor, kept client-side: fixed window, sliding window and token bucket,
//! the same arithmetic the Redis commands perform, so the simulator knows each actor's window
//! size and whether a request is admitted.

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

    /// Forgets every actor's state (a warm start drawing a keyspace again).
    pub fn clear(&mut self) {
        self.actors.iter_mut().for_each(|a| *a = None);
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
mod tests {
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
