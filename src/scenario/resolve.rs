//! Validation: turns the raw file into a resolved `Scenario`, applying defaults and turning
//! names into indices. Every rejection names the field path and gives a hint.

use super::dist::Dist;
use super::model::*;
use super::raw::*;
use super::units::Millis;
use super::{FieldError, PathSeg};
use crate::engine::SimTime;
use crate::redis::evict::MaxmemoryPolicy;
use crate::redis::shard::RedisConfig;
use crate::redis::slots::SlotMap;

type R<T> = Result<T, FieldError>;

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

/// What a distribution measures, and the largest value it may reach.
#[derive(Clone, Copy)]
enum Quantity {
    /// Milliseconds (service times, hold times, delays): at most one day.
    Ms,
    /// Microseconds (Redis service time, network round trip): at most one day.
    Us,
    /// Bytes (value sizes): at most 512 MiB, Redis's largest bulk string.
    Bytes,
}

impl Quantity {
    fn max(self) -> f64 {
        match self {
            Quantity::Ms => 86_400_000.0,
            Quantity::Us => 86_400_000_000.0,
            Quantity::Bytes => 536_870_912.0,
        }
    }
    fn describe_max(self) -> &'static str {
        match self {
            Quantity::Ms => "86400000 ms (one day)",
            Quantity::Us => "86400000000 µs (one day)",
            Quantity::Bytes => "536870912 bytes (512 MiB, Redis's largest value)",
        }
    }
}

/// `-ln(1e-15)`: an exponential draw exceeds `mean` times this once in 10^15 draws.
const EXP_TAIL_FACTOR: f64 = 34.54;
/// The standard normal's 1 - 1e-15 quantile: a lognormal draw exceeds `median * exp(sigma *
/// this)` once in 10^15 draws.
const NORMAL_TAIL_Z: f64 = 7.94;

/// A duration of at most [`MAX_TIME_MS`], in nanoseconds; `allow_zero` decides whether 0 is
/// allowed (else the value must be positive and at least 1 ns).
fn time_ms(p: &Path, v: Millis, allow_zero: bool) -> R<SimTime> {
    if allow_zero && !(v.0 >= 0.0) {
        return Err(p.err(
            format!("must not be negative, got {} ms", v.0),
            "give a duration such as \"0s\" or \"30s\"",
        ));
    }
    if !allow_zero && !(v.0 > 0.0) {
        return Err(p.err(
            format!("must be positive, got {} ms", v.0),
            "give a positive duration such as \"30s\"",
        ));
    }
    if v.0 > MAX_TIME_MS {
        return Err(p.err(
            format!(
                "{} ms is longer than the longest duration cacheplan simulates",
                v.0
            ),
            format!("allowed: up to {MAX_TIME_MS} ms (\"3650d\", about ten years)"),
        ));
    }
    let ns = (v.0 * 1e6).round();
    if !allow_zero && ns < 1.0 {
        return Err(p.err(
            format!("{} ms is below the simulator's 1 ns resolution", v.0),
            "give at least \"1ns\"",
        ));
    }
    Ok(SimTime::from_ns(ns as u64))
}

fn positive_ms(p: &Path, v: Millis) -> R<SimTime> {
    time_ms(p, v, false)
}

fn non_negative_ms(p: &Path, v: Millis) -> R<SimTime> {
    time_ms(p, v, true)
}

/// A positive number of at most `max`.
fn positive_at_most(p: &Path, v: f64, max: f64, what: &str) -> R<f64> {
    let v = positive_f(p, v)?;
    if v > max {
        return Err(p.err(
            format!("{v} is too large for {what}"),
            format!("allowed: above 0, up to {max}"),
        ));
    }
    Ok(v)
}

/// A name or key template of at most [`MAX_NAME_CHARS`] characters.
fn bounded_name(p: &Path, s: &str) -> R<()> {
    let n = s.chars().count();
    if n > MAX_NAME_CHARS {
        return Err(p.err(
            format!("is {n} characters long"),
            format!("allowed: up to {MAX_NAME_CHARS} characters"),
        ));
    }
    Ok(())
}

fn int_in(p: &Path, v: i64, lo: i64, hi: i64) -> R<u32> {
    if v < lo || v > hi {
        return Err(p.err(
            format!("{v} is out of range"),
            format!("allowed: {lo} to {hi}"),
        ));
    }
    Ok(v as u32)
}

fn positive_f(p: &Path, v: f64) -> R<f64> {
    if !(v > 0.0) || !v.is_finite() {
        return Err(p.err(
            format!("must be a positive number, got {v}"),
            "rates, sizes and multipliers must be > 0",
        ));
    }
    Ok(v)
}

fn non_negative_f(p: &Path, v: f64) -> R<f64> {
    if !(v >= 0.0) || !v.is_finite() {
        return Err(p.err(
            format!("must be a number >= 0, got {v}"),
            "costs cannot be negative",
        ));
    }
    Ok(v)
}

fn cost(p: &Path, v: f64) -> R<f64> {
    let v = non_negative_f(p, v)?;
    if v > MAX_COST {
        return Err(p.err(
            format!("{v} is too large for a cost"),
            format!("allowed: 0 to {MAX_COST}"),
        ));
    }
    Ok(v)
}

fn fraction(p: &Path, v: f64) -> R<f64> {
    if !(0.0..=1.0).contains(&v) {
        return Err(p.err(format!("{v} is not a fraction"), "allowed: 0 to 1"));
    }
    Ok(v)
}

