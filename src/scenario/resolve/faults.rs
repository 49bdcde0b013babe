//! `[[faults]]` into `Fault`s: each kind's own fields (serde has already refused fields of
//! another kind and asked for the required ones) resolved against the clusters, keyspaces and
//! application instances, the interval checked against the run, and contradictory overlaps on
//! one shard refused.

use super::checks::{bounded_name, find, int_in, non_negative_ms, positive_at_most, positive_ms};
use super::{Path, MAX_RATE_MULTIPLIER, MAX_SLOWDOWN, R};
use crate::engine::SimTime;
use crate::scenario::defaults;
use crate::scenario::model::*;
use crate::scenario::raw::*;
use crate::scenario::units::Millis;

/// What a fault is resolved against.
pub(super) struct FaultContext<'a> {
    pub duration: SimTime,
    pub app_instances: u32,
    pub clusters: &'a [Cluster],
    pub cluster_names: &'a [&'a str],
    pub keyspace_names: &'a [&'a str],
}

/// The latest a failover's slots can be back: node timeout + 500 ms + 500 ms + rank x 1 s
/// (cluster.c clusterHandleSlaveFailover; REDIS-MODEL.md section 11).
pub fn failover_max_unavailable(node_timeout: SimTime, replica_rank: u32) -> SimTime {
    node_timeout + SimTime::from_ms(1_000 + 1_000 * replica_rank as u64)
}

/// Where a fault strikes: a cluster, optionally one of its shards, optionally some instances.
struct Target {
    cluster: Option<usize>,
    shard: Option<u32>,
    instances: Vec<u32>,
}

/// The fault's cluster and shard.
fn cluster_and_shard(
    p: &Path,
    ctx: &FaultContext,
    cluster: &str,
    shard: Option<i64>,
) -> R<(usize, Option<u32>)> {
    let c = find(&p.key("cluster"), ctx.cluster_names, cluster, "cluster")?;
    let Some(sh) = shard else {
        return Ok((c, None));
    };
    let shards = ctx.clusters[c].shards;
    if sh < 0 || sh >= shards as i64 {
        return Err(p.key("shard").err(
            format!("cluster \"{}\" has no shard {sh}", ctx.cluster_names[c]),
            format!("allowed: 0 to {}", shards - 1),
        ));
    }
    Ok((c, Some(sh as u32)))
}

/// The application instances a fault hits (empty = all).
fn instances(p: &Path, ctx: &FaultContext, given: &Option<Vec<i64>>) -> R<Vec<u32>> {
    let mut out = Vec::new();
    for (j, &inst) in given.iter().flatten().enumerate() {
        out.push(int_in(
            &p.key("instances").idx(j),
            inst,
            0,
            ctx.app_instances as i64 - 1,
        )?);
    }
    if given.as_ref().is_some_and(|v| v.is_empty()) {
        return Err(p.key("instances").err(
            "is empty",
            "list application instances (0-based), or remove it for all",
        ));
    }
    Ok(out)
}

/// `mode`, or its default for the kind.
fn mode(p: &Path, given: &Option<String>, default: &str) -> R<DownMode> {
    match given.as_deref().unwrap_or(default) {
        "refused" => Ok(DownMode::Refused),
        "timeout" => Ok(DownMode::Timeout),
        other => Err(p.key("mode").err(
            format!("unknown mode \"{other}\""),
            "use refused (connection refused: immediate error) or timeout (the client waits client_timeout_ms)",
        )),
    }
}

/// A service-time or round-trip multiplier.
fn slowdown(p: &Path, m: f64) -> R<f64> {
    positive_at_most(&p.key("multiplier"), m, MAX_SLOWDOWN, "a slowdown")
}

