//! Timelines of a real replay: which wall-clock interval each batch of requests was sent and
//! answered in, so a model can run on the clock a real Redis saw. Owns the CSV format
//! (`req_index,unix_ms_send,unix_ms_recv`, one row per batch, plain or gzip), its validation and
//! the mapping from request index to time: absolute unix ms, linearly interpolated inside the
//! batch's send..recv interval. It does not know about caches.

use std::fmt;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

/// One timeline row: requests `req_index ..` (up to the next row's index) were sent at
/// `unix_ms_send` and their replies received at `unix_ms_recv`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimelineRow {
    /// Index (0-based) of the batch's first request.
    pub req_index: u64,
    /// Wall-clock send time, unix milliseconds.
    pub unix_ms_send: u64,
    /// Wall-clock receive time, unix milliseconds.
    pub unix_ms_recv: u64,
}

/// A validated timeline: rows in strictly increasing `req_index`, each with send <= recv.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Timeline {
    rows: Vec<TimelineRow>,
    /// Requests the last row covers (the previous row's batch length; 100 if it is the only row).
    last_batch_len: u64,
}

/// A timeline that cannot be read or does not cover a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TimelineError {
    /// The file could not be opened or read.
    Io {
        /// The file.
        path: PathBuf,
        /// The system's message.
        message: String,
    },
    /// A row or the header is malformed.
    Parse {
        /// Where the text came from (a path, or a caller's label).
        origin: String,
        /// 1-based line number.
        line: u64,
        /// What is wrong.
        message: String,
    },
    /// The timeline has no rows.
    Empty {
        /// Where the text came from.
        origin: String,
    },
    /// A row's `req_index` is not above the previous row's, or its recv is before its send.
    BadRow {
        /// Where the text came from ("rows" for `from_rows`).
        origin: String,
        /// 1-based line number (row number + 1 for the header, for `from_rows`).
        line: u64,
        /// What is wrong.
        message: String,
    },
    /// The trace has a request the timeline does not cover.
    TooShort {
        /// The first request index with no time.
        request_index: u64,
        /// The requests the timeline covers: `first_index .. end_index`.
        first_index: u64,
        /// One past the last request index covered.
        end_index: u64,
    },
}

impl fmt::Display for TimelineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TimelineError::Io { path, message } => {
                write!(f, "timeline {}: {message}", path.display())
            }
            TimelineError::Parse {
                origin,
                line,
                message,
            } => write!(f, "timeline {origin}, line {line}: {message}"),
            TimelineError::Empty { origin } => write!(f, "timeline {origin}: no rows"),
            TimelineError::BadRow {
                origin,
                line,
                message,
            } => write!(f, "timeline {origin}, line {line}: {message}"),
            TimelineError::TooShort {
                request_index,
                first_index,
                end_index,
            } => write!(
                f,
                "timeline has no time for request {request_index}: it covers requests \
                 {first_index}..{end_index} only (is it the timeline of this trace?)"
            ),
        }
    }
}

impl std::error::Error for TimelineError {}

/// The CSV header a timeline file must have.
pub const TIMELINE_HEADER: [&str; 3] = ["req_index", "unix_ms_send", "unix_ms_recv"];

impl Timeline {
    /// A timeline from rows, validated (strictly increasing `req_index`, send <= recv).
    pub fn from_rows(rows: Vec<TimelineRow>) -> Result<Timeline, TimelineError> {
        Timeline::validated(rows, "rows", &[])
    }

    /// Reads a timeline file, plain CSV or gzip-compressed (recognised by its magic bytes).
    pub fn load(path: &Path) -> Result<Timeline, TimelineError> {
        let io_err = |e: std::io::Error| TimelineError::Io {
            path: path.to_path_buf(),
            message: e.to_string(),
        };
        let file = std::fs::File::open(path).map_err(io_err)?;
        let mut reader = BufReader::new(file);
        let is_gzip = reader
            .fill_buf()
            .map_err(io_err)?
            .starts_with(&[0x1f, 0x8b]);
        let origin = path.display().to_string();
        if is_gzip {
            Timeline::from_csv(flate2::read::MultiGzDecoder::new(reader), &origin)
        } else {
            Timeline::from_csv(reader, &origin)
        }
    }

