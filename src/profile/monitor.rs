//! MONITOR lines, parsed: `1700000000.123456 [0 127.0.0.1:50000] "SET" "k" "v" "PX" "600"`
//! (the timestamp, the db and client, then the arguments quoted as Redis's `sdscatrepr` writes
//! them: `\"`, `\\`, `\n`, `\r`, `\t`, `\a`, `\b`, `\xHH`). Which arguments are keys, whether the
//! command reads or writes, and the TTL a write sets. Pure: a line in, a command out.

/// One monitored command.
#[derive(Clone, Debug, PartialEq)]
pub struct MonitoredCommand {
    /// Unix time, seconds (microsecond resolution).
    pub unix_s: f64,
    /// The command name, upper case.
    pub name: String,
    /// The key arguments.
    pub keys: Vec<String>,
    /// True for a command that changes data.
    pub is_write: bool,
    /// The TTL it sets, ms (SET EX/PX, SETEX, PSETEX, EXPIRE, PEXPIRE).
    pub ttl_ms: Option<u64>,
}

/// The data type a command's name implies for its keys (`"string"`, `"hash"`, `"zset"`,
/// `"list"`, `"set"`), with `"int"` as the encoding of counter commands; None when the name
/// says nothing (EXPIRE, DEL, EVALSHA, ...).
pub fn implied_type(name: &str) -> Option<(&'static str, &'static str)> {
    match name {
        "INCR" | "INCRBY" | "DECR" | "DECRBY" => Some(("string", "int")),
        "GET" | "SET" | "SETEX" | "PSETEX" | "SETNX" | "GETSET" | "GETDEL" | "GETEX" | "APPEND"
        | "STRLEN" | "GETRANGE" | "INCRBYFLOAT" => Some(("string", "raw")),
        n if n.starts_with('H') && n != "HELLO" => Some(("hash", "listpack")),
        n if n.starts_with('Z') => Some(("zset", "listpack")),
        n if n.starts_with('L') || n.starts_with("RPUSH") || n.starts_with("RPOP") => {
            Some(("list", "listpack"))
        }
        n if n.starts_with('S') && n != "SCAN" && n != "SELECT" => Some(("set", "listpack")),
        _ => None,
    }
}

/// Parses one MONITOR line. None for lines that are not commands (`OK`, blank lines) or that
/// are malformed.
pub fn parse_line(line: &str) -> Option<MonitoredCommand> {
    let line = line.trim_end_matches(['\r', '\n']);
    let line = line.strip_prefix('+').unwrap_or(line);
    let (ts, rest) = line.split_once(' ')?;
    let unix_s: f64 = ts.parse().ok()?;
    let rest = rest.strip_prefix('[')?;
    let (_client, args_text) = rest.split_once("] ")?;
    let args = parse_args(args_text)?;
    let name = args.first()?.to_ascii_uppercase();
    let (keys, is_write) = keys_of(&name, &args[1..]);
    let ttl_ms = ttl_of(&name, &args[1..]);
    Some(MonitoredCommand {
        unix_s,
        name,
        keys,
        is_write,
        ttl_ms,
    })
}

/// The quoted arguments of a MONITOR line.
fn parse_args(text: &str) -> Option<Vec<String>> {
    let mut args = Vec::new();
    let mut chars = text.chars().peekable();
    loop {
        while chars.peek() == Some(&' ') {
            chars.next();
        }
        match chars.next() {
            None => return Some(args),
            Some('"') => {}
            Some(_) => return None,
        }
        let mut arg = Vec::<u8>::new();
        loop {
            match chars.next()? {
                '"' => break,
                '\\' => match chars.next()? {
                    'n' => arg.push(b'\n'),
                    'r' => arg.push(b'\r'),
                    't' => arg.push(b'\t'),
                    'a' => arg.push(7),
                    'b' => arg.push(8),
                    'x' => {
                        let hex: String = [chars.next()?, chars.next()?].iter().collect();
                        arg.push(u8::from_str_radix(&hex, 16).ok()?);
                    }
                    other => {
                        let mut buf = [0u8; 4];
                        arg.extend_from_slice(other.encode_utf8(&mut buf).as_bytes());
                    }
                },
                c => {
                    let mut buf = [0u8; 4];
                    arg.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                }
            }
        }
        args.push(String::from_utf8_lossy(&arg).into_owned());
    }
}

