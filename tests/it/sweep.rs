//! `cacheplan sweep` and `cacheplan merge`: the same grid gives the same bytes on one machine
//! or split into shards and merged, on one thread or two; an interrupted sweep leaves nothing
//! under its final name and resumes from its partial folder without redoing finished cells;
//! bad grids and bad merges exit 2 and write nothing.

use crate::{arg, cacheplan_env, check_exit, check_no_panic, file_names, TempDir, TINY_SCENARIO};
use std::path::Path;

/// A 2 x 2 grid with 2 seeds: 8 cells of the tiny scenario.
pub const GRID: &str = r#"seeds = [1, 2]
[grid]
"keyspaces.catalog.ttl_ms" = ["2s", "10s"]
"clusters.main.maxmemory_bytes" = ["1mb", "8mb"]
"#;

fn sweep(dir: &TempDir, out: &str, extra: &[&str], env: &[(&str, &str)]) -> crate::Output {
    sweep_grid(dir, GRID, out, extra, env)
}

/// `cacheplan sweep` of the tiny scenario over `grid_text` into `<dir>/<out>`.
fn sweep_grid(
    dir: &TempDir,
    grid_text: &str,
    out: &str,
    extra: &[&str],
    env: &[(&str, &str)],
) -> crate::Output {
    let scenario = dir.write("tiny.toml", TINY_SCENARIO);
    let grid = dir.write("grid.toml", grid_text);
    let out = dir.join(out);
    let mut args = vec![
        "sweep",
        arg(&scenario),
        "--grid",
        arg(&grid),
        "--out",
        arg(&out),
    ];
    args.extend_from_slice(extra);
    let res = cacheplan_env(&args, env);
    check_no_panic(&res);
    res
}

/// Asserts two folders hold the same files with the same bytes.
fn check_same_files(a: &Path, b: &Path) {
    let (fa, fb) = (file_names(a), file_names(b));
    assert_eq!(
        fa,
        fb,
        "the same files in {} and {}",
        a.display(),
        b.display()
    );
    assert!(fa.iter().any(|f| f == "sweep.csv"), "{fa:?}");
    for f in &fa {
        let (x, y) = (
            std::fs::read(a.join(f)).unwrap(),
            std::fs::read(b.join(f)).unwrap(),
        );
        assert!(
            x == y,
            "{f} differs between {} and {}",
            a.display(),
            b.display()
        );
    }
}

#[test]
fn shards_merged_and_thread_counts_give_the_same_bytes() {
    let dir = TempDir::new("sweep-same");
    let two = sweep(&dir, "two", &["--quiet"], &[("RAYON_NUM_THREADS", "2")]);
    assert_eq!(two.code, 0, "{two:#?}");
    let one = sweep(&dir, "one", &["--quiet"], &[("RAYON_NUM_THREADS", "1")]);
    assert_eq!(one.code, 0, "{one:#?}");
    check_same_files(&dir.join("two"), &dir.join("one"));
    for i in ["0", "1", "2"] {
        let r = sweep(
            &dir,
            "parts",
            &["--shard-index", i, "--shard-count", "3", "--quiet"],
            &[],
        );
        assert_eq!(r.code, 0, "{r:#?}");
    }
    // Slurm's variables pick the shard when no flag does (here: re-running shard 1, all done).
    let r = sweep(
        &dir,
        "parts",
        &[],
        &[
            ("SLURM_ARRAY_TASK_ID", "1"),
            ("SLURM_ARRAY_TASK_COUNT", "3"),
        ],
    );
    assert!(
        r.stderr
            .contains("shard 1 of 3 (from the Slurm job array): 3 cells"),
        "{r:#?}"
    );
    assert!(r.stderr.contains("3 of 3 cells already done"), "{r:#?}");
    let parts: Vec<String> = (0..3)
        .map(|i| arg(&dir.join(&format!("parts/part-{i}-of-3"))).to_string())
        .collect();
    let merged = dir.join("merged");
    let mut args = vec!["merge"];
    args.extend(parts.iter().map(String::as_str));
    args.extend(["--out", arg(&merged), "--quiet"]);
    check_exit(&args, 0);
    check_same_files(&dir.join("two"), &merged);
    let csv = std::fs::read_to_string(merged.join("sweep.csv")).unwrap();
    assert_eq!(
        csv.lines().count(),
        1 + 8 * 2 * 2,
        "8 cells x 2 plans x 2 keyspaces"
    );
}

