//! Where a plan's shards break on the network and on connections: each shard's bytes per
//! second in (requests) and out (replies), mean and peak over the time windows after the
//! warm-up, against its node's network baseline; and the client connections the application
//! instances hold to it, against `maxclients`. Pure functions of a scenario and a run, read by
//! `report` (CSV, verdict, report section) and `sweep::slo`; no formatting.
//!
//! Connections to a shard: every application instance keeps `connections_per_instance`
//! connections for commands to every shard of a cluster it uses (Lettuce: one shared
//! connection per node; a Jedis pool: up to `maxTotal`, 8 by default), plus one pub/sub
//! subscriber connection per instance to a cluster holding a keyspace with a local (L1)
//! cache (its invalidations), instance `i` subscribing on shard `i mod shards`.

use super::summary::{measured_s, window_len_s};
use super::PlanResult;
use crate::scenario::Scenario;

/// One shard's network and connection figures in one plan.
#[derive(Clone, Debug, PartialEq)]
pub struct ShardNetwork {
    /// Request bytes per second after the warm-up, mean.
    pub bytes_in_per_s_mean: f64,
    /// Highest request bytes per second of a window after the warm-up.
    pub bytes_in_per_s_peak: f64,
    /// Reply bytes per second after the warm-up, mean.
    pub bytes_out_per_s_mean: f64,
    /// Highest reply bytes per second of a window after the warm-up.
    pub bytes_out_per_s_peak: f64,
    /// The node's baseline bandwidth (bytes/s), when known.
    pub baseline_bytes_per_s: Option<u64>,
    /// The larger peak (in or out) / baseline; `None` without a baseline.
    pub utilization_peak: Option<f64>,
    /// Client connections the application instances hold to the shard.
    pub connections: u64,
    /// The shard's `maxclients`.
    pub maxclients: u32,
}

/// Subscriber connections on shard `shard` of a cluster of `shards` shards when each of
/// `instances` instances subscribes on shard `instance mod shards`.
pub fn subscribers_on_shard(instances: u64, shards: u64, shard: u64) -> u64 {
    instances / shards + u64::from(shard < instances % shards)
}

/// Client connections to shard `shard` of cluster `cluster` in plan `plan`.
pub fn shard_connections(scn: &Scenario, plan: usize, cluster: usize, shard: usize) -> u64 {
    let c = &scn.clusters[cluster];
    let instances = scn.app_instances as u64;
    let commands = instances * c.connections_per_instance as u64;
    let has_l1 = scn.keyspaces.iter().enumerate().any(|(ki, k)| {
        scn.plans[plan].cluster_of_keyspace[ki] == cluster && k.strategy.local_cache.is_some()
    });
    let subscribers = if has_l1 {
        subscribers_on_shard(instances, c.shards as u64, shard as u64)
    } else {
        0
    };
    commands + subscribers
}

/// Every shard of `res` (plan order), its network and connections.
pub fn shard_network(scn: &Scenario, res: &PlanResult) -> Vec<ShardNetwork> {
    let measured = measured_s(scn);
    let mut peaks = vec![(0.0f64, 0.0f64); res.shards.len()];
    for (wi, w) in res.windows.iter().enumerate() {
        let len = window_len_s(scn, res, wi);
        if w.start < scn.warmup || len <= 0.0 {
            continue;
        }
        for (si, p) in peaks.iter_mut().enumerate() {
            let bytes_in = w.shard_bytes_in.get(si).copied().unwrap_or(0);
            let bytes_out = w.shard_bytes_out.get(si).copied().unwrap_or(0);
            p.0 = p.0.max(bytes_in as f64 / len);
            p.1 = p.1.max(bytes_out as f64 / len);
        }
    }
    res.shards
        .iter()
        .zip(peaks)
        .map(|(s, (peak_in, peak_out))| {
            let per_s = |b: u64| {
                if measured > 0.0 {
                    b as f64 / measured
                } else {
                    0.0
                }
            };
            let c = &scn.clusters[s.cluster];
            let baseline = c.network_baseline_bytes_per_s;
            ShardNetwork {
                bytes_in_per_s_mean: per_s(s.bytes_in),
                bytes_in_per_s_peak: peak_in,
                bytes_out_per_s_mean: per_s(s.bytes_out),
                bytes_out_per_s_peak: peak_out,
                baseline_bytes_per_s: baseline,
                utilization_peak: baseline.map(|b| peak_in.max(peak_out) / b as f64),
                connections: shard_connections(scn, res.plan, s.cluster, s.shard),
                maxclients: c.maxclients,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subscribers_spread_round_robin() {
        // 6 instances on 4 shards: shards 0 and 1 get two, 2 and 3 one.
        let per: Vec<u64> = (0..4).map(|s| subscribers_on_shard(6, 4, s)).collect();
        assert_eq!(per, vec![2, 2, 1, 1]);
        assert_eq!(per.iter().sum::<u64>(), 6);
        assert_eq!(subscribers_on_shard(3, 8, 5), 0);
    }
}
