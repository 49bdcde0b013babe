//! The traffic profile's own trend, taken out of the horizon judge's series.
//!
//! A keyspace with an `hourly_profile` changes its request rate every hour, and at steady
//! state its hit ratio and its shard's used_memory follow: a warm-started run through a
//! morning ramp is "still rising" for a judge that fits a line. So when a keyspace's profile
//! is not flat, the judge (`horizon`) fits each last-third series y(t) with the profile's
//! prediction as a second regressor, y = a + b·t + c·x(t), and reads the trend from b alone:
//! what the profile explains is not drift. x(t) is what the profile alone predicts, up to an
//! affine map the fit finds: the profile's multiplier averaged over the TTL before t (the
//! keys present at t were written over their TTL; 24 h for keys without a TTL, as the warm
//! start reads the profile), and for a shard the keyspaces' averages weighted by the keys
//! each writes per TTL (rate × TTL). When x is constant over the last third, or a line in t
//! (the fit cannot tell the two apart), the judge falls back to the plain line: a trend the
//! profile cannot explain stays a trend.
//!
//! Pure computation over a resolved [`Scenario`]; writes nothing.

use super::horizon::{Point, Trend};
use crate::engine::SimTime;
use crate::scenario::{Keyspace, Scenario};

const HOUR_MS: i128 = 3_600_000;
/// How far back the profile is averaged for keys without a TTL.
const NO_TTL_SPAN_MS: i128 = 24 * HOUR_MS;

/// Whether `k`'s hourly profile is the same every hour (nothing to take out).
pub fn is_flat(k: &Keyspace) -> bool {
    k.hourly_profile.windows(2).all(|w| w[0] == w[1])
}

/// The span the profile is averaged over for `k`: its TTL, or 24 h without one.
fn span_ms(k: &Keyspace) -> i128 {
    if k.ttl > SimTime::ZERO {
        k.ttl.as_ms() as i128
    } else {
        NO_TTL_SPAN_MS
    }
}

/// `k`'s profile multiplier averaged over the span before simulated time `t` (unix time
/// `start_unix_ms` + t; hours before time 0 read the profile too, as a long run would have).
pub fn level(scn: &Scenario, k: &Keyspace, t: SimTime) -> f64 {
    let end = scn.start_unix_ms as i128 + t.as_ms() as i128;
    let span = span_ms(k).max(1);
    let mut at = end - span;
    let mut sum = 0.0;
    while at < end {
        let hour = at.div_euclid(HOUR_MS);
        let next = ((hour + 1) * HOUR_MS).min(end);
        sum += k.hourly_profile[hour.rem_euclid(24) as usize] * (next - at) as f64;
        at = next;
    }
    sum / span as f64
}

/// The profile's prediction for keyspace `ki` at each of `times`; `None` when its profile is
/// flat.
pub fn keyspace_covariate(scn: &Scenario, ki: usize, times: &[SimTime]) -> Option<Vec<f64>> {
    let k = &scn.keyspaces[ki];
    (!is_flat(k)).then(|| times.iter().map(|&t| level(scn, k, t)).collect())
}

/// The profile's prediction for a shard holding keyspaces `held` at each of `times`: their
/// levels weighted by rate × span; `None` when every profile among them is flat.
pub fn shard_covariate(scn: &Scenario, held: &[usize], times: &[SimTime]) -> Option<Vec<f64>> {
    if held.iter().all(|&ki| is_flat(&scn.keyspaces[ki])) {
        return None;
    }
    let weight = |ki: usize| {
        let k = &scn.keyspaces[ki];
        k.rate_per_s * span_ms(k) as f64
    };
    let total: f64 = held.iter().map(|&ki| weight(ki)).sum();
    if total <= 0.0 {
        return None;
    }
    Some(
        times
            .iter()
            .map(|&t| {
                held.iter()
                    .map(|&ki| weight(ki) * level(scn, &scn.keyspaces[ki], t))
                    .sum::<f64>()
                    / total
            })
            .collect(),
    )
}

