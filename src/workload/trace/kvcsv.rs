//! Our `kv-csv` key/value request stream (used by the Redis fidelity runs): a CSV file with the
//! header `key,value_size,ttl_s` and one request per line (`ttl_s` empty = no TTL; decimal
//! seconds with millisecond precision, as `SET ... PX` takes). This module owns its reader.

use std::io::Read;

use ::csv::{ByteRecord, Reader, ReaderBuilder};

use super::csv::csv_error;
use super::{
    key_to_obj_id, parse_u32, parse_u64, show_field, TraceError, TraceRequest, TraceSource,
    KV_CSV_HEADER, MAX_TTL_MS, NO_NEXT_ACCESS_INFO,
};

/// Fields per kv-csv line.
const KV_CSV_FIELDS: usize = 3;

/// Reads a kv-csv `ttl_s` field: decimal seconds (`30`, `5.326`, `.5`, `7.`) to whole
/// milliseconds, as Redis keeps TTLs (`SET ... PX`). More than three decimals are rounded to
/// the nearest millisecond, a half upwards (`5.3265` is 5,327 ms), on the decimal digits
/// themselves (no floating point). `0` (or `0.000`) means no TTL, as an empty field does. Refused,
/// with the reason as the error: a sign, an exponent, `nan`/`inf`, anything but digits and one
/// point, a TTL above 4,294,967,295 s ([`MAX_TTL_MS`]), and a TTL above zero that rounds to
/// 0 ms (Redis's shortest TTL is 1 ms).
pub fn parse_ttl_s(text: &[u8]) -> Result<u64, String> {
    let lower = text.to_ascii_lowercase();
    let unsigned = lower.strip_prefix(b"+").unwrap_or(&lower);
    if lower.starts_with(b"-") {
        return Err("is negative: a TTL is a number of seconds of at least 0.001".to_string());
    }
    if [&b"nan"[..], b"inf", b"infinity"].contains(&unsigned) {
        return Err("is not a finite number of seconds".to_string());
    }
    let (whole, frac) = match text.iter().position(|&b| b == b'.') {
        Some(dot) => (&text[..dot], &text[dot + 1..]),
        None => (text, &b""[..]),
    };
    let digits_only = |t: &[u8]| t.iter().all(u8::is_ascii_digit);
    if (whole.is_empty() && frac.is_empty()) || !digits_only(whole) || !digits_only(frac) {
        return Err("is not a number of seconds (write e.g. 30 or 5.326)".to_string());
    }
    let too_long = || format!("is above the longest TTL, {} s", MAX_TTL_MS / 1000);
    // Leading zeros are harmless; more than 20 significant digits is too long anyway.
    let whole = &whole[whole.iter().take_while(|&&b| b == b'0').count()..];
    let seconds = if whole.is_empty() {
        0
    } else {
        parse_u64(whole).ok_or_else(too_long)?
    };
    let digit = |i: usize| frac.get(i).map_or(0, |&b| (b - b'0') as u64);
    let mut ms = seconds
        .checked_mul(1000)
        .and_then(|ms| ms.checked_add(digit(0) * 100 + digit(1) * 10 + digit(2)))
        .ok_or_else(too_long)?;
    if digit(3) >= 5 {
        ms += 1;
    }
    if ms > MAX_TTL_MS {
        return Err(too_long());
    }
    if ms == 0 && frac.iter().any(|&b| b != b'0') {
        return Err(
            "rounds to 0 ms: Redis's shortest TTL is 1 ms (0.001; leave it empty for none)"
                .to_string(),
        );
    }
    Ok(ms)
}

/// A streaming reader of a kv-csv stream. The first line must be exactly
/// `key,value_size,ttl_s`. Each later line is one GET: `obj_id` = [`key_to_obj_id`] of the key
/// bytes (taken as they are, not trimmed), `key_size` = the key's length in bytes,
/// `value_size = obj_size` = the `value_size` column (at least 1), `ttl_ms` = the `ttl_s` column
/// read by [`parse_ttl_s`] (decimal seconds to whole ms; empty or 0 = none), `time_ms = 0`. A
/// line with another field count, an empty key, a non-numeric size or a TTL `parse_ttl_s`
/// refuses is an error naming the line and field. One record buffer is reused: no allocation
/// per line.
pub struct KvCsvSource {
    reader: Reader<Box<dyn Read + Send>>,
    record: ByteRecord,
    name: String,
    header_checked: bool,
    pending: Option<TraceError>,
    done: bool,
}

