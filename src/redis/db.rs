//! One Redis database: the main dict and the expires dict of a shard, as Redis 7.0's dict.c
//! lays them out, held compactly.
//!
//! Keys are identified by a 64-bit id (a hash or number standing for the key string) plus the
//! key's length, which is all the memory model needs. Each resident key is one 32-byte `Entry`
//! in a slab (a `Vec` with a free list: entries never move, so positions and chain links stay
//! valid). Both dicts are chained hash tables over that slab, like dict.c's: the main dict's
//! bucket array has exactly the modelled Redis table size (`main_table_size`), so its load
//! factor and chain lengths are Redis's, including the long chains that appear when growth is
//! refused over maxmemory; the expires dict has its own bucket array of `expires_table_size`
//! chaining only the keys with a TTL (through a second link in the same entry, as Redis's
//! expires entries share the key). A new entry goes to the head of its chain (dict.c
//! dictAddRaw); a key's bucket is `hash(id) & (size - 1)`, with a 64-bit mix of the id standing
//! in for SipHash of the key string.
//!
//! On this structure the db offers Redis's three ways of picking keys (REDIS-MODEL.md sections
//! 3, 6 and 7): `sample_some` (dict.c dictGetSomeKeys, eviction-pool sampling), `random_key`
//! (dict.c dictGetRandomKey, the random policies) and `expires_walk` (expire.c
//! activeExpireCycle's bucket walk from the persistent `expires_cursor`).
//!
//! The db tracks `used_memory` exactly as REDIS-MODEL.md section 8 charges it, including the
//! power-of-two bucket arrays of both dicts, their growth rule (refused over maxmemory unless the
//! load factor passes 1.618) and their shrinking in cron. It does not decide what to evict or
//! when keys expire: that is `evict` and `shard`.
//!
//! Simplification (in REDIS-MODEL terms): Redis rehashes incrementally (dict.c dictRehash, a
//! bucket per add/find/sampling call and 1 ms per cron tick), keeping `ht_table[0]` and
//! `ht_table[1]` side by side meanwhile, and dictGetSomeKeys/dictGetRandomKey/the expire walk
//! look at both. Here a resize is instantaneous: the old buckets are moved in order, each chain
//! from its head, every entry pushed on the head of its new bucket — the chain order an
//! incremental rehash ends with when no key is added while it runs (keys added during a real
//! rehash sit below the moved ones instead of on top).

use std::collections::BTreeMap;

use super::memory;
use crate::engine::RngStream;

/// End of a chain / empty bucket / empty free list.
const NIL: u32 = u32::MAX;
/// `next_expires` of a slab slot on the free list (never a valid link).
const FREE: u32 = u32::MAX - 1;
/// Low 48 bits of `Entry::expire_key_len`: the expire time in unix ms.
const EXPIRE_MASK: u64 = (1 << 48) - 1;
/// How many buckets ahead of its walk `sample_some` prefetches chain heads.
const PREFETCH_AHEAD: usize = 4;
/// How many buckets ahead the expire walk prefetches chain heads (its bucket visits are a few
/// ns each, so it must ask further ahead to cover a memory access).
const EXPIRE_PREFETCH_AHEAD: u64 = 16;
/// Stored key length meaning "65,535 bytes or more: see `Db::long_key_lens`".
const KEY_LEN_ESCAPE: u64 = u16::MAX as u64;

/// One resident key: 32 bytes of model memory, a slab slot linked into the main dict's chain
/// and, with a TTL, into the expires dict's chain. Aligned to its size, so an entry never
/// straddles two cache lines.
#[derive(Clone, Copy, Debug)]
#[repr(align(32))]
pub struct Entry {
    /// The key's id.
    pub key_id: u64,
    /// Expire time in unix ms (low 48 bits, 0 = no TTL) and key length (high 16 bits,
    /// `KEY_LEN_ESCAPE` for long keys).
    expire_key_len: u64,
    /// The object's 24-bit `lru` field: LRU clock seconds, or LFU (minutes << 8 | counter).
    pub lru: u32,
    /// Bytes charged for the dict entry, key sds and value object (buckets and expires entry
    /// excluded).
    pub bytes: u32,
    /// Next entry in the main dict's chain.
    next_main: u32,
    /// Next entry in the expires dict's chain (`FREE` marks a free slab slot).
    next_expires: u32,
}

