//! Memory per key of the Redis model against real Redis 7.0.15 (`fidelity/redis7/
//! extras-memory.json`), driving a `Shard` directly with the harness's commands.
//!
//! `bulk`: 20,000 keys `k:0 .. k:19999` (3 to 7 bytes long: the key sds is 8 bytes up to 6
//! characters, 16 from 7), SET to `value_size` bytes, with or without a TTL; bytes per key =
//! (used_memory full - used_memory empty) / keys, as the harness measured it. Tolerance 1 %
//! (the issue): the real figures also carry a little client-buffer noise.
//!
//! `memory_usage`: MEMORY USAGE of one key = 24-byte dictEntry (unrounded `sizeof`) + key sds +
//! value object, no bucket arrays (REDIS-MODEL.md section 8). The model charges each entry
//! `Entry::bytes` = 32-byte (size-classed) dict entry + key sds + value object, so the model's
//! MEMORY USAGE is `bytes - 32 + 24`. These are deterministic byte counts: they must be equal.

use crate::fidelity_support::{assert_no_failures, f64_of, redis7_json, u64_of};
use cacheplan::engine::{RngStream, SimTime};
use cacheplan::redis::db::KeyRef;
use cacheplan::redis::memory::{string_encoding, StringEncoding};
use cacheplan::redis::shard::{Command, RedisConfig, Reply, Shard};

/// Relative tolerance of bytes per key (the issue: within 1 %).
const BULK_TOLERANCE: f64 = 0.01;
/// A TTL long enough that nothing expires during the measurement (1 hour).
const TTL_MS: u64 = 3_600_000;

fn key(name: &str, id: u64) -> KeyRef {
    KeyRef {
        id,
        len: name.len() as u32,
    }
}

fn set(shard: &mut Shard, key: KeyRef, value_size: u32, ttl_ms: u64) {
    let reply = shard
        .execute(
            SimTime::ZERO,
            Command::Set {
                key,
                value_size,
                ttl_ms,
                nx: false,
                stamp: 0,
            },
        )
        .reply;
    assert_eq!(reply, Reply::Ok);
}

/// The harness's bulk measurement on a fresh default server (noeviction, no maxmemory).
fn model_bytes_per_key(value_size: u32, ttl: bool, keys: u64) -> f64 {
    let mut shard = Shard::new(RedisConfig::default(), &RngStream::new(7, 0));
    let empty = shard.used_memory();
    for i in 0..keys {
        let name = format!("k:{i}");
        set(
            &mut shard,
            key(&name, i),
            value_size,
            if ttl { TTL_MS } else { 0 },
        );
    }
    assert_eq!(shard.keys(), keys);
    assert_eq!(shard.expires(), if ttl { keys } else { 0 });
    (shard.used_memory() - empty) as f64 / keys as f64
}

#[test]
fn bytes_per_key_match_real_redis_bulk_fills() {
    let memory = redis7_json("extras-memory.json");
    let bulk = memory["memory"]["bulk"].as_array().expect("bulk");
    assert_eq!(bulk.len(), 14, "16 B to 4 KiB, with and without TTL");
    let mut failures = Vec::new();
    println!(
        "{:>6} {:>5} {:>9} {:>9} {:>7}",
        "value", "ttl", "real", "model", "diff_%"
    );
    for row in bulk {
        let value_size = u64_of(row, "value_size") as u32;
        let ttl = row["ttl"].as_bool().expect("ttl");
        let keys = u64_of(row, "keys");
        let real = f64_of(row, "bytes_per_key");
        let model = model_bytes_per_key(value_size, ttl, keys);
        let rel = model / real - 1.0;
        println!(
            "{value_size:>6} {ttl:>5} {real:>9.1} {model:>9.1} {:>+7.2}",
            rel * 100.0
        );
        if rel.abs() > BULK_TOLERANCE {
            failures.push(format!(
                "value {value_size} B, ttl {ttl}: model {model:.1} B/key vs real {real:.1} ({:+.2} %)",
                rel * 100.0
            ));
        }
    }
    assert_no_failures("bytes per key", &failures);
}

#[test]
fn memory_usage_matches_real_redis() {
    // The harness did not record the key it probed. `calibration.memory_usage_samples` of the
    // grid file are 696 for `k:<id>` keys of this stream with 512-byte values, and the
    // memory_usage table's 512 entry is 696 too: a 7-byte `k:NNNNN` key (16-byte sds) fits both,
    // so we probe with `k:12345`.
    let grid = redis7_json("grid-alpha0.8.json");
    let calibration_samples = grid["calibration"]["no_ttl"]["memory_usage_samples"]
        .as_array()
        .expect("memory_usage_samples");
    let memory = redis7_json("extras-memory.json");
    let table = memory["memory"]["memory_usage"]
        .as_array()
        .expect("memory_usage");
    let name = "k:12345";
    let mut failures = Vec::new();
    println!(
        "{:>6} {:>7} {:>7} {:>7} {:>7}",
        "value", "real", "model", "enc", "model_enc"
    );
    let mut checked = 0;
    for row in table.iter().map(|r| r.as_array().expect("row")) {
        let value_size = row[0].as_u64().expect("value size") as u32;
        let real = row[1].as_u64().expect("bytes");
        let real_encoding = row[2].as_str().expect("encoding");
        let mut shard = Shard::new(RedisConfig::default(), &RngStream::new(7, 0));
        set(&mut shard, key(name, 1), value_size, 0);
        let pos = shard.db().find(1).expect("the key is resident");
        let model = shard.db().entry(pos).bytes as u64 - 32 + 24;
        let model_encoding = match string_encoding(value_size as u64) {
            StringEncoding::Embstr => "embstr",
            StringEncoding::Raw => "raw",
            StringEncoding::Int => "int",
        };
        println!("{value_size:>6} {real:>7} {model:>7} {real_encoding:>7} {model_encoding:>7}");
        if model != real || model_encoding != real_encoding {
            failures.push(format!(
                "value {value_size} B: model {model} B {model_encoding} vs real {real} B \
                 {real_encoding}"
            ));
        }
        if value_size == 512 {
            for sample in calibration_samples {
                assert_eq!(sample.as_u64(), Some(model), "calibration MEMORY USAGE");
            }
        }
        checked += 1;
    }
    assert_eq!(checked, 21, "1 B to 50,000 B");
    assert_no_failures("MEMORY USAGE", &failures);
}
