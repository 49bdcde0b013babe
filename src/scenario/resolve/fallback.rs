//! A keyspace's `fallback` table into a `Fallback`: the policies when Redis fails and the
//! guards of the business invariants, each field checked against the keyspace's operation.
//! Defaults are `Fallback::default()` (from `scenario::defaults`).

use super::checks::{dist, fraction, int_in, Quantity};
use super::{Path, R};
use crate::scenario::model::*;
use crate::scenario::raw::RawFallback;

/// Resolves a keyspace's `fallback` table; fields that do not apply to `operation` are errors.
pub(super) fn fallback(p: &Path, f: &RawFallback, operation: Operation) -> R<Fallback> {
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
                format!(
                    "`{name}` does not apply to operation \"{}\"",
                    operation.as_str()
                ),
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
            None => d.redis_retries,
            Some(n) => int_in(&p.key("redis_retries"), n, 0, 10)?,
        },
        redis_retry_delay_ms: match &f.redis_retry_delay_ms {
            None => d.redis_retry_delay_ms,
            Some(x) => dist(&p.key("redis_retry_delay_ms"), x, Quantity::Ms)?,
        },
        source_of_truth,
        final_use_fraction: match f.final_use_fraction {
            None => d.final_use_fraction,
            Some(v) => fraction(&p.key("final_use_fraction"), v)?,
        },
        revalidate_before_final: f
            .revalidate_before_final
            .unwrap_or(d.revalidate_before_final),
    })
}