impl Entry {
    /// Absolute expire time in unix ms; 0 = no TTL. Times past year 10,000 (2^48 ms) are
    /// stored as 2^48 - 1.
    #[inline]
    pub fn expire_at_ms(&self) -> u64 {
        self.expire_key_len & EXPIRE_MASK
    }

    /// True when the key has a TTL (is in the expires dict).
    #[inline]
    pub fn has_ttl(&self) -> bool {
        self.expire_at_ms() != 0
    }

    fn set_expire_at_ms(&mut self, expire_at_ms: u64) {
        self.expire_key_len = (self.expire_key_len & !EXPIRE_MASK) | expire_at_ms.min(EXPIRE_MASK);
    }

    fn stored_key_len(&self) -> u64 {
        self.expire_key_len >> 48
    }
}

/// A key as the model sees it: an id and a length in bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeyRef {
    /// Stable 64-bit id of the key string.
    pub id: u64,
    /// Key length in bytes.
    pub len: u32,
}

/// What one dictGetSomeKeys call did (for CPU accounting and tests).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SampleWalk {
    /// Bucket visits (at most 10 x count: dict.c's `maxsteps`).
    pub buckets_visited: u64,
    /// Jumps to a new random index after a run of empty buckets.
    pub jumps: u64,
    /// Entries seen in the visited chains (more than returned when the last chain was
    /// reservoir-sampled).
    pub entries_seen: u64,
}

/// What one expires-dict bucket walk of the active expire cycle did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ExpiresWalk {
    /// Buckets checked (at most 20 x num).
    pub buckets_checked: u64,
    /// Of those, buckets found empty.
    pub empty_buckets: u64,
}

/// The main and expires dicts of one database, with memory accounting.
#[derive(Clone, Debug)]
pub struct Db {
    /// Entries; free slots are chained through `next_main` from `free_head`.
    slab: Vec<Entry>,
    free_head: u32,
    /// Main dict: bucket heads; the length is Redis's table size (0 = never allocated).
    main_buckets: Vec<u32>,
    /// Expires dict: bucket heads, Redis's expires table size.
    expires_buckets: Vec<u32>,
    len: usize,
    expires_len: usize,
    /// Bytes of all entries' key/value parts (sum of `Entry::bytes`).
    data_bytes: u64,
    /// Bytes of both bucket arrays (recomputed when a table is resized).
    table_bytes: u64,
    /// Lengths of keys of 65,535 bytes or more (rare), by key id.
    long_key_lens: BTreeMap<u64, u32>,
    cluster_enabled: bool,
    /// Bytes added to every key's size (a calibration's correction).
    key_bytes_adjust: i32,
    /// Per slab slot, when enabled: the application's stamp of the value (see
    /// `enable_value_stamps`); empty otherwise.
    stamps: Vec<u64>,
    stamps_enabled: bool,
}

/// Which of the two dicts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Dict {
    Main,
    Expires,
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

