//! `cacheplan replay TRACE`: trace-driven mode, exact policies and the Redis model side by side.

use super::limits::{over_budget, MemoryLimitArg};
use super::CliError;
use crate::redis::evict::MaxmemoryPolicy;
use crate::redis::memory::EMPTY_SERVER_USED_MEMORY_BYTES;
use crate::redis::shard::RedisConfig;
use crate::replay::driver::{replay, ClockKind, ReplayJob, TimeSource, TraceSourceAdapter};
use crate::replay::exact::ExactPolicy;
use crate::replay::output::{format_table, parse_cache_sizes, write_json_lines};
use crate::replay::redis_model::RedisReplayCache;
use crate::replay::timeline::Timeline;
use crate::workload::trace::compress::Compression;
use crate::workload::trace::{self, TraceFormat};
use std::io::Write;
use std::path::PathBuf;

/// Arguments of `replay`.
#[derive(clap::Args, Debug)]
pub struct ReplayArgs {
    /// The trace file (.zst and .gz are decompressed on the fly).
    pub trace: PathBuf,
    /// Trace format as libCacheSim spells it: oracleGeneral, csv, txt, twr, vscsi, or kv-csv.
    /// Guessed from the file name when absent.
    #[arg(long)]
    pub format: Option<String>,
    /// Column options for csv, libCacheSim style:
    /// "time-col=2, obj-id-col=5, obj-size-col=4, delimiter=,, has-header=true".
    #[arg(long = "csv-params", short = 't')]
    pub csv_params: Option<String>,
    /// Policies, comma-separated: exact lru, fifo, sieve, clock, s3fifo, or any Redis
    /// maxmemory-policy (allkeys-lru, ...), which then runs the Redis model with the sizes of
    /// --cache-size as maxmemory.
    #[arg(long, value_delimiter = ',')]
    pub policy: Vec<String>,
    /// Cache sizes, comma-separated: bytes (kb/mb/gb suffixes, powers of 1024), or objects with
    /// --ignore-obj-size.
    #[arg(long = "cache-size")]
    pub cache_size: Option<String>,
    /// Count objects instead of bytes (exact policies).
    #[arg(long = "ignore-obj-size")]
    pub ignore_obj_size: bool,
    /// Redis model: maxmemory sizes in bytes (comma-separated, suffixes allowed).
    #[arg(long)]
    pub maxmemory: Option<String>,
    /// Redis model: maxmemory-policy values (comma-separated).
    #[arg(long = "maxmemory-policy", value_delimiter = ',')]
    pub maxmemory_policy: Vec<String>,
    /// Redis model: maxmemory-samples.
    #[arg(long = "maxmemory-samples", default_value_t = 5)]
    pub maxmemory_samples: u32,
    /// Redis model: hz.
    #[arg(long, default_value_t = 10)]
    pub hz: u32,
    /// Redis model: used_memory with no keys (server, clients, buffers). Default: an empty
    /// 7.0.15 server with one client (977,368 B, measured).
    #[arg(long = "base-memory")]
    pub base_memory: Option<u64>,
    /// Redis model: charge cluster-mode dict entries (7.0: +16 B per key).
    #[arg(long = "cluster-enabled")]
    pub cluster_enabled: bool,
    /// Seed of the Redis model's sampling.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Timeline file (req_index,unix_ms_send,unix_ms_recv per batch) that drives the clock.
    #[arg(long, conflicts_with = "rate")]
    pub timeline: Option<PathBuf>,
    /// Drive the clock at this many requests per second instead of the trace's times.
    #[arg(long)]
    pub rate: Option<f64>,
    /// Also report the hit ratio from this request index on.
    #[arg(long)]
    pub split: Option<u64>,
    /// One JSON object per (policy, size) instead of a table.
    #[arg(long)]
    pub json: bool,
    /// The memory budget checked before replaying.
    #[command(flatten)]
    pub memory_limit: MemoryLimitArg,
}

