//! Capacity search by cost for clusters declared by instance (`cacheplan size`): for each plan
//! and each such cluster it uses, the cheapest (node type, shards, replicas per shard) of the
//! instance catalogue that meets every SLO the cluster can affect (`slo::Scope::cluster`) at
//! steady state, on every seed. Clusters given by `maxmemory_bytes` keep the shards ×
//! maxmemory search of `sweep::size`.
//!
//! Method: every candidate (node types filtered by name or provider, shards 1..=`max_shards`,
//! the replica counts asked for) is priced (`crate::cost`); the most capable one (the largest
//! node, the most shards, the most replicas) runs first and the objectives it
//! fails are unattainable and left out; then candidates run in ascending monthly cost (ties:
//! fewer nodes, then name, shards, replicas) until one passes, which is therefore the cheapest
//! passing one. A candidate is skipped, counted as failing, when a candidate that failed had at
//! least its maxmemory per shard and its shards with the same replicas (more memory per shard
//! and more shards never hurt; `sweep::size` relies on the same monotonicity).
//!
//! Each candidate's SLO margin is the worst objective's headroom relative to its target
//! (`Measure::margin` / max(|target|, 1)), ≥ 0 when every objective passes. Pure apart from
//! running simulations.

use super::size::{evaluate, Shape};
use super::slo::{self, Measure, Scope};
use super::{apply, SweepError};
use crate::metrics::PlanResult;
use crate::scenario::instances::{derive_maxmemory, Instance};
use crate::scenario::Scenario;
use toml_edit::{DocumentMut, Value};

/// A cluster shape by instance.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InstanceShape {
    /// Node type (catalogue name).
    pub instance: String,
    /// Master shards.
    pub shards: u32,
    /// Replicas per shard.
    pub replicas_per_shard: u32,
}

/// One candidate, priced and (when run) judged.
#[derive(Clone, Debug, PartialEq)]
pub struct Candidate {
    /// The shape.
    pub shape: InstanceShape,
    /// shards × (1 + replicas).
    pub nodes: u32,
    /// Monthly cost (nodes × hourly price × 730 h).
    pub monthly_cost: f64,
    /// maxmemory per shard derived from the node type.
    pub maxmemory_bytes: u64,
    /// Whether it ran (false: skipped as dominated by a failure, or dearer than the answer).
    pub ran: bool,
    /// Whether every attainable objective in scope passed on every seed (false when skipped
    /// as dominated; meaningless when neither ran nor dominated).
    pub pass: bool,
    /// The objectives that failed (`metric subject`), when it ran.
    pub failed: Vec<String>,
    /// Worst relative headroom over the attainable objectives in scope, when it ran.
    pub slo_margin: Option<f64>,
}

/// The search's answer for one plan × cluster declared by instance.
#[derive(Clone, Debug)]
pub struct InstanceClusterSize {
    /// Plan index.
    pub plan: usize,
    /// Cluster index.
    pub cluster: usize,
    /// The scenario's shape.
    pub base: InstanceShape,
    /// Every candidate, ascending cost (the search's order).
    pub candidates: Vec<Candidate>,
    /// Index into `candidates` of the cheapest passing one.
    pub chosen: Option<usize>,
    /// Objectives failed even by the most capable candidate (left out of the search).
    pub unattainable: Vec<String>,
}

impl InstanceClusterSize {
    /// The chosen shape, or the scenario's when none passed.
    pub fn chosen_or_base(&self) -> InstanceShape {
        self.chosen
            .map(|i| self.candidates[i].shape.clone())
            .unwrap_or_else(|| self.base.clone())
    }
}

/// Which node types and replica counts to search.
#[derive(Clone, Debug, Default)]
pub struct InstanceFilter {
    /// Node types whose name contains one of these, or whose provider is one of these; empty:
    /// the provider of the cluster's own node type.
    pub terms: Vec<String>,
    /// Replica counts per shard; empty: the cluster's own.
    pub replicas: Vec<u32>,
}

/// The node types of `catalogue` the filter admits for a cluster of node type `own`.
pub fn admitted<'a>(
    catalogue: &'a [Instance],
    own: &Instance,
    f: &InstanceFilter,
) -> Vec<&'a Instance> {
    catalogue
        .iter()
        .filter(|i| {
            if f.terms.is_empty() {
                i.provider == own.provider
            } else {
                f.terms
                    .iter()
                    .any(|t| i.name.contains(t.as_str()) || &i.provider == t)
            }
        })
        .filter(|i| i.currency == own.currency)
        .collect()
}

/// The worst relative headroom of `measures` not in `excluded` (`None` without a figure).
pub fn relative_margin(measures: &[Measure], excluded: &[String]) -> Option<f64> {
    measures
        .iter()
        .filter(|m| m.measured.is_some() && !excluded.contains(&m.key()))
        .map(|m| m.margin() / m.target.abs().max(1.0))
        .min_by(f64::total_cmp)
}

