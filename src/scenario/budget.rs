//! The budget of a run, estimated from the resolved scenario before anything is simulated: its
//! peak memory and its number of events, each with the fields that drive it. Every command
//! that simulates (`run`, `sweep`, `size`) and `validate` call this and refuse a scenario
//! whose estimate is above the limit (`cli::limits`), so that a hostile or mistaken input ends
//! in a clear message instead of a process that grows to many gigabytes or runs for days.
//!
//! Pure: a function of the `Scenario` (no machine facts; the caller supplies those). The
//! figures are estimates of the model's large tables, sized from what `sim`, `redis`,
//! `client`, `workload` and `metrics` allocate; small fixed costs are folded into per-item
//! constants below, each rounded up.

use super::model::{Operation, Popularity, RateLimitAlgorithm, Scenario, StrategyKind};
use crate::engine::SimTime;
use std::collections::BTreeMap;

/// Requests, time windows and serverCron ticks a command may simulate unless `--max-events`
/// raises it: about an hour or two of one core at the simulator's speed (a few million events
/// per second), so that no run takes days.
pub const DEFAULT_MAX_EVENTS: f64 = 1e10;

/// The program itself: code, the embedded font, charts and report (the default scenario's run
/// peaks near 110 MB in all).
pub const PROGRAM_BYTES: u64 = 64 << 20;
/// One Redis key of the model: its 32-byte dict entry in a slab and an 8-byte value stamp, both
/// doubled for the slab's growth, plus main and expires bucket slots (4 bytes each, up to two
/// per key).
pub const REDIS_KEY_BYTES: u64 = 2 * (32 + 8) + 16;
/// The smallest `used_memory` a Redis key is charged (dict entry, key sds, value object): how
/// many keys a `maxmemory` can hold at most.
pub const REDIS_MIN_CHARGED_BYTES_PER_KEY: u64 = 64;
/// Client and monitor state one key may have (value envelope, stampede and invariant state).
pub const CLIENT_KEY_BYTES: u64 = 32;
/// One rank of a Zipf alias table (an 8-byte cell).
pub const ALIAS_CELL_BYTES: u64 = 8;
/// Extra bytes per rank of the largest tenant while its alias table is built (weights, kept
/// afterwards for the warm start; scaled weights, keep and alias columns, work lists).
pub const ALIAS_BUILD_BYTES: u64 = 40;
/// One rate-limit actor's state (`client::RateLimiters`).
pub const RATE_LIMITER_BYTES: u64 = 40;
/// One entry of a local (L1) cache: slab node and id-table slots.
pub const L1_ENTRY_BYTES: u64 = 64;
/// Entries a local cache preallocates at most (`replay::exact` stores in object mode).
pub const L1_PREALLOCATED_MAX: u64 = 1 << 24;
/// A keyspace's latency recorders in one plan (end-to-end, Redis, stampede size, per-window
/// p99) and their HdrHistograms at the end.
pub const KEYSPACE_RECORDER_BYTES: u64 = 1 << 20;
/// An origin's recorders and queue in one plan.
pub const ORIGIN_BYTES: u64 = 512 << 10;
/// A shard's fixed state in one plan (eviction pool, counters, draw buffers, metrics).
pub const SHARD_BYTES: u64 = 32 << 10;
/// One time window of one plan: its counters per keyspace, origin and shard, the invariant
/// tallies, and its rows of `timeseries.csv` as text.
pub const WINDOW_BYTES_FIXED: u64 = 512;
/// ... per keyspace, origin or shard in the window.
pub const WINDOW_BYTES_PER_ROW: u64 = 8 * 18 + 256;
/// ... per keyspace or origin: its latency sketch (`metrics::series`, about 60 buckets of
/// 16 bytes).
pub const WINDOW_SKETCH_BYTES: u64 = 1024;
/// A request in flight (slab entry, queue entries).
pub const IN_FLIGHT_REQUEST_BYTES: u64 = 256;
/// How long a request is assumed to stay in flight at most, for the in-flight estimate.
pub const IN_FLIGHT_SECONDS: f64 = 2.0;

