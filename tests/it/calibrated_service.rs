//! A calibration's per-command service times are simulated: with a known calibration file
//! (reference TYPE 0.5 µs, INCR 2.5 µs, EVALSHA 20.5 µs, `service_time_us` 10 µs) a shard
//! serving only token-bucket scripts is busy 10 + 20.5 − 0.5 = 30 µs per command and one
//! serving only INCRs 12 µs, so its utilisation is the closed form rate × mean service time;
//! the same shards without the calibration (a fixed 10 µs) take the built-in 1.5× (15 µs)
//! and 1× (10 µs).

use super::TempDir;

const CALIBRATION: &str = r#"redis_version = "7.0.15"
base_used_memory_bytes = 1000000
builtin_base_used_memory_bytes = 983040
service_time_us = 10.0
builtin_service_time_us_median = 15.0
key_bytes_adjust = 0

[service_time_us_per_command]
"type" = 0.5
"incr" = 2.5
"evalsha" = 20.5
"#;

/// One keyspace per shard (a token bucket, a fixed-window counter), each on a calibrated and
/// on a plain cluster; long windows and TTLs, so no key expires and cron CPU is negligible.
fn scenario() -> String {
    let mut s = String::from(
        "version = 1\nname = \"service\"\ndescription = \"per-command service times\"\n\n\
         [simulation]\nduration_ms = \"20s\"\nwarmup_ms = \"5s\"\nwindow_ms = \"5s\"\n\n\
         [[tenants]]\nname = \"t1\"\n",
    );
    for (name, extra) in [
        ("cal-bucket", "calibration = \"calib.toml\""),
        ("cal-counter", "calibration = \"calib.toml\""),
        (
            "plain-bucket",
            "service_time_us = { dist = \"fixed\", value = 10 }",
        ),
        (
            "plain-counter",
            "service_time_us = { dist = \"fixed\", value = 10 }",
        ),
    ] {
        s.push_str(&format!(
            "\n[[clusters]]\nname = \"{name}\"\nshards = 1\nmaxmemory_bytes = \"16mb\"\n{extra}\n"
        ));
    }
    for (name, algorithm) in [("bucket", "token-bucket"), ("counter", "fixed-window")] {
        s.push_str(&format!(
            "\n[[keyspaces]]\nname = \"{name}\"\nkey_template = \"rate:{name}:actor:{{id}}\"\n\
             operation = \"rate-limit\"\nrate_limit_algorithm = \"{algorithm}\"\nrate_per_s = 400\n\
             keys_per_tenant = 50\nvalue_size_bytes = {{ dist = \"fixed\", value = 8 }}\n\
             window_ms = \"60s\"\nttl_ms = \"70s\"\nrate_limit_per_window = 1000000\n"
        ));
    }
    s.push_str(
        "\n[[plans]]\nname = \"calibrated\"\nplacement = { bucket = \"cal-bucket\", counter = \"cal-counter\" }\n\
         \n[[plans]]\nname = \"builtin\"\nplacement = { bucket = \"plain-bucket\", counter = \"plain-counter\" }\n",
    );
    s
}

#[test]
fn per_command_service_times_give_the_closed_form_utilisation() {
    let dir = TempDir::new("calibrated-service");
    dir.write("calib.toml", CALIBRATION);
    let path = dir.write("service.toml", scenario());
    let scn = cacheplan::scenario::load(&path).unwrap_or_else(|e| panic!("{e}"));
    let results = cacheplan::sim::run_all_plans(&scn, 3);
    let measured_s = (scn.duration - scn.warmup).as_ns() as f64 / 1e9;
    // (plan, [token-bucket shard's mean µs, counter shard's mean µs]): the calibration's, and
    // the built-in factors on the same 10 µs.
    let expected = [("calibrated", [30.0, 12.0]), ("builtin", [15.0, 10.0])];
    let mut per_command_us = Vec::new();
    for (res, (plan, means_us)) in results.iter().zip(expected) {
        assert_eq!(scn.plans[res.plan].name, plan);
        for (shard, mean_us) in res.shards.iter().zip(means_us) {
            let busy_per_command_us = shard.busy_ns as f64 / 1e3 / shard.commands as f64;
            // The command's own time exactly, plus serverCron's (under 1 %).
            let rel = busy_per_command_us / mean_us - 1.0;
            assert!(
                (0.0..0.01).contains(&rel),
                "{plan}: {busy_per_command_us} µs per command against {mean_us}"
            );
            // Utilisation = rate × mean service (400/s Poisson over 15 s: ±1.3 % a sigma).
            let utilisation = shard.busy_ns as f64 / 1e9 / measured_s;
            let closed_form = 400.0 * mean_us * 1e-6;
            assert!(
                (utilisation / closed_form - 1.0).abs() < 0.05,
                "{plan}: utilisation {utilisation} against {closed_form}"
            );
            per_command_us.push(busy_per_command_us);
        }
    }
    // Calibrated against built-in, as predicted: the script 2× (30 against 15 µs), INCR 1.2×.
    assert!((per_command_us[0] / per_command_us[2] - 2.0).abs() < 0.02);
    assert!((per_command_us[1] / per_command_us[3] - 1.2).abs() < 0.012);
    // The console names the measured figures and those left at the built-in factor.
    let lines = cacheplan::calibrate::describe_clusters(&scn).join("\n");
    assert!(
        lines.contains(
            "cluster cal-bucket: calibrated service time per command (mean): INCR 12.00 µs"
        ),
        "{lines}"
    );
    assert!(lines.contains("token-bucket EVALSHA 30.00 µs"), "{lines}");
    assert!(
        lines.contains("not in the calibration, built-in factor: GET ×1 of 10.00 µs"),
        "{lines}"
    );
    assert!(
        lines.contains("sliding-window MULTI/EXEC ×2 of 10.00 µs"),
        "{lines}"
    );
    assert!(!lines.contains("plain-bucket"), "{lines}");
}
