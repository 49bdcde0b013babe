//! The sweep folder on disk, the sweep's only IO edge: `sweep.json` (what sweep this is: its
//! hash, the base scenario and grid texts, so a merge can rebuild the grid), `cells/<hash>.json`
//! (one file per finished cell, written atomically: a cell either has a complete file or
//! none), `part.json` in a shard's part folder, and the assembled outputs (CSVs, charts).
//! Resuming is reading which cell files exist; merging is collecting cell files from several
//! part folders of the same sweep. Every write goes through `report::files::write_atomic`.

use super::cell::{self, canonical_toml, CellRecord};
use super::grid::{CellSpec, Grid};
use super::{hex64, SweepError, VERSION};
use crate::engine::rng::fnv1a64;
use crate::report::files::write_atomic;
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

/// Makes `dir` ready for `manifest`'s sweep. A folder already holding the same sweep is
/// resumed (its cell files are kept, unless `force`); a folder holding anything else is
/// refused unless `force`, which starts it over.
pub fn prepare(dir: &Path, manifest: &SweepManifest, force: bool) -> Result<(), SweepError> {
    let non_empty = dir.exists()
        && fs::read_dir(dir)
            .map_err(|e| io("read", dir, e))?
            .next()
            .is_some();
    if non_empty {
        let same = read_manifest(dir).is_ok_and(|m| m.sweep_hash == manifest.sweep_hash);
        if !same && !force {
            return Err(SweepError::input(format!(
                "{} already holds files of another sweep or run; pass --force to start it over or \
                 --out to pick another folder",
                dir.display()
            )));
        }
        if force {
            let cells = dir.join("cells");
            if cells.exists() {
                fs::remove_dir_all(&cells).map_err(|e| io("clear", &cells, e))?;
            }
        }
    }
    let cells = dir.join("cells");
    fs::create_dir_all(&cells).map_err(|e| io("create", &cells, e))?;
    write_atomic(&dir.join("sweep.json"), &json(manifest))
        .map_err(|e| io("write", &dir.join("sweep.json"), e))
}

/// Writes `part.json`.
pub fn write_part(dir: &Path, part: &PartInfo) -> Result<(), SweepError> {
    let path = dir.join("part.json");
    write_atomic(&path, &json(part)).map_err(|e| io("write", &path, e))
}

/// The path of a cell's file.
pub fn cell_path(dir: &Path, hash: &str) -> PathBuf {
    dir.join("cells").join(format!("{hash}.json"))
}

/// A finished cell's record, if `dir` holds a complete file for `hash`.
pub fn read_cell(dir: &Path, hash: &str) -> Option<(String, CellRecord)> {
    let text = fs::read_to_string(cell_path(dir, hash)).ok()?;
    let rec = cell::decode(&text)?;
    (rec.cell_hash == hash).then_some((text, rec))
}

/// Writes a finished cell's file atomically.
pub fn write_cell(dir: &Path, rec: &CellRecord) -> Result<(), SweepError> {
    let path = cell_path(dir, &rec.cell_hash);
    write_atomic(&path, cell::encode(rec).as_bytes()).map_err(|e| io("write", &path, e))
}

/// Copies a cell file's text into `dir` (merging parts).
pub fn copy_cell(dir: &Path, hash: &str, text: &str) -> Result<(), SweepError> {
    let path = cell_path(dir, hash);
    write_atomic(&path, text.as_bytes()).map_err(|e| io("write", &path, e))
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
        write_atomic(&dir.join(&name), &bytes).map_err(|e| io("write", &dir.join(&name), e))?;
        written.push(name);
    }
    let charts = super::charts::sweep_charts(grid, &records)
        .map_err(|(name, e)| SweepError::Io(format!("chart {name}: {e}")))?;
    if !charts.is_empty() {
        let cdir = dir.join("charts");
        fs::create_dir_all(&cdir).map_err(|e| io("create", &cdir, e))?;
    }
    for c in &charts {
        for (ext, bytes) in [
            ("png", c.rendered.png.as_slice()),
            ("svg", c.rendered.svg.as_bytes()),
        ] {
            let name = format!("charts/{}.{ext}", c.name);
            write_atomic(&dir.join(&name), bytes).map_err(|e| io("write", &dir.join(&name), e))?;
            written.push(name);
        }
    }
    Ok(written)
}
