//! `cacheplan keyslot KEY...`: the hash slot of each key, as `CLUSTER KEYSLOT` computes it.

use super::CliError;
use crate::redis::slots::key_hash_slot;
use std::io::Write;

/// Arguments of `keyslot`.
#[derive(clap::Args, Debug)]
pub struct KeyslotArgs {
    /// Keys (hash tags `{...}` honoured).
    #[arg(required = true)]
    pub keys: Vec<String>,
}

pub fn execute(a: KeyslotArgs) -> Result<(), CliError> {
    let mut out = std::io::stdout().lock();
    for k in &a.keys {
        writeln!(out, "{k}\t{}", key_hash_slot(k.as_bytes())).map_err(CliError::from_stdout)?;
    }
    Ok(())
}
