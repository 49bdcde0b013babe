//! The business-invariant monitors of one plan's simulation: what the application believes
//! about the values it reads, locks it holds and commands it runs, kept beside the Redis model
//! so that a violation is seen when it happens, with its time.
//!
//! It owns the monitors' state (the keys written where Redis is the source of truth, each
//! local copy, the holders of each lock key, executions per idempotency key, the source's
//! change times) and the stamp format of a value (`ValueInfo::stamp`: who loaded it and
//! when, kept by the shard with the key, so a reader learns what it was served)
//! and the tallies per scope (the run after the warm-up, each fault's window) and per time
//! window. It must not schedule events or touch shards: `sim` calls it on each read, write,
//! lock and execution. A read of a value older than the source's last change is a violation
//! only when the request started after the change and read at least
//! [`STALENESS_THRESHOLD`] after it ([`stale_reason`]); the others are counted apart. State is kept only for keyspaces whose invariants need it, so plain
//! cache keyspaces pay nothing. Hash maps are only looked up, never iterated into output.

use crate::engine::IdMap;
use crate::engine::SimTime;
use crate::metrics::{Invariant, InvariantResult, Tally, N_INVARIANTS, STALENESS_THRESHOLD};
use crate::scenario::{Criticality, EventAction, Operation, Scenario, SourceOfTruth};

/// What the application knows about the value it wrote under a key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct ValueInfo {
    /// When the load that produced it started (the value's version of the source).
    pub loaded_at: SimTime,
    /// The tenant whose request wrote it.
    pub tenant: u16,
}

/// Bit 63 of a value stamp: a stamp was written (a stamp of 0 means none).
const STAMP_PRESENT: u64 = 1 << 63;

impl ValueInfo {
    /// The value as the shard keeps it with the key (`Command::Set::stamp`): bit 63 set, the
    /// load's start in whole µs (47 bits: 4.4 years), the tenant (16 bits). Truncating to the
    /// µs loses nothing the monitors use: the source's change times are whole ms.
    pub fn stamp(self) -> u64 {
        let us = (self.loaded_at.as_ns() / 1_000).min((1 << 47) - 1);
        STAMP_PRESENT | us << 16 | self.tenant as u64
    }

    /// The value a stamp stands for (None: no stamp was written).
    pub fn from_stamp(stamp: u64) -> Option<ValueInfo> {
        (stamp & STAMP_PRESENT != 0).then(|| ValueInfo {
            loaded_at: SimTime(((stamp & !STAMP_PRESENT) >> 16) * 1_000),
            tenant: stamp as u16,
        })
    }
}

/// How a read served a value older than the source's last change is counted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum StaleReason {
    /// A violation: the request started at or after the change and was served the older
    /// value at least [`STALENESS_THRESHOLD`] after it.
    Stale,
    /// Not a violation: the request started before the change and was served the value that
    /// was current when it started (a read in flight at the change).
    InFlight,
    /// Not a violation: the request started at or after the change but was served less than
    /// [`STALENESS_THRESHOLD`] after it.
    BelowThreshold,
}

/// How a read is counted that started at `started`, was served at `now` a value loaded
/// before the source's change at `changed` (the first change after the value's load;
/// `changed <= now`).
pub(super) fn stale_reason(changed: SimTime, started: SimTime, now: SimTime) -> StaleReason {
    debug_assert!(changed <= now, "a change after the read");
    if started < changed {
        StaleReason::InFlight
    } else if now - changed < STALENESS_THRESHOLD {
        StaleReason::BelowThreshold
    } else {
        StaleReason::Stale
    }
}

/// An instance's local (L1) copy of a value.
#[derive(Clone, Copy, Debug)]
struct CopyInfo {
    put_at: SimTime,
    value: ValueInfo,
}

/// Which invariants each keyspace of `scn` is monitored for.
pub fn monitored(scn: &Scenario) -> Vec<[bool; N_INVARIANTS]> {
    scn.keyspaces
        .iter()
        .enumerate()
        .map(|(ki, k)| {
            let mut m = [false; N_INVARIANTS];
            let reads = matches!(k.operation, Operation::ReadThrough | Operation::Session);
            m[Invariant::DuplicateExecution.index()] = k.operation == Operation::Idempotency;
            m[Invariant::LockOverlap.index()] = k.operation == Operation::Lock;
            m[Invariant::StaleRead.index()] =
                reads && scn.events.iter().any(|e| e.keyspaces.contains(&ki));
            m[Invariant::StaleFinalPrice.index()] = k.fallback.final_use_fraction > 0.0;
            // With the tenant in the key, cross-tenant reads cannot happen (always 0): the row
            // is there so a plan can be compared with one whose template lacks it.
            m[Invariant::CrossTenantRead.index()] = reads && scn.tenants.len() > 1;
            // A record is lost only when Redis is its source of truth; critical keyspaces
            // backed by an origin are monitored too (always 0) for the same comparison.
            m[Invariant::LostRecord.index()] = reads
                && (k.fallback.source_of_truth == SourceOfTruth::Redis
                    || k.criticality == Criticality::Critical);
            m[Invariant::CriticalEvictedBeforeTtl.index()] =
                k.criticality == Criticality::Critical && k.ttl > SimTime::ZERO;
            m
        })
        .collect()
}

