//! `cacheplan bench [NAME...]`: the benchmarks of every hot path, printed as a table. The
//! figures in the README's performance table come from here (release build).

use super::CliError;
use crate::redis::db::Db;
use crate::redis::evict::MaxmemoryPolicy;
use crate::redis::shard::RedisConfig;
use crate::replay::driver::{replay, ReplayJob, TimeSource, TraceSourceAdapter};
use crate::replay::exact::ExactPolicy;
use crate::replay::redis_model::RedisReplayCache;
use crate::workload::trace::{self, gen, TraceFormat};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Arguments of `bench`.
#[derive(clap::Args, Debug)]
pub struct BenchArgs {
    /// Benchmarks to run: queue, slots, db-memory, replay-lru, replay-redis, warm, scenario,
    /// run, sweep (all when none given).
    pub names: Vec<String>,
    /// Requests of the generated replay trace.
    #[arg(long, default_value_t = 10_000_000)]
    pub requests: u64,
    /// Folder for the generated trace (kept between runs).
    #[arg(long, default_value = "output/bench")]
    pub dir: PathBuf,
    /// Scenario of the `warm`, `scenario` and `run` benchmarks (default: the embedded CPQ
    /// scenario).
    #[arg(long)]
    pub scenario: Option<PathBuf>,
    /// Repetitions of the `warm`, `scenario` and `run` benchmarks: the fastest is reported
    /// (the least disturbed by other work on the machine), with every repetition's figure
    /// beside it.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..))]
    pub repeat: u32,
}

const ALL: [&str; 9] = [
    "queue",
    "slots",
    "db-memory",
    "replay-lru",
    "replay-redis",
    "warm",
    "scenario",
    "run",
    "sweep",
];

/// The sweep benchmark's base: the default scenario shortened to 45 s simulated (15 s warm-up)
/// without its timeline events and bursts, which fall after the new end.
fn short_default_scenario() -> String {
    let mut doc: toml_edit::DocumentMut = crate::scenario::DEFAULT_SCENARIO_TOML
        .parse()
        .expect("the embedded scenario is TOML");
    doc["simulation"]["duration_ms"] = toml_edit::value("45s");
    doc["simulation"]["warmup_ms"] = toml_edit::value("15s");
    doc.remove("events");
    if let Some(arr) = doc["keyspaces"].as_array_of_tables_mut() {
        for t in arr.iter_mut() {
            t.remove("bursts");
        }
    }
    doc.to_string()
}

/// 4 price-preview TTLs x 2 jitters x 8 seeds = 64 cells.
const SWEEP_BENCH_GRID: &str = r#"seeds = [1, 2, 3, 4, 5, 6, 7, 8]
[grid]
"keyspaces.price-preview.ttl_ms" = ["30s", "1m", "2m", "5m"]
"keyspaces.price-preview.ttl_jitter" = [{ kind = "none" }, { kind = "uniform-pct", pct = 20 }]
"#;

/// Runs the 64-cell sweep into `dir` (emptied first) on `threads` rayon threads; wall seconds.
fn sweep_seconds(sw: &crate::sweep::Sweep, dir: &Path, threads: usize) -> Result<f64, CliError> {
    let _ = std::fs::remove_dir_all(dir);
    let staging = crate::sweep::folder::stage(dir, &sw.manifest, true, false)
        .map_err(|e| CliError::other(e.to_string()))?;
    let work = staging.dir().to_path_buf();
    let started = Instant::now();
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| CliError::other(e.to_string()))?
        .install(|| {
            crate::sweep::run_cells(sw, &work, crate::sweep::shard::Shard::WHOLE, None, &|| {})?;
            crate::sweep::folder::write_outputs(&work, &sw.grid, &crate::sweep::cell_hashes(sw))
        })
        .map_err(|e| CliError::other(e.to_string()))?;
    staging
        .commit()
        .map_err(|e| CliError::other(e.to_string()))?;
    Ok(started.elapsed().as_secs_f64())
}

