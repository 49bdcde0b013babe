//! The discrete-event queue: pending events ordered by (time, insertion order). It owns the
//! ordering rule that makes runs deterministic: events at equal times pop in the order they were
//! pushed. It knows nothing about what an event means, never reads the wall clock while simulating
//! (only [`bench_hold`] does, to time itself), and must not depend on anything outside `engine`.
//!
//! # Design: a radix heap keyed on time
//!
//! A discrete-event simulation never schedules into the past, so keys are monotone: every pushed
//! time is at least the time of the last pop (`last`). A radix heap exploits this. An event with
//! time `t != last` lives in bucket `b = 63 - leading_zeros(t ^ last)`, the position of the highest
//! bit in which `t` differs from `last`; events with `t == last` live in a FIFO (`current`).
//! Popping takes from `current`; when it is empty, the lowest non-empty bucket is emptied: its
//! minimum becomes the new `last` and every event in it moves to `current` (if equal to the new
//! `last`) or to a strictly lower bucket (a bucket of one event is popped straight, leaving the
//! same state). Each event moves at most 64 times over its life and in practice a handful of
//! times; moves are sequential scans of small vectors, so the queue stays cache friendly where a
//! binary heap chases pointers through a large array.
//!
//! **Why equal times stay FIFO without a stored sequence number.** The bucket of an event is a
//! function of its time and the current `last` alone: when `last` changes to the minimum of bucket
//! `i`, the new and old `last` agree on every bit at or above `i`, so events in higher buckets keep
//! their bucket, and the events of bucket `i` are redistributed with the new `last`. Hence two
//! events with the same time are always in the same bucket. Pushes append to a bucket, and a
//! redistribution scans its bucket in order and appends to buckets that were empty (all buckets
//! below the lowest non-empty one are empty), so within a bucket events stay in insertion order,
//! and `current` receives equal-time events in insertion order. The property tests check this
//! against a binary heap of `(time, sequence number)`.
//!
//! **The next event skips the heap.** A simulation often schedules the very next event it will
//! handle (a command reaching its shard a few µs on, before anything else is due). The queue
//! keeps one such event in a slot (`next`) beside the radix heap, always strictly earlier than
//! everything in the heap: an event pushed strictly earlier than everything pending goes to the
//! slot (its previous occupant, if any, goes to the heap, where nothing shares its time, so it
//! is first among its time); an event pushed at the slot's time sends the slot's occupant to
//! the heap and follows it there (FIFO); a later one goes to the heap. Popping takes the slot
//! first. The slot never moves the heap's base: only heap pops do.
//!
//! **One sequence for everything that is scheduled.** Every push takes the next number of a
//! sequence counter, stored with the event. A source of events that the caller keeps outside
//! the queue (the simulator's pending arrivals) takes its numbers from the same counter
//! (`take_seq`) and compares `(time, seq)` with `peek`, so equal times run in insertion order
//! across the queue and the outside source alike.
//!
//! **Never in the past.** Pushing an event earlier than the last pop is a bug in the caller and
//! panics in every build.
//!
//! Memory per pending event: the `u64` time, the `u64` sequence number and the payload (the
//! number and payload alone in `current`).
//! Bucket vectors keep their capacity after draining (high-water mark), which is what makes the
//! steady state allocation-free.

use std::collections::VecDeque;

use super::time::SimTime;

/// Number of radix buckets: one per bit position of a `u64` time.
const N_BUCKETS: usize = 64;

