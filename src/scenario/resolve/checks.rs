//! The checks every part of a scenario shares: durations, numbers, fractions, names and
//! distributions, each turning a raw value into a resolved one or a `FieldError` naming the
//! field with a hint. Knows nothing of what the fields mean.

use super::{Path, MAX_COST, MAX_NAME_CHARS, MAX_TIME_MS, R};
use crate::engine::SimTime;
use crate::scenario::dist::Dist;
use crate::scenario::raw::RawDist;
use crate::scenario::units::Millis;
use crate::scenario::FieldError;

/// What a distribution measures, and the largest value it may reach.
#[derive(Clone, Copy)]
pub(super) enum Quantity {
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
pub(super) fn time_ms(p: &Path, v: Millis, allow_zero: bool) -> R<SimTime> {
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

pub(super) fn positive_ms(p: &Path, v: Millis) -> R<SimTime> {
    time_ms(p, v, false)
}

pub(super) fn non_negative_ms(p: &Path, v: Millis) -> R<SimTime> {
    time_ms(p, v, true)
}

/// A positive number of at most `max`.
pub(super) fn positive_at_most(p: &Path, v: f64, max: f64, what: &str) -> R<f64> {
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
pub(super) fn bounded_name(p: &Path, s: &str) -> R<()> {
    let n = s.chars().count();
    if n > MAX_NAME_CHARS {
        return Err(p.err(
            format!("is {n} characters long"),
            format!("allowed: up to {MAX_NAME_CHARS} characters"),
        ));
    }
    Ok(())
}

pub(super) fn int_in(p: &Path, v: i64, lo: i64, hi: i64) -> R<u32> {
    if v < lo || v > hi {
        return Err(p.err(
            format!("{v} is out of range"),
            format!("allowed: {lo} to {hi}"),
        ));
    }
    Ok(v as u32)
}

pub(super) fn positive_f(p: &Path, v: f64) -> R<f64> {
    if !(v > 0.0) || !v.is_finite() {
        return Err(p.err(
            format!("must be a positive number, got {v}"),
            "rates, sizes and multipliers must be > 0",
        ));
    }
    Ok(v)
}

pub(super) fn non_negative_f(p: &Path, v: f64) -> R<f64> {
    if !(v >= 0.0) || !v.is_finite() {
        return Err(p.err(
            format!("must be a number >= 0, got {v}"),
            "costs cannot be negative",
        ));
    }
    Ok(v)
}

pub(super) fn cost(p: &Path, v: f64) -> R<f64> {
    let v = non_negative_f(p, v)?;
    if v > MAX_COST {
        return Err(p.err(
            format!("{v} is too large for a cost"),
            format!("allowed: 0 to {MAX_COST}"),
        ));
    }
    Ok(v)
}

pub(super) fn fraction(p: &Path, v: f64) -> R<f64> {
    if !(0.0..=1.0).contains(&v) {
        return Err(p.err(format!("{v} is not a fraction"), "allowed: 0 to 1"));
    }
    Ok(v)
}

/// Resolves a distribution written as `{ dist = "...", ... }`; its values must stay within
/// `q`'s range except with a probability below 1e-15 per draw.
pub(super) fn dist(p: &Path, d: &RawDist, q: Quantity) -> R<Dist> {
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

pub(super) fn find(p: &Path, names: &[&str], name: &str, what: &str) -> R<usize> {
    names.iter().position(|n| *n == name).ok_or_else(|| {
        p.err(
            format!("no {what} named \"{name}\""),
            format!("known {what}s: {}", names.join(", ")),
        )
    })
}

pub(super) fn unique_names<'a>(p: &Path, names: impl Iterator<Item = &'a str>) -> R<()> {
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
