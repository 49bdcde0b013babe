//! Key popularity samplers: which rank (0 = most popular) the next request goes to. This module
//! owns the Zipf sampler (an alias table built once, O(1) per draw), the uniform sampler and
//! the hot-set sampler, with their exact probabilities for tests and oracles. All randomness
//! comes from the caller's [`RngStream`].

use crate::engine::rng::RngStream;

/// A distribution over ranks `0..n`.
pub trait RankSampler: Send + Sync {
    /// The number of ranks.
    fn n(&self) -> u64;
    /// Draws one rank in `0..n`.
    fn sample(&self, rng: &mut RngStream) -> u64;
    /// The exact probability of rank `k` (0 outside `0..n`).
    fn probability(&self, k: u64) -> f64;
}

/// Largest number of ranks an alias table may have.
pub const MAX_ALIAS_RANKS: u64 = u32::MAX as u64;

/// Zipf popularity over ranks `0..n`: P(rank k) ∝ 1/(k+1)^alpha. `alpha = 0` is uniform.
/// Sampling uses Vose's alias table (built once in O(n), one 64-bit draw per sample); the table
/// takes 8 bytes per rank (about 40 while it is built; `family_with_weights` hands back the
/// weights too, 8 bytes per rank of the largest table).
#[derive(Clone, Debug)]
pub struct Zipf {
    n: u64,
    alpha: f64,
    /// 1 / sum over k of (k+1)^-alpha.
    norm: f64,
    /// Per column: the probability (scaled to 2^32, saturating) of keeping column i rather
    /// than its alias, and the alias. One 8-byte cell: a draw touches one cache line, and the
    /// table of a million ranks stays 8 MB (the draws are uniform over it, so its size is what
    /// the cache sees). A 2^-32 resolution per column is far below any sampling noise.
    cells: Vec<AliasCell>,
}

/// One column of an alias table.
#[derive(Clone, Copy, Debug)]
struct AliasCell {
    keep: u32,
    alias: u32,
}

/// A Zipf draw whose column is chosen but not yet looked up, so the caller can prefetch the
/// column's table cell long before it needs the rank (see [`Zipf::draw`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PendingDraw {
    column: u64,
    coin: u64,
}

impl Zipf {
    /// Zipf over `n` ranks with exponent `alpha`.
    ///
    /// # Panics
    /// If `n` is 0 or above [`MAX_ALIAS_RANKS`], or `alpha` is negative or not finite; use
    /// [`Zipf::try_new`] for parameters that come from input.
    pub fn new(n: u64, alpha: f64) -> Zipf {
        match Zipf::try_new(n, alpha) {
            Ok(z) => z,
            Err(msg) => panic!("Zipf::new: {msg}"),
        }
    }

    /// Zipf over `n` ranks with exponent `alpha`, or why the parameters are invalid.
    pub fn try_new(n: u64, alpha: f64) -> Result<Zipf, String> {
        Ok(Zipf::family(&[n], alpha)?.remove(0))
    }

    /// Zipf samplers over `ns[i]` ranks each, with the same exponent `alpha` (tenants of one
    /// keyspace): the weights (k+1)^-alpha are computed once, for the largest `n`, and each
    /// table is built from its prefix, exactly as `try_new` would build it alone.
    pub fn family(ns: &[u64], alpha: f64) -> Result<Vec<Zipf>, String> {
        Ok(Zipf::family_with_weights(ns, alpha)?.0)
    }

