//! `cacheplan merge PARTS... --out DIR`: combine the part folders of a sharded sweep into the
//! files a one-machine sweep writes (staged beside `--out` and renamed into place when complete).

use super::sweep::from_sweep;
use super::CliError;
use std::path::PathBuf;

/// Arguments of `merge`.
#[derive(clap::Args, Debug)]
pub struct MergeArgs {
    /// Part folders written by `cacheplan sweep --shard-index I --shard-count N`.
    #[arg(required = true)]
    pub parts: Vec<PathBuf>,
    /// Folder for the merged sweep.
    #[arg(long)]
    pub out: PathBuf,
    /// Replace a folder holding another sweep or a run (once the merge is complete).
    #[arg(long)]
    pub force: bool,
    /// Print nothing but errors.
    #[arg(long)]
    pub quiet: bool,
}

pub fn execute(a: MergeArgs) -> Result<(), CliError> {
    let (cells, written) = crate::sweep::merge(&a.parts, &a.out, a.force).map_err(from_sweep)?;
    if !a.quiet {
        eprintln!(
            "merged {cells} cells from {} part(s) into {} ({})",
            a.parts.len(),
            a.out.display(),
            written.join(", ")
        );
    }
    Ok(())
}
