//! The budget check every scenario-driven command (`validate`, `run`, `sweep`, `size`) makes
//! before it simulates: the estimate of `scenario::budget` against the memory limit
//! (`cli::limits`, `--memory-limit`) and the event limit (`--max-events`). A refusal is bad
//! input (exit 2) naming the fields that drive the estimate.

use super::limits::{human_bytes, over_budget, MemoryLimitArg};
use super::CliError;
use crate::scenario::budget::{self, Budget, Estimate, DEFAULT_MAX_EVENTS};

/// The budget flags, shared by `validate`, `run`, `sweep` and `size`.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct BudgetArgs {
    /// The memory limit.
    #[command(flatten)]
    pub memory: MemoryLimitArg,
    /// The most events (requests, time windows, serverCron ticks) the command may simulate;
    /// inputs expected to need more are refused before any work. Default: 1e10 (an hour or two
    /// of one core).
    #[arg(long = "max-events", value_name = "N")]
    pub max_events: Option<f64>,
}

impl BudgetArgs {
    /// The event limit: the flag's value, or the default.
    pub fn max_events(&self) -> Result<f64, CliError> {
        match self.max_events {
            None => Ok(DEFAULT_MAX_EVENTS),
            Some(n) if n.is_finite() && n >= 1.0 => Ok(n),
            Some(n) => Err(CliError::input(format!(
                "--max-events: {n} is not a positive count (e.g. 2e10)"
            ))),
        }
    }

    /// Refuses `estimate` (of `what`, e.g. "the run") when it is above a limit.
    pub fn check(&self, what: &str, estimate: &Estimate) -> Result<(), CliError> {
        let limit = self.memory.bytes()?;
        if estimate.bytes > limit {
            return Err(over_budget(
                what,
                estimate.bytes,
                limit,
                &estimate.memory_drivers,
            ));
        }
        let max_events = self.max_events()?;
        if !(estimate.events <= max_events) {
            return Err(too_many_events(what, estimate, max_events));
        }
        Ok(())
    }
}

/// The refusal of an estimate with too many events: the count, the limit, the drivers.
fn too_many_events(what: &str, estimate: &Estimate, max_events: f64) -> CliError {
    let mut msg = format!(
        "{what} would simulate about {:.3e} events, above the limit of {max_events:.3e}",
        estimate.events
    );
    let mut sorted: Vec<&(String, f64)> = estimate.event_drivers.iter().collect();
    sorted.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    for (field, n) in sorted.into_iter().take(5) {
        msg.push_str(&format!("\n  {field}: about {n:.3e}"));
    }
    msg.push_str(
        "\nhint: lower the rates or shorten simulation.duration_ms (or the fields above), or \
         raise the limit with --max-events",
    );
    CliError::input(msg)
}

/// The memory and events a sweep may need, checked from the base scenario and the grid alone,
/// before its cells are built (building a million cells is itself too much). Inputs that do not
/// parse are left to `sweep::prepare`, which reports them with their position.
pub fn check_sweep_grid(
    args: &BudgetArgs,
    scenario_text: &str,
    scenario_source: &str,
    grid_text: &str,
    grid_source: &str,
) -> Result<(), CliError> {
    let Ok(base) = crate::scenario::parse(scenario_text, scenario_source) else {
        return Ok(());
    };
    let Ok(grid) = crate::sweep::grid::parse(grid_text, grid_source, base.seed.unwrap_or(1)) else {
        return Ok(());
    };
    let n_cells = grid.axes.iter().try_fold(grid.seeds.len() as u64, |n, a| {
        n.checked_mul(a.values.len() as u64)
    });
    let Some(n_cells) = n_cells else {
        return Err(CliError::input(format!(
            "{grid_source}: the grid has more cells than a 64-bit count holds
  hint: give              fewer values per parameter, or split the grid into several sweeps"
        )));
    };
    let cell = Budget::of(&base).run();
    let estimate = budget::sweep(
        &cell,
        cell.events * n_cells as f64,
        n_cells,
        rayon::current_num_threads() as u64,
        budget::retained_cell_bytes(&base),
    );
    args.check("the sweep", &estimate)
}

/// The memory and events of a prepared sweep's cells that `shard` owns, each cell estimated
/// from its own scenario.
pub fn check_sweep_cells(
    args: &BudgetArgs,
    sw: &crate::sweep::Sweep,
    shard: crate::sweep::shard::Shard,
) -> Result<(), CliError> {
    let mut largest: Option<Estimate> = None;
    let mut events = 0.0;
    let mut retained = 0u64;
    let mut n_cells = 0u64;
    for c in sw.cells.iter().filter(|c| shard.owns(c.spec.index)) {
        let e = Budget::of(&c.scenario).run();
        events += e.events;
        retained = retained.max(budget::retained_cell_bytes(&c.scenario));
        n_cells += 1;
        if largest.as_ref().is_none_or(|l| e.bytes > l.bytes) {
            largest = Some(e);
        }
    }
    let Some(largest) = largest else {
        return Ok(());
    };
    let estimate = budget::sweep(
        &largest,
        events,
        n_cells,
        rayon::current_num_threads() as u64,
        retained,
    );
    args.check("the sweep", &estimate)
}

/// One line for `validate`: the estimate and the limits it is checked against.
pub fn describe(estimate: &Estimate, args: &BudgetArgs) -> Result<String, CliError> {
    Ok(format!(
        "budget: about {} of memory at peak (limit {}), about {:.3e} events (limit {:.3e})",
        human_bytes(estimate.bytes),
        human_bytes(args.memory.bytes()?),
        estimate.events,
        args.max_events()?
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn estimate(bytes: u64, events: f64) -> Estimate {
        Estimate {
            bytes,
            memory_drivers: vec![("keyspaces[0].keys_per_tenant".into(), bytes)],
            events,
            event_drivers: vec![("keyspaces[0].rate_per_s".into(), events)],
        }
    }

    #[test]
    fn refuses_above_either_limit_and_names_the_drivers() {
        let args = BudgetArgs {
            memory: MemoryLimitArg {
                memory_limit: Some("1mb".into()),
            },
            max_events: Some(100.0),
        };
        assert!(args.check("the run", &estimate(1000, 10.0)).is_ok());
        let mem = args.check("the run", &estimate(2 << 20, 10.0)).unwrap_err();
        assert_eq!(mem.code, 2);
        assert!(mem.message.contains("keys_per_tenant"), "{}", mem.message);
        let ev = args.check("the run", &estimate(1000, 1e12)).unwrap_err();
        assert_eq!(ev.code, 2);
        assert!(ev.message.contains("rate_per_s"), "{}", ev.message);
        assert!(ev.message.contains("--max-events"), "{}", ev.message);
        let inf = args.check("the run", &estimate(1000, f64::INFINITY));
        assert!(inf.is_err());
    }
}
