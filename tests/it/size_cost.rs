//! `cacheplan size` by cost, for a cluster declared by instance: its answer is the cheapest
//! passing candidate of a brute-force search that runs every grid point (node type × shards)
//! with `sim::run_all_plans` and `report::verdict` on the same seeds; the outputs are
//! documented.

use crate::size::{passes_on_seeds_3_and_4, small_with_clusters, test_instance};
use crate::{arg, check_exit, TempDir};

/// The `size` test's small scenario with its cluster declared by one of three made-up node
/// types of about 2, 4 and 8 MiB (no reserve, so maxmemory = memory − 4 × 32 KiB of client
/// buffers).
fn by_instance(instance: &str, shards: u32) -> String {
    let nodes = [
        ("tiny-2", 0.002, 1.0),
        ("tiny-4", 0.004, 1.5),
        ("tiny-8", 0.008, 2.2),
    ]
    .map(|(n, gib, price)| test_instance(n, gib, price))
    .concat();
    small_with_clusters(&format!(
        "{nodes}[[clusters]]\nname = \"main\"\nshards = {shards}\ninstance = \"{instance}\"\n\
         maxmemory_policy = \"allkeys-lru\"\n"
    ))
}

#[test]
fn size_by_cost_finds_the_cheapest_passing_candidate_of_a_brute_force_search() {
    let dir = TempDir::new("size-cost");
    let scenario = dir.write("by-instance.toml", by_instance("tiny-8", 1));
    let passes = |name: &str, shards: u32| passes_on_seeds_3_and_4(&by_instance(name, shards));
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
