//! `cacheplan calibrate`'s pure half: which key shapes a scenario uses (strings of its value
//! sizes, counters, token-bucket hashes, sliding-window sorted sets, with or without TTL), what
//! the built-in memory model says n such keys cost, and the calibration file a cluster
//! references (`calibration = "calib.toml"`): its format, how it is read, and the figures the
//! model takes from it (base memory, service time, a per-key memory correction). The IO edge
//! that measures a scratch server is `cli::calibrate`; `service` turns the file's per-command
//! service times into the factors a shard's commands take.

pub mod service;

use crate::redis::memory;
use crate::redis::objects;
use crate::redis::shard::TypeBytesAdjust;
use crate::scenario::dist::Dist;
use crate::scenario::model::{Operation, RateLimitAlgorithm, Scenario};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt::Write;

/// Members of a sliding window as the calibration writes it (a window with a few entries).
pub const SLIDING_WINDOW_MEMBERS: u64 = 10;
/// Bytes of a sliding-window member (the model's request ids).
pub const SLIDING_WINDOW_MEMBER_BYTES: u64 = 16;

/// What one key of a keyspace is in Redis.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Shape {
    /// A string value of this many bytes.
    String {
        /// Value bytes.
        value_bytes: u64,
    },
    /// An INCR counter (INT encoding).
    Counter,
    /// A two-field hash (tokens, ts).
    TokenBucket,
    /// A sorted set of `SLIDING_WINDOW_MEMBERS` members.
    SlidingWindow,
}

impl Shape {
    /// The file's spelling.
    pub fn kind(self) -> &'static str {
        match self {
            Shape::String { .. } => "string",
            Shape::Counter => "counter",
            Shape::TokenBucket => "token-bucket",
            Shape::SlidingWindow => "sliding-window",
        }
    }
}

/// A keyspace's shape with its key length, TTL and weight (its keys per tenant).
#[derive(Clone, Debug, PartialEq)]
pub struct KeyspaceShape {
    /// Keyspace name.
    pub keyspace: String,
    /// The shape.
    pub shape: Shape,
    /// Key length, bytes.
    pub key_len_bytes: u64,
    /// Whether its keys carry a TTL.
    pub has_ttl: bool,
    /// Its keys per tenant (the weight of its correction).
    pub weight: f64,
}

/// The median of a distribution (the value size a calibration writes).
pub fn median(d: &Dist) -> f64 {
    match d {
        Dist::Fixed(v) => *v,
        Dist::Exponential(mean) => mean * std::f64::consts::LN_2,
        Dist::Lognormal { mu, .. } => mu.exp(),
        Dist::Uniform { min, max } => (min + max) / 2.0,
        other => other.mean(),
    }
}

/// The shapes of a scenario's keyspaces, in keyspace order.
pub fn shapes_of(scn: &Scenario) -> Vec<KeyspaceShape> {
    scn.keyspaces
        .iter()
        .map(|k| {
            let shape = match (k.operation, k.rate_limit_algorithm) {
                (Operation::RateLimit, RateLimitAlgorithm::FixedWindow) => Shape::Counter,
                (Operation::RateLimit, RateLimitAlgorithm::TokenBucket) => Shape::TokenBucket,
                (Operation::RateLimit, RateLimitAlgorithm::SlidingWindow) => Shape::SlidingWindow,
                _ => Shape::String {
                    value_bytes: median(&k.value_size_bytes).round().max(1.0) as u64,
                },
            };
            KeyspaceShape {
                keyspace: k.name.clone(),
                shape,
                key_len_bytes: k.key_len_bytes as u64,
                has_ttl: k.ttl.as_ns() > 0,
                weight: k.keys_per_tenant as f64,
            }
        })
        .collect()
}

