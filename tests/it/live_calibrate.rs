//! `cacheplan calibrate` against a private redis-server: it refuses a server holding keys
//! unless told, measures the tiny scenario's key shapes (the strings' bytes per key agree with
//! the model within 2 %), leaves no key behind, and a cluster that references the file runs
//! with the measured figures and says so.

use super::live_redis::RedisServer;
use super::{arg, cacheplan, check_no_panic, TempDir, TINY_SCENARIO};

#[test]
fn calibrate_measures_a_scratch_server_and_a_cluster_uses_it() {
    let Some(server) = RedisServer::start(
        "calibrate_measures_a_scratch_server_and_a_cluster_uses_it",
        &[],
    ) else {
        return;
    };
    let dir = TempDir::new("calibrate");
    let scenario = dir.write("tiny.toml", TINY_SCENARIO);
    let calib = dir.join("calib.toml");
    let url = server.url();
    let mut con = server.connect();

    // A server holding a key is refused unless --allow-nonempty.
    redis_client::cmd("SET")
        .arg("someone-else")
        .arg(1)
        .query::<()>(&mut con)
        .unwrap();
    let args = [
        "calibrate",
        "--redis",
        &url,
        "--scenario",
        arg(&scenario),
        "--keys",
        "2000",
        "--out",
        arg(&calib),
    ];
    let refused = cacheplan(&args);
    assert_eq!(refused.code, 2, "{refused:#?}");
    check_no_panic(&refused);
    assert!(refused.stderr.contains("--allow-nonempty"), "{refused:#?}");
    assert!(!calib.exists());
    redis_client::cmd("DEL")
        .arg("someone-else")
        .query::<()>(&mut con)
        .unwrap();

    let res = cacheplan(&args);
    assert_eq!(res.code, 0, "{res:#?}");
    eprintln!("{}", res.stdout);
    let text = std::fs::read_to_string(&calib).unwrap();
    let c: cacheplan::calibrate::Calibration = toml::from_str(&text).unwrap();
    assert_eq!(c.shapes.len(), 2, "{text}");
    for s in &c.shapes {
        assert_eq!(s.kind, "string");
        let rel = s.measured_bytes_per_key / s.model_bytes_per_key - 1.0;
        assert!(rel.abs() < 0.02, "{}: {rel:+.4}\n{text}", s.keyspace);
    }
    assert!(c.base_used_memory_bytes > 500_000 && c.base_used_memory_bytes < 3_000_000);
    assert!(
        c.service_time_us > 0.0 && c.service_time_us < 1000.0,
        "{text}"
    );
    // Nothing left behind, in any database.
    for db in 0..16 {
        let n: u64 = redis_client::cmd("SELECT")
            .arg(db)
            .query::<()>(&mut con)
            .and_then(|_| redis_client::cmd("DBSIZE").query(&mut con))
            .unwrap();
        assert_eq!(n, 0, "db {db}");
    }

    // A cluster referencing the file uses it, and the run says so.
    let calibrated = TINY_SCENARIO.replacen(
        "name = \"main\"\n",
        "name = \"main\"\ncalibration = \"calib.toml\"\n",
        1,
    );
    let scn2 = dir.write("tiny-calibrated.toml", &calibrated);
    let out = dir.join("run");
    let run = cacheplan(&["run", arg(&scn2), "--out", arg(&out), "--seed", "3"]);
    assert_eq!(run.code, 0, "{run:#?}");
    let line = format!(
        "cluster main: calibrated: base used_memory {} B",
        c.base_used_memory_bytes
    );
    assert!(run.stdout.contains(&line), "{run:#?}");
    let manifest = std::fs::read_to_string(out.join("manifest.json")).unwrap();
    assert!(
        manifest.contains(&format!(
            "\"base_used_memory_bytes\": {}",
            c.base_used_memory_bytes
        )) || manifest.contains(&format!(
            "\"base_used_memory_bytes\":{}",
            c.base_used_memory_bytes
        )),
        "the manifest records the measured base memory"
    );

    // Both a calibration and service_time_us: refused, naming the field.
    let both = calibrated.replacen(
        "calibration = \"calib.toml\"\n",
        "calibration = \"calib.toml\"\nservice_time_us = { dist = \"fixed\", value = 10 }\n",
        1,
    );
    let scn3 = dir.write("tiny-both.toml", &both);
    let bad = cacheplan(&["validate", arg(&scn3)]);
    assert_eq!(bad.code, 2, "{bad:#?}");
    assert!(bad.stderr.contains("service_time_us"), "{bad:#?}");
    // A missing file: refused, naming the field.
    let missing = calibrated.replace("calib.toml", "nope.toml");
    let scn4 = dir.write("tiny-missing.toml", &missing);
    let bad = cacheplan(&["validate", arg(&scn4)]);
    assert_eq!(bad.code, 2, "{bad:#?}");
    assert!(bad.stderr.contains("calibration"), "{bad:#?}");
}

/// The tiny scenario with a rate limit of each algorithm: a counter, a token-bucket hash and a
/// sliding-window sorted set besides its two strings.
fn tiny_with_rate_limits() -> String {
    let mut scn = TINY_SCENARIO.to_string();
    for (name, algorithm) in [
        ("rl-fixed", "fixed-window"),
        ("rl-bucket", "token-bucket"),
        ("rl-sliding", "sliding-window"),
    ] {
        scn = scn.replacen(
            "\n[[plans]]",
            &format!(
                "\n[[keyspaces]]\nname = \"{name}\"\nkey_template = \"rate:{{tenant}}:{name}:actor:{{id}}\"\n\
                 operation = \"rate-limit\"\nrate_limit_algorithm = \"{algorithm}\"\nrate_per_s = 20\n\
                 keys_per_tenant = 50\nvalue_size_bytes = {{ dist = \"fixed\", value = 8 }}\n\
                 window_ms = \"10s\"\nttl_ms = \"12s\"\nrate_limit_per_window = 100\n\n[[plans]]"
            ),
            1,
        );
    }
    let placed = "rl-fixed = \"main\", rl-bucket = \"main\", rl-sliding = \"main\" }";
    scn.replace(
        "session = \"main\" }",
        &format!("session = \"main\", {placed}"),
    )
    .replace(
        "session = \"safe\" }",
        &format!("session = \"safe\", {placed}"),
    )
}

