//! Bad input is a user mistake, not a crash (STYLE.md habit 7): exit code 2, a message on
//! stderr naming the file, line and column, the field path and a hint, no panic text, and no
//! output folder left behind. Also `run`'s refusal to overwrite a run folder, `replay`'s bad
//! arguments and traces, `keyslot` and `--version`.

use crate::{arg, check_exit, check_no_panic, file_names, run_tiny, TempDir, TINY_SCENARIO};

/// `TINY_SCENARIO` with line `line` (1-based), which must start with `old`, replaced by `new`.
fn replace_line(line: usize, old: &str, new: &str) -> String {
    let mut lines: Vec<&str> = TINY_SCENARIO.lines().collect();
    assert!(
        lines[line - 1].starts_with(old),
        "line {line} of TINY_SCENARIO is `{}`, not `{old}...`: update this test",
        lines[line - 1]
    );
    lines[line - 1] = new;
    lines.join("\n") + "\n"
}

/// `TINY_SCENARIO` with `new` inserted so that it becomes line `line` (1-based).
fn insert_line(line: usize, new: &str) -> String {
    let mut lines: Vec<&str> = TINY_SCENARIO.lines().collect();
    lines.insert(line - 1, new);
    lines.join("\n") + "\n"
}

/// Runs `run` on `toml` and checks the rejection: exit 2, `<file>:<line>:<column>: `, the field
/// path (when `field` is given), a hint containing `hint`, no panic, no output folder.
fn check_bad_scenario(toml: &str, line: usize, column: usize, field: Option<&str>, hint: &str) {
    let dir = TempDir::new("bad");
    let file = dir.write("scenario.toml", toml);
    let out_dir = dir.join("run");
    let out = check_exit(&["run", arg(&file), "--out", arg(&out_dir), "--quiet"], 2);
    let position = format!("{}:{line}:{column}: ", file.display());
    assert!(
        out.stderr.contains(&position),
        "want `{position}`: {out:#?}"
    );
    if let Some(field) = field {
        let named = format!("field `{field}`");
        assert!(out.stderr.contains(&named), "want {named}: {out:#?}");
    }
    let hint_line = out
        .stderr
        .lines()
        .find(|l| l.trim_start().starts_with("hint: "))
        .unwrap_or_else(|| panic!("no hint: {out:#?}"));
    assert!(
        hint_line.contains(hint),
        "want a hint with `{hint}`: {out:#?}"
    );
    assert!(!out_dir.exists(), "an output folder was left behind");
    // The same file through `validate` is rejected the same way.
    let validated = check_exit(&["validate", arg(&file)], 2);
    assert!(validated.stderr.contains(&position), "{validated:#?}");
}

#[test]
fn the_test_scenario_itself_is_valid() {
    let dir = TempDir::new("valid");
    let file = dir.write("scenario.toml", TINY_SCENARIO);
    let out = check_exit(&["validate", arg(&file)], 0);
    assert!(
        out.stdout.contains("2 keyspaces, 2 clusters, 2 plans"),
        "{out:#?}"
    );
    // The edit helpers change nothing when asked to keep a line.
    assert_eq!(
        replace_line(37, "rate_per_s = ", "rate_per_s = 50"),
        TINY_SCENARIO
    );
}

#[test]
fn missing_file() {
    let dir = TempDir::new("missing");
    let file = dir.join("no-such-scenario.toml");
    let out_dir = dir.join("run");
    let out = check_exit(&["run", arg(&file), "--out", arg(&out_dir), "--quiet"], 2);
    assert!(out.stderr.contains(arg(&file)), "{out:#?}");
    assert!(out.stderr.contains("cannot read"), "{out:#?}");
    assert!(out.stderr.contains("hint: check the path"), "{out:#?}");
    assert!(!out_dir.exists());
}

#[test]
fn malformed_toml() {
    // A syntax error has no field to name; the position and a hint must be there.
    check_bad_scenario(
        &replace_line(5, "[simulation]", "[simulation"),
        5,
        12,
        None,
        "TOML syntax",
    );
}

