//! The stationary state of one key, in closed form and as draws: the share of time a key of
//! request rate λ and TTL T is live and how often it expires, per operation and under an
//! admission probability (a full `noeviction` cluster); the state a key is found in at a
//! random moment (live and last touched when, a ghost, absent); the request rates of a
//! keyspace's keys before time 0 (`KeyRates`) and each cluster's expire-cursor pass period.
//! Shared by the warm start (`sim::warm`) and the memory projection (`sim::projection`);
//! the formulas are listed in ARCHITECTURE.md ("Warm start").

use super::Sim;
use crate::engine::time::f64_to_u64;
use crate::engine::RngStream;
use crate::redis::expiry_steady::{self, ExpiringKeys, MERGE_RELATIVE};
use crate::scenario::{Jitter, Operation, RateLimitAlgorithm};

/// A keyspace's keys as the closed forms see them: their request rates before time 0.
#[derive(Clone, Debug)]
pub(super) struct KeyRates {
    pub(super) op: Operation,
    /// Mean TTL, s.
    pub(super) ttl_s: f64,
    /// The keys' request rates /s as (rate, keys): keys in popularity order, one entry per
    /// run of rates within `MERGE_RELATIVE` of each other (`push_key`; empty for
    /// idempotency keys). A keyspace of millions of keys is a few thousand entries, and the
    /// closed forms, smooth in the rate, move by a relative O(1e-6).
    pub(super) lambdas: Vec<(f64, f64)>,
    /// Idempotency: new keys per second, each never requested again.
    pub(super) new_keys_per_s: f64,
}

impl KeyRates {
    /// Keys of operation `op` and mean TTL `ttl_s`, none yet.
    pub(super) fn new(op: Operation, ttl_s: f64) -> KeyRates {
        KeyRates {
            op,
            ttl_s,
            lambdas: Vec::new(),
            new_keys_per_s: 0.0,
        }
    }

    /// Adds a key requested `lambda` times a second (keys come in popularity order).
    pub(super) fn push_key(&mut self, lambda: f64) {
        match self.lambdas.last_mut() {
            Some((l, n)) if (*l - lambda).abs() <= MERGE_RELATIVE * *l => {
                *l = (*l * *n + lambda) / (*n + 1.0);
                *n += 1.0;
            }
            _ => self.lambdas.push((lambda, 1.0)),
        }
    }

    /// The keys of items `0..n` of every tenant's sampler of keyspace `ks`, requested at
    /// `rate_per_s` in all (keys never requested are left out when `skip_zero`).
    pub(super) fn push_keyspace(
        &mut self,
        sim: &Sim<'_>,
        ks: usize,
        rate_per_s: f64,
        skip_zero: bool,
    ) {
        for (tenant, t) in sim.scn.tenants.iter().enumerate() {
            let sampler = &sim.traffic.samplers[ks][tenant];
            let weights = &sim.traffic.zipf_weights[ks];
            for item in 0..sampler.n() {
                let lambda = rate_per_s * t.traffic_share * sampler.probability_in(item, weights);
                if lambda > 0.0 || !skip_zero {
                    self.push_key(lambda);
                }
            }
        }
    }

    /// Adds these keys' expiry processes, writes admitted with probability `admission`.
    pub(super) fn expiring(&self, admission: f64, into: &mut ExpiringKeys) {
        if self.op == Operation::Idempotency {
            into.live += admission * self.new_keys_per_s * self.ttl_s;
            into.add(0.0, admission * self.new_keys_per_s);
            return;
        }
        for &(lambda, n) in &self.lambdas {
            let (live, e) = expiry_process(self.op, lambda, self.ttl_s, admission);
            into.live += n * live;
            into.add(lambda, n * e);
        }
    }

    /// Expected resident keys, live and ghosts.
    pub(super) fn resident(&self, admission: f64, pass_s: f64) -> f64 {
        let mut keys = ExpiringKeys::default();
        self.expiring(admission, &mut keys);
        keys.live + keys.ghosts(pass_s)
    }
}

