//! Clusters declared by instance and what plans cost: the derived maxmemory against a
//! hand-computed value, nodes and monthly cost per plan from the catalogue (a user file
//! repricing a built-in node type, an inline on-premises entry) in the console, `summary.csv`
//! and `shards.csv`, and bad catalogue input rejected with the file, line and field.

use crate::size::small_with_clusters;
use crate::{arg, check_exit, TempDir};

/// The `size` test's small scenario with two plans: `managed` on 2 shards of cache.t4g.small
/// with a replica each, `on-prem` on one shard of an inline node type with two replicas.
fn priced() -> String {
    small_with_clusters(
        r#"[[instances]]
name = "on-prem"
provider = "our datacentre"
memory_gib = 8
vcpus = 4
hourly_price = 0.5
currency = "USD"
region = "dc-1"
reserved_memory_percent = 10
as_of = "2026-01-01"
source = "our finance team's internal rate card"

[[clusters]]
name = "managed"
shards = 2
instance = "cache.t4g.small"
replicas_per_shard = 1
maxmemory_policy = "allkeys-lru"

[[clusters]]
name = "own"
shards = 1
instance = "on-prem"
replicas_per_shard = 2
maxmemory_policy = "allkeys-lru"
"#,
    )
    .replace(
        "window_ms = \"4s\"\n",
        "window_ms = \"4s\"\napp_instances = 4\ninstance_catalogue = [\"my-prices.toml\"]\n",
    )
    .replace(
        "[[plans]]\nname = \"only\"\nplacement = { catalog = \"main\" }\n",
        "[[plans]]\nname = \"managed\"\nplacement = { catalog = \"managed\" }\n\n\
             [[plans]]\nname = \"on-prem\"\nplacement = { catalog = \"own\" }\n",
    )
}

/// The 1-based line of `text` holding `needle`.
fn line_of(text: &str, needle: &str) -> usize {
    text.lines()
        .position(|l| l.contains(needle))
        .expect("present")
        + 1
}

/// A user catalogue file: cache.t4g.small repriced (a reserved-instance discount).
const MY_PRICES: &str = r#"version = 1

[[instances]]
name = "cache.t4g.small"
provider = "aws-elasticache"
memory_gib = 1.37
vcpus = 2
network_baseline_gbps = 0.128
hourly_price = 0.02
currency = "USD"
region = "us-east-1"
reserved_memory_percent = 25
as_of = "2026-01-01"
source = "our 1-year reserved-node price"
"#;

fn write_priced(dir: &TempDir) -> std::path::PathBuf {
    dir.write("my-prices.toml", MY_PRICES);
    dir.write("priced.toml", priced())
}

#[test]
fn a_cluster_declared_by_instance_derives_the_documented_maxmemory() {
    let dir = TempDir::new("cost-derive");
    let path = write_priced(&dir);
    let scn = cacheplan::scenario::load(&path).expect("valid");
    // cache.t4g.small: 1.37 GiB = round(1.37 × 2^30) = 1,471,026,299 B; 25 % reserved =
    // 367,756,574 B (rounded down); a replica, so a 1 MiB backlog; 4 app instances × 32 KiB of
    // client buffers = 131,072 B.
    let managed = &scn.clusters[0];
    assert_eq!(
        managed.redis.maxmemory_bytes,
        1_471_026_299 - 367_756_574 - 1_048_576 - 131_072
    );
    assert_eq!(managed.replicas_per_shard, 1);
    assert_eq!(managed.network_baseline_bytes_per_s, Some(16_000_000));
    // on-prem: 8 GiB = 8,589,934,592 B; 10 % = 858,993,459 B; backlog; buffers.
    let own = &scn.clusters[1];
    assert_eq!(
        own.redis.maxmemory_bytes,
        8_589_934_592 - 858_993_459 - 1_048_576 - 131_072
    );
    assert_eq!(own.network_baseline_bytes_per_s, None);
    // No replica: no backlog.
    let text = priced().replace("replicas_per_shard = 1", "replicas_per_shard = 0");
    let scn = cacheplan::scenario::parse(&text, &dir.path().join("x.toml").display().to_string())
        .expect("valid");
    assert_eq!(
        scn.clusters[0].redis.maxmemory_bytes,
        1_471_026_299 - 367_756_574 - 131_072
    );
}

