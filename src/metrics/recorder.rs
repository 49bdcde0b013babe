//! The hot-path front of an HdrHistogram: `LatencyRecorder` counts values in exactly the
//! bucket layout of `hdrhistogram::Histogram::new_with_bounds(1, highest, sigfig)` (same
//! sub-buckets, same index of every value), but recording is an index computation and an
//! increment, without the crate's resize, min/max and overflow bookkeeping. `histogram()`
//! turns the counts into the equivalent HdrHistogram (each bucket recorded at its lowest
//! value), whose quantiles, min, max, mean and iteration equal those of a histogram fed the
//! values directly. Values above `highest` are clamped to it, as `saturating_record` does.
//! Counts are 16-bit (a quarter of the cache lines of the crate's 64-bit counts on the hot
//! path, where each record lands on a random line); a bucket that passes 2^16 carries into a
//! 64-bit side table, so no count is ever lost.

use hdrhistogram::Histogram;

/// Counts of values in an HdrHistogram's bucket layout (lowest discernible value 1).
#[derive(Clone, Debug)]
pub struct LatencyRecorder {
    counts: Vec<u16>,
    /// Multiples of 2^16 carried out of `counts`, by index.
    carries: std::collections::BTreeMap<usize, u64>,
    total: u64,
    /// The `highest` asked for (the layout's bounds).
    highest: u64,
    /// Where values beyond the counts array go: the index of the highest trackable value.
    clamp_index: usize,
    sigfig: u8,
    /// log2 of half the sub-bucket count (hdrhistogram's `sub_bucket_half_count_magnitude`).
    half_magnitude: u32,
    /// `sub_bucket_count - 1`.
    sub_bucket_mask: u64,
}

impl LatencyRecorder {
    /// An empty recorder for values in `1..=highest` at `sigfig` significant digits.
    pub fn new(highest: u64, sigfig: u8) -> LatencyRecorder {
        let layout =
            Histogram::<u64>::new_with_bounds(1, highest, sigfig).expect("valid histogram bounds");
        // hdrhistogram: sub_bucket_count = 2^ceil(log2(2 * 10^sigfig)).
        let largest_single_unit = 2 * 10u64.pow(sigfig as u32);
        let sub_bucket_count = largest_single_unit.next_power_of_two();
        let mut r = LatencyRecorder {
            counts: vec![0; layout.distinct_values()],
            carries: std::collections::BTreeMap::new(),
            total: 0,
            highest,
            clamp_index: 0,
            sigfig,
            half_magnitude: sub_bucket_count.trailing_zeros() - 1,
            sub_bucket_mask: sub_bucket_count - 1,
        };
        r.clamp_index = r.index(layout.high());
        r
    }

    /// The counts index of `value` (hdrhistogram's `index_for` with unit magnitude 0).
    #[inline]
    fn index(&self, value: u64) -> usize {
        let bucket = 63 - self.half_magnitude - (value | self.sub_bucket_mask).leading_zeros();
        let sub_bucket = value >> bucket;
        (((bucket + 1) as u64) << self.half_magnitude) as usize + sub_bucket as usize
            - (1usize << self.half_magnitude)
    }

    /// The lowest value of counts index `index` (hdrhistogram's `value_for`).
    fn lowest_value(&self, index: usize) -> u64 {
        let half_count = 1usize << self.half_magnitude;
        let bucket = (index >> self.half_magnitude) as i64 - 1;
        let sub_bucket = (index & (half_count - 1)) + half_count;
        if bucket < 0 {
            (sub_bucket - half_count) as u64
        } else {
            (sub_bucket as u64) << bucket
        }
    }

    /// Records one value (one beyond the counts array as the highest trackable value, as
    /// `saturating_record` does).
    #[inline]
    pub fn record(&mut self, value: u64) {
        let i = self.index(value);
        let i = if i < self.counts.len() {
            i
        } else {
            self.clamp_index
        };
        let (count, carry) = self.counts[i].overflowing_add(1);
        self.counts[i] = count;
        if carry {
            *self.carries.entry(i).or_insert(0) += 1;
        }
        self.total += 1;
    }

    /// Values recorded.
    pub fn len(&self) -> u64 {
        self.total
    }

