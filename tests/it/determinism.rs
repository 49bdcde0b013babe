//! One seed drives everything (STYLE.md habits 3 and 4): the same seed gives byte-identical
//! CSV files, whatever the thread count; another seed gives other figures.

use crate::{csv_files, run_tiny, TempDir};
use std::path::Path;

/// Asserts two run folders hold the same CSV files with the same bytes (at least one CSV).
fn check_same_csvs(a: &Path, b: &Path) {
    let (fa, fb) = (csv_files(a), csv_files(b));
    assert!(!fa.is_empty(), "no CSV in {}", a.display());
    let names = |f: &[(String, Vec<u8>)]| f.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
    assert_eq!(names(&fa), names(&fb), "the same CSV files");
    for ((name, bytes_a), (_, bytes_b)) in fa.iter().zip(&fb) {
        assert!(bytes_a == bytes_b, "{name} differs between the two runs");
    }
}

/// The manifest without its timing fields (and the commit, which a rebuild may change).
fn manifest_without_timing(run: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(run.join("manifest.json")).expect("manifest.json");
    let mut doc: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    let map = doc.as_object_mut().expect("an object");
    for timing in [
        "wall_seconds",
        "events_per_second",
        "requests_per_second",
        "commit",
    ] {
        assert!(map.remove(timing).is_some(), "manifest.json has `{timing}`");
    }
    doc
}

#[test]
fn same_seed_gives_identical_bytes() {
    let dir = TempDir::new("det-same");
    let a = run_tiny(&dir, "a", 1, &[]);
    let b = run_tiny(&dir, "b", 1, &[]);
    check_same_csvs(&a, &b);
    assert_eq!(manifest_without_timing(&a), manifest_without_timing(&b));
}

#[test]
fn different_seed_gives_a_different_summary() {
    let dir = TempDir::new("det-seed");
    let a = run_tiny(&dir, "a", 1, &[]);
    let b = run_tiny(&dir, "b", 2, &[]);
    let sa = std::fs::read(a.join("summary.csv")).expect("summary.csv");
    let sb = std::fs::read(b.join("summary.csv")).expect("summary.csv");
    assert!(sa != sb, "seeds 1 and 2 gave the same summary.csv");
    // Same rows (plans x keyspaces) and header, only the figures differ.
    let first_line = |s: &[u8]| s.split(|&c| c == b'\n').next().map(<[u8]>::to_vec);
    assert_eq!(first_line(&sa), first_line(&sb));
    assert_eq!(sa.iter().filter(|&&c| c == b'\n').count(), 1 + 2 * 2);
}

#[test]
fn thread_count_does_not_change_the_bytes() {
    let dir = TempDir::new("det-threads");
    let one = run_tiny(&dir, "one", 1, &[("RAYON_NUM_THREADS", "1")]);
    let two = run_tiny(&dir, "two", 1, &[("RAYON_NUM_THREADS", "2")]);
    check_same_csvs(&one, &two);
}
