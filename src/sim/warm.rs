//! The warm start (`[simulation] start = "steady-state"`): before simulated time 0 every
//! cluster of the plan is filled with the keys a long run would leave resident, drawn per key
//! from its keyspace's own rate, popularity, TTL, jitter and operation, with the residual TTL
//! and the LRU/LFU field a long run would have given it. The keys go through the shard's own
//! write path (`Shard::warm_write`: memory accounting, dict sizes, eviction in the policy's
//! order when the stationary set is larger than maxmemory, OOM under `noeviction`), in a
//! seeded random order across keyspaces, and are not counted as requests; the shards'
//! counters are zeroed afterwards. Owns only this filling; the distributions are documented
//! in ARCHITECTURE.md ("Warm start").
//!
//! Stationary distributions (λ: the key's request rate, T: its TTL; each per-key draw uses
//! the keyspace's `warm-start` stream):
//! - read-through (SET with TTL on a miss, TTL not renewed by hits): a renewal process of
//!   cycles "present for T, then absent until the next request (Exp(λ))", so the key is
//!   present with probability λT/(1+λT) and, when present, its age is uniform over a cycle
//!   whose T is length-biased when jittered (residual TTL = U·T). Its last access was
//!   min(Exp(λ), age) ago. Without a TTL a key is present when it was requested in the last
//!   24 hours (1 − e^(−λ·24h)). Negative-cached keys use the negative TTL.
//! - session (GET, PEXPIRE T on a hit): present when the last request was less than T ago,
//!   probability 1 − e^(−λT); the time since it (idle) is Exp(λ) truncated to [0, T) and the
//!   residual TTL is T − idle.
//! - idempotency (a new key per request, kept T): the last T of traffic, rate × T keys, each
//!   with a uniform residual TTL (length-biased T under jitter); idle = age.
//! - rate limit: a token bucket or sliding window is present when the actor's last request
//!   was less than the key TTL ago (as a session); a sliding window holds the requests of the
//!   last window (Poisson(λ·window)). A fixed window's counter of the window that ended at 0
//!   is present when the actor made a request in it, until its TTL runs out.
//! - lock: not warmed (held for milliseconds; the first requests take them as a long run's
//!   would).
//!
//! λ is the keyspace's rate averaged over the hour-of-day profile across the TTL before time
//! 0, times the tenant's traffic share and the key's popularity.
//!
//! The LFU counter of a key of rate λ is where its increments (probability 1/((c−5)·f + 1)
//! per access) balance the decay (one per `lfu-decay-time` minutes): c = 5 + (60λd − 1)/f,
//! 0 when 60λd < 1, at most 255.

use super::Sim;
use crate::client::negative::{self, NEGATIVE_VALUE_BYTES};
use crate::client::ValueMeta;
use crate::engine::time::NS_PER_MS;
use crate::engine::{RngStream, SimTime};
use crate::redis::objects;
use crate::redis::shard::Command;
use crate::scenario::{Jitter, Operation, RateLimitAlgorithm};

/// A draw of the warm start: a write to shard `node` of keyspace `ks`, in a random order.
struct WarmWrite {
    order: u64,
    node: u32,
    ks: u16,
    cmd: Command,
    idle_ms: u64,
    lfu_counter: u8,
    /// For value envelopes (stale-while-revalidate, XFetch): the key's age and TTL, ms.
    age_ms: u64,
    ttl_ms: u64,
}

/// How long a key without a TTL has had to be requested: "a long run".
const NO_TTL_HORIZON_S: f64 = 86_400.0;

