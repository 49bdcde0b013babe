//! The sweep folder's CSV schemas (documented column by column in `output/README.md`,
//! "Sweep folders"): dedicated row types for the per-cell metric parts, rendered to CSV text
//! when a cell finishes (and stored in its cell file), and the prefix columns (cell, hash,
//! seed, one column per grid parameter) added when the tables are assembled in grid order.
//! Pure: bytes in memory, no files.

use crate::report::csv_table::columns;
use serde::{Deserialize, Serialize};

/// Columns before the grid parameters in `sweep.csv`, `sweep_origins.csv`, `sweep_shards.csv`.
pub const CELL_PREFIX: [&str; 3] = ["cell", "cell_hash", "seed"];
/// Columns before the grid parameters in `sweep_points.csv`.
pub const POINT_PREFIX: [&str; 2] = ["point", "seeds"];

/// Metric part of a `sweep.csv` row: one plan x keyspace of one cell.
#[derive(Serialize, Deserialize)]
pub struct SweepKeyspaceRow<'a> {
    pub plan: &'a str,
    pub keyspace: &'a str,
    pub cluster: &'a str,
    pub requests: u64,
    pub redis_hits: u64,
    pub hit_ratio: Option<f64>,
    pub misses: u64,
    pub origin_loads: u64,
    pub errors: u64,
    pub oom_errors: u64,
    pub evicted_keys: u64,
    pub evicted_before_ttl_keys: u64,
    pub expired_keys: u64,
    pub latency_ms_p50: Option<f64>,
    pub latency_ms_p99: Option<f64>,
    pub redis_latency_ms_p99: Option<f64>,
}

/// Metric part of a `sweep_origins.csv` row: one plan x origin of one cell.
#[derive(Serialize, Deserialize)]
pub struct SweepOriginRow<'a> {
    pub plan: &'a str,
    pub origin: &'a str,
    pub loads: u64,
    pub loads_per_s_peak: f64,
    pub rejected: u64,
    pub timed_out: u64,
    pub queue_wait_ms_p99: Option<f64>,
}

/// Metric part of a `sweep_shards.csv` row: one plan x shard of one cell.
#[derive(Serialize, Deserialize)]
pub struct SweepShardRow<'a> {
    pub plan: &'a str,
    pub cluster: &'a str,
    pub shard: usize,
    pub maxmemory_bytes: u64,
    pub ops_per_s: f64,
    pub utilization: f64,
    pub used_memory_peak_bytes: u64,
    pub evicted_keys: u64,
    pub oom_errors: u64,
}

/// Metric part of a `sweep_points.csv` row: one plan x keyspace of one point, over its seeds.
#[derive(Serialize, Deserialize)]
pub struct SweepPointRow<'a> {
    pub plan: &'a str,
    pub keyspace: &'a str,
    pub requests: u64,
    pub hit_ratio_mean: Option<f64>,
    pub hit_ratio_ci95: Option<f64>,
    pub latency_ms_p99: Option<f64>,
    pub origin_loads_mean: f64,
    pub evicted_before_ttl_keys_mean: f64,
}

/// One row of `size.csv`: the chosen shape of one plan x cluster.
#[derive(Serialize, Deserialize)]
pub struct SizeRow<'a> {
    pub plan: &'a str,
    pub cluster: &'a str,
    pub status: &'a str,
    pub shards: Option<u32>,
    pub maxmemory_bytes: Option<u64>,
    pub cost: Option<f64>,
    pub base_shards: u32,
    pub base_maxmemory_bytes: u64,
    pub base_cost: f64,
    pub evaluations: usize,
    pub seeds: usize,
}

/// One row of `size_instances.csv`: one candidate (node type × shards × replicas) of one plan ×
/// cluster declared by instance, ascending monthly cost.
#[derive(Serialize, Deserialize)]
pub struct InstanceCandidateRow<'a> {
    pub plan: &'a str,
    pub cluster: &'a str,
    pub rank: usize,
    pub instance: &'a str,
    pub shards: u32,
    pub replicas_per_shard: u32,
    pub nodes: u32,
    pub maxmemory_bytes: u64,
    pub monthly_cost: f64,
    pub currency: &'a str,
    pub status: &'a str,
    pub slo_margin: Option<f64>,
    pub pareto: bool,
    pub failed: &'a str,
}

/// One row of `size_margins.csv`: one SLO of one plan at the chosen shapes.
#[derive(Serialize, Deserialize)]
pub struct MarginRow<'a> {
    pub plan: &'a str,
    pub metric: &'a str,
    pub subject: &'a str,
    pub target: f64,
    pub measured_worst: f64,
    pub margin: f64,
    pub pass: bool,
    pub attainable: bool,
}

/// One row of `size_evaluations.csv`: one shape the search ran.
#[derive(Serialize, Deserialize)]
pub struct EvaluationRow<'a> {
    pub plan: &'a str,
    pub cluster: &'a str,
    pub shards: u32,
    pub maxmemory_bytes: u64,
    pub cost: f64,
    pub pass: bool,
    pub failed: &'a str,
}

/// One serialized row as a CSV line without its line end.
pub fn line<T: Serialize>(row: &T) -> String {
    let mut w = csv::WriterBuilder::new()
        .has_headers(false)
        .from_writer(Vec::new());
    w.serialize(row).expect("rows serialize to memory");
    let bytes = w.into_inner().expect("in-memory writer");
    String::from_utf8(bytes)
        .expect("CSV of UTF-8 fields")
        .trim_end_matches('\n')
        .to_string()
}

/// Plain string fields as a CSV line without its line end.
pub fn fields_line(fields: &[String]) -> String {
    let mut w = csv::WriterBuilder::new()
        .has_headers(false)
        .from_writer(Vec::new());
    w.write_record(fields).expect("in-memory writer");
    let bytes = w.into_inner().expect("in-memory writer");
    String::from_utf8(bytes)
        .expect("CSV of UTF-8 fields")
        .trim_end_matches('\n')
        .to_string()
}

/// A whole table: the header (prefix columns, parameters, then `T`'s columns) and the rows as
/// `(prefix fields, metric line)` pairs.
pub fn table<T: Deserialize<'static>>(
    prefix: &[&str],
    params: &[String],
    rows: &[(Vec<String>, String)],
) -> Vec<u8> {
    let mut header: Vec<String> = prefix.iter().map(|s| s.to_string()).collect();
    header.extend(params.iter().cloned());
    header.extend(columns::<T>().iter().map(|s| s.to_string()));
    let mut out = fields_line(&header);
    out.push('\n');
    for (fields, metrics) in rows {
        out.push_str(&fields_line(fields));
        out.push(',');
        out.push_str(metrics);
        out.push('\n');
    }
    out.into_bytes()
}

/// Rows of a plain (no parameter columns) table.
pub fn plain_table<T: Serialize + Deserialize<'static>>(rows: &[T]) -> Vec<u8> {
    let mut out = fields_line(
        &columns::<T>()
            .iter()
            .map(|s| s.to_string())
            .collect::<Vec<_>>(),
    );
    out.push('\n');
    for r in rows {
        out.push_str(&line(r));
        out.push('\n');
    }
    out.into_bytes()
}