/// The monitors of one plan.
pub(super) struct Monitor {
    warmup: SimTime,
    monitored: Vec<[bool; N_INVARIANTS]>,
    /// Per keyspace: Redis is the source of truth (a missing written key is a lost record).
    lost_if_missing: Vec<bool>,
    /// Fault windows [from, to), scope 1 + index.
    scopes: Vec<(SimTime, SimTime)>,
    tallies: Vec<Vec<[Tally; N_INVARIANTS]>>,
    /// Per keyspace: times the source changed (timeline events), sorted.
    change_times: Vec<Vec<SimTime>>,
    /// Per keyspace: whether reads need the value they were served (its stamp).
    reads_values: Vec<bool>,
    /// Per keyspace whose source of truth is Redis: the keys written and not yet found lost.
    written: Vec<Option<IdMap<u64, ()>>>,
    /// Per keyspace with a local cache and tracked values: each (instance, key) copy.
    copies: Vec<Option<IdMap<(u16, u64), CopyInfo>>>,
    /// Per keyspace and instance: the last pub/sub invalidation the instance received.
    invalidated_at: Vec<Vec<SimTime>>,
    /// Completed executions per idempotency key whose command is retried.
    executions: IdMap<u64, u8>,
    /// Per lock key: when the latest holder's work ends.
    lock_busy_until: IdMap<u64, SimTime>,
    /// Per lock key: the token of the last successful `SET NX` (the value Redis holds).
    lock_owner: IdMap<u64, u64>,
    next_token: u64,
    /// This time window's violations and staleness, `ks * N_INVARIANTS + invariant`.
    pub window_violations: Vec<u64>,
    pub window_staleness_ns: Vec<u64>,
}

impl Monitor {
    /// The monitors of `scn`'s keyspaces.
    pub fn new(scn: &Scenario) -> Monitor {
        let n_ks = scn.keyspaces.len();
        let monitored = monitored(scn);
        let mut change_times = vec![Vec::new(); n_ks];
        for e in &scn.events {
            for &ki in &e.keyspaces {
                change_times[ki].push(e.at);
            }
        }
        let lost_if_missing: Vec<bool> = scn
            .keyspaces
            .iter()
            .map(|k| k.fallback.source_of_truth == SourceOfTruth::Redis)
            .collect();
        let needs_values = |ki: usize| {
            let m = &monitored[ki];
            m[Invariant::StaleRead.index()]
                || m[Invariant::StaleFinalPrice.index()]
                || (m[Invariant::CrossTenantRead.index()] && !scn.keyspaces[ki].key_has_tenant)
                || lost_if_missing[ki]
        };
        let has_delete = |ki: usize| {
            scn.events
                .iter()
                .any(|e| e.action == EventAction::Delete && e.keyspaces.contains(&ki))
        };
        let reads_values = (0..n_ks).map(needs_values).collect();
        let written = (0..n_ks)
            .map(|ki| lost_if_missing[ki].then(IdMap::default))
            .collect();
        let copies = (0..n_ks)
            .map(|ki| {
                let l1 = scn.keyspaces[ki].strategy.local_cache.is_some();
                (l1 && (needs_values(ki) || has_delete(ki))).then(IdMap::default)
            })
            .collect();
        let scopes = scn
            .faults
            .iter()
            .map(|f| (f.start, f.end + f.attribution))
            .collect::<Vec<_>>();
        Monitor {
            warmup: scn.warmup,
            tallies: vec![vec![[Tally::default(); N_INVARIANTS]; n_ks]; 1 + scopes.len()],
            scopes,
            monitored,
            lost_if_missing,
            change_times,
            reads_values,
            written,
            copies,
            invalidated_at: vec![vec![SimTime::ZERO; scn.app_instances as usize]; n_ks],
            executions: IdMap::default(),
            lock_busy_until: IdMap::default(),
            lock_owner: IdMap::default(),
            next_token: 0,
            window_violations: vec![0; n_ks * N_INVARIANTS],
            window_staleness_ns: vec![0; n_ks * N_INVARIANTS],
        }
    }

