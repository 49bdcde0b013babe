//! `cacheplan size [SCENARIO]`: the cheapest cluster shapes per plan that meet the scenario's
//! SLOs on every seed (search in `sweep::size`), printed as a table and written as `size.csv`,
//! `size_margins.csv`, `size_evaluations.csv` and one frontier chart per plan x cluster.

use super::run::out_error;
use super::sweep::from_sweep;
use super::CliError;
use crate::report::charts::{self, PassFailScatter, ScatterPoint, Size};
use crate::report::files::RunFolder;
use crate::scenario::{self, Scenario};
use crate::sweep::charts::slug;
use crate::sweep::size::{self, PlanSize, SizeConfig};
use crate::sweep::tables::{plain_table, EvaluationRow, MarginRow, SizeRow};
use crate::sweep::{apply, slo};
use std::path::PathBuf;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// The most shards a cluster can have: one per hash slot of Redis Cluster.
const MAX_SHARDS: u32 = 16_384;

/// Arguments of `size`.
#[derive(clap::Args, Debug)]
pub struct SizeArgs {
    /// Scenario file (TOML) with an [slo] table; the embedded default CPQ scenario when absent.
    pub scenario: Option<PathBuf>,
    /// Seeds per shape (the scenario's seed and the next ones); a shape passes only on all.
    #[arg(long, default_value_t = 2)]
    pub seeds: u64,
    /// Simulated time per run instead of the scenario's `duration_ms` (e.g. "6m"), to make the
    /// search cheaper; events after it are not simulated.
    #[arg(long)]
    pub duration: Option<String>,
    /// Largest shard count tried per cluster (default: max(2 x the scenario's, 4)).
    #[arg(long)]
    pub max_shards: Option<u32>,
    /// For clusters declared by instance: node types to search, by part of the name or by
    /// provider, comma-separated (e.g. "r7g,m7g" or "aws-elasticache"; default: the
    /// cluster's own provider).
    #[arg(long, value_delimiter = ',')]
    pub instances: Vec<String>,
    /// For clusters declared by instance: replica counts per shard to search, comma-separated
    /// (default: the cluster's own).
    #[arg(long, value_delimiter = ',')]
    pub replicas: Vec<u32>,
    /// Output folder (default: output/<scenario-name>/size-<UTC time>/).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Replace an existing output folder (once the new one is complete).
    #[arg(long)]
    pub force: bool,
    /// Print nothing but errors (the table included).
    #[arg(long)]
    pub quiet: bool,
    /// The limits checked before simulating (--memory-limit, --max-events; per shape).
    #[command(flatten)]
    pub budget: super::budget::BudgetArgs,
}

fn mb(bytes: u64) -> f64 {
    bytes as f64 / 1_048_576.0
}

/// Writes a rendered chart as `<stem>.png` and `<stem>.svg`.
pub(super) fn write_chart(
    folder: &mut RunFolder,
    stem: &str,
    r: &charts::Rendered,
) -> Result<(), CliError> {
    folder
        .write(&format!("{stem}.png"), &r.png)
        .map_err(out_error)?;
    folder
        .write(&format!("{stem}.svg"), r.svg.as_bytes())
        .map_err(out_error)
}