impl Sim<'_> {
    /// Fills every cluster of the plan with its stationary set (see the module doc) and zeroes
    /// the shards' counters. Returns, per keyspace, the warm writes the clusters refused (OOM).
    pub(super) fn warm_start(&mut self, seed: u64) -> Vec<u64> {
        let n_ks = self.scn.keyspaces.len();
        let mut writes = Vec::new();
        let mut order_rng = RngStream::named(seed, "warm-start/order");
        for ks in 0..n_ks {
            let name = &self.scn.keyspaces[ks].name;
            let mut rng = RngStream::named(seed, &format!("keyspace/{name}/warm-start"));
            self.warm_keyspace(ks, &mut rng, &mut order_rng, &mut writes);
        }
        writes.sort_unstable_by_key(|w| w.order);
        let mut refused = vec![0u64; n_ks];
        for w in &writes {
            let node = &mut self.nodes[w.node as usize];
            if !node.shard.warm_write(w.cmd, w.idle_ms, w.lfu_counter) {
                refused[w.ks as usize] += 1;
                continue;
            }
            if let Command::Set { key, .. } = w.cmd {
                // Where Redis is the source of truth, the record was written before time 0.
                self.monitor.written(w.ks as usize, key.id);
            }
            self.warm_envelope(w);
        }
        for node in &mut self.nodes {
            node.shard.clear_counters();
        }
        refused
    }

    /// The value envelope (soft expiry, XFetch delta) a warm key of a strategy that reads one
    /// would carry: written `age_ms` before time 0.
    fn warm_envelope(&mut self, w: &WarmWrite) {
        let ks = w.ks as usize;
        let k = &self.scn.keyspaces[ks];
        let Some(soft) = self.clients[ks].strategy.soft_ttl(k.ttl) else {
            return;
        };
        let Command::Set { key, .. } = w.cmd else {
            return;
        };
        let age = SimTime(w.age_ms * NS_PER_MS);
        let delta = k
            .origin
            .map(|o| SimTime((self.scn.origins[o].service_time_ms.mean() * 1e6) as u64))
            .unwrap_or_default();
        self.clients[ks].meta.insert(
            key.id,
            ValueMeta {
                // Written before time 0: what lies in the past is at 0, already passed.
                soft_expiry: soft.saturating_sub(age),
                expiry: SimTime(w.ttl_ms * NS_PER_MS).saturating_sub(age),
                delta,
            },
        );
    }

    /// The mean rate multiplier of keyspace `ks` over the `span_ms` before time 0 (the hourly
    /// profile is periodic by day; bursts lie at or after 0).
    fn rate_before_start(&self, ks: usize, span_ms: u64) -> f64 {
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

    /// Draws keyspace `ks`'s stationary keys into `out`.
    fn warm_keyspace(
        &self,
        ks: usize,
        rng: &mut RngStream,
        order_rng: &mut RngStream,
        out: &mut Vec<WarmWrite>,
    ) {
        let k = &self.scn.keyspaces[ks];
        let ttl_ms = k.ttl.as_ms();
        let span_ms = if ttl_ms == 0 {
            (NO_TTL_HORIZON_S * 1000.0) as u64
        } else {
            max_ttl_ms(ttl_ms, &k.jitter)
        };
        let rate_per_s = k.rate_per_s * self.rate_before_start(ks, span_ms);
        if rate_per_s <= 0.0 {
            return;
        }
        let cfg = &self.scn.clusters[self.cluster_of_ks[ks]].redis;
        let lfu = (cfg.lfu_log_factor, cfg.lfu_decay_time);
        let mut push = |out: &mut Vec<WarmWrite>, node: u32, w: Warm| {
            out.push(WarmWrite {
                order: order_rng.next_u64(),
                node,
                ks: ks as u16,
                cmd: w.cmd,
                idle_ms: w.idle_ms,
                lfu_counter: lfu_counter(w.rate_per_s, lfu.0, lfu.1),
                age_ms: w.age_ms,
                ttl_ms: w.ttl_ms,
            });
        };
        if k.operation == Operation::Idempotency {
            // The last T of traffic: rate × T keys (its Poisson count's mean), uniform ages.
            let n = (rate_per_s * mean_ttl_ms(ttl_ms, &k.jitter) / 1000.0).round() as u64;
            for j in 0..n {
                let tenant = self.warm_tenant(rng);
                // Items from the top of the range: the run's own keys count up from 1.
                let (key, node) = self.key_for(ks, tenant, u64::MAX - j);
                let t_ms = length_biased_ttl_ms(ttl_ms, &k.jitter, rng);
                let age_ms = (rng.next_f64() * t_ms as f64) as u64;
                let cmd = Command::Set {
                    key,
                    value_size: self.value_size(ks, key.id),
                    ttl_ms: (t_ms - age_ms).max(1),
                    nx: false,
                    stamp: self.warm_stamp(ks, tenant),
                };
                let w = Warm::new(cmd, age_ms, age_ms, t_ms, 0.0);
                push(out, node, w);
            }
            return;
        }
        if k.operation == Operation::Lock {
            return;
        }
        for (tenant, t) in self.scn.tenants.iter().enumerate() {
            let sampler = &self.traffic.samplers[ks][tenant];
            let n = sampler.n();
            for item in 0..n {
                let lambda = rate_per_s * t.traffic_share * sampler.probability(item);
                if lambda <= 0.0 {
                    continue;
                }
                if let Some((node, w)) = self.warm_key(ks, tenant, item, lambda, rng) {
                    push(out, node, w);
                }
            }
        }
    }

    /// The tenant of a warm idempotency key, by traffic share.
    fn warm_tenant(&self, rng: &mut RngStream) -> usize {
        let u = rng.next_f64();
        let mut acc = 0.0;
        for (i, t) in self.scn.tenants.iter().enumerate() {
            acc += t.traffic_share;
            if u < acc {
                return i;
            }
        }
        self.scn.tenants.len() - 1
    }

    /// The stamp a monitored warm value carries: loaded at time 0 (before every event).
    fn warm_stamp(&self, ks: usize, tenant: usize) -> u64 {
        if self.monitor.tracks_values(ks) {
            super::invariants::ValueInfo {
                loaded_at: SimTime::ZERO,
                tenant: tenant as u16,
            }
            .stamp()
        } else {
            0
        }
    }

    /// Whether item `item` of `tenant` (request rate `lambda`/s) is resident at time 0, and
    /// the write that leaves it as a long run would.
    fn warm_key(
        &self,
        ks: usize,
        tenant: usize,
        item: u64,
        lambda: f64,
        rng: &mut RngStream,
    ) -> Option<(u32, Warm)> {
        let k = &self.scn.keyspaces[ks];
        let base_ttl_ms = k.ttl.as_ms();
        match k.operation {
            Operation::ReadThrough => {
                let (key, node) = self.key_for(ks, tenant, item);
                let negative = k
                    .strategy
                    .negative
                    .as_ref()
                    .filter(|n| negative::is_negative(key.id, n.fraction));
                let (ttl_ms, jitter, value_size) = match negative {
                    Some(n) => (n.ttl.as_ms(), &Jitter::None, NEGATIVE_VALUE_BYTES),
                    None => (base_ttl_ms, &k.jitter, self.value_size(ks, key.id)),
                };
                let (age_ms, t_ms) = if ttl_ms == 0 {
                    if rng.next_f64() >= -(-lambda * NO_TTL_HORIZON_S).exp_m1() {
                        return None;
                    }
                    (0, 0)
                } else {
                    let mean_t_s = mean_ttl_ms(ttl_ms, jitter) / 1000.0;
                    if rng.next_f64() >= lambda * mean_t_s / (1.0 + lambda * mean_t_s) {
                        return None;
                    }
                    let t_ms = length_biased_ttl_ms(ttl_ms, jitter, rng);
                    ((rng.next_f64() * t_ms as f64) as u64, t_ms)
                };
                let since_access_ms = exp_ms(lambda, rng);
                let idle_ms = if t_ms == 0 {
                    since_access_ms
                } else {
                    since_access_ms.min(age_ms)
                };
                let cmd = Command::Set {
                    key,
                    value_size,
                    ttl_ms: if t_ms == 0 { 0 } else { (t_ms - age_ms).max(1) },
                    nx: false,
                    stamp: self.warm_stamp(ks, tenant),
                };
                Some((node, Warm::new(cmd, idle_ms, age_ms, t_ms, lambda)))
            }
            Operation::Session => {
                let (key, node) = self.key_for(ks, tenant, item);
                let idle_ms = recent_access_ms(lambda, base_ttl_ms, rng)?;
                let cmd = Command::Set {
                    key,
                    value_size: self.value_size(ks, key.id),
                    ttl_ms: if base_ttl_ms == 0 {
                        0
                    } else {
                        (base_ttl_ms - idle_ms).max(1)
                    },
                    nx: false,
                    stamp: self.warm_stamp(ks, tenant),
                };
                Some((node, Warm::new(cmd, idle_ms, idle_ms, base_ttl_ms, lambda)))
            }
            Operation::RateLimit => self.warm_rate_limit(ks, tenant, item, lambda, rng),
            Operation::Idempotency | Operation::Lock => None,
        }
    }

    /// A rate-limit key of actor `item` at time 0 (see the module doc).
    fn warm_rate_limit(
        &self,
        ks: usize,
        tenant: usize,
        item: u64,
        lambda: f64,
        rng: &mut RngStream,
    ) -> Option<(u32, Warm)> {
        let k = &self.scn.keyspaces[ks];
        let ttl_ms = k.ttl.as_ms();
        let window_ms = k.window.as_ms().max(1);
        match k.rate_limit_algorithm {
            RateLimitAlgorithm::FixedWindow => {
                // The counter of window −1 (the one ending at 0): created at its first
                // request, if any, and kept ttl_ms from then.
                let first_ms = first_arrival_ms(lambda, window_ms, rng)?;
                let created_ago_ms = window_ms - first_ms;
                if ttl_ms != 0 && created_ago_ms >= ttl_ms {
                    return None;
                }
                let previous = u64::from(u32::MAX) << 32;
                let (key, node) = self.key_for(ks, tenant, item ^ previous);
                let cmd = Command::IncrExpire {
                    key,
                    ttl_ms: if ttl_ms == 0 {
                        0
                    } else {
                        ttl_ms - created_ago_ms
                    },
                };
                let idle_ms = exp_ms(lambda, rng).min(created_ago_ms);
                Some((
                    node,
                    Warm::new(cmd, idle_ms, created_ago_ms, ttl_ms, lambda),
                ))
            }
            algorithm => {
                let idle_ms = recent_access_ms(lambda, ttl_ms, rng)?;
                let (key, node) = self.key_for(ks, tenant, item);
                let object_bytes = if algorithm == RateLimitAlgorithm::SlidingWindow {
                    let in_window = poisson(lambda * window_ms as f64 / 1000.0, rng).max(1);
                    objects::zset_bytes(in_window, 16) as u32
                } else {
                    objects::token_bucket_bytes() as u32
                };
                let cmd = Command::WriteObject {
                    key,
                    object_bytes,
                    ttl_ms: if ttl_ms == 0 {
                        0
                    } else {
                        (ttl_ms - idle_ms).max(1)
                    },
                };
                Some((node, Warm::new(cmd, idle_ms, idle_ms, ttl_ms, lambda)))
            }
        }
    }
}

