//! `rediss://`: `cacheplan profile` against a private redis-server that listens with TLS only,
//! its certificate signed by a throwaway CA made in the test (the `openssl` command). With the
//! CA given (`--tls-ca`, or `CACHEPLAN_TLS_CA`) the profile reads the server and drafts its
//! scenario; with the wrong CA, or none (the system's roots), it stops with exit 2 and a hint
//! naming `--tls-ca`, never a panic; `--tls-ca` with a plain `redis://` URL is refused.

use super::live_redis::{make_test_certificates, RedisServer};
use super::{arg, cacheplan_env, check_no_panic, Output, TempDir};
use std::path::Path;

/// Keys the TLS server holds: two templates, known counts.
const SESSIONS: u64 = 300;
const QUOTES: u64 = 200;

/// `cacheplan profile --redis <url> <extra> --out <out>` with the extra environment `env`.
fn profile(url: &str, extra: &[&str], out: &Path, env: &[(&str, &str)]) -> Output {
    let mut args = vec!["profile", "--redis", url];
    args.extend(extra);
    args.extend(["--out", arg(out)]);
    cacheplan_env(&args, env)
}

#[test]
fn profile_reads_a_tls_server_with_its_ca_and_refuses_an_unverified_one() {
    let test = "profile_reads_a_tls_server_with_its_ca_and_refuses_an_unverified_one";
    let dir = TempDir::new("tls");
    let Some(certs) = make_test_certificates(test, dir.path()) else {
        return;
    };
    let Some(server) = RedisServer::start_tls(test, &certs) else {
        return;
    };
    // The test's own client goes through TLS too (the server has no plain port).
    let mut con = server.connect();
    let mut p = redis_client::pipe();
    for i in 0..SESSIONS {
        p.cmd("SET")
            .arg(format!("session:user:{i}"))
            .arg("s".repeat(120))
            .arg("PX")
            .arg(3_600_000)
            .ignore();
    }
    for i in 0..QUOTES {
        p.cmd("SET")
            .arg(format!("quote:summary:{i}"))
            .arg("q".repeat(400))
            .ignore();
    }
    let _: () = p.query(&mut con).expect("fill over TLS");
    let url = server.url();
    assert!(url.starts_with("rediss://127.0.0.1:"), "{url}");

    // With the CA as a flag: the profile reads every key and drafts both templates.
    let out = dir.join("prof-flag");
    let ok = profile(
        &url,
        &["--tls-ca", arg(&certs.ca_cert), "--sample", "1000"],
        &out,
        &[],
    );
    assert_eq!(ok.code, 0, "{ok:#?}");
    let scenario = std::fs::read_to_string(out.join("scenario.toml")).unwrap();
    for template in ["session:user:{id}", "quote:summary:{id}"] {
        assert!(scenario.contains(template), "{template}:\n{scenario}");
    }
    assert!(ok.stdout.contains("rediss://"), "{ok:#?}");
    let validate = cacheplan_env(&["validate", arg(&out.join("scenario.toml"))], &[]);
    assert_eq!(validate.code, 0, "{validate:#?}");

    // With the CA from the environment.
    let out_env = dir.join("prof-env");
    let ca = certs.ca_cert.to_str().unwrap();
    let ok = cacheplan_env(
        &[
            "profile",
            "--redis",
            &url,
            "--sample",
            "50",
            "--out",
            arg(&out_env),
        ],
        &[("CACHEPLAN_TLS_CA", ca)],
    );
    assert_eq!(ok.code, 0, "{ok:#?}");
    assert!(out_env.join("scenario.toml").exists());

    // A CA that signed nothing the server presents, then the system's roots: exit 2, a
    // message about the certificate and the flag to use, nothing written.
    let cases: [(&str, Vec<&str>); 2] = [
        ("wrong CA", vec!["--tls-ca", arg(&certs.other_ca_cert)]),
        ("system roots", vec![]),
    ];
    for (label, extra) in cases {
        let out_bad = dir.join(&format!("prof-{}", label.replace(' ', "-")));
        let mut args = vec!["--sample", "50"];
        args.extend(extra);
        let bad = profile(&url, &args, &out_bad, &[("CACHEPLAN_TLS_CA", "")]);
        assert_eq!(bad.code, 2, "{label}: {bad:#?}");
        check_no_panic(&bad);
        assert!(bad.stderr.contains("certificate"), "{label}: {bad:#?}");
        assert!(bad.stderr.contains("--tls-ca"), "{label}: {bad:#?}");
        assert!(!out_bad.exists(), "{label}: nothing written");
    }

    // --tls-ca with a plain redis:// URL: refused before connecting.
    let plain = url.replacen("rediss://", "redis://", 1);
    let out_plain = dir.join("prof-plain");
    let bad = profile(&plain, &["--tls-ca", arg(&certs.ca_cert)], &out_plain, &[]);
    assert_eq!(bad.code, 2, "{bad:#?}");
    check_no_panic(&bad);
    assert!(bad.stderr.contains("not rediss://"), "{bad:#?}");
}
