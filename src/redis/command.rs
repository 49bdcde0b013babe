//! The commands the Redis model executes (`Command`, the data type an object write leaves:
//! `ObjectType`) and what executing one gives back (`Reply`, `Executed`).

use super::db::KeyRef;
use super::memory;

/// The data type a `Command::WriteObject` leaves (which per-type correction applies).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ObjectType {
    /// A hash (the token bucket).
    Hash,
    /// A sorted set (the sliding window).
    Zset,
}

/// A command the model executes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Command {
    /// GET key.
    Get(KeyRef),
    /// `SET key value [PX ttl] [NX]`: `ttl_ms` 0 = no TTL (and an existing TTL is removed).
    Set {
        /// The key.
        key: KeyRef,
        /// Value length in bytes.
        value_size: u32,
        /// TTL in ms, 0 for none.
        ttl_ms: u64,
        /// Only set if absent.
        nx: bool,
        /// The application's stamp of the value (0 = none), kept with the key when the shard
        /// keeps value stamps (`Shard::enable_value_stamps`) and returned by a GET hit.
        stamp: u64,
    },
    /// INCR key (creating it at 1), with PEXPIRE ttl_ms when the key was created (0 = none):
    /// the fixed-window rate-limit pair as one step.
    IncrExpire {
        /// The counter key.
        key: KeyRef,
        /// TTL given to a new counter, ms.
        ttl_ms: u64,
    },
    /// DEL key (also the compare-and-delete script when the owner matches).
    Del(KeyRef),
    /// PEXPIRE key ttl_ms on an existing key (session refresh).
    Expire {
        /// The key.
        key: KeyRef,
        /// New TTL in ms.
        ttl_ms: u64,
    },
    /// A write that leaves `key` holding a collection of `object_bytes` bytes (value object
    /// included, see `objects`) with its TTL set to `ttl_ms` (0 = keep): the sliding-window
    /// transaction (MULTI, ZREMRANGEBYSCORE, ZADD, ZCARD, PEXPIRE, EXEC) or the token-bucket
    /// script (HMGET, HSET, PEXPIRE) as one step. The object keeps its LFU field when it exists.
    WriteObject {
        /// The key.
        key: KeyRef,
        /// Bytes of the value object after the write.
        object_bytes: u32,
        /// Its data type.
        object_type: ObjectType,
        /// TTL set by the write, ms (0 = leave the TTL alone).
        ttl_ms: u64,
    },
}

impl Command {
    /// Bytes the server holds for this command's arguments while it runs: the argument vector
    /// and one string object per argument (`memory::argument_object_bytes`). networking.c
    /// processMultibulkBuffer builds them before server.c processCommand calls
    /// performEvictions, so `used_memory` at the maxmemory check counts them; they are freed
    /// after the command (networking.c freeClientArgv), a SET's value object living on in the
    /// key. Spelled as a client sends them: `SET key value [PX ms] [NX]`, `GET key`,
    /// `INCR key` (the pair's first command, the one the check can refuse), `DEL key`,
    /// `PEXPIRE key ms`. Simplification: a `WriteObject` (a transaction or script) is counted
    /// as a two-argument command on its key, not as the queued commands or script arguments.
    pub fn argv_bytes(&self) -> u64 {
        let arg = memory::argument_object_bytes;
        let digits = |n: u64| memory::decimal_digits(n) as u64;
        let (argc, args) = match *self {
            Command::Get(key) | Command::Del(key) | Command::IncrExpire { key, .. } => {
                (2, arg(3) + arg(key.len as u64))
            }
            Command::WriteObject { key, .. } => (2, arg(4) + arg(key.len as u64)),
            Command::Expire { key, ttl_ms } => {
                (3, arg(7) + arg(key.len as u64) + arg(digits(ttl_ms)))
            }
            Command::Set {
                key,
                value_size,
                ttl_ms,
                nx,
                // The application's stamp stands for the value's content: no bytes of its own.
                stamp: _,
            } => {
                let mut argc = 3;
                let mut bytes = arg(3) + arg(key.len as u64) + arg(value_size as u64);
                if ttl_ms > 0 {
                    argc += 2;
                    bytes += arg(2) + arg(digits(ttl_ms));
                }
                if nx {
                    argc += 1;
                    bytes += arg(2);
                }
                (argc, bytes)
            }
        };
        memory::argv_array_bytes(argc) + args
    }

    /// Commands flagged `denyoom` (rejected when eviction cannot free memory).
    pub fn is_denyoom(&self) -> bool {
        matches!(
            self,
            Command::Set { .. } | Command::IncrExpire { .. } | Command::WriteObject { .. }
        )
    }
}

/// The reply of a command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reply {
    /// A value was returned (GET hit).
    Value,
    /// Nil: GET miss, or SET NX on an existing key.
    Nil,
    /// OK / done (SET, DEL, PEXPIRE).
    Ok,
    /// An integer reply (INCR's new value, DEL/PEXPIRE's count).
    Integer(i64),
    /// `-OOM command not allowed when used memory > 'maxmemory'.`
    Oom,
}

/// A step's result: the reply and the main-thread CPU it used beyond the command's own
/// service time (eviction, expiry).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Executed {
    /// The reply.
    pub reply: Reply,
    /// Extra main-thread CPU in ns (eviction before the command, lazy expiry).
    pub extra_cpu_ns: u64,
    /// Keys evicted before this command.
    pub evicted: u32,
    /// A GET hit's value stamp (0: none, or not a hit; see `Shard::enable_value_stamps`).
    pub stamp: u64,
}
