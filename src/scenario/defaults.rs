//! Every default of the scenario format, in one place: what a field takes when the file leaves
//! it out. `resolve` reads them from here and nowhere else; `workloads/README.md` states them
//! for users, and a test below reads the README's tables and checks each stated default
//! against the constant, so the two cannot drift apart. Limits (largest values) are not
//! defaults: they stay with the checks in `resolve`.

// `[simulation]`

/// `warmup_ms`: totals count from the start of the run.
pub const WARMUP_MS: u64 = 0;
/// `window_ms`: a `timeseries.csv` window of 10 s, or the whole run when it is shorter.
pub const WINDOW_MS: u64 = 10_000;
/// `start_unix_ms`: 2026-07-02T09:00:00Z, a Thursday morning (index 9 of `hourly_profile`).
pub const START_UNIX_MS: u64 = 1_782_982_800_000;
/// `start`: every cluster holds its steady-state set at time 0 (`sim::warm`).
pub const START: &str = "steady-state";
/// `app_instances`: application instances, each with its own L1 cache and breakers.
pub const APP_INSTANCES: u32 = 4;

// `[[tenants]]`

/// `traffic_weight`: tenants share traffic equally.
pub const TRAFFIC_WEIGHT: f64 = 1.0;
/// `size`: a tenant has `keys_per_tenant` keys.
pub const TENANT_SIZE: f64 = 1.0;

// `[[origins]]`

/// `queue_limit`: loads that may wait for a connection.
pub const ORIGIN_QUEUE_LIMIT: i64 = 10_000;
/// `timeout_ms`: a queued load waiting longer than this times out.
pub const ORIGIN_TIMEOUT_MS: u64 = 5_000;

// `[[clusters]]`

/// `maxmemory_policy`: Redis's own default.
pub const MAXMEMORY_POLICY: &str = "noeviction";
/// `maxmemory_samples`: Redis's own default.
pub const MAXMEMORY_SAMPLES: i64 = 5;
/// `maxmemory_eviction_tenacity`: Redis's own default.
pub const MAXMEMORY_EVICTION_TENACITY: i64 = 10;
/// `hz`: Redis's own default.
pub const HZ: i64 = 10;
/// `lfu_log_factor`: Redis's own default.
pub const LFU_LOG_FACTOR: i64 = 10;
/// `lfu_decay_time`: Redis's own default (minutes).
pub const LFU_DECAY_TIME: i64 = 1;
/// `active_expire_effort`: Redis's own default.
pub const ACTIVE_EXPIRE_EFFORT: i64 = 1;
/// `service_time_us`: median of a lognormal. Measured on the reference 2-vCPU machine:
/// ~25-45 µs per unpipelined request with client and server sharing the CPUs
/// (REDIS-MODEL.md section 10); the server's share is taken as median 15 µs.
pub const SERVICE_TIME_US_MEDIAN: f64 = 15.0;
/// `service_time_us`: sigma of that lognormal.
pub const SERVICE_TIME_US_SIGMA: f64 = 0.35;
/// `network_rtt_us`: median of a lognormal; an assumption for clients and shards in one
/// availability zone, not a measurement.
pub const NETWORK_RTT_US_MEDIAN: f64 = 250.0;
/// `network_rtt_us`: sigma of that lognormal.
pub const NETWORK_RTT_US_SIGMA: f64 = 0.3;
/// `cost_per_shard`: the capacity search counts shards.
pub const COST_PER_SHARD: f64 = 1.0;
/// `cost_per_gb`: memory is free unless priced.
pub const COST_PER_GB: f64 = 0.0;
/// `replicas_per_shard`: a plan has no replicas unless it declares them.
pub const REPLICAS_PER_SHARD: u32 = 0;
/// `replication_lag_ms` of a cluster: fixed, ms. An assumption, not a measurement: Redis
/// replicates asynchronously and bounds the lag nowhere (`min-replicas-max-lag`, 10 s, is only
/// an alarm); in one availability zone a replica trails by about a round trip plus its own
/// queue, a few ms at most when healthy, and 100 ms covers a replica that falls behind under
/// load. It was `failover`'s own default before clusters had replicas, so outputs of
/// failovers that give no lag are unchanged.
pub const REPLICATION_LAG_MS: u64 = 100;

