//! The fits of `cacheplan profile`, each a pure function of sampled numbers with its
//! uncertainty: a lognormal by maximum likelihood on log sizes (plus empirical quantiles), a
//! TTL distribution from residual TTLs (none / fixed / uniform jitter, choosing by likelihood
//! between "written just now" and "rewritten on expiry, seen at a random time"), and Zipf's α by
//! maximum likelihood on per-key request counts (jointly over groups such as tenants).

/// A lognormal fitted by maximum likelihood: `mu`, `sigma` of ln x.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LognormalFit {
    /// e^mu: the median.
    pub median: f64,
    /// Standard deviation of ln x.
    pub sigma: f64,
    /// 95 % interval of the median (from the standard error of mu, sigma/√n).
    pub median_ci95: (f64, f64),
    /// Number of values fitted.
    pub n: usize,
}

/// Fits a lognormal to positive values (values ≤ 0 are taken as 1). None when empty.
pub fn fit_lognormal(values: &[f64]) -> Option<LognormalFit> {
    if values.is_empty() {
        return None;
    }
    let logs: Vec<f64> = values.iter().map(|v| v.max(1.0).ln()).collect();
    let n = logs.len() as f64;
    let mu = logs.iter().sum::<f64>() / n;
    let var = logs.iter().map(|l| (l - mu).powi(2)).sum::<f64>() / n;
    let sigma = var.sqrt();
    let se = sigma / n.sqrt();
    Some(LognormalFit {
        median: mu.exp(),
        sigma,
        median_ci95: ((mu - 1.96 * se).exp(), (mu + 1.96 * se).exp()),
        n: logs.len(),
    })
}

/// The empirical quantile `q` (0..=1) of `values` (nearest rank on a sorted copy). 0 when empty.
pub fn quantile(values: &[f64], q: f64) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

/// How the TTLs of a template look.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum TtlFit {
    /// No sampled key has a TTL.
    None,
    /// One TTL (the interval's width is under 2 % of its middle).
    Fixed {
        /// The TTL, ms.
        ttl_ms: f64,
    },
    /// TTL uniform in `[mean (1 − pct/100), mean (1 + pct/100)]`.
    UniformPct {
        /// Mean TTL, ms.
        ttl_ms: f64,
        /// Half-width in percent of the mean.
        pct: f64,
    },
}

/// A TTL fit with how it was made.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TtlEstimate {
    /// The fitted distribution.
    pub fit: TtlFit,
    /// Fraction of the sampled keys that had a TTL.
    pub with_ttl_fraction: f64,
    /// Which reading of the residuals won (`"written-recently"`, `"steady-state"`, or
    /// `"set-commands"` when the TTLs were read from the writes of the monitor window).
    pub basis: &'static str,
    /// Relative standard error of the mean TTL (from the interval's ends, order statistics).
    pub mean_rel_se: f64,
}

/// Below this relative width an interval of TTLs is one fixed TTL.
const FIXED_TTL_REL_WIDTH: f64 = 0.02;

/// Fits the TTL distribution from the TTLs written by SET commands (exact TTLs, in ms).
pub fn fit_ttl_written(ttls_ms: &[f64], with_ttl_fraction: f64) -> TtlEstimate {
    if ttls_ms.is_empty() {
        return none_ttl(with_ttl_fraction);
    }
    let (a, b) = min_max(ttls_ms);
    interval_estimate(a, b, ttls_ms.len(), with_ttl_fraction, "set-commands")
}

/// Fits the TTL distribution from sampled residual TTLs (`PTTL`, ms; keys without a TTL are
/// counted in `n_without_ttl`).
///
/// Two readings compete by likelihood. "Written recently": the residuals are the TTLs
/// themselves (a fill, or keys written once), uniform on [a, b]. "Steady state": keys are
/// rewritten when they expire and sampled at a random time, so the residual of a TTL uniform on
/// [a, b] has density ∝ P(TTL > r): flat up to a, then falling linearly to 0 at b (a = b: a
/// fixed TTL, residuals uniform on (0, b)). Each reading's parameters are its maximum-likelihood
/// ones (b = the largest residual; a by a grid search under steady state).
pub fn fit_ttl_residuals(residuals_ms: &[f64], n_without_ttl: usize) -> TtlEstimate {
    let n = residuals_ms.len();
    let with = if n + n_without_ttl == 0 {
        0.0
    } else {
        n as f64 / (n + n_without_ttl) as f64
    };
    if n == 0 {
        return none_ttl(with);
    }
    let (lo, hi) = min_max(residuals_ms);
    if n == 1 || hi <= lo {
        return interval_estimate(hi, hi, n, with, "written-recently");
    }
    let ll_recent = -(n as f64) * (hi - lo).ln();
    let (a_steady, ll_steady) = steady_state_mle(residuals_ms, hi);
    if ll_recent >= ll_steady {
        interval_estimate(lo, hi, n, with, "written-recently")
    } else {
        interval_estimate(a_steady, hi, n, with, "steady-state")
    }
}

