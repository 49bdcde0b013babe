//! The per-command service times of a calibration file, turned into the factors a shard's
//! commands multiply the cluster's sampled service time by (`redis::service_scale`), and the
//! console's account of them.
//!
//! The rule: the cluster's service-time distribution stands for one unpipelined request of
//! the reference command, `TYPE` (the request `calibrate` measures `service_time_us` with:
//! main-thread CPU per request, socket IO and parsing included). A command class differs from
//! it by its own execution time only, which INFO commandstats' `usec_per_call` measures
//! (execution alone, no IO). So a class whose commands measure `u` µs in all, against the
//! reference's `r` µs, has mean `m + u − r` where `m` is the distribution's mean, and its
//! samples are the cluster's samples × `(m + u − r) / m` (the distribution's shape kept; the
//! factor is at least `MIN_FACTOR`). A class is measured when the file has every one of its
//! commands (`CommandClass::redis_commands`: EVALSHA for the token-bucket script, MULTI + EXEC
//! for the sliding-window transaction, EXEC's figure including the commands it runs); a class
//! whose commands are not in the file, or every class when `type` is missing, keeps its
//! built-in factor (1, or 1.5 and 2 for the rate-limit writes) and the console says so.

use crate::redis::service_scale::{CommandClass, ServiceScale};
use crate::scenario::defaults;
use crate::scenario::model::Scenario;
use std::collections::BTreeMap;

/// The command the cluster's service-time distribution stands for.
pub const REFERENCE_COMMAND: &str = "type";

/// The least factor a measured class gets (a distribution whose mean is below the
/// reference command's own execution time would otherwise give zero or negative times).
pub const MIN_FACTOR: f64 = 0.1;

/// The factors of a calibration's `service_time_us_per_command` on a distribution of mean
/// `base_mean_us` (the rule of the module doc).
pub fn service_scale(per_command_us: &BTreeMap<String, f64>, base_mean_us: f64) -> ServiceScale {
    let mut scale = ServiceScale::default();
    let Some(&reference_us) = per_command_us.get(REFERENCE_COMMAND) else {
        return scale;
    };
    if !(base_mean_us > 0.0) {
        return scale;
    }
    for class in CommandClass::ALL {
        let figures: Option<Vec<f64>> = class
            .redis_commands()
            .iter()
            .map(|c| per_command_us.get(*c).copied())
            .collect();
        if let Some(figures) = figures {
            let own_us: f64 = figures.iter().sum();
            let factor = (base_mean_us + own_us - reference_us) / base_mean_us;
            scale.factor[class as usize] = factor.max(MIN_FACTOR);
            scale.calibrated[class as usize] = true;
        }
    }
    scale
}

/// The built-in service time's mean, µs (the default lognormal).
pub fn builtin_mean_us() -> f64 {
    defaults::SERVICE_TIME_US_MEDIAN * (defaults::SERVICE_TIME_US_SIGMA.powi(2) / 2.0).exp()
}

/// One line per cluster whose per-command factors a calibration set: each class's mean
/// service time against the built-in one, and the classes left at the built-in figure.
pub fn describe_clusters(scn: &Scenario) -> Vec<String> {
    let builtin_us = builtin_mean_us();
    scn.clusters
        .iter()
        .filter(|c| c.redis.service_scale.is_calibrated())
        .map(|c| {
            let scale = &c.redis.service_scale;
            let mean_us = c.service_time_us.mean();
            let mut measured = Vec::new();
            let mut builtin = Vec::new();
            for class in CommandClass::ALL {
                let i = class as usize;
                let builtin_class_us = builtin_us * class.builtin_factor();
                if scale.calibrated[i] {
                    let us = mean_us * scale.factor[i];
                    measured.push(format!(
                        "{} {us:.2} µs (built-in {builtin_class_us:.2} µs, {:+.0}%)",
                        class.label(),
                        (us / builtin_class_us - 1.0) * 100.0
                    ));
                } else {
                    builtin.push(format!(
                        "{} ×{} of {mean_us:.2} µs",
                        class.label(),
                        class.builtin_factor()
                    ));
                }
            }
            let rest = if builtin.is_empty() {
                String::new()
            } else {
                format!(
                    "; not in the calibration, built-in factor: {}",
                    builtin.join(", ")
                )
            };
            format!(
                "cluster {}: calibrated service time per command (mean): {}{rest}",
                c.name,
                measured.join(", ")
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_class_differs_from_the_reference_by_its_own_execution_time() {
        let per_command = BTreeMap::from([
            ("type".to_string(), 0.5),
            ("get".to_string(), 0.7),
            ("set".to_string(), 2.5),
            ("evalsha".to_string(), 6.5),
            ("multi".to_string(), 0.2),
            ("exec".to_string(), 8.3),
        ]);
        let s = service_scale(&per_command, 10.0);
        let f = |c: CommandClass| s.factor[c as usize];
        assert!((f(CommandClass::Get) - 1.02).abs() < 1e-12);
        assert!((f(CommandClass::Set) - 1.2).abs() < 1e-12);
        assert!((f(CommandClass::TokenBucket) - 1.6).abs() < 1e-12);
        assert!((f(CommandClass::SlidingWindow) - 1.8).abs() < 1e-12);
        // Not in the file: the built-in factor, not marked measured.
        assert_eq!(f(CommandClass::Del), 1.0);
        assert!(!s.calibrated[CommandClass::Del as usize]);
        assert!(s.calibrated[CommandClass::SlidingWindow as usize]);
        // Half a transaction is no measurement.
        let mut partial = per_command.clone();
        partial.remove("multi");
        let s = service_scale(&partial, 10.0);
        assert_eq!(s.factor[CommandClass::SlidingWindow as usize], 2.0);
        // Without the reference nothing is measured; a tiny mean is floored.
        let mut no_ref = per_command.clone();
        no_ref.remove("type");
        assert_eq!(service_scale(&no_ref, 10.0), ServiceScale::default());
        let tiny = service_scale(
            &BTreeMap::from([("type".into(), 5.0), ("get".into(), 0.1)]),
            1.0,
        );
        assert_eq!(tiny.factor[CommandClass::Get as usize], MIN_FACTOR);
    }
}