    /// Parses timeline CSV text from `reader`; `origin` names it in errors.
    pub fn from_csv<R: Read>(reader: R, origin: &str) -> Result<Timeline, TimelineError> {
        let mut csv_reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .trim(csv::Trim::All)
            .from_reader(reader);
        let parse_err = |line: u64, message: String| TimelineError::Parse {
            origin: origin.to_string(),
            line,
            message,
        };
        let header = csv_reader
            .headers()
            .map_err(|e| parse_err(1, e.to_string()))?;
        if header.iter().collect::<Vec<_>>() != TIMELINE_HEADER {
            return Err(parse_err(
                1,
                format!(
                    "header is {:?}, expected \"{}\"",
                    header.iter().collect::<Vec<_>>().join(","),
                    TIMELINE_HEADER.join(",")
                ),
            ));
        }
        let mut rows = Vec::new();
        let mut lines = Vec::new();
        let mut record = csv::StringRecord::new();
        loop {
            let more = csv_reader
                .read_record(&mut record)
                .map_err(|e| parse_err(e.position().map_or(0, |p| p.line()), e.to_string()))?;
            if !more {
                break;
            }
            let line = record.position().map_or(0, |p| p.line());
            if record.len() != 3 {
                return Err(parse_err(
                    line,
                    format!("{} fields, expected 3", record.len()),
                ));
            }
            let mut values = [0u64; 3];
            for (k, value) in values.iter_mut().enumerate() {
                *value = record[k].parse().map_err(|_| {
                    parse_err(
                        line,
                        format!(
                            "{} {:?} is not a non-negative integer",
                            TIMELINE_HEADER[k], &record[k]
                        ),
                    )
                })?;
            }
            rows.push(TimelineRow {
                req_index: values[0],
                unix_ms_send: values[1],
                unix_ms_recv: values[2],
            });
            lines.push(line);
        }
        Timeline::validated(rows, origin, &lines)
    }

    fn validated(
        rows: Vec<TimelineRow>,
        origin: &str,
        lines: &[u64],
    ) -> Result<Timeline, TimelineError> {
        if rows.is_empty() {
            return Err(TimelineError::Empty {
                origin: origin.to_string(),
            });
        }
        let line_of = |i: usize| lines.get(i).copied().unwrap_or(i as u64 + 2);
        for (i, row) in rows.iter().enumerate() {
            if row.unix_ms_recv < row.unix_ms_send {
                return Err(TimelineError::BadRow {
                    origin: origin.to_string(),
                    line: line_of(i),
                    message: format!(
                        "unix_ms_recv {} is before unix_ms_send {}",
                        row.unix_ms_recv, row.unix_ms_send
                    ),
                });
            }
            if i > 0 && row.req_index <= rows[i - 1].req_index {
                return Err(TimelineError::BadRow {
                    origin: origin.to_string(),
                    line: line_of(i),
                    message: format!(
                        "req_index {} does not increase (previous row {})",
                        row.req_index,
                        rows[i - 1].req_index
                    ),
                });
            }
        }
        let last_batch_len = match rows.len() {
            1 => 100,
            n => rows[n - 1].req_index - rows[n - 2].req_index,
        };
        Ok(Timeline {
            rows,
            last_batch_len,
        })
    }

    /// The rows.
    pub fn rows(&self) -> &[TimelineRow] {
        &self.rows
    }

    /// One past the last request index covered (the last row covers as many requests as the
    /// row before it, or 100 when it is the only row).
    pub fn end_index(&self) -> u64 {
        self.rows[self.rows.len() - 1]
            .req_index
            .saturating_add(self.last_batch_len)
    }

    /// A cursor for looking up request times in (mostly) increasing order.
    pub fn cursor(&self) -> TimelineCursor<'_> {
        TimelineCursor {
            timeline: self,
            row: 0,
        }
    }

    /// The time of request `request_index` in unix ms (see `TimelineCursor::time_ms`).
    pub fn time_ms(&self, request_index: u64) -> Result<u64, TimelineError> {
        self.cursor().time_ms(request_index)
    }
}

/// Looks times up, remembering the last row used so a sequential scan costs O(1) per request.
#[derive(Clone, Debug)]
pub struct TimelineCursor<'a> {
    timeline: &'a Timeline,
    row: usize,
}