/// The hash of a key id (splitmix64's finalizer: every input bit affects every output bit).
#[inline]
fn hash(id: u64) -> u64 {
    let mut z = id.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Db {
    /// An empty database; `cluster_enabled` charges 7.0's larger cluster-mode dict entries.
    pub fn new(cluster_enabled: bool) -> Db {
        Db {
            slab: Vec::new(),
            free_head: NIL,
            main_buckets: Vec::new(),
            expires_buckets: Vec::new(),
            len: 0,
            expires_len: 0,
            data_bytes: 0,
            table_bytes: 0,
            long_key_lens: BTreeMap::new(),
            cluster_enabled,
            key_bytes_adjust: 0,
            stamps: Vec::new(),
            stamps_enabled: false,
        }
    }

    /// Adds `adjust` bytes to every key's size (a `cacheplan calibrate` correction).
    pub fn with_key_bytes_adjust(mut self, adjust: i32) -> Db {
        self.key_bytes_adjust = adjust;
        self
    }

    /// A key's bytes: the model's figure plus the calibration's correction (at least 1).
    fn entry_bytes(&self, key_len: u64, value_bytes: u64) -> u32 {
        let model = memory::key_value_bytes(key_len, value_bytes, self.cluster_enabled) as i64;
        (model + self.key_bytes_adjust as i64).max(1) as u32
    }

    /// Keeps an 8-byte stamp with every key from now on: an opaque word the caller writes
    /// with a value (`set_stamp`) and reads back on a hit (`stamp`), standing for what the
    /// value says (who loaded it and when) so monitors can judge what a reader was served.
    /// It lives and dies with the key and costs no modelled Redis memory (it stands for
    /// bytes already charged as the value).
    pub fn enable_value_stamps(&mut self) {
        self.stamps_enabled = true;
        self.stamps.resize(self.slab.len(), 0);
    }

    /// Whether value stamps are kept.
    pub fn value_stamps_enabled(&self) -> bool {
        self.stamps_enabled
    }

    /// Sets the value stamp of the key at `pos` (ignored unless stamps are enabled).
    #[inline]
    pub fn set_stamp(&mut self, pos: usize, stamp: u64) {
        if let Some(s) = self.stamps.get_mut(pos) {
            *s = stamp;
        }
    }

    /// The value stamp of the key at `pos` (0: none written, or stamps not enabled).
    #[inline]
    pub fn stamp(&self, pos: usize) -> u64 {
        self.stamps.get(pos).copied().unwrap_or(0)
    }

    /// Number of resident keys (expired-but-unreclaimed ones included).
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when no key is resident.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Number of resident keys with a TTL.
    pub fn expires_len(&self) -> usize {
        self.expires_len
    }

    /// Whether cluster-mode entry sizes are charged.
    pub fn cluster_enabled(&self) -> bool {
        self.cluster_enabled
    }

    /// Bytes this database adds to `used_memory`: entries, keys, values, expires entries and
    /// both bucket arrays.
    pub fn used_bytes(&self) -> u64 {
        self.data_bytes
            + self.expires_len as u64 * memory::EXPIRES_DICT_ENTRY_BYTES
            + self.table_bytes
    }

    /// Hints the CPU to load the bucket where a lookup of `key_id` starts.
    #[inline]
    pub fn prefetch(&self, key_id: u64) {
        if let Some(head) = self
            .main_buckets
            .get(hash(key_id) as usize & self.main_buckets.len().wrapping_sub(1))
        {
            crate::engine::prefetch(head);
        }
    }

    /// Hints the CPU to load what a write of `key_id` touches first: its main-dict bucket and
    /// its expires-dict bucket (where a key gaining a TTL is linked).
    #[inline]
    pub fn prefetch_write(&self, key_id: u64) {
        self.prefetch(key_id);
        if let Some(head) = self
            .expires_buckets
            .get(hash(key_id) as usize & self.expires_buckets.len().wrapping_sub(1))
        {
            crate::engine::prefetch(head);
        }
        // A new key takes the free slot at the head of the free list.
        self.prefetch_slot(self.free_head as usize);
    }

    /// Hints the CPU to load slab slot `pos` and its value stamp (when kept).
    #[inline]
    fn prefetch_slot(&self, pos: usize) {
        if let Some(e) = self.slab.get(pos) {
            crate::engine::prefetch(e);
        }
        if let Some(stamp) = self.stamps.get(pos) {
            crate::engine::prefetch(stamp);
        }
    }

    /// Hints the CPU to load the main-dict bucket of the key at `pos` (whose entry should be in
    /// cache already), where removing the key starts.
    #[inline]
    pub fn prefetch_removal(&self, pos: usize) {
        self.prefetch(self.slab[pos].key_id);
    }

    /// Reads the bucket of `key_id` (best already prefetched) and hints the CPU to load the
    /// first entry of its chain, where a lookup of `key_id` usually ends (and its value stamp,
    /// which a hit reads).
    #[inline]
    pub fn prefetch_entry(&self, key_id: u64) {
        let mask = self.main_buckets.len().wrapping_sub(1);
        if let Some(&head) = self.main_buckets.get(hash(key_id) as usize & mask) {
            self.prefetch_slot(head as usize);
        }
    }

    /// Position of `key_id` (its slab slot), by walking the chain of its main-dict bucket.
    #[inline]
    pub fn find(&self, key_id: u64) -> Option<usize> {
        let mask = self.main_buckets.len().wrapping_sub(1);
        let mut pos = *self.main_buckets.get(hash(key_id) as usize & mask)?;
        while pos != NIL {
            let e = &self.slab[pos as usize];
            if e.key_id == key_id {
                return Some(pos as usize);
            }
            pos = e.next_main;
        }
        None
    }

    /// The entry at `pos` (a position from `find`, `insert` or a sampling call).
    #[inline]
    pub fn entry(&self, pos: usize) -> &Entry {
        debug_assert!(self.slab[pos].next_expires != FREE, "entry {pos} is free");
        &self.slab[pos]
    }

    /// The entry at `pos`, mutably (callers must not change `bytes` directly: use `overwrite`;
    /// the expire time is changed with `set_expire`).
    #[inline]
    pub fn entry_mut(&mut self, pos: usize) -> &mut Entry {
        debug_assert!(self.slab[pos].next_expires != FREE, "entry {pos} is free");
        &mut self.slab[pos]
    }

    /// Length in bytes of the key at `pos`.
    pub fn key_len(&self, pos: usize) -> u32 {
        let e = self.entry(pos);
        match e.stored_key_len() {
            KEY_LEN_ESCAPE => self
                .long_key_lens
                .get(&e.key_id)
                .copied()
                .unwrap_or_else(|| {
                    debug_assert!(false, "long key {} without a recorded length", e.key_id);
                    u16::MAX as u32
                }),
            len => len as u32,
        }
    }

    /// Inserts a new key (it must not exist) at the head of its main-dict chain.
    /// `maxmemory_headroom` says how many bytes may still be allocated before `maxmemory` is
    /// passed (None = no limit): the bucket array grows only when its new size fits, or when
    /// the load factor passes 1.618 (server.c dictExpandAllowed). Returns the new entry's
    /// position.
    pub fn insert(
        &mut self,
        key: KeyRef,
        value_bytes: u64,
        lru: u32,
        maxmemory_headroom: Option<u64>,
    ) -> usize {
        debug_assert!(self.find(key.id).is_none());
        // dict.c _dictExpandIfNeeded runs before the add.
        let size =
            table_size_before_add(self.main_table_size(), self.len as u64, maxmemory_headroom);
        if size != self.main_table_size() {
            self.rehash(Dict::Main, size);
        }
        let bytes = self.entry_bytes(key.len as u64, value_bytes);
        let stored_len = if key.len as u64 >= KEY_LEN_ESCAPE {
            self.long_key_lens.insert(key.id, key.len);
            KEY_LEN_ESCAPE
        } else {
            key.len as u64
        };
        let bucket = hash(key.id) as usize & (self.main_buckets.len() - 1);
        let entry = Entry {
            key_id: key.id,
            expire_key_len: stored_len << 48,
            lru,
            bytes,
            next_main: self.main_buckets[bucket],
            next_expires: NIL,
        };
        let pos = if self.free_head != NIL {
            let pos = self.free_head;
            self.free_head = self.slab[pos as usize].next_main;
            self.slab[pos as usize] = entry;
            pos
        } else {
            debug_assert!(self.slab.len() < FREE as usize);
            self.slab.push(entry);
            if self.stamps_enabled {
                self.stamps.push(0);
            }
            (self.slab.len() - 1) as u32
        };
        if let Some(stamp) = self.stamps.get_mut(pos as usize) {
            *stamp = 0;
        }
        self.main_buckets[bucket] = pos;
        self.len += 1;
        self.data_bytes += bytes as u64;
        pos as usize
    }

    /// Replaces the value of the key at `pos` (SET on an existing key): new value size, new
    /// `lru` field. The TTL and the entry's place in both chains are left alone (db.c
    /// dbOverwrite sets the value of the existing dict entry; callers decide about the TTL).
    pub fn overwrite(&mut self, pos: usize, value_bytes: u64, lru: u32) {
        let key_len = self.key_len(pos);
        let bytes = self.entry_bytes(key_len as u64, value_bytes);
        let e = &mut self.slab[pos];
        self.data_bytes = self.data_bytes - e.bytes as u64 + bytes as u64;
        e.bytes = bytes;
        e.lru = lru;
    }

    /// Sets (`expire_at_ms > 0`) or removes (`0`) the TTL of the key at `pos`. A key gaining a
    /// TTL goes to the head of its expires-dict chain, after the expires bucket array grows by
    /// the main dict's rule; a key keeping its TTL keeps its place (db.c setExpire updates the
    /// existing expires entry).
    pub fn set_expire(&mut self, pos: usize, expire_at_ms: u64, maxmemory_headroom: Option<u64>) {
        let had = self.entry(pos).has_ttl();
        if expire_at_ms == 0 {
            if had {
                self.unlink(Dict::Expires, pos as u32);
                self.expires_len -= 1;
                self.slab[pos].set_expire_at_ms(0);
            }
            return;
        }
        if !had {
            let size = table_size_before_add(
                self.expires_table_size(),
                self.expires_len as u64,
                maxmemory_headroom,
            );
            if size != self.expires_table_size() {
                self.rehash(Dict::Expires, size);
            }
            let bucket = hash(self.slab[pos].key_id) as usize & (self.expires_buckets.len() - 1);
            self.slab[pos].next_expires = self.expires_buckets[bucket];
            self.expires_buckets[bucket] = pos as u32;
            self.expires_len += 1;
        }
        self.slab[pos].set_expire_at_ms(expire_at_ms);
    }

    /// Deletes the key at `pos` from both dicts and returns its entry. Bucket arrays keep
    /// their size until `resize_tables` (cron) shrinks them.
    pub fn remove(&mut self, pos: usize) -> Entry {
        let removed = *self.entry(pos);
        if removed.has_ttl() {
            self.unlink(Dict::Expires, pos as u32);
            self.expires_len -= 1;
        }
        self.unlink(Dict::Main, pos as u32);
        if removed.stored_key_len() == KEY_LEN_ESCAPE {
            self.long_key_lens.remove(&removed.key_id);
        }
        self.len -= 1;
        self.data_bytes -= removed.bytes as u64;
        let slot = &mut self.slab[pos];
        slot.next_main = self.free_head;
        slot.next_expires = FREE;
        self.free_head = pos as u32;
        removed
    }

    /// Cron's tryResizeHashTables: shrink a dict whose fill dropped below 10 % (dict.c
    /// dictResize), rebuilding its chains at once.
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
        let main = shrink(self.main_table_size(), self.len as u64);
        if main != self.main_table_size() {
            self.rehash(Dict::Main, main);
        }
        let expires = shrink(self.expires_table_size(), self.expires_len as u64);
        if expires != self.expires_table_size() {
            self.rehash(Dict::Expires, expires);
        }
    }

    /// Size of the expires dict's bucket array (0 = never allocated).
    pub fn expires_table_size(&self) -> u64 {
        self.expires_buckets.len() as u64
    }

    /// Size of the main dict's bucket array (0 = never allocated).
    pub fn main_table_size(&self) -> u64 {
        self.main_buckets.len() as u64
    }

    /// The compactness benchmark's database (`cacheplan bench db-memory`): 1M keys of 20
    /// bytes with 100-byte values, every other one with a TTL.
    pub fn million_keys_half_with_ttl() -> Db {
        let mut db = Db::new(false);
        for id in 0..1_000_000u64 {
            let key = KeyRef {
                id: id * 7919,
                len: 20,
            };
            let pos = db.insert(key, 100, 0, None);
            if id % 2 == 0 {
                db.set_expire(pos, 1, None);
            }
        }
        db
    }

    /// Model memory (bytes of this process's heap) of the database, for the compactness
    /// benchmark: the slab, both bucket arrays and the long-key table.
    pub fn model_bytes(&self) -> usize {
        self.slab.capacity() * std::mem::size_of::<Entry>()
            + self.stamps.capacity() * 8
            + (self.main_buckets.capacity() + self.expires_buckets.capacity()) * 4
            + self.long_key_lens.len() * 3 * std::mem::size_of::<(u64, u32)>()
    }

    /// dict.c dictGetSomeKeys on the main dict (or the expires dict): `count` is capped at the
    /// dict's size; from a random bucket index, walk consecutive buckets (wrapping), taking
    /// every entry of each non-empty bucket's chain in chain order; after at least 5 (and more
    /// than `count`) consecutive empty buckets jump to a new random index; stop once `count`
    /// entries were seen or after 10 x count bucket visits. Entries of the last chain beyond
    /// `count` replace earlier picks by reservoir sampling (7.0.15). `out` receives the
    /// positions, possibly fewer than `count` and, after a jump, possibly repeated.
    pub fn sample_some(
        &self,
        count: usize,
        from_expires: bool,
        rng: &mut RngStream,
        out: &mut Vec<usize>,
    ) -> SampleWalk {
        out.clear();
        let (dict, buckets, size) = self.dict(from_expires);
        let count = count.min(size) as u64;
        let mut walk = SampleWalk::default();
        if count == 0 {
            return walk;
        }
        let mask = buckets.len() - 1;
        // Performance only: load the chain heads a few buckets ahead of the walk, so their
        // cache misses overlap instead of queueing behind each other.
        let prefetch_head = |i: usize| {
            let head = buckets[i & mask];
            if head != NIL {
                crate::engine::prefetch(&self.slab[head as usize]);
            }
        };
        let mut maxsteps = count * 10;
        let mut i = rng.next_u64() as usize & mask;
        (0..PREFETCH_AHEAD).for_each(|d| prefetch_head(i + d));
        let mut emptylen = 0u64;
        let mut stored = 0u64;
        while stored < count && maxsteps > 0 {
            maxsteps -= 1;
            walk.buckets_visited += 1;
            prefetch_head(i + PREFETCH_AHEAD);
            let mut pos = buckets[i];
            if pos == NIL {
                emptylen += 1;
                if emptylen >= 5 && emptylen > count {
                    i = rng.next_u64() as usize & mask;
                    emptylen = 0;
                    walk.jumps += 1;
                    // The walk goes on at i + 1.
                    (1..=PREFETCH_AHEAD).for_each(|d| prefetch_head(i + d));
                }
            } else {
                emptylen = 0;
                while pos != NIL {
                    if stored < count {
                        out.push(pos as usize);
                    } else {
                        let r = rng.next_u64() % (stored + 1);
                        if r < count {
                            out[r as usize] = pos as usize;
                        }
                    }
                    pos = self.next(dict, pos);
                    stored += 1;
                }
                if stored >= count {
                    break;
                }
            }
            i = (i + 1) & mask;
        }
        walk.entries_seen = stored;
        walk
    }

    /// dict.c dictGetRandomKey on the main dict (or the expires dict): random bucket indexes
    /// until a non-empty bucket, then a uniform element of its chain. None when the dict is
    /// empty.
    pub fn random_key(&self, from_expires: bool, rng: &mut RngStream) -> Option<usize> {
        let (dict, buckets, size) = self.dict(from_expires);
        if size == 0 {
            return None;
        }
        let mask = buckets.len() - 1;
        let head = loop {
            let head = buckets[rng.next_u64() as usize & mask];
            if head != NIL {
                break head;
            }
        };
        let mut chain_len = 0u64;
        let mut pos = head;
        while pos != NIL {
            chain_len += 1;
            pos = self.next(dict, pos);
        }
        let mut pos = head;
        for _ in 0..rng.below(chain_len) {
            pos = self.next(dict, pos);
        }
        Some(pos as usize)
    }

    /// The active expire cycle's sampling (expire.c activeExpireCycle, 7.0): from bucket
    /// `cursor & mask` of the expires dict on, take every entry of each bucket's chain,
    /// advancing `cursor` by one per bucket, until `num` entries are taken or `20 x num`
    /// buckets were checked. `out` receives the positions (the caller expires them; removing
    /// one does not move the others).
    pub fn expires_walk(&self, cursor: &mut u64, num: u64, out: &mut Vec<usize>) -> ExpiresWalk {
        out.clear();
        let mut walk = ExpiresWalk::default();
        if self.expires_buckets.is_empty() {
            return walk;
        }
        let mask = self.expires_buckets.len() as u64 - 1;
        let max_buckets = num * 20;
        while (out.len() as u64) < num && walk.buckets_checked < max_buckets {
            // The chain head a few buckets on is a random slab slot: ask for it early.
            let ahead =
                self.expires_buckets[(cursor.wrapping_add(EXPIRE_PREFETCH_AHEAD) & mask) as usize];
            if let Some(e) = self.slab.get(ahead as usize) {
                crate::engine::prefetch(e);
            }
            let mut pos = self.expires_buckets[(*cursor & mask) as usize];
            walk.buckets_checked += 1;
            if pos == NIL {
                walk.empty_buckets += 1;
            }
            while pos != NIL {
                out.push(pos as usize);
                pos = self.slab[pos as usize].next_expires;
            }
            *cursor = cursor.wrapping_add(1);
        }
        walk
    }

    /// Where a key with a TTL sits in the active expire walk: its expires-dict bucket and the
    /// table's size (the warm start places ghosts by it).
    pub fn expires_bucket_of(&self, key_id: u64) -> (u64, u64) {
        let size = self.expires_table_size().max(1);
        (hash(key_id) & (size - 1), size)
    }

    /// Grows the expires dict's bucket array now to the size it will reach holding `keys`
    /// keys (dict.c's expand rule), as a dict that has held that many keys for a while has.
    pub fn reserve_expires(&mut self, keys: u64) {
        if keys >= self.expires_table_size() {
            self.rehash(Dict::Expires, memory::next_table_size(keys));
        }
    }

    /// Positions of all keys of the main dict (or the expires dict), bucket by bucket in chain
    /// order (a dict iterator: for metrics, tests and bulk deletes).
    pub fn positions(&self, from_expires: bool) -> impl Iterator<Item = usize> + '_ {
        let (dict, buckets, _) = self.dict(from_expires);
        buckets.iter().flat_map(move |&head| {
            std::iter::successors((head != NIL).then_some(head), move |&pos| {
                let next = self.next(dict, pos);
                (next != NIL).then_some(next)
            })
            .map(|pos| pos as usize)
        })
    }

    fn dict(&self, from_expires: bool) -> (Dict, &[u32], usize) {
        if from_expires {
            (Dict::Expires, &self.expires_buckets, self.expires_len)
        } else {
            (Dict::Main, &self.main_buckets, self.len)
        }
    }

    #[inline]
    fn next(&self, dict: Dict, pos: u32) -> u32 {
        match dict {
            Dict::Main => self.slab[pos as usize].next_main,
            Dict::Expires => self.slab[pos as usize].next_expires,
        }
    }

    fn set_next(&mut self, dict: Dict, pos: u32, next: u32) {
        match dict {
            Dict::Main => self.slab[pos as usize].next_main = next,
            Dict::Expires => self.slab[pos as usize].next_expires = next,
        }
    }

    fn buckets_mut(&mut self, dict: Dict) -> &mut Vec<u32> {
        match dict {
            Dict::Main => &mut self.main_buckets,
            Dict::Expires => &mut self.expires_buckets,
        }
    }

    /// Takes `pos` out of its chain in `dict`.
    fn unlink(&mut self, dict: Dict, pos: u32) {
        let bucket = hash(self.slab[pos as usize].key_id) as usize & self.mask(dict);
        let next = self.next(dict, pos);
        let head = self.buckets_mut(dict)[bucket];
        if head == pos {
            self.buckets_mut(dict)[bucket] = next;
            return;
        }
        let mut prev = head;
        loop {
            debug_assert!(prev != NIL, "entry {pos} not in its chain");
            let after = self.next(dict, prev);
            if after == pos {
                self.set_next(dict, prev, next);
                return;
            }
            prev = after;
        }
    }

    fn mask(&self, dict: Dict) -> usize {
        match dict {
            Dict::Main => self.main_buckets.len() - 1,
            Dict::Expires => self.expires_buckets.len() - 1,
        }
    }

    /// Replaces `dict`'s bucket array by one of `new_size` buckets, moving the old buckets in
    /// order, each chain from its head, every entry onto the head of its new bucket (where an
    /// incremental rehash leaves them).
    fn rehash(&mut self, dict: Dict, new_size: u64) {
        debug_assert!(new_size.is_power_of_two());
        let old = std::mem::replace(self.buckets_mut(dict), vec![NIL; new_size as usize]);
        self.table_bytes = memory::bucket_array_bytes(self.main_table_size())
            + memory::bucket_array_bytes(self.expires_table_size());
        let mask = new_size as usize - 1;
        for head in old {
            let mut pos = head;
            while pos != NIL {
                let next = self.next(dict, pos);
                let bucket = hash(self.slab[pos as usize].key_id) as usize & mask;
                let new_head = self.buckets_mut(dict)[bucket];
                self.set_next(dict, pos, new_head);
                self.buckets_mut(dict)[bucket] = pos;
                pos = next;
            }
        }
    }
}

#[cfg(test)]
#[path = "db_tests.rs"]
mod tests;