/// The model's value bytes of a shape (`shared_integers`: a counter's small value is shared,
/// as when no LRU/LFU maxmemory policy is set).
pub fn model_value_bytes(shape: Shape, shared_integers: bool) -> u64 {
    match shape {
        Shape::String { value_bytes } => {
            memory::value_object_bytes(value_bytes, memory::string_encoding(value_bytes), false)
        }
        Shape::Counter => {
            memory::value_object_bytes(1, memory::StringEncoding::Int, shared_integers)
        }
        Shape::TokenBucket => objects::token_bucket_bytes(),
        Shape::SlidingWindow => {
            objects::zset_bytes(SLIDING_WINDOW_MEMBERS, SLIDING_WINDOW_MEMBER_BYTES)
        }
    }
}

/// The model's used_memory growth when `n` keys of a shape are written into an empty db:
/// entries, keys and values, the expires entries, and the bucket arrays the dicts grow to.
pub fn model_fill_bytes(s: &KeyspaceShape, n: u64, shared_integers: bool) -> u64 {
    let per_key = memory::key_value_bytes(
        s.key_len_bytes,
        model_value_bytes(s.shape, shared_integers),
        false,
    ) + if s.has_ttl {
        memory::EXPIRES_DICT_ENTRY_BYTES
    } else {
        0
    };
    let table = memory::bucket_array_bytes(memory::next_table_size(n.saturating_sub(1)));
    n * per_key + table * if s.has_ttl { 2 } else { 1 }
}

/// One measured shape of a calibration file.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct MeasuredShape {
    /// The keyspace it stands for.
    pub keyspace: String,
    /// `string`, `counter`, `token-bucket`, `sliding-window`.
    pub kind: String,
    /// Value bytes (strings).
    #[serde(default)]
    pub value_bytes: Option<u64>,
    /// Key length, bytes.
    pub key_len_bytes: u64,
    /// Whether the keys had a TTL.
    pub ttl: bool,
    /// Real used_memory per key (growth over the keys written / their number).
    pub measured_bytes_per_key: f64,
    /// The built-in model's figure for the same keys.
    pub model_bytes_per_key: f64,
    /// The weight of this shape in `key_bytes_adjust`.
    pub weight: f64,
}

/// A calibration file, as `calibrate` writes it and a cluster's `calibration` reads it.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Calibration {
    /// The server's `redis_version`.
    pub redis_version: String,
    /// Measured used_memory of the server with no keys.
    pub base_used_memory_bytes: u64,
    /// The model's built-in figure.
    pub builtin_base_used_memory_bytes: u64,
    /// Measured main-thread CPU time per request, µs (INFO cpu over unpipelined reads).
    pub service_time_us: f64,
    /// The model's built-in median.
    pub builtin_service_time_us_median: f64,
    /// The weighted mean of measured − model bytes per key over all shapes (reported; a
    /// cluster applies the per-type corrections of `shapes`, or this when there are none).
    pub key_bytes_adjust: i64,
    /// Measured main-thread µs per call by command (INFO commandstats over the calibration's
    /// own writes and reads: `set`, `incr`, `hset`, `zadd`, `pexpire`, `type`).
    #[serde(default)]
    pub service_time_us_per_command: BTreeMap<String, f64>,
    /// Per shape.
    #[serde(default)]
    pub shapes: Vec<MeasuredShape>,
}

/// The model's built-in service-time median, µs (`scenario::resolve`'s default).
pub const BUILTIN_SERVICE_TIME_US_MEDIAN: f64 = 15.0;

/// The console's calibration lines: per calibrated cluster its measured memory figures
/// against the built-in ones, then (`service::describe_clusters`) its per-command service
/// times against the built-in ones.
pub fn describe_clusters(scn: &Scenario) -> Vec<String> {
    let mut lines = describe_memory(scn);
    lines.extend(service::describe_clusters(scn));
    lines
}

