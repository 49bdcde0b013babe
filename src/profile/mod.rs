//! `cacheplan profile`'s pure inference: functions of sampled data only (no IO, no server), so
//! they are unit-tested without Redis. So far: key templates from key names (`template`).

pub mod template;
