//! serverCron and the active expire cycle of one `Shard` (server.c serverCron, expire.c
//! activeExpireCycle): the ticks at 1000/hz ms, each refreshing the LRU clock, shrinking
//! sparse dicts and running the slow cycle; the fast cycle before commands; and how a long
//! stretch of idle ticks is jumped over in one step when nothing can change (the cycle of
//! idle ticks repeats exactly while no key with a TTL is due). Split from `shard.rs` to keep
//! each file to one concept; it reads the shard's private state as a child module.

use super::*;

/// How many due serverCron ticks make `Shard::run_cron_until` look for a cycle of idle ticks
/// to jump over; a shorter catch-up is simply stepped.
pub const IDLE_JUMP_MIN_TICKS: u64 = 64;

/// The state at the start of an idle serverCron tick (`Shard::run_cron_until`).
#[derive(Clone, Copy, Debug)]
struct IdleTickMark {
    start_ns: u64,
    /// The expire cursor (all 64 bits: a later, larger table reads more of them).
    cursor: u64,
    /// CPU of the run's earlier idle ticks.
    cpu_before_ns: u64,
}

/// A cycle of idle ticks that repeats while no key with a TTL is due.
#[derive(Clone, Copy, Debug)]
struct IdleCycle {
    ticks: u64,
    cursor_advance: u64,
    cpu_ns: u64,
    /// From the first tick's start to the start of the tick after the last.
    duration_ns: u64,
    /// Start of the cycle's last tick.
    last_tick_start_ns: u64,
}

/// What a serverCron tick must leave unchanged to count as idle.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct IdleCheck {
    expired_keys: u64,
    time_cap_reached: u64,
    keys: usize,
    main_table_size: u64,
    expires_table_size: u64,
    last_fast_start_ns: u64,
}

impl IdleCheck {
    fn of(shard: &Shard) -> IdleCheck {
        IdleCheck {
            expired_keys: shard.stats.expired_keys,
            time_cap_reached: shard.stats.expired_time_cap_reached_count,
            keys: shard.db.len(),
            main_table_size: shard.db.main_table_size(),
            expires_table_size: shard.db.expires_table_size(),
            last_fast_start_ns: shard.expire.last_fast_start_ns,
        }
    }

    /// True when the tick that ran since `self` was taken was idle.
    fn still_idle(&self, shard: &Shard) -> bool {
        *self == IdleCheck::of(shard) && !shard.expire.timelimit_exit
    }
}

impl Shard {
    /// The next serverCron tick at or before `now`, if one is due.
    pub fn cron_due(&self, now: SimTime) -> Option<SimTime> {
        (self.next_cron_ns <= now.as_ns()).then_some(SimTime(self.next_cron_ns))
    }

    /// Runs the serverCron tick that `cron_due` reported, starting at `start` (its due time,
    /// or later when the main thread was busy): refreshes the cached LRU clock, shrinks sparse
    /// dicts, runs the slow active expire cycle and then a fast cycle (the event-loop
    /// iteration that ran the timer). The next tick is due 1000/hz ms after this one ends, as
    /// ae.c reschedules a timer from the time its callback returns. Returns the main-thread
    /// CPU used (ns).
    pub fn cron(&mut self, start: SimTime) -> u64 {
        debug_assert!(start.as_ns() >= self.next_cron_ns);
        self.cron_ticks += 1;
        self.lru_clock = evict::lru_clock(self.unix_ms(start));
        self.db.resize_tables();
        let slow = self.active_expire_cycle(start, false);
        let cpu = slow + self.active_expire_cycle(SimTime(start.as_ns() + slow), true);
        self.next_cron_ns = start
            .as_ns()
            .saturating_add(cpu)
            .saturating_add(self.cfg.cron_period_ns())
            .saturating_add(self.cfg.cron_tick_delay_ns);
        cpu
    }

    /// serverCron ticks run so far (server.c `cronloops`).
    pub fn cron_ticks(&self) -> u64 {
        self.cron_ticks
    }

    /// Runs every serverCron tick due at or before `now`, each at its due time (a main thread
    /// with nothing else to do), leaving the shard exactly as
    /// `while let Some(t) = cron_due(now) { cron(t) }` would, in time independent of how long
    /// the idle stretch is. Returns the CPU the ticks used (ns).
    ///
    /// How the jump stays exact: a tick is *idle* when it expires nothing, resizes no dict,
    /// does not hit the cycle's time limit and runs no fast cycle. With the keys unchanged, an
    /// idle tick's whole effect (the expire cursor's advance, the CPU it charges, hence when the
    /// next tick starts) depends only on the expire cursor's bucket (`cursor & mask`), and it
    /// stays the same at any later time at which no key with a TTL is due (`now_ms > when`
    /// for none). So, stepping ticks for real, this records the cursor's bucket at the start of
    /// each idle tick; when a bucket comes back, the ticks in between form a cycle (P ticks,
    /// cursor advance C, CPU T, duration D = P·period + T) that repeats for as long as no key
    /// is due. It then applies k whole cycles at once, k bounded so that the tick after them
    /// is still due by `now` and no skipped tick starts after the earliest TTL in the expires
    /// dict: cursor += k·C, next tick += k·D, ticks += k·P, expire CPU += k·T, the LRU clock
    /// of the last skipped tick, and the expired-stale EWMA times 0.95 once per skipped tick
    /// (each idle tick scores 0; the product reaches its floating-point fixed point within
    /// about 15,000 steps, so the loop is bounded). Ticks that do work (due keys, resizes)
    /// are always stepped.
    #[inline]
    pub fn run_cron_until(&mut self, now: SimTime) -> u64 {
        if self.next_cron_ns > now.as_ns() {
            return 0;
        }
        // Few ticks (the usual case between two requests): just step them. The number due
        // only falls as they run, so this choice holds for the whole catch-up.
        if (now.as_ns() - self.next_cron_ns) / self.cfg.cron_period_ns() < IDLE_JUMP_MIN_TICKS {
            let mut cpu_total = 0;
            while let Some(tick) = self.cron_due(now) {
                cpu_total += self.cron(tick);
            }
            return cpu_total;
        }
        self.run_cron_jumping(now)
    }

