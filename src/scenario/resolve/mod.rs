//! Validation: turns the raw file into a resolved `Scenario`, applying the defaults of
//! `scenario::defaults` and turning names into indices. Every rejection names the field path
//! and gives a hint. One file per concept: `checks` (durations, numbers, names,
//! distributions), `clusters` (origins and clusters), `keyspaces` (with `strategies` and
//! `fallback`), `plans` (plans and events), `faults`, `slo`; this module resolves the
//! simulation settings and tenants and puts the parts together.

mod checks;
mod clusters;
mod fallback;
mod faults;
mod keyspaces;
mod plans;
mod slo;
mod strategies;

pub use faults::failover_max_unavailable;
pub use keyspaces::VERSION_PLACEHOLDERS;

use super::defaults;
use super::model::*;
use super::raw::*;
use super::{FieldError, PathSeg};
use crate::engine::SimTime;
use checks::{bounded_name, int_in, non_negative_ms, positive_at_most, positive_ms, unique_names};

type R<T> = Result<T, FieldError>;

/// A field path being built, and the errors that name it.
struct Path(Vec<PathSeg>);

impl Path {
    fn root() -> Path {
        Path(Vec::new())
    }
    fn key(&self, k: &str) -> Path {
        let mut v = self.0.clone();
        v.push(PathSeg::Key(k.to_string()));
        Path(v)
    }
    fn idx(&self, i: usize) -> Path {
        let mut v = self.0.clone();
        v.push(PathSeg::Index(i));
        Path(v)
    }
    fn err(&self, message: impl Into<String>, hint: impl Into<String>) -> FieldError {
        FieldError {
            path: self.0.clone(),
            message: message.into(),
            hint: hint.into(),
        }
    }
}

/// The longest duration any `*_ms` field may give: 3650 days (about ten years). Simulated time
/// is a u64 of nanoseconds (about 584 years); keeping every single duration this short keeps
/// any sum of a few of them (a burst's start plus its length, a TTL after the end of the run)
/// far inside that range.
pub const MAX_TIME_MS: f64 = 3650.0 * 86_400_000.0;

/// The latest `simulation.start_unix_ms`: 9999-12-31T23:59:59.999Z. The Redis model keeps
/// expire times as 48-bit unix milliseconds (up to the year 10889); a clock beyond that would
/// make every key look expired at once.
pub const MAX_START_UNIX_MS: u64 = 253_402_300_799_999;

/// The longest name (scenario, tenant, origin, cluster, keyspace, plan, event, fault) and key
/// template, in characters.
pub const MAX_NAME_CHARS: usize = 200;

/// The largest traffic multiplier (an hourly-profile entry, a burst, a traffic-burst fault).
pub const MAX_RATE_MULTIPLIER: f64 = 1e6;

/// The largest slowdown of a `shard-slow` or `latency-spike` fault.
pub const MAX_SLOWDOWN: f64 = 1e3;

/// The largest `rate_per_s` of a keyspace (the run's total requests are bounded separately,
/// by the budget every command checks before simulating).
pub const MAX_RATE_PER_S: f64 = 1e9;

/// The largest tenant `traffic_weight` and `size`.
pub const MAX_TENANT_FACTOR: f64 = 1e6;

/// The largest cost per shard or per GB.
pub const MAX_COST: f64 = 1e12;

/// The largest `maxmemory_bytes` of one shard: 1 TiB.
pub const MAX_MAXMEMORY_BYTES: u64 = 1 << 40;

/// The most timeline events and faults (each is numbered in 16 bits).
pub const MAX_TIMELINE_ENTRIES: usize = u16::MAX as usize;