/// An estimate: peak bytes and events, with what drives each (field path, amount).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Estimate {
    /// Peak memory, bytes.
    pub bytes: u64,
    /// Memory by the field that drives it (largest first when printed by `cli::limits`).
    pub memory_drivers: Vec<(String, u64)>,
    /// Events: requests, time windows, serverCron ticks.
    pub events: f64,
    /// Events by the field that drives them.
    pub event_drivers: Vec<(String, f64)>,
}

/// One part of a budget (what the plans share, or one plan).
#[derive(Clone, Debug, Default)]
struct Part {
    memory: BTreeMap<String, u64>,
    events: BTreeMap<String, f64>,
}

impl Part {
    fn bytes(&mut self, field: impl Into<String>, b: u64) {
        if b > 0 {
            let e = self.memory.entry(field.into()).or_insert(0);
            *e = e.saturating_add(b);
        }
    }
    fn events(&mut self, field: impl Into<String>, n: f64) {
        if n > 0.0 {
            *self.events.entry(field.into()).or_insert(0.0) += n;
        }
    }
    fn total_bytes(&self) -> u64 {
        self.memory.values().fold(0u64, |a, b| a.saturating_add(*b))
    }
    fn total_events(&self) -> f64 {
        self.events.values().sum()
    }
    fn add(&mut self, other: &Part, copies: u64) {
        for (k, v) in &other.memory {
            self.bytes(k.clone(), v.saturating_mul(copies));
        }
        for (k, v) in &other.events {
            self.events(k.clone(), v * copies as f64);
        }
    }
    fn estimate(&self) -> Estimate {
        Estimate {
            bytes: self.total_bytes(),
            memory_drivers: self.memory.iter().map(|(k, v)| (k.clone(), *v)).collect(),
            events: self.total_events(),
            event_drivers: self.events.iter().map(|(k, v)| (k.clone(), *v)).collect(),
        }
    }
}

/// The budget of a scenario: what its plans share and what each plan adds.
#[derive(Clone, Debug)]
pub struct Budget {
    shared: Part,
    plans: Vec<Part>,
}

/// `x` as bytes, saturating (an estimate of 1e30 bytes is "too much", not a wrapped number).
fn sat(x: f64) -> u64 {
    if x >= u64::MAX as f64 {
        u64::MAX
    } else if x > 0.0 {
        x.ceil() as u64
    } else {
        0
    }
}

fn ks_field(scn: &Scenario, ki: usize, field: &str) -> String {
    format!("keyspaces[{ki}].{field} (\"{}\")", scn.keyspaces[ki].name)
}

