//! `cacheplan profile`: the IO edge of `profile/` (the only code that talks to the profiled
//! server). It sends read-only commands only: INFO, CONFIG GET, DBSIZE, SCAN (bounded COUNT, a
//! pause between batches), and per sampled key TYPE, OBJECT ENCODING, MEMORY USAGE, PTTL,
//! STRLEN/HLEN/ZCARD/LLEN/SCARD, OBJECT FREQ or IDLETIME; then MONITOR for a bounded time (or a
//! saved capture read from a file). Its memory is bounded by `--sample` and the monitor tally's
//! key limit. Without a server, the files a user saved with `redis-cli` (`--info-file`,
//! `--keys-file`, `--config-file`: `profile::capture`) stand in for its replies. A timeout or a dropped connection stops it with a message and exit code 2.

use super::CliError;
use crate::profile::{capture, draft, infer, monitor};
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
    /// password in an environment variable (--password-env, or REDISCLI_AUTH). Without it,
    /// --monitor-file alone drafts from a saved capture (key counts, sizes: placeholders);
    /// --info-file with --keys-file from capture files made with redis-cli (README).
    #[arg(long, required_unless_present_any = ["monitor_file", "info_file"])]
    pub redis: Option<String>,
    /// Environment variable holding the password (default: REDISCLI_AUTH when set).
    #[arg(long)]
    pub password_env: Option<String>,
    /// With rediss://: the CA certificate (PEM) that signed the server's certificate, for a
    /// self-signed or internal CA (default: $CACHEPLAN_TLS_CA when set, else the system's roots).
    #[arg(long, value_name = "FILE")]
    pub tls_ca: Option<PathBuf>,
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
    /// Instead of --redis: a saved `redis-cli INFO ALL` reply (with --keys-file).
    #[arg(
        long,
        value_name = "FILE",
        conflicts_with = "redis",
        requires = "keys_file"
    )]
    pub info_file: Option<PathBuf>,
    /// The sampled keys, one line each: the key and its TYPE, OBJECT ENCODING, MEMORY USAGE,
    /// PTTL, OBJECT IDLETIME (FREQ under LFU) and STRLEN `redis-cli --no-raw` replies, tab
    /// separated (README "Start from your production Redis").
    #[arg(long, value_name = "FILE", requires = "info_file")]
    pub keys_file: Option<PathBuf>,
    /// A saved `redis-cli CONFIG GET 'maxmemory*' hz 'lfu-*' active-expire-effort
    /// cluster-enabled` reply (default: maxmemory and its policy from the INFO file).
    #[arg(long, value_name = "FILE", requires = "info_file")]
    pub config_file: Option<PathBuf>,
    /// With --info-file: the database the keys were sampled from (`redis-cli -n N`).
    #[arg(long, default_value_t = 0, requires = "info_file")]
    pub capture_db: u32,
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

/// The environment variable naming a CA file when `--tls-ca` is absent.
pub const TLS_CA_ENV: &str = "CACHEPLAN_TLS_CA";

/// The CA file to trust: `--tls-ca`, else `$CACHEPLAN_TLS_CA`, else none (the system's roots).
pub fn tls_ca_file(flag: Option<&std::path::Path>) -> Option<PathBuf> {
    flag.map(PathBuf::from).or_else(|| {
        std::env::var_os(TLS_CA_ENV)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    })
}