pub fn execute(a: SizeArgs) -> Result<(), CliError> {
    let (text, source) = match &a.scenario {
        Some(p) => (
            std::fs::read_to_string(p).map_err(|e| {
                CliError::input(format!("cannot read the scenario {}: {e}", p.display()))
            })?,
            p.display().to_string(),
        ),
        None => (
            scenario::DEFAULT_SCENARIO_TOML.to_string(),
            scenario::DEFAULT_SCENARIO_NAME.to_string(),
        ),
    };
    let base = scenario::parse(&text, &source).map_err(|e| CliError::input(e.to_string()))?;
    if !slo::has_objectives(&base) {
        return Err(CliError::input(format!(
            "{source}: the scenario has no SLOs, so there is nothing to size for\n  hint: add an \
             [slo] table (hit_ratio_min, latency_p99_ms_max, origin_peak_per_s_max, \
             critical_evictions_max, shard_utilization_max; see workloads/README.md)"
        )));
    }
    if a.seeds == 0 || a.seeds > 100 {
        return Err(CliError::input(format!(
            "--seeds {} is out of range: give from 1 to 100 seeds per shape",
            a.seeds
        )));
    }
    if let Some(m) = a.max_shards {
        if !(1..=MAX_SHARDS).contains(&m) {
            return Err(CliError::input(format!(
                "--max-shards {m} is out of range: a Redis Cluster has {MAX_SHARDS} hash slots, \
                 so it has from 1 to {MAX_SHARDS} shards\n  hint: give --max-shards from 1 to \
                 {MAX_SHARDS}, or leave it out (default: twice the scenario's shards, at least 4)"
            )));
        }
    }
    let mut doc: toml_edit::DocumentMut = text
        .parse()
        .map_err(|e| CliError::input(format!("{source}: {e}")))?;
    if let Some(d) = &a.duration {
        apply::apply(
            &mut doc,
            "simulation.duration_ms",
            &toml_edit::Value::from(d.as_str()),
        )
        .map_err(|e| CliError::input(format!("--duration {d}: {e}")))?;
        if let Ok(end_ms) = crate::scenario::units::parse_duration_ms(d) {
            cut_timeline(&mut doc, end_ms);
        }
    }
    let scn: Scenario = scenario::parse(&doc.to_string(), &source).map_err(|e| {
        // The base scenario parsed, so only --duration can have made it invalid.
        CliError::input(format!(
            "--duration {}: {}\n  hint: give a simulated time longer than the scenario's \
             warm-up ({}), e.g. --duration 6m, or leave it out to use the scenario's duration ({})",
            a.duration.as_deref().unwrap_or_default(),
            e.message,
            base.warmup,
            base.duration
        ))
    })?;
    let estimate = crate::scenario::budget::Budget::of(&scn).largest_plan_runs(a.seeds);
    a.budget.check(
        &format!("{source}: one shape on {} seeds", a.seeds),
        &estimate,
    )?;
    let first = scn.seed.unwrap_or(1);
    let cfg = SizeConfig {
        seeds: (0..a.seeds).map(|i| first.wrapping_add(i)).collect(),
        max_shards: a.max_shards,
        instance_filter: crate::sweep::size_instances::InstanceFilter {
            terms: a.instances.iter().map(|t| t.trim().to_string()).collect(),
            replicas: a.replicas.clone(),
        },
    };
    if let Some(r) = a.replicas.iter().find(|&&r| r > 15) {
        return Err(CliError::input(format!(
            "--replicas {r} is out of range: give 0 to 15 replicas per shard"
        )));
    }
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_err(|e| CliError::other(e.to_string()))?;
    let dir = a.out.clone().unwrap_or_else(|| {
        PathBuf::from("output")
            .join(&scn.name)
            .join(format!("size-{}", super::run::utc_stamp(now.as_secs())))
    });
    let mut folder = RunFolder::create(&dir, a.force).map_err(out_error)?;
    if !a.quiet {
        for p in folder.cleaned() {
            eprintln!("removed {}, left by an interrupted command", p.display());
        }
        eprintln!(
            "sizing {} plan(s) of \"{}\" ({} simulated per run, seeds {:?})",
            scn.plans.len(),
            scn.name,
            scn.duration,
            cfg.seeds
        );
    }
    let started = Instant::now();
    let quiet = a.quiet;
    let sizes = size::search(
        &doc,
        &source,
        &scn,
        &cfg,
        &|r| {
            if !quiet {
                eprintln!(
                    "  {} / {}: {} shapes run",
                    scn.plans[r.plan].name,
                    scn.clusters[r.cluster].name,
                    r.evaluations.len()
                );
            }
        },
        &|r| {
            if !quiet {
                eprintln!(
                    "  {} / {}: {} candidates run",
                    scn.plans[r.plan].name,
                    scn.clusters[r.cluster].name,
                    r.candidates.iter().filter(|c| c.ran).count()
                );
            }
        },
    )
    .map_err(from_sweep)?;
    let io = out_error;
    folder
        .write("size.csv", &size_csv(&scn, &sizes, cfg.seeds.len()))
        .map_err(io)?;
    folder
        .write("size_margins.csv", &margins_csv(&scn, &sizes))
        .map_err(io)?;
    folder
        .write("size_evaluations.csv", &evaluations_csv(&scn, &sizes))
        .map_err(io)?;
    folder
        .write(
            "size_instances.csv",
            &super::size_instances::candidates_csv(&scn, &sizes),
        )
        .map_err(io)?;
    super::size_instances::write_charts(&mut folder, &scn, &sizes, cfg.seeds.len())?;
    for p in &sizes {
        for c in &p.clusters {
            let chosen = c.chosen;
            let points: Vec<ScatterPoint> = c
                .evaluations
                .iter()
                .map(|e| ScatterPoint {
                    x: e.shape.shards as f64,
                    y: e.shape.maxmemory_bytes as f64 / (1u64 << 30) as f64,
                    pass: e.pass,
                })
                .collect();
            let spec = PassFailScatter {
                title: format!(
                    "Capacity frontier: plan {}, cluster {} ({} seeds)",
                    scn.plans[p.plan].name,
                    scn.clusters[c.cluster].name,
                    cfg.seeds.len()
                ),
                x_label: "shards".into(),
                y_label: "maxmemory per shard (GB)".into(),
                chosen: chosen
                    .and_then(|s| c.evaluations.iter().position(|e| e.shape == s && e.pass)),
                points,
                frontier: true,
                pareto: false,
                integer_x: true,
                size: Size::default(),
            };
            let r = charts::scatter_pass_fail(&spec)
                .map_err(|e| CliError::other(format!("frontier chart: {e}")))?;
            let stem = format!(
                "charts/frontier_{}_{}",
                slug(&scn.plans[p.plan].name),
                slug(&scn.clusters[c.cluster].name)
            );
            write_chart(&mut folder, &stem, &r)?;
        }
    }
    folder.finish().map_err(out_error)?;
    if !a.quiet {
        print_table(&scn, &sizes);
        let runs: usize = sizes
            .iter()
            .map(|p| {
                p.clusters
                    .iter()
                    .map(|c| c.evaluations.len())
                    .sum::<usize>()
                    + p.instance_clusters
                        .iter()
                        .map(|c| c.candidates.iter().filter(|x| x.ran).count())
                        .sum::<usize>()
                    + 1
            })
            .sum();
        eprintln!(
            "{runs} shapes x {} seeds run in {:.1} s; wrote {}",
            cfg.seeds.len(),
            started.elapsed().as_secs_f64(),
            dir.display()
        );
    }
    Ok(())
}

