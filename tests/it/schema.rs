//! The run folder matches `output/README.md`: each CSV's header row is exactly the column list
//! of the first table under its `### <file>` heading, every CSV written is documented (and
//! every documented one written), and `manifest.json`'s top-level keys are the documented
//! ones. So the docs and the code cannot drift apart.

use crate::{file_names, run_tiny, TempDir};
use std::collections::BTreeMap;

pub(crate) const README: &str = include_str!("../../output/README.md");

/// Files of sweep and size folders, documented in the same README but not in a run folder
/// (`tests/it/sweep.rs` checks their headers).
pub(crate) const SWEEP_FILES: [&str; 9] = [
    "sweep.csv",
    "sweep_origins.csv",
    "sweep_shards.csv",
    "sweep_points.csv",
    "sweep.json",
    "size.csv",
    "size_margins.csv",
    "size_evaluations.csv",
    "size_instances.csv",
];

/// File name (a heading ending in `.csv` or `.json`) -> the first column of the first Markdown
/// table under that heading, header and separator rows skipped, backticks removed.
pub(crate) fn documented_columns(readme: &str) -> BTreeMap<String, Vec<String>> {
    let mut docs = BTreeMap::new();
    let mut current: Option<String> = None;
    let mut table_started = false;
    let mut rows: Vec<String> = Vec::new();
    for line in readme.lines() {
        if line.starts_with('#') {
            let title = line.trim_start_matches('#').trim();
            current = (title.ends_with(".csv") || title.ends_with(".json")).then(|| title.into());
            table_started = false;
            rows.clear();
            continue;
        }
        let Some(name) = &current else { continue };
        if line.starts_with('|') {
            table_started = true;
            rows.push(line.to_string());
        } else if table_started {
            let previous = docs.insert(name.clone(), first_cells(&rows));
            assert!(previous.is_none(), "{name} is documented twice");
            current = None;
        }
    }
    if let (Some(name), true) = (current, table_started) {
        docs.insert(name, first_cells(&rows));
    }
    docs
}

/// The first cell of each table row after the header and separator rows, without backticks.
fn first_cells(rows: &[String]) -> Vec<String> {
    rows.iter()
        .skip(2)
        .map(|r| {
            r.split('|')
                .nth(1)
                .unwrap_or("")
                .trim()
                .trim_matches('`')
                .into()
        })
        .collect()
}

#[test]
fn the_readme_parser_reads_tables() {
    let md = "# x\n### a.csv\ntext\n\n| column | unit |\n|---|---|\n| `p` | s |\n| `q` | |\n\n\
              | second | table |\n|---|---|\n| `z` | |\n## b.json\n| key |\n|---|\n| `k` |\n";
    let docs = documented_columns(md);
    assert_eq!(docs["a.csv"], ["p", "q"]);
    assert_eq!(docs["b.json"], ["k"]);
    assert_eq!(docs.len(), 2);
}

#[test]
fn csv_headers_match_the_readme() {
    let docs = documented_columns(README);
    let dir = TempDir::new("schema");
    let run = run_tiny(&dir, "run", 1, &[]);
    let written: Vec<String> = file_names(&run)
        .into_iter()
        .filter(|n| n.ends_with(".csv"))
        .collect();
    let documented: Vec<String> = docs
        .keys()
        .filter(|n| n.ends_with(".csv") && !SWEEP_FILES.contains(&n.as_str()))
        .cloned()
        .collect();
    assert_eq!(
        written, documented,
        "CSV files written vs. documented in output/README.md"
    );
    for name in &written {
        let mut reader = csv::Reader::from_path(run.join(name)).expect("open the CSV");
        let header: Vec<String> = reader
            .headers()
            .expect("a header row")
            .iter()
            .map(String::from)
            .collect();
        assert_eq!(header, docs[name], "{name}: header vs. output/README.md");
        let mut rows = 0;
        for record in reader.records() {
            let record = record.unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(record.len(), header.len(), "{name}: a row's width");
            rows += 1;
        }
        assert!(rows > 0, "{name} has no rows for the tiny scenario");
    }
}

#[test]
fn manifest_keys_match_the_readme() {
    let docs = documented_columns(README);
    let dir = TempDir::new("manifest");
    let run = run_tiny(&dir, "run", 1, &[]);
    let text = std::fs::read_to_string(run.join("manifest.json")).expect("manifest.json");
    let doc: serde_json::Value = serde_json::from_str(&text).expect("manifest.json is JSON");
    let mut keys: Vec<String> = doc
        .as_object()
        .expect("a JSON object")
        .keys()
        .cloned()
        .collect();
    keys.sort();
    let mut documented = docs["manifest.json"].clone();
    documented.sort();
    assert_eq!(keys, documented, "manifest.json keys vs. output/README.md");
    let mut files: Vec<String> = doc["files"]
        .as_array()
        .expect("files is an array")
        .iter()
        .map(|f| f.as_str().expect("file names are strings").to_string())
        .collect();
    assert_eq!(files.last().map(String::as_str), Some("manifest.json"));
    files.sort();
    assert_eq!(files, file_names(&run), "`files` lists the run folder");
    assert_eq!(doc["csv_schema_version"], 6);
}