impl Budget {
    /// Estimates the budget of `scn`.
    pub fn of(scn: &Scenario) -> Budget {
        let mut shared = Part::default();
        shared.bytes("the program itself", PROGRAM_BYTES);
        let n_ks = scn.keyspaces.len();
        let n_tenants = scn.tenants.len() as u64;
        shared.bytes(
            "tenants (samplers per keyspace and tenant)",
            64u64.saturating_mul(n_tenants).saturating_mul(n_ks as u64),
        );
        let duration_s = scn.duration.as_secs_f64();
        // Per keyspace: items, expected requests and distinct keys a plan may hold.
        let mut requests = vec![0.0; n_ks];
        let mut keys = vec![0.0f64; n_ks];
        let mut in_flight = vec![0.0; n_ks];
        for (ki, k) in scn.keyspaces.iter().enumerate() {
            let ns: Vec<f64> = scn
                .tenants
                .iter()
                .map(|t| (k.keys_per_tenant as f64 * t.size).round().max(1.0))
                .collect();
            let items: f64 = ns.iter().sum();
            let max_n = ns.iter().cloned().fold(0.0, f64::max);
            if let Popularity::Zipf(_) = k.popularity {
                shared.bytes(
                    ks_field(scn, ki, "keys_per_tenant"),
                    sat(items * ALIAS_CELL_BYTES as f64 + max_n * ALIAS_BUILD_BYTES as f64),
                );
            }
            let (integral_s, peak) = rate_integral(scn, ki);
            requests[ki] = k.rate_per_s * integral_s * (1.0 + k.retry_probability);
            in_flight[ki] = k.rate_per_s * peak * IN_FLIGHT_SECONDS;
            let versions = 1.0
                + scn
                    .events
                    .iter()
                    .filter(|e| {
                        e.action == super::model::EventAction::NewVersion
                            && e.keyspaces.contains(&ki)
                    })
                    .count() as f64;
            let distinct = match k.operation {
                Operation::Idempotency => f64::INFINITY,
                Operation::RateLimit
                    if k.rate_limit_algorithm == RateLimitAlgorithm::FixedWindow =>
                {
                    items * versions * (scn.duration.as_ns() / k.window.as_ns() + 1) as f64
                }
                _ => items * versions,
            };
            let writes_per_request = match k.strategy.kind {
                StrategyKind::SingleFlight { .. }
                | StrategyKind::StaleWhileRevalidate { .. }
                | StrategyKind::RefreshAhead { .. }
                | StrategyKind::Lease { .. } => 2.0,
                _ => 1.0,
            };
            keys[ki] = distinct.min(requests[ki] * writes_per_request);
        }
        let mut plans = Vec::new();
        for plan in &scn.plans {
            let mut part = Part::default();
            // Redis keys per cluster, at most what its maxmemory can hold.
            let mut used_clusters: Vec<usize> = plan.cluster_of_keyspace.clone();
            used_clusters.sort_unstable();
            used_clusters.dedup();
            for &c in &used_clusters {
                let cl = &scn.clusters[c];
                let on: Vec<usize> = (0..n_ks)
                    .filter(|&ki| plan.cluster_of_keyspace[ki] == c)
                    .collect();
                let wanted: f64 = on.iter().map(|&ki| keys[ki]).sum();
                let cap = if cl.redis.maxmemory_bytes > 0 {
                    (cl.redis.maxmemory_bytes as f64 * cl.shards as f64)
                        / REDIS_MIN_CHARGED_BYTES_PER_KEY as f64
                } else {
                    f64::INFINITY
                };
                if wanted > cap {
                    part.bytes(
                        format!("clusters[{c}].maxmemory_bytes (\"{}\")", cl.name),
                        sat(cap * REDIS_KEY_BYTES as f64),
                    );
                } else {
                    for &ki in &on {
                        part.bytes(
                            redis_key_driver(scn, ki),
                            sat(keys[ki] * REDIS_KEY_BYTES as f64),
                        );
                    }
                }
                part.bytes(
                    format!("clusters[{c}].shards (\"{}\")", cl.name),
                    SHARD_BYTES.saturating_mul(cl.shards as u64),
                );
                part.events(
                    format!("clusters[{c}].hz x shards (serverCron ticks)"),
                    cl.redis.hz as f64 * cl.shards as f64 * duration_s,
                );
            }
            for (ki, k) in scn.keyspaces.iter().enumerate() {
                part.bytes(
                    redis_key_driver(scn, ki),
                    sat(keys[ki] * CLIENT_KEY_BYTES as f64),
                );
                part.bytes(
                    ks_field(scn, ki, "rate_per_s (requests in flight)"),
                    sat(in_flight[ki] * IN_FLIGHT_REQUEST_BYTES as f64),
                );
                part.bytes("keyspaces (latency recorders)", KEYSPACE_RECORDER_BYTES);
                if k.operation == Operation::RateLimit {
                    let items: f64 = scn
                        .tenants
                        .iter()
                        .map(|t| (k.keys_per_tenant as f64 * t.size).round().max(1.0))
                        .sum();
                    part.bytes(
                        ks_field(scn, ki, "keys_per_tenant (rate-limit actors)"),
                        sat(items * RATE_LIMITER_BYTES as f64),
                    );
                }
                if let Some(l1) = &k.strategy.local_cache {
                    let grown = (l1.capacity_keys as f64).min(keys[ki]);
                    let entries = grown.max(l1.capacity_keys.min(L1_PREALLOCATED_MAX) as f64);
                    part.bytes(
                        ks_field(
                            scn,
                            ki,
                            "strategy.local_cache_keys x simulation.app_instances",
                        ),
                        sat(entries * scn.app_instances as f64 * L1_ENTRY_BYTES as f64),
                    );
                }
                part.events(
                    ks_field(scn, ki, "rate_per_s x simulation.duration_ms (requests)"),
                    requests[ki],
                );
            }
            part.bytes(
                "origins",
                ORIGIN_BYTES.saturating_mul(scn.origins.len() as u64),
            );
            part.bytes(
                "simulation.app_instances",
                256u64
                    .saturating_mul(scn.app_instances as u64 * (n_ks + scn.clusters.len()) as u64),
            );
            let shards: u64 = used_clusters
                .iter()
                .map(|&c| scn.clusters[c].shards as u64)
                .sum();
            let windows = windows(scn.duration, scn.window);
            let rows = (n_ks + scn.origins.len()) as u64 + shards;
            let sketches = (n_ks + scn.origins.len()) as u64;
            // A plan keeps at most MAX_WINDOWS windows (pairs merge past it).
            let kept = windows.min(crate::metrics::series::MAX_WINDOWS as f64);
            part.bytes(
                "simulation.duration_ms / simulation.window_ms (time windows)",
                sat(kept
                    * (WINDOW_BYTES_FIXED as f64
                        + rows as f64 * WINDOW_BYTES_PER_ROW as f64
                        + sketches as f64 * WINDOW_SKETCH_BYTES as f64)),
            );
            part.events(
                "simulation.duration_ms / simulation.window_ms (time windows)",
                windows,
            );
            plans.push(part);
        }
        Budget { shared, plans }
    }

