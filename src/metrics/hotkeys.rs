//! The hottest keys of a shard without a counter per key: the Filtered Space-Saving
//! heavy-hitters summary (Homem, Carvalho, "Finding top-k elements in data streams", 2010,
//! after Metwally, Agrawal, El Abbadi's Space-Saving, 2005) with a fixed number of counters,
//! and the result types of a shard's hot and big keys. Recording only: allocation-free after
//! construction, no formatting.
//!
//! The summary keeps `capacity` monitored (key, count, error) counters and a filter of
//! `FILTER_CELLS` cells, each a weight shared by the unmonitored keys that hash to it. A
//! monitored key adds its weight to its counter. An unmonitored key adds its weight to its
//! cell, and when the cell then reaches the smallest monitored count `m` (or a counter is
//! free), the key takes over that smallest counter, starting at the cell's weight with the
//! cell's weight before it as error; the key it displaces leaves its count in its own cell.
//! Two invariants follow, and hold whatever the stream: an unmonitored key's true weight is at
//! most its cell's (so at most `m`, reported as `threshold`), and a monitored key's true
//! weight is in `[count - error, count]`. Most keys of a skewed stream are cold: they only
//! touch their cell, so the min-heap below (ordered by count, with an open-addressing index
//! from key id to heap position) is updated for the few that matter. The outcome depends only
//! on the sequence of updates.

/// One key's figures from a [`SpaceSaving`] summary.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HotKey {
    /// The key's id.
    pub key_id: u64,
    /// The caller's label of the key (the simulation: 1 + tenant index, 0 = no tenant).
    pub label: u16,
    /// Estimated weight (never below the true weight).
    pub count: u64,
    /// Largest possible overestimate: the true weight is in `[count - error, count]`.
    pub error: u64,
}

/// One of the largest keys resident in a shard at the end of a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BigKey {
    /// The key's id.
    pub key_id: u64,
    /// Bytes the model charges to the key (dict entry, key and value objects).
    pub bytes: u64,
}

/// A shard's hot keys and big keys after the warm-up.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ShardHotKeys {
    /// Hottest keys by commands, most first.
    pub by_ops: Vec<HotKey>,
    /// Hottest keys by network bytes (request + reply), most first.
    pub by_bytes: Vec<HotKey>,
    /// Largest resident keys at the end, largest first (ties by key id).
    pub biggest: Vec<BigKey>,
    /// The most commands a key not in the commands summary can have had
    /// (`SpaceSaving::threshold`).
    pub ops_unlisted_max: u64,
    /// The most bytes a key not in the bytes summary can have had.
    pub bytes_unlisted_max: u64,
}

/// Counters of each shard's summaries: a reported count is off by at most its `error`, and a
/// key not reported weighs at most the summary's `threshold`.
pub const HOT_KEY_COUNTERS: usize = 128;

/// Filter cells of a summary (a power of two): 16 cells a counter, as Homem and Carvalho
/// suggest (their "alpha" array), 16 KiB of weights.
pub const FILTER_CELLS: usize = 2048;

/// Keys reported per shard and ranking (`hotkeys.csv`).
pub const TOP_KEYS: usize = 10;

const EMPTY: u32 = u32::MAX;

/// Bits of a filter cell holding its weight (2^56 bytes is 64 PiB: never reached).
const WEIGHT_BITS: u32 = 56;
const WEIGHT_MASK: u64 = (1 << WEIGHT_BITS) - 1;
/// One monitored key, in a cell's count above `WEIGHT_BITS`.
const ONE_MONITORED: u64 = 1 << WEIGHT_BITS;

#[derive(Clone, Copy, Debug)]
struct Counter {
    key_id: u64,
    count: u64,
    error: u64,
    label: u16,
    /// This counter's slot in the index.
    slot: u32,
}

/// A Space-Saving summary with a fixed number of counters.
#[derive(Clone, Debug)]
pub struct SpaceSaving {
    capacity: usize,
    /// The counters as a min-heap by (count, key id).
    heap: Vec<Counter>,
    /// Open addressing with linear probing: heap positions, `EMPTY` for a free slot.
    index: Vec<u32>,
    mask: usize,
    /// Filter cells (`FILTER_CELLS`): in the low `WEIGHT_BITS` bits the weight bound of the
    /// unmonitored keys hashed to the cell, above them how many monitored keys hash to it (so
    /// a cold key whose cell has none skips the index).
    cells: Vec<u64>,
    /// Sum of all weights added.
    total: u64,
}

impl SpaceSaving {
    /// A summary of `capacity` counters (at least 1).
    pub fn new(capacity: usize) -> SpaceSaving {
        let capacity = capacity.max(1);
        let slots = (capacity * 2).next_power_of_two();
        SpaceSaving {
            capacity,
            heap: Vec::with_capacity(capacity),
            index: vec![EMPTY; slots],
            mask: slots - 1,
            cells: vec![0; FILTER_CELLS],
            total: 0,
        }
    }

