//! `manifest.json`: what was run (version, commit, seed, the resolved scenario) and what it
//! cost (requests, events, wall time). Built with `serde_json::json!` from the resolved
//! scenario, so simulation types stay free of `Serialize`.

use crate::scenario::dist::Dist;
use crate::scenario::{
    Fallback, Fault, FaultKind, Jitter, LeaseStale, LockWhenDown, Popularity, RateLimitWhenDown,
    Scenario, SourceOfTruth, Strategy, StrategyKind,
};
use serde_json::{json, Value};

fn dist(d: &Dist) -> Value {
    match d {
        Dist::Fixed(v) => json!({"dist": "fixed", "value": v}),
        Dist::Exponential(m) => json!({"dist": "exponential", "mean": m}),
        Dist::Lognormal { mu, sigma } => {
            json!({"dist": "lognormal", "median": mu.exp(), "sigma": sigma})
        }
        Dist::Uniform { min, max } => json!({"dist": "uniform", "min": min, "max": max}),
        Dist::Empirical { values, cdf } => {
            json!({"dist": "empirical", "values": values, "cdf": cdf})
        }
    }
}

fn strategy(s: &Strategy) -> Value {
    let mut v = match &s.kind {
        StrategyKind::CacheAside => json!({"kind": "cache-aside"}),
        StrategyKind::SingleFlight {
            lock_ttl,
            poll,
            max_wait,
        } => json!({
            "kind": "single-flight", "lock_ttl_ms": lock_ttl.as_ms(),
            "lock_poll_ms": poll.as_ms(), "lock_max_wait_ms": max_wait.as_ms()}),
        StrategyKind::StaleWhileRevalidate { soft_ttl, lock_ttl } => json!({
            "kind": "stale-while-revalidate", "soft_ttl_ms": soft_ttl.as_ms(),
            "lock_ttl_ms": lock_ttl.as_ms()}),
        StrategyKind::XFetch { beta } => json!({"kind": "xfetch", "beta": beta}),
        StrategyKind::RefreshAhead { fraction, lock_ttl } => json!({
            "kind": "refresh-ahead", "refresh_ahead_fraction": fraction,
            "lock_ttl_ms": lock_ttl.as_ms()}),
        StrategyKind::Lease {
            lease_ttl,
            poll,
            max_wait,
            stale,
        } => {
            let mut v = json!({
                "kind": "lease", "lease_ttl_ms": lease_ttl.as_ms(),
                "lease_poll_ms": poll.as_ms(), "lease_max_wait_ms": max_wait.as_ms()});
            match stale {
                LeaseStale::Wait => v["stale"] = json!("wait"),
                LeaseStale::Serve { stale_ttl } => {
                    v["stale"] = json!("serve");
                    v["stale_ttl_ms"] = json!(stale_ttl.as_ms());
                }
            }
            v
        }
    };
    v["coalesce"] = json!(s.coalesce);
    if let Some(l) = &s.local_cache {
        v["local_cache_keys"] = json!(l.capacity_keys);
        v["local_cache_ttl_ms"] = json!(l.ttl.as_ms());
    }
    if let Some(n) = &s.negative {
        v["negative_fraction"] = json!(n.fraction);
        v["negative_ttl_ms"] = json!(n.ttl.as_ms());
    }
    if let Some(b) = &s.breaker {
        v["breaker_failures"] = json!(b.failures);
        v["breaker_open_ms"] = json!(b.open_for.as_ms());
    }
    v
}

fn fallback(f: &Fallback) -> Value {
    json!({
        "origin_max_in_flight": (f.origin_max_in_flight != u32::MAX).then_some(f.origin_max_in_flight),
        "rate_limit": match f.rate_limit { RateLimitWhenDown::Open => "open", RateLimitWhenDown::Closed => "closed" },
        "lock": match f.lock { LockWhenDown::Skip => "skip", LockWhenDown::GiveUp => "give-up" },
        "lock_owner_token": f.lock_owner_token,
        "db_constraint": f.db_constraint,
        "pause_ms": f.pause_ms.as_ref().map(dist),
        "db_idempotency": f.db_idempotency,
        "redis_retries": f.redis_retries,
        "redis_retry_delay_ms": dist(&f.redis_retry_delay_ms),
        "source_of_truth": match f.source_of_truth { SourceOfTruth::Origin => "origin", SourceOfTruth::Redis => "redis" },
        "final_use_fraction": f.final_use_fraction,
        "revalidate_before_final": f.revalidate_before_final,
    })
}

