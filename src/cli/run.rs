//! `cacheplan run [SCENARIO]`: simulate every plan and write the run folder (staged beside the
//! target and renamed into place when complete, `report::files`).

use super::CliError;
use crate::report::files::{OutError, RunFolder};
use crate::report::{manifest, tables};
use crate::scenario::{self, Scenario};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Draws a progress bar on stderr (a terminal) once a run has taken a second: simulated-time
/// progress over all plans and an ETA from the wall time so far. Clears its line at the end.
fn progress_bar(
    progress: &crate::sim::Progress,
    done: &std::sync::atomic::AtomicBool,
    total_ns: u64,
    started: Instant,
) {
    use std::io::Write;
    let mut drawn = false;
    while !done.load(std::sync::atomic::Ordering::Relaxed) {
        std::thread::sleep(Duration::from_millis(200));
        let elapsed = started.elapsed().as_secs_f64();
        if elapsed < 1.0 {
            continue;
        }
        let f = (progress.total_ns() as f64 / total_ns.max(1) as f64).clamp(0.0, 1.0);
        let eta = if f > 0.0 {
            elapsed * (1.0 - f) / f
        } else {
            f64::NAN
        };
        let width = 30;
        let filled = (f * width as f64).round() as usize;
        let mut err = std::io::stderr().lock();
        let _ = write!(
            err,
            "\r[{}{}] {:5.1}% simulated, {:.0}s elapsed, ETA {}   ",
            "#".repeat(filled),
            ".".repeat(width - filled),
            f * 100.0,
            elapsed,
            if eta.is_finite() {
                format!("{eta:.0}s")
            } else {
                "?".to_string()
            }
        );
        let _ = err.flush();
        drawn = true;
    }
    if drawn {
        let _ = write!(std::io::stderr(), "\r{:80}\r", "");
    }
}

/// Arguments of `run`.
#[derive(clap::Args, Debug)]
pub struct RunArgs {
    /// Scenario file (TOML); the embedded default CPQ scenario when absent.
    pub scenario: Option<PathBuf>,
    /// Output folder (default: output/<scenario-name>/<run-id>/).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Run seed (overrides the scenario's; picked and printed when neither gives one).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Print nothing but errors.
    #[arg(long)]
    pub quiet: bool,
    /// Replace an existing run folder (once the new one is complete).
    #[arg(long)]
    pub force: bool,
    /// The limits checked before simulating (--memory-limit, --max-events).
    #[command(flatten)]
    pub budget: super::budget::BudgetArgs,
}

/// UTC `YYYYMMDD-HHMMSS` of a unix time (civil-from-days, proleptic Gregorian).
pub fn utc_stamp(unix_s: u64) -> String {
    let days = (unix_s / 86_400) as i64;
    let secs = unix_s % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}{m:02}{d:02}-{:02}{:02}{:02}",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

fn load(a: &RunArgs) -> Result<(Scenario, String), CliError> {
    match &a.scenario {
        Some(p) => scenario::load(p)
            .map(|s| (s, p.display().to_string()))
            .map_err(|e| CliError::input(e.to_string())),
        None => scenario::parse(
            scenario::DEFAULT_SCENARIO_TOML,
            scenario::DEFAULT_SCENARIO_NAME,
        )
        .map(|s| (s, scenario::DEFAULT_SCENARIO_NAME.to_string()))
        .map_err(|e| CliError::other(format!("the embedded scenario is invalid: {e}"))),
    }
}

