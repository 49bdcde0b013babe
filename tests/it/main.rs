//! The integration test binary (STYLE.md habit 8): one module per behaviour, all driving the
//! real `cacheplan` binary through the small helpers below. Slow tests run only with
//! `CACHEPLAN_SLOW_TESTS=1` (see [`slow_tests`]); nothing here is `#[ignore]`d.

mod bad_input;
mod calibrated_service;
mod causality;
mod cost;
mod default_run;
mod determinism;
mod faults;
mod fidelity_expiry;
mod fidelity_grid;
mod fidelity_lfu;
mod fidelity_memory;
mod fidelity_support;
mod hostile;
mod hotspots;
mod layers;
mod live_calibrate;
mod live_capture;
mod live_fidelity;
mod live_profile;
mod live_redis;
mod live_tls;
mod outputs;
mod projection;
mod replay_exact;
mod replay_inputs;
mod replicas;
mod scenario_kinds;
mod schema;
mod size;
mod size_cost;
mod steady_state;
mod strategies;
mod sweep;
mod warm_acceptance;
mod warm_start;
// The unit tests' file-location helper, compiled into this binary too: one skip rule for both.
#[path = "../../src/test_data.rs"]
mod test_data;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

/// What a `cacheplan` invocation did.
#[derive(Debug)]
pub struct Output {
    /// Exit code.
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

/// Runs `cacheplan` with `args` and the extra environment `env`.
pub fn cacheplan_env(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cacheplan"));
    cmd.args(args).env_remove("RUST_BACKTRACE");
    for (k, v) in env {
        cmd.env(k, v);
    }
    Output::of(cmd.output().expect("the cacheplan binary runs"))
}

impl Output {
    /// What a finished `cacheplan` process did.
    pub fn of(out: std::process::Output) -> Output {
        Output {
            code: out
                .status
                .code()
                .expect("cacheplan exits, not killed by a signal"),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

/// Runs `cacheplan` with `args`.
pub fn cacheplan(args: &[&str]) -> Output {
    cacheplan_env(args, &[])
}

/// Runs `cacheplan` with `args`, asserts the exit code and that nothing panicked.
pub fn check_exit(args: &[&str], code: i32) -> Output {
    let out = cacheplan(args);
    assert_eq!(out.code, code, "cacheplan {args:?}: {out:#?}");
    check_no_panic(&out);
    out
}

/// Asserts stderr shows no panic or backtrace text.
pub fn check_no_panic(out: &Output) {
    for bad in ["panicked", "RUST_BACKTRACE", "stack backtrace"] {
        assert!(!out.stderr.contains(bad), "`{bad}` on stderr: {out:#?}");
    }
}

/// Whether the slow tests are wanted (`CACHEPLAN_SLOW_TESTS=1`).
pub fn slow_tests() -> bool {
    std::env::var("CACHEPLAN_SLOW_TESTS").is_ok_and(|v| v == "1")
}

/// A fresh, uniquely named folder under the system temp dir, removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    /// Creates `<tmp>/cacheplan-it-<label>-<pid>-<n>`.
    pub fn new(label: &str) -> TempDir {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir =
            std::env::temp_dir().join(format!("cacheplan-it-{label}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create a temp dir");
        TempDir(dir)
    }

    /// The folder.
    pub fn path(&self) -> &Path {
        &self.0
    }

    /// A path inside the folder.
    pub fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    /// Writes `name` in the folder and returns its path.
    pub fn write(&self, name: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
        let p = self.join(name);
        std::fs::write(&p, bytes).expect("write a temp file");
        p
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `path` as a `&str` for a command line.
pub fn arg(path: &Path) -> &str {
    path.to_str().expect("temp paths are UTF-8")
}

/// The tests' scenario: 2 tenants, 1 origin, 2 clusters, 2 keyspaces, 2 plans, 20 s simulated.
/// `bad_input` edits it line by line and asserts exact line numbers: keep the layout.
pub const TINY_SCENARIO: &str = r#"version = 1
name = "tiny"
description = "two keyspaces, two plans: the integration tests' scenario"

[simulation]
duration_ms = "20s"
warmup_ms = "5s"
window_ms = "5s"

[[tenants]]
name = "t1"
traffic_weight = 2

[[tenants]]
name = "t2"

[[origins]]
name = "db"
concurrency = 4
service_time_ms = { dist = "fixed", value = 5 }

[[clusters]]
name = "main"
shards = 2
maxmemory_bytes = "8mb"
maxmemory_policy = "allkeys-lru"

[[clusters]]
name = "safe"
shards = 1
maxmemory_bytes = "8mb"

[[keyspaces]]
name = "catalog"
key_template = "catalog:{tenant}:item:{id}"
operation = "read-through"
rate_per_s = 50
keys_per_tenant = 200
value_size_bytes = { dist = "lognormal", median = 500, sigma = 0.3 }
ttl_ms = "10s"
origin = "db"

[[keyspaces]]
name = "session"
key_template = "session:{{tenant}}:user:{userId}"
operation = "session"
criticality = "critical"
rate_per_s = 20
keys_per_tenant = 100
value_size_bytes = { dist = "fixed", value = 300 }
ttl_ms = "30s"
origin = "db"

[[plans]]
name = "shared"
placement = { catalog = "main", session = "main" }

[[plans]]
name = "split"
placement = { catalog = "main", session = "safe" }
"#;

/// Runs the tiny scenario with `seed` into `<dir>/<name>` (extra environment `env`) and
/// returns the run folder.
pub fn run_tiny(dir: &TempDir, name: &str, seed: u64, env: &[(&str, &str)]) -> PathBuf {
    let scenario = dir.write("tiny.toml", TINY_SCENARIO);
    let out = dir.join(name);
    let seed = seed.to_string();
    let res = cacheplan_env(
        &[
            "run",
            arg(&scenario),
            "--out",
            arg(&out),
            "--seed",
            &seed,
            "--quiet",
        ],
        env,
    );
    assert_eq!(res.code, 0, "run of the tiny scenario failed: {res:#?}");
    check_no_panic(&res);
    out
}

/// The files under `dir` (subfolders included) as relative paths, sorted.
pub fn file_names(dir: &Path) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        for e in std::fs::read_dir(dir).expect("read the run folder") {
            let path = e.expect("dir entry").path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let rel = path.strip_prefix(root).expect("inside the folder");
                out.push(rel.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    let mut names = Vec::new();
    walk(dir, dir, &mut names);
    names.sort();
    names
}

/// The leftover partial folders of target `name` in `parent` (`.<name>.partial-<pid>`), sorted.
pub fn partial_folders(parent: &Path, name: &str) -> Vec<PathBuf> {
    let prefix = format!(".{name}.partial-");
    let mut found: Vec<PathBuf> = std::fs::read_dir(parent)
        .expect("read the parent folder")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with(&prefix))
        })
        .collect();
    found.sort();
    found
}

/// The CSV files of a run folder, sorted by name, with their bytes.
pub fn csv_files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    file_names(dir)
        .into_iter()
        .filter(|n| n.ends_with(".csv"))
        .map(|n| {
            let bytes = std::fs::read(dir.join(&n)).expect("read a CSV");
            (n, bytes)
        })
        .collect()
}