    /// Re-points fault `f`'s window at its actual end (a failover's end is drawn per run).
    pub fn set_fault_end(&mut self, f: usize, end: SimTime, attribution: SimTime) {
        self.scopes[f].1 = end + attribution;
    }

    /// Counts a violation of `inv` by keyspace `ks` at `now`.
    pub fn violation(&mut self, now: SimTime, ks: usize, inv: Invariant, staleness: SimTime) {
        debug_assert!(self.monitored[ks][inv.index()], "{inv:?} not monitored");
        let i = inv.index();
        if now >= self.warmup {
            self.tallies[0][ks][i].violation(now, staleness);
        }
        for (s, &(from, to)) in self.scopes.iter().enumerate() {
            if now >= from && now < to {
                self.tallies[1 + s][ks][i].violation(now, staleness);
            }
        }
        let w = ks * N_INVARIANTS + i;
        self.window_violations[w] += 1;
        self.window_staleness_ns[w] = self.window_staleness_ns[w].max(staleness.as_ns());
    }

    /// Counts a would-be violation a guard stopped.
    pub fn prevented(&mut self, now: SimTime, ks: usize, inv: Invariant) {
        self.count(now, ks, inv, |t| t.prevented += 1);
    }

    /// Applies `add` to the tally of `inv` by keyspace `ks` in every scope holding `now`.
    fn count(&mut self, now: SimTime, ks: usize, inv: Invariant, add: impl Fn(&mut Tally)) {
        let i = inv.index();
        if now >= self.warmup {
            add(&mut self.tallies[0][ks][i]);
        }
        for (s, &(from, to)) in self.scopes.iter().enumerate() {
            if now >= from && now < to {
                add(&mut self.tallies[1 + s][ks][i]);
            }
        }
    }

    /// Counts a read of an older value of keyspace `ks` at `now` for `inv` by its reason: a
    /// violation with `staleness`, or one of the reads counted apart.
    fn stale(
        &mut self,
        now: SimTime,
        ks: usize,
        inv: Invariant,
        reason: StaleReason,
        staleness: SimTime,
    ) {
        match reason {
            StaleReason::Stale => self.violation(now, ks, inv, staleness),
            StaleReason::InFlight => self.count(now, ks, inv, |t| t.in_flight += 1),
            StaleReason::BelowThreshold => self.count(now, ks, inv, |t| t.below_threshold += 1),
        }
    }

    /// Whether keyspace `ks`'s reads need the value they were served (its writes carry a
    /// stamp, `ValueInfo::stamp`).
    pub fn tracks_values(&self, ks: usize) -> bool {
        self.reads_values[ks]
    }

    /// Whether keyspace `ks` keeps per-instance local copies.
    pub fn tracks_copies(&self, ks: usize) -> bool {
        self.copies[ks].is_some()
    }

    /// Forgets what keyspace `ks` wrote (the warm start draws a full cluster again).
    pub fn forget_written(&mut self, ks: usize) {
        if let Some(w) = &mut self.written[ks] {
            w.clear();
        }
    }

    /// A value was written to Redis under `key` (remembered where losing it is a violation).
    pub fn written(&mut self, ks: usize, key: u64) {
        if let Some(w) = &mut self.written[ks] {
            w.insert(key, ());
        }
    }

    /// A read of keyspace `ks` by `tenant` at `now`, by a request that started at `started`,
    /// was served `value`: checks staleness (see [`stale_reason`]) and the tenant (and, for a
    /// final use without revalidation, the final price).
    pub fn read(
        &mut self,
        now: SimTime,
        ks: usize,
        tenant: u16,
        value: ValueInfo,
        final_use: bool,
        started: SimTime,
    ) {
        let m = self.monitored[ks];
        if m[Invariant::CrossTenantRead.index()] && value.tenant != tenant {
            self.violation(now, ks, Invariant::CrossTenantRead, SimTime::ZERO);
        }
        let changes = &self.change_times[ks];
        let next = changes.partition_point(|&c| c <= value.loaded_at);
        if let Some(&changed) = changes.get(next).filter(|&&c| c <= now) {
            let staleness = now - changed;
            let reason = stale_reason(changed, started, now);
            if m[Invariant::StaleRead.index()] {
                self.stale(now, ks, Invariant::StaleRead, reason, staleness);
            }
            if final_use {
                self.stale(now, ks, Invariant::StaleFinalPrice, reason, staleness);
            }
        }
    }

