//! How a shard's main-thread time differs by command (`ServiceScale`): the factor each command
//! class multiplies the cluster's sampled service time by. Built in, every single command
//! takes the sampled time and the rate-limit writes that carry several commands in one round
//! trip take 1.5× (token-bucket script) and 2× (sliding-window transaction), an assumption. A
//! calibration file's measured `usec_per_call` figures replace these factors (see
//! `calibrate::service`); this module owns only the classes, the array and the lookup, which
//! the simulation's hottest loop calls once per command: a `match` and an index, no map, no
//! allocation.

use super::command::{Command, ObjectType};

/// What a command is, for its service time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum CommandClass {
    /// GET (also a lease or lock read).
    Get,
    /// SET with or without PX / NX.
    Set,
    /// INCR of a fixed-window counter (its PEXPIRE when created is not counted apart).
    Incr,
    /// DEL (also the compare-and-delete of a lock, and a delete-on-event's DELs).
    Del,
    /// PEXPIRE (session refresh).
    Pexpire,
    /// The token-bucket script: EVALSHA running HMGET, HSET, PEXPIRE.
    TokenBucket,
    /// The sliding-window transaction: MULTI, ZREMRANGEBYSCORE, ZADD, ZCARD, PEXPIRE, EXEC.
    SlidingWindow,
}

/// Number of command classes (the length of `ServiceScale`'s arrays).
pub const N_COMMAND_CLASSES: usize = 7;

impl CommandClass {
    /// Every class, in index order.
    pub const ALL: [CommandClass; N_COMMAND_CLASSES] = [
        CommandClass::Get,
        CommandClass::Set,
        CommandClass::Incr,
        CommandClass::Del,
        CommandClass::Pexpire,
        CommandClass::TokenBucket,
        CommandClass::SlidingWindow,
    ];

    /// The class of a command the model executes.
    #[inline]
    pub fn of(cmd: &Command) -> CommandClass {
        match cmd {
            Command::Get(_) => CommandClass::Get,
            Command::Set { .. } => CommandClass::Set,
            Command::IncrExpire { .. } => CommandClass::Incr,
            Command::Del(_) => CommandClass::Del,
            Command::Expire { .. } => CommandClass::Pexpire,
            Command::WriteObject {
                object_type: ObjectType::Hash,
                ..
            } => CommandClass::TokenBucket,
            Command::WriteObject {
                object_type: ObjectType::Zset,
                ..
            } => CommandClass::SlidingWindow,
        }
    }

    /// How the console names it.
    pub fn label(self) -> &'static str {
        match self {
            CommandClass::Get => "GET",
            CommandClass::Set => "SET",
            CommandClass::Incr => "INCR",
            CommandClass::Del => "DEL",
            CommandClass::Pexpire => "PEXPIRE",
            CommandClass::TokenBucket => "token-bucket EVALSHA",
            CommandClass::SlidingWindow => "sliding-window MULTI/EXEC",
        }
    }

    /// The INFO commandstats names whose `usec_per_call` add up to one request of this class
    /// (EXEC's and EVALSHA's own figures include the commands they run).
    pub fn redis_commands(self) -> &'static [&'static str] {
        match self {
            CommandClass::Get => &["get"],
            CommandClass::Set => &["set"],
            CommandClass::Incr => &["incr"],
            CommandClass::Del => &["del"],
            CommandClass::Pexpire => &["pexpire"],
            CommandClass::TokenBucket => &["evalsha"],
            CommandClass::SlidingWindow => &["multi", "exec"],
        }
    }

    /// The built-in factor: 1 for a single command; the rate-limit writes carry several
    /// commands in one round trip, taken as 1.5× (script) and 2× (transaction) a single
    /// command's time (an assumption: parsing and executing the extra commands).
    pub fn builtin_factor(self) -> f64 {
        match self {
            CommandClass::TokenBucket => 1.5,
            CommandClass::SlidingWindow => 2.0,
            _ => 1.0,
        }
    }
}

/// Per command class, the factor on the sampled service time, and whether it was measured.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ServiceScale {
    /// Factor by `CommandClass as usize`.
    pub factor: [f64; N_COMMAND_CLASSES],
    /// Whether a calibration measured it (false: the built-in factor).
    pub calibrated: [bool; N_COMMAND_CLASSES],
}

impl Default for ServiceScale {
    fn default() -> ServiceScale {
        ServiceScale {
            factor: CommandClass::ALL.map(CommandClass::builtin_factor),
            calibrated: [false; N_COMMAND_CLASSES],
        }
    }
}

impl ServiceScale {
    /// The factor of `cmd`'s class.
    #[inline]
    pub fn factor_of(&self, cmd: &Command) -> f64 {
        self.of_class(CommandClass::of(cmd))
    }

    /// The factor of command class `class`.
    #[inline]
    pub fn of_class(&self, class: CommandClass) -> f64 {
        self.factor[class as usize]
    }

    /// True when some class's factor was measured.
    pub fn is_calibrated(&self) -> bool {
        self.calibrated.iter().any(|&c| c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::redis::db::KeyRef;

    #[test]
    fn every_command_has_its_class_and_the_builtin_factors_are_the_old_assumption() {
        let key = KeyRef { id: 1, len: 8 };
        let object = |object_type| Command::WriteObject {
            key,
            object_bytes: 64,
            object_type,
            ttl_ms: 0,
        };
        let commands = [
            Command::Get(key),
            Command::Set {
                key,
                value_size: 10,
                ttl_ms: 5,
                nx: true,
                stamp: 0,
            },
            Command::IncrExpire { key, ttl_ms: 10 },
            Command::Del(key),
            Command::Expire { key, ttl_ms: 10 },
            object(ObjectType::Hash),
            object(ObjectType::Zset),
        ];
        let classes: Vec<CommandClass> = commands.iter().map(CommandClass::of).collect();
        assert_eq!(classes, CommandClass::ALL.to_vec());
        for (i, c) in CommandClass::ALL.iter().enumerate() {
            assert_eq!(*c as usize, i);
        }
        let s = ServiceScale::default();
        let factors: Vec<f64> = commands.iter().map(|c| s.factor_of(c)).collect();
        assert_eq!(factors, vec![1.0, 1.0, 1.0, 1.0, 1.0, 1.5, 2.0]);
        assert!(!s.is_calibrated());
    }
}
