//! Hostile input (issue #12): values that pass a naive check but would make a command grow to
//! many gigabytes, run for days, or give silently wrong figures. Each must end within 10 s with
//! exit code 2 and a message naming the field (or the estimate's driving field), with a peak
//! memory under 1 GiB, for every scenario-driven command (`validate`, `run`, `sweep`, `size`).

use crate::{arg, check_no_panic, Output, TempDir, TINY_SCENARIO};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The longest a hostile case may take.
const DEADLINE: Duration = Duration::from_secs(10);
/// The most memory a hostile case may use.
const MAX_RSS_BYTES: u64 = 1 << 30;

/// `TINY_SCENARIO` with the first `old` replaced by `new` (`old` must be there).
fn edit(old: &str, new: &str) -> String {
    assert!(
        TINY_SCENARIO.contains(old),
        "`{old}` is not in TINY_SCENARIO"
    );
    TINY_SCENARIO.replacen(old, new, 1)
}

/// What a measured invocation did: its output and peak resident memory (when measurable).
struct Measured {
    out: Output,
    max_rss_bytes: Option<u64>,
}

/// Runs `cacheplan args` under `/usr/bin/time` (when present) to read its peak resident memory,
/// killing it at the deadline (a failure).
fn measured(dir: &TempDir, args: &[&str]) -> Measured {
    let rss_file = dir.join("rss.txt");
    let time = Path::new("/usr/bin/time");
    let mut cmd = if time.exists() {
        let mut c = Command::new(time);
        c.args(["-f", "%M", "-o", arg(&rss_file)])
            .arg(env!("CARGO_BIN_EXE_cacheplan"));
        c
    } else {
        Command::new(env!("CARGO_BIN_EXE_cacheplan"))
    };
    cmd.args(args)
        .env_remove("RUST_BACKTRACE")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let started = Instant::now();
    let mut child = cmd.spawn().expect("cacheplan starts");
    loop {
        if child.try_wait().expect("wait for cacheplan").is_some() {
            break;
        }
        if started.elapsed() > DEADLINE {
            let _ = child.kill();
            let _ = child.wait();
            panic!("cacheplan {args:?} ran longer than {DEADLINE:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let out = child.wait_with_output().expect("cacheplan's output");
    let max_rss_bytes = std::fs::read_to_string(&rss_file)
        .ok()
        .and_then(|t| t.lines().last()?.trim().parse::<u64>().ok())
        .map(|kb| kb * 1024);
    Measured {
        out: Output::of(out),
        max_rss_bytes,
    }
}

/// Asserts the refusal: exit 2, `needle` on stderr, no panic, memory under the cap.
fn check_refused(m: &Measured, needle: &str, what: &str) {
    assert_eq!(m.out.code, 2, "{what}: {:#?}", m.out);
    assert!(
        m.out.stderr.contains(needle),
        "{what}: want `{needle}`: {:#?}",
        m.out
    );
    check_no_panic(&m.out);
    if let Some(rss) = m.max_rss_bytes {
        assert!(rss < MAX_RSS_BYTES, "{what}: peak memory {rss} bytes");
    }
}

/// Runs `validate`, `run`, `size` (the scenario with an `[slo]` added) and `sweep` (a 2-cell
/// grid) on `toml` and checks that each refuses it naming `needle`.
fn check_hostile(label: &str, toml: &str, needle: &str) {
    let dir = TempDir::new(label);
    let file = dir.write("scenario.toml", toml);
    let out_dir = dir.join("run");
    // A fixed limit, so that the cases are refused alike on machines of any size.
    let limit = ["--memory-limit", "4gb"];
    let validate = measured(&dir, &["validate", arg(&file), limit[0], limit[1]]);
    check_refused(&validate, needle, &format!("{label}: validate"));
    let run = measured(
        &dir,
        &[
            "run",
            arg(&file),
            "--out",
            arg(&out_dir),
            "--quiet",
            limit[0],
            limit[1],
        ],
    );
    check_refused(&run, needle, &format!("{label}: run"));
    assert!(
        !out_dir.exists(),
        "{label}: an output folder was left behind"
    );
    let with_slo = format!("{toml}\n[slo]\nhit_ratio_min = {{ catalog = 0.1 }}\n");
    let sized = dir.write("sized.toml", with_slo);
    let size = measured(
        &dir,
        &[
            "size",
            arg(&sized),
            "--seeds",
            "1",
            "--out",
            arg(&dir.join("size")),
            "--quiet",
            limit[0],
            limit[1],
        ],
    );
    check_refused(&size, needle, &format!("{label}: size"));
    let grid = dir.write(
        "grid.toml",
        "[grid]\n\"keyspaces.catalog.ttl_ms\" = [\"2s\", \"4s\"]\n",
    );
    let sweep = measured(
        &dir,
        &[
            "sweep",
            arg(&file),
            "--grid",
            arg(&grid),
            "--out",
            arg(&dir.join("sweep")),
            "--quiet",
            limit[0],
            limit[1],
        ],
    );
    check_refused(&sweep, needle, &format!("{label}: sweep"));
}

#[test]
fn a_billion_requests_per_second_is_refused_by_the_event_budget() {
    check_hostile(
        "rate",
        &edit("rate_per_s = 50", "rate_per_s = 1e9"),
        "keyspaces[0].rate_per_s",
    );
}

#[test]
fn a_rate_above_the_range_names_rate_per_s() {
    check_hostile(
        "rate-range",
        &edit("rate_per_s = 50", "rate_per_s = 1e12"),
        "field `keyspaces[0].rate_per_s`",
    );
}

#[test]
fn huge_burst_and_profile_multipliers_name_their_field() {
    check_hostile(
        "burst",
        &edit(
            "rate_per_s = 50\n",
            "rate_per_s = 50\nbursts = [ { start_ms = \"1s\", duration_ms = \"1s\", multiplier = 1e300 } ]\n",
        ),
        "field `keyspaces[0].bursts[0].multiplier`",
    );
    let profile = format!("[{}, 1e300]", vec!["1"; 23].join(", "));
    check_hostile(
        "profile",
        &edit(
            "rate_per_s = 50\n",
            &format!("rate_per_s = 50\nhourly_profile = {profile}\n"),
        ),
        "field `keyspaces[0].hourly_profile[23]`",
    );
}

#[test]
fn a_one_nanosecond_window_is_refused() {
    check_hostile(
        "window",
        &edit("window_ms = \"5s\"", "window_ms = \"1ns\""),
        "field `simulation.window_ms`",
    );
}

#[test]
fn a_long_run_with_millisecond_windows_is_refused_by_the_budget() {
    check_hostile(
        "windows",
        &edit("window_ms = \"5s\"", "window_ms = \"1ms\"")
            .replace("duration_ms = \"20s\"", "duration_ms = \"3000d\"")
            .replace("rate_per_s = 50", "rate_per_s = 1e-6")
            .replace("rate_per_s = 20", "rate_per_s = 1e-6"),
        "simulation.window_ms",
    );
}

#[test]
fn a_billion_key_zipf_keyspace_is_refused_by_the_memory_budget() {
    check_hostile(
        "zipf",
        &edit("keys_per_tenant = 200", "keys_per_tenant = 1000000000"),
        "keyspaces[0].keys_per_tenant",
    );
    check_hostile(
        "zipf-max",
        &edit("keys_per_tenant = 200", "keys_per_tenant = 4294967295"),
        "keyspaces[0].keys_per_tenant",
    );
    // A tenant's size can push a tenant's keys past what can be numbered.
    check_hostile(
        "zipf-size",
        &edit("keys_per_tenant = 200", "keys_per_tenant = 4294967295")
            .replace("traffic_weight = 2", "traffic_weight = 2\nsize = 2"),
        "field `keyspaces[0].keys_per_tenant`",
    );
}

#[test]
fn ten_thousand_instances_with_a_million_key_l1_are_refused() {
    check_hostile(
        "l1",
        &edit("window_ms = \"5s\"", "window_ms = \"5s\"\napp_instances = 10000").replace(
            "origin = \"db\"\n\n[[keyspaces]]",
            "origin = \"db\"\nstrategy = { kind = \"cache-aside\", local_cache_keys = 1000000 }\n\n[[keyspaces]]",
        ),
        "keyspaces[0].strategy.local_cache_keys x simulation.app_instances",
    );
}

#[test]
fn silently_wrong_times_are_errors() {
    check_hostile(
        "service",
        &edit(
            "service_time_ms = { dist = \"fixed\", value = 5 }",
            "service_time_ms = { dist = \"fixed\", value = 2e13 }",
        ),
        "field `origins[0].service_time_ms.value`",
    );
    check_hostile(
        "service-tail",
        &edit(
            "service_time_ms = { dist = \"fixed\", value = 5 }",
            "service_time_ms = { dist = \"lognormal\", median = 5, sigma = 20 }",
        ),
        "field `origins[0].service_time_ms.sigma`",
    );
    check_hostile(
        "start",
        &edit(
            "window_ms = \"5s\"",
            "window_ms = \"5s\"\nstart_unix_ms = 1000000000000000",
        ),
        "field `simulation.start_unix_ms`",
    );
    check_hostile(
        "duration",
        &edit("duration_ms = \"20s\"", "duration_ms = 1e30"),
        "field `simulation.duration_ms`",
    );
    check_hostile(
        "maxmemory",
        &edit("maxmemory_bytes = \"8mb\"", "maxmemory_bytes = 1e30"),
        "maxmemory_bytes",
    );
}

#[test]
fn long_names_and_templates_are_refused_quickly() {
    let long = "k".repeat(100_000);
    check_hostile(
        "long-keyspace",
        &edit("name = \"catalog\"", &format!("name = \"{long}\"")),
        "field `keyspaces[0].name`",
    );
    check_hostile(
        "long-template",
        &edit(
            "key_template = \"catalog:{tenant}:item:{id}\"",
            &format!("key_template = \"catalog:{long}:{{id}}\""),
        ),
        "field `keyspaces[0].key_template`",
    );
    for (label, old, field) in [
        ("long-cluster", "name = \"safe\"", "clusters[1].name"),
        ("long-origin", "name = \"db\"", "origins[0].name"),
        ("long-tenant", "name = \"t2\"", "tenants[1].name"),
        ("long-plan", "name = \"split\"", "plans[1].name"),
        ("long-scenario", "name = \"tiny\"", "name"),
    ] {
        check_hostile(
            label,
            &edit(old, &format!("name = \"{}\"", "n".repeat(201))),
            &format!("field `{field}`"),
        );
    }
}

#[test]
fn a_missing_version_is_named() {
    check_hostile(
        "version",
        &edit("version = 1\n", ""),
        "field `version`: missing field `version`",
    );
}

#[test]
fn a_million_cell_grid_is_refused_before_its_cells_are_built() {
    let dir = TempDir::new("grid");
    let file = dir.write("scenario.toml", TINY_SCENARIO);
    let ttls: Vec<String> = (1..=100).map(|i| format!("\"{i}s\"")).collect();
    let rates: Vec<String> = (1..=100).map(|i| i.to_string()).collect();
    let grid = dir.write(
        "grid.toml",
        format!(
            "replications = 100\n[grid]\n\"keyspaces.catalog.ttl_ms\" = [{}]\n\"keyspaces.catalog.rate_per_s\" = [{}]\n",
            ttls.join(", "),
            rates.join(", ")
        ),
    );
    let out = dir.join("sweep");
    let m = measured(
        &dir,
        &[
            "sweep",
            arg(&file),
            "--grid",
            arg(&grid),
            "--out",
            arg(&out),
            "--quiet",
            "--memory-limit",
            "4gb",
        ],
    );
    check_refused(&m, "1000000 cells", "sweep");
    assert!(!out.exists(), "a sweep folder was left behind");
}

#[test]
fn legitimate_values_still_run_and_validate_prints_the_estimate() {
    let dir = TempDir::new("legit");
    // A large but legitimate rate on a short run: allowed, and simulated.
    let toml = edit("rate_per_s = 50", "rate_per_s = 2000");
    let file = dir.write("scenario.toml", &toml);
    let v = measured(&dir, &["validate", arg(&file)]);
    assert_eq!(v.out.code, 0, "{:#?}", v.out);
    assert!(v.out.stdout.contains("budget: about "), "{:#?}", v.out);
    let out = dir.join("run");
    let r = measured(
        &dir,
        &[
            "run",
            arg(&file),
            "--out",
            arg(&out),
            "--quiet",
            "--seed",
            "1",
        ],
    );
    assert_eq!(r.out.code, 0, "{:#?}", r.out);
    // The limits are flags: the same scenario is refused under a tiny event limit, and the
    // refusal names the rate and the duration.
    let low = measured(&dir, &["validate", arg(&file), "--max-events", "1000"]);
    check_refused(
        &low,
        "keyspaces[0].rate_per_s x simulation.duration_ms",
        "max-events",
    );
    let mem = measured(&dir, &["validate", arg(&file), "--memory-limit", "1mb"]);
    check_refused(&mem, "--memory-limit", "memory-limit");
    // A date in the year 9999 is still a date.
    let late = dir.write(
        "late.toml",
        edit(
            "window_ms = \"5s\"",
            "window_ms = \"5s\"\nstart_unix_ms = 253402200000000",
        ),
    );
    let ok = measured(
        &dir,
        &[
            "run",
            arg(&late),
            "--out",
            arg(&dir.join("late")),
            "--quiet",
        ],
    );
    assert_eq!(ok.out.code, 0, "{:#?}", ok.out);
}
