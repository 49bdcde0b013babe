//! `[slo]` into `Slo`: objectives per keyspace and origin (names into indices) and the
//! run-wide ones. The checks against a run's results are `report::verdict`'s.

use super::checks::{find, fraction, non_negative_ms, positive_f};
use super::{Path, R};
use crate::engine::SimTime;
use crate::scenario::defaults;
use crate::scenario::model::*;
use crate::scenario::raw::RawSlo;

/// Resolves `[slo]` (absent: only the default objectives: no errors or OOM rejections on
/// `critical` and `high` keyspaces, no harmful fill within a day).
pub(super) fn slo(
    raw: &Option<RawSlo>,
    keyspace_names: &[&str],
    criticality: &[Criticality],
    origin_names: &[&str],
) -> R<Slo> {
    let mut slo = Slo {
        hit_ratio_min: vec![None; keyspace_names.len()],
        latency_p99_ms_max: vec![None; keyspace_names.len()],
        origin_peak_per_s_max: vec![None; origin_names.len()],
        error_ratio_max: criticality
            .iter()
            .map(|c| {
                matches!(c, Criticality::Critical | Criticality::High)
                    .then_some(defaults::ERROR_RATIO_MAX_CRITICAL)
            })
            .collect(),
        fill_horizon: SimTime::from_ms(defaults::FILL_HORIZON_MS),
        network_utilization_max: defaults::NETWORK_UTILIZATION_MAX,
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
        for (ks, v) in &s.error_ratio_max {
            let q = sp.key("error_ratio_max").key(ks);
            slo.error_ratio_max[find(&q, keyspace_names, ks, "keyspace")?] =
                Some(fraction(&q, *v)?);
        }
        if let Some(u) = s.network_utilization_max {
            slo.network_utilization_max = fraction(&sp.key("network_utilization_max"), u)?;
        }
        if let Some(h) = s.fill_horizon_ms {
            slo.fill_horizon = non_negative_ms(&sp.key("fill_horizon_ms"), h)?;
        }
    }
    Ok(slo)
}
