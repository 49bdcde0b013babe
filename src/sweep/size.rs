//! Capacity search (`cacheplan size`): for each plan and each cluster it uses, the cheapest
//! shape (shards x maxmemory per shard; cost = shards·cost_per_shard + shards·GB·cost_per_gb)
//! that meets every SLO the cluster can affect (`slo::Scope::cluster`), on every seed.
//!
//! Method, relying on monotonicity (more memory per shard never lowers hit ratios or raises
//! evictions; more shards at the same memory per shard never hurt either):
//! 1. the largest shape (`max_shards` x the ceiling) is run first; objectives it fails cannot be
//!    met by any shape within the bounds and are reported as unattainable and left out;
//! 2. for shards = 1, 2, ... `max_shards`: memory per shard is searched by bisection over a
//!    geometric ladder (ratio 2^¼, whole MiB) between a floor and a ceiling, capped above by the
//!    memory that passed at the previous shard count (monotonicity) and by the cost of the best
//!    shape so far (a dearer shape is never run); the loop stops once even the floor's cost at
//!    this shard count is not cheaper than the best.
//!
//! Clusters declared by `instance` are searched by node type instead (`sweep::size_instances`).
//! Other clusters of the plan stay at their scenario shapes while one is searched; the chosen
//! shapes are then run together and every objective of the plan is measured (the margins).
//! Pure apart from running simulations.

use super::size_instances::{
    evaluate_with_instances, search_instance_cluster, InstanceClusterSize, InstanceFilter,
    InstanceShape,
};
use super::slo::{self, Measure, Scope};
use super::{apply, SweepError};
use crate::metrics::PlanResult;
use crate::redis::memory::EMPTY_SERVER_USED_MEMORY_BYTES;
use crate::scenario::{self, Scenario};
use toml_edit::{DocumentMut, Value};

const MIB: u64 = 1 << 20;

/// Search bounds and replication.
#[derive(Clone, Debug)]
pub struct SizeConfig {
    /// Seeds every shape runs with; a shape passes only if it passes on all.
    pub seeds: Vec<u64>,
    /// Largest shard count tried per cluster (default: max(2 x the scenario's, 4)).
    pub max_shards: Option<u32>,
    /// Node types and replica counts searched for clusters declared by instance.
    pub instance_filter: InstanceFilter,
}

/// A cluster shape.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Shape {
    /// Shards.
    pub shards: u32,
    /// maxmemory per shard, bytes.
    pub maxmemory_bytes: u64,
}

/// One shape the search ran.
#[derive(Clone, Debug, PartialEq)]
pub struct Evaluation {
    /// The shape.
    pub shape: Shape,
    /// Its cost.
    pub cost: f64,
    /// Whether every attainable objective in scope passed on every seed.
    pub pass: bool,
    /// The objectives that failed (`metric subject`).
    pub failed: Vec<String>,
}

/// The search's answer for one plan x cluster.
#[derive(Clone, Debug)]
pub struct ClusterSize {
    /// Plan index.
    pub plan: usize,
    /// Cluster index.
    pub cluster: usize,
    /// The scenario's shape.
    pub base: Shape,
    /// The cheapest passing shape found, if any.
    pub chosen: Option<Shape>,
    /// Every shape run, in order.
    pub evaluations: Vec<Evaluation>,
    /// Objectives failed even by the largest shape (left out of the search).
    pub unattainable: Vec<String>,
}

/// The search's answer for one plan.
#[derive(Clone, Debug)]
pub struct PlanSize {
    /// Plan index.
    pub plan: usize,
    /// One per cluster the plan uses and gives by maxmemory, scenario order.
    pub clusters: Vec<ClusterSize>,
    /// One per cluster the plan uses and declares by instance, scenario order
    /// (`sweep::size_instances`).
    pub instance_clusters: Vec<InstanceClusterSize>,
    /// Every objective of the plan measured with the chosen shapes together (worst seed), and
    /// whether it is attainable.
    pub margins: Vec<(Measure, bool)>,
}

/// Cost of a shape of cluster `c`.
pub fn cost(scn: &Scenario, c: usize, s: Shape) -> f64 {
    crate::cost::shape_monthly_cost(&scn.clusters[c], s.shards, s.maxmemory_bytes)
}

/// The memory ladder for `shards` shards: geometric rungs (ratio 2^¼, whole MiB) from `floor`
/// up to `ceiling`, plus the ceiling and any `extra` value inside, sorted.
pub fn ladder(floor: u64, ceiling: u64, extra: Option<u64>) -> Vec<u64> {
    let mut rungs = Vec::new();
    let mut m = floor as f64;
    while (m as u64) < ceiling {
        rungs.push(((m / MIB as f64).round() as u64).max(1) * MIB);
        m *= 2f64.powf(0.25);
    }
    rungs.push(ceiling);
    if let Some(e) = extra {
        if e >= floor && e <= ceiling {
            rungs.push(e);
        }
    }
    rungs.sort_unstable();
    rungs.dedup();
    rungs
}

