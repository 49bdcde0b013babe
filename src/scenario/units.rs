//! Human forms of durations and sizes in scenario files: a field named `..._ms` takes an
//! integer of milliseconds or a string such as `"250ms"`, `"30s"`, `"5m"`, `"1h"`, `"1d"`,
//! `"1.5s"`, `"800us"`; a field named `..._bytes` takes an integer of bytes or a string such as
//! `"512b"`, `"64kb"`, `"64mb"`, `"1.5gb"` (kb/mb/gb = 1024, 1024², 1024³, as Redis reads
//! `maxmemory 64mb`; `kib/mib/gib` are accepted too).

use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;
use std::fmt;

/// A duration in milliseconds as written in a scenario (fractional ms allowed, e.g. "800us").
#[derive(Clone, Copy, Debug, PartialEq, PartialOrd)]
pub struct Millis(pub f64);

/// A size in bytes as written in a scenario.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Bytes(pub u64);

/// Parses a duration string into milliseconds.
pub fn parse_duration_ms(s: &str) -> Result<f64, String> {
    let t = s.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-' || c == '+'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let value: f64 = num
        .parse()
        .map_err(|_| format!("'{s}' is not a duration (examples: 250ms, 30s, 5m, 1h)"))?;
    let factor = match unit.trim() {
        "" | "ms" => 1.0,
        "us" | "µs" => 0.001,
        "ns" => 0.000_001,
        "s" => 1_000.0,
        "m" | "min" => 60_000.0,
        "h" => 3_600_000.0,
        "d" => 86_400_000.0,
        other => {
            return Err(format!(
                "unknown duration unit '{other}' in '{s}' (use ns, us, ms, s, m, h or d)"
            ))
        }
    };
    let ms = value * factor;
    if !ms.is_finite() {
        return Err(format!("'{s}' is not a finite duration"));
    }
    Ok(ms)
}

/// Parses a size string into bytes.
pub fn parse_bytes(s: &str) -> Result<u64, String> {
    let t = s.trim().to_ascii_lowercase();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let value: f64 = num
        .parse()
        .map_err(|_| format!("'{s}' is not a size (examples: 512b, 64kb, 64mb, 2gb)"))?;
    let factor = match unit.trim() {
        "" | "b" => 1.0,
        "k" | "kb" | "kib" => 1024.0,
        "m" | "mb" | "mib" => 1024.0 * 1024.0,
        "g" | "gb" | "gib" => 1024.0 * 1024.0 * 1024.0,
        "t" | "tb" | "tib" => 1024.0f64.powi(4),
        other => {
            return Err(format!(
                "unknown size unit '{other}' in '{s}' (use b, kb, mb, gb)"
            ))
        }
    };
    let bytes = (value * factor).round();
    if !(bytes < u64::MAX as f64) {
        return Err(format!("'{s}' is more bytes than a 64-bit count holds"));
    }
    Ok(bytes as u64)
}

struct MillisVisitor;

impl Visitor<'_> for MillisVisitor {
    type Value = Millis;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("milliseconds as a number, or a duration string such as \"30s\"")
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Millis, E> {
        Ok(Millis(v as f64))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Millis, E> {
        Ok(Millis(v as f64))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Millis, E> {
        Ok(Millis(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Millis, E> {
        parse_duration_ms(v).map(Millis).map_err(E::custom)
    }
}

impl<'de> Deserialize<'de> for Millis {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Millis, D::Error> {
        d.deserialize_any(MillisVisitor)
    }
}

struct BytesVisitor;

impl Visitor<'_> for BytesVisitor {
    type Value = Bytes;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("bytes as an integer, or a size string such as \"64mb\"")
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Bytes, E> {
        if v < 0 {
            return Err(E::custom(format!("a size cannot be negative ({v})")));
        }
        Ok(Bytes(v as u64))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Bytes, E> {
        Ok(Bytes(v))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Bytes, E> {
        if v < 0.0 || !v.is_finite() {
            return Err(E::custom(format!(
                "a size must be a non-negative number ({v})"
            )));
        }
        if v.round() >= u64::MAX as f64 {
            return Err(E::custom(format!(
                "{v} is more bytes than a 64-bit count holds"
            )));
        }
        Ok(Bytes(v.round() as u64))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Bytes, E> {
        parse_bytes(v).map(Bytes).map_err(E::custom)
    }
}

impl<'de> Deserialize<'de> for Bytes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Bytes, D::Error> {
        d.deserialize_any(BytesVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration_ms("30s").unwrap(), 30_000.0);
        assert_eq!(parse_duration_ms("5m").unwrap(), 300_000.0);
        assert_eq!(parse_duration_ms("1.5s").unwrap(), 1_500.0);
        assert_eq!(parse_duration_ms("800us").unwrap(), 0.8);
        assert_eq!(parse_duration_ms("250").unwrap(), 250.0);
        assert!(parse_duration_ms("5 parsecs").is_err());
        assert!(parse_duration_ms("abc").is_err());
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_bytes("64mb").unwrap(), 64 << 20);
        assert_eq!(parse_bytes("1.5gb").unwrap(), 3 << 29);
        assert_eq!(parse_bytes("512").unwrap(), 512);
        assert_eq!(parse_bytes("2KiB").unwrap(), 2048);
        assert!(parse_bytes("12 parsecs").is_err());
        assert!(parse_bytes("1e30").is_err() || parse_bytes("100000000000000000000tb").is_err());
        assert!(parse_bytes("100000000000000000000tb").is_err());
    }
}
