//! Replicas (issue 15 item 2): a failover promotes a replica and loses exactly the writes of
//! the replication lag; replica reads lag their master by `replication_lag_ms`, which the
//! stale-read monitor sees at the closed-form rate; reads on replicas relieve a hot master
//! (M/D/1); a failover with no replica is refused; warm starts and thread counts change
//! nothing they should not. Fixed seeds; each tolerance is stated where it is asserted.

use crate::{arg, check_exit, TempDir};
use cacheplan::metrics::{Invariant, PlanResult};
use cacheplan::scenario::{self, Scenario};

/// Runs a scenario given as TOML; returns it and its plans' results.
fn run(toml: &str, seed: u64) -> (Scenario, Vec<PlanResult>) {
    let scn = scenario::parse(toml, "test.toml").unwrap_or_else(|e| panic!("{e}"));
    let res = cacheplan::sim::run_all_plans(&scn, seed);
    (scn, res)
}

/// One single-shard cluster `c` with `replicas` replicas and near-zero Redis and network
/// time (unless `cluster` overrides them), an instant origin, one instance; `rest` adds the
/// keyspaces, plans, events and faults.
fn scenario(head: &str, cluster: &str, rest: &str) -> String {
    format!(
        r#"
version = 1
name = "replicas"
tenants = [{{ name = "t1" }}]
origins = [{{ name = "db", concurrency = 100000, queue_limit = 1000000, timeout_ms = "1h", service_time_ms = {{ dist = "fixed", value = 0.001 }} }}]
[simulation]
app_instances = 1
{head}
[[clusters]]
name = "c"
shards = 1
maxmemory_bytes = 0
{cluster}
{rest}
"#
    )
}

const INSTANT: &str = r#"service_time_us = { dist = "fixed", value = 0.001 }
network_rtt_us = { dist = "fixed", value = 0.001 }"#;

/// A read-through keyspace `name` of `keys` uniform keys without TTL at `rate` per second.
fn keyspace(name: &str, rate: u32, keys: u64, read_from: &str) -> String {
    format!(
        r#"[[keyspaces]]
name = "{name}"
operation = "read-through"
read_from = "{read_from}"
origin = "db"
client_timeout_ms = "1h"
key_template = "{name}:{{tenant}}:{{id}}"
value_size_bytes = {{ dist = "fixed", value = 100 }}
keys_per_tenant = {keys}
popularity = {{ dist = "uniform" }}
rate_per_s = {rate}
"#
    )
}

/// Every request a key of its own (10^8 keys): each is a miss followed by one write-back.
fn fresh_keys(duration: &str, fault: &str) -> String {
    let cluster = format!("replicas_per_shard = 1\n{INSTANT}");
    let rest = format!(
        "{}[[plans]]\nname = \"p\"\nplacement = {{ k = \"c\" }}\n{fault}",
        keyspace("k", 500, 100_000_000, "master")
    );
    scenario(
        &format!("duration_ms = \"{duration}\"\nstart = \"cold\""),
        &cluster,
        &rest,
    )
}

#[test]
fn a_failover_with_a_replica_loses_exactly_the_writes_inside_the_lag_window() {
    // The oracle is the same traffic without the fault (common random numbers): the keys
    // resident at 9 s and at 10 s are the writes acknowledged by then (each request writes a
    // new key; no TTL, no maxmemory). The failover at 10 s with a lag of 1 s must lose exactly
    // the writes of [9 s, 10 s] and keep every older one; its shard is down to the end, so no
    // later write lands.
    let fault = r#"[[faults]]
kind = "failover"
cluster = "c"
shard = 0
start_ms = "10s"
replication_lag_ms = "1s"
mode = "refused""#;
    let (_, at_9s) = run(&fresh_keys("9s", ""), 7);
    let (_, at_10s) = run(&fresh_keys("10s", ""), 7);
    let (_, failed) = run(&fresh_keys("11s", fault), 7);
    let written_by = |r: &[PlanResult]| r[0].shards[0].keys_end;
    let in_window = written_by(&at_10s) - written_by(&at_9s);
    assert!(in_window > 400, "about 500 writes a second: {in_window}");
    assert_eq!(failed[0].faults[0].writes_lost, in_window);
    assert_eq!(
        written_by(&failed),
        written_by(&at_9s),
        "everything older survives"
    );
}

