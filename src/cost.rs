//! What a plan costs: its nodes (Σ over the clusters it uses of shards × (1 +
//! `replicas_per_shard`)) and its monthly cost. A cluster declared by `instance` costs nodes ×
//! the catalogue's hourly price × 730 h (`scenario::instances::HOURS_PER_MONTH`); any other
//! cluster keeps the scenario's own model, shards × `cost_per_shard` + shards × GB of
//! maxmemory × `cost_per_gb` (per month). Pure arithmetic over a resolved `Scenario`; the
//! console, the CSVs, the report and `size` all read their costs here.

use crate::scenario::{Cluster, Scenario};

/// Bytes in the GB of `cost_per_gb` (GiB, as `maxmemory` sizes are read).
const BYTES_PER_GB: f64 = (1u64 << 30) as f64;

/// Nodes of a cluster: shards × (1 + replicas per shard).
pub fn cluster_nodes(c: &Cluster) -> u32 {
    c.shards.saturating_mul(1 + c.replicas_per_shard)
}

/// Monthly cost of one shard of `c` with its replicas.
pub fn shard_monthly_cost(c: &Cluster) -> f64 {
    match &c.instance {
        Some(i) => f64::from(1 + c.replicas_per_shard) * i.instance.monthly_price(),
        None => shape_monthly_cost(c, 1, c.redis.maxmemory_bytes),
    }
}

/// Monthly cost of `shards` shards of `maxmemory_bytes` each under the scenario's own model
/// of a cluster not declared by instance: shards × (`cost_per_shard` + GB × `cost_per_gb`).
pub fn shape_monthly_cost(c: &Cluster, shards: u32, maxmemory_bytes: u64) -> f64 {
    f64::from(shards) * (c.cost_per_shard + maxmemory_bytes as f64 / BYTES_PER_GB * c.cost_per_gb)
}

/// Monthly cost of the whole cluster.
pub fn cluster_monthly_cost(c: &Cluster) -> f64 {
    f64::from(c.shards) * shard_monthly_cost(c)
}

/// The currency costs are in: the instances' (one per scenario, checked when it is resolved),
/// or "units" when no cluster is declared by instance.
pub fn currency(scn: &Scenario) -> &str {
    scn.clusters
        .iter()
        .find_map(|c| c.instance.as_ref().map(|i| i.instance.currency.as_str()))
        .unwrap_or("units")
}

/// A plan's nodes and monthly cost.
#[derive(Clone, Debug, PartialEq)]
pub struct PlanCost {
    /// Plan index.
    pub plan: usize,
    /// The clusters the plan places keyspaces on, scenario order.
    pub clusters: Vec<usize>,
    /// Σ shards × (1 + replicas) over those clusters.
    pub nodes: u32,
    /// Σ of their monthly costs.
    pub monthly_cost: f64,
}

/// The clusters plan `plan` uses (holds at least one keyspace), scenario order.
pub fn used_clusters(scn: &Scenario, plan: usize) -> Vec<usize> {
    let mut c = scn.plans[plan].cluster_of_keyspace.clone();
    c.sort_unstable();
    c.dedup();
    c
}

/// The cost of plan `plan`.
pub fn plan_cost(scn: &Scenario, plan: usize) -> PlanCost {
    let clusters = used_clusters(scn, plan);
    PlanCost {
        plan,
        nodes: clusters
            .iter()
            .map(|&c| cluster_nodes(&scn.clusters[c]))
            .sum(),
        monthly_cost: clusters
            .iter()
            .map(|&c| cluster_monthly_cost(&scn.clusters[c]))
            .sum(),
        clusters,
    }
}

/// Every plan's cost, plan order.
pub fn plan_costs(scn: &Scenario) -> Vec<PlanCost> {
    (0..scn.plans.len()).map(|p| plan_cost(scn, p)).collect()
}

/// Each cost over the cheapest (1 for the cheapest; `None` when the cheapest costs nothing).
pub fn ratios_to_cheapest(costs: &[PlanCost]) -> Vec<Option<f64>> {
    let cheapest = costs
        .iter()
        .map(|c| c.monthly_cost)
        .fold(f64::INFINITY, f64::min);
    costs
        .iter()
        .map(|c| (cheapest > 0.0).then(|| c.monthly_cost / cheapest))
        .collect()
}

