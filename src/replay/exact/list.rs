//! The object store shared by the exact policies: a slab of fixed-size nodes in one `Vec`
//! (freed nodes chained into a free list and reused), intrusive doubly linked lists threaded
//! through the slab with `u32` links, and `Store`, which couples the slab to the `IdTable`
//! and keeps the capacity, the bytes (or objects) used and the eviction/expiry counters.
//! Policies own the list order and decide whom to evict; `Store` owns the bookkeeping.

use super::table::IdTable;
use crate::replay::EndFigures;
use crate::workload::trace::TraceRequest;

/// The null link.
pub(crate) const NIL: u32 = u32::MAX;
/// `expiry_ms` of an object without TTL.
pub(crate) const NO_EXPIRY_MS: u64 = u64::MAX;

/// One cached (or, for ghost lists, remembered) object.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Node {
    /// Object id.
    pub(crate) obj_id: u64,
    /// Absolute trace time (ms) after which the object is expired; `NO_EXPIRY_MS` for none.
    pub(crate) expiry_ms: u64,
    /// Size charged at insert (bytes, or 1 when sizes are ignored).
    pub(crate) size: u32,
    /// Link towards the head.
    pub(crate) prev: u32,
    /// Link towards the tail (also the free-list link).
    pub(crate) next: u32,
    /// Policy-specific bits (visited bit, frequency, which list).
    pub(crate) flags: u32,
}

/// A doubly linked list threaded through the slab: head = most recent end.
#[derive(Clone, Copy, Debug)]
pub(crate) struct List {
    pub(crate) head: u32,
    pub(crate) tail: u32,
    pub(crate) len: u64,
    /// Sum of the sizes of the members.
    pub(crate) size_sum: u64,
}

impl Default for List {
    fn default() -> List {
        List {
            head: NIL,
            tail: NIL,
            len: 0,
            size_sum: 0,
        }
    }
}

impl List {
    /// Links `idx` (not in any list) at the head.
    #[inline]
    pub(crate) fn push_head(&mut self, nodes: &mut [Node], idx: u32) {
        let old_head = self.head;
        {
            let node = &mut nodes[idx as usize];
            node.prev = NIL;
            node.next = old_head;
            self.size_sum += node.size as u64;
        }
        if old_head == NIL {
            self.tail = idx;
        } else {
            nodes[old_head as usize].prev = idx;
        }
        self.head = idx;
        self.len += 1;
    }

    /// Unlinks member `idx`.
    #[inline]
    pub(crate) fn unlink(&mut self, nodes: &mut [Node], idx: u32) {
        let Node {
            prev, next, size, ..
        } = nodes[idx as usize];
        if prev == NIL {
            self.head = next;
        } else {
            nodes[prev as usize].next = next;
        }
        if next == NIL {
            self.tail = prev;
        } else {
            nodes[next as usize].prev = prev;
        }
        self.len -= 1;
        self.size_sum -= size as u64;
    }

    /// Moves member `idx` to the head.
    #[inline]
    pub(crate) fn move_to_head(&mut self, nodes: &mut [Node], idx: u32) {
        if self.head != idx {
            self.unlink(nodes, idx);
            self.push_head(nodes, idx);
        }
    }
}

/// How a lookup went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Probe {
    /// Resident and live.
    Found(u32),
    /// Resident but past its expiry: the policy must unlink it and call `Store::expire`.
    Expired(u32),
    /// Not resident.
    Absent,
}

/// Slab + id table + accounting: everything but the replacement order.
pub(crate) struct Store {
    pub(crate) nodes: Vec<Node>,
    free_head: u32,
    table: IdTable,
    /// Capacity in bytes, or in objects when sizes are ignored.
    pub(crate) capacity: u64,
    /// Bytes (or objects) held by resident objects.
    pub(crate) used: u64,
    ignore_obj_size: bool,
    evicted_keys: u64,
    expired_keys: u64,
    /// Number of resident (non-ghost) objects.
    n_resident: u64,
}

impl Store {
    /// An empty store of `capacity` bytes (objects when `ignore_obj_size`).
    pub(crate) fn new(capacity: u64, ignore_obj_size: bool) -> Store {
        // In object mode the peak population is known; in byte mode start small and grow.
        let expected = if ignore_obj_size {
            capacity.min(1 << 24) as usize
        } else {
            1024
        };
        Store {
            nodes: Vec::with_capacity(expected),
            free_head: NIL,
            table: IdTable::with_expected(expected),
            capacity,
            used: 0,
            ignore_obj_size,
            evicted_keys: 0,
            expired_keys: 0,
            n_resident: 0,
        }
    }