/// Sets the instance shapes into a copy of `doc`, then runs plan `plan` with `shapes` (the
/// clusters given by maxmemory) on every seed.
pub fn evaluate_with_instances(
    doc: &DocumentMut,
    file: &str,
    plan: usize,
    instance_shapes: &[(String, InstanceShape)],
    shapes: &[(String, Shape)],
    seeds: &[u64],
) -> Result<(Scenario, Vec<PlanResult>), SweepError> {
    let mut d = doc.clone();
    for (name, s) in instance_shapes {
        for (field, v) in [
            ("instance", Value::from(s.instance.as_str())),
            ("shards", Value::from(i64::from(s.shards))),
            (
                "replicas_per_shard",
                Value::from(i64::from(s.replicas_per_shard)),
            ),
        ] {
            apply::apply(&mut d, &format!("clusters.{name}.{field}"), &v)
                .map_err(SweepError::input)?;
        }
    }
    evaluate(&d, file, plan, shapes, seeds)
}

/// Every candidate for cluster `c` (declared by instance), priced, ascending cost.
pub fn candidates(
    scn: &Scenario,
    c: usize,
    filter: &InstanceFilter,
    max_shards: u32,
) -> Vec<Candidate> {
    let cl = &scn.clusters[c];
    let own = &cl
        .instance
        .as_ref()
        .expect("only clusters declared by instance")
        .instance;
    let replicas = if filter.replicas.is_empty() {
        vec![cl.replicas_per_shard]
    } else {
        filter.replicas.clone()
    };
    let mut out = Vec::new();
    for inst in admitted(&scn.instance_catalogue, own, filter) {
        for &r in &replicas {
            let maxmemory_bytes = derive_maxmemory(inst, r, scn.app_instances).maxmemory_bytes;
            if maxmemory_bytes <= crate::redis::memory::EMPTY_SERVER_USED_MEMORY_BYTES {
                continue; // the scenario would refuse it
            }
            for shards in 1..=max_shards {
                let nodes = shards * (1 + r);
                out.push(Candidate {
                    shape: InstanceShape {
                        instance: inst.name.clone(),
                        shards,
                        replicas_per_shard: r,
                    },
                    nodes,
                    monthly_cost: f64::from(nodes) * inst.monthly_price(),
                    maxmemory_bytes,
                    ran: false,
                    pass: false,
                    failed: Vec::new(),
                    slo_margin: None,
                });
            }
        }
    }
    out.sort_by(|a, b| {
        a.monthly_cost
            .total_cmp(&b.monthly_cost)
            .then(a.nodes.cmp(&b.nodes))
            .then(a.shape.instance.cmp(&b.shape.instance))
            .then(a.shape.shards.cmp(&b.shape.shards))
            .then(a.shape.replicas_per_shard.cmp(&b.shape.replicas_per_shard))
    });
    out
}

