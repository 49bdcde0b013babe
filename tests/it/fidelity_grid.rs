//! The Redis model against the real Redis 7.0.15 eviction grid (`fidelity/redis7/
//! grid-alpha0.8.json`): the same 1M-request Zipf 0.8 stream, replayed cache-aside on each run's
//! own wall-clock timeline, with the run's maxmemory, policy and samples.
//!
//! Tolerances come from `fidelity/redis7/README.md`: Redis samples keys with its own random
//! generator, so a faithful model agrees "within about half a point" of hit ratio; the key count
//! at the end must agree within 1 % (memory per key and the base both right).
//!
//! Slow (10 x 1M requests): runs only with `CACHEPLAN_SLOW_TESTS=1`.

use crate::fidelity_support::{
    assert_no_failures, cacheplan_replay, f64_of, redis7_json, slow_tests_enabled, u64_of,
};
use crate::test_data::repo_data;

/// Hit-ratio tolerance in points (README: "within about half a point").
const HIT_RATIO_TOLERANCE_POINTS: f64 = 0.5;
/// Relative tolerance of the key count at the end (the issue: within 1 %).
const KEYS_END_TOLERANCE: f64 = 0.01;
/// The model's sampling seed (any fixed value; the seed spread is far below the tolerance).
const MODEL_SEED: &str = "1";

/// A main-dict bucket array holding `keys` entries: 8 bytes per slot, a power of two >= keys
/// (dict.c expands when full), as REDIS-MODEL.md section 8 charges it.
fn bucket_bytes(keys: u64) -> f64 {
    8.0 * keys.next_power_of_two() as f64
}

/// The `used_memory` of the grid runs' server with no keys, derived from the JSON only.
///
/// The empty-server figure (977,368 B, `calibration.no_ttl.used_memory_empty`) was measured
/// without the harness's pipelined client at work; during the grid runs the client buffers and
/// script state take more. We take the key data cost from the calibration fill (96,580 keys of
/// this very stream: `(used_memory_full - used_memory_empty - buckets) / keys`, about 704 B, the
/// REDIS-MODEL.md section 8 figure 32 + 16 + 656), then for each run subtract its keys' data and
/// its bucket array from `info_after.used_memory`; the runs give 1.037-1.046 MB. One value, the
/// mean over the 10 runs, serves all runs, so the key count at the end is still a check of the
/// model's per-key cost and not fitted run by run. Hit ratios are not used.
fn derived_base_memory(grid: &serde_json::Value) -> (u64, f64, Vec<f64>) {
    let calibration = &grid["calibration"]["no_ttl"];
    let calibration_keys = u64_of(calibration, "keys");
    let data_per_key = (u64_of(calibration, "used_memory_full") as f64
        - u64_of(calibration, "used_memory_empty") as f64
        - bucket_bytes(calibration_keys))
        / calibration_keys as f64;
    let per_run: Vec<f64> = runs(grid)
        .iter()
        .map(|run| {
            let keys = u64_of(run, "keys_end");
            u64_of(&run["info_after"], "used_memory") as f64
                - keys as f64 * data_per_key
                - bucket_bytes(keys)
        })
        .collect();
    let mean = per_run.iter().sum::<f64>() / per_run.len() as f64;
    (mean.round() as u64, data_per_key, per_run)
}

fn runs(grid: &serde_json::Value) -> &Vec<serde_json::Value> {
    grid["runs"].as_array().expect("runs")
}

