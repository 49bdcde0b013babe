//! `[slo]` into `Slo`: objectives per keyspace and origin (names into indices) and the
//! run-wide ones. The checks against a run's results are `report::verdict`'s.

use super::checks::{find, fraction, positive_f};
use super::{Path, R};
use crate::scenario::model::*;
use crate::scenario::raw::RawSlo;

/// Resolves `[slo]` (absent: no objectives).
pub(super) fn slo(raw: &Option<RawSlo>, keyspace_names: &[&str], origin_names: &[&str]) -> R<Slo> {
    let mut slo = Slo {
        hit_ratio_min: vec![None; keyspace_names.len()],
        latency_p99_ms_max: vec![None; keyspace_names.len()],
        origin_peak_per_s_max: vec![None; origin_names.len()],
        ..Slo::default()
    };
    if let Some(s) = raw {
        let sp = Path::root().key("slo");
        for (ks, v) in &s.hit_ratio_min {
            let q = sp.key("hit_ratio_min").key(ks);
            slo.hit_ratio_min[find(&q, keyspace_names, ks, "keyspace")?] = Some(fraction(&q, *v)?);
        }
        for (ks, v) in &s.latency_p99_ms_max {
            let q = sp.key("latency_p99_ms_max").key(ks);
            slo.latency_p99_ms_max[find(&q, keyspace_names, ks, "keyspace")?] =
                Some(positive_f(&q, *v)?);
        }
        for (o, v) in &s.origin_peak_per_s_max {
            let q = sp.key("origin_peak_per_s_max").key(o);
            slo.origin_peak_per_s_max[find(&q, origin_names, o, "origin")?] =
                Some(positive_f(&q, *v)?);
        }
        slo.critical_evictions_max = s.critical_evictions_max;
        if let Some(u) = s.shard_utilization_max {
            slo.shard_utilization_max = Some(fraction(&sp.key("shard_utilization_max"), u)?);
        }
    }
    Ok(slo)
}
