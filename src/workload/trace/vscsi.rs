//! libCacheSim's `vscsi` binary block-I/O trace (CloudPhysics): this module owns its decoder
//! and its version detection.
//!
//! Version 1 records are 32 bytes (sequence u32, length u32, scatter-gather count u32,
//! opcode u16, version word u16 at offset 14, LBN u64 at 16, timestamp µs u64 at 24).
//! Version 2 records are 40 bytes (opcode u16, version word u16 at offset 2, sequence u32,
//! length u32 at 8, scatter-gather count u32, LBN u64 at 16, timestamp µs u64 at 24, response
//! time u64). As libCacheSim does, the version is told from the high byte of the version
//! word of the first two records: version 2 if both read as 2 in the 40-byte layout, else
//! version 1 if both read as 1 in the 32-byte layout, else the trace is rejected.

use std::io::Read;

use super::fixed::{le_u32, le_u64, FixedSource, RecordBlocks, RecordDecoder};
use super::{TraceError, TraceRequest, TraceSource, NO_NEXT_ACCESS_INFO};

/// Bytes per vscsi version 1 record.
pub const VSCSI_V1_RECORD_BYTES: usize = 32;
/// Bytes per vscsi version 2 record.
pub const VSCSI_V2_RECORD_BYTES: usize = 40;

/// Records looked at to tell the version.
const RECORDS_TESTED: usize = 2;

/// Decoder of one vscsi record; the version is set by `prepare`.
struct VscsiDecoder {
    version: u8,
}

impl VscsiDecoder {
    /// True when each of the first `RECORDS_TESTED` records present in `head` (at least one)
    /// has `version` in the high byte of the version word at `word_at`.
    fn is_version(head: &[u8], record_bytes: usize, word_at: usize, version: u8) -> bool {
        let present = (head.len() / record_bytes).min(RECORDS_TESTED);
        present > 0 && (0..present).all(|i| head[i * record_bytes + word_at + 1] == version)
    }
}

impl RecordDecoder for VscsiDecoder {
    fn prepare(&mut self, blocks: &mut RecordBlocks) -> Result<(), String> {
        let head = blocks
            .peek(VSCSI_V2_RECORD_BYTES * RECORDS_TESTED)
            .map_err(|e| format!("read error: {e}"))?;
        if head.is_empty() {
            return Ok(()); // an empty trace
        }
        if VscsiDecoder::is_version(head, VSCSI_V2_RECORD_BYTES, 2, 2) {
            self.version = 2;
        } else if VscsiDecoder::is_version(head, VSCSI_V1_RECORD_BYTES, 14, 1) {
            self.version = 1;
        } else if head.len() < VSCSI_V1_RECORD_BYTES {
            return Err(format!(
                "truncated record (got {} of {} bytes)",
                head.len(),
                VSCSI_V1_RECORD_BYTES
            ));
        } else {
            return Err(format!(
                "not a vscsi trace: version byte is {} (offset 15, version 1) / {} (offset 3, \
                 version 2); expected 1 or 2",
                head[15], head[3]
            ));
        }
        Ok(())
    }

    #[inline(always)]
    fn record_bytes(&self) -> usize {
        if self.version == 2 {
            VSCSI_V2_RECORD_BYTES
        } else {
            VSCSI_V1_RECORD_BYTES
        }
    }

    #[inline(always)]
    fn decode(&self, rec: &[u8]) -> Result<TraceRequest, String> {
        let len_at = if self.version == 2 { 8 } else { 4 };
        let obj_size = le_u32(rec, len_at);
        let obj_id = le_u64(rec, 16);
        let time_us = le_u64(rec, 24);
        if obj_size == 0 {
            return Err(format!("object {obj_id} has size 0"));
        }
        Ok(TraceRequest {
            time_ms: time_us / 1000,
            obj_id,
            obj_size,
            key_size: 0,
            value_size: obj_size,
            ttl_s: 0,
            ttl_ms: 0,
            next_access_vtime: NO_NEXT_ACCESS_INFO,
        })
    }
}

/// A streaming reader of a vscsi trace (version 1 or 2). The object id is the LBN, the size
/// the I/O length in bytes (`value_size = obj_size`), `time_ms` the microsecond timestamp
/// divided by 1000. The opcode (read or write) is ignored: every request is a GET. A record
/// with length 0 is an error.
pub struct VscsiSource(FixedSource<VscsiDecoder>);

impl VscsiSource {
    /// Reads vscsi records from `reader`; `name` names the trace in errors.
    pub fn new(reader: Box<dyn Read + Send>, name: &str) -> VscsiSource {
        VscsiSource(FixedSource::new(reader, VscsiDecoder { version: 1 }, name))
    }
}

impl TraceSource for VscsiSource {
    fn next_batch(&mut self, buf: &mut Vec<TraceRequest>, max: usize) -> Result<usize, TraceError> {
        self.0.next_batch(buf, max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v2_record(len: u32, lbn: u64, ts_us: u64) -> Vec<u8> {
        let mut r = Vec::new();
        r.extend_from_slice(&0x28u16.to_le_bytes());
        r.extend_from_slice(&0x0200u16.to_le_bytes());
        r.extend_from_slice(&9u32.to_le_bytes());
        r.extend_from_slice(&len.to_le_bytes());
        r.extend_from_slice(&1u32.to_le_bytes());
        r.extend_from_slice(&lbn.to_le_bytes());
        r.extend_from_slice(&ts_us.to_le_bytes());
        r.extend_from_slice(&77u64.to_le_bytes());
        r
    }

    #[test]
    fn reads_version_2() {
        let mut data = v2_record(512, 10, 2_000_999);
        data.extend(v2_record(1024, 11, 3_000_000));
        let mut src = VscsiSource::new(Box::new(std::io::Cursor::new(data)), "v2");
        let mut buf = Vec::new();
        assert_eq!(src.next_batch(&mut buf, 10).ok(), Some(2));
        assert_eq!(
            (buf[0].obj_id, buf[0].obj_size, buf[0].time_ms),
            (10, 512, 2000)
        );
        assert_eq!(
            (buf[1].obj_id, buf[1].obj_size, buf[1].time_ms),
            (11, 1024, 3000)
        );
    }

    #[test]
    fn rejects_unknown_version() {
        let data = vec![0u8; 64];
        let mut src = VscsiSource::new(Box::new(std::io::Cursor::new(data)), "x.vscsi");
        let mut buf = Vec::new();
        let err = src.next_batch(&mut buf, 10).err().map(|e| e.to_string());
        let err = err.unwrap_or_default();
        assert!(
            err.starts_with("x.vscsi: record 1: not a vscsi trace"),
            "{err}"
        );
    }
}
