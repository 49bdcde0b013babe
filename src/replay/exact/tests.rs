//! Tests of the exact policies: libCacheSim's exact miss counts on the cloudPhysicsIO trace, and
//! request-by-request agreement with plain reference implementations on random traces.

use super::*;
use crate::engine::RngStream;
use crate::workload::trace::TraceRequest;

/// Test-only reader of the cloudPhysicsIO oracleGeneral trace (24-byte LE records: time u32 s,
/// obj_id u64, size u32, next_access_vtime i64). It lives only in `../shared`: `None` (after a
/// visible skip line naming `test`) when that folder is absent.
pub(crate) fn read_cloud_physics_oracle_general(test: &str) -> Option<Vec<TraceRequest>> {
    let path = crate::test_data::shared_only(test, "traces/cloudPhysicsIO.oracleGeneral.bin")?;
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(bytes.len() % 24, 0);
    let trace = bytes
        .chunks_exact(24)
        .map(|r| {
            let time_s = u32::from_le_bytes(r[0..4].try_into().unwrap());
            let obj_size = u32::from_le_bytes(r[12..16].try_into().unwrap());
            TraceRequest {
                time_ms: time_s as u64 * 1000,
                obj_id: u64::from_le_bytes(r[4..12].try_into().unwrap()),
                obj_size,
                key_size: 0,
                value_size: obj_size,
                ttl_s: 0,
                ttl_ms: 0,
                next_access_vtime: i64::from_le_bytes(r[16..24].try_into().unwrap()),
            }
        })
        .collect();
    Some(trace)
}

fn count_misses(cache: &mut dyn ReplayCache, trace: &[TraceRequest]) -> u64 {
    trace.iter().filter(|r| !cache.access(r, r.time_ms)).count() as u64
}

#[test]
fn cloud_physics_object_mode_matches_libcachesim_exactly() {
    let Some(trace) =
        read_cloud_physics_oracle_general("cloud_physics_object_mode_matches_libcachesim_exactly")
    else {
        return;
    };
    assert_eq!(trace.len(), 113_872);
    let expected = [
        (ExactPolicy::Lru, [95_398, 91_527, 72_053]),
        (ExactPolicy::Fifo, [96_483, 91_581, 72_229]),
    ];
    for (policy, misses) in expected {
        for (capacity, want) in [500u64, 5_000, 20_000].into_iter().zip(misses) {
            let mut cache = policy.build(capacity, true);
            let got = count_misses(cache.as_mut(), &trace);
            assert_eq!(got, want, "{} at {capacity} objects", policy.name());
            let end = cache.end_figures();
            assert_eq!(end.keys_end, Some(capacity));
            assert_eq!(end.used_memory_end, Some(capacity));
            // Every miss inserts (all sizes are 1): inserts = evictions + keys at the end.
            assert_eq!(end.evicted_keys, Some(want - capacity));
            assert_eq!(end.expired_keys, Some(0));
        }
    }
}

#[test]
fn other_policies_sit_between_bounds_on_cloud_physics() {
    // No libCacheSim count is stored for these: check they are sane (no worse than the
    // compulsory bound, and every miss accounted for).
    let Some(trace) =
        read_cloud_physics_oracle_general("other_policies_sit_between_bounds_on_cloud_physics")
    else {
        return;
    };
    for policy in [ExactPolicy::Sieve, ExactPolicy::Clock, ExactPolicy::S3Fifo] {
        let mut cache = policy.build(5_000, true);
        let misses = count_misses(cache.as_mut(), &trace);
        assert!(
            (48_974..113_872).contains(&misses),
            "{}: {misses}",
            policy.name()
        );
        // Every miss inserts (size 1 fits everywhere): inserts = evictions + keys at the end.
        let end = cache.end_figures();
        assert_eq!(end.keys_end, Some(5_000), "{}", policy.name());
        assert_eq!(end.evicted_keys, Some(misses - 5_000), "{}", policy.name());
        println!("{} at 5000 objects: {misses} misses", policy.name());
    }
}