/// Resolves a distribution written as `{ dist = "...", ... }`; its values must stay within
/// `q`'s range except with a probability below 1e-15 per draw.
fn dist(p: &Path, d: &RawDist, q: Quantity) -> R<Dist> {
    let need = |name: &str, v: Option<f64>| -> R<f64> {
        let v = v.ok_or_else(|| {
            p.key(name).err(
                format!("dist = \"{}\" needs `{name}`", d.dist),
                format!("add {name} = <number>"),
            )
        })?;
        positive_f(&p.key(name), v)
    };
    // Every field but those of the chosen distribution must be absent.
    let present = [
        ("value", d.value.is_some()),
        ("mean", d.mean.is_some()),
        ("median", d.median.is_some()),
        ("sigma", d.sigma.is_some()),
        ("min", d.min.is_some()),
        ("max", d.max.is_some()),
        ("values", d.values.is_some()),
        ("weights", d.weights.is_some()),
    ];
    let allowed: &[&str] = match d.dist.as_str() {
        "fixed" => &["value"],
        "exponential" => &["mean"],
        "lognormal" => &["median", "sigma"],
        "uniform" => &["min", "max"],
        "empirical" => &["values", "weights"],
        _ => &[],
    };
    for (name, is_present) in present {
        if is_present && !allowed.is_empty() && !allowed.contains(&name) {
            return Err(p.key(name).err(
                format!("`{name}` does not apply to dist = \"{}\"", d.dist),
                "remove it, or pick the distribution it belongs to",
            ));
        }
    }
    let too_large = |name: &str, v: f64, reach: &str| -> FieldError {
        p.key(name).err(
            format!("{v} is too large: the distribution {reach}"),
            format!(
                "keep its values (to a 1-in-10^15 draw) at most {}",
                q.describe_max()
            ),
        )
    };
    let at_most = |name: &str, v: f64| -> R<f64> {
        if v > q.max() {
            return Err(too_large(name, v, "exceeds the field's range"));
        }
        Ok(v)
    };
    let r = match d.dist.as_str() {
        "fixed" => Dist::Fixed(at_most("value", need("value", d.value)?)?),
        "exponential" => {
            let mean = need("mean", d.mean)?;
            if mean * EXP_TAIL_FACTOR > q.max() {
                return Err(too_large(
                    "mean",
                    mean,
                    &format!("reaches {:.3e} once in 10^15 draws", mean * EXP_TAIL_FACTOR),
                ));
            }
            Dist::Exponential(mean)
        }
        "lognormal" => {
            let median = at_most("median", need("median", d.median)?)?;
            let sigma = need("sigma", d.sigma)?;
            let tail = median * (sigma * NORMAL_TAIL_Z).exp();
            if !(tail <= q.max()) {
                return Err(too_large(
                    "sigma",
                    sigma,
                    &format!("reaches {tail:.3e} (median {median}) once in 10^15 draws"),
                ));
            }
            Dist::Lognormal {
                mu: median.ln(),
                sigma,
            }
        }
        "uniform" => {
            let (min, max) = (need("min", d.min)?, need("max", d.max)?);
            if min > max {
                return Err(p
                    .key("min")
                    .err(format!("min {min} is above max {max}"), "swap them"));
            }
            Dist::Uniform {
                min,
                max: at_most("max", max)?,
            }
        }
        "empirical" => {
            let values = d.values.clone().ok_or_else(|| {
                p.key("values").err(
                    "dist = \"empirical\" needs `values`",
                    "values = [100, 200, 400]",
                )
            })?;
            if values.is_empty() {
                return Err(p.key("values").err("is empty", "give at least one value"));
            }
            for (i, v) in values.iter().enumerate() {
                let v = positive_f(&p.key("values").idx(i), *v)?;
                if v > q.max() {
                    return Err(p.key("values").idx(i).err(
                        format!("{v} is too large"),
                        format!("allowed: up to {}", q.describe_max()),
                    ));
                }
            }
            let weights = d.weights.clone().unwrap_or_else(|| vec![1.0; values.len()]);
            if weights.len() != values.len() {
                return Err(p.key("weights").err(
                    format!("{} weights for {} values", weights.len(), values.len()),
                    "give one weight per value",
                ));
            }
            for (i, w) in weights.iter().enumerate() {
                positive_f(&p.key("weights").idx(i), *w)?;
            }
            let total: f64 = weights.iter().sum();
            if !total.is_finite() {
                return Err(p.key("weights").err(
                    "the weights add up to more than a 64-bit float holds",
                    "weights are relative: scale them down (e.g. to sum to 1)",
                ));
            }
            let mut acc = 0.0;
            let mut cdf: Vec<f64> = weights
                .iter()
                .map(|w| {
                    acc += w / total;
                    acc
                })
                .collect();
            *cdf.last_mut().expect("non-empty") = 1.0;
            Dist::Empirical { values, cdf }
        }
        other => {
            return Err(p.key("dist").err(
                format!("unknown distribution \"{other}\""),
                "use fixed, exponential, lognormal, uniform or empirical",
            ))
        }
    };
    Ok(r)
}

fn find(p: &Path, names: &[&str], name: &str, what: &str) -> R<usize> {
    names.iter().position(|n| *n == name).ok_or_else(|| {
        p.err(
            format!("no {what} named \"{name}\""),
            format!("known {what}s: {}", names.join(", ")),
        )
    })
}

fn unique_names<'a>(p: &Path, names: impl Iterator<Item = &'a str>) -> R<()> {
    let mut seen = std::collections::BTreeSet::new();
    for (i, n) in names.enumerate() {
        if n.is_empty() {
            return Err(p.idx(i).key("name").err("is empty", "give it a name"));
        }
        bounded_name(&p.idx(i).key("name"), n)?;
        if !seen.insert(n) {
            return Err(p
                .idx(i)
                .key("name")
                .err(format!("\"{n}\" is used twice"), "names must be unique"));
        }
    }
    Ok(())
}

/// Typical rendered length of a key template: each `{placeholder}` replaced by a value of
/// typical length, `{{x}}` (a literal hash tag around a value) adding its two braces.
fn template_key_len(template: &str, tenant_len: usize) -> u32 {
    let mut len = 0usize;
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        len += open;
        let after = &rest[open..];
        let double = after.starts_with("{{");
        let inner_start = if double { 2 } else { 1 };
        let Some(close) = after[inner_start..].find('}') else {
            len += after.len();
            rest = "";
            break;
        };
        let name = &after[inner_start..inner_start + close];
        len += match name {
            "tenant" | "tenantId" => tenant_len,
            "version" | "publicationId" | "priceBookId" | "policyVersion" => 10,
            "configHash" | "contextHash" | "keyHash" | "idempotencyKey" => 16,
            _ => 8,
        };
        let end = inner_start + close + if double { 2 } else { 1 };
        if double {
            len += 2;
        }
        rest = &after[end.min(after.len())..];
    }
    (len + rest.len()) as u32
}