fn mtimes(dir: &Path) -> Vec<(String, std::time::SystemTime)> {
    file_names(&dir.join("cells"))
        .into_iter()
        .map(|n| {
            let t = std::fs::metadata(dir.join("cells").join(&n))
                .unwrap()
                .modified()
                .unwrap();
            (n, t)
        })
        .collect()
}

#[test]
fn an_interrupted_sweep_resumes_where_it_stopped() {
    let dir = TempDir::new("sweep-resume");
    let stopped = sweep(&dir, "s", &[], &[("CACHEPLAN_SWEEP_STOP_AFTER", "3")]);
    assert_eq!(stopped.code, 1, "{stopped:#?}");
    assert!(
        stopped.stderr.contains("stopped after 3 cell(s)"),
        "{stopped:#?}"
    );
    assert!(
        !dir.join("s").exists(),
        "nothing under the final name before every cell is done"
    );
    let partial = crate::partial_folders(dir.path(), "s");
    assert_eq!(partial.len(), 1, "one partial folder: {partial:?}");
    let before = mtimes(&partial[0]);
    assert_eq!(before.len(), 3, "{before:?}");
    std::thread::sleep(std::time::Duration::from_millis(20));
    let resumed = sweep(&dir, "s", &[], &[]);
    assert_eq!(resumed.code, 0, "{resumed:#?}");
    assert!(
        resumed.stderr.contains("3 of 8 cells already done, ran 5"),
        "{resumed:#?}"
    );
    assert!(
        resumed
            .stderr
            .contains("resuming the unfinished sweep left in"),
        "{resumed:#?}"
    );
    assert!(crate::partial_folders(dir.path(), "s").is_empty());
    let after = mtimes(&dir.join("s"));
    assert_eq!(after.len(), 8);
    for (name, t) in &before {
        let again = after.iter().find(|(n, _)| n == name).expect("still there");
        assert_eq!(*t, again.1, "{name} was not rewritten");
    }
    // Deleting a cell file redoes only that cell.
    let (first, _) = &after[0];
    std::fs::remove_file(dir.join("s/cells").join(first)).unwrap();
    let again = sweep(&dir, "s", &[], &[]);
    assert!(
        again.stderr.contains("7 of 8 cells already done, ran 1"),
        "{again:#?}"
    );
    let fresh = sweep(&dir, "fresh", &["--quiet"], &[]);
    assert_eq!(fresh.code, 0);
    check_same_files(&dir.join("s"), &dir.join("fresh"));
}

fn bad_grid(grid: &str, needle: &str) {
    let dir = TempDir::new("sweep-bad");
    let scenario = dir.write("tiny.toml", TINY_SCENARIO);
    let g = dir.write("g.toml", grid);
    let out = dir.join("out");
    let res = check_exit(
        &[
            "sweep",
            arg(&scenario),
            "--grid",
            arg(&g),
            "--out",
            arg(&out),
        ],
        2,
    );
    assert!(res.stderr.contains(needle), "{grid:?}: {res:#?}");
    assert!(!out.exists(), "nothing written for {grid:?}");
}