#[test]
fn eviction_grid_matches_real_redis() {
    if !slow_tests_enabled("eviction_grid_matches_real_redis") {
        return;
    }
    let grid = redis7_json("grid-alpha0.8.json");
    let (base, data_per_key, per_run_base) = derived_base_memory(&grid);
    println!(
        "base memory: {base} B (mean of per-run estimates {:?}; key data {data_per_key:.2} B/key \
         from the calibration fill)",
        per_run_base.iter().map(|b| b.round()).collect::<Vec<_>>()
    );
    let stream = repo_data("fidelity/redis7/zipf0.8-K100000-N1000000-v512-seed42.csv.gz");
    // One `cacheplan replay` process per run, all started at once.
    let children: Vec<_> = runs(&grid)
        .iter()
        .map(|run| {
            let config = &run["config"];
            let tag = run["tag"].as_str().expect("tag");
            let timeline = repo_data(&format!("fidelity/redis7/timeline-{tag}.csv.gz"));
            let args: Vec<String> = vec![
                stream.display().to_string(),
                "--timeline".into(),
                timeline.display().to_string(),
                "--maxmemory-policy".into(),
                config["policy"].as_str().expect("policy").into(),
                "--maxmemory".into(),
                u64_of(config, "maxmemory").to_string(),
                "--maxmemory-samples".into(),
                u64_of(config, "samples").to_string(),
                "--base-memory".into(),
                base.to_string(),
                "--seed".into(),
                MODEL_SEED.into(),
                "--split".into(),
                u64_of(&run["client"], "split_index").to_string(),
            ];
            std::thread::spawn(move || cacheplan_replay(&args))
        })
        .collect();
    let results: Vec<serde_json::Value> = children
        .into_iter()
        .map(|c| c.join().expect("replay thread").remove(0))
        .collect();

    let mut failures = Vec::new();
    println!(
        "{:<26} {:>8} {:>8} {:>7} {:>9} {:>9} {:>7} {:>7} {:>7} {:>8} {:>9} {:>9}",
        "run",
        "real_hr",
        "model_hr",
        "diff_pt",
        "real_hr2",
        "model_hr2",
        "real_k",
        "model_k",
        "diff_%",
        "exactLRU",
        "real_evict",
        "model_ev"
    );
    for (run, model) in runs(&grid).iter().zip(&results) {
        let tag = run["tag"].as_str().expect("tag");
        let real_hr = f64_of(&run["client"], "hit_ratio");
        let real_hr2 = f64_of(&run["client"], "hit_ratio_after_split");
        let model_hr = f64_of(model, "hit_ratio");
        let model_hr2 = f64_of(model, "hit_ratio_after_split");
        let real_keys = u64_of(run, "keys_end");
        let model_keys = u64_of(model, "keys_end");
        let diff_points = (model_hr - real_hr) * 100.0;
        let keys_rel = model_keys as f64 / real_keys as f64 - 1.0;
        println!(
            "{tag:<26} {real_hr:>8.4} {model_hr:>8.4} {diff_points:>+7.2} {real_hr2:>9.4} \
             {model_hr2:>9.4} {real_keys:>7} {model_keys:>7} {:>+7.2} {:>8.4} {:>9} {:>9}",
            keys_rel * 100.0,
            f64_of(&run["exact_lru_at_keys_end"], "hit_ratio"),
            u64_of(&run["info_after"], "evicted_keys"),
            u64_of(model, "evicted_keys"),
        );
        if diff_points.abs() > HIT_RATIO_TOLERANCE_POINTS {
            failures.push(format!(
                "{tag}: hit ratio {model_hr:.4} vs real {real_hr:.4} ({diff_points:+.2} points, \
                 tolerance {HIT_RATIO_TOLERANCE_POINTS})"
            ));
        }
        if keys_rel.abs() > KEYS_END_TOLERANCE {
            failures.push(format!(
                "{tag}: {model_keys} keys at the end vs real {real_keys} ({:+.2} %)",
                keys_rel * 100.0
            ));
        }
    }
    assert_no_failures("real Redis eviction grid", &failures);
}

#[test]
fn the_derived_base_memory_is_near_the_issue_estimate() {
    // Cheap guard on the derivation above (no replay): the issue estimates about 1.04 MB.
    let grid = redis7_json("grid-alpha0.8.json");
    let (base, data_per_key, per_run) = derived_base_memory(&grid);
    assert!((1_020_000..1_060_000).contains(&base), "{base}");
    assert!((data_per_key - 704.0).abs() < 1.0, "{data_per_key}");
    assert_eq!(per_run.len(), 10);
}
