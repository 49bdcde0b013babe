//! Figures per tenant (`metrics::tenants`): requests and Redis hits counted by the request's
//! tenant, and, by the key's tenant, the keys evicted after the warm-up and the bytes
//! resident at the end.
//!
//! A key's id does not say its tenant, so the keys are named by walking each keyspace's
//! items for each tenant (`Placement::key_for` at each version the keyspace has had), as the
//! warm start does: a resident key is looked up in its shard, an evicted one among the
//! ids the shards logged (`Shard::enable_eviction_log`). The log is attributed when it grows
//! past `LOG_LIMIT` ids and at the end, so its memory stays bounded. What no walk reaches
//! (idempotency keys, fixed-window counters, lock keys) is unattributed.

use super::traffic::Placement;
use super::Sim;
use crate::engine::IdMap;
use crate::metrics::tenants::TenantResult;
use crate::scenario::Operation;

/// Logged evictions that trigger an attribution pass (8 MiB of ids).
const LOG_LIMIT: usize = 1 << 20;

/// Items looked up ahead of use while walking (their dict buckets prefetched).
const AHEAD: usize = 8;

/// Per-tenant counters of one plan.
pub(super) struct TenantCounters {
    /// The figures so far; memory is filled in at the end.
    pub(super) result: TenantResult,
}

impl TenantCounters {
    pub(super) fn new(n_ks: usize, n_tenants: usize) -> TenantCounters {
        TenantCounters {
            result: TenantResult::new(n_ks, n_tenants),
        }
    }

    /// A request of `tenant` to keyspace `ks` began after the warm-up.
    #[inline]
    pub(super) fn request(&mut self, ks: usize, tenant: usize) {
        self.result.keyspaces[ks][tenant].requests += 1;
    }

    /// A request of `tenant` to keyspace `ks` was answered by a Redis hit.
    #[inline]
    pub(super) fn hit(&mut self, ks: usize, tenant: usize) {
        self.result.keyspaces[ks][tenant].redis_hits += 1;
    }
}

