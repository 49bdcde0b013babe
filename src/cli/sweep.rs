//! `cacheplan sweep SCENARIO --grid GRID`: run every cell of a parameter grid (all plans per
//! cell, cells in parallel), resuming from the cell files already in the folder, and write the
//! sweep's tables and charts; with a shard (flags, Slurm or Kubernetes) only that shard's cells
//! are run into a part folder for `cacheplan merge`. The folder is written as a partial folder
//! beside it and renamed into place when complete; an interrupted sweep's partial folder is
//! resumed by the next run of the same sweep (`sweep::folder`).

use super::CliError;
use crate::sweep::{self, folder, shard, SweepError};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

/// Test hook: run at most this many cells, then stop as if interrupted (exit code 1).
pub const STOP_AFTER_ENV: &str = "CACHEPLAN_SWEEP_STOP_AFTER";

/// Arguments of `sweep`.
#[derive(clap::Args, Debug)]
pub struct SweepArgs {
    /// Base scenario file (TOML).
    pub scenario: PathBuf,
    /// Grid file (TOML; format in workloads/README.md, "Sweeps").
    #[arg(long)]
    pub grid: PathBuf,
    /// Output folder (default: output/<scenario-name>/sweep-<sweep hash>/); a shard writes
    /// into its part folder <out>/part-<index>-of-<count>/.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Start over: discard the cells of an unfinished or finished run of this sweep (or replace
    /// another sweep's or a run's folder), once this sweep is complete.
    #[arg(long)]
    pub force: bool,
    /// This process's shard, 0-based (with --shard-count); default from Slurm or Kubernetes.
    #[arg(long)]
    pub shard_index: Option<usize>,
    /// Number of shards the cells are split into (cell i goes to shard i mod N).
    #[arg(long)]
    pub shard_count: Option<usize>,
    /// Print nothing but errors.
    #[arg(long)]
    pub quiet: bool,
    /// The limits checked before simulating (--memory-limit, --max-events).
    #[command(flatten)]
    pub budget: super::budget::BudgetArgs,
}

pub(crate) fn from_sweep(e: SweepError) -> CliError {
    match e {
        SweepError::Input(m) => CliError::input(m),
        SweepError::Io(m) => CliError::other(m),
    }
}

fn read(path: &PathBuf, what: &str) -> Result<String, CliError> {
    std::fs::read_to_string(path)
        .map_err(|e| CliError::input(format!("cannot read the {what} {}: {e}", path.display())))
}

pub fn execute(a: SweepArgs) -> Result<(), CliError> {
    let scenario_text = read(&a.scenario, "scenario")?;
    let grid_text = read(&a.grid, "grid")?;
    let (shard, source) = shard::resolve(a.shard_index, a.shard_count, &|k| std::env::var(k).ok())
        .map_err(from_sweep)?;
    let (scenario_name, grid_name) = (a.scenario.display().to_string(), a.grid.display());
    super::budget::check_sweep_grid(
        &a.budget,
        &scenario_text,
        &scenario_name,
        &grid_text,
        &grid_name.to_string(),
    )?;
    let sw = sweep::prepare(
        &scenario_text,
        &a.scenario.display().to_string(),
        &grid_text,
        &a.grid.display().to_string(),
    )
    .map_err(from_sweep)?;
    super::budget::check_sweep_cells(&a.budget, &sw, shard)?;
    let stop_after = match std::env::var(STOP_AFTER_ENV) {
        Ok(v) => Some(
            v.parse::<usize>()
                .map_err(|_| CliError::input(format!("{STOP_AFTER_ENV}={v:?} is not a count")))?,
        ),
        Err(_) => None,
    };
    let root = a.out.clone().unwrap_or_else(|| {
        PathBuf::from("output")
            .join(&sw.manifest.scenario_name)
            .join(format!("sweep-{}", sw.manifest.sweep_hash))
    });
    let dir = if shard.count > 1 {
        root.join(format!("part-{}-of-{}", shard.index, shard.count))
    } else {
        root.clone()
    };
    let staging = folder::stage(&dir, &sw.manifest, a.force, true).map_err(from_sweep)?;
    let work = staging.dir().to_path_buf();
    if !a.quiet {
        for p in &staging.cleaned {
            eprintln!("removed {}, left by an interrupted command", p.display());
        }
        if let Some(p) = &staging.adopted {
            eprintln!("resuming the unfinished sweep left in {}", p.display());
        }
    }
    let owned = sw.cells.iter().filter(|c| shard.owns(c.spec.index)).count();
    if shard.count > 1 {
        folder::write_part(
            &work,
            &folder::PartInfo {
                sweep_hash: sw.manifest.sweep_hash.clone(),
                shard_index: shard.index,
                shard_count: shard.count,
                cells: owned,
            },
        )
        .map_err(from_sweep)?;
    }
    if !a.quiet {
        let via = match source {
            shard::ShardSource::None => String::new(),
            shard::ShardSource::Flags => " (from --shard-index/--shard-count)".into(),
            shard::ShardSource::Slurm => " (from the Slurm job array)".into(),
            shard::ShardSource::Kubernetes => " (from the Kubernetes Indexed Job)".into(),
        };
        eprintln!(
            "sweep {} of \"{}\": {} cells ({} points x {} seeds), {} plan(s) each; shard {} of {}{via}: {owned} cells",
            sw.manifest.sweep_hash,
            sw.manifest.scenario_name,
            sw.cells.len(),
            sw.grid.n_points(),
            sw.grid.seeds.len(),
            sw.cells[0].scenario.plans.len(),
            shard.index,
            shard.count
        );
    }
    let started = Instant::now();
    let done = AtomicUsize::new(0);
    let bar = super::progress::BarSpec {
        len: owned as u64,
        message: "{pos}/{len} cells, {elapsed} elapsed, ETA {eta}",
    };
    let counts = super::progress::run_with_bar(
        super::progress::wanted(a.quiet),
        &bar,
        &|| done.load(Ordering::Relaxed) as u64,
        || {
            sweep::run_cells(&sw, &work, shard, stop_after, &|| {
                done.fetch_add(1, Ordering::Relaxed);
            })
        },
    )
    .map_err(from_sweep)?;
    if !a.quiet {
        eprintln!(
            "{} of {} cells already done, ran {} in {:.1} s",
            counts.already_done,
            counts.owned,
            counts.ran,
            started.elapsed().as_secs_f64()
        );
    }
    if counts.stopped {
        return Err(CliError::other(format!(
            "stopped after {} cell(s) as {STOP_AFTER_ENV} asked; the finished cells are in {}: \
             rerun the same command to finish",
            counts.ran,
            work.display()
        )));
    }
    if shard.count > 1 {
        staging.commit().map_err(|e| from_sweep(e.into()))?;
        if !a.quiet {
            eprintln!(
                "wrote part {}; when every shard is done: cacheplan merge {}/part-*-of-{} --out {}",
                dir.display(),
                root.display(),
                shard.count,
                root.join("merged").display()
            );
        }
        return Ok(());
    }
    let written =
        folder::write_outputs(&work, &sw.grid, &sweep::cell_hashes(&sw)).map_err(from_sweep)?;
    staging.commit().map_err(|e| from_sweep(e.into()))?;
    if !a.quiet {
        eprintln!("wrote {} ({})", dir.display(), written.join(", "));
    }
    Ok(())
}
