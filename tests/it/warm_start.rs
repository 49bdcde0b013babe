//! The warm start (`[simulation] start = "steady-state"`) against its oracles: the stationary
//! presence probabilities of read-through keys (λT/(1+λT)) and sessions (1 − e^(−λT)), the
//! same probabilities reached by a long cold run, and, for the default scenario and an
//! anti-pattern scenario, a warm-started 10-minute run against the last 10 minutes of a cold
//! 2-hour run. Fixed seeds; each tolerance is stated where it is asserted.

use cacheplan::metrics::PlanResult;
use cacheplan::scenario;

fn run(toml: &str, seed: u64) -> Vec<PlanResult> {
    let scn = scenario::parse(toml, "warm.toml").unwrap_or_else(|e| panic!("{e}\n{toml}"));
    cacheplan::sim::run_all_plans(&scn, seed)
}

/// One keyspace of `n` uniformly popular keys at `rate` requests/s with TTL `ttl`, on one
/// unlimited shard, started `start` and run for `duration` (no warm-up).
fn uniform_keyspace(op: &str, n: u64, rate: f64, ttl: &str, start: &str, duration: &str) -> String {
    let window = if duration.ends_with("ms") {
        duration
    } else {
        "10s"
    };
    format!(
        r#"
version = 1
name = "warm"
[simulation]
start = "{start}"
duration_ms = "{duration}"
window_ms = "{window}"
app_instances = 1
[[tenants]]
name = "t1"
[[origins]]
name = "db"
concurrency = 100000
service_time_ms = {{ dist = "fixed", value = 0.001 }}
queue_limit = 1000000
timeout_ms = "1h"
[[clusters]]
name = "c"
shards = 1
maxmemory_bytes = 0
service_time_us = {{ dist = "fixed", value = 0.001 }}
network_rtt_us = {{ dist = "fixed", value = 0.001 }}
[[keyspaces]]
name = "k"
key_template = "k:{{tenant}}:{{id}}"
operation = "{op}"
rate_per_s = {rate}
keys_per_tenant = {n}
popularity = {{ dist = "uniform" }}
value_size_bytes = {{ dist = "fixed", value = 100 }}
ttl_ms = "{ttl}"
origin = "db"
[[plans]]
name = "p"
placement = {{ k = "c" }}
"#
    )
}

/// The share of the keyspace's keys resident at the end of a run.
fn resident_share(res: &[PlanResult], n: u64) -> f64 {
    res[0].shards[0].keys_end as f64 / n as f64
}

#[test]
fn warm_read_through_keys_are_present_with_probability_lambda_t_over_one_plus_lambda_t() {
    // 20,000 keys: the share's binomial standard error is below 0.4 points; tolerance 1 point.
    // A run of 1 ms leaves the warm set as it was built.
    let n = 20_000;
    for (rate, lambda_t) in [(200.0, 0.5), (1_200.0, 3.0)] {
        // hz 500 and active-expire-effort 10: the expire cursor goes on until under 1 % of a
        // loop is stale, so the expired keys still resident stay a small part of the share.
        let toml = uniform_keyspace("read-through", n, rate, "50s", "steady-state", "1ms").replace(
            "maxmemory_bytes = 0",
            "maxmemory_bytes = 0\nhz = 500\nactive_expire_effort = 10",
        );
        let share = resident_share(&run(&toml, 3), n);
        let want: f64 = lambda_t / (1.0 + lambda_t);
        assert!(
            (share - want).abs() < 0.01,
            "λT {lambda_t}: warm share {share:.4}, theory {want:.4}"
        );
    }
}

#[test]
fn the_warm_benchmark_sets_plans_up_with_the_stationary_keys_and_simulates_nothing() {
    // `sim::warm_start_plans` (the `warm` benchmark) builds each plan as a run does: the
    // share of keys it leaves resident is the read-through oracle's λT/(1+λT) (tolerance 1
    // point, as above), the same again for the same seed, and nothing when the run starts
    // cold.
    let n = 20_000;
    let toml = uniform_keyspace("read-through", n, 200.0, "50s", "steady-state", "1ms").replace(
        "maxmemory_bytes = 0",
        "maxmemory_bytes = 0\nhz = 500\nactive_expire_effort = 10",
    );
    let scn = scenario::parse(&toml, "warm.toml").unwrap();
    let keys = cacheplan::sim::warm_start_plans(&scn, 3);
    assert_eq!(keys.len(), 1);
    let share = keys[0] as f64 / n as f64;
    assert!((share - 0.5 / 1.5).abs() < 0.01, "warm share {share:.4}");
    assert_eq!(
        keys,
        cacheplan::sim::warm_start_plans(&scn, 3),
        "same seed, same keys"
    );
    let cold = toml.replace("start = \"steady-state\"", "start = \"cold\"");
    let cold = scenario::parse(&cold, "cold.toml").unwrap();
    assert_eq!(cacheplan::sim::warm_start_plans(&cold, 3), vec![0]);
}

