//! `cacheplan run` with no scenario runs the embedded default (`workloads/cpq.toml`): one
//! summary row per plan x keyspace, a manifest with the run's facts and the resolved scenario,
//! and the scenario's point, that the separated plan evicts no critical key before its TTL.
//! The run takes seconds (more in debug builds), so every test here shares one.

use crate::{check_exit, TempDir};
use std::collections::BTreeMap;
use std::sync::OnceLock;

const PLANS: [&str; 3] = ["one-giant-cluster", "separated", "separated-sized"];
const CRITICAL: [&str; 2] = ["idem-fast", "session"];

/// The shared run's `manifest.json` and `summary.csv` (read once; the folder is then removed).
fn default_run() -> &'static (String, String) {
    static RUN: OnceLock<(String, String)> = OnceLock::new();
    RUN.get_or_init(|| {
        let dir = TempDir::new("default");
        let run = dir.join("run");
        let out = check_exit(
            &["run", "--out", run.to_str().expect("UTF-8"), "--quiet"],
            0,
        );
        assert!(out.stdout.is_empty(), "--quiet prints nothing: {out:#?}");
        let read = |name: &str| std::fs::read_to_string(run.join(name)).expect(name);
        (read("manifest.json"), read("summary.csv"))
    })
}

fn manifest() -> serde_json::Value {
    serde_json::from_str(&default_run().0).expect("manifest.json is JSON")
}

/// `summary.csv` as (plan, keyspace) -> column -> cell.
fn summary() -> BTreeMap<(String, String), BTreeMap<String, String>> {
    let mut reader = csv::Reader::from_reader(default_run().1.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .expect("header")
        .iter()
        .map(String::from)
        .collect();
    let mut rows = BTreeMap::new();
    for record in reader.records() {
        let record = record.expect("a CSV row");
        let row: BTreeMap<String, String> = header
            .iter()
            .cloned()
            .zip(record.iter().map(String::from))
            .collect();
        let key = (row["plan"].clone(), row["keyspace"].clone());
        assert!(rows.insert(key, row).is_none(), "a (plan, keyspace) twice");
    }
    rows
}

fn keyspace_names() -> Vec<String> {
    manifest()["scenario"]["keyspaces"]
        .as_array()
        .expect("keyspaces")
        .iter()
        .map(|k| k["name"].as_str().expect("a name").to_string())
        .collect()
}

#[test]
fn summary_has_one_row_per_plan_and_keyspace() {
    let rows = summary();
    let keyspaces = keyspace_names();
    assert_eq!(keyspaces.len(), 11);
    assert_eq!(rows.len(), PLANS.len() * keyspaces.len());
    for plan in PLANS {
        for ks in &keyspaces {
            let row = &rows[&(plan.to_string(), ks.clone())];
            let requests: u64 = row["requests"].parse().expect("requests is an integer");
            assert!(requests > 0, "{plan}/{ks} has no request");
        }
    }
}

#[test]
fn manifest_records_the_run() {
    let m = manifest();
    for key in ["requests", "events"] {
        assert!(m[key].as_u64().is_some_and(|v| v > 0), "{key}: {}", m[key]);
    }
    for key in ["wall_seconds", "events_per_second"] {
        assert!(
            m[key].as_f64().is_some_and(|v| v > 0.0),
            "{key}: {}",
            m[key]
        );
    }
    assert!(m["events"].as_u64() > m["requests"].as_u64());
    // No --seed: the embedded scenario's own seed.
    assert_eq!(m["seed"], 20_260_702);
    assert_eq!(m["scenario_source"], "<embedded workloads/cpq.toml>");
    let s = &m["scenario"];
    assert_eq!(s["name"], "cpq");
    let plans: Vec<&str> = s["plans"]
        .as_array()
        .expect("plans")
        .iter()
        .map(|p| p["name"].as_str().expect("a name"))
        .collect();
    assert_eq!(plans, PLANS);
    // Resolved: defaults the file leaves out are filled in.
    let eligibility = &s["keyspaces"][1];
    assert_eq!(eligibility["name"], "eligibility");
    assert_eq!(eligibility["criticality"], "medium");
    assert_eq!(eligibility["strategy"]["kind"], "cache-aside");
    assert_eq!(eligibility["client_timeout_ms"], 50);
    let quote_db = &s["origins"][3];
    assert_eq!(quote_db["name"], "quote-db");
    assert_eq!(quote_db["timeout_ms"], 5000);
    assert_eq!(quote_db["queue_limit"], 10_000);
    let critical = &s["clusters"][2];
    assert_eq!(critical["name"], "critical");
    assert_eq!(critical["maxmemory_policy"], "noeviction");
    assert_eq!(critical["maxmemory_bytes"], 150 * 1024 * 1024);
    assert_eq!(critical["maxmemory_samples"], 5);
    // Warm-up and summary agree: the summary counts only requests after the warm-up.
    let after_warmup: u64 = summary()
        .values()
        .map(|r| r["requests"].parse::<u64>().expect("integer"))
        .sum();
    assert!(after_warmup < m["requests"].as_u64().expect("requests"));
}

#[test]
fn separated_plan_evicts_no_critical_key_before_its_ttl() {
    let rows = summary();
    for ks in CRITICAL {
        let cell = |plan: &str, column: &str| -> u64 {
            let row = &rows[&(plan.to_string(), ks.to_string())];
            row[column].parse().expect("an integer count")
        };
        assert_eq!(
            rows[&("separated".into(), ks.into())]["cluster"],
            "critical"
        );
        assert_eq!(cell("separated", "evicted_before_ttl_keys"), 0, "{ks}");
        // The contrast the scenario is about: on the one giant allkeys-lru cluster the same
        // critical keys are evicted early (so the zero above is not a dead counter).
        assert!(
            cell("one-giant-cluster", "evicted_before_ttl_keys") > 0,
            "{ks}"
        );
    }
}

#[test]
fn the_default_run_starts_at_steady_state() {
    // Catalog (1h ± 10 %), idem-fast and session (30m) outlive the 10-minute run; warm-started
    // (the default), none of them is judged by its horizon against its TTL.
    let rows = summary();
    for plan in PLANS {
        for ks in ["catalog", "idem-fast", "session"] {
            let row = &rows[&(plan.to_string(), ks.to_string())];
            assert!(
                !row["steady_state_reason"].contains("cold start"),
                "{plan} {ks}: {}",
                row["steady_state_reason"]
            );
        }
    }
}

#[test]
fn the_default_run_names_the_separated_plans_oom_rejections_and_its_fix() {
    // `separated` (150 MB critical) cannot hold its critical steady-state set (about 180 MB):
    // it rejects writes; `separated-sized` (210 MB) does not.
    let rows = summary();
    let oom = |plan: &str| -> u64 {
        ["idem-fast", "rate-limit", "lock", "session"]
            .iter()
            .map(|ks| {
                rows[&(plan.to_string(), ks.to_string())]["oom_errors"]
                    .parse::<u64>()
                    .expect("oom_errors")
            })
            .sum()
    };
    assert!(oom("separated") > 0);
    assert_eq!(oom("separated-sized"), 0);
}
