//! Differential fidelity against a live `redis-server` 7.0: the same paced cache-aside stream
//! replayed through real Redis and through the model (`redis::shard::Shard`, driven exactly as
//! the real client drove the server: same batches, same wall-clock times, the server's own
//! serverCron tick schedule), for all eight `maxmemory-policy` values; and memory per key of
//! the objects the default scenario writes (strings, counters, token-bucket hashes,
//! sliding-window sorted sets), real bulk fills against the model's figures.
//!
//! The stream: Zipf 0.9 over 12,000 keys, lognormal value sizes (median 250 B, sigma 0.6, fixed
//! per key), two keys in three with a TTL of 1.5-2.5 s (uniform jitter), one in three without;
//! 20,000 requests in batches of 20 every 4 ms (5,000 requests/s over 4 s, so the 1-second LRU
//! clock ticks and TTLs run out during the run). A batch is one pipeline of GETs, then one
//! pipeline of SETs for its misses, in order (a key missed twice in a batch is set twice); the
//! model executes the same commands at the times the real client sent them.
//!
//! Tolerances (the issue's, for every policy): hit ratio within 0.5 points, keys and
//! used_memory at the end within 2 %, memory per key within 1 %. The random policies are
//! compared as means over several real runs and model seeds (`RANDOM_REAL_RUNS`). Both sides
//! are measured the same way: every command the run sends is used once before the base is
//! read (Redis 7.0 allocates a command's 24.6 KB latency histogram on its first use), and
//! used_memory is read without the clients' buffers from one `MEMORY STATS` reply once it has
//! settled. The stream starts on a serverCron tick and the tick is found again after it, so
//! the model's ticks start in phase with the server's and drift as they did
//! (`RedisConfig::cron_tick_delay_ns`): a full `noeviction` server frees memory only by
//! expiry, and which keys a tick expires before which SET decides what it admits.

use crate::fidelity_support::assert_no_failures;
use crate::live_redis::RedisServer;
use cacheplan::engine::{RngStream, SimTime};
use cacheplan::redis::db::KeyRef;
use cacheplan::redis::evict::MaxmemoryPolicy;
use cacheplan::redis::objects;
use cacheplan::redis::shard::{Command, ObjectType, RedisConfig, Reply, Shard};
use cacheplan::workload::popularity::Zipf;
use redis_client::Value;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const KEYS: u64 = 12_000;
const ALPHA: f64 = 0.9;
const REQUESTS: usize = 20_000;
const BATCH: usize = 20;
const BATCH_PERIOD: Duration = Duration::from_millis(4);
/// `maxmemory` above the server's base memory (bytes): about a third of the keys the stream
/// touches.
const BUDGET_BYTES: u64 = 1_200_000;
/// Hit ratio, points (the tolerance).
const HIT_RATIO_TOLERANCE_POINTS: f64 = 0.5;
/// used_memory at the end (the issue: 2 %).
const USED_MEMORY_END_TOLERANCE: f64 = 0.02;
/// Keys at the end (the issue: 2 %).
const KEYS_END_TOLERANCE: f64 = 0.02;
/// Real runs of each random policy. They evict with the server's own unseeded generator, so
/// one real run is itself a draw: over 28 runs of this stream a single run's hit ratio had a
/// standard deviation of 0.19 points under allkeys-random (0.15 under volatile-random), and
/// one seeded model run about 0.15; one run against one seed differs by sqrt(0.19² + 0.15²) =
/// 0.24 points (standard deviation), so a 0.5-point limit would fail about one pass in 25
/// with nothing wrong. The test compares the mean of `RANDOM_REAL_RUNS` real runs with the
/// mean of `RANDOM_MODEL_SEEDS` model seeds on each (16 model runs): standard error
/// sqrt(0.19² / 4 + 0.15² / 16) = 0.10 points, so the limit sits about 5 standard errors out
/// (4 after the model's measured +0.08-point lean under volatile-random), while a model that
/// evicts the wrong keys (allkeys-lru's hit ratio is 1.7 points above allkeys-random's) still
/// fails. Two real runs would leave 3.5 standard errors. The four real runs replay at once
/// beside the other policies' servers (each mostly idle): the whole test takes about 6 s.
const RANDOM_REAL_RUNS: usize = 4;
/// Model seeds per real run of a random policy (see `RANDOM_REAL_RUNS`).
const RANDOM_MODEL_SEEDS: u64 = 4;
const MEMORY_PER_KEY_TOLERANCE: f64 = 0.01;