    /// Sum of the weights added so far.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// The largest weight a key not monitored can have: the smallest monitored count once
    /// every counter is taken, 0 before.
    pub fn threshold(&self) -> u64 {
        if self.heap.len() < self.capacity {
            0
        } else {
            self.heap[0].count
        }
    }

    /// Adds `weight` to key `key_id` (`label` is kept from when the key takes a counter).
    #[inline]
    pub fn add(&mut self, key_id: u64, label: u16, weight: u64) {
        self.total += weight;
        let cell = self.cell(key_id);
        if self.cells[cell] >> WEIGHT_BITS != 0 {
            // Some monitored key hashes to this cell: is it this one?
            let mut slot = self.home(key_id);
            loop {
                let at = self.index[slot];
                if at == EMPTY {
                    break;
                }
                if self.heap[at as usize].key_id == key_id {
                    self.heap[at as usize].count += weight;
                    self.sift_down(at as usize);
                    return;
                }
                slot = (slot + 1) & self.mask;
            }
        }
        let before = self.cells[cell] & WEIGHT_MASK;
        let weight_bound = before + weight;
        if self.heap.len() < self.capacity {
            // A free counter: exact unless an earlier key of the cell was displaced (none
            // is while counters are free, so the summary is exact until they are all taken).
            let pos = self.heap.len();
            let slot = self.free_slot(key_id);
            self.heap.push(Counter {
                key_id,
                count: weight_bound,
                error: before,
                label,
                slot: slot as u32,
            });
            self.index[slot] = pos as u32;
            self.cells[cell] += ONE_MONITORED;
            self.sift_up(pos);
            return;
        }
        if weight_bound < self.heap[0].count {
            // Still lighter than every monitored key: the cell keeps the weight.
            self.cells[cell] = (self.cells[cell] & !WEIGHT_MASK) | weight_bound;
            return;
        }
        // Take over the smallest counter (the heap's root); its key leaves its count in its
        // cell (the cell bounds every unmonitored key hashed there).
        let old = self.heap[0];
        let old_cell = self.cell(old.key_id);
        let c = self.cells[old_cell] - ONE_MONITORED;
        self.cells[old_cell] = (c & !WEIGHT_MASK) | (c & WEIGHT_MASK).max(old.count);
        self.cells[cell] += ONE_MONITORED;
        self.remove_slot(old.slot as usize);
        let slot = self.free_slot(key_id);
        self.heap[0] = Counter {
            key_id,
            count: weight_bound,
            error: before,
            label,
            slot: slot as u32,
        };
        self.index[slot] = 0;
        self.sift_down(0);
    }

    /// The `n` largest counters, largest count first, ties by key id.
    pub fn top(&self, n: usize) -> Vec<HotKey> {
        let mut all: Vec<HotKey> = self
            .heap
            .iter()
            .map(|c| HotKey {
                key_id: c.key_id,
                label: c.label,
                count: c.count,
                error: c.error,
            })
            .collect();
        all.sort_by(|a, b| b.count.cmp(&a.count).then(a.key_id.cmp(&b.key_id)));
        all.truncate(n);
        all
    }

    fn home(&self, key_id: u64) -> usize {
        (key_id.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32) as usize & self.mask
    }

    /// The filter cell of `key_id` (a hash independent of the index's).
    #[inline]
    fn cell(&self, key_id: u64) -> usize {
        (key_id.wrapping_mul(0xD6E8_FEB8_6659_FD93) >> 40) as usize & (FILTER_CELLS - 1)
    }

    fn free_slot(&self, key_id: u64) -> usize {
        let mut slot = self.home(key_id);
        while self.index[slot] != EMPTY {
            slot = (slot + 1) & self.mask;
        }
        slot
    }

    /// Frees `slot`, moving later entries of its probe run back (no tombstones).
    fn remove_slot(&mut self, slot: usize) {
        let mut hole = slot;
        let mut next = (slot + 1) & self.mask;
        loop {
            let at = self.index[next];
            if at == EMPTY {
                break;
            }
            let home = self.home(self.heap[at as usize].key_id);
            // Move the entry into the hole when its home is not in (hole, next].
            let dist_next = next.wrapping_sub(home) & self.mask;
            let dist_hole = hole.wrapping_sub(home) & self.mask;
            if dist_hole < dist_next {
                self.index[hole] = at;
                self.heap[at as usize].slot = hole as u32;
                hole = next;
            }
            next = (next + 1) & self.mask;
        }
        self.index[hole] = EMPTY;
    }

    /// Puts `c` at heap position `pos` and points its index slot there.
    #[inline]
    fn place(&mut self, pos: usize, c: Counter) {
        self.index[c.slot as usize] = pos as u32;
        self.heap[pos] = c;
    }

