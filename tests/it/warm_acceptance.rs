//! Issue #11's acceptance test of the warm start, slow (runs with `CACHEPLAN_SLOW_TESTS=1`):
//! for the default scenario and for an anti-pattern scenario (`one-giant-cluster`), a
//! warm-started 10-minute run matches the last 10 minutes of a cold 2-hour run: hit ratio per
//! keyspace within 1 point, used_memory per shard within 2 %, keys per shard within 2 % (or
//! three times a count's own noise on a shard of few keys: `keys_tolerance`).
//!
//! Both scenarios are copies with their timeline events, faults and bursts removed (a burst
//! at minute 5 of the warm run would fall at minute 5 of the cold one, not in its last 10
//! minutes), windows of 10 s and a fixed seed. The cold run's last 10 minutes are measured as
//! differences of cumulative counters: its warm-up is set to 110 minutes, so every total
//! counts exactly the last 10; used_memory is the mean over the windows of those 10 minutes
//! (each reads the shards at its end), keys per shard are counted at the end of each run. The
//! warm run has no warm-up: its whole 10 minutes are compared.
//!
//! Time: 2 min 45 s on the shared 2-core machine under its usual load, 7 min when six other
//! builds run beside it (release build; the cold default scenario is 3 plans × 2 hours of
//! about 5,400 requests/s).
//!
//! Measured (seed 20260702, after the model counted a command's own arguments at the
//! maxmemory check): hit ratios within 0.6 points except idem-fast on `separated` (0.73
//! points); used_memory within 0.8 %; keys within 1.64 % (counted at one moment, the end, so
//! they carry the moment's noise). The full `noeviction` critical shard of `separated` agrees
//! within 0.01 % in used_memory and keys, but refuses more writes: 185,006 OOM rejections in
//! the warm run's 10 minutes against 112,771 in the cold run's last 10. The cold run is not at
//! steady state there yet (its rejections were 31 % higher at 4 h than at 2 h when measured
//! by hand, before that model change), and what remains is how fast the warm set frees memory
//! in its first minutes, which no
//! tolerance here checks; idem-fast's lower hit ratio is the same effect.

use crate::warm_start::mean_used_memory;
use cacheplan::metrics::{summary, PlanResult};
use cacheplan::scenario::{self, Scenario};

/// The scenario `file` (under `workloads/`) with no events, faults or bursts, started `start`,
/// run for `duration` after `warmup`, windows of 10 s.
fn steady_copy(file: &str, start: &str, duration: &str, warmup: &str) -> Scenario {
    let path = format!("{}/workloads/{file}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut doc: toml_edit::DocumentMut = text.parse().expect("the workload parses as TOML");
    doc.remove("events");
    doc.remove("faults");
    if let Some(kss) = doc
        .get_mut("keyspaces")
        .and_then(|k| k.as_array_of_tables_mut())
    {
        for ks in kss.iter_mut() {
            ks.remove("bursts");
        }
    }
    let sim = doc["simulation"]
        .as_table_mut()
        .expect("[simulation] is a table");
    sim["start"] = toml_edit::value(start);
    sim["duration_ms"] = toml_edit::value(duration);
    sim["warmup_ms"] = toml_edit::value(warmup);
    sim["window_ms"] = toml_edit::value("10s");
    scenario::parse(&doc.to_string(), &path).unwrap_or_else(|e| panic!("{e}"))
}

/// Compares the warm run with the cold run's last 10 minutes; returns the failures (every
/// figure is printed, so a failing run shows them all).
fn compare(
    name: &str,
    warm_scn: &Scenario,
    warm: &[PlanResult],
    cold: &[PlanResult],
) -> Vec<String> {
    let mut failures = Vec::new();
    let cold_from_s = 110.0 * 60.0;
    for (p, (w, c)) in warm.iter().zip(cold).enumerate() {
        let plan = &warm_scn.plans[p].name;
        for (ki, k) in warm_scn.keyspaces.iter().enumerate() {
            let (Some(hw), Some(hc)) = (
                summary::hit_ratio(warm_scn, w, ki),
                summary::hit_ratio(warm_scn, c, ki),
            ) else {
                continue;
            };
            let line = format!(
                "{name}/{plan}/{}: hit ratio warm {hw:.4}, cold last 10 min {hc:.4}",
                k.name
            );
            eprintln!("{line}");
            if (hw - hc).abs() >= 0.01 {
                failures.push(line);
            }
        }
        for (si, (sw, sc)) in w.shards.iter().zip(&c.shards).enumerate() {
            let mem_w = mean_used_memory(w, si, 0.0);
            let mem_c = mean_used_memory(c, si, cold_from_s);
            let cluster = &warm_scn.clusters[sw.cluster].name;
            let line = format!(
                "{name}/{plan}/{cluster}[{}]: used_memory warm {mem_w:.0} B, cold {mem_c:.0} B \
                 ({:+.2} %); keys warm {}, cold {} ({:+.2} %); OOM warm {}, cold {}",
                sw.shard,
                (mem_w / mem_c - 1.0) * 100.0,
                sw.keys_end,
                sc.keys_end,
                (sw.keys_end as f64 / sc.keys_end.max(1) as f64 - 1.0) * 100.0,
                sw.oom_errors,
                sc.oom_errors,
            );
            eprintln!("{line}");
            let keys_off = (sw.keys_end as f64 / sc.keys_end.max(1) as f64 - 1.0).abs();
            if (mem_w / mem_c - 1.0).abs() >= 0.02 || keys_off >= keys_tolerance(sc.keys_end) {
                failures.push(line);
            }
        }
    }
    failures
}

/// The tolerance on keys per shard: 2 %, or three times a count's own relative noise
/// (1/sqrt(n), a Poisson count's) where that is larger. Keys are counted at one moment, and a
/// shard holding a few thousand large keys swings more than 2 % from seed to seed by itself
/// (`one-giant-cluster`'s `separated/cache[0]`, about 1,300 keys of lognormal size: −4.9 %
/// and +0.1 % for seeds 28009 and 28010 with the same model), so 2 % holds from about
/// 22,500 keys up.
fn keys_tolerance(keys_cold: u64) -> f64 {
    (3.0 / (keys_cold.max(1) as f64).sqrt()).max(0.02)
}

#[test]
fn a_warm_ten_minute_run_matches_the_last_ten_minutes_of_a_cold_two_hour_run() {
    if !crate::slow_tests() {
        eprintln!("warm_acceptance: slow test, skipped (set CACHEPLAN_SLOW_TESTS=1 to run it)");
        return;
    }
    let mut failures = Vec::new();
    for (file, seed) in [
        ("cpq.toml", 20260702),
        ("anti-patterns/one-giant-cluster.toml", 28008),
    ] {
        let warm_scn = steady_copy(file, "steady-state", "10m", "0ms");
        let cold_scn = steady_copy(file, "cold", "120m", "110m");
        let warm = cacheplan::sim::run_all_plans(&warm_scn, seed);
        let cold = cacheplan::sim::run_all_plans(&cold_scn, seed);
        failures.extend(compare(file, &warm_scn, &warm, &cold));
    }
    assert!(
        failures.is_empty(),
        "outside tolerance:\n{}",
        failures.join("\n")
    );
}