/// A queue of pending events of type `E`, popped in order of (time, insertion order).
///
/// Pushing an event earlier than [`EventQueue::now`] (the time of the last pop) is a bug in the
/// caller and panics in every build.
#[derive(Clone, Debug)]
pub struct EventQueue<E> {
    /// An event earlier than every other pending one (strictly), kept out of the heap.
    next: Option<(u64, u64, E)>,
    /// Events whose time equals `base_ns`, in insertion order, with their sequence numbers.
    current: VecDeque<(u64, E)>,
    /// `buckets[b]` holds the events whose time differs from `base_ns` first at bit `b`,
    /// in insertion order.
    buckets: [Vec<(u64, u64, E)>; N_BUCKETS],
    /// The smallest time in each bucket (`u64::MAX` when the bucket is empty).
    bucket_min_ns: [u64; N_BUCKETS],
    /// The sequence number of the first event pushed at `bucket_min_ns` into each bucket
    /// (a bucket holds its events in increasing sequence order).
    bucket_min_seq: [u64; N_BUCKETS],
    /// Bit `b` is set when `buckets[b]` is non-empty.
    nonempty_buckets: u64,
    /// The radix heap's base: the time of its last pop (zero before the first). Every time in
    /// the heap is at or above it.
    base_ns: u64,
    /// Time of the last pop from either the slot or the heap (zero before the first pop).
    now_ns: u64,
    /// Number of pending events.
    len: usize,
    /// The next sequence number (pushes and `take_seq` both take one).
    seq: u64,
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        EventQueue::new()
    }
}

impl<E> EventQueue<E> {
    /// An empty queue whose clock stands at time zero.
    pub fn new() -> EventQueue<E> {
        EventQueue {
            next: None,
            current: VecDeque::new(),
            buckets: std::array::from_fn(|_| Vec::new()),
            bucket_min_ns: [u64::MAX; N_BUCKETS],
            bucket_min_seq: [u64::MAX; N_BUCKETS],
            nonempty_buckets: 0,
            base_ns: 0,
            now_ns: 0,
            len: 0,
            seq: 0,
        }
    }

    /// Schedules `event` at time `at`. Events at equal times pop in the order they were pushed.
    ///
    /// `at` must not be earlier than [`EventQueue::now`]: that is a bug, and panics in every
    /// build.
    #[inline]
    pub fn push(&mut self, at: SimTime, event: E) {
        if at.0 < self.now_ns {
            scheduled_in_the_past(at.0, self.now_ns);
        }
        let at_ns = at.0;
        let seq = self.take_seq();
        self.len += 1;
        // Invariant: the slot's time is strictly below every time in the heap.
        match self.next.as_ref().map(|&(ns, _, _)| ns) {
            Some(next_ns) if at_ns < next_ns => {
                // The new event is the earliest: it takes the slot, whose occupant (below
                // everything in the heap, so first among its time there) goes to the heap.
                let (old_ns, old_seq, old) = self
                    .next
                    .replace((at_ns, seq, event))
                    .expect("slot is full");
                self.push_to_heap(old_ns, old_seq, old);
            }
            Some(next_ns) if at_ns == next_ns => {
                // Same time as the slot: both go to the heap, the slot's first (FIFO).
                let (old_ns, old_seq, old) = self.next.take().expect("slot is full");
                self.push_to_heap(old_ns, old_seq, old);
                self.push_to_heap(at_ns, seq, event);
            }
            Some(_) => self.push_to_heap(at_ns, seq, event),
            None if self.heap_is_empty() || at_ns < self.heap_min_ns() => {
                self.next = Some((at_ns, seq, event));
            }
            None => self.push_to_heap(at_ns, seq, event),
        }
    }

    /// Pushes into the radix heap (`at_ns >= base_ns`).
    #[inline]
    fn push_to_heap(&mut self, at_ns: u64, seq: u64, event: E) {
        if at_ns == self.base_ns {
            self.current.push_back((seq, event));
        } else {
            self.push_to_bucket(at_ns, seq, event);
        }
    }

    /// Takes the next sequence number for an event the caller keeps outside the queue, so
    /// that comparing `(time, seq)` with [`EventQueue::peek`] orders it among the queued
    /// events by insertion at equal times.
    #[inline]
    pub fn take_seq(&mut self) -> u64 {
        let seq = self.seq;
        self.seq += 1;
        seq
    }