/// One line per cluster with calibrated memory: its measured figures against the built-in
/// ones (a cluster is calibrated when its base memory or per-key correction differs from the
/// model's).
fn describe_memory(scn: &Scenario) -> Vec<String> {
    scn.clusters
        .iter()
        .filter(|c| {
            c.redis.key_bytes_adjust != 0
                || !c.redis.type_bytes_adjust.is_zero()
                || c.redis.base_used_memory_bytes != memory::EMPTY_SERVER_USED_MEMORY_BYTES
        })
        .map(|c| {
            let t = &c.redis.type_bytes_adjust;
            let per_type = if t.is_zero() {
                format!("{:+} B per key", c.redis.key_bytes_adjust)
            } else {
                let strings: Vec<String> = t
                    .strings
                    .iter()
                    .map(|(v, a)| format!("{v} B values {a:+}"))
                    .collect();
                format!(
                    "per key: strings [{}], counters {:+} B, hashes {:+} B, sorted sets {:+} B",
                    strings.join(", "),
                    t.counter,
                    t.hash,
                    t.zset
                )
            };
            format!(
                "cluster {}: calibrated: base used_memory {} B (built-in {} B, {:+} B), {per_type}, service time median {:.2} µs (built-in {:.1} µs)",
                c.name,
                c.redis.base_used_memory_bytes,
                memory::EMPTY_SERVER_USED_MEMORY_BYTES,
                c.redis.base_used_memory_bytes as i64 - memory::EMPTY_SERVER_USED_MEMORY_BYTES as i64,
                median(&c.service_time_us),
                BUILTIN_SERVICE_TIME_US_MEDIAN
            )
        })
        .collect()
}

/// The per-type corrections of a calibration's shapes: per data type (strings per measured
/// value size, their size class) the weighted mean of measured − model bytes per key,
/// rounded. None when one is out of range (more than 1 MiB).
pub fn type_bytes_adjust(shapes: &[MeasuredShape]) -> Option<TypeBytesAdjust> {
    let mean = |pick: &dyn Fn(&MeasuredShape) -> bool| -> Option<i32> {
        let chosen: Vec<MeasuredShape> = shapes.iter().filter(|s| pick(s)).cloned().collect();
        let adjust = key_bytes_adjust(&chosen);
        i32::try_from(adjust).ok().filter(|a| a.abs() < 1 << 20)
    };
    let mut sizes: Vec<u64> = shapes
        .iter()
        .filter(|s| s.kind == "string")
        .filter_map(|s| s.value_bytes)
        .collect();
    sizes.sort_unstable();
    sizes.dedup();
    let strings = sizes
        .into_iter()
        .map(|v| {
            Some((
                v,
                mean(&|s| s.kind == "string" && s.value_bytes == Some(v))?,
            ))
        })
        .collect::<Option<Vec<_>>>()?;
    Some(TypeBytesAdjust {
        strings,
        counter: mean(&|s| s.kind == "counter")?,
        hash: mean(&|s| s.kind == "token-bucket")?,
        zset: mean(&|s| s.kind == "sliding-window")?,
    })
}

/// The weighted mean of measured − model bytes per key, rounded.
pub fn key_bytes_adjust(shapes: &[MeasuredShape]) -> i64 {
    let w: f64 = shapes.iter().map(|s| s.weight).sum();
    if w <= 0.0 {
        return 0;
    }
    let d: f64 = shapes
        .iter()
        .map(|s| s.weight * (s.measured_bytes_per_key - s.model_bytes_per_key))
        .sum();
    (d / w).round() as i64
}

