//! The application side: how a reader refills the cache (the read strategies behind one
//! interface, `strategy`), what each application instance keeps in process (a local L1 cache,
//! in-flight fetches for coalescing, a circuit breaker per cluster, rate limiters), negative
//! caching, the value envelope a strategy reads, and the stampede tracker that counts
//! recomputations per expiry of a key. Pure state and decisions; `sim` drives them and owns
//! time.
//!
//! Must not: schedule events, touch shards, or depend on replay or trace readers.

mod breaker;
mod cache_aside;
mod coalescing;
mod envelope;
mod l1;
mod lease;
pub mod negative;
mod rate_limit;
mod refresh_ahead;
mod single_flight;
mod stale_while_revalidate;
mod step;
mod strategy;
mod xfetch;

pub use breaker::Breaker;
pub use cache_aside::CacheAside;
pub use coalescing::Coalescer;
pub use envelope::{StampedeTracker, ValueMeta};
pub use l1::LocalCache;
pub use lease::{Lease, Leases};
pub use rate_limit::{Admission, RateLimiters};
pub use refresh_ahead::RefreshAhead;
pub use single_flight::SingleFlight;
pub use stale_while_revalidate::StaleWhileRevalidate;
pub use step::{Happened, Step};
pub use strategy::Strategy;
pub use xfetch::{xfetch_recompute, XFetch};
