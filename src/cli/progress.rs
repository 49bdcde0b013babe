//! The progress bar of the long commands (`run`: simulated time over all plans; `sweep`:
//! cells), drawn by indicatif on stderr while the work runs on the calling thread. Drawn only
//! when asked (not `--quiet`) and stderr is a terminal, and only once the work has taken a
//! second, so short runs and pipes see nothing; cleared when the work ends.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// How often the bar reads the work's position.
const POLL: Duration = Duration::from_millis(200);
/// Work shorter than this shows no bar.
const SHOW_AFTER: Duration = Duration::from_secs(1);

/// What a bar shows.
pub struct BarSpec {
    /// The position when the work is done.
    pub len: u64,
    /// The text after the bar: an indicatif template (`{pos}`, `{len}`, `{percent}`, ...).
    pub message: &'static str,
}

/// Whether a command draws a bar: not `--quiet`, and stderr is a terminal.
pub fn wanted(quiet: bool) -> bool {
    !quiet && std::io::stderr().is_terminal()
}

/// Runs `work` on this thread; while it runs (and when `draw`), a scoped thread shows `spec`'s
/// bar at the position `position()` reads.
pub fn run_with_bar<R: Send>(
    draw: bool,
    spec: &BarSpec,
    position: &(dyn Fn() -> u64 + Sync),
    work: impl FnOnce() -> R + Send,
) -> R {
    if !draw {
        return work();
    }
    let done = AtomicBool::new(false);
    let started = Instant::now();
    std::thread::scope(|s| {
        s.spawn(|| {
            let bar = ProgressBar::with_draw_target(Some(spec.len), ProgressDrawTarget::hidden())
                .with_style(
                    ProgressStyle::with_template(&format!("[{{bar:30}}] {}", spec.message))
                        .expect("a valid progress template")
                        .progress_chars("##."),
                );
            while !done.load(Ordering::Relaxed) {
                std::thread::sleep(POLL);
                if bar.is_hidden() && started.elapsed() >= SHOW_AFTER {
                    bar.set_draw_target(ProgressDrawTarget::stderr());
                }
                bar.set_position(position().min(spec.len));
            }
            bar.finish_and_clear();
        });
        let r = work();
        done.store(true, Ordering::Relaxed);
        r
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicU64;

    #[test]
    fn the_work_runs_and_returns_with_or_without_a_bar() {
        let spec = BarSpec {
            len: 10,
            message: "{pos}/{len} cells",
        };
        let pos = AtomicU64::new(0);
        for draw in [false, true] {
            let r = run_with_bar(draw, &spec, &|| pos.load(Ordering::Relaxed), || {
                pos.store(10, Ordering::Relaxed);
                42
            });
            assert_eq!(r, 42);
        }
    }
}