/// The calibration file's text (commented).
pub fn to_toml(c: &Calibration, source: &str, n_keys_per_shape: u64) -> String {
    let q = |s: &str| toml::Value::String(s.to_string()).to_string();
    let mut s = String::new();
    let w = &mut s;
    let _ = writeln!(
        w,
        "# Written by `cacheplan calibrate` against {source} ({n_keys_per_shape} keys per shape).\n\
         # Reference it from a cluster: calibration = \"<this file>\" in [[clusters]]."
    );
    let _ = writeln!(w, "redis_version = {}", q(&c.redis_version));
    let _ = writeln!(
        w,
        "base_used_memory_bytes = {}   # measured: used_memory with no keys",
        c.base_used_memory_bytes
    );
    let _ = writeln!(
        w,
        "builtin_base_used_memory_bytes = {}   # the model's own figure",
        c.builtin_base_used_memory_bytes
    );
    let _ = writeln!(
        w,
        "service_time_us = {:.3}   # measured: main-thread CPU per unpipelined request (INFO cpu), median over shapes",
        c.service_time_us
    );
    let _ = writeln!(
        w,
        "builtin_service_time_us_median = {:.1}   # the model's default (lognormal median)",
        c.builtin_service_time_us_median
    );
    let _ = writeln!(
        w,
        "key_bytes_adjust = {}   # added to every key's modelled bytes: weighted mean of measured − model",
        c.key_bytes_adjust
    );
    if !c.service_time_us_per_command.is_empty() {
        let _ = writeln!(
            w,
            "\n# measured: INFO commandstats usec_per_call (execution only, no IO). A cluster's\n\
             # command of a class takes service_time_us + (its commands' figures − type's):\n\
             # get, set, incr, del, pexpire, evalsha (token bucket), multi + exec (sliding window)."
        );
        let _ = writeln!(w, "[service_time_us_per_command]");
        let reference = c
            .service_time_us_per_command
            .get(service::REFERENCE_COMMAND)
            .copied();
        for (command, us) in &c.service_time_us_per_command {
            match reference {
                Some(r) => {
                    let _ = writeln!(
                        w,
                        "{} = {us:.3}   # {:+.3} µs against type",
                        q(command),
                        us - r
                    );
                }
                None => {
                    let _ = writeln!(w, "{} = {us:.3}", q(command));
                }
            }
        }
    }
    for m in &c.shapes {
        let _ = writeln!(w, "\n[[shapes]]");
        let _ = writeln!(w, "keyspace = {}", q(&m.keyspace));
        let _ = writeln!(w, "kind = {}", q(&m.kind));
        if let Some(v) = m.value_bytes {
            let _ = writeln!(w, "value_bytes = {v}");
        }
        let _ = writeln!(w, "key_len_bytes = {}", m.key_len_bytes);
        let _ = writeln!(w, "ttl = {}", m.ttl);
        let _ = writeln!(
            w,
            "measured_bytes_per_key = {:.2}   # difference from the model: {:+.2} B ({:+.2}%)",
            m.measured_bytes_per_key,
            m.measured_bytes_per_key - m.model_bytes_per_key,
            (m.measured_bytes_per_key / m.model_bytes_per_key - 1.0) * 100.0
        );
        let _ = writeln!(w, "model_bytes_per_key = {:.2}", m.model_bytes_per_key);
        let _ = writeln!(w, "weight = {}", m.weight);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_fill_matches_section_8() {
        // 2000 keys of 7 bytes with 512-byte values: 704 B each plus a 2048-slot table.
        let s = KeyspaceShape {
            keyspace: "k".into(),
            shape: Shape::String { value_bytes: 512 },
            key_len_bytes: 7,
            has_ttl: false,
            weight: 1.0,
        };
        assert_eq!(model_fill_bytes(&s, 2000, false), 2000 * 704 + 8 * 2048);
        let with_ttl = KeyspaceShape {
            has_ttl: true,
            ..s.clone()
        };
        assert_eq!(
            model_fill_bytes(&with_ttl, 2000, false),
            2000 * (704 + 32) + 2 * 8 * 2048
        );
        assert_eq!(model_value_bytes(Shape::Counter, true), 0);
        assert_eq!(model_value_bytes(Shape::Counter, false), 16);
    }

    #[test]
    fn the_file_round_trips_and_the_adjust_is_weighted() {
        let shape = |m: f64, w: f64| MeasuredShape {
            keyspace: "a".into(),
            kind: "string".into(),
            value_bytes: Some(100),
            key_len_bytes: 20,
            ttl: true,
            measured_bytes_per_key: m,
            model_bytes_per_key: 200.0,
            weight: w,
        };
        let shapes = vec![shape(210.0, 3.0), shape(190.0, 1.0)];
        assert_eq!(key_bytes_adjust(&shapes), 5);
        let c = Calibration {
            redis_version: "7.0.15".into(),
            base_used_memory_bytes: 900_000,
            builtin_base_used_memory_bytes: memory::EMPTY_SERVER_USED_MEMORY_BYTES,
            service_time_us: 2.5,
            builtin_service_time_us_median: BUILTIN_SERVICE_TIME_US_MEDIAN,
            key_bytes_adjust: 5,
            service_time_us_per_command: BTreeMap::from([("set".to_string(), 1.5)]),
            shapes,
        };
        let back: Calibration = toml::from_str(&to_toml(&c, "redis://x", 2000)).unwrap();
        assert_eq!(back.base_used_memory_bytes, 900_000);
        assert_eq!(back.shapes.len(), 2);
        assert_eq!(back.key_bytes_adjust, 5);
        assert!((back.shapes[0].measured_bytes_per_key - 210.0).abs() < 1e-9);
        assert_eq!(back.service_time_us_per_command["set"], 1.5);
    }

    #[test]
    fn per_type_corrections_reach_only_their_type() {
        use crate::engine::{RngStream, SimTime};
        use crate::redis::db::KeyRef;
        use crate::redis::shard::{Command, ObjectType, RedisConfig, Shard};
        let shape = |kind: &str, value_bytes: Option<u64>, measured: f64| MeasuredShape {
            keyspace: kind.into(),
            kind: kind.into(),
            value_bytes,
            key_len_bytes: 20,
            ttl: true,
            measured_bytes_per_key: measured,
            model_bytes_per_key: 200.0,
            weight: 1.0,
        };
        let shapes = [
            shape("string", Some(100), 208.0),
            shape("string", Some(1000), 190.0),
            shape("counter", None, 203.0),
            shape("token-bucket", None, 230.0),
            shape("sliding-window", None, 199.0),
        ];
        let adjust = type_bytes_adjust(&shapes).unwrap();
        assert_eq!(adjust.strings, vec![(100, 8), (1000, -10)]);
        assert_eq!((adjust.counter, adjust.hash, adjust.zset), (3, 30, -1));
        // The size class: the nearest measured size by ratio (the boundary is at √(100·1000)).
        assert_eq!(adjust.string(90), 8);
        assert_eq!(adjust.string(310), 8);
        assert_eq!(adjust.string(320), -10);
        assert_eq!(adjust.string(5000), -10);
        // Each command's key grows by its own type's correction, and only by it.
        let bytes_of = |adjust: TypeBytesAdjust, cmd: Command| {
            let cfg = RedisConfig {
                type_bytes_adjust: adjust,
                ..RedisConfig::default()
            };
            let mut shard = Shard::new(cfg, &RngStream::new(1, 0));
            let before = shard.used_memory();
            shard.execute(SimTime::ZERO, cmd);
            shard.used_memory() - before
        };
        let key = KeyRef { id: 1, len: 20 };
        let commands = [
            Command::Set {
                key,
                value_size: 120,
                ttl_ms: 0,
                nx: false,
                stamp: 0,
            },
            Command::IncrExpire { key, ttl_ms: 0 },
            Command::WriteObject {
                key,
                object_bytes: objects::token_bucket_bytes() as u32,
                object_type: ObjectType::Hash,
                ttl_ms: 0,
            },
            Command::WriteObject {
                key,
                object_bytes: objects::zset_bytes(10, 16) as u32,
                object_type: ObjectType::Zset,
                ttl_ms: 0,
            },
        ];
        let added: Vec<i64> = commands
            .into_iter()
            .map(|c| {
                bytes_of(adjust.clone(), c) as i64 - bytes_of(TypeBytesAdjust::default(), c) as i64
            })
            .collect();
        assert_eq!(added, vec![8, 3, 30, -1]);
    }
}
