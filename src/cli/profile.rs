//! `cacheplan profile`: the IO edge of `profile/` (the only code that talks to the profiled
//! server). It sends read-only commands only: INFO, CONFIG GET, DBSIZE, SCAN (bounded COUNT, a
//! pause between batches), and per sampled key TYPE, OBJECT ENCODING, MEMORY USAGE, PTTL,
//! STRLEN/HLEN/ZCARD/LLEN/SCARD, OBJECT FREQ or IDLETIME; then MONITOR for a bounded time (or a
//! saved capture read from a file). Its memory is bounded by `--sample` and the monitor tally's
//! key limit. A timeout or a dropped connection stops it with a message and exit code 2.

use super::CliError;
use crate::profile::{draft, infer, monitor};
use redis_client::{cmd, Connection, ConnectionInfo, IntoConnectionInfo, Value};
use std::io::BufRead;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Keys the monitor tally counts one by one (about 100 bytes each).
const MONITOR_MAX_KEYS: usize = 1_000_000;
/// Written TTLs kept per template.
const MONITOR_MAX_TTLS: usize = 100_000;
/// Largest `--sample`.
const MAX_SAMPLE: usize = 2_000_000;

/// Arguments of `profile`.
#[derive(clap::Args, Debug)]
pub struct ProfileArgs {
    /// The server: redis://[user[:pass]@]host:port[/db] or rediss:// for TLS. Prefer the
    /// password in an environment variable (--password-env, or REDISCLI_AUTH).
    #[arg(long)]
    pub redis: String,
    /// Environment variable holding the password (default: REDISCLI_AUTH when set).
    #[arg(long)]
    pub password_env: Option<String>,
    /// Keys to sample with SCAN.
    #[arg(long, default_value_t = 10_000)]
    pub sample: usize,
    /// SCAN COUNT per batch (bounded so a production server is not held up).
    #[arg(long, default_value_t = 100)]
    pub scan_count: u32,
    /// Pause between SCAN batches, ms.
    #[arg(long, default_value_t = 10)]
    pub scan_pause_ms: u64,
    /// MONITOR the server for this long (e.g. 30s; MONITOR costs the server throughput).
    #[arg(long, conflicts_with = "monitor_file")]
    pub monitor: Option<String>,
    /// A saved MONITOR capture (`redis-cli monitor > capture.txt`) instead of --monitor.
    #[arg(long)]
    pub monitor_file: Option<PathBuf>,
    /// Connect and reply timeout (a slower reply stops the profile with exit 2).
    #[arg(long, default_value = "5s")]
    pub timeout: String,
    /// The output folder (scenario.toml, profile.md); must be absent or empty.
    #[arg(long)]
    pub out: PathBuf,
}

/// A redis error as the user's problem (exit 2): timeouts and dropped connections included.
/// `command` names the subcommand (`profile`, `calibrate`) in the message.
pub(super) fn redis_error(command: &str, what: &str, e: redis_client::RedisError) -> CliError {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connection_dropped() || e.is_io_error() {
        "lost the connection"
    } else {
        "failed"
    };
    CliError::input(format!("{command}: {what} {kind}: {e}"))
}

fn redis_err(what: &str, e: redis_client::RedisError) -> CliError {
    redis_error("profile", what, e)
}

fn duration(flag: &str, text: &str) -> Result<Duration, CliError> {
    let ms = crate::scenario::units::parse_duration_ms(text)
        .map_err(|e| CliError::input(format!("--{flag} {text}: {e}")))?;
    if ms <= 0.0 {
        return Err(CliError::input(format!("--{flag} {text}: must be above 0")));
    }
    Ok(Duration::from_secs_f64(ms / 1000.0))
}

/// The connection parameters: the URL, the password from the environment when the URL has none.
pub fn connection_info(url: &str, password_env: Option<&str>) -> Result<ConnectionInfo, CliError> {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        // ring: no C toolchain beyond cc (rustls marks it deprecated for lacking post-quantum
        // key exchange, which a Redis server does not offer anyway).
        #[allow(deprecated)]
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
    let info = url.into_connection_info().map_err(|e| {
        CliError::input(format!(
            "--redis: {e}\n  hint: redis://[user[:pass]@]host:port[/db] or rediss://..."
        ))
    })?;
    let var = password_env.unwrap_or("REDISCLI_AUTH");
    match std::env::var(var) {
        Ok(pass) if info.redis_settings().password().is_none() => {
            let settings = info.redis_settings().clone().set_password(pass);
            Ok(info.set_redis_settings(settings))
        }
        Err(_) if password_env.is_some() => Err(CliError::input(format!(
            "--password-env {var}: the environment variable is not set"
        ))),
        _ => Ok(info),
    }
}

/// Connects with the timeouts set on connect, reads and writes.
pub fn connect(info: ConnectionInfo, timeout: Duration) -> Result<Connection, CliError> {
    let client = redis_client::Client::open(info).map_err(|e| redis_err("connecting", e))?;
    let con = client
        .get_connection_with_timeout(timeout)
        .map_err(|e| redis_err("connecting", e))?;
    con.set_read_timeout(Some(timeout))
        .and_then(|_| con.set_write_timeout(Some(timeout)))
        .map_err(|e| redis_err("setting timeouts", e))?;
    Ok(con)
}

