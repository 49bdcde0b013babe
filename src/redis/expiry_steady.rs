//! The steady state of expire.c's active expiry, in closed form: how long the slow cycle's
//! cursor takes to walk a shard's expires dict once (its pass period) and so how many keys
//! whose TTL has run out a long run leaves resident ("ghosts": expired, not yet found by the
//! cursor, not yet touched by a client). The warm start (`sim::warm`) writes them, since they
//! hold memory a cluster under pressure must count.
//!
//! The model. Each serverCron tick runs one slow cycle: loops of `keys_per_loop` keys
//! (20 at `active-expire-effort` 1) from the persistent cursor, repeated while more than
//! `acceptable_stale` % (10 %) of a loop's keys had expired. A key's bucket is visited once a
//! pass of P seconds, at a phase independent of when the key expired, so a key that expired
//! waits U·P (U uniform) for the cursor, unless a request (rate λ) finds it first:
//! - ghost time per expiry: G(λ, P) = E[min(Exp(λ), U·P)] = 1/λ − (1 − e^(−λP))/(λ²P)
//!   (P/2 when λ = 0);
//! - ghosts in a bucket the cursor is about to visit (expired in the last P, untouched since):
//!   F(λ, P) = (1 − e^(−λP))/λ per unit expiry rate (P when λ = 0);
//! - the stale fraction the loop meets is q = Σ e·F / N (e: a key's expiries per second, N:
//!   the volatile keys resident, ghosts included); a loop stops with the probability that a
//!   binomial sample of `keys_per_loop` at q holds at most `acceptable_stale` %, so a tick
//!   scans `keys_per_loop` / P(stop) keys on average and the pass period solves
//!   P · hz · keys_per_loop / P(stop | q(P)) = N(P).
//!
//! Left out: the fast cycle (it runs only after a slow cycle hits its time limit), the time
//! limit itself (25 % of a tick: far above what the loops need at the rates modelled) and
//! the skip of very sparse tables.

/// Keys whose request rates differ by at most this fraction are one entry of [`ExpiringKeys`].
pub const MERGE_RELATIVE: f64 = 1e-3;

/// The volatile keys of one cluster, as the equilibrium needs them: their expiry processes.
#[derive(Debug, Default, Clone)]
pub struct ExpiringKeys {
    /// Expected volatile keys resident and live (TTL not yet run out), whole cluster.
    pub live: f64,
    /// (λ: requests per second to the key after it expires, e: its expiries per second); keys
    /// of nearly equal λ merged (see `add`).
    pub keys: Vec<(f64, f64)>,
    /// Expiries per second of keys never requested again (λ = 0), e.g. idempotency keys.
    pub unrequested_per_s: f64,
}

impl ExpiringKeys {
    /// Adds one key of request rate `lambda`/s that expires `expiries_per_s` times a second.
    /// A key whose rate is within [`MERGE_RELATIVE`] of the last one added joins it (rates
    /// weighted by expiries): keys come in popularity order, so a keyspace of millions of
    /// keys becomes a few thousand entries, and the equilibrium's functions, smooth in λ,
    /// move by a relative O(1e-6).
    pub fn add(&mut self, lambda: f64, expiries_per_s: f64) {
        if expiries_per_s > 0.0 {
            if lambda > 0.0 {
                match self.keys.last_mut() {
                    Some((l, e)) if (*l - lambda).abs() <= MERGE_RELATIVE * *l => {
                        let total = *e + expiries_per_s;
                        *l = (*l * *e + lambda * expiries_per_s) / total;
                        *e = total;
                    }
                    _ => self.keys.push((lambda, expiries_per_s)),
                }
            } else {
                self.unrequested_per_s += expiries_per_s;
            }
        }
    }

    /// Expected ghosts (whole cluster) for a pass period of `p_s` seconds.
    pub fn ghosts(&self, p_s: f64) -> f64 {
        self.unrequested_per_s * p_s / 2.0
            + self
                .keys
                .iter()
                .map(|&(l, e)| e * ghost_time_s(l, p_s))
                .sum::<f64>()
    }

