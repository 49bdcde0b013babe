//! Horizon diagnostics: whether each plan × keyspace and each shard of a run was at steady
//! state by the end of its horizon, and if not, why. A capacity plan speaks of steady state, so
//! a run that ends while used_memory still climbs or a cache still warms must say so.
//!
//! The criteria (documented with the same constants in `output/README.md`, "Steady state"):
//! trends fitted by least squares over the last third of the counted horizon (after the
//! warm-up) on the per-window series the run records (shard `used_memory`, keyspace hit
//! ratio); the horizon against the keyspace's longest TTL on a cold start; timeline events and
//! bursts inside that last third; too few windows to judge. A keyspace with an hourly traffic
//! profile is judged beside what its profile predicts (`detrend`), so the profile's own rise
//! and fall is not read as drift. Pure computation over a resolved
//! [`Scenario`] and its [`PlanResult`]: it owns the short reason texts (as `verdict` owns its
//! measured-value texts) and writes nothing; `tables`, `html` and the console print them.

use super::detrend;
use super::html::duration;
use crate::engine::SimTime;
use crate::metrics::summary::{has_hit_ratio, ratio};
use crate::metrics::PlanResult;
use crate::redis::evict::MaxmemoryPolicy;
use crate::scenario::{Jitter, Keyspace, Scenario, Start};
use std::fmt;

/// Trends are fitted over this last fraction of the counted horizon (warm-up excluded).
pub const TREND_FRACTION: f64 = 1.0 / 3.0;
/// Fewer windows than this in the last third (or, for a hit ratio, fewer windows with
/// requests) cannot be judged.
pub const MIN_TREND_WINDOWS: usize = 4;
/// A used_memory trend whose change over the last third exceeds this fraction of the mean
/// used_memory over that third is material.
pub const MEMORY_DRIFT_MAX_FRACTION: f64 = 0.02;
/// A hit-ratio trend whose change over the last third exceeds this (a fraction: 0.01 = one
/// percentage point) is material.
pub const HIT_RATIO_DRIFT_MAX: f64 = 0.01;
/// A trend counts only when its slope is at least this many standard errors from zero, so a
/// noisy flat series is steady.
pub const TREND_T_MIN: f64 = 3.0;
/// A shard whose last used_memory reading is at least this fraction of its maxmemory, under an
/// evicting policy, while its cluster evicted keys in the last third, is at steady state (full,
/// evicting) whatever its trend.
pub const AT_CAP_FRACTION: f64 = 0.98;

/// One point of a per-window series.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Point {
    /// Simulated time, s.
    pub t_s: f64,
    /// The value.
    pub value: f64,
    /// Its weight (relative precision; requests in the window for a hit ratio, 1 otherwise).
    pub weight: f64,
}

/// A weighted least-squares line through a series.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Trend {
    /// Slope, value units per second.
    pub slope_per_s: f64,
    /// Standard error of the slope (from the weighted residuals, n − 2 degrees of freedom).
    pub se_per_s: f64,
    /// Weighted mean of the values.
    pub mean: f64,
    /// Points fitted.
    pub n: usize,
}

impl Trend {
    /// Whether the slope is at least [`TREND_T_MIN`] standard errors from zero.
    pub fn significant(&self) -> bool {
        self.slope_per_s.abs() > 0.0 && self.slope_per_s.abs() >= TREND_T_MIN * self.se_per_s
    }
}

/// The weighted least-squares fit of `points`; `None` with fewer than 3 points, no positive
/// weight or a single time.
pub fn fit(points: &[Point]) -> Option<Trend> {
    let points: Vec<&Point> = points.iter().filter(|p| p.weight > 0.0).collect();
    if points.len() < 3 {
        return None;
    }
    let w: f64 = points.iter().map(|p| p.weight).sum();
    let t_mean = points.iter().map(|p| p.weight * p.t_s).sum::<f64>() / w;
    let v_mean = points.iter().map(|p| p.weight * p.value).sum::<f64>() / w;
    let sxx: f64 = points
        .iter()
        .map(|p| p.weight * (p.t_s - t_mean).powi(2))
        .sum();
    if sxx <= 0.0 {
        return None;
    }
    let sxy: f64 = points
        .iter()
        .map(|p| p.weight * (p.t_s - t_mean) * (p.value - v_mean))
        .sum();
    let slope = sxy / sxx;
    let rss: f64 = points
        .iter()
        .map(|p| p.weight * (p.value - v_mean - slope * (p.t_s - t_mean)).powi(2))
        .sum();
    let n = points.len();
    let sigma2 = rss / (n - 2) as f64;
    Some(Trend {
        slope_per_s: slope,
        se_per_s: (sigma2 / sxx).sqrt(),
        mean: v_mean,
        n,
    })
}