    /// [`Zipf::family`], and the weights (k+1)^-alpha of the largest `n` it was built from:
    /// `weights[k] * norm` of a table is exactly its [`Zipf::probability`] of rank `k`, at the
    /// price of a load instead of a `powf` (the warm start asks for every rank).
    pub fn family_with_weights(ns: &[u64], alpha: f64) -> Result<(Vec<Zipf>, Vec<f64>), String> {
        for &n in ns {
            if n == 0 || n > MAX_ALIAS_RANKS {
                return Err(format!("n = {n} must be in 1..={MAX_ALIAS_RANKS}"));
            }
        }
        if !(alpha.is_finite() && alpha >= 0.0) {
            return Err(format!("alpha = {alpha} must be finite and >= 0"));
        }
        let max_n = ns.iter().copied().max().unwrap_or(0);
        let max_len =
            usize::try_from(max_n).map_err(|_| format!("n = {max_n} does not fit in memory"))?;
        // Weights (k+1)^-alpha, scaled per table so that they average 1.
        let weights: Vec<f64> = if alpha == 0.0 {
            vec![1.0; max_len]
        } else {
            (0..max_len)
                .map(|k| ((k + 1) as f64).powf(-alpha))
                .collect()
        };
        let tables = ns
            .iter()
            .map(|&n| {
                let mut scaled = weights[..n as usize].to_vec();
                // Sum from the smallest term up, for accuracy.
                let total: f64 = scaled.iter().rev().sum();
                let norm = 1.0 / total;
                let to_scaled = n as f64 * norm;
                for w in &mut scaled {
                    *w *= to_scaled;
                }
                let (keep, alias) = build_alias(&mut scaled);
                let cells = keep
                    .into_iter()
                    .zip(alias)
                    .map(|(keep, alias)| AliasCell { keep, alias })
                    .collect();
                Zipf {
                    n,
                    alpha,
                    norm,
                    cells,
                }
            })
            .collect();
        Ok((tables, weights))
    }

    /// The exponent.
    pub fn alpha(&self) -> f64 {
        self.alpha
    }

    /// The number of ranks.
    pub fn n(&self) -> u64 {
        self.n
    }

    /// Draws one rank in `0..n` (0 is the most popular).
    #[inline]
    pub fn sample(&self, rng: &mut RngStream) -> u64 {
        self.resolve(self.draw(rng))
    }

    /// The first half of `sample`: consumes the same random number and picks the column,
    /// without touching the table.
    #[inline]
    pub fn draw(&self, rng: &mut RngStream) -> PendingDraw {
        let wide = rng.next_u64() as u128 * self.n as u128;
        PendingDraw {
            column: (wide >> 64) as u64,
            coin: wide as u64,
        }
    }

    /// Hints the CPU to load the table cell `draw` will read.
    #[inline]
    pub fn prefetch(&self, draw: PendingDraw) {
        crate::engine::prefetch(&self.cells[draw.column as usize]);
    }

    /// The second half of `sample`: the rank of a pending draw.
    #[inline]
    pub fn resolve(&self, draw: PendingDraw) -> u64 {
        let cell = self.cells[draw.column as usize];
        if ((draw.coin >> 32) as u32) < cell.keep {
            draw.column
        } else {
            cell.alias as u64
        }
    }

    /// The exact probability of rank `k` (0 outside `0..n`).
    pub fn probability(&self, k: u64) -> f64 {
        if k >= self.n {
            0.0
        } else {
            ((k + 1) as f64).powf(-self.alpha) * self.norm
        }
    }

    /// The probability of a rank of weight `weight` (its entry of the family's weights:
    /// [`Zipf::family_with_weights`]), bit for bit [`Zipf::probability`].
    #[inline]
    pub fn probability_of_weight(&self, weight: f64) -> f64 {
        weight * self.norm
    }
}

impl RankSampler for Zipf {
    fn n(&self) -> u64 {
        self.n
    }
    fn sample(&self, rng: &mut RngStream) -> u64 {
        Zipf::sample(self, rng)
    }
    fn probability(&self, k: u64) -> f64 {
        Zipf::probability(self, k)
    }
}

