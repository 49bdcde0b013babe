//! Our `kv-csv` key/value request stream (used by the Redis fidelity runs): a CSV file with the
//! header `key,value_size,ttl_s` and one request per line (`ttl_s` empty = no TTL). This module
//! owns its reader.

use std::io::Read;

use ::csv::{ByteRecord, Reader, ReaderBuilder};

use super::csv::csv_error;
use super::{
    key_to_obj_id, parse_u32, show_field, TraceError, TraceRequest, TraceSource, KV_CSV_HEADER,
    NO_NEXT_ACCESS_INFO,
};

/// Fields per kv-csv line.
const KV_CSV_FIELDS: usize = 3;

/// A streaming reader of a kv-csv stream. The first line must be exactly
/// `key,value_size,ttl_s`. Each later line is one GET: `obj_id` = [`key_to_obj_id`] of the key
/// bytes (taken as they are, not trimmed), `key_size` = the key's length in bytes,
/// `value_size = obj_size` = the `value_size` column (at least 1), `ttl_s` = the `ttl_s` column
/// (empty = 0 = none), `time_ms = 0`. A line with another field count, an empty key, or a
/// non-numeric size or TTL is an error naming the line. One record buffer is reused: no
/// allocation per line.
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
        let ttl_s = if ttl.is_empty() {
            0
        } else {
            parse_u32(ttl).ok_or_else(|| {
                err(format!(
                    "ttl_s \"{}\" is not a number of seconds",
                    show_field(ttl)
                ))
            })?
        };
        Ok(TraceRequest {
            time_ms: 0,
            obj_id: key_to_obj_id(key),
            obj_size: value_size,
            key_size,
            value_size,
            ttl_s,
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
            (got[1].key_size, got[1].value_size, got[1].ttl_s),
            (4, 100, 30)
        );
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
    }
}
