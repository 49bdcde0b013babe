//! `cacheplan validate SCENARIO`: load and validate, then print what the file resolves to.

use super::CliError;
use std::path::PathBuf;

/// Arguments of `validate`.
#[derive(clap::Args, Debug)]
pub struct ValidateArgs {
    /// The scenario file.
    pub scenario: PathBuf,
    /// The limits the run's estimate is checked against.
    #[command(flatten)]
    pub budget: super::budget::BudgetArgs,
}

pub fn execute(a: ValidateArgs) -> Result<(), CliError> {
    let scn = crate::scenario::load(&a.scenario).map_err(|e| CliError::input(e.to_string()))?;
    let estimate = crate::scenario::budget::Budget::of(&scn).run();
    a.budget
        .check(&format!("{}: the run", a.scenario.display()), &estimate)?;
    println!(
        "{}: ok: scenario \"{}\", {} keyspaces, {} clusters, {} plans, {} origins, {} events, {} simulated",
        a.scenario.display(),
        scn.name,
        scn.keyspaces.len(),
        scn.clusters.len(),
        scn.plans.len(),
        scn.origins.len(),
        scn.events.len(),
        scn.duration
    );
    println!("{}", super::budget::describe(&estimate, &a.budget)?);
    Ok(())
}
