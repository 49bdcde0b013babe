//! Shared helpers of the fidelity and replay acceptance tests: where the reference files live
//! (`tests/data/` in the repository, or `../shared` beside it with a visible skip when absent),
//! the slow-test switch, and running `cacheplan replay --json` as a user would.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A file under the repository's `tests/data/` folder (copied from `../shared`; provenance in
/// `tests/data/README.md`).
pub fn repo_data(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(relative)
}

/// A file under `../shared` beside the repository, or `None` when `../shared` is absent. Then
/// it writes `<test>: skipped: ../shared absent (needs ../shared/<relative>)` straight to
/// stderr, which libtest does not capture, so the skip shows in every `cargo test` run. When
/// `../shared` exists the path is returned even if the file is missing, so the test fails
/// with the read error instead of hiding a broken reference folder.
pub fn shared_only(test: &str, relative: &str) -> Option<PathBuf> {
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared");
    if shared.is_dir() {
        return Some(shared.join(relative));
    }
    // A failed write to stderr cannot be reported anywhere better; the skip stands.
    let _ = writeln!(
        std::io::stderr(),
        "{test}: skipped: ../shared absent (needs ../shared/{relative})"
    );
    None
}

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
