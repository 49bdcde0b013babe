//! Distributions of positive quantities used by a scenario (service times, round trips,
//! value sizes, lock hold times), resolved and ready to sample from a seeded stream.

use crate::engine::RngStream;

/// A resolved distribution; values are in the unit of the field that holds it.
#[derive(Clone, Debug, PartialEq)]
pub enum Dist {
    /// Always `value`.
    Fixed(f64),
    /// Exponential with this mean.
    Exponential(f64),
    /// Lognormal: `exp(mu + sigma * N(0,1))`; the median is `exp(mu)`.
    Lognormal {
        /// ln(median).
        mu: f64,
        /// Shape.
        sigma: f64,
    },
    /// Uniform on [min, max].
    Uniform {
        /// Lower end.
        min: f64,
        /// Upper end.
        max: f64,
    },
    /// One of `values`, with cumulative probabilities `cdf` (last = 1).
    Empirical {
        /// The values.
        values: Vec<f64>,
        /// Cumulative probabilities, same length.
        cdf: Vec<f64>,
    },
}

impl Dist {
    /// Draws one value.
    #[inline]
    pub fn sample(&self, rng: &mut RngStream) -> f64 {
        match self {
            Dist::Fixed(v) => *v,
            Dist::Exponential(mean) => rng.exp(*mean),
            Dist::Lognormal { mu, sigma } => (mu + sigma * standard_normal(rng)).exp(),
            Dist::Uniform { min, max } => min + (max - min) * rng.next_f64(),
            Dist::Empirical { values, cdf } => {
                let u = rng.next_f64();
                let i = cdf.partition_point(|&c| c <= u).min(values.len() - 1);
                values[i]
            }
        }
    }

    /// The mean.
    pub fn mean(&self) -> f64 {
        match self {
            Dist::Fixed(v) => *v,
            Dist::Exponential(mean) => *mean,
            Dist::Lognormal { mu, sigma } => (mu + sigma * sigma / 2.0).exp(),
            Dist::Uniform { min, max } => (min + max) / 2.0,
            Dist::Empirical { values, cdf } => {
                let mut prev = 0.0;
                let mut m = 0.0;
                for (v, c) in values.iter().zip(cdf) {
                    m += v * (c - prev);
                    prev = *c;
                }
                m
            }
        }
    }
}

/// Independent draws of one distribution from a stream of its own, computed `BATCH` at a time:
/// the draws of a batch do not depend on each other, so their arithmetic (a lognormal's `exp`)
/// overlaps instead of each waiting for the last. The values are exactly those of sampling
/// `dist` one at a time from `rng`: batching changes when they are computed, not what they are.
#[derive(Clone, Debug)]
pub struct DrawBuffer {
    dist: Dist,
    rng: RngStream,
    buf: [f64; DrawBuffer::BATCH],
    next: usize,
}

impl DrawBuffer {
    /// Draws computed at a time.
    pub const BATCH: usize = 32;

    /// Draws of `dist` from `rng`.
    pub fn new(dist: Dist, rng: RngStream) -> DrawBuffer {
        DrawBuffer {
            dist,
            rng,
            buf: [0.0; DrawBuffer::BATCH],
            next: DrawBuffer::BATCH,
        }
    }

    /// The distribution.
    pub fn dist(&self) -> &Dist {
        &self.dist
    }

    /// The next draw.
    #[inline]
    pub fn sample(&mut self) -> f64 {
        if self.next == DrawBuffer::BATCH {
            self.refill();
        }
        let v = self.buf[self.next];
        self.next += 1;
        v
    }

    #[inline(never)]
    fn refill(&mut self) {
        for v in &mut self.buf {
            *v = self.dist.sample(&mut self.rng);
        }
        self.next = 0;
    }
}

/// A standard normal variate (rand_distr's ziggurat: no logarithm or cosine on the fast path).
#[inline]
pub fn standard_normal(rng: &mut RngStream) -> f64 {
    use rand_distr::Distribution;
    rand_distr::StandardNormal.sample(rng)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_draw_buffer_gives_the_stream_s_values_in_order() {
        let d = Dist::Lognormal {
            mu: 3.0,
            sigma: 0.4,
        };
        let mut one_by_one = RngStream::new(4, 4);
        let mut b = DrawBuffer::new(d.clone(), RngStream::new(4, 4));
        for _ in 0..3 * DrawBuffer::BATCH + 5 {
            assert_eq!(b.sample(), d.sample(&mut one_by_one));
        }
    }

    #[test]
    fn sample_means_match_closed_forms() {
        let dists = [
            Dist::Fixed(3.0),
            Dist::Exponential(2.0),
            Dist::Lognormal {
                mu: 1.0f64.ln(),
                sigma: 0.5,
            },
            Dist::Uniform { min: 1.0, max: 5.0 },
            Dist::Empirical {
                values: vec![1.0, 10.0],
                cdf: vec![0.25, 1.0],
            },
        ];
        let mut rng = RngStream::new(11, 0);
        for d in dists {
            let n = 400_000;
            let m: f64 = (0..n).map(|_| d.sample(&mut rng)).sum::<f64>() / n as f64;
            // 1 % tolerance: far above the standard error of 400k draws for these shapes.
            assert!((m - d.mean()).abs() / d.mean() < 0.01, "{d:?}: {m}");
        }
    }
}
