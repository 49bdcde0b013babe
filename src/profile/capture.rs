//! A saved capture made with plain `redis-cli` on the user's side, for who cannot let
//! `profile` connect: the parsers of its three files, pure functions of their text (the IO
//! edge `cli::profile` reads the files and hands the lines in). The files, as `redis-cli`
//! writes them when its output is not a terminal (README "Start from your production Redis"):
//!
//! - `info.txt`: `redis-cli INFO ALL` (raw: `field:value` lines, `# Section` headers, CRLF
//!   line ends), into `ServerFacts::info`; the key count is INFO keyspace's `dbN:keys=...`.
//! - `config.txt`: `redis-cli CONFIG GET 'maxmemory*' hz 'lfu-*' active-expire-effort
//!   cluster-enabled` (raw: a name line, then its value line), into `ServerFacts::config`.
//! - `keys.tsv`: per sampled key one line, `paste` of the key name (`redis-cli --scan`) and the
//!   six `redis-cli --no-raw` replies of `TYPE`, `OBJECT ENCODING`, `MEMORY USAGE`, `PTTL`,
//!   `OBJECT IDLETIME` (`OBJECT FREQ` under an LFU policy) and `STRLEN` for it, each a
//!   formatted reply on one line: `string`, `"embstr"`, `(integer) 72`, `(nil)`,
//!   `(error) WRONGTYPE ...`. Into one `KeySample` each (a key gone since the scan, `none`,
//!   is skipped; an error reply leaves its figure unknown).
//!
//! A malformed line is an error naming the line and the field, never a panic.

use super::infer::KeySample;
use std::collections::BTreeMap;

/// What is wrong with a capture file's line (the caller adds the file name).
#[derive(Clone, Debug, PartialEq)]
pub struct LineError {
    /// 1-based line number.
    pub line: usize,
    /// The message, naming the field.
    pub message: String,
}

fn err(line: usize, message: impl Into<String>) -> LineError {
    LineError {
        line,
        message: message.into(),
    }
}

/// Fields in a keys-file line: the name and six replies.
pub const KEY_FIELDS: usize = 7;

/// The data types `TYPE` answers for a key that exists.
const DATA_TYPES: [&str; 6] = ["string", "hash", "zset", "list", "set", "stream"];

/// `redis-cli INFO ALL`'s text: every `field:value` line (the section headers and blank lines
/// skipped). An error when a line is neither, or when it is no INFO reply (no
/// `redis_version`).
pub fn parse_info(text: &str) -> Result<BTreeMap<String, String>, LineError> {
    let mut out = BTreeMap::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim_end_matches('\r');
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((k, v)) = line.split_once(':') else {
            return Err(err(
                i + 1,
                format!(
                    "`{}` is not an INFO `field:value` line (save the raw reply: `redis-cli INFO ALL > info.txt`)",
                    shorten(line)
                ),
            ));
        };
        out.insert(k.to_string(), v.trim().to_string());
    }
    if !out.contains_key("redis_version") {
        return Err(err(
            text.lines().count().max(1),
            "no `redis_version` field: not the reply of `redis-cli INFO ALL`",
        ));
    }
    Ok(out)
}

/// The number of keys of database `db` in INFO keyspace (`dbN:keys=K,expires=E,...`); 0 when
/// the database is not listed (Redis lists only databases holding keys).
pub fn keyspace_keys(info: &BTreeMap<String, String>, db: u32) -> Result<u64, String> {
    let Some(v) = info.get(&format!("db{db}")) else {
        return Ok(0);
    };
    v.split(',')
        .find_map(|kv| kv.strip_prefix("keys="))
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| format!("field `db{db}`: `{v}` has no keys=N"))
}

/// `redis-cli CONFIG GET ...`'s text: name and value lines in turn.
pub fn parse_config(text: &str) -> Result<BTreeMap<String, String>, LineError> {
    let lines: Vec<&str> = text.lines().map(|l| l.trim_end_matches('\r')).collect();
    let mut out = BTreeMap::new();
    for (pair, kv) in lines.chunks(2).enumerate() {
        let name_line = 2 * pair + 1;
        let name = kv[0];
        let plain = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !plain {
            return Err(err(
                name_line,
                format!(
                    "`{}` is not a config parameter name (save the raw reply, name and value lines in turn: `redis-cli CONFIG GET 'maxmemory*' hz 'lfu-*' active-expire-effort cluster-enabled > config.txt`)",
                    shorten(name)
                ),
            ));
        }
        let Some(value) = kv.get(1) else {
            return Err(err(
                name_line,
                format!("parameter `{name}` has no value line"),
            ));
        };
        out.insert(name.to_string(), value.to_string());
    }
    Ok(out)
}

