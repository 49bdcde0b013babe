//! Client strategies and the queueing model against theory (issue: "each proven against
//! theory"): TTL-cache hit ratio, Che's approximation, M/M/1 and M/D/1, stampede sizes with and
//! without single-flight, coalescing, XFetch, stale-while-revalidate and TTL jitter. Fixed seeds;
//! each tolerance is stated where it is asserted.

use cacheplan::engine::RngStream;
use cacheplan::metrics::PlanResult;
use cacheplan::replay::exact::LruCache;
use cacheplan::scenario::{self, Scenario};
use cacheplan::workload::popularity::Zipf;
use cacheplan::workload::trace::TraceRequest;

/// Runs a scenario given as TOML; returns it and its plans' results.
fn run(toml: &str, seed: u64) -> (Scenario, Vec<PlanResult>) {
    let scn = scenario::parse(toml, "test.toml").unwrap_or_else(|e| panic!("{e}"));
    let res = cacheplan::sim::run_all_plans(&scn, seed);
    (scn, res)
}

/// A scenario of one keyspace on one single-shard cluster with near-zero network and Redis
/// time, so client behaviour is seen alone. `ks` is the keyspace's extra TOML lines.
fn one_key_scenario(duration: &str, origin_ms: &str, ks: &str, instances: u32) -> String {
    format!(
        r#"
version = 1
name = "t"
[simulation]
duration_ms = "{duration}"
warmup_ms = "10s"
window_ms = "1s"
app_instances = {instances}
[[tenants]]
name = "t1"
[[origins]]
name = "db"
concurrency = 100000
service_time_ms = {origin_ms}
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
operation = "read-through"
value_size_bytes = {{ dist = "fixed", value = 100 }}
origin = "db"
client_timeout_ms = "1h"
{ks}
[[plans]]
name = "p"
placement = {{ k = "c" }}
"#
    )
}

fn mean_stampede(r: &PlanResult) -> f64 {
    r.keyspaces[0].stampede_size.mean()
}