#[test]
fn bad_grids_exit_2_and_write_nothing() {
    bad_grid(
        "[grid]\n\"clusters.main.maxmemory_sample\" = [3, 5]\n",
        "grid parameter `clusters.main.maxmemory_sample` names no field of the scenario",
    );
    bad_grid(
        "[grid]\n\"keyspaces.nope.ttl_ms\" = [1]\n",
        "no keyspaces named `nope` (known: catalog, session)",
    );
    bad_grid(
        "[grid]\n\"clusters.main.shards\" = [2, \"three\"]\n",
        "grid parameter `clusters.main.shards` = three: wrong type",
    );
    bad_grid(
        "[grid]\n\"traffic.scale\" = [\"double\"]\n",
        "grid parameter `traffic.scale` = double: wrong type",
    );
    // A value of the right type but out of range: the normal located scenario error.
    bad_grid(
        "[grid]\n\"keyspaces.catalog.ttl_ms\" = [\"10s\", -5]\n",
        "tiny.toml:40:10: field `keyspaces[0].ttl_ms`",
    );
    bad_grid("", "empty grid");
    bad_grid("[grid]\n\"keyspaces.catalog.ttl_ms\" = []\n", "empty grid");
    bad_grid("[grid]\n", "empty grid");
    bad_grid("[[zip]]\n\"a.b\" = [1]\n\"a.c\" = [1, 2]\n", "same length");
}

#[test]
fn shard_index_out_of_range_exits_2() {
    let dir = TempDir::new("sweep-shard");
    let r = sweep(
        &dir,
        "out",
        &["--shard-index", "3", "--shard-count", "3"],
        &[],
    );
    assert_eq!(r.code, 2, "{r:#?}");
    assert!(r.stderr.contains("shard index 3 is out of range"), "{r:#?}");
    let r = sweep(
        &dir,
        "out",
        &[],
        &[
            ("JOB_COMPLETION_INDEX", "4"),
            ("CACHEPLAN_SHARD_COUNT", "2"),
        ],
    );
    assert_eq!(r.code, 2, "{r:#?}");
    assert!(!dir.join("out").exists());
}

#[test]
fn merging_parts_of_different_sweeps_exits_2_and_overwrites_nothing() {
    let dir = TempDir::new("sweep-merge-bad");
    let a = sweep(
        &dir,
        "a",
        &["--shard-index", "0", "--shard-count", "2", "--quiet"],
        &[],
    );
    assert_eq!(a.code, 0, "{a:#?}");
    let scenario = dir.join("tiny.toml");
    let other = dir.write("other.toml", GRID.replace("\"2s\"", "\"3s\""));
    let b = cacheplan_env(
        &[
            "sweep",
            arg(&scenario),
            "--grid",
            arg(&other),
            "--out",
            arg(&dir.join("b")),
            "--shard-index",
            "1",
            "--shard-count",
            "2",
            "--quiet",
        ],
        &[],
    );
    assert_eq!(b.code, 0, "{b:#?}");
    let out = dir.join("merged");
    std::fs::create_dir_all(&out).unwrap();
    let keep = dir.write("merged/keep.txt", "mine");
    let res = check_exit(
        &[
            "merge",
            arg(&dir.join("a/part-0-of-2")),
            arg(&dir.join("b/part-1-of-2")),
            "--out",
            arg(&out),
        ],
        2,
    );
    assert!(res.stderr.contains("parts of different sweeps"), "{res:#?}");
    assert_eq!(file_names(&out), ["keep.txt"], "nothing written");
    assert_eq!(std::fs::read_to_string(keep).unwrap(), "mine");
    // A missing shard is named, and nothing is written either.
    let res = check_exit(
        &[
            "merge",
            arg(&dir.join("a/part-0-of-2")),
            "--out",
            arg(&dir.join("m2")),
        ],
        2,
    );
    assert!(res.stderr.contains("belong to shard(s) [1]"), "{res:#?}");
    assert!(!dir.join("m2").exists());
}

