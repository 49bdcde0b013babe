//! Hostile and edge inputs of `replay` and `trace gen` (issue #12), each through the binary:
//! idle gaps that must cost nothing, times past the simulated clock, sizes whose memory must
//! be refused before any work, kv-csv's decimal TTLs, and the count of OOM-rejected writes.
//!
//! Oracles: the TTL rule (`now > insert + ttl_ms`, strict, in ms) worked out by hand for each
//! trace; the rejected-write count from Redis 7's memory accounting (REDIS-MODEL.md section 8)
//! computed here from the jemalloc size classes, independently of `src/redis/memory.rs`.

use crate::fidelity_support::u64_of;
use crate::{arg, cacheplan, check_no_panic, Output, TempDir};
use std::process::Command;
use std::time::{Duration, Instant};

/// Runs `cacheplan args` with its address space limited to 1 GiB (a process that tried to
/// allocate more fails instead of exiting 2) and returns the output and the wall time.
fn run_within_1gib(args: &[&str]) -> (Output, Duration) {
    let started = Instant::now();
    let out = Command::new("sh")
        .arg("-c")
        .arg("ulimit -v 1048576 && exec \"$0\" \"$@\"")
        .arg(env!("CARGO_BIN_EXE_cacheplan"))
        .args(args)
        .env_remove("RUST_BACKTRACE")
        .output()
        .expect("sh runs");
    let out = Output {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    check_no_panic(&out);
    (out, started.elapsed())
}

/// Asserts a refusal: exit 2 within 10 s under 1 GiB, naming `field` on stderr.
fn check_refused(args: &[&str], field: &str) -> Output {
    let (out, took) = run_within_1gib(args);
    assert_eq!(out.code, 2, "{args:?}: {out:#?}");
    assert!(took < Duration::from_secs(10), "{args:?} took {took:?}");
    assert!(out.stderr.contains(field), "{args:?}: {}", out.stderr);
    out
}

/// An oracleGeneral file of (time s, id) records of 100 bytes each.
fn oracle_general(dir: &TempDir, name: &str, records: &[(u32, u64)]) -> String {
    let mut bytes = Vec::new();
    for &(time_s, id) in records {
        bytes.extend_from_slice(&time_s.to_le_bytes());
        bytes.extend_from_slice(&id.to_le_bytes());
        bytes.extend_from_slice(&100u32.to_le_bytes());
        bytes.extend_from_slice(&(-1i64).to_le_bytes());
    }
    arg(&dir.write(name, bytes)).to_string()
}

const ALL_REDIS_POLICIES: &str = "noeviction,allkeys-lru,allkeys-lfu,allkeys-random,\
                                  volatile-lru,volatile-lfu,volatile-random,volatile-ttl";

#[test]
fn a_four_billion_second_idle_gap_costs_nothing() {
    let dir = TempDir::new("gap");
    let trace = oracle_general(&dir, "gap.oracleGeneral.bin", &[(0, 1), (4_000_000_000, 2)]);
    for clock in [&[][..], &["--rate", "1e-9"][..]] {
        let mut args = vec![
            "replay",
            &trace,
            "--maxmemory-policy",
            ALL_REDIS_POLICIES,
            "--maxmemory",
            "64mb",
            "--json",
        ];
        args.extend_from_slice(clock);
        let (out, took) = run_within_1gib(&args);
        assert_eq!(out.code, 0, "{args:?}: {out:#?}");
        assert!(took < Duration::from_secs(10), "{args:?} took {took:?}");
        let rows: Vec<serde_json::Value> = out
            .stdout
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(rows.len(), 8);
        for row in &rows {
            assert_eq!(
                (u64_of(row, "n_req"), u64_of(row, "keys_end")),
                (2, 2),
                "{row}"
            );
        }
    }
}

#[test]
fn times_past_the_simulated_clock_are_refused_naming_the_clock() {
    let dir = TempDir::new("clock");
    let records: Vec<(u32, u64)> = (0..40).map(|i| (0, i)).collect();
    let trace = oracle_general(&dir, "many.oracleGeneral.bin", &records);
    let out = check_refused(
        &[
            "replay",
            &trace,
            "--maxmemory-policy",
            "allkeys-lru",
            "--maxmemory",
            "64mb",
            "--rate",
            "1e-9",
        ],
        "--rate 0.000000001: request 20 would come at 1.9e13 ms, past the end of simulated time",
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn trace_gen_refuses_sizes_over_the_memory_limit() {
    let dir = TempDir::new("gen-size");
    let out = dir.join("x.oracleGeneral.bin");
    let refusal = check_refused(
        &[
            "trace",
            "gen",
            "--out",
            arg(&out),
            "--objects",
            "4000000000",
        ],
        "--objects 4000000000 (popularity table)",
    );
    assert!(
        refusal.stderr.contains("--memory-limit"),
        "{}",
        refusal.stderr
    );
    check_refused(
        &[
            "trace",
            "gen",
            "--out",
            arg(&out),
            "--objects",
            "1000",
            "--requests",
            "40000000000",
        ],
        "--requests 40000000000 (next_access_vtime pass)",
    );
    // The same sizes under an explicit limit, and the limit is what decides.
    check_refused(
        &[
            "trace",
            "gen",
            "--out",
            arg(&out),
            "--objects",
            "10000000",
            "--memory-limit",
            "64mb",
        ],
        "--objects 10000000",
    );
    assert!(!out.exists() && !dir.join("x.partial").exists());
    // Uniform popularity needs no table: four billion objects are fine for few requests.
    let (ok, _) = run_within_1gib(&[
        "trace",
        "gen",
        "--out",
        arg(&out),
        "--objects",
        "4000000000",
        "--popularity",
        "uniform",
        "--requests",
        "1000",
        "--format",
        "kv-csv",
    ]);
    assert_eq!(ok.code, 0, "{ok:#?}");
}

#[test]
fn replay_refuses_cache_sizes_over_the_memory_limit() {
    let dir = TempDir::new("replay-size");
    let trace = oracle_general(&dir, "small.oracleGeneral.bin", &[(0, 1), (1, 2)]);
    // Object mode reserves room for up to 2^24 objects per cache up front.
    check_refused(
        &[
            "replay",
            &trace,
            "--policy",
            "lru,fifo,sieve,clock,s3fifo",
            "--cache-size",
            "100000000,200000000,300000000",
            "--ignore-obj-size",
            "--memory-limit",
            "2gb",
        ],
        "--cache-size 100000000 (s3fifo)",
    );
    // A trace file of 100 GB (sparse: no disk used) may hold 4.5e9 distinct keys; the Redis
    // model's memory is then bounded by maxmemory, and 1 TB of it is refused before reading.
    let big = dir.join("big.oracleGeneral.bin");
    std::fs::File::create(&big)
        .and_then(|f| f.set_len(100 << 30))
        .unwrap();
    let out = check_refused(
        &[
            "replay",
            arg(&big),
            "--maxmemory-policy",
            "allkeys-lru,volatile-lru",
            "--maxmemory",
            "1tb",
        ],
        "--maxmemory 1099511627776 (allkeys-lru)",
    );
    assert!(out.stderr.contains("above the limit"), "{}", out.stderr);
    assert!(out.stdout.is_empty());
    // A small trace bounds the keys whatever maxmemory says: the same replay runs.
    let ok = cacheplan(&[
        "replay",
        &trace,
        "--maxmemory-policy",
        "allkeys-lru,volatile-lru",
        "--maxmemory",
        "1tb",
    ]);
    assert_eq!(ok.code, 0, "{ok:#?}");
}

/// Replays `kv` (a kv-csv body) at one request per two seconds through exact LRU and the Redis
/// model; returns each one's hits.
fn hits_at_two_second_steps(dir: &TempDir, kv: &str) -> (u64, u64) {
    let path = dir.write("ttl.csv", format!("key,value_size,ttl_s\n{kv}"));
    let out = cacheplan(&[
        "replay",
        arg(&path),
        "--format",
        "kv-csv",
        "--rate",
        "0.5",
        "--policy",
        "lru",
        "--cache-size",
        "10",
        "--ignore-obj-size",
        "--maxmemory-policy",
        "allkeys-lru",
        "--maxmemory",
        "64mb",
        "--json",
    ]);
    assert_eq!(out.code, 0, "{out:#?}");
    let rows: Vec<serde_json::Value> = out
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    (u64_of(&rows[0], "n_hit"), u64_of(&rows[1], "n_hit"))
}

#[test]
fn kv_csv_ttls_are_decimal_seconds_to_the_millisecond() {
    let dir = TempDir::new("kv-ttl");
    // The key is set at 0 ms and read again at 2,000 ms: a hit iff 2,000 <= ttl_ms.
    for (ttl_s, hit) in [
        ("2", 1),
        ("1.999", 0),
        ("2.001", 1),
        ("1.9995", 1), // rounds to 2,000 ms
        ("1.9994", 0), // rounds to 1,999 ms
        ("0", 1),      // no TTL
        ("", 1),       // no TTL
    ] {
        let kv = format!("a,10,{ttl_s}\na,10,{ttl_s}\n");
        assert_eq!(
            hits_at_two_second_steps(&dir, &kv),
            (hit, hit),
            "ttl_s {ttl_s:?}"
        );
    }
    for (bad, why) in [
        ("-1", "is negative"),
        ("NaN", "is not a finite number"),
        ("inf", "is not a finite number"),
        ("1e3", "is not a number of seconds"),
        ("0.0001", "rounds to 0 ms"),
    ] {
        let path = dir.write(
            "bad.csv",
            format!("key,value_size,ttl_s\na,1,5.326\nb,1,{bad}\n"),
        );
        let out = cacheplan(&[
            "replay",
            arg(&path),
            "--policy",
            "lru",
            "--cache-size",
            "10",
        ]);
        assert_eq!(out.code, 2, "{bad}: {out:#?}");
        check_no_panic(&out);
        let expected = format!("bad.csv: line 3: ttl_s \"{bad}\" {why}");
        assert!(out.stderr.contains(&expected), "{bad}: {}", out.stderr);
    }
}

/// jemalloc 5.3's small size classes (REDIS-MODEL.md section 8), enough for this test.
fn jemalloc(bytes: u64) -> u64 {
    const CLASSES: [u64; 12] = [8, 16, 32, 48, 64, 80, 96, 112, 128, 160, 192, 224];
    CLASSES.into_iter().find(|&c| c >= bytes).expect("small")
}

#[test]
fn rejected_writes_count_the_oom_refusals_of_volatile_lru_without_ttls() {
    let dir = TempDir::new("oom");
    // 1,500 distinct keys `key0000`.. of 100-byte values, no TTL: every request misses and
    // writes. Under volatile-lru nothing can be evicted, so once used_memory passes
    // maxmemory every later SET is refused (memory never goes down again).
    let n_keys = 1_500u64;
    let mut kv = String::from("key,value_size,ttl_s\n");
    for i in 0..n_keys {
        kv.push_str(&format!("key{i:04},100,\n"));
    }
    let path = dir.write("keys.csv", kv);
    // Per key (REDIS-MODEL.md section 8): a 32-byte dict entry, the key's sds (1-byte header,
    // 7 bytes, NUL), a RAW value (16-byte robj + sds of 1 + 100 + 1 bytes).
    let per_key = 32 + jemalloc(1 + 7 + 1) + 16 + jemalloc(1 + 100 + 1);
    assert_eq!(per_key, 176);
    // Past 512 keys the main dict's table has 1,024 buckets of 8 bytes (it doubles when full).
    let base = 977_368u64;
    let maxmemory = base + 176 * 1_000 + 8 * 1_024 + 100;
    let used_after = |keys: u64| base + per_key * keys + 8 * keys.next_power_of_two().max(4);
    // Eviction is tried before each command, counting the command's own arguments
    // (networking.c processMultibulkBuffer allocates them before processCommand's
    // performEvictions): argv of 3 pointers (32), "SET" and the key as EMBSTR (32 each), the
    // value RAW (16-byte robj + sds of 3 + 100 + 1 bytes). A SET runs while used + that <=
    // maxmemory before it.
    let argv = jemalloc(3 * 8) + 2 * jemalloc(16 + 3 + 7 + 1) + 16 + jemalloc(3 + 100 + 1);
    assert_eq!(argv, 224);
    let accepted = (1..=n_keys)
        .take_while(|&k| used_after(k - 1) + argv <= maxmemory)
        .count() as u64;
    assert_eq!(accepted, 1_000);
    let maxmemory_text = maxmemory.to_string();
    let out = cacheplan(&[
        "replay",
        arg(&path),
        "--maxmemory-policy",
        "volatile-lru,noeviction,allkeys-lru",
        "--maxmemory",
        &maxmemory_text,
        "--json",
    ]);
    assert_eq!(out.code, 0, "{out:#?}");
    let rows: Vec<serde_json::Value> = out
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    for row in &rows[..2] {
        assert_eq!(u64_of(row, "rejected_writes"), n_keys - accepted, "{row}");
        assert_eq!(u64_of(row, "keys_end"), accepted, "{row}");
        assert_eq!(u64_of(row, "evicted_keys"), 0, "{row}");
        assert_eq!(
            u64_of(row, "used_memory_end"),
            used_after(accepted),
            "{row}"
        );
    }
    // allkeys-lru evicts instead: nothing is refused.
    assert_eq!(u64_of(&rows[2], "rejected_writes"), 0);
    assert!(u64_of(&rows[2], "evicted_keys") > 0);
    // The table shows the column; exact policies have no such figure.
    let table = cacheplan(&[
        "replay",
        arg(&path),
        "--maxmemory-policy",
        "volatile-lru",
        "--maxmemory",
        &maxmemory_text,
        "--policy",
        "lru",
        "--cache-size",
        "100kb",
    ]);
    assert_eq!(table.code, 0, "{table:#?}");
    let lines: Vec<&str> = table.stdout.lines().collect();
    assert!(lines[0].ends_with("rejected_writes"), "{}", table.stdout);
    assert!(
        lines[1].starts_with("lru") && lines[1].ends_with(" -"),
        "{}",
        table.stdout
    );
    assert!(
        lines[2].ends_with(&format!(" {}", n_keys - accepted)),
        "{}",
        table.stdout
    );
}