fn fault(scn: &Scenario, f: &Fault) -> Value {
    let mut v = json!({
        "name": f.name,
        "kind": f.kind.as_str(),
        "cluster": f.cluster.map(|c| scn.clusters[c].name.clone()),
        "shard": f.shard,
        "instances": f.instances,
        "start_ms": f.start.as_ms(),
        "end_ms": f.end.as_ms(),
        "attribution_ms": f.attribution.as_ms(),
    });
    match &f.kind {
        FaultKind::ShardDown { mode } => v["mode"] = json!(mode.as_str()),
        FaultKind::ShardSlow { multiplier } | FaultKind::LatencySpike { multiplier } => {
            v["multiplier"] = json!(multiplier)
        }
        FaultKind::Failover {
            mode,
            replication_lag,
            node_timeout,
            replica_rank,
        } => {
            v["mode"] = json!(mode.as_str());
            // null: drawn once per run from the cluster's `replication_lag_ms`.
            v["replication_lag_ms"] = json!(replication_lag.map(|l| l.as_ms()));
            v["node_timeout_ms"] = json!(node_timeout.as_ms());
            v["replica_rank"] = json!(replica_rank);
        }
        FaultKind::TrafficBurst {
            multiplier,
            keyspaces,
        } => {
            v["multiplier"] = json!(multiplier);
            v["keyspaces"] = json!(keyspaces
                .iter()
                .map(|k| scn.keyspaces[*k].name.clone())
                .collect::<Vec<_>>());
        }
        FaultKind::ClusterRestart | FaultKind::SubscriberDisconnect => {}
    }
    v
}

