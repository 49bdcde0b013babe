//! Horizon diagnostics (`steady_state`, `steady_state_reason` in `summary.csv` and
//! `shards.csv`; criteria in `output/README.md`, "Steady state"): a cold run shorter than a
//! keyspace's TTL says so, and a cold run many TTLs long with a cache far from full is at
//! steady state everywhere.

use crate::{arg, check_exit, TempDir};
use std::collections::BTreeMap;
use std::path::Path;

/// A cold scenario: one cluster far from its maxmemory, a read-through and a session keyspace
/// with the TTL `ttl`, run for `duration` with `warmup` and `window`.
fn scenario(duration: &str, warmup: &str, window: &str, ttl: &str) -> String {
    format!(
        r#"version = 1
name = "horizon"

[simulation]
duration_ms = "{duration}"
warmup_ms = "{warmup}"
window_ms = "{window}"
start = "cold"

[[tenants]]
name = "t1"

[[origins]]
name = "db"
concurrency = 64
service_time_ms = {{ dist = "fixed", value = 2 }}

[[clusters]]
name = "main"
shards = 2
maxmemory_bytes = "64mb"
maxmemory_policy = "allkeys-lru"

[[keyspaces]]
name = "catalog"
key_template = "catalog:{{tenant}}:item:{{id}}"
operation = "read-through"
rate_per_s = 300
keys_per_tenant = 3000
popularity = {{ dist = "zipf", alpha = 0.9 }}
value_size_bytes = {{ dist = "fixed", value = 500 }}
ttl_ms = "{ttl}"
origin = "db"

[[keyspaces]]
name = "session"
key_template = "session:{{{{tenant}}}}:user:{{userId}}"
operation = "session"
rate_per_s = 100
keys_per_tenant = 1000
value_size_bytes = {{ dist = "fixed", value = 300 }}
ttl_ms = "{ttl}"
origin = "db"

[[plans]]
name = "only"
placement = {{ catalog = "main", session = "main" }}
"#
    )
}

/// Runs `toml` with seed 11 and returns the rows of `file` as column -> cell.
fn run(dir: &TempDir, toml: &str, file: &str) -> Vec<BTreeMap<String, String>> {
    let scenario = dir.write("horizon.toml", toml);
    let out = dir.join("run");
    check_exit(
        &[
            "run",
            arg(&scenario),
            "--out",
            arg(&out),
            "--seed",
            "11",
            "--quiet",
        ],
        0,
    );
    rows(&out, file)
}

fn rows(run: &Path, file: &str) -> Vec<BTreeMap<String, String>> {
    let mut reader = csv::Reader::from_path(run.join(file)).expect(file);
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    reader
        .records()
        .map(|r| {
            header
                .iter()
                .cloned()
                .zip(r.unwrap().iter().map(String::from))
                .collect()
        })
        .collect()
}

#[test]
fn a_cold_run_shorter_than_the_ttl_is_not_at_steady_state() {
    let dir = TempDir::new("horizon-short");
    let summary = run(&dir, &scenario("2m", "20s", "5s", "10m"), "summary.csv");
    assert_eq!(summary.len(), 2);
    for row in &summary {
        assert_eq!(row["steady_state"], "no", "{row:?}");
        assert!(
            row["steady_state_reason"].starts_with("horizon 2m < TTL 10m (cold start)"),
            "{row:?}"
        );
    }
}

#[test]
fn the_same_short_run_warm_started_is_at_steady_state() {
    // The scenario above, started from its stationary set: no TTL reason, and its trends
    // are flat over the last third.
    let dir = TempDir::new("horizon-short-warm");
    let toml =
        scenario("2m", "20s", "5s", "10m").replace("start = \"cold\"", "start = \"steady-state\"");
    let summary = run(&dir, &toml, "summary.csv");
    assert_eq!(summary.len(), 2);
    for row in &summary {
        assert_eq!(row["steady_state"], "yes", "{row:?}");
    }
}

#[test]
fn a_cold_run_many_ttls_long_is_at_steady_state() {
    // TTL 10 s, 5 minutes with 1 minute of warm-up: the last third (3m40s to 5m) holds 16
    // windows of 5 s, and the keys turned over 30 times. Memory stays far below maxmemory.
    let dir = TempDir::new("horizon-long");
    let toml = scenario("5m", "1m", "5s", "10s");
    let summary = run(&dir, &toml, "summary.csv");
    assert_eq!(summary.len(), 2);
    for row in &summary {
        assert_eq!(row["steady_state"], "yes", "{row:?}");
        assert_eq!(row["steady_state_reason"], "", "{row:?}");
    }
    let shards = rows(&dir.join("run"), "shards.csv");
    assert_eq!(shards.len(), 2);
    for row in &shards {
        assert_eq!(row["steady_state"], "yes", "{row:?}");
        assert_eq!(row["evicted_keys"], "0", "far from maxmemory: {row:?}");
    }
}

#[test]
fn too_few_windows_in_the_last_third_cannot_be_judged() {
    // 1 minute after a 10 s warm-up with 10 s windows: the last third holds 2 windows.
    let dir = TempDir::new("horizon-few");
    let summary = run(&dir, &scenario("70s", "10s", "10s", "5s"), "summary.csv");
    for row in &summary {
        assert_eq!(row["steady_state"], "no", "{row:?}");
        assert_eq!(
            row["steady_state_reason"], "too few windows (2) to judge; shorten window_ms",
            "{row:?}"
        );
    }
}
