//! `cacheplan profile`'s pure inference: functions of sampled data only (no IO, no server), so
//! they are unit-tested without Redis. The IO edge is `cli::profile` (it talks to the server and
//! hands the data in); here: key templates from key names (`template`), MONITOR lines
//! (`monitor`), the fits with their uncertainty (`stats`), per-template profiles with tenants,
//! rates and popularity (`infer`), the draft scenario and report texts (`draft`), and the
//! parsers of a capture saved with plain `redis-cli` for who cannot connect (`capture`).

pub mod capture;
pub mod draft;
pub mod infer;
pub mod monitor;
pub mod stats;
pub mod template;
