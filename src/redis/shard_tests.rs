//! Unit tests of `redis::shard`: idle-cycle jumps against stepping, maxmemory policies,
//! lazy expiry, SET options, value stamps and object writes.

use super::*;
use crate::redis::evict::MaxmemoryPolicy;
use crate::redis::objects;

fn key(id: u64) -> KeyRef {
    KeyRef { id, len: 8 }
}

fn shard(policy: MaxmemoryPolicy, maxmemory_bytes: u64) -> Shard {
    let cfg = RedisConfig {
        maxmemory_bytes,
        maxmemory_policy: policy,
        ..RedisConfig::default()
    };
    Shard::new(cfg, &RngStream::new(1, 1))
}

fn set(id: u64, ttl_ms: u64) -> Command {
    Command::Set {
        key: key(id),
        value_size: 1000,
        ttl_ms,
        nx: false,
        stamp: 0,
    }
}

thread_local! {
    /// Ticks `run_cron_until` skipped on this thread (so a test can tell a jump happened).
    pub(super) static TICKS_JUMPED: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

fn ticks_jumped() -> u64 {
    TICKS_JUMPED.with(|n| n.get())
}

/// The reference: every due tick stepped.
fn step_cron(s: &mut Shard, now: SimTime) -> u64 {
    let mut cpu = 0;
    while let Some(tick) = s.cron_due(now) {
        cpu += s.cron(tick);
    }
    cpu
}

/// Runs `s` to each checkpoint both ways and asserts the same CPU and the same state
/// (the whole shard's `Debug` text: db, pool, clocks, cursor, EWMA, counters).
fn jump_matches_stepping(s: Shard, checkpoints_ms: &[u64]) -> Shard {
    let (mut stepped, mut jumped) = (s.clone(), s);
    for &ms in checkpoints_ms {
        let now = SimTime::from_ms(ms);
        assert_eq!(
            step_cron(&mut stepped, now),
            jumped.run_cron_until(now),
            "at {ms} ms"
        );
        let (a, b) = (format!("{stepped:?}"), format!("{jumped:?}"));
        if a != b {
            let at = a.bytes().zip(b.bytes()).take_while(|(x, y)| x == y).count();
            let from = at.saturating_sub(200);
            panic!(
                "at {ms} ms the states differ:\nstepped ...{}\njumped  ...{}",
                &a[from..(at + 100).min(a.len())],
                &b[from..(at + 100).min(b.len())]
            );
        }
        assert_eq!(stepped.cron_ticks(), jumped.cron_ticks());
    }
    jumped
}

fn small_set(id: u64, ttl_ms: u64) -> Command {
    Command::Set {
        key: key(id),
        value_size: 100,
        ttl_ms,
        nx: false,
        stamp: 0,
    }
}

#[test]
fn idle_jump_matches_stepping_without_ttl_keys() {
    let mut s = shard(MaxmemoryPolicy::AllkeysLru, 0);
    jump_matches_stepping(s.clone(), &[600_000]);
    for id in 0..1_000 {
        s.execute(SimTime::from_ms(id), small_set(id, 0));
    }
    let s = jump_matches_stepping(s, &[1_000, 600_000, 600_050, 1_200_000]);
    assert_eq!(s.cron_ticks(), 12_001);
    assert!(ticks_jumped() > 11_000, "{}", ticks_jumped());
    assert_eq!(s.keys(), 1_000);
}

#[test]
fn idle_jump_matches_stepping_with_ttl_keys_due_and_not_due_in_the_gap() {
    let mut rng = RngStream::new(9, 9);
    for (hz, effort) in [(10, 1), (100, 1), (7, 10)] {
        let cfg = RedisConfig {
            hz,
            active_expire_effort: effort,
            cron_phase_ms: 3,
            ..RedisConfig::default()
        };
        let mut s = Shard::new(cfg, &RngStream::new(1, 1));
        for id in 0..3_000u64 {
            // A third without TTL, a third expiring within ten minutes, a third after.
            let ttl_ms = match id % 3 {
                0 => 0,
                1 => 1 + rng.below(600_000),
                _ => 3_600_000 + rng.below(3_600_000),
            };
            s.execute(SimTime::from_ms(id / 10), small_set(id, ttl_ms));
        }
        let jumped_before = ticks_jumped();
        let s = jump_matches_stepping(s, &[400, 10_000, 610_000, 700_000, 9_000_000]);
        let ticks = s.cron_ticks();
        assert!(
            ticks_jumped() - jumped_before > ticks / 2,
            "hz {hz}: {ticks}"
        );
        assert_eq!(s.expires(), 0, "hz {hz}");
        assert_eq!(s.stats().expired_keys_active, 2_000, "hz {hz}");
    }
}

#[test]
fn idle_jump_matches_stepping_after_mass_expiry_and_shrinking() {
    let mut s = shard(MaxmemoryPolicy::VolatileLru, 0);
    for id in 0..20_000u64 {
        s.execute(
            SimTime::from_ms(1),
            small_set(id, 5_000 + (id % 4) * 60_000),
        );
    }
    for id in 0..50u64 {
        s.execute(SimTime::from_ms(2), small_set(1_000_000 + id, 0));
    }
    let s = jump_matches_stepping(s, &[3, 5_000, 66_000, 600_000]);
    assert!(ticks_jumped() > 1_000, "{}", ticks_jumped());
    assert_eq!(s.keys(), 50);
    assert_eq!(s.stats().expired_keys, 20_000);
}

#[test]
fn idle_jump_crosses_centuries_in_bounded_work() {
    let mut s = shard(MaxmemoryPolicy::AllkeysLru, 0);
    for id in 0..2_000u64 {
        let ttl_ms = if id % 2 == 0 { 0 } else { 1_000 * (1 + id) };
        s.execute(SimTime::from_ms(id), small_set(id, ttl_ms));
    }
    let started = std::time::Instant::now();
    // 500 years at hz 10: 1.6e11 ticks, far too many to step.
    let now = SimTime::from_secs(500 * 365 * 86_400);
    s.run_cron_until(now);
    assert!(started.elapsed().as_secs() < 5, "{:?}", started.elapsed());
    assert_eq!((s.keys(), s.expires()), (1_000, 0));
    assert_eq!(s.stats().expired_keys, 1_000);
    // The next tick is due within one period after `now`, the LRU clock reads the last.
    let next = s.cron_due(SimTime::MAX).unwrap();
    assert!(next > now && next.as_ns() <= now.as_ns() + s.config().cron_period_ns());
    let last_tick_ms = s.unix_ms(SimTime(next.as_ns() - s.config().cron_period_ns()));
    assert_eq!(s.lru_clock, evict::lru_clock(last_tick_ms));
    assert!(s.cron_ticks() > 157_000_000_000);
}

#[test]
fn each_tick_slips_by_the_configured_delay() {
    // An empty shard: the tick itself costs no CPU, so the next is due one period plus the
    // delay after it (ae.c reschedules from the callback's end).
    let cfg = RedisConfig {
        cron_phase_ms: 30,
        cron_tick_delay_ns: 1_250_000,
        ..RedisConfig::default()
    };
    let mut s = Shard::new(cfg, &RngStream::new(1, 1));
    let first = s
        .cron_due(SimTime::from_ms(30))
        .expect("first tick at the phase");
    assert_eq!(first, SimTime::from_ms(30));
    assert_eq!(s.cron(first), 0);
    assert_eq!(s.cron_due(SimTime::from_ms(131)), None);
    assert_eq!(
        s.cron_due(SimTime::from_ms(132)),
        Some(SimTime::from_ns(131_250_000))
    );
    // Through 1.2 s: ticks at 30 + k x 101.25 ms for k = 0..=11, the next at k = 12.
    s.run_cron_until(SimTime::from_ms(1_200));
    assert_eq!(s.cron_ticks(), 12);
    assert_eq!(
        s.cron_due(SimTime::from_secs(2)),
        Some(SimTime::from_ns(30_000_000 + 12 * 101_250_000))
    );
    // A long idle stretch is jumped over in whole cycles, landing on the same schedule.
    let jumped_before = ticks_jumped();
    s.run_cron_until(SimTime::from_secs(100));
    assert!(ticks_jumped() > jumped_before);
    assert_eq!(s.cron_ticks(), 988);
    assert_eq!(
        s.cron_due(SimTime::from_secs(200)),
        Some(SimTime::from_ns(30_000_000 + 988 * 101_250_000))
    );
}

#[test]
fn noeviction_rejects_writes_over_the_limit_but_serves_reads() {
    let mut s = shard(MaxmemoryPolicy::Noeviction, 1_100_000);
    let t = SimTime::from_secs(1);
    let mut id = 0;
    while s.execute(t, set(id, 0)).reply == Reply::Ok {
        id += 1;
    }
    // Refused once used_memory plus the SET's own arguments passes the limit.
    assert!(s.used_memory() + set(id, 0).argv_bytes() > 1_100_000);
    assert!(s.used_memory() <= 1_100_000 + 1_200);
    assert_eq!(s.stats().oom_errors, 1);
    assert_eq!(s.execute(t, Command::Get(key(0))).reply, Reply::Value);
    assert_eq!(s.execute(t, Command::Del(key(0))).reply, Reply::Integer(1));
    assert_eq!(s.stats().evicted_keys, 0);
}

#[test]
fn the_maxmemory_check_counts_the_commands_own_arguments() {
    // The arguments as processMultibulkBuffer allocates them: argv of 3 pointers (32), "SET"
    // and the 8-byte key as EMBSTR (32 each), the 1000-byte value RAW (16 + J(1004) = 1040);
    // with PX 60000 two more EMBSTR objects and 5 pointers (48).
    assert_eq!(set(0, 0).argv_bytes(), 32 + 32 + 32 + 1040);
    assert_eq!(set(0, 60_000).argv_bytes(), 48 + 32 + 32 + 1040 + 32 + 32);
    let small = |id| Command::Set {
        key: key(id),
        value_size: 10,
        ttl_ms: 0,
        nx: false,
        stamp: 0,
    };
    let t = SimTime::from_secs(1);
    let mut unlimited = shard(MaxmemoryPolicy::Noeviction, 1 << 30);
    for id in 0..100 {
        unlimited.execute(t, set(id, 0));
    }
    // A full noeviction server with exactly the room a small SET's arguments take: the large
    // SET is refused, the small one runs (used + arguments == maxmemory), the next is not.
    let used = unlimited.used_memory();
    let mut s = shard(MaxmemoryPolicy::Noeviction, used + small(100).argv_bytes());
    for id in 0..100 {
        assert_eq!(s.execute(t, set(id, 0)).reply, Reply::Ok);
    }
    assert_eq!(s.used_memory(), used);
    assert_eq!(s.execute(t, set(100, 0)).reply, Reply::Oom);
    assert_eq!(s.execute(t, small(100)).reply, Reply::Ok);
    assert_eq!(s.execute(t, small(101)).reply, Reply::Oom);
    assert_eq!(s.stats().oom_errors, 2);
}

#[test]
fn volatile_policy_without_ttl_keys_cannot_evict() {
    let mut s = shard(MaxmemoryPolicy::VolatileLru, 1_100_000);
    let t = SimTime::from_secs(1);
    let mut id = 0;
    while s.execute(t, set(id, 0)).reply == Reply::Ok {
        id += 1;
    }
    assert_eq!(s.stats().evicted_keys, 0);
    assert!(s.stats().oom_errors >= 1);
    // Keys with a TTL become candidates: evicting them makes room again.
    let mut v = shard(MaxmemoryPolicy::VolatileLru, 1_100_000);
    for id in 0..400 {
        v.execute(t, set(id, 60_000));
    }
    assert!(v.stats().evicted_keys > 0);
    assert_eq!(v.stats().oom_errors, 0);
    assert!(v.used_memory() <= 1_100_000 + 2_000);
}

#[test]
fn allkeys_lru_stays_under_maxmemory_after_each_command() {
    let mut s = shard(MaxmemoryPolicy::AllkeysLru, 2_000_000);
    for id in 0..10_000u64 {
        let t = SimTime::from_ms(id);
        s.execute(t, set(id, 0));
        // Eviction runs before a command: the excess is at most the last write.
        assert!(s.used_memory() <= 2_000_000 + 1_200, "{}", s.used_memory());
    }
    assert!(s.stats().evicted_keys > 8_000);
}

#[test]
fn lazy_expiry_is_strictly_after_the_expire_time() {
    let mut s = shard(MaxmemoryPolicy::Noeviction, 0);
    s.execute(SimTime::from_ms(1_000), set(7, 500));
    assert_eq!(
        s.execute(SimTime::from_ms(1_500), Command::Get(key(7)))
            .reply,
        Reply::Value
    );
    assert_eq!(
        s.execute(SimTime::from_ms(1_501), Command::Get(key(7)))
            .reply,
        Reply::Nil
    );
    assert_eq!(s.stats().expired_keys, 1);
    assert_eq!(s.keys(), 0);
}

#[test]
fn set_without_keepttl_removes_the_ttl_and_nx_keeps_the_value() {
    let mut s = shard(MaxmemoryPolicy::Noeviction, 0);
    let t = SimTime::from_secs(1);
    s.execute(t, set(1, 100));
    assert_eq!(s.expires(), 1);
    s.execute(t, set(1, 0));
    assert_eq!(s.expires(), 0);
    let nx = Command::Set {
        key: key(1),
        value_size: 10,
        ttl_ms: 5,
        nx: true,
        stamp: 0,
    };
    assert_eq!(s.execute(t, nx).reply, Reply::Nil);
    assert_eq!(s.expires(), 0);
}

#[test]
fn value_stamps_follow_the_value_and_die_with_the_key() {
    let mut s = shard(MaxmemoryPolicy::Noeviction, 0);
    let t = SimTime::from_secs(1);
    let stamped = |id, stamp, nx| Command::Set {
        key: key(id),
        value_size: 100,
        ttl_ms: 0,
        nx,
        stamp,
    };
    // Without stamps enabled, a hit reads 0.
    s.execute(t, stamped(1, 5, false));
    assert_eq!(s.execute(t, Command::Get(key(1))).stamp, 0);
    s.enable_value_stamps();
    s.execute(t, stamped(1, 7, false));
    assert_eq!(s.execute(t, Command::Get(key(1))).stamp, 7);
    // SET NX on an existing key leaves the value (and its stamp) alone.
    s.execute(t, stamped(1, 9, true));
    assert_eq!(s.execute(t, Command::Get(key(1))).stamp, 7);
    // A deleted key's slot is reused by a new key that starts without a stamp.
    s.execute(t, Command::Del(key(1)));
    assert_eq!(s.execute(t, Command::Get(key(1))).stamp, 0);
    s.execute(
        t,
        Command::IncrExpire {
            key: key(2),
            ttl_ms: 0,
        },
    );
    assert_eq!(s.execute(t, Command::Get(key(2))).stamp, 0);
    // A miss reads 0; a flush keeps stamps enabled.
    assert_eq!(s.execute(t, Command::Get(key(3))).stamp, 0);
    s.flush_all();
    s.execute(t, stamped(4, 11, false));
    assert_eq!(s.execute(t, Command::Get(key(4))).stamp, 11);
}

#[test]
fn write_object_charges_the_collection_and_sets_its_ttl() {
    let mut s = shard(MaxmemoryPolicy::Noeviction, 0);
    let t = SimTime::from_secs(1);
    let base = s.used_memory();
    let small = objects::zset_bytes(1, 16) as u32;
    let large = objects::zset_bytes(100, 16) as u32;
    let w = |object_bytes| Command::WriteObject {
        key: key(3),
        object_bytes,
        object_type: ObjectType::Zset,
        ttl_ms: 60_000,
    };
    s.execute(t, w(small));
    let one = s.used_memory() - base;
    s.execute(t, w(large));
    let hundred = s.used_memory() - base;
    assert_eq!(hundred - one, (large - small) as u64);
    assert_eq!(s.expires(), 1);
}