/// One request of the stream.
#[derive(Clone, Copy)]
struct Req {
    id: u64,
    value_size: u32,
    ttl_ms: u64,
}

/// The stream (fixed seed): key, its value size and TTL drawn from the key's own stream.
fn stream() -> Vec<Req> {
    let zipf = Zipf::new(KEYS, ALPHA);
    let mut rng = RngStream::named(14, "live-fidelity/requests");
    (0..REQUESTS)
        .map(|_| {
            let id = zipf.sample(&mut rng);
            let mut key_rng = RngStream::new(14, id);
            let normal = standard_normal(&mut key_rng);
            let value_size = (250.0 * (0.6 * normal).exp()).round().clamp(1.0, 20_000.0) as u32;
            let ttl_ms = if id.is_multiple_of(3) {
                0
            } else {
                1_500 + key_rng.below(1_001)
            };
            Req {
                id,
                value_size,
                ttl_ms,
            }
        })
        .collect()
}

fn standard_normal(rng: &mut RngStream) -> f64 {
    let u1 = rng.next_f64_open0();
    let u2 = rng.next_f64();
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_millis() as u64
}

/// A value of `n` bytes that Redis cannot encode as an integer.
fn value_bytes(n: u32) -> Vec<u8> {
    vec![b'v'; n as usize]
}

/// What one replay saw, real or modelled.
#[derive(Clone, Debug, Default)]
struct Outcome {
    hits: u64,
    keys_end: u64,
    used_memory_end: u64,
    evicted_keys: u64,
    expired_keys: u64,
    oom_errors: u64,
}

impl Outcome {
    fn hit_ratio(&self) -> f64 {
        self.hits as f64 / REQUESTS as f64
    }
}

/// The real run's record: the base memory, and per batch the unix ms when its GETs were sent
/// and when its SETs were sent.
struct RealRun {
    base_bytes: u64,
    /// The client's buffers at the end of the run (0 in the idle state the base was read in).
    client_buffer_bytes: u64,
    outcome: Outcome,
    batch_times_ms: Vec<(u64, u64)>,
    /// Unix ms of the serverCron tick the stream started on.
    first_tick_ms: u64,
    /// How far each tick's due time slipped past 1000/hz ms after the previous one, on
    /// average over the run (ns): from a tick found again after the run.
    cron_tick_delay_ns: u64,
}

/// The mean slip of a serverCron tick (ns) between two ticks seen at `first_ms` and
/// `last_ms` (unix ms; a 100 ms period at hz 10): the span holds floor(span / 100) ticks and
/// the remainder is what they slipped (assumed under one period in all: about 40 ms a run).
fn mean_tick_delay_ns(first_ms: u64, last_ms: u64) -> u64 {
    let span_ms = last_ms - first_ms;
    let ticks = (span_ms / 100).max(1);
    (span_ms % 100) * 1_000_000 / ticks
}

