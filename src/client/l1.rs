//! A local in-process cache (L1) per application instance: an exact LRU of keys whose copies
//! live a TTL in milliseconds. A copy is still served at its expiry instant and found expired
//! after it (libCacheSim's convention, as the replay caches); an expired copy keeps its slot
//! until it is looked up or is the least recently used.

use crate::engine::IdMap;
use crate::engine::SimTime;

const NIL: u32 = u32::MAX;

#[derive(Clone, Copy, Debug)]
struct Entry {
    key_id: u64,
    expiry_ms: u64,
    /// Towards the most recently used end.
    prev: u32,
    /// Towards the least recently used end.
    next: u32,
}

/// One instance's L1: at most `capacity_keys` copies, each living `ttl_ms`.
pub struct LocalCache {
    capacity_keys: u64,
    ttl_ms: u64,
    index: IdMap<u64, u32>,
    entries: Vec<Entry>,
    free: Vec<u32>,
    /// Most recently used.
    head: u32,
    /// Least recently used.
    tail: u32,
}

impl LocalCache {
    /// A local cache of `capacity_keys` keys whose copies live `ttl` (at least 1 ms).
    pub fn new(capacity_keys: u64, ttl: SimTime) -> LocalCache {
        LocalCache {
            capacity_keys,
            ttl_ms: ttl.as_ms().max(1),
            index: IdMap::default(),
            entries: Vec::new(),
            free: Vec::new(),
            head: NIL,
            tail: NIL,
        }
    }

    /// True when `key_id` holds a live copy at `now` (it becomes the most recently used); an
    /// expired copy is dropped.
    pub fn get(&mut self, key_id: u64, now: SimTime) -> bool {
        let Some(&idx) = self.index.get(&key_id) else {
            return false;
        };
        self.unlink(idx);
        if self.entries[idx as usize].expiry_ms < now.as_ms() {
            self.remove(idx);
            return false;
        }
        self.push_head(idx);
        true
    }

    /// Stores a copy of `key_id` fetched at `now`, evicting the least recently used copy when
    /// full.
    pub fn put(&mut self, key_id: u64, now: SimTime) {
        if self.capacity_keys == 0 {
            return;
        }
        if let Some(&idx) = self.index.get(&key_id) {
            self.unlink(idx);
            self.remove(idx);
        }
        if self.index.len() as u64 >= self.capacity_keys {
            let victim = self.tail;
            self.unlink(victim);
            self.remove(victim);
        }
        let entry = Entry {
            key_id,
            expiry_ms: now.as_ms().saturating_add(self.ttl_ms),
            prev: NIL,
            next: NIL,
        };
        let idx = match self.free.pop() {
            Some(i) => {
                self.entries[i as usize] = entry;
                i
            }
            None => {
                self.entries.push(entry);
                (self.entries.len() - 1) as u32
            }
        };
        self.index.insert(key_id, idx);
        self.push_head(idx);
    }

    fn unlink(&mut self, idx: u32) {
        let Entry { prev, next, .. } = self.entries[idx as usize];
        match prev {
            NIL => self.head = next,
            p => self.entries[p as usize].next = next,
        }
        match next {
            NIL => self.tail = prev,
            n => self.entries[n as usize].prev = prev,
        }
    }

    fn push_head(&mut self, idx: u32) {
        let old = self.head;
        let e = &mut self.entries[idx as usize];
        e.prev = NIL;
        e.next = old;
        match old {
            NIL => self.tail = idx,
            o => self.entries[o as usize].prev = idx,
        }
        self.head = idx;
    }

    /// Forgets an unlinked entry.
    fn remove(&mut self, idx: u32) {
        self.index.remove(&self.entries[idx as usize].key_id);
        self.free.push(idx);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_copy_lives_its_ttl_in_milliseconds() {
        let mut l = LocalCache::new(2, SimTime::from_ms(1500));
        l.put(1, SimTime::ZERO);
        assert!(
            l.get(1, SimTime::from_ms(1500)),
            "served at its expiry instant"
        );
        assert!(!l.get(1, SimTime::from_ms(1501)));
        assert!(!l.get(1, SimTime::from_ms(1)), "an expired copy is dropped");
    }

    #[test]
    fn the_least_recently_used_copy_is_evicted() {
        let mut l = LocalCache::new(2, SimTime::from_secs(10));
        l.put(1, SimTime::ZERO);
        l.put(2, SimTime::ZERO);
        assert!(l.get(1, SimTime::ZERO));
        l.put(3, SimTime::ZERO); // evicts 2, the least recently used
        assert!(l.get(1, SimTime::ZERO));
        assert!(!l.get(2, SimTime::ZERO));
        assert!(l.get(3, SimTime::ZERO));
        l.put(3, SimTime::from_secs(1)); // a re-put replaces, evicting nothing
        assert!(l.get(1, SimTime::ZERO));
    }

    #[test]
    fn matches_an_exact_lru_reference_on_random_traffic() {
        // Reference: a Vec ordered most recent first, with expiry times.
        let mut rng = crate::engine::RngStream::new(5, 1);
        let (cap, ttl_ms) = (8u64, 250u64);
        let mut l = LocalCache::new(cap, SimTime::from_ms(ttl_ms));
        let mut reference: Vec<(u64, u64)> = Vec::new();
        let mut now_ms = 0;
        for _ in 0..20_000 {
            now_ms += rng.below(20);
            let key = rng.below(20);
            let now = SimTime::from_ms(now_ms);
            let want = match reference.iter().position(|&(k, _)| k == key) {
                Some(i) => {
                    let (k, exp) = reference.remove(i);
                    if exp < now_ms {
                        false
                    } else {
                        reference.insert(0, (k, exp));
                        true
                    }
                }
                None => false,
            };
            assert_eq!(l.get(key, now), want);
            if !want {
                l.put(key, now);
                if reference.len() as u64 >= cap {
                    reference.pop();
                }
                reference.insert(0, (key, now_ms + ttl_ms));
            }
        }
    }
}
