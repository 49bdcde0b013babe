//! The words of the read strategies' interface: what just happened to a user request
//! (`Happened`) and the next step its strategy asks for (`Step`). `sim` reports the one and
//! carries out the other.

use super::envelope::ValueMeta;
use crate::engine::SimTime;

/// What just happened to a user request, as its read strategy sees it.
#[derive(Clone, Copy, Debug)]
pub enum Happened {
    /// The first GET found nothing.
    Miss,
    /// The reply to the refill lock (`SET lock NX PX`) taken after a miss, `waited` after the
    /// request began waiting for it.
    Locked {
        /// Whether the lock was taken.
        acquired: bool,
        /// How long the request has waited for the value so far.
        waited: SimTime,
    },
    /// A GET made after waiting for a lock holder found nothing, `waited` after the request
    /// began waiting.
    PollMissed {
        /// How long the request has waited for the value so far.
        waited: SimTime,
    },
    /// A GET found the value at `now`; its envelope when the application keeps one.
    Hit {
        /// When the reply reached the client.
        now: SimTime,
        /// The value's envelope (soft expiry, delta), if written by a strategy that keeps one.
        envelope: Option<ValueMeta>,
    },
}

/// The next step of a user request, decided by its read strategy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// Load from the origin and write back.
    Load,
    /// Take the refill lock (`SET lock NX PX`) before loading.
    TakeLock,
    /// The refill lock is held: load from the origin, write back, release the lock.
    LoadHoldingLock,
    /// Wait for the lock holder: GET the value again `after` from now.
    Poll {
        /// Wait before the next GET.
        after: SimTime,
    },
    /// Waited too long for a lock holder: load from the origin without the lock.
    LoadAfterWaiting,
    /// Answer with the value found.
    Answer,
    /// Answer with the value found and refresh it in the background.
    AnswerAndRefresh {
        /// The value served is past its soft expiry (stale).
        stale: bool,
        /// The refresh first takes a Redis lock so that one instance refreshes.
        behind_lock: bool,
    },
}
