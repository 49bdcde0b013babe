//! Counting after the warm-up, in one place: a request is counted when it began at or after
//! the end of the warm-up (`Request::counted`), and everything it causes counts with it (its
//! write-back, its background refresh, a retry's own start). Handlers count through
//! `Counters::of(&request)`, which hands them the keyspace's counters or, for a request of the
//! warm-up, a scratch set nobody reads; the latency and stampede recorders work the same way.

use super::request::Request;
use crate::metrics::{KeyspaceMetrics, LatencyRecorder, LATENCY_HIGHEST_US, LATENCY_SIGFIG};

/// The counters and recorders of a plan's keyspaces after the warm-up.
pub(super) struct Counters {
    keyspaces: Vec<KeyspaceMetrics>,
    /// Where the warm-up's counts go; never read.
    warmup: KeyspaceMetrics,
    /// Per keyspace: end-to-end and Redis latencies (µs), turned into the metrics'
    /// HdrHistograms at the end.
    latency_us: Vec<LatencyRecorder>,
    redis_latency_us: Vec<LatencyRecorder>,
    /// Per keyspace: recomputations per expiry of a key (stampede sizes).
    stampede_size: Vec<LatencyRecorder>,
}

impl Counters {
    /// Zeroed counters of `n_ks` keyspaces.
    pub(super) fn new(n_ks: usize) -> Counters {
        let recorders = || {
            (0..n_ks)
                .map(|_| LatencyRecorder::new(LATENCY_HIGHEST_US, LATENCY_SIGFIG))
                .collect()
        };
        Counters {
            keyspaces: (0..n_ks).map(|_| KeyspaceMetrics::default()).collect(),
            warmup: KeyspaceMetrics::default(),
            latency_us: recorders(),
            redis_latency_us: recorders(),
            stampede_size: (0..n_ks)
                .map(|_| LatencyRecorder::new(1 << 40, 3))
                .collect(),
        }
    }

    /// The counters request `r`'s events count in.
    #[inline]
    pub(super) fn of(&mut self, r: &Request) -> &mut KeyspaceMetrics {
        self.keyspace(r.ks as usize, r.counted())
    }

    /// Keyspace `ks`'s counters when `counted`, else the warm-up's scratch set.
    #[inline]
    pub(super) fn keyspace(&mut self, ks: usize, counted: bool) -> &mut KeyspaceMetrics {
        if counted {
            &mut self.keyspaces[ks]
        } else {
            &mut self.warmup
        }
    }

    /// Records request `r`'s end-to-end latency (µs).
    #[inline]
    pub(super) fn latency(&mut self, r: &Request, us: u64) {
        if r.counted() {
            self.latency_us[r.ks as usize].record(us);
        }
    }

    /// Records how long request `r`'s Redis call took (µs), answered or timed out.
    #[inline]
    pub(super) fn redis_latency(&mut self, r: &Request, us: u64) {
        if r.counted() {
            self.redis_latency_us[r.ks as usize].record(us);
        }
    }

    /// Records a stampede episode of `size` loads closed by request `r`'s write-back.
    pub(super) fn stampede(&mut self, r: &Request, size: u32) {
        if r.counted() {
            self.stampede_size[r.ks as usize].record(size as u64);
        }
    }

    /// The keyspaces' counters with their histograms.
    pub(super) fn finish(self) -> Vec<KeyspaceMetrics> {
        let mut keyspaces = self.keyspaces;
        for (k, m) in keyspaces.iter_mut().enumerate() {
            m.latency_us = self.latency_us[k].histogram();
            m.redis_latency_us = self.redis_latency_us[k].histogram();
            m.stampede_size = self.stampede_size[k].histogram();
        }
        keyspaces
    }
}
