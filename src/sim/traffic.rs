//! Traffic: the plan-independent popularity samplers (`Traffic`), a key draw in flight
//! (`Pending`), and where keys live in a plan (`Placement`: how an item becomes a Redis key
//! and a shard). The arrivals themselves are `arrivals`.

use super::stationary::KeyRates;
use super::Sim;
use crate::engine::rng::mix64;
use crate::engine::RngStream;
use crate::redis::db::KeyRef;
use crate::redis::slots::{key_hash_slot, CLUSTER_SLOTS};
use crate::scenario::{Popularity, Scenario};
use crate::workload::popularity::{HotSet, PendingDraw, Uniform, Zipf};
use std::sync::OnceLock;

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

    /// `probability(k)`, read from the keyspace's Zipf weights (`Traffic::zipf_weights`)
    /// where it has them instead of worked out again.
    #[inline]
    pub(super) fn probability_in(&self, k: u64, zipf_weights: &[f64]) -> f64 {
        match self {
            Sampler::Zipf(z) if k < z.n() => z.probability_of_weight(zipf_weights[k as usize]),
            _ => self.probability(k),
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
    /// Per keyspace of Zipf popularity: the weights (k+1)^-alpha its tenants' tables were
    /// built from (empty for other popularities), for `Sampler::probability_in`.
    pub(super) zipf_weights: Vec<Vec<f64>>,
    /// Per keyspace and tenant: a fixed slot when the template hashes a tag (`{{tenant}}`).
    pub(super) tag_slot: Vec<Vec<Option<u16>>>,
    /// Per keyspace and tenant: the number of the tenant's first item among the keyspace's
    /// items of all tenants (the last entry is the total), for dense per-item state.
    pub(super) item_offset: Vec<Vec<u64>>,
    /// Per keyspace: its keys' rates before time 0 as the warm start and the projection see
    /// them (`Sim::key_rates`, `Sim::all_key_rates`), worked out by the first plan that asks
    /// (they depend on the scenario alone) and shared by the others.
    pub(super) key_rates: Vec<OnceLock<Option<KeyRates>>>,
    /// Per keyspace: every key's rate, none left out (the projection's fallback).
    pub(super) all_key_rates: Vec<OnceLock<KeyRates>>,
}

impl Traffic {
    /// Builds the samplers of every keyspace and tenant.
    pub fn new(scn: &Scenario) -> Traffic {
        let mut samplers = Vec::new();
        let mut tag_slot = Vec::new();
        let mut item_offset = Vec::new();
        let mut weights_of = Vec::new();
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
                Popularity::Zipf(a) => {
                    let (tables, weights) = Zipf::family_with_weights(&ns, a)
                        .unwrap_or_else(|e| panic!("validated popularity: {e}"));
                    weights_of.push(weights);
                    tables.into_iter().map(Some).collect()
                }
                _ => {
                    weights_of.push(Vec::new());
                    vec![None; ns.len()]
                }
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
            key_rates: (0..samplers.len()).map(|_| OnceLock::new()).collect(),
            all_key_rates: (0..samplers.len()).map(|_| OnceLock::new()).collect(),
            samplers,
            zipf_weights: weights_of,
            tag_slot,
            item_offset,
        }
    }
}

/// Where keys live in one plan: a keyspace's key of each item (under the keyspace's current
/// version) and its shard, and the dense numbers of rate-limited actors.
#[derive(Clone, Copy)]
pub(super) struct Placement<'s> {
    pub(super) scn: &'s Scenario,
    pub(super) traffic: &'s Traffic,
    /// Per keyspace: its version (a new version renames every key).
    pub(super) version: &'s [u64],
    /// Per keyspace: its cluster.
    pub(super) cluster_of_ks: &'s [usize],
    /// Per cluster: the global index of its first node.
    pub(super) cluster_first_node: &'s [usize],
}

impl Placement<'_> {
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
        // The top byte names the keyspace (per-keyspace eviction and expiry counts), the next
        // 16 bits the tenant (`key_label`), 40 bits of hash the item.
        let label = if k.key_has_tenant {
            tenant as u64 + 1
        } else {
            0
        };
        let id = ((ks as u64) << 56) | (label << 40) | (h & ((1u64 << 40) - 1));
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

/// The tenant label a key id carries (bits 40..56, set by `Placement::key_for`): 1 + the
/// tenant's index, 0 for a keyspace whose keys every tenant shares.
#[inline]
pub(super) fn key_label(id: u64) -> u16 {
    (id >> 40) as u16
}

/// The bits of a key id that name its keyspace and tenant (kept by keys derived from it).
pub(super) const KEY_OWNER_MASK: u64 = 0xFF_FFFF << 40;

impl<'a> Sim<'a> {
    /// Where keys live in this plan, now.
    #[inline]
    pub(super) fn placement(&self) -> Placement<'_> {
        Placement {
            scn: self.scn,
            traffic: self.traffic,
            version: &self.version,
            cluster_of_ks: &self.cluster_of_ks,
            cluster_first_node: &self.cluster_first_node,
        }
    }

    /// The key of `item` in keyspace `ks` for `tenant`, and the global index of its shard.
    #[inline]
    pub(super) fn key_for(&self, ks: usize, tenant: usize, item: u64) -> (KeyRef, u32) {
        self.placement().key_for(ks, tenant, item)
    }

    /// The dense number of item `rank` of `tenant` in keyspace `ks` (see `Placement`).
    #[inline]
    pub(super) fn actor_number(&self, ks: usize, tenant: usize, rank: u64) -> usize {
        self.placement().actor_number(ks, tenant, rank)
    }
}