/// Runs plan `plan` of the base document with cluster shapes overridden, on every seed (in
/// parallel).
pub fn evaluate(
    doc: &DocumentMut,
    file: &str,
    plan: usize,
    shapes: &[(String, Shape)],
    seeds: &[u64],
) -> Result<(Scenario, Vec<PlanResult>), SweepError> {
    use rayon::prelude::*;
    let mut d = doc.clone();
    for (name, s) in shapes {
        for (field, v) in [
            ("shards", Value::from(s.shards as i64)),
            ("maxmemory_bytes", Value::from(s.maxmemory_bytes as i64)),
        ] {
            apply::apply(&mut d, &format!("clusters.{name}.{field}"), &v)
                .map_err(SweepError::input)?;
        }
    }
    let scn = scenario::parse(&d.to_string(), file).map_err(|e| {
        SweepError::input(format!(
            "a searched shape does not validate (clusters with explicit `slots` cannot change \
             their shard count): {e}"
        ))
    })?;
    let traffic = crate::sim::Traffic::new(&scn);
    let results = seeds
        .par_iter()
        .map(|&seed| crate::sim::run_plan(&scn, &traffic, plan, seed))
        .collect();
    Ok((scn, results))
}

fn base_shape(scn: &Scenario, c: usize) -> Shape {
    Shape {
        shards: scn.clusters[c].shards,
        maxmemory_bytes: scn.clusters[c].redis.maxmemory_bytes,
    }
}

/// Searches the cheapest shape of cluster `c` in plan `plan`.
pub fn search_cluster(
    doc: &DocumentMut,
    file: &str,
    scn: &Scenario,
    plan: usize,
    c: usize,
    cfg: &SizeConfig,
) -> Result<ClusterSize, SweepError> {
    let base = base_shape(scn, c);
    let name = scn.clusters[c].name.clone();
    let scope = Scope::cluster(scn, plan, c);
    let max_shards = cfg.max_shards.unwrap_or((base.shards * 2).max(4)).max(1);
    let per_shard = base.maxmemory_bytes.max(MIB);
    let floor = (per_shard / 16 / MIB).max(1) * MIB;
    let total = per_shard * base.shards as u64;
    let ceiling = |s: u32| (2 * total / s as u64).max(per_shard).div_ceil(MIB) * MIB;
    let mut evaluations: Vec<Evaluation> = Vec::new();
    let run = |evaluations: &mut Vec<Evaluation>,
               shape: Shape,
               excluded: &[String]|
     -> Result<(bool, Vec<Measure>, Option<u64>), SweepError> {
        let (s, results) = evaluate(doc, file, plan, &[(name.clone(), shape)], &cfg.seeds)?;
        let measures = slo::measure(&s, &results, &scope);
        // The cluster's data at steady state (projection less the empty server), when a
        // fill is harmful there (OOM, or critical keys evicted).
        let data_bytes = results.first().and_then(|r| {
            let shard = r.shards.iter().find(|x| x.cluster == c)?;
            crate::metrics::summary::fill_is_harmful(&s, r, c).then(|| {
                shard
                    .projected_used_memory_bytes
                    .saturating_sub(EMPTY_SERVER_USED_MEMORY_BYTES)
                    * u64::from(shape.shards)
            })
        });
        let failed: Vec<String> = measures
            .iter()
            .filter(|m| !m.pass() && !excluded.contains(&m.key()))
            .map(Measure::key)
            .collect();
        let pass = failed.is_empty();
        evaluations.push(Evaluation {
            shape,
            cost: cost(scn, c, shape),
            pass,
            failed,
        });
        Ok((pass, measures, data_bytes))
    };
    let largest = Shape {
        shards: max_shards,
        maxmemory_bytes: ceiling(max_shards),
    };
    let (_, measures, data_bytes) = run(&mut evaluations, largest, &[])?;
    // The projection is a lower bound on memory where a fill is harmful: no rung below the
    // steady-state set spread over s shards is tried (it would fill, and fail).
    let projected_floor = |s: u32| {
        data_bytes.map_or(floor, |d| {
            (d / u64::from(s) + EMPTY_SERVER_USED_MEMORY_BYTES)
                .div_ceil(MIB)
                .max(1)
                * MIB
        })
    };
    let unattainable: Vec<String> = measures
        .iter()
        .filter(|m| !m.pass())
        .map(Measure::key)
        .collect();
    if let Some(first) = evaluations.first_mut() {
        first.pass = true;
        first.failed.retain(|f| !unattainable.contains(f));
    }
    let shape_cost = |s: u32, m: u64| {
        cost(
            scn,
            c,
            Shape {
                shards: s,
                maxmemory_bytes: m,
            },
        )
    };
    let mut best: Option<(Shape, f64)> = None;
    let mut passed_mem: Option<u64> = None;
    for s in 1..=max_shards {
        if let Some((b, bc)) = best {
            let floor_cost = shape_cost(s, floor);
            if floor_cost > bc || (floor_cost == bc && s > b.shards) {
                break;
            }
        }
        let lowest = projected_floor(s).max(floor);
        if lowest > ceiling(s) {
            continue; // the steady-state set does not fit this many shards at the ceiling
        }
        let rungs = ladder(lowest, ceiling(s), passed_mem);
        let mut hi = rungs.len() - 1;
        let mut known_pass = false;
        if let Some(pm) = passed_mem {
            if let Some(i) = rungs.iter().rposition(|&m| m <= pm) {
                hi = i;
                known_pass = true;
            }
        }
        if let Some((_, bc)) = best {
            match rungs.iter().rposition(|&m| shape_cost(s, m) < bc) {
                Some(cap) if cap < hi => {
                    hi = cap;
                    known_pass = false;
                }
                Some(_) => {}
                None => continue,
            }
        }
        if !known_pass {
            let top = Shape {
                shards: s,
                maxmemory_bytes: rungs[hi],
            };
            if !run(&mut evaluations, top, &unattainable)?.0 {
                continue;
            }
        }
        let mut lo: isize = -1;
        while hi as isize - lo > 1 {
            let mid = ((lo + hi as isize) / 2) as usize;
            let shape = Shape {
                shards: s,
                maxmemory_bytes: rungs[mid],
            };
            if run(&mut evaluations, shape, &unattainable)?.0 {
                hi = mid;
            } else {
                lo = mid as isize;
            }
        }
        let found = Shape {
            shards: s,
            maxmemory_bytes: rungs[hi],
        };
        passed_mem = Some(rungs[hi]);
        let fc = cost(scn, c, found);
        if best.is_none_or(|(_, bc)| fc < bc) {
            best = Some((found, fc));
        }
    }
    Ok(ClusterSize {
        plan,
        cluster: c,
        base,
        chosen: best.map(|b| b.0),
        evaluations,
        unattainable,
    })
}

