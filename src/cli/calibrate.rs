//! `cacheplan calibrate`: the IO edge of `calibrate/`. Against a scratch redis-server the user
//! started (it writes keys, and refuses a server that holds any unless `--allow-nonempty`): for
//! each key shape the scenario uses, writes `--keys` keys into a database of its own (so each
//! shape's dict tables start empty), reads the used_memory growth (clients' buffers excluded),
//! deletes them; reads the empty server's used_memory and the main thread's CPU time per
//! request over unpipelined reads (INFO cpu) at low load, and each command class's own
//! execution time (INFO commandstats over requests written as the application writes them);
//! writes the
//! calibration file (`calibrate::to_toml`) and prints the differences from the model.

use super::profile::{connect, connection_info, redacted, tls_ca_file};
use super::CliError;
use crate::calibrate::{self, Calibration, MeasuredShape, Shape};
use redis_client::{cmd, Connection};
use std::path::PathBuf;
use std::time::Duration;

/// Commands per pipeline while filling (bounds the server's client query buffer).
const FILL_BATCH: u64 = 100;
/// Unpipelined reads per shape for the service time.
const SERVICE_TIME_READS: u64 = 1000;
/// Databases 1..=15 hold one shape each (16 is Redis's default number of databases).
const MAX_SHAPES: usize = 15;

/// Arguments of `calibrate`.
#[derive(clap::Args, Debug)]
pub struct CalibrateArgs {
    /// The scratch server: redis://[user[:pass]@]host:port or rediss://.
    #[arg(long)]
    pub redis: String,
    /// Environment variable holding the password (default: REDISCLI_AUTH when set).
    #[arg(long)]
    pub password_env: Option<String>,
    /// With rediss://: the CA certificate (PEM) of a self-signed or internal CA (default:
    /// $CACHEPLAN_TLS_CA when set, else the system's roots).
    #[arg(long, value_name = "FILE")]
    pub tls_ca: Option<PathBuf>,
    /// The scenario whose key shapes to measure.
    #[arg(long)]
    pub scenario: PathBuf,
    /// Write even if the server already holds keys (ours are written and deleted under the
    /// prefix `cpcal:`, then deleted).
    #[arg(long)]
    pub allow_nonempty: bool,
    /// Keys written per shape.
    #[arg(long, default_value_t = 2000)]
    pub keys: u64,
    /// The calibration file to write.
    #[arg(long)]
    pub out: PathBuf,
}

fn rerr(what: &str, e: redis_client::RedisError) -> CliError {
    super::profile::redis_error("calibrate", what, e)
}

fn select(con: &mut Connection, db: usize) -> Result<(), CliError> {
    cmd("SELECT")
        .arg(db)
        .query::<()>(con)
        .map_err(|e| rerr("SELECT", e))
}

/// An INFO section's numeric field.
fn info_f64(con: &mut Connection, section: &str, field: &str) -> Result<f64, CliError> {
    info_field(con, section, field)?
        .parse()
        .map_err(|_| CliError::input(format!("calibrate: INFO {section} has no {field}")))
}

/// used_memory without the clients' buffers (a pipeline's query buffer stays allocated for a
/// while and is no key's memory), both read from one INFO reply.
fn keys_memory(con: &mut Connection) -> Result<f64, CliError> {
    let text: String = cmd("INFO")
        .arg("memory")
        .query(con)
        .map_err(|e| rerr("INFO memory", e))?;
    let field = |name: &str| -> Result<f64, CliError> {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{name}:")))
            .and_then(|v| v.trim().parse().ok())
            .ok_or_else(|| CliError::input(format!("calibrate: INFO memory has no {name}")))
    };
    Ok(field("used_memory")? - field("mem_clients_normal")?)
}