#[test]
fn warm_sessions_are_present_with_probability_one_minus_e_to_the_minus_lambda_t() {
    let n = 20_000;
    for (rate, lambda_t) in [(200.0, 0.5), (1_200.0, 3.0)] {
        // hz 500 and active-expire-effort 10: the expire cursor goes on until under 1 % of a
        // loop is stale, so the expired keys still resident stay a small part of the share.
        let toml = uniform_keyspace("session", n, rate, "50s", "steady-state", "1ms").replace(
            "maxmemory_bytes = 0",
            "maxmemory_bytes = 0\nhz = 500\nactive_expire_effort = 10",
        );
        let share = resident_share(&run(&toml, 3), n);
        let want = 1.0 - f64::exp(-lambda_t);
        assert!(
            (share - want).abs() < 0.01,
            "λT {lambda_t}: warm share {share:.4}, theory {want:.4}"
        );
    }
}

/// used_memory of shard `si` averaged over the windows that start at or after `from_s`.
pub fn mean_used_memory(res: &PlanResult, si: usize, from_s: f64) -> f64 {
    let late: Vec<u64> = res
        .windows
        .iter()
        .filter(|w| w.start.as_secs_f64() >= from_s)
        .map(|w| w.shard_used_memory[si])
        .collect();
    late.iter().sum::<u64>() as f64 / late.len() as f64
}

#[test]
fn a_long_cold_run_reaches_the_warm_start_memory() {
    // The simulator itself, started cold, holds after 3 TTLs the memory a warm start holds
    // from time 0: used_memory averaged over the cold run's windows from 60 s and over all
    // the warm run's (tolerance 1.5 %; the count of 20,000 keys fluctuates by about 0.3 % at
    // a moment). Both include the expired keys active expiry has not reached yet (about a
    // tenth of the volatile keys at these rates): the warm start writes them too
    // (`redis::expiry_steady`).
    let n = 20_000;
    for op in ["read-through", "session"] {
        let cold = uniform_keyspace(op, n, 600.0, "20s", "cold", "240s");
        let warm = uniform_keyspace(op, n, 600.0, "20s", "steady-state", "120s");
        let c = mean_used_memory(&run(&cold, 5)[0], 0, 60.0);
        let w = mean_used_memory(&run(&warm, 5)[0], 0, 0.0);
        assert!(
            (w / c - 1.0).abs() < 0.015,
            "{op}: cold {c:.0} B, warm {w:.0} B"
        );
    }
}

/// Two rate-limit keyspaces (a sliding window and a token bucket, 100 requests per 10 s
/// window and actor, Zipf(1.0) actors, so popular actors are refused) and a lock keyspace
/// (2,000 uniformly popular keys at 0.05 requests/s each, holds of about 20 s: each key is
/// held about half the time, λh̄/(1+λh̄) with λh̄ = 1.1), each on its
/// own unlimited cluster, started `start`, `duration` long after `warmup`, windows of 10 s.
fn client_state(start: &str, duration: &str, warmup: &str) -> String {
    let cluster = |name: &str| {
        format!(
            r#"
[[clusters]]
name = "{name}"
shards = 1
maxmemory_bytes = 0
"#
        )
    };
    let limiter = |name: &str, algorithm: &str| {
        format!(
            r#"
[[keyspaces]]
name = "{name}"
key_template = "rl:{{tenant}}:{name}:{{actorId}}"
operation = "rate-limit"
rate_per_s = 1500
keys_per_tenant = 2000
popularity = {{ dist = "zipf", alpha = 1.0 }}
value_size_bytes = {{ dist = "fixed", value = 8 }}
window_ms = "10s"
ttl_ms = "12s"
rate_limit_algorithm = "{algorithm}"
rate_limit_per_window = 100
"#
        )
    };
    format!(
        r#"
version = 1
name = "warm-clients"
[simulation]
start = "{start}"
duration_ms = "{duration}"
warmup_ms = "{warmup}"
window_ms = "10s"
[[tenants]]
name = "t1"
{}{}{}{}{}
[[keyspaces]]
name = "lock"
key_template = "lock:{{tenant}}:{{quoteId}}"
operation = "lock"
rate_per_s = 100
keys_per_tenant = 2000
popularity = {{ dist = "uniform" }}
value_size_bytes = {{ dist = "fixed", value = 36 }}
ttl_ms = "60s"
hold_ms = {{ dist = "lognormal", median = 20000, sigma = 0.5 }}
[[plans]]
name = "p"
placement = {{ sliding = "c-sliding", bucket = "c-bucket", lock = "c-lock" }}
"#,
        cluster("c-sliding"),
        cluster("c-bucket"),
        cluster("c-lock"),
        limiter("sliding", "sliding-window"),
        limiter("bucket", "token-bucket"),
    )
}