    /// Moves the counter at `pos` up past larger parents (the hole technique: each level
    /// writes once, the moving counter is written at its final place).
    fn sift_up(&mut self, mut pos: usize) {
        let moving = self.heap[pos];
        while pos > 0 {
            let parent = (pos - 1) / 2;
            if moving.count >= self.heap[parent].count {
                break;
            }
            let up = self.heap[parent];
            self.place(pos, up);
            pos = parent;
        }
        self.place(pos, moving);
    }

    /// Moves the counter at `pos` down past smaller children (the smaller child first, the
    /// left one on a tie; the hole technique as in `sift_up`). Counts alone order the heap: a
    /// counter stops sinking at its first equal child, which keeps a take-over among many
    /// equal counts short (the order of updates alone decides the outcome, so it stays
    /// deterministic).
    fn sift_down(&mut self, mut pos: usize) {
        let n = self.heap.len();
        let moving = self.heap[pos];
        loop {
            let (l, r) = (2 * pos + 1, 2 * pos + 2);
            let mut smallest = pos;
            let mut smallest_count = moving.count;
            if l < n && self.heap[l].count < smallest_count {
                smallest = l;
                smallest_count = self.heap[l].count;
            }
            if r < n && self.heap[r].count < smallest_count {
                smallest = r;
            }
            if smallest == pos {
                break;
            }
            let up = self.heap[smallest];
            self.place(pos, up);
            pos = smallest;
        }
        self.place(pos, moving);
    }
}

/// Keeps the `n` largest of the keys offered, largest first (ties by key id).
pub fn biggest(keys: impl Iterator<Item = BigKey>, n: usize) -> Vec<BigKey> {
    let mut top: Vec<BigKey> = Vec::with_capacity(n + 1);
    for k in keys {
        let better = |a: &BigKey, b: &BigKey| {
            (a.bytes, std::cmp::Reverse(a.key_id)) > (b.bytes, std::cmp::Reverse(b.key_id))
        };
        if top.len() == n && n > 0 && !better(&k, &top[n - 1]) {
            continue;
        }
        let at = top.partition_point(|t| better(t, &k));
        top.insert(at, k);
        top.truncate(n);
    }
    top
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn exact_while_the_keys_fit() {
        let mut s = SpaceSaving::new(8);
        for (k, n) in [(5u64, 3u64), (9, 7), (1, 7), (4, 1)] {
            for _ in 0..n {
                s.add(k, k as u16, 1);
            }
        }
        let top = s.top(3);
        assert_eq!(
            top.iter()
                .map(|h| (h.key_id, h.count, h.error))
                .collect::<Vec<_>>(),
            vec![(1, 7, 0), (9, 7, 0), (5, 3, 0)]
        );
        assert_eq!(s.total(), 18);
    }

    #[test]
    fn bounds_hold_on_a_skewed_stream_with_few_counters() {
        // A deterministic stream over 500 keys, key k weighted ~ 1/(k+1): 16 counters.
        let mut s = SpaceSaving::new(16);
        let mut truth: BTreeMap<u64, u64> = BTreeMap::new();
        let mut x = 12345u64;
        for _ in 0..50_000 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let u = ((x >> 11) as f64) / (1u64 << 53) as f64;
            let k = ((500f64).powf(u) - 1.0) as u64; // log-uniform: ~ 1/(k+1)
            let w = 1 + (k % 3);
            s.add(k * 7919, 0, w);
            *truth.entry(k * 7919).or_default() += w;
        }
        let total = s.total();
        for h in s.top(16) {
            let t = truth[&h.key_id];
            assert!(h.count >= t && h.count - h.error <= t, "{h:?} true {t}");
        }
        // Every key heavier than the threshold is monitored, and on this skewed stream the
        // threshold is below Space-Saving's total / capacity.
        let monitored: Vec<u64> = s.top(16).iter().map(|h| h.key_id).collect();
        let threshold = s.threshold();
        assert!(
            threshold > 0 && threshold < total / 16,
            "{threshold} of {total}"
        );
        for (k, t) in &truth {
            if *t > threshold {
                assert!(monitored.contains(k), "key {k} weight {t} of {total}");
            }
        }
        // The index still finds every monitored key after many take-overs.
        for k in monitored {
            let before = s.top(16).iter().find(|h| h.key_id == k).unwrap().count;
            s.add(k, 0, 1);
            let after = s.top(16).iter().find(|h| h.key_id == k).unwrap().count;
            assert_eq!(after, before + 1);
        }
    }

    #[test]
    fn biggest_keeps_the_largest_in_order() {
        let keys = [(1u64, 10u64), (2, 50), (3, 50), (4, 5), (5, 70)]
            .map(|(key_id, bytes)| BigKey { key_id, bytes });
        let top = biggest(keys.into_iter(), 3);
        assert_eq!(
            top.iter().map(|b| b.key_id).collect::<Vec<_>>(),
            vec![5, 2, 3]
        );
        assert!(biggest(keys.into_iter(), 0).is_empty());
    }
}
