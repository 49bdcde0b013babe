//! Cache-aside: GET; on a miss load from the origin and SET. A hit is answered as found.

use super::step::{Happened, Step};

/// Cache-aside (no lock, no envelope).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CacheAside;

impl CacheAside {
    /// Miss: load. Hit: answer.
    pub fn next(&self, happened: Happened) -> Step {
        match happened {
            Happened::Hit { .. } => Step::Answer,
            Happened::Miss | Happened::Locked { .. } | Happened::PollMissed { .. } => Step::Load,
        }
    }
}