    /// `run_cron_until` over a long stretch: steps ticks while looking for a cycle of idle
    /// ticks, and jumps whole cycles.
    #[inline(never)]
    fn run_cron_jumping(&mut self, now: SimTime) -> u64 {
        let period = self.cfg.cron_period_ns();
        let mut cpu_total = 0u64;
        // The current run of consecutive idle ticks: the state at each one's start, and the
        // index of the latest mark per expire-cursor bucket.
        let mut marks: Vec<IdleTickMark> = Vec::new();
        let mut seen: HashMap<u64, usize> = HashMap::new();
        let mut cpu_in_run = 0u64;
        // The earliest expire time in the expires dict (None = no TTL key), computed once per
        // run of idle ticks (they change no key).
        let mut earliest_expire: Option<Option<u64>> = None;
        while let Some(tick) = self.cron_due(now) {
            let start = tick.as_ns();
            let probing =
                !marks.is_empty() || (now.as_ns() - start) / period >= IDLE_JUMP_MIN_TICKS;
            if probing {
                let bucket = self.expire_cursor_bucket();
                if let Some(&i) = seen.get(&bucket) {
                    let earliest =
                        *earliest_expire.get_or_insert_with(|| self.earliest_expire_ms());
                    let cycle = IdleCycle {
                        ticks: (marks.len() - i) as u64,
                        cursor_advance: self.expire.cursor.wrapping_sub(marks[i].cursor),
                        cpu_ns: cpu_in_run - marks[i].cpu_before_ns,
                        duration_ns: start - marks[i].start_ns,
                        last_tick_start_ns: marks[marks.len() - 1].start_ns,
                    };
                    if let Some(skipped_cpu) = self.jump_idle_cycles(&cycle, now, earliest) {
                        cpu_total += skipped_cpu;
                        marks.clear();
                        seen.clear();
                        cpu_in_run = 0;
                        continue;
                    }
                }
                seen.insert(bucket, marks.len());
                marks.push(IdleTickMark {
                    start_ns: start,
                    cursor: self.expire.cursor,
                    cpu_before_ns: cpu_in_run,
                });
            }
            let before = IdleCheck::of(self);
            let cpu = self.cron(tick);
            cpu_total += cpu;
            if probing {
                if before.still_idle(self) {
                    cpu_in_run += cpu;
                } else {
                    marks.clear();
                    seen.clear();
                    cpu_in_run = 0;
                    earliest_expire = None;
                }
            }
        }
        cpu_total
    }

    /// The expire cursor's bucket in the expires dict (0 with no table).
    fn expire_cursor_bucket(&self) -> u64 {
        match self.db.expires_table_size() {
            0 => 0,
            size => self.expire.cursor & (size - 1),
        }
    }

    /// The earliest expire time (unix ms) of a key with a TTL; None without one. Linear.
    fn earliest_expire_ms(&self) -> Option<u64> {
        self.db
            .positions(true)
            .map(|pos| self.db.entry(pos).expire_at_ms())
            .min()
    }