impl Sim<'_> {
    /// Turns on every shard's eviction log (the evictions of the warm-up are dropped at its
    /// end, `drop_eviction_logs`).
    pub(super) fn enable_eviction_logs(&mut self) {
        for n in &mut self.nodes {
            n.shard.enable_eviction_log();
        }
    }

    /// Forgets the evictions logged so far (those of the warm-up).
    pub(super) fn drop_eviction_logs(&mut self) {
        for n in &mut self.nodes {
            if let Some(log) = n.shard.evicted_ids_mut() {
                log.clear();
            }
        }
    }

    /// Attributes the logged evictions when the logs hold more than `LOG_LIMIT` ids.
    pub(super) fn maybe_attribute_evictions(&mut self) {
        let logged: usize = self
            .nodes
            .iter_mut()
            .filter_map(|n| n.shard.evicted_ids_mut().map(|l| l.len()))
            .sum();
        if logged > LOG_LIMIT {
            self.attribute(false);
        }
    }

    /// The per-tenant figures at the end of the run.
    pub(super) fn tenant_result(&mut self) -> TenantResult {
        self.attribute(true);
        std::mem::take(&mut self.tenant_counters.result)
    }

    /// Walks every keyspace's items: the logged evictions are attributed to their tenant and
    /// the logs emptied; with `at_end`, the resident keys' bytes too.
    fn attribute(&mut self, at_end: bool) {
        // Evictions per key id (looked up, never iterated) and per keyspace, as the shards
        // count them, for the unattributed remainder.
        let n_ks = self.scn.keyspaces.len();
        let mut evicted_by_ks = vec![0u64; n_ks];
        let mut evicted: IdMap<u64, u32> = IdMap::default();
        for n in &mut self.nodes {
            if let Some(log) = n.shard.evicted_ids_mut() {
                for id in log.drain(..) {
                    evicted_by_ks[crate::redis::shard::key_tag(id)] += 1;
                    *evicted.entry(id).or_default() += 1;
                }
            }
        }
        let mut resident_by_ks = vec![(0u64, 0u64); n_ks];
        if at_end {
            for n in &self.nodes {
                let db = n.shard.db();
                for pos in db.positions(false) {
                    let e = db.entry(pos);
                    let r = &mut resident_by_ks[crate::redis::shard::key_tag(e.key_id)];
                    r.0 += e.bytes as u64;
                    r.1 += 1;
                }
            }
        }
        let n_tenants = self.scn.tenants.len();
        for ks in 0..n_ks {
            let unused = self.cluster_first_node[self.cluster_of_ks[ks]] == usize::MAX;
            if unused || (!at_end && evicted_by_ks[ks] == 0) {
                continue;
            }
            let k = &self.scn.keyspaces[ks];
            let walkable = matches!(
                k.operation,
                Operation::ReadThrough | Operation::Session | Operation::Lock
            ) || (k.operation == Operation::RateLimit
                && k.rate_limit_algorithm != crate::scenario::RateLimitAlgorithm::FixedWindow);
            let mut attributed_evictions = 0u64;
            let mut attributed = (0u64, 0u64);
            if walkable {
                // A template without the tenant: one walk, every tenant's keys, shared.
                let walks: Vec<(usize, usize)> = if k.key_has_tenant {
                    (0..n_tenants).map(|t| (t, t)).collect()
                } else {
                    vec![(0, n_tenants)]
                };
                for (tenant, row) in walks {
                    let n_items = if k.key_has_tenant {
                        self.traffic.samplers[ks][tenant].n()
                    } else {
                        (0..n_tenants)
                            .map(|t| self.traffic.samplers[ks][t].n())
                            .max()
                            .unwrap_or(0)
                    };
                    let (ev, bytes, keys) = self.walk(ks, tenant, n_items, &evicted, at_end);
                    let f = &mut self.tenant_counters.result.keyspaces[ks][row];
                    f.evicted_keys += ev;
                    f.memory_end_bytes += bytes;
                    f.keys_end += keys;
                    attributed_evictions += ev;
                    attributed.0 += bytes;
                    attributed.1 += keys;
                }
            }
            let row = n_tenants + 1;
            let f = &mut self.tenant_counters.result.keyspaces[ks][row];
            f.evicted_keys += evicted_by_ks[ks] - attributed_evictions;
            if at_end {
                f.memory_end_bytes += resident_by_ks[ks].0 - attributed.0;
                f.keys_end += resident_by_ks[ks].1 - attributed.1;
            }
        }
    }

    /// Items `0..n_items` of keyspace `ks` for `tenant`, at every version the keyspace has
    /// had (a retired version's keys stay until they expire or are evicted, and they are
    /// still their tenant's): their evictions in `evicted` and, with `resident`, the bytes and
    /// number of those resident now.
    fn walk(
        &self,
        ks: usize,
        tenant: usize,
        n_items: u64,
        evicted: &IdMap<u64, u32>,
        resident: bool,
    ) -> (u64, u64, u64) {
        let mut ev = 0u64;
        let mut bytes = 0u64;
        let mut keys = 0u64;
        let mut versions = self.version.clone();
        let mut ahead = [(0u64, 0u32); AHEAD];
        for v in 0..=self.version[ks] {
            versions[ks] = v;
            let place = Placement {
                version: &versions,
                ..self.placement()
            };
            let mut item = 0u64;
            while item < n_items {
                let batch = (n_items - item).min(AHEAD as u64) as usize;
                for (j, slot) in ahead.iter_mut().take(batch).enumerate() {
                    let (key, node) = place.key_for(ks, tenant, item + j as u64);
                    if resident {
                        self.nodes[node as usize].shard.db().prefetch(key.id);
                    }
                    *slot = (key.id, node);
                }
                for &(id, node) in ahead.iter().take(batch) {
                    if !evicted.is_empty() {
                        ev += evicted.get(&id).copied().unwrap_or(0) as u64;
                    }
                    if resident {
                        let db = self.nodes[node as usize].shard.db();
                        if let Some(pos) = db.find(id) {
                            bytes += db.entry(pos).bytes as u64;
                            keys += 1;
                        }
                    }
                }
                item += batch as u64;
            }
        }
        (ev, bytes, keys)
    }
}