/// `keys_memory` once it stops moving: serverCron finishes an incremental rehash (the old
/// bucket array is freed) and frees idle query buffers within a tick or two, so the reading is
/// taken when two readings 150 ms apart agree (or after 3 s, the last one).
fn settled_keys_memory(con: &mut Connection) -> Result<f64, CliError> {
    let started = std::time::Instant::now();
    let mut last = keys_memory(con)?;
    while started.elapsed() < Duration::from_secs(3) {
        std::thread::sleep(Duration::from_millis(150));
        let now = keys_memory(con)?;
        if now == last {
            break;
        }
        last = now;
    }
    Ok(last)
}

/// Main-thread CPU seconds so far (INFO cpu, user + system).
fn main_thread_cpu_s(con: &mut Connection) -> Result<f64, CliError> {
    Ok(info_f64(con, "cpu", "used_cpu_user_main_thread")?
        + info_f64(con, "cpu", "used_cpu_sys_main_thread")?)
}

fn info_field(con: &mut Connection, section: &str, field: &str) -> Result<String, CliError> {
    let text: String = cmd("INFO")
        .arg(section)
        .query(con)
        .map_err(|e| rerr("INFO", e))?;
    Ok(text
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .unwrap_or("")
        .trim()
        .to_string())
}

/// Bytes of the shortest key written (`cpcal:SS:NNNNNNN:`).
const MIN_KEY_LEN: u64 = 17;

/// A key of exactly `len` bytes (at least `MIN_KEY_LEN`).
fn key_of(shape_idx: usize, i: u64, len: u64) -> String {
    let base = format!("cpcal:{shape_idx:02}:{i:07}:");
    let pad = (len as usize).saturating_sub(base.len());
    format!("{base}{}", "k".repeat(pad))
}