/// Resolves a keyspace's `strategy` table; `ttl` is the keyspace's (hard) TTL.
fn strategy(p: &Path, s: &RawStrategy, ttl: SimTime, duration: SimTime) -> R<Strategy> {
    let reject = |fields: &[(&str, bool)]| -> R<()> {
        for (name, present) in fields {
            if *present {
                return Err(p.key(name).err(
                    format!("`{name}` does not apply to kind = \"{}\"", s.kind),
                    "remove it, or pick the strategy it belongs to",
                ));
            }
        }
        Ok(())
    };
    let lock_fields = [
        ("lock_ttl_ms", s.lock_ttl_ms.is_some()),
        ("lock_poll_ms", s.lock_poll_ms.is_some()),
        ("lock_max_wait_ms", s.lock_max_wait_ms.is_some()),
    ];
    let ms_or = |name: &str, v: Option<Millis>, default_ms: u64| -> R<SimTime> {
        match v {
            Some(v) => positive_ms(&p.key(name), v),
            None => Ok(SimTime::from_ms(default_ms)),
        }
    };
    let kind = match s.kind.as_str() {
        "cache-aside" => {
            reject(&lock_fields)?;
            reject(&[
                ("soft_ttl_ms", s.soft_ttl_ms.is_some()),
                ("beta", s.beta.is_some()),
            ])?;
            StrategyKind::CacheAside
        }
        "single-flight" => {
            reject(&[
                ("soft_ttl_ms", s.soft_ttl_ms.is_some()),
                ("beta", s.beta.is_some()),
            ])?;
            let lock_ttl = ms_or("lock_ttl_ms", s.lock_ttl_ms, 5_000)?;
            let poll = ms_or("lock_poll_ms", s.lock_poll_ms, 20)?;
            let max_wait = ms_or("lock_max_wait_ms", s.lock_max_wait_ms, 1_000)?;
            if max_wait >= duration {
                return Err(p.key("lock_max_wait_ms").err(
                    "the lock wait is longer than the run",
                    "make lock_max_wait_ms shorter than duration_ms",
                ));
            }
            if poll > max_wait {
                return Err(p.key("lock_poll_ms").err(
                    "the poll interval is longer than the maximum wait",
                    "make lock_poll_ms at most lock_max_wait_ms",
                ));
            }
            StrategyKind::SingleFlight {
                lock_ttl,
                poll,
                max_wait,
            }
        }
        "stale-while-revalidate" => {
            reject(&[
                ("lock_poll_ms", s.lock_poll_ms.is_some()),
                ("lock_max_wait_ms", s.lock_max_wait_ms.is_some()),
                ("beta", s.beta.is_some()),
            ])?;
            let soft_ttl = positive_ms(
                &p.key("soft_ttl_ms"),
                s.soft_ttl_ms.ok_or_else(|| {
                    p.key("soft_ttl_ms").err(
                        "stale-while-revalidate needs `soft_ttl_ms`",
                        "soft_ttl_ms = \"1m\" (the keyspace's ttl_ms is the hard expiry)",
                    )
                })?,
            )?;
            if ttl < soft_ttl {
                return Err(p.key("soft_ttl_ms").err(
                    "the hard TTL (the keyspace's ttl_ms) is shorter than the soft TTL",
                    "make soft_ttl_ms at most ttl_ms",
                ));
            }
            StrategyKind::StaleWhileRevalidate {
                soft_ttl,
                lock_ttl: ms_or("lock_ttl_ms", s.lock_ttl_ms, 5_000)?,
            }
        }
        "xfetch" => {
            reject(&lock_fields)?;
            reject(&[("soft_ttl_ms", s.soft_ttl_ms.is_some())])?;
            let beta = s.beta.unwrap_or(1.0);
            if !(beta > 0.0) || !beta.is_finite() || beta > 1_000.0 {
                return Err(p.key("beta").err(
                    format!("beta must be above 0 and at most 1000, got {beta}"),
                    "beta = 1.0 is the paper's default; larger recomputes earlier",
                ));
            }
            StrategyKind::XFetch { beta }
        }
        other => {
            return Err(p.key("kind").err(
                format!("unknown strategy \"{other}\""),
                "use cache-aside, single-flight, stale-while-revalidate or xfetch",
            ))
        }
    };
    let local_cache = match (s.local_cache_keys, s.local_cache_ttl_ms) {
        (None, None) => None,
        (Some(n), t) => Some(LocalCache {
            capacity_keys: int_in(&p.key("local_cache_keys"), n, 1, 100_000_000)? as u64,
            ttl: ms_or("local_cache_ttl_ms", t, 5_000)?,
        }),
        (None, Some(_)) => {
            return Err(p.key("local_cache_ttl_ms").err(
                "a local cache TTL without a size",
                "add local_cache_keys = <keys per instance>",
            ))
        }
    };
    let negative = match (s.negative_fraction, s.negative_ttl_ms) {
        (None, None) => None,
        (Some(f), t) => Some(NegativeCache {
            fraction: fraction(&p.key("negative_fraction"), f)?,
            ttl: ms_or("negative_ttl_ms", t, 30_000)?,
        }),
        (None, Some(_)) => {
            return Err(p.key("negative_ttl_ms").err(
                "a negative TTL without a fraction",
                "add negative_fraction = <share of lookups that find nothing>",
            ))
        }
    };
    let breaker = match (s.breaker_failures, s.breaker_open_ms) {
        (None, None) => None,
        (f, t) => Some(Breaker {
            failures: int_in(&p.key("breaker_failures"), f.unwrap_or(5), 1, 1_000_000)?,
            open_for: ms_or("breaker_open_ms", t, 10_000)?,
        }),
    };
    Ok(Strategy {
        kind,
        coalesce: s.coalesce.unwrap_or(false),
        local_cache,
        negative,
        breaker,
    })
}