/// Runs `f` `n` times; the wall seconds of each run.
fn repeat_timed(n: u32, mut f: impl FnMut() -> Result<(), CliError>) -> Result<Vec<f64>, CliError> {
    (0..n)
        .map(|_| {
            let started = Instant::now();
            f()?;
            Ok(started.elapsed().as_secs_f64())
        })
        .collect()
}

/// "all 1.9/2.0/2.1 M/s": the rate of `count` items in each of `times`.
fn rates(count: u64, times: &[f64]) -> String {
    let all: Vec<String> = times
        .iter()
        .map(|s| format!("{:.2}", count as f64 / s / 1e6))
        .collect();
    format!("runs {}", all.join("/"))
}

/// The scenario of the `warm` and `scenario` benchmarks: `--scenario`, or the embedded one.
fn bench_scenario(a: &BenchArgs) -> Result<crate::scenario::Scenario, CliError> {
    match &a.scenario {
        Some(p) => crate::scenario::load(p).map_err(|e| CliError::input(e.to_string())),
        None => Ok(crate::scenario::default_scenario()),
    }
}

/// How a benchmark's line names its scenario.
fn scenario_label(a: &BenchArgs, scn: &crate::scenario::Scenario) -> String {
    if a.scenario.is_some() {
        format!("scenario {}", scn.name)
    } else {
        "default CPQ scenario".to_string()
    }
}

fn single_thread<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .expect("a one-thread pool")
        .install(f)
}

fn trace_file(dir: &Path, requests: u64) -> Result<PathBuf, CliError> {
    let path = dir.join(format!("zipf1.0_1M_{requests}.oracleGeneral.bin"));
    if path.exists() {
        return Ok(path);
    }
    std::fs::create_dir_all(dir).map_err(|e| CliError::other(e.to_string()))?;
    let cfg = gen::GenConfig {
        popularity: gen::Popularity::Zipf { alpha: 1.0 },
        n_objects: 1_000_000,
        n_requests: requests,
        value_size: gen::SizeDist::Fixed { bytes: 4000 },
        ttl_s: Vec::new(),
        duration_s: 86_400.0,
        seed: 42,
        format: gen::GenFormat::OracleGeneral,
    };
    let tmp = path.with_extension("partial");
    let f = std::fs::File::create(&tmp).map_err(|e| CliError::other(e.to_string()))?;
    let mut w = std::io::BufWriter::with_capacity(1 << 20, f);
    gen::generate(&cfg, &mut w).map_err(|e| CliError::other(e.to_string()))?;
    drop(w);
    std::fs::rename(&tmp, &path).map_err(|e| CliError::other(e.to_string()))?;
    Ok(path)
}

fn replay_rate(path: &Path, job: ReplayJob) -> Result<(f64, f64), CliError> {
    let started = Instant::now();
    let results = single_thread(|| {
        let source = trace::open(path, &TraceFormat::OracleGeneral)
            .map_err(|e| CliError::other(e.to_string()))?;
        replay(
            &mut TraceSourceAdapter(source),
            vec![job],
            &TimeSource::Trace,
            None,
        )
        .map_err(|e| CliError::other(e.to_string()))
    })?;
    let s = started.elapsed().as_secs_f64();
    let r = &results[0];
    Ok((r.n_req as f64 / s, r.hit_ratio().unwrap_or(0.0)))
}