pub fn execute(a: CalibrateArgs) -> Result<(), CliError> {
    if a.keys == 0 || a.keys > 1_000_000 {
        return Err(CliError::input(format!(
            "--keys {}: must be 1 to 1000000",
            a.keys
        )));
    }
    let scn = crate::scenario::load(&a.scenario).map_err(|e| CliError::input(e.to_string()))?;
    let mut shapes = calibrate::shapes_of(&scn);
    // One measurement per distinct shape, key length and TTL; the weights add up.
    let mut distinct: Vec<calibrate::KeyspaceShape> = Vec::new();
    for mut s in shapes.drain(..) {
        s.key_len_bytes = s.key_len_bytes.max(MIN_KEY_LEN);
        match distinct.iter_mut().find(|d| {
            d.shape == s.shape && d.key_len_bytes == s.key_len_bytes && d.has_ttl == s.has_ttl
        }) {
            Some(d) => d.weight += s.weight,
            None => distinct.push(s),
        }
    }
    if distinct.len() > MAX_SHAPES {
        return Err(CliError::input(format!(
            "calibrate: the scenario uses {} key shapes; at most {MAX_SHAPES} are measured (one database each)",
            distinct.len()
        )));
    }
    let info = connection_info(&a.redis, a.password_env.as_deref())?;
    let tls_ca = tls_ca_file(a.tls_ca.as_deref());
    let mut con = connect(
        "calibrate",
        info,
        tls_ca.as_deref(),
        Duration::from_secs(10),
    )?;
    let keyspace = info_field(&mut con, "keyspace", "db0")?;
    let mut total_keys = 0u64;
    for db in 0..16 {
        let n: u64 = cmd("SELECT")
            .arg(db)
            .query::<()>(&mut con)
            .and_then(|_| cmd("DBSIZE").query(&mut con))
            .map_err(|e| rerr("DBSIZE", e))?;
        total_keys += n;
    }
    if total_keys > 0 && !a.allow_nonempty {
        return Err(CliError::input(format!(
            "calibrate: {} holds {total_keys} keys ({keyspace}); calibrate writes keys, so point it at a scratch server\n  hint: start one with `redis-server --port 6390 --save ''`, or pass --allow-nonempty",
            redacted(&a.redis)
        )));
    }
    let policy: Vec<String> = cmd("CONFIG")
        .arg("GET")
        .arg("maxmemory-policy")
        .query(&mut con)
        .map_err(|e| rerr("CONFIG GET", e))?;
    let maxmemory: Vec<String> = cmd("CONFIG")
        .arg("GET")
        .arg("maxmemory")
        .query(&mut con)
        .map_err(|e| rerr("CONFIG GET", e))?;
    let lru_lfu = policy
        .get(1)
        .is_some_and(|p| p.contains("lru") || p.contains("lfu"));
    let shared_integers = maxmemory.get(1).is_none_or(|m| m == "0") || !lru_lfu;
    let base = info_f64(&mut con, "memory", "used_memory")? as u64;
    // Every command once first: Redis 7.0 allocates a command's latency histogram (24.6 KB,
    // `latency-tracking`) on its first use, which would land in the first shape that uses it
    // (12.3 B per key over 2000 keys). Then a warm-up fill in the last database.
    warm_commands(&mut con)?;
    let warm_up = distinct.first().filter(|_| distinct.len() < MAX_SHAPES);
    if let Some(first) = warm_up {
        select(&mut con, MAX_SHAPES)?;
        fill(&mut con, first, MAX_SHAPES, a.keys)?;
    }
    let mut measured = Vec::new();
    let mut service_samples = Vec::new();
    for (idx, s) in distinct.iter().enumerate() {
        select(&mut con, idx + 1)?;
        let before = settled_keys_memory(&mut con)?;
        fill(&mut con, s, idx, a.keys)?;
        let after = settled_keys_memory(&mut con)?;
        let model = calibrate::model_fill_bytes(s, a.keys, shared_integers);
        measured.push(MeasuredShape {
            keyspace: s.keyspace.clone(),
            kind: s.shape.kind().to_string(),
            value_bytes: match s.shape {
                Shape::String { value_bytes } => Some(value_bytes),
                _ => None,
            },
            key_len_bytes: s.key_len_bytes,
            ttl: s.has_ttl,
            measured_bytes_per_key: (after - before) / a.keys as f64,
            model_bytes_per_key: model as f64 / a.keys as f64,
            weight: s.weight,
        });
        // Low-load service time: the keys read back one request at a time (no pipelining),
        // the server's main-thread CPU over the requests.
        let n_reads = a.keys.min(SERVICE_TIME_READS);
        let cpu_before = main_thread_cpu_s(&mut con)?;
        for j in 0..n_reads {
            let key = key_of(idx, j, s.key_len_bytes);
            cmd("TYPE")
                .arg(&key)
                .query::<String>(&mut con)
                .map_err(|e| rerr("reading keys", e))?;
        }
        // The INFO call itself is one more request.
        let cpu_s = main_thread_cpu_s(&mut con)? - cpu_before;
        service_samples.push(cpu_s * 1e6 / (n_reads + 1) as f64);
    }
    // Deleted only now: a database emptied earlier would shrink its tables in serverCron
    // while a later shape is measured.
    let ours = distinct
        .iter()
        .enumerate()
        .map(|(idx, s)| (idx + 1, idx, s));
    for (db, idx, s) in ours.chain(warm_up.map(|s| (MAX_SHAPES, MAX_SHAPES, s))) {
        select(&mut con, db)?;
        delete(&mut con, s, idx, a.keys)?;
    }
    service_samples.sort_by(f64::total_cmp);
    let service_time_us = service_samples
        .get(service_samples.len() / 2)
        .copied()
        .unwrap_or(0.0);
    // Per command class, execution times of requests written as the application writes
    // them (`calibrate::service` turns them into the model's per-command factors).
    let mut service_time_us_per_command = per_command_service_times(&mut con)?;
    service_time_us_per_command.extend(probe_command_classes(&mut con)?);
    let c = Calibration {
        redis_version: info_field(&mut con, "server", "redis_version")?,
        base_used_memory_bytes: base,
        builtin_base_used_memory_bytes: crate::redis::memory::EMPTY_SERVER_USED_MEMORY_BYTES,
        service_time_us,
        builtin_service_time_us_median: calibrate::BUILTIN_SERVICE_TIME_US_MEDIAN,
        key_bytes_adjust: calibrate::key_bytes_adjust(&measured),
        service_time_us_per_command,
        shapes: measured,
    };
    let text = calibrate::to_toml(&c, &redacted(&a.redis), a.keys);
    crate::report::files::write_atomic(&a.out, text.as_bytes())
        .map_err(|e| CliError::other(format!("cannot write {}: {e}", a.out.display())))?;
    println!(
        "base used_memory {} B (model {} B, {:+}); service time {:.2} µs per call (model median {:.1} µs); key_bytes_adjust {:+} B",
        c.base_used_memory_bytes,
        c.builtin_base_used_memory_bytes,
        c.base_used_memory_bytes as i64 - c.builtin_base_used_memory_bytes as i64,
        c.service_time_us,
        c.builtin_service_time_us_median,
        c.key_bytes_adjust
    );
    for m in &c.shapes {
        println!(
            "{:<24} {:<15} value {:>6} B  measured {:>9.2} B/key  model {:>9.2} B/key  {:+.2}%",
            m.keyspace,
            m.kind,
            m.value_bytes.map_or("-".into(), |v| v.to_string()),
            m.measured_bytes_per_key,
            m.model_bytes_per_key,
            (m.measured_bytes_per_key / m.model_bytes_per_key - 1.0) * 100.0
        );
    }
    for (command, us) in &c.service_time_us_per_command {
        println!("{command:<16} {us:>8.3} µs per call (INFO commandstats, execution only)");
    }
    let scale =
        calibrate::service::service_scale(&c.service_time_us_per_command, c.service_time_us);
    let builtin_us = calibrate::service::builtin_mean_us();
    for class in crate::redis::service_scale::CommandClass::ALL {
        let i = class as usize;
        if scale.calibrated[i] {
            let us = c.service_time_us * scale.factor[i];
            let builtin_class_us = builtin_us * class.builtin_factor();
            println!(
                "{:<26} {us:>8.2} µs per request in the model (built-in mean {builtin_class_us:.2} µs, {:+.0}%)",
                class.label(),
                (us / builtin_class_us - 1.0) * 100.0
            );
        }
    }
    println!("wrote {}", a.out.display());
    Ok(())
}

