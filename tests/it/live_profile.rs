//! `cacheplan profile` against a private redis-server holding a known synthetic CPQ key mix
//! (four templates, three tenants, lognormal and fixed sizes, TTLs with and without jitter,
//! drawn with the project's own RNG streams and Zipf sampler), while a paced Zipf request stream
//! runs against it: the recovered templates, key counts, sizes, TTLs, rates and α are checked
//! against what was generated, and the drafted scenario runs. Also: a user holding only the ACL
//! the README lists can profile (so profile is read-only), and a dropped connection or a silent
//! server ends the profile with exit 2 and a message.

use super::live_redis::RedisServer;
use super::{arg, cacheplan_env, check_no_panic, TempDir};
use cacheplan::engine::RngStream;
use cacheplan::workload::popularity::Zipf;
use std::time::{Duration, Instant};

const TENANTS: [&str; 3] = ["t01", "t02", "t03"];

/// One template of the synthetic mix.
pub(super) struct Mix {
    /// The key of tenant `t`, id `i`.
    key: fn(&str, u64) -> String,
    template: &'static str,
    keys_per_tenant: u64,
    /// Lognormal (median, sigma) of string sizes; None: a token-bucket hash.
    size: Option<(f64, f64)>,
    /// TTL (mean ms, ± pct); mean 0 = no TTL.
    ttl: (u64, f64),
    rate_per_s: f64,
}

const ALPHA: f64 = 1.0;

pub(super) fn mix() -> Vec<Mix> {
    vec![
        Mix {
            key: |t, i| format!("quote-summary:{t}:quote:{i}"),
            template: "quote-summary:{tenant}:quote:{id}",
            keys_per_tenant: 400,
            size: Some((800.0, 0.5)),
            ttl: (600_000, 10.0),
            rate_per_s: 2400.0,
        },
        Mix {
            key: |t, i| format!("session:{{{t}}}:user:{i}"),
            template: "session:{{tenant}}:user:{id}",
            keys_per_tenant: 300,
            size: Some((300.0, 0.0)),
            ttl: (1_800_000, 0.0),
            rate_per_s: 1200.0,
        },
        Mix {
            key: |t, i| format!("catalog:{t}:item:{i}"),
            template: "catalog:{tenant}:item:{id}",
            keys_per_tenant: 500,
            size: Some((2000.0, 0.3)),
            ttl: (0, 0.0),
            rate_per_s: 1800.0,
        },
        Mix {
            key: |t, i| format!("ratelimit:{t}:actor:{i}"),
            template: "ratelimit:{tenant}:actor:{id}",
            keys_per_tenant: 200,
            size: None,
            ttl: (300_000, 0.0),
            rate_per_s: 600.0,
        },
    ]
}