#[test]
fn replica_reads_are_stale_at_the_rate_a_change_falls_within_the_lag() {
    // Both keyspaces' sources change every P = 2 s (a delete event: the master drops every
    // key at once). A read served by a replica lagging L = 200 ms sees the old value when the
    // change happened in the last L before it: with keys always resident before a change,
    // the stale reads (served ≥ 1 ms after the change, STALENESS_THRESHOLD) are
    // rate × (L − 1 ms) × changes. Reads from the master are never stale. Tolerance 6 %:
    // the count is Poisson with mean 3,980, so 4 standard deviations.
    let cluster = format!("replicas_per_shard = 2\nreplication_lag_ms = {{ dist = \"fixed\", value = 200 }}\n{INSTANT}");
    let mut rest = keyspace("on-replica", 2000, 100, "replica");
    rest += &keyspace("on-master", 2000, 100, "master");
    rest += "[[plans]]\nname = \"p\"\nplacement = { on-replica = \"c\", on-master = \"c\" }\n";
    for i in 1..=10 {
        rest += &format!(
            "[[events]]\nat_ms = \"{}s\"\nname = \"change {i}\"\naction = \"delete\"\nkeyspaces = [\"on-replica\", \"on-master\"]\n",
            2 * i
        );
    }
    let head = "duration_ms = \"21s\"\nwarmup_ms = \"1s\"\nstart = \"cold\"";
    let (_, res) = run(&scenario(head, &cluster, &rest), 3);
    let stale = |ks: usize| res[0].invariants.tallies[0][ks][Invariant::StaleRead.index()];
    let want = 2000.0 * (0.200 - 0.001) * 10.0;
    let got = stale(0).violations as f64;
    assert!(
        (got / want - 1.0).abs() < 0.06,
        "stale replica reads {got}, closed form {want}"
    );
    assert!(stale(0).max_staleness.as_ns() < 200_000_000 + 1_000_000);
    assert_eq!(stale(1).violations, 0, "the master is never stale");
}

#[test]
fn reads_on_replicas_relieve_a_hot_master() {
    // One shard, 40 µs per command, 100 µs round trips. A hot keyspace at 20,000 GETs/s and a
    // light one at 200/s on the master: ρ = 0.808 and the light keyspace's mean latency is
    // M/D/1's rtt + S + ρS / (2(1 − ρ)) = 224 µs (within 8 %: serverCron's CPU and the
    // cold start's misses add a little). With the hot GETs on two replicas the master serves
    // only the light keyspace (and the hot one's few write-backs), and its latency falls to
    // about rtt + S = 140 µs.
    let cluster = |replicas: u32| {
        format!(
            "replicas_per_shard = {replicas}\nservice_time_us = {{ dist = \"fixed\", value = 40 }}\nnetwork_rtt_us = {{ dist = \"fixed\", value = 100 }}"
        )
    };
    let rest = |read_from: &str| {
        format!(
            "{}{}[[plans]]\nname = \"p\"\nplacement = {{ hot = \"c\", light = \"c\" }}\n",
            keyspace("hot", 20_000, 1_000, read_from),
            keyspace("light", 200, 100, "master")
        )
    };
    let head = "duration_ms = \"12s\"\nwarmup_ms = \"2s\"\nstart = \"cold\"";
    let (_, on_master) = run(&scenario(head, &cluster(2), &rest("master")), 5);
    let (_, on_replicas) = run(&scenario(head, &cluster(2), &rest("replica")), 5);
    let light_mean_us = |r: &[PlanResult]| r[0].keyspaces[1].latency_us.mean();
    let md1 = 100.0 + 40.0 + 0.808 * 40.0 / (2.0 * (1.0 - 0.808));
    let busy = light_mean_us(&on_master);
    assert!((busy / md1 - 1.0).abs() < 0.08, "{busy} µs vs M/D/1 {md1}");
    let relieved = light_mean_us(&on_replicas);
    assert!(
        relieved < 150.0,
        "the master without the hot reads: {relieved} µs"
    );
    let master_commands = |r: &[PlanResult]| r[0].shards[0].commands;
    assert!(
        master_commands(&on_replicas) * 20 < master_commands(&on_master),
        "{} vs {} commands on the master",
        master_commands(&on_replicas),
        master_commands(&on_master)
    );
    // The hot keyspace itself: about 10,000 GETs/s per replica (ρ = 0.4) instead of the
    // master's 0.8: faster too.
    let hot_mean_us = |r: &[PlanResult]| r[0].keyspaces[0].latency_us.mean();
    assert!(hot_mean_us(&on_replicas) < hot_mean_us(&on_master) - 50.0);
}

