//! One Redis database: the main dict and the expires dict of a shard, held compactly.
//!
//! Keys are identified by a 64-bit id (a hash or number standing for the key string) plus the
//! key's length, which is all the memory model needs. Resident keys live in a dense `Vec` of
//! 32-byte entries (so uniform sampling is one random index), found through an open-addressing
//! index of `u32` slots (linear probing, backward-shift deletion: no tombstones). Keys with a TTL
//! are also listed in a dense `Vec<u32>` that the active expire cycle walks with a cursor.
//!
//! The db tracks `used_memory` exactly as REDIS-MODEL.md section 8 charges it, including the
//! power-of-two bucket arrays of both dicts, their growth rule (refused over maxmemory unless the
//! load factor passes 1.618) and their shrinking in cron. It does not decide what to evict or
//! when keys expire: that is `evict` and `expire`.
//!
//! Simplification (documented in REDIS-MODEL terms): Redis rehashes incrementally, keeping both
//! bucket arrays for a while; here a resize is instantaneous.

use super::memory;

/// Marks "no TTL" in an entry and "no position" in index slots.
const NONE_U32: u32 = u32::MAX;

/// One resident key: 32 bytes of model memory.
#[derive(Clone, Copy, Debug)]
pub struct Entry {
    /// The key's id.
    pub key_id: u64,
    /// Absolute expire time in unix ms; 0 = no TTL.
    pub expire_at_ms: u64,
    /// The object's 24-bit `lru` field: LRU clock seconds, or LFU (minutes << 8 | counter).
    pub lru: u32,
    /// Bytes charged for the dict entry, key sds and value object (buckets and expires entry
    /// excluded).
    pub bytes: u32,
    /// Position in the TTL list, or `u32::MAX`.
    ttl_pos: u32,
    /// Key length in bytes (kept to recompute memory on overwrite).
    pub key_len: u32,
}

/// A key as the model sees it: an id and a length in bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeyRef {
    /// Stable 64-bit id of the key string.
    pub id: u64,
    /// Key length in bytes.
    pub len: u32,
}

/// The main and expires dicts of one database, with memory accounting.
#[derive(Clone, Debug)]
pub struct Db {
    entries: Vec<Entry>,
    index: Vec<u32>,
    index_mask: usize,
    ttl_keys: Vec<u32>,
    /// Bucket-array size of the main dict (0 = never allocated).
    main_table_size: u64,
    /// Bucket-array size of the expires dict.
    expires_table_size: u64,
    /// Bytes of all entries' key/value parts (sum of `Entry::bytes`).
    data_bytes: u64,
    cluster_enabled: bool,
}

/// dict.c _dictExpandIfNeeded before an add: the first add allocates the initial table; a
/// full table doubles, unless the new bucket array would not fit under maxmemory and the load
/// factor is still at most 1.618 (server.c dictExpandAllowed).
fn table_size_before_add(size: u64, used: u64, maxmemory_headroom: Option<u64>) -> u64 {
    if size == 0 {
        return memory::DICT_HT_INITIAL_SIZE;
    }
    if used < size {
        return size;
    }
    let new_size = memory::next_table_size(used);
    let fits = match maxmemory_headroom {
        None => true,
        Some(room) => memory::bucket_array_bytes(new_size) <= room,
    };
    if fits || used as f64 / size as f64 > memory::HASHTABLE_MAX_LOAD_FACTOR {
        new_size
    } else {
        size
    }
}