/// The trend of `points` beside the traffic profile's prediction `profile` (one value per
/// point; `detrend`), or the plain line when there is none or it cannot be told from one.
fn fit_beside(points: &[Point], profile: Option<&[f64]>) -> Option<Trend> {
    profile
        .and_then(|xs| detrend::fit_with_profile(points, xs))
        .or_else(|| fit(points))
}

/// Why a keyspace or shard was not at steady state.
#[derive(Clone, Debug, PartialEq)]
pub enum Reason {
    /// The last third of the counted horizon holds fewer than [`MIN_TREND_WINDOWS`] windows.
    TooFewWindows {
        /// Windows in the last third.
        windows: usize,
    },
    /// The last third holds fewer than [`MIN_TREND_WINDOWS`] windows with requests.
    TooFewRequestWindows {
        /// Windows with requests in the last third.
        windows: usize,
    },
    /// Cold start: the whole run is shorter than the keyspace's longest TTL, so its keys never
    /// turned over.
    HorizonShorterThanTtl {
        /// The run's duration (from time 0).
        horizon: SimTime,
        /// The longest TTL a key can get (jitter included).
        ttl: SimTime,
    },
    /// used_memory still moving by more than [`MEMORY_DRIFT_MAX_FRACTION`] over the last third.
    MemoryTrend {
        /// Slope, bytes per second.
        bytes_per_s: f64,
    },
    /// The hit ratio still moving by more than [`HIT_RATIO_DRIFT_MAX`] over the last third.
    HitRatioTrend {
        /// Slope, fraction per second.
        per_s: f64,
    },
    /// A timeline event hit the keyspace inside the last third.
    Event {
        /// Its name.
        name: String,
        /// When.
        at: SimTime,
    },
    /// A burst of the keyspace's traffic overlaps the last third.
    Burst {
        /// Start.
        start: SimTime,
        /// End.
        end: SimTime,
    },
    /// A shard of the cluster holding the keyspace was not at steady state.
    Shard {
        /// `<cluster>/<shard>`.
        shard: String,
        /// The shard's first reason.
        reason: Box<Reason>,
        /// Other shards of the same cluster that were not at steady state either.
        more: usize,
    },
}

/// `v` with two significant digits (more for numbers of three digits and up), trailing zeros
/// trimmed: 0.15, 0.8, 12, 1235.
fn sig2(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return "0".into();
    }
    let decimals = (1 - v.abs().log10().floor() as i32).max(0) as usize;
    let s = format!("{v:.decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

fn direction(v: f64) -> &'static str {
    if v >= 0.0 {
        "rising"
    } else {
        "falling"
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::TooFewWindows { windows } => {
                write!(f, "too few windows ({windows}) to judge; shorten window_ms")
            }
            Reason::TooFewRequestWindows { windows } => write!(
                f,
                "too few windows with requests ({windows}) to judge the hit ratio"
            ),
            Reason::HorizonShorterThanTtl { horizon, ttl } => write!(
                f,
                "horizon {} < TTL {} (cold start)",
                duration(*horizon),
                duration(*ttl)
            ),
            Reason::MemoryTrend { bytes_per_s } => {
                let mb_per_s = bytes_per_s / (1024.0 * 1024.0);
                write!(
                    f,
                    "used_memory still {} {} MB/s",
                    direction(mb_per_s),
                    sig2(mb_per_s.abs())
                )
            }
            Reason::HitRatioTrend { per_s } => {
                let points_per_min = per_s * 60.0 * 100.0;
                write!(
                    f,
                    "hit ratio still {} {} points per minute",
                    direction(points_per_min),
                    sig2(points_per_min.abs())
                )
            }
            Reason::Event { name, at } => {
                write!(f, "event \"{name}\" at {} in the last third", duration(*at))
            }
            Reason::Burst { start, end } => write!(
                f,
                "burst {}–{} overlaps the last third",
                duration(*start),
                duration(*end)
            ),
            Reason::Shard {
                shard,
                reason,
                more,
            } => {
                write!(f, "shard {shard}: {reason}")?;
                if *more > 0 {
                    let s = if *more == 1 { "" } else { "s" };
                    write!(f, " (and {more} more shard{s})")?;
                }
                Ok(())
            }
        }
    }
}

