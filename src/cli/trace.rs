//! `cacheplan trace gen`: write a synthetic trace (so tests and benchmarks need no download).

use super::limits::{over_budget, MemoryLimitArg};
use super::CliError;
use crate::workload::trace::gen::{
    generate, memory_estimate, GenConfig, GenFormat, Popularity, SizeDist,
};
use std::path::PathBuf;

/// Arguments of `trace`.
#[derive(clap::Args, Debug)]
pub struct TraceArgs {
    /// The trace subcommand.
    #[command(subcommand)]
    pub command: TraceCmd,
}

/// Trace subcommands.
#[derive(clap::Subcommand, Debug)]
pub enum TraceCmd {
    /// Generate a synthetic trace.
    ///
    /// Example: cacheplan trace gen --objects 1000000 --requests 10000000 --alpha 1.0 --out zipf.oracleGeneral.bin
    /// Example: cacheplan trace gen --format kv-csv --value-size lognormal:512:0.5 --ttl-s 30,300 --out s.csv
    #[command(verbatim_doc_comment)]
    Gen(GenArgs),
}

/// Arguments of `trace gen`.
#[derive(clap::Args, Debug)]
pub struct GenArgs {
    /// Output file.
    #[arg(long)]
    pub out: PathBuf,
    /// oracleGeneral, twr or kv-csv.
    #[arg(long, default_value = "oracleGeneral")]
    pub format: String,
    /// zipf or uniform.
    #[arg(long, default_value = "zipf")]
    pub popularity: String,
    /// Zipf exponent.
    #[arg(long, default_value_t = 1.0)]
    pub alpha: f64,
    /// Number of objects.
    #[arg(long, default_value_t = 100_000)]
    pub objects: u64,
    /// Number of requests.
    #[arg(long, default_value_t = 1_000_000)]
    pub requests: u64,
    /// Value size: BYTES or lognormal:MEDIAN:SIGMA.
    #[arg(long = "value-size", default_value = "4000")]
    pub value_size: String,
    /// TTL choices in seconds (comma-separated; each object gets one); none when absent.
    #[arg(long = "ttl-s", value_delimiter = ',')]
    pub ttl_s: Vec<u32>,
    /// Span of the trace in seconds.
    #[arg(long = "duration-s", default_value_t = 3600.0)]
    pub duration_s: f64,
    /// Seed.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Overwrite an existing file.
    #[arg(long)]
    pub force: bool,
    /// The memory budget checked before generating.
    #[command(flatten)]
    pub memory_limit: MemoryLimitArg,
}

fn parse_size(text: &str) -> Result<SizeDist, CliError> {
    let bad = || {
        CliError::input(format!(
            "--value-size: \"{text}\" is not BYTES or lognormal:MEDIAN:SIGMA"
        ))
    };
    if let Some(rest) = text.strip_prefix("lognormal:") {
        let mut it = rest.split(':');
        let median: f64 = it.next().ok_or_else(bad)?.parse().map_err(|_| bad())?;
        let sigma: f64 = it.next().ok_or_else(bad)?.parse().map_err(|_| bad())?;
        if it.next().is_some() || !(median > 0.0) || !(sigma >= 0.0) {
            return Err(bad());
        }
        return Ok(SizeDist::LogNormal { median, sigma });
    }
    let bytes: u32 = text.parse().map_err(|_| bad())?;
    if bytes == 0 {
        return Err(CliError::input("--value-size: a size of zero"));
    }
    Ok(SizeDist::Fixed { bytes })
}

pub fn execute(a: TraceArgs) -> Result<(), CliError> {
    let TraceCmd::Gen(g) = a.command;
    let format = match g.format.as_str() {
        "oracleGeneral" => GenFormat::OracleGeneral,
        "twr" => GenFormat::Twr,
        "kv-csv" => GenFormat::KvCsv,
        other => {
            return Err(CliError::input(format!(
                "--format: unknown \"{other}\" (oracleGeneral, twr or kv-csv)"
            )))
        }
    };
    let popularity = match g.popularity.as_str() {
        "zipf" => Popularity::Zipf { alpha: g.alpha },
        "uniform" => Popularity::Uniform,
        other => {
            return Err(CliError::input(format!(
                "--popularity: unknown \"{other}\" (zipf or uniform)"
            )))
        }
    };
    if g.objects == 0 || g.requests == 0 {
        return Err(CliError::input(
            "--objects and --requests must be at least 1",
        ));
    }
    if g.out.exists() && !g.force {
        return Err(CliError::input(format!(
            "{} exists; pass --force to overwrite it",
            g.out.display()
        )));
    }
    let cfg = GenConfig {
        popularity,
        n_objects: g.objects,
        n_requests: g.requests,
        value_size: parse_size(&g.value_size)?,
        ttl_s: g.ttl_s.clone(),
        duration_s: g.duration_s,
        seed: g.seed,
        format,
    };
    let limit = g.memory_limit.bytes()?;
    let estimate = memory_estimate(&cfg);
    if estimate.total_bytes() > limit {
        let drivers = [
            (
                format!("--objects {} (popularity table)", g.objects),
                estimate.popularity_table_bytes,
            ),
            (
                format!(
                    "--objects {} / --requests {} (objects seen)",
                    g.objects, g.requests
                ),
                estimate.seen_objects_bytes,
            ),
            (
                format!("--requests {} (next_access_vtime pass)", g.requests),
                estimate.next_access_bytes,
            ),
        ];
        let drivers: Vec<(String, u64)> = drivers.into_iter().filter(|d| d.1 > 0).collect();
        return Err(over_budget(
            "trace gen",
            estimate.total_bytes(),
            limit,
            &drivers,
        ));
    }
    let tmp = g.out.with_extension("partial");
    let file = std::fs::File::create(&tmp)
        .map_err(|e| CliError::input(format!("{}: {e}", tmp.display())))?;
    let mut w = std::io::BufWriter::with_capacity(1 << 20, file);
    let summary = generate(&cfg, &mut w).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        CliError::input(format!("cannot generate: {e}"))
    })?;
    use std::io::Write;
    w.flush().map_err(|e| CliError::other(e.to_string()))?;
    drop(w);
    std::fs::rename(&tmp, &g.out).map_err(|e| CliError::other(e.to_string()))?;
    println!(
        "wrote {}: {} requests, {} objects, {} bytes requested, working set {} bytes",
        g.out.display(),
        summary.n_requests,
        summary.n_unique_objects,
        summary.total_bytes,
        summary.working_set_bytes
    );
    Ok(())
}