impl KvCsvSource {
    /// Reads a kv-csv stream from `reader`; `name` names the trace in errors.
    pub fn new(reader: Box<dyn Read + Send>, name: &str) -> KvCsvSource {
        let reader = ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .buffer_capacity(1 << 20)
            .from_reader(reader);
        KvCsvSource {
            reader,
            record: ByteRecord::new(),
            name: name.to_string(),
            header_checked: false,
            pending: None,
            done: false,
        }
    }

    /// The current record's line number.
    fn line(&self) -> u64 {
        self.record.position().map_or(0, |p| p.line())
    }

    /// Reads and checks the header line.
    fn check_header(&mut self) -> Result<(), TraceError> {
        match self.reader.read_byte_record(&mut self.record) {
            Ok(true) => {}
            Ok(false) => return Ok(()), // empty stream: no requests
            Err(e) => return Err(csv_error(&self.name, &e)),
        }
        let fields: Vec<&[u8]> = self.record.iter().collect();
        if fields != [&b"key"[..], b"value_size", b"ttl_s"] {
            return Err(TraceError::at_line(
                &self.name,
                self.line(),
                format!("expected the header \"{KV_CSV_HEADER}\""),
            ));
        }
        Ok(())
    }

    /// Decodes the current record.
    fn decode(&self) -> Result<TraceRequest, TraceError> {
        let err = |msg: String| TraceError::at_line(&self.name, self.line(), msg);
        let n = self.record.len();
        if n != KV_CSV_FIELDS {
            return Err(err(format!(
                "wrong column count: expected {KV_CSV_FIELDS}, got {n}"
            )));
        }
        let key = self.record.get(0).unwrap_or_default();
        let value = self.record.get(1).unwrap_or_default();
        let ttl = self.record.get(2).unwrap_or_default();
        if key.is_empty() {
            return Err(err("empty key".to_string()));
        }
        let key_size =
            u32::try_from(key.len()).map_err(|_| err("key longer than 4 GiB".to_string()))?;
        let value_size = match parse_u32(value) {
            Some(0) => return Err(err("value_size is 0".to_string())),
            Some(v) => v,
            None => {
                return Err(err(format!(
                    "value_size \"{}\" is not an integer in 1..=4294967295",
                    show_field(value)
                )))
            }
        };
        let ttl_ms = if ttl.is_empty() {
            0
        } else {
            parse_ttl_s(ttl).map_err(|why| err(format!("ttl_s \"{}\" {why}", show_field(ttl))))?
        };
        Ok(TraceRequest {
            time_ms: 0,
            obj_id: key_to_obj_id(key),
            obj_size: value_size,
            key_size,
            value_size,
            ttl_s: 0,
            ttl_ms,
            next_access_vtime: NO_NEXT_ACCESS_INFO,
        })
    }

    /// Fills `buf` up to `max`; returns the error that stopped it, if any.
    fn fill(&mut self, buf: &mut Vec<TraceRequest>, max: usize) -> Option<TraceError> {
        if !self.header_checked {
            self.header_checked = true;
            if let Err(e) = self.check_header() {
                return Some(e);
            }
        }
        while buf.len() < max {
            match self.reader.read_byte_record(&mut self.record) {
                Ok(true) => {}
                Ok(false) => {
                    self.done = true;
                    return None;
                }
                Err(e) => return Some(csv_error(&self.name, &e)),
            }
            match self.decode() {
                Ok(req) => buf.push(req),
                Err(e) => return Some(e),
            }
        }
        None
    }
}

