//! The sweep's final tables, assembled from the cell records in grid order: `sweep.csv`,
//! `sweep_origins.csv`, `sweep_shards.csv` (one row per cell x plan x keyspace / origin /
//! shard, rows rendered when the cell ran) and `sweep_points.csv` (one row per point x plan x
//! keyspace over the point's seeds: hit-ratio mean with a 95% confidence interval, and p99 of
//! the seeds' latency histograms added together — quantiles are never averaged). Pure.

use super::cell::{histogram_from_pairs, CellRecord};
use super::grid::{CellSpec, Grid};
use super::tables::{
    table, SweepKeyspaceRow, SweepOriginRow, SweepPointRow, SweepShardRow, CELL_PREFIX,
    POINT_PREFIX,
};
use crate::metrics::summary::{quantile_ms, ratio};

/// Mean and half-width of the 95% confidence interval (1.96·sd/√n, sample sd); the
/// half-width is `None` with fewer than two values.
pub fn mean_ci95(values: &[f64]) -> Option<(f64, Option<f64>)> {
    if values.is_empty() {
        return None;
    }
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    if values.len() < 2 {
        return Some((mean, None));
    }
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
    Some((mean, Some(1.96 * var.sqrt() / n.sqrt())))
}

fn cell_prefix(spec: &CellSpec, rec: &CellRecord) -> Vec<String> {
    let mut f = vec![
        spec.index.to_string(),
        rec.cell_hash.clone(),
        rec.seed.to_string(),
    ];
    f.extend(rec.parameters.iter().map(|(_, v)| v.clone()));
    f
}

/// The CSV files of a sweep, `(name, bytes)`, from every cell's record in grid order.
pub fn tables(grid: &Grid, cells: &[(CellSpec, CellRecord)]) -> Vec<(String, Vec<u8>)> {
    let params = grid.params();
    let mut ks_rows = Vec::new();
    let mut origin_rows = Vec::new();
    let mut shard_rows = Vec::new();
    for (spec, rec) in cells {
        let prefix = cell_prefix(spec, rec);
        for l in &rec.keyspace_rows {
            ks_rows.push((prefix.clone(), l.clone()));
        }
        for l in &rec.origin_rows {
            origin_rows.push((prefix.clone(), l.clone()));
        }
        for l in &rec.shard_rows {
            shard_rows.push((prefix.clone(), l.clone()));
        }
    }
    vec![
        (
            "sweep.csv".to_string(),
            table::<SweepKeyspaceRow>(&CELL_PREFIX, &params, &ks_rows),
        ),
        (
            "sweep_origins.csv".to_string(),
            table::<SweepOriginRow>(&CELL_PREFIX, &params, &origin_rows),
        ),
        (
            "sweep_shards.csv".to_string(),
            table::<SweepShardRow>(&CELL_PREFIX, &params, &shard_rows),
        ),
        (
            "sweep_points.csv".to_string(),
            table::<SweepPointRow>(&POINT_PREFIX, &params, &point_rows(grid, cells)),
        ),
    ]
}

/// The cells of each point, in point order (a point's seeds are consecutive in grid order).
pub fn by_point<'a>(
    grid: &Grid,
    cells: &'a [(CellSpec, CellRecord)],
) -> Vec<&'a [(CellSpec, CellRecord)]> {
    cells.chunks(grid.seeds.len()).collect()
}

fn point_rows(grid: &Grid, cells: &[(CellSpec, CellRecord)]) -> Vec<(Vec<String>, String)> {
    let mut rows = Vec::new();
    for (point, group) in by_point(grid, cells).into_iter().enumerate() {
        let first = &group[0].1;
        let mut prefix = vec![point.to_string(), group.len().to_string()];
        prefix.extend(first.parameters.iter().map(|(_, v)| v.clone()));
        for (pi, plan) in first.plans.iter().enumerate() {
            for (ki, name) in first.keyspaces.iter().enumerate() {
                let per_seed: Vec<_> = group
                    .iter()
                    .map(|(_, r)| &r.plans[pi].keyspaces[ki])
                    .collect();
                let n = per_seed.len() as f64;
                let ratios: Vec<f64> = per_seed
                    .iter()
                    .filter(|k| k.has_hit_ratio)
                    .filter_map(|k| ratio(k.redis_hits, k.requests))
                    .collect();
                let hit = mean_ci95(&ratios);
                let mut pooled = histogram_from_pairs(&per_seed[0].latency_us);
                for k in &per_seed[1..] {
                    pooled
                        .add(histogram_from_pairs(&k.latency_us))
                        .expect("latency histograms share their bounds");
                }
                let row = SweepPointRow {
                    plan: &plan.plan,
                    keyspace: name,
                    requests: per_seed.iter().map(|k| k.requests).sum(),
                    hit_ratio_mean: hit.map(|h| h.0),
                    hit_ratio_ci95: hit.and_then(|h| h.1),
                    latency_ms_p99: quantile_ms(&pooled, 0.99),
                    origin_loads_mean: per_seed.iter().map(|k| k.origin_loads as f64).sum::<f64>()
                        / n,
                    evicted_before_ttl_keys_mean: per_seed
                        .iter()
                        .map(|k| k.evicted_before_ttl_keys as f64)
                        .sum::<f64>()
                        / n,
                };
                rows.push((prefix.clone(), super::tables::line(&row)));
            }
        }
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn confidence_intervals() {
        assert_eq!(mean_ci95(&[]), None);
        assert_eq!(mean_ci95(&[2.0]), Some((2.0, None)));
        let (m, ci) = mean_ci95(&[1.0, 2.0, 3.0]).unwrap();
        assert_eq!(m, 2.0);
        assert!((ci.unwrap() - 1.96 / 3f64.sqrt()).abs() < 1e-12);
    }
}