    /// A first read of `key` found nothing in Redis: for a keyspace whose source of truth is
    /// Redis, a key written before is a lost record (counted once per loss).
    pub fn missed(&mut self, now: SimTime, ks: usize, key: u64) {
        if !self.lost_if_missing[ks] {
            return;
        }
        if self.written[ks]
            .as_mut()
            .and_then(|w| w.remove(&key))
            .is_some()
        {
            self.violation(now, ks, Invariant::LostRecord, SimTime::ZERO);
        }
    }

    /// Instance `instance` put a local copy of `key` at `now`.
    pub fn copy_put(&mut self, now: SimTime, ks: usize, instance: u16, key: u64, value: ValueInfo) {
        if let Some(c) = &mut self.copies[ks] {
            c.insert((instance, key), CopyInfo { put_at: now, value });
        }
    }

    /// The local copy of `key` in `instance`, unless a pub/sub invalidation the instance
    /// received since dropped it.
    pub fn copy(&self, ks: usize, instance: u16, key: u64) -> Option<ValueInfo> {
        let c = self.copies[ks].as_ref()?.get(&(instance, key))?;
        (c.put_at >= self.invalidated_at[ks][instance as usize]).then_some(c.value)
    }

    /// Whether `instance` holds a copy of `key` that an invalidation dropped.
    pub fn copy_invalidated(&self, ks: usize, instance: u16, key: u64) -> bool {
        self.copies[ks]
            .as_ref()
            .and_then(|c| c.get(&(instance, key)))
            .is_some_and(|c| c.put_at < self.invalidated_at[ks][instance as usize])
    }

    /// `instance` received an invalidation of keyspace `ks` at `now`.
    pub fn invalidate(&mut self, now: SimTime, ks: usize, instance: usize) {
        self.invalidated_at[ks][instance] = now;
    }

    /// A critical command with a retry finished executing at the origin. Returns true when
    /// this is its second execution.
    pub fn executed(&mut self, key: u64) -> bool {
        let n = self.executions.entry(key).or_insert(0);
        *n += 1;
        if *n >= 2 {
            self.executions.remove(&key);
            true
        } else {
            false
        }
    }

    /// A retry was answered from the fast-path key: its command will not run again.
    pub fn retry_answered(&mut self, key: u64) {
        self.executions.remove(&key);
    }

    /// A fresh owner token.
    pub fn token(&mut self) -> u64 {
        self.next_token += 1;
        self.next_token
    }

    /// `SET lock NX` succeeded for `token`: Redis now holds that token.
    pub fn lock_set(&mut self, lock: u64, token: u64) {
        self.lock_owner.insert(lock, token);
    }

    /// Whether Redis's lock value is `token` (as the compare-and-delete script checks).
    pub fn lock_owned_by(&self, lock: u64, token: u64) -> bool {
        self.lock_owner.get(&lock) == Some(&token)
    }

    /// A lock's value was deleted.
    pub fn lock_deleted(&mut self, lock: u64) {
        self.lock_owner.remove(&lock);
    }

    /// A holder starts `work` on `lock` at `now`: true when another holder is still working.
    pub fn lock_work(&mut self, now: SimTime, lock: u64, work: SimTime) -> bool {
        let until = self.lock_busy_until.entry(lock).or_insert(SimTime::ZERO);
        let overlap = *until > now;
        *until = (*until).max(now + work);
        overlap
    }

