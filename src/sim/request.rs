//! Requests: a request's record in the slab (`Request`), where it is in its life (`Stage`), its
//! flags, and the slab's allocation and release.

use super::Sim;
use crate::engine::SimTime;
use crate::redis::db::KeyRef;
use crate::redis::shard::Reply;

/// Where a request is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Stage {
    /// The first Redis command of a user request (GET, INCR, SET NX of a lock keyspace).
    First,
    /// `SET lock NX PX` of the refill lock after a miss (`Step::TakeLock`; the user waits).
    Lock,
    /// GET after waiting for the lock holder (`Step::Poll`; the user waits).
    Poll,
    /// `SET lock NX PX` of a background refresh (`Step::AnswerAndRefresh` behind a lock).
    RefreshLock,
    /// A write-back after a load (SET); nobody waits for it.
    WriteBack,
    /// A TTL refresh on a session hit (PEXPIRE); nobody waits.
    Refresh,
    /// Releasing a lock (DEL); nobody waits.
    Release,
}

/// The request began at or after the end of the warm-up: what it causes is counted
/// (`Counters`).
pub(super) const FLAG_COUNTED: u16 = 1;
/// A client's retry of an idempotent command.
pub(super) const FLAG_RETRY: u16 = 2;
/// Nobody waits for this command (a write-back, a release, a refresh).
pub(super) const FLAG_BACKGROUND: u16 = 4;
/// The request holds its key's refill lock (released after its write-back).
pub(super) const FLAG_HOLDS_LOCK: u16 = 8;
/// The request leads an in-process coalesced fetch.
pub(super) const FLAG_LEADER: u16 = 16;

/// An idempotent command whose client will retry it (its executions are counted).
pub(super) const FLAG_WILL_RETRY: u16 = 32;

/// A load sent to the origin because Redis failed (holds a bulkhead slot).
pub(super) const FLAG_FALLBACK_LOAD: u16 = 64;

/// A read whose value is used as a final price.
pub(super) const FLAG_FINAL: u16 = 128;

/// A Redis call was sent and neither its reply nor its failure has reached the client yet.
pub(super) const FLAG_AWAITING: u16 = 512;

/// The command waits in its shard's queue for the main thread.
pub(super) const FLAG_QUEUED: u16 = 1024;

/// The client gave up on this command before the shard ran it: the shard runs it (its
/// effects on Redis are real) and nobody sees the reply.
pub(super) const FLAG_ORPHAN: u16 = 2048;

/// Released while a client timeout was still pending: freed when the last one fires.
pub(super) const FLAG_RELEASED: u16 = 4096;

/// A node's queue entry that is not a request: the DELs of a delete-on-event for keyspace
/// `entry & 0xFFFF` (request ids stay below this).
pub(super) const DELETE_JOB: u32 = 0xFFFF_0000;

#[derive(Clone, Copy, Debug)]
pub(super) struct Request {
    pub(super) ks: u16,
    pub(super) instance: u16,
    pub(super) stage: Stage,
    pub(super) flags: u16,
    pub(super) tenant: u16,
    /// Redis retries made for the current call.
    pub(super) attempt: u8,
    /// Lock owner token (lock keyspaces); for rate-limit keyspaces, the entries the actor's
    /// window holds after this request.
    pub(super) token: u64,
    /// The key of the current command (the lock key while a lock is being taken).
    pub(super) key: KeyRef,
    /// The value key the request is about.
    pub(super) value_key: KeyRef,
    /// The stamp of the value the last GET hit returned (`ValueInfo::stamp`; 0 = none).
    pub(super) stamp: u64,
    pub(super) shard: u32,
    pub(super) started: SimTime,
    pub(super) sent: SimTime,
    /// When the current command reached its shard (the way back takes as long).
    pub(super) arrived: SimTime,
    pub(super) waited_since: SimTime,
    pub(super) load_started: SimTime,
    /// The reply of the current command, held until it reaches the client.
    pub(super) reply: Reply,
    /// Client-timeout events pending for this slot (it is not reused while any is).
    pub(super) timers: u8,
}

impl Request {
    pub(super) fn has(&self, f: u16) -> bool {
        self.flags & f != 0
    }

    /// The flags of a background command on this request's behalf (counted as it is).
    #[inline]
    pub(super) fn background_flags(&self) -> u16 {
        (self.flags & FLAG_COUNTED) | FLAG_BACKGROUND
    }

    /// Whether what this request causes is counted (it began after the warm-up).
    #[inline]
    pub(super) fn counted(&self) -> bool {
        self.has(FLAG_COUNTED)
    }
}

impl Sim<'_> {
    pub(super) fn alloc(&mut self, r: Request) -> u32 {
        match self.free.pop() {
            Some(i) => {
                self.requests[i as usize] = r;
                i
            }
            None => {
                self.requests.push(r);
                (self.requests.len() - 1) as u32
            }
        }
    }

    /// Frees request slot `req` (kept until its pending client timers have fired).
    pub(super) fn release(&mut self, req: u32) {
        let slot = &mut self.requests[req as usize];
        if slot.timers > 0 {
            slot.flags |= FLAG_RELEASED;
        } else {
            self.free.push(req);
        }
    }
}