// `[[keyspaces]]`

/// `criticality`.
pub const CRITICALITY: &str = "medium";
/// `read_from` of a `read-through` keyspace.
pub const READ_FROM: &str = "master";
/// `keys_per_tenant`.
pub const KEYS_PER_TENANT: i64 = 10_000;
/// `popularity`: Zipf with this exponent.
pub const ZIPF_ALPHA: f64 = 0.9;
/// `popularity = { dist = "hot-set" }`: `hot_keys_fraction`.
pub const HOT_KEYS_FRACTION: f64 = 0.2;
/// `popularity = { dist = "hot-set" }`: `hot_requests_fraction`.
pub const HOT_REQUESTS_FRACTION: f64 = 0.8;
/// `ttl_ms`: no TTL.
pub const TTL_MS: u64 = 0;
/// `window_ms` of a `rate-limit` keyspace.
pub const RATE_LIMIT_WINDOW_MS: u64 = 60_000;
/// `rate_limit_algorithm`.
pub const RATE_LIMIT_ALGORITHM: &str = "fixed-window";
/// `hold_ms` of a `lock` keyspace: fixed at this many milliseconds.
pub const LOCK_HOLD_MS: f64 = 50.0;
/// `retry_probability` of an `idempotency` keyspace.
pub const RETRY_PROBABILITY: f64 = 0.0;
/// `retry_delay_ms` of an `idempotency` keyspace.
pub const RETRY_DELAY_MS: u64 = 2_000;
/// `client_timeout_ms`: a first Redis call slower than this counts as a timeout.
pub const CLIENT_TIMEOUT_MS: u64 = 50;

// `strategy`

/// `lock_ttl_ms` of `single-flight` and `stale-while-revalidate`.
pub const LOCK_TTL_MS: u64 = 5_000;
/// `lock_poll_ms` of `single-flight`.
pub const LOCK_POLL_MS: u64 = 20;
/// `lock_max_wait_ms` of `single-flight`.
pub const LOCK_MAX_WAIT_MS: u64 = 1_000;
/// `beta` of `xfetch`: the paper's default.
pub const XFETCH_BETA: f64 = 1.0;
/// `refresh_ahead_fraction`: a hit finding less than a fifth of the TTL left refreshes.
pub const REFRESH_AHEAD_FRACTION: f64 = 0.2;
/// `lease_ttl_ms` of `lease`.
pub const LEASE_TTL_MS: u64 = 5_000;
/// `lease_poll_ms` of `lease`.
pub const LEASE_POLL_MS: u64 = 20;
/// `lease_max_wait_ms` of `lease`.
pub const LEASE_MAX_WAIT_MS: u64 = 1_000;
/// `stale` of `lease`: readers that find the lease taken wait for the holder's value.
pub const LEASE_STALE: &str = "wait";
/// `stale_ttl_ms` of `lease` with `stale = "serve"`: how long a stale copy is kept.
pub const LEASE_STALE_TTL_MS: u64 = 10_000;
/// `coalesce`: no in-process coalescing.
pub const COALESCE: bool = false;
/// `local_cache_ttl_ms` (when `local_cache_keys` is given).
pub const LOCAL_CACHE_TTL_MS: u64 = 5_000;
/// `negative_ttl_ms` (when `negative_fraction` is given).
pub const NEGATIVE_TTL_MS: u64 = 30_000;
/// `breaker_failures` (when a breaker field is given).
pub const BREAKER_FAILURES: i64 = 5;
/// `breaker_open_ms` (when a breaker field is given).
pub const BREAKER_OPEN_MS: u64 = 10_000;

// `fallback`

/// `lock_owner_token`: a plain `DEL` releases the lock.
pub const LOCK_OWNER_TOKEN: bool = false;
/// `db_constraint`: no database constraint behind the lock.
pub const DB_CONSTRAINT: bool = false;
/// `db_idempotency`: no database idempotency table.
pub const DB_IDEMPOTENCY: bool = false;
/// `redis_retries`.
pub const REDIS_RETRIES: u32 = 0;
/// `redis_retry_delay_ms`: fixed at this many milliseconds.
pub const REDIS_RETRY_DELAY_MS: f64 = 50.0;
/// `final_use_fraction`.
pub const FINAL_USE_FRACTION: f64 = 0.0;
/// `revalidate_before_final`.
pub const REVALIDATE_BEFORE_FINAL: bool = true;