/// The commands whose service time the calibration reports from its whole run (those the
/// fill sends; `probe_command_classes` measures the application's requests apart).
const TIMED_COMMANDS: [&str; 2] = ["hset", "zadd"];

/// Requests per command class in `probe_command_classes`.
const PROBE_CALLS: u64 = 500;

/// The token-bucket script as an application runs it (HMGET, HSET, PEXPIRE).
const TOKEN_BUCKET_SCRIPT: &str = "local b = redis.call('HMGET', KEYS[1], 'tokens', 'ts') \
     local tokens = tonumber(b[1]) or tonumber(ARGV[2]) \
     redis.call('HSET', KEYS[1], 'tokens', tokens - 1, 'ts', ARGV[1]) \
     redis.call('PEXPIRE', KEYS[1], ARGV[3]) return tokens";

/// INFO commandstats: calls and total µs per command.
fn commandstats(
    con: &mut Connection,
) -> Result<std::collections::BTreeMap<String, (u64, u64)>, CliError> {
    let text: String = cmd("INFO")
        .arg("commandstats")
        .query(con)
        .map_err(|e| rerr("INFO commandstats", e))?;
    let mut out = std::collections::BTreeMap::new();
    for line in text.lines() {
        let Some((name, fields)) = line
            .strip_prefix("cmdstat_")
            .and_then(|l| l.split_once(':'))
        else {
            continue;
        };
        let field = |key: &str| {
            fields
                .split(',')
                .find_map(|f| f.strip_prefix(key))
                .and_then(|v| v.trim().parse::<u64>().ok())
        };
        if let (Some(calls), Some(usec)) = (field("calls="), field("usec=")) {
            out.insert(name.to_string(), (calls, usec));
        }
    }
    Ok(out)
}