#[test]
fn byte_mode_never_admits_an_oversized_object_and_keeps_insert_size() {
    let mut lru = LruCache::new(100, false);
    let big = TraceRequest {
        obj_id: 1,
        obj_size: 101,
        ..Default::default()
    };
    assert!(!lru.access(&big, 0));
    assert!(!lru.access(&big, 0));
    assert_eq!(lru.end_figures().keys_end, Some(0));
    let small = TraceRequest {
        obj_id: 2,
        obj_size: 60,
        ..Default::default()
    };
    assert!(!lru.access(&small, 0));
    // A hit with a different size neither changes the charge nor evicts.
    let grown = TraceRequest {
        obj_size: 90,
        ..small
    };
    assert!(lru.access(&grown, 0));
    assert_eq!(lru.end_figures().used_memory_end, Some(60));
}

#[test]
fn ttl_expires_strictly_after_the_expiry_instant() {
    let mut lru = LruCache::new(10, true);
    let req = TraceRequest {
        obj_id: 7,
        obj_size: 1,
        ttl_s: 2,
        ..Default::default()
    };
    assert!(!lru.access(&req, 1_000)); // expiry at 3,000 ms
    assert!(lru.access(&req, 2_500)); // a hit does not extend it
    assert!(lru.access(&req, 3_000)); // still live at the expiry instant
    assert!(!lru.access(&req, 3_001)); // expired: miss, reinserted (expiry 5,001)
    assert!(lru.access(&req, 5_001));
    let end = lru.end_figures();
    assert_eq!(end.expired_keys, Some(1));
    assert_eq!(end.evicted_keys, Some(0));
    assert_eq!(end.keys_end, Some(1));
}

#[test]
fn policy_names_parse() {
    for p in ExactPolicy::ALL {
        assert_eq!(ExactPolicy::parse(&p.name().to_uppercase()), Ok(p));
    }
    let err = ExactPolicy::parse("lfu").unwrap_err();
    assert!(err.to_string().contains("\"lfu\""), "{err}");
}

// ---------------------------------------------------------------------------------------------
// Plain reference implementations: a Vec ordered head (index 0) to tail, linear searches.

#[derive(Clone, Copy, Debug)]
struct RefEntry {
    id: u64,
    size: u64,
    expiry_ms: u64,
    bit: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum RefKind {
    Lru,
    Fifo,
    Sieve,
    Clock,
}

struct RefCache {
    kind: RefKind,
    capacity: u64,
    ignore_obj_size: bool,
    entries: Vec<RefEntry>,
    /// SIEVE hand: id of the object it points at.
    hand: Option<u64>,
    evicted: u64,
    expired: u64,
}

impl RefCache {
    fn new(kind: RefKind, capacity: u64, ignore_obj_size: bool) -> RefCache {
        RefCache {
            kind,
            capacity,
            ignore_obj_size,
            entries: Vec::new(),
            hand: None,
            evicted: 0,
            expired: 0,
        }
    }

    fn used(&self) -> u64 {
        self.entries.iter().map(|e| e.size).sum()
    }

    fn access(&mut self, req: &TraceRequest, now_ms: u64) -> bool {
        if let Some(pos) = self.entries.iter().position(|e| e.id == req.obj_id) {
            if self.entries[pos].expiry_ms < now_ms {
                if self.hand == Some(req.obj_id) {
                    self.hand = if pos > 0 {
                        Some(self.entries[pos - 1].id)
                    } else {
                        None
                    };
                }
                self.entries.remove(pos);
                self.expired += 1;
            } else {
                match self.kind {
                    RefKind::Lru => {
                        let e = self.entries.remove(pos);
                        self.entries.insert(0, e);
                    }
                    RefKind::Fifo => {}
                    RefKind::Sieve | RefKind::Clock => self.entries[pos].bit = true,
                }
                return true;
            }
        }
        let size = if self.ignore_obj_size {
            1
        } else {
            req.obj_size as u64
        };
        if size > self.capacity {
            return false;
        }
        while self.used() + size > self.capacity {
            self.evict_one();
        }
        let expiry_ms = if req.insert_ttl_ms() > 0 {
            now_ms + req.insert_ttl_ms()
        } else {
            u64::MAX
        };
        self.entries.insert(
            0,
            RefEntry {
                id: req.obj_id,
                size,
                expiry_ms,
                bit: false,
            },
        );
        false
    }

