//! `[[origins]]` and `[[clusters]]` into `Origin`s and `Cluster`s: pools and queues of the
//! databases behind the cache; Redis settings (with Redis's own defaults), slot ownership,
//! service times, round trips, costs, replicas and replication lag of the clusters.

use super::checks::{cost, dist, int_in, positive_ms, unique_names, Quantity};
use super::{Path, MAX_MAXMEMORY_BYTES, R};
use crate::engine::SimTime;
use crate::redis::evict::MaxmemoryPolicy;
use crate::redis::shard::RedisConfig;
use crate::redis::slots::SlotMap;
use crate::scenario::defaults;
use crate::scenario::dist::Dist;
use crate::scenario::instances::{derive_maxmemory, Instance};
use crate::scenario::model::*;
use crate::scenario::raw::{RawCluster, RawOrigin};

/// Resolves `[[origins]]`.
pub(super) fn origins(raw: &[RawOrigin]) -> R<Vec<Origin>> {
    let op = Path::root().key("origins");
    unique_names(&op, raw.iter().map(|o| o.name.as_str()))?;
    let mut origins = Vec::new();
    for (i, o) in raw.iter().enumerate() {
        let p = op.idx(i);
        origins.push(Origin {
            name: o.name.clone(),
            concurrency: int_in(&p.key("concurrency"), o.concurrency, 1, 1_000_000)?,
            service_time_ms: dist(&p.key("service_time_ms"), &o.service_time_ms, Quantity::Ms)?,
            queue_limit: int_in(
                &p.key("queue_limit"),
                o.queue_limit.unwrap_or(defaults::ORIGIN_QUEUE_LIMIT),
                0,
                10_000_000,
            )?,
            timeout: match o.timeout_ms {
                Some(t) => positive_ms(&p.key("timeout_ms"), t)?,
                None => SimTime::from_ms(defaults::ORIGIN_TIMEOUT_MS),
            },
        });
    }
    Ok(origins)
}

