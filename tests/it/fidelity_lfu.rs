//! The model's LFU counter against real Redis 7.0.15 (`fidelity/redis7/extras-lfu.json`):
//! OBJECT FREQ after 10 / 100 / 1k / 10k / 100k GETs on fresh keys (allkeys-lfu,
//! lfu-log-factor 10), and the decay step across a minute boundary.
//!
//! The counter is random, and the real file has only three keys, so the count test is
//! statistical, with fixed seeds, against two references:
//! 1. The exact distribution of the counter after n GETs, computed here by dynamic programming
//!    from the rule REDIS-MODEL.md section 5 states (start 5; at counter c < 255 increment with
//!    probability 1 / ((c - 5) * 10 + 1), always at c <= 5). Over `KEYS` model keys, the mean
//!    must be within 4 standard errors of the exact mean, and the empirical CDF within the
//!    Kolmogorov-Smirnov bound 1.95 / sqrt(KEYS) (alpha = 0.001) of the exact CDF.
//! 2. The real counters: the model's median over `KEYS` keys must lie in the real min..max of
//!    the three keys, not widened. (The exact distribution's median is inside every real range,
//!    and the nearest edge is at least 2.7 standard errors of an empirical median of 400 keys
//!    away, so a faithful model fails this with a probability below 1 % per count.) Every real
//!    counter must also lie within the exact 0.1 %..99.9 % quantiles: the rule itself fits.
//!
//! GETs run within one wall-clock minute (as the real GETs did, by their rate), so no decay.

use crate::fidelity_support::{assert_no_failures, redis7_json};
use cacheplan::engine::{RngStream, SimTime};
use cacheplan::redis::db::KeyRef;
use cacheplan::redis::evict::{lfu_decayed_counter, MaxmemoryPolicy};
use cacheplan::redis::shard::{Command, RedisConfig, Reply, Shard};

/// Model keys per count (see the module comment for why 400).
const KEYS: usize = 400;
/// The GET counts of the real measurement (cumulative on each key).
const GET_COUNTS: [u64; 5] = [10, 100, 1_000, 10_000, 100_000];
const LFU_LOG_FACTOR: u32 = 10;

fn lfu_config(epoch_unix_ms: u64) -> RedisConfig {
    RedisConfig {
        maxmemory_policy: MaxmemoryPolicy::AllkeysLfu,
        lfu_log_factor: LFU_LOG_FACTOR,
        lfu_decay_time: 1,
        epoch_unix_ms,
        ..RedisConfig::default()
    }
}

fn key(id: u64) -> KeyRef {
    KeyRef { id, len: 7 }
}

fn set(shard: &mut Shard, now: SimTime, id: u64) {
    let cmd = Command::Set {
        key: key(id),
        value_size: 10,
        ttl_ms: 0,
        nx: false,
        stamp: 0,
    };
    assert_eq!(shard.execute(now, cmd).reply, Reply::Ok);
}

fn get(shard: &mut Shard, now: SimTime, id: u64) {
    assert_eq!(
        shard.execute(now, Command::Get(key(id))).reply,
        Reply::Value
    );
}

/// The `lru` field of key `id` (LFU: minutes << 8 | counter).
fn lfu_field(shard: &Shard, id: u64) -> u32 {
    let pos = shard.db().find(id).expect("resident");
    shard.db().entry(pos).lru
}

/// Exact distribution (index = counter) after each of `GET_COUNTS` GETs on a fresh key.
fn exact_distributions() -> Vec<Vec<f64>> {
    let p_incr = |c: usize| -> f64 {
        if c >= 255 {
            0.0
        } else if c <= 5 {
            1.0
        } else {
            1.0 / ((c - 5) as f64 * LFU_LOG_FACTOR as f64 + 1.0)
        }
    };
    let mut dist = vec![0.0; 256];
    dist[5] = 1.0;
    let mut done = 0u64;
    let mut out = Vec::new();
    for &n in &GET_COUNTS {
        while done < n {
            for c in (5..255).rev() {
                let moved = dist[c] * p_incr(c);
                dist[c] -= moved;
                dist[c + 1] += moved;
            }
            done += 1;
        }
        out.push(dist.clone());
    }
    out
}