/// Builds Vose's alias table from weights scaled to average 1 (consumed as scratch).
fn build_alias(scaled: &mut [f64]) -> (Vec<u32>, Vec<u32>) {
    let len = scaled.len();
    let mut keep = vec![u32::MAX; len];
    let mut alias: Vec<u32> = (0..len as u32).collect();
    let mut small: Vec<u32> = Vec::new();
    let mut large: Vec<u32> = Vec::new();
    for (i, &w) in scaled.iter().enumerate() {
        if w < 1.0 {
            small.push(i as u32);
        } else {
            large.push(i as u32);
        }
    }
    while let (Some(&s), Some(&l)) = (small.last(), large.last()) {
        small.pop();
        let (s, l) = (s as usize, l as usize);
        keep[s] = to_fixed(scaled[s]);
        alias[s] = l as u32;
        scaled[l] -= 1.0 - scaled[s];
        if scaled[l] < 1.0 {
            large.pop();
            small.push(l as u32);
        }
    }
    // Whatever is left (rounding) keeps its own column with probability 1: already set.
    (keep, alias)
}

/// A probability in [0, 1] as a fraction of 2^32 (1 saturates to `u32::MAX`).
fn to_fixed(p: f64) -> u32 {
    if p >= 1.0 {
        u32::MAX
    } else if p <= 0.0 {
        0
    } else {
        (p * 4_294_967_296.0) as u32
    }
}

/// Uniform popularity over ranks `0..n`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Uniform {
    n: u64,
}

impl Uniform {
    /// Uniform over `n` ranks.
    ///
    /// # Panics
    /// If `n` is 0.
    pub fn new(n: u64) -> Uniform {
        assert!(n > 0, "Uniform::new: n must be > 0");
        Uniform { n }
    }

    /// The number of ranks.
    pub fn n(&self) -> u64 {
        self.n
    }

    /// Draws one rank in `0..n`.
    #[inline]
    pub fn sample(&self, rng: &mut RngStream) -> u64 {
        rng.below(self.n)
    }

    /// The exact probability of rank `k`.
    pub fn probability(&self, k: u64) -> f64 {
        if k < self.n {
            1.0 / self.n as f64
        } else {
            0.0
        }
    }
}

impl RankSampler for Uniform {
    fn n(&self) -> u64 {
        self.n
    }
    fn sample(&self, rng: &mut RngStream) -> u64 {
        Uniform::sample(self, rng)
    }
    fn probability(&self, k: u64) -> f64 {
        Uniform::probability(self, k)
    }
}

/// Hot-set popularity: the first `hot_keys = round(hot_fraction_of_keys * n)` ranks are hot and
/// receive `hot_fraction_of_requests` of the requests, uniformly among them; the other ranks
/// share the rest uniformly. If no rank or every rank is hot, it is uniform over all ranks.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct HotSet {
    n: u64,
    hot_keys: u64,
    hot_fraction_of_keys: f64,
    hot_fraction_of_requests: f64,
}

impl HotSet {
    /// A hot set over `n` ranks.
    ///
    /// # Panics
    /// If `n` is 0 or a fraction is outside [0, 1]; use [`HotSet::try_new`] for input.
    pub fn new(n: u64, hot_fraction_of_keys: f64, hot_fraction_of_requests: f64) -> HotSet {
        match HotSet::try_new(n, hot_fraction_of_keys, hot_fraction_of_requests) {
            Ok(h) => h,
            Err(msg) => panic!("HotSet::new: {msg}"),
        }
    }

    /// A hot set over `n` ranks, or why the parameters are invalid.
    pub fn try_new(
        n: u64,
        hot_fraction_of_keys: f64,
        hot_fraction_of_requests: f64,
    ) -> Result<HotSet, String> {
        if n == 0 {
            return Err("n must be > 0".to_string());
        }
        for (what, f) in [
            ("hot_fraction_of_keys", hot_fraction_of_keys),
            ("hot_fraction_of_requests", hot_fraction_of_requests),
        ] {
            if !(0.0..=1.0).contains(&f) {
                return Err(format!("{what} = {f} must be in [0, 1]"));
            }
        }
        let hot_keys = ((hot_fraction_of_keys * n as f64).round() as u64).min(n);
        Ok(HotSet {
            n,
            hot_keys,
            hot_fraction_of_keys,
            hot_fraction_of_requests,
        })
    }

    /// The number of ranks.
    pub fn n(&self) -> u64 {
        self.n
    }

