//! A keyspace's `strategy` table into a `Strategy`: the kind's own settings (serde has already
//! refused fields of another kind) with their defaults and cross-checks against the keyspace's
//! TTL and the run's length, then the in-process options every kind takes.

use super::checks::{fraction, int_in, positive_ms};
use super::{Path, R};
use crate::engine::SimTime;
use crate::scenario::defaults;
use crate::scenario::model::*;
use crate::scenario::raw::{RawClientOptions, RawStrategy};
use crate::scenario::units::Millis;

/// A duration field of a strategy, or its default.
fn ms_or(p: &Path, name: &str, v: Option<Millis>, default_ms: u64) -> R<SimTime> {
    match v {
        Some(v) => positive_ms(&p.key(name), v),
        None => Ok(SimTime::from_ms(default_ms)),
    }
}

/// Resolves a keyspace's `strategy` table; `ttl` is the keyspace's (hard) TTL.
pub(super) fn strategy(p: &Path, s: &RawStrategy, ttl: SimTime, duration: SimTime) -> R<Strategy> {
    let kind = match s {
        RawStrategy::CacheAside(_) => StrategyKind::CacheAside,
        RawStrategy::SingleFlight(s) => {
            let lock_ttl = ms_or(p, "lock_ttl_ms", s.lock_ttl_ms, defaults::LOCK_TTL_MS)?;
            let (poll, max_wait) = waits(
                p,
                ("lock_poll_ms", s.lock_poll_ms, defaults::LOCK_POLL_MS),
                (
                    "lock_max_wait_ms",
                    s.lock_max_wait_ms,
                    defaults::LOCK_MAX_WAIT_MS,
                ),
                duration,
            )?;
            StrategyKind::SingleFlight {
                lock_ttl,
                poll,
                max_wait,
            }
        }
        RawStrategy::StaleWhileRevalidate(s) => {
            let soft_ttl = positive_ms(&p.key("soft_ttl_ms"), s.soft_ttl_ms)?;
            if ttl < soft_ttl {
                return Err(p.key("soft_ttl_ms").err(
                    "the hard TTL (the keyspace's ttl_ms) is shorter than the soft TTL",
                    "make soft_ttl_ms at most ttl_ms",
                ));
            }
            StrategyKind::StaleWhileRevalidate {
                soft_ttl,
                lock_ttl: ms_or(p, "lock_ttl_ms", s.lock_ttl_ms, defaults::LOCK_TTL_MS)?,
            }
        }
        RawStrategy::XFetch(s) => {
            let beta = s.beta.unwrap_or(defaults::XFETCH_BETA);
            if !(beta > 0.0) || !beta.is_finite() || beta > 1_000.0 {
                return Err(p.key("beta").err(
                    format!("beta must be above 0 and at most 1000, got {beta}"),
                    "beta = 1.0 is the paper's default; larger recomputes earlier",
                ));
            }
            StrategyKind::XFetch { beta }
        }
        RawStrategy::RefreshAhead(s) => {
            let fraction = s
                .refresh_ahead_fraction
                .unwrap_or(defaults::REFRESH_AHEAD_FRACTION);
            if !(fraction > 0.0 && fraction < 1.0) {
                return Err(p.key("refresh_ahead_fraction").err(
                    format!("refresh_ahead_fraction must be above 0 and below 1, got {fraction}"),
                    "refresh_ahead_fraction = 0.2 refreshes in the last fifth of the TTL",
                ));
            }
            StrategyKind::RefreshAhead {
                fraction,
                lock_ttl: ms_or(p, "lock_ttl_ms", s.lock_ttl_ms, defaults::LOCK_TTL_MS)?,
            }
        }
        RawStrategy::Lease(s) => {
            let lease_ttl = ms_or(p, "lease_ttl_ms", s.lease_ttl_ms, defaults::LEASE_TTL_MS)?;
            let (poll, max_wait) = waits(
                p,
                ("lease_poll_ms", s.lease_poll_ms, defaults::LEASE_POLL_MS),
                (
                    "lease_max_wait_ms",
                    s.lease_max_wait_ms,
                    defaults::LEASE_MAX_WAIT_MS,
                ),
                duration,
            )?;
            let stale = match s.stale.as_deref().unwrap_or(defaults::LEASE_STALE) {
                "wait" => {
                    match s.stale_ttl_ms {
                        None => LeaseStale::Wait,
                        Some(_) => return Err(p.key("stale_ttl_ms").err(
                            "a stale TTL while readers wait (stale = \"wait\" keeps no stale copy)",
                            "add stale = \"serve\", or remove stale_ttl_ms",
                        )),
                    }
                }
                "serve" => LeaseStale::Serve {
                    stale_ttl: ms_or(
                        p,
                        "stale_ttl_ms",
                        s.stale_ttl_ms,
                        defaults::LEASE_STALE_TTL_MS,
                    )?,
                },
                other => return Err(p.key("stale").err(
                    format!("unknown stale = \"{other}\""),
                    "use \"wait\" (poll for the holder's value) or \"serve\" (serve a stale copy)",
                )),
            };
            StrategyKind::Lease {
                lease_ttl,
                poll,
                max_wait,
                stale,
            }
        }
    };
    client_options(p, kind, &s.options())
}

