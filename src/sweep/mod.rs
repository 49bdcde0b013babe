//! Parameter sweeps, capacity search and scale-out. A sweep is a grid of parameters addressed
//! by path into the scenario's TOML document (`grid`, `apply`); each cell of the grid is a
//! full run of every plan (`cell`), named by a hash of its resolved configuration and stored
//! as its own part file so that an interrupted sweep resumes; cells are split across machines
//! deterministically (`shard`) and part folders merged (`folder`); the sweep's CSV tables and
//! charts are assembled from the cell files in grid order (`tables`, `charts`). `size` searches
//! the cheapest cluster shapes that meet the scenario's SLOs, measured by `slo`.
//!
//! Architecture invariant: everything here is deterministic in grid order. No hash-map
//! iteration reaches the output, and the final files are always assembled from the cell
//! files' text, so a sweep gives the same bytes whatever the thread count and the shard split.
//! Only `folder` touches the file system (through `report::files`: staged folders, renamed into
//! place when complete, and atomic file writes).

pub mod apply;
pub mod assemble;
pub mod cell;
pub mod charts;
pub mod folder;
pub mod grid;
pub mod shard;
pub mod size;
pub mod size_instances;
pub mod slo;
pub mod tables;

use std::fmt;

/// A sweep that cannot be run or merged: a user mistake (bad grid, bad value, parts of
/// different sweeps...), reported with exit code 2, or an IO failure (exit code 1).
#[derive(Debug)]
pub enum SweepError {
    /// Bad input: what is wrong and how to fix it.
    Input(String),
    /// Reading or writing files failed.
    Io(String),
}

impl SweepError {
    /// A bad-input error.
    pub fn input(message: impl Into<String>) -> SweepError {
        SweepError::Input(message.into())
    }
}

impl fmt::Display for SweepError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SweepError::Input(m) | SweepError::Io(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for SweepError {}

/// An output-folder problem is a matter of `--out`: bad input (exit code 2).
impl From<crate::report::files::OutError> for SweepError {
    fn from(e: crate::report::files::OutError) -> SweepError {
        SweepError::Input(e.message)
    }
}

/// The cacheplan version hashed into every cell and sweep hash.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// 16 lowercase hex digits of a 64-bit hash.
pub fn hex64(h: u64) -> String {
    format!("{h:016x}")
}

use cell::BuiltCell;
use folder::SweepManifest;
use grid::Grid;
use shard::Shard;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use toml_edit::DocumentMut;

/// A sweep ready to run: the grid, every cell built and validated, the sweep's identity.
#[derive(Clone, Debug)]
pub struct Sweep {
    /// The parsed grid.
    pub grid: Grid,
    /// Every cell in grid order.
    pub cells: Vec<BuiltCell>,
    /// `sweep.json`'s content.
    pub manifest: SweepManifest,
}

/// Builds a sweep: parses the base scenario (normal located errors) and the grid, checks every
/// parameter value against the format, then applies each cell's values and validates the
/// cell's scenario. Any mistake is an [`SweepError::Input`]; nothing is run or written.
pub fn prepare(
    scenario_text: &str,
    scenario_source: &str,
    grid_text: &str,
    grid_source: &str,
) -> Result<Sweep, SweepError> {
    let base = crate::scenario::parse(scenario_text, scenario_source)
        .map_err(|e| SweepError::input(e.to_string()))?;
    let grid = grid::parse(grid_text, grid_source, base.seed.unwrap_or(1))?;
    let doc: DocumentMut = scenario_text
        .parse()
        .map_err(|e| SweepError::input(format!("{scenario_source}: {e}")))?;
    for axis in &grid.axes {
        for row in &axis.values {
            for (path, value) in axis.params.iter().zip(row) {
                apply::check_value(&doc, path, value)?;
            }
        }
    }
    let cells = grid
        .cells()
        .iter()
        .map(|spec| cell::build(&doc, spec, scenario_source))
        .collect::<Result<Vec<_>, _>>()?;
    // `grid::parse` refuses repeated values and seeds; two cells can still resolve to the same
    // configuration through different paths (`strategy` and `strategy.kind`): refused too, as
    // both would be the same cell file.
    let mut by_hash: std::collections::BTreeMap<&str, &BuiltCell> = Default::default();
    for c in &cells {
        if let Some(first) = by_hash.insert(&c.hash, c) {
            let describe = |c: &BuiltCell| {
                let values: Vec<String> = c
                    .spec
                    .assignments
                    .iter()
                    .map(|(p, v)| format!("{p} = {}", grid::value_text(v)))
                    .collect();
                format!(
                    "cell {} ({}, seed {})",
                    c.spec.index,
                    values.join(", "),
                    c.spec.seed
                )
            };
            return Err(SweepError::input(format!(
                "{grid_source}: {} and {} give the same scenario and seed (cell hash {})\n  \
                 hint: each cell of a grid must differ; remove the value or path that repeats \
                 another",
                describe(first),
                describe(c),
                c.hash
            )));
        }
    }
    let manifest = SweepManifest {
        sweep_format: 1,
        cacheplan_version: VERSION.to_string(),
        sweep_hash: folder::sweep_hash(scenario_text, &grid),
        scenario_name: base.name.clone(),
        scenario_source: scenario_source.to_string(),
        grid_source: grid_source.to_string(),
        cells: cells.len(),
        parameters: grid.params(),
        seeds: grid.seeds.clone(),
        scenario_toml: scenario_text.to_string(),
        grid_toml: grid_text.to_string(),
    };
    Ok(Sweep {
        grid,
        cells,
        manifest,
    })
}

/// What running a sweep's cells did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RunCounts {
    /// Cells this shard owns.
    pub owned: usize,
    /// Of those, cells whose files were already there (skipped).
    pub already_done: usize,
    /// Cells run now.
    pub ran: usize,
    /// Whether the run stopped early (`stop_after`), leaving cells to do.
    pub stopped: bool,
}