/// INFO commandstats' mean µs per call of the fill's commands over the whole calibration
/// (main-thread time inside each command, so the machine's per-type cost).
fn per_command_service_times(
    con: &mut Connection,
) -> Result<std::collections::BTreeMap<String, f64>, CliError> {
    Ok(commandstats(con)?
        .into_iter()
        .filter(|(name, (calls, _))| TIMED_COMMANDS.contains(&name.as_str()) && *calls > 0)
        .map(|(name, (calls, usec))| (name, usec as f64 / calls as f64))
        .collect())
}

/// Sends `PROBE_CALLS` requests of every class the model distinguishes, written as the
/// application writes them (SET PX of a 100-byte value, GET hits, PEXPIRE, INCR, the
/// token-bucket EVALSHA, the sliding-window MULTI/ZREMRANGEBYSCORE/ZADD/ZCARD/PEXPIRE/EXEC,
/// single-key DEL, and TYPE, the reference), on keys of its own it deletes, and returns each
/// command's µs per call over these requests (INFO commandstats before and after).
fn probe_command_classes(
    con: &mut Connection,
) -> Result<std::collections::BTreeMap<String, f64>, CliError> {
    select(con, MAX_SHAPES)?;
    let sha: String = cmd("SCRIPT")
        .arg("LOAD")
        .arg(TOKEN_BUCKET_SCRIPT)
        .query(con)
        .map_err(|e| rerr("SCRIPT LOAD", e))?;
    let before = commandstats(con)?;
    let value = "v".repeat(100);
    let now_ms = 1_767_225_600_000u64;
    let key = |kind: &str, j: u64| format!("cpcal:probe:{kind}:{j:07}");
    let run = |con: &mut Connection, p: &redis_client::Pipeline| {
        p.query::<()>(con).map_err(|e| rerr("probing commands", e))
    };
    for j in 0..PROBE_CALLS {
        let mut p = redis_client::pipe();
        p.cmd("SET")
            .arg(key("s", j))
            .arg(&value)
            .arg("PX")
            .arg(60_000)
            .ignore();
        p.cmd("GET").arg(key("s", j)).ignore();
        p.cmd("PEXPIRE").arg(key("s", j)).arg(60_000).ignore();
        p.cmd("TYPE").arg(key("s", j)).ignore();
        p.cmd("INCR").arg(key("c", j)).ignore();
        p.cmd("EVALSHA")
            .arg(&sha)
            .arg(1)
            .arg(key("h", j))
            .arg(now_ms + j)
            .arg(100)
            .arg(60_000)
            .ignore();
        run(con, &p)?;
        let mut t = redis_client::pipe();
        t.atomic();
        let z = key("z", j);
        t.cmd("ZREMRANGEBYSCORE")
            .arg(&z)
            .arg(0)
            .arg(now_ms + j - 10_000)
            .ignore();
        t.cmd("ZADD")
            .arg(&z)
            .arg(now_ms + j)
            .arg(format!("req-{j:012}"))
            .ignore();
        t.cmd("ZCARD").arg(&z).ignore();
        t.cmd("PEXPIRE").arg(&z).arg(60_000).ignore();
        run(con, &t)?;
    }
    for j in 0..PROBE_CALLS {
        let mut p = redis_client::pipe();
        for kind in ["s", "c", "h", "z"] {
            p.cmd("DEL").arg(key(kind, j)).ignore();
        }
        run(con, &p)?;
    }
    let after = commandstats(con)?;
    let mut out = std::collections::BTreeMap::new();
    for (name, (calls, usec)) in after {
        let (calls_0, usec_0) = before.get(&name).copied().unwrap_or((0, 0));
        let is_probed = crate::redis::service_scale::CommandClass::ALL
            .iter()
            .any(|c| c.redis_commands().contains(&name.as_str()))
            || name == calibrate::service::REFERENCE_COMMAND;
        if is_probed && calls > calls_0 {
            out.insert(
                name,
                usec.saturating_sub(usec_0) as f64 / (calls - calls_0) as f64,
            );
        }
    }
    Ok(out)
}

