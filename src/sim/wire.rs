//! What a command and its reply weigh on the wire: RESP2 bytes, as a client library writes
//! them (every request an array of bulk strings: `*<n>\r\n` then `$<len>\r\n<arg>\r\n` per
//! argument) and as Redis answers (`+OK\r\n`, `$-1\r\n`, `:<n>\r\n`, `$<len>\r\n<value>\r\n`,
//! `-OOM ...\r\n`). TCP/IP headers and TLS framing are not counted. Pure functions of a
//! command, its reply and the value's length.
//!
//! A model step that stands for several commands weighs what they weigh together: INCR with
//! the PEXPIRE of a new counter; the sliding window's MULTI, ZREMRANGEBYSCORE key 0 <ms>,
//! ZADD key <ms> <16-byte member>, ZCARD key, PEXPIRE key <ttl>, EXEC (replies +OK, four
//! +QUEUED, and EXEC's array of four integers, the count taken as two digits); the token
//! bucket's EVALSHA <40-hex sha> 1 key <ms> (reply an integer of one digit). Timestamps are
//! 13-digit unix ms.

use crate::redis::db::KeyRef;
use crate::redis::shard::{Command, Reply};
use crate::scenario::RateLimitAlgorithm;

/// Redis's OOM error line.
const OOM_ERROR: &str = "-OOM command not allowed when used memory > 'maxmemory'.\r\n";

/// Digits of a unix ms timestamp.
const MS_DIGITS: u64 = 13;

/// Decimal digits of `n` (a minus sign counted).
pub(super) fn digits(n: i64) -> u64 {
    let sign = (n < 0) as u64;
    u64::from(crate::redis::memory::decimal_digits(n.unsigned_abs())) + sign
}

/// `$<len>\r\n<len bytes>\r\n`.
pub(super) fn bulk(len: u64) -> u64 {
    1 + digits(len as i64) + 2 + len + 2
}

/// A request of `args` (argument lengths) as a RESP array of bulk strings.
pub(super) fn request(args: &[u64]) -> u64 {
    1 + digits(args.len() as i64) + 2 + args.iter().map(|&a| bulk(a)).sum::<u64>()
}

fn integer(n: i64) -> u64 {
    1 + digits(n) + 2
}

/// The key `cmd` is about.
pub(super) fn command_key(cmd: &Command) -> KeyRef {
    match *cmd {
        Command::Get(k) | Command::Del(k) => k,
        Command::Set { key, .. }
        | Command::IncrExpire { key, .. }
        | Command::Expire { key, .. }
        | Command::WriteObject { key, .. } => key,
    }
}

/// Bytes the client sends for `cmd` (`reply` tells whether INCR created its counter, which
/// adds the PEXPIRE).
pub(super) fn request_bytes(cmd: &Command, reply: Reply, algorithm: RateLimitAlgorithm) -> u64 {
    match *cmd {
        Command::Get(k) => request(&[3, k.len as u64]),
        Command::Set {
            key,
            value_size,
            ttl_ms,
            nx,
            ..
        } => {
            // The array's header counts PX <ttl> and NX too: the three arguments' bulks, then
            // the header of the whole count.
            let base = request(&[3, key.len as u64, value_size as u64]) - (1 + digits(3) + 2);
            let mut n = 3;
            let mut extra = 0;
            if ttl_ms > 0 {
                n += 2;
                extra += bulk(2) + bulk(digits(ttl_ms as i64));
            }
            if nx {
                n += 1;
                extra += bulk(2);
            }
            base + 1 + digits(n) + 2 + extra
        }
        Command::IncrExpire { key, ttl_ms } => {
            let incr = request(&[4, key.len as u64]);
            if reply == Reply::Integer(1) && ttl_ms > 0 {
                incr + request(&[7, key.len as u64, digits(ttl_ms as i64)])
            } else {
                incr
            }
        }
        Command::Del(k) => request(&[3, k.len as u64]),
        Command::Expire { key, ttl_ms } => request(&[7, key.len as u64, digits(ttl_ms as i64)]),
        Command::WriteObject { key, ttl_ms, .. } => {
            let k = key.len as u64;
            match algorithm {
                RateLimitAlgorithm::SlidingWindow => {
                    request(&[5])
                        + request(&[16, k, 1, MS_DIGITS])
                        + request(&[4, k, MS_DIGITS, 16])
                        + request(&[5, k])
                        + request(&[7, k, digits(ttl_ms as i64)])
                        + request(&[4])
                }
                _ => request(&[7, 40, 1, k, MS_DIGITS]),
            }
        }
    }
}

