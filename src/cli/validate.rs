//! `cacheplan validate SCENARIO`: load and validate, then print what the file resolves to.

use super::CliError;
use std::path::PathBuf;

/// Arguments of `validate`.
#[derive(clap::Args, Debug)]
pub struct ValidateArgs {
    /// The scenario file.
    pub scenario: PathBuf,
}

pub fn execute(a: ValidateArgs) -> Result<(), CliError> {
    let scn = crate::scenario::load(&a.scenario).map_err(|e| CliError::input(e.to_string()))?;
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
    Ok(())
}