fn normal(rng: &mut RngStream) -> f64 {
    let (u, v) = (rng.next_f64_open0(), rng.next_f64());
    (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
}

fn ttl_of(m: &Mix, rng: &mut RngStream) -> u64 {
    let (mean, pct) = m.ttl;
    (mean as f64 * (1.0 + pct / 100.0 * (2.0 * rng.next_f64() - 1.0))) as u64
}

/// Writes every key of the mix; returns the generated string sizes per template.
pub(super) fn fill(con: &mut redis_client::Connection) -> Vec<Vec<f64>> {
    let mut rng = RngStream::named(14, "live-profile/fill");
    let mut sizes = Vec::new();
    for m in mix() {
        let mut p = redis_client::pipe();
        let mut these = Vec::new();
        for t in TENANTS {
            for i in 0..m.keys_per_tenant {
                let key = (m.key)(t, i);
                match m.size {
                    Some((median, sigma)) => {
                        let len = (median.ln() + sigma * normal(&mut rng))
                            .exp()
                            .round()
                            .max(1.0);
                        these.push(len);
                        let value = "v".repeat(len as usize);
                        if m.ttl.0 > 0 {
                            p.cmd("SET")
                                .arg(&key)
                                .arg(value)
                                .arg("PX")
                                .arg(ttl_of(&m, &mut rng));
                        } else {
                            p.cmd("SET").arg(&key).arg(value);
                        }
                    }
                    None => {
                        p.cmd("HSET")
                            .arg(&key)
                            .arg("tokens")
                            .arg(10)
                            .arg("ts")
                            .arg(i);
                        p.cmd("PEXPIRE").arg(&key).arg(ttl_of(&m, &mut rng));
                    }
                }
            }
        }
        p.query::<()>(con).expect("fill");
        sizes.push(these);
    }
    sizes
}

/// Sends the Zipf request stream at its rates for `duration`, paced in 10 ms batches: reads
/// (GET, HGETALL) with one write in ten (SET PX, HINCRBY) per template.
pub(super) fn stream(url: &str, duration: Duration) {
    let mut con = redis_client::Client::open(url)
        .unwrap()
        .get_connection()
        .unwrap();
    let mix = mix();
    let zipfs: Vec<Zipf> = mix
        .iter()
        .map(|m| Zipf::new(m.keys_per_tenant, ALPHA))
        .collect();
    let mut rng = RngStream::named(14, "live-profile/stream");
    let total: f64 = mix.iter().map(|m| m.rate_per_s).sum();
    let started = Instant::now();
    let batch = Duration::from_millis(10);
    let per_batch = total * batch.as_secs_f64();
    let mut sent = 0.0;
    let mut n = 1u32;
    while started.elapsed() < duration {
        let mut p = redis_client::pipe();
        let due = per_batch * n as f64;
        while sent < due {
            sent += 1.0;
            let mut u = rng.next_f64() * total;
            let j = mix
                .iter()
                .position(|m| {
                    u -= m.rate_per_s;
                    u < 0.0
                })
                .unwrap_or(mix.len() - 1);
            let m = &mix[j];
            let t = TENANTS[rng.below(TENANTS.len() as u64) as usize];
            let key = (m.key)(t, zipfs[j].sample(&mut rng));
            let write = rng.next_f64() < 0.1;
            match (m.size, write) {
                (None, false) => p.cmd("HGETALL").arg(&key),
                (None, true) => p.cmd("HINCRBY").arg(&key).arg("tokens").arg(-1),
                (Some(_), false) => p.cmd("GET").arg(&key),
                (Some((median, _)), true) if m.ttl.0 > 0 => p
                    .cmd("SET")
                    .arg(&key)
                    .arg("v".repeat(median as usize))
                    .arg("PX")
                    .arg(ttl_of(m, &mut rng)),
                (Some(_), true) => p.cmd("GET").arg(&key),
            };
        }
        p.query::<()>(&mut con).expect("stream batch");
        let next = batch * n;
        if let Some(wait) = next.checked_sub(started.elapsed()) {
            std::thread::sleep(wait);
        }
        n += 1;
    }
}

/// A value of `key = value   # comment` in the drafted TOML of the keyspace `name`.
fn drafted(scenario: &toml::Value, name: &str) -> toml::Value {
    scenario["keyspaces"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["name"].as_str() == Some(name))
        .unwrap_or_else(|| panic!("keyspace {name} drafted"))
        .clone()
}

#[test]
fn profile_recovers_a_known_key_mix_and_its_draft_runs() {
    let Some(server) =
        RedisServer::start("profile_recovers_a_known_key_mix_and_its_draft_runs", &[])
    else {
        return;
    };
    let mut con = server.connect();
    let sizes = fill(&mut con);
    let dir = TempDir::new("profile");
    let out = dir.join("prof");
    let url = server.url();
    let streamer = {
        let url = url.clone();
        std::thread::spawn(move || stream(&url, Duration::from_millis(7000)))
    };
    let res = cacheplan_env(
        &[
            "profile",
            "--redis",
            &url,
            "--sample",
            "3800",
            "--scan-count",
            "500",
            "--scan-pause-ms",
            "1",
            "--monitor",
            "4s",
            "--out",
            arg(&out),
        ],
        &[],
    );
    streamer.join().expect("the stream ran");
    assert_eq!(res.code, 0, "{res:#?}");
    check_no_panic(&res);
    check_recovered(&dir, &out, &sizes);
}

/// The draft in `out` recovers the mix `fill` wrote (templates exactly, key counts within
/// 5 %, size medians within 5 %, TTL means within 2 %, rates within 10 %, α within 0.05) and
/// runs end to end.
pub(super) fn check_recovered(dir: &TempDir, out: &std::path::Path, sizes: &[Vec<f64>]) {
    let text = std::fs::read_to_string(out.join("scenario.toml")).unwrap();
    let scenario: toml::Value = toml::from_str(&text).unwrap();
    assert!(out.join("profile.md").exists());

    // Templates exactly.
    let mut templates: Vec<&str> = scenario["keyspaces"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["key_template"].as_str().unwrap())
        .collect();
    templates.sort();
    let mut expected: Vec<&str> = mix().iter().map(|m| m.template).collect();
    expected.sort();
    assert_eq!(templates, expected, "{text}");
    let tenants: Vec<&str> = scenario["tenants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(tenants, TENANTS);

    let names = [
        "quote-summary-quote",
        "session-user",
        "catalog-item",
        "ratelimit-actor",
    ];
    for ((m, name), generated) in mix().iter().zip(names).zip(sizes) {
        let k = drafted(&scenario, name);
        let num = |v: &toml::Value| v.as_float().or(v.as_integer().map(|i| i as f64)).unwrap();
        // Key counts within 5 %.
        let keys = num(&k["keys_per_tenant"]);
        let rel = |got: f64, want: f64| (got / want - 1.0).abs();
        assert!(
            rel(keys, m.keys_per_tenant as f64) < 0.05,
            "{name}: {keys} keys\n{text}"
        );
        // Size medians within 5 % (of the generated sizes' median, and of the parameter).
        if let Some((median, _)) = m.size {
            let size = &k["value_size_bytes"];
            let got = size.get("median").map_or_else(|| num(&size["value"]), num);
            let mut g = generated.clone();
            g.sort_by(f64::total_cmp);
            let sample_median = g[g.len() / 2];
            assert!(
                rel(got, median) < 0.05,
                "{name}: median {got} vs {median}\n{text}"
            );
            assert!(
                rel(got, sample_median) < 0.05,
                "{name}: {got} vs {sample_median}"
            );
        }
        // TTL means within 2 %.
        if m.ttl.0 > 0 {
            let ttl = num(&k["ttl_ms"]);
            assert!(rel(ttl, m.ttl.0 as f64) < 0.02, "{name}: ttl {ttl}\n{text}");
            if m.ttl.1 > 0.0 {
                let pct = num(&k["ttl_jitter"]["pct"]);
                assert!((pct - m.ttl.1).abs() < 1.0, "{name}: jitter {pct}");
            }
        } else {
            assert!(k.get("ttl_ms").is_none(), "{name}: no TTL\n{text}");
        }
        // Rates within 10 %, α within 0.05.
        let rate = num(&k["rate_per_s"]);
        assert!(
            rel(rate, m.rate_per_s) < 0.10,
            "{name}: rate {rate}\n{text}"
        );
        let alpha = num(&k["popularity"]["alpha"]);
        eprintln!("live_profile: {name}: {keys} keys/tenant, rate {rate:.1}/s, alpha {alpha:.3}");
        assert!(
            (alpha - ALPHA).abs() < 0.05,
            "{name}: alpha {alpha}\n{text}"
        );
    }
    assert_eq!(
        drafted(&scenario, "ratelimit-actor")["operation"].as_str(),
        Some("rate-limit")
    );

    // The draft validates and runs end to end.
    let scenario_path = out.join("scenario.toml");
    let run_out = dir.join("run");
    let run = cacheplan_env(
        &[
            "run",
            arg(&scenario_path),
            "--out",
            arg(&run_out),
            "--seed",
            "1",
            "--quiet",
        ],
        &[],
    );
    assert_eq!(run.code, 0, "{run:#?}\n{text}");
    assert!(run_out.join("summary.csv").exists());
}

/// The ACL README.md lists for the profile's user.
const PROFILE_ACL: &str = "on >profiler-pass ~* resetchannels -@all +ping +info +config|get \
     +dbsize +scan +type +object|encoding +object|freq +object|idletime +memory|usage +pttl \
     +strlen +hlen +zcard +llen +scard +monitor";

#[test]
fn profile_needs_only_the_read_only_acl() {
    let Some(server) = RedisServer::start("profile_needs_only_the_read_only_acl", &[]) else {
        return;
    };
    let mut con = server.connect();
    let mut setuser = redis_client::cmd("ACL");
    setuser.arg("SETUSER").arg("profiler");
    for rule in PROFILE_ACL.split_whitespace() {
        setuser.arg(rule);
    }
    setuser.query::<()>(&mut con).expect("ACL SETUSER");
    fill(&mut con);
    let before: u64 = redis_client::cmd("DBSIZE").query(&mut con).unwrap();
    let dir = TempDir::new("profile-acl");
    let out = dir.join("prof");
    let url = format!("redis://profiler@127.0.0.1:{}", server.port());
    let res = cacheplan_env(
        &[
            "profile",
            "--redis",
            &url,
            "--password-env",
            "PROFILE_PASS",
            "--sample",
            "500",
            "--monitor",
            "1s",
            "--out",
            arg(&out),
        ],
        &[("PROFILE_PASS", "profiler-pass")],
    );
    assert_eq!(res.code, 0, "{res:#?}");
    assert!(out.join("scenario.toml").exists());
    let after: u64 = redis_client::cmd("DBSIZE").query(&mut con).unwrap();
    assert_eq!(before, after);
    // The password never reaches the report.
    let report = std::fs::read_to_string(out.join("profile.md")).unwrap();
    assert!(!report.contains("profiler-pass"));
    // A write is refused to that user: the ACL really is read-only.
    let mut limited = redis_client::Client::open(format!(
        "redis://profiler:profiler-pass@127.0.0.1:{}",
        server.port()
    ))
    .unwrap()
    .get_connection()
    .unwrap();
    assert!(redis_client::cmd("SET")
        .arg("x")
        .arg(1)
        .query::<()>(&mut limited)
        .is_err());
}

#[test]
fn a_dropped_connection_or_a_silent_server_exits_2() {
    // A listener that accepts and never answers: the reply timeout.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    let dir = TempDir::new("profile-drop");
    let url = format!("redis://127.0.0.1:{port}");
    let started = Instant::now();
    let res = cacheplan_env(
        &[
            "profile",
            "--redis",
            &url,
            "--timeout",
            "500ms",
            "--out",
            arg(&dir.join("a")),
        ],
        &[],
    );
    assert_eq!(res.code, 2, "{res:#?}");
    check_no_panic(&res);
    assert!(res.stderr.contains("profile:"), "{res:#?}");
    assert!(started.elapsed() < Duration::from_secs(10));
    drop(silent);

    // A server that goes away during the monitor window.
    let Some(server) = RedisServer::start("a_dropped_connection_or_a_silent_server_exits_2", &[])
    else {
        return;
    };
    let url = server.url();
    let out = dir.join("b");
    let profiler = {
        let out = out.clone();
        std::thread::spawn(move || {
            cacheplan_env(
                &[
                    "profile",
                    "--redis",
                    &url,
                    "--monitor",
                    "20s",
                    "--out",
                    arg(&out),
                ],
                &[],
            )
        })
    };
    std::thread::sleep(Duration::from_millis(1500));
    drop(server);
    let res = profiler.join().unwrap();
    assert_eq!(res.code, 2, "{res:#?}");
    check_no_panic(&res);
    assert!(res.stderr.contains("lost the connection"), "{res:#?}");
    assert!(!out.exists());
}

/// One template of the saved capture: its key prefix, keys, Zipf α, requests per second and
/// the commands of one request.
struct CaptureTemplate {
    prefix: &'static str,
    keys: u64,
    alpha: f64,
    rate_per_s: f64,
    commands: fn(&str) -> Vec<String>,
}

/// Seconds the capture spans.
const CAPTURE_S: f64 = 20.0;

fn capture_templates() -> [CaptureTemplate; 3] {
    [
        // Read-through: GET, and one request in ten a SET with a 60 s TTL after a miss.
        CaptureTemplate {
            prefix: "quote:summary:",
            keys: 300,
            alpha: 1.0,
            rate_per_s: 120.0,
            commands: |k| vec![format!("\"GET\" \"{k}\"")],
        },
        // A session: GET then PEXPIRE 30 min.
        CaptureTemplate {
            prefix: "session:user:",
            keys: 200,
            alpha: 0.8,
            rate_per_s: 150.0,
            commands: |k| {
                vec![
                    format!("\"GET\" \"{k}\""),
                    format!("\"PEXPIRE\" \"{k}\" \"1800000\""),
                ]
            },
        },
        // A fixed-window counter: INCR.
        CaptureTemplate {
            prefix: "ratelimit:actor:",
            keys: 150,
            alpha: 1.0,
            rate_per_s: 100.0,
            commands: |k| vec![format!("\"INCR\" \"{k}\"")],
        },
    ]
}

/// A MONITOR capture as `redis-cli monitor > capture.txt` writes it (the `OK` line first):
/// each template's requests at uniformly random times over `CAPTURE_S`, keys by the project's
/// Zipf sampler; every tenth quote request is followed by its `SET ... PX 60000`.
fn capture_text() -> String {
    let mut lines: Vec<(f64, String)> = Vec::new();
    for (t, tpl) in capture_templates().iter().enumerate() {
        let zipf = Zipf::new(tpl.keys, tpl.alpha);
        let mut rng = RngStream::new(41, t as u64);
        let n = (tpl.rate_per_s * CAPTURE_S) as usize;
        for i in 0..n {
            let at = 1_767_225_600.0 + rng.next_f64() * CAPTURE_S;
            let key = format!("{}{}", tpl.prefix, zipf.sample(&mut rng));
            let mut commands = (tpl.commands)(&key);
            if t == 0 && i % 10 == 0 {
                commands.push(format!(
                    "\"SET\" \"{key}\" \"{}\" \"PX\" \"60000\"",
                    "v".repeat(40)
                ));
            }
            for (j, c) in commands.into_iter().enumerate() {
                lines.push((at + j as f64 * 1e-4, c));
            }
        }
    }
    lines.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut text = String::from("OK\n");
    for (at, c) in lines {
        text.push_str(&format!("{at:.6} [0 127.0.0.1:50412] {c}\n"));
    }
    text
}

#[test]
fn a_saved_capture_alone_drafts_a_valid_scenario() {
    let dir = TempDir::new("profile-capture");
    let capture = dir.write("capture.txt", capture_text());
    let out = dir.join("prof");
    let res = cacheplan_env(
        &[
            "profile",
            "--monitor-file",
            arg(&capture),
            "--out",
            arg(&out),
        ],
        &[],
    );
    assert_eq!(res.code, 0, "{res:#?}");
    let path = out.join("scenario.toml");
    let validate = cacheplan_env(&["validate", arg(&path)], &[]);
    assert_eq!(validate.code, 0, "{validate:#?}");
    let text = std::fs::read_to_string(&path).unwrap();
    let scenario: toml::Value = toml::from_str(&text).unwrap();
    // What only a server knows is marked a placeholder, on every keyspace and the cluster.
    let line_of = |prefix: &str, field: &str| -> String {
        let start = text
            .find(&format!("key_template = \"{prefix}"))
            .unwrap_or_else(|| panic!("{prefix}: no keyspace\n{text}"));
        text[start..]
            .lines()
            .find(|l| l.starts_with(&format!("{field} =")))
            .unwrap_or_else(|| panic!("{prefix}: no {field}\n{text}"))
            .to_string()
    };
    for field in ["maxmemory_bytes", "shards", "maxmemory_policy"] {
        let line = text
            .lines()
            .find(|l| l.starts_with(&format!("{field} =")))
            .unwrap();
        assert!(line.contains("placeholder"), "{line}");
    }
    for (t, tpl) in capture_templates().iter().enumerate() {
        for field in ["keys_per_tenant", "value_size_bytes"] {
            let line = line_of(tpl.prefix, field);
            assert!(line.contains("placeholder"), "{}: {line}", tpl.prefix);
        }
        let name = tpl.prefix.trim_end_matches(':').replace(':', "-");
        let k = drafted(&scenario, &name);
        // Rates: the capture's commands per second (a session request is two commands).
        let per_request = (tpl.commands)("k").len() as f64 + if t == 0 { 0.1 } else { 0.0 };
        let rate = k["rate_per_s"].as_float().unwrap();
        let want = tpl.rate_per_s * per_request;
        assert!(
            (rate / want - 1.0).abs() < 0.10,
            "{name}: rate {rate} vs {want}"
        );
        assert!(line_of(tpl.prefix, "rate_per_s").contains("measured"));
        let alpha = k["popularity"]["alpha"].as_float().unwrap();
        assert!(
            (alpha - tpl.alpha).abs() < 0.05,
            "{name}: α {alpha} vs {}\n{text}",
            tpl.alpha
        );
        assert!(line_of(tpl.prefix, "popularity").contains("fitted"));
    }
    // The mix: the quotes read-through with the SETs' TTL, sessions by their PEXPIREs, the
    // counters a fixed-window rate limit.
    let quote = drafted(&scenario, "quote-summary");
    assert_eq!(quote["operation"].as_str(), Some("read-through"));
    assert_eq!(quote["ttl_ms"].as_integer(), Some(60_000), "{text}");
    assert_eq!(
        drafted(&scenario, "session-user")["operation"].as_str(),
        Some("session")
    );
    let counter = drafted(&scenario, "ratelimit-actor");
    assert_eq!(counter["operation"].as_str(), Some("rate-limit"));
    assert_eq!(
        counter["rate_limit_algorithm"].as_str(),
        Some("fixed-window")
    );

    // --monitor needs a server; with neither --redis nor --monitor-file: exit 2.
    for args in [
        vec![
            "profile",
            "--monitor",
            "1s",
            "--monitor-file",
            arg(&capture),
        ],
        vec!["profile"],
    ] {
        let mut args = args;
        let again = dir.join("again");
        args.extend(["--out", arg(&again)]);
        let bad = cacheplan_env(&args, &[]);
        assert_eq!(bad.code, 2, "{bad:#?}");
        check_no_panic(&bad);
        assert!(!again.exists());
    }
}
