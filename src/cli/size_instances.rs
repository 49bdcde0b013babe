//! `cacheplan size`'s output for clusters declared by instance (search in
//! `sweep::size_instances`): their rows of `size.csv`, the ranked candidates
//! (`size_instances.csv` and the console table: node type, shards, replicas, nodes, monthly
//! cost, SLO margin) and one cost-versus-margin chart with the Pareto front per plan × cluster.

use super::CliError;
use crate::report::charts::{self, PassFailScatter, ScatterPoint, Size};
use crate::report::files::RunFolder;
use crate::scenario::Scenario;
use crate::sweep::charts::slug;
use crate::sweep::size::PlanSize;
use crate::sweep::size_instances::{pareto_front, Candidate, InstanceClusterSize};
use crate::sweep::tables::{plain_table, InstanceCandidateRow, SizeRow};

/// A candidate's status word.
fn status(r: &InstanceClusterSize, i: usize, c: &Candidate) -> &'static str {
    if r.chosen == Some(i) {
        "chosen"
    } else if c.ran && c.pass {
        "pass"
    } else if c.ran {
        "fail"
    } else if r.chosen.is_some_and(|ch| i > ch) {
        "dearer than chosen"
    } else {
        "dominated by a failure"
    }
}

/// The rows of `size.csv` for the clusters declared by instance.
pub(super) fn size_rows<'a>(
    scn: &'a Scenario,
    sizes: &'a [PlanSize],
    seeds: usize,
) -> Vec<SizeRow<'a>> {
    let mut rows = Vec::new();
    for p in sizes {
        for r in &p.instance_clusters {
            let cl = &scn.clusters[r.cluster];
            let chosen = r.chosen.map(|i| &r.candidates[i]);
            rows.push(SizeRow {
                plan: &scn.plans[p.plan].name,
                cluster: &cl.name,
                status: if chosen.is_some() {
                    "found"
                } else {
                    "none within bounds"
                },
                shards: chosen.map(|c| c.shape.shards),
                maxmemory_bytes: chosen.map(|c| c.maxmemory_bytes),
                cost: chosen.map(|c| c.monthly_cost),
                base_shards: cl.shards,
                base_maxmemory_bytes: cl.redis.maxmemory_bytes,
                base_cost: crate::cost::cluster_monthly_cost(cl),
                evaluations: r.candidates.iter().filter(|c| c.ran).count(),
                seeds,
            });
        }
    }
    rows
}

/// `size_instances.csv`.
pub(super) fn candidates_csv(scn: &Scenario, sizes: &[PlanSize]) -> Vec<u8> {
    let currency = crate::cost::currency(scn);
    let failed: Vec<Vec<String>> = sizes
        .iter()
        .flat_map(|p| &p.instance_clusters)
        .map(|r| r.candidates.iter().map(|c| c.failed.join("; ")).collect())
        .collect();
    let mut rows = Vec::new();
    let mut k = 0;
    for p in sizes {
        for r in &p.instance_clusters {
            let front = pareto_front(&r.candidates);
            for (i, c) in r.candidates.iter().enumerate() {
                rows.push(InstanceCandidateRow {
                    plan: &scn.plans[p.plan].name,
                    cluster: &scn.clusters[r.cluster].name,
                    rank: i + 1,
                    instance: &c.shape.instance,
                    shards: c.shape.shards,
                    replicas_per_shard: c.shape.replicas_per_shard,
                    nodes: c.nodes,
                    maxmemory_bytes: c.maxmemory_bytes,
                    monthly_cost: c.monthly_cost,
                    currency,
                    status: status(r, i, c),
                    slo_margin: c.slo_margin,
                    pareto: front.contains(&i),
                    failed: &failed[k][i],
                });
            }
            k += 1;
        }
    }
    plain_table(&rows)
}

/// `charts/cost_margin_<plan>_<cluster>.png/.svg`: every candidate that ran, monthly cost
/// against SLO margin, pass or fail, the Pareto front and the chosen one.
pub(super) fn write_charts(
    folder: &mut RunFolder,
    scn: &Scenario,
    sizes: &[PlanSize],
    seeds: usize,
) -> Result<(), CliError> {
    for p in sizes {
        for r in &p.instance_clusters {
            let ran: Vec<usize> = (0..r.candidates.len())
                .filter(|&i| r.candidates[i].ran && r.candidates[i].slo_margin.is_some())
                .collect();
            let points: Vec<ScatterPoint> = ran
                .iter()
                .map(|&i| {
                    let c = &r.candidates[i];
                    ScatterPoint {
                        x: c.monthly_cost,
                        y: c.slo_margin.unwrap_or(f64::NAN),
                        pass: c.pass,
                    }
                })
                .collect();
            let spec = PassFailScatter {
                title: format!(
                    "Cost vs SLO margin: plan {}, cluster {} ({} seeds)",
                    scn.plans[p.plan].name, scn.clusters[r.cluster].name, seeds
                ),
                x_label: format!("monthly cost ({})", crate::cost::currency(scn)),
                y_label: "SLO margin (worst objective, relative)".into(),
                chosen: r.chosen.and_then(|ch| ran.iter().position(|&i| i == ch)),
                points,
                frontier: false,
                pareto: true,
                integer_x: false,
                size: Size::default(),
            };
            let out = charts::scatter_pass_fail(&spec)
                .map_err(|e| CliError::other(format!("cost chart: {e}")))?;
            let stem = format!(
                "charts/cost_margin_{}_{}",
                slug(&scn.plans[p.plan].name),
                slug(&scn.clusters[r.cluster].name)
            );
            super::size::write_chart(folder, &stem, &out)?;
        }
    }
    Ok(())
}

/// The ranked console table: the candidates that ran, ascending cost, with the chosen one.
pub(super) fn print_table(scn: &Scenario, sizes: &[PlanSize]) {
    let currency = crate::cost::currency(scn);
    for p in sizes {
        for r in &p.instance_clusters {
            println!(
                "plan {}, cluster {} (scenario: {} × {}, {} replica(s) per shard, {:.2} {currency}/month):",
                scn.plans[p.plan].name,
                scn.clusters[r.cluster].name,
                r.base.shards,
                r.base.instance,
                r.base.replicas_per_shard,
                crate::cost::cluster_monthly_cost(&scn.clusters[r.cluster])
            );
            println!(
                "  {:>4} {:<22} {:>6} {:>8} {:>5} {:>14} {:>10}  status",
                "rank",
                "instance",
                "shards",
                "replicas",
                "nodes",
                format!("{currency}/month"),
                "SLO margin"
            );
            let front = pareto_front(&r.candidates);
            for (i, c) in r.candidates.iter().enumerate().filter(|(_, c)| c.ran) {
                println!(
                    "  {:>4} {:<22} {:>6} {:>8} {:>5} {:>14.2} {:>10}  {}{}",
                    i + 1,
                    c.shape.instance,
                    c.shape.shards,
                    c.shape.replicas_per_shard,
                    c.nodes,
                    c.monthly_cost,
                    c.slo_margin.map_or("-".to_string(), |m| format!("{m:.3}")),
                    status(r, i, c),
                    if front.contains(&i) { " (Pareto)" } else { "" }
                );
            }
            let skipped = r.candidates.iter().filter(|c| !c.ran).count();
            println!(
                "  {} candidates, {} run, {skipped} not run (dominated by a failure, or dearer \
                 than the chosen one)",
                r.candidates.len(),
                r.candidates.len() - skipped
            );
            for u in &r.unattainable {
                println!("  unattainable by any candidate: {u}");
            }
        }
    }
}
