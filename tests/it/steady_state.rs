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

/// `scenario`'s text with `window` windows over `duration`, run in process with seed 11.
fn run_windows(duration: &str, window: &str) -> cacheplan::metrics::PlanResult {
    let toml = scenario(duration, "0ms", window, "2s");
    let scn = cacheplan::scenario::parse(&toml, "windows.toml").unwrap_or_else(|e| panic!("{e}"));
    cacheplan::sim::run_all_plans(&scn, 11).remove(0)
}

#[test]
fn a_long_horizon_keeps_at_most_the_cap_of_windows_and_the_same_totals() {
    use cacheplan::metrics::series::MAX_WINDOWS;
    // 12 s in windows of 10 ms: 1,200 windows. At 512 they merge into 256 of 20 ms, at 512
    // again (10.24 s) into 256 of 40 ms, and 44 more of 40 ms follow: 300 windows, on exactly
    // the boundaries of a run with 40 ms windows, which merges nothing.
    let merged = run_windows("12s", "10ms");
    let plain = run_windows("12s", "40ms");
    assert!(merged.windows.len() <= MAX_WINDOWS);
    assert_eq!(merged.windows.len(), 300);
    assert_eq!(plain.windows.len(), 300);
    for (m, p) in merged.windows.iter().zip(&plain.windows) {
        assert_eq!(m.start, p.start);
        // Counts, peaks and end-of-window readings: exactly the un-aggregated run's.
        assert_eq!(m.keyspace_requests, p.keyspace_requests, "at {:?}", m.start);
        assert_eq!(m.keyspace_hits, p.keyspace_hits);
        assert_eq!(m.keyspace_evictions, p.keyspace_evictions);
        assert_eq!(m.origin_loads, p.origin_loads);
        assert_eq!(m.origin_peak_concurrency, p.origin_peak_concurrency);
        assert_eq!(m.shard_used_memory, p.shard_used_memory);
        assert_eq!(m.shard_commands, p.shard_commands);
        assert_eq!(m.shard_busy_ns, p.shard_busy_ns);
        assert_eq!(m.invariant_violations, p.invariant_violations);
        // p99s from the merged sketches: at most 1/16 above the exact recorder's, and at
        // most its 1 % bucket below.
        for (a, b) in m
            .keyspace_p99_us
            .iter()
            .chain(&m.origin_latency_p99_us)
            .zip(p.keyspace_p99_us.iter().chain(&p.origin_latency_p99_us))
        {
            let (a, b) = (*a as f64, *b as f64);
            assert!(
                a >= b * 0.99 && a <= b * 1.01 * (1.0 + 1.0 / 16.0),
                "p99 {a} vs {b}"
            );
        }
    }
    // And the run's totals are the same.
    for (m, p) in merged.keyspaces.iter().zip(&plain.keyspaces) {
        assert_eq!(
            (m.requests, m.redis_hits, m.misses, m.origin_loads),
            (p.requests, p.redis_hits, p.misses, p.origin_loads)
        );
    }
}

/// `scenario` with an hourly profile that triples the rate from 10:00 and doubles it again
/// from 11:00 (time 0 is 09:00 UTC), run in process for 2 h 30 min with no warm-up (the last
/// third, 1h40m to 2h30m, straddles the 11:00 step), started `start`, TTL `ttl`,
/// `catalog_keys` catalog items of 50 bytes.
fn profiled(
    start: &str,
    ttl: &str,
    catalog_keys: u64,
) -> (
    cacheplan::scenario::Scenario,
    cacheplan::metrics::PlanResult,
) {
    let mut profile = vec!["1.0"; 24];
    profile[9] = "0.3";
    profile[10] = "1.0";
    profile[11] = "2.0";
    let line = format!("hourly_profile = [{}]\n", profile.join(", "));
    let toml = scenario("150m", "0ms", "60s", ttl)
        .replace("start = \"cold\"", &format!("start = \"{start}\""))
        .replace("operation = ", &format!("{line}operation = "))
        .replace(
            "keys_per_tenant = 3000",
            &format!("keys_per_tenant = {catalog_keys}"),
        )
        .replace("value = 500", "value = 50");
    let scn = cacheplan::scenario::parse(&toml, "profiled.toml").unwrap_or_else(|e| panic!("{e}"));
    let res = cacheplan::sim::run_all_plans(&scn, 11).remove(0);
    (scn, res)
}

#[test]
fn a_warm_run_with_a_traffic_profile_is_at_steady_state_and_a_cold_one_short_of_its_ttl_is_not() {
    use cacheplan::report::horizon::{self, fit, Point};
    let (scn, warm) = profiled("steady-state", "2m", 3000);
    // The profile alone moves used_memory materially over the last third: a plain line
    // through it rises by more than the judge's 2 %, t-statistic far above 3.
    let from = horizon::trend_start(&scn).as_secs_f64();
    let points: Vec<Point> = warm
        .windows
        .iter()
        .filter(|w| w.start.as_secs_f64() >= from)
        .map(|w| Point {
            t_s: w.start.as_secs_f64() + 60.0,
            value: w.shard_used_memory[0] as f64,
            weight: 1.0,
        })
        .collect();
    let plain = fit(&points).expect("a line");
    assert!(
        plain.significant() && plain.slope_per_s * 3000.0 > 0.02 * plain.mean,
        "{plain:?}"
    );
    // Judged beside the profile's prediction: at steady state everywhere.
    let judged = horizon::judge(&scn, &warm);
    for (j, name) in judged.keyspaces.iter().zip(["catalog", "session"]) {
        assert!(j.steady(), "{name}: {}", j.reason_text());
    }
    for j in &judged.shards {
        assert!(j.steady(), "{}", j.reason_text());
    }
    // Cold with a TTL of 3 h and 300,000 catalog items: still filling, and said so (the TTL
    // and, beside the profile, the memory trend: new items keep arriving).
    let (scn, cold) = profiled("cold", "3h", 300_000);
    let judged = horizon::judge(&scn, &cold);
    for j in &judged.keyspaces {
        assert!(!j.steady());
        assert!(
            j.reason_text().starts_with("horizon 150m < TTL 3h"),
            "{}",
            j.reason_text()
        );
    }
    for j in &judged.shards {
        assert!(
            j.reason_text().starts_with("used_memory still rising"),
            "{}",
            j.reason_text()
        );
    }
}