/// Bytes Redis sends back for `cmd`'s `reply` (`value_len`: the value a GET hit returns).
pub(super) fn reply_bytes(
    cmd: &Command,
    reply: Reply,
    value_len: u64,
    algorithm: RateLimitAlgorithm,
) -> u64 {
    match reply {
        Reply::Oom => OOM_ERROR.len() as u64,
        Reply::Value => bulk(value_len),
        Reply::Nil => 5,
        Reply::Ok => match cmd {
            Command::WriteObject { .. } => match algorithm {
                // +OK, four +QUEUED, then *4 with :0 :1 :NN :1.
                RateLimitAlgorithm::SlidingWindow => 5 + 4 * 9 + 4 + 4 + 4 + 5 + 4,
                _ => integer(1),
            },
            _ => 5,
        },
        Reply::Integer(n) => match cmd {
            Command::IncrExpire { ttl_ms, .. } if n == 1 && *ttl_ms > 0 => integer(1) + integer(1),
            _ => integer(n),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const K: KeyRef = KeyRef { id: 1, len: 10 };

    #[test]
    fn digits_are_the_length_of_the_decimal_text() {
        let mut ns = vec![0, i64::MIN, i64::MAX, i64::MIN + 1];
        let mut p = 1i64;
        while let Some(next) = p.checked_mul(10) {
            ns.extend([p - 1, p, p + 1, -(p - 1), -p, -(p + 1)]);
            p = next;
        }
        ns.extend([p - 1, p, -p]);
        for n in ns {
            assert_eq!(digits(n), n.to_string().len() as u64, "n = {n}");
        }
    }

    #[test]
    fn commands_weigh_what_resp_spells() {
        // *2\r\n$3\r\nGET\r\n$10\r\n<10>\r\n
        assert_eq!(
            request_bytes(
                &Command::Get(K),
                Reply::Nil,
                RateLimitAlgorithm::FixedWindow
            ),
            4 + 9 + 17
        );
        // *6\r\n$3\r\nSET\r\n$10\r\n<10>\r\n$100\r\n<100>\r\n$2\r\nPX\r\n$5\r\n60000\r\n$2\r\nNX\r\n
        let set = Command::Set {
            key: K,
            value_size: 100,
            ttl_ms: 60_000,
            nx: true,
            stamp: 0,
        };
        assert_eq!(
            request_bytes(&set, Reply::Ok, RateLimitAlgorithm::FixedWindow),
            4 + 9 + 17 + 108 + 8 + 11 + 8
        );
        let plain = Command::Set {
            key: K,
            value_size: 100,
            ttl_ms: 0,
            nx: false,
            stamp: 0,
        };
        assert_eq!(
            request_bytes(&plain, Reply::Ok, RateLimitAlgorithm::FixedWindow),
            4 + 9 + 17 + 108
        );
        // INCR + PEXPIRE only when the counter is new.
        let incr = Command::IncrExpire {
            key: K,
            ttl_ms: 1000,
        };
        let alg = RateLimitAlgorithm::FixedWindow;
        assert_eq!(request_bytes(&incr, Reply::Integer(2), alg), 4 + 10 + 17);
        assert_eq!(
            request_bytes(&incr, Reply::Integer(1), alg),
            4 + 10 + 17 + 4 + 13 + 17 + 10
        );
        assert_eq!(reply_bytes(&incr, Reply::Integer(1), 0, alg), 8);
        assert_eq!(reply_bytes(&incr, Reply::Integer(12), 0, alg), 5);
    }

    #[test]
    fn replies_weigh_what_resp_spells() {
        let alg = RateLimitAlgorithm::FixedWindow;
        let get = Command::Get(K);
        assert_eq!(
            reply_bytes(&get, Reply::Value, 100, alg),
            1 + 3 + 2 + 100 + 2
        );
        assert_eq!(
            reply_bytes(&get, Reply::Nil, 0, alg),
            "$-1\r\n".len() as u64
        );
        assert_eq!(reply_bytes(&get, Reply::Ok, 0, alg), "+OK\r\n".len() as u64);
        assert_eq!(reply_bytes(&get, Reply::Oom, 0, alg), 58);
        assert_eq!(digits(-12), 3);
        assert_eq!(digits(0), 1);
        assert_eq!(digits(1_000_000), 7);
    }
}
