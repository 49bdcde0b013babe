//! What a strategy reads from a cached value and how stampedes are measured: the value's
//! envelope (soft expiry, hard expiry, XFetch's delta) and the tracker that counts
//! recomputations per expiry of a key.

use crate::engine::IdMap;
use crate::engine::SimTime;

/// What the application wrote inside a cached value (its envelope): when it was computed,
/// its soft and hard expiry, and how long the recompute took.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ValueMeta {
    /// Soft expiry (stale-while-revalidate, refresh-ahead).
    pub soft_expiry: SimTime,
    /// Hard expiry (the Redis TTL).
    pub expiry: SimTime,
    /// Duration of the recompute that produced it (XFetch's delta).
    pub delta: SimTime,
}

/// Counts recomputations per expiry of a key: an episode opens at the first origin load of a
/// key with no episode open, every further load of that key joins it, and the write-back that
/// lands in Redis closes it, recording its size.
#[derive(Default)]
pub struct StampedeTracker {
    open: IdMap<u64, u32>,
}

impl StampedeTracker {
    /// A load of `key_id` starts.
    pub fn load_started(&mut self, key_id: u64) {
        *self.open.entry(key_id).or_insert(0) += 1;
    }

    /// The value of `key_id` was written; returns the closed episode's size.
    pub fn written(&mut self, key_id: u64) -> Option<u32> {
        self.open.remove(&key_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_episode_counts_the_loads_until_the_write() {
        let mut s = StampedeTracker::default();
        s.load_started(7);
        s.load_started(7);
        assert_eq!(s.written(7), Some(2));
        assert_eq!(s.written(7), None);
    }
}
