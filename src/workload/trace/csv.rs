//! libCacheSim's `csv` trace format: delimited text whose columns are named by a trace-type
//! params string (`-t "time-col=2, obj-id-col=5, obj-size-col=4, delimiter=,, has-header=true"`).
//! This module owns the options ([`CsvOptions`]), their parsing, and the reader ([`CsvSource`]).

use std::io::Read;

use ::csv::{ByteRecord, Reader, ReaderBuilder};

use super::{
    key_to_obj_id, parse_u32, parse_u64, show_field, trim_ascii, TraceError, TraceRequest,
    TraceSource, NO_NEXT_ACCESS_INFO,
};

/// Name used in errors about a params string.
const PARAMS_NAME: &str = "csv trace-type params";

/// Column options of a `csv` trace. Column numbers are 1-based, as in libCacheSim.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CsvOptions {
    /// Column of the request time in seconds (integer or decimal); `None`: time 0.
    pub time_col: Option<usize>,
    /// Column of the object id (required to read a trace).
    pub obj_id_col: Option<usize>,
    /// Column of the object size in bytes; `None`: every size is 1.
    pub obj_size_col: Option<usize>,
    /// Column of the TTL in seconds (empty or 0 = none); `None`: no TTL. Our extension
    /// (`ttl-col=`), which libCacheSim reads only in its TTL build.
    pub ttl_col: Option<usize>,
    /// Field delimiter byte.
    pub delimiter: u8,
    /// Whether the first line is a header (skipped).
    pub has_header: bool,
    /// Whether object ids are decimal integers used as they are; otherwise each id is a
    /// string key hashed with [`key_to_obj_id`].
    pub obj_id_is_num: bool,
}

impl Default for CsvOptions {
    fn default() -> CsvOptions {
        CsvOptions {
            time_col: None,
            obj_id_col: None,
            obj_size_col: None,
            ttl_col: None,
            delimiter: b',',
            has_header: false,
            obj_id_is_num: false,
        }
    }
}

impl CsvOptions {
    /// Parses libCacheSim's trace-type params string: comma-separated `key=value` pairs with
    /// keys `time-col`, `obj-id-col`, `obj-size-col`, `ttl-col`, `op-col` (accepted and
    /// ignored: every request is a GET), `delimiter`, `has-header`, `obj-id-is-num` (`_` may
    /// stand for `-`). The delimiter value is one character, so `delimiter=,,` means a comma
    /// delimiter followed by the pair separator; `\t` or `tab` give a tab. `obj-id-col` is
    /// required.
    pub fn parse(params: &str) -> Result<CsvOptions, TraceError> {
        let mut options = CsvOptions::default();
        let b = params.as_bytes();
        let mut i = 0;
        loop {
            while i < b.len() && (b[i] == b',' || b[i].is_ascii_whitespace()) {
                i += 1;
            }
            if i >= b.len() {
                break;
            }
            let key_start = i;
            while i < b.len() && b[i] != b'=' && b[i] != b',' {
                i += 1;
            }
            let key = params[key_start..i]
                .trim()
                .to_ascii_lowercase()
                .replace('_', "-");
            if i >= b.len() || b[i] != b'=' {
                return Err(TraceError::new(
                    PARAMS_NAME,
                    format!("param \"{key}\" has no value (expected key=value)"),
                ));
            }
            i += 1; // '='
            let value: &str = if key == "delimiter" && i < b.len() && b[i] == b',' {
                i += 1;
                ","
            } else {
                let value_start = i;
                while i < b.len() && b[i] != b',' {
                    i += 1;
                }
                &params[value_start..i]
            };
            options.set(&key, value)?;
        }
        if options.obj_id_col.is_none() {
            return Err(TraceError::new(PARAMS_NAME, "obj-id-col is required"));
        }
        Ok(options)
    }