/// Per keyspace of `client_state`: (rate-limited share, lock-contended share) of the counted
/// requests, and per shard the mean used_memory over the windows from `from_s`.
fn client_figures(res: &PlanResult, from_s: f64) -> (Vec<f64>, Vec<f64>) {
    let shares = res
        .keyspaces
        .iter()
        .map(|m| {
            let refused = m.rate_limited + m.lock_contended;
            refused as f64 / m.requests.max(1) as f64
        })
        .collect();
    let memory = (0..res.shards.len())
        .map(|si| mean_used_memory(res, si, from_s))
        .collect();
    (shares, memory)
}

#[test]
fn a_warm_start_leaves_rate_limiters_and_locks_as_a_long_run_does() {
    // The first minute of a warm run (a 1-minute run: same seed, same traffic) against the
    // last minute of a 6-minute one (5 minutes of warm-up): refused share per keyspace within
    // 1 point for the rate limits (about 90,000 requests a minute each) and 1.5 points for the
    // lock (6,000 requests a minute: the binomial standard error of a share near 0.5 is 0.65
    // points), used_memory of the first 10 s window within 3 % of the last minute's mean. A
    // cold start misses one or the other on each keyspace by more (sorted sets still filling,
    // every bucket full, no lock held at 0), which the last assertion checks, so the test can
    // tell the two apart.
    let figures = |start: &str| {
        let first = run(&client_state(start, "1m", "0ms"), 21);
        let last = run(&client_state(start, "6m", "5m"), 21);
        let (first_shares, _) = client_figures(&first[0], 0.0);
        let first_window: Vec<f64> = first[0].windows[0]
            .shard_used_memory
            .iter()
            .map(|&m| m as f64)
            .collect();
        let (last_shares, last_memory) = client_figures(&last[0], 300.0);
        (first_shares, first_window, last_shares, last_memory)
    };
    let names = ["sliding", "bucket", "lock"];
    let (fs, fm, ls, lm) = figures("steady-state");
    for i in 0..3 {
        eprintln!(
            "warm {}: refused first minute {:.4}, last {:.4}; memory first window {:.0} B, last minute {:.0} B",
            names[i], fs[i], ls[i], fm[i], lm[i]
        );
    }
    let (cfs, cfm, cls, clm) = figures("cold");
    for i in 0..3 {
        eprintln!(
            "cold {}: refused first minute {:.4}, last {:.4}; memory first window {:.0} B, last minute {:.0} B",
            names[i], cfs[i], cls[i], cfm[i], clm[i]
        );
    }
    for i in 0..3 {
        let points = if names[i] == "lock" { 0.015 } else { 0.01 };
        assert!(
            (fs[i] - ls[i]).abs() < points,
            "{}: refused {} vs {}",
            names[i],
            fs[i],
            ls[i]
        );
        assert!(
            (fm[i] / lm[i] - 1.0).abs() < 0.03,
            "{}: memory {} vs {}",
            names[i],
            fm[i],
            lm[i]
        );
    }
    for i in 0..3 {
        assert!(
            (cfs[i] - cls[i]).abs() >= 0.02 || (cfm[i] / clm[i] - 1.0).abs() >= 0.03,
            "cold {} shows no transient",
            names[i]
        );
    }
}
