//! Figures per tenant: each keyspace's requests and Redis hits by the tenant that made them,
//! and its resident bytes and evictions by the tenant whose key it was, so a noisy neighbour
//! is visible. Recording only, no formatting.
//!
//! Keys of a keyspace whose template has no `{tenant}` are every tenant's at once: their
//! bytes and evictions go to the keyspace's `shared` row. Every other key is its tenant's,
//! whatever it holds (cached values, idempotency keys, rate-limit counters, lock keys), and
//! keys of a version retired by a `new-version` event stay their tenant's. So for each
//! keyspace, tenants + shared add up to the keyspace's totals.

/// One keyspace's figures for one tenant (or for its shared keys).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TenantFigures {
    /// User requests after the warm-up (0 for the shared row).
    pub requests: u64,
    /// Of those, answered from Redis.
    pub redis_hits: u64,
    /// Bytes the model charges to the keys resident at the end (dict entry, key and value
    /// objects; buckets and expires entries excluded).
    pub memory_end_bytes: u64,
    /// Keys resident at the end.
    pub keys_end: u64,
    /// Keys evicted after the warm-up.
    pub evicted_keys: u64,
}

/// Per-tenant figures of one plan.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TenantResult {
    /// Tenants of the scenario.
    pub n_tenants: usize,
    /// Per keyspace: `n_tenants + 1` rows: the tenants in scenario order, then the shared
    /// keys.
    pub keyspaces: Vec<Vec<TenantFigures>>,
}

impl TenantResult {
    /// Zeroed figures of `n_ks` keyspaces and `n_tenants` tenants.
    pub fn new(n_ks: usize, n_tenants: usize) -> TenantResult {
        TenantResult {
            n_tenants,
            keyspaces: vec![vec![TenantFigures::default(); n_tenants + 1]; n_ks],
        }
    }

    /// Row of the shared keys.
    pub fn shared_row(&self) -> usize {
        self.n_tenants
    }

    /// Figures of tenant (or row) `row` summed over the keyspaces.
    pub fn total_of(&self, row: usize) -> TenantFigures {
        let mut t = TenantFigures::default();
        for ks in &self.keyspaces {
            let f = ks[row];
            t.requests += f.requests;
            t.redis_hits += f.redis_hits;
            t.memory_end_bytes += f.memory_end_bytes;
            t.keys_end += f.keys_end;
            t.evicted_keys += f.evicted_keys;
        }
        t
    }
}
