//! Shared helpers of the fidelity and replay acceptance tests: the parsed real-Redis reference
//! files, the slow-test switch, and running `cacheplan replay --json` as a user would. Where
//! reference files live is `crate::test_data`'s business.

use crate::test_data::repo_data;
use std::process::Command;

/// A real Redis reference file of `fidelity/redis7/`, parsed.
pub fn redis7_json(name: &str) -> serde_json::Value {
    let path = repo_data(&format!("fidelity/redis7/{name}"));
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// True when slow tests are asked for (`CACHEPLAN_SLOW_TESTS=1`); otherwise says so on stderr.
pub fn slow_tests_enabled(test: &str) -> bool {
    let on = std::env::var("CACHEPLAN_SLOW_TESTS").is_ok_and(|v| v == "1");
    if !on {
        eprintln!("{test}: slow test, skipped (set CACHEPLAN_SLOW_TESTS=1 to run it)");
    }
    on
}

/// Runs `cacheplan replay <args> --json` and returns one JSON object per job, in job order.
/// Panics with the command's stderr when it fails.
pub fn cacheplan_replay(args: &[String]) -> Vec<serde_json::Value> {
    let output = Command::new(env!("CARGO_BIN_EXE_cacheplan"))
        .arg("replay")
        .args(args)
        .arg("--json")
        .output()
        .expect("cacheplan binary runs");
    assert!(
        output.status.success(),
        "cacheplan replay {} failed: {}",
        args.join(" "),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .expect("JSON output is UTF-8")
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect()
}

/// A u64 field of a JSON object (panics with the field name when absent).
pub fn u64_of(v: &serde_json::Value, field: &str) -> u64 {
    v[field]
        .as_u64()
        .unwrap_or_else(|| panic!("no integer {field:?} in {v}"))
}

/// An f64 field of a JSON object.
pub fn f64_of(v: &serde_json::Value, field: &str) -> f64 {
    v[field]
        .as_f64()
        .unwrap_or_else(|| panic!("no number {field:?} in {v}"))
}

/// Panics listing every failure, after the caller has printed its whole comparison.
pub fn assert_no_failures(what: &str, failures: &[String]) {
    assert!(
        failures.is_empty(),
        "{what}: {} check(s) failed:\n  {}",
        failures.len(),
        failures.join("\n  ")
    );
}
