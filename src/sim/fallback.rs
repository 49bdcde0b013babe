//! When Redis fails a request: Redis retries, then the keyspace's fallback policy (rate limits
//! open or closed, locks skipped or given up, reads to the origin behind a bulkhead); a lock
//! holder's work.

use super::request::{Stage, FLAG_FALLBACK_LOAD, FLAG_RETRY};
use super::{ns, Event, Sim};
use crate::client::Breaker;
use crate::engine::SimTime;
use crate::metrics::Invariant;
use crate::redis::shard::Reply;
use crate::scenario::{LockWhenDown, Operation, RateLimitWhenDown};

impl Sim<'_> {
    pub(super) fn breaker(&mut self, instance: u16, ks: usize) -> &mut Breaker {
        let i = instance as usize * self.scn.clusters.len() + self.cluster_of_ks[ks];
        &mut self.breakers[i]
    }

    /// Skips Redis (open circuit breaker): the keyspace's fallback policy decides.
    pub(super) fn fallback(&mut self, now: SimTime, req: u32) {
        self.redis_unavailable(now, req, false);
    }

    /// A first Redis call failed (refused, timed out): retry it after a drawn delay while
    /// `fallback.redis_retries` allows, then apply the fallback policy. Later steps (lock
    /// polls, background locks) see a nil reply, as before.
    pub(super) fn on_redis_failed(&mut self, now: SimTime, req: u32) {
        let r = self.requests[req as usize];
        let ks = r.ks as usize;
        if r.stage != Stage::First {
            self.on_reply(now, req, Reply::Nil);
            return;
        }
        let fb = &self.scn.keyspaces[ks].fallback;
        if (r.attempt as u32) < fb.redis_retries {
            self.requests[req as usize].attempt += 1;
            self.counters.of(&r).redis_retries += 1;
            let delay_ms = fb.redis_retry_delay_ms.sample(&mut self.retry_rng[ks]);
            self.queue
                .push(now + SimTime(ns(delay_ms * 1000.0)), Event::Resend { req });
            return;
        }
        self.redis_unavailable(now, req, true);
    }

    /// Redis is unavailable for request `req` (`asked`: a call was made and failed, rather
    /// than skipped by an open breaker): rate limits fail open or closed, locks are skipped or
    /// given up, reads and critical commands go to the origin behind the instance's bulkhead.
    pub(super) fn redis_unavailable(&mut self, now: SimTime, req: u32, asked: bool) {
        let r = self.requests[req as usize];
        let ks = r.ks as usize;
        let k = &self.scn.keyspaces[ks];
        self.counters.of(&r).fallbacks += 1;
        match k.operation {
            Operation::RateLimit => match k.fallback.rate_limit {
                RateLimitWhenDown::Open => {
                    self.answer(ks, req, now, false);
                    self.release(req);
                }
                RateLimitWhenDown::Closed => {
                    self.counters.of(&r).rate_limit_rejected += 1;
                    self.fail(ks, req);
                }
            },
            Operation::Lock => {
                match k.fallback.lock {
                    LockWhenDown::Skip => {
                        self.counters.of(&r).lock_skipped += 1;
                        self.lock_work(now, req, false);
                    }
                    LockWhenDown::GiveUp => {
                        self.counters.of(&r).lock_contended += 1;
                    }
                }
                self.answer(ks, req, now, false);
                self.release(req);
            }
            Operation::ReadThrough | Operation::Session | Operation::Idempotency => {
                if asked {
                    let m = self.counters.of(&r);
                    m.misses += 1;
                    if r.has(FLAG_RETRY) {
                        m.retries += 1;
                        m.retries_reexecuted += 1;
                    }
                }
                let slot = ks * self.scn.app_instances as usize + r.instance as usize;
                if self.fallback_in_flight[slot] >= k.fallback.origin_max_in_flight {
                    self.counters.of(&r).fallback_rejected += 1;
                    self.load_failed(now, req);
                } else {
                    self.fallback_in_flight[slot] += 1;
                    self.requests[req as usize].flags |= FLAG_FALLBACK_LOAD;
                    self.load(now, req);
                }
            }
        }
    }

    /// A lock holder (or, with `acquired` false, a request that skipped the lock) starts its
    /// work at `now`: hold time plus a drawn pause. Counts an overlap with another holder's
    /// work (stopped by the database constraint when there is one) and, when the lock was
    /// acquired, schedules its release at the end of the work.
    pub(super) fn lock_work(&mut self, now: SimTime, req: u32, acquired: bool) {
        let r = self.requests[req as usize];
        let ks = r.ks as usize;
        let k = &self.scn.keyspaces[ks];
        let mut work_ms = k.hold_ms.sample(&mut self.op_rng[ks]);
        if let Some(p) = &k.fallback.pause_ms {
            work_ms += p.sample(&mut self.op_rng[ks]);
        }
        let work = SimTime(ns(work_ms * 1000.0));
        if self.monitor.lock_work(now, r.value_key.id, work) {
            if k.fallback.db_constraint {
                self.monitor.prevented(now, ks, Invariant::LockOverlap);
            } else {
                self.monitor
                    .violation(now, ks, Invariant::LockOverlap, SimTime::ZERO);
            }
        }
        if acquired {
            self.send_background(now + work, &r, r.value_key, Stage::Release);
        }
    }
}