/// Resolves `[[clusters]]`; `catalogue` holds the node types `instance` may name,
/// `app_instances` the connections per shard assumed for client buffers, `start_unix_ms` the
/// run's wall clock at time 0 (Redis's LRU and LFU clocks and expire times start there).
pub(super) fn clusters(
    raw: &[RawCluster],
    catalogue: &[Instance],
    app_instances: u32,
    start_unix_ms: u64,
) -> R<Vec<Cluster>> {
    let cp = Path::root().key("clusters");
    if raw.is_empty() {
        return Err(cp.err("no clusters", "add at least one [[clusters]] table"));
    }
    unique_names(&cp, raw.iter().map(|c| c.name.as_str()))?;
    let mut clusters = Vec::new();
    for (i, c) in raw.iter().enumerate() {
        let p = cp.idx(i);
        let shards = int_in(&p.key("shards"), c.shards, 1, 16_384)?;
        let policy_name = c
            .maxmemory_policy
            .as_deref()
            .unwrap_or(defaults::MAXMEMORY_POLICY);
        let policy = MaxmemoryPolicy::parse(policy_name).ok_or_else(|| {
            p.key("maxmemory_policy").err(
                format!("unknown maxmemory-policy \"{policy_name}\""),
                format!(
                    "use {}",
                    MaxmemoryPolicy::ALL.map(MaxmemoryPolicy::as_str).join(", ")
                ),
            )
        })?;
        let cluster_enabled = c.cluster_enabled.unwrap_or(shards > 1);
        if shards > 1 && !cluster_enabled {
            return Err(p.key("cluster_enabled").err(
                "several shards need cluster mode",
                "set cluster_enabled = true or shards = 1",
            ));
        }
        let replicas_per_shard: u32 = int_in(
            &p.key("replicas_per_shard"),
            c.replicas_per_shard
                .unwrap_or(defaults::REPLICAS_PER_SHARD as i64),
            0,
            15,
        )?;
        let instance = match &c.instance {
            None => None,
            Some(name) => Some(
                catalogue
                    .iter()
                    .find(|i| &i.name == name)
                    .cloned()
                    .ok_or_else(|| {
                        p.key("instance").err(
                            format!("unknown instance \"{name}\""),
                            format!(
                                "use a node type of the catalogue ({}...), or define it in \
                                 [[instances]] or a file of simulation.instance_catalogue",
                                nearest_names(catalogue, name).join(", ")
                            ),
                        )
                    })?,
            ),
        };
        let derived = instance
            .as_ref()
            .map(|i| derive_maxmemory(i, replicas_per_shard, app_instances));
        let maxmemory_bytes = match (&c.maxmemory_bytes, &derived) {
            (Some(_), Some(_)) => {
                return Err(p.key("maxmemory_bytes").err(
                    "both maxmemory_bytes and instance give the maxmemory",
                    "drop maxmemory_bytes (the instance derives it: memory − reserve − \
                     replication backlog − client buffers), or drop instance and price the \
                     cluster with cost_per_shard/cost_per_gb",
                ))
            }
            (None, None) => {
                return Err(p.key("maxmemory_bytes").err(
                    "missing field `maxmemory_bytes`",
                    "give maxmemory per shard, e.g. \"256mb\", or a node type with instance = \
                     \"cache.r7g.large\"",
                ))
            }
            (Some(m), None) => m.0,
            (None, Some(d)) => d.maxmemory_bytes,
        };
        if maxmemory_bytes > MAX_MAXMEMORY_BYTES {
            return Err(p.key("maxmemory_bytes").err(
                format!("{maxmemory_bytes} bytes is more than one shard can have"),
                "allowed: up to \"1tb\" per shard (0 = no limit)",
            ));
        }
        if instance.is_some() && (c.cost_per_shard.is_some() || c.cost_per_gb.is_some()) {
            let field = if c.cost_per_shard.is_some() {
                "cost_per_shard"
            } else {
                "cost_per_gb"
            };
            return Err(p.key(field).err(
                "a cluster declared by instance is priced by its catalogue entry",
                "drop the cost field, or give your price in an [[instances]] entry",
            ));
        }
        let redis = RedisConfig {
            maxmemory_bytes,
            maxmemory_policy: policy,
            maxmemory_samples: int_in(
                &p.key("maxmemory_samples"),
                c.maxmemory_samples.unwrap_or(defaults::MAXMEMORY_SAMPLES),
                1,
                64,
            )?,
            maxmemory_eviction_tenacity: int_in(
                &p.key("maxmemory_eviction_tenacity"),
                c.maxmemory_eviction_tenacity
                    .unwrap_or(defaults::MAXMEMORY_EVICTION_TENACITY),
                0,
                100,
            )?,
            hz: int_in(&p.key("hz"), c.hz.unwrap_or(defaults::HZ), 1, 500)?,
            lfu_log_factor: int_in(
                &p.key("lfu_log_factor"),
                c.lfu_log_factor.unwrap_or(defaults::LFU_LOG_FACTOR),
                0,
                1_000_000,
            )?,
            lfu_decay_time: int_in(
                &p.key("lfu_decay_time"),
                c.lfu_decay_time.unwrap_or(defaults::LFU_DECAY_TIME),
                0,
                1_000_000,
            )?,
            active_expire_effort: int_in(
                &p.key("active_expire_effort"),
                c.active_expire_effort
                    .unwrap_or(defaults::ACTIVE_EXPIRE_EFFORT),
                1,
                10,
            )?,
            cluster_enabled,
            epoch_unix_ms: start_unix_ms,
            ..RedisConfig::default()
        };
        // A calibration file's measured figures replace the built-in ones.
        let calibration = c.calibration_loaded.as_ref();
        let mut redis = redis;
        if let Some(cal) = calibration.filter(|cal| !cal.shapes.is_empty()) {
            // Per data type (strings per size class), from the measured shapes.
            redis.base_used_memory_bytes = cal.base_used_memory_bytes;
            redis.type_bytes_adjust = crate::calibrate::type_bytes_adjust(&cal.shapes)
                .ok_or_else(|| {
                    p.key("calibration").err(
                        "a shape's measured bytes per key differ from the model's by more than 1 MiB",
                        "recalibrate: the corrections are a few bytes per key",
                    )
                })?;
        } else if let Some(cal) = calibration {
            redis.base_used_memory_bytes = cal.base_used_memory_bytes;
            redis.key_bytes_adjust = i32::try_from(cal.key_bytes_adjust)
                .ok()
                .filter(|a| a.abs() < 1 << 20)
                .ok_or_else(|| {
                    p.key("calibration").err(
                        format!("key_bytes_adjust {} is out of range", cal.key_bytes_adjust),
                        "recalibrate: the adjustment is a few bytes per key",
                    )
                })?;
        }
        if let (Some(i), Some(d)) = (&instance, &derived) {
            if d.maxmemory_bytes <= redis.base_used_memory_bytes {
                return Err(p.key("instance").err(
                    format!(
                        "\"{}\" leaves {} bytes of maxmemory, not more than the {} bytes an \
                         empty Redis 7 server uses",
                        i.name, d.maxmemory_bytes, redis.base_used_memory_bytes
                    ),
                    format!("choose a larger node type ({})", d.explain(i)),
                ));
            }
        }
        if redis.maxmemory_bytes > 0 && redis.maxmemory_bytes <= redis.base_used_memory_bytes {
            return Err(p.key("maxmemory_bytes").err(
                format!(
                    "{} bytes is below the {} bytes an empty Redis 7 server uses",
                    redis.maxmemory_bytes, redis.base_used_memory_bytes
                ),
                "give maxmemory per shard, e.g. \"256mb\" (0 = no limit)",
            ));
        }
        let slot_map = match &c.slots {
            None => SlotMap::even(shards as usize),
            Some(ranges) => {
                let mut rs = Vec::new();
                for (j, r) in ranges.iter().enumerate() {
                    let q = p.key("slots").idx(j);
                    rs.push((
                        int_in(&q.key("shard"), r.shard, 0, shards as i64 - 1)? as usize,
                        int_in(&q.key("start"), r.start, 0, 16_383)? as u16,
                        int_in(&q.key("end"), r.end, 0, 16_383)? as u16,
                    ));
                }
                SlotMap::from_ranges(shards as usize, &rs).map_err(|m| {
                    p.key("slots")
                        .err(m, "assign every slot 0..16383 exactly once")
                })?
            }
        };
        let service_time_us = match (&c.service_time_us, calibration) {
            (Some(_), Some(_)) => {
                return Err(p.key("service_time_us").err(
                    "both service_time_us and a calibration file give the service time",
                    "drop one: the calibration's measured figure, or your own",
                ))
            }
            (None, Some(cal)) if cal.service_time_us > 0.0 => Dist::Fixed(cal.service_time_us),
            (Some(d), None) => dist(&p.key("service_time_us"), d, Quantity::Us)?,
            _ => Dist::Lognormal {
                mu: defaults::SERVICE_TIME_US_MEDIAN.ln(),
                sigma: defaults::SERVICE_TIME_US_SIGMA,
            },
        };
        if let Some(cal) = calibration {
            // Per command class, the measured execution times (`calibrate::service`).
            redis.service_scale = crate::calibrate::service::service_scale(
                &cal.service_time_us_per_command,
                service_time_us.mean(),
            );
        }
        let network_rtt_us = match &c.network_rtt_us {
            Some(d) => dist(&p.key("network_rtt_us"), d, Quantity::Us)?,
            None => Dist::Lognormal {
                mu: defaults::NETWORK_RTT_US_MEDIAN.ln(),
                sigma: defaults::NETWORK_RTT_US_SIGMA,
            },
        };
        let replication_lag_ms = match &c.replication_lag_ms {
            Some(d) => dist(&p.key("replication_lag_ms"), d, Quantity::Ms)?,
            None => Dist::Fixed(defaults::REPLICATION_LAG_MS as f64),
        };
        clusters.push(Cluster {
            name: c.name.clone(),
            shards,
            redis,
            slot_map,
            service_time_us,
            network_rtt_us,
            cost_per_shard: cost(
                &p.key("cost_per_shard"),
                c.cost_per_shard.unwrap_or(defaults::COST_PER_SHARD),
            )?,
            cost_per_gb: cost(
                &p.key("cost_per_gb"),
                c.cost_per_gb.unwrap_or(defaults::COST_PER_GB),
            )?,
            replicas_per_shard,
            replication_lag_ms,
            network_baseline_bytes_per_s: match c.network_baseline_gbps {
                // An explicit figure overrides the instance catalogue's.
                None => instance
                    .as_ref()
                    .and_then(|i| i.network_baseline_bytes_per_s),
                Some(g) => Some(gbps_to_bytes_per_s(&p.key("network_baseline_gbps"), g)?),
            },
            connections_per_instance: int_in(
                &p.key("connections_per_instance"),
                c.connections_per_instance
                    .unwrap_or(defaults::CONNECTIONS_PER_INSTANCE as i64),
                1,
                100_000,
            )?,
            maxclients: int_in(
                &p.key("maxclients"),
                c.maxclients.unwrap_or(defaults::MAXCLIENTS as i64),
                1,
                1_000_000_000,
            )?,
            instance: instance
                .zip(derived)
                .map(|(instance, derived)| ClusterInstance { instance, derived }),
        });
    }
    // Costs are compared across plans: one currency for every node type used.
    let mut currencies = clusters
        .iter()
        .enumerate()
        .filter_map(|(i, c)| c.instance.as_ref().map(|x| (i, &x.instance)));
    if let Some((_, first)) = currencies.next() {
        if let Some((i, other)) = currencies.find(|(_, x)| x.currency != first.currency) {
            return Err(cp.idx(i).key("instance").err(
                format!(
                    "\"{}\" is priced in {}, \"{}\" in {}: costs could not be compared",
                    other.name, other.currency, first.name, first.currency
                ),
                "use node types priced in one currency (define your own entry in [[instances]])",
            ));
        }
    }
    Ok(clusters)
}

/// Up to five catalogue names closest to `name` (sharing its longest prefix), for a hint.
fn nearest_names(catalogue: &[Instance], name: &str) -> Vec<String> {
    let common = |a: &str| {
        a.chars()
            .zip(name.chars())
            .take_while(|(x, y)| x == y)
            .count()
    };
    let mut scored: Vec<(usize, &str)> = catalogue
        .iter()
        .map(|i| (common(&i.name), i.name.as_str()))
        .collect();
    scored.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(b.1)));
    scored
        .into_iter()
        .take(5)
        .map(|(_, n)| n.to_string())
        .collect()
}

/// `network_baseline_gbps` (decimal gigabits per second, as cloud providers quote a node's
/// network) in bytes per second: 1 Gbit/s = 125,000,000 bytes/s.
fn gbps_to_bytes_per_s(p: &Path, gbps: f64) -> R<u64> {
    if !(gbps.is_finite() && gbps > 0.0 && gbps <= 10_000.0) {
        return Err(p.err(
            format!("{gbps} Gbit/s is not a network baseline"),
            "give the node's baseline bandwidth in Gbit/s, above 0 and at most 10000, e.g. 12.5",
        ));
    }
    Ok((gbps * 125_000_000.0).round() as u64)
}