/// `url` without its password, for the report.
pub fn redacted(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let userinfo = &url[s + 3..at];
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{}{user}:***{}", &url[..s + 3], &url[at..])
        }
        _ => url.to_string(),
    }
}

pub fn execute(a: ProfileArgs) -> Result<(), CliError> {
    if a.sample == 0 || a.sample > MAX_SAMPLE {
        return Err(CliError::input(format!(
            "--sample {}: must be 1 to {MAX_SAMPLE}",
            a.sample
        )));
    }
    let timeout = duration("timeout", &a.timeout)?;
    let monitor_for = a
        .monitor
        .as_deref()
        .map(|m| duration("monitor", m))
        .transpose()?;
    crate::report::files::check_target(&a.out, false)
        .map_err(|e| CliError::input(e.to_string()))?;
    let info = connection_info(&a.redis, a.password_env.as_deref())?;
    let mut con = connect(info, timeout)?;
    let facts = server_facts(&mut con)?;
    let sample = sample_keys(&mut con, &facts, &a)?;
    let tally = match (monitor_for, &a.monitor_file) {
        (Some(d), _) => Some(monitor_live(&mut con, d)?),
        (None, Some(path)) => Some(monitor_file(path)?),
        (None, None) => None,
    };
    let source = redacted(&a.redis);
    let profile = infer::build(&facts, &sample, tally.as_ref());
    let scenario = draft::scenario_toml(&facts, &profile, &source);
    let report = draft::report_markdown(&facts, &profile, &source);
    let mut folder = crate::report::files::RunFolder::create(&a.out, false)
        .map_err(|e| CliError::input(e.to_string()))?;
    let out_err = |e: crate::report::files::OutError| CliError::other(e.to_string());
    folder
        .write("scenario.toml", scenario.as_bytes())
        .map_err(out_err)?;
    folder
        .write("profile.md", report.as_bytes())
        .map_err(out_err)?;
    folder.finish().map_err(out_err)?;
    println!("{report}");
    println!(
        "wrote {} (scenario.toml: check every `placeholder`, then `cacheplan validate`)",
        a.out.display()
    );
    Ok(())
}

/// INFO sections, CONFIG GET of the memory and eviction settings, DBSIZE.
fn server_facts(con: &mut Connection) -> Result<infer::ServerFacts, CliError> {
    let mut facts = infer::ServerFacts::default();
    for section in ["server", "memory", "stats", "keyspace", "commandstats"] {
        let text: String = cmd("INFO")
            .arg(section)
            .query(con)
            .map_err(|e| redis_err(&format!("INFO {section}"), e))?;
        for line in text.lines() {
            if let Some((k, v)) = line.split_once(':') {
                facts.info.insert(k.to_string(), v.trim().to_string());
            }
        }
    }
    for pattern in [
        "maxmemory*",
        "hz",
        "lfu-*",
        "active-expire-effort",
        "cluster-enabled",
    ] {
        let pairs: Vec<String> = cmd("CONFIG")
            .arg("GET")
            .arg(pattern)
            .query(con)
            .map_err(|e| redis_err(&format!("CONFIG GET {pattern}"), e))?;
        for kv in pairs.chunks(2) {
            if let [k, v] = kv {
                facts.config.insert(k.clone(), v.clone());
            }
        }
    }
    facts.dbsize = cmd("DBSIZE")
        .query(con)
        .map_err(|e| redis_err("DBSIZE", e))?;
    Ok(facts)
}

/// SCAN in paced batches up to `--sample` keys, then each key's description, pipelined per batch.
fn sample_keys(
    con: &mut Connection,
    facts: &infer::ServerFacts,
    a: &ProfileArgs,
) -> Result<Vec<infer::KeySample>, CliError> {
    let policy = facts
        .config
        .get("maxmemory-policy")
        .cloned()
        .unwrap_or_default();
    let lfu = policy.ends_with("lfu");
    let mut out = Vec::new();
    let mut cursor: u64 = 0;
    loop {
        let (next, keys): (u64, Vec<String>) = cmd("SCAN")
            .arg(cursor)
            .arg("COUNT")
            .arg(a.scan_count.max(1))
            .query(con)
            .map_err(|e| redis_err("SCAN", e))?;
        let keys: Vec<String> = keys.into_iter().take(a.sample - out.len()).collect();
        if !keys.is_empty() {
            out.extend(describe(con, &keys, lfu)?);
        }
        cursor = next;
        if cursor == 0 || out.len() >= a.sample {
            break;
        }
        std::thread::sleep(Duration::from_millis(a.scan_pause_ms));
    }
    Ok(out)
}