    /// `ghosts(p_s)` and the expected ghosts just ahead of the cursor (keys expired within
    /// the last `p_s` seconds and not requested since), in one pass: one exponential per key.
    fn ghosts_and_front(&self, p_s: f64) -> (f64, f64) {
        let (mut ghosts, mut front) = (
            self.unrequested_per_s * p_s / 2.0,
            self.unrequested_per_s * p_s,
        );
        for &(l, e) in &self.keys {
            let x = l * p_s;
            let (g, f) = if x < 1e-6 {
                (ghost_time_s(l, p_s), front_time_s(l, p_s))
            } else {
                // 1 − e^(−x), shared by F = (1 − e^(−x))/λ and G = (x − (1 − e^(−x)))/(λx).
                let reached = -(-x).exp_m1();
                ((x - reached) / (l * x), reached / l)
            };
            ghosts += e * g;
            front += e * f;
        }
        (ghosts, front)
    }
}

/// F(λ, P): per unit expiry rate, the keys expired within the last `p_s` seconds that no
/// request (rate `lambda`/s) has touched since: (1 − e^(−λP))/λ, P when λ = 0. A key whose
/// bucket the cursor last visited w ago is a ghost with probability e·F(λ, w).
pub fn front_time_s(lambda: f64, p_s: f64) -> f64 {
    if lambda * p_s < 1e-9 {
        p_s
    } else {
        -(-lambda * p_s).exp_m1() / lambda
    }
}

/// G(λ, P): the mean time a key that expired stays resident, found either by a request of
/// rate `lambda`/s or by a cursor passing every `p_s` seconds.
pub fn ghost_time_s(lambda: f64, p_s: f64) -> f64 {
    let x = lambda * p_s;
    if x < 1e-6 {
        return p_s / 2.0 * (1.0 - x / 3.0);
    }
    // 1/λ − (1 − e^(−x))/(λx), written as (x − 1 + e^(−x))/(λx) for precision.
    (x + (-x).exp_m1()) / (lambda * x)
}

/// The probability that a loop of `n` keys at stale fraction `q` stops: at most
/// `acceptable_pct` % of them expired (expire.c: `expired*100/sampled > acceptable` goes on).
fn stop_probability(q: f64, n: u64, acceptable_pct: u64) -> f64 {
    let q = q.clamp(0.0, 1.0);
    let most = acceptable_pct * n / 100;
    // Binomial CDF by the recurrence on k.
    let mut term = (1.0 - q).powi(n as i32);
    let mut cdf = term;
    for k in 0..most {
        if q >= 1.0 {
            return 0.0;
        }
        term *= (n - k) as f64 / (k + 1) as f64 * q / (1.0 - q);
        cdf += term;
    }
    cdf.clamp(1e-9, 1.0)
}