/// The resolved scenario as JSON (every default applied).
pub fn scenario_json(scn: &Scenario) -> Value {
    json!({
        "name": scn.name,
        "description": scn.description,
        "duration_ms": scn.duration.as_ms(),
        "warmup_ms": scn.warmup.as_ms(),
        "window_ms": scn.window.as_ms(),
        "start_unix_ms": scn.start_unix_ms,
        "app_instances": scn.app_instances,
        "tenants": scn.tenants.iter().map(|t| json!({
            "name": t.name, "traffic_share": t.traffic_share, "size": t.size,
        })).collect::<Vec<_>>(),
        "origins": scn.origins.iter().map(|o| json!({
            "name": o.name, "concurrency": o.concurrency,
            "service_time_ms": dist(&o.service_time_ms), "queue_limit": o.queue_limit,
            "timeout_ms": o.timeout.as_ms(),
        })).collect::<Vec<_>>(),
        "clusters": scn.clusters.iter().map(|c| json!({
            "name": c.name, "shards": c.shards,
            "maxmemory_bytes": c.redis.maxmemory_bytes,
            "maxmemory_policy": c.redis.maxmemory_policy.as_str(),
            "maxmemory_samples": c.redis.maxmemory_samples,
            "maxmemory_eviction_tenacity": c.redis.maxmemory_eviction_tenacity,
            "hz": c.redis.hz,
            "lfu_log_factor": c.redis.lfu_log_factor,
            "lfu_decay_time": c.redis.lfu_decay_time,
            "active_expire_effort": c.redis.active_expire_effort,
            "cluster_enabled": c.redis.cluster_enabled,
            "base_used_memory_bytes": c.redis.base_used_memory_bytes,
            "slots": c.slot_map.ranges().iter().map(|(s, a, b)| json!([s, a, b])).collect::<Vec<_>>(),
            "service_time_us": dist(&c.service_time_us),
            "network_rtt_us": dist(&c.network_rtt_us),
            "replicas_per_shard": c.replicas_per_shard,
            "replication_lag_ms": dist(&c.replication_lag_ms),
            "monthly_cost": crate::cost::cluster_monthly_cost(c),
            "instance": c.instance.as_ref().map(instance_json),
        })).collect::<Vec<_>>(),
        "keyspaces": scn.keyspaces.iter().map(|k| json!({
            "name": k.name, "key_template": k.key_template,
            "key_len_bytes": k.key_len_bytes,
            "operation": k.operation.as_str(), "criticality": k.criticality.as_str(),
            "rate_per_s": k.rate_per_s, "keys_per_tenant": k.keys_per_tenant,
            "popularity": match &k.popularity {
                Popularity::Zipf(a) => json!({"dist": "zipf", "alpha": a}),
                Popularity::Uniform => json!({"dist": "uniform"}),
                Popularity::HotSet { hot_keys_fraction, hot_requests_fraction } => json!({
                    "dist": "hot-set", "hot_keys_fraction": hot_keys_fraction,
                    "hot_requests_fraction": hot_requests_fraction}),
            },
            "value_size_bytes": dist(&k.value_size_bytes),
            "ttl_ms": k.ttl.as_ms(),
            "ttl_jitter": match &k.jitter {
                Jitter::None => json!({"kind": "none"}),
                Jitter::UniformPct(p) => json!({"kind": "uniform-pct", "pct": p}),
                Jitter::UpTo(m) => json!({"kind": "up-to", "max_ms": m.as_ms()}),
            },
            "origin": k.origin.map(|o| scn.origins[o].name.clone()),
            "read_from": if k.read_from_replica { "replica" } else { "master" },
            "strategy": strategy(&k.strategy),
            "hourly_profile": k.hourly_profile,
            "bursts": k.bursts.iter().map(|b| json!({
                "start_ms": b.start.as_ms(), "end_ms": b.end.as_ms(), "multiplier": b.multiplier,
            })).collect::<Vec<_>>(),
            "window_ms": k.window.as_ms(),
            "rate_limit_algorithm": k.rate_limit_algorithm.as_str(),
            "rate_limit_per_window": k.rate_limit_per_window,
            "hold_ms": dist(&k.hold_ms),
            "retry_probability": k.retry_probability,
            "retry_delay_ms": k.retry_delay.as_ms(),
            "client_timeout_ms": k.client_timeout.as_ms(),
            "fallback": fallback(&k.fallback),
        })).collect::<Vec<_>>(),
        "plans": scn.plans.iter().map(|p| json!({
            "name": p.name, "description": p.description,
            "placement": p.cluster_of_keyspace.iter().enumerate()
                .map(|(ki, ci)| (scn.keyspaces[ki].name.clone(), json!(scn.clusters[*ci].name)))
                .collect::<serde_json::Map<_, _>>(),
        })).collect::<Vec<_>>(),
        "events": scn.events.iter().map(|e| json!({
            "at_ms": e.at.as_ms(), "name": e.name, "action": e.action.as_str(),
            "keyspaces": e.keyspaces.iter().map(|k| scn.keyspaces[*k].name.clone()).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "faults": scn.faults.iter().map(|f| fault(scn, f)).collect::<Vec<_>>(),
    })
}

/// What a run cost and how it was made.
pub struct RunFacts<'a> {
    /// `cacheplan` version.
    pub version: &'a str,
    /// Git commit, when known.
    pub commit: Option<&'a str>,
    /// Run seed.
    pub seed: u64,
    /// Where the scenario came from.
    pub scenario_source: &'a str,
    /// Simulated requests, all plans.
    pub requests: u64,
    /// Events processed, all plans.
    pub events: u64,
    /// Wall-clock seconds of the simulation.
    pub wall_seconds: f64,
    /// Files in the run folder.
    pub files: &'a [String],
}

/// The manifest document.
pub fn manifest_json(scn: &Scenario, facts: &RunFacts) -> Value {
    json!({
        "cacheplan_version": facts.version,
        "commit": facts.commit,
        "csv_schema_version": super::tables::CSV_SCHEMA_VERSION,
        "seed": facts.seed,
        "scenario_source": facts.scenario_source,
        "requests": facts.requests,
        "events": facts.events,
        "wall_seconds": facts.wall_seconds,
        "events_per_second": if facts.wall_seconds > 0.0 { facts.events as f64 / facts.wall_seconds } else { 0.0 },
        "requests_per_second": if facts.wall_seconds > 0.0 { facts.requests as f64 / facts.wall_seconds } else { 0.0 },
        "files": facts.files,
        "scenario": scenario_json(scn),
    })
}

/// A cluster's node type in the manifest: the catalogue entry and the terms of its derived
/// maxmemory.
fn instance_json(i: &crate::scenario::ClusterInstance) -> serde_json::Value {
    json!({
        "name": i.instance.name, "provider": i.instance.provider,
        "memory_bytes": i.instance.memory_bytes,
        "reserved_bytes": i.derived.reserved_bytes,
        "repl_backlog_bytes": i.derived.repl_backlog_bytes,
        "client_buffers_bytes": i.derived.client_buffers_bytes,
        "hourly_price": i.instance.hourly_price, "currency": i.instance.currency,
        "region": i.instance.region, "as_of": i.instance.as_of,
        "source": i.instance.source, "defined_in": i.instance.defined_in,
    })
}
