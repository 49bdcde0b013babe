//! The sweep folder's CSV schemas (documented column by column in `output/README.md`,
//! "Sweep folders"): dedicated row types for the per-cell metric parts, rendered to CSV text
//! when a cell finishes (and stored in its cell file), and the prefix columns (cell, hash,
//! seed, one column per grid parameter) added when the tables are assembled in grid order.
//! Pure: bytes in memory, no files.

use crate::report::tables::CsvRow;
use serde::Serialize;

/// Columns before the grid parameters in `sweep.csv`, `sweep_origins.csv`, `sweep_shards.csv`.
pub const CELL_PREFIX: [&str; 3] = ["cell", "cell_hash", "seed"];
/// Columns before the grid parameters in `sweep_points.csv`.
pub const POINT_PREFIX: [&str; 2] = ["point", "seeds"];

/// Metric part of a `sweep.csv` row: one plan x keyspace of one cell.
#[derive(Serialize)]
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

impl CsvRow for SweepKeyspaceRow<'_> {
    const COLUMNS: &'static [&'static str] = &[
        "plan",
        "keyspace",
        "cluster",
        "requests",
        "redis_hits",
        "hit_ratio",
        "misses",
        "origin_loads",
        "errors",
        "oom_errors",
        "evicted_keys",
        "evicted_before_ttl_keys",
        "expired_keys",
        "latency_ms_p50",
        "latency_ms_p99",
        "redis_latency_ms_p99",
    ];
}

/// Metric part of a `sweep_origins.csv` row: one plan x origin of one cell.
#[derive(Serialize)]
pub struct SweepOriginRow<'a> {
    pub plan: &'a str,
    pub origin: &'a str,
    pub loads: u64,
    pub loads_per_s_peak: f64,
    pub rejected: u64,
    pub timed_out: u64,
    pub queue_wait_ms_p99: Option<f64>,
}

impl CsvRow for SweepOriginRow<'_> {
    const COLUMNS: &'static [&'static str] = &[
        "plan",
        "origin",
        "loads",
        "loads_per_s_peak",
        "rejected",
        "timed_out",
        "queue_wait_ms_p99",
    ];
}

/// Metric part of a `sweep_shards.csv` row: one plan x shard of one cell.
#[derive(Serialize)]
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

impl CsvRow for SweepShardRow<'_> {
    const COLUMNS: &'static [&'static str] = &[
        "plan",
        "cluster",
        "shard",
        "maxmemory_bytes",
        "ops_per_s",
        "utilization",
        "used_memory_peak_bytes",
        "evicted_keys",
        "oom_errors",
    ];
}

/// Metric part of a `sweep_points.csv` row: one plan x keyspace of one point, over its seeds.
#[derive(Serialize)]
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

impl CsvRow for SweepPointRow<'_> {
    const COLUMNS: &'static [&'static str] = &[
        "plan",
        "keyspace",
        "requests",
        "hit_ratio_mean",
        "hit_ratio_ci95",
        "latency_ms_p99",
        "origin_loads_mean",
        "evicted_before_ttl_keys_mean",
    ];
}

/// One row of `size.csv`: the chosen shape of one plan x cluster.
#[derive(Serialize)]
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

impl CsvRow for SizeRow<'_> {
    const COLUMNS: &'static [&'static str] = &[
        "plan",
        "cluster",
        "status",
        "shards",
        "maxmemory_bytes",
        "cost",
        "base_shards",
        "base_maxmemory_bytes",
        "base_cost",
        "evaluations",
        "seeds",
    ];
}

/// One row of `size_margins.csv`: one SLO of one plan at the chosen shapes.
#[derive(Serialize)]
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

impl CsvRow for MarginRow<'_> {
    const COLUMNS: &'static [&'static str] = &[
        "plan",
        "metric",
        "subject",
        "target",
        "measured_worst",
        "margin",
        "pass",
        "attainable",
    ];
}

/// One row of `size_evaluations.csv`: one shape the search ran.
#[derive(Serialize)]
pub struct EvaluationRow<'a> {
    pub plan: &'a str,
    pub cluster: &'a str,
    pub shards: u32,
    pub maxmemory_bytes: u64,
    pub cost: f64,
    pub pass: bool,
    pub failed: &'a str,
}

