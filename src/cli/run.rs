//! `cacheplan run [SCENARIO]`: simulate every plan and write the run folder (staged beside the
//! target and renamed into place when complete, `report::files`).

use super::CliError;
use crate::report::files::{OutError, RunFolder};
use crate::report::{manifest, tables};
use crate::scenario::{self, Scenario};
use std::path::PathBuf;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

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

/// UTC `YYYYMMDD-HHMMSS` of a unix time.
pub fn utc_stamp(unix_s: u64) -> String {
    let t = i64::try_from(unix_s)
        .ok()
        .and_then(|s| jiff::Timestamp::from_second(s).ok())
        .unwrap_or(jiff::Timestamp::MAX);
    t.strftime("%Y%m%d-%H%M%S").to_string()
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
    let bar = super::progress::BarSpec {
        len: scn.duration.as_ns() * scn.plans.len() as u64,
        message: "{percent:>3}% simulated, {elapsed} elapsed, ETA {eta}",
    };
    let results = super::progress::run_with_bar(
        super::progress::wanted(a.quiet),
        &bar,
        &|| progress.total_ns(),
        || crate::sim::run_all_plans_observed(&scn, seed, Some(&progress)),
    );
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
    for line in crate::cost::describe_instance_clusters(scn) {
        println!("{line}");
    }
    println!(
        "{:<20} {:<22} {:>9} {:>9} {:>10} {:>10} {:>10} {:>9} {:>7}",
        "plan", "keyspace", "requests", "hit", "p99 ms", "evicted", "crit.evict", "OOM", "steady"
    );
    let horizons = crate::report::horizon::judge_all(scn, results);
    for (r, horizon) in results.iter().zip(&horizons) {
        let plan = &scn.plans[r.plan].name;
        let summary = crate::metrics::summary::PlanSummary::of(scn, r);
        for (ki, k) in scn.keyspaces.iter().enumerate() {
            let s = &summary.keyspaces[ki];
            let hit = s
                .hit_ratio
                .map_or_else(|| "-".to_string(), |h| format!("{h:.3}"));
            let p99 = s
                .latency_ms_p99
                .map_or_else(|| "-".to_string(), |p| format!("{p:.2}"));
            let crit = if k.criticality == scenario::Criticality::Critical {
                s.evicted_before_ttl_keys.to_string()
            } else {
                "-".to_string()
            };
            println!(
                "{:<20} {:<22} {:>9} {:>9} {:>10} {:>10} {:>10} {:>9} {:>7}",
                plan,
                k.name,
                s.requests,
                hit,
                p99,
                s.evicted_keys,
                crit,
                r.keyspaces[ki].oom_errors,
                horizon.keyspaces[ki].yes_no()
            );
        }
    }
    for line in crate::cost::console_lines(scn) {
        println!("{line}");
    }
    print_verdicts(scn, results);
    print_not_steady(scn, results, &horizons);
}

/// One line per plan: whether it meets every objective, and if not, which it breaks with
/// the measured value (OOM rejections named in the error-ratio checks).
fn print_verdicts(scn: &Scenario, results: &[crate::metrics::PlanResult]) {
    use crate::report::verdict::{checks, tally, Outcome};
    let checks = checks(scn, results);
    if checks.is_empty() {
        return;
    }
    for (pos, r) in results.iter().enumerate() {
        let plan = &scn.plans[r.plan].name;
        let (pass, fail) = tally(&checks, pos);
        if fail == 0 {
            println!("{plan}: meets every objective ({pass} checked)");
            continue;
        }
        println!("{plan}: fails {fail} of {} objectives:", pass + fail);
        for c in &checks {
            let cell = &c.cells[pos];
            if cell.outcome == Outcome::Fail {
                println!(
                    "  {} {} {}: {}",
                    c.metric, c.subject, c.target, cell.measured
                );
            }
        }
    }
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
        assert_eq!(super::utc_stamp(951_782_400), "20000229-000000");
    }
}