/// Resolves one `[[faults]]` entry.
pub(super) fn fault(p: &Path, f: &RawFault, ctx: &FaultContext) -> R<Fault> {
    let timing = f.timing();
    let start = non_negative_ms(&p.key("start_ms"), timing.start_ms)?;
    if start >= ctx.duration {
        return Err(p.key("start_ms").err(
            "starts after the end of the run",
            "move it before simulation.duration_ms",
        ));
    }
    let on = |cluster: &str, shard: Option<i64>| -> R<Target> {
        let (c, sh) = cluster_and_shard(p, ctx, cluster, shard)?;
        Ok(Target {
            cluster: Some(c),
            shard: sh,
            instances: Vec::new(),
        })
    };
    let ends_at = |e: Millis| -> R<SimTime> {
        let end = non_negative_ms(&p.key("end_ms"), e)?;
        if end <= start {
            return Err(p.key("end_ms").err(
                format!(
                    "ends before it starts ({} ms <= start_ms {} ms)",
                    end.as_ms(),
                    start.as_ms()
                ),
                "make end_ms later than start_ms",
            ));
        }
        if end > ctx.duration {
            return Err(p.key("end_ms").err(
                "ends after the end of the run",
                "make end_ms at most simulation.duration_ms",
            ));
        }
        Ok(end)
    };
    let nowhere = Target {
        cluster: None,
        shard: None,
        instances: Vec::new(),
    };
    let (kind, target, end) = match f {
        RawFault::ShardDown(f) => (
            FaultKind::ShardDown {
                mode: mode(p, &f.mode, defaults::SHARD_DOWN_MODE)?,
            },
            on(&f.cluster, f.shard)?,
            ends_at(f.end_ms)?,
        ),
        RawFault::ShardSlow(f) => {
            let target = on(&f.cluster, f.shard)?;
            let end = ends_at(f.end_ms)?;
            let multiplier = slowdown(p, f.multiplier)?;
            (FaultKind::ShardSlow { multiplier }, target, end)
        }
        RawFault::LatencySpike(f) => {
            let mut target = on(&f.cluster, f.shard)?;
            let end = ends_at(f.end_ms)?;
            target.instances = instances(p, ctx, &f.instances)?;
            let multiplier = slowdown(p, f.multiplier)?;
            (FaultKind::LatencySpike { multiplier }, target, end)
        }
        RawFault::Failover(f) => {
            let target = on(&f.cluster, Some(f.shard))?;
            let mode = mode(p, &f.mode, defaults::FAILOVER_MODE)?;
            let cluster = &ctx.clusters[target.cluster.expect("a failover names its cluster")];
            if cluster.replicas_per_shard == 0 {
                return Err(p.key("cluster").err(
                    format!(
                        "cluster \"{}\" has no replicas: a failover promotes one",
                        cluster.name
                    ),
                    format!(
                        "set replicas_per_shard = 1 (or more) on cluster \"{}\", or use \
                         kind = \"shard-down\" for a master that fails with nothing to promote",
                        cluster.name
                    ),
                ));
            }
            let replication_lag = match f.replication_lag_ms {
                Some(v) => Some(non_negative_ms(&p.key("replication_lag_ms"), v)?),
                None => None,
            };
            let node_timeout = match f.node_timeout_ms {
                Some(v) => positive_ms(&p.key("node_timeout_ms"), v)?,
                None => SimTime::from_ms(defaults::NODE_TIMEOUT_MS),
            };
            let replica_rank = int_in(
                &p.key("replica_rank"),
                f.replica_rank.unwrap_or(defaults::REPLICA_RANK),
                0,
                cluster.replicas_per_shard as i64 - 1,
            )?;
            // A failover ends when the replica is promoted (at the latest).
            let end = start + failover_max_unavailable(node_timeout, replica_rank);
            let kind = FaultKind::Failover {
                mode,
                replication_lag,
                node_timeout,
                replica_rank,
            };
            (kind, target, end)
        }
        RawFault::ClusterRestart(f) => (
            FaultKind::ClusterRestart,
            on(&f.cluster, None)?,
            ends_at(f.end_ms)?,
        ),
        RawFault::TrafficBurst(f) => {
            let end = ends_at(f.end_ms)?;
            if f.keyspaces.is_empty() {
                return Err(p
                    .key("keyspaces")
                    .err("is empty", "list the keyspaces whose traffic bursts"));
            }
            let mut keyspaces = Vec::new();
            for (j, n) in f.keyspaces.iter().enumerate() {
                keyspaces.push(find(
                    &p.key("keyspaces").idx(j),
                    ctx.keyspace_names,
                    n,
                    "keyspace",
                )?);
            }
            let multiplier = positive_at_most(
                &p.key("multiplier"),
                f.multiplier,
                MAX_RATE_MULTIPLIER,
                "a rate multiplier",
            )?;
            (
                FaultKind::TrafficBurst {
                    multiplier,
                    keyspaces,
                },
                nowhere,
                end,
            )
        }
        RawFault::SubscriberDisconnect(f) => {
            let end = ends_at(f.end_ms)?;
            let target = Target {
                instances: instances(p, ctx, &f.instances)?,
                ..nowhere
            };
            (FaultKind::SubscriberDisconnect, target, end)
        }
    };
    let name = match &timing.name {
        Some(n) if n.is_empty() => {
            return Err(p
                .key("name")
                .err("is empty", "give it a label, or remove it"))
        }
        Some(n) => {
            bounded_name(&p.key("name"), n)?;
            n.clone()
        }
        None => {
            let where_ = match (target.cluster, target.shard) {
                (Some(c), Some(sh)) => format!(" {}/{sh}", ctx.cluster_names[c]),
                (Some(c), None) => format!(" {}", ctx.cluster_names[c]),
                _ => String::new(),
            };
            format!("{}{where_}", kind.as_str())
        }
    };
    Ok(Fault {
        name,
        kind,
        cluster: target.cluster,
        shard: target.shard,
        instances: target.instances,
        start,
        end,
        attribution: match timing.attribution_ms {
            Some(v) => non_negative_ms(&p.key("attribution_ms"), v)?,
            None => SimTime::from_ms(defaults::ATTRIBUTION_MS),
        },
    })
}

