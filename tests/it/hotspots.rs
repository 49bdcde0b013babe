//! Where a plan breaks first (issue #15 item 4) against hand-computed values: network bytes
//! per shard from RESP spelled out by hand on a scenario of two keys with fixed-size values,
//! hot keys exact while the keys fit the summary, per-tenant figures adding up to the
//! keyspace and shard totals (with evictions), the connection formula, and the verdict rows
//! and capacity-search measures firing when the baseline or maxclients is set low.

use cacheplan::metrics::network::shard_network;
use cacheplan::metrics::PlanResult;
use cacheplan::report::verdict::{checks, Check, Outcome};
use cacheplan::scenario::{self, Scenario};

fn parse(toml: &str) -> Scenario {
    scenario::parse(toml, "hotspots.toml").unwrap_or_else(|e| panic!("{e}\n{toml}"))
}

/// Two tenants (weights 1 and 3), one key each (`k:{tenant}:{id}`), fixed 100-byte values,
/// a 1-hour TTL, one shard, an origin and a network fast enough that nothing times out; cold
/// start, no warm-up, 20 s in 5-s windows. `extra_cluster` lines go in the cluster table.
fn two_keys(extra_cluster: &str, extra_slo: &str) -> String {
    format!(
        r#"
version = 1
name = "hotspots"
[simulation]
start = "cold"
duration_ms = "20s"
warmup_ms = 0
window_ms = "5s"
app_instances = 1
[[tenants]]
name = "t1"
[[tenants]]
name = "t2"
traffic_weight = 3
[[origins]]
name = "db"
concurrency = 1000
service_time_ms = {{ dist = "fixed", value = 0.01 }}
[[clusters]]
name = "c"
shards = 1
maxmemory_bytes = 0
service_time_us = {{ dist = "fixed", value = 1 }}
network_rtt_us = {{ dist = "fixed", value = 10 }}
{extra_cluster}
[[keyspaces]]
name = "k"
key_template = "k:{{tenant}}:{{id}}"
operation = "read-through"
rate_per_s = 400
keys_per_tenant = 1
value_size_bytes = {{ dist = "fixed", value = 100 }}
ttl_ms = "1h"
origin = "db"
[[plans]]
name = "p"
placement = {{ k = "c" }}
[slo]
{extra_slo}
"#
    )
}

/// RESP bytes of a request of `args`, spelled out.
fn resp(args: &[String]) -> usize {
    let mut s = format!("*{}\r\n", args.len());
    for a in args {
        s.push_str(&format!("${}\r\n{a}\r\n", a.len()));
    }
    s.len()
}

/// The verdict row of `metric` (it must be there).
fn row(scn: &Scenario, results: &[PlanResult], metric: &str) -> Check {
    checks(scn, results)
        .into_iter()
        .find(|c| c.metric == metric)
        .unwrap_or_else(|| panic!("no verdict row \"{metric}\""))
}

fn run(scn: &Scenario, seed: u64) -> Vec<PlanResult> {
    cacheplan::sim::run_all_plans(scn, seed)
}

#[test]
fn network_bytes_match_resp_spelled_by_hand() {
    let scn = parse(&two_keys("", ""));
    let res = &run(&scn, 7)[0];
    let k = &res.keyspaces[0];
    let shard = &res.shards[0];
    let key = "x".repeat(scn.keyspaces[0].key_len_bytes as usize);
    let get = resp(&["GET".into(), key.clone()]);
    let set = resp(&[
        "SET".into(),
        key.clone(),
        "v".repeat(100),
        "PX".into(),
        "3600000".into(),
    ]);
    // Every request GETs once (no L1, no lock); every load writes back once.
    assert_eq!(k.errors + k.redis_timeouts, 0, "{k:?}");
    let sets = shard.commands - k.requests;
    assert_eq!(sets, k.origin_loads);
    assert!(sets >= 2 && k.redis_hits > 1000, "{k:?}");
    let misses = k.requests - k.redis_hits;
    let hit_reply = format!("${}\r\n{}\r\n", 100, "v".repeat(100)).len();
    let expect_in = k.requests as usize * get + sets as usize * set;
    let expect_out = k.redis_hits as usize * hit_reply
        + misses as usize * "$-1\r\n".len()
        + sets as usize * "+OK\r\n".len();
    assert_eq!(shard.bytes_in as usize, expect_in);
    assert_eq!(shard.bytes_out as usize, expect_out);
    // No warm-up: the windows add up to the totals; the mean is the total over 20 s and the
    // peak the busiest window over its 5 s.
    let win_in: u64 = res.windows.iter().map(|w| w.shard_bytes_in[0]).sum();
    let win_out: u64 = res.windows.iter().map(|w| w.shard_bytes_out[0]).sum();
    assert_eq!((win_in, win_out), (shard.bytes_in, shard.bytes_out));
    let net = &shard_network(&scn, res)[0];
    assert!((net.bytes_in_per_s_mean - shard.bytes_in as f64 / 20.0).abs() < 1e-6);
    let peak_in = res
        .windows
        .iter()
        .map(|w| w.shard_bytes_in[0])
        .max()
        .unwrap();
    assert!((net.bytes_in_per_s_peak - peak_in as f64 / 5.0).abs() < 1e-6);
    assert_eq!(net.baseline_bytes_per_s, None);
    assert_eq!(net.utilization_peak, None);
}