/// Placeholders that name a version dimension of a key (a new version means new keys).
pub const VERSION_PLACEHOLDERS: [&str; 6] = [
    "{version}",
    "{publicationId}",
    "{priceBookId}",
    "{policyVersion}",
    "{revision}",
    "{revisionNo}",
];

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
        None => SimTime::ZERO,
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
        None => SimTime::from_secs(10).min(duration),
    };
    let start_unix_ms = raw.simulation.start_unix_ms.unwrap_or(1_782_982_800_000); // 2026-07-02T09:00Z
    if start_unix_ms > MAX_START_UNIX_MS {
        return Err(sim.key("start_unix_ms").err(
            format!("{start_unix_ms} is after the year 9999"),
            format!(
                "allowed: 0 to {MAX_START_UNIX_MS} (9999-12-31T23:59:59.999Z); the Redis model's \
                 expire times end in the year 10889, beyond which every key would look expired"
            ),
        ));
    }
    let start = match raw.simulation.start.as_deref() {
        None | Some("cold") => Start::Cold,
        Some("steady-state") => Start::SteadyState,
        Some(other) => {
            return Err(sim.key("start").err(
                format!("unknown start \"{other}\""),
                "use \"steady-state\" (clusters hold what a long run leaves resident) or \"cold\" (empty clusters)",
            ))
        }
    };
    let app_instances = int_in(
        &sim.key("app_instances"),
        raw.simulation.app_instances.unwrap_or(4) as i64,
        1,
        10_000,
    )?;

    // Tenants.
    let tp = root.key("tenants");
    if raw.tenants.is_empty() {
        return Err(tp.err("no tenants", "add at least one [[tenants]] table"));
    }
    unique_names(&tp, raw.tenants.iter().map(|t| t.name.as_str()))?;
    let mut tenants = Vec::new();
    let mut weight_total = 0.0;
    for (i, t) in raw.tenants.iter().enumerate() {
        let w = positive_at_most(
            &tp.idx(i).key("traffic_weight"),
            t.traffic_weight.unwrap_or(1.0),
            MAX_TENANT_FACTOR,
            "a traffic weight (weights are relative)",
        )?;
        let size = positive_at_most(
            &tp.idx(i).key("size"),
            t.size.unwrap_or(1.0),
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

    // Origins.
    let op = root.key("origins");
    unique_names(&op, raw.origins.iter().map(|o| o.name.as_str()))?;
    let mut origins = Vec::new();
    for (i, o) in raw.origins.iter().enumerate() {
        let p = op.idx(i);
        origins.push(Origin {
            name: o.name.clone(),
            concurrency: int_in(&p.key("concurrency"), o.concurrency, 1, 1_000_000)?,
            service_time_ms: dist(&p.key("service_time_ms"), &o.service_time_ms, Quantity::Ms)?,
            queue_limit: int_in(
                &p.key("queue_limit"),
                o.queue_limit.unwrap_or(10_000),
                0,
                10_000_000,
            )?,
            timeout: match o.timeout_ms {
                Some(t) => positive_ms(&p.key("timeout_ms"), t)?,
                None => SimTime::from_secs(5),
            },
        });
    }
    let origin_names: Vec<&str> = origins.iter().map(|o| o.name.as_str()).collect();

    // Clusters.
    let cp = root.key("clusters");
    if raw.clusters.is_empty() {
        return Err(cp.err("no clusters", "add at least one [[clusters]] table"));
    }
    unique_names(&cp, raw.clusters.iter().map(|c| c.name.as_str()))?;
    let mut clusters = Vec::new();
    for (i, c) in raw.clusters.iter().enumerate() {
        let p = cp.idx(i);
        let shards = int_in(&p.key("shards"), c.shards, 1, 16_384)?;
        let policy_name = c.maxmemory_policy.as_deref().unwrap_or("noeviction");
        let policy = MaxmemoryPolicy::parse(policy_name).ok_or_else(|| {
            p.key("maxmemory_policy").err(
                format!("unknown maxmemory-policy \"{policy_name}\""),
                "use noeviction, allkeys-lru, allkeys-lfu, allkeys-random, volatile-lru, volatile-lfu, volatile-random or volatile-ttl",
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
                c.maxmemory_samples.unwrap_or(5),
                1,
                64,
            )?,
            maxmemory_eviction_tenacity: int_in(
                &p.key("maxmemory_eviction_tenacity"),
                c.maxmemory_eviction_tenacity.unwrap_or(10),
                0,
                100,
            )?,
            hz: int_in(&p.key("hz"), c.hz.unwrap_or(10), 1, 500)?,
            lfu_log_factor: int_in(
                &p.key("lfu_log_factor"),
                c.lfu_log_factor.unwrap_or(10),
                0,
                1_000_000,
            )?,
            lfu_decay_time: int_in(
                &p.key("lfu_decay_time"),
                c.lfu_decay_time.unwrap_or(1),
                0,
                1_000_000,
            )?,
            active_expire_effort: int_in(
                &p.key("active_expire_effort"),
                c.active_expire_effort.unwrap_or(1),
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
            // Measured on the reference 2-vCPU machine: ~25-45 µs per unpipelined request with
            // client and server sharing the CPUs (REDIS-MODEL.md section 10); the server's share
            // is taken as a lognormal with median 15 µs.
            _ => Dist::Lognormal {
                mu: 15f64.ln(),
                sigma: 0.35,
            },
        };
        let network_rtt_us = match &c.network_rtt_us {
            Some(d) => dist(&p.key("network_rtt_us"), d, Quantity::Us)?,
            None => Dist::Lognormal {
                mu: 250f64.ln(),
                sigma: 0.3,
            },
        };
        clusters.push(Cluster {
            name: c.name.clone(),
            shards,
            redis,
            slot_map,
            service_time_us,
            network_rtt_us,
            cost_per_shard: cost(&p.key("cost_per_shard"), c.cost_per_shard.unwrap_or(1.0))?,
            cost_per_gb: cost(&p.key("cost_per_gb"), c.cost_per_gb.unwrap_or(0.0))?,
        });
    }
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
    let mut keyspaces = Vec::new();
    for (i, k) in raw.keyspaces.iter().enumerate() {
        let p = kp.idx(i);
        let operation = match k.operation.as_str() {
            "read-through" => Operation::ReadThrough,
            "session" => Operation::Session,
            "rate-limit" => Operation::RateLimit,
            "lock" => Operation::Lock,
            "idempotency" => Operation::Idempotency,
            other => {
                return Err(p.key("operation").err(
                    format!("unknown operation \"{other}\""),
                    "use read-through, session, rate-limit, lock or idempotency",
                ))
            }
        };
        let criticality = match k.criticality.as_deref().unwrap_or("medium") {
            "low" => Criticality::Low,
            "medium" => Criticality::Medium,
            "high" => Criticality::High,
            "critical" => Criticality::Critical,
            other => {
                return Err(p.key("criticality").err(
                    format!("unknown criticality \"{other}\""),
                    "use low, medium, high or critical",
                ))
            }
        };
        let rate_per_s = positive_at_most(
            &p.key("rate_per_s"),
            k.rate_per_s,
            MAX_RATE_PER_S,
            "a keyspace's mean rate",
        )?;
        let keys_per_tenant = int_in(
            &p.key("keys_per_tenant"),
            k.keys_per_tenant.unwrap_or(10_000),
            1,
            i64::from(u32::MAX),
        )? as u64;
        for t in &tenants {
            let n = (keys_per_tenant as f64 * t.size).round();
            if n > crate::workload::popularity::MAX_ALIAS_RANKS as f64 {
                return Err(p.key("keys_per_tenant").err(
                    format!(
                        "{keys_per_tenant} keys x tenant \"{}\"'s size {} = {n} keys, more than \
                         one tenant's keys can be numbered",
                        t.name, t.size
                    ),
                    format!(
                        "keep keys_per_tenant x size at most {} per tenant",
                        crate::workload::popularity::MAX_ALIAS_RANKS
                    ),
                ));
            }
        }
        let popularity = match &k.popularity {
            None => Popularity::Zipf(0.9),
            Some(pop) => {
                let q = p.key("popularity");
                let stray = |name: &str| -> FieldError {
                    q.key(name).err(
                        format!("`{name}` does not apply to dist = \"{}\"", pop.dist),
                        "remove it, or pick the popularity it belongs to",
                    )
                };
                if pop.dist != "hot-set" && pop.hot_keys_fraction.is_some() {
                    return Err(stray("hot_keys_fraction"));
                }
                if pop.dist != "hot-set" && pop.hot_requests_fraction.is_some() {
                    return Err(stray("hot_requests_fraction"));
                }
                if pop.dist != "zipf" && pop.alpha.is_some() {
                    return Err(stray("alpha"));
                }
                match pop.dist.as_str() {
                    "zipf" => {
                        let a = pop.alpha.ok_or_else(|| {
                            q.key("alpha").err("zipf needs `alpha`", "alpha = 0.9")
                        })?;
                        if !(0.0..=5.0).contains(&a) {
                            return Err(q
                                .key("alpha")
                                .err(format!("{a} out of range"), "allowed: 0 to 5"));
                        }
                        Popularity::Zipf(a)
                    }
                    "uniform" => Popularity::Uniform,
                    "hot-set" => Popularity::HotSet {
                        hot_keys_fraction: fraction(
                            &q.key("hot_keys_fraction"),
                            pop.hot_keys_fraction.unwrap_or(0.2),
                        )?,
                        hot_requests_fraction: fraction(
                            &q.key("hot_requests_fraction"),
                            pop.hot_requests_fraction.unwrap_or(0.8),
                        )?,
                    },
                    other => {
                        return Err(q.key("dist").err(
                            format!("unknown popularity \"{other}\""),
                            "use zipf, uniform or hot-set",
                        ))
                    }
                }
            }
        };
        let value_size_bytes = dist(
            &p.key("value_size_bytes"),
            &k.value_size_bytes,
            Quantity::Bytes,
        )?;
        let ttl = match k.ttl_ms {
            Some(t) => non_negative_ms(&p.key("ttl_ms"), t)?,
            None => SimTime::ZERO,
        };
        let jitter = match &k.ttl_jitter {
            None => Jitter::None,
            Some(j) => {
                let q = p.key("ttl_jitter");
                if j.kind != "uniform-pct" && j.pct.is_some() {
                    return Err(q.key("pct").err(
                        format!("`pct` does not apply to kind = \"{}\"", j.kind),
                        "use kind = \"uniform-pct\" with pct, or kind = \"up-to\" with max_ms",
                    ));
                }
                if j.kind != "up-to" && j.max_ms.is_some() {
                    return Err(q.key("max_ms").err(
                        format!("`max_ms` does not apply to kind = \"{}\"", j.kind),
                        "use kind = \"up-to\" with max_ms, or kind = \"uniform-pct\" with pct",
                    ));
                }
                match j.kind.as_str() {
                    "none" => Jitter::None,
                    "uniform-pct" => {
                        let pct = j.pct.ok_or_else(|| {
                            q.key("pct").err("uniform-pct needs `pct`", "pct = 10")
                        })?;
                        if !(0.0..100.0).contains(&pct) {
                            return Err(q
                                .key("pct")
                                .err(format!("{pct} out of range"), "allowed: 0 to <100"));
                        }
                        Jitter::UniformPct(pct)
                    }
                    "up-to" => Jitter::UpTo(positive_ms(
                        &q.key("max_ms"),
                        j.max_ms.ok_or_else(|| {
                            q.key("max_ms")
                                .err("up-to needs `max_ms`", "max_ms = \"90s\"")
                        })?,
                    )?),
                    other => {
                        return Err(q.key("kind").err(
                            format!("unknown jitter \"{other}\""),
                            "use none, uniform-pct or up-to",
                        ))
                    }
                }
            }
        };
        if ttl > SimTime::ZERO && ttl < SimTime::from_ms(1) {
            return Err(p.key("ttl_ms").err(
                "a TTL under 1 ms",
                "Redis expires in whole milliseconds (PX >= 1); use at least \"1ms\", or 0 for none",
            ));
        }
        if ttl == SimTime::ZERO
            && matches!(
                operation,
                Operation::Session | Operation::RateLimit | Operation::Lock
            )
        {
            return Err(p.key("ttl_ms").err(
                format!("operation \"{}\" needs a TTL", k.operation),
                "sessions refresh it, rate-limit windows and locks expire with it: set ttl_ms",
            ));
        }
        if ttl == SimTime::ZERO && jitter != Jitter::None {
            return Err(p
                .key("ttl_jitter")
                .err("jitter without a TTL", "set ttl_ms or remove ttl_jitter"));
        }
        let needs_origin = matches!(
            operation,
            Operation::ReadThrough | Operation::Session | Operation::Idempotency
        );
        let origin = match (&k.origin, needs_origin) {
            (Some(o), true) => Some(find(&p.key("origin"), &origin_names, o, "origin")?),
            (None, true) => {
                return Err(p.key("origin").err(
                    format!("operation \"{}\" loads from an origin", k.operation),
                    "add origin = \"<name of an [[origins]] entry>\"",
                ))
            }
            (Some(_), false) => {
                return Err(p.key("origin").err(
                    format!("operation \"{}\" has no origin", k.operation),
                    "remove origin",
                ))
            }
            (None, false) => None,
        };
        let strategy = match &k.strategy {
            None => Strategy::cache_aside(),
            Some(s) => strategy(&p.key("strategy"), s, ttl, duration)?,
        };
        if strategy.kind != StrategyKind::CacheAside
            && !matches!(operation, Operation::ReadThrough | Operation::Session)
        {
            return Err(p.key("strategy").key("kind").err(
                format!(
                    "strategy \"{}\" needs a read-through or session keyspace",
                    strategy.kind_name()
                ),
                "use kind = \"cache-aside\" here",
            ));
        }
        if strategy.kind != StrategyKind::CacheAside && ttl == SimTime::ZERO {
            return Err(p.key("ttl_ms").err(
                format!("strategy \"{}\" needs a TTL", strategy.kind_name()),
                "set ttl_ms",
            ));
        }
        let hourly_profile = match &k.hourly_profile {
            None => vec![1.0; 24],
            Some(v) => {
                if v.len() != 24 {
                    return Err(p.key("hourly_profile").err(
                        format!("{} values", v.len()),
                        "give 24 multipliers, one per hour",
                    ));
                }
                for (h, m) in v.iter().enumerate() {
                    if !(*m >= 0.0) {
                        return Err(p
                            .key("hourly_profile")
                            .idx(h)
                            .err("negative multiplier", "use >= 0"));
                    }
                    if *m > MAX_RATE_MULTIPLIER {
                        return Err(p.key("hourly_profile").idx(h).err(
                            format!("{m} is too large for a rate multiplier"),
                            format!("allowed: 0 to {MAX_RATE_MULTIPLIER}"),
                        ));
                    }
                }
                v.clone()
            }
        };
        let mut bursts = Vec::new();
        for (j, b) in k.bursts.iter().enumerate() {
            let q = p.key("bursts").idx(j);
            let start = non_negative_ms(&q.key("start_ms"), b.start_ms)?;
            let len = positive_ms(&q.key("duration_ms"), b.duration_ms)?;
            let multiplier = positive_at_most(
                &q.key("multiplier"),
                b.multiplier,
                MAX_RATE_MULTIPLIER,
                "a rate multiplier",
            )?;
            if start >= duration {
                return Err(q
                    .key("start_ms")
                    .err("starts after the run ends", "start it before duration_ms"));
            }
            bursts.push(Burst {
                start,
                end: start + len,
                multiplier,
            });
        }
        for (name, present, wanted) in [
            ("window_ms", k.window_ms.is_some(), Operation::RateLimit),
            (
                "rate_limit_algorithm",
                k.rate_limit_algorithm.is_some(),
                Operation::RateLimit,
            ),
            (
                "rate_limit_per_window",
                k.rate_limit_per_window.is_some(),
                Operation::RateLimit,
            ),
            ("hold_ms", k.hold_ms.is_some(), Operation::Lock),
            (
                "retry_probability",
                k.retry_probability.is_some(),
                Operation::Idempotency,
            ),
            (
                "retry_delay_ms",
                k.retry_delay_ms.is_some(),
                Operation::Idempotency,
            ),
        ] {
            if present && operation != wanted {
                return Err(p.key(name).err(
                    format!("`{name}` does not apply to operation \"{}\"", k.operation),
                    format!(
                        "remove it (it belongs to operation \"{}\")",
                        wanted.as_str()
                    ),
                ));
            }
        }
        let rate_limit_algorithm = match k.rate_limit_algorithm.as_deref() {
            None | Some("fixed-window") => RateLimitAlgorithm::FixedWindow,
            Some("sliding-window") => RateLimitAlgorithm::SlidingWindow,
            Some("token-bucket") => RateLimitAlgorithm::TokenBucket,
            Some(other) => {
                return Err(p.key("rate_limit_algorithm").err(
                    format!("unknown rate-limit algorithm \"{other}\""),
                    "use fixed-window, sliding-window or token-bucket",
                ))
            }
        };
        let rate_limit_per_window = match k.rate_limit_per_window {
            None => None,
            Some(n) => Some(int_in(
                &p.key("rate_limit_per_window"),
                n,
                1,
                1_000_000_000,
            )?),
        };
        let window_rl = match k.window_ms {
            Some(w) => positive_ms(&p.key("window_ms"), w)?,
            None => SimTime::from_secs(60),
        };
        if window_rl < SimTime::from_ms(1) {
            return Err(p.key("window_ms").err(
                "a rate-limit window under 1 ms",
                "Redis expires in whole milliseconds (PX >= 1); use at least \"1ms\"",
            ));
        }
        if operation == Operation::RateLimit
            && duration.as_ns() / window_rl.as_ns() >= u64::from(u32::MAX)
        {
            return Err(p.key("window_ms").err(
                "the run spans 2^32 rate-limit windows or more; a fixed window's key numbers \
                 its window in 32 bits",
                "make window_ms longer, or simulation.duration_ms shorter",
            ));
        }
        let hold_ms = match &k.hold_ms {
            Some(d) => dist(&p.key("hold_ms"), d, Quantity::Ms)?,
            None => Dist::Fixed(50.0),
        };
        let retry_probability = fraction(
            &p.key("retry_probability"),
            k.retry_probability.unwrap_or(0.0),
        )?;
        let retry_delay = match k.retry_delay_ms {
            Some(d) => positive_ms(&p.key("retry_delay_ms"), d)?,
            None => SimTime::from_secs(2),
        };
        let client_timeout = match k.client_timeout_ms {
            Some(d) => positive_ms(&p.key("client_timeout_ms"), d)?,
            None => SimTime::from_ms(50),
        };
        let fallback = match &k.fallback {
            None => Fallback::default(),
            Some(f) => fallback(&p.key("fallback"), f, operation, &k.operation)?,
        };
        let template = &k.key_template;
        if template.is_empty() {
            return Err(p
                .key("key_template")
                .err("is empty", "e.g. \"catalog:{tenant}:offering:{id}\""));
        }
        bounded_name(&p.key("key_template"), template)?;
        keyspaces.push(Keyspace {
            name: k.name.clone(),
            key_template: template.clone(),
            key_has_tenant: template.contains("{tenant}") || template.contains("{tenantId}"),
            key_has_version: VERSION_PLACEHOLDERS.iter().any(|v| template.contains(v)),
            key_len_bytes: template_key_len(template, tenant_len),
            operation,
            criticality,
            rate_per_s,
            keys_per_tenant,
            popularity,
            value_size_bytes,
            ttl,
            jitter,
            origin,
            strategy,
            hourly_profile,
            bursts,
            window: window_rl,
            rate_limit_algorithm,
            rate_limit_per_window,
            hold_ms,
            retry_probability,
            retry_delay,
            client_timeout,
            fallback,
        });
    }
    let keyspace_names: Vec<&str> = keyspaces.iter().map(|k| k.name.as_str()).collect();

    // Plans.
    let pp = root.key("plans");
    if raw.plans.is_empty() {
        return Err(pp.err(
            "no plans",
            "add at least one [[plans]] table placing keyspaces on clusters",
        ));
    }
    unique_names(&pp, raw.plans.iter().map(|p| p.name.as_str()))?;
    let mut plans = Vec::new();
    for (i, pl) in raw.plans.iter().enumerate() {
        let p = pp.idx(i).key("placement");
        let mut cluster_of_keyspace = vec![usize::MAX; keyspaces.len()];
        for (ks, cl) in &pl.placement {
            let q = p.key(ks);
            let ki = find(&q, &keyspace_names, ks, "keyspace")?;
            cluster_of_keyspace[ki] = find(&q, &cluster_names, cl, "cluster")?;
        }
        if let Some(missing) = cluster_of_keyspace.iter().position(|c| *c == usize::MAX) {
            return Err(p.err(
                format!(
                    "keyspace \"{}\" is placed on no cluster",
                    keyspace_names[missing]
                ),
                format!(
                    "add {} = \"<cluster>\" to this placement",
                    keyspace_names[missing]
                ),
            ));
        }
        plans.push(Plan {
            name: pl.name.clone(),
            description: pl.description.clone(),
            cluster_of_keyspace,
        });
    }

    // Events.
    let ep = root.key("events");
    if raw.events.len() > MAX_TIMELINE_ENTRIES {
        return Err(ep.err(
            format!("{} events", raw.events.len()),
            format!("allowed: up to {MAX_TIMELINE_ENTRIES} timeline events"),
        ));
    }
    let mut events = Vec::new();
    for (i, e) in raw.events.iter().enumerate() {
        let p = ep.idx(i);
        bounded_name(&p.key("name"), &e.name)?;
        let at = non_negative_ms(&p.key("at_ms"), e.at_ms)?;
        if at >= duration {
            return Err(p
                .key("at_ms")
                .err("is after the end of the run", "move it before duration_ms"));
        }
        let action = match e.action.as_str() {
            "new-version" => EventAction::NewVersion,
            "delete" => EventAction::Delete,
            "change" => EventAction::Change,
            other => {
                return Err(p.key("action").err(
                    format!("unknown action \"{other}\""),
                    "use new-version, delete or change",
                ))
            }
        };
        let mut ks = Vec::new();
        for (j, name) in e.keyspaces.iter().enumerate() {
            let q = p.key("keyspaces").idx(j);
            let ki = find(&q, &keyspace_names, name, "keyspace")?;
            if action == EventAction::NewVersion && !keyspaces[ki].key_has_version {
                return Err(q.err(
                    format!("keyspace \"{name}\" has no version dimension in its key template"),
                    format!(
                        "add one of {} to its key_template, or use action = \"delete\"",
                        VERSION_PLACEHOLDERS.join(", ")
                    ),
                ));
            }
            ks.push(ki);
        }
        if ks.is_empty() {
            return Err(p
                .key("keyspaces")
                .err("is empty", "list the keyspaces the event affects"));
        }
        events.push(Event {
            at,
            name: e.name.clone(),
            action,
            keyspaces: ks,
        });
    }
    events.sort_by_key(|e| e.at);

    // Faults.
    let fp = root.key("faults");
    if raw.faults.len() > MAX_TIMELINE_ENTRIES {
        return Err(fp.err(
            format!("{} faults", raw.faults.len()),
            format!("allowed: up to {MAX_TIMELINE_ENTRIES} faults"),
        ));
    }
    let mut faults = Vec::new();
    let mut fault_bursts: Vec<(usize, Burst)> = Vec::new();
    for (i, f) in raw.faults.iter().enumerate() {
        let ctx = FaultContext {
            duration,
            app_instances,
            clusters: &clusters,
            cluster_names: &cluster_names,
            keyspace_names: &keyspace_names,
        };
        let fault = fault(&fp.idx(i), f, &ctx)?;
        if let FaultKind::TrafficBurst {
            multiplier,
            keyspaces: kss,
        } = &fault.kind
        {
            for &ki in kss {
                fault_bursts.push((
                    ki,
                    Burst {
                        start: fault.start,
                        end: fault.end,
                        multiplier: *multiplier,
                    },
                ));
            }
        }
        faults.push(fault);
    }
    check_fault_overlaps(&fp, &faults)?;

    // SLOs.
    let mut slo = Slo {
        hit_ratio_min: vec![None; keyspaces.len()],
        latency_p99_ms_max: vec![None; keyspaces.len()],
        origin_peak_per_s_max: vec![None; origins.len()],
        ..Slo::default()
    };
    if let Some(s) = &raw.slo {
        let sp = root.key("slo");
        for (ks, v) in &s.hit_ratio_min {
            let q = sp.key("hit_ratio_min").key(ks);
            slo.hit_ratio_min[find(&q, &keyspace_names, ks, "keyspace")?] = Some(fraction(&q, *v)?);
        }
        for (ks, v) in &s.latency_p99_ms_max {
            let q = sp.key("latency_p99_ms_max").key(ks);
            slo.latency_p99_ms_max[find(&q, &keyspace_names, ks, "keyspace")?] =
                Some(positive_f(&q, *v)?);
        }
        for (o, v) in &s.origin_peak_per_s_max {
            let q = sp.key("origin_peak_per_s_max").key(o);
            slo.origin_peak_per_s_max[find(&q, &origin_names, o, "origin")?] =
                Some(positive_f(&q, *v)?);
        }
        slo.critical_evictions_max = s.critical_evictions_max;
        if let Some(u) = s.shard_utilization_max {
            slo.shard_utilization_max = Some(fraction(&sp.key("shard_utilization_max"), u)?);
        }
    }

    // A traffic-burst fault is a burst of its keyspaces.
    for (ki, b) in fault_bursts {
        keyspaces[ki].bursts.push(b);
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
    })
}

/// Resolves a keyspace's `fallback` table; fields that do not apply to `operation` are errors.
fn fallback(p: &Path, f: &RawFallback, operation: Operation, op_name: &str) -> R<Fallback> {
    use Operation::*;
    let fields: [(&str, bool, &[Operation]); 12] = [
        (
            "origin_max_in_flight",
            f.origin_max_in_flight.is_some(),
            &[ReadThrough, Session, Idempotency],
        ),
        ("rate_limit", f.rate_limit.is_some(), &[RateLimit]),
        ("lock", f.lock.is_some(), &[Lock]),
        ("lock_owner_token", f.lock_owner_token.is_some(), &[Lock]),
        ("db_constraint", f.db_constraint.is_some(), &[Lock]),
        ("pause_ms", f.pause_ms.is_some(), &[Lock]),
        ("db_idempotency", f.db_idempotency.is_some(), &[Idempotency]),
        (
            "source_of_truth",
            f.source_of_truth.is_some(),
            &[ReadThrough, Session],
        ),
        (
            "final_use_fraction",
            f.final_use_fraction.is_some(),
            &[ReadThrough],
        ),
        (
            "revalidate_before_final",
            f.revalidate_before_final.is_some(),
            &[ReadThrough],
        ),
        (
            "redis_retries",
            f.redis_retries.is_some(),
            &[ReadThrough, Session, RateLimit, Lock, Idempotency],
        ),
        (
            "redis_retry_delay_ms",
            f.redis_retry_delay_ms.is_some(),
            &[ReadThrough, Session, RateLimit, Lock, Idempotency],
        ),
    ];
    for (name, present, ops) in fields {
        if present && !ops.contains(&operation) {
            return Err(p.key(name).err(
                format!("`{name}` does not apply to operation \"{op_name}\""),
                format!(
                    "remove it (it applies to {})",
                    ops.iter()
                        .map(|o| o.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
    }
    let d = Fallback::default();
    let rate_limit = match f.rate_limit.as_deref() {
        None => d.rate_limit,
        Some("open") => RateLimitWhenDown::Open,
        Some("closed") => RateLimitWhenDown::Closed,
        Some(other) => {
            return Err(p.key("rate_limit").err(
                format!("unknown rate-limit policy \"{other}\""),
                "use open (let requests through) or closed (refuse them)",
            ))
        }
    };
    let lock = match f.lock.as_deref() {
        None => d.lock,
        Some("skip") => LockWhenDown::Skip,
        Some("give-up") => LockWhenDown::GiveUp,
        Some(other) => {
            return Err(p.key("lock").err(
                format!("unknown lock policy \"{other}\""),
                "use skip (proceed without the lock) or give-up",
            ))
        }
    };
    let source_of_truth = match f.source_of_truth.as_deref() {
        None => d.source_of_truth,
        Some("origin") => SourceOfTruth::Origin,
        Some("redis") => SourceOfTruth::Redis,
        Some(other) => {
            return Err(p.key("source_of_truth").err(
                format!("unknown source of truth \"{other}\""),
                "use origin or redis",
            ))
        }
    };
    if source_of_truth == SourceOfTruth::Redis && f.final_use_fraction.is_some() {
        return Err(p.key("final_use_fraction").err(
            "a final use revalidates against the origin, but the source of truth is Redis",
            "remove final_use_fraction or set source_of_truth = \"origin\"",
        ));
    }
    Ok(Fallback {
        origin_max_in_flight: match f.origin_max_in_flight {
            None => d.origin_max_in_flight,
            Some(n) => int_in(&p.key("origin_max_in_flight"), n, 1, 1_000_000)?,
        },
        rate_limit,
        lock,
        lock_owner_token: f.lock_owner_token.unwrap_or(d.lock_owner_token),
        db_constraint: f.db_constraint.unwrap_or(d.db_constraint),
        pause_ms: match &f.pause_ms {
            None => None,
            Some(x) => Some(dist(&p.key("pause_ms"), x, Quantity::Ms)?),
        },
        db_idempotency: f.db_idempotency.unwrap_or(d.db_idempotency),
        redis_retries: match f.redis_retries {
            None => 0,
            Some(n) => int_in(&p.key("redis_retries"), n, 0, 10)?,
        },
        redis_retry_delay_ms: match &f.redis_retry_delay_ms {
            None => d.redis_retry_delay_ms,
            Some(x) => dist(&p.key("redis_retry_delay_ms"), x, Quantity::Ms)?,
        },
        source_of_truth,
        final_use_fraction: match f.final_use_fraction {
            None => 0.0,
            Some(v) => fraction(&p.key("final_use_fraction"), v)?,
        },
        revalidate_before_final: f
            .revalidate_before_final
            .unwrap_or(d.revalidate_before_final),
    })
}

/// What a fault is resolved against.
struct FaultContext<'a> {
    duration: SimTime,
    app_instances: u32,
    clusters: &'a [Cluster],
    cluster_names: &'a [&'a str],
    keyspace_names: &'a [&'a str],
}

/// The latest a failover's slots can be back: node timeout + 500 ms + 500 ms + rank x 1 s
/// (cluster.c clusterHandleSlaveFailover; REDIS-MODEL.md section 11).
pub fn failover_max_unavailable(node_timeout: SimTime, replica_rank: u32) -> SimTime {
    node_timeout + SimTime::from_ms(1_000 + 1_000 * replica_rank as u64)
}

/// Resolves one `[[faults]]` entry.
fn fault(p: &Path, f: &RawFault, ctx: &FaultContext) -> R<Fault> {
    let kind_name = f.kind.as_str();
    // (field, present, kinds it applies to)
    let fields: [(&str, bool, &[&str]); 9] = [
        (
            "cluster",
            f.cluster.is_some(),
            &[
                "shard-down",
                "shard-slow",
                "latency-spike",
                "failover",
                "cluster-restart",
            ],
        ),
        (
            "shard",
            f.shard.is_some(),
            &["shard-down", "shard-slow", "latency-spike", "failover"],
        ),
        ("mode", f.mode.is_some(), &["shard-down", "failover"]),
        (
            "multiplier",
            f.multiplier.is_some(),
            &["shard-slow", "latency-spike", "traffic-burst"],
        ),
        ("keyspaces", f.keyspaces.is_some(), &["traffic-burst"]),
        (
            "instances",
            f.instances.is_some(),
            &["latency-spike", "subscriber-disconnect"],
        ),
        (
            "replication_lag_ms",
            f.replication_lag_ms.is_some(),
            &["failover"],
        ),
        (
            "node_timeout_ms",
            f.node_timeout_ms.is_some(),
            &["failover"],
        ),
        ("replica_rank", f.replica_rank.is_some(), &["failover"]),
    ];
    const KINDS: [&str; 7] = [
        "shard-down",
        "shard-slow",
        "latency-spike",
        "failover",
        "cluster-restart",
        "traffic-burst",
        "subscriber-disconnect",
    ];
    if !KINDS.contains(&kind_name) {
        return Err(p.key("kind").err(
            format!("unknown fault kind \"{kind_name}\""),
            format!("use {}", KINDS.join(", ")),
        ));
    }
    for (name, present, kinds) in fields {
        if present && !kinds.contains(&kind_name) {
            return Err(p.key(name).err(
                format!("`{name}` does not apply to kind = \"{kind_name}\""),
                format!("remove it (it applies to {})", kinds.join(", ")),
            ));
        }
    }
    let start = non_negative_ms(&p.key("start_ms"), f.start_ms)?;
    if start >= ctx.duration {
        return Err(p.key("start_ms").err(
            "starts after the end of the run",
            "move it before simulation.duration_ms",
        ));
    }
    let needs_cluster = fields[0].2.contains(&kind_name);
    let cluster = match (&f.cluster, needs_cluster) {
        (Some(c), _) => Some(find(&p.key("cluster"), ctx.cluster_names, c, "cluster")?),
        (None, true) => {
            return Err(p.key("cluster").err(
                format!("kind = \"{kind_name}\" needs `cluster`"),
                "add cluster = \"<name of a [[clusters]] entry>\"",
            ))
        }
        (None, false) => None,
    };
    let shard = match f.shard {
        None if kind_name == "failover" => {
            return Err(p.key("shard").err(
                "a failover needs the `shard` whose master fails",
                "add shard = 0 (shard index within the cluster)",
            ))
        }
        None => None,
        Some(sh) => {
            let shards = ctx.clusters[cluster.expect("shard needs a cluster")].shards;
            if sh < 0 || sh >= shards as i64 {
                return Err(p.key("shard").err(
                    format!(
                        "cluster \"{}\" has no shard {sh}",
                        ctx.cluster_names[cluster.expect("checked")]
                    ),
                    format!("allowed: 0 to {}", shards - 1),
                ));
            }
            Some(sh as u32)
        }
    };
    let mut instances = Vec::new();
    for (j, &inst) in f.instances.iter().flatten().enumerate() {
        instances.push(int_in(
            &p.key("instances").idx(j),
            inst,
            0,
            ctx.app_instances as i64 - 1,
        )?);
    }
    if f.instances.as_ref().is_some_and(|v| v.is_empty()) {
        return Err(p.key("instances").err(
            "is empty",
            "list application instances (0-based), or remove it for all",
        ));
    }
    let mode = |default: DownMode| -> R<DownMode> {
        match f.mode.as_deref() {
            None => Ok(default),
            Some("refused") => Ok(DownMode::Refused),
            Some("timeout") => Ok(DownMode::Timeout),
            Some(other) => Err(p.key("mode").err(
                format!("unknown mode \"{other}\""),
                "use refused (connection refused: immediate error) or timeout (the client waits client_timeout_ms)",
            )),
        }
    };
    let multiplier = || -> R<f64> {
        let m = f.multiplier.ok_or_else(|| {
            p.key("multiplier").err(
                format!("kind = \"{kind_name}\" needs `multiplier`"),
                "multiplier = 10",
            )
        })?;
        if kind_name == "traffic-burst" {
            positive_at_most(
                &p.key("multiplier"),
                m,
                MAX_RATE_MULTIPLIER,
                "a rate multiplier",
            )
        } else {
            positive_at_most(&p.key("multiplier"), m, MAX_SLOWDOWN, "a slowdown")
        }
    };
    let kind = match kind_name {
        "shard-down" => FaultKind::ShardDown {
            mode: mode(DownMode::Refused)?,
        },
        "shard-slow" => FaultKind::ShardSlow {
            multiplier: multiplier()?,
        },
        "latency-spike" => FaultKind::LatencySpike {
            multiplier: multiplier()?,
        },
        "failover" => FaultKind::Failover {
            mode: mode(DownMode::Timeout)?,
            replication_lag: match f.replication_lag_ms {
                Some(v) => non_negative_ms(&p.key("replication_lag_ms"), v)?,
                None => SimTime::from_ms(100),
            },
            node_timeout: match f.node_timeout_ms {
                Some(v) => positive_ms(&p.key("node_timeout_ms"), v)?,
                None => SimTime::from_secs(15),
            },
            replica_rank: int_in(&p.key("replica_rank"), f.replica_rank.unwrap_or(0), 0, 15)?,
        },
        "cluster-restart" => FaultKind::ClusterRestart,
        "traffic-burst" => {
            let names = f.keyspaces.as_ref().ok_or_else(|| {
                p.key("keyspaces").err(
                    "kind = \"traffic-burst\" needs `keyspaces`",
                    "keyspaces = [\"price-preview\"]",
                )
            })?;
            if names.is_empty() {
                return Err(p
                    .key("keyspaces")
                    .err("is empty", "list the keyspaces whose traffic bursts"));
            }
            let mut kss = Vec::new();
            for (j, n) in names.iter().enumerate() {
                kss.push(find(
                    &p.key("keyspaces").idx(j),
                    ctx.keyspace_names,
                    n,
                    "keyspace",
                )?);
            }
            FaultKind::TrafficBurst {
                multiplier: multiplier()?,
                keyspaces: kss,
            }
        }
        _ => FaultKind::SubscriberDisconnect,
    };
    let end = match (&kind, f.end_ms) {
        (
            FaultKind::Failover {
                node_timeout,
                replica_rank,
                ..
            },
            None,
        ) => start + failover_max_unavailable(*node_timeout, *replica_rank),
        (FaultKind::Failover { .. }, Some(_)) => {
            return Err(p.key("end_ms").err(
                "a failover ends when the replica is promoted",
                "remove end_ms; set node_timeout_ms and replica_rank instead",
            ))
        }
        (_, None) => {
            return Err(p.key("end_ms").err(
                format!("kind = \"{kind_name}\" needs `end_ms`"),
                "end_ms = \"40s\" (simulated time since the start of the run)",
            ))
        }
        (_, Some(e)) => {
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
            end
        }
    };
    let name = match &f.name {
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
            let target = match (cluster, shard) {
                (Some(c), Some(sh)) => format!(" {}/{sh}", ctx.cluster_names[c]),
                (Some(c), None) => format!(" {}", ctx.cluster_names[c]),
                _ => String::new(),
            };
            format!("{kind_name}{target}")
        }
    };
    Ok(Fault {
        name,
        kind,
        cluster,
        shard,
        instances,
        start,
        end,
        attribution: match f.attribution_ms {
            Some(v) => non_negative_ms(&p.key("attribution_ms"), v)?,
            None => SimTime::from_secs(30),
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
fn check_fault_overlaps(p: &Path, faults: &[Fault]) -> R<()> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_lengths() {
        assert_eq!(template_key_len("k:{id}", 8), 10);
        assert_eq!(template_key_len("q:{{tenant}}:x", 8), 14);
    }
}