#[test]
fn a_failover_without_a_replica_is_refused_with_the_field_path() {
    let fault = |cluster: &str| {
        format!(
            "[[faults]]\nkind = \"failover\"\ncluster = \"c\"\nshard = 0\nstart_ms = \"1s\"\n{cluster}"
        )
    };
    let toml = |replicas: u32, extra: &str| {
        scenario(
            "duration_ms = \"2s\"",
            &format!("replicas_per_shard = {replicas}"),
            &format!(
                "{}[[plans]]\nname = \"p\"\nplacement = {{ k = \"c\" }}\n{}",
                keyspace("k", 10, 10, "master"),
                fault(extra)
            ),
        )
    };
    let err = |src: &str| scenario::parse(src, "test.toml").unwrap_err().to_string();
    let none = err(&toml(0, ""));
    assert!(
        none.contains("faults[0].cluster") && none.contains("has no replicas"),
        "{none}"
    );
    let rank = err(&toml(2, "replica_rank = 2"));
    assert!(
        rank.contains("faults[0].replica_rank") && rank.contains("allowed: 0 to 1"),
        "{rank}"
    );
    assert!(scenario::parse(&toml(2, "replica_rank = 1"), "test.toml").is_ok());
    let read_from = err(&toml(1, "").replace("read_from = \"master\"", "read_from = \"slave\""));
    assert!(read_from.contains("keyspaces[0].read_from"), "{read_from}");
    // Through the binary: exit code 2, the field path on stderr.
    let dir = TempDir::new("replicas-refused");
    let file = dir.write("s.toml", toml(0, ""));
    let out = check_exit(&["validate", arg(&file)], 2);
    assert!(out.stderr.contains("faults[0].cluster"), "{out:#?}");
}

#[test]
fn replicas_start_with_the_warm_data_of_their_master() {
    // A warm start writes each master's stationary set before time 0; the replicas hold the
    // same. Two identical keyspaces (TTL 10 s, 50 keys at 4 requests/s each: λT = 40), one
    // read from a replica with a 1 ms lag: in the first second both hit at the stationary
    // ratio λT/(1+λT) ≈ 0.976 (within 3 points: 200 reads each), where a cold replica would
    // miss every key once (50 of 200 reads).
    let cluster = format!(
        "replicas_per_shard = 1\nreplication_lag_ms = {{ dist = \"fixed\", value = 1 }}\n{INSTANT}"
    );
    let ttl = |ks: String| ks.replace("client_timeout_ms", "ttl_ms = \"10s\"\nclient_timeout_ms");
    let rest = format!(
        "{}{}[[plans]]\nname = \"p\"\nplacement = {{ a = \"c\", b = \"c\" }}\n",
        ttl(keyspace("a", 200, 50, "replica")),
        ttl(keyspace("b", 200, 50, "master"))
    );
    let (_, res) = run(
        &scenario(
            "duration_ms = \"1s\"\nstart = \"steady-state\"",
            &cluster,
            &rest,
        ),
        11,
    );
    let hit = |ks: usize| {
        let m = &res[0].keyspaces[ks];
        m.redis_hits as f64 / m.requests as f64
    };
    let want = 40.0 / 41.0;
    for ks in [0, 1] {
        assert!(
            (hit(ks) - want).abs() < 0.03,
            "keyspace {ks}: hit ratio {}",
            hit(ks)
        );
    }
}

#[test]
fn replica_reads_and_failovers_do_not_depend_on_the_thread_count() {
    // Two plans (run in parallel when there are threads), replica reads with a random lag,
    // delete events and a failover whose lag is drawn from the cluster's.
    let cluster = "shards = 2\nreplicas_per_shard = 2\nreplication_lag_ms = { dist = \"exponential\", mean = 50 }\n";
    let mut rest = keyspace("r", 3000, 200, "replica");
    rest += &keyspace("m", 1000, 200, "master");
    rest += "[[plans]]\nname = \"p\"\nplacement = { r = \"c\", m = \"c\" }\n";
    rest += "[[plans]]\nname = \"q\"\nplacement = { r = \"c\", m = \"c\" }\n";
    rest += "[[events]]\nat_ms = \"2950ms\"\nname = \"e\"\naction = \"delete\"\nkeyspaces = [\"r\", \"m\"]\n";
    rest += "[[faults]]\nkind = \"failover\"\ncluster = \"c\"\nshard = 1\nstart_ms = \"3s\"\nnode_timeout_ms = \"500ms\"\n";
    let toml = scenario("duration_ms = \"6s\"", "", &rest).replace(
        "shards = 1\nmaxmemory_bytes = 0\n",
        &format!("maxmemory_bytes = 0\n{cluster}"),
    );
    let scn = scenario::parse(&toml, "test.toml").unwrap_or_else(|e| panic!("{e}"));
    let with_threads = |n: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build()
            .expect("a thread pool");
        pool.install(|| format!("{:?}", cacheplan::sim::run_all_plans(&scn, 9)))
    };
    let one = with_threads(1);
    assert_eq!(one, with_threads(3));
    let res = cacheplan::sim::run_all_plans(&scn, 9);
    assert!(res[0].faults[0].writes_lost > 0, "the failover lost writes");
    assert!(res[0].keyspaces[0].redis_hits > 0);
}