    /// True when nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.total == 0
    }

    /// Forgets every value.
    pub fn reset(&mut self) {
        if self.total > 0 {
            self.counts.iter_mut().for_each(|c| *c = 0);
            self.carries.clear();
            self.total = 0;
        }
    }

    /// Every non-empty bucket as (its lowest value, its count), in increasing value order.
    pub fn buckets(&self) -> impl Iterator<Item = (u64, u64)> + '_ {
        // Most of the array is zeros (a window's latencies fill a few hundred of its
        // thousands of buckets): skip blocks of zero counts a block at a time, and look the
        // carry table up only when it holds any.
        const BLOCK: usize = 16;
        let no_carries = self.carries.is_empty();
        self.counts
            .chunks(BLOCK)
            .enumerate()
            .filter(move |(_, block)| !no_carries || block.iter().fold(0, |a, &c| a | c) != 0)
            .flat_map(|(b, block)| {
                block
                    .iter()
                    .enumerate()
                    .map(move |(j, &c)| (b * BLOCK + j, c))
            })
            .filter(move |&(i, c)| c > 0 || (!no_carries && self.carries.contains_key(&i)))
            .map(move |(i, c)| {
                let carried = if no_carries {
                    0
                } else {
                    self.carries.get(&i).map_or(0, |&n| n << 16)
                };
                (self.lowest_value(i), c as u64 + carried)
            })
    }

    /// The equivalent HdrHistogram.
    pub fn histogram(&self) -> Histogram<u64> {
        let mut h = Histogram::new_with_bounds(1, self.highest, self.sigfig)
            .expect("valid histogram bounds");
        for (lowest, c) in self.buckets() {
            h.record_n(lowest, c)
                .expect("a bucket's lowest value is in range");
        }
        h
    }

    /// The value at quantile `q` (0 when empty), as the equivalent HdrHistogram reports it
    /// (hdrhistogram's rule: the first bucket where the running count reaches
    /// `ceil(q x total)`, at least 1; its highest equivalent value, its lowest for q = 0),
    /// computed on the counts without building the histogram.
    pub fn value_at_quantile(&self, q: f64) -> u64 {
        if self.is_empty() {
            return 0;
        }
        if !self.carries.is_empty() {
            return self.histogram().value_at_quantile(q);
        }
        let q = q.min(1.0);
        let target = ((q * self.total as f64).ceil() as u64).max(1);
        let mut running = 0u64;
        for (i, &c) in self.counts.iter().enumerate() {
            running += c as u64;
            if running >= target {
                let lowest = self.lowest_value(i);
                if q == 0.0 {
                    return lowest;
                }
                let bucket =
                    63 - self.half_magnitude - (lowest | self.sub_bucket_mask).leading_zeros();
                return lowest.saturating_add((1u64 << bucket) - 1);
            }
        }
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::RngStream;

    #[test]
    fn equals_an_hdrhistogram_fed_the_same_values() {
        for sigfig in [2u8, 3] {
            let highest = 3_600_000_000;
            let mut rec = LatencyRecorder::new(highest, sigfig);
            let mut direct = Histogram::<u64>::new_with_bounds(1, highest, sigfig).unwrap();
            let mut rng = RngStream::new(5, sigfig as u64);
            let mut values: Vec<u64> = vec![1, 2, 255, 256, 2047, 2048, 2049, highest, u64::MAX];
            // Log-uniform over the whole range, so every bucket magnitude is exercised.
            values.extend((0..200_000).map(|_| (rng.next_f64() * 36.0).exp2() as u64 + 1));
            for v in values {
                rec.record(v);
                direct.saturating_record(v);
            }
            let h = rec.histogram();
            assert_eq!(h.len(), direct.len());
            assert_eq!((h.min(), h.max()), (direct.min(), direct.max()));
            assert_eq!(h.mean(), direct.mean());
            for q in [0.0, 0.1, 0.5, 0.9, 0.99, 0.999, 0.99999, 1.0] {
                assert_eq!(h.value_at_quantile(q), direct.value_at_quantile(q), "q {q}");
                assert_eq!(
                    rec.value_at_quantile(q),
                    direct.value_at_quantile(q),
                    "q {q}"
                );
            }
            let pairs = |h: &Histogram<u64>| -> Vec<(u64, u64)> {
                h.iter_recorded()
                    .map(|v| (v.value_iterated_to(), v.count_at_value()))
                    .collect()
            };
            assert_eq!(pairs(&h), pairs(&direct));
        }
    }

    #[test]
    fn a_bucket_past_two_to_the_16_carries() {
        let mut rec = LatencyRecorder::new(1_000, 2);
        let i = rec.index(7);
        rec.counts[i] = u16::MAX;
        rec.total = u16::MAX as u64;
        rec.record(7);
        rec.record(7);
        let h = rec.histogram();
        assert_eq!(h.count_at(7), (1u64 << 16) + 1);
        assert_eq!(h.len(), rec.len());
        rec.record(900);
        let h = rec.histogram();
        for q in [0.5, 0.9999999999, 1.0] {
            assert_eq!(rec.value_at_quantile(q), h.value_at_quantile(q), "q {q}");
        }
    }

    #[test]
    fn reset_empties() {
        let mut rec = LatencyRecorder::new(1_000_000, 2);
        let mut direct = Histogram::<u64>::new_with_bounds(1, 1_000_000, 2).unwrap();
        rec.record(500);
        direct.record(500).unwrap();
        assert_eq!(rec.value_at_quantile(0.99), direct.value_at_quantile(0.99));
        rec.reset();
        assert!(rec.is_empty());
        assert_eq!(rec.value_at_quantile(0.99), 0);
    }
}
