//! A user request's life at its client: arrival, the in-process steps (L1, coalescing,
//! breaker), the read strategy's decisions on each reply (`client::Strategy`), answers.

use super::arrivals::Arrival;
use super::invariants::ValueInfo;
use super::request::{
    Request, Stage, FLAG_COUNTED, FLAG_FINAL, FLAG_HOLDS_LOCK, FLAG_LEADER, FLAG_RETRY,
    FLAG_WILL_RETRY,
};
use super::traffic::Pending;
use super::{Event, Sim};
use crate::client::{Happened, Step, ValueMeta};
use crate::engine::SimTime;
use crate::redis::shard::Reply;
use crate::scenario::{Operation, RateLimitAlgorithm};

impl Sim<'_> {
    /// An arrival reaches its application instance: its key, a final use, a lock token or a
    /// rate-limit admission, and an idempotent command's retry; then `begin`.
    pub(super) fn on_arrival(&mut self, arrival: Arrival) {
        let Arrival {
            ks,
            at: now,
            tenant,
            pending,
            instance,
        } = arrival;
        self.requests_total += 1;
        let k = &self.scn.keyspaces[ks];
        let mut actor = 0;
        let item = match k.operation {
            Operation::Idempotency => {
                self.idem_counter[ks] += 1;
                self.idem_counter[ks]
            }
            Operation::RateLimit => {
                let rank = self.traffic.samplers[ks][tenant].resolve(pending);
                actor = self.actor_number(ks, tenant, rank);
                match k.rate_limit_algorithm {
                    // A fixed window's counter key names the window.
                    RateLimitAlgorithm::FixedWindow => {
                        rank ^ ((now.as_ns() / k.window.as_ns()) << 32)
                    }
                    _ => rank,
                }
            }
            _ => self.traffic.samplers[ks][tenant].resolve(pending),
        };
        let (key, shard) = match pending {
            Pending::Keyed {
                key,
                shard,
                version,
                ..
            } if version == self.version[ks] => (key, shard),
            _ => self.key_for(ks, tenant, item),
        };
        let counted = now >= self.scn.warmup;
        let mut flags = if counted { FLAG_COUNTED } else { 0 };
        let fb = &k.fallback;
        if fb.final_use_fraction > 0.0 && self.final_rng[ks].next_f64() < fb.final_use_fraction {
            flags |= FLAG_FINAL;
        }
        let token = match k.operation {
            Operation::Lock => self.monitor.token(),
            // A fixed window without a limit needs no client-side count.
            Operation::RateLimit
                if k.rate_limit_algorithm == RateLimitAlgorithm::FixedWindow
                    && k.rate_limit_per_window.is_none() =>
            {
                0
            }
            Operation::RateLimit => {
                let a = self.clients[ks].rate.admit(
                    actor,
                    key.id,
                    super::warm_client::rate_clock_ms(k, now),
                    k.window.as_ms().max(1),
                    k.rate_limit_per_window,
                    k.rate_limit_algorithm,
                );
                if !a.allowed {
                    self.counters.keyspace(ks, counted).rate_limited += 1;
                }
                a.entries
            }
            _ => 0,
        };
        let r = Request {
            ks: ks as u16,
            instance,
            stage: Stage::First,
            flags,
            tenant: tenant as u16,
            attempt: 0,
            token,
            key,
            value_key: key,
            stamp: 0,
            shard,
            started: now,
            sent: now,
            arrived: now,
            waited_since: now,
            load_started: now,
            reply: Reply::Nil,
            timers: 0,
        };
        let id = self.alloc(r);
        if k.operation == Operation::Idempotency
            && k.retry_probability > 0.0
            && self.op_rng[ks].next_f64() < k.retry_probability
        {
            // The client retries the same command later (same idempotency key).
            let at = now + k.retry_delay;
            if at < self.scn.duration {
                let retry = Request {
                    flags: (if at >= self.scn.warmup {
                        FLAG_COUNTED
                    } else {
                        0
                    }) | FLAG_RETRY,
                    started: at,
                    ..r
                };
                let rid = self.alloc(retry);
                self.queue.push(at, Event::Retry { req: rid });
                self.requests[id as usize].flags |= FLAG_WILL_RETRY;
            }
        }
        self.begin(now, id);
    }

    pub(super) fn on_retry(&mut self, now: SimTime, req: u32) {
        self.requests_total += 1;
        self.begin(now, req);
    }

    /// A user request starts at its instance: L1, coalescing, breaker, then Redis.
    pub(super) fn begin(&mut self, now: SimTime, req: u32) {
        let r = self.requests[req as usize];
        let ks = r.ks as usize;
        self.ks_clock[ks].advance(now, "a keyspace's client");
        self.counters.of(&r).requests += 1;
        if r.counted() {
            self.tenant_counters.request(ks, r.tenant as usize);
        }
        self.cur.keyspace_requests[ks] += 1;
        let k = &self.scn.keyspaces[ks];
        let reads = matches!(k.operation, Operation::ReadThrough | Operation::Session);
        if r.has(FLAG_FINAL) && k.fallback.revalidate_before_final {
            // A final use does not trust the cache: recompute at the origin, then write back.
            self.counters.of(&r).final_revalidations += 1;
            self.load(now, req);
            return;
        }
        if reads && !self.clients[ks].local.is_empty() {
            let l1 = &mut self.clients[ks].local[r.instance as usize];
            let held = l1.get(r.key.id, now);
            // A copy an invalidation message dropped is gone (the LRU slot is reused later).
            if held && !self.monitor.copy_invalidated(ks, r.instance, r.key.id) {
                self.counters.of(&r).l1_hits += 1;
                if let Some(v) = self.monitor.copy(ks, r.instance, r.key.id) {
                    let final_use = r.has(FLAG_FINAL);
                    self.monitor
                        .read(now, ks, r.tenant, v, final_use, r.started);
                }
                self.cur.keyspace_hits[ks] += 1;
                self.answer(ks, req, now, false);
                self.release(req);
                return;
            }
        }
        if reads && k.strategy.coalesce {
            if !self.coalescer.join(r.instance as u32, r.key.id, req) {
                self.counters.of(&r).coalesced += 1;
                return; // answered when the leader's fetch finishes
            }
            self.requests[req as usize].flags |= FLAG_LEADER;
        }
        if k.strategy.breaker.is_some() && !self.breaker(r.instance, ks).allows(now) {
            self.fallback(now, req);
            return;
        }
        self.send(now, req, Stage::First);
    }

    /// A reply reaches the request's client: the operation's own handling (rate limits,
    /// locks), or the read strategy's next step after what the reply says happened.
    pub(super) fn on_reply(&mut self, now: SimTime, req: u32, reply: Reply) {
        let r = self.requests[req as usize];
        let ks = r.ks as usize;
        self.ks_clock[ks].advance(now, "a keyspace's client");
        let k = &self.scn.keyspaces[ks];
        // Back to the value key after a lock step.
        self.requests[req as usize].key = r.value_key;
        let happened = match (r.stage, k.operation) {
            (Stage::First, Operation::RateLimit) => {
                match reply {
                    Reply::Integer(_) | Reply::Ok => {
                        self.answer(ks, req, now, false);
                        self.release(req);
                    }
                    _ => self.fail_on(ks, req, reply),
                }
                return;
            }
            (Stage::First, Operation::Lock) => {
                match reply {
                    Reply::Ok | Reply::Nil => {
                        if reply == Reply::Ok {
                            self.counters.of(&r).lock_acquired += 1;
                            self.lock_work(now, req, true);
                        } else {
                            self.counters.of(&r).lock_contended += 1;
                        }
                        self.answer(ks, req, now, false);
                        self.release(req);
                    }
                    _ => self.fail_on(ks, req, reply),
                }
                return;
            }
            (Stage::First | Stage::Poll, _) if reply == Reply::Value => {
                self.on_hit(now, req);
                return;
            }
            (Stage::First, _) => {
                self.monitor.missed(now, ks, r.value_key.id);
                let m = self.counters.of(&r);
                m.misses += 1;
                if r.has(FLAG_RETRY) {
                    m.retries += 1;
                    m.retries_reexecuted += 1;
                }
                if reply != Reply::Nil {
                    self.load(now, req);
                    return;
                }
                Happened::Miss
            }
            (Stage::Lock, _) => {
                let acquired = reply == Reply::Ok;
                if !acquired {
                    self.counters.of(&r).lock_waits += 1;
                }
                Happened::Locked {
                    acquired,
                    waited: now - r.waited_since,
                }
            }
            (Stage::Poll, _) => Happened::PollMissed {
                waited: now - r.waited_since,
            },
            (Stage::RefreshLock, _) => {
                if reply == Reply::Ok {
                    self.requests[req as usize].flags |= FLAG_HOLDS_LOCK;
                    self.load(now, req);
                } else {
                    self.release(req); // another instance is refreshing
                }
                return;
            }
            (Stage::WriteBack | Stage::Refresh | Stage::Release, _) => {
                unreachable!("background stages end at the shard")
            }
        };
        let client = &mut self.clients[ks];
        match client.strategy.next(happened, &mut client.rng) {
            Step::Load => self.load(now, req),
            Step::TakeLock => {
                let lock = self.lock_key(r.value_key);
                let slot = &mut self.requests[req as usize];
                slot.key = lock;
                slot.waited_since = now;
                self.send(now, req, Stage::Lock);
            }
            Step::LoadHoldingLock => {
                self.requests[req as usize].flags |= FLAG_HOLDS_LOCK;
                self.load(now, req);
            }
            Step::Poll { after } => self.queue.push(now + after, Event::Poll { req }),
            Step::LoadAfterWaiting => {
                self.counters.of(&r).lock_wait_timeouts += 1;
                self.load(now, req);
            }
            Step::Answer | Step::AnswerAndRefresh { .. } => {
                unreachable!("a strategy answers hits only")
            }
        }
    }

    /// A Redis hit of a user request (first GET or a poll while another held the lock): the strategy may
    /// refresh the value in the background.
    pub(super) fn on_hit(&mut self, now: SimTime, req: u32) {
        let r = self.requests[req as usize];
        let ks = r.ks as usize;
        let k = &self.scn.keyspaces[ks];
        if r.has(FLAG_RETRY) {
            self.counters.of(&r).retries += 1;
        }
        if r.has(FLAG_RETRY) {
            self.monitor.retry_answered(r.value_key.id);
        }
        if let Some(v) = ValueInfo::from_stamp(r.stamp) {
            let final_use = r.has(FLAG_FINAL);
            self.monitor
                .read(now, ks, r.tenant, v, final_use, r.started);
        }
        if k.operation == Operation::Session {
            self.send_background(now, &r, r.value_key, Stage::Refresh);
        }
        let client = &mut self.clients[ks];
        let envelope = client.meta.get(&r.value_key.id).copied();
        let step = client
            .strategy
            .next(Happened::Hit { now, envelope }, &mut client.rng);
        if let Step::AnswerAndRefresh { stale, behind_lock } = step {
            let km = self.counters.of(&r);
            km.stale_serves += stale as u64;
            km.background_loads += 1;
            if behind_lock {
                let lock = self.lock_key(r.value_key);
                self.send_background(now, &r, lock, Stage::RefreshLock);
            } else {
                let bg = Request {
                    flags: r.background_flags(),
                    started: now,
                    ..r
                };
                let id = self.alloc(bg);
                self.load(now, id);
            }
        }
        self.answer(ks, req, now, true);
        self.finish_fetch(now, req, true);
        self.release(req);
    }

    /// A write-back landed: close the key's stampede episode, record the value's envelope.
    pub(super) fn written(&mut self, now: SimTime, r: &Request) {
        let ks = r.ks as usize;
        self.ks_clock[ks].advance(now, "a keyspace's client");
        let k = &self.scn.keyspaces[ks];
        self.monitor.written(ks, r.key.id);
        if let Some(size) = self.clients[ks].stampede.written(r.key.id) {
            self.counters.stampede(r, size);
        }
        if let Some(soft_ttl) = self.clients[ks].strategy.soft_ttl(k.ttl) {
            let ttl = SimTime::from_ms(self.ttl_ms(r));
            self.clients[ks].meta.insert(
                r.key.id,
                ValueMeta {
                    soft_expiry: now + soft_ttl,
                    expiry: now + ttl,
                    delta: r.sent.saturating_sub(r.load_started),
                },
            );
        }
    }

    /// The leader of a coalesced fetch finished: answer the requests that waited for it.
    pub(super) fn finish_fetch(&mut self, now: SimTime, req: u32, hit: bool) {
        let r = self.requests[req as usize];
        let ks = r.ks as usize;
        if !self.clients[ks].local.is_empty() {
            self.clients[ks].local[r.instance as usize].put(r.value_key.id, now);
            if self.monitor.tracks_copies(ks) {
                let loaded = ValueInfo {
                    loaded_at: r.load_started,
                    tenant: r.tenant,
                };
                let value = if hit {
                    ValueInfo::from_stamp(r.stamp).unwrap_or(loaded)
                } else {
                    loaded
                };
                self.monitor
                    .copy_put(now, ks, r.instance, r.value_key.id, value);
            }
        }
        if r.has(FLAG_LEADER) {
            for w in self.coalescer.finish(r.instance as u32, r.value_key.id) {
                if hit {
                    self.cur.keyspace_hits[ks] += 1;
                }
                self.answer(ks, w, now, false);
                self.release(w);
            }
        }
    }

    /// Records a user-visible answer at `at` (`hit`: answered by a Redis hit).
    pub(super) fn answer(&mut self, ks: usize, req: u32, at: SimTime, hit: bool) {
        self.ks_clock[ks].advance(at, "a keyspace's recorders");
        let r = self.requests[req as usize];
        let lat = ((at - r.started).as_ns() / 1000).max(1);
        self.cur_p99[ks].record(lat);
        if hit {
            self.cur.keyspace_hits[ks] += 1;
        }
        if hit {
            self.counters.of(&r).redis_hits += 1;
            if r.counted() {
                self.tenant_counters.hit(ks, r.tenant as usize);
            }
        }
        self.counters.latency(&r, lat);
    }

    /// The request fails on `reply`; an OOM rejection that fails it is counted as such, so
    /// a request is counted once among errors and rejected writes.
    fn fail_on(&mut self, ks: usize, req: u32, reply: Reply) {
        if reply == Reply::Oom {
            let r = self.requests[req as usize];
            self.counters.of(&r).oom_failed += 1;
        }
        self.fail(ks, req);
    }

    pub(super) fn fail(&mut self, ks: usize, req: u32) {
        let r = self.requests[req as usize];
        debug_assert_eq!(r.ks as usize, ks);
        self.counters.of(&r).errors += 1;
        self.release(req);
    }
}