    fn evict_one(&mut self) {
        self.evicted += 1;
        match self.kind {
            RefKind::Lru | RefKind::Fifo => {
                self.entries.pop();
            }
            RefKind::Clock => loop {
                let mut e = self.entries.pop().unwrap();
                if e.bit {
                    e.bit = false;
                    self.entries.insert(0, e);
                } else {
                    break;
                }
            },
            RefKind::Sieve => {
                let last = self.entries.len() - 1;
                let mut pos = match self.hand {
                    Some(id) => self.entries.iter().position(|e| e.id == id).unwrap(),
                    None => last,
                };
                while self.entries[pos].bit {
                    self.entries[pos].bit = false;
                    pos = if pos == 0 { last } else { pos - 1 };
                }
                self.hand = if pos > 0 {
                    Some(self.entries[pos - 1].id)
                } else {
                    None
                };
                self.entries.remove(pos);
            }
        }
    }
}

fn random_trace(rng: &mut RngStream, n: usize) -> Vec<TraceRequest> {
    let n_objects = 3 + rng.below(40);
    let mut time_ms = 0u64;
    let sizes: Vec<u32> = (0..n_objects).map(|_| 1 + rng.below(60) as u32).collect();
    (0..n)
        .map(|_| {
            // Steps of 0 (same instant), and multiples of 500 ms so expiry instants get hit.
            time_ms += 500 * rng.below(3);
            let obj_id = rng.below(n_objects) * 0x1_0000_0001;
            let base = sizes[(obj_id / 0x1_0000_0001) as usize];
            // Mostly the object's own size, sometimes another (a hit must keep the insert size).
            let obj_size = if rng.below(5) == 0 {
                1 + rng.below(60) as u32
            } else {
                base
            };
            // Whole and fractional seconds (kv-csv's `5.326` is 5,326 ms).
            let ttl_ms = [0, 0, 1_000, 2_000, 5_326][rng.below(5) as usize];
            TraceRequest {
                time_ms,
                obj_id,
                obj_size,
                key_size: 0,
                value_size: obj_size,
                ttl_s: 0,
                ttl_ms,
                next_access_vtime: -2,
            }
        })
        .collect()
}

#[test]
fn policies_match_plain_references_on_random_traces() {
    let pairs = [
        (ExactPolicy::Lru, RefKind::Lru),
        (ExactPolicy::Fifo, RefKind::Fifo),
        (ExactPolicy::Sieve, RefKind::Sieve),
        (ExactPolicy::Clock, RefKind::Clock),
    ];
    let mut rng = RngStream::named(11, "replay/exact/tests");
    for round in 0..300 {
        let trace = random_trace(&mut rng, 400);
        let capacity = 1 + rng.below(400);
        let ignore_obj_size = round % 4 == 0;
        for (policy, kind) in pairs {
            let mut fast = policy.build(capacity, ignore_obj_size);
            let mut plain = RefCache::new(kind, capacity, ignore_obj_size);
            for (i, req) in trace.iter().enumerate() {
                assert_eq!(
                    fast.access(req, req.time_ms),
                    plain.access(req, req.time_ms),
                    "{} round {round} request {i} capacity {capacity}",
                    policy.name()
                );
            }
            let end = fast.end_figures();
            assert_eq!(end.evicted_keys, Some(plain.evicted), "{}", policy.name());
            assert_eq!(end.expired_keys, Some(plain.expired), "{}", policy.name());
            assert_eq!(end.keys_end, Some(plain.entries.len() as u64));
            assert_eq!(end.used_memory_end, Some(plain.used()));
        }
    }
}

/// Plain S3-FIFO: three Vecs ordered head (index 0) to tail, entries `(id, size, expiry, freq)`.
struct RefS3Fifo {
    capacity: u64,
    small_cap: u64,
    main_cap: u64,
    ghost_cap: u64,
    ignore_obj_size: bool,
    small: Vec<(u64, u64, u64, u32)>,
    main: Vec<(u64, u64, u64, u32)>,
    ghost: Vec<(u64, u64)>,
    has_evicted: bool,
    evicted: u64,
    expired: u64,
}

fn total(v: &[(u64, u64, u64, u32)]) -> u64 {
    v.iter().map(|e| e.1).sum()
}

impl RefS3Fifo {
    fn new(capacity: u64, ignore_obj_size: bool) -> RefS3Fifo {
        let small_cap = capacity / 10;
        RefS3Fifo {
            capacity,
            small_cap,
            main_cap: capacity - small_cap,
            ghost_cap: capacity * 9 / 10,
            ignore_obj_size,
            small: Vec::new(),
            main: Vec::new(),
            ghost: Vec::new(),
            has_evicted: false,
            evicted: 0,
            expired: 0,
        }
    }