/// Runs the cells `shard` owns that have no file in `dir` yet, in parallel (rayon), writing
/// each cell's file as soon as it finishes; `stop_after` caps the cells run by this call (a
/// test hook for interrupted sweeps); `on_done` is called after each cell (progress).
pub fn run_cells(
    sweep: &Sweep,
    dir: &Path,
    shard: Shard,
    stop_after: Option<usize>,
    on_done: &(dyn Fn() + Sync),
) -> Result<RunCounts, SweepError> {
    use rayon::prelude::*;
    let owned: Vec<&BuiltCell> = sweep
        .cells
        .iter()
        .filter(|c| shard.owns(c.spec.index))
        .collect();
    let todo: Vec<&BuiltCell> = owned
        .iter()
        .copied()
        .filter(|c| folder::read_cell(dir, &c.hash).is_none())
        .collect();
    let started = AtomicUsize::new(0);
    let ran = AtomicUsize::new(0);
    todo.par_iter()
        .with_max_len(1)
        .try_for_each(|c| -> Result<(), SweepError> {
            if let Some(k) = stop_after {
                if started.fetch_add(1, Ordering::SeqCst) >= k {
                    return Ok(());
                }
            }
            let rec = cell::run(c);
            folder::write_cell(dir, &rec)?;
            ran.fetch_add(1, Ordering::SeqCst);
            on_done();
            Ok(())
        })?;
    let ran = ran.into_inner();
    Ok(RunCounts {
        owned: owned.len(),
        already_done: owned.len() - todo.len(),
        ran,
        stopped: ran < todo.len(),
    })
}

/// The cells of a sweep as `(spec, hash)` in grid order.
pub fn cell_hashes(sweep: &Sweep) -> Vec<(grid::CellSpec, String)> {
    sweep
        .cells
        .iter()
        .map(|c| (c.spec.clone(), c.hash.clone()))
        .collect()
}

