//! Command-line arguments (clap, raw) resolved into commands and run. The only place that reads
//! the wall clock (run ids, picking a seed, timing a run) and the only caller of the library's
//! file-writing edges. `main` just maps the `CliError` to an exit code.

mod bench;
pub mod budget;
mod calibrate;
mod keyslot;
pub mod limits;
mod merge;
mod profile;
mod progress;
mod replay;
mod run;
mod size;
mod size_instances;
mod sweep;
mod trace;
mod validate;

use clap::{Parser, Subcommand};
use std::fmt;

/// A failed command: what to print and the exit code (2 = bad input, 1 = other failure).
#[derive(Debug)]
pub struct CliError {
    /// Exit code.
    pub code: i32,
    /// Message for stderr.
    pub message: String,
}

impl CliError {
    /// A user mistake (exit code 2).
    pub fn input(message: impl Into<String>) -> CliError {
        CliError {
            code: 2,
            message: message.into(),
        }
    }
    /// Anything else (exit code 1).
    pub fn other(message: impl Into<String>) -> CliError {
        CliError {
            code: 1,
            message: message.into(),
        }
    }
    /// Writing to stdout failed: a closed pipe is success, anything else an error.
    pub fn from_stdout(e: std::io::Error) -> CliError {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            CliError {
                code: 0,
                message: String::new(),
            }
        } else {
            CliError::other(format!("cannot write to stdout: {e}"))
        }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// The version line: crate version and the git commit when known.
pub fn version_line() -> String {
    match git_commit() {
        Some(c) => format!("{} (commit {c})", env!("CARGO_PKG_VERSION")),
        None => env!("CARGO_PKG_VERSION").to_string(),
    }
}

/// The commit of the source tree this binary was built from, if it was a git checkout
/// (recorded at build time by `build.rs`; nothing is spawned at run time).
pub fn git_commit() -> Option<String> {
    let commit = env!("CACHEPLAN_GIT_COMMIT");
    (!commit.is_empty()).then(|| commit.to_string())
}

/// cacheplan: simulate Redis caches for CPQ/OMS systems and plan their capacity.
#[derive(Parser, Debug)]
#[command(name = "cacheplan", version = None, disable_version_flag = true, about, long_about = None)]
pub struct Args {
    /// Print the version (and git commit when known).
    #[arg(short = 'V', long = "version", global = true)]
    pub version: bool,
    /// The command.
    #[command(subcommand)]
    pub command: Option<Cmd>,
}

/// Subcommands.
#[derive(Subcommand, Debug)]
pub enum Cmd {
    /// Simulate every plan of a scenario on identical traffic and write a run folder.
    ///
    /// Example: cacheplan run                      (the embedded default CPQ scenario)
    /// Example: cacheplan run workloads/cpq.toml --seed 7 --out output/try
    #[command(verbatim_doc_comment)]
    Run(run::RunArgs),
    /// Replay a cache trace through exact policies or the Redis model (no latency model).
    ///
    /// Example: cacheplan replay trace.oracleGeneral.bin --policy lru,fifo --cache-size 500,5000 --ignore-obj-size
    /// Example: cacheplan replay stream.csv.gz --maxmemory-policy allkeys-lru --maxmemory 8125912 --timeline tl.csv.gz
    #[command(verbatim_doc_comment)]
    Replay(replay::ReplayArgs),
    /// Print the Redis Cluster hash slot of each key (`KEY<TAB>SLOT`).
    ///
    /// Example: cacheplan keyslot foo '{user1000}.following'
    #[command(verbatim_doc_comment)]
    Keyslot(keyslot::KeyslotArgs),
    /// Cache traces: generate synthetic ones.
    ///
    /// Example: cacheplan trace gen --objects 100000 --requests 1000000 --alpha 1.0 --out zipf.oracleGeneral.bin
    #[command(verbatim_doc_comment)]
    Trace(trace::TraceArgs),
    /// Check a scenario file and print what it resolves to.
    ///
    /// Example: cacheplan validate workloads/cpq.toml
    #[command(verbatim_doc_comment)]
    Validate(validate::ValidateArgs),
    /// Run the built-in benchmarks (release build recommended) and print their figures.
    ///
    /// Example: cargo run --release -- bench
    /// Example: cargo run --release -- bench queue lru
    #[command(verbatim_doc_comment)]
    Bench(bench::BenchArgs),
    /// Run a parameter grid over a scenario (every plan per cell, cells in parallel, resumable).
    ///
    /// Example: cacheplan sweep workloads/cpq.toml --grid ttl-grid.toml --out output/ttl-sweep
    /// Example: cacheplan sweep workloads/cpq.toml --grid ttl-grid.toml --out output/ttl-sweep --shard-index 0 --shard-count 4
    #[command(verbatim_doc_comment)]
    Sweep(sweep::SweepArgs),
    /// Find the cheapest cluster shapes (shards x maxmemory) per plan that meet the scenario's SLOs.
    ///
    /// Example: cacheplan size workloads/cpq.toml --seeds 2 --duration 6m --out output/cpq-size
    #[command(verbatim_doc_comment)]
    Size(size::SizeArgs),
    /// Merge the part folders of a sharded sweep into the files of a one-machine sweep.
    ///
    /// Example: cacheplan merge output/ttl-sweep/part-*-of-4 --out output/ttl-sweep/merged
    #[command(verbatim_doc_comment)]
    Merge(merge::MergeArgs),
    /// Read a running Redis (read-only) into a draft scenario and a profile report.
    ///
    /// Example: REDISCLI_AUTH=... cacheplan profile --redis redis://profiler@10.0.0.5:6379 --sample 20000 --monitor 30s --out prof
    /// Example: cacheplan profile --redis redis://127.0.0.1:6379 --monitor-file capture.txt --out prof
    #[command(verbatim_doc_comment)]
    Profile(profile::ProfileArgs),
    /// Measure a scratch redis-server (memory per key for a scenario's key shapes, base memory,
    /// service time) into a calibration file a cluster references with `calibration = "..."`.
    ///
    /// Example: cacheplan calibrate --redis redis://127.0.0.1:6390 --scenario workloads/cpq.toml --out calib.toml
    #[command(verbatim_doc_comment)]
    Calibrate(calibrate::CalibrateArgs),
}

/// Runs the parsed command line.
pub fn run(args: Args) -> Result<(), CliError> {
    if args.version {
        println!("cacheplan {}", version_line());
        return Ok(());
    }
    match args.command {
        None => Err(CliError::input(
            "no command given; try `cacheplan run` or `cacheplan --help`",
        )),
        Some(Cmd::Run(a)) => run::execute(a),
        Some(Cmd::Replay(a)) => replay::execute(a),
        Some(Cmd::Keyslot(a)) => keyslot::execute(a),
        Some(Cmd::Trace(a)) => trace::execute(a),
        Some(Cmd::Validate(a)) => validate::execute(a),
        Some(Cmd::Bench(a)) => bench::execute(a),
        Some(Cmd::Sweep(a)) => sweep::execute(a),
        Some(Cmd::Size(a)) => size::execute(a),
        Some(Cmd::Merge(a)) => merge::execute(a),
        Some(Cmd::Profile(a)) => profile::execute(a),
        Some(Cmd::Calibrate(a)) => calibrate::execute(a),
    }
}