    /// The number of hot ranks (ranks `0..hot_keys`).
    pub fn hot_keys(&self) -> u64 {
        self.hot_keys
    }

    /// The fraction of ranks that are hot, as given.
    pub fn hot_fraction_of_keys(&self) -> f64 {
        self.hot_fraction_of_keys
    }

    /// The fraction of requests that go to hot ranks, as given.
    pub fn hot_fraction_of_requests(&self) -> f64 {
        self.hot_fraction_of_requests
    }

    /// True when the split degenerates to uniform (no cold or no hot rank).
    fn is_uniform(&self) -> bool {
        self.hot_keys == 0 || self.hot_keys == self.n
    }

    /// Draws one rank in `0..n`.
    #[inline]
    pub fn sample(&self, rng: &mut RngStream) -> u64 {
        if self.is_uniform() {
            return rng.below(self.n);
        }
        if rng.next_f64() < self.hot_fraction_of_requests {
            rng.below(self.hot_keys)
        } else {
            self.hot_keys + rng.below(self.n - self.hot_keys)
        }
    }

    /// The exact probability of rank `k`.
    pub fn probability(&self, k: u64) -> f64 {
        if k >= self.n {
            0.0
        } else if self.is_uniform() {
            1.0 / self.n as f64
        } else if k < self.hot_keys {
            self.hot_fraction_of_requests / self.hot_keys as f64
        } else {
            (1.0 - self.hot_fraction_of_requests) / (self.n - self.hot_keys) as f64
        }
    }
}

