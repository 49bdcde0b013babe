//! The memory projection of each shard, in closed form: the `used_memory` its cluster holds
//! at steady state with no `maxmemory` (`steady_state_used_memory_bytes`), and, for a cluster
//! whose projection exceeds `maxmemory`, the simulated time at which a cold start fills it
//! (`fills_at_s`; 0 on a warm start, which starts full). Expected resident keys per keyspace
//! come from the stationary closed forms (`sim::stationary`: live keys and expired keys not yet
//! reached by active expiry); the bytes per key from writing a sample of the keyspace's own
//! keys (template length, value sizes, objects) through a scratch shard of the Redis model.
//!
//! The cold curve, key by key (λ: request rate, T: TTL): a key renewed by its requests
//! (session, rate-limit object) is resident at t with probability 1 − e^(−λ·min(t, T)); a
//! read-through key 1 − e^(−λt) before its first expiry (t < T) and its stationary share
//! after; idempotency keys rate × min(t, T); keys without a TTL 1 − e^(−λt); expired keys not
//! yet reached join at their stationary count once t ≥ T.

use super::stationary::{max_ttl_ms, mean_ttl_ms, KeyRates, NO_TTL_HORIZON_S};
use super::Sim;
use crate::engine::{RngStream, SimTime};
use crate::redis::memory::{self, EMPTY_SERVER_USED_MEMORY_BYTES};
use crate::redis::objects;
use crate::redis::shard::{Command, ObjectType, RedisConfig, Shard};
use crate::scenario::{Operation, RateLimitAlgorithm, Start};

/// Keys written to the scratch shard to measure a keyspace's bytes per key.
const SAMPLE_KEYS: u64 = 2_000;

/// One keyspace's part of a cluster's projection.
struct Part {
    bytes_per_key: f64,
    /// The keys' request rates /s, as (rate, keys at about that rate) (`compress`; empty for
    /// idempotency keys).
    lambdas: Vec<(f64, f64)>,
    op: Operation,
    ttl_s: f64,
    /// Idempotency: new keys per second.
    new_keys_per_s: f64,
    /// Expected expired keys still resident at steady state.
    ghosts: f64,
}

impl Part {
    /// Expected keys of this keyspace resident `t_s` seconds after a cold start (`f64::MAX`:
    /// steady state).
    fn keys_at(&self, t_s: f64) -> f64 {
        let ghosts = if t_s >= self.ttl_s && self.ttl_s > 0.0 {
            self.ghosts
        } else {
            0.0
        };
        if self.op == Operation::Idempotency {
            return self.new_keys_per_s * t_s.min(self.ttl_s) + ghosts;
        }
        let requested_within = |t: f64| -> f64 {
            self.lambdas
                .iter()
                .map(|&(l, n)| -n * (-l * t).exp_m1())
                .sum()
        };
        let live = if self.ttl_s == 0.0 {
            requested_within(t_s.min(NO_TTL_HORIZON_S))
        } else if self.op == Operation::ReadThrough && t_s >= self.ttl_s {
            let x = |l: f64| l * self.ttl_s / (1.0 + l * self.ttl_s);
            self.lambdas.iter().map(|&(l, n)| n * x(l)).sum()
        } else {
            requested_within(t_s.min(self.ttl_s))
        };
        live + ghosts
    }
}