/// The poll interval and the longest wait of a strategy whose readers wait for another's
/// load (each given as field name, value, default ms): the wait shorter than the run, the
/// poll at most the wait.
fn waits(
    p: &Path,
    poll: (&str, Option<Millis>, u64),
    max_wait: (&str, Option<Millis>, u64),
    duration: SimTime,
) -> R<(SimTime, SimTime)> {
    let poll_ms = ms_or(p, poll.0, poll.1, poll.2)?;
    let max_wait_ms = ms_or(p, max_wait.0, max_wait.1, max_wait.2)?;
    if max_wait_ms >= duration {
        return Err(p.key(max_wait.0).err(
            format!("the wait ({}) is longer than the run", max_wait.0),
            format!("make {} shorter than duration_ms", max_wait.0),
        ));
    }
    if poll_ms > max_wait_ms {
        return Err(p.key(poll.0).err(
            "the poll interval is longer than the maximum wait",
            format!("make {} at most {}", poll.0, max_wait.0),
        ));
    }
    Ok((poll_ms, max_wait_ms))
}

/// The in-process options (coalescing, L1, negative caching, breaker) around `kind`.
fn client_options(p: &Path, kind: StrategyKind, o: &RawClientOptions) -> R<Strategy> {
    let local_cache = match (o.local_cache_keys, o.local_cache_ttl_ms) {
        (None, None) => None,
        (Some(n), t) => Some(LocalCache {
            capacity_keys: int_in(&p.key("local_cache_keys"), n, 1, 100_000_000)? as u64,
            ttl: ms_or(p, "local_cache_ttl_ms", t, defaults::LOCAL_CACHE_TTL_MS)?,
        }),
        (None, Some(_)) => {
            return Err(p.key("local_cache_ttl_ms").err(
                "a local cache TTL without a size",
                "add local_cache_keys = <keys per instance>",
            ))
        }
    };
    let negative = match (o.negative_fraction, o.negative_ttl_ms) {
        (None, None) => None,
        (Some(f), t) => Some(NegativeCache {
            fraction: fraction(&p.key("negative_fraction"), f)?,
            ttl: ms_or(p, "negative_ttl_ms", t, defaults::NEGATIVE_TTL_MS)?,
        }),
        (None, Some(_)) => {
            return Err(p.key("negative_ttl_ms").err(
                "a negative TTL without a fraction",
                "add negative_fraction = <share of lookups that find nothing>",
            ))
        }
    };
    let breaker = match (o.breaker_failures, o.breaker_open_ms) {
        (None, None) => None,
        (f, t) => Some(Breaker {
            failures: int_in(
                &p.key("breaker_failures"),
                f.unwrap_or(defaults::BREAKER_FAILURES),
                1,
                1_000_000,
            )?,
            open_for: ms_or(p, "breaker_open_ms", t, defaults::BREAKER_OPEN_MS)?,
        }),
    };
    Ok(Strategy {
        kind,
        coalesce: o.coalesce.unwrap_or(defaults::COALESCE),
        local_cache,
        negative,
        breaker,
    })
}
