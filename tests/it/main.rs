//! The integration test binary: one module per behaviour.

mod strategies;
