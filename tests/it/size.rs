//! `cacheplan size`: the chosen shape meets every SLO on every seed while the next smaller
//! memory the search tried fails, both checked independently with `sim::run_all_plans` and
//! `report::verdict`; a scenario without SLOs exits 2 with a hint.

use crate::{arg, check_exit, TempDir, TINY_SCENARIO};
use cacheplan::report::verdict::{checks, Outcome};

/// One keyspace on one cluster whose hit ratio depends on its memory.
pub const SMALL: &str = r#"version = 1
name = "small"

[simulation]
seed = 3
duration_ms = "12s"
warmup_ms = "4s"
window_ms = "4s"

[[tenants]]
name = "t1"

[[origins]]
name = "db"
concurrency = 64
service_time_ms = { dist = "fixed", value = 2 }

[[clusters]]
name = "main"
shards = 2
maxmemory_bytes = "4mb"
maxmemory_policy = "allkeys-lru"
cost_per_shard = 10
cost_per_gb = 100

[[keyspaces]]
name = "catalog"
key_template = "catalog:{tenant}:item:{id}"
operation = "read-through"
rate_per_s = 2000
keys_per_tenant = 20000
popularity = { dist = "zipf", alpha = 0.9 }
value_size_bytes = { dist = "fixed", value = 400 }
ttl_ms = "60s"
origin = "db"

[[plans]]
name = "only"
placement = { catalog = "main" }

[slo]
hit_ratio_min = { catalog = 0.7 }
"#;

/// Whether every SLO check passes on seeds 3 and 4 with `shards` x `bytes`.
fn passes(shards: u32, bytes: u64) -> bool {
    passes_on_seeds_3_and_4(
        &SMALL
            .replace("shards = 2", &format!("shards = {shards}"))
            .replace(
                "maxmemory_bytes = \"4mb\"",
                &format!("maxmemory_bytes = {bytes}"),
            ),
    )
}

/// Whether every SLO check of the scenario `text` passes on seeds 3 and 4 (what `size
/// --seeds 2` runs for a scenario of seed 3), checked with `run`'s own verdict.
pub fn passes_on_seeds_3_and_4(text: &str) -> bool {
    let scn = cacheplan::scenario::parse(text, "small.toml").expect("valid");
    [3u64, 4].iter().all(|&seed| {
        let results = cacheplan::sim::run_all_plans(&scn, seed);
        checks(&scn, &results)
            .iter()
            .all(|c| c.cells.iter().all(|cell| cell.outcome == Outcome::Pass))
    })
}

/// `SMALL` with its `[[clusters]]` table replaced by `tables` (for tests that declare the
/// cluster otherwise).
pub fn small_with_clusters(tables: &str) -> String {
    let start = SMALL.find("[[clusters]]").expect("SMALL has a cluster");
    let end = SMALL.find("[[keyspaces]]").expect("SMALL has a keyspace");
    format!("{}{tables}\n{}", &SMALL[..start], &SMALL[end..])
}

/// A catalogue entry with only the required fields (provider "test", USD, no reserve).
pub fn test_instance(name: &str, memory_gib: f64, hourly_price: f64) -> String {
    format!(
        "[[instances]]\nname = \"{name}\"\nprovider = \"test\"\nmemory_gib = {memory_gib}\n\
         hourly_price = {hourly_price}\ncurrency = \"USD\"\nregion = \"lab\"\n\
         as_of = \"2026-01-01\"\nsource = \"made up for the test\"\n\n"
    )
}

#[test]
fn the_chosen_shape_passes_and_the_next_smaller_fails() {
    let dir = TempDir::new("size");
    let scenario = dir.write("small.toml", SMALL);
    let out = dir.join("out");
    let res = check_exit(
        &["size", arg(&scenario), "--seeds", "2", "--out", arg(&out)],
        0,
    );
    assert!(res.stdout.contains("found"), "{res:#?}");
    let mut size = csv::Reader::from_path(out.join("size.csv")).unwrap();
    let row = size.records().next().unwrap().unwrap();
    assert_eq!((&row[0], &row[1], &row[2]), ("only", "main", "found"));
    let shards: u32 = row[3].parse().unwrap();
    let bytes: u64 = row[4].parse().unwrap();
    assert!(
        passes(shards, bytes),
        "the chosen {shards} x {bytes} passes"
    );
    // The bisection tried the rung just below the chosen memory and saw it fail.
    let mut evals = csv::Reader::from_path(out.join("size_evaluations.csv")).unwrap();
    let below = evals
        .records()
        .map(|r| r.unwrap())
        .filter(|r| r[2].parse::<u32>().unwrap() == shards && &r[5] == "false")
        .map(|r| r[3].parse::<u64>().unwrap())
        .filter(|&m| m < bytes)
        .max()
        .expect("a failing smaller memory was tried");
    assert!(!passes(shards, below), "{shards} x {below} fails");
    if shards > 1 {
        assert!(!passes(shards - 1, bytes), "fewer shards fail");
    }
    for f in [
        "size_margins.csv",
        "charts/frontier_only_main.png",
        "charts/frontier_only_main.svg",
    ] {
        assert!(out.join(f).exists(), "{f}");
    }
    let docs = crate::schema::documented_columns(crate::schema::README);
    for name in ["size.csv", "size_margins.csv", "size_evaluations.csv"] {
        let mut reader = csv::Reader::from_path(out.join(name)).unwrap();
        let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
        assert_eq!(header, docs[name], "{name}: header vs. output/README.md");
    }
}

