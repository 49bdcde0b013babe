//! Cache trace readers and writers (libCacheSim formats plus our kv-csv).
//!
//! This module owns the trace request type, the trace formats and their names, the streaming
//! reader interface ([`TraceSource`]), opening a trace file (with `.zst` / `.gz` decompression
//! picked by suffix), the reader errors ([`TraceError`]) and the synthetic trace generator
//! ([`gen`]). Every reader streams: it never loads a whole trace into memory.
//!
//! Formats (see `shared/traces/README.md` for the byte layouts):
//! - `oracleGeneral`: 24-byte little-endian records ([`oracle`]).
//! - `vscsi`: 32-byte (version 1) or 40-byte (version 2) records ([`vscsi`]).
//! - `twr`: Twitter's 20-byte binary records ([`twr`]).
//! - `txt`: one object id per line ([`txt`]).
//! - `csv`: libCacheSim's configurable CSV ([`csv`]).
//! - `kv-csv`: our key/value stream `key,value_size,ttl_s` ([`kvcsv`]).

pub mod compress;
pub mod csv;
mod fixed;
pub mod gen;
pub mod kvcsv;
pub mod oracle;
pub mod twr;
pub mod txt;
pub mod vscsi;

use std::fmt;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;

use crate::engine::rng::{fnv1a64, splitmix64};

pub use self::csv::CsvOptions;

/// One request of a cache trace, whatever the file format.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TraceRequest {
    /// Trace time of the request in milliseconds (0 where the format has no time).
    pub time_ms: u64,
    /// Object id (for string keys: a 64-bit hash of the key).
    pub obj_id: u64,
    /// Object size in bytes as libCacheSim counts it (for `twr`: key size + value size).
    pub obj_size: u32,
    /// Key length in bytes for the Redis memory model; 0 when the format has no key
    /// (then the Redis model names the key by the decimal digits of `obj_id`).
    pub key_size: u32,
    /// Value length in bytes for the Redis memory model.
    pub value_size: u32,
    /// Whole-second time to live, for requests built by hand (the in-process L1 cache); read
    /// only when `ttl_ms` is 0. Trace readers leave it 0 and fill `ttl_ms`.
    pub ttl_s: u32,
    /// Time to live in milliseconds set on insert (as `SET ... PX`); 0 = none (then `ttl_s`
    /// applies). Use [`TraceRequest::insert_ttl_ms`] to read the TTL.
    pub ttl_ms: u64,
    /// oracleGeneral's `next_access_vtime` (absolute 1-based position, -1 none); -2 elsewhere.
    pub next_access_vtime: i64,
}

impl TraceRequest {
    /// The TTL an insert gives the object, in ms: `ttl_ms`, or else `ttl_s` seconds; 0 = none.
    #[inline]
    pub fn insert_ttl_ms(&self) -> u64 {
        if self.ttl_ms > 0 {
            self.ttl_ms
        } else {
            self.ttl_s as u64 * 1000
        }
    }
}

/// The longest TTL a trace may give: 4,294,967,295 s (about 136 years), in ms.
pub const MAX_TTL_MS: u64 = u32::MAX as u64 * 1000;

/// `next_access_vtime` value for formats that do not carry it.
pub const NO_NEXT_ACCESS_INFO: i64 = -2;

/// `next_access_vtime` value meaning "no later request to this object".
pub const NEVER_ACCESSED_AGAIN: i64 = -1;

/// The stable 64-bit object id of a string key: FNV-1a 64 of the key bytes, mixed through one
/// SplitMix64 step. Used by the `csv` (string ids), `txt` (non-numeric lines) and `kv-csv`
/// readers, so the same key always maps to the same id on every platform and release.
#[inline]
pub fn key_to_obj_id(key: &[u8]) -> u64 {
    let mut state = fnv1a64(key);
    splitmix64(&mut state)
}

/// Where in a trace file an error was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TracePosition {
    /// 1-based record number of a binary trace.
    Record(u64),
    /// 1-based line number of a text trace (the header, if any, is line 1).
    Line(u64),
}