#[inline]
fn mix(id: u64) -> u64 {
    let mut z = id.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Db {
    /// An empty database; `cluster_enabled` charges 7.0's larger cluster-mode dict entries.
    pub fn new(cluster_enabled: bool) -> Db {
        Db {
            entries: Vec::new(),
            index: vec![NONE_U32; 16],
            index_mask: 15,
            ttl_keys: Vec::new(),
            main_table_size: 0,
            expires_table_size: 0,
            data_bytes: 0,
            cluster_enabled,
        }
    }

    /// Number of resident keys (expired-but-unreclaimed ones included).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when no key is resident.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Number of resident keys with a TTL.
    pub fn expires_len(&self) -> usize {
        self.ttl_keys.len()
    }

    /// Whether cluster-mode entry sizes are charged.
    pub fn cluster_enabled(&self) -> bool {
        self.cluster_enabled
    }

    /// Bytes this database adds to `used_memory`: entries, keys, values, expires entries and
    /// both bucket arrays.
    pub fn used_bytes(&self) -> u64 {
        self.data_bytes
            + self.ttl_keys.len() as u64 * memory::EXPIRES_DICT_ENTRY_BYTES
            + memory::bucket_array_bytes(self.main_table_size)
            + memory::bucket_array_bytes(self.expires_table_size)
    }

    /// Hints the CPU to load the index slot where a lookup of `key_id` starts.
    #[inline]
    pub fn prefetch(&self, key_id: u64) {
        crate::engine::prefetch(&self.index[mix(key_id) as usize & self.index_mask]);
    }

    /// Position of `key_id` in the entry vector.
    #[inline]
    pub fn find(&self, key_id: u64) -> Option<usize> {
        let mut slot = mix(key_id) as usize & self.index_mask;
        loop {
            let pos = self.index[slot];
            if pos == NONE_U32 {
                return None;
            }
            if self.entries[pos as usize].key_id == key_id {
                return Some(pos as usize);
            }
            slot = (slot + 1) & self.index_mask;
        }
    }

    /// The entry at `pos`.
    #[inline]
    pub fn entry(&self, pos: usize) -> &Entry {
        &self.entries[pos]
    }

    /// The entry at `pos`, mutably (callers must not change `bytes` or `expire_at_ms`
    /// directly: use `overwrite` and `set_expire`).
    #[inline]
    pub fn entry_mut(&mut self, pos: usize) -> &mut Entry {
        &mut self.entries[pos]
    }

    /// The position of the key listed `i`-th in the TTL list.
    #[inline]
    pub fn ttl_key_pos(&self, i: usize) -> usize {
        self.ttl_keys[i] as usize
    }

    /// Inserts a new key (it must not exist). `maxmemory_headroom` says how many bytes may still
    /// be allocated before `maxmemory` is passed (None = no limit): the bucket array grows only
    /// when its new size fits, or when the load factor passes 1.618 (server.c dictExpandAllowed).
    /// Returns the new entry's position.
    pub fn insert(
        &mut self,
        key: KeyRef,
        value_bytes: u64,
        lru: u32,
        maxmemory_headroom: Option<u64>,
    ) -> usize {
        debug_assert!(self.find(key.id).is_none());
        // dict.c _dictExpandIfNeeded runs before the add.
        self.main_table_size = table_size_before_add(
            self.main_table_size,
            self.entries.len() as u64,
            maxmemory_headroom,
        );
        let bytes =
            memory::key_value_bytes(key.len as u64, value_bytes, self.cluster_enabled) as u32;
        let pos = self.entries.len();
        self.entries.push(Entry {
            key_id: key.id,
            expire_at_ms: 0,
            lru,
            bytes,
            ttl_pos: NONE_U32,
            key_len: key.len,
        });
        self.data_bytes += bytes as u64;
        if (self.entries.len() + 1) * 4 > self.index.len() * 3 {
            self.grow_index();
        } else {
            self.index_insert(key.id, pos as u32);
        }
        pos
    }

    /// Replaces the value of the key at `pos` (SET on an existing key): new value size, new
    /// `lru` field. The TTL is left alone (callers decide: SET without KEEPTTL removes it).
    pub fn overwrite(&mut self, pos: usize, value_bytes: u64, lru: u32) {
        let e = &mut self.entries[pos];
        let bytes =
            memory::key_value_bytes(e.key_len as u64, value_bytes, self.cluster_enabled) as u32;
        self.data_bytes = self.data_bytes - e.bytes as u64 + bytes as u64;
        e.bytes = bytes;
        e.lru = lru;
    }

    /// Sets (`expire_at_ms > 0`) or removes (`0`) the TTL of the key at `pos`, growing the
    /// expires dict's bucket array like the main one (same growth rule).
    pub fn set_expire(&mut self, pos: usize, expire_at_ms: u64, maxmemory_headroom: Option<u64>) {
        let had = self.entries[pos].ttl_pos != NONE_U32;
        if expire_at_ms == 0 {
            if had {
                self.ttl_remove(pos);
            }
            self.entries[pos].expire_at_ms = 0;
            return;
        }
        if !had {
            self.expires_table_size = table_size_before_add(
                self.expires_table_size,
                self.ttl_keys.len() as u64,
                maxmemory_headroom,
            );
            self.entries[pos].ttl_pos = self.ttl_keys.len() as u32;
            self.ttl_keys.push(pos as u32);
        }
        self.entries[pos].expire_at_ms = expire_at_ms;
    }

    /// Deletes the key at `pos` and returns its entry. Bucket arrays keep their size until
    /// `resize_tables` (cron) shrinks them.
    pub fn remove(&mut self, pos: usize) -> Entry {
        let removed = self.entries[pos];
        if removed.ttl_pos != NONE_U32 {
            self.ttl_remove(pos);
        }
        self.index_remove(removed.key_id);
        self.data_bytes -= removed.bytes as u64;
        let last = self.entries.len() - 1;
        if pos != last {
            let moved = self.entries[last];
            self.entries[pos] = moved;
            let slot = self.index_slot_of(moved.key_id);
            self.index[slot] = pos as u32;
            if moved.ttl_pos != NONE_U32 {
                self.ttl_keys[moved.ttl_pos as usize] = pos as u32;
            }
        }
        self.entries.pop();
        removed
    }

    /// Cron's tryResizeHashTables: shrink a dict whose fill dropped below 10 %.
    pub fn resize_tables(&mut self) {
        let shrink = |size: u64, used: u64| {
            if size > memory::DICT_HT_INITIAL_SIZE
                && used * 100 / size < memory::HASHTABLE_MIN_FILL_PERCENT
            {
                memory::shrunk_table_size(used)
            } else {
                size
            }
        };
        self.main_table_size = shrink(self.main_table_size, self.entries.len() as u64);
        self.expires_table_size = shrink(self.expires_table_size, self.ttl_keys.len() as u64);
    }

    /// Size of the expires dict's bucket array.
    pub fn expires_table_size(&self) -> u64 {
        self.expires_table_size
    }

    /// Size of the main dict's bucket array.
    pub fn main_table_size(&self) -> u64 {
        self.main_table_size
    }

    /// Model memory (bytes of this process's heap) per resident key, for the compactness
    /// benchmark.
    pub fn model_bytes(&self) -> usize {
        self.entries.capacity() * std::mem::size_of::<Entry>()
            + self.index.capacity() * 4
            + self.ttl_keys.capacity() * 4
    }

    fn ttl_remove(&mut self, pos: usize) {
        let tpos = self.entries[pos].ttl_pos as usize;
        let last = self.ttl_keys.len() - 1;
        if tpos != last {
            let moved_pos = self.ttl_keys[last];
            self.ttl_keys[tpos] = moved_pos;
            self.entries[moved_pos as usize].ttl_pos = tpos as u32;
        }
        self.ttl_keys.pop();
        self.entries[pos].ttl_pos = NONE_U32;
    }

    fn index_slot_of(&self, key_id: u64) -> usize {
        let mut slot = mix(key_id) as usize & self.index_mask;
        loop {
            let pos = self.index[slot];
            debug_assert!(pos != NONE_U32, "key not indexed");
            if self.entries[pos as usize].key_id == key_id {
                return slot;
            }
            slot = (slot + 1) & self.index_mask;
        }
    }

    fn index_insert(&mut self, key_id: u64, pos: u32) {
        let mut slot = mix(key_id) as usize & self.index_mask;
        while self.index[slot] != NONE_U32 {
            slot = (slot + 1) & self.index_mask;
        }
        self.index[slot] = pos;
    }

    fn index_remove(&mut self, key_id: u64) {
        let mut hole = self.index_slot_of(key_id);
        self.index[hole] = NONE_U32;
        // Backward-shift deletion keeps every probe chain unbroken.
        let mut slot = (hole + 1) & self.index_mask;
        loop {
            let pos = self.index[slot];
            if pos == NONE_U32 {
                return;
            }
            let home = mix(self.entries[pos as usize].key_id) as usize & self.index_mask;
            // Move the element back if its home is not in (hole, slot] cyclically.
            let dist_home = slot.wrapping_sub(home) & self.index_mask;
            let dist_hole = slot.wrapping_sub(hole) & self.index_mask;
            if dist_home >= dist_hole {
                self.index[hole] = pos;
                self.index[slot] = NONE_U32;
                hole = slot;
            }
            slot = (slot + 1) & self.index_mask;
        }
    }

    fn grow_index(&mut self) {
        let new_len = self.index.len() * 2;
        self.index = vec![NONE_U32; new_len];
        self.index_mask = new_len - 1;
        for pos in 0..self.entries.len() {
            let id = self.entries[pos].key_id;
            self.index_insert(id, pos as u32);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::RngStream;

    fn key(id: u64) -> KeyRef {
        KeyRef { id, len: 7 }
    }

    #[test]
    fn entry_is_32_bytes() {
        assert_eq!(std::mem::size_of::<Entry>(), 32);
    }

    #[test]
    fn insert_find_remove_against_a_btreemap() {
        let mut db = Db::new(false);
        let mut reference = std::collections::BTreeMap::new();
        let mut rng = RngStream::new(1, 1);
        for step in 0..200_000u64 {
            let id = rng.below(5_000);
            match (db.find(id), rng.below(3)) {
                (None, _) => {
                    let pos = db.insert(key(id), 100, 0, None);
                    if rng.below(2) == 0 {
                        db.set_expire(pos, step + 1, None);
                    }
                    reference.insert(id, ());
                }
                (Some(pos), 0) => {
                    assert_eq!(db.remove(pos).key_id, id);
                    reference.remove(&id);
                }
                (Some(pos), _) => assert_eq!(db.entry(pos).key_id, id),
            }
        }
        assert_eq!(db.len(), reference.len());
        for id in reference.keys() {
            assert!(db.find(*id).is_some());
        }
        // TTL list consistent with entries.
        let with_ttl = (0..db.len())
            .filter(|&p| db.entry(p).expire_at_ms > 0)
            .count();
        assert_eq!(with_ttl, db.expires_len());
        for i in 0..db.expires_len() {
            assert!(db.entry(db.ttl_key_pos(i)).expire_at_ms > 0);
        }
    }

    #[test]
    fn memory_of_96580_keys_matches_calibration() {
        // REDIS-MODEL.md section 8: 714.9 B/key without TTL, 757.6 with, k:<id>, 512 B values.
        let value = memory::value_object_bytes(512, memory::StringEncoding::Raw, false);
        for (ttl, want) in [(false, 714.85), (true, 757.62)] {
            let mut db = Db::new(false);
            for id in 0..96_580u64 {
                let k = KeyRef {
                    id,
                    len: 2 + memory::decimal_digits(id + 3_420),
                };
                let pos = db.insert(k, value, 0, None);
                if ttl {
                    db.set_expire(pos, 1, None);
                }
            }
            let per_key = db.used_bytes() as f64 / 96_580.0;
            assert!((per_key - want).abs() / want < 0.002, "{per_key} vs {want}");
        }
    }
}
