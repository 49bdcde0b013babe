//! Exact FIFO with libCacheSim's semantics: a hit changes nothing, a miss inserts the object at
//! the head (if it fits in the cache at all) after evicting from the tail until it fits.

use super::list::{insert_evicting_tail, List, Probe, Store};
use crate::replay::{EndFigures, ReplayCache};
use crate::workload::trace::TraceRequest;

/// Exact first-in-first-out cache.
pub struct FifoCache {
    store: Store,
    queue: List,
}

impl FifoCache {
    /// An empty FIFO of `capacity` bytes, or objects when `ignore_obj_size`.
    pub fn new(capacity: u64, ignore_obj_size: bool) -> FifoCache {
        FifoCache {
            store: Store::new(capacity, ignore_obj_size),
            queue: List::default(),
        }
    }
}

impl ReplayCache for FifoCache {
    #[inline]
    fn access(&mut self, req: &TraceRequest, now_ms: u64) -> bool {
        match self.store.probe(req.obj_id, now_ms) {
            Probe::Found(_) => return true,
            Probe::Expired(idx) => {
                self.queue.unlink(&mut self.store.nodes, idx);
                self.store.count_expiry();
                self.store.release(idx, true);
            }
            Probe::Absent => {}
        }
        insert_evicting_tail(&mut self.store, &mut self.queue, req, now_ms);
        false
    }

    fn end_figures(&self) -> EndFigures {
        self.store.end_figures()
    }
}