impl Sim<'_> {
    /// Fills every shard's `projected_used_memory_bytes` and `fills_at` (see the module doc).
    pub(super) fn project_memory(&mut self) {
        for c in 0..self.scn.clusters.len() {
            if !self.cluster_of_ks.contains(&c) {
                continue;
            }
            let pass_s = self.cluster_pass_s(c);
            let parts: Vec<Part> = (0..self.scn.keyspaces.len())
                .filter(|&ks| self.cluster_of_ks[ks] == c)
                .filter_map(|ks| self.projection_part(ks, c, pass_s))
                .collect();
            let cluster = &self.scn.clusters[c];
            let shards = f64::from(cluster.shards.max(1));
            let bytes_at = |t_s: f64| {
                let (mut data, mut keys, mut volatile) = (0.0, 0.0, 0.0);
                for p in &parts {
                    let n = p.keys_at(t_s);
                    data += n * p.bytes_per_key;
                    keys += n;
                    if p.ttl_s > 0.0 {
                        volatile += n;
                    }
                }
                // The main and expires dicts' bucket arrays at the shard's key counts.
                let table = |n: f64| {
                    if n < 1.0 {
                        0.0
                    } else {
                        memory::bucket_array_bytes(memory::next_table_size((n / shards) as u64))
                            as f64
                    }
                };
                EMPTY_SERVER_USED_MEMORY_BYTES as f64
                    + data / shards
                    + table(keys)
                    + table(volatile)
            };
            let projected = bytes_at(f64::MAX);
            let maxmemory = cluster.redis.maxmemory_bytes;
            let fills_at = if maxmemory > 0 && projected > maxmemory as f64 {
                Some(if self.scn.start == Start::SteadyState {
                    SimTime::ZERO
                } else {
                    fill_time(&bytes_at, maxmemory as f64, &parts)
                })
            } else {
                None
            };
            for node in &mut self.nodes {
                if node.metrics.cluster == c {
                    node.metrics.projected_used_memory_bytes = projected.round() as u64;
                    node.metrics.fills_at = fills_at;
                }
            }
        }
    }

    /// Keyspace `ks`'s part of cluster `c`'s projection (None for locks: held milliseconds).
    fn projection_part(&self, ks: usize, c: usize, pass_s: f64) -> Option<Part> {
        let k = &self.scn.keyspaces[ks];
        if k.operation == Operation::Lock {
            return None;
        }
        let bytes_per_key = self.bytes_per_key(ks, c);
        let ttl_ms = k.ttl.as_ms();
        let rates = self.key_rates(ks).unwrap_or_else(|| {
            // Keys the expiry closed forms leave out (no TTL, fixed windows): their rates.
            self.traffic.all_key_rates[ks]
                .get_or_init(|| {
                    let span_ms = if ttl_ms == 0 {
                        (NO_TTL_HORIZON_S * 1000.0) as u64
                    } else {
                        max_ttl_ms(ttl_ms, &k.jitter)
                    };
                    let rate_per_s = k.rate_per_s * self.rate_before_start(ks, span_ms);
                    let mut r = KeyRates::new(k.operation, mean_ttl_ms(ttl_ms, &k.jitter) / 1000.0);
                    r.push_keyspace(self, ks, rate_per_s, false);
                    r
                })
                .clone()
        });
        let ghosts = if ttl_ms == 0 {
            0.0
        } else {
            rates.resident(1.0, pass_s) - rates.resident(1.0, 0.0)
        };
        Some(Part {
            bytes_per_key,
            op: rates.op,
            ttl_s: if ttl_ms == 0 { 0.0 } else { rates.ttl_s },
            new_keys_per_s: rates.new_keys_per_s,
            lambdas: compress(&rates.lambdas),
            ghosts,
        })
    }

    /// Cluster `c`'s expire-cursor pass period, s, with every keyspace it holds.
    fn cluster_pass_s(&self, c: usize) -> f64 {
        let rates: Vec<Option<KeyRates>> = (0..self.scn.keyspaces.len())
            .map(|ks| {
                if self.cluster_of_ks[ks] == c {
                    self.key_rates(ks)
                } else {
                    None
                }
            })
            .collect();
        self.pass_period_s(c, &rates, 1.0)
    }

    /// used_memory per key of keyspace `ks` on cluster `c`, bucket arrays aside: a sample of
    /// its keys written through a scratch shard without maxmemory (dict entries, key and value
    /// objects, the expires entry).
    fn bytes_per_key(&self, ks: usize, c: usize) -> f64 {
        let k = &self.scn.keyspaces[ks];
        let cfg = RedisConfig {
            maxmemory_bytes: 0,
            ..self.scn.clusters[c].redis.clone()
        };
        let mut shard = Shard::new(cfg, &RngStream::new(0, 0));
        let ttl_ms = k.ttl.as_ms();
        let tenants = self.scn.tenants.len().max(1);
        let window_s = k.window.as_ms() as f64 / 1000.0;
        let per_actor_per_s = k.rate_per_s
            / self.traffic.samplers[ks]
                .iter()
                .map(|s| s.n() as f64)
                .sum::<f64>()
                .max(1.0);
        for j in 0..SAMPLE_KEYS {
            let tenant = (j as usize) % tenants;
            let n = self.traffic.samplers[ks][tenant].n();
            let item = if k.operation == Operation::Idempotency || n == 0 {
                u64::MAX - j
            } else {
                j / tenants as u64 % n
            };
            let (key, _) = self.key_for(ks, tenant, item);
            let cmd = match (k.operation, k.rate_limit_algorithm) {
                (Operation::RateLimit, RateLimitAlgorithm::FixedWindow) => {
                    Command::IncrExpire { key, ttl_ms }
                }
                (Operation::RateLimit, RateLimitAlgorithm::SlidingWindow) => {
                    let in_window = (per_actor_per_s * window_s).round().max(1.0) as u64;
                    Command::WriteObject {
                        key,
                        object_bytes: objects::zset_bytes(in_window, 16) as u32,
                        object_type: ObjectType::Zset,
                        ttl_ms,
                    }
                }
                (Operation::RateLimit, RateLimitAlgorithm::TokenBucket) => Command::WriteObject {
                    key,
                    object_bytes: objects::token_bucket_bytes() as u32,
                    object_type: ObjectType::Hash,
                    ttl_ms,
                },
                _ => Command::Set {
                    key,
                    value_size: self.value_size(ks, key.id),
                    ttl_ms,
                    nx: false,
                    stamp: 0,
                },
            };
            shard.execute(SimTime::ZERO, cmd);
        }
        let keys = shard.keys().max(1);
        // Bucket arrays are counted at the projected key count, not the sample's.
        let db = shard.db();
        let tables = memory::bucket_array_bytes(db.main_table_size())
            + memory::bucket_array_bytes(db.expires_table_size());
        shard
            .used_memory()
            .saturating_sub(EMPTY_SERVER_USED_MEMORY_BYTES + tables) as f64
            / keys as f64
    }
}

