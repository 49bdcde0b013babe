//! `cacheplan size` by cost, for a cluster declared by instance: its answer is the cheapest
//! passing candidate of a brute-force search that runs every grid point (node type × shards)
//! with `sim::run_all_plans` and `report::verdict` on the same seeds; the outputs are
//! documented.

use crate::{arg, check_exit, TempDir};
use cacheplan::report::verdict::{checks, Outcome};

/// The `size` test's small scenario with its cluster declared by one of three made-up node
/// types of 2, 4 and 8 MiB-ish (no reserve, so maxmemory = memory − 4 × 32 KiB of client
/// buffers).
const BY_INSTANCE: &str = r#"version = 1
name = "by-instance"

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

[[instances]]
name = "tiny-2"
provider = "test"
memory_gib = 0.002
hourly_price = 1.0
currency = "USD"
region = "lab"
as_of = "2026-01-01"
source = "made up for the test"

[[instances]]
name = "tiny-4"
provider = "test"
memory_gib = 0.004
hourly_price = 1.5
currency = "USD"
region = "lab"
as_of = "2026-01-01"
source = "made up for the test"

[[instances]]
name = "tiny-8"
provider = "test"
memory_gib = 0.008
hourly_price = 2.2
currency = "USD"
region = "lab"
as_of = "2026-01-01"
source = "made up for the test"

[[clusters]]
name = "main"
shards = 1
instance = "tiny-8"
maxmemory_policy = "allkeys-lru"

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

/// Whether every SLO check passes on seeds 3 and 4 with `shards` of `instance`.
fn passes(instance: &str, shards: u32) -> bool {
    let text = BY_INSTANCE
        .replace("shards = 1", &format!("shards = {shards}"))
        .replace(
            "instance = \"tiny-8\"",
            &format!("instance = \"{instance}\""),
        );
    let scn = cacheplan::scenario::parse(&text, "by-instance.toml").expect("valid");
    [3u64, 4].iter().all(|&seed| {
        let results = cacheplan::sim::run_all_plans(&scn, seed);
        checks(&scn, &results)
            .iter()
            .all(|c| c.cells.iter().all(|cell| cell.outcome == Outcome::Pass))
    })
}

#[test]
fn size_by_cost_finds_the_cheapest_passing_candidate_of_a_brute_force_search() {
    let dir = TempDir::new("size-cost");
    let scenario = dir.write("by-instance.toml", BY_INSTANCE);
    let out = dir.join("out");
    let res = check_exit(
        &[
            "size",
            arg(&scenario),
            "--seeds",
            "2",
            "--max-shards",
            "3",
            "--out",
            arg(&out),
        ],
        0,
    );
    // Brute force: every node type × 1..=3 shards, priced nodes × hourly × 730 h.
    let mut grid: Vec<(f64, u32, &str, u32)> = Vec::new();
    for (name, price) in [("tiny-2", 1.0), ("tiny-4", 1.5), ("tiny-8", 2.2)] {
        for shards in 1..=3u32 {
            grid.push((f64::from(shards) * price * 730.0, shards, name, shards));
        }
    }
    grid.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)).then(a.2.cmp(b.2)));
    let cheapest = grid
        .iter()
        .find(|g| passes(g.2, g.3))
        .expect("some grid point passes");
    // Some cheaper point fails, or the test would not tell a search from taking the first.
    assert!(
        grid.iter().take_while(|g| g.0 < cheapest.0).count() > 0,
        "the cheapest grid point already passes: make the scenario harder"
    );
    let mut rows = csv::Reader::from_path(out.join("size_instances.csv")).unwrap();
    let headers = rows.headers().unwrap().clone();
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let (inst, shards, cost, status, margin) = (
        col("instance"),
        col("shards"),
        col("monthly_cost"),
        col("status"),
        col("slo_margin"),
    );
    let all: Vec<csv::StringRecord> = rows.records().map(|r| r.unwrap()).collect();
    assert_eq!(all.len(), 9, "3 node types × 3 shard counts");
    let chosen: Vec<&csv::StringRecord> = all.iter().filter(|r| &r[status] == "chosen").collect();
    assert_eq!(chosen.len(), 1, "{all:?}");
    assert_eq!(&chosen[0][inst], cheapest.2, "{}", res.stdout);
    assert_eq!(chosen[0][shards].parse::<u32>().unwrap(), cheapest.3);
    assert!((chosen[0][cost].parse::<f64>().unwrap() - cheapest.0).abs() < 1e-9);
    assert!(chosen[0][margin].parse::<f64>().unwrap() >= 0.0);
    // Every candidate that ran and failed is one the brute force also fails.
    for r in all.iter().filter(|r| &r[status] == "fail") {
        assert!(!passes(&r[inst], r[shards].parse().unwrap()), "{r:?}");
    }
    assert!(res.stdout.contains("chosen"), "{}", res.stdout);
    assert!(res.stdout.contains("SLO margin"), "{}", res.stdout);
    let mut size = csv::Reader::from_path(out.join("size.csv")).unwrap();
    let row = size.records().next().unwrap().unwrap();
    assert_eq!((&row[0], &row[1], &row[2]), ("only", "main", "found"));
    assert_eq!(row[3].parse::<u32>().unwrap(), cheapest.3);
    for f in [
        "charts/cost_margin_only_main.png",
        "charts/cost_margin_only_main.svg",
    ] {
        assert!(out.join(f).exists(), "{f}");
    }
    let docs = crate::schema::documented_columns(crate::schema::README);
    let mut reader = csv::Reader::from_path(out.join("size_instances.csv")).unwrap();
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(header, docs["size_instances.csv"]);
}