/// Whether one keyspace or shard was at steady state: steady when `reasons` is empty.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Judgement {
    /// Why not, in a fixed order (empty: at steady state).
    pub reasons: Vec<Reason>,
}

impl Judgement {
    /// At steady state.
    pub fn steady(&self) -> bool {
        self.reasons.is_empty()
    }

    /// `yes` or `no`, as the CSVs write it.
    pub fn yes_no(&self) -> &'static str {
        if self.steady() {
            "yes"
        } else {
            "no"
        }
    }

    /// The reasons joined by "; " (empty when steady).
    pub fn reason_text(&self) -> String {
        self.reasons
            .iter()
            .map(|r| r.to_string())
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// The judgements of one plan.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PlanHorizon {
    /// Per keyspace, scenario order.
    pub keyspaces: Vec<Judgement>,
    /// Per shard, the plan result's order.
    pub shards: Vec<Judgement>,
}

/// The used_memory criterion on one shard's last-third series (`points`: readings at window
/// ends). `span_s` is the last third's length; `at_cap_evicting` says the shard's last reading
/// is at [`AT_CAP_FRACTION`] of maxmemory or more under an evicting policy with evictions in
/// the last third (see [`at_cap_evicting`]).
pub fn memory_reasons(
    points: &[Point],
    span_s: f64,
    at_cap_evicting: bool,
    profile: Option<&[f64]>,
) -> Vec<Reason> {
    if points.len() < MIN_TREND_WINDOWS {
        return vec![Reason::TooFewWindows {
            windows: points.len(),
        }];
    }
    if at_cap_evicting {
        return Vec::new();
    }
    match fit_beside(points, profile) {
        Some(t)
            if t.significant()
                && (t.slope_per_s * span_s).abs() > MEMORY_DRIFT_MAX_FRACTION * t.mean.abs() =>
        {
            vec![Reason::MemoryTrend {
                bytes_per_s: t.slope_per_s,
            }]
        }
        _ => Vec::new(),
    }
}

/// Whether a shard is full and evicting: an evicting `policy` with a maxmemory, evictions in
/// the last third, and the last reading at [`AT_CAP_FRACTION`] of maxmemory or more.
pub fn at_cap_evicting(
    policy: MaxmemoryPolicy,
    maxmemory_bytes: u64,
    last_used_memory_bytes: Option<f64>,
    evictions_in_last_third: u64,
) -> bool {
    policy != MaxmemoryPolicy::Noeviction
        && maxmemory_bytes > 0
        && evictions_in_last_third > 0
        && last_used_memory_bytes.is_some_and(|m| m >= AT_CAP_FRACTION * maxmemory_bytes as f64)
}

/// The hit-ratio criterion on one keyspace's last-third series (`points`: one per window with
/// requests, weighted by them). `span_s` is the last third's length.
pub fn hit_ratio_reasons(points: &[Point], span_s: f64, profile: Option<&[f64]>) -> Vec<Reason> {
    if points.len() < MIN_TREND_WINDOWS {
        return vec![Reason::TooFewRequestWindows {
            windows: points.len(),
        }];
    }
    match fit_beside(points, profile) {
        Some(t) if t.significant() && (t.slope_per_s * span_s).abs() > HIT_RATIO_DRIFT_MAX => {
            vec![Reason::HitRatioTrend {
                per_s: t.slope_per_s,
            }]
        }
        _ => Vec::new(),
    }
}

