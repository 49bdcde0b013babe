//! `cacheplan profile` on capture files alone: a private redis-server holds the live profile
//! test's known key mix under its Zipf stream; the capture block of README.md ("Capture files
//! made with `redis-cli`"), run by bash with the real `redis-cli` (only the host, port and
//! the MONITOR time replaced), makes info.txt, config.txt, keys.tsv and monitor.txt; profile
//! reads only those files and must recover what the live profile does, within the same
//! tolerances; and a broken file stops it with exit 2 naming the file and line.

use super::live_profile::{check_recovered, fill, stream};
use super::live_redis::{tool_present, RedisServer};
use super::{arg, cacheplan, check_no_panic, TempDir};
use std::time::Duration;

/// The README's capture block.
fn readme_capture_block() -> String {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("README.md");
    let section = readme
        .split("**Capture files made with `redis-cli`.**")
        .nth(1)
        .expect("the README's capture section");
    let block = section
        .split("```sh\n")
        .nth(1)
        .and_then(|b| b.split("\n```").next())
        .expect("its shell block");
    block.to_string()
}

#[test]
fn profile_on_redis_cli_capture_files_recovers_the_known_mix() {
    let test = "profile_on_redis_cli_capture_files_recovers_the_known_mix";
    let Some(server) = RedisServer::start(test, &[]) else {
        return;
    };
    if !tool_present("redis-cli", "--version") {
        assert!(
            std::env::var("CI").map_or(true, |v| v != "true"),
            "{test}: redis-cli is not installed and CI=true (tests/check.sh installs it)"
        );
        eprintln!("{test}: skipped: redis-cli absent");
        return;
    }
    let mut con = server.connect();
    let sizes = fill(&mut con);
    let dir = TempDir::new("profile-capture");
    let block = readme_capture_block();
    let server_line = "R=\"redis-cli -h 10.0.0.5 -p 6379\"";
    assert!(block.contains(server_line), "{block}");
    assert!(block.contains("timeout 30 "), "{block}");
    let script = block
        .replace(
            server_line,
            &format!("R=\"redis-cli -h 127.0.0.1 -p {}\"", server.port()),
        )
        .replace("timeout 30 ", "timeout 4 ");
    let streamer = {
        let url = server.url();
        std::thread::spawn(move || stream(&url, Duration::from_millis(14_000)))
    };
    let made = std::process::Command::new("bash")
        .arg("-c")
        .arg(format!("set -e\n{script}"))
        .current_dir(dir.path())
        .env_remove("REDISCLI_AUTH")
        .output()
        .expect("bash runs");
    streamer.join().expect("the stream ran");
    // `timeout` ends MONITOR with 124; everything before it must have succeeded.
    assert!(
        made.status.code() == Some(124),
        "{made:?}\n{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let keys_tsv = std::fs::read_to_string(dir.join("keys.tsv")).unwrap();
    assert_eq!(keys_tsv.lines().count(), 4200, "every key sampled");
    assert!(std::fs::metadata(dir.join("monitor.txt")).unwrap().len() > 0);

    let out = dir.join("prof");
    let files = ["info.txt", "keys.tsv", "config.txt", "monitor.txt"].map(|f| dir.join(f));
    let args = [
        "profile",
        "--info-file",
        arg(&files[0]),
        "--keys-file",
        arg(&files[1]),
        "--config-file",
        arg(&files[2]),
        "--monitor-file",
        arg(&files[3]),
        "--out",
        arg(&out),
    ];
    // No server is read: it is stopped first.
    drop(con);
    drop(server);
    let res = cacheplan(&args);
    assert_eq!(res.code, 0, "{res:#?}");
    check_no_panic(&res);
    let text = std::fs::read_to_string(out.join("scenario.toml")).unwrap();
    assert!(
        text.contains("maxmemory_policy = \"noeviction\"   # measured: CONFIG GET"),
        "{text}"
    );
    assert!(
        !text.contains("no server read (a MONITOR capture only)"),
        "{text}"
    );
    check_recovered(&dir, &out, &sizes);

    // A broken line: exit 2, the file, line and field named.
    let mut lines: Vec<String> = keys_tsv.lines().map(String::from).collect();
    lines[11] = lines[11].replacen("(integer) ", "(integer) x", 1);
    let bad_keys = dir.write("bad.tsv", lines.join("\n"));
    let mut bad_args = args.to_vec();
    bad_args[4] = arg(&bad_keys);
    let bad_out = dir.join("bad-prof");
    let n = bad_args.len();
    bad_args[n - 1] = arg(&bad_out);
    let bad = cacheplan(&bad_args);
    assert_eq!(bad.code, 2, "{bad:#?}");
    check_no_panic(&bad);
    assert!(
        bad.stderr.contains("bad.tsv:12: field 4 (MEMORY USAGE)"),
        "{bad:#?}"
    );
    assert!(!bad_out.exists());
}

#[test]
fn broken_capture_files_exit_2_naming_file_and_line() {
    let dir = TempDir::new("profile-capture-bad");
    let info = dir.write(
        "info.txt",
        "# Server\r\nredis_version:7.0.15\r\n# Keyspace\r\ndb0:keys=3,expires=0,avg_ttl=0\r\n",
    );
    let keys = dir.write(
        "keys.tsv",
        "a:1\tstring\t\"embstr\"\t(integer) 64\t(integer) -1\t(integer) 3\t(integer) 5\n",
    );
    let run = |extra: &[&str], out: &str| {
        let out = dir.join(out);
        let mut args = vec!["profile", "--out", arg(&out)];
        args.extend_from_slice(extra);
        let res = cacheplan(&args);
        check_no_panic(&res);
        assert!(!out.exists(), "nothing written: {res:#?}");
        res
    };
    let not_info = dir.write("not-info.txt", "hello\n");
    let res = run(
        &["--info-file", arg(&not_info), "--keys-file", arg(&keys)],
        "a",
    );
    assert_eq!(res.code, 2, "{res:#?}");
    assert!(
        res.stderr
            .contains("not-info.txt:1: `hello` is not an INFO"),
        "{res:#?}"
    );
    let tty_config = dir.write("config.txt", "1) \"maxmemory\"\n2) \"0\"\n");
    let res = run(
        &[
            "--info-file",
            arg(&info),
            "--keys-file",
            arg(&keys),
            "--config-file",
            arg(&tty_config),
        ],
        "b",
    );
    assert_eq!(res.code, 2, "{res:#?}");
    assert!(res.stderr.contains("config.txt:1: "), "{res:#?}");
    let short = dir.write("short.tsv", "a:1\tstring\n");
    let res = run(
        &["--info-file", arg(&info), "--keys-file", arg(&short)],
        "c",
    );
    assert_eq!(res.code, 2, "{res:#?}");
    assert!(
        res.stderr.contains("short.tsv:1: 2 tab-separated fields"),
        "{res:#?}"
    );
    // Keys of another database than INFO lists.
    let res = run(
        &[
            "--info-file",
            arg(&info),
            "--keys-file",
            arg(&keys),
            "--capture-db",
            "3",
        ],
        "d",
    );
    assert_eq!(res.code, 2, "{res:#?}");
    assert!(res.stderr.contains("--capture-db"), "{res:#?}");
    // One file without the other, or with --redis: a usage error.
    let res = run(&["--info-file", arg(&info)], "e");
    assert_eq!(res.code, 2, "{res:#?}");
    let res = run(
        &[
            "--redis",
            "redis://127.0.0.1:1",
            "--info-file",
            arg(&info),
            "--keys-file",
            arg(&keys),
        ],
        "f",
    );
    assert_eq!(res.code, 2, "{res:#?}");
    // The good pair drafts (one key: counts from INFO keyspace).
    let out = dir.join("g");
    let res = cacheplan(&[
        "profile",
        "--info-file",
        arg(&info),
        "--keys-file",
        arg(&keys),
        "--out",
        arg(&out),
    ]);
    assert_eq!(res.code, 0, "{res:#?}");
    let text = std::fs::read_to_string(out.join("scenario.toml")).unwrap();
    assert!(text.contains("keys_per_tenant = 3"), "{text}");
}
