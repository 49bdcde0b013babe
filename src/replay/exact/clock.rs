//! Exact CLOCK (second chance, one reference bit) with libCacheSim's semantics (its `clock`
//! with the default 1-bit counter): new objects go to the head with the bit clear; a hit sets
//! the bit; eviction looks at the tail: a set bit is cleared and the object moved to the head,
//! the first object found with a clear bit is evicted.

use super::list::{List, Probe, Store};
use crate::replay::{EndFigures, ReplayCache};
use crate::workload::trace::TraceRequest;

/// Exact CLOCK cache.
pub struct ClockCache {
    store: Store,
    queue: List,
}

impl ClockCache {
    /// An empty CLOCK cache of `capacity` bytes, or objects when `ignore_obj_size`.
    pub fn new(capacity: u64, ignore_obj_size: bool) -> ClockCache {
        ClockCache {
            store: Store::new(capacity, ignore_obj_size),
            queue: List::default(),
        }
    }

    fn evict_one(&mut self) {
        let nodes = &mut self.store.nodes;
        let mut idx = self.queue.tail;
        while nodes[idx as usize].flags != 0 {
            nodes[idx as usize].flags = 0;
            self.queue.move_to_head(nodes, idx);
            idx = self.queue.tail;
        }
        self.queue.unlink(nodes, idx);
        self.store.count_eviction();
        self.store.release(idx, true);
    }
}

impl ReplayCache for ClockCache {
    #[inline]
    fn access(&mut self, req: &TraceRequest, now_ms: u64) -> bool {
        match self.store.probe(req.obj_id, now_ms) {
            Probe::Found(idx) => {
                self.store.nodes[idx as usize].flags = 1;
                return true;
            }
            Probe::Expired(idx) => {
                self.queue.unlink(&mut self.store.nodes, idx);
                self.store.count_expiry();
                self.store.release(idx, true);
            }
            Probe::Absent => {}
        }
        let size = self.store.size_of(req);
        if size <= self.store.capacity {
            while self.store.used + size > self.store.capacity {
                self.evict_one();
            }
            let idx = self.store.alloc(req, size, now_ms, true);
            self.queue.push_head(&mut self.store.nodes, idx);
        }
        false
    }

    fn end_figures(&self) -> EndFigures {
        self.store.end_figures()
    }
}