    fn used(&self) -> u64 {
        total(&self.small) + total(&self.main)
    }

    fn access(&mut self, req: &TraceRequest, now: u64) -> bool {
        let mut hit_on_ghost = false;
        for queue in [&mut self.small, &mut self.main] {
            if let Some(p) = queue.iter().position(|e| e.0 == req.obj_id) {
                if queue[p].2 < now {
                    queue.remove(p);
                    self.expired += 1;
                } else {
                    queue[p].3 += 1;
                    return true;
                }
            }
        }
        if let Some(p) = self.ghost.iter().position(|e| e.0 == req.obj_id) {
            self.ghost.remove(p);
            hit_on_ghost = true;
        }
        let size = if self.ignore_obj_size {
            1
        } else {
            req.obj_size as u64
        };
        if size > self.small_cap || size > self.capacity {
            return false;
        }
        while self.used() + size > self.capacity {
            self.has_evicted = true;
            if total(&self.main) > self.main_cap || total(&self.small) == 0 {
                while total(&self.main) > 0 {
                    let mut e = self.main.pop().unwrap();
                    if e.3 >= 1 {
                        e.3 = e.3.min(3) - 1;
                        self.main.insert(0, e);
                    } else {
                        self.evicted += 1;
                        break;
                    }
                }
            } else {
                while total(&self.small) > 0 {
                    let mut e = self.small.pop().unwrap();
                    if e.3 >= 2 {
                        e.3 = 0;
                        self.main.insert(0, e);
                    } else {
                        self.evicted += 1;
                        if e.1 <= self.ghost_cap {
                            while self.ghost.iter().map(|g| g.1).sum::<u64>() + e.1 > self.ghost_cap
                            {
                                self.ghost.pop();
                            }
                            self.ghost.insert(0, (e.0, e.1));
                        }
                        break;
                    }
                }
            }
        }
        let expiry = if req.insert_ttl_ms() > 0 {
            now + req.insert_ttl_ms()
        } else {
            u64::MAX
        };
        let entry = (req.obj_id, size, expiry, 0);
        if hit_on_ghost {
            self.main.insert(0, entry);
        } else if size >= self.small_cap {
            return false;
        } else if !self.has_evicted && total(&self.small) >= self.small_cap {
            self.main.insert(0, entry);
        } else {
            self.small.insert(0, entry);
        }
        false
    }
}

#[test]
fn s3fifo_matches_a_plain_reference_on_random_traces() {
    let mut rng = RngStream::named(12, "replay/exact/tests/s3fifo");
    for round in 0..300 {
        let trace = random_trace(&mut rng, 600);
        let capacity = 1 + rng.below(800);
        let ignore_obj_size = round % 3 == 0;
        let capacity = if ignore_obj_size {
            1 + capacity / 20
        } else {
            capacity
        };
        let mut fast = S3FifoCache::new(capacity, ignore_obj_size);
        let mut plain = RefS3Fifo::new(capacity, ignore_obj_size);
        for (i, req) in trace.iter().enumerate() {
            assert_eq!(
                fast.access(req, req.time_ms),
                plain.access(req, req.time_ms),
                "round {round} request {i} capacity {capacity}"
            );
        }
        let end = fast.end_figures();
        assert_eq!(end.evicted_keys, Some(plain.evicted), "round {round}");
        assert_eq!(end.expired_keys, Some(plain.expired), "round {round}");
        assert_eq!(
            end.keys_end,
            Some((plain.small.len() + plain.main.len()) as u64)
        );
        assert_eq!(end.used_memory_end, Some(plain.used()));
    }
}
