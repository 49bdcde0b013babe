//! The memory projection (`sim::projection`) against the simulator itself, started cold: an
//! unlimited cluster ends a run of 3 TTLs at its projected `used_memory`, and a `noeviction`
//! cluster whose projection exceeds `maxmemory` fills when the projection says. Fixed seeds;
//! tolerances stated where asserted.

use cacheplan::metrics::PlanResult;
use cacheplan::scenario;

/// Sessions (Zipf), read-through (uniform) and idempotency keys on one shard of
/// `maxmemory_bytes`, TTLs of 60 s (sessions 90 s), cold start.
fn mixed(maxmemory: &str, policy: &str, duration: &str) -> String {
    format!(
        r#"
version = 1
name = "projection"
[simulation]
start = "cold"
duration_ms = "{duration}"
window_ms = "1s"
app_instances = 1
[[tenants]]
name = "t1"
[[tenants]]
name = "t2"
[[origins]]
name = "db"
concurrency = 100000
service_time_ms = {{ dist = "fixed", value = 0.5 }}
queue_limit = 1000000
timeout_ms = "1h"
[[clusters]]
name = "c"
shards = 1
maxmemory_bytes = {maxmemory}
maxmemory_policy = "{policy}"
[[keyspaces]]
name = "session"
key_template = "session:{{tenant}}:{{id}}"
operation = "session"
criticality = "critical"
rate_per_s = 400
keys_per_tenant = 20000
popularity = {{ dist = "zipf", alpha = 0.8 }}
value_size_bytes = {{ dist = "lognormal", median = 600, sigma = 0.5 }}
ttl_ms = "90s"
origin = "db"
[[keyspaces]]
name = "catalog"
key_template = "catalog:{{tenant}}:{{id}}"
operation = "read-through"
rate_per_s = 300
keys_per_tenant = 10000
popularity = {{ dist = "uniform" }}
value_size_bytes = {{ dist = "fixed", value = 900 }}
ttl_ms = "60s"
origin = "db"
[[keyspaces]]
name = "idem"
key_template = "idem:{{tenant}}:{{id}}"
operation = "idempotency"
criticality = "critical"
rate_per_s = 150
keys_per_tenant = 1
value_size_bytes = {{ dist = "fixed", value = 120 }}
ttl_ms = "60s"
origin = "db"
[[plans]]
name = "p"
placement = {{ session = "c", catalog = "c", idem = "c" }}
"#
    )
}

fn run(toml: &str, seed: u64) -> Vec<PlanResult> {
    let scn = scenario::parse(toml, "projection.toml").unwrap_or_else(|e| panic!("{e}\n{toml}"));
    cacheplan::sim::run_all_plans(&scn, seed)
}

#[test]
fn an_unlimited_cluster_ends_three_ttls_at_its_projection() {
    // used_memory averaged over the last 30 s of a 270 s cold run (3 × the longest TTL)
    // against the projection: tolerance 3 %.
    let res = run(&mixed("0", "noeviction", "270s"), 11);
    let projected = res[0].shards[0].projected_used_memory_bytes as f64;
    let late: Vec<u64> = res[0]
        .windows
        .iter()
        .filter(|w| w.start.as_secs_f64() >= 240.0)
        .map(|w| w.shard_used_memory[0])
        .collect();
    let simulated = late.iter().sum::<u64>() as f64 / late.len() as f64;
    assert!(
        (projected / simulated - 1.0).abs() < 0.03,
        "projected {projected:.0} B, simulated {simulated:.0} B"
    );
    assert!(
        res[0].shards[0].fills_at.is_none(),
        "no maxmemory: never fills"
    );
}

#[test]
fn a_noeviction_cluster_fills_when_projected() {
    // A shard with 70 % of the projected memory: the first window whose used_memory reaches
    // maxmemory (less one average key) against fills_at_s, tolerance 10 %.
    let unlimited = run(&mixed("0", "noeviction", "1s"), 11);
    let projected = unlimited[0].shards[0].projected_used_memory_bytes;
    let maxmemory = projected * 7 / 10;
    let res = run(&mixed(&maxmemory.to_string(), "noeviction", "150s"), 11);
    let shard = &res[0].shards[0];
    let fills_at = shard
        .fills_at
        .expect("projection above maxmemory")
        .as_secs_f64();
    let near_full = maxmemory - 2_000;
    let filled = res[0]
        .windows
        .iter()
        .find(|w| w.shard_used_memory[0] >= near_full)
        .map(|w| w.start.as_secs_f64() + 1.0)
        .expect("the cold run fills");
    assert!(
        (fills_at / filled - 1.0).abs() < 0.10,
        "projected to fill at {fills_at:.1} s, filled in the window ending {filled:.1} s"
    );
    assert!(
        shard.oom_errors > 0,
        "a full noeviction shard refuses writes"
    );
}