    /// `run`: every plan at once (plans run in parallel and keep their results to the end).
    pub fn run(&self) -> Estimate {
        let mut all = self.shared.clone();
        for p in &self.plans {
            all.add(p, 1);
        }
        all.estimate()
    }

    /// `copies` runs of the plan that needs the most at once (`size`: one plan on each seed).
    pub fn largest_plan_runs(&self, copies: u64) -> Estimate {
        let mut all = self.shared.clone();
        if let Some(p) = self
            .plans
            .iter()
            .max_by(|a, b| a.total_bytes().cmp(&b.total_bytes()))
        {
            all.add(p, copies);
        }
        all.estimate()
    }
}

/// A sweep of `n_cells` cells, `concurrency` of them at once, each as large as `largest_cell`
/// (a cell's `run`) and keeping `retained_per_cell` bytes to the end (its scenario and
/// record); `events` is the sum over cells.
pub fn sweep(
    largest_cell: &Estimate,
    events: f64,
    n_cells: u64,
    concurrency: u64,
    retained_per_cell: u64,
) -> Estimate {
    let at_once = concurrency.clamp(1, n_cells.max(1));
    let mut memory: Vec<(String, u64)> = largest_cell
        .memory_drivers
        .iter()
        .map(|(k, v)| (k.clone(), v.saturating_mul(at_once)))
        .collect();
    memory.push((
        format!("the grid ({n_cells} cells, kept to the end)"),
        retained_per_cell.saturating_mul(n_cells),
    ));
    let bytes = memory.iter().fold(0u64, |a, (_, b)| a.saturating_add(*b));
    let scale = if largest_cell.events > 0.0 {
        events / largest_cell.events
    } else {
        0.0
    };
    let mut event_drivers: Vec<(String, f64)> = largest_cell
        .event_drivers
        .iter()
        .map(|(k, v)| (k.clone(), v * scale))
        .collect();
    event_drivers.push((format!("the grid ({n_cells} cells)"), events));
    Estimate {
        bytes,
        memory_drivers: memory,
        events,
        event_drivers,
    }
}

/// Bytes a built sweep cell keeps to the end: its resolved scenario, spec and record.
pub fn retained_cell_bytes(scn: &Scenario) -> u64 {
    let n_ks = scn.keyspaces.len() as u64;
    let plans = scn.plans.len() as u64;
    4096 + 1024 * n_ks
        + 256 * (scn.tenants.len() + scn.origins.len() + scn.clusters.len()) as u64
        + (256 + 8 * n_ks) * plans
        + 256 * (scn.events.len() + scn.faults.len()) as u64
        + 16 * 1024 * n_ks * plans
}

fn redis_key_driver(scn: &Scenario, ki: usize) -> String {
    let k = &scn.keyspaces[ki];
    match k.operation {
        Operation::Idempotency => ks_field(scn, ki, "rate_per_s (Redis keys)"),
        _ => ks_field(scn, ki, "keys_per_tenant (Redis keys)"),
    }
}

/// Time windows of a run.
fn windows(duration: SimTime, window: SimTime) -> f64 {
    (duration.as_ns() as f64 / window.as_ns().max(1) as f64).ceil()
}

const HOUR_MS: u64 = 3_600_000;
const DAY_MS: u64 = 24 * HOUR_MS;

