//! Figures per tenant (`metrics::tenants`): requests and Redis hits counted by the request's
//! tenant, and, by the key's tenant, the keys evicted after the warm-up and the bytes
//! resident at the end.
//!
//! Every key id carries its tenant (`traffic::key_label`; keys derived from another, such as
//! lock keys, keep it), so a logged eviction or a resident key is attributed by reading its
//! id: no walk over the keyspaces' items. The shards log the ids they evict
//! (`Shard::enable_eviction_log`); the logs are attributed when they grow past `LOG_LIMIT`
//! ids and at the end, so their memory stays bounded.

use super::traffic::key_label;
use super::Sim;
use crate::metrics::tenants::TenantResult;
use crate::redis::shard::key_tag;

/// Logged evictions that trigger an attribution pass (8 MiB of ids).
const LOG_LIMIT: usize = 1 << 20;

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

    /// Attributes the logged evictions to their keys' tenants and empties the logs; with
    /// `at_end`, the resident keys' bytes too.
    fn attribute(&mut self, at_end: bool) {
        let shared_row = self.scn.tenants.len();
        let row_of = |id: u64| match key_label(id) {
            0 => shared_row,
            label => label as usize - 1,
        };
        let rows = &mut self.tenant_counters.result.keyspaces;
        for n in &mut self.nodes {
            if let Some(log) = n.shard.evicted_ids_mut() {
                for id in log.drain(..) {
                    rows[key_tag(id)][row_of(id)].evicted_keys += 1;
                }
            }
        }
        if at_end {
            for n in &self.nodes {
                let db = n.shard.db();
                for pos in db.positions(false) {
                    let e = db.entry(pos);
                    let f = &mut rows[key_tag(e.key_id)][row_of(e.key_id)];
                    f.memory_end_bytes += e.bytes as u64;
                    f.keys_end += 1;
                }
            }
        }
    }
}