/// Rates grouped in bins 2 % wide on a log scale: (mean rate, keys), so a projection sums a
/// few hundred terms, not one per key (the curves are smooth in λ: the error is far below the
/// sampling noise of a run).
fn compress(lambdas: &[(f64, f64)]) -> Vec<(f64, f64)> {
    let mut bins: std::collections::BTreeMap<i64, (f64, f64)> = std::collections::BTreeMap::new();
    for &(l, n) in lambdas.iter().filter(|&&(l, _)| l > 0.0) {
        let bin = (l.ln() / 0.02).floor() as i64;
        let e = bins.entry(bin).or_insert((0.0, 0.0));
        e.0 += l * n;
        e.1 += n;
    }
    bins.into_values().map(|(sum, n)| (sum / n, n)).collect()
}

/// The first time a cold start's projected memory reaches `maxmemory`, by bisection over the
/// longest TTL (the curve only rises before every key's first expiry; later it is flat but
/// for ghosts, so the first crossing lies in [0, longest TTL]).
fn fill_time(bytes_at: &dyn Fn(f64) -> f64, maxmemory: f64, parts: &[Part]) -> SimTime {
    let longest_s = parts
        .iter()
        .map(|p| {
            if p.ttl_s == 0.0 {
                NO_TTL_HORIZON_S
            } else {
                p.ttl_s
            }
        })
        .fold(0.0, f64::max);
    // Step to the first crossing (coarse), then bisect inside the step.
    let steps = 500;
    let mut prev = 0.0;
    for i in 1..=steps {
        let t = longest_s * i as f64 / steps as f64;
        if bytes_at(t) >= maxmemory {
            let (mut lo, mut hi) = (prev, t);
            for _ in 0..40 {
                let mid = 0.5 * (lo + hi);
                if bytes_at(mid) >= maxmemory {
                    hi = mid;
                } else {
                    lo = mid;
                }
            }
            return SimTime::from_secs_f64(hi);
        }
        prev = t;
    }
    // Reached only through the ghosts (after the longest TTL).
    SimTime::from_secs_f64(longest_s)
}
