//! `[[origins]]` and `[[clusters]]` into `Origin`s and `Cluster`s: pools and queues of the
//! databases behind the cache; Redis settings (with Redis's own defaults), slot ownership,
//! service times, round trips and costs of the clusters.

use super::checks::{cost, dist, int_in, positive_ms, unique_names, Quantity};
use super::{Path, MAX_MAXMEMORY_BYTES, R};
use crate::engine::SimTime;
use crate::redis::evict::MaxmemoryPolicy;
use crate::redis::shard::RedisConfig;
use crate::redis::slots::SlotMap;
use crate::scenario::defaults;
use crate::scenario::dist::Dist;
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

/// Resolves `[[clusters]]`; `start_unix_ms` is the run's wall clock at time 0 (Redis's LRU and
/// LFU clocks and expire times start there).
pub(super) fn clusters(raw: &[RawCluster], start_unix_ms: u64) -> R<Vec<Cluster>> {
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
        if c.maxmemory_bytes.0 > MAX_MAXMEMORY_BYTES {
            return Err(p.key("maxmemory_bytes").err(
                format!(
                    "{} bytes is more than one shard can have",
                    c.maxmemory_bytes.0
                ),
                "allowed: up to \"1tb\" per shard (0 = no limit)",
            ));
        }
        let redis = RedisConfig {
            maxmemory_bytes: c.maxmemory_bytes.0,
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
        if let Some(cal) = calibration {
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
        let network_rtt_us = match &c.network_rtt_us {
            Some(d) => dist(&p.key("network_rtt_us"), d, Quantity::Us)?,
            None => Dist::Lognormal {
                mu: defaults::NETWORK_RTT_US_MEDIAN.ln(),
                sigma: defaults::NETWORK_RTT_US_SIGMA,
            },
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
            network_baseline_bytes_per_s: match c.network_baseline_gbps {
                None => None,
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
        });
    }
    Ok(clusters)
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