#[test]
fn a_scenario_without_slos_exits_2_with_a_hint() {
    let dir = TempDir::new("size-no-slo");
    let scenario = dir.write("tiny.toml", TINY_SCENARIO);
    let res = check_exit(&["size", arg(&scenario), "--out", arg(&dir.join("o"))], 2);
    assert!(res.stderr.contains("no SLOs"), "{res:#?}");
    assert!(res.stderr.contains("hint: add an [slo] table"), "{res:#?}");
    assert!(!dir.join("o").exists());
}

/// Idempotency keys (a new key per request, kept 60 s) on a `noeviction` cluster: its
/// steady-state set is about rate × TTL keys, whatever the seed.
const CRITICAL: &str = r#"version = 1
name = "critical"

[simulation]
seed = 5
duration_ms = "8s"
warmup_ms = "2s"
window_ms = "2s"

[[tenants]]
name = "t1"

[[origins]]
name = "db"
concurrency = 64
service_time_ms = { dist = "fixed", value = 2 }

[[clusters]]
name = "critical"
shards = 1
maxmemory_bytes = "64mb"
maxmemory_policy = "noeviction"
cost_per_shard = 10
cost_per_gb = 100

[[keyspaces]]
name = "idem"
key_template = "idem:{tenant}:key:{id}"
operation = "idempotency"
criticality = "critical"
rate_per_s = 500
keys_per_tenant = 1
value_size_bytes = { dist = "fixed", value = 300 }
ttl_ms = "60s"
origin = "db"

[[plans]]
name = "only"
placement = { idem = "critical" }

[slo]
critical_evictions_max = 0
"#;

#[test]
fn a_noeviction_cluster_is_never_sized_below_its_projection() {
    // The projection is a lower bound on memory where a fill is harmful: the search neither
    // recommends nor tries a shape whose maxmemory is below the steady-state set (the
    // projection of the scenario's own shape, `shards.csv` steady_state_used_memory_bytes).
    let dir = TempDir::new("size-critical");
    let scenario = dir.write("critical.toml", CRITICAL);
    let run_out = dir.join("run");
    check_exit(
        &["run", arg(&scenario), "--out", arg(&run_out), "--quiet"],
        0,
    );
    let mut shards = csv::Reader::from_path(run_out.join("shards.csv")).unwrap();
    let headers = shards.headers().unwrap().clone();
    let col = headers
        .iter()
        .position(|h| h == "steady_state_used_memory_bytes")
        .unwrap();
    let projected: u64 = shards.records().next().unwrap().unwrap()[col]
        .parse()
        .unwrap();
    // rate × TTL = 30,000 keys of 300 B: well above the empty server.
    assert!(projected > 10_000_000, "{projected}");
    let out = dir.join("out");
    check_exit(
        &["size", arg(&scenario), "--seeds", "1", "--out", arg(&out)],
        0,
    );
    let mut evals = csv::Reader::from_path(out.join("size_evaluations.csv")).unwrap();
    for r in evals.records().map(|r| r.unwrap()) {
        let shards: u64 = r[2].parse().unwrap();
        let bytes: u64 = r[3].parse().unwrap();
        // One MiB of rounding per shard, and the dicts' tables are per shard.
        assert!(
            bytes * shards + shards * (1 << 21) >= projected,
            "tried {shards} x {bytes} below the projection {projected}"
        );
    }
    let mut size = csv::Reader::from_path(out.join("size.csv")).unwrap();
    let row = size.records().next().unwrap().unwrap();
    assert_eq!(&row[2], "found", "{row:?}");
    let bytes: u64 = row[4].parse().unwrap();
    let shards: u64 = row[3].parse().unwrap();
    assert!(
        bytes * shards >= projected - (1 << 21),
        "{shards} x {bytes} < {projected}"
    );
}

#[test]
fn a_cold_start_shorter_than_the_ttl_is_named_as_the_horizon() {
    // SMALL measures 8 s of a 60 s TTL: started cold, its hit-ratio objective judges a cache
    // still filling, and `size` says so; warm-started (the default) it does not.
    let dir = TempDir::new("size-horizon");
    let cold = dir.write(
        "cold.toml",
        SMALL.replace("[simulation]\n", "[simulation]\nstart = \"cold\"\n"),
    );
    let out = dir.join("out");
    let res = check_exit(&["size", arg(&cold), "--seeds", "1", "--out", arg(&out)], 0);
    assert!(
        res.stdout.contains(
            "less than the TTL of catalog: objectives on them judge a cache still filling"
        ),
        "{}",
        res.stdout
    );
    let warm = dir.write("warm.toml", SMALL);
    let out = dir.join("out-warm");
    let res = check_exit(&["size", arg(&warm), "--seeds", "1", "--out", arg(&out)], 0);
    assert!(
        !res.stdout.contains("judge a cache still filling"),
        "{}",
        res.stdout
    );
}
