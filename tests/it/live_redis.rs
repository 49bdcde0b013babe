//! A private `redis-server` for the live tests: started on a free loopback port as a child
//! process (no persistence, no daemon), stopped when its guard drops. Only what a test started
//! is ever stopped; a system-wide Redis service is never touched.
//!
//! When the `redis-server` binary is missing the live tests print
//! `<test>: skipped: redis-server absent` and return, unless `CI=true`: in CI a missing binary
//! fails the test (`tests/check.sh` installs Debian's `redis-server`).

use std::io::Write;
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long a fresh server may take to answer PING.
const START_TIMEOUT: Duration = Duration::from_secs(10);

/// A running private `redis-server`; killed (and reaped) on drop.
pub struct RedisServer {
    child: Child,
    port: u16,
}

impl RedisServer {
    /// Starts a server with `extra` arguments (`["--maxmemory", "1mb"]`, ...), or returns None
    /// after a visible skip line when the binary is absent outside CI.
    pub fn start(test: &str, extra: &[&str]) -> Option<RedisServer> {
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
            let child = Command::new("redis-server")
                .args([
                    "--port",
                    &port_arg,
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
            let mut server = RedisServer { child, port };
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

    /// `redis://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// A new connection.
    pub fn connect(&self) -> redis_client::Connection {
        redis_client::Client::open(self.url())
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

    /// True once the server answers PING (false if it died or timed out).
    fn wait_ready(&mut self) -> bool {
        let started = Instant::now();
        while started.elapsed() < START_TIMEOUT {
            if let Ok(Some(_)) = self.child.try_wait() {
                return false;
            }
            let ping = redis_client::Client::open(self.url())
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
    Command::new("redis-server")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
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