    /// Sets one params-string option.
    fn set(&mut self, key: &str, raw_value: &str) -> Result<(), TraceError> {
        let value = raw_value.trim();
        let column = || -> Result<Option<usize>, TraceError> {
            match value.parse::<usize>() {
                Ok(c) if c >= 1 => Ok(Some(c)),
                _ => Err(TraceError::new(
                    PARAMS_NAME,
                    format!("{key}={value}: a column number must be an integer >= 1"),
                )),
            }
        };
        let flag = || -> Result<bool, TraceError> {
            match value.to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" => Ok(true),
                "false" | "0" | "no" => Ok(false),
                _ => Err(TraceError::new(
                    PARAMS_NAME,
                    format!("{key}={value}: expected true or false"),
                )),
            }
        };
        match key {
            "time-col" => self.time_col = column()?,
            "obj-id-col" => self.obj_id_col = column()?,
            "obj-size-col" => self.obj_size_col = column()?,
            "ttl-col" => self.ttl_col = column()?,
            "op-col" => {
                column()?;
            }
            "has-header" => self.has_header = flag()?,
            "obj-id-is-num" => self.obj_id_is_num = flag()?,
            "delimiter" => {
                // A single character is taken as it is (even a space or a tab); longer
                // values are trimmed and may name the tab or the space.
                let v = if raw_value.len() == 1 {
                    raw_value
                } else {
                    value
                };
                self.delimiter = match v {
                    "\\t" | "tab" => b'\t',
                    "space" => b' ',
                    _ if v.len() == 1 && !matches!(v.as_bytes()[0], b'"' | b'\n' | b'\r') => {
                        v.as_bytes()[0]
                    }
                    _ => {
                        return Err(TraceError::new(
                            PARAMS_NAME,
                            format!(
                                "delimiter={raw_value}: expected one ASCII character other \
                                 than a quote or a line break"
                            ),
                        ))
                    }
                }
            }
            _ => {
                return Err(TraceError::new(
                    PARAMS_NAME,
                    format!("unknown param \"{key}\""),
                ))
            }
        }
        Ok(())
    }

    /// Options read from a comma-separated header line, when it names an id column
    /// (`obj_id`, `obj-id`, `object_id`, `id`, `key`, `lbn`); also finds `time`/`timestamp`/`ts`,
    /// `obj_size`/`size`/`len`/`length` and `ttl`/`ttl_s` columns. String ids are hashed.
    pub fn from_header(header: &str) -> Option<CsvOptions> {
        let mut options = CsvOptions {
            has_header: true,
            ..CsvOptions::default()
        };
        for (i, name) in header.split(',').enumerate() {
            let name = name.trim().trim_matches('"').to_ascii_lowercase();
            let col = Some(i + 1);
            match name.as_str() {
                "obj_id" | "obj-id" | "objid" | "object_id" | "id" | "key" | "lbn" => {
                    options.obj_id_col = options.obj_id_col.or(col)
                }
                "time" | "timestamp" | "ts" | "time_s" => {
                    options.time_col = options.time_col.or(col)
                }
                "obj_size" | "obj-size" | "object_size" | "size" | "len" | "length" => {
                    options.obj_size_col = options.obj_size_col.or(col)
                }
                "ttl" | "ttl_s" => options.ttl_col = options.ttl_col.or(col),
                _ => {}
            }
        }
        options.obj_id_col.map(|_| options)
    }

    /// The largest column number used.
    fn max_col(&self) -> usize {
        [
            self.time_col,
            self.obj_id_col,
            self.obj_size_col,
            self.ttl_col,
        ]
        .into_iter()
        .flatten()
        .max()
        .unwrap_or(0)
    }
}

/// Parses a time in seconds (decimal integer, or a non-negative decimal fraction) into
/// milliseconds.
pub(crate) fn parse_time_ms(text: &[u8]) -> Option<u64> {
    if let Some(s) = parse_u64(text) {
        return s.checked_mul(1000);
    }
    let t: f64 = std::str::from_utf8(text).ok()?.parse().ok()?;
    let ms = (t * 1000.0).round();
    if ms.is_finite() && ms >= 0.0 && ms < u64::MAX as f64 {
        Some(ms as u64)
    } else {
        None
    }
}

/// The line number of a csv crate error or record, if it has one.
pub(crate) fn csv_error(name: &str, err: &::csv::Error) -> TraceError {
    let line = err.position().map(|p| p.line());
    let message = match err.kind() {
        ::csv::ErrorKind::Io(e) => format!("read error: {e}"),
        ::csv::ErrorKind::Utf8 { err, .. } => format!("invalid UTF-8: {err}"),
        ::csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!("wrong column count: expected {expected_len}, got {len}"),
        _ => err.to_string(),
    };
    match line {
        Some(l) => TraceError::at_line(name, l, message),
        None => TraceError::new(name, message),
    }
}

/// A streaming reader of a libCacheSim `csv` trace. Every line has the same number of fields
/// (that of the first line); fields are trimmed of ASCII whitespace; `value_size = obj_size`;
/// `key_size` is the id's length for hashed string ids, 0 for numeric ids. A size of 0, a
/// non-numeric time, size or TTL, or a missing column is an error naming the line.
pub struct CsvSource {
    reader: Reader<Box<dyn Read + Send>>,
    record: ByteRecord,
    options: CsvOptions,
    name: String,
    needed_fields: usize,
    expected_fields: Option<usize>,
    header_pending: bool,
    pending: Option<TraceError>,
    done: bool,
}