    /// True when the radix heap (everything but the slot) is empty.
    #[inline]
    fn heap_is_empty(&self) -> bool {
        self.current.is_empty() && self.nonempty_buckets == 0
    }

    /// The earliest time in the radix heap (it must not be empty).
    #[inline]
    fn heap_min_ns(&self) -> u64 {
        if !self.current.is_empty() {
            self.base_ns
        } else {
            self.bucket_min_ns[self.nonempty_buckets.trailing_zeros() as usize]
        }
    }

    /// Removes and returns the earliest pending event with its time (among equal times, the one
    /// pushed first), advancing [`EventQueue::now`] to that time. `None` when nothing is pending.
    #[inline]
    pub fn pop(&mut self) -> Option<(SimTime, E)> {
        if let Some((at_ns, _, event)) = self.next.take() {
            // Earlier than everything in the heap, whose base stays where it is.
            self.now_ns = at_ns;
            self.len -= 1;
            return Some((SimTime(at_ns), event));
        }
        if self.current.is_empty() {
            if self.nonempty_buckets == 0 {
                return None;
            }
            let bucket = self.nonempty_buckets.trailing_zeros() as usize;
            if let [(at_ns, _, _)] = self.buckets[bucket][..] {
                // A bucket of one event: what a refill would leave (the base at its time,
                // the bucket empty) without passing the event through `current`.
                let (_, _, event) = self.buckets[bucket].pop().expect("one event");
                self.empty_bucket(bucket);
                self.base_ns = at_ns;
                self.now_ns = at_ns;
                self.len -= 1;
                return Some((SimTime(at_ns), event));
            }
            self.refill_current();
        }
        let (_, event) = self.current.pop_front()?;
        self.len -= 1;
        self.now_ns = self.base_ns;
        Some((SimTime(self.base_ns), event))
    }

    /// The time of the earliest pending event, without removing it. `None` when empty.
    #[inline]
    pub fn peek_time(&self) -> Option<SimTime> {
        self.peek().map(|(at, _)| at)
    }

    /// The time and sequence number of the earliest pending event (among equal times, the one
    /// pushed first), without removing it. `None` when empty.
    #[inline]
    pub fn peek(&self) -> Option<(SimTime, u64)> {
        if let Some((at_ns, seq, _)) = &self.next {
            Some((SimTime(*at_ns), *seq))
        } else if let Some((seq, _)) = self.current.front() {
            Some((SimTime(self.base_ns), *seq))
        } else if self.nonempty_buckets == 0 {
            None
        } else {
            let bucket = self.nonempty_buckets.trailing_zeros() as usize;
            Some((
                SimTime(self.bucket_min_ns[bucket]),
                self.bucket_min_seq[bucket],
            ))
        }
    }

    /// Number of pending events.
    #[inline]
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when no event is pending.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The current simulated time: the time of the last popped event (zero before the first pop).
    /// [`EventQueue::run_until`] does not move it past the last event it handled.
    #[inline]
    pub fn now(&self) -> SimTime {
        SimTime(self.now_ns)
    }

    /// Pops and handles, in order, every event with time `<= until`, including events the handler
    /// pushes while running (which must not be earlier than the time being handled). Returns the
    /// number of events handled. Events later than `until` stay pending, and [`EventQueue::now`]
    /// is left at the time of the last handled event.
    pub fn run_until(
        &mut self,
        until: SimTime,
        mut handler: impl FnMut(&mut EventQueue<E>, SimTime, E),
    ) -> usize {
        let mut handled = 0;
        while let Some(next) = self.peek_time() {
            if next > until {
                break;
            }
            let Some((at, event)) = self.pop() else {
                break;
            };
            handler(self, at, event);
            handled += 1;
        }
        handled
    }

