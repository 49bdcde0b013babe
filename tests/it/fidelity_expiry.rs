//! Active expiry of the Redis model on an idle server (hz 10) against real Redis 7.0.15
//! (`fidelity/redis7/extras-expire.json`). Only serverCron ticks run (`cron_due` / `cron`):
//! no command touches the keys after they are set, as in the real runs.
//!
//! - Mass expiry: 100,000 keys (100-byte values) expiring at one instant, beside 100,000
//!   persistent keys. Real: every TTL key gone between 970 and 1,021 ms after the instant, all
//!   20 slow cycles at their 25 ms cap. Accepted: all reclaimed 0.8-1.3 s after the instant (the
//!   issue's window around the real ~1.0 s), for several phases of the instant against the
//!   100 ms cron ticks.
//! - Spread expiry: 100,000 keys with TTLs evenly over 1-20 s, never read, beside 100,000
//!   persistent keys. Real: at most 28,162 expired keys still resident, 29.6 % of the TTL keys
//!   resident then. Accepted: the peak (the sample with the most expired-but-resident keys) at
//!   20-40 % of the TTL keys resident (the window), sampled every 250 ms.

use crate::fidelity_support::{assert_no_failures, redis7_json};
use cacheplan::engine::{RngStream, SimTime};
use cacheplan::redis::db::KeyRef;
use cacheplan::redis::shard::{Command, RedisConfig, Reply, Shard};

const TTL_KEYS: u64 = 100_000;
const PERSISTENT_KEYS: u64 = 100_000;
const VALUE_BYTES: u32 = 100;
/// Mass expiry: all TTL keys reclaimed within this window after the instant (ms).
const MASS_RECLAIM_WINDOW_MS: (u64, u64) = (800, 1_300);
/// Spread expiry: peak share of expired among resident TTL keys.
const SPREAD_PEAK_WINDOW: (f64, f64) = (0.20, 0.40);

/// An idle default server (hz 10, first cron tick at simulated time 0).
fn idle_server() -> Shard {
    Shard::new(RedisConfig::default(), &RngStream::new(11, 0))
}

fn set(shard: &mut Shard, id: u64, ttl_ms: u64) {
    let cmd = Command::Set {
        key: KeyRef { id, len: 8 },
        value_size: VALUE_BYTES,
        ttl_ms,
        nx: false,
        stamp: 0,
    };
    assert_eq!(shard.execute(SimTime::ZERO, cmd).reply, Reply::Ok);
}

/// Runs every cron tick due up to `now`.
fn run_cron_until(shard: &mut Shard, now: SimTime) {
    while let Some(tick) = shard.cron_due(now) {
        shard.cron(tick);
    }
}

/// A fixed-seed permutation of `0..n` (Fisher-Yates).
fn shuffled(n: u64, seed: u64) -> Vec<u64> {
    let mut rng = RngStream::new(seed, 1);
    let mut v: Vec<u64> = (0..n).collect();
    for i in (1..v.len()).rev() {
        let j = rng.below(i as u64 + 1) as usize;
        v.swap(i, j);
    }
    v
}

/// Sets the persistent and TTL keys at time 0 in a shuffled order (Redis walks the expires dict
/// in hash order, unrelated to TTLs), `ttl_ms(i)` for TTL key `i`.
fn fill(shard: &mut Shard, ttl_ms: impl Fn(u64) -> u64) {
    for i in shuffled(TTL_KEYS + PERSISTENT_KEYS, 5) {
        if i < TTL_KEYS {
            set(shard, i, ttl_ms(i));
        } else {
            set(shard, i, 0);
        }
    }
    assert_eq!(shard.keys(), TTL_KEYS + PERSISTENT_KEYS);
    assert_eq!(shard.expires(), TTL_KEYS);
}

#[test]
fn mass_expiry_is_reclaimed_in_about_a_second() {
    let real = redis7_json("extras-expire.json");
    let samples = real["expire"]["mass_expiry"]["samples"]
        .as_array()
        .expect("samples");
    // Columns: ms_after_expiry, db0_keys, db0_expires, ... (see the file).
    let real_done_ms = samples
        .iter()
        .map(|s| s.as_array().expect("row"))
        .find(|s| s[0].as_i64().unwrap() > 0 && s[2].as_u64() == Some(0))
        .map(|s| s[0].as_i64().unwrap())
        .expect("the real run reclaims everything");
    let mut failures = Vec::new();
    println!("real: all reclaimed by {real_done_ms} ms after the instant");
    println!(
        "{:>9} {:>12} {:>10} {:>13} {:>13}",
        "phase_ms", "reclaimed_ms", "cap_hits", "expire_cpu_ms", "keys_after"
    );
    // The instant's offset against the cron ticks (which fall on multiples of 100 ms).
    for phase_ms in [0u64, 1, 37, 50, 99] {
        let instant_ms = 3_000 + phase_ms;
        let mut shard = idle_server();
        fill(&mut shard, |_| instant_ms);
        let mut reclaimed_ms = None;
        for t in 0..=instant_ms + 5_000 {
            run_cron_until(&mut shard, SimTime::from_ms(t));
            if t <= instant_ms {
                assert_eq!(
                    shard.expires(),
                    TTL_KEYS,
                    "nothing expires before the instant"
                );
            } else if shard.expires() == 0 {
                reclaimed_ms = Some(t - instant_ms);
                break;
            }
        }
        let stats = *shard.stats();
        println!(
            "{phase_ms:>9} {:>12} {:>10} {:>13.1} {:>13}",
            reclaimed_ms.map_or("never".into(), |m| m.to_string()),
            stats.expired_time_cap_reached_count,
            stats.expire_cycle_cpu_ns as f64 / 1e6,
            shard.keys(),
        );
        assert_eq!(shard.keys(), PERSISTENT_KEYS + shard.expires());
        match reclaimed_ms {
            Some(ms) if (MASS_RECLAIM_WINDOW_MS.0..=MASS_RECLAIM_WINDOW_MS.1).contains(&ms) => {}
            other => failures.push(format!(
                "phase {phase_ms} ms: reclaimed after {other:?} ms, expected {}-{} ms",
                MASS_RECLAIM_WINDOW_MS.0, MASS_RECLAIM_WINDOW_MS.1
            )),
        }
    }
    assert_no_failures("mass expiry", &failures);
}