#[test]
fn unknown_field_at_top_level() {
    check_bad_scenario(
        &insert_line(4, "colour = \"blue\""),
        4,
        1,
        Some("colour"),
        "spelling",
    );
}

#[test]
fn unknown_field_in_a_keyspace() {
    check_bad_scenario(
        &insert_line(38, "rate_per_sec = 3"),
        38,
        1,
        Some("keyspaces[0].rate_per_sec"),
        "spelling",
    );
}

#[test]
fn wrong_type() {
    check_bad_scenario(
        &replace_line(37, "rate_per_s = ", "rate_per_s = \"fast\""),
        37,
        14,
        Some("keyspaces[0].rate_per_s"),
        "type",
    );
}

#[test]
fn negative_duration() {
    check_bad_scenario(
        &replace_line(40, "ttl_ms = ", "ttl_ms = \"-5s\""),
        40,
        10,
        Some("keyspaces[0].ttl_ms"),
        "duration",
    );
}

#[test]
fn zero_duration() {
    check_bad_scenario(
        &replace_line(6, "duration_ms = ", "duration_ms = 0"),
        6,
        15,
        Some("simulation.duration_ms"),
        "positive duration",
    );
}

#[test]
fn plan_names_an_unknown_keyspace() {
    check_bad_scenario(
        &replace_line(
            60,
            "placement = ",
            "placement = { catalog = \"main\", session = \"safe\", cart = \"main\" }",
        ),
        60,
        58,
        Some("plans[1].placement.cart"),
        "known keyspaces: catalog, session",
    );
}

#[test]
fn plan_names_an_unknown_cluster() {
    check_bad_scenario(
        &replace_line(
            60,
            "placement = ",
            "placement = { catalog = \"main\", session = \"vault\" }",
        ),
        60,
        43,
        Some("plans[1].placement.session"),
        "known clusters: main, safe",
    );
}

#[test]
fn keyspace_placed_on_no_cluster() {
    check_bad_scenario(
        &replace_line(60, "placement = ", "placement = { catalog = \"main\" }"),
        60,
        13,
        Some("plans[1].placement"),
        "add session = ",
    );
}

#[test]
fn unknown_maxmemory_policy() {
    check_bad_scenario(
        &replace_line(
            26,
            "maxmemory_policy = ",
            "maxmemory_policy = \"allkeys-lru2\"",
        ),
        26,
        20,
        Some("clusters[0].maxmemory_policy"),
        "allkeys-lru",
    );
}

#[test]
fn unknown_distribution() {
    check_bad_scenario(
        &replace_line(
            20,
            "service_time_ms = ",
            "service_time_ms = { dist = \"pareto\", value = 5 }",
        ),
        20,
        28,
        Some("origins[0].service_time_ms.dist"),
        "lognormal",
    );
}

#[test]
fn zero_rate() {
    check_bad_scenario(
        &replace_line(37, "rate_per_s = ", "rate_per_s = 0"),
        37,
        14,
        Some("keyspaces[0].rate_per_s"),
        "> 0",
    );
}

#[test]
fn run_refuses_to_overwrite_without_force() {
    let dir = TempDir::new("overwrite");
    let run = run_tiny(&dir, "run", 1, &[]);
    let before: Vec<(String, Vec<u8>)> = file_names(&run)
        .into_iter()
        .map(|n| {
            let bytes = std::fs::read(run.join(&n)).expect("read");
            (n, bytes)
        })
        .collect();
    let scenario = dir.join("tiny.toml");
    // Seed 2 would write other figures: the files must still hold seed 1's.
    let args = [
        "run",
        arg(&scenario),
        "--out",
        arg(&run),
        "--seed",
        "2",
        "--quiet",
    ];
    let out = check_exit(&args, 2);
    assert!(out.stderr.contains("--force"), "{out:#?}");
    assert!(out.stderr.contains(arg(&run)), "{out:#?}");
    for (name, bytes) in &before {
        let now = std::fs::read(run.join(name)).expect("read");
        assert!(&now == bytes, "{name} was touched");
    }
    assert_eq!(file_names(&run).len(), before.len(), "no file added");
    let forced = [&args[..], &["--force"]].concat();
    check_exit(&forced, 0);
    let summary = |files: &[(String, Vec<u8>)]| {
        files
            .iter()
            .find(|(n, _)| n == "summary.csv")
            .map(|(_, b)| b.clone())
    };
    let now = std::fs::read(run.join("summary.csv")).expect("summary.csv");
    assert!(Some(now) != summary(&before), "--force rewrote summary.csv");
}