impl TimelineCursor<'_> {
    /// The time of request `request_index` in unix ms: the `k`-th of a batch of `n` requests
    /// sent at `s` and answered at `r` gets `s + floor((r - s) * k / n)`. Errors when the
    /// timeline does not cover the request.
    pub fn time_ms(&mut self, request_index: u64) -> Result<u64, TimelineError> {
        let rows = &self.timeline.rows;
        let end_index = self.timeline.end_index();
        if request_index < rows[0].req_index || request_index >= end_index {
            return Err(TimelineError::TooShort {
                request_index,
                first_index: rows[0].req_index,
                end_index,
            });
        }
        if request_index < rows[self.row].req_index {
            self.row = 0;
        }
        // Advance to the last row starting at or before the request (galloping is not needed:
        // the driver asks in order, so this moves one row per batch).
        while self.row + 1 < rows.len() && rows[self.row + 1].req_index <= request_index {
            self.row += 1;
        }
        let row = rows[self.row];
        let batch_len = match rows.get(self.row + 1) {
            Some(next) => next.req_index - row.req_index,
            None => self.timeline.last_batch_len,
        };
        let offset = request_index - row.req_index;
        let span_ms = row.unix_ms_recv - row.unix_ms_send;
        let delta_ms = (span_ms as u128 * offset as u128 / batch_len as u128) as u64;
        Ok(row.unix_ms_send + delta_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(req_index: u64, send: u64, recv: u64) -> TimelineRow {
        TimelineRow {
            req_index,
            unix_ms_send: send,
            unix_ms_recv: recv,
        }
    }

    #[test]
    fn interpolates_inside_each_batch() {
        let t = Timeline::from_rows(vec![row(0, 1_000, 1_010), row(100, 1_020, 1_020)]).unwrap();
        let mut c = t.cursor();
        assert_eq!(c.time_ms(0), Ok(1_000));
        assert_eq!(c.time_ms(50), Ok(1_005));
        assert_eq!(c.time_ms(99), Ok(1_009));
        assert_eq!(c.time_ms(100), Ok(1_020));
        assert_eq!(c.time_ms(199), Ok(1_020));
        // Going backwards still works.
        assert_eq!(c.time_ms(10), Ok(1_001));
        assert_eq!(t.end_index(), 200);
    }

    #[test]
    fn too_short_timeline_names_the_request() {
        let t = Timeline::from_rows(vec![row(0, 5, 6), row(100, 7, 8)]).unwrap();
        let err = t.time_ms(200).unwrap_err();
        assert_eq!(
            err,
            TimelineError::TooShort {
                request_index: 200,
                first_index: 0,
                end_index: 200
            }
        );
        assert!(err.to_string().contains("request 200"), "{err}");
    }

    #[test]
    fn rejects_bad_rows_and_headers() {
        assert!(matches!(
            Timeline::from_rows(vec![]),
            Err(TimelineError::Empty { .. })
        ));
        assert!(matches!(
            Timeline::from_rows(vec![row(0, 5, 4)]),
            Err(TimelineError::BadRow { line: 2, .. })
        ));
        assert!(matches!(
            Timeline::from_rows(vec![row(0, 1, 2), row(0, 3, 4)]),
            Err(TimelineError::BadRow { line: 3, .. })
        ));
        let bad_header = "idx,send,recv\n0,1,2\n";
        assert!(matches!(
            Timeline::from_csv(bad_header.as_bytes(), "x"),
            Err(TimelineError::Parse { line: 1, .. })
        ));
        let bad_value = "req_index,unix_ms_send,unix_ms_recv\n0,1,2\n100,x,3\n";
        let err = Timeline::from_csv(bad_value.as_bytes(), "x").unwrap_err();
        assert!(matches!(err, TimelineError::Parse { line: 3, .. }), "{err}");
    }

    #[test]
    fn loads_a_real_gzip_timeline() {
        let path =
            crate::test_data::repo_data("fidelity/redis7/timeline-a0.8-f0.1-allkeys-lru-s5.csv.gz");
        let t = Timeline::load(&path).unwrap();
        assert_eq!(t.rows().len(), 10_000);
        assert_eq!(t.end_index(), 1_000_000);
        assert_eq!(t.time_ms(0), Ok(1_795_752_349_587));
        assert_eq!(t.time_ms(999_999), Ok(1_795_752_362_164));
        assert!(t.time_ms(1_000_000).is_err());
    }

    #[test]
    fn missing_file_is_an_io_error() {
        let err = Timeline::load(Path::new("/nonexistent/timeline.csv")).unwrap_err();
        assert!(matches!(err, TimelineError::Io { .. }));
    }
}