#[test]
fn ttl_cache_hit_ratio_is_lambda_t_over_one_plus_lambda_t() {
    // One key, Poisson rate 2/s, TTL set on fill and not reset by hits, origin time ~0:
    // hit ratio = λT / (1 + λT). Tolerance 0.5 points (the issue's); the standard error here
    // is below 0.2 points. (Redis expires a key when now_ms > expire_ms, both whole ms, so the
    // effective TTL is about T + 0.5 ms: negligible at these TTLs, 0.5 points at T = 25 ms.)
    for (lambda_t, ttl) in [(0.5, "250ms"), (2.0, "1s"), (10.0, "5s")] {
        let ks = format!(
            "rate_per_s = 2\nkeys_per_tenant = 1\npopularity = {{ dist = \"uniform\" }}\nttl_ms = \"{ttl}\""
        );
        let toml = one_key_scenario("30000s", r#"{ dist = "fixed", value = 0.0001 }"#, &ks, 1);
        let (_, res) = run(&toml, 1);
        let m = &res[0].keyspaces[0];
        let hit = m.redis_hits as f64 / m.requests as f64;
        let want = lambda_t / (1.0 + lambda_t);
        assert!(
            (hit - want).abs() < 0.005,
            "λT = {lambda_t}: hit ratio {hit:.4}, formula {want:.4}"
        );
    }
}

/// Che's approximation for LRU under the independent reference model: the characteristic
/// time T solves Σ (1 - exp(-p_i T)) = C; hit ratio = Σ p_i (1 - exp(-p_i T)).
fn che_hit_ratio(p: &[f64], c: f64) -> f64 {
    let occupancy = |t: f64| p.iter().map(|pi| 1.0 - (-pi * t).exp()).sum::<f64>();
    let (mut lo, mut hi) = (0.0, 1.0);
    while occupancy(hi) < c {
        hi *= 2.0;
    }
    for _ in 0..100 {
        let mid = (lo + hi) / 2.0;
        if occupancy(mid) < c {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    p.iter().map(|pi| pi * (1.0 - (-pi * lo).exp())).sum()
}

#[test]
fn lru_matches_ches_approximation() {
    // Exact LRU under independent Zipf requests over 100k objects, caches of 1 % and 10 %:
    // within 1 point of Che's approximation (the issue's tolerance), after a warm-up.
    let n = 100_000u64;
    for alpha in [0.8, 1.0] {
        let zipf = Zipf::new(n, alpha);
        let p: Vec<f64> = (0..n).map(|k| zipf.probability(k)).collect();
        for cache in [1_000u64, 10_000] {
            let mut lru = LruCache::new(cache, true);
            let mut rng = RngStream::new(42, cache);
            let (warm, total) = (1_000_000u64, 3_000_000u64);
            let mut hits = 0u64;
            for i in 0..total {
                let req = TraceRequest {
                    obj_id: zipf.sample(&mut rng),
                    obj_size: 1,
                    ..TraceRequest::default()
                };
                let hit = cacheplan::replay::ReplayCache::access(&mut lru, &req, 0);
                if i >= warm && hit {
                    hits += 1;
                }
            }
            let measured = hits as f64 / (total - warm) as f64;
            let che = che_hit_ratio(&p, cache as f64);
            assert!(
                (measured - che).abs() < 0.01,
                "alpha {alpha}, cache {cache}: LRU {measured:.4}, Che {che:.4}"
            );
        }
    }
}

fn queue_scenario(rate: f64, service: &str) -> String {
    format!(
        r#"
version = 1
name = "q"
[simulation]
duration_ms = "2000s"
warmup_ms = "20s"
app_instances = 1
[[tenants]]
name = "t1"
[[clusters]]
name = "c"
shards = 1
maxmemory_bytes = 0
service_time_us = {service}
network_rtt_us = {{ dist = "fixed", value = 0.001 }}
[[keyspaces]]
name = "counter"
key_template = "rate:{{tenant}}:{{id}}"
operation = "rate-limit"
rate_per_s = {rate}
keys_per_tenant = 1
popularity = {{ dist = "uniform" }}
value_size_bytes = {{ dist = "fixed", value = 8 }}
window_ms = "1h"
ttl_ms = "2h"
client_timeout_ms = "1h"
[[plans]]
name = "p"
placement = {{ counter = "c" }}
"#
    )
}

#[test]
fn shard_queue_matches_mm1_and_md1() {
    // Service 1 ms mean (μ = 1000/s); Poisson arrivals at λ = 500 and 800/s.
    // M/M/1: mean response 1/(μ-λ) within 3 %, p99 ln(100)/(μ-λ) within 5 % (the issue's).
    let mu = 1000.0;
    for rho in [0.5, 0.8] {
        let lambda = rho * mu;
        let toml = queue_scenario(lambda, r#"{ dist = "exponential", mean = 1000 }"#);
        let (_, res) = run(&toml, 3);
        let h = &res[0].keyspaces[0].redis_latency_us;
        let mean_ms = h.mean() / 1000.0;
        let p99_ms = h.value_at_quantile(0.99) as f64 / 1000.0;
        let want_mean = 1000.0 / (mu - lambda);
        let want_p99 = 100f64.ln() * 1000.0 / (mu - lambda);
        assert!(
            (mean_ms - want_mean).abs() / want_mean < 0.03,
            "ρ {rho}: mean {mean_ms:.3} ms vs {want_mean:.3}"
        );
        assert!(
            (p99_ms - want_p99).abs() / want_p99 < 0.05,
            "ρ {rho}: p99 {p99_ms:.3} ms vs {want_p99:.3}"
        );
        // M/D/1: mean wait ρ / (2 μ (1-ρ)) within 3 %.
        let toml = queue_scenario(lambda, r#"{ dist = "fixed", value = 1000 }"#);
        let (_, res) = run(&toml, 3);
        let wait_ms = res[0].keyspaces[0].redis_latency_us.mean() / 1000.0 - 1.0;
        let want_wait = rho / (2.0 * mu * (1.0 - rho)) * 1000.0;
        assert!(
            (wait_ms - want_wait).abs() / want_wait < 0.03,
            "ρ {rho}: M/D/1 wait {wait_ms:.4} ms vs {want_wait:.4}"
        );
    }
}

const HOT_KEY: &str =
    "rate_per_s = 100\nkeys_per_tenant = 1\npopularity = { dist = \"uniform\" }\nttl_ms = \"1s\"";
const DELTA_50MS: &str = r#"{ dist = "fixed", value = 50 }"#;

/// Runs the hot key (`HOT_KEY`, δ = 50 ms, one instance) with `strategy` (an inline table)
/// for `duration` at `seed`; returns its one plan's result.
fn run_hot_key(strategy: &str, duration: &str, seed: u64) -> PlanResult {
    let ks = format!("{HOT_KEY}\nstrategy = {strategy}");
    let toml = one_key_scenario(duration, DELTA_50MS, &ks, 1);
    run(&toml, seed).1.remove(0)
}

/// Each strategy table (on the hot key) is refused with a message containing its text,
/// naming the file and line.
fn assert_refused(cases: &[(&str, &str)]) {
    for (strategy, want) in cases {
        let ks = format!("{HOT_KEY}\nstrategy = {strategy}");
        let toml = one_key_scenario("100s", DELTA_50MS, &ks, 1);
        let err = scenario::parse(&toml, "test.toml")
            .expect_err("refused")
            .to_string();
        assert!(err.contains(want), "{strategy}: {err}");
        assert!(err.contains("test.toml:"), "names the file and line: {err}");
    }
}

#[test]
fn unprotected_stampede_is_one_plus_lambda_delta() {
    // One hot key, λ = 100/s, recompute δ = 50 ms, TTL 1 s: every request in the δ after the
    // first miss recomputes too: mean 1 + λδ = 6 per expiry, within 5 % (the issue's).
    let toml = one_key_scenario("2000s", DELTA_50MS, HOT_KEY, 1);
    let (_, res) = run(&toml, 5);
    let mean = mean_stampede(&res[0]);
    assert!((mean - 6.0).abs() / 6.0 < 0.05, "mean stampede {mean:.3}");
}

#[test]
fn single_flight_recomputes_once_per_expiry() {
    let ks = format!(
        "{HOT_KEY}\nstrategy = {{ kind = \"single-flight\", lock_ttl_ms = \"5s\", lock_poll_ms = \"10ms\", lock_max_wait_ms = \"1s\" }}"
    );
    let toml = one_key_scenario("2000s", DELTA_50MS, &ks, 1);
    let (_, res) = run(&toml, 5);
    let m = &res[0].keyspaces[0];
    let mean = mean_stampede(&res[0]);
    assert!(mean <= 1.05, "mean recomputations per expiry {mean:.3}");
    assert!(m.lock_waits > 0, "losers must have waited for the lock");
    assert_eq!(m.lock_wait_timeouts, 0);
}

#[test]
fn coalescing_per_instance() {
    // In-process coalescing alone with P instances: the first miss loads; each other instance
    // that gets a request within δ loads once more: E = 1 + (P-1)(1 - exp(-λδ/P)).
    // The issue quotes P (1 - exp(-λδ/P)); the two differ by exp(-λδ/P), negligible at
    // λδ/P = 5 (checked with 10 %, the issue's tolerance) but not at λδ/P = 1, where the
    // exact form is the one that holds (also within 10 %).
    for (p, rate) in [(4u32, 400.0), (4, 80.0)] {
        let ks = format!(
            "rate_per_s = {rate}\nkeys_per_tenant = 1\npopularity = {{ dist = \"uniform\" }}\nttl_ms = \"1s\"\nstrategy = {{ kind = \"cache-aside\", coalesce = true }}"
        );
        let toml = one_key_scenario("1000s", DELTA_50MS, &ks, p);
        let (_, res) = run(&toml, 7);
        let mean = mean_stampede(&res[0]);
        let x = rate * 0.05 / p as f64;
        let exact = 1.0 + (p as f64 - 1.0) * (1.0 - (-x).exp());
        let issue = p as f64 * (1.0 - (-x).exp());
        assert!(
            (mean - exact).abs() / exact < 0.10,
            "P {p}, λδ/P {x}: mean {mean:.3}, 1+(P-1)(1-e^-x) = {exact:.3}, P(1-e^-x) = {issue:.3}"
        );
        if x >= 5.0 {
            assert!((mean - issue).abs() / issue < 0.10);
        }
        assert!(res[0].keyspaces[0].coalesced > 0);
    }
}

#[test]
fn xfetch_keeps_the_stampede_small() {
    // XFetch at β = 1.5 on the same hot key (λδ = 5): the paper reports a mean stampede below 2.
    let ks = format!("{HOT_KEY}\nstrategy = {{ kind = \"xfetch\", beta = 1.5 }}");
    let toml = one_key_scenario("2000s", DELTA_50MS, &ks, 1);
    let (_, res) = run(&toml, 9);
    let mean = mean_stampede(&res[0]);
    let m = &res[0].keyspaces[0];
    println!(
        "xfetch β=1.5: mean recomputations per expiry {mean:.3}; e^(1/β) = {:.3}; misses {}",
        (1.0f64 / 1.5).exp(),
        m.misses
    );
    assert!(mean < 2.0, "mean stampede {mean:.3}");
    // The unverified derivation e^(1/β) = 1.948 also holds here, within 5 %.
    let e = (1.0f64 / 1.5).exp();
    assert!(
        (mean - e).abs() / e < 0.05,
        "mean {mean:.3} vs e^(1/β) {e:.3}"
    );
    assert!(m.background_loads > 0);
}

#[test]
fn stale_while_revalidate_never_misses_while_the_hard_ttl_holds() {
    // Hot key, soft TTL 1 s, hard TTL 10 s, δ 50 ms: after the cold start no user sees a miss,
    // and the origin sees about one load per soft-TTL period (+ the time to the next request
    // and the reload: 1 s + ~10 ms + 50 ms), within 10 %.
    let ks = "rate_per_s = 100\nkeys_per_tenant = 1\npopularity = { dist = \"uniform\" }\nttl_ms = \"10s\"\nstrategy = { kind = \"stale-while-revalidate\", soft_ttl_ms = \"1s\" }";
    let toml = one_key_scenario("1010s", DELTA_50MS, ks, 1);
    let (_, res) = run(&toml, 11);
    let m = &res[0].keyspaces[0];
    assert_eq!(m.misses, 0, "a user-visible miss while the hard TTL held");
    assert!(m.stale_serves > 0);
    let periods = 1000.0 / 1.06;
    let loads = m.origin_loads as f64;
    assert!(
        (loads - periods).abs() / periods < 0.10,
        "{loads} loads for {periods:.0} soft-TTL periods"
    );
}

#[test]
fn ttl_jitter_spreads_refills() {
    if std::env::var("CACHEPLAN_SLOW_TESTS").is_err() {
        return; // 4 M simulated requests: run with CACHEPLAN_SLOW_TESTS=1
    }
    // 10,000 keys written together at the start with TTL 30 s (each requested 5 times a
    // second). Without jitter the refills come in one burst (> 50 % of them in one 1-s
    // window); with uniform jitter over J = 10 s the peak origin rate is within 20 % of
    // 10,000 / J = 1,000/s (the issue's tolerance).
    let base = |jitter: &str| {
        format!(
            r#"
version = 1
name = "j"
[simulation]
start = "cold"
duration_ms = "42s"
window_ms = "1s"
app_instances = 1
[[tenants]]
name = "t1"
[[origins]]
name = "db"
concurrency = 100000
service_time_ms = {{ dist = "fixed", value = 1 }}
queue_limit = 1000000
[[clusters]]
name = "c"
shards = 1
maxmemory_bytes = 0
service_time_us = {{ dist = "fixed", value = 1 }}
[[keyspaces]]
name = "k"
key_template = "k:{{tenant}}:{{id}}"
operation = "read-through"
client_timeout_ms = "1h"
rate_per_s = 50000
keys_per_tenant = 10000
popularity = {{ dist = "uniform" }}
value_size_bytes = {{ dist = "fixed", value = 100 }}
ttl_ms = "30s"
{jitter}
origin = "db"
[[plans]]
name = "p"
placement = {{ k = "c" }}
"#
        )
    };
    let peak_after = |res: &PlanResult, from_s: f64| {
        res.windows
            .iter()
            .filter(|w| w.start.as_secs_f64() >= from_s)
            .map(|w| w.origin_loads[0])
            .max()
            .unwrap_or(0) as f64
    };
    let (_, res) = run(&base(""), 13);
    let peak = peak_after(&res[0], 20.0);
    assert!(
        peak > 5_000.0,
        "without jitter the refills should bunch: peak {peak}/s"
    );
    let (_, res) = run(
        &base(r#"ttl_jitter = { kind = "up-to", max_ms = "10s" }"#),
        13,
    );
    let peak = peak_after(&res[0], 20.0);
    assert!(
        (peak - 1_000.0).abs() / 1_000.0 < 0.20,
        "with 10 s of jitter: peak {peak}/s vs 1000/s"
    );
}

#[test]
fn rate_limit_algorithms_admit_the_limit_and_cost_redis_differently() {
    // One actor asking 50 times a second against a limit of 10 per 1-s window, for 200 s:
    // every algorithm admits about the limit, 10/s (within 5 %); the sliding window's sorted
    // set costs Redis more memory than the counter and the token-bucket hash, and its
    // transaction more main-thread time.
    let toml = |algorithm: &str| {
        format!(
            r#"
version = 1
name = "rl"
[simulation]
duration_ms = "210s"
warmup_ms = "10s"
app_instances = 1
[[tenants]]
name = "t1"
[[clusters]]
name = "c"
shards = 1
maxmemory_bytes = 0
[[keyspaces]]
name = "rate"
key_template = "rate:{{tenant}}:actor:{{actorId}}:window:{{windowId}}"
operation = "rate-limit"
rate_per_s = 50
keys_per_tenant = 1
popularity = {{ dist = "uniform" }}
value_size_bytes = {{ dist = "fixed", value = 8 }}
window_ms = "1s"
ttl_ms = "2s"
rate_limit_algorithm = "{algorithm}"
rate_limit_per_window = 10
[[plans]]
name = "p"
placement = {{ rate = "c" }}
"#
        )
    };
    let mut figures = Vec::new();
    for algorithm in ["fixed-window", "sliding-window", "token-bucket"] {
        let (_, res) = run(&toml(algorithm), 17);
        let m = &res[0].keyspaces[0];
        assert_eq!(m.errors, 0, "{algorithm}");
        assert!(
            !m.latency_us.is_empty(),
            "{algorithm}: answers are recorded"
        );
        let admitted_per_s = (m.requests - m.rate_limited) as f64 / 200.0;
        assert!(
            (admitted_per_s - 10.0).abs() / 10.0 < 0.05,
            "{algorithm}: {admitted_per_s:.2} admitted/s"
        );
        let shard = &res[0].shards[0];
        figures.push((algorithm, shard.used_memory_peak_bytes, shard.busy_ns));
    }
    let (fixed, sliding, bucket) = (figures[0], figures[1], figures[2]);
    assert!(sliding.1 > fixed.1 && sliding.1 > bucket.1, "{figures:?}");
    assert!(sliding.2 > bucket.2 && bucket.2 > fixed.2, "{figures:?}");
}

#[test]
fn refresh_ahead_miss_ratio_matches_its_renewal_closed_form() {
    // One key, Poisson rate λ = 2/s, TTL T = 1 s, refresh fraction f = 0.2, origin time ~0.
    // A write at 0 starts a cycle; the first request after (1-f)T comes X ~ Exp(λ) later: it
    // refreshes when X < fT and misses (the key expired at T) otherwise, and either way its
    // load starts the next cycle. So a cycle holds 1 + (1-f)λT requests and ends in a miss
    // with probability e^(-λfT): miss ratio e^(-λfT) / (1 + (1-f)λT) = 0.2578 (cache-aside:
    // 1/(1+λT) = 0.333), and one load per cycle (stampede size 1). 120k requests: the
    // standard error is about 0.13 points; tolerance 0.5 points.
    let ks = "rate_per_s = 2\nkeys_per_tenant = 1\npopularity = { dist = \"uniform\" }\nttl_ms = \"1s\"\nstrategy = { kind = \"refresh-ahead\", refresh_ahead_fraction = 0.2 }";
    let toml = one_key_scenario("60000s", r#"{ dist = "fixed", value = 0.0001 }"#, ks, 1);
    let (_, res) = run(&toml, 13);
    let m = &res[0].keyspaces[0];
    let (lambda, ttl_s, f) = (2.0f64, 1.0, 0.2);
    let want = (-lambda * f * ttl_s).exp() / (1.0 + (1.0 - f) * lambda * ttl_s);
    let miss = m.misses as f64 / m.requests as f64;
    assert!(
        (miss - want).abs() < 0.005,
        "miss ratio {miss:.4}, closed form {want:.4}"
    );
    // Refreshes per cycle: 1 - e^(-λfT) of the cycles, the rest end in a miss.
    let refresh_share = m.background_loads as f64 / (m.background_loads + m.misses) as f64;
    let want_refresh = 1.0 - (-lambda * f * ttl_s).exp();
    assert!(
        (refresh_share - want_refresh).abs() < 0.01,
        "refreshed cycles {refresh_share:.4}, closed form {want_refresh:.4}"
    );
    assert_eq!(m.stale_serves, 0, "refresh-ahead never serves past the TTL");
    assert!(mean_stampede(&res[0]) <= 1.0 + 1e-9);
}

#[test]
fn refresh_ahead_keeps_a_hot_key_without_misses_or_stampedes() {
    // The hot key (λ = 100/s, δ = 50 ms, TTL 1 s) with f = 0.2: the first hit after 0.8 s
    // (~10 ms later) refreshes behind the lock and the value is rewritten ~50 ms later, long
    // before the TTL ends. After the cold start no user misses, nothing stale is served, each
    // refresh is one load (stampede 1, against 1 + λδ = 6 unprotected), and the origin sees
    // one load per 0.8 s + 1/λ + δ = 0.86 s, within 5 %.
    let res = [run_hot_key(
        r#"{ kind = "refresh-ahead", refresh_ahead_fraction = 0.2 }"#,
        "1010s",
        17,
    )];
    let m = &res[0].keyspaces[0];
    assert_eq!(m.misses, 0, "a user-visible miss on a refreshed key");
    assert_eq!(m.stale_serves, 0);
    let mean = mean_stampede(&res[0]);
    assert!(mean <= 1.0 + 1e-9, "mean stampede {mean:.3}");
    let periods = 1000.0 / 0.86;
    let loads = m.origin_loads as f64;
    assert!(
        (loads - periods).abs() / periods < 0.05,
        "{loads} loads for {periods:.0} refresh periods"
    );
}

#[test]
fn refresh_ahead_fields_are_checked_where_they_are_written() {
    assert_refused(&[
        (
            r#"{ kind = "refresh-ahead", refresh_ahead_fraction = 1.0 }"#,
            "refresh_ahead_fraction must be above 0 and below 1",
        ),
        (
            r#"{ kind = "xfetch", refresh_ahead_fraction = 0.2 }"#,
            "`refresh_ahead_fraction` does not apply to kind = \"xfetch\"",
        ),
        (
            r#"{ kind = "refresh-ahead", lock_poll_ms = "10ms" }"#,
            "`lock_poll_ms` does not apply to kind = \"refresh-ahead\"",
        ),
    ]);
}

#[test]
fn lease_recomputes_once_per_expiry() {
    // The hot key (λ = 100/s, δ = 50 ms, TTL 1 s) under leases that make readers wait: the
    // first miss takes the lease and loads, the others poll, so each expiry costs one load,
    // against cache-aside's 1 + λδ = 6 (`unprotected_stampede_is_one_plus_lambda_delta`).
    let res = [run_hot_key(r#"{ kind = "lease" }"#, "2000s", 5)];
    let m = &res[0].keyspaces[0];
    let mean = mean_stampede(&res[0]);
    assert!(
        mean <= 1.0 + 1e-9,
        "mean recomputations per expiry {mean:.3}"
    );
    // λδ = 5 readers a cycle find the lease taken and wait.
    let waits_per_load = m.lock_waits as f64 / m.origin_loads as f64;
    assert!(
        (waits_per_load - 5.0).abs() / 5.0 < 0.05,
        "readers waiting per load {waits_per_load:.3}, λδ = 5"
    );
    assert_eq!(m.lock_wait_timeouts, 0);
    assert_eq!(m.stale_serves, 0, "stale = \"wait\" keeps no stale copy");
}

#[test]
fn lease_serves_a_stale_copy_only_within_its_stale_ttl() {
    // One key, λ = 2/s, TTL T = 1 s, stale copy s = 200 ms, origin time ~0. A write at 0
    // starts a cycle; the first request after T comes X ~ Exp(λ) later: within the stale
    // TTL (X ≤ s) it is served the stale copy and reloads behind the lease, past it the copy
    // is gone and it misses. Either way its load starts the next cycle, so the share of
    // cycles ending in a stale serve is 1 − e^(−λs) = 0.3297 (a copy served past s would
    // raise it), one load per cycle. 40k cycles: standard error 0.24 points; tolerance 1.
    let ks = "rate_per_s = 2\nkeys_per_tenant = 1\npopularity = { dist = \"uniform\" }\nttl_ms = \"1s\"\nstrategy = { kind = \"lease\", stale = \"serve\", stale_ttl_ms = \"200ms\" }";
    let toml = one_key_scenario("60000s", r#"{ dist = "fixed", value = 0.0001 }"#, ks, 1);
    let (_, res) = run(&toml, 13);
    let m = &res[0].keyspaces[0];
    let want = 1.0 - (-2.0f64 * 0.2).exp();
    let share = m.stale_serves as f64 / (m.stale_serves + m.misses) as f64;
    assert!(
        (share - want).abs() < 0.01,
        "stale-served cycles {share:.4}, closed form 1 − e^(−λs) = {want:.4}"
    );
    assert_eq!(m.background_loads, m.stale_serves);
    assert!(mean_stampede(&res[0]) <= 1.0 + 1e-9);
}

#[test]
fn lease_with_a_stale_copy_never_misses_a_hot_key() {
    // The hot key (λ = 100/s, δ = 50 ms, TTL 1 s) with a stale copy kept 1 s: past the TTL
    // the first reader takes the lease and reloads while every reader of the next δ is
    // served the copy: 1 + λδ = 6 stale serves a cycle of T + 1/λ + δ = 1.06 s, within 10 %,
    // one load a cycle, no miss after the cold start.
    let res = [run_hot_key(
        r#"{ kind = "lease", stale = "serve", stale_ttl_ms = "1s" }"#,
        "1010s",
        11,
    )];
    let m = &res[0].keyspaces[0];
    assert_eq!(
        m.misses, 0,
        "a user-visible miss while a stale copy was kept"
    );
    let cycles = 1000.0 / 1.06;
    let loads = m.origin_loads as f64;
    assert!(
        (loads - cycles).abs() / cycles < 0.10,
        "{loads} loads for {cycles:.0} cycles"
    );
    let stale_per_cycle = m.stale_serves as f64 / loads;
    assert!(
        (stale_per_cycle - 6.0).abs() / 6.0 < 0.10,
        "stale serves per cycle {stale_per_cycle:.3}, 1 + λδ = 6"
    );
    assert!(mean_stampede(&res[0]) <= 1.0 + 1e-9);
}

/// The hot key with a TTL longer than the run, invalidated by pairs of deletes 30 ms apart
/// (every 2 s from 20 s): the loads the first delete starts are still running at the second.
fn invalidated_hot_key(strategy: &str) -> String {
    let ks = format!(
        "rate_per_s = 100\nkeys_per_tenant = 1\npopularity = {{ dist = \"uniform\" }}\nttl_ms = \"1h\"\nstrategy = {strategy}"
    );
    let mut toml = one_key_scenario("220s", DELTA_50MS, &ks, 1);
    for i in 0..100 {
        for (n, at_ms) in [(0, 20_000 + 2_000 * i), (1, 20_030 + 2_000 * i)] {
            toml.push_str(&format!(
                "[[events]]\nat_ms = {at_ms}\nname = \"d{i}-{n}\"\naction = \"delete\"\nkeyspaces = [\"k\"]\n"
            ));
        }
    }
    toml
}

#[test]
fn leases_refuse_the_stale_sets_that_cache_aside_makes() {
    // Cache-aside: a load started between the two deletes writes its value back after the
    // second, so readers of the next ~50 ms are served a value older than the change (stale
    // reads). A lease: the second delete also deletes the lease, so the holder's write-back
    // is refused; the value comes from a load started after it. Same seed, same traffic.
    let stale_reads = |strategy: &str| {
        let (_, res) = run(&invalidated_hot_key(strategy), 3);
        let inv = &res[0].invariants;
        let i = cacheplan::metrics::Invariant::StaleRead.index();
        assert!(inv.monitored[0][i]);
        let m = &res[0].keyspaces[0];
        (inv.tallies[0][0][i].violations, m.origin_loads)
    };
    let (aside, aside_loads) = stale_reads(r#"{ kind = "cache-aside" }"#);
    assert!(
        aside > 100,
        "cache-aside: {aside} stale reads over 100 invalidation pairs"
    );
    for strategy in [
        r#"{ kind = "lease" }"#,
        r#"{ kind = "lease", stale = "serve", stale_ttl_ms = "1s" }"#,
    ] {
        let (lease, loads) = stale_reads(strategy);
        assert_eq!(lease, 0, "{strategy}: stale reads");
        // One load per delete, against cache-aside's stampedes.
        assert!(
            loads < aside_loads,
            "{strategy}: {loads} vs {aside_loads} loads"
        );
    }
}

#[test]
fn lease_fields_are_checked_where_they_are_written() {
    assert_refused(&[
        (
            r#"{ kind = "lease", stale = "sometimes" }"#,
            "unknown stale = \"sometimes\"",
        ),
        (
            r#"{ kind = "lease", stale_ttl_ms = "1s" }"#,
            "a stale TTL while readers wait",
        ),
        (
            r#"{ kind = "lease", lease_poll_ms = "2s" }"#,
            "the poll interval is longer than the maximum wait",
        ),
        (
            r#"{ kind = "lease", lock_poll_ms = "10ms" }"#,
            "`lock_poll_ms` does not apply to kind = \"lease\"",
        ),
        (
            r#"{ kind = "single-flight", stale = "serve" }"#,
            "`stale` does not apply to kind = \"single-flight\"",
        ),
    ]);
}

#[test]
fn a_warm_start_places_a_leases_logical_expiry_at_the_ttl() {
    // 100 keys at 1000/s, TTL 10 s, stale copy 5 s, warm start, 3 s counted from 0: a warm
    // key's stale copy is not warmed, so a key whose TTL runs out misses and is reloaded with
    // 15 s in Redis; none reaches its logical expiry again within 3 s. Nothing stale is served
    // but in the last millisecond of a TTL (an envelope that placed the logical expiry 5 s
    // early would serve most keys stale).
    let ks = "rate_per_s = 1000\nkeys_per_tenant = 100\npopularity = { dist = \"uniform\" }\nttl_ms = \"10s\"\nstrategy = { kind = \"lease\", stale = \"serve\", stale_ttl_ms = \"5s\" }";
    let toml = one_key_scenario("3s", DELTA_50MS, ks, 1).replace(
        "warmup_ms = \"10s\"",
        "warmup_ms = \"0\"\nstart = \"steady-state\"",
    );
    let (_, res) = run(&toml, 19);
    let m = &res[0].keyspaces[0];
    assert!(
        m.requests > 2_000 && m.misses > 0,
        "{} requests, {} misses",
        m.requests,
        m.misses
    );
    // Redis expires in whole ms: a read in the last millisecond of a warm key's TTL finds it
    // past its logical expiry.
    assert!(m.stale_serves <= 5, "{} stale serves", m.stale_serves);
}
