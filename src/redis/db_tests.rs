//! Unit tests of `redis::db`: the dicts against a BTreeMap, Redis's table sizes and chains,
//! rehashing, key sampling, random keys, the expire cursor walk and long keys.

use super::*;
use std::collections::{BTreeMap, BTreeSet};

fn key(id: u64) -> KeyRef {
    KeyRef { id, len: 7 }
}

impl Db {
    /// Every structural invariant: each live entry sits in exactly the chain of its bucket
    /// in the main dict, and in the expires dict iff it has a TTL; counts agree; the free
    /// list holds exactly the other slots.
    fn check_invariants(&self) {
        let mut live = BTreeSet::new();
        for (b, &head) in self.main_buckets.iter().enumerate() {
            let mut pos = head;
            while pos != NIL {
                let e = &self.slab[pos as usize];
                assert_ne!(e.next_expires, FREE);
                assert_eq!(hash(e.key_id) as usize & (self.main_buckets.len() - 1), b);
                assert!(live.insert(pos), "entry {pos} chained twice");
                pos = e.next_main;
            }
        }
        assert_eq!(live.len(), self.len);
        let mut with_ttl = BTreeSet::new();
        for (b, &head) in self.expires_buckets.iter().enumerate() {
            let mut pos = head;
            while pos != NIL {
                let e = &self.slab[pos as usize];
                assert!(live.contains(&pos) && e.has_ttl());
                assert_eq!(
                    hash(e.key_id) as usize & (self.expires_buckets.len() - 1),
                    b
                );
                assert!(with_ttl.insert(pos));
                pos = e.next_expires;
            }
        }
        assert_eq!(with_ttl.len(), self.expires_len);
        let ttl_live = live
            .iter()
            .filter(|&&p| self.slab[p as usize].has_ttl())
            .count();
        assert_eq!(ttl_live, self.expires_len);
        let mut free = 0;
        let mut pos = self.free_head;
        while pos != NIL {
            assert_eq!(self.slab[pos as usize].next_expires, FREE);
            assert!(!live.contains(&pos));
            free += 1;
            pos = self.slab[pos as usize].next_main;
        }
        assert_eq!(free + self.len, self.slab.len());
        let data: u64 = live
            .iter()
            .map(|&p| self.slab[p as usize].bytes as u64)
            .sum();
        assert_eq!(data, self.data_bytes);
    }

    fn chain(&self, from_expires: bool, bucket: usize) -> Vec<usize> {
        let (dict, buckets, _) = self.dict(from_expires);
        let mut out = Vec::new();
        let mut pos = buckets[bucket];
        while pos != NIL {
            out.push(pos as usize);
            pos = self.next(dict, pos);
        }
        out
    }

    fn bucket_of(&self, from_expires: bool, pos: usize) -> usize {
        let (_, buckets, _) = self.dict(from_expires);
        hash(self.slab[pos].key_id) as usize & (buckets.len() - 1)
    }
}

/// A db whose main table growth was refused at 1024 buckets (load factor 1.5: long chains).
fn chained_db(keys: u64) -> Db {
    let mut db = Db::new(false);
    for id in 0..keys {
        let headroom = if id < 1024 { None } else { Some(0) };
        let pos = db.insert(key(id), 100, 0, headroom);
        if id % 2 == 0 {
            db.set_expire(pos, 1_000 + id, headroom);
        }
    }
    db
}

#[test]
fn entry_is_32_bytes() {
    assert_eq!(std::mem::size_of::<Entry>(), 32);
}

#[test]
fn dicts_against_a_btreemap_under_insert_remove_and_resize() {
    let mut db = Db::new(false);
    // id -> (expire, lru)
    let mut reference: BTreeMap<u64, (u64, u32)> = BTreeMap::new();
    let mut rng = RngStream::new(1, 1);
    for step in 0..200_000u64 {
        // Phases: grow freely, grow refused (chains), shrink by deletes.
        let phase = (step / 20_000) % 3;
        let headroom = if phase == 1 { Some(0) } else { None };
        let id = rng.below(if phase == 2 { 1_000 } else { 6_000 });
        match (db.find(id), rng.below(if phase == 2 { 2 } else { 4 })) {
            (None, _) => {
                let pos = db.insert(key(id), 100, step as u32, headroom);
                let expire = if rng.below(2) == 0 { step + 1 } else { 0 };
                if expire > 0 {
                    db.set_expire(pos, expire, headroom);
                }
                reference.insert(id, (expire, step as u32));
            }
            (Some(pos), 0) => {
                let gone = db.remove(pos);
                assert_eq!(gone.key_id, id);
                assert_eq!(gone.expire_at_ms(), reference[&id].0);
                reference.remove(&id);
            }
            (Some(pos), 1) => {
                // Toggle the TTL.
                let expire = if db.entry(pos).has_ttl() { 0 } else { step + 7 };
                db.set_expire(pos, expire, headroom);
                reference.get_mut(&id).expect("present").0 = expire;
            }
            (Some(pos), _) => {
                let e = db.entry(pos);
                assert_eq!(e.key_id, id);
                assert_eq!((e.expire_at_ms(), e.lru), reference[&id]);
            }
        }
        if step % 1_000 == 0 {
            db.resize_tables();
        }
        if step % 10_000 == 0 {
            db.check_invariants();
        }
    }
    db.check_invariants();
    assert_eq!(db.len(), reference.len());
    for id in reference.keys() {
        assert!(db.find(*id).is_some());
    }
    let with_ttl = reference.values().filter(|v| v.0 > 0).count();
    assert_eq!(db.expires_len(), with_ttl);
    assert_eq!(db.positions(false).count(), db.len());
    assert_eq!(db.positions(true).count(), with_ttl);
}