fn replay_real(server: &RedisServer, policy: MaxmemoryPolicy, reqs: &[Req]) -> RealRun {
    let mut con = server.connect();
    // Every command the run sends once first (a command's first use allocates its latency
    // histogram, 24.6 KB no key owns: see `RedisServer::warm_commands`), then warm the
    // connection's buffers with batches shaped like the stream's (SETs, GETs that hit), remove
    // the keys and read the settled base without the client's buffers.
    server.warm_commands(&mut con);
    let mut warm = redis_client::pipe();
    for i in 0..BATCH {
        warm.cmd("SET")
            .arg(format!("warm:{i}"))
            .arg(value_bytes(600))
            .ignore();
    }
    for i in 0..BATCH {
        warm.cmd("GET").arg(format!("warm:{i}")).ignore();
    }
    warm.cmd("FLUSHALL").arg("SYNC").ignore();
    let _: () = warm.query(&mut con).expect("warm-up batch");
    let base_bytes = server.settled_key_memory(&mut con);
    let _: () = redis_client::cmd("CONFIG")
        .arg("SET")
        .arg("maxmemory-policy")
        .arg(policy.as_str())
        .arg("maxmemory")
        .arg(base_bytes + BUDGET_BYTES)
        .query(&mut con)
        .expect("CONFIG SET");
    // Start on a tick, so the model's ticks can start in phase with the server's.
    let first_tick_ms = server.wait_for_cron_tick(&mut con);
    let mut outcome = Outcome::default();
    let mut batch_times_ms = Vec::new();
    let started = Instant::now();
    for (b, batch) in reqs.chunks(BATCH).enumerate() {
        let due = started + BATCH_PERIOD * b as u32;
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        let mut gets = redis_client::pipe();
        for r in batch {
            gets.cmd("GET").arg(r.id.to_string());
        }
        let get_ms = unix_ms();
        let replies: Vec<Value> = gets.query(&mut con).expect("GET batch");
        let mut sets = redis_client::pipe();
        sets.ignore_errors();
        let mut misses = 0;
        for (r, reply) in batch.iter().zip(&replies) {
            if *reply == Value::Nil {
                let cmd = sets
                    .cmd("SET")
                    .arg(r.id.to_string())
                    .arg(value_bytes(r.value_size));
                if r.ttl_ms > 0 {
                    cmd.arg("PX").arg(r.ttl_ms);
                }
                misses += 1;
            } else {
                outcome.hits += 1;
            }
        }
        let set_ms = unix_ms();
        if misses > 0 {
            let set_replies: Vec<Value> = sets.query(&mut con).expect("SET batch");
            outcome.oom_errors += set_replies
                .iter()
                .filter(|v| matches!(v, Value::ServerError(_)))
                .count() as u64;
        }
        batch_times_ms.push((get_ms, set_ms));
    }
    let (used_memory_end, client_buffer_bytes) = server.memory_and_client_buffers(&mut con);
    outcome.used_memory_end = used_memory_end;
    outcome.keys_end = redis_client::cmd("DBSIZE").query(&mut con).expect("DBSIZE");
    outcome.evicted_keys = server.info_u64(&mut con, "stats", "evicted_keys");
    outcome.expired_keys = server.info_u64(&mut con, "stats", "expired_keys");
    let last_tick_ms = server.wait_for_cron_tick(&mut con);
    RealRun {
        base_bytes,
        client_buffer_bytes,
        outcome,
        batch_times_ms,
        first_tick_ms,
        cron_tick_delay_ns: mean_tick_delay_ns(first_tick_ms, last_tick_ms),
    }
}

/// The model on the real run's commands and times, its ticks on the server's schedule, its
/// sampling and LFU streams seeded with `seed`.
fn replay_model(policy: MaxmemoryPolicy, reqs: &[Req], real: &RealRun, seed: u64) -> Outcome {
    let epoch_ms = real.batch_times_ms[0].0;
    let period_ms = 1_000 / RedisConfig::default().hz as u64;
    // The base the keys share maxmemory with: the idle server plus the client's working
    // buffers, both measured (neither fitted to the key count).
    let cfg = RedisConfig {
        maxmemory_bytes: real.base_bytes + BUDGET_BYTES,
        maxmemory_policy: policy,
        base_used_memory_bytes: real.base_bytes + real.client_buffer_bytes,
        epoch_unix_ms: epoch_ms,
        // The first tick at or after the epoch on the server's schedule.
        cron_phase_ms: (period_ms - (epoch_ms - real.first_tick_ms) % period_ms) % period_ms,
        cron_tick_delay_ns: real.cron_tick_delay_ns,
        ..RedisConfig::default()
    };
    let mut shard = Shard::new(cfg, &RngStream::named(seed, "live-fidelity/model"));
    let mut outcome = Outcome::default();
    let key = |id: u64| KeyRef {
        id,
        len: id.to_string().len() as u32,
    };
    let exec = |shard: &mut Shard, at_ms: u64, cmd: Command| {
        let now = SimTime::from_ms(at_ms - epoch_ms);
        shard.run_cron_until(now);
        shard.execute(now, cmd).reply
    };
    for (batch, &(get_ms, set_ms)) in reqs.chunks(BATCH).zip(&real.batch_times_ms) {
        let hits: Vec<bool> = batch
            .iter()
            .map(|r| exec(&mut shard, get_ms, Command::Get(key(r.id))) == Reply::Value)
            .collect();
        for (r, hit) in batch.iter().zip(hits) {
            if hit {
                outcome.hits += 1;
                continue;
            }
            let reply = exec(
                &mut shard,
                set_ms,
                Command::Set {
                    key: key(r.id),
                    value_size: r.value_size,
                    ttl_ms: r.ttl_ms,
                    nx: false,
                    stamp: 0,
                },
            );
            outcome.oom_errors += (reply == Reply::Oom) as u64;
        }
    }
    outcome.keys_end = shard.keys();
    outcome.used_memory_end = shard.used_memory();
    outcome.evicted_keys = shard.stats().evicted_keys;
    outcome.expired_keys = shard.stats().expired_keys;
    outcome
}

