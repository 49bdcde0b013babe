//! How replay results leave the program: an aligned text table for people, JSON lines (one
//! object per job, a fixed set of keys, absent figures as `null`) for tools, and the parser for
//! the cache sizes a user lists (`"500,5000,20000"`, `"64mb,1gib"`). Formats strings and writes
//! to a caller's writer; it opens no files.

use super::driver::ReplayResult;
use serde::Serialize;
use std::fmt;
use std::io::{self, Write};

/// Renders results as an aligned table, one row per job, in the given order. Ratios have six
/// decimals; absent figures show as `-`. A `hit_ratio_after_split` column appears when any result
/// has a split.
pub fn format_table(results: &[ReplayResult]) -> String {
    let with_split = results.iter().any(|r| r.n_req_after_split.is_some());
    let mut header = vec![
        "policy",
        "cache_size",
        "n_req",
        "hit_ratio",
        "miss_ratio",
        "byte_miss_ratio",
        "evicted_keys",
        "expired_keys",
        "keys_end",
        "used_memory_end",
        "rejected_writes",
    ];
    if with_split {
        header.push("hit_ratio_after_split");
    }
    let ratio = |r: Option<f64>| r.map_or_else(|| "-".to_string(), |v| format!("{v:.6}"));
    let count = |c: Option<u64>| c.map_or_else(|| "-".to_string(), |v| v.to_string());
    let mut rows: Vec<Vec<String>> = vec![header.iter().map(|h| h.to_string()).collect()];
    for r in results {
        let mut row = vec![
            r.policy.clone(),
            r.cache_size.to_string(),
            r.n_req.to_string(),
            ratio(r.hit_ratio()),
            ratio(r.miss_ratio()),
            ratio(r.byte_miss_ratio()),
            count(r.end.evicted_keys),
            count(r.end.expired_keys),
            count(r.end.keys_end),
            count(r.end.used_memory_end),
            count(r.end.rejected_writes),
        ];
        if with_split {
            row.push(ratio(r.hit_ratio_after_split()));
        }
        rows.push(row);
    }
    let widths: Vec<usize> = (0..header.len())
        .map(|c| rows.iter().map(|row| row[c].len()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for row in &rows {
        let cells: Vec<String> = row
            .iter()
            .enumerate()
            .map(|(c, cell)| {
                if c == 0 {
                    format!("{cell:<w$}", w = widths[c])
                } else {
                    format!("{cell:>w$}", w = widths[c])
                }
            })
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    out
}

/// The JSON-lines schema: one object per job, keys in this order.
#[derive(Serialize)]
struct JsonRow<'a> {
    policy: &'a str,
    cache_size: u64,
    n_req: u64,
    n_hit: u64,
    n_miss: u64,
    hit_ratio: Option<f64>,
    miss_ratio: Option<f64>,
    n_req_byte: u64,
    n_miss_byte: u64,
    byte_miss_ratio: Option<f64>,
    evicted_keys: Option<u64>,
    expired_keys: Option<u64>,
    keys_end: Option<u64>,
    used_memory_end: Option<u64>,
    rejected_writes: Option<u64>,
    /// Outer `None`: no split was given (key left out); inner `None`: `null`.
    #[serde(skip_serializing_if = "Option::is_none")]
    hit_ratio_after_split: Option<Option<f64>>,
}

/// One result as a JSON object on one line (no trailing newline). The key
/// `hit_ratio_after_split` is present only when the replay had a split.
pub fn json_line(result: &ReplayResult) -> String {
    let row = JsonRow {
        policy: &result.policy,
        cache_size: result.cache_size,
        n_req: result.n_req,
        n_hit: result.n_hit,
        n_miss: result.n_miss,
        hit_ratio: result.hit_ratio(),
        miss_ratio: result.miss_ratio(),
        n_req_byte: result.n_req_byte,
        n_miss_byte: result.n_miss_byte,
        byte_miss_ratio: result.byte_miss_ratio(),
        evicted_keys: result.end.evicted_keys,
        expired_keys: result.end.expired_keys,
        keys_end: result.end.keys_end,
        used_memory_end: result.end.used_memory_end,
        rejected_writes: result.end.rejected_writes,
        hit_ratio_after_split: result
            .n_req_after_split
            .map(|_| result.hit_ratio_after_split()),
    };
    // A struct of numbers, options and a string always serializes.
    serde_json::to_string(&row).unwrap_or_default()
}

/// Writes one JSON line per result, in order.
pub fn write_json_lines<W: Write>(results: &[ReplayResult], out: &mut W) -> io::Result<()> {
    for result in results {
        out.write_all(json_line(result).as_bytes())?;
        out.write_all(b"\n")?;
    }
    Ok(())
}

/// A cache-size list item that is not a positive size.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CacheSizeError {
    /// The offending item, as written.
    pub item: String,
    /// What is wrong with it.
    pub reason: String,
}

impl fmt::Display for CacheSizeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "cache size {:?}: {} (expected a positive integer, optionally with a kb/mb/gb/tb \
             or kib/mib/gib/tib suffix, powers of 1024)",
            self.item, self.reason
        )
    }
}

impl std::error::Error for CacheSizeError {}

/// Parses a comma-separated list of cache sizes. Each item is a positive integer with an
/// optional, case-insensitive suffix `kb`/`kib` (x1024), `mb`/`mib` (x1024^2), `gb`/`gib`
/// (x1024^3) or `tb`/`tib` (x1024^4), as libCacheSim treats them. Zero, an empty item, an unknown
/// suffix or an overflow is an error naming the item.
pub fn parse_cache_sizes(text: &str) -> Result<Vec<u64>, CacheSizeError> {
    text.split(',').map(parse_cache_size).collect()
}

