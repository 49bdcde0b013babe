//! The integration test binary (STYLE.md habit 8): one module per behaviour. Slow tests run
//! only when `CACHEPLAN_SLOW_TESTS=1`.

mod fidelity_expiry;
mod fidelity_grid;
mod fidelity_lfu;
mod fidelity_memory;
mod fidelity_support;
mod replay_exact;