/// The sweep folder's CSV headers and `sweep.json`'s keys are the ones `output/README.md`
/// documents (`<parameters>` stands for one column per grid parameter, in grid order).
#[test]
fn sweep_headers_match_the_readme() {
    use crate::schema::{documented_columns, README, SWEEP_FILES};
    let docs = documented_columns(README);
    for f in SWEEP_FILES {
        assert!(
            docs.contains_key(f),
            "{f} is documented in output/README.md"
        );
    }
    let dir = TempDir::new("sweep-schema");
    let r = sweep(&dir, "s", &["--quiet"], &[]);
    assert_eq!(r.code, 0, "{r:#?}");
    let params = ["keyspaces.catalog.ttl_ms", "clusters.main.maxmemory_bytes"];
    let written: Vec<String> = file_names(&dir.join("s"))
        .into_iter()
        .filter(|n| n.ends_with(".csv"))
        .collect();
    assert_eq!(
        written,
        [
            "sweep.csv",
            "sweep_origins.csv",
            "sweep_points.csv",
            "sweep_shards.csv"
        ]
    );
    for name in &written {
        let expected: Vec<String> = docs[name.as_str()]
            .iter()
            .flat_map(|c| {
                if c == "<parameters>" {
                    params.iter().map(|p| p.to_string()).collect()
                } else {
                    vec![c.clone()]
                }
            })
            .collect();
        let mut reader = csv::Reader::from_path(dir.join("s").join(name)).unwrap();
        let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
        assert_eq!(header, expected, "{name}: header vs. output/README.md");
        assert!(reader.records().count() > 0, "{name} has rows");
    }
    let text = std::fs::read_to_string(dir.join("s/sweep.json")).unwrap();
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    let mut keys: Vec<String> = doc.as_object().unwrap().keys().cloned().collect();
    keys.sort();
    let mut documented = docs["sweep.json"].clone();
    documented.sort();
    assert_eq!(keys, documented, "sweep.json keys vs. output/README.md");
}

/// Rows of a CSV keyed by (plan, keyspace), each a map of column → cell.
fn rows_by_plan_keyspace(
    path: &Path,
) -> std::collections::BTreeMap<(String, String), std::collections::BTreeMap<String, String>> {
    let mut reader = csv::Reader::from_path(path).expect("a readable CSV");
    let header: Vec<String> = reader
        .headers()
        .expect("a header")
        .iter()
        .map(str::to_string)
        .collect();
    let mut out = std::collections::BTreeMap::new();
    for record in reader.records() {
        let record = record.expect("a CSV record");
        let row: std::collections::BTreeMap<String, String> = header
            .iter()
            .cloned()
            .zip(record.iter().map(str::to_string))
            .collect();
        out.insert((row["plan"].clone(), row["keyspace"].clone()), row);
    }
    out
}

#[test]
fn a_sweep_cell_reports_the_figures_of_a_run_of_the_same_scenario_and_seed() {
    // Both read metrics::summary: a one-cell sweep (the scenario's own TTL) and `run` with the
    // same seed give the same hit ratios, quantiles and counts, to the byte.
    let dir = TempDir::new("sweep-vs-run");
    let run = crate::run_tiny(&dir, "run", 3, &[]);
    let one_cell = "seeds = [3]\n[grid]\n\"keyspaces.catalog.ttl_ms\" = [\"10s\"]\n";
    let res = sweep_grid(&dir, one_cell, "sweep", &["--quiet"], &[]);
    assert_eq!(res.code, 0, "{res:#?}");
    let out = dir.join("sweep");
    let summary = rows_by_plan_keyspace(&run.join("summary.csv"));
    let sweep = rows_by_plan_keyspace(&out.join("sweep.csv"));
    assert_eq!(
        summary.keys().collect::<Vec<_>>(),
        sweep.keys().collect::<Vec<_>>()
    );
    let shared = [
        "cluster",
        "requests",
        "redis_hits",
        "hit_ratio",
        "misses",
        "origin_loads",
        "errors",
        "oom_errors",
        "evicted_keys",
        "evicted_before_ttl_keys",
        "expired_keys",
        "latency_ms_p50",
        "latency_ms_p99",
        "redis_latency_ms_p99",
    ];
    for (key, row) in &summary {
        for column in shared {
            assert_eq!(
                row[column], sweep[key][column],
                "{key:?} {column}: summary.csv and sweep.csv differ"
            );
        }
    }
    assert!(
        summary.values().any(|r| !r["hit_ratio"].is_empty()),
        "some keyspace has a hit ratio"
    );
}