/// oracleGeneral records (time s, object id, size, next access): 24 bytes each.
fn oracle_general(records: &[(u32, u64, u32)]) -> Vec<u8> {
    let mut bytes = Vec::new();
    for &(time_s, id, size) in records {
        bytes.extend_from_slice(&time_s.to_le_bytes());
        bytes.extend_from_slice(&id.to_le_bytes());
        bytes.extend_from_slice(&size.to_le_bytes());
        bytes.extend_from_slice(&(-1i64).to_le_bytes());
    }
    bytes
}

const RECORDS: [(u32, u64, u32); 4] = [(0, 1, 100), (1, 2, 100), (2, 1, 100), (3, 3, 100)];

/// Runs `replay` with `args` after the trace and expects exit 2 with `want` on stderr.
fn check_replay_rejects(trace: &std::path::Path, args: &[&str], want: &str) {
    let all = [&["replay", arg(trace)], args].concat();
    let out = check_exit(&all, 2);
    assert!(out.stderr.contains(want), "want `{want}`: {out:#?}");
    assert!(out.stdout.is_empty(), "no table on bad input: {out:#?}");
}

#[test]
fn replay_bad_arguments() {
    let dir = TempDir::new("replay-args");
    let trace = dir.write("t.oracleGeneral.bin", oracle_general(&RECORDS));
    // The same trace and flags with good values replay: the rejections below are the flags'.
    let ok = check_exit(
        &[
            "replay",
            arg(&trace),
            "--policy",
            "lru",
            "--cache-size",
            "2",
            "--ignore-obj-size",
        ],
        0,
    );
    assert!(ok.stdout.contains("lru"), "{ok:#?}");
    check_replay_rejects(
        &trace,
        &["--policy", "lru3", "--cache-size", "2"],
        "\"lru3\"",
    );
    check_replay_rejects(
        &trace,
        &["--policy", "lru", "--cache-size", "0"],
        "--cache-size",
    );
    check_replay_rejects(&trace, &["--policy", "lru"], "--cache-size");
    let wrong_format = [
        "--policy",
        "lru",
        "--cache-size",
        "2",
        "--format",
        "oracleGeneric",
    ];
    check_replay_rejects(&trace, &wrong_format, "oracleGeneric");
}

#[test]
fn replay_truncated_trace_names_the_record() {
    let dir = TempDir::new("replay-trunc");
    let mut bytes = oracle_general(&RECORDS);
    bytes.extend_from_slice(&oracle_general(&[(4, 4, 100)])[..4]); // 4 bytes of a fifth record
    assert_eq!(bytes.len(), 4 * 24 + 4);
    let trace = dir.write("t.oracleGeneral.bin", bytes);
    let args = ["--policy", "lru", "--cache-size", "2", "--ignore-obj-size"];
    check_replay_rejects(&trace, &args, "record 5");
    check_replay_rejects(&trace, &args, arg(&trace));
}

#[test]
fn keyslot_prints_key_tab_slot() {
    let out = check_exit(&["keyslot", "foo", "{user1000}.following"], 0);
    assert_eq!(out.stdout, "foo\t12182\n{user1000}.following\t3443\n");
}

#[test]
fn version_prints_the_version() {
    let out = check_exit(&["--version"], 0);
    let want = format!("cacheplan {}", env!("CARGO_PKG_VERSION"));
    assert!(out.stdout.starts_with(&want), "{out:#?}");
    check_no_panic(&out);
}