/// One sentence comparing the plans at equal cost: which is cheapest and what each other costs
/// relative to it ("" with fewer than two plans).
pub fn comparison_text(scn: &Scenario, costs: &[PlanCost]) -> String {
    if costs.len() < 2 {
        return String::new();
    }
    let ratios = ratios_to_cheapest(costs);
    let Some(cheapest) = costs
        .iter()
        .min_by(|a, b| a.monthly_cost.total_cmp(&b.monthly_cost))
    else {
        return String::new();
    };
    let others: Vec<String> = costs
        .iter()
        .zip(&ratios)
        .filter(|(c, _)| c.plan != cheapest.plan)
        .map(|(c, r)| match r {
            Some(r) => format!("{} costs {r:.2}× as much", scn.plans[c.plan].name),
            None => format!("{} costs {:.2}", scn.plans[c.plan].name, c.monthly_cost),
        })
        .collect();
    format!(
        "at equal cost: {} is the cheapest ({:.2} {} per month); {}",
        scn.plans[cheapest.plan].name,
        cheapest.monthly_cost,
        currency(scn),
        others.join(", ")
    )
}

/// One line per cluster declared by instance: the node type, its replicas, how maxmemory was
/// derived, the network baseline and the price with its region, date and source (the resolved
/// scenario as the console and the report echo it).
pub fn describe_instance_clusters(scn: &Scenario) -> Vec<String> {
    scn.clusters
        .iter()
        .filter_map(|c| {
            let ci = c.instance.as_ref()?;
            let i = &ci.instance;
            let network = i
                .network_baseline_bytes_per_s
                .map_or("network baseline not published".to_string(), |b| {
                    format!("network baseline {} Gbit/s", b as f64 * 8.0 / 1e9)
                });
            Some(format!(
                "cluster {}: {} × {} with {} replica(s) per shard = {} nodes; {}; {}; {:.2} {} per \
                 node-month ({} {}/h × {} h, {}, as of {}, from {})",
                c.name,
                c.shards,
                i.name,
                c.replicas_per_shard,
                cluster_nodes(c),
                ci.derived.explain(i),
                network,
                i.monthly_price(),
                i.currency,
                i.hourly_price,
                i.currency,
                crate::scenario::instances::HOURS_PER_MONTH,
                i.region,
                i.as_of,
                i.defined_in
            ))
        })
        .collect()
}

/// The per-plan cost table as console lines: plan, nodes, monthly cost, ratio to the cheapest,
/// then the equal-cost comparison sentence.
pub fn console_lines(scn: &Scenario) -> Vec<String> {
    let costs = plan_costs(scn);
    let ratios = ratios_to_cheapest(&costs);
    let mut out = vec![format!(
        "{:<20} {:>6} {:>18} {:>12}",
        "plan",
        "nodes",
        format!("{}/month", currency(scn)),
        "vs cheapest"
    )];
    for (c, r) in costs.iter().zip(&ratios) {
        out.push(format!(
            "{:<20} {:>6} {:>18.2} {:>12}",
            scn.plans[c.plan].name,
            c.nodes,
            c.monthly_cost,
            r.map_or("-".to_string(), |r| format!("{r:.2}×"))
        ));
    }
    let text = comparison_text(scn, &costs);
    if !text.is_empty() {
        out.push(text);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cost(plan: usize, monthly_cost: f64) -> PlanCost {
        PlanCost {
            plan,
            clusters: vec![0],
            nodes: 1,
            monthly_cost,
        }
    }

    #[test]
    fn ratios_are_to_the_cheapest_and_absent_when_it_is_free() {
        let r = ratios_to_cheapest(&[cost(0, 300.0), cost(1, 150.0), cost(2, 450.0)]);
        assert_eq!(r, vec![Some(2.0), Some(1.0), Some(3.0)]);
        assert_eq!(
            ratios_to_cheapest(&[cost(0, 0.0), cost(1, 5.0)]),
            vec![None, None]
        );
    }
}