#[test]
fn spread_expiry_leaves_a_real_share_of_expired_keys_resident() {
    let real = redis7_json("extras-expire.json");
    let spread = &real["expire"]["spread_expiry"];
    let range = spread["ttl_ms_range"].as_array().expect("ttl range");
    let (ttl_min, ttl_max) = (range[0].as_u64().unwrap(), range[1].as_u64().unwrap());
    // Real rows: ms_since_base, present_with_ttl, alive_expected, lingering_expired, ...
    let real_rows: Vec<(u64, u64, u64)> = spread["samples"]
        .as_array()
        .expect("samples")
        .iter()
        .map(|s| {
            let s = s.as_array().expect("row");
            (
                s[0].as_u64().unwrap(),
                s[1].as_u64().unwrap(),
                s[3].as_u64().unwrap(),
            )
        })
        .collect();

    let mut shard = idle_server();
    // Evenly over ttl_min..ttl_max, in a shuffled order of insertion.
    let ttl_of = |i: u64| ttl_min + i * (ttl_max - ttl_min) / (TTL_KEYS - 1);
    fill(&mut shard, ttl_of);

    // Model samples every 250 ms, plus at each real sample instant for the side-by-side curve.
    let end_ms = (ttl_max + 2_000).max(real_rows.last().expect("samples").0);
    let mut every_250 = Vec::new(); // (ms, present, lingering)
    let mut at_real = Vec::new();
    let mut real_iter = real_rows.iter().peekable();
    for t in 0..=end_ms {
        let now = SimTime::from_ms(t);
        run_cron_until(&mut shard, now);
        let sample = || (t, shard.expires(), shard.expired_resident(now));
        if t % 250 == 0 && t > 0 {
            every_250.push(sample());
        }
        while real_iter.peek().is_some_and(|r| r.0 == t) {
            let r = real_iter.next().unwrap();
            at_real.push((*r, sample()));
        }
    }
    assert_eq!(at_real.len(), real_rows.len());

    println!(
        "{:>8} {:>12} {:>12} {:>13} {:>13}",
        "ms", "real_present", "real_linger", "model_present", "model_linger"
    );
    for ((ms, rp, rl), (_, mp, ml)) in &at_real {
        println!("{ms:>8} {rp:>12} {rl:>12} {mp:>13} {ml:>13}");
    }
    // Peak: the sample with the most expired-but-resident keys, as a share of the TTL keys
    // resident then. Mean share over samples with at least 1 % of the TTL keys resident.
    let summary = |rows: &[(u64, u64, u64)]| {
        let peak = rows.iter().max_by_key(|r| r.2).copied().expect("samples");
        let big: Vec<f64> = rows
            .iter()
            .filter(|r| r.1 * 100 >= TTL_KEYS)
            .map(|r| r.2 as f64 / r.1 as f64)
            .collect();
        let mean = big.iter().sum::<f64>() / big.len() as f64;
        (peak, peak.2 as f64 / peak.1 as f64, mean)
    };
    let (real_peak, real_share, real_mean) = summary(&real_rows);
    let (model_peak, model_share, model_mean) = summary(&every_250);
    let stats = *shard.stats();
    println!(
        "real: peak {} expired resident of {} TTL keys at {} ms ({:.1} %), mean share {:.1} %",
        real_peak.2,
        real_peak.1,
        real_peak.0,
        real_share * 100.0,
        real_mean * 100.0
    );
    println!(
        "model: peak {} expired resident of {} TTL keys at {} ms ({:.1} %), mean share {:.1} %; \
         time cap hit {} times, expire CPU {:.1} ms, all TTL keys gone: {}",
        model_peak.2,
        model_peak.1,
        model_peak.0,
        model_share * 100.0,
        model_mean * 100.0,
        stats.expired_time_cap_reached_count,
        stats.expire_cycle_cpu_ns as f64 / 1e6,
        shard.expires() == 0
    );
    assert!(
        (0.20..0.40).contains(&real_share),
        "the reference itself: {real_share}"
    );
    assert_eq!(shard.keys(), PERSISTENT_KEYS + shard.expires());
    let mut failures = Vec::new();
    if !(SPREAD_PEAK_WINDOW.0..=SPREAD_PEAK_WINDOW.1).contains(&model_share) {
        failures.push(format!(
            "peak share {:.1} % of resident TTL keys expired, expected {:.0}-{:.0} % (real {:.1} %)",
            model_share * 100.0,
            SPREAD_PEAK_WINDOW.0 * 100.0,
            SPREAD_PEAK_WINDOW.1 * 100.0,
            real_share * 100.0
        ));
    }
    if shard.expires() != 0 {
        failures.push(format!(
            "{} TTL keys still resident at {end_ms} ms, 2 s or more after the last TTL (real: none)",
            shard.expires()
        ));
    }
    assert_no_failures("spread expiry", &failures);
}