/// Sends every command the measurement uses once, on throwaway keys it deletes.
fn warm_commands(con: &mut Connection) -> Result<(), CliError> {
    let keys = [
        "cpcal:warm:s",
        "cpcal:warm:c",
        "cpcal:warm:h",
        "cpcal:warm:z",
    ];
    let mut p = redis_client::pipe();
    p.cmd("SET").arg(keys[0]).arg("v").ignore();
    p.cmd("INCR").arg(keys[1]).ignore();
    p.cmd("HSET").arg(keys[2]).arg("tokens").arg(1).ignore();
    p.cmd("ZADD").arg(keys[3]).arg(1).arg("m").ignore();
    p.cmd("PEXPIRE").arg(keys[0]).arg(60_000).ignore();
    p.cmd("TYPE").arg(keys[0]).ignore();
    p.cmd("DEL").arg(&keys[..]).ignore();
    p.cmd("INFO").arg("memory").ignore();
    p.query::<()>(con).map_err(|e| rerr("warming up", e))
}

/// Writes `n` keys of shape `s` into the selected database.
fn fill(
    con: &mut Connection,
    s: &calibrate::KeyspaceShape,
    idx: usize,
    n: u64,
) -> Result<(), CliError> {
    let mut i = 0;
    while i < n {
        let mut p = redis_client::pipe();
        for j in i..(i + FILL_BATCH).min(n) {
            let key = key_of(idx, j, s.key_len_bytes);
            match s.shape {
                Shape::String { value_bytes } => {
                    p.cmd("SET").arg(&key).arg("v".repeat(value_bytes as usize))
                }
                Shape::Counter => p.cmd("INCR").arg(&key),
                Shape::TokenBucket => p
                    .cmd("HSET")
                    .arg(&key)
                    .arg("tokens")
                    .arg(10)
                    .arg("ts")
                    .arg(j),
                Shape::SlidingWindow => {
                    // As the application writes a window: ms timestamps as scores, request ids
                    // as members (16 bytes, not numeric: a numeric member would be stored as
                    // an integer, smaller than the model's 16-byte string).
                    let c = p.cmd("ZADD").arg(&key);
                    for m in 0..calibrate::SLIDING_WINDOW_MEMBERS {
                        c.arg(1_767_225_600_000u64 + m).arg(format!("req-{m:012}"));
                    }
                    c
                }
            }
            .ignore();
            if s.has_ttl {
                p.cmd("PEXPIRE").arg(&key).arg(3_600_000).ignore();
            }
        }
        p.query::<()>(con).map_err(|e| rerr("writing keys", e))?;
        i += FILL_BATCH;
    }
    Ok(())
}

/// Deletes the `n` keys of shape `s` from the selected database.
fn delete(
    con: &mut Connection,
    s: &calibrate::KeyspaceShape,
    idx: usize,
    n: u64,
) -> Result<(), CliError> {
    for j in (0..n).step_by(FILL_BATCH as usize) {
        let keys: Vec<String> = (j..(j + FILL_BATCH).min(n))
            .map(|k| key_of(idx, k, s.key_len_bytes))
            .collect();
        cmd("DEL")
            .arg(&keys)
            .query::<()>(con)
            .map_err(|e| rerr("deleting our keys", e))?;
    }
    Ok(())
}