#[test]
fn calibrate_measures_every_data_type_and_the_model_applies_each_correction() {
    let test = "calibrate_measures_every_data_type_and_the_model_applies_each_correction";
    let Some(server) = RedisServer::start(test, &[]) else {
        return;
    };
    let dir = TempDir::new("calibrate-types");
    let scenario = dir.write("tiny-rl.toml", tiny_with_rate_limits());
    let calib = dir.join("calib.toml");
    let res = cacheplan(&[
        "calibrate",
        "--redis",
        &server.url(),
        "--scenario",
        arg(&scenario),
        "--out",
        arg(&calib),
    ]);
    assert_eq!(res.code, 0, "{res:#?}");
    eprintln!("{}", res.stdout);
    let text = std::fs::read_to_string(&calib).unwrap();
    let c: cacheplan::calibrate::Calibration = toml::from_str(&text).unwrap();
    // Every type measured, each within 1 % of the built-in model (a first use of a command
    // allocates 24.6 KB once, which calibrate spends before measuring).
    let kinds: Vec<&str> = c.shapes.iter().map(|s| s.kind.as_str()).collect();
    for kind in ["string", "counter", "token-bucket", "sliding-window"] {
        assert!(kinds.contains(&kind), "{kind}: {text}");
    }
    for s in &c.shapes {
        let rel = s.measured_bytes_per_key / s.model_bytes_per_key - 1.0;
        assert!(
            rel.abs() < 0.01,
            "{} ({}): {rel:+.4}\n{text}",
            s.keyspace,
            s.kind
        );
    }
    // Per-command service times of the commands it sent: the fill's, and every command of
    // the requests the model distinguishes, with TYPE the reference.
    let per_command = &c.service_time_us_per_command;
    for command in [
        "set", "incr", "hset", "zadd", "pexpire", "get", "del", "type", "evalsha", "multi", "exec",
    ] {
        let us = c.service_time_us_per_command.get(command);
        assert!(
            us.is_some_and(|&us| us > 0.0 && us < 1000.0),
            "{command}: {text}"
        );
    }

    // The file's per-type corrections, edited to known values: a cluster referencing it
    // validates, runs and names each type's correction (that each reaches only its own type's
    // bytes is `calibrate::tests::per_type_corrections_reach_only_their_type`).
    let edited: String = text
        .lines()
        .map(|l| match l.split_once(" = ") {
            Some(("measured_bytes_per_key", _)) => "measured_bytes_per_key = MEASURED".to_string(),
            _ => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n");
    let mut edited_text = String::new();
    for (i, chunk) in edited.split("MEASURED").enumerate() {
        edited_text.push_str(chunk);
        if let Some(s) = c.shapes.get(i) {
            let add = match s.kind.as_str() {
                "counter" => 16.0,
                "token-bucket" => 32.0,
                "sliding-window" => 48.0,
                _ => 0.0,
            };
            edited_text.push_str(&format!("{:.2}", s.model_bytes_per_key + add));
        }
    }
    dir.write("calib.toml", &edited_text);
    let calibrated = tiny_with_rate_limits().replacen(
        "name = \"main\"\n",
        "name = \"main\"\ncalibration = \"calib.toml\"\n",
        1,
    );
    let scn2 = dir.write("tiny-rl-calibrated.toml", &calibrated);
    let check = cacheplan(&["validate", arg(&scn2)]);
    assert_eq!(check.code, 0, "{check:#?}");
    let out = dir.join("run");
    let run = cacheplan(&["run", arg(&scn2), "--out", arg(&out), "--seed", "3"]);
    assert_eq!(run.code, 0, "{run:#?}");
    assert!(
        run.stdout
            .contains("counters +16 B, hashes +32 B, sorted sets +48 B"),
        "{run:#?}"
    );
    // The file's per-command figures are the ones simulated: every class measured, each the
    // measured request time plus its commands' execution time less TYPE's.
    let line = run
        .stdout
        .lines()
        .find(|l| l.starts_with("cluster main: calibrated service time per command (mean): "))
        .unwrap_or_else(|| panic!("{run:#?}"));
    assert!(!line.contains("not in the calibration"), "{line}");
    let reference = per_command["type"];
    for (label, commands) in [
        ("GET", &["get"][..]),
        ("SET", &["set"]),
        ("INCR", &["incr"]),
        ("DEL", &["del"]),
        ("PEXPIRE", &["pexpire"]),
        ("token-bucket EVALSHA", &["evalsha"]),
        ("sliding-window MULTI/EXEC", &["multi", "exec"]),
    ] {
        let own: f64 = commands.iter().map(|c| per_command[*c]).sum();
        let expected = (c.service_time_us + own - reference).max(0.1 * c.service_time_us);
        let shown: f64 = line
            .split(&format!(" {label} "))
            .nth(1)
            .and_then(|rest| rest.split(" µs").next())
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("{label}: {line}"));
        assert!(
            (shown - expected).abs() < 0.006,
            "{label}: {shown} against {expected}: {line}"
        );
    }
    // The script and the transaction cost more than a GET, as measured.
    assert!(per_command["evalsha"] > per_command["get"], "{text}");
    assert!(per_command["exec"] > per_command["get"], "{text}");
}
