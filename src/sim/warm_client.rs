//! The warm start's client side (issue #11): what a long run leaves in the application's
//! rate limiters, and the locks it leaves held, at time 0. `warm` draws the Redis keys; this
//! module owns the two pieces of state that are not just a key with a TTL.
//!
//! - Rate limiters (sliding window, token bucket): an actor whose last request came `idle`
//!   before 0 (drawn by `warm` as for its Redis key) made, before that, the Poisson(λ)
//!   requests of the [`HISTORY_WINDOWS`] windows before it. They are run through the
//!   limiter's own arithmetic (`client::RateLimiters::admit`), first on a scratch limiter for
//!   the sorted set's size at the actor's last write (the Redis object `warm` writes), then
//!   on the run's limiter, so at time 0 it holds what a long run's would: the admitted
//!   requests of the last window, or the bucket's level. Three windows before the last
//!   request are enough: a sliding window forgets everything older than one window, and a
//!   bucket refills completely in one. Fixed windows need nothing: time 0 is a window
//!   boundary, so their counters start afresh in a long run too.
//! - Locks: a lock key of request rate λ is held for a hold h, then free until its next
//!   request (Exp(λ)), so it is held at a random moment with probability λh̄/(1+λh̄) (h̄ the
//!   mean hold), its hold then length-biased and the elapsed part uniform over it. A held
//!   lock is written with the rest of its hold as its TTL (capped by the lock TTL): it goes
//!   when the warm holder would have released it. The holder itself is not simulated (no
//!   release command, no monitor record).
//!
//! The limiters run on their own clock, [`rate_clock_ms`]: simulated ms plus an offset of
//! whole windows, so a history before time 0 has non-negative times and fixed windows keep
//! their boundaries.

use super::Sim;
use crate::client::RateLimiters;
use crate::engine::{RngStream, SimTime};
use crate::scenario::Keyspace;

/// Windows of requests replayed before an actor's last request.
pub const HISTORY_WINDOWS: u64 = 3;

/// Length-biased hold draws pick one of this many candidates, in proportion to their length.
const HOLD_CANDIDATES: usize = 32;

/// A keyspace's rate-limit window, ms (at least 1).
fn window_ms(k: &Keyspace) -> u64 {
    k.window.as_ms().max(1)
}

/// Room before time 0 on the limiters' clock: whole windows covering the TTL (the longest an
/// actor's last request can lie before 0) and the history before it.
fn rate_clock_offset_ms(k: &Keyspace) -> u64 {
    let w = window_ms(k);
    w * (k.ttl.as_ms().div_ceil(w) + HISTORY_WINDOWS + 1)
}

/// The rate limiters' clock of keyspace `k` at simulated time `t`, ms.
pub(super) fn rate_clock_ms(k: &Keyspace, t: SimTime) -> u64 {
    t.as_ms() + rate_clock_offset_ms(k)
}

/// An actor's requests before time 0, on the limiters' clock, increasing.
pub(super) struct RateHistory {
    /// The actor's number.
    pub actor: usize,
    /// Its Redis key.
    pub key_id: u64,
    /// When it made its requests.
    pub arrivals_ms: Vec<u64>,
}

/// The history of an actor of keyspace `k` (request rate `lambda`/s) whose last request was
/// `idle_ms` before 0, and the entries its window held after that request; `None` when the
/// last request lies beyond the clock's room (no TTL).
pub(super) fn rate_history(
    k: &Keyspace,
    actor: usize,
    key_id: u64,
    lambda: f64,
    idle_ms: u64,
    rng: &mut RngStream,
) -> Option<(RateHistory, u64)> {
    let w = window_ms(k);
    let span_ms = HISTORY_WINDOWS * w;
    let last = rate_clock_offset_ms(k).checked_sub(idle_ms)?;
    let first = last.checked_sub(span_ms)?;
    let mut arrivals_ms = vec![last];
    let mut t = last as f64;
    loop {
        t -= -rng.next_f64_open0().ln() / lambda * 1000.0;
        if t < first as f64 {
            break;
        }
        arrivals_ms.push(t as u64);
    }
    arrivals_ms.reverse();
    let mut scratch = RateLimiters::new(1);
    let mut entries = 0;
    for &at in &arrivals_ms {
        entries = scratch
            .admit(
                0,
                key_id,
                at,
                w,
                k.rate_limit_per_window,
                k.rate_limit_algorithm,
            )
            .entries;
    }
    let history = RateHistory {
        actor,
        key_id,
        arrivals_ms,
    };
    Some((history, entries))
}

/// Whether a lock of keyspace `k` requested at `lambda`/s is held at time 0: the time it
/// has been held and what is left of its key's life (the rest of the hold, capped by the lock
/// TTL), ms; `None` when free.
pub(super) fn held_lock_ms(k: &Keyspace, lambda: f64, rng: &mut RngStream) -> Option<(u64, u64)> {
    let mean_hold_s = k.hold_ms.mean().max(0.0) / 1000.0;
    let busy = lambda * mean_hold_s;
    if rng.next_f64() >= busy / (1.0 + busy) {
        return None;
    }
    // A length-biased hold: one of HOLD_CANDIDATES draws, chosen in proportion to its length.
    let holds: Vec<f64> = (0..HOLD_CANDIDATES)
        .map(|_| k.hold_ms.sample(rng).max(0.0))
        .collect();
    let total: f64 = holds.iter().sum();
    let mut pick = rng.next_f64() * total;
    let hold_ms = holds
        .iter()
        .copied()
        .find(|&h| {
            pick -= h;
            pick < 0.0
        })
        .unwrap_or(holds[HOLD_CANDIDATES - 1]);
    let held_ms = rng.next_f64() * hold_ms;
    let ttl_ms = k.ttl.as_ms().max(1) as f64;
    let left_ms = hold_ms.min(ttl_ms) - held_ms;
    (left_ms >= 1.0).then_some((held_ms as u64, left_ms as u64))
}

impl Sim<'_> {
    /// Runs `history` through keyspace `ks`'s rate limiter (see the module doc).
    pub(super) fn replay_rate_history(&mut self, ks: usize, history: &RateHistory) {
        let k = &self.scn.keyspaces[ks];
        let (w, limit, algorithm) = (
            window_ms(k),
            k.rate_limit_per_window,
            k.rate_limit_algorithm,
        );
        let rate = &mut self.clients[ks].rate;
        for &at in &history.arrivals_ms {
            rate.admit(history.actor, history.key_id, at, w, limit, algorithm);
        }
    }
}