/// The conditions of one cluster the warm start draws under.
#[derive(Clone, Copy, Debug)]
pub(super) struct Regime {
    /// The expire cursor's pass period, s (`redis::expiry_steady`).
    pub(super) pass_s: f64,
    /// The probability that a write finds room: 1, but on a `noeviction` cluster whose
    /// stationary set does not fit (`solve_admission`).
    pub(super) admission: f64,
}

/// How long a key without a TTL has had to be requested: "a long run".
pub(super) const NO_TTL_HORIZON_S: f64 = 86_400.0;

impl Sim<'_> {
    /// The mean rate multiplier of keyspace `ks` over the `span_ms` before time 0 (the hourly
    /// profile is periodic by day; bursts lie at or after 0).
    pub(super) fn rate_before_start(&self, ks: usize, span_ms: u64) -> f64 {
        const HOUR_MS: u64 = 3_600_000;
        let profile = &self.scn.keyspaces[ks].hourly_profile;
        let span_ms = span_ms.clamp(1, 24 * HOUR_MS);
        let end = self.scn.start_unix_ms;
        let start = end.saturating_sub(span_ms);
        let mut t = start;
        let mut acc = 0.0;
        while t < end {
            let hour_end = (t / HOUR_MS + 1) * HOUR_MS;
            let seg = hour_end.min(end) - t;
            acc += profile[(t / HOUR_MS % 24) as usize] * seg as f64;
            t += seg;
        }
        if end == start {
            profile[(end / HOUR_MS % 24) as usize]
        } else {
            acc / (end - start) as f64
        }
    }

    /// Keyspace `ks`'s keys as the closed forms see them (None for keys without a TTL,
    /// locks, and fixed-window counters: the expiry equilibrium leaves them out); worked out
    /// once per scenario (`Traffic::key_rates`).
    pub(super) fn key_rates(&self, ks: usize) -> Option<KeyRates> {
        self.traffic.key_rates[ks]
            .get_or_init(|| self.work_out_key_rates(ks))
            .clone()
    }

    fn work_out_key_rates(&self, ks: usize) -> Option<KeyRates> {
        let k = &self.scn.keyspaces[ks];
        let ttl_ms = k.ttl.as_ms();
        let fixed = k.operation == Operation::RateLimit
            && k.rate_limit_algorithm == RateLimitAlgorithm::FixedWindow;
        if ttl_ms == 0 || k.operation == Operation::Lock || fixed {
            return None;
        }
        let rate_per_s = k.rate_per_s * self.rate_before_start(ks, max_ttl_ms(ttl_ms, &k.jitter));
        let mut r = KeyRates::new(k.operation, mean_ttl_ms(ttl_ms, &k.jitter) / 1000.0);
        if k.operation == Operation::Idempotency {
            r.new_keys_per_s = rate_per_s;
            return Some(r);
        }
        r.push_keyspace(self, ks, rate_per_s, true);
        Some(r)
    }

    /// Cluster `c`'s expire-cursor pass period, s (`redis::expiry_steady`), its writes
    /// admitted with probability `admission`.
    pub(super) fn pass_period_s(
        &self,
        c: usize,
        rates: &[Option<KeyRates>],
        admission: f64,
    ) -> f64 {
        let mut keys = ExpiringKeys::default();
        for (ks, r) in rates.iter().enumerate() {
            if let Some(r) = r.as_ref().filter(|_| self.cluster_of_ks[ks] == c) {
                r.expiring(admission, &mut keys);
            }
        }
        let cluster = &self.scn.clusters[c];
        let redis = &cluster.redis;
        expiry_steady::pass_period_s(&keys, cluster.shards, redis.hz, redis.active_expire_effort)
    }
}