/// A trace that cannot be opened or read: names the file, the record or line, and the problem.
///
/// Displays as, for example, `trace.bin: record 1234: truncated record (got 7 of 24 bytes)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceError {
    /// The trace's file name (or the name given to [`from_reader`]).
    pub file: String,
    /// The record or line at fault, when the error concerns one.
    pub position: Option<TracePosition>,
    /// What is wrong.
    pub message: String,
}

impl TraceError {
    /// An error about the whole trace (no record or line).
    pub fn new(file: &str, message: impl Into<String>) -> TraceError {
        TraceError {
            file: file.to_string(),
            position: None,
            message: message.into(),
        }
    }

    /// An error about the 1-based record `record` of a binary trace.
    pub fn at_record(file: &str, record: u64, message: impl Into<String>) -> TraceError {
        TraceError {
            file: file.to_string(),
            position: Some(TracePosition::Record(record)),
            message: message.into(),
        }
    }

    /// An error about the 1-based line `line` of a text trace.
    pub fn at_line(file: &str, line: u64, message: impl Into<String>) -> TraceError {
        TraceError {
            file: file.to_string(),
            position: Some(TracePosition::Line(line)),
            message: message.into(),
        }
    }
}

impl fmt::Display for TraceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.position {
            Some(TracePosition::Record(n)) => {
                write!(f, "{}: record {}: {}", self.file, n, self.message)
            }
            Some(TracePosition::Line(n)) => {
                write!(f, "{}: line {}: {}", self.file, n, self.message)
            }
            None => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

impl std::error::Error for TraceError {}

/// A cache trace file format.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TraceFormat {
    /// libCacheSim's `oracleGeneral`: 24-byte records with `next_access_vtime`.
    OracleGeneral,
    /// libCacheSim's `csv`, with its column options.
    Csv(CsvOptions),
    /// libCacheSim's `txt`: one object id per line, every size 1.
    Txt,
    /// libCacheSim's `twr`: Twitter's 20-byte binary records with key/value sizes and TTL.
    Twr,
    /// Our key/value CSV stream with header `key,value_size,ttl_s`.
    KvCsv,
    /// libCacheSim's `vscsi` block-I/O trace (version 1 or 2, told apart from the data).
    Vscsi,
}

/// How many times smaller than its content a compressed trace is assumed to be at most, when
/// estimating memory (see [`TraceFormat::max_requests`]).
pub const ASSUMED_MAX_COMPRESSION: u64 = 64;

/// The exact header line of a kv-csv stream.
pub const KV_CSV_HEADER: &str = "key,value_size,ttl_s";

impl TraceFormat {
    /// The format named `name` in libCacheSim's spelling: `"oracleGeneral"`, `"csv"`, `"txt"`,
    /// `"twr"`, `"vscsi"`, plus our `"kv-csv"` (matched case-insensitively). `csv_params` is
    /// libCacheSim's trace-type params string (`-t`), for example
    /// `"time-col=2, obj-id-col=5, obj-size-col=4, delimiter=,, has-header=true"`; `csv` needs it,
    /// every other format rejects a non-empty one.
    pub fn parse(name: &str, csv_params: Option<&str>) -> Result<TraceFormat, TraceError> {
        let lower = name.trim().to_ascii_lowercase();
        let params = csv_params.map(str::trim).filter(|p| !p.is_empty());
        let format = match lower.as_str() {
            "oraclegeneral" => TraceFormat::OracleGeneral,
            "txt" | "plaintxt" => TraceFormat::Txt,
            "twr" => TraceFormat::Twr,
            "vscsi" => TraceFormat::Vscsi,
            "kv-csv" | "kvcsv" | "kv_csv" => TraceFormat::KvCsv,
            "csv" => {
                let Some(p) = params else {
                    return Err(TraceError::new(
                        "csv",
                        "the csv trace type needs params naming at least obj-id-col \
                         (for example \"obj-id-col=1, delimiter=,, has-header=false\")",
                    ));
                };
                return Ok(TraceFormat::Csv(CsvOptions::parse(p)?));
            }
            _ => {
                return Err(TraceError::new(
                    name,
                    "unknown trace format (expected one of oracleGeneral, csv, txt, twr, \
                     vscsi, kv-csv)",
                ))
            }
        };
        if let Some(p) = params {
            return Err(TraceError::new(
                name,
                format!("trace-type params \"{p}\" apply only to the csv format"),
            ));
        }
        Ok(format)
    }

