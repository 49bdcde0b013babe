//! Replicas of a plan's master shards (`replicas_per_shard`): where their data comes from,
//! the reads they serve, and what a failover loses when one is promoted.
//!
//! A replica holds no keyspace of its own. Its data is its master's as of now − lag, so the
//! master keeps a short **history** of its keys instead (`History`): for each change of a key
//! (a SET, a new INCR counter, an object write, a DEL, a PEXPIRE, a delete-on-event) in the
//! last `retain`, the time and the key's state just before it (present or not, its value
//! stamp, its expire time: 24 bytes). The state at a past moment v is the state before the
//! key's first change after v, or, if it has none, the master's current state. Only the keys
//! changed in the window are kept, each with its changes in that window, so a replica costs
//! memory in proportion to the write rate × lag, never a copy of the keyspace; its
//! `used_memory` equals its master's within the lag and is not reported apart. Evictions
//! reach the replicas at once (they are not in the history; a replica of a full master may
//! miss a key a little earlier than a real one), and a replica checks expire times against
//! its own clock, as Redis replicas do for reads.
//!
//! A replica is its own single-threaded server: its own queue, service times and round
//! trips, each from a stream of its own (`cluster/<name>/shard/<i>/replica/<j>`), so reads
//! sent to replicas leave the master's thread. A keyspace with `read_from_replica` sends its
//! user GETs there, in turn over the shard's replicas; everything else goes to the master.
//! While the master is down (a fault), its replicas serve no reads either (the slots are
//! unavailable in the cluster).
//!
//! A failover reverts every key changed in [start − lag, start] to its state at start − lag
//! (the promoted replica never received those changes) and counts the writes among them as
//! lost; the history then starts again (the remaining replicas follow the promoted one).
//! Owns `History`, `Replica` and the replica read path; must not touch other nodes' state.

use super::request::{FLAG_BACKGROUND, FLAG_ORPHAN, FLAG_QUEUED};
use super::values::LOCK_VALUE_BYTES;
use super::{ns, Event, Sim};
use crate::engine::{IdMap, MonotoneClock, SimTime};
use crate::redis::db::KeyRef;
use crate::redis::service_scale::CommandClass;
use crate::redis::shard::{key_tag, Command, Reply, Shard};
use crate::scenario::dist::{Dist, DrawBuffer};
use crate::scenario::Operation;
use std::collections::VecDeque;

/// A key's state on a master at one moment, as a replica would serve it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct KeyState {
    /// Resident and not past its expire time.
    pub present: bool,
    /// The value's stamp (0: none).
    pub stamp: u64,
    /// Expire time in unix ms (0: no TTL).
    pub expire_at_ms: u64,
}

impl KeyState {
    const ABSENT: KeyState = KeyState {
        present: false,
        stamp: 0,
        expire_at_ms: 0,
    };

    /// `key`'s state on `shard` at `now` (read only: no lazy expiry, no LRU update).
    pub fn of(shard: &Shard, key_id: u64, now: SimTime) -> KeyState {
        let db = shard.db();
        let Some(pos) = db.find(key_id) else {
            return KeyState::ABSENT;
        };
        let expire_at_ms = db.entry(pos).expire_at_ms();
        KeyState {
            present: true,
            stamp: db.stamp(pos),
            expire_at_ms,
        }
        .live_at(shard.unix_ms(now))
    }

    /// The state as a reader at unix ms `now_ms` sees it: a key past its expire time is
    /// absent (Redis expires a key when now > its expire time).
    fn live_at(self, now_ms: u64) -> KeyState {
        if self.present && self.expire_at_ms != 0 && now_ms > self.expire_at_ms {
            KeyState::ABSENT
        } else {
            self
        }
    }
}

/// One change of a key: when, and the key's state just before it.
#[derive(Clone, Copy, Debug)]
struct Change {
    at: SimTime,
    before: KeyState,
}

/// A master's recent changes, per key, for its replicas' reads and a failover's losses.
pub(super) struct History {
    /// How far back changes are kept (the longest lag a replica read or a failover uses).
    retain: SimTime,
    /// Every change in time order: (time, key, a write that a failover counts as lost).
    order: VecDeque<(SimTime, KeyRef, bool)>,
    /// Per key changed in the last `retain`: its changes, oldest first.
    by_key: IdMap<u64, Vec<Change>>,
}