impl TraceSource for KvCsvSource {
    fn next_batch(&mut self, buf: &mut Vec<TraceRequest>, max: usize) -> Result<usize, TraceError> {
        let mut pending = self.pending.take();
        let mut done = self.done;
        let r = super::next_batch_deferring_errors(&mut pending, &mut done, buf, max, |b, m| {
            self.fill(b, m)
        });
        self.pending = pending;
        self.done = done;
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(text: &str) -> Result<Vec<TraceRequest>, String> {
        let mut src = KvCsvSource::new(Box::new(std::io::Cursor::new(text.to_string())), "kv.csv");
        let mut all = Vec::new();
        let mut buf = Vec::new();
        loop {
            match src.next_batch(&mut buf, 2) {
                Ok(0) => return Ok(all),
                Ok(_) => all.extend_from_slice(&buf),
                Err(e) => return Err(e.to_string()),
            }
        }
    }

    #[test]
    fn reads_keys_sizes_and_ttls() {
        let got = read_all("key,value_size,ttl_s\nk:1,512,\nk:22,100,30\nk:1,512,\n");
        let Ok(got) = got else { panic!("{got:?}") };
        assert_eq!(got.len(), 3);
        assert_eq!(got[0].obj_id, key_to_obj_id(b"k:1"));
        assert_eq!(got[0].obj_id, got[2].obj_id);
        assert_eq!(
            (
                got[0].key_size,
                got[0].value_size,
                got[0].obj_size,
                got[0].ttl_s
            ),
            (3, 512, 512, 0)
        );
        assert_eq!(
            (got[1].key_size, got[1].value_size, got[1].ttl_ms),
            (4, 100, 30_000)
        );
    }

    #[test]
    fn ttl_s_takes_decimal_seconds_to_the_millisecond() {
        let ok = |t: &str| parse_ttl_s(t.as_bytes());
        assert_eq!(ok("5.326"), Ok(5_326));
        assert_eq!(ok("30"), Ok(30_000));
        assert_eq!(ok("0.001"), Ok(1));
        assert_eq!(ok(".5"), Ok(500));
        assert_eq!(ok("7."), Ok(7_000));
        assert_eq!(ok("0"), Ok(0));
        assert_eq!(ok("0.000"), Ok(0));
        assert_eq!(ok("007.25"), Ok(7_250));
        // More than three decimals: to the nearest ms, a half upwards.
        assert_eq!(ok("5.3264999"), Ok(5_326));
        assert_eq!(ok("5.3265"), Ok(5_327));
        assert_eq!(ok("0.9995"), Ok(1_000));
        assert_eq!(ok("4294967295"), Ok(MAX_TTL_MS));
        assert_eq!(ok("4294967294.9996"), Ok(MAX_TTL_MS));
        for bad in [
            "-1",
            "-0.5",
            "NaN",
            "nan",
            "inf",
            "-inf",
            "+inf",
            "Infinity",
            "1e3",
            "5,3",
            "",
            ".",
            "1.2.3",
            " 5",
            "5 ",
            "0x10",
            "4294967295.001",
            "99999999999999999999999",
            "0.0004",
            "0.00049",
        ] {
            assert!(ok(bad).is_err(), "{bad:?} -> {:?}", ok(bad));
        }
        assert!(ok("-3").unwrap_err().contains("negative"));
        assert!(ok("NaN").unwrap_err().contains("finite"));
        assert!(ok("0.0004").unwrap_err().contains("rounds to 0 ms"));
        let got = read_all("key,value_size,ttl_s\nk:1,512,5.326\nk:2,1,0.0005\n").unwrap();
        assert_eq!((got[0].ttl_ms, got[0].insert_ttl_ms()), (5_326, 5_326));
        assert_eq!(got[1].ttl_ms, 1);
    }

    #[test]
    fn errors_name_the_line() {
        assert_eq!(
            read_all("key,size\n").err().as_deref(),
            Some("kv.csv: line 1: expected the header \"key,value_size,ttl_s\"")
        );
        assert_eq!(
            read_all("key,value_size,ttl_s\nk:1,512,\nk:2,x,\n")
                .err()
                .as_deref(),
            Some("kv.csv: line 3: value_size \"x\" is not an integer in 1..=4294967295")
        );
        assert_eq!(
            read_all("key,value_size,ttl_s\nk:1,512\n").err().as_deref(),
            Some("kv.csv: line 2: wrong column count: expected 3, got 2")
        );
        assert_eq!(read_all("").ok().map(|v| v.len()), Some(0));
        assert_eq!(
            read_all("key,value_size,ttl_s\nk:1,512,1\nk:2,5,-2.5\n")
                .err()
                .as_deref(),
            Some(
                "kv.csv: line 3: ttl_s \"-2.5\" is negative: a TTL is a number of seconds of at \
                 least 0.001"
            )
        );
        assert_eq!(
            read_all("key,value_size,ttl_s\nk:1,512,NaN\n")
                .err()
                .as_deref(),
            Some("kv.csv: line 2: ttl_s \"NaN\" is not a finite number of seconds")
        );
    }
}