    /// The fewest bytes one request takes in an uncompressed file of this format: a record
    /// (oracleGeneral 24, twr 20, vscsi 32) or the shortest line (`1\n` for txt and csv,
    /// `k,1,\n` for kv-csv).
    pub fn min_request_bytes(&self) -> u64 {
        match self {
            TraceFormat::OracleGeneral => 24,
            TraceFormat::Twr => 20,
            TraceFormat::Vscsi => 32,
            TraceFormat::Txt | TraceFormat::Csv(_) => 2,
            TraceFormat::KvCsv => 5,
        }
    }

    /// The most requests (hence distinct objects) a trace file of `file_bytes` can hold, for
    /// memory estimates: exact for an uncompressed file; for `.zst`/`.gz` (`compressed`) the
    /// content is taken as at most `ASSUMED_MAX_COMPRESSION` times the file, an assumption
    /// (a trace compressed further is estimated low).
    pub fn max_requests(&self, file_bytes: u64, compressed: bool) -> u64 {
        let content = if compressed {
            file_bytes.saturating_mul(ASSUMED_MAX_COMPRESSION)
        } else {
            file_bytes
        };
        content / self.min_request_bytes()
    }

    /// The format's name in libCacheSim's spelling (`"kv-csv"` for ours).
    pub fn name(&self) -> &'static str {
        match self {
            TraceFormat::OracleGeneral => "oracleGeneral",
            TraceFormat::Csv(_) => "csv",
            TraceFormat::Txt => "txt",
            TraceFormat::Twr => "twr",
            TraceFormat::KvCsv => "kv-csv",
            TraceFormat::Vscsi => "vscsi",
        }
    }

    /// Guesses the format from the file name, after removing a `.zst` or `.gz` suffix:
    /// `*.oracleGeneral[.bin]` (or any name containing `oracleGeneral`), `*.twr[.bin]`,
    /// `*.vscsi`, `*.txt`, `*.csv`. A `.csv` file is opened to peek at its header: exactly
    /// `key,value_size,ttl_s` gives kv-csv; a header naming an id column (`obj_id`, `id`, `key`,
    /// `lbn`, ...) gives `csv` with the columns found (string ids hashed); anything else `None`.
    pub fn guess(path: &Path) -> Option<TraceFormat> {
        let file_name = path.file_name()?.to_string_lossy().to_ascii_lowercase();
        let base = compress::strip_compression_suffix(&file_name);
        if base.contains("oraclegeneral") {
            return Some(TraceFormat::OracleGeneral);
        }
        if base.ends_with(".twr") || base.ends_with(".twr.bin") {
            return Some(TraceFormat::Twr);
        }
        if base.ends_with(".vscsi") {
            return Some(TraceFormat::Vscsi);
        }
        if base.ends_with(".txt") {
            return Some(TraceFormat::Txt);
        }
        if base.ends_with(".csv") {
            let reader = compress::open_decompressed(path).ok()?;
            let mut first = Vec::new();
            BufReader::new(reader)
                .take(64 * 1024)
                .read_until(b'\n', &mut first)
                .ok()?;
            let header = String::from_utf8_lossy(&first);
            let header = header.trim_end_matches(['\n', '\r']);
            if header == KV_CSV_HEADER {
                return Some(TraceFormat::KvCsv);
            }
            return CsvOptions::from_header(header).map(TraceFormat::Csv);
        }
        None
    }
}

/// A stream of trace requests read in batches.
pub trait TraceSource: Send {
    /// Fills `buf` (cleared first) with up to `max` requests and returns how many; `Ok(0)` at
    /// the end of the trace (and always when `max` is 0). When a bad record follows good ones,
    /// the good ones are returned first and the error on the next call; after an error the
    /// source is finished and returns `Ok(0)`.
    fn next_batch(&mut self, buf: &mut Vec<TraceRequest>, max: usize) -> Result<usize, TraceError>;
}