    /// Appends an event with `at_ns > base_ns` to its bucket.
    #[inline]
    fn push_to_bucket(&mut self, at_ns: u64, seq: u64, event: E) {
        let bucket = bucket_of(at_ns, self.base_ns);
        self.buckets[bucket].push((at_ns, seq, event));
        // Equal times keep the earlier push's number: a bucket's sequence numbers increase.
        if at_ns < self.bucket_min_ns[bucket] {
            self.bucket_min_ns[bucket] = at_ns;
            self.bucket_min_seq[bucket] = seq;
        }
        self.nonempty_buckets |= 1 << bucket;
    }

    /// Marks bucket `bucket` empty (its vector is, or is about to be, drained).
    #[inline]
    fn empty_bucket(&mut self, bucket: usize) {
        self.nonempty_buckets &= !(1 << bucket);
        self.bucket_min_ns[bucket] = u64::MAX;
        self.bucket_min_seq[bucket] = u64::MAX;
    }

    /// Called with `current` empty and at least one bucket non-empty: advances `base_ns` to
    /// the smallest pending time and redistributes the lowest non-empty bucket, so that `current`
    /// holds every event at that time, in insertion order.
    fn refill_current(&mut self) {
        debug_assert!(self.current.is_empty() && self.nonempty_buckets != 0);
        let bucket = self.nonempty_buckets.trailing_zeros() as usize;
        let new_last_ns = self.bucket_min_ns[bucket];
        self.base_ns = new_last_ns;
        self.empty_bucket(bucket);
        let mut moving = std::mem::take(&mut self.buckets[bucket]);
        for (at_ns, seq, event) in moving.drain(..) {
            if at_ns == new_last_ns {
                self.current.push_back((seq, event));
            } else {
                // Lands strictly below `bucket`: those buckets are empty, so order is kept.
                self.push_to_bucket(at_ns, seq, event);
            }
        }
        // Give the drained vector (and its capacity) back to its bucket.
        self.buckets[bucket] = moving;
    }
}

#[cold]
#[inline(never)]
fn scheduled_in_the_past(at_ns: u64, now_ns: u64) -> ! {
    panic!("event scheduled in the past: at {at_ns} ns, now {now_ns} ns (a causality bug)")
}

/// The bucket of time `at_ns` relative to base `last_ns` (`at_ns != last_ns`): the index of the
/// highest bit in which they differ.
#[inline]
fn bucket_of(at_ns: u64, last_ns: u64) -> usize {
    debug_assert_ne!(at_ns, last_ns);
    (63 - (at_ns ^ last_ns).leading_zeros()) as usize
}

/// Result of [`bench_hold`]: wall-clock nanoseconds per pop-min + push pair.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct HoldBench {
    /// Pending events kept in the queue during the measurement.
    pub pending: usize,
    /// Timed pop + push pairs.
    pub ops: usize,
    /// Nanoseconds per pop + push with [`EventQueue`].
    pub ns_per_op_queue: f64,
    /// Nanoseconds per pop + push with `std::collections::BinaryHeap<Reverse<(time, seq, payload)>>`.
    pub ns_per_op_binary_heap: f64,
}

/// Mean increment of the hold benchmark: 1 ms in nanoseconds.
const HOLD_MEAN_INCREMENT_NS: f64 = 1_000_000.0;

/// The classic "hold" benchmark: fill a queue with `pending` events at exponential increments
/// (mean 1 ms) from a fixed-seed [`super::RngStream`], run `pending.min(ops)` untimed warm-up
/// operations, then time `ops` repetitions of pop-min + push(popped time + exponential increment).
/// Runs the same workload (same increments) on [`EventQueue<u64>`] and on a
/// `BinaryHeap<Reverse<(u64, u64, u64)>>` (time, sequence number, payload). This is the one place
/// in `engine` that reads the wall clock; meaningful only in release builds.
pub fn bench_hold(pending: usize, ops: usize, seed: u64) -> HoldBench {
    bench_hold_with_payload::<1>(pending, ops, seed)
}