impl RankSampler for HotSet {
    fn n(&self) -> u64 {
        self.n
    }
    fn sample(&self, rng: &mut RngStream) -> u64 {
        HotSet::sample(self, rng)
    }
    fn probability(&self, k: u64) -> f64 {
        HotSet::probability(self, k)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_family_weight_gives_the_exact_probability_of_its_rank() {
        for &alpha in &[0.0, 0.7, 0.99, 1.0, 1.3] {
            let ns = [1, 17, 1000, 999];
            let (tables, weights) = Zipf::family_with_weights(&ns, alpha).unwrap();
            assert_eq!(weights.len(), 1000);
            for z in &tables {
                for k in 0..z.n() {
                    let from_weight = z.probability_of_weight(weights[k as usize]);
                    assert_eq!(
                        from_weight.to_bits(),
                        z.probability(k).to_bits(),
                        "{alpha} {k}"
                    );
                }
            }
        }
    }

    /// Pearson chi-square of `draws` samples over `n` ranks (n small) against `probability`.
    /// Returns (statistic, degrees of freedom).
    fn chi_square(sampler: &dyn RankSampler, draws: u64, seed: u64) -> (f64, f64) {
        let n = sampler.n() as usize;
        let mut counts = vec![0u64; n];
        let mut rng = RngStream::new(seed, 99);
        for _ in 0..draws {
            let k = sampler.sample(&mut rng) as usize;
            assert!(k < n, "rank {k} out of range");
            counts[k] += 1;
        }
        let mut stat = 0.0;
        let mut cells = 0.0;
        for (k, &c) in counts.iter().enumerate() {
            let expected = sampler.probability(k as u64) * draws as f64;
            if expected == 0.0 {
                assert_eq!(c, 0, "rank {k} has probability 0 but was drawn");
                continue;
            }
            stat += (c as f64 - expected).powi(2) / expected;
            cells += 1.0;
        }
        (stat, cells - 1.0)
    }

    /// Tolerance: the chi-square statistic must stay below dof + 6 * sqrt(2 * dof), i.e. about
    /// six standard deviations above its mean (a false alarm is then far rarer than 1e-6;
    /// with fixed seeds the result is deterministic anyway).
    fn assert_fits(sampler: &dyn RankSampler, draws: u64, seed: u64, what: &str) {
        let (stat, dof) = chi_square(sampler, draws, seed);
        let limit = dof + 6.0 * (2.0 * dof).sqrt();
        assert!(
            stat < limit,
            "{what}: chi-square {stat:.1} >= {limit:.1} (dof {dof})"
        );
    }

    #[test]
    fn zipf_probabilities_sum_to_one_and_follow_the_power_law() {
        for alpha in [0.0, 0.5, 0.8, 1.0, 1.3] {
            let z = Zipf::new(1000, alpha);
            let sum: f64 = (0..1000).map(|k| z.probability(k)).sum();
            assert!((sum - 1.0).abs() < 1e-12, "alpha {alpha}: sum {sum}");
            let ratio = z.probability(0) / z.probability(9);
            assert!((ratio - 10f64.powf(alpha)).abs() < 1e-9);
            assert_eq!(z.probability(1000), 0.0);
        }
    }

    #[test]
    fn zipf_samples_match_probabilities() {
        for (i, alpha) in [0.0, 0.6, 0.99, 1.2].into_iter().enumerate() {
            let z = Zipf::new(500, alpha);
            assert_fits(&z, 1_000_000, 11 + i as u64, &format!("zipf alpha {alpha}"));
        }
        // Per-rank check of the head at n = 100,000: each of the top 10 ranks within 5 sigma
        // of its binomial expectation.
        let z = Zipf::new(100_000, 1.0);
        let draws = 2_000_000u64;
        let mut rng = RngStream::new(5, 5);
        let mut head = [0u64; 10];
        for _ in 0..draws {
            let k = z.sample(&mut rng);
            if k < 10 {
                head[k as usize] += 1;
            }
        }
        for (k, &c) in head.iter().enumerate() {
            let p = z.probability(k as u64);
            let mean = p * draws as f64;
            let sigma = (mean * (1.0 - p)).sqrt();
            assert!(
                (c as f64 - mean).abs() < 5.0 * sigma,
                "rank {k}: {c} vs {mean:.0}"
            );
        }
    }

    #[test]
    fn zipf_single_rank_and_bad_params() {
        let z = Zipf::new(1, 0.9);
        let mut rng = RngStream::new(1, 1);
        assert!((0..100).all(|_| z.sample(&mut rng) == 0));
        assert_eq!(z.probability(0), 1.0);
        assert!(Zipf::try_new(0, 1.0).is_err());
        assert!(Zipf::try_new(10, -0.1).is_err());
        assert!(Zipf::try_new(10, f64::NAN).is_err());
    }

    #[test]
    fn zipf_builds_a_million_ranks_and_a_family_equals_its_members() {
        // (The build's speed is part of `cacheplan bench scenario`, not a timed test.)
        let z = Zipf::new(1_000_000, 0.99);
        let mut rng = RngStream::new(2, 2);
        assert!((0..1000).all(|_| z.sample(&mut rng) < 1_000_000));
        let family = Zipf::family(&[1_000, 30, 1_000_000], 0.99).unwrap();
        for (f, n) in family.iter().zip([1_000u64, 30, 1_000_000]) {
            let alone = Zipf::new(n, 0.99);
            let (mut a, mut b) = (RngStream::new(9, n), RngStream::new(9, n));
            assert!((0..2000).all(|_| f.sample(&mut a) == alone.sample(&mut b)));
        }
    }

    #[test]
    fn uniform_and_hot_set_match_probabilities() {
        assert_fits(&Uniform::new(300), 600_000, 3, "uniform");
        let h = HotSet::new(400, 0.1, 0.9);
        assert_eq!(h.hot_keys(), 40);
        assert!((h.probability(0) - 0.9 / 40.0).abs() < 1e-15);
        assert!((h.probability(399) - 0.1 / 360.0).abs() < 1e-15);
        assert_fits(&h, 1_000_000, 4, "hot set");
        let all_hot = HotSet::new(50, 1.0, 0.5);
        assert!((all_hot.probability(7) - 0.02).abs() < 1e-15);
        assert_fits(&all_hot, 200_000, 5, "all hot");
        assert!(HotSet::try_new(10, 1.5, 0.5).is_err());
    }
}
