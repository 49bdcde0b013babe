//! XFetch, probabilistic early recomputation (Vattani, Chierichetti, Lowenstein, VLDB 2015):
//! on a hit, recompute in the background when `now - delta * beta * ln(u) >= expiry`, u
//! uniform in (0, 1]; a miss loads as cache-aside does.

use super::step::{Happened, Step};
use crate::engine::{RngStream, SimTime};

/// XFetch's parameter.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct XFetch {
    /// beta > 0 (1 = the paper's default).
    pub beta: f64,
}

impl XFetch {
    /// Hit: recompute early (no lock) when the test says so. Miss: load.
    pub fn next(&self, happened: Happened, rng: &mut RngStream) -> Step {
        match happened {
            Happened::Hit {
                now,
                envelope: Some(m),
            } => {
                if xfetch_recompute(now, m.delta, self.beta, m.expiry, rng) {
                    Step::AnswerAndRefresh {
                        stale: false,
                        behind_lock: false,
                    }
                } else {
                    Step::Answer
                }
            }
            Happened::Hit { envelope: None, .. } => Step::Answer,
            Happened::Miss | Happened::Locked { .. } | Happened::PollMissed { .. } => Step::Load,
        }
    }
}

/// XFetch's test: recompute early when `now - delta * beta * ln(u) >= expiry`, u uniform in
/// (0, 1].
pub fn xfetch_recompute(
    now: SimTime,
    delta: SimTime,
    beta: f64,
    expiry: SimTime,
    rng: &mut RngStream,
) -> bool {
    let gap_ns = -(delta.as_ns() as f64) * beta * rng.next_f64_open0().ln();
    now.as_ns() as f64 + gap_ns >= expiry.as_ns() as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xfetch_probability_matches_its_closed_form() {
        // P(recompute) = P(-ln u >= (expiry - now) / (delta beta)) = exp(-(expiry-now)/(delta beta)).
        let mut rng = RngStream::new(3, 3);
        let (delta, beta) = (SimTime::from_ms(100), 1.0);
        let expiry = SimTime::from_secs(10);
        let now = expiry - SimTime::from_ms(150);
        let n = 200_000;
        let hits = (0..n)
            .filter(|_| xfetch_recompute(now, delta, beta, expiry, &mut rng))
            .count();
        let p = hits as f64 / n as f64;
        let want = (-1.5f64).exp();
        assert!((p - want).abs() < 0.005, "{p} vs {want}");
    }
}