/// Opens the trace at `path` in `format`, decompressing `.zst` (zstd, possibly several frames)
/// and `.gz` (gzip, possibly several members) files on the fly, for any format.
pub fn open(path: &Path, format: &TraceFormat) -> Result<Box<dyn TraceSource>, TraceError> {
    let reader = compress::open_decompressed(path)?;
    from_reader(reader, format, &path.display().to_string())
}

/// The error-deferral rule every text reader follows: an error met after some good requests
/// is held back (`pending`) so those requests come first and the error on the next call;
/// after an error the source is `done`. `fill` appends up to `max` requests to `buf` and
/// returns the error that stopped it, if any.
pub(crate) fn next_batch_deferring_errors(
    pending: &mut Option<TraceError>,
    done: &mut bool,
    buf: &mut Vec<TraceRequest>,
    max: usize,
    fill: impl FnOnce(&mut Vec<TraceRequest>, usize) -> Option<TraceError>,
) -> Result<usize, TraceError> {
    buf.clear();
    if let Some(e) = pending.take() {
        return Err(e);
    }
    if *done || max == 0 {
        return Ok(0);
    }
    match fill(buf, max) {
        None => Ok(buf.len()),
        Some(e) => {
            *done = true;
            if buf.is_empty() {
                Err(e)
            } else {
                *pending = Some(e);
                Ok(buf.len())
            }
        }
    }
}

/// A trace source reading `format` from `reader` (already decompressed); `name` is used in
/// error messages.
pub fn from_reader(
    reader: Box<dyn Read + Send>,
    format: &TraceFormat,
    name: &str,
) -> Result<Box<dyn TraceSource>, TraceError> {
    Ok(match format {
        TraceFormat::OracleGeneral => Box::new(oracle::OracleGeneralSource::new(reader, name)),
        TraceFormat::Twr => Box::new(twr::TwrSource::new(reader, name)),
        TraceFormat::Vscsi => Box::new(vscsi::VscsiSource::new(reader, name)),
        TraceFormat::Txt => Box::new(txt::TxtSource::new(reader, name)),
        TraceFormat::Csv(options) => Box::new(csv::CsvSource::new(reader, options, name)?),
        TraceFormat::KvCsv => Box::new(kvcsv::KvCsvSource::new(reader, name)),
    })
}

/// Turns an I/O error met while reading into a [`TraceError`].
pub(crate) fn io_error(file: &str, position: Option<TracePosition>, err: &io::Error) -> TraceError {
    TraceError {
        file: file.to_string(),
        position,
        message: format!("read error: {err}"),
    }
}

/// Opens a plain file for reading (no decompression), naming it in the error.
pub(crate) fn open_file(path: &Path) -> Result<File, TraceError> {
    File::open(path)
        .map_err(|e| TraceError::new(&path.display().to_string(), format!("cannot open: {e}")))
}

/// Parses an unsigned decimal integer (ASCII digits only, no sign, no spaces); `None` if the
/// text is empty, has another character, or overflows.
#[inline]
pub(crate) fn parse_u64(text: &[u8]) -> Option<u64> {
    if text.is_empty() || text.len() > 20 {
        return None;
    }
    let mut value: u64 = 0;
    for &b in text {
        let digit = b.wrapping_sub(b'0');
        if digit > 9 {
            return None;
        }
        value = value.checked_mul(10)?.checked_add(digit as u64)?;
    }
    Some(value)
}

/// [`parse_u64`] narrowed to `u32`.
#[inline]
pub(crate) fn parse_u32(text: &[u8]) -> Option<u32> {
    parse_u64(text).and_then(|v| u32::try_from(v).ok())
}

/// Trims ASCII whitespace at both ends.
#[inline]
pub(crate) fn trim_ascii(text: &[u8]) -> &[u8] {
    text.trim_ascii()
}

/// Shows a field in an error message: lossy UTF-8, cut to 40 bytes.
pub(crate) fn show_field(text: &[u8]) -> String {
    let cut = &text[..text.len().min(40)];
    let mut s = String::from_utf8_lossy(cut).into_owned();
    if text.len() > 40 {
        s.push_str("...");
    }
    s
}

#[cfg(test)]
mod tests;