/// One (policy, size) to replay, before its cache is built.
#[derive(Clone, Copy, Debug)]
enum JobSpec {
    /// An exact policy and its capacity.
    Exact(ExactPolicy, u64),
    /// The Redis model: its policy, maxmemory, and the flag that gave the size.
    Redis(MaxmemoryPolicy, u64, &'static str),
}

/// Memory the replay needs besides its caches: the driver's batch of requests and times, a
/// trace reader's buffers, the output (an allowance).
const REPLAY_FIXED_BYTES: u64 = 64 << 20;

/// Refuses (exit 2) a replay whose caches could need more than `--memory-limit` (see
/// README, "Trace replay"): each cache's estimate for as many objects as its size admits and
/// the trace file can hold (`TraceFormat::max_requests`), summed over the jobs, which run
/// side by side.
fn check_memory(a: &ReplayArgs, format: &TraceFormat, specs: &[JobSpec]) -> Result<(), CliError> {
    let limit = a.memory_limit.bytes()?;
    let file_name = a
        .trace
        .file_name()
        .map(|n| n.to_string_lossy().into_owned());
    let compressed =
        Compression::from_name(file_name.as_deref().unwrap_or_default()) != Compression::None;
    let max_objects = std::fs::metadata(&a.trace)
        .map(|m| format.max_requests(m.len(), compressed))
        .unwrap_or(u64::MAX);
    let mut drivers: Vec<(String, u64)> = Vec::new();
    let mut total = REPLAY_FIXED_BYTES;
    for spec in specs {
        let (field, bytes) = match *spec {
            JobSpec::Exact(policy, size) => {
                // Every object is charged at least one byte (or one object).
                let objects = size.min(max_objects);
                let bytes = policy.memory_estimate_bytes(size, a.ignore_obj_size, objects);
                (format!("--cache-size {size} ({})", policy.name()), bytes)
            }
            JobSpec::Redis(policy, maxmemory, flag) => (
                format!("{flag} {maxmemory} ({})", policy.as_str()),
                RedisReplayCache::memory_estimate_bytes(maxmemory, max_objects),
            ),
        };
        total = total.saturating_add(bytes);
        drivers.push((field, bytes));
    }
    if total > limit {
        return Err(over_budget("the replay", total, limit, &drivers));
    }
    Ok(())
}

fn sizes(text: &str, flag: &str) -> Result<Vec<u64>, CliError> {
    parse_cache_sizes(text).map_err(|e| CliError::input(format!("{flag}: {e}")))
}

pub fn execute(a: ReplayArgs) -> Result<(), CliError> {
    let format = match &a.format {
        Some(f) => TraceFormat::parse(f, a.csv_params.as_deref())
            .map_err(|e| CliError::input(e.to_string()))?,
        None => match (&a.csv_params, TraceFormat::guess(&a.trace)) {
            (Some(p), _) => TraceFormat::parse("csv", Some(p))
                .map_err(|e| CliError::input(e.to_string()))?,
            (None, Some(f)) => f,
            (None, None) => {
                return Err(CliError::input(format!(
                    "{}: cannot tell the trace format from the name; pass --format (oracleGeneral, csv, txt, twr, vscsi, kv-csv)",
                    a.trace.display()
                )))
            }
        },
    };
    let base = a.base_memory.unwrap_or(EMPTY_SERVER_USED_MEMORY_BYTES);
    if !(1..=500).contains(&a.hz) {
        return Err(CliError::input("--hz: allowed 1 to 500"));
    }
    if !(1..=64).contains(&a.maxmemory_samples) {
        return Err(CliError::input("--maxmemory-samples: allowed 1 to 64"));
    }
    // What to run, checked against the memory limit before any cache is built.
    let mut specs: Vec<JobSpec> = Vec::new();
    if !a.policy.is_empty() {
        let text = a.cache_size.as_deref().ok_or_else(|| {
            CliError::input(
                "--policy needs --cache-size (objects with --ignore-obj-size, else bytes)",
            )
        })?;
        let cache_sizes = sizes(text, "--cache-size")?;
        for name in &a.policy {
            let name = name.trim();
            if let Some(p) = MaxmemoryPolicy::parse(name) {
                specs.extend(
                    cache_sizes
                        .iter()
                        .map(|&s| JobSpec::Redis(p, s, "--cache-size")),
                );
                continue;
            }
            let exact = ExactPolicy::parse(name).map_err(|e| CliError::input(e.to_string()))?;
            specs.extend(cache_sizes.iter().map(|&s| JobSpec::Exact(exact, s)));
        }
    }
    if !a.maxmemory_policy.is_empty() {
        let text = a
            .maxmemory
            .as_deref()
            .ok_or_else(|| CliError::input("--maxmemory-policy needs --maxmemory BYTES"))?;
        let mm = sizes(text, "--maxmemory")?;
        for name in &a.maxmemory_policy {
            let p = MaxmemoryPolicy::parse(name.trim()).ok_or_else(|| {
                CliError::input(format!(
                    "unknown maxmemory-policy \"{name}\" ({})",
                    MaxmemoryPolicy::ALL.map(MaxmemoryPolicy::as_str).join(", ")
                ))
            })?;
            specs.extend(mm.iter().map(|&s| JobSpec::Redis(p, s, "--maxmemory")));
        }
    } else if a.maxmemory.is_some() {
        return Err(CliError::input("--maxmemory needs --maxmemory-policy"));
    }
    if specs.is_empty() {
        return Err(CliError::input(
            "nothing to replay: give --policy with --cache-size, or --maxmemory-policy with --maxmemory",
        ));
    }
    for spec in &specs {
        if let JobSpec::Redis(_, maxmemory, _) = *spec {
            if maxmemory <= base {
                return Err(CliError::input(format!(
                    "maxmemory {maxmemory} is not above the {base} bytes an empty server uses"
                )));
            }
        }
    }
    let source = trace::open(&a.trace, &format).map_err(|e| CliError::input(e.to_string()))?;
    check_memory(&a, &format, &specs)?;
    let jobs: Vec<ReplayJob> = specs
        .iter()
        .map(|spec| match *spec {
            JobSpec::Exact(exact, s) => ReplayJob {
                label_policy: exact.name().to_string(),
                cache_size: s,
                cache: exact.build(s, a.ignore_obj_size),
            },
            JobSpec::Redis(policy, maxmemory, _) => {
                let cfg = RedisConfig {
                    maxmemory_bytes: maxmemory,
                    maxmemory_policy: policy,
                    maxmemory_samples: a.maxmemory_samples,
                    hz: a.hz,
                    cluster_enabled: a.cluster_enabled,
                    base_used_memory_bytes: base,
                    ..RedisConfig::default()
                };
                ReplayJob {
                    label_policy: policy.as_str().to_string(),
                    cache_size: maxmemory,
                    cache: Box::new(RedisReplayCache::new(cfg, a.seed)),
                }
            }
        })
        .collect();
    let time = match (&a.timeline, a.rate) {
        (Some(p), _) => TimeSource::Timeline(
            Timeline::load(p).map_err(|e| CliError::input(format!("{}: {e}", p.display())))?,
        ),
        (None, Some(r)) => TimeSource::Rate { requests_per_s: r },
        (None, None) => TimeSource::Trace,
    };
    let mut source = TraceSourceAdapter(source);
    let results =
        replay(&mut source, jobs, &time, a.split).map_err(|e| match (&e, &a.timeline) {
            (crate::replay::driver::ReplayError::Timeline(_), Some(t)) => {
                CliError::input(format!("{}: {e}", t.display()))
            }
            (
                crate::replay::driver::ReplayError::TimeOutOfRange {
                    clock: ClockKind::Trace,
                    ..
                },
                _,
            ) => CliError::input(format!("{}: {e}", a.trace.display())),
            (
                crate::replay::driver::ReplayError::TimeOutOfRange {
                    clock: ClockKind::Timeline,
                    ..
                },
                Some(t),
            ) => CliError::input(format!("{}: {e}", t.display())),
            _ => CliError::input(e.to_string()),
        })?;
    let mut out = std::io::stdout().lock();
    if a.json {
        write_json_lines(&results, &mut out).map_err(CliError::from_stdout)?;
    } else {
        out.write_all(format_table(&results).as_bytes())
            .map_err(CliError::from_stdout)?;
    }
    Ok(())
}