fn status(c: &size::ClusterSize) -> &'static str {
    if c.chosen.is_some() {
        "found"
    } else {
        "none within bounds"
    }
}

fn size_csv(scn: &Scenario, sizes: &[PlanSize], seeds: usize) -> Vec<u8> {
    let mut rows = Vec::new();
    for p in sizes {
        for c in &p.clusters {
            rows.push(SizeRow {
                plan: &scn.plans[p.plan].name,
                cluster: &scn.clusters[c.cluster].name,
                status: status(c),
                shards: c.chosen.map(|s| s.shards),
                maxmemory_bytes: c.chosen.map(|s| s.maxmemory_bytes),
                cost: c.chosen.map(|s| size::cost(scn, c.cluster, s)),
                base_shards: c.base.shards,
                base_maxmemory_bytes: c.base.maxmemory_bytes,
                base_cost: size::cost(scn, c.cluster, c.base),
                evaluations: c.evaluations.len(),
                seeds,
            });
        }
    }
    rows.extend(super::size_instances::size_rows(scn, sizes, seeds));
    plain_table(&rows)
}

fn margins_csv(scn: &Scenario, sizes: &[PlanSize]) -> Vec<u8> {
    let mut rows = Vec::new();
    for p in sizes {
        for (m, attainable) in &p.margins {
            let Some(v) = m.measured else { continue };
            rows.push(MarginRow {
                plan: &scn.plans[p.plan].name,
                metric: m.metric,
                subject: &m.subject,
                target: m.target,
                measured_worst: v,
                margin: m.margin(),
                pass: m.pass(),
                attainable: *attainable,
            });
        }
    }
    plain_table(&rows)
}

fn evaluations_csv(scn: &Scenario, sizes: &[PlanSize]) -> Vec<u8> {
    let failed: Vec<Vec<String>> = sizes
        .iter()
        .flat_map(|p| &p.clusters)
        .flat_map(|c| c.evaluations.iter().map(|e| e.failed.clone()))
        .collect();
    let joined: Vec<String> = failed.iter().map(|f| f.join("; ")).collect();
    let mut rows = Vec::new();
    let mut i = 0;
    for p in sizes {
        for c in &p.clusters {
            for e in &c.evaluations {
                rows.push(EvaluationRow {
                    plan: &scn.plans[p.plan].name,
                    cluster: &scn.clusters[c.cluster].name,
                    shards: e.shape.shards,
                    maxmemory_bytes: e.shape.maxmemory_bytes,
                    cost: e.cost,
                    pass: e.pass,
                    failed: &joined[i],
                });
                i += 1;
            }
        }
    }
    plain_table(&rows)
}