/// The longest TTL a key of `k` can get: the TTL plus its largest jitter (zero: no expiry).
pub fn max_ttl(k: &Keyspace) -> SimTime {
    match &k.jitter {
        Jitter::None => k.ttl,
        Jitter::UniformPct(pct) => {
            SimTime::from_secs_f64(k.ttl.as_secs_f64() * (1.0 + pct.max(0.0) / 100.0))
        }
        Jitter::UpTo(extra) => k.ttl + *extra,
    }
}

/// Start of the last third of the counted horizon: warm-up + ⅔ of (duration − warm-up).
pub fn trend_start(scn: &Scenario) -> SimTime {
    let counted = scn.duration.saturating_sub(scn.warmup).as_ns() as u128;
    let lead = counted - (counted as f64 * TREND_FRACTION).round() as u128;
    scn.warmup + SimTime::from_ns(lead as u64)
}

/// Judges every keyspace and shard of one plan's result.
pub fn judge(scn: &Scenario, res: &PlanResult) -> PlanHorizon {
    let from = trend_start(scn);
    let span_s = scn.duration.saturating_sub(from).as_secs_f64();
    let window_end = |wi: usize| {
        res.windows
            .get(wi + 1)
            .map(|n| n.start)
            .unwrap_or(scn.duration)
    };
    let last: Vec<usize> = (0..res.windows.len())
        .filter(|&wi| res.windows[wi].start >= from)
        .collect();
    let plan = &scn.plans[res.plan];

    let shards: Vec<Judgement> = res
        .shards
        .iter()
        .enumerate()
        .map(|(si, s)| {
            let (points, times): (Vec<Point>, Vec<SimTime>) = last
                .iter()
                .filter_map(|&wi| {
                    let end = window_end(wi);
                    res.windows[wi].shard_used_memory.get(si).map(|&m| {
                        let p = Point {
                            t_s: end.as_secs_f64(),
                            value: m as f64,
                            weight: 1.0,
                        };
                        (p, end)
                    })
                })
                .unzip();
            let held: Vec<usize> = (0..scn.keyspaces.len())
                .filter(|&ki| plan.cluster_of_keyspace.get(ki) == Some(&s.cluster))
                .collect();
            let profile = detrend::shard_covariate(scn, &held, &times);
            let cluster = &scn.clusters[s.cluster];
            let evictions: u64 = last
                .iter()
                .flat_map(|&wi| {
                    let w = &res.windows[wi];
                    (0..scn.keyspaces.len())
                        .filter(|&ki| plan.cluster_of_keyspace.get(ki) == Some(&s.cluster))
                        .map(move |ki| w.keyspace_evictions.get(ki).copied().unwrap_or(0))
                })
                .sum();
            let at_cap = at_cap_evicting(
                cluster.redis.maxmemory_policy,
                cluster.redis.maxmemory_bytes,
                points.last().map(|p| p.value),
                evictions,
            );
            Judgement {
                reasons: memory_reasons(&points, span_s, at_cap, profile.as_deref()),
            }
        })
        .collect();

    let keyspaces = scn
        .keyspaces
        .iter()
        .enumerate()
        .map(|(ki, k)| {
            let mut reasons = Vec::new();
            if scn.start == Start::Cold && k.ttl > SimTime::ZERO {
                let ttl = max_ttl(k);
                if scn.duration < ttl {
                    reasons.push(Reason::HorizonShorterThanTtl {
                        horizon: scn.duration,
                        ttl,
                    });
                }
            }
            if last.len() < MIN_TREND_WINDOWS {
                reasons.push(Reason::TooFewWindows {
                    windows: last.len(),
                });
                return Judgement { reasons };
            }
            for e in &scn.events {
                if e.keyspaces.contains(&ki) && e.at >= from && e.at < scn.duration {
                    reasons.push(Reason::Event {
                        name: e.name.clone(),
                        at: e.at,
                    });
                }
            }
            for b in &k.bursts {
                if b.start < scn.duration && b.end > from {
                    reasons.push(Reason::Burst {
                        start: b.start,
                        end: b.end,
                    });
                }
            }
            if has_hit_ratio(k) {
                let (points, times): (Vec<Point>, Vec<SimTime>) = last
                    .iter()
                    .filter_map(|&wi| {
                        let w = &res.windows[wi];
                        let req = w.keyspace_requests.get(ki).copied().unwrap_or(0);
                        let hits = w.keyspace_hits.get(ki).copied().unwrap_or(0);
                        let mid = SimTime::from_ns(
                            w.start.as_ns() + (window_end(wi).as_ns() - w.start.as_ns()) / 2,
                        );
                        ratio(hits, req).map(|value| {
                            let p = Point {
                                t_s: mid.as_secs_f64(),
                                value,
                                weight: req as f64,
                            };
                            (p, mid)
                        })
                    })
                    .unzip();
                let profile = detrend::keyspace_covariate(scn, ki, &times);
                // A keyspace with no request in the last third has no hit ratio to judge.
                if !points.is_empty() {
                    reasons.extend(hit_ratio_reasons(&points, span_s, profile.as_deref()));
                }
            }
            let cluster = plan.cluster_of_keyspace.get(ki).copied();
            let unsteady: Vec<usize> = (0..res.shards.len())
                .filter(|&si| Some(res.shards[si].cluster) == cluster && !shards[si].steady())
                .collect();
            if let Some(&si) = unsteady.first() {
                let s = &res.shards[si];
                reasons.push(Reason::Shard {
                    shard: format!("{}/{}", scn.clusters[s.cluster].name, s.shard),
                    reason: Box::new(shards[si].reasons[0].clone()),
                    more: unsteady.len() - 1,
                });
            }
            Judgement { reasons }
        })
        .collect();
    PlanHorizon { keyspaces, shards }
}