/// The share of time a key of request rate `lambda`/s and mean TTL `ttl_s` is live, and how
/// often its TTL runs out (per second), when a write finds room with probability `admission`
/// (1 but on a full `noeviction` cluster; EXPIRE is never refused):
/// - read-through: cycles of T live, then absent until a write gets in (Exp(λs)):
///   λsT/(1+λsT), λs/(1+λsT);
/// - session (a hit renews the TTL; a miss writes): live while gaps stay under T, for
///   D = (e^(λT) − 1)/λ on average, absent 1/(λs): D/(D + 1/(λs)), 1/(D + 1/(λs)) — with
///   s = 1, 1 − e^(−λT) and λ·e^(−λT);
/// - rate-limit objects (every request writes): renewed at λs: 1 − e^(−λsT), λs·e^(−λsT).
pub(super) fn expiry_process(op: Operation, lambda: f64, ttl_s: f64, admission: f64) -> (f64, f64) {
    let ls = lambda * admission;
    match op {
        Operation::ReadThrough => {
            let x = ls * ttl_s;
            (x / (1.0 + x), ls / (1.0 + x))
        }
        Operation::Session => {
            // s·(e^(λT) − 1); beyond f64's range the key never lapses.
            let grown = admission * (lambda * ttl_s).exp_m1();
            if !grown.is_finite() {
                return (1.0, 0.0);
            }
            (grown / (grown + 1.0), ls / (grown + 1.0))
        }
        _ => {
            let gone = (-ls * ttl_s).exp();
            (1.0 - gone, ls * gone)
        }
    }
}

/// `front_time_s(λ, P) <= P` in exact arithmetic; computed, it may exceed P by a few ulps.
/// A draw that clears `e·P` times this margin is absent whatever F works out to.
const FRONT_BOUND_MARGIN: f64 = 1.0 + 1e-9;

/// Whether a key's draw `u`, past its live share `live`, falls in its ghost share
/// e·F(λ, P) (`expiry_steady::front_time_s`; `e`: its expiries per second). F <= P, so
/// most draws are ruled out without working F out.
pub(super) fn in_ghost_share(u: f64, live: f64, e: f64, lambda: f64, pass_s: f64) -> bool {
    u < live + e * pass_s * FRONT_BOUND_MARGIN
        && u < live + e * expiry_steady::front_time_s(lambda, pass_s)
}

/// What a key whose TTL each request renews (session, rate-limit object) is at time 0.
pub(super) enum Renewed {
    /// Live, last touched this many ms ago.
    Live(u64),
    /// A ghost candidate (see `place_ghosts`).
    Ghost,
    Absent,
}

/// Draws a renewed key's state at 0 (`expiry_process`); a live key was last touched
/// Exp(rate) truncated to [0, T) ago, the rate being λ for a session (reads touch it) and
/// λs for a rate-limit object (refused writes do not). Without a TTL, live when requested in
/// the last 24 hours.
pub(super) fn draw_renewed(
    op: Operation,
    lambda: f64,
    ttl_ms: u64,
    regime: Regime,
    rng: &mut RngStream,
) -> Renewed {
    if ttl_ms == 0 {
        return match recent_access_ms(lambda, 0, rng) {
            Some(idle_ms) => Renewed::Live(idle_ms),
            None => Renewed::Absent,
        };
    }
    let (live, e) = expiry_process(op, lambda, ttl_ms as f64 / 1000.0, regime.admission);
    let u = rng.next_f64();
    if u < live {
        let touch_rate = if op == Operation::Session {
            lambda
        } else {
            lambda * regime.admission
        };
        return Renewed::Live(truncated_exp_ms(touch_rate, ttl_ms, rng));
    }
    if in_ghost_share(u, live, e, lambda, regime.pass_s) {
        Renewed::Ghost
    } else {
        Renewed::Absent
    }
}

/// Exp(`rate`/s) truncated to [0, `within_ms`), ms, by inversion.
pub(super) fn truncated_exp_ms(rate: f64, within_ms: u64, rng: &mut RngStream) -> u64 {
    let u = rng.next_f64();
    let mass = -(-rate * within_ms as f64 / 1000.0).exp_m1();
    let x_ms = if mass < 1e-12 {
        u * within_ms as f64
    } else {
        -(-u * mass).ln_1p() / rate * 1000.0
    };
    f64_to_u64(x_ms).min(within_ms.saturating_sub(1))
}

/// The largest TTL the jitter can give, ms.
pub(super) fn max_ttl_ms(base_ms: u64, jitter: &Jitter) -> u64 {
    match jitter {
        Jitter::None => base_ms,
        Jitter::UniformPct(p) => (base_ms as f64 * (1.0 + p / 100.0)).round() as u64,
        Jitter::UpTo(max) => base_ms + max.as_ms(),
    }
}

