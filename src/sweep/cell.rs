//! One cell of a sweep: its scenario document (the base with the cell's values applied), its
//! hash, its run (every plan, `sim::run_all_plans`) and its record: the cell's CSV rows
//! rendered once, plus the raw figures the sweep's aggregates and charts need (request and hit
//! counts, the latency HdrHistograms as (value, count) pairs so that seeds are pooled by
//! adding histograms, never by averaging quantiles, origin peaks). The record is what a cell
//! file (`cells/<hash>.json`) holds; it is the sweep's own format, versioned by
//! [`CELL_FORMAT`]. Pure: no files (the `folder` module stores records).

use super::grid::{value_text, CellSpec};
use super::tables::{SweepKeyspaceRow, SweepOriginRow, SweepShardRow};
use super::{apply, hex64, SweepError, VERSION};
use crate::engine::rng::fnv1a64;
use crate::metrics::summary::{has_hit_ratio, PlanSummary};
use crate::metrics::{new_latency_histogram, PlanResult};
use crate::scenario::{self, Scenario};
use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};
use toml_edit::DocumentMut;

/// Version of the cell file format.
pub const CELL_FORMAT: u32 = 1;

/// One keyspace of one plan in a cell record.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct CellKeyspace {
    /// Requests after the warm-up.
    pub requests: u64,
    /// Redis hits.
    pub redis_hits: u64,
    /// Whether the keyspace has a hit ratio (not rate-limit or lock).
    pub has_hit_ratio: bool,
    /// Origin loads.
    pub origin_loads: u64,
    /// Evictions before the TTL.
    pub evicted_before_ttl_keys: u64,
    /// Index of the origin it loads from, if any.
    pub origin: Option<usize>,
    /// End-to-end latency histogram (µs) as `(value, count)` pairs of its recorded buckets.
    pub latency_us: Vec<(u64, u64)>,
}

/// One plan of a cell record.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct CellPlan {
    /// Plan name.
    pub plan: String,
    /// Per keyspace, scenario order.
    pub keyspaces: Vec<CellKeyspace>,
    /// Peak loads/s per origin, scenario order.
    pub origin_peaks_per_s: Vec<f64>,
}

/// Everything a finished cell contributes to the sweep's outputs.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct CellRecord {
    /// [`CELL_FORMAT`].
    pub format: u32,
    /// The cell's hash (its file name).
    pub cell_hash: String,
    /// The run seed.
    pub seed: u64,
    /// `(path, value)` of the grid parameters, as printed in the CSVs.
    pub parameters: Vec<(String, String)>,
    /// Keyspace names, scenario order.
    pub keyspaces: Vec<String>,
    /// Origin names, scenario order.
    pub origins: Vec<String>,
    /// Metric parts of the cell's `sweep.csv` rows, plan x keyspace order.
    pub keyspace_rows: Vec<String>,
    /// Metric parts of the cell's `sweep_origins.csv` rows, plan x origin order.
    pub origin_rows: Vec<String>,
    /// Metric parts of the cell's `sweep_shards.csv` rows, plan x shard order.
    pub shard_rows: Vec<String>,
    /// Per plan, scenario order.
    pub plans: Vec<CellPlan>,
}

/// A built cell: its spec, the edited scenario text, the validated scenario and its hash.
#[derive(Clone, Debug)]
pub struct BuiltCell {
    /// Position and values in the grid.
    pub spec: CellSpec,
    /// The validated scenario.
    pub scenario: Scenario,
    /// The cell's hash (16 hex digits).
    pub hash: String,
}

/// The canonical text of a scenario document: parsed and re-serialized with sorted keys, so
/// comments, layout and key order do not change a hash.
pub fn canonical_toml(text: &str) -> String {
    match toml::from_str::<toml::Table>(text) {
        Ok(t) => toml::to_string(&t).unwrap_or_else(|_| text.to_string()),
        Err(_) => text.to_string(),
    }
}

/// The hash naming a cell: FNV-1a over the canonical TOML of its scenario, its seed and the
/// cacheplan version.
pub fn cell_hash(scenario_text: &str, seed: u64) -> String {
    let text = format!(
        "{}\n#seed={seed}\n#cacheplan={VERSION}\n",
        canonical_toml(scenario_text)
    );
    hex64(fnv1a64(text.as_bytes()))
}

