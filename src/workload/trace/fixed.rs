//! Block reading of fixed-size binary records, shared by the oracleGeneral, twr and vscsi
//! readers: reads the input in 1 MiB blocks and hands out whole records as byte slices, without
//! per-record allocation, and reports a truncated final record.

use std::io::{self, Read};

use super::{io_error, TraceError, TracePosition, TraceRequest, TraceSource};

/// Bytes read from the input per block.
const BLOCK_BYTES: usize = 1 << 20;

/// Why no records could be handed out.
pub(crate) enum BlockError {
    /// The input ended inside a record: `got` bytes of it were there.
    Truncated { got: usize },
    /// The input failed.
    Io(io::Error),
}

/// A reader of fixed-size records from a byte stream.
pub(crate) struct RecordBlocks {
    inner: Box<dyn Read + Send>,
    buf: Vec<u8>,
    start: usize,
    end: usize,
    eof: bool,
    record_bytes: usize,
    /// Records handed out so far.
    records_done: u64,
}

impl RecordBlocks {
    /// Reads records of `record_bytes` bytes (> 0) from `inner`.
    pub(crate) fn new(inner: Box<dyn Read + Send>, record_bytes: usize) -> RecordBlocks {
        RecordBlocks {
            inner,
            buf: vec![0; BLOCK_BYTES],
            start: 0,
            end: 0,
            eof: false,
            record_bytes: record_bytes.max(1),
            records_done: 0,
        }
    }

    /// Changes the record size (only before the first record is handed out).
    pub(crate) fn set_record_bytes(&mut self, record_bytes: usize) {
        debug_assert_eq!(self.records_done, 0);
        self.record_bytes = record_bytes.max(1);
    }

    /// Records handed out so far (the next record's 1-based number is this plus one).
    pub(crate) fn records_done(&self) -> u64 {
        self.records_done
    }

