//! Loads from the origin: a load's admission at the origin's pool, its completion (write-back,
//! lock release) or failure, and the bulkhead of fallback loads.

use super::request::{
    Request, Stage, FLAG_BACKGROUND, FLAG_FALLBACK_LOAD, FLAG_HOLDS_LOCK, FLAG_RETRY,
    FLAG_WILL_RETRY,
};
use super::{Event, Sim};
use crate::engine::SimTime;
use crate::metrics::Invariant;
use crate::origin::{Admit, Next};
use crate::scenario::Operation;

impl Sim<'_> {
    /// Sends request `req` to its keyspace's origin.
    pub(super) fn load(&mut self, now: SimTime, req: u32) {
        let r = self.requests[req as usize];
        let ks = r.ks as usize;
        self.ks_clock[ks].advance(now, "a keyspace's client");
        self.requests[req as usize].load_started = now;
        self.clients[ks].stampede.load_started(r.value_key.id);
        self.counters.of(&r).origin_loads += 1;
        // The load reaches the origin now (no network delay is modelled on this side).
        self.on_origin(now, req);
    }

    pub(super) fn on_origin(&mut self, now: SimTime, req: u32) {
        let r = self.requests[req as usize];
        let oi = self.scn.keyspaces[r.ks as usize]
            .origin
            .expect("validated: operations that load have an origin");
        match self.origins[oi].arrive(now, req, r.counted()) {
            Admit::Started { service } => self.queue.push(now + service, Event::OriginDone { req }),
            Admit::Queued { deadline } => {
                if let Some(at) = deadline {
                    self.queue
                        .push(at, Event::OriginTimeout { origin: oi as u16 });
                }
            }
            Admit::Rejected => self.load_failed(now, req),
        }
    }

    /// Loads that have waited their origin's timeout by `now` give up, at their own time.
    pub(super) fn on_origin_timeout(&mut self, now: SimTime, oi: usize) {
        let requests = &self.requests;
        let expired = self.origins[oi].expire(now, |id| requests[id as usize].counted());
        for id in expired {
            self.load_failed(now, id);
        }
    }

    pub(super) fn on_origin_done(&mut self, now: SimTime, req: u32) {
        let r = self.requests[req as usize];
        let ks = r.ks as usize;
        let oi = self.scn.keyspaces[ks].origin.expect("validated");
        let counted_of = |reqs: &Vec<Request>, id: u32| reqs[id as usize].counted();
        let requests = &self.requests;
        for next in self.origins[oi].complete(now, |id| counted_of(requests, id)) {
            match next {
                Next::Started { req: id, service } => self
                    .queue
                    .push(now + service, Event::OriginDone { req: id }),
                Next::TimedOut { req: id } => self.load_failed(now, id),
            }
        }
        self.end_fallback_load(&r);
        if self.scn.keyspaces[ks].operation == Operation::Idempotency
            && r.flags & (FLAG_WILL_RETRY | FLAG_RETRY) != 0
            && self.monitor.executed(r.value_key.id)
        {
            // The command ran twice: only a database idempotency record notices.
            if self.scn.keyspaces[ks].fallback.db_idempotency {
                self.monitor
                    .prevented(now, ks, Invariant::DuplicateExecution);
            } else {
                self.monitor
                    .violation(now, ks, Invariant::DuplicateExecution, SimTime::ZERO);
            }
        }
        if !r.has(FLAG_BACKGROUND) {
            self.answer(ks, req, now, false);
            self.finish_fetch(now, req, false);
        }
        // Write the value back (nobody waits), then release the lock if one was taken (a
        // lease's write-back releases it itself).
        self.send_background(now, &r, r.value_key, Stage::WriteBack);
        let strategy = &self.clients[ks].strategy;
        if r.has(FLAG_HOLDS_LOCK) && !strategy.write_back_needs_lock() {
            let lock = self.lock_key(r.value_key);
            self.send_background(now, &r, lock, Stage::Release);
        }
        self.release(req);
    }

    /// The origin rejected or timed out a load.
    pub(super) fn load_failed(&mut self, now: SimTime, req: u32) {
        let r = self.requests[req as usize];
        let ks = r.ks as usize;
        self.end_fallback_load(&r);
        if !r.has(FLAG_BACKGROUND) {
            self.finish_fetch(now, req, false);
        }
        self.fail(ks, req);
    }

    /// A fallback load ended: free its bulkhead slot.
    pub(super) fn end_fallback_load(&mut self, r: &Request) {
        if r.has(FLAG_FALLBACK_LOAD) {
            let slot = r.ks as usize * self.scn.app_instances as usize + r.instance as usize;
            self.fallback_in_flight[slot] -= 1;
        }
    }
}