impl History {
    /// An empty history keeping changes for `retain`.
    pub fn new(retain: SimTime) -> History {
        History {
            retain,
            order: VecDeque::new(),
            by_key: IdMap::default(),
        }
    }

    /// How far back changes are kept.
    pub fn retain(&self) -> SimTime {
        self.retain
    }

    /// Keeps at least `retain` of changes from now on.
    pub fn retain_at_least(&mut self, retain: SimTime) {
        self.retain = self.retain.max(retain);
    }

    /// `key` changed at `now` from state `before` (`write`: a SET, a new counter or an
    /// object write).
    pub fn record(&mut self, now: SimTime, key: KeyRef, before: KeyState, write: bool) {
        while let Some(&(at, old, _)) = self.order.front() {
            if at + self.retain >= now {
                break;
            }
            self.order.pop_front();
            let changes = self.by_key.get_mut(&old.id).expect("a listed change");
            changes.remove(0);
            if changes.is_empty() {
                self.by_key.remove(&old.id);
            }
        }
        self.order.push_back((now, key, write));
        self.by_key
            .entry(key.id)
            .or_default()
            .push(Change { at: now, before });
    }

    /// `key_id`'s state at `view` if it changed after then (None: unchanged since `view`, so
    /// the master's current state is the state at `view`). `view` must be within `retain`.
    pub fn state_at(&self, key_id: u64, view: SimTime) -> Option<KeyState> {
        let changes = self.by_key.get(&key_id)?;
        changes.iter().find(|c| c.at > view).map(|c| c.before)
    }

    /// The keys changed at or after `from`, each with its state just before its first such
    /// change, in the order of those first changes; and the writes among the changes.
    pub fn changed_since(&self, from: SimTime) -> (Vec<(KeyRef, KeyState)>, u64) {
        let mut keys = Vec::new();
        let mut seen = IdMap::<u64, ()>::default();
        let mut writes = 0;
        for &(at, key, write) in &self.order {
            if at < from {
                continue;
            }
            writes += write as u64;
            if seen.insert(key.id, ()).is_none() {
                let first = self.by_key[&key.id]
                    .iter()
                    .find(|c| c.at >= from)
                    .expect("the change just listed");
                keys.push((key, first.before));
            }
        }
        (keys, writes)
    }
}

/// The key a command may change (None: a read).
pub(super) fn changed_key(cmd: &Command) -> Option<KeyRef> {
    match *cmd {
        Command::Get(_) => None,
        Command::Set { key, .. }
        | Command::IncrExpire { key, .. }
        | Command::WriteObject { key, .. }
        | Command::Expire { key, .. }
        | Command::Del(key) => Some(key),
    }
}

/// Whether `cmd` with `reply` changed its key (None: it did not), and whether the change is
/// a write a failover counts as lost (SET, a new INCR counter, an object write).
pub(super) fn change_of(cmd: &Command, reply: Reply) -> Option<bool> {
    match (cmd, reply) {
        (Command::Set { .. }, Reply::Ok) => Some(true),
        (Command::IncrExpire { .. }, Reply::Integer(1)) => Some(true),
        (Command::WriteObject { .. }, Reply::Ok) => Some(true),
        (Command::Del(_) | Command::Expire { .. }, Reply::Integer(1)) => Some(false),
        _ => None,
    }
}

/// The longest lag drawn from `lag_ms`: its one-in-a-million upper tail (the whole range of
/// a bounded distribution); draws are capped there.
pub(super) fn lag_cap(lag_ms: &Dist) -> SimTime {
    let ms = match lag_ms {
        Dist::Fixed(v) => *v,
        Dist::Uniform { max, .. } => *max,
        Dist::Empirical { values, .. } => values.iter().copied().fold(0.0, f64::max),
        // P(X > m ln 10^6) = 10^-6.
        Dist::Exponential(mean) => mean * 1e6f64.ln(),
        // z of 10^-6 in the standard normal's upper tail.
        Dist::Lognormal { mu, sigma } => (mu + 4.753_424 * sigma).exp(),
    };
    SimTime(ns(ms * 1000.0))
}