/// Judges every plan's result, in result order.
pub fn judge_all(scn: &Scenario, results: &[PlanResult]) -> Vec<PlanHorizon> {
    results.iter().map(|r| judge(scn, r)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::RngStream;

    const SPAN_S: f64 = 160.0;

    /// 16 windows of 10 s from 440 s: `f(t)` plus uniform noise of ± `noise`.
    fn series(f: impl Fn(f64) -> f64, noise: f64, seed: u64) -> Vec<Point> {
        let mut rng = RngStream::new(seed, 0x4852);
        (0..16)
            .map(|i| {
                let t = 450.0 + 10.0 * i as f64;
                let u = rng.next_f64() * 2.0 - 1.0;
                Point {
                    t_s: t,
                    value: f(t) + noise * u,
                    weight: 1.0,
                }
            })
            .collect()
    }

    #[test]
    fn an_exact_line_is_fitted_exactly() {
        let pts = series(|t| 5.0 + 0.25 * t, 0.0, 1);
        let t = fit(&pts).unwrap();
        assert!((t.slope_per_s - 0.25).abs() < 1e-12, "{t:?}");
        assert!(t.se_per_s < 1e-9, "{t:?}");
        assert!(t.significant());
    }

    #[test]
    fn flat_memory_with_noise_is_steady() {
        // 100 MB ± 1 MB of noise (2 % peak to peak) on 20 seeds: never a trend.
        for seed in 0..20 {
            let pts = series(|_| 100.0 * 1024.0 * 1024.0, 1024.0 * 1024.0, seed);
            assert_eq!(
                memory_reasons(&pts, SPAN_S, false, None),
                vec![],
                "seed {seed}"
            );
        }
    }

    #[test]
    fn a_memory_ramp_is_not_steady_and_names_its_rate() {
        // 101 MB rising 0.15 MB/s with ± 0.2 MB of noise.
        let mb = 1024.0 * 1024.0;
        let pts = series(|t| 101.0 * mb + 0.15 * mb * (t - 450.0), 0.2 * mb, 3);
        let reasons = memory_reasons(&pts, SPAN_S, false, None);
        assert_eq!(reasons.len(), 1, "{reasons:?}");
        let Reason::MemoryTrend { bytes_per_s } = reasons[0] else {
            panic!("{reasons:?}")
        };
        // The fitted rate within 5 % of the true one.
        assert!((bytes_per_s / mb - 0.15).abs() < 0.0075, "{bytes_per_s}");
        assert_eq!(reasons[0].to_string(), "used_memory still rising 0.15 MB/s");
    }

    #[test]
    fn a_small_material_ramp_buried_in_noise_is_steady_but_a_clear_one_is_not() {
        // 1.5 % over the last third is below the 2 % threshold even when exact.
        let pts = series(|t| 1000.0 + 15.0 / SPAN_S * (t - 450.0), 0.0, 4);
        assert_eq!(memory_reasons(&pts, SPAN_S, false, None), vec![]);
        // 3 % over the last third, exact: a trend.
        let pts = series(|t| 1000.0 + 30.0 / SPAN_S * (t - 450.0), 0.0, 4);
        assert_eq!(memory_reasons(&pts, SPAN_S, false, None).len(), 1);
    }

    #[test]
    fn flat_at_maxmemory_while_evicting_is_steady() {
        let cap = 150u64 * 1024 * 1024;
        let pts = series(|_| cap as f64 * 0.995, cap as f64 * 0.004, 5);
        let at_cap = at_cap_evicting(
            MaxmemoryPolicy::AllkeysLru,
            cap,
            pts.last().map(|p| p.value),
            1000,
        );
        assert!(at_cap);
        assert_eq!(memory_reasons(&pts, SPAN_S, at_cap, None), vec![]);
        // Reaching the cap during the last third: still steady once it is there and evicting.
        let ramp = series(
            |t| (cap as f64 * (0.8 + 0.002 * (t - 450.0))).min(cap as f64),
            0.0,
            5,
        );
        let at_cap = at_cap_evicting(
            MaxmemoryPolicy::AllkeysLru,
            cap,
            ramp.last().map(|p| p.value),
            10,
        );
        assert_eq!(memory_reasons(&ramp, SPAN_S, at_cap, None), vec![]);
        // Without eviction (noeviction, or nothing evicted) the same ramp is not steady.
        for (policy, evictions) in [
            (MaxmemoryPolicy::Noeviction, 10),
            (MaxmemoryPolicy::AllkeysLru, 0),
        ] {
            let at_cap = at_cap_evicting(policy, cap, ramp.last().map(|p| p.value), evictions);
            assert!(!at_cap);
            assert_eq!(memory_reasons(&ramp, SPAN_S, at_cap, None).len(), 1);
        }
    }

    #[test]
    fn hit_ratio_trends() {
        // Flat 0.8 with ± 3 points of noise: steady on 20 seeds.
        for seed in 0..20 {
            let pts = series(|_| 0.8, 0.03, seed);
            assert_eq!(hit_ratio_reasons(&pts, SPAN_S, None), vec![], "seed {seed}");
        }
        // Rising 0.8 points per minute with ± 0.2 points of noise: the rate within 10 %.
        let pts = series(|t| 0.7 + 0.008 / 60.0 * (t - 450.0), 0.002, 6);
        let reasons = hit_ratio_reasons(&pts, SPAN_S, None);
        let [Reason::HitRatioTrend { per_s }] = reasons[..] else {
            panic!("{reasons:?}")
        };
        assert!((per_s * 6000.0 - 0.8).abs() < 0.08, "{per_s}");
        let pts = series(|t| 0.7 + 0.008 / 60.0 * (t - 450.0), 0.0, 6);
        assert_eq!(
            hit_ratio_reasons(&pts, SPAN_S, None)[0].to_string(),
            "hit ratio still rising 0.8 points per minute"
        );
        // Falling.
        let pts = series(|t| 0.9 - 0.02 / 60.0 * (t - 450.0), 0.0, 7);
        assert_eq!(
            hit_ratio_reasons(&pts, SPAN_S, None)[0].to_string(),
            "hit ratio still falling 2 points per minute"
        );
    }

    #[test]
    fn too_few_windows() {
        let pts = series(|_| 1.0, 0.0, 8)[..3].to_vec();
        assert_eq!(
            memory_reasons(&pts, SPAN_S, false, None)[0].to_string(),
            "too few windows (3) to judge; shorten window_ms"
        );
    }

    #[test]
    fn reason_texts() {
        let r = Reason::HorizonShorterThanTtl {
            horizon: SimTime::from_secs(600),
            ttl: SimTime::from_secs(1800),
        };
        assert_eq!(r.to_string(), "horizon 10m < TTL 30m (cold start)");
        assert_eq!(sig2(0.00012345), "0.00012");
        assert_eq!(sig2(1234.6), "1235");
        assert_eq!(sig2(12.0), "12");
    }
}