// `[[faults]]`

/// `mode` of `shard-down`.
pub const SHARD_DOWN_MODE: &str = "refused";
/// `mode` of `failover`.
pub const FAILOVER_MODE: &str = "timeout";
/// `node_timeout_ms` of `failover` (`cluster-node-timeout`).
pub const NODE_TIMEOUT_MS: u64 = 15_000;
/// `replica_rank` of `failover`.
pub const REPLICA_RANK: i64 = 0;
/// `attribution_ms`: violations this long after a fault are still attributed to it.
pub const ATTRIBUTION_MS: u64 = 30_000;

// `[slo]`

/// `error_ratio_max` of a keyspace of criticality `critical` or `high` not listed: no failed
/// request and no OOM rejection.
pub const ERROR_RATIO_MAX_CRITICAL: f64 = 0.0;
/// `fill_horizon_ms`: a shard that OOMs or evicts critical keys within a day fails the plan.
pub const FILL_HORIZON_MS: u64 = 86_400_000;

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    const README: &str = include_str!("../../workloads/README.md");

    /// A duration as the README writes it: whole seconds as `5s`, else `50ms`.
    fn ms(v: u64) -> String {
        if v > 0 && v.is_multiple_of(1000) {
            format!("{}s", v / 1000)
        } else {
            format!("{v}ms")
        }
    }

    /// The README's stated defaults: (section heading, field) -> the default as written.
    /// Read from every table with a "default" column (first cell a `field`), and from the
    /// "fields (default)" cells of the kind tables (`lock_ttl_ms` (5s), `beta` (1.0, > 0),
    /// `hot_keys_fraction` (0 to 1, default 0.2)).
    fn readme_defaults() -> BTreeMap<(String, String), String> {
        let mut out = BTreeMap::new();
        let mut section = String::new();
        let mut default_col: Option<usize> = None;
        let mut kinds_col: Option<usize> = None;
        let lines: Vec<&str> = README.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            if line.starts_with('#') {
                section = line.trim_start_matches('#').trim().to_string();
                continue;
            }
            if !line.starts_with('|') {
                default_col = None;
                kinds_col = None;
                continue;
            }
            let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
            // A table's header is the row above its `|---|` separator.
            if lines
                .get(i + 1)
                .is_some_and(|next| next.starts_with("|---"))
            {
                default_col = cells.iter().position(|c| *c == "default");
                kinds_col = cells.iter().position(|c| c.contains("(default)"));
                continue;
            }
            let field = cells[0].strip_prefix('`').and_then(|f| f.strip_suffix('`'));
            if let (Some(field), Some(cell)) = (field, default_col.and_then(|c| cells.get(c))) {
                out.insert((section.clone(), field.to_string()), cell.to_string());
            }
            // The popularity table names its fields in its second column.
            let col = kinds_col.or((section == "`popularity`").then_some(1));
            if let Some(cell) = col.and_then(|c| cells.get(c)) {
                // `name` (inner) pairs: the default is after "default ", else the inner text
                // up to the first ';' or ','.
                let mut rest = *cell;
                while let Some(open) = rest.find('`') {
                    let after = &rest[open + 1..];
                    let Some(close) = after.find('`') else { break };
                    let name = &after[..close];
                    let tail = &after[close + 1..];
                    rest = tail;
                    let Some(open_paren) = tail.strip_prefix(" (") else {
                        continue;
                    };
                    let Some(end) = open_paren.find(')') else {
                        continue;
                    };
                    let inner = &open_paren[..end];
                    let default = match inner.find("default ") {
                        Some(at) => &inner[at + "default ".len()..],
                        None => inner.split([';', ',']).next().unwrap_or(""),
                    };
                    out.insert(
                        (section.clone(), name.to_string()),
                        default.trim().to_string(),
                    );
                    rest = &open_paren[end..];
                }
            }
        }
        out
    }

    /// Each default as the README must state it (the cell equals it, or starts with it and a
    /// space, for cells that add a remark).
    fn stated() -> Vec<(&'static str, &'static str, String)> {
        let sim = "`[simulation]`";
        let origins = "`[[origins]]`";
        let clusters = "`[[clusters]]`";
        let ks = "`[[keyspaces]]`";
        let strat = "Strategies";
        let fb = "`fallback`";
        let faults = "Faults";
        vec![
            (sim, "warmup_ms", format!("`{WARMUP_MS}`")),
            (
                sim,
                "window_ms",
                format!("the smaller of {} s and `duration_ms`", WINDOW_MS / 1000),
            ),
            (sim, "start_unix_ms", format!("`{START_UNIX_MS}`")),
            (sim, "start", format!("`\"{START}\"`")),
            (sim, "app_instances", format!("`{APP_INSTANCES}`")),
            (
                "`[[tenants]]`",
                "traffic_weight",
                format!("`{TRAFFIC_WEIGHT}`"),
            ),
            ("`[[tenants]]`", "size", format!("`{TENANT_SIZE}`")),
            (origins, "queue_limit", format!("`{ORIGIN_QUEUE_LIMIT}`")),
            (
                origins,
                "timeout_ms",
                format!("`{}`", ms(ORIGIN_TIMEOUT_MS)),
            ),
            (
                clusters,
                "maxmemory_policy",
                format!("`\"{MAXMEMORY_POLICY}\"`"),
            ),
            (
                clusters,
                "maxmemory_samples",
                format!("`{MAXMEMORY_SAMPLES}`"),
            ),
            (
                clusters,
                "maxmemory_eviction_tenacity",
                format!("`{MAXMEMORY_EVICTION_TENACITY}`"),
            ),
            (clusters, "hz", format!("`{HZ}`")),
            (clusters, "lfu_log_factor", format!("`{LFU_LOG_FACTOR}`")),
            (clusters, "lfu_decay_time", format!("`{LFU_DECAY_TIME}`")),
            (
                clusters,
                "active_expire_effort",
                format!("`{ACTIVE_EXPIRE_EFFORT}`"),
            ),
            (
                clusters,
                "service_time_us",
                format!(
                    "lognormal, median {SERVICE_TIME_US_MEDIAN}, sigma {SERVICE_TIME_US_SIGMA}"
                ),
            ),
            (
                clusters,
                "network_rtt_us",
                format!("lognormal, median {NETWORK_RTT_US_MEDIAN}, sigma {NETWORK_RTT_US_SIGMA}"),
            ),
            (clusters, "cost_per_shard", format!("`{COST_PER_SHARD:.1}`")),
            (clusters, "cost_per_gb", format!("`{COST_PER_GB:.1}`")),
            (
                clusters,
                "replicas_per_shard",
                format!("`{REPLICAS_PER_SHARD}`"),
            ),
            (
                clusters,
                "replication_lag_ms",
                format!("fixed {REPLICATION_LAG_MS}"),
            ),
            (ks, "read_from", format!("`\"{READ_FROM}\"`")),
            (ks, "criticality", format!("`\"{CRITICALITY}\"`")),
            (ks, "keys_per_tenant", format!("`{KEYS_PER_TENANT}`")),
            (
                ks,
                "popularity",
                format!("`{{ dist = \"zipf\", alpha = {ZIPF_ALPHA} }}`"),
            ),
            (
                "`popularity`",
                "hot_keys_fraction",
                format!("{HOT_KEYS_FRACTION}"),
            ),
            (
                "`popularity`",
                "hot_requests_fraction",
                format!("{HOT_REQUESTS_FRACTION}"),
            ),
            (ks, "ttl_ms", format!("`{TTL_MS}`")),
            (ks, "window_ms", format!("`{}`", ms(RATE_LIMIT_WINDOW_MS))),
            (
                ks,
                "rate_limit_algorithm",
                format!("`\"{RATE_LIMIT_ALGORITHM}\"`"),
            ),
            (ks, "hold_ms", format!("fixed {LOCK_HOLD_MS}")),
            (ks, "retry_probability", format!("`{RETRY_PROBABILITY}`")),
            (ks, "retry_delay_ms", format!("`{}`", ms(RETRY_DELAY_MS))),
            (
                ks,
                "client_timeout_ms",
                format!("`{}`", ms(CLIENT_TIMEOUT_MS)),
            ),
            (strat, "lock_ttl_ms", ms(LOCK_TTL_MS)),
            (strat, "lock_poll_ms", ms(LOCK_POLL_MS)),
            (strat, "lock_max_wait_ms", ms(LOCK_MAX_WAIT_MS)),
            (strat, "beta", format!("{XFETCH_BETA:.1}")),
            (
                strat,
                "refresh_ahead_fraction",
                format!("{REFRESH_AHEAD_FRACTION}"),
            ),
            (strat, "lease_ttl_ms", ms(LEASE_TTL_MS)),
            (strat, "lease_poll_ms", ms(LEASE_POLL_MS)),
            (strat, "lease_max_wait_ms", ms(LEASE_MAX_WAIT_MS)),
            (strat, "stale", format!("\"{LEASE_STALE}\"")),
            (strat, "stale_ttl_ms", ms(LEASE_STALE_TTL_MS)),
            (strat, "coalesce", format!("`{COALESCE}`")),
            (
                strat,
                "local_cache_ttl_ms",
                format!("`{}`", ms(LOCAL_CACHE_TTL_MS)),
            ),
            (
                strat,
                "negative_ttl_ms",
                format!("`{}`", ms(NEGATIVE_TTL_MS)),
            ),
            (strat, "breaker_failures", format!("`{BREAKER_FAILURES}`")),
            (
                strat,
                "breaker_open_ms",
                format!("`{}`", ms(BREAKER_OPEN_MS)),
            ),
            (fb, "lock_owner_token", format!("`{LOCK_OWNER_TOKEN}`")),
            (fb, "db_constraint", format!("`{DB_CONSTRAINT}`")),
            (fb, "db_idempotency", format!("`{DB_IDEMPOTENCY}`")),
            (fb, "redis_retries", format!("`{REDIS_RETRIES}`")),
            (
                fb,
                "redis_retry_delay_ms",
                format!("fixed {REDIS_RETRY_DELAY_MS}"),
            ),
            (fb, "final_use_fraction", format!("`{FINAL_USE_FRACTION}`")),
            (
                fb,
                "revalidate_before_final",
                format!("`{REVALIDATE_BEFORE_FINAL}`"),
            ),
            (
                faults,
                "replication_lag_ms",
                "one draw of the cluster's `replication_lag_ms`".to_string(),
            ),
            (
                faults,
                "node_timeout_ms",
                format!("`{}`", ms(NODE_TIMEOUT_MS)),
            ),
            (faults, "replica_rank", format!("`{REPLICA_RANK}`")),
            (
                faults,
                "attribution_ms",
                format!("`{}`", ms(ATTRIBUTION_MS)),
            ),
            (
                faults,
                "mode",
                format!(
                    "`\"{SHARD_DOWN_MODE}\"` for `shard-down`, `\"{FAILOVER_MODE}\"` for `failover`"
                ),
            ),
        ]
    }

    #[test]
    fn the_readme_states_these_defaults() {
        let readme = readme_defaults();
        let mut wrong = Vec::new();
        for (section, field, want) in stated() {
            match readme.get(&(section.to_string(), field.to_string())) {
                None => wrong.push(format!("{section} `{field}`: no default stated")),
                Some(cell) if cell == &want || cell.starts_with(&format!("{want} ")) => {}
                Some(cell) => wrong.push(format!(
                    "{section} `{field}`: README says `{cell}`, defaults.rs says `{want}`"
                )),
            }
        }
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    }

    /// The parser reads what it should: a changed README default is seen as changed.
    #[test]
    fn the_readme_parser_sees_each_kind_of_cell() {
        let readme = readme_defaults();
        let get = |s: &str, f: &str| readme.get(&(s.to_string(), f.to_string())).cloned();
        assert_eq!(
            get("`[simulation]`", "app_instances").as_deref(),
            Some("`4`")
        );
        assert_eq!(get("Strategies", "lock_poll_ms").as_deref(), Some("20ms"));
        assert_eq!(get("Strategies", "beta").as_deref(), Some("1.0"));
        assert_eq!(
            get("`popularity`", "hot_keys_fraction").as_deref(),
            Some("0.2")
        );
    }
}