/// [`bench_hold`] with a payload of `PAYLOAD_WORDS` `u64`s (8 bytes each), to see how the queues
/// behave with a payload the size of a real event.
pub fn bench_hold_with_payload<const PAYLOAD_WORDS: usize>(
    pending: usize,
    ops: usize,
    seed: u64,
) -> HoldBench {
    let increments_ns = hold_increments_ns(seed);
    HoldBench {
        pending,
        ops,
        ns_per_op_queue: hold_event_queue::<PAYLOAD_WORDS>(pending, ops, &increments_ns),
        ns_per_op_binary_heap: hold_binary_heap::<PAYLOAD_WORDS>(pending, ops, &increments_ns),
    }
}

/// A table of exponential increments, reused cyclically so that drawing them costs the same
/// (almost nothing) for every queue under test.
fn hold_increments_ns(seed: u64) -> Vec<u64> {
    let mut rng = super::RngStream::named(seed, "engine/queue/bench_hold");
    (0..4096)
        .map(|_| rng.exp(HOLD_MEAN_INCREMENT_NS) as u64)
        .collect()
}

fn hold_event_queue<const W: usize>(pending: usize, ops: usize, increments_ns: &[u64]) -> f64 {
    if pending == 0 {
        return f64::NAN;
    }
    let mask = increments_ns.len() - 1;
    let mut queue: EventQueue<[u64; W]> = EventQueue::new();
    let mut draw = 0usize;
    let mut fill_ns = 0u64;
    for payload in 0..pending as u64 {
        fill_ns += increments_ns[draw & mask];
        draw += 1;
        queue.push(SimTime(fill_ns), [payload; W]);
    }
    let mut checksum = 0u64;
    let mut hold = |queue: &mut EventQueue<[u64; W]>, n: usize| {
        for _ in 0..n {
            let (at, payload) = queue.pop().expect("hold keeps the queue non-empty");
            checksum = checksum.wrapping_add(payload[0]);
            queue.push(SimTime(at.0 + increments_ns[draw & mask]), payload);
            draw += 1;
        }
    };
    hold(&mut queue, pending.min(ops));
    let started = std::time::Instant::now();
    hold(&mut queue, ops);
    let elapsed = started.elapsed();
    std::hint::black_box(checksum);
    elapsed.as_nanos() as f64 / ops.max(1) as f64
}

