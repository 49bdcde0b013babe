//! `cacheplan profile`'s pure inference: functions of sampled data only (no IO, no server), so
//! they are unit-tested without Redis. The IO edge is `cli::profile` (it talks to the server and
//! hands the data in); here: key templates from key names (`template`), MONITOR lines
//! (`monitor`), the fits with their uncertainty (`stats`), per-template profiles with tenants,
//! rates and popularity (`infer`), and the draft scenario and report texts (`draft`).

pub mod draft;
pub mod infer;
pub mod monitor;
pub mod stats;
pub mod template;