/// Connects with the timeouts set on connect, reads and writes. `tls_ca`: a PEM CA file the
/// server's certificate must chain to (rediss:// only; refused with redis://). A certificate
/// the client cannot verify is the user's problem (exit 2), with a hint naming `--tls-ca`.
pub fn connect(
    command: &str,
    info: ConnectionInfo,
    tls_ca: Option<&std::path::Path>,
    timeout: Duration,
) -> Result<Connection, CliError> {
    let tls = matches!(info.addr(), redis_client::ConnectionAddr::TcpTls { .. });
    let client = match tls_ca {
        Some(path) if !tls => {
            return Err(CliError::input(format!(
                "--tls-ca {}: the server URL is not rediss://\n  hint: use rediss://host:port for TLS, or drop --tls-ca (and {TLS_CA_ENV})",
                path.display()
            )))
        }
        Some(path) => {
            let pem = std::fs::read(path).map_err(|e| {
                CliError::input(format!("--tls-ca {}: {e}", path.display()))
            })?;
            let certs = redis_client::TlsCertificates {
                client_tls: None,
                root_cert: Some(pem),
            };
            redis_client::Client::build_with_tls(info, certs).map_err(|e| {
                CliError::input(format!(
                    "--tls-ca {}: not a usable PEM CA certificate: {e}",
                    path.display()
                ))
            })?
        }
        None => redis_client::Client::open(info)
            .map_err(|e| redis_error(command, "connecting", e))?,
    };
    let con = client
        .get_connection_with_timeout(timeout)
        .map_err(|e| connect_error(command, e, tls, tls_ca))?;
    con.set_read_timeout(Some(timeout))
        .and_then(|_| con.set_write_timeout(Some(timeout)))
        .map_err(|e| redis_error(command, "setting timeouts", e))?;
    Ok(con)
}

/// A connection failure as the user's problem; one that names a certificate (TLS) says what to
/// do about it.
fn connect_error(
    command: &str,
    e: redis_client::RedisError,
    tls: bool,
    tls_ca: Option<&std::path::Path>,
) -> CliError {
    let text = e.to_string();
    if !tls || !text.to_ascii_lowercase().contains("certificate") {
        return redis_error(command, "connecting", e);
    }
    let hint = match tls_ca {
        Some(path) => format!(
            "the server's certificate does not verify against --tls-ca {} (another CA, expired, or not issued for this host name): pass the CA that signed it",
            path.display()
        ),
        None => format!(
            "the server's certificate does not verify against the system's root certificates: for a self-signed or internal CA, pass --tls-ca FILE (or set {TLS_CA_ENV})"
        ),
    };
    CliError::input(format!(
        "{command}: the TLS handshake failed: {text}\n  hint: {hint}"
    ))
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
    let Some(url) = a.redis.as_deref() else {
        if a.info_file.is_some() {
            return from_capture_files(&a);
        }
        return capture_only(&a);
    };
    let info = connection_info(url, a.password_env.as_deref())?;
    let tls_ca = tls_ca_file(a.tls_ca.as_deref());
    let mut con = connect("profile", info, tls_ca.as_deref(), timeout)?;
    let facts = server_facts(&mut con)?;
    let sample = sample_keys(&mut con, &facts, &a)?;
    let tally = match (monitor_for, &a.monitor_file) {
        (Some(d), _) => Some(monitor_live(&mut con, d)?),
        (None, Some(path)) => Some(monitor_file(path)?),
        (None, None) => None,
    };
    write_profile(&a, &facts, &sample, tally.as_ref(), &redacted(url))
}

/// `--monitor-file` without `--redis`: the capture's keys stand in for the sample
/// (`infer::sample_from_monitor`); only its rates, mix, Zipf α and written TTLs are fitted.
fn capture_only(a: &ProfileArgs) -> Result<(), CliError> {
    let path = a.monitor_file.as_ref().ok_or_else(|| {
        CliError::input(
            "profile: give --redis URL, or --monitor-file FILE (a saved MONITOR capture)",
        )
    })?;
    if a.monitor.is_some() {
        return Err(CliError::input(
            "--monitor: needs --redis (MONITOR runs on a server); with a saved capture use --monitor-file alone",
        ));
    }
    let tally = monitor_file(path)?;
    let sample = infer::sample_from_monitor(&tally);
    let facts = infer::ServerFacts {
        dbsize: sample.len() as u64,
        capture_only: true,
        ..infer::ServerFacts::default()
    };
    let source = format!("the MONITOR capture {} (no server read)", path.display());
    write_profile(a, &facts, &sample, Some(&tally), &source)
}