fn hold_binary_heap<const W: usize>(pending: usize, ops: usize, increments_ns: &[u64]) -> f64 {
    use std::cmp::Reverse;
    use std::collections::BinaryHeap;
    type Entry<const W: usize> = Reverse<(u64, u64, [u64; W])>;
    if pending == 0 {
        return f64::NAN;
    }
    let mask = increments_ns.len() - 1;
    let mut heap: BinaryHeap<Entry<W>> = BinaryHeap::new();
    let mut draw = 0usize;
    let mut seq = 0u64;
    let mut fill_ns = 0u64;
    for payload in 0..pending as u64 {
        fill_ns += increments_ns[draw & mask];
        draw += 1;
        heap.push(Reverse((fill_ns, seq, [payload; W])));
        seq += 1;
    }
    let mut checksum = 0u64;
    let mut hold = |heap: &mut BinaryHeap<Entry<W>>, n: usize| {
        for _ in 0..n {
            let Reverse((at_ns, _, payload)) = heap.pop().expect("hold keeps the heap non-empty");
            checksum = checksum.wrapping_add(payload[0]);
            heap.push(Reverse((at_ns + increments_ns[draw & mask], seq, payload)));
            seq += 1;
            draw += 1;
        }
    };
    hold(&mut heap, pending.min(ops));
    let started = std::time::Instant::now();
    hold(&mut heap, ops);
    let elapsed = started.elapsed();
    std::hint::black_box(checksum);
    elapsed.as_nanos() as f64 / ops.max(1) as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::RngStream;
    use std::cmp::Reverse;
    use std::collections::BinaryHeap;

    /// The oracle: a binary heap of (time, sequence number); the payload is the sequence number.
    #[derive(Default)]
    struct Reference {
        heap: BinaryHeap<Reverse<(u64, u64)>>,
    }

    impl Reference {
        fn push(&mut self, at_ns: u64, seq: u64) {
            self.heap.push(Reverse((at_ns, seq)));
        }
        fn pop(&mut self) -> Option<(SimTime, u64)> {
            self.heap.pop().map(|Reverse((t, s))| (SimTime(t), s))
        }
        fn peek_time(&self) -> Option<SimTime> {
            self.heap.peek().map(|Reverse((t, _))| SimTime(*t))
        }
    }

    /// A time offset drawn so that many events share a time: the spread varies per workload.
    fn offset_ns(rng: &mut RngStream, spread_ns: u64) -> u64 {
        match rng.below(8) {
            0 => 0,
            1 => rng.below(1 << 40),
            _ => rng.below(spread_ns),
        }
    }

    const SPREADS_NS: [u64; 6] = [1, 2, 5, 64, 1_000, 1_000_000];

    #[test]
    fn empty_queue_pops_nothing() {
        let mut queue: EventQueue<u32> = EventQueue::new();
        assert!(queue.is_empty());
        assert_eq!(queue.len(), 0);
        assert_eq!(queue.pop(), None);
        assert_eq!(queue.peek_time(), None);
        assert_eq!(queue.now(), SimTime::ZERO);
        queue.push(SimTime(5), 1);
        assert_eq!(queue.pop(), Some((SimTime(5), 1)));
        assert_eq!(queue.pop(), None);
        assert_eq!(queue.pop(), None);
        assert_eq!(queue.now(), SimTime(5));
        assert!(queue.is_empty());
    }

    #[test]
    fn equal_times_pop_in_insertion_order() {
        let mut queue = EventQueue::new();
        // Pushed at different bases so equal-time events arrive through different paths.
        queue.push(SimTime(100), "a");
        queue.push(SimTime(3), "x");
        queue.push(SimTime(100), "b");
        assert_eq!(queue.pop(), Some((SimTime(3), "x")));
        queue.push(SimTime(100), "c");
        queue.push(SimTime(3), "y");
        queue.push(SimTime(100), "d");
        assert_eq!(queue.pop(), Some((SimTime(3), "y")));
        assert_eq!(queue.peek_time(), Some(SimTime(100)));
        assert_eq!(queue.pop(), Some((SimTime(100), "a")));
        queue.push(SimTime(100), "e");
        let rest: Vec<_> = std::iter::from_fn(|| queue.pop()).collect();
        let names: Vec<_> = rest.iter().map(|(_, n)| *n).collect();
        assert_eq!(names, ["b", "c", "d", "e"]);
    }

    #[test]
    fn the_next_event_slot_keeps_equal_times_fifo() {
        let mut queue = EventQueue::new();
        queue.push(SimTime(50), "far");
        queue.push(SimTime(10), "a"); // earliest: the slot
        queue.push(SimTime(10), "b"); // same time: a goes to the heap first, then b
        queue.push(SimTime(5), "c"); // earliest again
        queue.push(SimTime(7), "d"); // the slot's occupant c moves to the heap
        queue.push(SimTime(6), "e");
        let got: Vec<_> = std::iter::from_fn(|| queue.pop()).map(|(_, n)| n).collect();
        assert_eq!(got, ["c", "e", "d", "a", "b", "far"]);
        // The clock follows slot pops; later pushes may land between heap base and now.
        queue.push(SimTime(100), "x");
        queue.push(SimTime(60), "y");
        assert_eq!(queue.pop(), Some((SimTime(60), "y")));
        assert_eq!(queue.now(), SimTime(60));
        queue.push(SimTime(60), "z");
        queue.push(SimTime(80), "w");
        let got: Vec<_> = std::iter::from_fn(|| queue.pop()).map(|(_, n)| n).collect();
        assert_eq!(got, ["z", "w", "x"]);
    }

    #[test]
    fn extreme_times() {
        let mut queue = EventQueue::new();
        queue.push(SimTime::MAX, 2);
        queue.push(SimTime(0), 0);
        queue.push(SimTime(1 << 63), 1);
        queue.push(SimTime::MAX, 3);
        let got: Vec<_> = std::iter::from_fn(|| queue.pop()).collect();
        assert_eq!(
            got,
            [
                (SimTime(0), 0),
                (SimTime(1 << 63), 1),
                (SimTime::MAX, 2),
                (SimTime::MAX, 3)
            ]
        );
    }

    #[test]
    fn matches_reference_on_interleaved_push_pop() {
        for seed in 0..40u64 {
            for spread_ns in SPREADS_NS {
                let mut rng = RngStream::new(seed, spread_ns);
                let mut queue = EventQueue::new();
                let mut reference = Reference::default();
                let mut seq = 0u64;
                for _round in 0..60 {
                    let n_push = rng.below(40);
                    for _ in 0..n_push {
                        let at_ns = queue.now().0 + offset_ns(&mut rng, spread_ns);
                        queue.push(SimTime(at_ns), seq);
                        reference.push(at_ns, seq);
                        seq += 1;
                    }
                    let n_pop = rng.below(45);
                    for _ in 0..n_pop {
                        assert_eq!(queue.peek_time(), reference.peek_time());
                        let got = queue.pop();
                        assert_eq!(got, reference.pop(), "seed {seed} spread {spread_ns}");
                        assert_eq!(queue.len(), reference.heap.len());
                    }
                }
                while let Some(expected) = reference.pop() {
                    assert_eq!(queue.pop(), Some(expected));
                }
                assert_eq!(queue.pop(), None);
                assert!(queue.is_empty());
            }
        }
    }

    #[test]
    fn matches_reference_on_hold_model() {
        for seed in 0..10u64 {
            for spread_ns in SPREADS_NS {
                let mut rng = RngStream::new(seed, 1_000 + spread_ns);
                let mut queue = EventQueue::new();
                let mut reference = Reference::default();
                let mut seq = 0u64;
                for _ in 0..500 {
                    let at_ns = rng.below(spread_ns.max(2) * 4);
                    queue.push(SimTime(at_ns), seq);
                    reference.push(at_ns, seq);
                    seq += 1;
                }
                for _ in 0..5_000 {
                    let (at, payload) = reference.pop().unwrap();
                    assert_eq!(
                        queue.pop(),
                        Some((at, payload)),
                        "seed {seed} spread {spread_ns}"
                    );
                    let next_ns = at.0 + offset_ns(&mut rng, spread_ns);
                    queue.push(SimTime(next_ns), seq);
                    reference.push(next_ns, seq);
                    seq += 1;
                }
                while let Some(expected) = reference.pop() {
                    assert_eq!(queue.pop(), Some(expected));
                }
            }
        }
    }

    #[test]
    fn run_until_matches_reference() {
        for seed in 0..30u64 {
            for spread_ns in SPREADS_NS {
                // The queue and the reference see the same workload: same setup, and each
                // handled event draws its follow-ups from its own copy of the same stream.
                let mut rng = RngStream::new(seed, 2_000 + spread_ns);
                let mut queue = EventQueue::new();
                let mut reference = Reference::default();
                let mut seq = 0u64;
                for _ in 0..50 {
                    let at_ns = offset_ns(&mut rng, spread_ns);
                    queue.push(SimTime(at_ns), seq);
                    reference.push(at_ns, seq);
                    seq += 1;
                }
                let mut reference_seq = seq;
                let mut reference_rng = rng.clone();
                let mut until_ns = 0u64;
                for _step in 0..20 {
                    until_ns += rng.below(spread_ns * 8 + 1);
                    let _ = reference_rng.below(spread_ns * 8 + 1);
                    let mut handled = Vec::new();
                    let count = queue.run_until(SimTime(until_ns), |q, at, payload| {
                        assert_eq!(q.now(), at);
                        handled.push((at, payload));
                        // Each handled event spawns 0..2 more, some at the same time.
                        for _ in 0..rng.below(3) {
                            let next = at.0 + offset_ns(&mut rng, spread_ns);
                            q.push(SimTime(next), seq);
                            seq += 1;
                        }
                    });
                    let mut expected = Vec::new();
                    while reference.peek_time().is_some_and(|t| t.0 <= until_ns) {
                        let (at, payload) = reference.pop().unwrap();
                        expected.push((at, payload));
                        for _ in 0..reference_rng.below(3) {
                            let next = at.0 + offset_ns(&mut reference_rng, spread_ns);
                            reference.push(next, reference_seq);
                            reference_seq += 1;
                        }
                    }
                    assert_eq!(handled, expected, "seed {seed} spread {spread_ns}");
                    assert_eq!(count, expected.len());
                    assert_eq!(queue.peek_time(), reference.peek_time());
                    assert!(queue.peek_time().is_none_or(|t| t.0 > until_ns));
                }
            }
        }
    }

    #[test]
    #[should_panic(expected = "scheduled in the past")]
    fn pushing_into_the_past_panics_in_every_build() {
        let mut queue = EventQueue::new();
        queue.push(SimTime(10), ());
        queue.pop();
        queue.push(SimTime(9), ());
    }

    /// An outside source (one pending item, like the simulator's arrivals) that takes its
    /// sequence numbers from the queue, merged by `(time, seq)` with `peek`, pops in the same
    /// order as a binary heap of `(time, sequence number)` holding both.
    #[test]
    fn outside_events_tie_with_queued_ones_in_insertion_order() {
        for seed in 0..20u64 {
            let mut rng = RngStream::new(seed, 3);
            let mut queue = EventQueue::new();
            let mut reference = BinaryHeap::new();
            // (time, seq) of the one outside item; payload u64::MAX marks it.
            let mut outside = None;
            let mut now = 0u64;
            let mut order = Vec::new();
            let mut expected = Vec::new();
            let mut id = 0u64;
            for _ in 0..2_000 {
                // Schedule: coarse times so that ties are common.
                for _ in 0..rng.below(3) {
                    let at = now + rng.below(4) * 10;
                    if outside.is_none() && rng.below(2) == 0 {
                        let seq = queue.take_seq();
                        outside = Some((at, seq));
                        reference.push(Reverse((at, seq, u64::MAX)));
                    } else {
                        let seq_before = queue.seq;
                        queue.push(SimTime(at), id);
                        reference.push(Reverse((at, seq_before, id)));
                        id += 1;
                    }
                }
                // Handle the earliest of the queue and the outside item.
                let queued = queue.peek().map(|(t, s)| (t.0, s));
                let take_outside = match (outside, queued) {
                    (Some(o), Some(q)) => o < q,
                    (Some(_), None) => true,
                    _ => false,
                };
                if take_outside {
                    let (at, _) = outside.take().expect("checked");
                    now = at;
                    order.push(u64::MAX);
                } else if let Some((t, e)) = queue.pop() {
                    now = t.0;
                    order.push(e);
                } else {
                    continue;
                }
                let Reverse((_, _, e)) = reference.pop().expect("same contents");
                expected.push(e);
            }
            assert_eq!(order, expected, "seed {seed}");
        }
    }

    #[test]
    fn bench_hold_runs() {
        let result = bench_hold(100, 1_000, 1);
        assert!(result.ns_per_op_queue > 0.0 && result.ns_per_op_binary_heap > 0.0);
    }
}