/// Searches the cheapest passing candidate for cluster `c` of plan `plan`.
#[allow(clippy::too_many_arguments)]
pub fn search_instance_cluster(
    doc: &DocumentMut,
    file: &str,
    scn: &Scenario,
    plan: usize,
    c: usize,
    seeds: &[u64],
    max_shards: Option<u32>,
    filter: &InstanceFilter,
) -> Result<InstanceClusterSize, SweepError> {
    let cl = &scn.clusters[c];
    let own = cl.instance.as_ref().expect("declared by instance");
    let base = InstanceShape {
        instance: own.instance.name.clone(),
        shards: cl.shards,
        replicas_per_shard: cl.replicas_per_shard,
    };
    let max_shards = max_shards.unwrap_or((cl.shards * 2).max(4)).max(1);
    let mut cands = candidates(scn, c, filter, max_shards);
    if cands.is_empty() {
        return Err(SweepError::input(format!(
            "cluster {}: no node type of the catalogue matches the --instances filter in {}\n  \
             hint: give parts of names (r7g, m7g) or providers (aws-elasticache)",
            cl.name, own.instance.currency
        )));
    }
    let scope = Scope::cluster(scn, plan, c);
    let name = cl.name.clone();
    let run = |cand: &mut Candidate, excluded: &[String]| -> Result<Vec<Measure>, SweepError> {
        let (s, results) = evaluate_with_instances(
            doc,
            file,
            plan,
            &[(name.clone(), cand.shape.clone())],
            &[],
            seeds,
        )?;
        let measures = slo::measure(&s, &results, &scope);
        cand.ran = true;
        cand.failed = measures
            .iter()
            .filter(|m| !m.pass() && !excluded.contains(&m.key()))
            .map(Measure::key)
            .collect();
        cand.pass = cand.failed.is_empty();
        cand.slo_margin = relative_margin(&measures, excluded);
        Ok(measures)
    };
    // The most capable: the largest node (its maxmemory before the replication backlog), the
    // most shards, the most replicas (they serve replica reads and take failovers), cheapest.
    let node_size = |c: &Candidate| {
        c.maxmemory_bytes
            + if c.shape.replicas_per_shard > 0 {
                crate::scenario::instances::REPL_BACKLOG_BYTES
            } else {
                0
            }
    };
    let strongest = (0..cands.len())
        .max_by(|&a, &b| {
            let (x, y) = (&cands[a], &cands[b]);
            node_size(x)
                .cmp(&node_size(y))
                .then(x.shape.shards.cmp(&y.shape.shards))
                .then(x.shape.replicas_per_shard.cmp(&y.shape.replicas_per_shard))
                .then(y.monthly_cost.total_cmp(&x.monthly_cost))
        })
        .expect("not empty");
    let measures = run(&mut cands[strongest], &[])?;
    let unattainable: Vec<String> = measures
        .iter()
        .filter(|m| !m.pass())
        .map(Measure::key)
        .collect();
    cands[strongest].failed.clear();
    cands[strongest].pass = true;
    cands[strongest].slo_margin = relative_margin(&measures, &unattainable);
    let mut chosen = None;
    for i in 0..cands.len() {
        if !cands[i].ran {
            let dominated = cands.iter().any(|f| {
                f.ran
                    && !f.pass
                    && f.shape.replicas_per_shard == cands[i].shape.replicas_per_shard
                    && f.maxmemory_bytes >= cands[i].maxmemory_bytes
                    && f.shape.shards >= cands[i].shape.shards
            });
            if dominated {
                continue;
            }
            run(&mut cands[i], &unattainable)?;
        }
        if cands[i].pass {
            chosen = Some(i);
            break;
        }
    }
    Ok(InstanceClusterSize {
        plan,
        cluster: c,
        base,
        candidates: cands,
        chosen,
        unattainable,
    })
}

/// Indices of the Pareto front of the candidates that ran: none other is at most as dear with
/// at least as much margin and better on one of the two. Ascending cost.
pub fn pareto_front(cands: &[Candidate]) -> Vec<usize> {
    let ran: Vec<(usize, f64, f64)> = cands
        .iter()
        .enumerate()
        .filter_map(|(i, c)| Some((i, c.monthly_cost, c.slo_margin?)).filter(|_| c.ran))
        .collect();
    let mut front: Vec<usize> = ran
        .iter()
        .filter(|&&(_, cost, margin)| {
            !ran.iter()
                .any(|&(_, c2, m2)| c2 <= cost && m2 >= margin && (c2 < cost || m2 > margin))
        })
        .map(|&(i, _, _)| i)
        .collect();
    front.sort_by(|&a, &b| cands[a].monthly_cost.total_cmp(&cands[b].monthly_cost));
    front
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sweep::slo::Direction;

    fn cand(cost: f64, margin: Option<f64>, ran: bool) -> Candidate {
        Candidate {
            shape: InstanceShape {
                instance: "x".into(),
                shards: 1,
                replicas_per_shard: 0,
            },
            nodes: 1,
            monthly_cost: cost,
            maxmemory_bytes: 1,
            ran,
            pass: margin.is_some_and(|m| m >= 0.0),
            failed: Vec::new(),
            slo_margin: margin,
        }
    }

    #[test]
    fn the_pareto_front_keeps_only_undominated_candidates() {
        let c = vec![
            cand(10.0, Some(-0.5), true),
            cand(20.0, Some(-0.6), true), // dearer and worse than the first
            cand(30.0, Some(0.1), true),
            cand(30.0, Some(0.05), true), // as dear, less margin
            cand(40.0, Some(0.3), true),
            cand(50.0, None, false),
        ];
        assert_eq!(pareto_front(&c), vec![0, 2, 4]);
    }

    #[test]
    fn relative_margins_scale_by_the_target() {
        let m = |target: f64, measured: f64, direction| Measure {
            metric: "m",
            subject: format!("{target}"),
            target,
            direction,
            measured: Some(measured),
        };
        let ms = vec![
            m(0.9, 0.95, Direction::AtLeast), // +0.05 / 1
            m(50.0, 40.0, Direction::AtMost), // +10 / 50 = 0.2
            m(0.0, 3.0, Direction::AtMost),   // −3 / 1
        ];
        assert_eq!(relative_margin(&ms, &[]), Some(-3.0));
        assert!((relative_margin(&ms[..2], &[]).unwrap() - 0.05).abs() < 1e-12);
        assert!((relative_margin(&ms, &["m 0".into()]).unwrap() - 0.05).abs() < 1e-12);
    }
}