/// The steady-state reading's best `a` in [0, b] and its log-likelihood.
fn steady_state_mle(residuals_ms: &[f64], b: f64) -> (f64, f64) {
    let loglik = |a: f64| -> f64 {
        let norm = (a + b) / 2.0; // ∫ P(TTL > r) dr = mean TTL
        residuals_ms
            .iter()
            .map(|&r| {
                let g = if r <= a {
                    1.0
                } else {
                    ((b - r) / (b - a)).max(1e-12)
                };
                g.ln() - norm.ln()
            })
            .sum()
    };
    let steps = 400;
    let mut best = (b, loglik(b));
    for i in 0..steps {
        let a = b * i as f64 / steps as f64;
        let ll = loglik(a);
        if ll > best.1 {
            best = (a, ll);
        }
    }
    best
}

fn interval_estimate(a: f64, b: f64, n: usize, with: f64, basis: &'static str) -> TtlEstimate {
    let mean = (a + b) / 2.0;
    let fit = if mean <= 0.0 {
        TtlFit::None
    } else if (b - a) / mean < FIXED_TTL_REL_WIDTH {
        TtlFit::Fixed { ttl_ms: mean }
    } else {
        TtlFit::UniformPct {
            ttl_ms: mean,
            pct: (b - a) / (b + a) * 100.0,
        }
    };
    // The ends of a uniform sample miss the true ends by about width/(n+1) each.
    let mean_rel_se = if mean > 0.0 {
        (b - a) / (n as f64 + 1.0) / mean
    } else {
        0.0
    };
    TtlEstimate {
        fit,
        with_ttl_fraction: with,
        basis,
        mean_rel_se,
    }
}

fn none_ttl(with: f64) -> TtlEstimate {
    TtlEstimate {
        fit: TtlFit::None,
        with_ttl_fraction: with,
        basis: "no-ttl",
        mean_rel_se: 0.0,
    }
}

fn min_max(values: &[f64]) -> (f64, f64) {
    values
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
            (lo.min(v), hi.max(v))
        })
}

/// Keys per group the Zipf fit computes with (the likelihood costs a pass over them).
const MAX_ZIPF_POPULATION: u64 = 200_000;

/// Zipf's α fitted on per-key request counts.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ZipfFit {
    /// The exponent.
    pub alpha: f64,
    /// Its standard error (from the curvature of the log-likelihood).
    pub alpha_se: f64,
    /// Requests fitted.
    pub n_requests: u64,
    /// Keys with at least one request, over all groups.
    pub n_keys: usize,
}

