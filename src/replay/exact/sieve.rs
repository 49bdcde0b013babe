//! Exact SIEVE (Zhang et al., NSDI'24) with libCacheSim's semantics: new objects go to the head
//! unvisited; a hit sets the visited bit; eviction moves a hand from where it last stopped (the
//! tail at first) towards the head, clearing visited bits, and evicts the first unvisited object;
//! the hand then rests on that object's head-side neighbour, wrapping to the tail past the head.

use super::list::{List, Probe, Store, NIL};
use crate::replay::{EndFigures, ReplayCache};
use crate::workload::trace::TraceRequest;

/// Exact SIEVE cache.
pub struct SieveCache {
    store: Store,
    queue: List,
    /// Next object the hand examines; `NIL` = start from the tail.
    hand: u32,
}

impl SieveCache {
    /// An empty SIEVE cache of `capacity` bytes, or objects when `ignore_obj_size`.
    pub fn new(capacity: u64, ignore_obj_size: bool) -> SieveCache {
        SieveCache {
            store: Store::new(capacity, ignore_obj_size),
            queue: List::default(),
            hand: NIL,
        }
    }

    fn evict_one(&mut self) {
        let nodes = &mut self.store.nodes;
        let mut idx = if self.hand == NIL {
            self.queue.tail
        } else {
            self.hand
        };
        while nodes[idx as usize].flags != 0 {
            nodes[idx as usize].flags = 0;
            let prev = nodes[idx as usize].prev;
            idx = if prev == NIL { self.queue.tail } else { prev };
        }
        self.hand = nodes[idx as usize].prev;
        self.queue.unlink(nodes, idx);
        self.store.count_eviction();
        self.store.release(idx, true);
    }
}

impl ReplayCache for SieveCache {
    #[inline]
    fn access(&mut self, req: &TraceRequest, now_ms: u64) -> bool {
        match self.store.probe(req.obj_id, now_ms) {
            Probe::Found(idx) => {
                self.store.nodes[idx as usize].flags = 1;
                return true;
            }
            Probe::Expired(idx) => {
                if self.hand == idx {
                    self.hand = self.store.nodes[idx as usize].prev;
                }
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