#[test]
fn tables_follow_the_redis_sizes_and_chains_form_when_growth_is_refused() {
    let db = chained_db(1_536);
    assert_eq!(db.main_table_size(), 1_024);
    assert_eq!(db.expires_table_size(), 512); // 768 TTL keys, growth refused at 512
    let longest = (0..1_024).map(|b| db.chain(false, b).len()).max();
    assert!(longest >= Some(5), "{longest:?}");
    db.check_invariants();
    // Past load factor 1.618 the table grows even with no headroom.
    let mut db = db;
    for id in 1_536..1_700 {
        db.insert(key(id), 100, 0, Some(0));
    }
    assert_eq!(db.main_table_size(), 2_048);
    db.check_invariants();
}

#[test]
fn new_keys_go_to_the_chain_head_and_rehash_moves_chains_head_first() {
    let mut db = Db::new(false);
    // 4 buckets, growth refused: a chain per bucket, newest first.
    let positions: Vec<usize> = (0..6).map(|id| db.insert(key(id), 1, 0, Some(0))).collect();
    assert_eq!(db.main_table_size(), 4);
    for b in 0..4 {
        let chain = db.chain(false, b);
        let mut newest_first: Vec<usize> = positions
            .iter()
            .copied()
            .filter(|&p| db.bucket_of(false, p) == b)
            .collect();
        newest_first.reverse();
        assert_eq!(chain, newest_first);
    }
    // Reference rehash into 8 buckets: old buckets in order, each chain from its head,
    // pushed onto the head of the new bucket.
    let mut want = vec![Vec::new(); 8];
    for b in 0..4 {
        for pos in db.chain(false, b) {
            want[hash(db.entry(pos).key_id) as usize & 7].insert(0, pos);
        }
    }
    db.rehash(Dict::Main, 8);
    for (b, chain) in want.iter().enumerate() {
        assert_eq!(&db.chain(false, b), chain);
    }
    db.check_invariants();
}

#[test]
fn sample_some_returns_whole_chains_in_order_within_maxsteps() {
    let db = chained_db(1_536);
    let mut rng = RngStream::new(3, 3);
    let mut out = Vec::new();
    for count in [1usize, 3, 5, 10, 16] {
        for from_expires in [false, true] {
            for _ in 0..2_000 {
                let walk = db.sample_some(count, from_expires, &mut rng, &mut out);
                assert!(out.len() <= count);
                assert!(walk.buckets_visited <= 10 * count as u64);
                assert_eq!(out.len() as u64, walk.entries_seen.min(count as u64));
                if walk.jumps == 0 {
                    let distinct: BTreeSet<_> = out.iter().collect();
                    assert_eq!(distinct.len(), out.len());
                }
                if walk.entries_seen as usize == out.len() {
                    // No reservoir replacement: consecutive whole chains, each from its
                    // head, in chain order.
                    let mut k = 0;
                    while k < out.len() {
                        let chain = db.chain(from_expires, db.bucket_of(from_expires, out[k]));
                        assert_eq!(&out[k..k + chain.len()], &chain[..]);
                        k += chain.len();
                    }
                } else {
                    // The last chain overflowed: count entries, all from visited chains.
                    assert_eq!(out.len(), count);
                }
            }
        }
    }
    // count is capped at the dict size.
    let mut small = Db::new(false);
    for id in 0..3 {
        small.insert(key(id), 1, 0, None);
    }
    small.sample_some(5, false, &mut rng, &mut out);
    assert_eq!(out.iter().collect::<BTreeSet<_>>().len(), 3);
    assert_eq!(
        small
            .sample_some(5, true, &mut rng, &mut out)
            .buckets_visited,
        0
    );
    assert!(out.is_empty());
}

#[test]
fn sample_some_gives_up_after_10_x_count_steps_in_a_sparse_table() {
    // 2^16 buckets kept after deleting all but 20 keys (cron has not shrunk it yet).
    let mut db = Db::new(false);
    for id in 0..40_000 {
        db.insert(key(id), 1, 0, None);
    }
    for id in 20..40_000 {
        let pos = db.find(id).expect("present");
        db.remove(pos);
    }
    assert_eq!(db.main_table_size(), 65_536);
    let mut rng = RngStream::new(4, 4);
    let mut out = Vec::new();
    let (mut short, mut jumps) = (0, 0);
    for _ in 0..1_000 {
        let walk = db.sample_some(5, false, &mut rng, &mut out);
        assert_eq!(
            walk.buckets_visited, 50,
            "never 5 keys within 50 steps here"
        );
        short += (out.len() < 5) as u32;
        jumps += walk.jumps;
    }
    assert_eq!(short, 1_000);
    assert!(
        jumps >= 1_000 * 7,
        "a jump after every 6 empty buckets: {jumps}"
    );
    db.resize_tables();
    assert_eq!(db.main_table_size(), 32);
    db.check_invariants();
}

