//! The way to Redis and back: network halves, a shard node's single thread (its queue of
//! waiting commands, serverCron catch-up, `execute`), replies and client timeouts.

use super::replica::{change_of, changed_key, History, KeyState};
use super::request::{
    Request, Stage, DELETE_JOB, FLAG_AWAITING, FLAG_BACKGROUND, FLAG_ORPHAN, FLAG_QUEUED,
    FLAG_RELEASED,
};
use super::traffic::key_label;
use super::wire;
use super::{ns, Event, Sim};
use crate::engine::time::scale_ns;
use crate::engine::{MonotoneClock, SimTime};
use crate::metrics::hotkeys::SpaceSaving;
use crate::metrics::ShardMetrics;
use crate::redis::db::KeyRef;
use crate::redis::service_scale::CommandClass;
use crate::redis::shard::{key_tag, Command, Executed, Reply, Shard};
use crate::scenario::dist::DrawBuffer;
use crate::scenario::{DownMode, Operation, RateLimitAlgorithm};
use std::collections::VecDeque;

pub(super) struct Node {
    pub(super) shard: Shard,
    pub(super) busy_until: SimTime,
    /// The main thread's time per command and the client round trip, µs, each drawn from a
    /// stream of its own.
    pub(super) service_us: DrawBuffer,
    pub(super) rtt_us: DrawBuffer,
    /// Commands (request ids, or `DELETE_JOB | ks`) waiting for the main thread, in arrival
    /// order; a `ShardFree` event is pending while any wait.
    pub(super) pending: VecDeque<u32>,
    /// The times handed to this shard never go back.
    pub(super) clock: MonotoneClock,
    pub(super) metrics: ShardMetrics,
    pub(super) window_commands: u64,
    pub(super) window_busy_ns: u64,
    /// Request and reply bytes in the current window.
    pub(super) window_bytes_in: u64,
    pub(super) window_bytes_out: u64,
    /// Hottest keys after the warm-up, by commands and by bytes.
    pub(super) hot_ops: SpaceSaving,
    pub(super) hot_bytes: SpaceSaving,
    /// Down by a fault: how clients see it, and the fault's index.
    pub(super) down: Option<(DownMode, u16)>,
    /// Service-time multiplier (shard-slow faults).
    pub(super) slow: f64,
    /// The recent changes of its keys, kept only on a shard that fails over in this plan or
    /// whose replicas serve reads (`replica::History`).
    pub(super) history: Option<History>,
    /// Its replicas: the first's index in `Sim::replicas`, and how many.
    pub(super) replicas: (usize, u32),
    /// Replica reads sent so far (the next goes to replica `next_replica % n`).
    pub(super) next_replica: u32,
}

impl Node {
    /// Runs `cmd` on the shard and, where replicas or a failover need it, records the key's
    /// state before the change in the master's history.
    fn execute_recorded(&mut self, now: SimTime, cmd: Command) -> Executed {
        let before = match (&self.history, changed_key(&cmd)) {
            (Some(_), Some(key)) => Some((key, KeyState::of(&self.shard, key.id, now))),
            _ => None,
        };
        let done = self.shard.execute(now, cmd);
        if let (Some(history), Some((key, before))) = (&mut self.history, before) {
            if let Some(write) = change_of(&cmd, done.reply) {
                history.record(now, key, before, write);
            }
        }
        done
    }
}

