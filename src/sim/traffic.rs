//! Traffic and arrivals: the plan-independent popularity samplers (`Traffic`), each keyspace's
//! Poisson arrival process with its piecewise-constant rate, the tenant and key draws with
//! their prefetch pipeline, and how an item becomes a Redis key and a shard.

use super::Sim;
use crate::engine::rng::mix64;
use crate::engine::{RngStream, SimTime};
use crate::redis::db::KeyRef;
use crate::redis::slots::{key_hash_slot, CLUSTER_SLOTS};
use crate::scenario::{Operation, Popularity, RateLimitAlgorithm, Scenario};
use crate::workload::popularity::{HotSet, PendingDraw, Uniform, Zipf};

/// Key popularity sampler of one (keyspace, tenant).
#[derive(Debug)]
pub(super) enum Sampler {
    Zipf(Zipf),
    Uniform(Uniform),
    HotSet(HotSet),
}

/// A key draw made when the arrival is scheduled and finished when it happens, so the
/// popularity table's cache line can be fetched in between.
#[derive(Clone, Copy, Debug)]
pub(super) enum Pending {
    Zipf(PendingDraw),
    Ready(u64),
    /// Resolved one arrival ahead, with the key and shard it had then (valid while the
    /// keyspace's version is still `version`).
    Keyed {
        item: u64,
        key: KeyRef,
        shard: u32,
        version: u64,
    },
}

impl Sampler {
    pub(super) fn draw(&self, rng: &mut RngStream) -> Pending {
        match self {
            Sampler::Zipf(z) => {
                let d = z.draw(rng);
                z.prefetch(d);
                Pending::Zipf(d)
            }
            Sampler::Uniform(u) => Pending::Ready(u.sample(rng)),
            Sampler::HotSet(h) => Pending::Ready(h.sample(rng)),
        }
    }

    /// The number of items (ranks) it draws from.
    pub(super) fn n(&self) -> u64 {
        match self {
            Sampler::Zipf(z) => z.n(),
            Sampler::Uniform(u) => u.n(),
            Sampler::HotSet(h) => h.n(),
        }
    }

    /// The probability that a draw is item `k`.
    pub(super) fn probability(&self, k: u64) -> f64 {
        match self {
            Sampler::Zipf(z) => z.probability(k),
            Sampler::Uniform(u) => u.probability(k),
            Sampler::HotSet(h) => h.probability(k),
        }
    }

    pub(super) fn resolve(&self, p: Pending) -> u64 {
        match (self, p) {
            (Sampler::Zipf(z), Pending::Zipf(d)) => z.resolve(d),
            (_, Pending::Ready(item) | Pending::Keyed { item, .. }) => item,
            _ => unreachable!("a pending draw is resolved by the sampler that made it"),
        }
    }
}

/// Plan-independent traffic tables, built once per scenario and shared by every plan.
#[derive(Debug)]
pub struct Traffic {
    pub(super) samplers: Vec<Vec<Sampler>>,
    /// Per keyspace and tenant: a fixed slot when the template hashes a tag (`{{tenant}}`).
    pub(super) tag_slot: Vec<Vec<Option<u16>>>,
    /// Per keyspace and tenant: the number of the tenant's first item among the keyspace's
    /// items of all tenants (the last entry is the total), for dense per-item state.
    pub(super) item_offset: Vec<Vec<u64>>,
}

impl Traffic {
    /// Builds the samplers of every keyspace and tenant.
    pub fn new(scn: &Scenario) -> Traffic {
        let mut samplers = Vec::new();
        let mut tag_slot = Vec::new();
        let mut item_offset = Vec::new();
        for ks in &scn.keyspaces {
            let mut per_tenant = Vec::new();
            let mut slots = Vec::new();
            let mut offsets = vec![0];
            let ns: Vec<u64> = scn
                .tenants
                .iter()
                .map(|t| ((ks.keys_per_tenant as f64 * t.size).round() as u64).max(1))
                .collect();
            let mut zipfs = match ks.popularity {
                Popularity::Zipf(a) => Zipf::family(&ns, a)
                    .unwrap_or_else(|e| panic!("validated popularity: {e}"))
                    .into_iter()
                    .map(Some)
                    .collect(),
                _ => vec![None; ns.len()],
            };
            for (ti, t) in scn.tenants.iter().enumerate() {
                let n = ns[ti];
                offsets.push(offsets[offsets.len() - 1] + n);
                per_tenant.push(match ks.popularity {
                    Popularity::Zipf(_) => {
                        Sampler::Zipf(zipfs[ti].take().expect("one table per tenant"))
                    }
                    Popularity::Uniform => Sampler::Uniform(Uniform::new(n)),
                    Popularity::HotSet {
                        hot_keys_fraction,
                        hot_requests_fraction,
                    } => Sampler::HotSet(HotSet::new(n, hot_keys_fraction, hot_requests_fraction)),
                });
                let tagged = ks.key_template.contains("{{tenant}}")
                    || ks.key_template.contains("{{tenantId}}");
                slots.push(tagged.then(|| key_hash_slot(t.name.as_bytes())));
            }
            samplers.push(per_tenant);
            tag_slot.push(slots);
            item_offset.push(offsets);
        }
        Traffic {
            samplers,
            tag_slot,
            item_offset,
        }
    }
}