impl CsvRow for EvaluationRow<'_> {
    const COLUMNS: &'static [&'static str] = &[
        "plan",
        "cluster",
        "shards",
        "maxmemory_bytes",
        "cost",
        "pass",
        "failed",
    ];
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

/// A whole table: the header (prefix columns, parameters, then `T::COLUMNS`) and the rows as
/// `(prefix fields, metric line)` pairs.
pub fn table<T: CsvRow>(
    prefix: &[&str],
    params: &[String],
    rows: &[(Vec<String>, String)],
) -> Vec<u8> {
    let mut header: Vec<String> = prefix.iter().map(|s| s.to_string()).collect();
    header.extend(params.iter().cloned());
    header.extend(T::COLUMNS.iter().map(|s| s.to_string()));
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
pub fn plain_table<T: CsvRow>(rows: &[T]) -> Vec<u8> {
    let mut out = fields_line(&T::COLUMNS.iter().map(|s| s.to_string()).collect::<Vec<_>>());
    out.push('\n');
    for r in rows {
        out.push_str(&line(r));
        out.push('\n');
    }
    out.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header_of<T: Serialize>(row: &T) -> String {
        let mut w = csv::Writer::from_writer(Vec::new());
        w.serialize(row).unwrap();
        String::from_utf8(w.into_inner().unwrap())
            .unwrap()
            .lines()
            .next()
            .unwrap()
            .to_string()
    }

    #[test]
    fn declared_columns_equal_the_serialized_field_names() {
        let k = SweepKeyspaceRow {
            plan: "p",
            keyspace: "k",
            cluster: "c",
            requests: 0,
            redis_hits: 0,
            hit_ratio: None,
            misses: 0,
            origin_loads: 0,
            errors: 0,
            oom_errors: 0,
            evicted_keys: 0,
            evicted_before_ttl_keys: 0,
            expired_keys: 0,
            latency_ms_p50: None,
            latency_ms_p99: None,
            redis_latency_ms_p99: None,
        };
        assert_eq!(header_of(&k), SweepKeyspaceRow::COLUMNS.join(","));
        let o = SweepOriginRow {
            plan: "p",
            origin: "o",
            loads: 0,
            loads_per_s_peak: 0.0,
            rejected: 0,
            timed_out: 0,
            queue_wait_ms_p99: None,
        };
        assert_eq!(header_of(&o), SweepOriginRow::COLUMNS.join(","));
        let s = SweepShardRow {
            plan: "p",
            cluster: "c",
            shard: 0,
            maxmemory_bytes: 0,
            ops_per_s: 0.0,
            utilization: 0.0,
            used_memory_peak_bytes: 0,
            evicted_keys: 0,
            oom_errors: 0,
        };
        assert_eq!(header_of(&s), SweepShardRow::COLUMNS.join(","));
        let p = SweepPointRow {
            plan: "p",
            keyspace: "k",
            requests: 0,
            hit_ratio_mean: None,
            hit_ratio_ci95: None,
            latency_ms_p99: None,
            origin_loads_mean: 0.0,
            evicted_before_ttl_keys_mean: 0.0,
        };
        assert_eq!(header_of(&p), SweepPointRow::COLUMNS.join(","));
        let z = SizeRow {
            plan: "p",
            cluster: "c",
            status: "found",
            shards: None,
            maxmemory_bytes: None,
            cost: None,
            base_shards: 1,
            base_maxmemory_bytes: 1,
            base_cost: 1.0,
            evaluations: 0,
            seeds: 1,
        };
        assert_eq!(header_of(&z), SizeRow::COLUMNS.join(","));
        let m = MarginRow {
            plan: "p",
            metric: "m",
            subject: "s",
            target: 1.0,
            measured_worst: 1.0,
            margin: 0.0,
            pass: true,
            attainable: true,
        };
        assert_eq!(header_of(&m), MarginRow::COLUMNS.join(","));
        let e = EvaluationRow {
            plan: "p",
            cluster: "c",
            shards: 1,
            maxmemory_bytes: 1,
            cost: 1.0,
            pass: true,
            failed: "",
        };
        assert_eq!(header_of(&e), EvaluationRow::COLUMNS.join(","));
    }
}