    /// Applies as many whole repetitions of the idle `cycle` as allowed (see
    /// `run_cron_until`): the next tick, at `next_cron_ns + k·duration`, must still be due at
    /// `now`, and no skipped tick may start after `earliest_expire_ms`. Returns the CPU of the
    /// skipped ticks, or None when not one whole cycle could be skipped.
    fn jump_idle_cycles(
        &mut self,
        cycle: &IdleCycle,
        now: SimTime,
        earliest_expire_ms: Option<u64>,
    ) -> Option<u64> {
        let start = self.next_cron_ns as u128;
        let duration = cycle.duration_ns as u128;
        let mut k = (now.as_ns() as u128 - start) / duration;
        if let Some(when_ms) = earliest_expire_ms {
            // Every skipped tick starts before start + k·duration; a tick at ns t sees unix
            // ms epoch + t / 1e6, which must not pass `when_ms`.
            let since_epoch_ms = when_ms.checked_sub(self.cfg.epoch_unix_ms)?;
            let last_ok_ns = since_epoch_ms as u128 * 1_000_000;
            k = k.min(last_ok_ns.checked_sub(start)? / duration);
        }
        if k == 0 {
            return None;
        }
        // k·duration ≤ now - start fits in u64, and so do k·ticks and k·cpu (each ≤ it).
        let k = k as u64;
        let skipped_ticks = k * cycle.ticks;
        #[cfg(test)]
        tests::TICKS_JUMPED.with(|n| n.set(n.get() + skipped_ticks));
        let cpu = k * cycle.cpu_ns;
        self.next_cron_ns += k * cycle.duration_ns;
        self.cron_ticks += skipped_ticks;
        self.expire.cursor = self
            .expire
            .cursor
            .wrapping_add(k.wrapping_mul(cycle.cursor_advance));
        self.stats.expire_cycle_cpu_ns += cpu;
        let last_start = SimTime(cycle.last_tick_start_ns + k * cycle.duration_ns);
        self.lru_clock = evict::lru_clock(self.unix_ms(last_start));
        let mut stale = self.expire.stale_perc;
        for _ in 0..skipped_ticks {
            // An idle tick scores 0 expired of its sample: `0.0 * 0.05 + stale * 0.95`, and
            // adding +0.0 to a non-negative float changes nothing.
            let next = stale * 0.95;
            if next == stale {
                break;
            }
            stale = next;
        }
        self.expire.stale_perc = stale;
        Some(cpu)
    }

    /// expire.c activeExpireCycle (slow or fast) at `now`; returns the CPU used (ns).
    pub(super) fn active_expire_cycle(&mut self, now: SimTime, fast: bool) -> u64 {
        let effort = self.cfg.active_expire_effort.saturating_sub(1) as u64;
        let keys_per_loop = 20 + 5 * effort;
        let fast_duration_us = 1000 + 250 * effort;
        let slow_time_perc = 25 + 2 * effort;
        let acceptable_stale = 10 - effort.min(9);
        if fast {
            // expire.c keeps stat_expired_stale_perc as a fraction (0..1) but compares it with
            // the acceptable stale percentage (10): in 7.0 the test is always true, so a fast
            // cycle runs only after a cycle that hit its time limit. Reproduced as is.
            if !self.expire.timelimit_exit && self.expire.stale_perc < acceptable_stale as f64 {
                return 0;
            }
            if now.as_ns() < self.expire.last_fast_start_ns + fast_duration_us * 2_000
                && self.expire.last_fast_start_ns != 0
            {
                return 0;
            }
            self.expire.last_fast_start_ns = now.as_ns().max(1);
        }
        let timelimit_ns = if fast {
            fast_duration_us * 1000
        } else {
            slow_time_perc * 1_000_000_000 / self.cfg.hz as u64 / 100
        };
        self.expire.timelimit_exit = false;
        let now_ms = self.unix_ms(now);
        let (mut total_sampled, mut total_expired) = (0u64, 0u64);
        let mut cpu_ns = 0u64;
        let mut iteration = 0u64;
        loop {
            iteration += 1;
            let num = self.db.expires_len() as u64;
            if num == 0 {
                break;
            }
            let slots = self.db.expires_table_size();
            if slots > memory::DICT_HT_INITIAL_SIZE && num * 100 / slots < 1 {
                break;
            }
            let n = num.min(keys_per_loop);
            // 7.0: whole chains of consecutive buckets from the persistent cursor, until n
            // keys or 20 x n buckets.
            let mut batch = std::mem::take(&mut self.expire.sampled);
            let walk = self.db.expires_walk(&mut self.expire.cursor, n, &mut batch);
            cpu_ns += walk.empty_buckets * self.cfg.cpu.expire_empty_bucket_ns;
            let sampled = batch.len() as u64;
            let mut expired = 0u64;
            for &pos in &batch {
                if now_ms > self.db.entry(pos).expire_at_ms() {
                    self.db.prefetch_removal(pos);
                }
            }
            for &pos in &batch {
                if now_ms > self.db.entry(pos).expire_at_ms() {
                    let gone = self.db.remove(pos);
                    self.tags.expired[key_tag(gone.key_id)] += 1;
                    expired += 1;
                    cpu_ns += self.cfg.cpu.expire_delete_ns;
                } else {
                    cpu_ns += self.cfg.cpu.expire_check_ns;
                }
            }
            self.expire.sampled = batch;
            total_sampled += sampled;
            total_expired += expired;
            if iteration.is_multiple_of(16) && cpu_ns > timelimit_ns {
                self.expire.timelimit_exit = true;
                self.stats.expired_time_cap_reached_count += 1;
                break;
            }
            if !(sampled == 0 || expired * 100 / sampled > acceptable_stale) {
                break;
            }
        }
        self.stats.expired_keys += total_expired;
        self.stats.expired_keys_active += total_expired;
        self.stats.expire_cycle_cpu_ns += cpu_ns;
        let current = if total_sampled > 0 {
            total_expired as f64 / total_sampled as f64
        } else {
            0.0
        };
        self.expire.stale_perc = current * 0.05 + self.expire.stale_perc * 0.95;
        cpu_ns
    }
}