fn print_table(scn: &Scenario, sizes: &[PlanSize]) {
    super::size_instances::print_table(scn, sizes);
    if sizes.iter().all(|p| p.clusters.is_empty()) {
        print_margins(scn, sizes);
        return;
    }
    println!(
        "{:<20} {:<10} {:>6} {:>12} {:>9}   {:<24} {:>5}  status",
        "plan", "cluster", "shards", "MB/shard", "cost", "scenario's shape", "runs"
    );
    for p in sizes {
        for c in &p.clusters {
            let (shards, memory, cost) = match c.chosen {
                Some(s) => (
                    s.shards.to_string(),
                    format!("{:.0}", mb(s.maxmemory_bytes)),
                    format!("{:.2}", size::cost(scn, c.cluster, s)),
                ),
                None => ("-".into(), "-".into(), "-".into()),
            };
            println!(
                "{:<20} {:<10} {:>6} {:>12} {:>9}   {:<24} {:>5}  {}",
                scn.plans[p.plan].name,
                scn.clusters[c.cluster].name,
                shards,
                memory,
                cost,
                format!(
                    "{} x {:.0} MB, cost {:.2}",
                    c.base.shards,
                    mb(c.base.maxmemory_bytes),
                    size::cost(scn, c.cluster, c.base)
                ),
                c.evaluations.len(),
                status(c)
            );
            for u in &c.unattainable {
                println!("{:<20}   unattainable by any shape within bounds: {u}", "");
            }
        }
    }
    print_margins(scn, sizes);
}

/// The objectives of every plan at its chosen shapes, with their margins.
fn print_margins(scn: &Scenario, sizes: &[PlanSize]) {
    if let Some(note) = horizon_note(scn) {
        println!("{note}");
    }
    println!();
    println!(
        "{:<20} {:<32} {:<22} {:>10} {:>12} {:>10}  ",
        "plan", "objective", "subject", "target", "worst seed", "margin"
    );
    for p in sizes {
        for (m, attainable) in &p.margins {
            let Some(v) = m.measured else { continue };
            println!(
                "{:<20} {:<32} {:<22} {:>10} {:>12.3} {:>10.3}  {}{}",
                scn.plans[p.plan].name,
                m.metric,
                m.subject,
                m.target,
                v,
                m.margin(),
                if m.pass() { "pass" } else { "FAIL" },
                if *attainable { "" } else { " (unattainable)" }
            );
        }
    }
}

/// Drops the timeline entries a shorter `--duration` leaves out: events and faults that start
/// at or after `end_ms`; a fault running past it ends there. (The help says: events after it
/// are not simulated.)
fn cut_timeline(doc: &mut toml_edit::DocumentMut, end_ms: f64) {
    let ms = |item: Option<&toml_edit::Item>| -> Option<f64> {
        let v = item?.as_value()?;
        match v {
            toml_edit::Value::String(s) => {
                crate::scenario::units::parse_duration_ms(s.value()).ok()
            }
            toml_edit::Value::Integer(i) => Some(*i.value() as f64),
            toml_edit::Value::Float(f) => Some(*f.value()),
            _ => None,
        }
    };
    if let Some(events) = doc
        .get_mut("events")
        .and_then(|e| e.as_array_of_tables_mut())
    {
        events.retain(|t| ms(t.get("at_ms")).is_none_or(|at| at < end_ms));
    }
    if let Some(faults) = doc
        .get_mut("faults")
        .and_then(|f| f.as_array_of_tables_mut())
    {
        faults.retain(|t| ms(t.get("start_ms")).is_none_or(|at| at < end_ms));
        for t in faults.iter_mut() {
            if ms(t.get("end_ms")).is_some_and(|e| e > end_ms) {
                t["end_ms"] = toml_edit::value(end_ms.floor() as i64);
            }
        }
    }
}

/// When the runs start cold and measure less time than some keyspaces' TTL, their objectives
/// judge a cache still filling: a failure there comes from the horizon, not the shape.
fn horizon_note(scn: &Scenario) -> Option<String> {
    if scn.start != crate::scenario::Start::Cold {
        return None;
    }
    let measured = scn.duration.saturating_sub(scn.warmup);
    let short: Vec<&str> = scn
        .keyspaces
        .iter()
        .filter(|k| k.ttl > measured)
        .map(|k| k.name.as_str())
        .collect();
    (!short.is_empty()).then(|| {
        format!(
            "note: the runs start cold and measure {:.0} s, less than the TTL of {}: objectives on \
             them judge a cache still filling, so a failure there comes from the horizon, not the \
             shape (use [simulation] start = \"steady-state\", the default)",
            measured.as_secs_f64(),
            short.join(", ")
        )
    })
}