/// One `redis-cli --no-raw` reply: an integer, a string, nil or an error.
#[derive(Clone, Debug, PartialEq)]
enum Reply<'a> {
    Int(i64),
    Text(&'a str),
    Nil,
    Error,
}

fn reply(field: &str) -> Reply<'_> {
    let f = field.trim();
    if let Some(n) = f.strip_prefix("(integer) ") {
        return n.trim().parse().map_or(Reply::Text(f), Reply::Int);
    }
    if f == "(nil)" {
        return Reply::Nil;
    }
    if f.starts_with("(error)") {
        return Reply::Error;
    }
    if let Some(q) = f.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
        return Reply::Text(q);
    }
    // Also the raw shapes: a bare integer or word.
    f.parse().map_or(Reply::Text(f), Reply::Int)
}

/// One keys-file line (`line_no` 1-based, `lfu`: the fifth reply is OBJECT FREQ, else
/// IDLETIME) into a sample; `Ok(None)` for a key gone since the scan (`TYPE` says `none`).
pub fn parse_key_line(
    line: &str,
    line_no: usize,
    lfu: bool,
) -> Result<Option<KeySample>, LineError> {
    let line = line.trim_end_matches('\r');
    let fields: Vec<&str> = line.split('\t').collect();
    if fields.len() != KEY_FIELDS {
        return Err(err(
            line_no,
            format!(
                "{} tab-separated fields, expected {KEY_FIELDS}: key, TYPE, OBJECT ENCODING, MEMORY USAGE, PTTL, OBJECT IDLETIME|FREQ, STRLEN (made as the README shows; a key holding a tab cannot be captured this way)",
                fields.len()
            ),
        ));
    }
    let key = fields[0];
    if key.is_empty() {
        return Err(err(line_no, "field 1 (key): empty"));
    }
    let data_type = match reply(fields[1]) {
        Reply::Text("none") => return Ok(None),
        Reply::Text(t) if DATA_TYPES.contains(&t) => t,
        _ => {
            return Err(err(
                line_no,
                format!(
                    "field 2 (TYPE): `{}` is not a Redis data type",
                    shorten(fields[1])
                ),
            ))
        }
    };
    let encoding = match reply(fields[2]) {
        Reply::Text(t) => t.to_string(),
        Reply::Nil | Reply::Error => String::new(),
        Reply::Int(_) => {
            return Err(err(
                line_no,
                format!(
                    "field 3 (OBJECT ENCODING): `{}` is no encoding",
                    shorten(fields[2])
                ),
            ))
        }
    };
    let int = |idx: usize, name: &str| -> Result<Option<i64>, LineError> {
        match reply(fields[idx]) {
            Reply::Int(n) => Ok(Some(n)),
            Reply::Nil | Reply::Error => Ok(None),
            Reply::Text(_) => Err(err(
                line_no,
                format!(
                    "field {} ({name}): `{}` is not an integer reply",
                    idx + 1,
                    shorten(fields[idx])
                ),
            )),
        }
    };
    let memory = int(3, "MEMORY USAGE")?;
    let pttl = int(4, "PTTL")?;
    let freq_or_idle = int(5, "OBJECT IDLETIME|FREQ")?;
    let strlen = int(6, "STRLEN")?;
    if pttl == Some(-2) {
        // Gone between TYPE and PTTL.
        return Ok(None);
    }
    let non_negative = |v: Option<i64>| v.filter(|&v| v >= 0).map(|v| v as u64);
    Ok(Some(KeySample {
        key: key.to_string(),
        data_type: data_type.to_string(),
        encoding,
        memory_bytes: non_negative(memory),
        pttl_ms: non_negative(pttl),
        length: if data_type == "string" {
            non_negative(strlen)
        } else {
            None
        },
        lfu_freq: if lfu {
            non_negative(freq_or_idle)
        } else {
            None
        },
        idle_s: if lfu {
            None
        } else {
            non_negative(freq_or_idle)
        },
    }))
}