pub fn execute(a: BenchArgs) -> Result<(), CliError> {
    let names: Vec<&str> = if a.names.is_empty() {
        ALL.to_vec()
    } else {
        a.names.iter().map(|s| s.as_str()).collect()
    };
    for n in &names {
        if !ALL.contains(n) {
            return Err(CliError::input(format!(
                "unknown benchmark \"{n}\" (known: {})",
                ALL.join(", ")
            )));
        }
    }
    if cfg!(debug_assertions) {
        eprintln!("warning: a debug build; run `cargo run --release -- bench` for real figures");
    }
    println!("{:<14} {:<58} {:>16}", "benchmark", "what", "figure");
    for name in names {
        match name {
            "queue" => {
                for pending in [1_000usize, 100_000, 1_000_000] {
                    let b = crate::engine::queue::bench_hold(pending, 2_000_000, 1);
                    println!(
                        "{:<14} {:<58} {:>13.1} ns",
                        "queue",
                        format!(
                            "push+pop at {pending} pending (BinaryHeap {:.1} ns)",
                            b.ns_per_op_binary_heap
                        ),
                        b.ns_per_op_queue
                    );
                }
            }
            "slots" => {
                let keys: Vec<String> = (0..100_000)
                    .map(|i| format!("price-preview:tenant-a:pb:pb-2026-q3:cfg:{i:016x}"))
                    .collect();
                let started = Instant::now();
                let mut acc = 0u64;
                for _ in 0..20 {
                    for k in &keys {
                        acc += crate::redis::slots::key_hash_slot(k.as_bytes()) as u64;
                    }
                }
                let ns = started.elapsed().as_nanos() as f64 / 2_000_000.0;
                println!(
                    "{:<14} {:<58} {:>13.1} ns",
                    "slots",
                    format!("key_hash_slot of a 56-byte key (checksum {})", acc % 10),
                    ns
                );
            }
            "db-memory" => {
                let db = Db::million_keys_half_with_ttl();
                println!(
                    "{:<14} {:<58} {:>15.1} B",
                    "db-memory",
                    "model memory per resident key at 1M keys (half with TTL)",
                    db.model_bytes() as f64 / 1_000_000.0
                );
            }
            "replay-lru" => {
                let path = trace_file(&a.dir, a.requests)?;
                let job = ReplayJob {
                    label_policy: "lru".into(),
                    cache_size: 100_000,
                    cache: ExactPolicy::Lru.build(100_000, true),
                };
                let (rate, hit) = replay_rate(&path, job)?;
                println!(
                    "{:<14} {:<58} {:>11.2} M/s",
                    "replay-lru",
                    format!(
                        "exact LRU, 100k objects, {}M Zipf(1.0) reqs (hit {hit:.3})",
                        a.requests / 1_000_000
                    ),
                    rate / 1e6
                );
            }
            "replay-redis" => {
                let path = trace_file(&a.dir, a.requests)?;
                // About 100,000 keys of 4,000 bytes (5,192 B each in Redis 7).
                let cfg = RedisConfig {
                    maxmemory_bytes: 977_368 + 100_000 * 5_200,
                    maxmemory_policy: MaxmemoryPolicy::AllkeysLru,
                    ..RedisConfig::default()
                };
                let job = ReplayJob {
                    label_policy: "allkeys-lru".into(),
                    cache_size: cfg.maxmemory_bytes,
                    cache: Box::new(RedisReplayCache::new(cfg, 1)),
                };
                let (rate, hit) = replay_rate(&path, job)?;
                println!(
                    "{:<14} {:<58} {:>11.2} M/s",
                    "replay-redis",
                    format!("Redis model allkeys-lru s5, ~100k keys (hit {hit:.3})"),
                    rate / 1e6
                );
            }
            "warm" => {
                // The warm start alone: every plan set up and filled with its stationary keys
                // (`sim::warm`), nothing simulated.
                let scn = bench_scenario(&a)?;
                let seed = scn.seed.unwrap_or(1);
                let mut keys = 0;
                let times = repeat_timed(a.repeat, || {
                    keys = single_thread(|| crate::sim::warm_start_plans(&scn, seed))
                        .iter()
                        .sum::<u64>();
                    Ok(())
                })?;
                let best = times.iter().cloned().fold(f64::INFINITY, f64::min);
                println!(
                    "{:<14} {:<58} {:>11.2} M/s",
                    "warm",
                    format!(
                        "warm start, {}, 1 thread ({keys} keys, {:.2} s; {})",
                        scenario_label(&a, &scn),
                        best,
                        rates(keys, &times)
                    ),
                    keys as f64 / best / 1e6
                );
            }
            "scenario" => {
                let scn = bench_scenario(&a)?;
                let seed = scn.seed.unwrap_or(1);
                let (mut reqs, mut events) = (0, 0);
                let times = repeat_timed(a.repeat, || {
                    let results = single_thread(|| crate::sim::run_all_plans(&scn, seed));
                    reqs = results.iter().map(|r| r.requests_total).sum::<u64>();
                    events = results.iter().map(|r| r.events).sum::<u64>();
                    Ok(())
                })?;
                let best = times.iter().cloned().fold(f64::INFINITY, f64::min);
                println!(
                    "{:<14} {:<58} {:>11.2} M/s",
                    "scenario",
                    format!(
                        "{}, 1 thread ({:.1} M events/s; {})",
                        scenario_label(&a, &scn),
                        events as f64 / best / 1e6,
                        rates(reqs, &times)
                    ),
                    reqs as f64 / best / 1e6
                );
            }
            "run" => {
                // The whole `cacheplan run` in this process on one thread: parse, simulate
                // every plan, write the CSVs, the charts, the report and the manifest.
                let out = a.dir.join("run");
                let args = super::run::RunArgs {
                    scenario: a.scenario.clone(),
                    out: Some(out.clone()),
                    seed: None,
                    quiet: true,
                    force: true,
                    budget: Default::default(),
                };
                let times = repeat_timed(a.repeat, || {
                    single_thread(|| {
                        super::run::execute(super::run::RunArgs {
                            scenario: args.scenario.clone(),
                            out: args.out.clone(),
                            budget: args.budget.clone(),
                            ..args
                        })
                    })
                })?;
                let s = times.iter().cloned().fold(f64::INFINITY, f64::min);
                let manifest = std::fs::read_to_string(out.join("manifest.json"))
                    .map_err(|e| CliError::other(format!("cannot read the run's manifest: {e}")))?;
                let requests = serde_json::from_str::<serde_json::Value>(&manifest)
                    .ok()
                    .and_then(|m| m["requests"].as_u64())
                    .ok_or_else(|| CliError::other("the run's manifest has no request count"))?;
                println!(
                    "{:<14} {:<58} {:>11.2} M/s",
                    "run",
                    format!(
                        "whole `cacheplan run`, 1 thread ({:.2} s; {})",
                        s,
                        rates(requests, &times)
                    ),
                    requests as f64 / s / 1e6
                );
            }
            "sweep" => {
                let base = short_default_scenario();
                let sw = crate::sweep::prepare(
                    &base,
                    "<default scenario, 45 s>",
                    SWEEP_BENCH_GRID,
                    "<bench grid>",
                )
                .map_err(|e| CliError::other(e.to_string()))?;
                let one = sweep_seconds(&sw, &a.dir.join("sweep-1-thread"), 1)?;
                let two = sweep_seconds(&sw, &a.dir.join("sweep-2-threads"), 2)?;
                let same = std::fs::read(a.dir.join("sweep-1-thread/sweep.csv")).ok()
                    == std::fs::read(a.dir.join("sweep-2-threads/sweep.csv")).ok();
                println!(
                    "{:<14} {:<58} {:>13.1} s",
                    "sweep",
                    format!("64 cells x 2 plans, default scenario at 45 s, 1 thread"),
                    one
                );
                println!(
                    "{:<14} {:<58} {:>13.1} s",
                    "sweep",
                    format!(
                        "same on 2 threads: speed-up {:.2}x (same bytes: {same})",
                        one / two
                    ),
                    two
                );
            }
            _ => unreachable!("checked above"),
        }
    }
    Ok(())
}