impl CsvSource {
    /// Reads `options`' columns from `reader`; `name` names the trace in errors. Fails if the
    /// options name no object id column or a column 0.
    pub fn new(
        reader: Box<dyn Read + Send>,
        options: &CsvOptions,
        name: &str,
    ) -> Result<CsvSource, TraceError> {
        if options.obj_id_col.is_none() {
            return Err(TraceError::new(name, "csv options name no obj-id-col"));
        }
        let cols = [
            options.time_col,
            options.obj_id_col,
            options.obj_size_col,
            options.ttl_col,
        ];
        if cols.contains(&Some(0)) {
            return Err(TraceError::new(name, "csv column numbers start at 1"));
        }
        let reader = ReaderBuilder::new()
            .delimiter(options.delimiter)
            .has_headers(false)
            .flexible(true)
            .buffer_capacity(1 << 20)
            .from_reader(reader);
        Ok(CsvSource {
            reader,
            record: ByteRecord::new(),
            options: options.clone(),
            name: name.to_string(),
            needed_fields: options.max_col(),
            expected_fields: None,
            header_pending: options.has_header,
            pending: None,
            done: false,
        })
    }

    /// The current record's line number.
    fn line(&self) -> u64 {
        self.record.position().map_or(0, |p| p.line())
    }

    /// Field `col` (1-based) of the current record, trimmed.
    fn field(&self, col: usize) -> &[u8] {
        trim_ascii(self.record.get(col - 1).unwrap_or_default())
    }

    /// Reads the next record; false at the end. Checks the column count.
    fn read_record(&mut self) -> Result<bool, TraceError> {
        match self.reader.read_byte_record(&mut self.record) {
            Ok(false) => return Ok(false),
            Ok(true) => {}
            Err(e) => return Err(csv_error(&self.name, &e)),
        }
        let n = self.record.len();
        let expected = *self.expected_fields.get_or_insert(n);
        if n != expected {
            return Err(TraceError::at_line(
                &self.name,
                self.line(),
                format!("wrong column count: expected {expected}, got {n}"),
            ));
        }
        if n < self.needed_fields {
            return Err(TraceError::at_line(
                &self.name,
                self.line(),
                format!(
                    "the options use column {} but the line has {n} column(s)",
                    self.needed_fields
                ),
            ));
        }
        Ok(true)
    }

    /// Decodes the current record.
    fn decode(&self) -> Result<TraceRequest, TraceError> {
        let err = |msg: String| TraceError::at_line(&self.name, self.line(), msg);
        let o = &self.options;
        let time_ms = match o.time_col {
            Some(c) => {
                let f = self.field(c);
                parse_time_ms(f).ok_or_else(|| {
                    err(format!(
                        "time \"{}\" (column {c}) is not a number",
                        show_field(f)
                    ))
                })?
            }
            None => 0,
        };
        let id_col = o.obj_id_col.unwrap_or(1);
        let id = self.field(id_col);
        if id.is_empty() {
            return Err(err(format!("empty object id (column {id_col})")));
        }
        let (obj_id, key_size) = if o.obj_id_is_num {
            let v = parse_u64(id).ok_or_else(|| {
                err(format!(
                    "object id \"{}\" (column {id_col}) is not a non-negative integer \
                     (obj-id-is-num=true)",
                    show_field(id)
                ))
            })?;
            (v, 0)
        } else {
            (
                key_to_obj_id(id),
                u32::try_from(id.len()).unwrap_or(u32::MAX),
            )
        };
        let obj_size = match o.obj_size_col {
            Some(c) => {
                let f = self.field(c);
                match parse_u32(f) {
                    Some(0) => return Err(err(format!("object size is 0 (column {c})"))),
                    Some(s) => s,
                    None => {
                        return Err(err(format!(
                            "size \"{}\" (column {c}) is not an integer in 1..=4294967295",
                            show_field(f)
                        )))
                    }
                }
            }
            None => 1,
        };
        let ttl_ms = match o.ttl_col {
            Some(c) => {
                let f = self.field(c);
                if f.is_empty() {
                    0
                } else {
                    parse_u32(f).map(|s| s as u64 * 1000).ok_or_else(|| {
                        err(format!(
                            "TTL \"{}\" (column {c}) is not a number of seconds",
                            show_field(f)
                        ))
                    })?
                }
            }
            None => 0,
        };
        Ok(TraceRequest {
            time_ms,
            obj_id,
            obj_size,
            key_size,
            value_size: obj_size,
            ttl_s: 0,
            ttl_ms,
            next_access_vtime: NO_NEXT_ACCESS_INFO,
        })
    }