#[test]
fn random_key_follows_the_bucket_then_chain_law() {
    // P(key) = 1/(non-empty buckets) x 1/(its chain length). 1,536 keys in 1,024 buckets;
    // 3M draws at a fixed seed. Chi-square with k-1 = 1,535 degrees of freedom: mean 1,535,
    // sd 55; accept below 1,535 + 5 sd. The same draws against the uniform law must be
    // rejected (the test has power).
    let db = chained_db(1_536);
    let nonempty = (0..1_024)
        .filter(|&b| !db.chain(false, b).is_empty())
        .count() as f64;
    let mut counts = BTreeMap::new();
    let mut rng = RngStream::new(9, 9);
    let draws = 3_000_000u64;
    for _ in 0..draws {
        let pos = db.random_key(false, &mut rng).expect("non-empty");
        *counts.entry(pos).or_insert(0u64) += 1;
    }
    let (mut chi2_law, mut chi2_uniform) = (0.0, 0.0);
    for pos in db.positions(false) {
        let chain_len = db.chain(false, db.bucket_of(false, pos)).len() as f64;
        let observed = *counts.get(&pos).unwrap_or(&0) as f64;
        let expected = draws as f64 / nonempty / chain_len;
        chi2_law += (observed - expected).powi(2) / expected;
        let uniform = draws as f64 / 1_536.0;
        chi2_uniform += (observed - uniform).powi(2) / uniform;
    }
    assert!(chi2_law < 1_535.0 + 5.0 * 55.4, "chi2 {chi2_law}");
    assert!(
        chi2_uniform > 10.0 * 1_535.0,
        "chi2 vs uniform {chi2_uniform}"
    );
    // The expires dict has its own buckets.
    for _ in 0..1_000 {
        let pos = db.random_key(true, &mut rng).expect("TTL keys");
        assert!(db.entry(pos).has_ttl());
    }
    assert_eq!(Db::new(false).random_key(false, &mut rng), None);
}

#[test]
fn expires_walk_visits_buckets_from_the_cursor() {
    let db = chained_db(1_536); // 768 TTL keys in 512 expires buckets
                                // A cursor past the table size is masked: bucket 508, 509, ... then wraps to 0.
    let start = 512 * 7 + 508;
    let mut cursor = start;
    let mut out = Vec::new();
    let walk = db.expires_walk(&mut cursor, 20, &mut out);
    // Whole chains of consecutive buckets until 20 keys.
    let mut want = Vec::new();
    let mut b = start;
    while want.len() < 20 {
        want.extend(db.chain(true, (b & 511) as usize));
        b += 1;
    }
    assert!(b & 511 < 508, "the walk wrapped");
    assert_eq!(out, want);
    assert_eq!(cursor, b);
    assert_eq!(walk.buckets_checked, b - start);
    let empty = (start..b)
        .filter(|&c| db.chain(true, (c & 511) as usize).is_empty())
        .count();
    assert_eq!(walk.empty_buckets, empty as u64);
    // At most 20 x num buckets: a sparse expires table stops early.
    let mut sparse = Db::new(false);
    for id in 0..2_000 {
        let pos = sparse.insert(key(id), 1, 0, None);
        sparse.set_expire(pos, 5, None);
    }
    for id in 1..2_000 {
        let pos = sparse.find(id).expect("present");
        sparse.remove(pos);
    }
    let mut cursor = 0;
    let walk = sparse.expires_walk(&mut cursor, 1, &mut out);
    assert!(walk.buckets_checked <= 20 && out.len() <= 1);
}

#[test]
fn long_keys_and_far_expire_times_round_trip() {
    let mut db = Db::new(false);
    let pos = db.insert(KeyRef { id: 5, len: 70_000 }, 10, 0, None);
    assert_eq!(db.key_len(pos), 70_000);
    db.set_expire(pos, u64::MAX, None);
    assert_eq!(db.entry(pos).expire_at_ms(), EXPIRE_MASK);
    let before = db.used_bytes();
    db.overwrite(pos, 10, 1);
    assert_eq!(db.used_bytes(), before);
    db.remove(pos);
    assert!(db.long_key_lens.is_empty());
    db.check_invariants();
}

#[test]
fn model_memory_is_at_most_48_bytes_per_key() {
    let db = Db::million_keys_half_with_ttl();
    let per_key = db.model_bytes() as f64 / 1e6;
    assert!(per_key <= 48.0, "{per_key} B/key");
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