/// Reverts every key of `shard` changed in [`now` − `lag`, `now`] to its state at `now` −
/// `lag`: absent keys are deleted, older values written back with their stamp, their
/// remaining TTL and `value_size(key)` (None: the key's operation keeps no value to restore,
/// a rate-limit counter, and it stays as it is). Returns the writes lost.
pub(super) fn revert_window(
    shard: &mut Shard,
    history: &History,
    now: SimTime,
    lag: SimTime,
    value_size: impl Fn(KeyRef) -> Option<u32>,
) -> u64 {
    let from = now.saturating_sub(lag);
    let (keys, writes) = history.changed_since(from);
    let now_ms = shard.unix_ms(now);
    for (key, before) in keys {
        let before = before.live_at(now_ms);
        let cmd = if before.present {
            let Some(value_size) = value_size(key) else {
                continue;
            };
            Command::Set {
                key,
                value_size,
                ttl_ms: match before.expire_at_ms {
                    0 => 0,
                    at => (at - now_ms).max(1),
                },
                nx: false,
                stamp: before.stamp,
            }
        } else {
            Command::Del(key)
        };
        shard.execute(now, cmd);
    }
    writes
}

/// A replica's server: its own thread, queue, service times and round trips.
pub(super) struct Replica {
    busy_until: SimTime,
    service_us: DrawBuffer,
    pub(super) rtt_us: DrawBuffer,
    lag_ms: DrawBuffer,
    lag_cap: SimTime,
    /// Requests waiting for the thread, in arrival order.
    pending: VecDeque<u32>,
    clock: MonotoneClock,
    /// The master node it follows.
    master: usize,
}

impl Replica {
    /// A replica of node `master` of a cluster with these service times, round trips and lag.
    pub fn new(
        master: usize,
        service_us: DrawBuffer,
        rtt_us: DrawBuffer,
        lag_ms: DrawBuffer,
    ) -> Replica {
        Replica {
            busy_until: SimTime::ZERO,
            lag_cap: lag_cap(lag_ms.dist()),
            service_us,
            rtt_us,
            lag_ms,
            pending: VecDeque::new(),
            clock: MonotoneClock::default(),
            master,
        }
    }
}