    /// Fills `buf` up to `max`; returns the error that stopped it, if any.
    fn fill(&mut self, buf: &mut Vec<TraceRequest>, max: usize) -> Option<TraceError> {
        while buf.len() < max {
            match self.read_record() {
                Ok(true) => {}
                Ok(false) => {
                    self.done = true;
                    return None;
                }
                Err(e) => return Some(e),
            }
            if self.header_pending {
                self.header_pending = false;
                continue;
            }
            match self.decode() {
                Ok(req) => buf.push(req),
                Err(e) => return Some(e),
            }
        }
        None
    }
}

impl TraceSource for CsvSource {
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

    #[test]
    fn parses_libcachesim_params() {
        let o = CsvOptions::parse(
            "time-col=2, obj-id-col=5, obj-size-col=4, delimiter=,, has-header=true",
        );
        assert_eq!(
            o.ok(),
            Some(CsvOptions {
                time_col: Some(2),
                obj_id_col: Some(5),
                obj_size_col: Some(4),
                ttl_col: None,
                delimiter: b',',
                has_header: true,
                obj_id_is_num: false,
            })
        );
        let o = CsvOptions::parse("obj_id_col=1,delimiter=\\t,obj-id-is-num=true");
        assert_eq!(
            o.as_ref().map(|o| (o.delimiter, o.obj_id_is_num)).ok(),
            Some((b'\t', true))
        );
        let o = CsvOptions::parse("obj-id-col=3, delimiter=;");
        assert_eq!(o.map(|o| o.delimiter).ok(), Some(b';'));
        let o = CsvOptions::parse("obj-id-col=3, delimiter=\t, has-header=false");
        assert_eq!(o.map(|o| o.delimiter).ok(), Some(b'\t'));
        let o = CsvOptions::parse("delimiter= ,obj-id-col=3");
        assert_eq!(o.map(|o| o.delimiter).ok(), Some(b' '));
    }

    #[test]
    fn rejects_bad_params() {
        for bad in [
            "",
            "time-col=2",
            "obj-id-col=0",
            "obj-id-col=x",
            "obj-id-col",
            "obj-id-col=1, colour=red",
            "obj-id-col=1, has-header=maybe",
            "obj-id-col=1, delimiter=ab",
            "obj-id-col=1, delimiter=\"",
        ] {
            let e = CsvOptions::parse(bad);
            assert!(e.is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn reads_rows_and_names_bad_lines() {
        let text = "t,id,size\n1,a,10\n2.5,b,20\n3,c,0\n";
        let o = CsvOptions::parse("time-col=1,obj-id-col=2,obj-size-col=3,has-header=true");
        let o = o.unwrap_or_default();
        let mut src = CsvSource::new(Box::new(std::io::Cursor::new(text)), &o, "x.csv")
            .unwrap_or_else(|e| panic!("{e}"));
        let mut buf = Vec::new();
        assert_eq!(src.next_batch(&mut buf, 10).ok(), Some(2));
        assert_eq!(buf[0].obj_id, key_to_obj_id(b"a"));
        assert_eq!(
            (buf[0].time_ms, buf[0].obj_size, buf[0].key_size),
            (1000, 10, 1)
        );
        assert_eq!(buf[1].time_ms, 2500);
        let e = src.next_batch(&mut buf, 10).err().map(|e| e.to_string());
        assert_eq!(
            e.as_deref(),
            Some("x.csv: line 4: object size is 0 (column 3)")
        );
        assert_eq!(src.next_batch(&mut buf, 10).ok(), Some(0));
    }

    #[test]
    fn wrong_column_count_names_the_line() {
        let text = "1,2\n3,4\n5\n";
        let o = CsvOptions::parse("obj-id-col=1").unwrap_or_default();
        let src = CsvSource::new(Box::new(std::io::Cursor::new(text)), &o, "y.csv");
        let Ok(mut src) = src else { panic!() };
        let mut buf = Vec::new();
        assert_eq!(src.next_batch(&mut buf, 10).ok(), Some(2));
        let e = src.next_batch(&mut buf, 10).err().map(|e| e.to_string());
        assert_eq!(
            e.as_deref(),
            Some("y.csv: line 3: wrong column count: expected 2, got 1")
        );
    }
}
