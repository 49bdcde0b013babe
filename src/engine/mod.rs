//! The generic event engine: simulated time, the event queue and seeded RNG streams.
//! It knows nothing about Redis, clients or traffic.

pub mod time;

pub use time::SimTime;
pub mod rng;

pub use rng::RngStream;
pub mod queue;

pub use queue::{bench_hold, EventQueue, HoldBench};
