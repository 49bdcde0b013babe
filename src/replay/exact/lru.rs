//! Exact LRU with libCacheSim's semantics: a hit moves the object to the head, a miss inserts it
//! at the head (if it fits in the cache at all) after evicting from the tail until it fits.

use super::list::{insert_evicting_tail, List, Probe, Store};
use crate::replay::{EndFigures, ReplayCache};
use crate::workload::trace::TraceRequest;

/// Exact least-recently-used cache.
pub struct LruCache {
    store: Store,
    queue: List,
}

impl LruCache {
    /// An empty LRU of `capacity` bytes, or objects when `ignore_obj_size`.
    pub fn new(capacity: u64, ignore_obj_size: bool) -> LruCache {
        LruCache {
            store: Store::new(capacity, ignore_obj_size),
            queue: List::default(),
        }
    }
}

impl LruCache {
    /// Looks `obj_id` up without inserting: a hit moves it to the head; an expired object is
    /// removed (counted as expired). For caches filled apart from lookups (a local L1).
    pub fn lookup(&mut self, obj_id: u64, now_ms: u64) -> bool {
        match self.store.probe(obj_id, now_ms) {
            Probe::Found(idx) => {
                self.queue.move_to_head(&mut self.store.nodes, idx);
                true
            }
            Probe::Expired(idx) => {
                self.queue.unlink(&mut self.store.nodes, idx);
                self.store.count_expiry();
                self.store.release(idx, true);
                false
            }
            Probe::Absent => false,
        }
    }

    /// Inserts (or replaces) the object of `req` at the head, with its TTL from `now_ms`.
    pub fn insert(&mut self, req: &TraceRequest, now_ms: u64) {
        if let Some(idx) = self.store.lookup(req.obj_id) {
            self.queue.unlink(&mut self.store.nodes, idx);
            self.store.release(idx, true);
        }
        insert_evicting_tail(&mut self.store, &mut self.queue, req, now_ms);
    }
}

impl ReplayCache for LruCache {
    #[inline]
    fn access(&mut self, req: &TraceRequest, now_ms: u64) -> bool {
        match self.store.probe(req.obj_id, now_ms) {
            Probe::Found(idx) => {
                self.queue.move_to_head(&mut self.store.nodes, idx);
                return true;
            }
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
