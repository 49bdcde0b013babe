//! `[[keyspaces]]` into `Keyspace`s: the operation and its own settings (serde has already
//! refused fields of another operation), criticality, rate, keys, popularity, TTL and jitter,
//! origin, strategy (`strategies`), traffic shape (hourly profile, bursts), the client timeout,
//! the fallback (`fallback`) and what the key template implies (tenant, version, length).

use super::checks::{
    bounded_name, dist, find, fraction, int_in, non_negative_ms, positive_at_most, positive_ms,
    Quantity,
};
use super::fallback::fallback;
use super::strategies::strategy;
use super::{Path, MAX_RATE_MULTIPLIER, MAX_RATE_PER_S, R};
use crate::engine::SimTime;
use crate::scenario::defaults;
use crate::scenario::dist::Dist;
use crate::scenario::model::*;
use crate::scenario::raw::*;

/// Placeholders that name a version dimension of a key (a new version means new keys).
pub const VERSION_PLACEHOLDERS: [&str; 6] = [
    "{version}",
    "{publicationId}",
    "{priceBookId}",
    "{policyVersion}",
    "{revision}",
    "{revisionNo}",
];

/// What a keyspace is resolved against.
pub(super) struct KeyspaceContext<'a> {
    pub duration: SimTime,
    pub tenants: &'a [Tenant],
    /// The longest tenant name (a `{tenant}` placeholder's typical length).
    pub tenant_len: usize,
    pub origin_names: &'a [&'a str],
}

/// The settings only some operations take, with their defaults for the others.
struct OperationSettings {
    operation: Operation,
    window: SimTime,
    rate_limit_algorithm: RateLimitAlgorithm,
    rate_limit_per_window: Option<u32>,
    hold_ms: Dist,
    retry_probability: f64,
    retry_delay: SimTime,
    read_from_replica: bool,
}

/// The operation and its own fields.
fn operation(p: &Path, o: &RawOperation, duration: SimTime) -> R<OperationSettings> {
    let mut s = OperationSettings {
        operation: Operation::ReadThrough,
        window: SimTime::from_ms(defaults::RATE_LIMIT_WINDOW_MS),
        rate_limit_algorithm: RateLimitAlgorithm::FixedWindow,
        rate_limit_per_window: None,
        hold_ms: Dist::Fixed(defaults::LOCK_HOLD_MS),
        retry_probability: defaults::RETRY_PROBABILITY,
        retry_delay: SimTime::from_ms(defaults::RETRY_DELAY_MS),
        read_from_replica: false,
    };
    match o {
        RawOperation::ReadThrough(r) => {
            s.operation = Operation::ReadThrough;
            s.read_from_replica = match r.read_from.as_deref().unwrap_or(defaults::READ_FROM) {
                "master" => false,
                "replica" => true,
                other => {
                    return Err(p.key("read_from").err(
                        format!("unknown read_from \"{other}\""),
                        "use \"master\" or \"replica\"",
                    ))
                }
            };
        }
        RawOperation::Session(_) => s.operation = Operation::Session,
        RawOperation::RateLimit(r) => {
            s.operation = Operation::RateLimit;
            s.rate_limit_algorithm = match r
                .rate_limit_algorithm
                .as_deref()
                .unwrap_or(defaults::RATE_LIMIT_ALGORITHM)
            {
                "fixed-window" => RateLimitAlgorithm::FixedWindow,
                "sliding-window" => RateLimitAlgorithm::SlidingWindow,
                "token-bucket" => RateLimitAlgorithm::TokenBucket,
                other => {
                    return Err(p.key("rate_limit_algorithm").err(
                        format!("unknown rate-limit algorithm \"{other}\""),
                        "use fixed-window, sliding-window or token-bucket",
                    ))
                }
            };
            if let Some(n) = r.rate_limit_per_window {
                s.rate_limit_per_window = Some(int_in(
                    &p.key("rate_limit_per_window"),
                    n,
                    1,
                    1_000_000_000,
                )?);
            }
            if let Some(w) = r.window_ms {
                s.window = positive_ms(&p.key("window_ms"), w)?;
            }
            if s.window < SimTime::from_ms(1) {
                return Err(p.key("window_ms").err(
                    "a rate-limit window under 1 ms",
                    "Redis expires in whole milliseconds (PX >= 1); use at least \"1ms\"",
                ));
            }
            if duration.as_ns() / s.window.as_ns() >= u64::from(u32::MAX) {
                return Err(p.key("window_ms").err(
                    "the run spans 2^32 rate-limit windows or more; a fixed window's key numbers \
                     its window in 32 bits",
                    "make window_ms longer, or simulation.duration_ms shorter",
                ));
            }
        }
        RawOperation::Lock(l) => {
            s.operation = Operation::Lock;
            if let Some(d) = &l.hold_ms {
                s.hold_ms = dist(&p.key("hold_ms"), d, Quantity::Ms)?;
            }
        }
        RawOperation::Idempotency(i) => {
            s.operation = Operation::Idempotency;
            if let Some(v) = i.retry_probability {
                s.retry_probability = fraction(&p.key("retry_probability"), v)?;
            }
            if let Some(d) = i.retry_delay_ms {
                s.retry_delay = positive_ms(&p.key("retry_delay_ms"), d)?;
            }
        }
    }
    Ok(s)
}

