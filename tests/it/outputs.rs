//! Output folders are all or nothing (issue #12): a command writes into `.<name>.partial-<pid>`
//! beside its target and renames it into place when complete, so SIGINT at any point leaves
//! nothing under the final name and the next command into that `--out` succeeds (removing the
//! leftover); two commands writing one `--out` at once cannot both succeed; every `--out`
//! problem exits 2 naming the path; repeated grid values are refused naming the axis; and the
//! messages of `size` and `merge` say what is actually wrong.

use crate::{
    arg, check_exit, check_no_panic, file_names, partial_folders, run_tiny, TempDir, TINY_SCENARIO,
};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The tiny scenario stretched to about 1 s of simulation and 1 s of writing (2 h simulated,
/// 500 ms windows: many rows and chart points) on the reference machine.
fn long_scenario() -> String {
    let s = TINY_SCENARIO
        .replace("duration_ms = \"20s\"", "duration_ms = \"2h\"")
        .replace("window_ms = \"5s\"", "window_ms = \"500ms\"")
        // Enough traffic that the simulation lasts well beyond the tests' polling (about a
        // second on an idle machine), so each interruption lands in the phase it aims at.
        .replace("rate_per_s = 50\n", "rate_per_s = 400\n");
    assert_ne!(
        s, TINY_SCENARIO,
        "TINY_SCENARIO's layout changed: update this"
    );
    s
}

/// Starts `cacheplan run SCENARIO --out OUT --seed 1 --quiet` without waiting.
fn spawn_run(scenario: &Path, out: &Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_cacheplan"))
        .args([
            "run",
            arg(scenario),
            "--out",
            arg(out),
            "--seed",
            "1",
            "--quiet",
        ])
        .env_remove("RUST_BACKTRACE")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the cacheplan binary starts")
}

/// Polls (every 2 ms, at most 30 s) until `ready` holds; panics if `child` exits first.
fn wait_until(child: &mut Child, what: &str, ready: impl Fn() -> bool) {
    let started = Instant::now();
    while !ready() {
        if let Some(status) = child.try_wait().expect("poll the child") {
            panic!("cacheplan ended ({status}) before {what}: make the scenario longer");
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Sends SIGINT to `child` with kill(1) and waits for it; asserts the signal ended it.
fn interrupt(mut child: Child) {
    let sent = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill(1) runs");
    assert!(sent.success(), "kill -INT failed");
    let status = child.wait().expect("wait for cacheplan");
    assert_eq!(
        status.code(),
        None,
        "cacheplan finished ({status}) before SIGINT reached it: make the scenario longer"
    );
}

/// The single partial folder of `out`.
fn the_partial(out: &Path) -> PathBuf {
    let parent = out.parent().expect("out has a parent");
    let name = out.file_name().unwrap().to_string_lossy().into_owned();
    let found = partial_folders(parent, &name);
    assert!(found.len() <= 1, "{found:?}");
    found.into_iter().next().unwrap_or_default()
}

/// SIGINT once `ready(partial folder)` holds: nothing under the final name, the partial
/// folder left behind; then a run into the same `--out` succeeds and leaves only the target.
fn interrupted_run_leaves_nothing(label: &str, ready: impl Fn(&Path) -> bool) {
    let dir = TempDir::new(label);
    let scenario = dir.write("long.toml", long_scenario());
    let out = dir.join("out");
    let mut child = spawn_run(&scenario, &out);
    wait_until(&mut child, "the moment to interrupt", || {
        let p = the_partial(&out);
        !p.as_os_str().is_empty() && ready(&p)
    });
    interrupt(child);
    assert!(!out.exists(), "{label}: a folder under the final name");
    let leftover = the_partial(&out);
    assert!(
        leftover.is_dir(),
        "{label}: the partial folder stays behind"
    );
    // The next run into that --out succeeds and cleans the leftover up.
    let tiny = dir.write("tiny.toml", TINY_SCENARIO);
    let res = check_exit(&["run", arg(&tiny), "--out", arg(&out), "--seed", "1"], 0);
    assert!(
        res.stderr
            .contains(&format!("removed {}", leftover.display())),
        "{label}: {res:#?}"
    );
    assert!(out.join("manifest.json").is_file());
    let mut beside: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    beside.sort();
    assert_eq!(beside, ["long.toml", "out", "tiny.toml"], "{label}");
}

#[test]
fn sigint_as_the_simulation_starts_leaves_nothing() {
    interrupted_run_leaves_nothing("int-start", |_| true);
}

#[test]
fn sigint_during_the_simulation_leaves_nothing() {
    let since = std::sync::OnceLock::new();
    interrupted_run_leaves_nothing("int-sim", |p| {
        let t = since.get_or_init(Instant::now);
        // Still simulating: nothing written yet.
        assert!(file_names(p).is_empty(), "{:?}", file_names(p));
        t.elapsed() > Duration::from_millis(100)
    });
}

#[test]
fn sigint_as_the_files_are_written_leaves_nothing() {
    interrupted_run_leaves_nothing("int-write", |p| p.join("summary.csv").exists());
}

#[test]
fn sigint_in_the_middle_of_the_writing_leaves_nothing() {
    interrupted_run_leaves_nothing("int-write-mid", |p| p.join("timeseries.csv").exists());
}

#[test]
fn a_second_run_into_a_busy_out_exits_2_and_the_first_completes() {
    let dir = TempDir::new("busy");
    let scenario = dir.write("long.toml", long_scenario());
    let tiny = dir.write("tiny.toml", TINY_SCENARIO);
    let out = dir.join("out");
    let mut first = spawn_run(&scenario, &out);
    wait_until(&mut first, "the first run's partial folder", || {
        !the_partial(&out).as_os_str().is_empty()
    });
    for force in [false, true] {
        let mut args = vec!["run", arg(&tiny), "--out", arg(&out)];
        if force {
            args.push("--force");
        }
        let second = check_exit(&args, 2);
        assert!(
            second
                .stderr
                .contains(&format!("is writing {} right now", out.display())),
            "{second:#?}"
        );
    }
    let status = first.wait().unwrap();
    assert!(status.success(), "the first run: {status}");
    assert!(out.join("manifest.json").is_file());
    assert_eq!(crate::csv_files(&out).len(), 8);
    assert!(partial_folders(dir.path(), "out").is_empty());
}

#[test]
fn of_two_runs_started_together_exactly_one_succeeds() {
    let dir = TempDir::new("race");
    let tiny = dir.write("tiny.toml", TINY_SCENARIO);
    for round in 0..3 {
        let out = dir.join(&format!("out{round}"));
        let children: Vec<Child> = (0..2).map(|_| spawn_run(&tiny, &out)).collect();
        let mut codes = Vec::new();
        for c in children {
            let o = c.wait_with_output().unwrap();
            let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
            let code = o.status.code().expect("exits");
            if code == 2 {
                // Refused while the other held the lock, or after it finished.
                assert!(stderr.contains(arg(&out)), "{stderr}");
            }
            codes.push(code);
        }
        codes.sort();
        assert_eq!(codes, [0, 2], "round {round}");
        assert!(out.join("manifest.json").is_file());
    }
}

#[test]
fn out_problems_name_the_path_and_exit_2_in_every_command() {
    let dir = TempDir::new("out-errors");
    let tiny = dir.write("tiny.toml", TINY_SCENARIO);
    let small = dir.write("small.toml", crate::size::SMALL);
    let grid = dir.write("grid.toml", "seeds = [1]\n");
    let file = dir.write("a-file", "x");
    let parts = {
        let res = check_exit(
            &[
                "sweep",
                arg(&tiny),
                "--grid",
                arg(&grid),
                "--out",
                arg(&dir.join("sw")),
                "--quiet",
            ],
            0,
        );
        check_no_panic(&res);
        dir.join("sw")
    };
    let under_file = file.join("out");
    for out in [&file, &under_file] {
        let o = arg(out);
        for args in [
            vec!["run", arg(&tiny), "--out", o],
            vec!["size", arg(&small), "--out", o],
            vec!["sweep", arg(&tiny), "--grid", arg(&grid), "--out", o],
            vec!["merge", arg(&parts), "--out", o],
        ] {
            let res = check_exit(&args, 2);
            assert!(res.stderr.contains(o), "{args:?}: {res:#?}");
            assert!(res.stderr.contains("hint: "), "{args:?}: {res:#?}");
        }
    }
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "x");
}

#[test]
fn a_folder_of_unrelated_files_is_described_as_such_and_never_replaced() {
    let dir = TempDir::new("unrelated");
    let tiny = dir.write("tiny.toml", TINY_SCENARIO);
    let out = dir.join("mine");
    std::fs::create_dir(&out).unwrap();
    dir.write("mine/notes.txt", "keep me");
    for force in [false, true] {
        let mut args = vec!["run", arg(&tiny), "--out", arg(&out)];
        if force {
            args.push("--force");
        }
        let res = check_exit(&args, 2);
        assert!(
            res.stderr
                .contains("holds 1 entry cacheplan did not write (notes.txt)"),
            "{res:#?}"
        );
        assert!(!res.stderr.contains("already holds a run"), "{res:#?}");
    }
    assert_eq!(file_names(&out), ["notes.txt"]);
    // A real run is described as one, and --force replaces it.
    let run = run_tiny(&dir, "run", 1, &[]);
    let res = check_exit(&["run", arg(&tiny), "--out", arg(&run)], 2);
    assert!(
        res.stderr.contains("already holds a run (manifest.json)"),
        "{res:#?}"
    );
    check_exit(
        &[
            "run",
            arg(&tiny),
            "--out",
            arg(&run),
            "--force",
            "--seed",
            "2",
        ],
        0,
    );
    let manifest = std::fs::read_to_string(run.join("manifest.json")).unwrap();
    assert!(manifest.contains("\"seed\": 2"), "{manifest}");
}

#[test]
fn repeated_grid_values_and_seeds_exit_2_naming_the_axis() {
    let dir = TempDir::new("grid-repeat");
    let tiny = dir.write("tiny.toml", TINY_SCENARIO);
    for (grid, needle) in [
        (
            "seeds = [1]\n[grid]\n\"keyspaces.catalog.ttl_ms\" = [\"1m\", \"1m\"]\n",
            "grid parameter `keyspaces.catalog.ttl_ms` lists 1m twice",
        ),
        (
            "seeds = [4, 4]\n[grid]\n\"keyspaces.catalog.ttl_ms\" = [\"1m\"]\n",
            "`seeds` lists seed 4 twice",
        ),
        (
            "[grid]\n\"keyspaces.catalog.ttl_jitter\" = [\"none\", { kind = \"none\" }]\n",
            "give the same scenario and seed",
        ),
    ] {
        let g = dir.write("g.toml", grid);
        let out = dir.join("out");
        let res = check_exit(
            &["sweep", arg(&tiny), "--grid", arg(&g), "--out", arg(&out)],
            2,
        );
        assert!(res.stderr.contains(needle), "{grid}: {res:#?}");
        assert!(!out.exists());
        assert!(partial_folders(dir.path(), "out").is_empty());
    }
}

#[test]
fn size_messages_name_the_flag_and_the_real_limit() {
    let dir = TempDir::new("size-msgs");
    let small = dir.write("small.toml", crate::size::SMALL);
    let out = dir.join("out");
    let res = check_exit(
        &["size", arg(&small), "--duration", "0", "--out", arg(&out)],
        2,
    );
    assert!(
        res.stderr.contains("--duration 0: must be positive"),
        "{res:#?}"
    );
    assert!(!res.stderr.contains("Some("), "{res:#?}");
    let res = check_exit(
        &[
            "size",
            arg(&small),
            "--max-shards",
            "100000",
            "--out",
            arg(&out),
        ],
        2,
    );
    assert!(
        res.stderr
            .contains("--max-shards 100000 is out of range: a Redis Cluster has 16384 hash slots"),
        "{res:#?}"
    );
    assert!(!res.stderr.contains("explicit"), "{res:#?}");
    check_exit(
        &["size", arg(&small), "--max-shards", "0", "--out", arg(&out)],
        2,
    );
    assert!(!out.exists());
    assert!(partial_folders(dir.path(), "out").is_empty());
}

#[test]
fn a_damaged_cell_in_merge_is_named_as_damaged() {
    let dir = TempDir::new("merge-damaged");
    let tiny = dir.write("tiny.toml", TINY_SCENARIO);
    let grid = dir.write("grid.toml", "seeds = [1, 2]\n");
    for i in ["0", "1"] {
        check_exit(
            &[
                "sweep",
                arg(&tiny),
                "--grid",
                arg(&grid),
                "--out",
                arg(&dir.join("s")),
                "--shard-index",
                i,
                "--shard-count",
                "2",
                "--quiet",
            ],
            0,
        );
    }
    let part = dir.join("s/part-1-of-2");
    let cell = file_names(&part.join("cells")).remove(0);
    let path = part.join("cells").join(&cell);
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, &text[..text.len() / 2]).unwrap();
    let out = dir.join("merged");
    let res = check_exit(
        &[
            "merge",
            arg(&dir.join("s/part-0-of-2")),
            arg(&part),
            "--out",
            arg(&out),
        ],
        2,
    );
    assert!(res.stderr.contains("damaged"), "{res:#?}");
    assert!(res.stderr.contains(arg(&path)), "{res:#?}");
    assert!(!res.stderr.contains("in none of the parts"), "{res:#?}");
    assert!(!out.exists());
    // Rerunning that shard redoes the damaged cell, and the merge then succeeds.
    let rerun = check_exit(
        &[
            "sweep",
            arg(&tiny),
            "--grid",
            arg(&grid),
            "--out",
            arg(&dir.join("s")),
            "--shard-index",
            "1",
            "--shard-count",
            "2",
        ],
        0,
    );
    assert!(
        rerun.stderr.contains("0 of 1 cells already done, ran 1"),
        "{rerun:#?}"
    );
    check_exit(
        &[
            "merge",
            arg(&dir.join("s/part-0-of-2")),
            arg(&part),
            "--out",
            arg(&out),
        ],
        0,
    );
    assert!(out.join("sweep.csv").is_file());
}