/// Fits Zipf's α by maximum likelihood on per-key request counts, jointly over groups (the
/// tenants of a template, each a Zipf over its own `population` keys with one α).
///
/// Ranks are not observed: ranking keys by their counts makes the curve steeper where counts
/// are noisy (a fit on sorted counts reads 0.73 for a true 0.70). So the likelihood is that of
/// the counts themselves: a key is a uniformly drawn rank i of the N, and its count is Poisson
/// with mean C·p_i(α) (C the group's requests), so a key's count j has probability
/// F_α(j) = (1/N) Σ_i Pois(j; C·p_i(α)), and the fit maximizes Σ_j n_j ln F_α(j) over the
/// numbers n_j of keys with j requests (unrequested keys are the N − seen with j = 0).
/// `groups` are (per-key counts, population). None when no group has 2 requested keys.
pub fn fit_zipf(groups: &[(Vec<u64>, u64)]) -> Option<ZipfFit> {
    struct Group {
        /// n_j: keys with j requests, j = 0..=max.
        keys_with: Vec<u64>,
        requests: u64,
        n: u64,
    }
    let groups: Vec<Group> = groups
        .iter()
        .filter_map(|(counts, population)| {
            let seen: Vec<u64> = counts.iter().copied().filter(|&c| c > 0).collect();
            if seen.len() < 2 {
                return None;
            }
            let n = (*population)
                .max(seen.len() as u64)
                .min(MAX_ZIPF_POPULATION);
            let max = *seen.iter().max().expect("two keys");
            let mut keys_with = vec![0u64; max as usize + 1];
            for &c in &seen {
                keys_with[c as usize] += 1;
            }
            keys_with[0] = n.saturating_sub(seen.len() as u64);
            Some(Group {
                keys_with,
                requests: seen.iter().sum(),
                n,
            })
        })
        .collect();
    if groups.is_empty() {
        return None;
    }
    let n_keys: usize = groups.iter().map(|g| (g.n - g.keys_with[0]) as usize).sum();
    let n_requests: u64 = groups.iter().map(|g| g.requests).sum();
    let ln_fact: Vec<f64> = {
        let max = groups.iter().map(|g| g.keys_with.len()).max().unwrap_or(1);
        let mut v = vec![0.0; max + 1];
        for j in 1..=max {
            v[j] = v[j - 1] + (j as f64).ln();
        }
        v
    };
    let loglik = |alpha: f64| -> f64 {
        let mut ll = 0.0;
        for g in &groups {
            let weights: Vec<f64> = (1..=g.n).map(|i| (i as f64).powf(-alpha)).collect();
            let h: f64 = weights.iter().sum();
            let top = g.keys_with.len() - 1;
            let mut f = vec![0.0; top + 1];
            for w in &weights {
                let lambda = g.requests as f64 * w / h;
                // Only counts within reach of this mean matter (the rest is below 1e-20).
                let spread = 10.0 * lambda.sqrt() + 10.0;
                let lo = ((lambda - spread).floor().max(0.0)) as usize;
                let hi = ((lambda + spread).ceil() as usize).min(top);
                let ln_lambda = lambda.ln();
                for (j, fj) in f.iter_mut().enumerate().take(hi + 1).skip(lo) {
                    *fj += (j as f64 * ln_lambda - lambda - ln_fact[j]).exp();
                }
            }
            for (j, &n_j) in g.keys_with.iter().enumerate() {
                if n_j > 0 {
                    ll += n_j as f64 * (f[j] / g.n as f64).max(1e-300).ln();
                }
            }
        }
        ll
    };
    // The log-likelihood is unimodal near its maximum only: far from it, counts that no rank
    // explains sit at the 1e-300 floor and make plateaus and bumps (a golden-section search
    // over all of [0, 5] went astray at high counts: α 1.0 read as 1.26). So a scan in steps
    // of 0.1 brackets the maximum first, then a golden-section search refines it.
    let step = 0.1;
    let best = (0..=50).map(|k| (k, loglik(k as f64 * step))).fold(
        (0, f64::NEG_INFINITY),
        |b, (k, ll)| if ll > b.1 { (k, ll) } else { b },
    );
    let (mut lo, mut hi) = (
        (best.0 as f64 - 1.0).max(0.0) * step,
        (best.0 as f64 + 1.0).min(50.0) * step,
    );
    let phi = (5f64.sqrt() - 1.0) / 2.0;
    let (mut x1, mut x2) = (hi - phi * (hi - lo), lo + phi * (hi - lo));
    let (mut f1, mut f2) = (loglik(x1), loglik(x2));
    while hi - lo > 1e-5 {
        if f1 < f2 {
            lo = x1;
            x1 = x2;
            f1 = f2;
            x2 = lo + phi * (hi - lo);
            f2 = loglik(x2);
        } else {
            hi = x2;
            x2 = x1;
            f2 = f1;
            x1 = hi - phi * (hi - lo);
            f1 = loglik(x1);
        }
    }
    let alpha = (lo + hi) / 2.0;
    let h = 1e-3;
    let curvature = (loglik(alpha + h) - 2.0 * loglik(alpha) + loglik(alpha - h)) / (h * h);
    Some(ZipfFit {
        alpha,
        alpha_se: if curvature < 0.0 {
            1.0 / (-curvature).sqrt()
        } else {
            f64::INFINITY
        },
        n_requests,
        n_keys,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::RngStream;
    use crate::workload::popularity::Zipf;

    fn normal(rng: &mut RngStream) -> f64 {
        let (u, v) = (rng.next_f64_open0(), rng.next_f64());
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }

    fn uniform(rng: &mut RngStream, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * rng.next_f64()
    }

    #[test]
    fn lognormal_recovers_median_and_sigma() {
        let mut rng = RngStream::named(7, "test/lognormal");
        let xs: Vec<f64> = (0..20_000)
            .map(|_| (600f64.ln() + 0.5 * normal(&mut rng)).exp())
            .collect();
        let fit = fit_lognormal(&xs).unwrap();
        assert!((fit.median / 600.0 - 1.0).abs() < 0.02, "{fit:?}");
        assert!((fit.sigma - 0.5).abs() < 0.01, "{fit:?}");
        assert!(fit.median_ci95.0 < 600.0 * 1.01 && fit.median_ci95.1 > 600.0 * 0.99);
        assert_eq!(quantile(&[3.0, 1.0, 2.0, 4.0], 0.5), 2.0);
        assert_eq!(quantile(&[3.0, 1.0, 2.0, 4.0], 1.0), 4.0);
    }

    #[test]
    fn ttl_written_recently_is_the_interval() {
        let mut rng = RngStream::named(8, "test/ttl");
        let xs: Vec<f64> = (0..3000)
            .map(|_| 600_000.0 * (1.0 + uniform(&mut rng, -0.1, 0.1)))
            .collect();
        let est = fit_ttl_residuals(&xs, 1000);
        assert_eq!(est.basis, "written-recently");
        assert!((est.with_ttl_fraction - 0.75).abs() < 1e-9);
        match est.fit {
            TtlFit::UniformPct { ttl_ms, pct } => {
                assert!((ttl_ms / 600_000.0 - 1.0).abs() < 0.002, "{est:?}");
                assert!((pct - 10.0).abs() < 0.2, "{est:?}");
            }
            other => panic!("{other:?}"),
        }
        let fixed = fit_ttl_residuals(&[30_000.0, 29_990.0, 29_950.0], 0);
        assert!(matches!(fixed.fit, TtlFit::Fixed { ttl_ms } if (ttl_ms - 29_975.0).abs() < 1e-6));
        assert_eq!(fit_ttl_residuals(&[], 5).fit, TtlFit::None);
    }

    #[test]
    fn ttl_in_steady_state_is_length_biased_back() {
        // TTL uniform on [50 s, 70 s], each key seen at a uniform point of its life: the
        // residual of a life T is U(0, T), and a life is length-biased (seen ∝ T).
        let mut rng = RngStream::named(9, "test/ttl-steady");
        let mut xs = Vec::new();
        while xs.len() < 20_000 {
            let t = uniform(&mut rng, 50_000.0, 70_000.0);
            if rng.next_f64() < t / 70_000.0 {
                xs.push(t * rng.next_f64());
            }
        }
        let est = fit_ttl_residuals(&xs, 0);
        assert_eq!(est.basis, "steady-state");
        match est.fit {
            TtlFit::UniformPct { ttl_ms, pct } => {
                assert!((ttl_ms / 60_000.0 - 1.0).abs() < 0.03, "{est:?}");
                assert!((pct - 16.7).abs() < 4.0, "{est:?}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn zipf_alpha_is_recovered_jointly_over_tenants() {
        for (alpha, seed) in [(0.7, 1), (0.9, 2), (1.2, 3)] {
            let mut rng = RngStream::named(seed, "test/zipf");
            let zipf = Zipf::new(2000, alpha);
            let groups: Vec<(Vec<u64>, u64)> = (0..3)
                .map(|_| {
                    let mut counts = vec![0u64; 2000];
                    for _ in 0..5_000 {
                        counts[zipf.sample(&mut rng) as usize] += 1;
                    }
                    (counts, 2000)
                })
                .collect();
            let fit = fit_zipf(&groups).unwrap();
            assert!((fit.alpha - alpha).abs() < 0.03, "{alpha}: {fit:?}");
            assert!(fit.alpha_se < 0.03, "{fit:?}");
            // The stated error is the real one: within 3 standard errors.
            assert!((fit.alpha - alpha).abs() < 3.0 * fit.alpha_se, "{fit:?}");
        }
        assert!(fit_zipf(&[(vec![5, 0, 0], 3)]).is_none());
    }

    /// Few keys with many requests each: the top counts are far apart, which once led the
    /// search astray (α 1.0 fitted as 1.26, α 0.8 as 0.98).
    #[test]
    fn zipf_alpha_is_recovered_at_high_counts_per_key() {
        for (alpha, requests, seed) in [(1.0, 8_000, 5), (0.8, 30_000, 6), (1.3, 50_000, 7)] {
            let mut rng = RngStream::named(seed, "test/zipf");
            let zipf = Zipf::new(300, alpha);
            let mut counts = vec![0u64; 300];
            for _ in 0..requests {
                counts[zipf.sample(&mut rng) as usize] += 1;
            }
            let fit = fit_zipf(&[(counts, 300)]).unwrap();
            assert!((fit.alpha - alpha).abs() < 0.03, "{alpha}: {fit:?}");
            assert!((fit.alpha - alpha).abs() < 3.0 * fit.alpha_se, "{fit:?}");
        }
    }
}