/// One warm key's write and metadata, before it gets its place in the order.
struct Warm {
    cmd: Command,
    idle_ms: u64,
    age_ms: u64,
    ttl_ms: u64,
    rate_per_s: f64,
}

impl Warm {
    fn new(cmd: Command, idle_ms: u64, age_ms: u64, ttl_ms: u64, rate_per_s: f64) -> Warm {
        Warm {
            cmd,
            idle_ms,
            age_ms,
            ttl_ms,
            rate_per_s,
        }
    }
}

/// The largest TTL the jitter can give, ms.
fn max_ttl_ms(base_ms: u64, jitter: &Jitter) -> u64 {
    match jitter {
        Jitter::None => base_ms,
        Jitter::UniformPct(p) => (base_ms as f64 * (1.0 + p / 100.0)).round() as u64,
        Jitter::UpTo(max) => base_ms + max.as_ms(),
    }
}

/// The mean TTL under the jitter, ms.
fn mean_ttl_ms(base_ms: u64, jitter: &Jitter) -> f64 {
    match jitter {
        Jitter::None | Jitter::UniformPct(_) => base_ms as f64,
        Jitter::UpTo(max) => base_ms as f64 + max.as_ms() as f64 / 2.0,
    }
}

/// A TTL drawn as the jitter draws it, weighted by its length (the TTL of the cycle a random
/// moment falls in), by rejection against the largest TTL.
fn length_biased_ttl_ms(base_ms: u64, jitter: &Jitter, rng: &mut RngStream) -> u64 {
    let max = max_ttl_ms(base_ms, jitter).max(1);
    loop {
        let t = match jitter {
            Jitter::None => return base_ms,
            Jitter::UniformPct(p) => {
                let f = 1.0 + (rng.next_f64() * 2.0 - 1.0) * *p / 100.0;
                ((base_ms as f64 * f).round() as u64).max(1)
            }
            Jitter::UpTo(j) => base_ms + rng.below(j.as_ms() + 1),
        };
        if rng.next_f64() * max as f64 <= t as f64 {
            return t;
        }
    }
}

