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
//! - rate limiters' client-side state (sliding windows, token buckets) and held locks:
//!   `warm_client`.
//!
//! λ is the keyspace's rate averaged over the hour-of-day profile across the TTL before time
//! 0, times the tenant's traffic share and the key's popularity.
//!
//! Keys whose TTL has run out but that active expiry has not reached ("ghosts") hold memory
//! in a long run too: a key that expired a ago is still resident when no request came since
//! (e^(−λa)) and the expire cursor, passing every P seconds, has not reached its bucket
//! (1 − a/P). P comes from expire.c's equilibrium (`redis::expiry_steady`, per cluster); a
//! key is a ghost with probability e·G(λ, P) (e: its expiries per second), written with an
//! expiry a before 0 and its last access a + d ago (d: how long before expiring it was last
//! touched: T for sessions, rate limits and idempotency keys, min(Exp(λ), T) read-through).
//!
//! A `noeviction` cluster whose stationary set does not fit holds, in a long run, what got in
//! when expiry had made room: every write (SET, INCR, ZADD…; never EXPIRE) finds room with a
//! probability s. The first fill measures what each keyspace's keys cost; s is then solved
//! so that the expected live keys and ghosts under s fill maxmemory, and the cluster is
//! drawn again under s (read-through λsT/(1+λsT); sessions D/(D + 1/(λs)) with
//! D = (e^(λT) − 1)/λ, so popular sessions, renewed by their hits, stay; idempotency keys
//! s·rate·T; rate-limit objects 1 − e^(−λsT)).
//!
//! The LFU counter of a key of rate λ is where its increments (probability 1/((c−5)·f + 1)
//! per access) balance the decay (one per `lfu-decay-time` minutes): c = 5 + (60λd − 1)/f,
//! 0 when 60λd < 1, at most 255.

use super::stationary::{
    draw_renewed, exp_ms, expiry_process, first_arrival_ms, in_ghost_share, length_biased_ttl_ms,
    lfu_counter, max_ttl_ms, mean_ttl_ms, poisson, KeyRates, Regime, Renewed, NO_TTL_HORIZON_S,
};
use super::values::LOCK_VALUE_BYTES;
use super::warm_client::{held_lock_ms, rate_history, RateHistory};
use super::Sim;
use crate::client::negative::{self, NEGATIVE_VALUE_BYTES};
use crate::client::ValueMeta;
use crate::engine::time::{f64_to_u64, u64_to_f64, NS_PER_MS};
use crate::engine::{RngStream, SimTime};
use crate::redis::db::KeyRef;
use crate::redis::evict::MaxmemoryPolicy;
use crate::redis::expiry_steady;
use crate::redis::objects;
use crate::redis::shard::{Command, ObjectType};
use crate::scenario::{Jitter, Operation, RateLimitAlgorithm};

/// How many writes ahead `write_live` asks the CPU for the write it will visit.
const PREFETCH_AHEAD: usize = 16;

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
    /// A ghost candidate, placed after the live keys (`place_ghosts`).
    ghost: Option<Ghost>,
    /// A rate-limit actor's requests before time 0, for its client-side limiter (boxed: most
    /// writes have none, and a write is copied and visited in random order).
    rate_history: Option<Box<RateHistory>>,
}

/// The warm writes of one draw: the live writes in the order they were drawn, the random
/// order to write them in (`live_order`, indices into `live`), and the ghost candidates in
/// that random order.
#[derive(Default)]
struct Drawn {
    live: Vec<WarmWrite>,
    live_order: Vec<u32>,
    ghosts: Vec<WarmWrite>,
}

/// What the first fill of live keys did, per keyspace.
struct Fill {
    refused: Vec<u64>,
    accepted: Vec<u64>,
    /// used_memory the accepted writes added.
    bytes: Vec<u64>,
}

/// A key that may be resident with its TTL run out at time 0 (see the module doc).
#[derive(Clone, Copy)]
struct Ghost {
    /// Its request rate, /s (0: never requested again).
    lambda: f64,
    /// How long before expiring it was last touched, ms.
    touched_before_ms: u64,
    /// Its cluster's expire-cursor pass period, s.
    pass_s: f64,
}

