//! Every event at its own time (issue "Every event at its own time"): a reply is handled when
//! it reaches the client, a miss starts its load then, an origin never sees a future time, and
//! the times handed to every component never decrease. The components check the last
//! (`MonotoneClock`, in every build) and panic when time goes back, so a run that finishes is
//! the property; the timeout tests check the first against an oracle: a wait can never exceed
//! a timeout far above any possible wait.

use cacheplan::metrics::PlanResult;
use cacheplan::scenario;

fn run(toml: &str, seed: u64) -> Vec<PlanResult> {
    let scn = scenario::parse(toml, "causality.toml").unwrap_or_else(|e| panic!("{e}"));
    cacheplan::sim::run_all_plans(&scn, seed)
}

/// One read-through keyspace on a 2-shard cluster behind a one-connection origin whose
/// service time is `service_ms` (exponential), fed `rate` misses-ish per second (short TTL,
/// many keys), with Redis round trips of `rtt_us` and a `timeout` at the origin.
fn origin_scenario(rate: f64, service_ms: f64, rtt_us: f64, timeout: &str) -> String {
    format!(
        r#"
version = 1
name = "causality"
[simulation]
duration_ms = "120s"
warmup_ms = "10s"
window_ms = "10s"
app_instances = 4
[[tenants]]
name = "t1"
[[origins]]
name = "db"
concurrency = 1
service_time_ms = {{ dist = "exponential", mean = {service_ms} }}
queue_limit = 1000000
timeout_ms = "{timeout}"
[[clusters]]
name = "c"
shards = 2
maxmemory_bytes = 0
service_time_us = {{ dist = "fixed", value = 20 }}
network_rtt_us = {{ dist = "lognormal", median = {rtt_us}, sigma = 0.4 }}
[[keyspaces]]
name = "k"
key_template = "k:{{tenant}}:{{id}}"
operation = "read-through"
rate_per_s = {rate}
keys_per_tenant = 1000000
popularity = {{ dist = "uniform" }}
value_size_bytes = {{ dist = "fixed", value = 100 }}
ttl_ms = "1s"
origin = "db"
client_timeout_ms = "1h"
[[plans]]
name = "p"
placement = {{ k = "c" }}
"#,
    )
}

#[test]
fn no_load_times_out_when_the_timeout_is_far_above_any_wait() {
    // Utilisation ρ = rate × service (nearly every request misses: 1M keys, 1 s TTL); the
    // longest wait of an M/M/1 queue over 2 minutes at ρ ≤ 0.9 is seconds, far below 1 h.
    for (rho, rtt_us) in [(0.3, 200.0), (0.7, 1_000.0), (0.9, 1_000.0), (0.7, 5_000.0)] {
        let service_ms = 2.0;
        let rate = rho / (service_ms / 1000.0);
        let res = run(&origin_scenario(rate, service_ms, rtt_us, "1h"), 7);
        let o = &res[0].origins[0];
        assert!(o.loads > 10_000, "ρ {rho}: {} loads", o.loads);
        assert!(
            o.peak_queue > 0,
            "ρ {rho}: the queue must form for the test to mean anything"
        );
        assert_eq!(o.timed_out, 0, "ρ {rho}, rtt {rtt_us} µs: a load timed out");
        assert_eq!(res[0].keyspaces[0].errors, 0, "ρ {rho}: errors");
    }
}

#[test]
fn loads_time_out_at_their_own_time_when_the_timeout_is_short() {
    // The control: at ρ = 0.9 waits often exceed 20 ms (M/M/1: P(W > t) = ρ e^{-(μ-λ)t},
    // μ-λ = 50/s, so P(W > 20 ms) = 0.9 e^{-1} ≈ 0.33), so loads do time out, and a timed-out
    // request is answered (with an error) 20 ms after it queued, never later: the slowest
    // answer is bounded by Redis round trips + the timeout + one service time's tail.
    let res = run(&origin_scenario(450.0, 2.0, 200.0, "20ms"), 7);
    let o = &res[0].origins[0];
    let ks = &res[0].keyspaces[0];
    let share = o.timed_out as f64 / (o.loads + o.timed_out) as f64;
    // Timed-out loads leave the queue, so the queue is shorter than M/M/1's: the share sits
    // below 0.33; it must be clearly above zero.
    assert!(share > 0.05 && share < 0.40, "timed-out share {share}");
    assert_eq!(
        ks.errors, o.timed_out,
        "each timed-out load fails its request"
    );
    // No answer waits much beyond the timeout at the origin: queue wait ≤ 20 ms, plus the
    // service time of the load that got the connection (exponential, mean 2 ms; 40 ms is
    // e^-20 out) and the Redis round trips (< 2 ms).
    let p100_ms = ks.latency_us.max() as f64 / 1000.0;
    assert!(p100_ms < 20.0 + 40.0 + 2.0, "slowest answer {p100_ms} ms");
}