/// Merges part folders of one sweep into `out`: checks they belong to the same sweep (same
/// sweep hash) and together hold every cell complete, before touching `out`; then copies the
/// cell files, writes `sweep.json` and assembles the outputs exactly as a one-machine sweep
/// does, into a staged folder renamed to `out` when complete.
/// Returns the number of cells and the files written.
pub fn merge(
    parts: &[PathBuf],
    out: &Path,
    force: bool,
) -> Result<(usize, Vec<String>), SweepError> {
    if parts.is_empty() {
        return Err(SweepError::input("no part folder given"));
    }
    let mut manifests = Vec::new();
    for p in parts {
        manifests.push(folder::read_manifest(p)?);
    }
    let first = &manifests[0];
    for (p, m) in parts.iter().zip(&manifests).skip(1) {
        if m.sweep_hash != first.sweep_hash {
            return Err(SweepError::input(format!(
                "{} belongs to sweep {} but {} to sweep {}: parts of different sweeps (another \
                 grid, base scenario or cacheplan version) cannot be merged",
                p.display(),
                m.sweep_hash,
                parts[0].display(),
                first.sweep_hash
            )));
        }
    }
    let mut counts = Vec::new();
    for p in parts {
        if let Some(part) = folder::read_part(p)? {
            if part.sweep_hash != first.sweep_hash {
                return Err(SweepError::input(format!(
                    "{}: part.json names sweep {}, sweep.json {}",
                    p.display(),
                    part.sweep_hash,
                    first.sweep_hash
                )));
            }
            counts.push(part.shard_count);
        }
    }
    let sweep = prepare(
        &first.scenario_toml,
        &first.scenario_source,
        &first.grid_toml,
        &first.grid_source,
    )?;
    if sweep.manifest.sweep_hash != first.sweep_hash {
        return Err(SweepError::input(format!(
            "the parts were written by another cacheplan version ({}; this is {VERSION})",
            first.cacheplan_version
        )));
    }
    let cells = cell_hashes(&sweep);
    let mut found = Vec::with_capacity(cells.len());
    let mut missing = Vec::new();
    let mut damaged = Vec::new();
    for (spec, hash) in &cells {
        let mut bad = None;
        let text = parts.iter().find_map(|p| match folder::cell_file(p, hash) {
            folder::CellFile::Complete(text, _) => Some(text),
            folder::CellFile::Damaged(why) => {
                bad.get_or_insert((folder::cell_path(p, hash), why));
                None
            }
            folder::CellFile::Missing => None,
        });
        match (text, bad) {
            (Some(text), _) => found.push(text),
            (None, Some((path, why))) => damaged.push((spec.index, path, why)),
            (None, None) => missing.push(spec.index),
        }
    }
    if let Some((index, path, why)) = damaged.first() {
        return Err(SweepError::input(format!(
            "{} cell file(s) are damaged and in no other part complete (first: cell {index}, \
             {} {why}){}\n  hint: rerun the sweep of that part into its folder (it redoes \
             damaged cells) or delete the file and rerun it, then merge again",
            damaged.len(),
            path.display(),
            if missing.is_empty() {
                String::new()
            } else {
                format!("; {} more cells are in none of the parts", missing.len())
            }
        )));
    }
    if !missing.is_empty() {
        let shards = counts.first().copied().unwrap_or(1);
        let mut owners: Vec<usize> = missing.iter().map(|i| i % shards.max(1)).collect();
        owners.dedup();
        owners.sort_unstable();
        owners.dedup();
        return Err(SweepError::input(format!(
            "{} of {} cells are in none of the parts (first: cell {}); with {shards} shard(s) \
             they belong to shard(s) {:?}: rerun those shards, or add their part folders",
            missing.len(),
            cells.len(),
            missing[0],
            owners
        )));
    }
    let staging = folder::stage(out, &sweep.manifest, force, false)?;
    for ((_, hash), text) in cells.iter().zip(&found) {
        folder::copy_cell(staging.dir(), hash, text)?;
    }
    let written = folder::write_outputs(staging.dir(), &sweep.grid, &cells)?;
    staging.commit()?;
    Ok((cells.len(), written))
}