impl Sim<'_> {
    /// The replica request `req`'s GET goes to (None: the master): a user GET of a keyspace
    /// that reads from replicas, on a shard that has them, in turn.
    pub(super) fn replica_for(&mut self, req: u32) -> Option<usize> {
        let r = &self.requests[req as usize];
        if !self.scn.keyspaces[r.ks as usize].read_from_replica {
            return None;
        }
        let node = &mut self.nodes[r.shard as usize];
        let (first, n) = node.replicas;
        if n == 0 {
            return None;
        }
        let i = first + (node.next_replica % n) as usize;
        node.next_replica = node.next_replica.wrapping_add(1);
        Some(i)
    }

    /// Keeps a history on every node whose keyspaces read from its replicas.
    pub(super) fn start_histories(&mut self) {
        for (ks, k) in self.scn.keyspaces.iter().enumerate() {
            let c = self.cluster_of_ks[ks];
            let cluster = &self.scn.clusters[c];
            if !k.read_from_replica || cluster.replicas_per_shard == 0 {
                continue;
            }
            let retain = lag_cap(&cluster.replication_lag_ms);
            let first = self.cluster_first_node[c];
            for node in &mut self.nodes[first..first + cluster.shards as usize] {
                node.history
                    .get_or_insert_with(|| History::new(retain))
                    .retain_at_least(retain);
            }
        }
    }

    /// A GET reaches replica `i`: served at once when its thread is idle, else it waits.
    pub(super) fn on_replica(&mut self, now: SimTime, req: u32, i: usize) {
        self.requests[req as usize].arrived = now;
        let r = self.requests[req as usize];
        if let Some((mode, fault)) = self.nodes[self.replicas[i].master].down {
            self.shard_down(now, req, mode, fault as usize, false);
            return;
        }
        let rep = &mut self.replicas[i];
        if rep.pending.is_empty() && rep.busy_until <= now {
            self.replica_execute(now, req, i, false);
            return;
        }
        if rep.pending.is_empty() {
            let at = rep.busy_until;
            self.queue
                .push(at, Event::ReplicaFree { replica: i as u32 });
        }
        self.replicas[i].pending.push_back(req);
        self.requests[req as usize].flags |= FLAG_QUEUED;
        if !r.has(FLAG_BACKGROUND) {
            let k = &self.scn.keyspaces[r.ks as usize];
            self.start_client_timer(req, r.sent + k.client_timeout);
        }
    }

    /// Replica `i`'s thread is free at `now`: it serves the GETs waiting for it.
    pub(super) fn on_replica_free(&mut self, now: SimTime, i: usize) {
        while let Some(&req) = self.replicas[i].pending.front() {
            let busy_until = self.replicas[i].busy_until;
            if busy_until > now {
                self.queue
                    .push(busy_until, Event::ReplicaFree { replica: i as u32 });
                return;
            }
            self.replicas[i].pending.pop_front();
            self.requests[req as usize].flags &= !FLAG_QUEUED;
            self.replica_execute(now, req, i, true);
        }
    }

    /// Replica `i` serves request `req`'s GET at `now` with its master's data as of now −
    /// lag, and sends the reply on its way (`queued`: a client timer runs).
    fn replica_execute(&mut self, now: SimTime, req: u32, i: usize, queued: bool) {
        let r = self.requests[req as usize];
        let rep = &mut self.replicas[i];
        rep.clock.advance(now, "a replica");
        let lag = SimTime(ns(rep.lag_ms.sample() * 1000.0)).min(rep.lag_cap);
        // A GET's share of the service time, as on its master (`redis::service_scale`).
        let get_factor = self.nodes[rep.master]
            .shard
            .config()
            .service_scale
            .of_class(CommandClass::Get);
        let mut service = ns(rep.service_us.sample());
        if get_factor != 1.0 {
            service = crate::engine::time::scale_ns(service, get_factor);
        }
        rep.busy_until = now + SimTime(service);
        let finish = rep.busy_until;
        let master = &self.nodes[rep.master];
        let view = now.saturating_sub(lag);
        let state = master
            .history
            .as_ref()
            .and_then(|h| h.state_at(r.key.id, view))
            .map(|s| s.live_at(master.shard.unix_ms(now)))
            .unwrap_or_else(|| KeyState::of(&master.shard, r.key.id, now));
        if r.has(FLAG_ORPHAN) {
            self.release(req);
            return;
        }
        let slot = &mut self.requests[req as usize];
        slot.reply = if state.present {
            Reply::Value
        } else {
            Reply::Nil
        };
        slot.stamp = state.stamp;
        let reply_at = finish + (r.arrived - r.sent);
        let deadline = r.sent + self.scn.keyspaces[r.ks as usize].client_timeout;
        if r.has(FLAG_BACKGROUND) || reply_at <= deadline {
            self.queue.push(reply_at, Event::Reply { req });
        } else if !queued {
            self.start_client_timer(req, deadline);
        }
    }

    /// The value size a failover writes back for `key` (None: its keyspace keeps no value
    /// to restore: a rate-limit counter or window keeps its current state). A lock comes
    /// back held: the promoted replica still has it.
    pub(super) fn restored_value_size(&self, key: KeyRef) -> Option<u32> {
        let ks = key_tag(key.id);
        match self.scn.keyspaces.get(ks)?.operation {
            Operation::ReadThrough | Operation::Session | Operation::Idempotency => {
                Some(self.value_size(ks, key.id))
            }
            Operation::Lock => Some(LOCK_VALUE_BYTES),
            Operation::RateLimit => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::RngStream;
    use crate::redis::shard::RedisConfig;

    fn ms(v: u64) -> SimTime {
        SimTime::from_ms(v)
    }

    fn key(id: u64) -> KeyRef {
        KeyRef { id, len: 10 }
    }

    /// A shard that keeps stamps and a history, driven the way `Sim::execute` drives it.
    struct Master {
        shard: Shard,
        history: History,
    }

    impl Master {
        fn new(retain: SimTime) -> Master {
            let mut shard = Shard::new(RedisConfig::default(), &RngStream::new(1, 1));
            shard.enable_value_stamps();
            Master {
                shard,
                history: History::new(retain),
            }
        }

        fn run(&mut self, now: SimTime, cmd: Command) {
            let before = changed_key(&cmd).map(|k| (k, KeyState::of(&self.shard, k.id, now)));
            let done = self.shard.execute(now, cmd);
            if let (Some((k, before)), Some(write)) = (before, change_of(&cmd, done.reply)) {
                self.history.record(now, k, before, write);
            }
        }

        fn set(&mut self, at_ms: u64, id: u64, stamp: u64, ttl_ms: u64) {
            let cmd = Command::Set {
                key: key(id),
                value_size: 100,
                ttl_ms,
                nx: false,
                stamp,
            };
            self.run(ms(at_ms), cmd);
        }

        fn get(&mut self, at_ms: u64, id: u64) -> Option<u64> {
            let done = self.shard.execute(ms(at_ms), Command::Get(key(id)));
            (done.reply == Reply::Value).then_some(done.stamp)
        }
    }

    #[test]
    fn a_failover_reverts_exactly_the_changes_inside_the_lag_window() {
        // Failover at 10 s with a lag of 1 s: the window is [9 s, 10 s].
        let mut m = Master::new(ms(1_000));
        m.set(5_000, 1, 11, 0); // before the window: survives
        m.set(8_999, 2, 21, 0); // just before the window: survives
        m.set(9_000, 3, 31, 0); // first instant of the window: lost (was absent)
        m.set(2_000, 4, 41, 60_000);
        m.set(9_500, 4, 42, 0); // an overwrite in the window: the older value comes back
        m.set(9_600, 4, 43, 0); // a second overwrite of the same key: one revert
        m.set(3_000, 5, 51, 0);
        m.run(ms(9_700), Command::Del(key(5))); // a DEL in the window: the key comes back
        m.set(9_999, 6, 61, 0); // lost (was absent)
        m.set(8_000, 7, 71, 0);
        m.set(9_800, 7, 72, 0); // overwrite of a key written before the window
        let lost = revert_window(&mut m.shard, &m.history, ms(10_000), ms(1_000), |_| {
            Some(100)
        });
        // By hand: the SETs at 9 000, 9 500, 9 600, 9 800 and 9 999 ms; the DEL is no write.
        assert_eq!(lost, 5);
        assert_eq!(m.get(10_001, 1), Some(11));
        assert_eq!(m.get(10_001, 2), Some(21));
        assert_eq!(m.get(10_001, 3), None);
        assert_eq!(
            m.get(10_001, 4),
            Some(41),
            "the value from before the window"
        );
        assert_eq!(m.get(10_001, 5), Some(51), "the deleted key is back");
        assert_eq!(m.get(10_001, 6), None);
        assert_eq!(m.get(10_001, 7), Some(71));
        // Key 4's TTL came back with its value: 60 s from 2 s, so gone after 62 s.
        assert_eq!(m.get(61_999, 4), Some(41));
        assert_eq!(m.get(62_001, 4), None);
    }

    #[test]
    fn a_replica_sees_each_key_as_it_was_a_lag_ago() {
        let mut m = Master::new(ms(500));
        m.set(1_000, 1, 11, 0);
        m.set(1_200, 1, 12, 0);
        m.run(ms(1_400), Command::Del(key(1)));
        let at = |m: &Master, now_ms: u64, lag_ms: u64| {
            let view = ms(now_ms).saturating_sub(ms(lag_ms));
            m.history
                .state_at(1, view)
                .unwrap_or_else(|| KeyState::of(&m.shard, 1, ms(now_ms)))
        };
        let stamp = |s: KeyState| s.present.then_some(s.stamp);
        assert_eq!(stamp(at(&m, 1_450, 500)), None, "before the first SET");
        assert_eq!(stamp(at(&m, 1_450, 400)), Some(11));
        assert_eq!(stamp(at(&m, 1_450, 200)), Some(12));
        assert_eq!(stamp(at(&m, 1_450, 50)), None, "the DEL has reached it");
        // Changes older than `retain` are dropped as new ones come.
        m.set(2_000, 2, 21, 0);
        assert_eq!(m.history.by_key.len(), 1);
        assert_eq!(m.history.order.len(), 1);
    }

    #[test]
    fn the_lag_cap_is_the_distributions_top_or_its_millionth_tail() {
        assert_eq!(lag_cap(&Dist::Fixed(100.0)), ms(100));
        assert_eq!(lag_cap(&Dist::Uniform { min: 1.0, max: 7.0 }), ms(7));
        let cap = lag_cap(&Dist::Exponential(10.0)).as_ns() as f64 / 1e6;
        assert!((cap - 138.155).abs() < 0.01, "{cap}");
    }
}