    /// The size a request is charged at insert.
    #[inline]
    pub(crate) fn size_of(&self, req: &TraceRequest) -> u64 {
        if self.ignore_obj_size {
            1
        } else {
            req.obj_size as u64
        }
    }

    /// Looks `obj_id` up at time `now_ms` (libCacheSim's convention: an object is expired when
    /// its expiry time is strictly before now, so it is still served at its expiry instant).
    #[inline]
    pub(crate) fn probe(&self, obj_id: u64, now_ms: u64) -> Probe {
        match self.table.get(obj_id) {
            None => Probe::Absent,
            Some(idx) => {
                if self.nodes[idx as usize].expiry_ms < now_ms {
                    Probe::Expired(idx)
                } else {
                    Probe::Found(idx)
                }
            }
        }
    }

    /// The slab index of `obj_id` (resident or ghost), without expiry checks.
    #[inline]
    pub(crate) fn lookup(&self, obj_id: u64) -> Option<u32> {
        self.table.get(obj_id)
    }

    /// Allocates and indexes a node for `req`, charged `size`; the caller links it.
    /// `resident` = false makes a ghost entry (indexed, not charged).
    #[inline]
    pub(crate) fn alloc(
        &mut self,
        req: &TraceRequest,
        size: u64,
        now_ms: u64,
        resident: bool,
    ) -> u32 {
        let ttl_ms = req.insert_ttl_ms();
        let expiry_ms = if ttl_ms > 0 {
            now_ms.saturating_add(ttl_ms)
        } else {
            NO_EXPIRY_MS
        };
        let node = Node {
            obj_id: req.obj_id,
            expiry_ms,
            size: size as u32,
            prev: NIL,
            next: NIL,
            flags: 0,
        };
        let idx = if self.free_head != NIL {
            let idx = self.free_head;
            self.free_head = self.nodes[idx as usize].next;
            self.nodes[idx as usize] = node;
            idx
        } else {
            let idx = self.nodes.len();
            assert!(
                idx < NIL as usize,
                "exact cache: more than 2^32-1 objects held"
            );
            self.nodes.push(node);
            idx as u32
        };
        self.table.insert_new(req.obj_id, idx);
        if resident {
            self.used += size;
            self.n_resident += 1;
        }
        idx
    }

    /// Forgets node `idx` (already unlinked by the caller); `resident` says whether it was charged.
    #[inline]
    pub(crate) fn release(&mut self, idx: u32, resident: bool) {
        let node = self.nodes[idx as usize];
        self.table.remove(node.obj_id);
        if resident {
            self.used -= node.size as u64;
            self.n_resident -= 1;
        }
        self.nodes[idx as usize].next = self.free_head;
        self.free_head = idx;
    }

    /// Stops charging resident node `idx` but keeps it indexed (it becomes a ghost), counting an eviction.
    #[inline]
    pub(crate) fn evict_to_ghost(&mut self, idx: u32) {
        self.used -= self.nodes[idx as usize].size as u64;
        self.n_resident -= 1;
        self.evicted_keys += 1;
    }

    /// Counts one eviction (the caller then releases or ghosts the node).
    #[inline]
    pub(crate) fn count_eviction(&mut self) {
        self.evicted_keys += 1;
    }

    /// Counts one expiry (the caller then releases the node).
    #[inline]
    pub(crate) fn count_expiry(&mut self) {
        self.expired_keys += 1;
    }

    /// Figures at the end of a replay.
    pub(crate) fn end_figures(&self) -> EndFigures {
        EndFigures {
            evicted_keys: Some(self.evicted_keys),
            expired_keys: Some(self.expired_keys),
            keys_end: Some(self.n_resident),
            used_memory_end: Some(self.used),
            rejected_writes: None,
        }
    }
}

/// The miss path of the plain queue policies (LRU, FIFO): if `req` fits in the cache at all,
/// evicts from the tail of `queue` until it fits, then links it at the head.
#[inline]
pub(crate) fn insert_evicting_tail(
    store: &mut Store,
    queue: &mut List,
    req: &TraceRequest,
    now_ms: u64,
) {
    let size = store.size_of(req);
    if size > store.capacity {
        return;
    }
    while store.used + size > store.capacity {
        let victim = queue.tail;
        debug_assert!(victim != NIL, "used > 0 implies a resident object");
        queue.unlink(&mut store.nodes, victim);
        store.count_eviction();
        store.release(victim, true);
    }
    let idx = store.alloc(req, size, now_ms, true);
    queue.push_head(&mut store.nodes, idx);
}