/// At most 80 characters of a line, for a message.
fn shorten(s: &str) -> String {
    if s.chars().count() <= 80 {
        s.to_string()
    } else {
        format!("{}...", s.chars().take(80).collect::<String>())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn info_lines_with_crlf_and_sections_are_read() {
        let text = "# Server\r\nredis_version:7.0.15\r\n\r\n# Keyspace\r\ndb0:keys=1200,expires=900,avg_ttl=0\r\ndb2:keys=7,expires=0,avg_ttl=0\r\n";
        let info = parse_info(text).unwrap();
        assert_eq!(info["redis_version"], "7.0.15");
        assert_eq!(keyspace_keys(&info, 0), Ok(1200));
        assert_eq!(keyspace_keys(&info, 2), Ok(7));
        assert_eq!(keyspace_keys(&info, 1), Ok(0));
        let bad = parse_info("# Server\nredis_version:7\nthis is not info\n").unwrap_err();
        assert_eq!(bad.line, 3);
        assert!(bad.message.contains("INFO ALL"), "{}", bad.message);
        assert_eq!(parse_info("# Server\nuptime:3\n").unwrap_err().line, 2);
        let mut odd = info.clone();
        odd.insert("db0".into(), "garbage".into());
        assert!(keyspace_keys(&odd, 0).unwrap_err().contains("db0"));
    }

    #[test]
    fn config_pairs_are_read_and_formatted_output_is_refused() {
        let text = "maxmemory\r\n104857600\r\nmaxmemory-policy\r\nallkeys-lfu\r\nmaxmemory-clients\r\n0\r\nhz\r\n10\r\n";
        let c = parse_config(text).unwrap();
        assert_eq!(c["maxmemory"], "104857600");
        assert_eq!(c["maxmemory-policy"], "allkeys-lfu");
        assert_eq!(c.len(), 4);
        // A value may be empty (its line is).
        assert_eq!(parse_config("save\n\nhz\n10\n").unwrap()["save"], "");
        let odd = parse_config("maxmemory\n0\nhz\n").unwrap_err();
        assert_eq!(odd.line, 3);
        assert!(odd.message.contains("hz"), "{}", odd.message);
        let tty = parse_config("1) \"maxmemory\"\n2) \"0\"\n").unwrap_err();
        assert_eq!(tty.line, 1);
        assert!(tty.message.contains("raw reply"), "{}", tty.message);
    }

    #[test]
    fn key_lines_of_redis_cli_no_raw_replies() {
        let line = "quote:t01:1\tstring\t\"embstr\"\t(integer) 72\t(integer) 59000\t(integer) 12\t(integer) 40";
        let s = parse_key_line(line, 1, false).unwrap().unwrap();
        assert_eq!(s.key, "quote:t01:1");
        assert_eq!(
            (s.data_type.as_str(), s.encoding.as_str()),
            ("string", "embstr")
        );
        assert_eq!(s.memory_bytes, Some(72));
        assert_eq!(s.pttl_ms, Some(59_000));
        assert_eq!((s.idle_s, s.lfu_freq), (Some(12), None));
        assert_eq!(s.length, Some(40));
        // No TTL, a hash (STRLEN's WRONGTYPE), OBJECT FREQ refused under an LRU policy.
        let line = "rl:{t01}:a b\thash\t\"listpack\"\t(integer) 96\t(integer) -1\t(error) ERR An LFU maxmemory policy is not selected\t(error) WRONGTYPE Operation against a key holding the wrong kind of value";
        let s = parse_key_line(line, 2, true).unwrap().unwrap();
        assert_eq!(s.key, "rl:{t01}:a b");
        assert_eq!((s.pttl_ms, s.length, s.lfu_freq), (None, None, None));
        assert_eq!(s.memory_bytes, Some(96));
        // A key gone since the scan.
        let gone = "k\tnone\t(nil)\t(nil)\t(integer) -2\t(nil)\t(integer) 0";
        assert!(parse_key_line(gone, 3, false).unwrap().is_none());
        // Raw shapes are accepted too, and CRLF.
        let raw = "k\tstring\tint\t56\t-1\t3\t2\r";
        let s = parse_key_line(raw, 4, true).unwrap().unwrap();
        assert_eq!(
            (s.encoding.as_str(), s.lfu_freq, s.length),
            ("int", Some(3), Some(2))
        );
    }

    #[test]
    fn bad_key_lines_name_their_line_and_field() {
        let short = parse_key_line("k\tstring\t\"raw\"", 7, false).unwrap_err();
        assert_eq!(short.line, 7);
        assert!(
            short.message.contains("3 tab-separated fields"),
            "{}",
            short.message
        );
        let ty = parse_key_line("k\tstrung\t\"raw\"\t1\t1\t1\t1", 8, false).unwrap_err();
        assert!(ty.message.contains("field 2 (TYPE)"), "{}", ty.message);
        let mem = parse_key_line("k\tstring\t\"raw\"\tlots\t1\t1\t1", 9, false).unwrap_err();
        assert!(
            mem.message.contains("field 4 (MEMORY USAGE)"),
            "{}",
            mem.message
        );
        let empty = parse_key_line("\tstring\t\"raw\"\t1\t1\t1\t1", 10, false).unwrap_err();
        assert!(empty.message.contains("field 1 (key)"), "{}", empty.message);
        let enc = parse_key_line("k\tstring\t(integer) 3\t1\t1\t1\t1", 11, false).unwrap_err();
        assert!(enc.message.contains("field 3"), "{}", enc.message);
    }
}