/// TYPE, OBJECT ENCODING, MEMORY USAGE, PTTL, OBJECT FREQ/IDLETIME, then the length by type.
fn describe(
    con: &mut Connection,
    keys: &[String],
    lfu: bool,
) -> Result<Vec<infer::KeySample>, CliError> {
    let mut p = redis_client::pipe();
    for k in keys {
        p.cmd("TYPE").arg(k);
        p.cmd("OBJECT").arg("ENCODING").arg(k);
        p.cmd("MEMORY").arg("USAGE").arg(k).arg("SAMPLES").arg(5);
        p.cmd("PTTL").arg(k);
        p.cmd("OBJECT")
            .arg(if lfu { "FREQ" } else { "IDLETIME" })
            .arg(k);
    }
    let replies: Vec<Value> = p
        .query(con)
        .map_err(|e| redis_err("describing sampled keys", e))?;
    let int = |v: &Value| -> Option<i64> {
        match v {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    };
    let text = |v: &Value| -> String {
        match v {
            Value::SimpleString(s) => s.clone(),
            Value::BulkString(b) => String::from_utf8_lossy(b).into_owned(),
            _ => String::new(),
        }
    };
    let mut samples: Vec<infer::KeySample> = keys
        .iter()
        .zip(replies.chunks(5))
        .map(|(k, r)| infer::KeySample {
            key: k.clone(),
            data_type: text(&r[0]),
            encoding: text(&r[1]),
            memory_bytes: int(&r[2]).map(|v| v.max(0) as u64),
            pttl_ms: int(&r[3]).filter(|&v| v >= 0).map(|v| v as u64),
            length: None,
            lfu_freq: if lfu {
                int(&r[4]).map(|v| v as u64)
            } else {
                None
            },
            idle_s: if lfu {
                None
            } else {
                int(&r[4]).map(|v| v as u64)
            },
        })
        .collect();
    let mut p = redis_client::pipe();
    let mut asked = Vec::new();
    for (i, s) in samples.iter().enumerate() {
        let command = match s.data_type.as_str() {
            "string" => "STRLEN",
            "hash" => "HLEN",
            "zset" => "ZCARD",
            "list" => "LLEN",
            "set" => "SCARD",
            _ => continue,
        };
        p.cmd(command).arg(&s.key);
        asked.push(i);
    }
    if !asked.is_empty() {
        let lengths: Vec<Value> = p
            .query(con)
            .map_err(|e| redis_err("reading sampled key lengths", e))?;
        for (i, v) in asked.into_iter().zip(lengths.iter()) {
            samples[i].length = int(v).map(|v| v.max(0) as u64);
        }
    }
    // Keys that vanished between SCAN and TYPE answer "none": not sampled.
    samples.retain(|s| s.data_type != "none" && !s.data_type.is_empty());
    Ok(samples)
}

/// MONITOR for `window`, tallying as lines arrive (nothing else is kept).
fn monitor_live(con: &mut Connection, window: Duration) -> Result<infer::MonitorTally, CliError> {
    let mut tally = infer::MonitorTally::new(MONITOR_MAX_KEYS, MONITOR_MAX_TTLS);
    let started = Instant::now();
    con.send_packed_command(&cmd("MONITOR").get_packed_command())
        .map_err(|e| redis_err("MONITOR", e))?;
    let first: Value = con.recv_response().map_err(|e| redis_err("MONITOR", e))?;
    if let Value::ServerError(e) = first {
        return Err(CliError::input(format!("profile: MONITOR refused: {e:?}")));
    }
    // Short reads so the window ends on time even when the server is quiet.
    let tick = Duration::from_millis(200);
    con.set_read_timeout(Some(tick))
        .map_err(|e| redis_err("MONITOR", e))?;
    while started.elapsed() < window {
        match con.recv_response() {
            Ok(Value::SimpleString(line)) => {
                if let Some(c) = monitor::parse_line(&line) {
                    tally.add(&c);
                }
            }
            Ok(_) => {}
            Err(e) if e.is_timeout() => {}
            Err(e) => return Err(redis_err("MONITOR", e)),
        }
    }
    Ok(tally)
}

/// A saved MONITOR capture, read line by line.
fn monitor_file(path: &PathBuf) -> Result<infer::MonitorTally, CliError> {
    let file = std::fs::File::open(path)
        .map_err(|e| CliError::input(format!("--monitor-file {}: {e}", path.display())))?;
    let mut tally = infer::MonitorTally::new(MONITOR_MAX_KEYS, MONITOR_MAX_TTLS);
    let mut parsed = 0u64;
    for (i, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line.map_err(|e| {
            CliError::input(format!(
                "--monitor-file {}: line {}: {e}",
                path.display(),
                i + 1
            ))
        })?;
        if let Some(c) = monitor::parse_line(&line) {
            tally.add(&c);
            parsed += 1;
        }
    }
    if parsed == 0 {
        return Err(CliError::input(format!(
            "--monitor-file {}: no MONITOR line in it\n  hint: capture with `redis-cli monitor > capture.txt`",
            path.display()
        )));
    }
    Ok(tally)
}

#[cfg(test)]
mod tests {
    #[test]
    fn passwords_are_not_printed() {
        assert_eq!(
            super::redacted("redis://u:secret@h:6379/0"),
            "redis://u:***@h:6379/0"
        );
        assert_eq!(super::redacted("redis://h:1"), "redis://h:1");
    }
}
