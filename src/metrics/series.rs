//! The time series' bounded memory: how a plan's [`Window`]s aggregate as the horizon grows.
//!
//! The rule (issue #11, "long horizons stay cheap"): when a plan has recorded
//! [`MAX_WINDOWS`] windows, neighbouring pairs merge into one window of twice the width and the
//! windows to come are twice as wide, so a run of any length keeps at most `MAX_WINDOWS`
//! windows and every window boundary of the aggregated series is a boundary the
//! un-aggregated one had. A merge sums counts (requests, hits, evictions, loads, commands,
//! busy time, violations), keeps the larger peak (origin concurrency, staleness), keeps the
//! later reading of what is sampled at a window's end (used_memory), and merges the windows'
//! latency sketches; the merged p99s are read from the merged sketches.
//!
//! [`LatencySketch`] is the mergeable form of a window's latencies: the non-empty buckets of a
//! log-linear layout of 16 buckets per power of two (exact below 16 µs), so a quantile read
//! from it is at most 1/16 (6.25 %) above the value an exact histogram gives, and merging two
//! sketches loses nothing more. An unmerged window keeps the p99 its exact recorder gave.
//!
//! Recording only: formats and writes nothing.

use super::{LatencyRecorder, Window};

/// Most windows a plan keeps: past it, pairs merge and the width doubles. Even, so a merge
/// leaves the window in progress aligned to the doubled width.
pub const MAX_WINDOWS: usize = 512;

/// Sub-buckets per power of two in a [`LatencySketch`] (log2).
const SUB_BITS: u32 = 4;
const SUB: u64 = 1 << SUB_BITS;

/// A window's latencies as a sparse, mergeable log-linear histogram (µs).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LatencySketch {
    /// (bucket index, count), increasing bucket index, no zero count.
    buckets: Vec<(u32, u64)>,
}

/// The sketch bucket of `value_us`: exact below 16, else 16 buckets per power of two.
fn bucket_of(value_us: u64) -> u32 {
    if value_us < SUB {
        return value_us as u32;
    }
    let magnitude = 63 - value_us.leading_zeros(); // >= SUB_BITS
    let sub = (value_us >> (magnitude - SUB_BITS)) & (SUB - 1);
    (SUB * (magnitude - SUB_BITS + 1) as u64 + sub) as u32
}

/// The highest value of sketch bucket `bucket`.
fn highest_of(bucket: u32) -> u64 {
    let bucket = bucket as u64;
    if bucket < SUB {
        return bucket;
    }
    let magnitude = bucket / SUB + SUB_BITS as u64 - 1;
    let sub = bucket % SUB;
    let shift = magnitude - SUB_BITS as u64;
    ((SUB + sub) << shift) + ((1u64 << shift) - 1)
}

impl LatencySketch {
    /// The sketch of what `rec` holds (each of its buckets counted at its lowest value).
    pub fn of(rec: &LatencyRecorder) -> LatencySketch {
        let mut buckets: Vec<(u32, u64)> = Vec::new();
        for (lowest, count) in rec.buckets() {
            let b = bucket_of(lowest);
            match buckets.last_mut() {
                Some((last, c)) if *last == b => *c += count,
                _ => buckets.push((b, count)),
            }
        }
        LatencySketch { buckets }
    }

    /// Adds `other`'s counts.
    pub fn merge(&mut self, other: &LatencySketch) {
        let mut merged = Vec::with_capacity(self.buckets.len() + other.buckets.len());
        let (mut a, mut b) = (
            self.buckets.iter().peekable(),
            other.buckets.iter().peekable(),
        );
        loop {
            let next = match (a.peek(), b.peek()) {
                (Some(&&(ba, ca)), Some(&&(bb, cb))) => {
                    if ba == bb {
                        a.next();
                        b.next();
                        (ba, ca + cb)
                    } else if ba < bb {
                        a.next();
                        (ba, ca)
                    } else {
                        b.next();
                        (bb, cb)
                    }
                }
                (Some(&&x), None) => {
                    a.next();
                    x
                }
                (None, Some(&&y)) => {
                    b.next();
                    y
                }
                (None, None) => break,
            };
            merged.push(next);
        }
        self.buckets = merged;
    }

    /// Values counted.
    pub fn len(&self) -> u64 {
        self.buckets.iter().map(|&(_, c)| c).sum()
    }

    /// True when nothing was counted.
    pub fn is_empty(&self) -> bool {
        self.buckets.is_empty()
    }

    /// The value at quantile `q` (0 when empty): the highest value of the first bucket where
    /// the running count reaches `ceil(q × total)`, at least 1 (HdrHistogram's rule).
    pub fn value_at_quantile(&self, q: f64) -> u64 {
        let total = self.len();
        if total == 0 {
            return 0;
        }
        let target = ((q.min(1.0) * total as f64).ceil() as u64).max(1);
        let mut running = 0;
        for &(b, c) in &self.buckets {
            running += c;
            if running >= target {
                return highest_of(b);
            }
        }
        highest_of(self.buckets.last().map_or(0, |&(b, _)| b))
    }
}