/// An exponential time of rate `lambda`/s, ms.
fn exp_ms(lambda: f64, rng: &mut RngStream) -> u64 {
    (-rng.next_f64_open0().ln() / lambda * 1000.0).min(1e15) as u64
}

/// The time since the last request of a key requested at `lambda`/s, when it lies within
/// `within_ms` (None when the last request is older: the key is gone). Without a bound
/// (`within_ms` 0, no TTL) the key is present when requested in the last 24 hours.
fn recent_access_ms(lambda: f64, within_ms: u64, rng: &mut RngStream) -> Option<u64> {
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
    let e_ms = (-(-u).ln_1p() / lambda * 1000.0) as u64;
    Some(if within_ms == 0 {
        e_ms
    } else {
        e_ms.min(within_ms - 1)
    })
}

/// The time of the first request within a window of `window_ms` for a rate of `lambda`/s, ms
/// from the window's start (None: no request in it).
fn first_arrival_ms(lambda: f64, window_ms: u64, rng: &mut RngStream) -> Option<u64> {
    let t = exp_ms(lambda, rng);
    (t < window_ms).then_some(t)
}

/// A Poisson count of mean `mean` (inversion for small means, normal above 30).
fn poisson(mean: f64, rng: &mut RngStream) -> u64 {
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
fn lfu_counter(lambda: f64, log_factor: u32, decay_time_min: u32) -> u8 {
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