fn parse_cache_size(item: &str) -> Result<u64, CacheSizeError> {
    let err = |reason: &str| CacheSizeError {
        item: item.to_string(),
        reason: reason.to_string(),
    };
    let trimmed = item.trim();
    if trimmed.is_empty() {
        return Err(err("empty item"));
    }
    let digits_end = trimmed
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(trimmed.len());
    let (digits, suffix) = trimmed.split_at(digits_end);
    if digits.is_empty() {
        return Err(err("does not start with a number"));
    }
    let multiplier: u64 = match suffix.trim().to_ascii_lowercase().as_str() {
        "" => 1,
        "kb" | "kib" => 1 << 10,
        "mb" | "mib" => 1 << 20,
        "gb" | "gib" => 1 << 30,
        "tb" | "tib" => 1 << 40,
        _ => return Err(err("unknown suffix")),
    };
    let number: u64 = digits.parse().map_err(|_| err("number too large"))?;
    let size = number
        .checked_mul(multiplier)
        .ok_or_else(|| err("number too large"))?;
    if size == 0 {
        return Err(err("size must be above zero"));
    }
    Ok(size)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::replay::EndFigures;

    fn result(split: bool) -> ReplayResult {
        ReplayResult {
            policy: "lru".into(),
            cache_size: 500,
            n_req: 10,
            n_hit: 4,
            n_miss: 6,
            n_req_byte: 1000,
            n_miss_byte: 250,
            hits_after_split: split.then_some(2),
            n_req_after_split: split.then_some(5),
            end: EndFigures {
                evicted_keys: Some(3),
                expired_keys: None,
                keys_end: Some(2),
                used_memory_end: Some(2),
                rejected_writes: None,
            },
        }
    }

    fn keys_of(line: &str) -> Vec<String> {
        // serde_json without preserve_order sorts keys in a Map, so read keys off the text.
        let mut keys = Vec::new();
        let mut rest = line;
        while let Some(start) = rest.find("\"") {
            let after = &rest[start + 1..];
            let end = after.find('"').unwrap();
            let token = &after[..end];
            rest = &after[end + 1..];
            if rest.starts_with(':') {
                keys.push(token.to_string());
            }
        }
        keys
    }

    #[test]
    fn json_keys_exactly_as_specified() {
        let base = [
            "policy",
            "cache_size",
            "n_req",
            "n_hit",
            "n_miss",
            "hit_ratio",
            "miss_ratio",
            "n_req_byte",
            "n_miss_byte",
            "byte_miss_ratio",
            "evicted_keys",
            "expired_keys",
            "keys_end",
            "used_memory_end",
            "rejected_writes",
        ];
        let line = json_line(&result(false));
        assert_eq!(keys_of(&line), base);
        let value: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(value["expired_keys"], serde_json::Value::Null);
        assert_eq!(value["rejected_writes"], serde_json::Value::Null);
        let mut redis = result(false);
        redis.end.rejected_writes = Some(7);
        let value: serde_json::Value = serde_json::from_str(&json_line(&redis)).unwrap();
        assert_eq!(value["rejected_writes"], 7);
        assert_eq!(value["hit_ratio"], 0.4);
        assert_eq!(value["byte_miss_ratio"], 0.25);
        assert_eq!(value["policy"], "lru");

        let line = json_line(&result(true));
        let mut with_split = base.to_vec();
        with_split.push("hit_ratio_after_split");
        assert_eq!(keys_of(&line), with_split);
        let value: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(value["hit_ratio_after_split"], 0.4);

        let mut empty = result(true);
        empty.n_req_after_split = Some(0);
        let value: serde_json::Value = serde_json::from_str(&json_line(&empty)).unwrap();
        assert_eq!(value["hit_ratio_after_split"], serde_json::Value::Null);

        let mut out = Vec::new();
        write_json_lines(&[result(false), result(false)], &mut out).unwrap();
        assert_eq!(String::from_utf8(out).unwrap().lines().count(), 2);
    }

    #[test]
    fn table_is_aligned_and_shows_absent_figures_as_dash() {
        let mut big = result(false);
        big.policy = "sieve".into();
        big.cache_size = 20_000;
        let table = format_table(&[result(false), big]);
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines.len(), 3);
        assert!(lines[0].starts_with("policy"));
        assert!(lines[1].contains("0.400000") && lines[1].contains(" -"));
        // Right-aligned numbers: every row ends at the same column.
        assert_eq!(lines[1].len(), lines[2].len());
        assert!(!table.contains("after_split"));
        assert!(format_table(&[result(true)]).contains("hit_ratio_after_split"));
    }

    #[test]
    fn cache_sizes_parse_with_binary_suffixes() {
        assert_eq!(
            parse_cache_sizes("500,5000,20000"),
            Ok(vec![500, 5_000, 20_000])
        );
        assert_eq!(
            parse_cache_sizes("1kb, 2KiB,3mb,1GiB,1 gb,1tb"),
            Ok(vec![1024, 2048, 3 << 20, 1 << 30, 1 << 30, 1 << 40])
        );
        for bad in [
            "0",
            "500,,6",
            "abc",
            "5xb",
            "-5",
            "1.5mb",
            "99999999999999999999",
        ] {
            let err = parse_cache_sizes(bad).unwrap_err();
            assert!(bad.contains(err.item.trim()), "{bad}: {err}");
        }
        let err = parse_cache_sizes("500,0kb").unwrap_err();
        assert_eq!(err.item, "0kb");
        assert!(err.to_string().contains("\"0kb\""));
        assert!(parse_cache_sizes("20000000tb").is_err());
    }
}
