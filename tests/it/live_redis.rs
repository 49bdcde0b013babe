//! A private `redis-server` for the live tests: started on a free loopback port as a child
//! process (no persistence, no daemon), stopped when its guard drops. Only what a test started
//! is ever stopped; a system-wide Redis service is never touched.
//!
//! When the `redis-server` binary is missing the live tests print
//! `<test>: skipped: redis-server absent` and return, unless `CI=true`: in CI a missing binary
//! fails the test (`tests/check.sh` installs Debian's `redis-server`).

use std::io::Write;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long a fresh server may take to answer PING.
const START_TIMEOUT: Duration = Duration::from_secs(10);

/// A running private `redis-server`; killed (and reaped) on drop.
pub struct RedisServer {
    child: Child,
    port: u16,
    /// The CA (PEM) that signed the server's certificate when it listens with TLS only.
    tls_ca: Option<PathBuf>,
}

/// The throwaway certificates of a TLS test server (`make_test_certificates`).
pub struct TestCertificates {
    /// The CA that signed the server's certificate (PEM).
    pub ca_cert: PathBuf,
    /// Another CA, which signed nothing the server presents (PEM).
    pub other_ca_cert: PathBuf,
    /// The server's certificate, for 127.0.0.1 and localhost (PEM).
    pub server_cert: PathBuf,
    /// The server's private key (PEM).
    pub server_key: PathBuf,
}

/// Makes a throwaway CA, a second unrelated CA and a server certificate for 127.0.0.1 and
/// localhost signed by the first, with the `openssl` command (P-256 keys, valid one day), in
/// `dir`. None after a visible skip line when `openssl` is absent outside CI.
pub fn make_test_certificates(test: &str, dir: &Path) -> Option<TestCertificates> {
    if !tool_present("openssl", "version") {
        assert!(
            std::env::var("CI").map_or(true, |v| v != "true"),
            "{test}: openssl is not installed and CI=true (tests/check.sh installs it)"
        );
        let _ = writeln!(std::io::stderr(), "{test}: skipped: openssl absent");
        return None;
    }
    let file = |name: &str| dir.join(name);
    let run = |args: &[&str]| {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .stdin(Stdio::null())
            .output()
            .expect("openssl runs");
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    for (name, cn) in [
        ("ca", "cacheplan test CA"),
        ("other-ca", "cacheplan other CA"),
    ] {
        let key = format!("{name}.key");
        let crt = format!("{name}.crt");
        let subj = format!("/CN={cn}");
        let mut args = vec!["req", "-x509"];
        args.extend(ec);
        args.extend(["-keyout", &key, "-out", &crt, "-days", "1", "-subj", &subj]);
        run(&args);
    }
    let mut args = vec!["req"];
    args.extend(ec);
    args.extend([
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
        "-subj",
        "/CN=localhost",
    ]);
    run(&args);
    std::fs::write(
        file("server.ext"),
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n",
    )
    .expect("write server.ext");
    run(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.crt",
        "-days",
        "1",
        "-extfile",
        "server.ext",
    ]);
    Some(TestCertificates {
        ca_cert: file("ca.crt"),
        other_ca_cert: file("other-ca.crt"),
        server_cert: file("server.crt"),
        server_key: file("server.key"),
    })
}

impl RedisServer {
    /// Starts a server with `extra` arguments (`["--maxmemory", "1mb"]`, ...), or returns None
    /// after a visible skip line when the binary is absent outside CI.
    pub fn start(test: &str, extra: &[&str]) -> Option<RedisServer> {
        RedisServer::start_on(test, extra, None)
    }

    /// Starts a server that listens with TLS only (`--port 0 --tls-port P`), presenting
    /// `certs`' server certificate and not asking clients for one.
    pub fn start_tls(test: &str, certs: &TestCertificates) -> Option<RedisServer> {
        RedisServer::start_on(test, &[], Some(certs))
    }