#[test]
fn hot_keys_are_exact_while_the_keys_fit_and_name_their_tenant() {
    let scn = parse(&two_keys("", ""));
    let res = &run(&scn, 7)[0];
    let shard = &res.shards[0];
    let hot = &shard.hot.by_ops;
    assert_eq!(hot.len(), 2, "{hot:?}");
    assert!(hot.iter().all(|h| h.error == 0));
    assert_eq!(hot.iter().map(|h| h.count).sum::<u64>(), shard.commands);
    // t2 sends three times t1's traffic: its key is first, labelled tenant 2 (label 1 + index).
    assert_eq!(hot[0].label, 2);
    assert_eq!(hot[1].label, 1);
    let t = &res.tenants.keyspaces[0];
    // A key's commands: its tenant's GETs and its write-backs (at least one, a few at most).
    for h in hot {
        let requests = t[h.label as usize - 1].requests;
        assert!(
            h.count > requests && h.count <= requests + 10,
            "{h:?} {requests}"
        );
    }
    let by_bytes = &shard.hot.by_bytes;
    assert_eq!(
        by_bytes.iter().map(|h| h.count).sum::<u64>(),
        shard.bytes_in + shard.bytes_out
    );
    // Two resident keys of equal size.
    assert_eq!(shard.hot.biggest.len(), 2);
    assert_eq!(shard.hot.biggest[0].bytes, shard.hot.biggest[1].bytes);
    // Per tenant: one key each, both resident, all of the keyspace's bytes.
    assert_eq!((t[0].keys_end, t[1].keys_end), (1, 1));
    assert_eq!(t[0].memory_end_bytes, shard.hot.biggest[0].bytes);
    assert_eq!(t[2].keys_end, 0, "nothing shared");
}

#[test]
fn per_tenant_figures_add_up_to_the_totals_under_eviction() {
    // Many keys per tenant in 2 MB: allkeys-lru evicts all along.
    let toml = two_keys("", "")
        .replace(
            "maxmemory_bytes = 0",
            "maxmemory_bytes = \"2mb\"\nmaxmemory_policy = \"allkeys-lru\"",
        )
        .replace(
            "keys_per_tenant = 1",
            "keys_per_tenant = 20000\npopularity = { dist = \"uniform\" }",
        )
        .replace("rate_per_s = 400", "rate_per_s = 3000")
        .replace("warmup_ms = 0", "warmup_ms = \"5s\"")
        .replace("k:{tenant}:{id}", "k:{tenant}:{version}:{id}");
    // A new version half-way: the old keys stay their tenant's until evicted.
    let toml = format!(
        "{toml}\n[[events]]\nat_ms = \"10s\"\nname = \"republish\"\naction = \"new-version\"\nkeyspaces = [\"k\"]\n"
    );
    let scn = parse(&toml);
    let results = run(&scn, 11);
    let res = &results[0];
    assert!(
        res.keyspace_evictions[0] > 1000,
        "{:?}",
        res.keyspace_evictions
    );
    let rows = &res.tenants.keyspaces[0];
    let sum = |f: &dyn Fn(usize) -> u64| (0..rows.len()).map(f).sum::<u64>();
    assert_eq!(sum(&|r| rows[r].requests), res.keyspaces[0].requests);
    assert_eq!(sum(&|r| rows[r].redis_hits), res.keyspaces[0].redis_hits);
    assert_eq!(sum(&|r| rows[r].evicted_keys), res.keyspace_evictions[0]);
    assert_eq!(sum(&|r| rows[r].keys_end), res.shards[0].keys_end);
    // Every key is a tenant's: nothing shared; t2's triple traffic shows.
    assert_eq!(rows[2], Default::default());
    assert!(rows[1].requests > 2 * rows[0].requests);
    assert!(rows[0].evicted_keys > 0 && rows[1].evicted_keys > 0);
    assert!(sum(&|r| rows[r].memory_end_bytes) < res.shards[0].used_memory_end_bytes);
    // The CSV says the same.
    let csv = String::from_utf8(cacheplan::report::hotspots::tenants_csv(&scn, &results)).unwrap();
    assert_eq!(csv.lines().count(), 1 + 3, "{csv}");
    assert!(csv.contains("(shared)"));
}