/// The weighted least-squares fit of y = a + b·t + c·x over `points` (x: `xs`, one per
/// point), as a [`Trend`] of b (its standard error from n − 3 degrees of freedom; `mean` the
/// weighted mean of y). `None` with fewer than 4 points, or when x is constant or a line in t
/// (1 − corr(t, x)² below 1e-6): then b cannot be told from the profile.
pub fn fit_with_profile(points: &[Point], xs: &[f64]) -> Option<Trend> {
    let pts: Vec<(&Point, f64)> = points
        .iter()
        .zip(xs)
        .filter(|(p, _)| p.weight > 0.0)
        .map(|(p, &x)| (p, x))
        .collect();
    let n = pts.len();
    if n < 4 {
        return None;
    }
    let w: f64 = pts.iter().map(|(p, _)| p.weight).sum();
    let mean = |f: &dyn Fn(&Point, f64) -> f64| {
        pts.iter().map(|&(p, x)| p.weight * f(p, x)).sum::<f64>() / w
    };
    let (t0, x0, y0) = (mean(&|p, _| p.t_s), mean(&|_, x| x), mean(&|p, _| p.value));
    let sum = |f: &dyn Fn(f64, f64, f64) -> f64| {
        pts.iter()
            .map(|&(p, x)| p.weight * f(p.t_s - t0, x - x0, p.value - y0))
            .sum::<f64>()
    };
    let stt = sum(&|t, _, _| t * t);
    let sxx = sum(&|_, x, _| x * x);
    let stx = sum(&|t, x, _| t * x);
    let sty = sum(&|t, _, y| t * y);
    let sxy = sum(&|_, x, y| x * y);
    let det = stt * sxx - stx * stx;
    if stt <= 0.0 || sxx <= 0.0 || det <= 1e-6 * stt * sxx {
        return None;
    }
    let b = (sxx * sty - stx * sxy) / det;
    let c = (stt * sxy - stx * sty) / det;
    let rss = sum(&|t, x, y| (y - b * t - c * x).powi(2));
    let sigma2 = rss / (n - 3) as f64;
    Some(Trend {
        slope_per_s: b,
        se_per_s: (sigma2 * sxx / det).sqrt(),
        mean: y0,
        n,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn points(f: impl Fn(f64) -> f64, xs: &[f64]) -> Vec<Point> {
        xs.iter()
            .enumerate()
            .map(|(i, &x)| {
                let t = 10.0 * i as f64;
                Point {
                    t_s: t,
                    // A little deterministic wobble, so the residuals are not all zero.
                    value: f(t) + 40.0 * x + if i % 2 == 0 { 0.01 } else { -0.01 },
                    weight: 1.0,
                }
            })
            .collect()
    }

    #[test]
    fn a_series_that_only_follows_the_profile_has_no_trend() {
        // A step of the profile in the middle: the plain line sees a rise, the fit with the
        // profile sees none.
        let xs: Vec<f64> = (0..20).map(|i| if i < 10 { 0.5 } else { 1.5 }).collect();
        let pts = points(|_| 100.0, &xs);
        let plain = super::super::horizon::fit(&pts).unwrap();
        assert!(plain.significant() && plain.slope_per_s > 0.1);
        let t = fit_with_profile(&pts, &xs).unwrap();
        assert!(!t.significant(), "{t:?}");
        assert!(t.slope_per_s.abs() < 1e-3);
    }

    #[test]
    fn a_ramp_beside_the_profile_is_still_a_trend() {
        let xs: Vec<f64> = (0..20).map(|i| if i < 10 { 0.5 } else { 1.5 }).collect();
        let t = fit_with_profile(&points(|t| 100.0 + 0.5 * t, &xs), &xs).unwrap();
        assert!(
            t.significant() && (t.slope_per_s - 0.5).abs() < 1e-3,
            "{t:?}"
        );
    }

    #[test]
    fn a_constant_or_linear_profile_cannot_be_told_apart() {
        let flat = vec![1.0; 20];
        assert!(fit_with_profile(&points(|_| 1.0, &flat), &flat).is_none());
        let line: Vec<f64> = (0..20).map(|i| 0.1 * i as f64).collect();
        assert!(fit_with_profile(&points(|_| 1.0, &line), &line).is_none());
    }
}
