//! libCacheSim's `txt` format: one object id per line, no time, no size. This module owns its
//! reader.

use std::io::{BufRead, BufReader, Read};

use super::{
    io_error, key_to_obj_id, parse_u64, trim_ascii, TraceError, TracePosition, TraceRequest,
    TraceSource, NO_NEXT_ACCESS_INFO,
};

/// Longest line accepted, in bytes.
pub const TXT_MAX_LINE_BYTES: usize = 1 << 20;

/// A streaming reader of a txt trace. Each line, trimmed of ASCII whitespace, is one request:
/// a decimal integer that fits in a `u64` is the object id itself (`key_size = 0`); any other
/// text is a string key, hashed with [`key_to_obj_id`] (`key_size` = its length). Blank lines
/// are skipped. Every request has size 1 (`obj_size = value_size = 1`, as libCacheSim counts
/// txt traces), time 0 and no TTL. A line longer than [`TXT_MAX_LINE_BYTES`] is an error.
pub struct TxtSource {
    reader: BufReader<Box<dyn Read + Send>>,
    name: String,
    line: Vec<u8>,
    line_no: u64,
    pending: Option<TraceError>,
    done: bool,
}

impl TxtSource {
    /// Reads txt lines from `reader`; `name` names the trace in errors.
    pub fn new(reader: Box<dyn Read + Send>, name: &str) -> TxtSource {
        TxtSource {
            reader: BufReader::with_capacity(1 << 20, reader),
            name: name.to_string(),
            line: Vec::with_capacity(64),
            line_no: 0,
            pending: None,
            done: false,
        }
    }

    /// Reads the next line into `self.line`; false at the end of input.
    fn read_line(&mut self) -> Result<bool, TraceError> {
        self.line.clear();
        let limit = TXT_MAX_LINE_BYTES as u64 + 1;
        let n = (&mut self.reader)
            .take(limit)
            .read_until(b'\n', &mut self.line)
            .map_err(|e| io_error(&self.name, Some(TracePosition::Line(self.line_no + 1)), &e))?;
        if n == 0 {
            return Ok(false);
        }
        self.line_no += 1;
        if self.line.len() > TXT_MAX_LINE_BYTES {
            return Err(TraceError::at_line(
                &self.name,
                self.line_no,
                format!("line longer than {TXT_MAX_LINE_BYTES} bytes"),
            ));
        }
        Ok(true)
    }
}

impl TraceSource for TxtSource {
    fn next_batch(&mut self, buf: &mut Vec<TraceRequest>, max: usize) -> Result<usize, TraceError> {
        buf.clear();
        if let Some(e) = self.pending.take() {
            return Err(e);
        }
        if self.done || max == 0 {
            return Ok(0);
        }
        while buf.len() < max {
            match self.read_line() {
                Ok(true) => {}
                Ok(false) => {
                    self.done = true;
                    break;
                }
                Err(e) => {
                    // Return the requests already read first, the error on the next call.
                    self.done = true;
                    if buf.is_empty() {
                        return Err(e);
                    }
                    self.pending = Some(e);
                    break;
                }
            }
            let text = trim_ascii(&self.line);
            if text.is_empty() {
                continue;
            }
            let (obj_id, key_size) = match parse_u64(text) {
                Some(id) => (id, 0),
                None => (key_to_obj_id(text), text.len() as u32),
            };
            buf.push(TraceRequest {
                time_ms: 0,
                obj_id,
                obj_size: 1,
                key_size,
                value_size: 1,
                ttl_s: 0,
                ttl_ms: 0,
                next_access_vtime: NO_NEXT_ACCESS_INFO,
            });
        }
        Ok(buf.len())
    }
}