impl Sim<'_> {
    /// The rate multiplier of keyspace `ks` at `t` (hourly profile times active bursts) and
    /// the time it next may change (the next hour boundary or burst start or end).
    pub(super) fn rate_segment(&self, ks: usize, t: SimTime) -> (f64, SimTime) {
        const HOUR_MS: u64 = 3_600_000;
        let k = &self.scn.keyspaces[ks];
        let unix_ms = self.scn.start_unix_ms + t.as_ms();
        let mut m = k.hourly_profile[(unix_ms / HOUR_MS % 24) as usize];
        let next_hour_ms = (unix_ms / HOUR_MS + 1) * HOUR_MS - self.scn.start_unix_ms;
        let mut end = SimTime::from_ms(next_hour_ms);
        for b in &k.bursts {
            if t >= b.start && t < b.end {
                m *= b.multiplier;
                end = end.min(b.end);
            } else if b.start > t {
                end = end.min(b.start);
            }
        }
        (m, end)
    }

    /// Schedules the next arrival of `ks` after `from`: a Poisson process whose rate is
    /// piecewise constant (`rate_segment`), drawn exactly by spending one unit exponential
    /// across the segments (the time-change construction), without thinning.
    pub(super) fn schedule_arrival(&mut self, ks: usize, from: SimTime) {
        let base_per_s = self.scn.keyspaces[ks].rate_per_s;
        let mut work = self.arrival_work[ks].sample();
        let mut t = from;
        loop {
            let (m, end) = self.rate_segment(ks, t);
            let rate = base_per_s * m;
            if rate > 0.0 {
                let at = SimTime(t.0.saturating_add(SimTime::from_secs_f64(work / rate).0));
                if at < end {
                    t = at;
                    break;
                }
                work = (work - rate * (end - t).as_secs_f64()).max(0.0);
            }
            t = end;
            if t >= self.scn.duration {
                return;
            }
        }
        if t >= self.scn.duration {
            return;
        }
        self.next_arrival[ks] = (t.0, self.queue.take_seq());
        // Draws run ahead of their arrivals in three steps so each step's memory is fetched
        // while other work goes on: two arrivals ahead the popularity table's line is fetched
        // (`draw_next_key`); one ahead the draw is resolved, its key computed and its dict
        // bucket (or rate-limit state) fetched; now, for the arrival just scheduled, the bucket
        // is read and the chain's first entry (or the window's ends) fetched. Prefetches are
        // hints: they never change a result.
        if let Some(&(tenant, pending)) = self.next_key[ks].front() {
            let k = &self.scn.keyspaces[ks];
            let rate_limit = k.operation == Operation::RateLimit;
            if rate_limit && !matches!(pending, Pending::Zipf(_)) {
                let item = self.traffic.samplers[ks][tenant].resolve(pending);
                let actor = self.actor_number(ks, tenant, item);
                self.clients[ks].rate.prefetch_window(actor);
            }
            match pending {
                Pending::Keyed { key, shard, .. } => {
                    self.nodes[shard as usize].shard.db().prefetch_entry(key.id);
                }
                Pending::Ready(item)
                    if rate_limit && k.rate_limit_algorithm == RateLimitAlgorithm::FixedWindow =>
                {
                    // A fixed window's key names the arrival's window, known only now.
                    let window = (t.as_ns() / k.window.as_ns()) << 32;
                    let (key, shard) = self.key_for(ks, tenant, item ^ window);
                    self.nodes[shard as usize].shard.db().prefetch(key.id);
                }
                _ => {}
            }
        }
        if let Some(&(tenant, pending)) = self.next_key[ks].get(1) {
            let item = self.traffic.samplers[ks][tenant].resolve(pending);
            let resolved = match self.scn.keyspaces[ks].operation {
                Operation::Idempotency => Pending::Ready(item),
                Operation::RateLimit
                    if self.scn.keyspaces[ks].rate_limit_algorithm
                        == RateLimitAlgorithm::FixedWindow =>
                {
                    let actor = self.actor_number(ks, tenant, item);
                    self.clients[ks].rate.prefetch(actor);
                    Pending::Ready(item)
                }
                op => {
                    if op == Operation::RateLimit {
                        let actor = self.actor_number(ks, tenant, item);
                        self.clients[ks].rate.prefetch(actor);
                    }
                    let (key, shard) = self.key_for(ks, tenant, item);
                    self.nodes[shard as usize].shard.db().prefetch(key.id);
                    Pending::Keyed {
                        item,
                        key,
                        shard,
                        version: self.version[ks],
                    }
                }
            };
            self.next_key[ks][1] = (tenant, resolved);
        }
        self.draw_next_key(ks);
    }

    /// The dense number of item `rank` of `tenant` in keyspace `ks`, for per-actor state:
    /// without the tenant in the key template every tenant's item `rank` is the same key, so
    /// the same actor.
    pub(super) fn actor_number(&self, ks: usize, tenant: usize, rank: u64) -> usize {
        if self.scn.keyspaces[ks].key_has_tenant {
            (self.traffic.item_offset[ks][tenant] + rank) as usize
        } else {
            rank as usize
        }
    }

    /// Draws the tenant and key of a future arrival of `ks` (prefetching the popularity
    /// table's line).
    pub(super) fn draw_next_key(&mut self, ks: usize) {
        let u = self.key_rng[ks].next_f64();
        let mut tenant = self.scn.tenants.len() - 1;
        let mut acc = 0.0;
        for (i, tn) in self.scn.tenants.iter().enumerate() {
            acc += tn.traffic_share;
            if u < acc {
                tenant = i;
                break;
            }
        }
        let item = match self.scn.keyspaces[ks].operation {
            Operation::Idempotency => Pending::Ready(0),
            _ => self.traffic.samplers[ks][tenant].draw(&mut self.key_rng[ks]),
        };
        self.next_key[ks].push_back((tenant, item));
    }

    /// The earliest pending arrival by (time, sequence number) and its keyspace.
    pub(super) fn earliest_arrival(&self) -> (usize, (u64, u64)) {
        let (mut ks, mut first) = (0, (u64::MAX, u64::MAX));
        for (k, &at) in self.next_arrival.iter().enumerate() {
            if at < first {
                (ks, first) = (k, at);
            }
        }
        (ks, first)
    }

    /// The key of `item` in keyspace `ks` for `tenant`, and the global index of its shard.
    pub(super) fn key_for(&self, ks: usize, tenant: usize, item: u64) -> (KeyRef, u32) {
        let k = &self.scn.keyspaces[ks];
        // A template without the tenant makes every tenant's item i the same key.
        let tenant_bits = if k.key_has_tenant {
            (tenant as u64) << 40
        } else {
            0
        };
        let h = mix64(
            mix64(item.wrapping_add(0x9E37_79B9_7F4A_7C15))
                ^ tenant_bits
                ^ (self.version[ks] << 20),
        );
        // The top byte names the keyspace (per-keyspace eviction and expiry counts).
        let id = ((ks as u64) << 56) | (h & ((1u64 << 56) - 1));
        (
            KeyRef {
                id,
                len: k.key_len_bytes,
            },
            self.shard_of(ks, tenant, id),
        )
    }

    /// Keys without a hash tag get a uniform slot from their id, which is what CRC16 of
    /// distinct key strings amounts to; tagged keys share their tag's slot.
    pub(super) fn shard_of(&self, ks: usize, tenant: usize, id: u64) -> u32 {
        let slot = self.traffic.tag_slot[ks][tenant]
            .unwrap_or((mix64(id ^ 0xC0FF_EE00) % CLUSTER_SLOTS as u64) as u16);
        let cluster = self.cluster_of_ks[ks];
        (self.cluster_first_node[cluster] + self.scn.clusters[cluster].slot_map.shard_of_slot(slot))
            as u32
    }
}