    fn start_on(test: &str, extra: &[&str], tls: Option<&TestCertificates>) -> Option<RedisServer> {
        if !redis_server_present() {
            assert!(
                std::env::var("CI").map_or(true, |v| v != "true"),
                "{test}: redis-server is not installed and CI=true (tests/check.sh installs it)"
            );
            let _ = writeln!(std::io::stderr(), "{test}: skipped: redis-server absent");
            return None;
        }
        // A few attempts: another process may take the port between our probe and the bind.
        for _ in 0..5 {
            let port = free_port();
            let port_arg = port.to_string();
            let path = |p: &Path| p.to_str().expect("a UTF-8 path").to_string();
            let listen: Vec<String> = match tls {
                None => vec!["--port".into(), port_arg],
                Some(c) => vec![
                    "--port".into(),
                    "0".into(),
                    "--tls-port".into(),
                    port_arg,
                    "--tls-cert-file".into(),
                    path(&c.server_cert),
                    "--tls-key-file".into(),
                    path(&c.server_key),
                    "--tls-ca-cert-file".into(),
                    path(&c.ca_cert),
                    "--tls-auth-clients".into(),
                    "no".into(),
                ],
            };
            let child = Command::new("redis-server")
                .args(&listen)
                .args([
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--daemonize",
                    "no",
                    "--protected-mode",
                    "yes",
                    "--loglevel",
                    "warning",
                ])
                .args(extra)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("redis-server starts");
            let mut server = RedisServer {
                child,
                port,
                tls_ca: tls.map(|c| c.ca_cert.clone()),
            };
            if server.wait_ready() {
                return Some(server);
            }
            // Dropping the guard kills the child that failed to come up.
        }
        panic!("{test}: redis-server did not come up on a free loopback port in 5 attempts");
    }

    /// The port it listens on (127.0.0.1).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `redis://127.0.0.1:<port>`, or `rediss://` when the server listens with TLS.
    pub fn url(&self) -> String {
        let scheme = if self.tls_ca.is_some() {
            "rediss"
        } else {
            "redis"
        };
        format!("{scheme}://127.0.0.1:{}", self.port)
    }

    /// A client of the server (trusting the test CA when it listens with TLS).
    fn client(&self) -> redis_client::RedisResult<redis_client::Client> {
        match &self.tls_ca {
            None => redis_client::Client::open(self.url()),
            Some(ca) => {
                install_crypto_provider();
                let certs = redis_client::TlsCertificates {
                    client_tls: None,
                    root_cert: Some(std::fs::read(ca).expect("read the test CA")),
                };
                redis_client::Client::build_with_tls(self.url(), certs)
            }
        }
    }

    /// A new connection.
    pub fn connect(&self) -> redis_client::Connection {
        self.client()
            .expect("a valid URL")
            .get_connection()
            .expect("connect to the private redis-server")
    }