/// The slow cycle's pass period, seconds, for a cluster of `shards` shards holding `keys`
/// (spread evenly by the hash), at `hz` and `active_expire_effort`. 0 when nothing expires.
pub fn pass_period_s(keys: &ExpiringKeys, shards: u32, hz: u32, active_expire_effort: u32) -> f64 {
    if keys.keys.is_empty() && keys.unrequested_per_s == 0.0 {
        return 0.0;
    }
    let effort = u64::from(active_expire_effort.saturating_sub(1));
    let per_loop = 20 + 5 * effort;
    let acceptable = 10 - effort.min(9);
    let shards = f64::from(shards.max(1));
    let hz = f64::from(hz.max(1));
    // f(P) = P − time to scan N(P) keys: negative while the cursor would pass faster.
    let excess = |p: f64| {
        let (ghosts, front) = keys.ghosts_and_front(p);
        let n = keys.live + ghosts;
        if n <= 0.0 {
            return 1.0;
        }
        let q = front / n;
        let keys_per_s = hz * per_loop as f64 / stop_probability(q, per_loop, acceptable);
        p - n / shards / keys_per_s
    };
    let mut hi = 1.0;
    while excess(hi) < 0.0 && hi < 1e9 {
        hi *= 2.0;
    }
    crate::engine::root::increasing_root(excess, 0.0, hi, 1e-12)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ghost_time_limits() {
        // No requests: the cursor's wait, uniform over the pass.
        assert!((ghost_time_s(0.0, 10.0) - 5.0).abs() < 1e-9);
        // Requests much more often than passes: the next request, 1/λ.
        assert!((ghost_time_s(100.0, 1e4) - 0.01).abs() < 1e-6);
        // Continuous across the series switch.
        let a = ghost_time_s(1e-7 / 10.0 * 0.999, 10.0);
        let b = ghost_time_s(1e-7 / 10.0 * 1.001, 10.0);
        assert!((a - b).abs() < 1e-6);
    }

    #[test]
    fn stop_probability_is_the_binomial_cdf() {
        // n = 20, at most 2 expired: (1−q)^20 + 20q(1−q)^19 + 190q²(1−q)^18.
        let q: f64 = 0.1;
        let want =
            (1.0 - q).powi(20) + 20.0 * q * (1.0 - q).powi(19) + 190.0 * q * q * (1.0 - q).powi(18);
        assert!((stop_probability(q, 20, 10) - want).abs() < 1e-12);
        assert_eq!(stop_probability(0.0, 20, 10), 1.0);
    }

    #[test]
    fn a_quiet_table_is_walked_at_the_minimum_rate() {
        // 100k live volatile keys, almost nothing expiring: 20 keys a tick at hz 10.
        let keys = ExpiringKeys {
            live: 100_000.0,
            keys: vec![],
            unrequested_per_s: 1e-6,
        };
        let p = pass_period_s(&keys, 1, 10, 1);
        assert!((p - 500.0).abs() < 0.5, "{p}");
    }

    #[test]
    fn busy_expiry_speeds_the_cursor_up_and_the_pass_balances() {
        // 1000 unrequested expiries a second among 100k keys: at the minimum rate (20 keys a
        // tick) the front would be half stale; the loops repeat until the pass balances.
        let keys = |rate: f64| ExpiringKeys {
            live: 100_000.0,
            keys: vec![],
            unrequested_per_s: rate,
        };
        let p = pass_period_s(&keys(1000.0), 1, 10, 1);
        let k = keys(1000.0);
        let n = k.live + k.ghosts(p);
        let q = k.ghosts_and_front(p).1 / n;
        let scanned_per_s = 10.0 * 20.0 / stop_probability(q, 20, 10);
        assert!((p * scanned_per_s - n).abs() < 1e-3 * n, "P {p}");
        assert!(p < 500.0);
        assert!(pass_period_s(&keys(3000.0), 1, 10, 1) < p);
    }

    /// The oracle: the Redis model's own shard (expire.c's cycle, step by step). Keys with a
    /// TTL of 60 s (30 s), never read, written at 500/s (2000/s) for 20 minutes; the expired keys still
    /// resident, averaged over the last 10 minutes, against rate × P/2. Tolerance 25 %: the
    /// closed form takes a steady cursor speed, while the real loop count varies from tick to
    /// tick; with a front about 30 % stale (the second case) the shard keeps 20 % more ghosts
    /// than the closed form (an independent bucket-ring simulation of the same loop agrees
    /// with the shard), at 10 % stale (the first) within a few %. Ghosts are 5–15 % of the
    /// keys, so this is 1–3 % of a shard's keys.
    #[test]
    fn ghosts_match_the_shard_model() {
        use crate::engine::{RngStream, SimTime};
        use crate::redis::db::KeyRef;
        use crate::redis::shard::{Command, RedisConfig, Shard};
        for (rate, ttl_s) in [(500u64, 60u64), (2_000, 30)] {
            let per_ms = rate.div_ceil(1000);
            let mut shard = Shard::new(RedisConfig::default(), &RngStream::new(4, 4));
            let (mut sum, mut samples) = (0.0, 0u32);
            let total_ms = 1_200_000u64;
            let every_ms = (1000 * per_ms / rate).max(1);
            let mut id = 0u64;
            let mut t = 0u64;
            while t < total_ms {
                let now = SimTime::from_ms(t);
                shard.run_cron_until(now);
                for _ in 0..per_ms {
                    let cmd = Command::Set {
                        key: KeyRef { id, len: 24 },
                        value_size: 100,
                        ttl_ms: ttl_s * 1000,
                        nx: false,
                        stamp: 0,
                    };
                    shard.execute(now, cmd);
                    id += 1;
                }
                if t >= total_ms / 2 && t.is_multiple_of(5_000) {
                    sum += shard.expired_resident(now) as f64;
                    samples += 1;
                }
                t += every_ms;
            }
            let measured = sum / f64::from(samples);
            let keys = ExpiringKeys {
                live: (rate * ttl_s) as f64,
                keys: vec![],
                unrequested_per_s: rate as f64,
            };
            let predicted = keys.ghosts(pass_period_s(&keys, 1, 10, 1));
            assert!(
                (measured / predicted - 1.0).abs() < 0.25,
                "rate {rate}/s TTL {ttl_s} s: shard {measured:.0} ghosts, closed form {predicted:.0}"
            );
        }
    }
}