pub fn execute(a: RunArgs) -> Result<(), CliError> {
    let (scn, source) = load(&a)?;
    let estimate = crate::scenario::budget::Budget::of(&scn).run();
    a.budget.check(&format!("{source}: the run"), &estimate)?;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_err(|e| CliError::other(e.to_string()))?;
    let seed = match a.seed.or(scn.seed) {
        Some(s) => s,
        None => {
            let s = (now.as_nanos() as u64) % 1_000_000_007;
            if !a.quiet {
                eprintln!("no seed given: using seed {s}");
            }
            s
        }
    };
    let dir = a.out.clone().unwrap_or_else(|| {
        PathBuf::from("output")
            .join(&scn.name)
            .join(format!("{}-seed{seed}", utc_stamp(now.as_secs())))
    });
    let mut folder = RunFolder::create(&dir, a.force).map_err(out_error)?;
    if !a.quiet {
        for p in folder.cleaned() {
            eprintln!("removed {}, left by an interrupted command", p.display());
        }
    }
    if !a.quiet {
        eprintln!(
            "simulating {} plan(s) of \"{}\" for {} of simulated time (seed {seed})",
            scn.plans.len(),
            scn.name,
            scn.duration
        );
    }
    let started = Instant::now();
    let progress = crate::sim::Progress::new(scn.plans.len());
    let done = std::sync::atomic::AtomicBool::new(false);
    let draw = !a.quiet && std::io::stderr().is_terminal();
    let total_ns = scn.duration.as_ns() * scn.plans.len() as u64;
    let results = std::thread::scope(|s| {
        if draw {
            s.spawn(|| progress_bar(&progress, &done, total_ns, started));
        }
        let r = crate::sim::run_all_plans_observed(&scn, seed, Some(&progress));
        done.store(true, std::sync::atomic::Ordering::Relaxed);
        r
    });
    let wall_seconds = started.elapsed().as_secs_f64();
    let io = out_error;
    folder
        .write("summary.csv", &tables::summary_csv(&scn, &results))
        .map_err(io)?;
    folder
        .write(
            "latency_quantiles.csv",
            &tables::latency_csv(&scn, &results),
        )
        .map_err(io)?;
    folder
        .write("timeseries.csv", &tables::timeseries_csv(&scn, &results))
        .map_err(io)?;
    folder
        .write("shards.csv", &tables::shards_csv(&scn, &results))
        .map_err(io)?;
    folder
        .write("origins.csv", &tables::origins_csv(&scn, &results))
        .map_err(io)?;
    folder
        .write("invariants.csv", &tables::invariants_csv(&scn, &results))
        .map_err(io)?;
    let commit = super::git_commit();
    let info = crate::report::html::ReportInfo {
        version: env!("CARGO_PKG_VERSION"),
        commit: commit.as_deref(),
        seed,
        scenario_source: &source,
    };
    crate::report::write_visuals(&mut folder, &scn, &results, &info).map_err(|e| match e {
        crate::report::VisualsError::Out(e) => out_error(e),
        e => CliError::other(format!("cannot render the charts and report: {e}")),
    })?;
    let mut files = folder.written().to_vec();
    files.push("manifest.json".to_string());
    let facts = manifest::RunFacts {
        version: env!("CARGO_PKG_VERSION"),
        commit: commit.as_deref(),
        seed,
        scenario_source: &source,
        requests: results.iter().map(|r| r.requests_total).sum(),
        events: results.iter().map(|r| r.events).sum(),
        wall_seconds,
        files: &files,
    };
    let doc = manifest::manifest_json(&scn, &facts);
    let text = serde_json::to_string_pretty(&doc).map_err(|e| CliError::other(e.to_string()))?;
    folder.write("manifest.json", text.as_bytes()).map_err(io)?;
    folder.finish().map_err(out_error)?;
    if !a.quiet {
        print_summary(&scn, &results);
        for (p, r) in results.iter().enumerate() {
            for (oi, o) in r.origins.iter().enumerate() {
                if let Some(t) = o.saturated_since {
                    eprintln!(
                        "unstable: {} saturated from t={t} in plan {} ({} loads rejected)",
                        scn.origins[oi].name, scn.plans[p].name, o.rejected
                    );
                }
            }
        }
        eprintln!(
            "{} requests, {} events in {wall_seconds:.2} s; wrote {}",
            facts.requests,
            facts.events,
            dir.display()
        );
    }
    Ok(())
}

/// An output-folder problem is about `--out`: exit code 2, the message names the path.
pub(crate) fn out_error(e: OutError) -> CliError {
    CliError::input(e.message)
}

fn print_summary(scn: &Scenario, results: &[crate::metrics::PlanResult]) {
    for line in crate::calibrate::describe_clusters(scn) {
        println!("{line}");
    }
    println!(
        "{:<20} {:<22} {:>9} {:>9} {:>10} {:>10} {:>10} {:>7}",
        "plan", "keyspace", "requests", "hit", "p99 ms", "evicted", "crit.evict", "steady"
    );
    let horizons = crate::report::horizon::judge_all(scn, results);
    for (r, horizon) in results.iter().zip(&horizons) {
        let plan = &scn.plans[r.plan].name;
        for (ki, k) in scn.keyspaces.iter().enumerate() {
            let m = &r.keyspaces[ki];
            let hit = if m.requests > 0
                && !matches!(
                    k.operation,
                    scenario::Operation::RateLimit | scenario::Operation::Lock
                ) {
                format!("{:.3}", m.redis_hits as f64 / m.requests as f64)
            } else {
                "-".to_string()
            };
            let p99 = if m.latency_us.is_empty() {
                "-".to_string()
            } else {
                format!(
                    "{:.2}",
                    m.latency_us.value_at_quantile(0.99) as f64 / 1000.0
                )
            };
            let crit = if k.criticality == scenario::Criticality::Critical {
                r.keyspace_evictions_before_ttl[ki].to_string()
            } else {
                "-".to_string()
            };
            println!(
                "{:<20} {:<22} {:>9} {:>9} {:>10} {:>10} {:>10} {:>7}",
                plan,
                k.name,
                m.requests,
                hit,
                p99,
                r.keyspace_evictions[ki],
                crit,
                horizon.keyspaces[ki].yes_no()
            );
        }
    }
    print_not_steady(scn, results, &horizons);
}

/// The footnote under the console table: every plan × keyspace and shard that was not at
/// steady state, with its reasons (nothing when all were).
fn print_not_steady(
    scn: &Scenario,
    results: &[crate::metrics::PlanResult],
    horizons: &[crate::report::horizon::PlanHorizon],
) {
    let mut lines = Vec::new();
    for (r, horizon) in results.iter().zip(horizons) {
        let plan = &scn.plans[r.plan].name;
        for (k, j) in scn.keyspaces.iter().zip(&horizon.keyspaces) {
            if !j.steady() {
                lines.push(format!("  {plan} / {}: {}", k.name, j.reason_text()));
            }
        }
        for (s, j) in r.shards.iter().zip(&horizon.shards) {
            if !j.steady() {
                let cluster = &scn.clusters[s.cluster].name;
                lines.push(format!(
                    "  {plan} / shard {cluster}/{}: {}",
                    s.shard,
                    j.reason_text()
                ));
            }
        }
    }
    if lines.is_empty() {
        println!("every plan × keyspace and shard was at steady state by the end of the run");
    } else {
        println!(
            "not at steady state by the end of the run (see output/README.md, \"Steady state\"):"
        );
        for l in lines {
            println!("{l}");
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn utc_stamps() {
        assert_eq!(super::utc_stamp(0), "19700101-000000");
        assert_eq!(super::utc_stamp(1_782_982_800), "20260702-090000");
    }
}