/// Real runs and model seeds of a policy: several of each for the random policies (see
/// `RANDOM_REAL_RUNS`), one otherwise.
fn runs_and_seeds(policy: MaxmemoryPolicy) -> (usize, u64) {
    match policy {
        MaxmemoryPolicy::AllkeysRandom | MaxmemoryPolicy::VolatileRandom => {
            (RANDOM_REAL_RUNS, RANDOM_MODEL_SEEDS)
        }
        _ => (1, 1),
    }
}

/// The means of several outcomes: hit ratio, keys, used_memory, evictions, OOM errors,
/// expirations.
fn means(outcomes: &[Outcome]) -> [f64; 6] {
    let mean =
        |f: &dyn Fn(&Outcome) -> f64| outcomes.iter().map(f).sum::<f64>() / outcomes.len() as f64;
    [
        mean(&|o| o.hit_ratio()),
        mean(&|o| o.keys_end as f64),
        mean(&|o| o.used_memory_end as f64),
        mean(&|o| o.evicted_keys as f64),
        mean(&|o| o.oom_errors as f64),
        mean(&|o| o.expired_keys as f64),
    ]
}

#[test]
fn all_eight_policies_match_a_live_redis() {
    let test = "all_eight_policies_match_a_live_redis";
    // One private server per real run, all replaying at once (each is paced, mostly idle).
    let jobs: Vec<MaxmemoryPolicy> = MaxmemoryPolicy::ALL
        .into_iter()
        .flat_map(|p| std::iter::repeat_n(p, runs_and_seeds(p).0))
        .collect();
    let mut servers = Vec::new();
    for _ in &jobs {
        match RedisServer::start(test, &[]) {
            Some(s) => servers.push(s),
            None => return,
        }
    }
    let reqs = stream();
    let runs: Vec<(MaxmemoryPolicy, RealRun)> = std::thread::scope(|scope| {
        let handles: Vec<_> = jobs
            .iter()
            .zip(&servers)
            .map(|(&policy, server)| {
                let reqs = &reqs;
                scope.spawn(move || (policy, replay_real(server, policy, reqs)))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("replay thread"))
            .collect()
    });
    drop(servers);
    let mut failures = Vec::new();
    println!(
        "{:<16} {:>3} {:>8} {:>8} {:>7} {:>7} {:>7} {:>7} {:>9} {:>9} {:>7} {:>7} {:>7} {:>7} \
         {:>7} {:>7} {:>7}",
        "policy",
        "n",
        "real_hr",
        "model_hr",
        "diff_pt",
        "real_k",
        "model_k",
        "diff_%",
        "real_mem",
        "model_mem",
        "diff_%",
        "r_evict",
        "m_evict",
        "r_oom",
        "m_oom",
        "r_exp",
        "m_exp"
    );
    for policy in MaxmemoryPolicy::ALL {
        let (_, seeds) = runs_and_seeds(policy);
        let reals: Vec<&RealRun> = runs
            .iter()
            .filter(|(p, _)| *p == policy)
            .map(|(_, r)| r)
            .collect();
        // A seed of its own for every model run (1, 2, ...).
        let models: Vec<Outcome> = reals
            .iter()
            .enumerate()
            .flat_map(|(i, real)| {
                let reqs = &reqs;
                (1..=seeds).map(move |s| replay_model(policy, reqs, real, i as u64 * seeds + s))
            })
            .collect();
        let real_outcomes: Vec<Outcome> = reals.iter().map(|r| r.outcome.clone()).collect();
        let r = means(&real_outcomes);
        let m = means(&models);
        if reals.len() > 1 {
            let each = |os: &[Outcome]| {
                os.iter()
                    .map(|o| format!("{:.4}", o.hit_ratio()))
                    .collect::<Vec<_>>()
                    .join(" ")
            };
            println!(
                "{}: real runs' hit ratios {}",
                policy.as_str(),
                each(&real_outcomes)
            );
            println!(
                "{}: model runs' hit ratios {}",
                policy.as_str(),
                each(&models)
            );
        }
        let diff_points = (m[0] - r[0]) * 100.0;
        let keys_rel = m[1] / r[1].max(1.0) - 1.0;
        let mem_rel = m[2] / r[2] - 1.0;
        println!(
            "{:<16} {:>3} {:>8.4} {:>8.4} {:>+7.2} {:>7.0} {:>7.0} {:>+7.2} {:>9.0} {:>9.0} \
             {:>+7.2} {:>7.0} {:>7.0} {:>7.0} {:>7.0} {:>7.0} {:>7.0}",
            policy.as_str(),
            reals.len(),
            r[0],
            m[0],
            diff_points,
            r[1],
            m[1],
            keys_rel * 100.0,
            r[2],
            m[2],
            mem_rel * 100.0,
            r[3],
            m[3],
            r[4],
            m[4],
            r[5],
            m[5],
        );
        if diff_points.abs() > HIT_RATIO_TOLERANCE_POINTS {
            failures.push(format!(
                "{}: hit ratio {:.4} vs real {:.4} ({diff_points:+.2} points)",
                policy.as_str(),
                m[0],
                r[0]
            ));
        }
        if keys_rel.abs() > KEYS_END_TOLERANCE {
            failures.push(format!(
                "{}: {:.0} keys at the end vs real {:.0} ({:+.2} %)",
                policy.as_str(),
                m[1],
                r[1],
                keys_rel * 100.0
            ));
        }
        if mem_rel.abs() > USED_MEMORY_END_TOLERANCE {
            failures.push(format!(
                "{}: used_memory {:.0} at the end vs real {:.0} ({:+.2} %)",
                policy.as_str(),
                m[2],
                r[2],
                mem_rel * 100.0
            ));
        }
    }
    assert_no_failures("live differential replay", &failures);
}

/// A kind of object the default scenario writes, as real commands and as the model's command.
#[derive(Clone, Copy, Debug)]
enum Object {
    /// `SET key <n bytes> PX ttl`.
    String(u32),
    /// `INCR key` + `PEXPIRE key ttl` (fixed-window rate limit).
    Counter,
    /// `HSET key tokens 17 ts <ms>` + `PEXPIRE` (token bucket).
    TokenBucket,
    /// `ZADD key <ms> <16-byte member>` x n + `PEXPIRE` (sliding window).
    SlidingWindow(u64),
}

const OBJECT_TTL_MS: u64 = 3_600_000;
const OBJECT_KEYS: u64 = 2_000;

fn write_real(pipe: &mut redis_client::Pipeline, name: &str, object: Object) {
    match object {
        Object::String(n) => {
            pipe.cmd("SET").arg(name).arg(value_bytes(n)).ignore();
        }
        Object::Counter => {
            pipe.cmd("INCR").arg(name).ignore();
        }
        Object::TokenBucket => {
            pipe.cmd("HSET")
                .arg(name)
                .arg("tokens")
                .arg(17)
                .arg("ts")
                .arg(1_767_225_600_123u64)
                .ignore();
        }
        Object::SlidingWindow(members) => {
            for m in 0..members {
                pipe.cmd("ZADD")
                    .arg(name)
                    .arg(1_767_225_600_000u64 + m)
                    .arg(format!("req-{m:012}"))
                    .ignore();
            }
        }
    }
    pipe.cmd("PEXPIRE").arg(name).arg(OBJECT_TTL_MS).ignore();
}

fn write_model(shard: &mut Shard, key: KeyRef, object: Object) {
    let cmd = match object {
        Object::String(n) => Command::Set {
            key,
            value_size: n,
            ttl_ms: OBJECT_TTL_MS,
            nx: false,
            stamp: 0,
        },
        Object::Counter => Command::IncrExpire {
            key,
            ttl_ms: OBJECT_TTL_MS,
        },
        Object::TokenBucket => Command::WriteObject {
            key,
            object_bytes: objects::token_bucket_bytes() as u32,
            object_type: ObjectType::Hash,
            ttl_ms: OBJECT_TTL_MS,
        },
        Object::SlidingWindow(members) => Command::WriteObject {
            key,
            object_bytes: objects::zset_bytes(members, 16) as u32,
            object_type: ObjectType::Zset,
            ttl_ms: OBJECT_TTL_MS,
        },
    };
    assert_ne!(shard.execute(SimTime::ZERO, cmd).reply, Reply::Oom);
}

#[test]
fn memory_per_key_of_the_default_scenarios_objects_matches_a_live_redis() {
    let test = "memory_per_key_of_the_default_scenarios_objects_matches_a_live_redis";
    // The default scenario's string sizes (cpq.toml: 16, 36, 200, 400, 600 B fixed; lognormal
    // medians 1500-3000 B), its counters, token buckets and sliding windows (up to 100 members).
    let objects = [
        Object::String(16),
        Object::String(36),
        Object::String(200),
        Object::String(400),
        Object::String(600),
        Object::String(1_500),
        Object::String(3_000),
        Object::Counter,
        Object::TokenBucket,
        Object::SlidingWindow(1),
        Object::SlidingWindow(10),
        Object::SlidingWindow(100),
    ];
    // noeviction shares the integers 0..9999 (a counter's value costs nothing); allkeys-lru
    // (the default scenario's main clusters) does not once a maxmemory is set.
    let mut failures = Vec::new();
    println!(
        "{:<16} {:<20} {:>9} {:>9} {:>7}",
        "policy", "object", "real", "model", "diff_%"
    );
    for policy in [MaxmemoryPolicy::Noeviction, MaxmemoryPolicy::AllkeysLru] {
        let Some(server) = RedisServer::start(
            test,
            &["--maxmemory-policy", policy.as_str(), "--maxmemory", "1gb"],
        ) else {
            return;
        };
        let mut con = server.connect();
        // Each command's first use allocates its latency histogram (24.6 KB that belongs to
        // no key): every command is used once before anything is measured.
        server.warm_commands(&mut con);
        for object in objects {
            let _: () = redis_client::cmd("FLUSHALL")
                .arg("SYNC")
                .query(&mut con)
                .expect("FLUSHALL");
            // The connection's buffers are left out (they follow the pipeline, not the keys),
            // and both readings wait until used_memory has settled (see `settled_key_memory`).
            let empty = server.settled_key_memory(&mut con);
            let cfg = RedisConfig {
                maxmemory_policy: policy,
                maxmemory_bytes: 1 << 30,
                ..RedisConfig::default()
            };
            let mut shard = Shard::new(cfg, &RngStream::new(7, 0));
            let model_empty = shard.used_memory();
            for chunk in (0..OBJECT_KEYS).collect::<Vec<_>>().chunks(100) {
                let mut pipe = redis_client::pipe();
                for &i in chunk {
                    // A CPQ-like key: rate:t01:actor:<id>:route:quote (28-31 bytes).
                    let name = format!("rate:t01:actor:{i}:route:quote");
                    write_real(&mut pipe, &name, object);
                    let key = KeyRef {
                        id: i,
                        len: name.len() as u32,
                    };
                    write_model(&mut shard, key, object);
                }
                let _: () = pipe.query(&mut con).expect("fill");
            }
            let used = server.settled_key_memory(&mut con);
            let real = (used - empty) as f64 / OBJECT_KEYS as f64;
            let model = (shard.used_memory() - model_empty) as f64 / OBJECT_KEYS as f64;
            let rel = model / real - 1.0;
            let label = format!("{object:?}");
            println!(
                "{:<16} {label:<20} {real:>9.1} {model:>9.1} {:>+7.2}",
                policy.as_str(),
                rel * 100.0
            );
            if rel.abs() > MEMORY_PER_KEY_TOLERANCE {
                failures.push(format!(
                    "{} {label}: model {model:.1} B/key vs real {real:.1} ({:+.2} %)",
                    policy.as_str(),
                    rel * 100.0
                ));
            }
        }
    }
    assert_no_failures("memory per key", &failures);
}