    /// `INFO <section>` as (field, value) pairs.
    pub fn info(&self, con: &mut redis_client::Connection, section: &str) -> Vec<(String, String)> {
        let text: String = redis_client::cmd("INFO")
            .arg(section)
            .query(con)
            .expect("INFO");
        text.lines()
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.to_string(), v.trim().to_string()))
            .collect()
    }

    /// One numeric field of `INFO <section>`.
    pub fn info_u64(&self, con: &mut redis_client::Connection, section: &str, field: &str) -> u64 {
        self.info(con, section)
            .into_iter()
            .find(|(k, _)| k == field)
            .unwrap_or_else(|| panic!("no {field} in INFO {section}"))
            .1
            .parse()
            .unwrap_or_else(|e| panic!("{field}: {e}"))
    }

    /// `MEMORY STATS`' `total.allocated` (used_memory) and `clients.normal` (the normal
    /// clients' query and reply buffers) from one reply, so the two belong to the same moment.
    pub fn memory_and_client_buffers(&self, con: &mut redis_client::Connection) -> (u64, u64) {
        let stats: Vec<redis_client::Value> = redis_client::cmd("MEMORY")
            .arg("STATS")
            .query(con)
            .expect("MEMORY STATS");
        let field = |name: &[u8]| {
            stats
                .windows(2)
                .find_map(|w| match (&w[0], &w[1]) {
                    (redis_client::Value::BulkString(n), redis_client::Value::Int(v))
                        if n.as_slice() == name =>
                    {
                        Some(*v as u64)
                    }
                    _ => None,
                })
                .unwrap_or_else(|| panic!("no {} in MEMORY STATS", String::from_utf8_lossy(name)))
        };
        (field(b"total.allocated"), field(b"clients.normal"))
    }

    /// used_memory without the clients' buffers once it has settled: serverCron resizes an
    /// idle query buffer and finishes an incremental rehash within a few ticks, so readings
    /// are taken every 120 ms (above one 100 ms tick at hz 10) until three in a row agree
    /// (panics after 5 s: a server that never settles is not one to measure).
    pub fn settled_key_memory(&self, con: &mut redis_client::Connection) -> u64 {
        let started = Instant::now();
        let reading = |con: &mut redis_client::Connection| {
            let (used, clients) = self.memory_and_client_buffers(con);
            used - clients
        };
        let mut last = reading(con);
        let mut agreeing = 1;
        while agreeing < 3 {
            assert!(
                started.elapsed() < Duration::from_secs(5),
                "used_memory did not settle in 5 s (last {last} B)"
            );
            std::thread::sleep(Duration::from_millis(120));
            let now = reading(con);
            agreeing = if now == last { agreeing + 1 } else { 1 };
            last = now;
        }
        last
    }

    /// The unix ms at which a serverCron tick is first seen: polls `INFO server`'s `lru_clock`
    /// every 0.5 ms until it changes. Only serverCron refreshes it (once a tick, to the wall
    /// clock's whole seconds: server.c serverCron), so the change marks the first tick after
    /// a whole second, seen within about 1 ms. Waits up to 1.1 s (panics after 5 s).
    pub fn wait_for_cron_tick(&self, con: &mut redis_client::Connection) -> u64 {
        let started = Instant::now();
        let first = self.info_u64(con, "server", "lru_clock");
        loop {
            assert!(
                started.elapsed() < Duration::from_secs(5),
                "lru_clock did not change in 5 s"
            );
            std::thread::sleep(Duration::from_micros(500));
            if self.info_u64(con, "server", "lru_clock") != first {
                return std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .expect("after 1970")
                    .as_millis() as u64;
            }
        }
    }

    /// Runs every command a measurement will use once, on a throwaway key, then deletes it.
    /// Redis 7.0 allocates a command's latency histogram (`latency-tracking`, 24,576 bytes:
    /// 3,072 eight-byte counts) the first time the command runs, so a command's first use
    /// costs 24.6 KB of used_memory once that belongs to no key.
    pub fn warm_commands(&self, con: &mut redis_client::Connection) {
        let mut p = redis_client::pipe();
        let k = "cacheplan-warm";
        p.cmd("SET").arg(k).arg("v").ignore();
        p.cmd("GET").arg(k).ignore();
        p.cmd("PEXPIRE").arg(k).arg(60_000).ignore();
        p.cmd("DEL").arg(k).ignore();
        p.cmd("INCR").arg(k).ignore();
        p.cmd("DEL").arg(k).ignore();
        p.cmd("HSET").arg(k).arg("f").arg(1).ignore();
        p.cmd("DEL").arg(k).ignore();
        p.cmd("ZADD").arg(k).arg(1).arg("m").ignore();
        p.cmd("DEL").arg(k).ignore();
        p.cmd("INFO").arg("memory").ignore();
        p.cmd("DBSIZE").ignore();
        p.cmd("MEMORY").arg("STATS").ignore();
        p.cmd("CONFIG").arg("GET").arg("maxmemory").ignore();
        p.cmd("CONFIG").arg("SET").arg("hz").arg(10).ignore();
        p.cmd("FLUSHALL").arg("SYNC").ignore();
        let _: () = p.query(con).expect("warm-up commands");
    }

    /// True once the server answers PING (false if it died or timed out).
    fn wait_ready(&mut self) -> bool {
        let started = Instant::now();
        while started.elapsed() < START_TIMEOUT {
            if let Ok(Some(_)) = self.child.try_wait() {
                return false;
            }
            let ping = self
                .client()
                .and_then(|c| c.get_connection())
                .and_then(|mut c| redis_client::cmd("PING").query::<String>(&mut c));
            if ping.is_ok() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        // Our own child, by its handle: never anything else.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// True when `redis-server` runs (`--version`).
pub fn redis_server_present() -> bool {
    tool_present("redis-server", "--version")
}

/// True when `program arg` runs and succeeds.
pub fn tool_present(program: &str, arg: &str) -> bool {
    Command::new(program)
        .arg(arg)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// The rustls crypto provider the test's own TLS client uses (as `cacheplan` installs it).
fn install_crypto_provider() {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        #[allow(deprecated)]
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
}

/// A loopback port nobody listens on right now (the OS's pick).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("bind an ephemeral loopback port")
        .port()
}

#[test]
fn a_private_server_starts_answers_and_stops() {
    let Some(server) = RedisServer::start("a_private_server_starts_answers_and_stops", &[]) else {
        return;
    };
    let mut con = server.connect();
    let version: String = server
        .info(&mut con, "server")
        .into_iter()
        .find(|(k, _)| k == "redis_version")
        .expect("redis_version")
        .1;
    assert!(version.starts_with("7."), "redis {version}");
    let keys: u64 = redis_client::cmd("DBSIZE").query(&mut con).expect("DBSIZE");
    assert_eq!(keys, 0);
    let port = server.port();
    drop(con);
    drop(server);
    // Stopped: nothing answers on its port any more.
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_err());
}