/// Validates and resolves a raw scenario.
pub fn resolve(raw: &RawScenario) -> R<Scenario> {
    let root = Path::root();
    if raw.version != 1 {
        return Err(root.key("version").err(
            format!("unsupported scenario version {}", raw.version),
            "this cacheplan reads version = 1",
        ));
    }
    if raw.name.is_empty()
        || !raw
            .name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
    {
        return Err(root.key("name").err(
            format!("\"{}\" is not a usable name", raw.name),
            "use letters, digits, '-', '_' or '.' (it names the output folder)",
        ));
    }
    bounded_name(&root.key("name"), &raw.name)?;
    let sim = root.key("simulation");
    let duration = positive_ms(&sim.key("duration_ms"), raw.simulation.duration_ms)?;
    let warmup = match raw.simulation.warmup_ms {
        Some(w) => non_negative_ms(&sim.key("warmup_ms"), w)?,
        None => SimTime::from_ms(defaults::WARMUP_MS),
    };
    if warmup >= duration {
        return Err(sim.key("warmup_ms").err(
            "warm-up is not shorter than the run",
            "make warmup_ms smaller than duration_ms",
        ));
    }
    let window = match raw.simulation.window_ms {
        Some(w) => {
            let window = positive_ms(&sim.key("window_ms"), w)?;
            if window < SimTime::from_ms(1) {
                return Err(sim.key("window_ms").err(
                    format!("{} ms is below the shortest time-series window", w.0),
                    "allowed: \"1ms\" and above (figures are kept per window)",
                ));
            }
            window
        }
        None => SimTime::from_ms(defaults::WINDOW_MS).min(duration),
    };
    let start_unix_ms = raw
        .simulation
        .start_unix_ms
        .unwrap_or(defaults::START_UNIX_MS);
    if start_unix_ms > MAX_START_UNIX_MS {
        return Err(sim.key("start_unix_ms").err(
            format!("{start_unix_ms} is after the year 9999"),
            format!(
                "allowed: 0 to {MAX_START_UNIX_MS} (9999-12-31T23:59:59.999Z); the Redis model's \
                 expire times end in the year 10889, beyond which every key would look expired"
            ),
        ));
    }
    let start = match raw.simulation.start.as_deref().unwrap_or(defaults::START) {
        "cold" => Start::Cold,
        "steady-state" => Start::SteadyState,
        other => {
            return Err(sim.key("start").err(
                format!("unknown start \"{other}\""),
                "use \"steady-state\" (clusters hold what a long run leaves resident) or \"cold\" (empty clusters)",
            ))
        }
    };
    let app_instances = int_in(
        &sim.key("app_instances"),
        raw.simulation
            .app_instances
            .unwrap_or(defaults::APP_INSTANCES) as i64,
        1,
        10_000,
    )?;

    // Tenants.
    let tp = root.key("tenants");
    if raw.tenants.is_empty() {
        return Err(tp.err("no tenants", "add at least one [[tenants]] table"));
    }
    if raw.tenants.len() > 65_535 {
        // A key id carries 1 + its tenant's index in 16 bits (`sim::traffic::key_label`).
        return Err(tp.err("more than 65535 tenants", "group tenants"));
    }
    unique_names(&tp, raw.tenants.iter().map(|t| t.name.as_str()))?;
    let mut tenants = Vec::new();
    let mut weight_total = 0.0;
    for (i, t) in raw.tenants.iter().enumerate() {
        let w = positive_at_most(
            &tp.idx(i).key("traffic_weight"),
            t.traffic_weight.unwrap_or(defaults::TRAFFIC_WEIGHT),
            MAX_TENANT_FACTOR,
            "a traffic weight (weights are relative)",
        )?;
        let size = positive_at_most(
            &tp.idx(i).key("size"),
            t.size.unwrap_or(defaults::TENANT_SIZE),
            MAX_TENANT_FACTOR,
            "a tenant size (a multiplier of keys_per_tenant)",
        )?;
        weight_total += w;
        tenants.push(Tenant {
            name: t.name.clone(),
            traffic_share: w,
            size,
        });
    }
    for t in &mut tenants {
        t.traffic_share /= weight_total;
    }
    let tenant_len = tenants.iter().map(|t| t.name.len()).max().unwrap_or(8);

    let origins = clusters::origins(&raw.origins)?;
    let origin_names: Vec<&str> = origins.iter().map(|o| o.name.as_str()).collect();
    let clusters = clusters::clusters(&raw.clusters, &raw.catalogue, app_instances, start_unix_ms)?;
    let cluster_names: Vec<&str> = clusters.iter().map(|c| c.name.as_str()).collect();

    // Keyspaces.
    let kp = root.key("keyspaces");
    if raw.keyspaces.is_empty() {
        return Err(kp.err("no keyspaces", "add at least one [[keyspaces]] table"));
    }
    if raw.keyspaces.len() > 255 {
        return Err(kp.err("more than 255 keyspaces", "merge keyspaces"));
    }
    unique_names(&kp, raw.keyspaces.iter().map(|k| k.name.as_str()))?;
    let ctx = keyspaces::KeyspaceContext {
        duration,
        tenants: &tenants,
        tenant_len,
        origin_names: &origin_names,
    };
    let mut keyspaces = Vec::new();
    for (i, k) in raw.keyspaces.iter().enumerate() {
        keyspaces.push(keyspaces::keyspace(&kp.idx(i), k, &ctx)?);
    }
    let keyspace_names: Vec<&str> = keyspaces.iter().map(|k| k.name.as_str()).collect();

    let plans = plans::plans(&raw.plans, &keyspace_names, &cluster_names)?;
    let events = plans::events(&raw.events, &keyspaces, duration)?;

    // Faults.
    let fp = root.key("faults");
    if raw.faults.len() > MAX_TIMELINE_ENTRIES {
        return Err(fp.err(
            format!("{} faults", raw.faults.len()),
            format!("allowed: up to {MAX_TIMELINE_ENTRIES} faults"),
        ));
    }
    let ctx = faults::FaultContext {
        duration,
        app_instances,
        clusters: &clusters,
        cluster_names: &cluster_names,
        keyspace_names: &keyspace_names,
    };
    let mut faults = Vec::new();
    for (i, f) in raw.faults.iter().enumerate() {
        faults.push(faults::fault(&fp.idx(i), f, &ctx)?);
    }
    faults::check_fault_overlaps(&fp, &faults)?;

    let criticality: Vec<Criticality> = keyspaces.iter().map(|k| k.criticality).collect();
    let slo = slo::slo(&raw.slo, &keyspace_names, &criticality, &origin_names)?;

    // A traffic-burst fault is a burst of its keyspaces.
    for fault in &faults {
        if let FaultKind::TrafficBurst {
            multiplier,
            keyspaces: kss,
        } = &fault.kind
        {
            for &ki in kss {
                keyspaces[ki].bursts.push(Burst {
                    start: fault.start,
                    end: fault.end,
                    multiplier: *multiplier,
                });
            }
        }
    }

    Ok(Scenario {
        name: raw.name.clone(),
        description: raw.description.clone(),
        seed: raw.simulation.seed,
        duration,
        warmup,
        start,
        window,
        start_unix_ms,
        app_instances,
        tenants,
        origins,
        clusters,
        keyspaces,
        plans,
        events,
        slo,
        faults,
        instance_catalogue: raw.catalogue.clone(),
    })
}