#[test]
fn connections_count_pools_and_subscribers() {
    // 6 instances, 8 connections each to each of 4 shards, and an L1 cache: one subscriber per
    // instance on shard i mod 4, so shards 0 and 1 hold two subscribers, 2 and 3 one.
    let toml = two_keys("connections_per_instance = 8\nmaxclients = 49", "")
        .replace("app_instances = 1", "app_instances = 6")
        .replace("shards = 1", "shards = 4")
        .replace(
            "origin = \"db\"\n[[plans]]",
            "origin = \"db\"\nstrategy = { kind = \"cache-aside\", local_cache_keys = 10 }\n[[plans]]",
        )
        .replace("duration_ms = \"20s\"", "duration_ms = \"2s\"")
        .replace("window_ms = \"5s\"", "window_ms = \"1s\"");
    let scn = parse(&toml);
    let results = run(&scn, 3);
    let conns: Vec<u64> = shard_network(&scn, &results[0])
        .iter()
        .map(|n| n.connections)
        .collect();
    assert_eq!(conns, vec![50, 50, 49, 49]);
    let check = row(&scn, &results, "client connections / maxclients");
    assert_eq!(check.cells[0].outcome, Outcome::Fail, "{check:?}");
    assert!(check.cells[0].measured.starts_with("50 / 49"), "{check:?}");
    // Without the L1 cache there are no subscribers: 48 each, within maxclients.
    let plain = parse(&toml.replace(", local_cache_keys = 10", ""));
    let results = run(&plain, 3);
    let check = row(&plain, &results, "client connections / maxclients");
    assert_eq!(check.cells[0].outcome, Outcome::Pass, "{check:?}");
}

#[test]
fn a_low_network_baseline_fails_the_plan_in_the_verdict_and_the_search() {
    // 0.00001 Gbit/s = 1,250 bytes/s: far below what 400 requests/s send.
    let low = parse(&two_keys("network_baseline_gbps = 0.00001", ""));
    assert_eq!(low.clusters[0].network_baseline_bytes_per_s, Some(1_250));
    let results = run(&low, 7);
    let check = row(&low, &results, "peak network / baseline");
    assert_eq!(check.cells[0].outcome, Outcome::Fail, "{check:?}");
    let scope = cacheplan::sweep::slo::Scope::plan(&low, 0);
    let m = cacheplan::sweep::slo::measure(&low, &results, &scope);
    let net = m
        .iter()
        .find(|m| m.metric == "peak network / baseline")
        .unwrap();
    assert!(!net.pass() && net.target == 0.8, "{net:?}");
    // 10 Gbit/s passes; so does the low one under a looser objective only if it is met.
    let high = parse(&two_keys("network_baseline_gbps = 10", ""));
    let results = run(&high, 7);
    let check = row(&high, &results, "peak network / baseline");
    assert_eq!(check.cells[0].outcome, Outcome::Pass, "{check:?}");
    // Without a baseline there is no network row.
    let none = parse(&two_keys("", ""));
    let results = run(&none, 7);
    assert!(!checks(&none, &results)
        .iter()
        .any(|c| c.metric == "peak network / baseline"));
    // The objective is configurable and checked as a fraction.
    let strict = parse(&two_keys(
        "network_baseline_gbps = 10",
        "network_utilization_max = 0.0000001",
    ));
    let results = run(&strict, 7);
    let check = row(&strict, &results, "peak network / baseline");
    assert_eq!(check.cells[0].outcome, Outcome::Fail, "{check:?}");
    let bad = scenario::parse(&two_keys("network_baseline_gbps = -1", ""), "hotspots.toml")
        .unwrap_err()
        .to_string();
    assert!(bad.contains("network_baseline_gbps"), "{bad}");
}

#[test]
fn every_key_of_every_operation_is_its_tenants() {
    // The default scenario (idempotency keys, fixed-window counters, locks, sessions and
    // cached values, all with `{tenant}` in their templates), shorter and cold: each key id
    // carries its tenant, so the tenants' rows hold every resident key and every eviction,
    // and the shared row holds none.
    let toml = include_str!("../../workloads/cpq.toml")
        .replace("duration_ms = \"10m\"", "duration_ms = \"9m\"")
        .replace("warmup_ms = \"1m\"", "warmup_ms = 0\nstart = \"cold\"");
    assert!(toml.contains("start = \"cold\"") && toml.contains("\"9m\""));
    let scn = parse(&toml);
    assert!(scn.keyspaces.iter().all(|k| k.key_has_tenant));
    let results = run(&scn, 3);
    for res in &results {
        let shared = res.tenants.shared_row();
        let mut keys = 0u64;
        for (ks, rows) in res.tenants.keyspaces.iter().enumerate() {
            assert_eq!(rows[shared], Default::default(), "keyspace {ks}");
            assert_eq!(rows.len(), scn.tenants.len() + 1);
            keys += rows[..shared].iter().map(|f| f.keys_end).sum::<u64>();
            let evicted: u64 = rows[..shared].iter().map(|f| f.evicted_keys).sum();
            assert_eq!(evicted, res.keyspace_evictions[ks], "keyspace {ks}");
        }
        let resident: u64 = res.shards.iter().map(|s| s.keys_end).sum();
        assert_eq!(keys, resident, "plan {}", res.plan);
        assert!(resident > 0);
    }
}