/// Searches every plan's clusters, then measures each plan with its chosen shapes together.
pub fn search(
    doc: &DocumentMut,
    file: &str,
    scn: &Scenario,
    cfg: &SizeConfig,
    on_cluster_done: &dyn Fn(&ClusterSize),
    on_instance_cluster_done: &dyn Fn(&InstanceClusterSize),
) -> Result<Vec<PlanSize>, SweepError> {
    let mut out = Vec::new();
    for plan in 0..scn.plans.len() {
        let mut clusters = Vec::new();
        let mut instance_clusters = Vec::new();
        for c in slo::used_clusters(scn, plan) {
            if scn.clusters[c].instance.is_some() {
                let r = search_instance_cluster(
                    doc,
                    file,
                    scn,
                    plan,
                    c,
                    &cfg.seeds,
                    cfg.max_shards,
                    &cfg.instance_filter,
                )?;
                on_instance_cluster_done(&r);
                instance_clusters.push(r);
                continue;
            }
            let r = search_cluster(doc, file, scn, plan, c, cfg)?;
            on_cluster_done(&r);
            clusters.push(r);
        }
        let shapes: Vec<(String, Shape)> = clusters
            .iter()
            .map(|r| {
                (
                    scn.clusters[r.cluster].name.clone(),
                    r.chosen.unwrap_or(r.base),
                )
            })
            .collect();
        let instance_shapes: Vec<(String, InstanceShape)> = instance_clusters
            .iter()
            .map(|r| (scn.clusters[r.cluster].name.clone(), r.chosen_or_base()))
            .collect();
        let (s, results) =
            evaluate_with_instances(doc, file, plan, &instance_shapes, &shapes, &cfg.seeds)?;
        let unattainable: Vec<String> = clusters
            .iter()
            .flat_map(|r| r.unattainable.clone())
            .chain(
                instance_clusters
                    .iter()
                    .flat_map(|r| r.unattainable.clone()),
            )
            .collect();
        let margins = slo::measure(&s, &results, &Scope::plan(&s, plan))
            .into_iter()
            .map(|m| {
                let attainable = !unattainable.contains(&m.key());
                (m, attainable)
            })
            .collect();
        out.push(PlanSize {
            plan,
            clusters,
            instance_clusters,
            margins,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ladders_are_geometric_and_hold_their_bounds() {
        let l = ladder(16 * MIB, 256 * MIB, Some(100 * MIB));
        assert_eq!(l[0], 16 * MIB);
        assert_eq!(*l.last().unwrap(), 256 * MIB);
        assert!(l.contains(&(100 * MIB)));
        assert!(l.windows(2).all(|w| w[0] < w[1]));
        assert!(l.len() >= 16 && l.len() <= 19, "{}", l.len());
    }
}