impl Sim<'_> {
    pub(super) fn net_half(&mut self, node: usize, instance: u16) -> SimTime {
        let rtt = ns(self.nodes[node].rtt_us.sample());
        self.half_of(rtt, node, instance)
    }

    /// Half a round trip to replica `replica` of `node` (its own draws; the node's latency
    /// spikes apply).
    pub(super) fn replica_net_half(
        &mut self,
        node: usize,
        replica: usize,
        instance: u16,
    ) -> SimTime {
        let rtt = ns(self.replicas[replica].rtt_us.sample());
        self.half_of(rtt, node, instance)
    }

    fn half_of(&self, rtt: u64, node: usize, instance: u16) -> SimTime {
        let spike = self.spike_multiplier(node, instance);
        if spike == 1.0 {
            SimTime(rtt / 2)
        } else {
            SimTime(scale_ns(rtt, spike) / 2)
        }
    }

    /// Sends request `req`'s next Redis command (`stage`) at `now`.
    pub(super) fn send(&mut self, now: SimTime, req: u32, stage: Stage) {
        let r = &mut self.requests[req as usize];
        r.stage = stage;
        r.sent = now;
        r.flags |= FLAG_AWAITING;
        let shard = r.shard as usize;
        let instance = r.instance;
        let db = self.nodes[shard].shard.db();
        if stage == Stage::First {
            // The entry was prefetched when the arrival was scheduled; asking again is cheap
            // and covers a line evicted since (dropping it measured slower).
            db.prefetch_entry(r.key.id);
        } else {
            db.prefetch_write(r.key.id);
        }
        let replica = if stage == Stage::First {
            self.replica_for(req)
        } else {
            None
        };
        let at = |req| match replica {
            Some(i) => Event::AtReplica {
                req,
                replica: i as u32,
            },
            None => Event::AtShard { req },
        };
        let d = match replica {
            Some(i) => self.replica_net_half(shard, i, instance),
            None => self.net_half(shard, instance),
        };
        let r = self.requests[req as usize];
        let timeout = self.scn.keyspaces[r.ks as usize].client_timeout;
        if !r.has(FLAG_BACKGROUND) && d >= timeout {
            // The client gives up before the command even reaches the shard (a latency
            // spike): the command still runs there, as an orphan nobody waits for.
            let orphan = self.alloc(Request {
                flags: (r.flags & !FLAG_AWAITING) | FLAG_BACKGROUND | FLAG_ORPHAN,
                timers: 0,
                ..r
            });
            self.queue.push(now + d, at(orphan));
            self.start_client_timer(req, now + timeout);
            return;
        }
        self.queue.push(now + d, at(req));
    }

    /// Sends a background command on behalf of `of` (a write-back, a release, a refresh lock).
    pub(super) fn send_background(
        &mut self,
        now: SimTime,
        of: &Request,
        key: KeyRef,
        stage: Stage,
    ) {
        let r = Request {
            key,
            stage,
            flags: of.background_flags(),
            started: now,
            ..*of
        };
        let id = self.alloc(r);
        self.send(now, id, stage);
    }

    /// Runs the serverCron ticks of `node` that start by `now`: a tick due while the main
    /// thread is busy starts when it is free. Nothing observes a shard between its own
    /// events, so ticks run here, before the shard is next used or read, at their own times.
    pub(super) fn catch_up_cron(&mut self, node_idx: usize, now: SimTime) {
        let warm = now >= self.scn.warmup;
        let node = &mut self.nodes[node_idx];
        while node.busy_until <= now {
            let Some(tick) = node.shard.cron_due(now) else {
                break;
            };
            let start = tick.max(node.busy_until);
            node.clock.advance(start, "a shard's serverCron");
            let cpu = node.shard.cron(start);
            node.busy_until = start + SimTime(cpu);
            if warm {
                node.metrics.busy_ns += cpu;
            }
            node.window_busy_ns += cpu;
        }
    }

    /// A command reaches its shard. The shard's single thread runs commands in arrival order:
    /// at once when it is idle, else the command waits in the node's queue until a
    /// `ShardFree` event runs it at its own time.
    pub(super) fn on_shard(&mut self, now: SimTime, req: u32) {
        self.requests[req as usize].arrived = now;
        let r = self.requests[req as usize];
        let node_idx = r.shard as usize;
        if let Some((mode, fault)) = self.nodes[node_idx].down {
            self.shard_down(now, req, mode, fault as usize, false);
            return;
        }
        if self.nodes[node_idx].pending.is_empty() {
            self.catch_up_cron(node_idx, now);
        }
        let node = &mut self.nodes[node_idx];
        let in_service = (node.busy_until > now) as usize;
        let at_shard = (node.pending.len() + in_service + 1) as u64;
        node.metrics.max_queue_len = node.metrics.max_queue_len.max(at_shard);
        if node.pending.is_empty() && node.busy_until <= now {
            self.execute(now, req, false);
            return;
        }
        self.enqueue_at_node(node_idx, req);
        self.requests[req as usize].flags |= FLAG_QUEUED;
        if !r.has(FLAG_BACKGROUND) {
            // The client's timeout runs while the command waits.
            let k = &self.scn.keyspaces[r.ks as usize];
            self.start_client_timer(req, r.sent + k.client_timeout);
        }
    }

    /// Puts `entry` at the end of `node_idx`'s queue, scheduling the `ShardFree` event that
    /// will serve it when it is the first to wait.
    pub(super) fn enqueue_at_node(&mut self, node_idx: usize, entry: u32) {
        let node = &mut self.nodes[node_idx];
        if node.pending.is_empty() {
            let free_at = node.busy_until;
            self.queue.push(
                free_at,
                Event::ShardFree {
                    node: node_idx as u32,
                },
            );
        }
        self.nodes[node_idx].pending.push_back(entry);
    }

    /// `node_idx`'s main thread is free at `now`: run the commands waiting for it while it
    /// stays free (serverCron ticks due first), then wait for it again.
    pub(super) fn on_shard_free(&mut self, now: SimTime, node_idx: usize) {
        loop {
            if self.nodes[node_idx].pending.is_empty() {
                return;
            }
            self.catch_up_cron(node_idx, now);
            let busy_until = self.nodes[node_idx].busy_until;
            if busy_until > now {
                self.queue.push(
                    busy_until,
                    Event::ShardFree {
                        node: node_idx as u32,
                    },
                );
                return;
            }
            let entry = self.nodes[node_idx]
                .pending
                .pop_front()
                .expect("checked non-empty");
            if entry >= DELETE_JOB {
                self.run_delete_job(now, node_idx, (entry - DELETE_JOB) as usize);
            } else {
                self.requests[entry as usize].flags &= !FLAG_QUEUED;
                self.execute(now, entry, true);
            }
        }
    }

    /// The DELs of a delete-on-event for keyspace `ks` run on `node_idx`'s thread at `now`.
    pub(super) fn run_delete_job(&mut self, now: SimTime, node_idx: usize, ks: usize) {
        let warm = now >= self.scn.warmup;
        let node = &mut self.nodes[node_idx];
        node.clock.advance(now, "a shard");
        let before: Vec<(KeyRef, KeyState)> = match &node.history {
            Some(_) => {
                let db = node.shard.db();
                db.positions(false)
                    .filter(|&pos| key_tag(db.entry(pos).key_id) == ks)
                    .map(|pos| {
                        let id = db.entry(pos).key_id;
                        let key = KeyRef {
                            id,
                            len: db.key_len(pos),
                        };
                        (key, KeyState::of(&node.shard, id, now))
                    })
                    .collect()
            }
            None => Vec::new(),
        };
        let (deleted, cpu) = node.shard.delete_tag(ks);
        if let Some(history) = &mut node.history {
            // The replicas see the DELs a lag later (positions are in the dict's order,
            // which is deterministic).
            for (key, state) in before {
                history.record(now, key, state, false);
            }
        }
        // Each DEL is a command of its own on the shard's thread.
        let del_factor = node
            .shard
            .config()
            .service_scale
            .of_class(CommandClass::Del);
        let per_cmd = ns(node.service_us.dist().mean() * del_factor);
        let busy = cpu + deleted * per_cmd;
        node.busy_until = now + SimTime(busy);
        node.window_busy_ns += busy;
        node.window_commands += deleted;
        let key_len = self.scn.keyspaces[ks].key_len_bytes as u64;
        let bytes_in = deleted * wire::request(&[3, key_len]);
        let bytes_out = deleted
            * wire::reply_bytes(
                &Command::Del(KeyRef { id: 0, len: 0 }),
                Reply::Integer(1),
                0,
                RateLimitAlgorithm::FixedWindow,
            );
        node.window_bytes_in += bytes_in;
        node.window_bytes_out += bytes_out;
        if warm {
            node.metrics.busy_ns += busy;
            node.metrics.commands += deleted;
            node.metrics.bytes_in += bytes_in;
            node.metrics.bytes_out += bytes_out;
        }
    }

    /// Runs request `req`'s command on its shard's thread, which is free at `now`, and sends
    /// the reply on its way (`queued`: it waited in the node's queue, so a client timer runs).
    pub(super) fn execute(&mut self, now: SimTime, req: u32, queued: bool) {
        let r = self.requests[req as usize];
        let ks = r.ks as usize;
        let k = &self.scn.keyspaces[ks];
        let lock_release = k.operation == Operation::Lock && r.stage == Stage::Release;
        let mut cmd = self.command_of(&r);
        if lock_release
            && k.fallback.lock_owner_token
            && !self.monitor.lock_owned_by(r.key.id, r.token)
        {
            // Compare-and-delete: the value is another holder's token, so nothing is deleted
            // (the script still reads the key).
            cmd = Command::Get(r.key);
        }
        let lease = self.lease_of_write_back(now, &r);
        if let Some((lease_key, false)) = lease {
            // The lease was deleted, expired or taken again: the script only reads it.
            cmd = Command::Get(lease_key);
        }
        let warm = now >= self.scn.warmup;
        let node = &mut self.nodes[r.shard as usize];
        node.clock.advance(now, "a shard");
        debug_assert!(node.busy_until <= now, "the thread is free");
        let done = node.execute_recorded(now, cmd);
        let mut extra_cpu_ns = done.extra_cpu_ns;
        if let Some((lease_key, true)) = lease {
            if done.reply == Reply::Ok {
                // The same script deletes the lease it held.
                extra_cpu_ns += node
                    .execute_recorded(now, Command::Del(lease_key))
                    .extra_cpu_ns;
                self.clients[ks].leases.released(lease_key.id);
            }
        }
        let mut service = ns(node.service_us.sample());
        // The command's own share (`redis::service_scale`: built in, or calibrated).
        let factor = node.shard.config().service_scale.factor_of(&cmd);
        if factor != 1.0 {
            service = scale_ns(service, factor);
        }
        if node.slow != 1.0 {
            service = scale_ns(service, node.slow);
        }
        let service = service + extra_cpu_ns;
        let finish = now + SimTime(service);
        node.busy_until = finish;
        if warm {
            node.metrics.commands += 1;
            node.metrics.busy_ns += service;
        }
        node.window_commands += 1;
        node.window_busy_ns += service;
        self.count_wire(&r, &cmd, done.reply, warm);
        // The way back takes as long as the way there.
        let reply_at = finish + (r.arrived - r.sent);
        if done.reply == Reply::Oom {
            self.counters.of(&r).oom_errors += 1;
        }
        if r.stage == Stage::First && k.operation == Operation::Lock && done.reply == Reply::Ok {
            self.monitor.lock_set(r.key.id, r.token);
        }
        if lock_release {
            if let Command::Del(_) = cmd {
                if done.reply == Reply::Integer(1) {
                    if !self.monitor.lock_owned_by(r.key.id, r.token) {
                        self.counters.of(&r).foreign_lock_deletes += 1;
                    }
                    self.monitor.lock_deleted(r.key.id);
                }
            }
        }
        if matches!(r.stage, Stage::Lock | Stage::RefreshLock)
            && done.reply == Reply::Ok
            && self.clients[ks].strategy.write_back_needs_lock()
        {
            // Redis now holds this reader's token in the lease key.
            self.requests[req as usize].token = self.clients[ks].leases.grant(r.key.id);
        }
        if r.has(FLAG_ORPHAN) {
            self.release(req); // the client gave up: nobody reads this reply
            return;
        }
        if r.has(FLAG_BACKGROUND) && r.stage != Stage::RefreshLock {
            if r.stage == Stage::WriteBack && done.reply == Reply::Ok {
                self.written(now, &r);
            }
            self.release(req);
            return;
        }
        let slot = &mut self.requests[req as usize];
        slot.stamp = done.stamp;
        slot.reply = done.reply;
        let deadline = r.sent + self.scn.keyspaces[ks].client_timeout;
        if r.has(FLAG_BACKGROUND) || reply_at <= deadline {
            self.queue.push(reply_at, Event::Reply { req });
        } else if !queued {
            // Too late: the client gives up at its timeout (a queued command's timer runs
            // already).
            self.start_client_timer(req, deadline);
        }
    }

    /// Counts `cmd`'s request and reply bytes on request `r`'s shard, and (after the
    /// warm-up) its key among the shard's hot keys.
    #[inline]
    fn count_wire(&mut self, r: &Request, cmd: &Command, reply: Reply, warm: bool) {
        let k = &self.scn.keyspaces[r.ks as usize];
        let value_len = if reply == Reply::Value {
            self.hit_value_len(r, cmd)
        } else {
            0
        };
        let alg = k.rate_limit_algorithm;
        let bytes_in = wire::request_bytes(cmd, reply, alg);
        let bytes_out = wire::reply_bytes(cmd, reply, value_len, alg);
        let node = &mut self.nodes[r.shard as usize];
        node.window_bytes_in += bytes_in;
        node.window_bytes_out += bytes_out;
        if warm {
            node.metrics.bytes_in += bytes_in;
            node.metrics.bytes_out += bytes_out;
            let key = wire::command_key(cmd).id;
            // The key's own tenant (a lock or lease key carries its value key's).
            let label = key_label(key);
            node.hot_ops.add(key, label, 1);
            node.hot_bytes.add(key, label, bytes_in + bytes_out);
        }
    }

    /// Schedules a client timeout for `req`'s current call at `at`; the slot is kept until
    /// it fires.
    pub(super) fn start_client_timer(&mut self, req: u32, at: SimTime) {
        let slot = &mut self.requests[req as usize];
        slot.timers = slot
            .timers
            .checked_add(1)
            .expect("at most a few timers per request");
        self.queue.push(at, Event::ClientTimeout { req });
    }

    /// A reply reaches its client at `now`.
    pub(super) fn on_reply_event(&mut self, now: SimTime, req: u32) {
        let r = self.requests[req as usize];
        self.requests[req as usize].flags &= !FLAG_AWAITING;
        let _ks = r.ks as usize;
        if !r.has(FLAG_BACKGROUND) {
            let us = (now - r.sent).as_ns() / 1000;
            self.counters.redis_latency(&r, us.max(1));
            self.breaker_outcome(now, &r, true);
        }
        self.on_reply(now, req, r.reply);
    }

    /// Tells the instance's circuit breaker (if the keyspace has one) how a call ended.
    pub(super) fn breaker_outcome(&mut self, now: SimTime, r: &Request, ok: bool) {
        let ks = r.ks as usize;
        if let Some(b) = &self.scn.keyspaces[ks].strategy.breaker {
            let (threshold, open_for) = (b.failures, b.open_for);
            self.breaker(r.instance, ks)
                .record(now, ok, threshold, open_for);
        }
    }

    /// A client timer fires: when the call it guards is still unanswered, the client gives
    /// up (a command still waiting at its shard runs later as an orphan, its effects real).
    pub(super) fn on_client_timeout(&mut self, now: SimTime, req: u32) {
        let slot = &mut self.requests[req as usize];
        slot.timers -= 1;
        let r = *slot;
        let k = &self.scn.keyspaces[r.ks as usize];
        let current = r.has(FLAG_AWAITING) && r.sent + k.client_timeout == now;
        if !current {
            if r.timers == 0 && r.has(FLAG_RELEASED) {
                self.requests[req as usize].flags &= !FLAG_RELEASED;
                self.free.push(req);
            }
            return;
        }
        let client = if r.has(FLAG_QUEUED) {
            // The shard still holds the command: it keeps this slot as an orphan, and the
            // client goes on in a slot of its own.
            self.requests[req as usize].flags = (r.flags & !FLAG_AWAITING) | FLAG_ORPHAN;
            self.alloc(Request {
                flags: r.flags & !(FLAG_QUEUED | FLAG_AWAITING),
                timers: 0,
                ..r
            })
        } else {
            self.requests[req as usize].flags &= !FLAG_AWAITING;
            req
        };
        let us = (now - r.sent).as_ns() / 1000;
        self.counters.redis_latency(&r, us.max(1));
        self.counters.of(&r).redis_timeouts += 1;
        self.breaker_outcome(now, &r, false);
        self.on_redis_failed(now, client);
    }

    /// A refusal from a down shard reaches the client at `now`.
    pub(super) fn on_redis_refused(&mut self, now: SimTime, req: u32) {
        let r = self.requests[req as usize];
        self.requests[req as usize].flags &= !FLAG_AWAITING;
        if !r.has(FLAG_BACKGROUND) {
            self.breaker_outcome(now, &r, false);
        }
        self.on_redis_failed(now, req);
    }
}