    /// The monitors' results.
    pub fn finish(self) -> InvariantResult {
        InvariantResult {
            monitored: self.monitored,
            tallies: self.tallies,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn value_stamps_round_trip_to_the_microsecond() {
        for (ns, tenant) in [(0, 0), (1_999, 3), (3_600_000_000_123, u16::MAX)] {
            let v = ValueInfo {
                loaded_at: SimTime(ns),
                tenant,
            };
            let back = ValueInfo::from_stamp(v.stamp()).expect("a written stamp");
            assert_eq!(back.loaded_at, SimTime(ns / 1_000 * 1_000));
            assert_eq!(back.tenant, tenant);
        }
        assert_eq!(ValueInfo::from_stamp(0), None);
    }

    /// One read-through keyspace (local cache, price previews used as final prices) whose
    /// source changes at 10 s; a subscriber-disconnect fault from 9 s to 12 s (+ 1 s).
    const CHANGING: &str = r#"
version = 1
name = "changing"
[simulation]
duration_ms = "30s"
warmup_ms = "1s"
app_instances = 2
[[tenants]]
name = "t1"
[[origins]]
name = "db"
concurrency = 4
service_time_ms = { dist = "fixed", value = 5 }
[[clusters]]
name = "cache"
shards = 1
maxmemory_bytes = "16mb"
maxmemory_policy = "allkeys-lru"
[[keyspaces]]
name = "catalog"
key_template = "catalog:{tenant}:offering:{id}"
operation = "read-through"
rate_per_s = 10
keys_per_tenant = 10
value_size_bytes = { dist = "fixed", value = 100 }
ttl_ms = "5m"
origin = "db"
fallback = { final_use_fraction = 0.1 }
[[plans]]
name = "p"
placement = { catalog = "cache" }
[[events]]
at_ms = "10s"
name = "edit"
action = "change"
keyspaces = ["catalog"]
[[faults]]
kind = "subscriber-disconnect"
start_ms = "9s"
end_ms = "12s"
attribution_ms = "1s"
"#;

    fn ms(v: u64) -> SimTime {
        SimTime(v * 1_000_000)
    }

    /// The tallies of the `catalog` keyspace for `inv`: the run's and the fault's.
    fn tallies(m: Monitor, inv: Invariant) -> (Tally, Tally) {
        let r = m.finish();
        (r.tallies[0][0][inv.index()], r.tallies[1][0][inv.index()])
    }

    fn monitor() -> Monitor {
        let scn = crate::scenario::parse(CHANGING, "changing.toml").expect("test scenario parses");
        Monitor::new(&scn)
    }

    const OLD: ValueInfo = ValueInfo {
        loaded_at: SimTime(5_000_000_000),
        tenant: 0,
    };

    #[test]
    fn stale_reasons_split_at_the_change_and_the_threshold() {
        let changed = ms(10_000);
        assert_eq!(
            stale_reason(changed, ms(9_999), ms(10_050)),
            StaleReason::InFlight
        );
        // Started at the very instant of the change: the change came first.
        assert_eq!(
            stale_reason(changed, changed, changed),
            StaleReason::BelowThreshold
        );
        let just_under = changed + STALENESS_THRESHOLD - SimTime(1);
        assert_eq!(
            stale_reason(changed, changed, just_under),
            StaleReason::BelowThreshold
        );
        let at_threshold = changed + STALENESS_THRESHOLD;
        assert_eq!(
            stale_reason(changed, changed, at_threshold),
            StaleReason::Stale
        );
        assert_eq!(
            stale_reason(changed, ms(10_001), ms(10_002)),
            StaleReason::Stale
        );
    }

    #[test]
    fn a_read_in_flight_at_the_change_is_not_a_stale_read() {
        let mut m = monitor();
        // Started 0.3 ms before the change, served 0.17 ms after it the value current when
        // it started: a race, not a violation (also for a final use).
        let started = ms(10_000) - SimTime(300_000);
        m.read(ms(10_000) + SimTime(170_000), 0, 0, OLD, true, started);
        let (run, fault) = tallies(m, Invariant::StaleRead);
        assert_eq!(
            (run.violations, run.in_flight, run.below_threshold),
            (0, 1, 0)
        );
        assert_eq!(
            (fault.violations, fault.in_flight),
            (0, 1),
            "inside the fault window"
        );
        assert_eq!(run.first, None);
        let mut m = monitor();
        m.read(ms(10_000) + SimTime(170_000), 0, 0, OLD, true, started);
        let (final_price, _) = tallies(m, Invariant::StaleFinalPrice);
        assert_eq!((final_price.violations, final_price.in_flight), (0, 1));
    }

    #[test]
    fn a_read_started_after_the_change_served_an_older_value_is_a_stale_read() {
        let mut m = monitor();
        // Started 2 ms after the change, served the value loaded at 5 s: stale by 3 ms.
        m.read(ms(10_003), 0, 0, OLD, false, ms(10_002));
        // Started and served within the threshold of the change: counted apart.
        m.read(ms(10_000) + SimTime(400_000), 0, 0, OLD, false, ms(10_000));
        // A value loaded after the change is fresh.
        let fresh = ValueInfo {
            loaded_at: ms(10_001),
            tenant: 0,
        };
        m.read(ms(20_000), 0, 0, fresh, false, ms(20_000));
        // After the fault window: the run's tally only.
        m.read(ms(25_000), 0, 0, OLD, false, ms(24_999));
        let (run, fault) = tallies(m, Invariant::StaleRead);
        assert_eq!(
            (run.violations, run.in_flight, run.below_threshold),
            (2, 0, 1)
        );
        assert_eq!(run.first, Some(ms(10_003)));
        assert_eq!(run.max_staleness, ms(15_000));
        assert_eq!((fault.violations, fault.below_threshold), (1, 1));
        assert_eq!(fault.max_staleness, ms(3));
    }
}