/// ∫ of the hourly profile over unix ms [0, x), in profile-ms, split as (whole days, rest) so
/// that differences of nearby points stay exact.
fn profile_prefix(profile: &[f64], x: u64) -> (u64, f64) {
    let days = x / DAY_MS;
    let rem = x % DAY_MS;
    let hour = (rem / HOUR_MS) as usize;
    let mut part: f64 = profile[..hour].iter().sum::<f64>() * HOUR_MS as f64;
    part += profile[hour] * (rem % HOUR_MS) as f64;
    (days, part)
}

/// ∫ of the hourly profile over simulated [a, b) (ms), in profile-ms.
fn profile_integral(profile: &[f64], start_unix_ms: u64, a: u64, b: u64) -> f64 {
    let day_sum: f64 = profile.iter().sum::<f64>() * HOUR_MS as f64;
    let (da, pa) = profile_prefix(profile, start_unix_ms + a);
    let (db, pb) = profile_prefix(profile, start_unix_ms + b);
    (db - da) as f64 * day_sum + pb - pa
}

/// Keyspace `ki`'s rate multiplier integrated over the run (seconds at multiplier 1) and its
/// peak (the profile's largest entry times the largest product of overlapping bursts).
pub fn rate_integral(scn: &Scenario, ki: usize) -> (f64, f64) {
    let k = &scn.keyspaces[ki];
    let end_ms = scn.duration.as_ns().div_ceil(1_000_000);
    // Burst boundaries, as (time ms, change of ln multiplier).
    let mut edges: Vec<(u64, f64)> = Vec::new();
    for b in &k.bursts {
        let s = b.start.as_ms().min(end_ms);
        let e = b.end.as_ms().min(end_ms);
        if s < e {
            edges.push((s, b.multiplier.ln()));
            edges.push((e, -b.multiplier.ln()));
        }
    }
    edges.sort_by_key(|e| e.0);
    let mut total = 0.0;
    let mut peak_ln: f64 = 0.0;
    let mut ln_m = 0.0;
    let mut t = 0;
    let mut i = 0;
    loop {
        while i < edges.len() && edges[i].0 <= t {
            ln_m += edges[i].1;
            i += 1;
        }
        peak_ln = peak_ln.max(ln_m);
        let next = if i < edges.len() { edges[i].0 } else { end_ms };
        if next > t {
            total += ln_m.exp() * profile_integral(&k.hourly_profile, scn.start_unix_ms, t, next);
        }
        t = next;
        if t >= end_ms && i >= edges.len() {
            break;
        }
    }
    let max_profile = k.hourly_profile.iter().cloned().fold(0.0, f64::max);
    (total / 1000.0, max_profile * peak_ln.exp())
}

#[cfg(test)]
mod tests {
    use super::*;

    const TINY: &str = r#"version = 1
name = "budget"
[simulation]
duration_ms = "100s"
window_ms = "10s"
app_instances = 2
[[tenants]]
name = "a"
[[tenants]]
name = "b"
size = 3
[[origins]]
name = "db"
concurrency = 4
service_time_ms = { dist = "fixed", value = 5 }
[[clusters]]
name = "c"
shards = 2
maxmemory_bytes = 0
[[keyspaces]]
name = "k"
key_template = "k:{tenant}:{id}"
operation = "read-through"
rate_per_s = 10
keys_per_tenant = 1000
value_size_bytes = { dist = "fixed", value = 100 }
ttl_ms = "1h"
origin = "db"
bursts = [ { start_ms = "50s", duration_ms = "10s", multiplier = 4 } ]
[[plans]]
name = "p"
placement = { k = "c" }
"#;

    fn driver(e: &Estimate, prefix: &str) -> u64 {
        e.memory_drivers
            .iter()
            .filter(|(k, _)| k.starts_with(prefix))
            .map(|(_, v)| *v)
            .sum()
    }