/// A scenario drawn from `seed`: strategies, round trips, service times, shard counts,
/// faults and timeouts vary so that replies, timeouts, queued commands, polls, refreshes and
/// fault transitions interleave in many orders.
fn random_scenario(seed: u64) -> String {
    let mut rng = cacheplan::engine::RngStream::new(seed, 99);
    let pick = |rng: &mut cacheplan::engine::RngStream, xs: &[&'static str]| {
        xs[rng.below(xs.len() as u64) as usize]
    };
    let strategy = pick(
        &mut rng,
        &[
            r#"strategy = { kind = "cache-aside" }"#,
            r#"strategy = { kind = "single-flight", lock_ttl_ms = "200ms", lock_poll_ms = "5ms", lock_max_wait_ms = "50ms" }"#,
            r#"strategy = { kind = "stale-while-revalidate", soft_ttl_ms = "300ms", lock_ttl_ms = "200ms" }"#,
            r#"strategy = { kind = "xfetch", beta = 1.0 }"#,
            r#"strategy = { kind = "cache-aside", coalesce = true, local_cache_keys = 100, local_cache_ttl_ms = "1s" }"#,
            r#"strategy = { kind = "cache-aside", breaker_failures = 5, breaker_open_ms = "100ms" }"#,
        ],
    );
    let fault_of = |kind: &str, fields: &str| {
        format!("[[faults]]\nkind = \"{kind}\"\nname = \"{kind}\"\ncluster = \"c\"\n{fields}\nend_ms = \"8s\"")
    };
    let fault = match rng.below(5) {
        0 => String::new(),
        1 => fault_of(
            "shard-down",
            "shard = 0\nmode = \"timeout\"\nstart_ms = \"5s\"",
        ),
        2 => fault_of(
            "shard-down",
            "shard = 0\nmode = \"refused\"\nstart_ms = \"5s\"",
        ),
        3 => fault_of("latency-spike", "multiplier = 200\nstart_ms = \"4s\""),
        _ => fault_of("shard-slow", "multiplier = 50\nstart_ms = \"4s\""),
    };
    let rtt_us = [50.0, 500.0, 2_000.0][rng.below(3) as usize];
    let redis_us = [5.0, 50.0, 200.0][rng.below(3) as usize];
    let client_timeout = pick(&mut rng, &["5ms", "20ms", "1s"]);
    let origin_timeout = pick(&mut rng, &["10ms", "100ms", "1h"]);
    let shards = 1 + rng.below(3);
    let ttl = pick(&mut rng, &["500ms", "1s", "3s"]);
    let rate = 200 + rng.below(3000);
    let keys = [10, 1_000, 100_000][rng.below(3) as usize];
    format!(
        r#"
version = 1
name = "random"
[simulation]
duration_ms = "12s"
warmup_ms = "2s"
window_ms = "1s"
app_instances = 3
[[tenants]]
name = "t1"
[[origins]]
name = "db"
concurrency = 2
service_time_ms = {{ dist = "exponential", mean = 1.5 }}
queue_limit = 100
timeout_ms = "{origin_timeout}"
[[clusters]]
name = "c"
shards = {shards}
maxmemory_bytes = "2mb"
maxmemory_policy = "allkeys-lru"
service_time_us = {{ dist = "exponential", mean = {redis_us} }}
network_rtt_us = {{ dist = "lognormal", median = {rtt_us}, sigma = 0.4 }}
[[keyspaces]]
name = "k"
key_template = "k:{{tenant}}:{{id}}"
operation = "read-through"
rate_per_s = {rate}
keys_per_tenant = {keys}
popularity = {{ dist = "zipf", alpha = 0.9 }}
value_size_bytes = {{ dist = "fixed", value = 500 }}
ttl_ms = "{ttl}"
origin = "db"
client_timeout_ms = "{client_timeout}"
{strategy}
[[keyspaces]]
name = "lock"
key_template = "lock:{{tenant}}:{{id}}"
operation = "lock"
rate_per_s = 100
keys_per_tenant = 50
popularity = {{ dist = "uniform" }}
value_size_bytes = {{ dist = "fixed", value = 36 }}
ttl_ms = "100ms"
hold_ms = {{ dist = "exponential", mean = 20 }}
client_timeout_ms = "{client_timeout}"
[[keyspaces]]
name = "rl"
key_template = "rl:{{tenant}}:{{id}}"
operation = "rate-limit"
rate_per_s = 300
keys_per_tenant = 200
popularity = {{ dist = "uniform" }}
value_size_bytes = {{ dist = "fixed", value = 8 }}
ttl_ms = "1s"
window_ms = "1s"
client_timeout_ms = "{client_timeout}"
[[events]]
name = "catalogue republished"
at_ms = "6s"
action = "delete"
keyspaces = ["k"]
[[plans]]
name = "p"
placement = {{ k = "c", lock = "c", rl = "c" }}
{fault}
"#,
    )
}

#[test]
fn event_times_handed_to_every_component_never_decrease() {
    // The property over random scenarios: shards, origins, clients and recorders all check
    // the times they are handed (a panic fails the test); each run must also have done work.
    let n = if crate::slow_tests() { 40 } else { 12 };
    for seed in 0..n {
        let toml = random_scenario(seed);
        let scn = scenario::parse(&toml, "random.toml")
            .unwrap_or_else(|e| panic!("seed {seed}: {e}\n{toml}"));
        let res = cacheplan::sim::run_all_plans(&scn, seed);
        let requests: u64 = res[0].keyspaces.iter().map(|k| k.requests).sum();
        assert!(requests > 1_000, "seed {seed}: {requests} requests");
    }
}