/// `popularity`, or the default Zipf.
fn popularity(p: &Path, pop: &Option<RawPopularity>) -> R<Popularity> {
    let q = p.key("popularity");
    Ok(match pop {
        None => Popularity::Zipf(defaults::ZIPF_ALPHA),
        Some(RawPopularity::Zipf(z)) => {
            if !(0.0..=5.0).contains(&z.alpha) {
                return Err(q
                    .key("alpha")
                    .err(format!("{} out of range", z.alpha), "allowed: 0 to 5"));
            }
            Popularity::Zipf(z.alpha)
        }
        Some(RawPopularity::Uniform(_)) => Popularity::Uniform,
        Some(RawPopularity::HotSet(h)) => Popularity::HotSet {
            hot_keys_fraction: fraction(
                &q.key("hot_keys_fraction"),
                h.hot_keys_fraction.unwrap_or(defaults::HOT_KEYS_FRACTION),
            )?,
            hot_requests_fraction: fraction(
                &q.key("hot_requests_fraction"),
                h.hot_requests_fraction
                    .unwrap_or(defaults::HOT_REQUESTS_FRACTION),
            )?,
        },
    })
}

/// `ttl_jitter`, or none.
fn jitter(p: &Path, j: &Option<RawJitter>) -> R<Jitter> {
    let Some(j) = j else {
        return Ok(Jitter::None);
    };
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
    Ok(match j.kind.as_str() {
        "none" => Jitter::None,
        "uniform-pct" => {
            let pct = j
                .pct
                .ok_or_else(|| q.key("pct").err("uniform-pct needs `pct`", "pct = 10"))?;
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
    })
}

/// `hourly_profile`, or 24 × 1.
fn hourly_profile(p: &Path, given: &Option<Vec<f64>>) -> R<Vec<f64>> {
    let Some(v) = given else {
        return Ok(vec![1.0; 24]);
    };
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
    Ok(v.clone())
}

/// `bursts`.
fn bursts(p: &Path, given: &[RawBurst], duration: SimTime) -> R<Vec<Burst>> {
    let mut bursts = Vec::new();
    for (j, b) in given.iter().enumerate() {
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
    Ok(bursts)
}

/// Resolves one `[[keyspaces]]` entry.
pub(super) fn keyspace(p: &Path, k: &RawKeyspace, ctx: &KeyspaceContext) -> R<Keyspace> {
    let op = operation(p, &k.operation, ctx.duration)?;
    let operation = op.operation;
    let criticality = match k.criticality.as_deref().unwrap_or(defaults::CRITICALITY) {
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
        k.keys_per_tenant.unwrap_or(defaults::KEYS_PER_TENANT),
        1,
        i64::from(u32::MAX),
    )? as u64;
    for t in ctx.tenants {
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
    let popularity = popularity(p, &k.popularity)?;
    let value_size_bytes = dist(
        &p.key("value_size_bytes"),
        &k.value_size_bytes,
        Quantity::Bytes,
    )?;
    let ttl = match k.ttl_ms {
        Some(t) => non_negative_ms(&p.key("ttl_ms"), t)?,
        None => SimTime::from_ms(defaults::TTL_MS),
    };
    let jitter = jitter(p, &k.ttl_jitter)?;
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
            format!("operation \"{}\" needs a TTL", operation.as_str()),
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
        (Some(o), true) => Some(find(&p.key("origin"), ctx.origin_names, o, "origin")?),
        (None, true) => {
            return Err(p.key("origin").err(
                format!("operation \"{}\" loads from an origin", operation.as_str()),
                "add origin = \"<name of an [[origins]] entry>\"",
            ))
        }
        (Some(_), false) => {
            return Err(p.key("origin").err(
                format!("operation \"{}\" has no origin", operation.as_str()),
                "remove origin",
            ))
        }
        (None, false) => None,
    };
    let strategy = match &k.strategy {
        None => Strategy::cache_aside(),
        Some(s) => strategy(&p.key("strategy"), s, ttl, ctx.duration)?,
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
    let hourly_profile = hourly_profile(p, &k.hourly_profile)?;
    let bursts = bursts(p, &k.bursts, ctx.duration)?;
    let client_timeout = match k.client_timeout_ms {
        Some(d) => positive_ms(&p.key("client_timeout_ms"), d)?,
        None => SimTime::from_ms(defaults::CLIENT_TIMEOUT_MS),
    };
    let fallback = match &k.fallback {
        None => Fallback::default(),
        Some(f) => fallback(&p.key("fallback"), f, operation)?,
    };
    let template = &k.key_template;
    if template.is_empty() {
        return Err(p
            .key("key_template")
            .err("is empty", "e.g. \"catalog:{tenant}:offering:{id}\""));
    }
    bounded_name(&p.key("key_template"), template)?;
    Ok(Keyspace {
        name: k.name.clone(),
        key_template: template.clone(),
        key_has_tenant: template.contains("{tenant}") || template.contains("{tenantId}"),
        key_has_version: VERSION_PLACEHOLDERS.iter().any(|v| template.contains(v)),
        key_len_bytes: template_key_len(template, ctx.tenant_len),
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
        window: op.window,
        rate_limit_algorithm: op.rate_limit_algorithm,
        rate_limit_per_window: op.rate_limit_per_window,
        hold_ms: op.hold_ms,
        retry_probability: op.retry_probability,
        retry_delay: op.retry_delay,
        read_from_replica: op.read_from_replica,
        client_timeout,
        fallback,
    })
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_lengths() {
        assert_eq!(template_key_len("k:{id}", 8), 10);
        assert_eq!(template_key_len("q:{{tenant}}:x", 8), 14);
    }
}