/// Applies a cell's values to the base document and validates the result with the normal
/// `scenario::parse`; `file` names the scenario in located errors.
pub fn build(base: &DocumentMut, spec: &CellSpec, file: &str) -> Result<BuiltCell, SweepError> {
    let mut doc = base.clone();
    let describe = || {
        spec.assignments
            .iter()
            .map(|(p, v)| format!("{p} = {}", value_text(v)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    for (path, value) in &spec.assignments {
        apply::apply(&mut doc, path, value).map_err(|m| {
            SweepError::input(format!("grid cell {} ({}): {m}", spec.index, describe()))
        })?;
    }
    let text = doc.to_string();
    let scenario = scenario::parse(&text, file).map_err(|e| {
        SweepError::input(format!("grid cell {} ({}): {e}", spec.index, describe()))
    })?;
    Ok(BuiltCell {
        spec: spec.clone(),
        hash: cell_hash(&text, spec.seed),
        scenario,
    })
}

fn histogram_pairs(h: &Histogram<u64>) -> Vec<(u64, u64)> {
    h.iter_recorded()
        .map(|v| (v.value_iterated_to(), v.count_at_value()))
        .collect()
}

/// Rebuilds a latency histogram from its `(value, count)` pairs.
pub fn histogram_from_pairs(pairs: &[(u64, u64)]) -> Histogram<u64> {
    let mut h = new_latency_histogram();
    for &(v, n) in pairs {
        h.saturating_record_n(v, n);
    }
    h
}

/// Runs every plan of a built cell and records it.
pub fn run(cell: &BuiltCell) -> CellRecord {
    let results = crate::sim::run_all_plans(&cell.scenario, cell.spec.seed);
    record(cell, &results)
}

/// The record of a cell from its plans' results.
pub fn record(cell: &BuiltCell, results: &[PlanResult]) -> CellRecord {
    let scn = &cell.scenario;
    let mut keyspace_rows = Vec::new();
    let mut origin_rows = Vec::new();
    let mut shard_rows = Vec::new();
    let mut plans = Vec::new();
    for res in results {
        let plan = &scn.plans[res.plan];
        let summary = PlanSummary::of(scn, res);
        let mut keyspaces = Vec::new();
        for (ki, k) in scn.keyspaces.iter().enumerate() {
            let m = &res.keyspaces[ki];
            let s = &summary.keyspaces[ki];
            keyspace_rows.push(super::tables::line(&SweepKeyspaceRow {
                plan: &plan.name,
                keyspace: &k.name,
                cluster: &scn.clusters[plan.cluster_of_keyspace[ki]].name,
                requests: s.requests,
                redis_hits: s.redis_hits,
                hit_ratio: s.hit_ratio,
                misses: s.misses,
                origin_loads: s.origin_loads,
                errors: s.errors,
                oom_errors: s.oom_errors,
                evicted_keys: s.evicted_keys,
                evicted_before_ttl_keys: s.evicted_before_ttl_keys,
                expired_keys: s.expired_keys,
                latency_ms_p50: s.latency_ms_p50,
                latency_ms_p99: s.latency_ms_p99,
                redis_latency_ms_p99: s.redis_latency_ms_p99,
            }));
            keyspaces.push(CellKeyspace {
                requests: s.requests,
                redis_hits: s.redis_hits,
                has_hit_ratio: has_hit_ratio(k),
                origin_loads: s.origin_loads,
                evicted_before_ttl_keys: s.evicted_before_ttl_keys,
                origin: k.origin,
                latency_us: histogram_pairs(&m.latency_us),
            });
        }
        for (oi, o) in scn.origins.iter().enumerate() {
            let m = &res.origins[oi];
            origin_rows.push(super::tables::line(&SweepOriginRow {
                plan: &plan.name,
                origin: &o.name,
                loads: m.loads,
                loads_per_s_peak: summary.origin_peaks_per_s[oi],
                rejected: m.rejected,
                timed_out: m.timed_out,
                queue_wait_ms_p99: summary.origin_queue_wait_ms_p99[oi],
            }));
        }
        for (s, rate) in res.shards.iter().zip(&summary.shards) {
            let c = &scn.clusters[s.cluster];
            shard_rows.push(super::tables::line(&SweepShardRow {
                plan: &plan.name,
                cluster: &c.name,
                shard: s.shard,
                maxmemory_bytes: c.redis.maxmemory_bytes,
                ops_per_s: rate.ops_per_s,
                utilization: rate.utilization,
                used_memory_peak_bytes: s.used_memory_peak_bytes,
                evicted_keys: s.evicted_keys,
                oom_errors: s.oom_errors,
            }));
        }
        plans.push(CellPlan {
            plan: plan.name.clone(),
            keyspaces,
            origin_peaks_per_s: summary.origin_peaks_per_s,
        });
    }
    CellRecord {
        format: CELL_FORMAT,
        cell_hash: cell.hash.clone(),
        seed: cell.spec.seed,
        parameters: cell
            .spec
            .assignments
            .iter()
            .map(|(p, v)| (p.clone(), value_text(v)))
            .collect(),
        keyspaces: scn.keyspaces.iter().map(|k| k.name.clone()).collect(),
        origins: scn.origins.iter().map(|o| o.name.clone()).collect(),
        keyspace_rows,
        origin_rows,
        shard_rows,
        plans,
    }
}

/// The text of a cell file.
pub fn encode(rec: &CellRecord) -> String {
    let mut s = serde_json::to_string(rec).expect("a cell record serializes");
    s.push('\n');
    s
}

/// Reads a cell file's text; `None` when it is not a complete record of this format.
pub fn decode(text: &str) -> Option<CellRecord> {
    serde_json::from_str::<CellRecord>(text)
        .ok()
        .filter(|r| r.format == CELL_FORMAT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_ignore_layout_but_not_values_or_seeds() {
        let a = "a = 1\n# note\nb = \"x\"\n";
        let b = "b = \"x\"\na   =   1\n";
        assert_eq!(cell_hash(a, 1), cell_hash(b, 1));
        assert_ne!(cell_hash(a, 1), cell_hash(a, 2));
        assert_ne!(cell_hash(a, 1), cell_hash("a = 2\nb = \"x\"\n", 1));
    }

    #[test]
    fn histograms_survive_their_pairs() {
        let mut h = new_latency_histogram();
        for v in [1u64, 17, 999, 1234, 56_789, 3_000_000] {
            h.record_n(v, v % 7 + 1).unwrap();
        }
        let back = histogram_from_pairs(&histogram_pairs(&h));
        for q in [0.0, 0.5, 0.9, 0.99, 1.0] {
            assert_eq!(h.value_at_quantile(q), back.value_at_quantile(q));
        }
        assert_eq!(h.len(), back.len());
    }
}