fn mean_sd(dist: &[f64]) -> (f64, f64) {
    let mean: f64 = dist.iter().enumerate().map(|(c, p)| c as f64 * p).sum();
    let var: f64 = dist
        .iter()
        .enumerate()
        .map(|(c, p)| (c as f64 - mean).powi(2) * p)
        .sum();
    (mean, var.sqrt())
}

fn quantile(dist: &[f64], q: f64) -> u32 {
    let mut cum = 0.0;
    for (c, p) in dist.iter().enumerate() {
        cum += p;
        if cum >= q {
            return c as u32;
        }
    }
    255
}

/// Model counters: `counters[k][key]` after `GET_COUNTS[k]` GETs, all within one minute.
fn model_counters(seed: u64) -> Vec<Vec<u32>> {
    let mut shard = Shard::new(lfu_config(1_767_225_600_000), &RngStream::new(seed, 0));
    let now = SimTime::from_ms(1_000); // 00:00:01, far from the next minute boundary
    let mut counters = vec![Vec::with_capacity(KEYS); GET_COUNTS.len()];
    for id in 0..KEYS as u64 {
        set(&mut shard, now, id);
        assert_eq!(lfu_field(&shard, id) & 0xFF, 5, "LFU_INIT_VAL");
        let mut done = 0u64;
        for (k, &n) in GET_COUNTS.iter().enumerate() {
            while done < n {
                get(&mut shard, now, id);
                done += 1;
            }
            counters[k].push(lfu_field(&shard, id) & 0xFF);
        }
    }
    counters
}

#[test]
fn lfu_counters_after_n_gets_match_the_rule_and_real_redis() {
    let real = redis7_json("extras-lfu.json");
    let real_keys = real["lfu"]["freq_after_hits"].as_array().expect("keys");
    // real_by_count[k] = the real counters after GET_COUNTS[k] GETs.
    let mut real_by_count = vec![Vec::new(); GET_COUNTS.len()];
    for series in real_keys {
        for point in series.as_array().expect("series") {
            let point = point.as_array().expect("point");
            if let (Some(n), Some(freq)) = (point[0].as_u64(), point[1].as_u64()) {
                let k = GET_COUNTS
                    .iter()
                    .position(|&g| g == n)
                    .expect("known count");
                real_by_count[k].push(freq as u32);
            }
        }
    }
    let exact = exact_distributions();
    let counters = model_counters(42);
    let mut failures = Vec::new();
    println!(
        "{:>7} {:>12} {:>10} {:>10} {:>10} {:>8} {:>8} {:>12} {:>9}",
        "gets",
        "real",
        "real_range",
        "exact_mean",
        "model_mean",
        "ex_med",
        "mod_med",
        "model_range",
        "ks_dist"
    );
    for (k, &n) in GET_COUNTS.iter().enumerate() {
        let real = &real_by_count[k];
        assert_eq!(real.len(), 3, "three real keys");
        let (real_min, real_max) = (*real.iter().min().unwrap(), *real.iter().max().unwrap());
        let (exact_mean, exact_sd) = mean_sd(&exact[k]);
        let mut model = counters[k].clone();
        model.sort_unstable();
        let model_mean = model.iter().map(|&c| c as f64).sum::<f64>() / KEYS as f64;
        let model_median = model[KEYS / 2];
        // Kolmogorov-Smirnov distance between the model's empirical CDF and the exact one.
        let mut ks: f64 = 0.0;
        let mut exact_cdf = 0.0;
        for c in 0..256u32 {
            exact_cdf += exact[k][c as usize];
            let below = model.partition_point(|&m| m <= c) as f64 / KEYS as f64;
            ks = ks.max((below - exact_cdf).abs());
        }
        println!(
            "{n:>7} {:>12} {:>10} {exact_mean:>10.2} {model_mean:>10.2} {:>8} {model_median:>8} \
             {:>12} {ks:>9.3}",
            format!("{real:?}"),
            format!("{real_min}..{real_max}"),
            quantile(&exact[k], 0.5),
            format!("{}..{}", model[0], model[KEYS - 1]),
        );
        let standard_error = exact_sd / (KEYS as f64).sqrt();
        if (model_mean - exact_mean).abs() > 4.0 * standard_error {
            failures.push(format!(
                "{n} GETs: model mean {model_mean:.2} vs exact {exact_mean:.2} (> 4 standard \
                 errors of {standard_error:.3})"
            ));
        }
        let ks_bound = 1.95 / (KEYS as f64).sqrt();
        if ks > ks_bound {
            failures.push(format!(
                "{n} GETs: KS distance {ks:.3} to the exact distribution above {ks_bound:.3}"
            ));
        }
        if !(real_min..=real_max).contains(&model_median) {
            failures.push(format!(
                "{n} GETs: model median {model_median} outside the real range \
                 {real_min}..{real_max}"
            ));
        }
        let (lo, hi) = (quantile(&exact[k], 0.001), quantile(&exact[k], 0.999));
        for &r in real {
            assert!(
                (lo..=hi).contains(&r),
                "{n} GETs: real counter {r} outside the rule's 0.1-99.9 % range {lo}..{hi}: \
                 REDIS-MODEL.md's increment rule itself would be wrong"
            );
        }
    }
    assert_no_failures("LFU counters", &failures);
}