#[test]
fn plan_costs_come_from_the_catalogue_in_console_and_csvs() {
    let dir = TempDir::new("cost-run");
    let path = write_priced(&dir);
    let out = dir.join("out");
    let res = check_exit(&["run", arg(&path), "--out", arg(&out)], 0);
    // managed: 2 shards × (1 + 1) = 4 nodes × 0.02 USD/h (the user file's price) × 730 h =
    // 58.40; on-prem: 1 × (1 + 2) = 3 nodes × 0.5 × 730 = 1,095.00; 1095 / 58.4 = 18.75.
    let want = [("managed", 4u32, 58.4f64), ("on-prem", 3, 1095.0)];
    for (plan, nodes, cost) in want {
        let line = res
            .stdout
            .lines()
            .find(|l| l.starts_with(plan) && l.contains(&format!("{cost:.2}")))
            .unwrap_or_else(|| panic!("no cost line for {plan}: {}", res.stdout));
        assert!(line.contains(&format!(" {nodes} ")), "{line}");
    }
    assert!(
        res.stdout.contains(
            "at equal cost: managed is the cheapest (58.40 USD per month); on-prem costs 18.75× as much"
        ),
        "{}",
        res.stdout
    );
    assert!(res.stdout.contains("cluster managed: 2 × cache.t4g.small"));
    let mut summary = csv::Reader::from_path(out.join("summary.csv")).unwrap();
    let headers = summary.headers().unwrap().clone();
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let (nodes_at, cost_at, currency_at) =
        (col("plan_nodes"), col("plan_monthly_cost"), col("currency"));
    for (row, (plan, nodes, cost)) in summary.records().map(|r| r.unwrap()).zip(want) {
        assert_eq!(&row[0], plan);
        assert_eq!(row[nodes_at].parse::<u32>().unwrap(), nodes);
        assert!((row[cost_at].parse::<f64>().unwrap() - cost).abs() < 1e-9);
        assert_eq!(&row[currency_at], "USD");
    }
    let mut shards = csv::Reader::from_path(out.join("shards.csv")).unwrap();
    let headers = shards.headers().unwrap().clone();
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let (inst_at, nodes_at, cost_at) = (col("instance"), col("nodes"), col("monthly_cost"));
    let mut by_plan = std::collections::BTreeMap::<String, (u32, f64)>::new();
    for row in shards.records().map(|r| r.unwrap()) {
        let e = by_plan.entry(row[0].to_string()).or_default();
        e.0 += row[nodes_at].parse::<u32>().unwrap();
        e.1 += row[cost_at].parse::<f64>().unwrap();
        let want_instance = if &row[0] == "managed" {
            "cache.t4g.small"
        } else {
            "on-prem"
        };
        assert_eq!(&row[inst_at], want_instance);
    }
    for (plan, nodes, cost) in want {
        let (n, c) = by_plan[plan];
        assert_eq!(n, nodes, "{plan}: shards' nodes add up to the plan's");
        assert!((c - cost).abs() < 1e-9, "{plan}: {c} vs {cost}");
    }
    let report = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(
        report.contains("<td>monthly cost</td>"),
        "verdict table row"
    );
    assert!(report.contains("on-prem costs 18.75× as much"));
    assert!(
        report.contains("cluster own: 1 × on-prem with 2 replica(s) per shard = 3 nodes"),
        "the scenario section echoes the resolved instance"
    );
}

#[test]
fn without_instances_the_cost_per_shard_model_stays() {
    let text = crate::size::SMALL;
    let scn = cacheplan::scenario::parse(text, "small.toml").expect("valid");
    // 2 shards × (10 + 4 MiB / 1 GiB × 100) per month.
    let cost = cacheplan::cost::plan_cost(&scn, 0);
    assert_eq!(cost.nodes, 2);
    assert!((cost.monthly_cost - 2.0 * (10.0 + 100.0 * 4.0 / 1024.0)).abs() < 1e-9);
    assert_eq!(cacheplan::cost::currency(&scn), "units");
}

/// Runs `validate` on `scenario` (with `my-prices.toml` = `prices` beside it) and returns
/// stderr, requiring exit code 2.
fn rejected(scenario: &str, prices: &str) -> String {
    let dir = TempDir::new("cost-bad");
    dir.write("my-prices.toml", prices);
    let path = dir.write("priced.toml", scenario);
    let res = check_exit(&["validate", arg(&path)], 2);
    res.stderr
}

#[test]
fn bad_catalogues_and_instance_names_are_rejected_with_the_field() {
    let text = priced().replace("instance = \"on-prem\"", "instance = \"cache.r7g.lrage\"");
    let e = rejected(&text, MY_PRICES);
    let at = format!("priced.toml:{}:", line_of(&text, "cache.r7g.lrage"));
    assert!(e.contains(&at), "{at}: {e}");
    assert!(e.contains("field `clusters[1].instance`"), "{e}");
    assert!(e.contains("unknown instance \"cache.r7g.lrage\""), "{e}");
    assert!(
        e.contains("cache.r7g.large"),
        "the hint names near matches: {e}"
    );

    let e = rejected(
        &priced(),
        &MY_PRICES.replace("memory_gib = 1.37", "memory_gib = -1"),
    );
    let at = format!("my-prices.toml:{}:", line_of(MY_PRICES, "memory_gib"));
    assert!(e.contains(&at), "{at}: {e}");
    assert!(e.contains("field `instances[0].memory_gib`"), "{e}");

    let e = rejected(&priced(), &MY_PRICES.replace("as_of", "as_off"));
    assert!(e.contains("my-prices.toml:"), "{e}");
    assert!(e.contains("unknown field `as_off`"), "{e}");

    let text = priced().replace("currency = \"USD\"", "currency = \"us$\"");
    let e = rejected(&text, MY_PRICES);
    let at = format!("priced.toml:{}:", line_of(&text, "us$"));
    assert!(e.contains(&at), "{at}: {e}");
    assert!(e.contains("field `instances[0].currency`"), "{e}");

    let e = rejected(
        &priced().replace("\"my-prices.toml\"", "\"missing.toml\""),
        MY_PRICES,
    );
    assert!(
        e.contains("field `simulation.instance_catalogue[0]`"),
        "{e}"
    );
    assert!(e.contains("missing.toml"), "{e}");

    let e = rejected(
        &priced().replace(
            "instance = \"on-prem\"",
            "instance = \"on-prem\"\nmaxmemory_bytes = \"1gb\"",
        ),
        MY_PRICES,
    );
    assert!(e.contains("field `clusters[1].maxmemory_bytes`"), "{e}");
    assert!(e.contains("both maxmemory_bytes and instance"), "{e}");

    let e = rejected(
        &priced().replace(
            "currency = \"USD\"\nregion = \"dc-1\"",
            "currency = \"EUR\"\nregion = \"dc-1\"",
        ),
        MY_PRICES,
    );
    assert!(e.contains("field `clusters[1].instance`"), "{e}");
    assert!(e.contains("could not be compared"), "{e}");
}
