//! The sweep folder on disk, the sweep's only IO edge: `sweep.json` (what sweep this is: its
//! hash, the base scenario and grid texts, so a merge can rebuild the grid), `cells/<hash>.json`
//! (one file per finished cell, written atomically: a cell either has a complete file or
//! none), `part.json` in a shard's part folder, and the assembled outputs (CSVs, charts).
//!
//! A sweep, part or merged folder is written all or nothing like a run folder
//! (`report::files::Staging`): into the partial folder `.<name>.partial-<pid>` beside the
//! target, renamed into place once the outputs are written ([`stage`]). Resuming: an
//! interrupted sweep leaves its partial folder with the finished cells; the next sweep of the
//! *same* sweep hash into the same target adopts it (renames it to its own partial name), and
//! copies the complete cell files of a target that already holds the same sweep; resuming is
//! then reading which cell files exist. Partial folders of another sweep are removed, and
//! `--force` adopts and copies nothing. Merging is collecting cell files from several part
//! folders of the same sweep. Every file write goes through `report::files::write_atomic`.

use super::cell::{self, canonical_toml, CellRecord};
use super::grid::{CellSpec, Grid};
use super::{hex64, SweepError, VERSION};
use crate::engine::rng::fnv1a64;
use crate::report::files::{self, write_atomic, Contents, StageOptions, Staging};
use serde::{Deserialize, Serialize};
use std::fs;
use std::path::{Path, PathBuf};

/// `sweep.json`: identifies a sweep and carries what a merge needs to rebuild its grid.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct SweepManifest {
    /// Format of the sweep folder (1).
    pub sweep_format: u32,
    /// cacheplan version that ran it.
    pub cacheplan_version: String,
    /// Hash of the base scenario (canonical), the grid (canonical) and the version.
    pub sweep_hash: String,
    /// Scenario name.
    pub scenario_name: String,
    /// Scenario file as given.
    pub scenario_source: String,
    /// Grid file as given.
    pub grid_source: String,
    /// Number of cells.
    pub cells: usize,
    /// Parameter paths, in column order.
    pub parameters: Vec<String>,
    /// Replication seeds.
    pub seeds: Vec<u64>,
    /// The base scenario's text.
    pub scenario_toml: String,
    /// The grid's text.
    pub grid_toml: String,
}

/// `part.json`: which shard of the sweep a part folder holds.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct PartInfo {
    /// The sweep's hash.
    pub sweep_hash: String,
    /// 0-based shard index.
    pub shard_index: usize,
    /// Number of shards.
    pub shard_count: usize,
    /// Cells assigned to this shard.
    pub cells: usize,
}

/// The hash of a sweep: FNV-1a over the canonical base scenario, the canonical grid and the
/// cacheplan version.
pub fn sweep_hash(scenario_text: &str, grid: &Grid) -> String {
    let text = format!(
        "{}\n#grid\n{}#cacheplan={VERSION}\n",
        canonical_toml(scenario_text),
        grid.canonical()
    );
    hex64(fnv1a64(text.as_bytes()))
}

fn io(what: &str, path: &Path, e: std::io::Error) -> SweepError {
    SweepError::Io(format!("cannot {what} {}: {e}", path.display()))
}

/// A failed write into the folder being written: a matter of `--out` (exit code 2).
fn out(what: &str, path: &Path, e: std::io::Error) -> SweepError {
    SweepError::input(format!(
        "cannot {what} {}: {e}\n  hint: check the free space and the permissions there, or \
         pick another --out",
        path.display()
    ))
}

/// Reads a folder's `sweep.json`.
pub fn read_manifest(dir: &Path) -> Result<SweepManifest, SweepError> {
    let path = dir.join("sweep.json");
    let text = fs::read_to_string(&path).map_err(|e| {
        SweepError::input(format!(
            "{} is not a sweep folder (no readable sweep.json: {e})",
            dir.display()
        ))
    })?;
    serde_json::from_str(&text)
        .map_err(|e| SweepError::input(format!("{}: not a sweep manifest: {e}", path.display())))
}

/// Reads a part folder's `part.json`, if it has one.
pub fn read_part(dir: &Path) -> Result<Option<PartInfo>, SweepError> {
    let path = dir.join("part.json");
    if !path.exists() {
        return Ok(None);
    }
    let text = fs::read_to_string(&path).map_err(|e| io("read", &path, e))?;
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|e| SweepError::input(format!("{}: not a part manifest: {e}", path.display())))
}

fn json(v: &impl Serialize) -> Vec<u8> {
    let mut s = serde_json::to_string_pretty(v).expect("manifests serialize");
    s.push('\n');
    s.into_bytes()
}