    #[test]
    fn a_tiny_scenario_matches_a_hand_computation() {
        let scn = super::super::parse(TINY, "tiny").unwrap();
        let e = Budget::of(&scn).run();
        // Requests: 10/s x (100 s + 3 x 10 s of the burst's extra) = 1300.
        let requests = e
            .event_drivers
            .iter()
            .find(|(k, _)| k.contains("(requests)"))
            .unwrap()
            .1;
        assert!((requests - 1300.0).abs() < 1e-6, "{requests}");
        // Events: 1300 requests + 10 windows + 10 hz x 2 shards x 100 s = 3310.
        assert!((e.events - 3310.0).abs() < 1e-6, "{}", e.events);
        // Alias tables: 4000 ranks x 8 B + 3000 (largest tenant) x 40 B.
        assert_eq!(
            driver(&e, "keyspaces[0].keys_per_tenant (\"k\")"),
            4000 * 8 + 3000 * 40
        );
        // Redis keys: min(4000 items, 1300 requests) x (96 + 32) B.
        assert_eq!(
            driver(&e, "keyspaces[0].keys_per_tenant (Redis keys)"),
            1300 * (REDIS_KEY_BYTES + CLIENT_KEY_BYTES)
        );
        // In flight: 10/s x peak multiplier 4 x 2 s x 256 B.
        assert_eq!(
            driver(&e, "keyspaces[0].rate_per_s (requests in flight)"),
            80 * 256
        );
        // Ten windows of 1 keyspace + 1 origin + 2 shards.
        assert_eq!(
            driver(&e, "simulation.duration_ms / simulation.window_ms"),
            10 * (WINDOW_BYTES_FIXED + 4 * WINDOW_BYTES_PER_ROW + 2 * WINDOW_SKETCH_BYTES)
        );
        let fixed = PROGRAM_BYTES
            + 64 * 2
            + 2 * SHARD_BYTES
            + KEYSPACE_RECORDER_BYTES
            + ORIGIN_BYTES
            + 256 * 2 * 2;
        let variable = 4000 * 8
            + 3000 * 40
            + 1300 * (REDIS_KEY_BYTES + CLIENT_KEY_BYTES)
            + 80 * 256
            + 10 * (WINDOW_BYTES_FIXED + 4 * WINDOW_BYTES_PER_ROW + 2 * WINDOW_SKETCH_BYTES);
        assert_eq!(e.bytes, fixed + variable);
    }

    #[test]
    fn plans_multiply_and_size_takes_the_largest_plan() {
        let two = TINY.replace(
            "[[plans]]\nname = \"p\"",
            "[[plans]]\nname = \"q\"\nplacement = { k = \"c\" }\n[[plans]]\nname = \"p\"",
        );
        let one = Budget::of(&super::super::parse(TINY, "tiny").unwrap());
        let b = Budget::of(&super::super::parse(&two, "two").unwrap());
        let per_plan = one.run().bytes - one.largest_plan_runs(0).bytes;
        assert_eq!(b.run().bytes, one.run().bytes + per_plan);
        assert_eq!(b.largest_plan_runs(3).bytes, one.run().bytes + 2 * per_plan);
        assert!((b.run().events - 2.0 * one.run().events).abs() < 1e-6);
    }

    #[test]
    fn the_hourly_profile_is_integrated_by_the_clock() {
        // Starting at 23:30 for an hour: half an hour at hour 23, half at hour 0.
        let mut scn = super::super::parse(TINY, "tiny").unwrap();
        scn.start_unix_ms = 23 * HOUR_MS + HOUR_MS / 2;
        scn.duration = SimTime::from_ms(HOUR_MS);
        let k = &mut scn.keyspaces[0];
        k.bursts.clear();
        k.hourly_profile = vec![1.0; 24];
        k.hourly_profile[23] = 3.0;
        k.hourly_profile[0] = 5.0;
        let (integral, peak) = rate_integral(&scn, 0);
        assert!((integral - 1800.0 * 8.0).abs() < 1e-6, "{integral}");
        assert_eq!(peak, 5.0);
    }

    #[test]
    fn a_sweep_multiplies_by_what_runs_at_once_and_keeps_every_cell() {
        let e = Estimate {
            bytes: 100,
            memory_drivers: vec![("a".into(), 100)],
            events: 10.0,
            event_drivers: vec![("r".into(), 10.0)],
        };
        let s = sweep(&e, 50.0, 5, 2, 7);
        assert_eq!(s.bytes, 200 + 35);
        assert_eq!(s.events, 50.0);
        let one = sweep(&e, 10.0, 1, 8, 7);
        assert_eq!(one.bytes, 107);
    }
}