impl Sim<'_> {
    /// Fills every cluster of the plan with its stationary set (see the module doc) and zeroes
    /// the shards' counters. Returns, per keyspace, the warm writes the clusters refused (OOM)
    /// when drawn as if every write found room.
    pub(super) fn warm_start(&mut self, seed: u64) -> Vec<u64> {
        let n_ks = self.scn.keyspaces.len();
        let rates: Vec<Option<KeyRates>> = (0..n_ks).map(|ks| self.key_rates(ks)).collect();
        let mut regimes: Vec<Regime> = (0..self.scn.clusters.len())
            .map(|c| Regime {
                pass_s: self.pass_period_s(c, &rates, 1.0),
                admission: 1.0,
            })
            .collect();
        let all: Vec<usize> = (0..n_ks).collect();
        let drawn = self.warm_draws(seed, "warm-start", &all, &regimes);
        let fill = self.write_live(&drawn);
        let mut ghosts = drawn.ghosts;
        // A `noeviction` cluster that cannot hold its stationary set: in a long run, writes
        // get in only when expiry has made room. Solve for that admission probability and
        // draw the cluster again under it.
        let full: Vec<usize> = (0..self.scn.clusters.len())
            .filter(|&c| {
                let cfg = &self.scn.clusters[c].redis;
                cfg.maxmemory_policy == MaxmemoryPolicy::Noeviction
                    && cfg.maxmemory_bytes > 0
                    && (0..n_ks).any(|ks| self.cluster_of_ks[ks] == c && fill.refused[ks] > 0)
            })
            .collect();
        if !full.is_empty() {
            for &c in &full {
                let admission = self.solve_admission(c, &rates, &fill);
                regimes[c] = Regime {
                    pass_s: self.pass_period_s(c, &rates, admission),
                    admission,
                };
            }
            let again: Vec<usize> = (0..n_ks)
                .filter(|&ks| full.contains(&self.cluster_of_ks[ks]))
                .collect();
            for node in &mut self.nodes {
                if full.contains(&node.metrics.cluster) {
                    node.shard.flush_all();
                }
            }
            for &ks in &again {
                self.monitor.forget_written(ks);
                self.clients[ks].meta.clear();
                self.clients[ks].rate.clear();
            }
            ghosts.retain(|w| !again.contains(&(w.ks as usize)));
            let drawn = self.warm_draws(seed, "warm-start/admitted", &again, &regimes);
            self.write_live(&drawn);
            ghosts.extend(drawn.ghosts);
        }
        let mut ghost_rng = RngStream::named(seed, "warm-start/ghosts");
        self.place_ghosts(&ghosts, &mut ghost_rng);
        for node in &mut self.nodes {
            node.shard.clear_counters();
        }
        fill.refused
    }

    /// Draws the stationary keys of keyspaces `which` under their clusters' `regimes`, each
    /// from its stream `keyspace/<name>/<stream>`, in a seeded random order: the live writes
    /// and the ghost candidates.
    fn warm_draws(&self, seed: u64, stream: &str, which: &[usize], regimes: &[Regime]) -> Drawn {
        let mut drawn = Drawn::default();
        let mut order_rng = RngStream::named(seed, &format!("{stream}/order"));
        for &ks in which {
            let name = &self.scn.keyspaces[ks].name;
            let mut rng = RngStream::named(seed, &format!("keyspace/{name}/{stream}"));
            let regime = regimes[self.cluster_of_ks[ks]];
            self.warm_keyspace(ks, regime, &mut rng, &mut order_rng, &mut drawn);
        }
        // The live writes stay where they were drawn and are visited through their order
        // (a write is large: sorting or moving them all costs more than reading each once
        // by index); the fewer ghosts are sorted in place.
        let mut keyed: Vec<(u64, u32)> = drawn
            .live
            .iter()
            .enumerate()
            .map(|(i, w)| (w.order, i as u32))
            .collect();
        keyed.sort_unstable();
        drawn.live_order = keyed.into_iter().map(|(_, i)| i).collect();
        drawn.ghosts.sort_unstable_by_key(|w| w.order);
        drawn
    }

    /// Writes live keys through the shards; what each keyspace's accepted keys cost in memory
    /// and how many writes were refused.
    fn write_live(&mut self, drawn: &Drawn) -> Fill {
        let n_ks = self.scn.keyspaces.len();
        let mut fill = Fill {
            refused: vec![0; n_ks],
            accepted: vec![0; n_ks],
            bytes: vec![0; n_ks],
        };
        // The application's limiters saw the requests whether Redis took the writes or not.
        // Each actor's limiter is its own, so they are replayed in the order drawn (a pass
        // over memory in order), not in the writes' random order.
        for w in &drawn.live {
            if let Some(h) = &w.rate_history {
                self.replay_rate_history(w.ks as usize, h);
            }
        }
        let order = &drawn.live_order;
        for (j, &i) in order.iter().enumerate() {
            // The writes are visited in random order, so each is a cache miss: ask for the
            // write PREFETCH_AHEAD steps on, for the dict bucket of the one half as far, and
            // for the bucket's first entry of the one a quarter as far.
            if let Some(&ahead) = order.get(j + PREFETCH_AHEAD) {
                let w = &drawn.live[ahead as usize];
                crate::engine::prefetch_span(w);
                crate::engine::prefetch(&w.cmd);
            }
            if let Some(&near) = order.get(j + PREFETCH_AHEAD / 2) {
                let (db, key_id) = self.target_of(&drawn.live[near as usize]);
                db.prefetch_write(key_id);
            }
            if let Some(&next) = order.get(j + PREFETCH_AHEAD / 4) {
                // Its bucket has arrived by now: ask for the chain's first entry.
                let (db, key_id) = self.target_of(&drawn.live[next as usize]);
                db.prefetch_entry(key_id);
            }
            let w = &drawn.live[i as usize];
            let ks = w.ks as usize;
            let shard = &mut self.nodes[w.node as usize].shard;
            let before = shard.used_memory();
            if !shard.warm_write(w.cmd, w.idle_ms, w.lfu_counter, 0) {
                fill.refused[ks] += 1;
                continue;
            }
            fill.accepted[ks] += 1;
            fill.bytes[ks] += shard.used_memory().saturating_sub(before);
            if let Command::Set { key, .. } = w.cmd {
                // Where Redis is the source of truth, the record was written before time 0.
                self.monitor.written(ks, key.id);
            }
            self.warm_envelope(w);
        }
        fill
    }

    /// The dict a warm write goes to, and its key's id.
    fn target_of(&self, w: &WarmWrite) -> (&crate::redis::db::Db, u64) {
        let key = super::wire::command_key(&w.cmd);
        (self.nodes[w.node as usize].shard.db(), key.id)
    }

    /// The admission probability s of full `noeviction` cluster `c`: the one at which its
    /// keyspaces' expected live keys and ghosts, at the memory per key the first fill
    /// measured, just fill maxmemory (memory grows with s: `engine::root`).
    fn solve_admission(&self, c: usize, rates: &[Option<KeyRates>], fill: &Fill) -> f64 {
        let cluster = &self.scn.clusters[c];
        let empty_bytes = crate::redis::memory::EMPTY_SERVER_USED_MEMORY_BYTES;
        let room = cluster.redis.maxmemory_bytes.saturating_sub(empty_bytes) as f64
            * f64::from(cluster.shards);
        let needed = |s: f64| {
            let pass_s = self.pass_period_s(c, rates, s);
            let mut bytes = 0.0;
            for (ks, r) in rates.iter().enumerate() {
                if self.cluster_of_ks[ks] != c || fill.accepted[ks] == 0 {
                    continue;
                }
                let per_key = fill.bytes[ks] as f64 / fill.accepted[ks] as f64;
                let keys = match r {
                    Some(r) => r.resident(s, pass_s),
                    // Keys the closed forms leave out (no TTL, locks, fixed windows): as drawn.
                    None => (fill.accepted[ks] + fill.refused[ks]) as f64,
                };
                bytes += keys * per_key;
            }
            bytes
        };
        crate::engine::root::increasing_root(|s| needed(s) - room, 0.0, 1.0, 1e-9).max(1e-6)
    }

    /// Writes the ghosts: a candidate whose bucket the expire cursor (at bucket 0 at time 0,
    /// walking up one pass per P) last visited w = (1 − bucket/size)·P ago stays with
    /// probability F(λ, w)/F(λ, P), expired a ago, a ~ Exp(λ) truncated to [0, w]. Each
    /// node's expires dict is first grown to the size its live keys and ghosts need, so the
    /// buckets are where the run's cursor will find them.
    fn place_ghosts(&mut self, ghosts: &[WarmWrite], rng: &mut RngStream) {
        let mut expected = vec![0.0f64; self.nodes.len()];
        for w in ghosts {
            let g = w.ghost.expect("partitioned");
            // E over w uniform on [0, P] of F(λ, w)/F(λ, P) = G(λ, P)·λ/(1 − e^(−λP)).
            expected[w.node as usize] += expiry_steady::ghost_time_s(g.lambda, g.pass_s)
                / expiry_steady::front_time_s(g.lambda, g.pass_s);
        }
        for (node, extra) in self.nodes.iter_mut().zip(&expected) {
            let db = node.shard.db_mut_for_warm_start();
            let keys = db.expires_len() as u64 + extra.round() as u64;
            db.reserve_expires(keys);
        }
        for w in ghosts {
            let g = w.ghost.expect("partitioned");
            let shard = &mut self.nodes[w.node as usize].shard;
            let key_id = match w.cmd {
                Command::Set { key, .. } | Command::WriteObject { key, .. } => key.id,
                _ => continue,
            };
            let (bucket, size) = shard.db().expires_bucket_of(key_id);
            let since_visit_s = (1.0 - bucket as f64 / size as f64) * g.pass_s;
            let keep = expiry_steady::front_time_s(g.lambda, since_visit_s)
                / expiry_steady::front_time_s(g.lambda, g.pass_s);
            if rng.next_f64() >= keep {
                continue;
            }
            // Exp(λ) truncated to [0, w] by inversion (uniform when λw is tiny).
            let u = rng.next_f64();
            let a_s = if g.lambda * since_visit_s < 1e-9 {
                u * since_visit_s
            } else {
                -(u * (-g.lambda * since_visit_s).exp_m1()).ln_1p() / g.lambda
            };
            let a_ms = (a_s * 1000.0) as u64 + 1;
            let idle_ms = a_ms + g.touched_before_ms;
            shard.warm_write(w.cmd, idle_ms, w.lfu_counter, a_ms);
        }
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
        let kept_stale_ms = self.clients[ks].strategy.kept_stale_ms();
        self.clients[ks].meta.insert(
            key.id,
            ValueMeta {
                // Written before time 0: what lies in the past is at 0, already passed.
                soft_expiry: soft.saturating_sub(age),
                // A lease's stale copy is not warmed (the key expires at its TTL); its
                // envelope still places the logical expiry at the TTL.
                expiry: SimTime((w.ttl_ms + kept_stale_ms) * NS_PER_MS).saturating_sub(age),
                delta,
            },
        );
    }

    /// Draws keyspace `ks`'s stationary keys into `out` under its cluster's `regime`.
    fn warm_keyspace(
        &self,
        ks: usize,
        regime: Regime,
        rng: &mut RngStream,
        order_rng: &mut RngStream,
        out: &mut Drawn,
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
        let mut push = |out: &mut Drawn, node: u32, w: Warm| {
            let to = if w.ghost.is_some() {
                &mut out.ghosts
            } else {
                &mut out.live
            };
            to.push(WarmWrite {
                order: order_rng.next_u64(),
                node,
                ks: ks as u16,
                cmd: w.cmd,
                idle_ms: w.idle_ms,
                lfu_counter: lfu_counter(w.rate_per_s, lfu.0, lfu.1),
                age_ms: w.age_ms,
                ttl_ms: w.ttl_ms,
                ghost: w.ghost,
                rate_history: w.rate_history,
            });
        };
        if k.operation == Operation::Idempotency {
            // The last T of traffic: rate × T keys (its Poisson count's mean), uniform ages.
            let n = (regime.admission * rate_per_s * mean_ttl_ms(ttl_ms, &k.jitter) / 1000.0)
                .round() as u64;
            for j in 0..n {
                let tenant = self.warm_tenant(rng);
                // Items from the top of the range: the run's own keys count up from 1.
                let (key, node) = self.key_for(ks, tenant, u64::MAX - j);
                let t_ms = length_biased_ttl_ms(ttl_ms, &k.jitter, rng);
                let age_ms = f64_to_u64(rng.next_f64() * u64_to_f64(t_ms));
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
            // Ghost candidates: the rate × P keys that expired within the last pass.
            let candidates = (regime.admission * rate_per_s * regime.pass_s).round() as u64;
            for j in 0..candidates {
                let tenant = self.warm_tenant(rng);
                let (key, node) = self.key_for(ks, tenant, u64::MAX - n - j);
                let t_ms = length_biased_ttl_ms(ttl_ms, &k.jitter, rng);
                let cmd = ghost_set(key, self.value_size(ks, key.id));
                push(out, node, ghost_candidate(cmd, 0.0, t_ms, regime.pass_s));
            }
            return;
        }
        for (tenant, t) in self.scn.tenants.iter().enumerate() {
            let sampler = &self.traffic.samplers[ks][tenant];
            let weights = &self.traffic.zipf_weights[ks];
            let n = sampler.n();
            for item in 0..n {
                let lambda = rate_per_s * t.traffic_share * sampler.probability_in(item, weights);
                if lambda <= 0.0 {
                    continue;
                }
                if let Some((node, w)) = self.warm_key(ks, tenant, item, lambda, regime, rng) {
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
        regime: Regime,
        rng: &mut RngStream,
    ) -> Option<(u32, Warm)> {
        let k = &self.scn.keyspaces[ks];
        let base_ttl_ms = k.ttl.as_ms();
        let pass_s = regime.pass_s;
        match k.operation {
            Operation::ReadThrough => {
                // The key (and its shard) is worked out up front only where negative caching
                // needs its id; else only for the few keys that stay. Neither it nor the
                // value size draws from `rng`.
                let negative_cfg = k.strategy.negative.as_ref();
                let early = negative_cfg.map(|_| self.key_for(ks, tenant, item));
                let negative = negative_cfg.filter(|n| {
                    let key = early.expect("keyed when negative caching is on").0;
                    negative::is_negative(key.id, n.fraction)
                });
                let (ttl_ms, jitter) = match negative {
                    Some(n) => (n.ttl.as_ms(), &Jitter::None),
                    None => (base_ttl_ms, &k.jitter),
                };
                let staying = || {
                    let (key, node) = early.unwrap_or_else(|| self.key_for(ks, tenant, item));
                    let value_size = match negative {
                        Some(_) => NEGATIVE_VALUE_BYTES,
                        None => self.value_size(ks, key.id),
                    };
                    (key, node, value_size)
                };
                let (age_ms, t_ms) = if ttl_ms == 0 {
                    if rng.next_f64() >= -(-lambda * NO_TTL_HORIZON_S).exp_m1() {
                        return None;
                    }
                    (0, 0)
                } else {
                    let mean_t_s = mean_ttl_ms(ttl_ms, jitter) / 1000.0;
                    let (live, e) =
                        expiry_process(Operation::ReadThrough, lambda, mean_t_s, regime.admission);
                    let u = rng.next_f64();
                    if u >= live {
                        if !in_ghost_share(u, live, e, lambda, pass_s) {
                            return None;
                        }
                        let t_ms = length_biased_ttl_ms(ttl_ms, jitter, rng);
                        let touched_ms = exp_ms(lambda, rng).min(t_ms);
                        let (key, node, value_size) = staying();
                        let cmd = ghost_set(key, value_size);
                        return Some((node, ghost_candidate(cmd, lambda, touched_ms, pass_s)));
                    }
                    let t_ms = length_biased_ttl_ms(ttl_ms, jitter, rng);
                    (f64_to_u64(rng.next_f64() * u64_to_f64(t_ms)), t_ms)
                };
                let since_access_ms = exp_ms(lambda, rng);
                let idle_ms = if t_ms == 0 {
                    since_access_ms
                } else {
                    since_access_ms.min(age_ms)
                };
                let (key, node, value_size) = staying();
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
                // The key and its value size (no draw of `rng`) only for keys that stay.
                let live_idle_ms =
                    match draw_renewed(Operation::Session, lambda, base_ttl_ms, regime, rng) {
                        Renewed::Absent => return None,
                        Renewed::Live(idle_ms) => Some(idle_ms),
                        Renewed::Ghost => None,
                    };
                let (key, node) = self.key_for(ks, tenant, item);
                let value_size = self.value_size(ks, key.id);
                let Some(idle_ms) = live_idle_ms else {
                    let cmd = ghost_set(key, value_size);
                    return Some((node, ghost_candidate(cmd, lambda, base_ttl_ms, pass_s)));
                };
                let cmd = Command::Set {
                    key,
                    value_size,
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
            Operation::RateLimit => self.warm_rate_limit(ks, tenant, item, lambda, regime, rng),
            Operation::Lock => {
                let (held_ms, left_ms) = held_lock_ms(k, lambda, rng)?;
                let (key, node) = self.key_for(ks, tenant, item);
                let cmd = Command::Set {
                    key,
                    value_size: LOCK_VALUE_BYTES,
                    ttl_ms: left_ms,
                    nx: true,
                    stamp: 0,
                };
                Some((node, Warm::new(cmd, held_ms, held_ms, base_ttl_ms, lambda)))
            }
            Operation::Idempotency => None,
        }
    }

    /// A rate-limit key of actor `item` at time 0 (see the module doc).
    fn warm_rate_limit(
        &self,
        ks: usize,
        tenant: usize,
        item: u64,
        lambda: f64,
        regime: Regime,
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
                let recent = draw_renewed(Operation::RateLimit, lambda, ttl_ms, regime, rng);
                let (key, node) = self.key_for(ks, tenant, item);
                // A live actor's history (`warm_client`) gives its sorted set's size.
                let history = match recent {
                    Renewed::Live(idle_ms) => {
                        let actor = self.actor_number(ks, tenant, item);
                        rate_history(k, actor, key.id, lambda, idle_ms, rng)
                    }
                    _ => None,
                };
                let (object_bytes, object_type) = if algorithm == RateLimitAlgorithm::SlidingWindow
                {
                    let in_window = match &history {
                        Some((_, entries)) => *entries,
                        None => poisson(lambda * window_ms as f64 / 1000.0, rng),
                    };
                    (
                        objects::zset_bytes(in_window.max(1), 16) as u32,
                        ObjectType::Zset,
                    )
                } else {
                    (objects::token_bucket_bytes() as u32, ObjectType::Hash)
                };
                let idle_ms = match recent {
                    Renewed::Live(idle_ms) => idle_ms,
                    Renewed::Absent => return None,
                    Renewed::Ghost => {
                        let cmd = Command::WriteObject {
                            key,
                            object_bytes,
                            object_type,
                            ttl_ms: 1,
                        };
                        let touched = ghost_candidate(cmd, lambda, ttl_ms, regime.pass_s);
                        return Some((node, touched));
                    }
                };
                let cmd = Command::WriteObject {
                    key,
                    object_bytes,
                    object_type,
                    ttl_ms: if ttl_ms == 0 {
                        0
                    } else {
                        (ttl_ms - idle_ms).max(1)
                    },
                };
                let mut warm = Warm::new(cmd, idle_ms, idle_ms, ttl_ms, lambda);
                warm.rate_history = history.map(|(h, _)| Box::new(h));
                Some((node, warm))
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
    ghost: Option<Ghost>,
    rate_history: Option<Box<RateHistory>>,
}

impl Warm {
    fn new(cmd: Command, idle_ms: u64, age_ms: u64, ttl_ms: u64, rate_per_s: f64) -> Warm {
        Warm {
            cmd,
            idle_ms,
            age_ms,
            ttl_ms,
            rate_per_s,
            ghost: None,
            rate_history: None,
        }
    }
}

/// A ghost candidate's SET: a TTL of 1 ms until `place_ghosts` sets its expiry in the past;
/// no stamp (nobody reads it before it is gone).
fn ghost_set(key: KeyRef, value_size: u32) -> Command {
    Command::Set {
        key,
        value_size,
        ttl_ms: 1,
        nx: false,
        stamp: 0,
    }
}

/// A ghost candidate's write (`cmd` with a TTL of 1 ms; its expiry is set when placed),
/// last touched `touched_before_ms` before it expired.
fn ghost_candidate(cmd: Command, lambda: f64, touched_before_ms: u64, pass_s: f64) -> Warm {
    let mut w = Warm::new(cmd, 0, 0, touched_before_ms, lambda);
    w.ghost = Some(Ghost {
        lambda,
        touched_before_ms,
        pass_s,
    });
    w
}
