//! The exact-LRU throughput benchmark behind the `bench` subcommand: builds a Zipf trace in
//! memory (a private alias-method sampler on `RngStream`), then times its replay through the
//! driver, the same path a real trace replay takes. It reads the wall clock, which is what a
//! benchmark is for; nothing it returns feeds a simulation result.

use super::LruCache;
use crate::engine::RngStream;
use crate::replay::driver::{replay, ReplayJob, RequestSource, TimeSource};
use crate::workload::trace::TraceRequest;
use std::fmt;
use std::time::Instant;

/// What `bench_lru` measured.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BenchFigures {
    /// Requests replayed.
    pub n_requests: u64,
    /// Hits the LRU scored.
    pub n_hits: u64,
    /// `n_hits / n_requests`.
    pub hit_ratio: f64,
    /// Wall-clock seconds spent building the sampler and the trace (not part of the rate).
    pub generate_s: f64,
    /// Wall-clock seconds spent replaying.
    pub replay_s: f64,
    /// `n_requests / replay_s`.
    pub requests_per_s: f64,
}

/// Bad benchmark parameters.
#[derive(Clone, Debug, PartialEq)]
pub struct BenchError {
    /// What is wrong, naming the parameter.
    pub message: String,
}

impl fmt::Display for BenchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "bench: {}", self.message)
    }
}

impl std::error::Error for BenchError {}

/// Replays `n_requests` GETs drawn Zipf(`alpha`) over `n_objects` objects (id 0 the most
/// popular) through an exact LRU of `cache_objects` objects (sizes ignored), single job, and
/// reports the replay throughput. Deterministic in `seed` except for the timings.
pub fn bench_lru(
    n_requests: u64,
    n_objects: u64,
    cache_objects: u64,
    alpha: f64,
    seed: u64,
) -> Result<BenchFigures, BenchError> {
    if n_objects == 0 || n_objects > u32::MAX as u64 {
        return Err(BenchError {
            message: format!("n_objects must be in 1..=4294967295, got {n_objects}"),
        });
    }
    if !(alpha.is_finite() && alpha >= 0.0) {
        return Err(BenchError {
            message: format!("alpha must be a finite number >= 0, got {alpha}"),
        });
    }
    if cache_objects == 0 {
        return Err(BenchError {
            message: "cache_objects must be at least 1".to_string(),
        });
    }
    let started = Instant::now();
    let sampler = ZipfAlias::new(n_objects as usize, alpha);
    let mut rng = RngStream::named(seed, "replay/exact/bench/zipf");
    let ids: Vec<u32> = (0..n_requests).map(|_| sampler.sample(&mut rng)).collect();
    let generate_s = started.elapsed().as_secs_f64();

    let mut source = IdSource { ids: &ids, next: 0 };
    let jobs = vec![ReplayJob {
        label_policy: "lru".to_string(),
        cache_size: cache_objects,
        cache: Box::new(LruCache::new(cache_objects, true)),
    }];
    let started = Instant::now();
    let results = replay(&mut source, jobs, &TimeSource::Trace, None).map_err(|e| BenchError {
        message: e.to_string(),
    })?;
    let replay_s = started.elapsed().as_secs_f64();
    let n_hits = results.first().map_or(0, |r| r.n_hit);
    Ok(BenchFigures {
        n_requests,
        n_hits,
        hit_ratio: if n_requests == 0 {
            0.0
        } else {
            n_hits as f64 / n_requests as f64
        },
        generate_s,
        replay_s,
        requests_per_s: n_requests as f64 / replay_s.max(1e-9),
    })
}

/// Serves pre-drawn ids as size-1 GETs at time 0.
struct IdSource<'a> {
    ids: &'a [u32],
    next: usize,
}

impl RequestSource for IdSource<'_> {
    fn next_batch(
        &mut self,
        buf: &mut Vec<TraceRequest>,
        max: usize,
    ) -> Result<usize, Box<dyn std::error::Error + Send + Sync>> {
        let end = (self.next + max).min(self.ids.len());
        buf.extend(self.ids[self.next..end].iter().map(|&id| TraceRequest {
            obj_id: id as u64,
            obj_size: 1,
            value_size: 1,
            next_access_vtime: -2,
            ..Default::default()
        }));
        let n = end - self.next;
        self.next = end;
        Ok(n)
    }
}

/// Zipf(alpha) over ranks 0..n by Vose's alias method: O(n) to build, O(1) per draw.
struct ZipfAlias {
    /// Probability of keeping column i (scaled to [0, 1]).
    keep: Vec<f64>,
    /// Where column i sends the rest of its mass.
    alias: Vec<u32>,
}

impl ZipfAlias {
    fn new(n: usize, alpha: f64) -> ZipfAlias {
        let weights: Vec<f64> = (0..n).map(|i| ((i + 1) as f64).powf(-alpha)).collect();
        let total: f64 = weights.iter().sum();
        let mut keep: Vec<f64> = weights.iter().map(|w| w * n as f64 / total).collect();
        let mut alias: Vec<u32> = (0..n as u32).collect();
        let mut small: Vec<u32> = Vec::new();
        let mut large: Vec<u32> = Vec::new();
        for (i, &k) in keep.iter().enumerate() {
            if k < 1.0 {
                small.push(i as u32);
            } else {
                large.push(i as u32);
            }
        }
        while let (Some(&s), Some(&l)) = (small.last(), large.last()) {
            small.pop();
            alias[s as usize] = l;
            keep[l as usize] -= 1.0 - keep[s as usize];
            if keep[l as usize] < 1.0 {
                large.pop();
                small.push(l);
            }
        }
        // Leftovers (rounding) keep their own column with certainty.
        for i in small.into_iter().chain(large) {
            keep[i as usize] = 1.0;
        }
        ZipfAlias { keep, alias }
    }

    #[inline]
    fn sample(&self, rng: &mut RngStream) -> u32 {
        let column = rng.below(self.keep.len() as u64) as usize;
        if rng.next_f64() < self.keep[column] {
            column as u32
        } else {
            self.alias[column]
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alias_sampler_follows_zipf() {
        let n = 100;
        let sampler = ZipfAlias::new(n, 1.0);
        let mut rng = RngStream::new(5, 5);
        let draws = 1_000_000;
        let mut counts = vec![0u64; n];
        for _ in 0..draws {
            counts[sampler.sample(&mut rng) as usize] += 1;
        }
        let h: f64 = (1..=n).map(|i| 1.0 / i as f64).sum();
        for (rank, &c) in counts.iter().enumerate().take(10) {
            let p = 1.0 / ((rank + 1) as f64 * h);
            let sd = (draws as f64 * p * (1.0 - p)).sqrt();
            assert!(
                (c as f64 - draws as f64 * p).abs() < 5.0 * sd,
                "rank {rank}: {c} vs {}",
                draws as f64 * p
            );
        }
    }

    #[test]
    fn small_bench_runs_and_rejects_bad_parameters() {
        let figures = bench_lru(200_000, 10_000, 1_000, 1.0, 1).unwrap();
        assert_eq!(figures.n_requests, 200_000);
        assert!(
            figures.hit_ratio > 0.4 && figures.hit_ratio < 0.8,
            "{figures:?}"
        );
        assert!(bench_lru(10, 0, 10, 1.0, 1).is_err());
        assert!(bench_lru(10, 10, 10, f64::NAN, 1).is_err());
        assert!(bench_lru(10, 10, 0, 1.0, 1).is_err());
    }
}
