//! Exact S3-FIFO (Yang et al., SOSP'23) following libCacheSim's current `S3FIFO` with its
//! defaults: a small FIFO of `floor(0.10 * capacity)`, a main FIFO of the rest, and a ghost FIFO
//! of `floor(0.90 * capacity)` remembering ids evicted from the small FIFO.
//!
//! - Hit (small or main): the object's frequency goes up by one (kept up to 3, which is all the
//!   rules below can tell apart).
//! - Miss: the object is admitted only if its size is at most the small FIFO's capacity (and the
//!   cache's). Evict until it fits, then insert with frequency 0: into main if the id was in the
//!   ghost (the ghost entry is dropped at the lookup), else into small, except that before the
//!   first eviction a full small FIFO sends new objects to main. An object exactly as large as
//!   the small FIFO still triggers the evictions but is not inserted (libCacheSim's rule).
//! - Eviction: from main if main holds more than its share or small is empty, else from small.
//!   Small: the oldest object moves to main (frequency reset to 0) if its frequency is >= 2,
//!   and the scan goes on; otherwise it is evicted into the ghost and the eviction ends. Main:
//!   the oldest object with frequency f >= 1 goes back to the head with `min(f, 3) - 1`;
//!   otherwise it is evicted and the eviction ends. The ghost evicts its own oldest ids to stay
//!   within its capacity (counting the objects' sizes).
//!
//! TTL (our choice where libCacheSim's TTL build is unclear): an object keeps its insert-time
//! expiry when it moves between the FIFOs; ghost entries never expire.

use super::list::{List, Store, NIL};
use crate::replay::{EndFigures, ReplayCache};
use crate::workload::trace::TraceRequest;

/// Which FIFO a node is on (stored above the frequency bits of `Node::flags`).
const IN_SMALL: u32 = 0 << 8;
const IN_MAIN: u32 = 1 << 8;
const IN_GHOST: u32 = 2 << 8;
const WHERE_MASK: u32 = 0xff << 8;
const FREQ_MASK: u32 = 0xff;
/// Largest frequency kept.
const FREQ_MAX: u32 = 3;

/// Exact S3-FIFO cache.
pub struct S3FifoCache {
    store: Store,
    small: List,
    main: List,
    ghost: List,
    small_capacity: u64,
    main_capacity: u64,
    ghost_capacity: u64,
    /// Whether any eviction has happened yet.
    has_evicted: bool,
}

impl S3FifoCache {
    /// An empty S3-FIFO of `capacity` bytes, or objects when `ignore_obj_size`.
    pub fn new(capacity: u64, ignore_obj_size: bool) -> S3FifoCache {
        let small_capacity = (capacity as f64 * 0.10) as u64;
        S3FifoCache {
            store: Store::new(capacity, ignore_obj_size),
            small: List::default(),
            main: List::default(),
            ghost: List::default(),
            small_capacity,
            main_capacity: capacity - small_capacity,
            ghost_capacity: (capacity as f64 * 0.90) as u64,
            has_evicted: false,
        }
    }

    fn evict(&mut self) {
        self.has_evicted = true;
        if self.main.size_sum > self.main_capacity || self.small.size_sum == 0 {
            self.evict_main();
        } else {
            self.evict_small();
        }
    }

    fn evict_small(&mut self) {
        while self.small.size_sum > 0 {
            let idx = self.small.tail;
            self.small.unlink(&mut self.store.nodes, idx);
            let node = &mut self.store.nodes[idx as usize];
            if node.flags & FREQ_MASK >= 2 {
                node.flags = IN_MAIN;
                self.main.push_head(&mut self.store.nodes, idx);
                continue;
            }
            let size = node.size as u64;
            if self.ghost_capacity > 0 && size <= self.ghost_capacity {
                while self.ghost.size_sum + size > self.ghost_capacity {
                    let old = self.ghost.tail;
                    self.ghost.unlink(&mut self.store.nodes, old);
                    self.store.release(old, false);
                }
                self.store.evict_to_ghost(idx);
                self.store.nodes[idx as usize].flags = IN_GHOST;
                self.ghost.push_head(&mut self.store.nodes, idx);
            } else {
                self.store.count_eviction();
                self.store.release(idx, true);
            }
            return;
        }
    }

    fn evict_main(&mut self) {
        while self.main.size_sum > 0 {
            let idx = self.main.tail;
            let freq = self.store.nodes[idx as usize].flags & FREQ_MASK;
            if freq >= 1 {
                self.main.move_to_head(&mut self.store.nodes, idx);
                self.store.nodes[idx as usize].flags = IN_MAIN | (freq.min(FREQ_MAX) - 1);
            } else {
                self.main.unlink(&mut self.store.nodes, idx);
                self.store.count_eviction();
                self.store.release(idx, true);
                return;
            }
        }
    }
}

impl ReplayCache for S3FifoCache {
    fn access(&mut self, req: &TraceRequest, now_ms: u64) -> bool {
        let mut hit_on_ghost = false;
        if let Some(idx) = self.store.lookup(req.obj_id) {
            let node = self.store.nodes[idx as usize];
            let place = node.flags & WHERE_MASK;
            if place == IN_GHOST {
                self.ghost.unlink(&mut self.store.nodes, idx);
                self.store.release(idx, false);
                hit_on_ghost = true;
            } else if node.expiry_ms < now_ms {
                let list = if place == IN_SMALL {
                    &mut self.small
                } else {
                    &mut self.main
                };
                list.unlink(&mut self.store.nodes, idx);
                self.store.count_expiry();
                self.store.release(idx, true);
            } else {
                let freq = (node.flags & FREQ_MASK).saturating_add(1).min(FREQ_MAX);
                self.store.nodes[idx as usize].flags = place | freq;
                return true;
            }
        }
        let size = self.store.size_of(req);
        if size > self.small_capacity || size > self.store.capacity {
            return false;
        }
        while self.store.used + size > self.store.capacity {
            debug_assert!(self.small.tail != NIL || self.main.tail != NIL);
            self.evict();
        }
        let to_main = if hit_on_ghost {
            true
        } else if size >= self.small_capacity {
            return false;
        } else {
            !self.has_evicted && self.small.size_sum >= self.small_capacity
        };
        let idx = self.store.alloc(req, size, now_ms, true);
        if to_main {
            self.store.nodes[idx as usize].flags = IN_MAIN;
            self.main.push_head(&mut self.store.nodes, idx);
        } else {
            self.store.nodes[idx as usize].flags = IN_SMALL;
            self.small.push_head(&mut self.store.nodes, idx);
        }
        false
    }

    fn end_figures(&self) -> EndFigures {
        self.store.end_figures()
    }
}