#[test]
fn lfu_decays_one_step_across_a_minute_boundary() {
    // Real: OBJECT FREQ read 22 at t_before (xx:xx:58.501, right after the last touch) and 21 at
    // t_after, 3.004 s later, in the next minute: decay counts minute-truncated clock values.
    let real = redis7_json("extras-lfu.json");
    let obs = &real["lfu"]["decay_across_minute_boundary"];
    let freq_before = obs["freq_before"].as_u64().expect("freq_before") as u32;
    let freq_after = obs["freq_after"].as_u64().expect("freq_after") as u32;
    let t_before_ms = (obs["t_before"].as_f64().expect("t_before") * 1000.0).round() as u64;
    let t_after_ms = (obs["t_after"].as_f64().expect("t_after") * 1000.0).round() as u64;
    assert_eq!(t_before_ms / 1000 % 60, 58, "the touch is at second 58");
    assert_eq!(
        t_after_ms / 60_000,
        t_before_ms / 60_000 + 1,
        "one boundary"
    );

    // Simulated time zero one second before the touch: GETs at :58.0 until the counter reads the
    // real 22, then one more touch exactly at t_before (same minute).
    let epoch = t_before_ms - 1_000;
    let mut shard = Shard::new(lfu_config(epoch), &RngStream::new(3, 0));
    set(&mut shard, SimTime::from_ms(0), 1);
    let mut gets = 0u64;
    while lfu_field(&shard, 1) & 0xFF < freq_before {
        get(&mut shard, SimTime::from_ms(500), 1);
        gets += 1;
        assert!(gets < 1_000_000, "the counter must reach {freq_before}");
    }
    get(&mut shard, SimTime::from_ms(1_000), 1); // the touch at t_before (may add 1 more)
    let field = lfu_field(&shard, 1);
    let touched = field & 0xFF;
    assert!(touched == freq_before || touched == freq_before + 1);
    // OBJECT FREQ (decay computed, not written back) at both instants.
    let at_before = lfu_decayed_counter(field, t_before_ms, 1);
    let at_after = lfu_decayed_counter(field, t_after_ms, 1);
    let same_minute_later = lfu_decayed_counter(field, t_before_ms + 1_400, 1);
    println!(
        "decay: model {at_before} at t_before -> {at_after} at t_after (+3.004 s); real \
         {freq_before} -> {freq_after}; {gets} GETs to reach {freq_before}"
    );
    assert_eq!(at_before, touched, "no decay within the minute");
    assert_eq!(same_minute_later, touched, "no decay at :59.9");
    assert_eq!(
        touched - at_after,
        freq_before - freq_after,
        "one step lost 3 s after the touch"
    );
}