/// `--info-file` and `--keys-file` (and `--config-file`, `--monitor-file`) without `--redis`:
/// the files a user made with `redis-cli` (`profile::capture`) stand in for the server's
/// replies, and the same inference runs on them as on a live server's.
fn from_capture_files(a: &ProfileArgs) -> Result<(), CliError> {
    if a.monitor.is_some() {
        return Err(CliError::input(
            "--monitor: needs --redis (MONITOR runs on a server); with capture files use --monitor-file",
        ));
    }
    let (Some(info_path), Some(keys_path)) = (&a.info_file, &a.keys_file) else {
        return Err(CliError::input(
            "profile: --info-file and --keys-file go together (README \"Start from your production Redis\")",
        ));
    };
    let at = |path: &PathBuf, e: capture::LineError| {
        CliError::input(format!("{}:{}: {}", path.display(), e.line, e.message))
    };
    let read = |flag: &str, path: &PathBuf| {
        std::fs::read_to_string(path)
            .map_err(|e| CliError::input(format!("--{flag} {}: {e}", path.display())))
    };
    let info = capture::parse_info(&read("info-file", info_path)?).map_err(|e| at(info_path, e))?;
    let mut config = match &a.config_file {
        Some(path) => {
            capture::parse_config(&read("config-file", path)?).map_err(|e| at(path, e))?
        }
        None => Default::default(),
    };
    // INFO memory and cluster say what CONFIG GET would of these.
    for (config_name, info_field) in [
        ("maxmemory", "maxmemory"),
        ("maxmemory-policy", "maxmemory_policy"),
    ] {
        if let (false, Some(v)) = (config.contains_key(config_name), info.get(info_field)) {
            config.insert(config_name.to_string(), v.clone());
        }
    }
    if let (false, Some(v)) = (
        config.contains_key("cluster-enabled"),
        info.get("cluster_enabled"),
    ) {
        let yes = if v == "1" { "yes" } else { "no" };
        config.insert("cluster-enabled".to_string(), yes.to_string());
    }
    let dbsize = capture::keyspace_keys(&info, a.capture_db)
        .map_err(|m| CliError::input(format!("{}: INFO keyspace: {m}", info_path.display())))?;
    let lfu = config
        .get("maxmemory-policy")
        .is_some_and(|p| p.ends_with("lfu"));
    let file = std::fs::File::open(keys_path)
        .map_err(|e| CliError::input(format!("--keys-file {}: {e}", keys_path.display())))?;
    let mut sample = Vec::new();
    for (i, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line =
            line.map_err(|e| CliError::input(format!("{}:{}: {e}", keys_path.display(), i + 1)))?;
        if line.trim().is_empty() {
            continue;
        }
        if let Some(s) = capture::parse_key_line(&line, i + 1, lfu).map_err(|e| at(keys_path, e))? {
            sample.push(s);
        }
        if sample.len() >= a.sample {
            break;
        }
    }
    if sample.is_empty() {
        return Err(CliError::input(format!(
            "--keys-file {}: no sampled key in it\n  hint: make it as the README shows (redis-cli --scan, then the six replies per key)",
            keys_path.display()
        )));
    }
    if dbsize == 0 {
        return Err(CliError::input(format!(
            "{}: INFO keyspace lists no keys in db{} but {} holds sampled keys\n  hint: pass --capture-db N for keys sampled with `redis-cli -n N`",
            info_path.display(),
            a.capture_db,
            keys_path.display()
        )));
    }
    let tally = a.monitor_file.as_ref().map(monitor_file).transpose()?;
    let facts = infer::ServerFacts {
        info,
        config,
        dbsize,
        capture_only: false,
    };
    let source = format!(
        "the capture files {} and {} (made with redis-cli; no server read)",
        info_path.display(),
        keys_path.display()
    );
    write_profile(a, &facts, &sample, tally.as_ref(), &source)
}

/// Infers the profile and writes the folder (scenario.toml, profile.md) all or nothing.
fn write_profile(
    a: &ProfileArgs,
    facts: &infer::ServerFacts,
    sample: &[infer::KeySample],
    tally: Option<&infer::MonitorTally>,
    source: &str,
) -> Result<(), CliError> {
    let profile = infer::build(facts, sample, tally);
    let scenario = draft::scenario_toml(facts, &profile, source);
    let report = draft::report_markdown(facts, &profile, source);
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