/// Commands that read one key (the first argument).
const READS: &[&str] = &[
    "GET",
    "GETRANGE",
    "STRLEN",
    "EXISTS",
    "TTL",
    "PTTL",
    "TYPE",
    "HGET",
    "HGETALL",
    "HMGET",
    "HLEN",
    "HEXISTS",
    "HKEYS",
    "HVALS",
    "ZRANGE",
    "ZRANGEBYSCORE",
    "ZREVRANGE",
    "ZCARD",
    "ZCOUNT",
    "ZSCORE",
    "ZRANK",
    "LRANGE",
    "LLEN",
    "LINDEX",
    "SMEMBERS",
    "SISMEMBER",
    "SCARD",
    "XRANGE",
    "XLEN",
    "GETEX",
];
/// Commands that write one key (the first argument).
const WRITES: &[&str] = &[
    "SET",
    "SETEX",
    "PSETEX",
    "SETNX",
    "GETSET",
    "GETDEL",
    "APPEND",
    "INCR",
    "INCRBY",
    "DECR",
    "DECRBY",
    "INCRBYFLOAT",
    "EXPIRE",
    "PEXPIRE",
    "EXPIREAT",
    "PEXPIREAT",
    "PERSIST",
    "HSET",
    "HMSET",
    "HSETNX",
    "HDEL",
    "HINCRBY",
    "HINCRBYFLOAT",
    "ZADD",
    "ZREM",
    "ZINCRBY",
    "ZREMRANGEBYSCORE",
    "ZREMRANGEBYRANK",
    "LPUSH",
    "RPUSH",
    "LPOP",
    "RPOP",
    "LTRIM",
    "SADD",
    "SREM",
    "XADD",
    "XTRIM",
];

/// The keys a command names and whether it writes.
fn keys_of(name: &str, args: &[String]) -> (Vec<String>, bool) {
    let first = || args.first().cloned().into_iter().collect::<Vec<_>>();
    match name {
        "MGET" => (args.to_vec(), false),
        "DEL" | "UNLINK" => (args.to_vec(), true),
        "MSET" => (args.iter().step_by(2).cloned().collect(), true),
        "EVAL" | "EVALSHA" | "EVAL_RO" | "EVALSHA_RO" | "FCALL" | "FCALL_RO" => {
            let n: usize = args.get(1).and_then(|n| n.parse().ok()).unwrap_or(0);
            let keys = args.iter().skip(2).take(n).cloned().collect();
            (keys, !name.ends_with("_RO"))
        }
        _ if READS.contains(&name) => (first(), name == "GETEX"),
        _ if WRITES.contains(&name) => (first(), true),
        _ => (Vec::new(), false),
    }
}

/// The TTL (ms) a write sets.
fn ttl_of(name: &str, args: &[String]) -> Option<u64> {
    let num = |i: usize| args.get(i).and_then(|v| v.parse::<u64>().ok());
    match name {
        "SETEX" | "EXPIRE" => num(1).map(|s| s * 1000),
        "PSETEX" | "PEXPIRE" => num(1),
        "SET" | "GETEX" => {
            let opts = if name == "SET" { 2 } else { 1 };
            let mut i = opts;
            while i < args.len() {
                match args[i].to_ascii_uppercase().as_str() {
                    "EX" => return num(i + 1).map(|s| s * 1000),
                    "PX" => return num(i + 1),
                    _ => i += 1,
                }
            }
            None
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_commands_keys_and_ttls() {
        let c = parse_line(
            r#"1700000000.250000 [0 127.0.0.1:50000] "SET" "quote:t1:42" "a\"b\x00" "PX" "600000""#,
        )
        .unwrap();
        assert_eq!(c.unix_s, 1_700_000_000.25);
        assert_eq!(c.name, "SET");
        assert_eq!(c.keys, ["quote:t1:42"]);
        assert!(c.is_write);
        assert_eq!(c.ttl_ms, Some(600_000));
        let g = parse_line(r#"+1700000001.000001 [0 lua] "get" "a b""#).unwrap();
        assert_eq!(
            (g.name.as_str(), g.keys[0].as_str(), g.is_write),
            ("GET", "a b", false)
        );
        let e = parse_line(r#"1.5 [0 unix:/tmp/s] "EVALSHA" "abc" "2" "k1" "k2" "x""#).unwrap();
        assert_eq!(e.keys, ["k1", "k2"]);
        assert_eq!(
            parse_line(r#"1.0 [0 1.2.3.4:5] "SETEX" "k" "30" "v""#)
                .unwrap()
                .ttl_ms,
            Some(30_000)
        );
        assert!(parse_line("OK").is_none());
        assert!(parse_line(r#"1.0 [0 x] "unterminated"#).is_none());
        assert!(parse_line(r#"1.0 [0 x] "PING""#).unwrap().keys.is_empty());
    }
}