/// The mean TTL under the jitter, ms.
pub(super) fn mean_ttl_ms(base_ms: u64, jitter: &Jitter) -> f64 {
    match jitter {
        Jitter::None | Jitter::UniformPct(_) => base_ms as f64,
        Jitter::UpTo(max) => base_ms as f64 + max.as_ms() as f64 / 2.0,
    }
}

/// A TTL drawn as the jitter draws it, weighted by its length (the TTL of the cycle a random
/// moment falls in), by rejection against the largest TTL.
pub(super) fn length_biased_ttl_ms(base_ms: u64, jitter: &Jitter, rng: &mut RngStream) -> u64 {
    let max = max_ttl_ms(base_ms, jitter).max(1);
    loop {
        let t = match jitter {
            Jitter::None => return base_ms,
            Jitter::UniformPct(p) => {
                let f = 1.0 + (rng.next_f64() * 2.0 - 1.0) * *p / 100.0;
                super::values::rounded_at_least_1(base_ms as f64 * f)
            }
            Jitter::UpTo(j) => base_ms + rng.below(j.as_ms() + 1),
        };
        if rng.next_f64() * max as f64 <= t as f64 {
            return t;
        }
    }
}

/// An exponential time of rate `lambda`/s, ms.
pub(super) fn exp_ms(lambda: f64, rng: &mut RngStream) -> u64 {
    f64_to_u64((-rng.next_f64_open0().ln() / lambda * 1000.0).min(1e15))
}

/// The time since the last request of a key requested at `lambda`/s, when it lies within
/// `within_ms` (None when the last request is older: the key is gone). Without a bound
/// (`within_ms` 0, no TTL) the key is present when requested in the last 24 hours.
pub(super) fn recent_access_ms(lambda: f64, within_ms: u64, rng: &mut RngStream) -> Option<u64> {
    let bound_s = if within_ms == 0 {
        NO_TTL_HORIZON_S
    } else {
        within_ms as f64 / 1000.0
    };
    // P(last request within the bound) = 1 − e^(−λ·bound); the time since it, truncated
    // exponential, by inversion.
    let present = -(-lambda * bound_s).exp_m1();
    let u = rng.next_f64();
    if u >= present {
        return None;
    }
    let e_ms = f64_to_u64(-(-u).ln_1p() / lambda * 1000.0);
    Some(if within_ms == 0 {
        e_ms
    } else {
        e_ms.min(within_ms - 1)
    })
}

/// The time of the first request within a window of `window_ms` for a rate of `lambda`/s, ms
/// from the window's start (None: no request in it).
pub(super) fn first_arrival_ms(lambda: f64, window_ms: u64, rng: &mut RngStream) -> Option<u64> {
    let t = exp_ms(lambda, rng);
    (t < window_ms).then_some(t)
}

/// A Poisson count of mean `mean` (inversion for small means, normal above 30).
pub(super) fn poisson(mean: f64, rng: &mut RngStream) -> u64 {
    if mean > 30.0 {
        let z = (-2.0 * rng.next_f64_open0().ln()).sqrt()
            * (2.0 * std::f64::consts::PI * rng.next_f64()).cos();
        return (mean + mean.sqrt() * z).round().max(0.0) as u64;
    }
    let limit = (-mean).exp();
    let mut p = rng.next_f64();
    let mut n = 0;
    while p > limit {
        p *= rng.next_f64();
        n += 1;
    }
    n
}

/// The LFU counter a key of rate `lambda`/s settles at (see the module doc).
pub(super) fn lfu_counter(lambda: f64, log_factor: u32, decay_time_min: u32) -> u8 {
    if decay_time_min == 0 {
        // No decay: the counter climbs to saturation for any key seen often.
        return if lambda > 0.0 { 255 } else { 0 };
    }
    let per_decay = 60.0 * lambda * decay_time_min as f64;
    if per_decay < 1.0 {
        return 0;
    }
    let c = 5.0 + (per_decay - 1.0) / log_factor.max(1) as f64;
    c.min(255.0) as u8
}