/// Merges `later`, the window right after `earlier`, into `earlier`.
pub fn merge_windows(earlier: &mut Window, later: Window) {
    // Destructured without `..`: a new field of `Window` does not compile until its merge
    // rule is written here.
    let Window {
        start: _,
        keyspace_requests,
        keyspace_hits,
        keyspace_evictions,
        keyspace_p99_us: _,
        keyspace_latency_us,
        origin_loads,
        origin_peak_concurrency,
        origin_latency_p99_us: _,
        origin_latency_us,
        shard_used_memory,
        shard_commands,
        shard_busy_ns,
        shard_bytes_in,
        shard_bytes_out,
        invariant_violations,
        invariant_max_staleness_ns,
    } = later;
    let add = |into: &mut Vec<u64>, from: Vec<u64>| {
        into.iter_mut().zip(from).for_each(|(a, b)| *a += b);
    };
    add(&mut earlier.keyspace_requests, keyspace_requests);
    add(&mut earlier.keyspace_hits, keyspace_hits);
    add(&mut earlier.keyspace_evictions, keyspace_evictions);
    add(&mut earlier.origin_loads, origin_loads);
    add(&mut earlier.shard_commands, shard_commands);
    add(&mut earlier.shard_busy_ns, shard_busy_ns);
    add(&mut earlier.shard_bytes_in, shard_bytes_in);
    add(&mut earlier.shard_bytes_out, shard_bytes_out);
    add(&mut earlier.invariant_violations, invariant_violations);
    for (a, b) in earlier
        .origin_peak_concurrency
        .iter_mut()
        .zip(origin_peak_concurrency)
    {
        *a = (*a).max(b);
    }
    for (a, b) in earlier
        .invariant_max_staleness_ns
        .iter_mut()
        .zip(invariant_max_staleness_ns)
    {
        *a = (*a).max(b);
    }
    earlier.shard_used_memory = shard_used_memory;
    for (a, b) in earlier
        .keyspace_latency_us
        .iter_mut()
        .zip(&keyspace_latency_us)
    {
        a.merge(b);
    }
    for (a, b) in earlier.origin_latency_us.iter_mut().zip(&origin_latency_us) {
        a.merge(b);
    }
    earlier.keyspace_p99_us = earlier
        .keyspace_latency_us
        .iter()
        .map(|s| s.value_at_quantile(0.99))
        .collect();
    earlier.origin_latency_p99_us = earlier
        .origin_latency_us
        .iter()
        .map(|s| s.value_at_quantile(0.99))
        .collect();
}

/// Merges neighbouring pairs of `windows` (an odd last one stays as it is).
pub fn merge_pairs(windows: &mut Vec<Window>) {
    let mut merged = Vec::with_capacity(windows.len().div_ceil(2));
    let mut it = std::mem::take(windows).into_iter();
    while let Some(mut first) = it.next() {
        if let Some(second) = it.next() {
            merge_windows(&mut first, second);
        }
        merged.push(first);
    }
    *windows = merged;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::RngStream;

    #[test]
    fn buckets_cover_every_value_once_within_a_sixteenth() {
        let mut last = None;
        for v in 0..1_000_000u64 {
            let b = bucket_of(v);
            assert!(highest_of(b) >= v, "{v}");
            assert!(highest_of(b) as f64 <= v as f64 * (1.0 + 1.0 / 16.0) + 1e-9 || v < 16);
            if let Some(l) = last {
                assert!(b == l || b == l + 1, "buckets are contiguous at {v}");
            }
            last = Some(b);
        }
        assert!(highest_of(bucket_of(u64::MAX)) == u64::MAX);
    }

    #[test]
    fn a_merged_sketch_equals_the_sketch_of_the_union_and_brackets_the_exact_quantile() {
        let mut rng = RngStream::new(11, 0);
        let mut a = LatencyRecorder::new(super::super::LATENCY_HIGHEST_US, 2);
        let mut b = LatencyRecorder::new(super::super::LATENCY_HIGHEST_US, 2);
        let mut both = LatencyRecorder::new(super::super::LATENCY_HIGHEST_US, 2);
        let mut exact: Vec<u64> = Vec::new();
        for i in 0..50_000 {
            let v = ((rng.next_f64() * 14.0).exp2() as u64).max(1);
            if i % 3 == 0 {
                a.record(v)
            } else {
                b.record(v)
            }
            both.record(v);
            exact.push(v);
        }
        let mut merged = LatencySketch::of(&a);
        merged.merge(&LatencySketch::of(&b));
        assert_eq!(merged, LatencySketch::of(&both));
        exact.sort_unstable();
        for q in [0.5, 0.9, 0.99] {
            let want = exact[(q * exact.len() as f64).ceil() as usize - 1] as f64;
            let got = merged.value_at_quantile(q) as f64;
            // The recorder's 2 significant digits (1 %) and the sketch's 1/16.
            assert!(
                got >= want * 0.99 && got <= want * 1.01 * (1.0 + 1.0 / 16.0),
                "q {q}: {got} vs {want}"
            );
        }
    }
}