    /// Reads until at least `want` bytes are buffered (at most the block size) or the input
    /// ends.
    fn fill_to(&mut self, want: usize) -> io::Result<()> {
        let want = want.min(self.buf.len());
        if self.end - self.start >= want || self.eof {
            return Ok(());
        }
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        while self.end < want && !self.eof {
            match self.inner.read(&mut self.buf[self.end..]) {
                Ok(0) => self.eof = true,
                Ok(n) => self.end += n.min(self.buf.len() - self.end),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// The first up to `want` bytes of the input, without consuming them (for format
    /// detection); shorter only if the input is shorter.
    pub(crate) fn peek(&mut self, want: usize) -> io::Result<&[u8]> {
        self.fill_to(want)?;
        let n = (self.end - self.start).min(want);
        Ok(&self.buf[self.start..self.start + n])
    }

    /// The next whole records, between 1 and `max_records` of them, as one byte slice; an
    /// empty slice at the clean end of the input (or when `max_records` is 0).
    pub(crate) fn next_records(&mut self, max_records: usize) -> Result<&[u8], BlockError> {
        if max_records == 0 {
            return Ok(&[]);
        }
        let rb = self.record_bytes;
        self.fill_to(rb).map_err(BlockError::Io)?;
        let avail = self.end - self.start;
        if avail < rb {
            if avail == 0 {
                return Ok(&[]);
            }
            // Consume the fragment so a retry does not report it again.
            self.start = self.end;
            return Err(BlockError::Truncated { got: avail });
        }
        let n = (avail / rb).min(max_records);
        let from = self.start;
        self.start += n * rb;
        self.records_done += n as u64;
        Ok(&self.buf[from..from + n * rb])
    }
}

/// Decodes one fixed-size record format.
pub(crate) trait RecordDecoder: Send {
    /// Looks at the start of the input before the first record is read (for version
    /// detection); may change the record size. An `Err` message fails record 1.
    fn prepare(&mut self, _blocks: &mut RecordBlocks) -> Result<(), String> {
        Ok(())
    }
    /// Bytes per record.
    fn record_bytes(&self) -> usize;
    /// Decodes one record of exactly `record_bytes()` bytes; `Err` says what is wrong with it.
    fn decode(&self, rec: &[u8]) -> Result<TraceRequest, String>;
}

/// A [`TraceSource`] over fixed-size records.
pub(crate) struct FixedSource<D: RecordDecoder> {
    blocks: RecordBlocks,
    decoder: D,
    name: String,
    prepared: bool,
    pending: Option<TraceError>,
    done: bool,
}

impl<D: RecordDecoder> FixedSource<D> {
    /// Reads `decoder`'s records from `inner`; `name` names the trace in errors.
    pub(crate) fn new(inner: Box<dyn Read + Send>, decoder: D, name: &str) -> FixedSource<D> {
        let record_bytes = decoder.record_bytes();
        FixedSource {
            blocks: RecordBlocks::new(inner, record_bytes),
            decoder,
            name: name.to_string(),
            prepared: false,
            pending: None,
            done: false,
        }
    }

    /// Fills `buf` up to `max`; returns the error that stopped it, if any.
    fn fill(&mut self, buf: &mut Vec<TraceRequest>, max: usize) -> Option<TraceError> {
        if !self.prepared {
            self.prepared = true;
            if let Err(msg) = self.decoder.prepare(&mut self.blocks) {
                return Some(TraceError::at_record(&self.name, 1, msg));
            }
            self.blocks.set_record_bytes(self.decoder.record_bytes());
        }
        let record_bytes = self.decoder.record_bytes();
        while buf.len() < max {
            let first = self.blocks.records_done() + 1;
            match self.blocks.next_records(max - buf.len()) {
                Ok([]) => {
                    self.done = true;
                    return None;
                }
                Ok(recs) => {
                    for (i, rec) in recs.chunks_exact(record_bytes).enumerate() {
                        match self.decoder.decode(rec) {
                            Ok(req) => buf.push(req),
                            Err(msg) => {
                                return Some(TraceError::at_record(
                                    &self.name,
                                    first + i as u64,
                                    msg,
                                ))
                            }
                        }
                    }
                }
                Err(BlockError::Truncated { got }) => {
                    return Some(TraceError::at_record(
                        &self.name,
                        first,
                        format!("truncated record (got {got} of {record_bytes} bytes)"),
                    ))
                }
                Err(BlockError::Io(e)) => {
                    return Some(io_error(&self.name, Some(TracePosition::Record(first)), &e))
                }
            }
        }
        None
    }
}

impl<D: RecordDecoder> TraceSource for FixedSource<D> {
    fn next_batch(&mut self, buf: &mut Vec<TraceRequest>, max: usize) -> Result<usize, TraceError> {
        buf.clear();
        if let Some(e) = self.pending.take() {
            self.done = true;
            return Err(e);
        }
        if self.done || max == 0 {
            return Ok(0);
        }
        buf.reserve(max.min(1 << 16));
        match self.fill(buf, max) {
            None => Ok(buf.len()),
            Some(e) if buf.is_empty() => {
                self.done = true;
                Err(e)
            }
            Some(e) => {
                self.pending = Some(e);
                Ok(buf.len())
            }
        }
    }
}

/// Little-endian `u32` at byte offset `at` of `rec`.
#[inline(always)]
pub(crate) fn le_u32(rec: &[u8], at: usize) -> u32 {
    let mut b = [0u8; 4];
    b.copy_from_slice(&rec[at..at + 4]);
    u32::from_le_bytes(b)
}

/// Little-endian `u64` at byte offset `at` of `rec`.
#[inline(always)]
pub(crate) fn le_u64(rec: &[u8], at: usize) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&rec[at..at + 8]);
    u64::from_le_bytes(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that returns at most 3 bytes per call, to exercise refills.
    struct Dribble(Vec<u8>, usize);
    impl Read for Dribble {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            let n = out.len().min(3).min(self.0.len() - self.1);
            out[..n].copy_from_slice(&self.0[self.1..self.1 + n]);
            self.1 += n;
            Ok(n)
        }
    }

    #[test]
    fn hands_out_whole_records_and_reports_truncation() {
        let data: Vec<u8> = (0..23u8).collect();
        let mut blocks = RecordBlocks::new(Box::new(Dribble(data, 0)), 5);
        let mut seen = Vec::new();
        loop {
            match blocks.next_records(2) {
                Ok([]) => panic!("truncation not reported"),
                Ok(recs) => {
                    assert_eq!(recs.len() % 5, 0);
                    seen.extend_from_slice(recs);
                }
                Err(BlockError::Truncated { got }) => {
                    assert_eq!(got, 3);
                    break;
                }
                Err(BlockError::Io(e)) => panic!("{e}"),
            }
        }
        assert_eq!(seen, (0..20u8).collect::<Vec<_>>());
        assert_eq!(blocks.records_done(), 4);
        assert!(matches!(blocks.next_records(2), Ok([])));
    }
}