/// Starts writing `manifest`'s sweep to `target` (see the module doc): refuses a target that
/// holds another sweep or other cacheplan output without `force`, and one holding anything
/// else always; stages the target; with `resume` (and no `force`) adopts a leftover partial
/// folder of the same sweep and copies the complete cell files of a target holding the same
/// sweep; then writes `sweep.json` and `cells/` into the partial folder ([`Staging::dir`]).
/// With `resume` the partial folder outlives a failure, for the next run to adopt.
pub fn stage(
    target: &Path,
    manifest: &SweepManifest,
    force: bool,
    resume: bool,
) -> Result<Staging, SweepError> {
    let contents = files::inspect(target)?;
    let same = |dir: &Path| read_manifest(dir).is_ok_and(|m| m.sweep_hash == manifest.sweep_hash);
    let same_target = contents == Contents::Sweep && same(target);
    match &contents {
        Contents::Absent | Contents::Empty => {}
        _ if same_target => {}
        c if c.is_output() => {
            if !force {
                let what = if *c == Contents::Sweep {
                    "another sweep (sweep.json names another sweep hash)".to_string()
                } else {
                    c.noun()
                };
                return Err(SweepError::input(format!(
                    "{} already holds {what}\n  hint: pass --force to replace it (once this \
                     sweep is complete), or pick another --out",
                    target.display()
                )));
            }
        }
        other => return Err(files::refusal(target, other).into()),
    }
    let options = StageOptions {
        replace: force || same_target,
        keep_partial: resume,
    };
    let adopt = (resume && !force).then_some(&same as &dyn Fn(&Path) -> bool);
    let staging = Staging::begin(target, options, adopt)?;
    let dir = staging.dir().to_path_buf();
    let cells = dir.join("cells");
    fs::create_dir_all(&cells).map_err(|e| out("create", &cells, e))?;
    if resume && !force && same_target {
        let from = target.join("cells");
        let entries = fs::read_dir(&from).map_err(|e| io("read", &from, e))?;
        let mut names: Vec<String> = entries
            .filter_map(|e| e.ok())
            .filter_map(|e| {
                let n = e.file_name().to_string_lossy().into_owned();
                n.strip_suffix(".json").map(String::from)
            })
            .collect();
        names.sort();
        for hash in names {
            if let (CellFile::Complete(text, _), CellFile::Missing | CellFile::Damaged(_)) =
                (cell_file(target, &hash), cell_file(&dir, &hash))
            {
                copy_cell(&dir, &hash, &text)?;
            }
        }
    }
    write_atomic(&dir.join("sweep.json"), &json(manifest))
        .map_err(|e| out("write", &dir.join("sweep.json"), e))?;
    Ok(staging)
}

/// Writes `part.json`.
pub fn write_part(dir: &Path, part: &PartInfo) -> Result<(), SweepError> {
    let path = dir.join("part.json");
    write_atomic(&path, &json(part)).map_err(|e| out("write", &path, e))
}

/// The path of a cell's file.
pub fn cell_path(dir: &Path, hash: &str) -> PathBuf {
    dir.join("cells").join(format!("{hash}.json"))
}

/// What a folder holds for one cell.
#[derive(Debug)]
pub enum CellFile {
    /// No file.
    Missing,
    /// A file that is not that cell's complete record (why).
    Damaged(String),
    /// The file's text and its record.
    Complete(String, Box<CellRecord>),
}

/// Reads the cell file of `hash` in `dir`.
pub fn cell_file(dir: &Path, hash: &str) -> CellFile {
    let path = cell_path(dir, hash);
    let text = match fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return CellFile::Missing,
        Err(e) => return CellFile::Damaged(format!("cannot be read: {e}")),
    };
    match cell::decode(&text) {
        None => CellFile::Damaged(
            "is not a complete cell record (truncated, edited, or of another cacheplan version)"
                .into(),
        ),
        Some(rec) if rec.cell_hash != hash => {
            CellFile::Damaged(format!("holds cell {} instead", rec.cell_hash))
        }
        Some(rec) => CellFile::Complete(text, Box::new(rec)),
    }
}

/// A finished cell's record, if `dir` holds a complete file for `hash`.
pub fn read_cell(dir: &Path, hash: &str) -> Option<(String, CellRecord)> {
    match cell_file(dir, hash) {
        CellFile::Complete(text, rec) => Some((text, *rec)),
        _ => None,
    }
}

/// Writes a finished cell's file atomically.
pub fn write_cell(dir: &Path, rec: &CellRecord) -> Result<(), SweepError> {
    let path = cell_path(dir, &rec.cell_hash);
    write_atomic(&path, cell::encode(rec).as_bytes()).map_err(|e| out("write", &path, e))
}

/// Copies a cell file's text into `dir` (merging parts).
pub fn copy_cell(dir: &Path, hash: &str, text: &str) -> Result<(), SweepError> {
    let path = cell_path(dir, hash);
    write_atomic(&path, text.as_bytes()).map_err(|e| out("write", &path, e))
}

/// Assembles the sweep's outputs from the cell files of `dir` (all cells must be there, which
/// the caller has checked) and writes them: the CSVs, then `charts/<name>.png|svg`. Returns
/// the file names written.
pub fn write_outputs(
    dir: &Path,
    grid: &Grid,
    cells: &[(CellSpec, String)],
) -> Result<Vec<String>, SweepError> {
    let mut records = Vec::with_capacity(cells.len());
    for (spec, hash) in cells {
        let (_, rec) = read_cell(dir, hash).ok_or_else(|| {
            SweepError::Io(format!(
                "cell {} ({hash}) has no complete file in {}",
                spec.index,
                dir.join("cells").display()
            ))
        })?;
        records.push((spec.clone(), rec));
    }
    let mut written = Vec::new();
    for (name, bytes) in super::assemble::tables(grid, &records) {
        write_atomic(&dir.join(&name), &bytes).map_err(|e| out("write", &dir.join(&name), e))?;
        written.push(name);
    }
    let charts = super::charts::sweep_charts(grid, &records)
        .map_err(|(name, e)| SweepError::Io(format!("chart {name}: {e}")))?;
    if !charts.is_empty() {
        let cdir = dir.join("charts");
        fs::create_dir_all(&cdir).map_err(|e| out("create", &cdir, e))?;
    }
    for c in &charts {
        for (ext, bytes) in [
            ("png", c.rendered.png.as_slice()),
            ("svg", c.rendered.svg.as_bytes()),
        ] {
            let name = format!("charts/{}.{ext}", c.name);
            write_atomic(&dir.join(&name), bytes).map_err(|e| out("write", &dir.join(&name), e))?;
            written.push(name);
        }
    }
    Ok(written)
}