/// Which faults contradict each other when they overlap on a shard: a shard cannot be down,
/// failing over and restarting at once, nor slowed (or its network spiked) by two multipliers.
fn conflict_class(k: &FaultKind) -> Option<u8> {
    match k {
        FaultKind::ShardDown { .. } | FaultKind::Failover { .. } | FaultKind::ClusterRestart => {
            Some(0)
        }
        FaultKind::ShardSlow { .. } => Some(1),
        FaultKind::LatencySpike { .. } => Some(2),
        FaultKind::TrafficBurst { .. } | FaultKind::SubscriberDisconnect => None,
    }
}

/// Rejects overlapping contradictory faults on one shard.
pub(super) fn check_fault_overlaps(p: &Path, faults: &[Fault]) -> R<()> {
    for (j, b) in faults.iter().enumerate() {
        for (i, a) in faults[..j].iter().enumerate() {
            let (Some(ca), Some(cb)) = (conflict_class(&a.kind), conflict_class(&b.kind)) else {
                continue;
            };
            let same_shard = a.cluster == b.cluster
                && (a.shard.is_none() || b.shard.is_none() || a.shard == b.shard);
            let overlap = a.start < b.end && b.start < a.end;
            if ca == cb && same_shard && overlap {
                return Err(p.idx(j).key("start_ms").err(
                    format!(
                        "overlaps faults[{i}] (\"{}\", {} from {} to {} ms) on the same shard",
                        a.name,
                        a.kind.as_str(),
                        a.start.as_ms(),
                        a.end.as_ms()
                    ),
                    "move one of them: a shard cannot be in two such faults at once",
                ));
            }
        }
    }
    Ok(())
}
