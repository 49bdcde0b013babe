//! libCacheSim's `oracleGeneral` binary format: packed 24-byte little-endian records
//! (time u32 seconds, object id u64, object size u32, next_access_vtime i64), no header.
//! This module owns its decoder and the definition of `next_access_vtime` ([`next_access_vtimes`]).

use std::collections::HashMap;
use std::io::Read;

use super::fixed::{le_u32, le_u64, FixedSource, RecordDecoder};
use super::{TraceRequest, TraceSource, NEVER_ACCESSED_AGAIN};

/// Bytes per oracleGeneral record.
pub const ORACLE_GENERAL_RECORD_BYTES: usize = 24;

/// Decoder of one oracleGeneral record.
struct OracleDecoder;

impl RecordDecoder for OracleDecoder {
    #[inline(always)]
    fn record_bytes(&self) -> usize {
        ORACLE_GENERAL_RECORD_BYTES
    }

    #[inline(always)]
    fn decode(&self, rec: &[u8]) -> Result<TraceRequest, String> {
        let time_s = le_u32(rec, 0);
        let obj_id = le_u64(rec, 4);
        let obj_size = le_u32(rec, 12);
        let next_access_vtime = le_u64(rec, 16) as i64;
        if obj_size == 0 {
            return Err(format!("object {obj_id} has size 0"));
        }
        Ok(TraceRequest {
            time_ms: time_s as u64 * 1000,
            obj_id,
            obj_size,
            key_size: 0,
            value_size: obj_size,
            ttl_s: 0,
            ttl_ms: 0,
            next_access_vtime,
        })
    }
}

/// A streaming reader of an oracleGeneral trace. `time_ms` is the time in seconds times 1000,
/// `value_size = obj_size`, `key_size = 0`, no TTL, and `next_access_vtime` as stored (the
/// absolute 1-based position of the next request to the object, -1 none, -2 unknown).
/// A record with size 0 is an error.
pub struct OracleGeneralSource(FixedSource<OracleDecoder>);

impl OracleGeneralSource {
    /// Reads oracleGeneral records from `reader`; `name` names the trace in errors.
    pub fn new(reader: Box<dyn Read + Send>, name: &str) -> OracleGeneralSource {
        OracleGeneralSource(FixedSource::new(reader, OracleDecoder, name))
    }
}

impl TraceSource for OracleGeneralSource {
    fn next_batch(
        &mut self,
        buf: &mut Vec<TraceRequest>,
        max: usize,
    ) -> Result<usize, super::TraceError> {
        self.0.next_batch(buf, max)
    }
}

/// The oracleGeneral `next_access_vtime` of every request of a trace with object ids `ids`
/// (in request order): the absolute 1-based position of the next request to the same object,
/// or -1 if none follows. Computed by one backward pass.
pub fn next_access_vtimes(ids: &[u64]) -> Vec<i64> {
    let mut next = vec![NEVER_ACCESSED_AGAIN; ids.len()];
    let mut later: HashMap<u64, i64> = HashMap::new();
    for (i, &id) in ids.iter().enumerate().rev() {
        let position = i as i64 + 1;
        if let Some(p) = later.insert(id, position) {
            next[i] = p;
        }
    }
    next
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_access_vtime_definition() {
        // positions:           1  2  3  4  5
        let v = next_access_vtimes(&[7, 8, 7, 7, 9]);
        assert_eq!(v, vec![3, -1, 4, -1, -1]);
        assert!(next_access_vtimes(&[]).is_empty());
    }

    #[test]
    fn decodes_a_record() {
        let mut rec = Vec::new();
        rec.extend_from_slice(&5u32.to_le_bytes());
        rec.extend_from_slice(&0x0102_0304_0506_0708u64.to_le_bytes());
        rec.extend_from_slice(&4096u32.to_le_bytes());
        rec.extend_from_slice(&(-1i64).to_le_bytes());
        let mut src = OracleGeneralSource::new(Box::new(std::io::Cursor::new(rec)), "t");
        let mut buf = Vec::new();
        assert_eq!(src.next_batch(&mut buf, 10).ok(), Some(1));
        assert_eq!(
            buf[0],
            TraceRequest {
                time_ms: 5000,
                obj_id: 0x0102_0304_0506_0708,
                obj_size: 4096,
                key_size: 0,
                value_size: 4096,
                ttl_s: 0,
                ttl_ms: 0,
                next_access_vtime: -1,
            }
        );
        assert_eq!(src.next_batch(&mut buf, 10).ok(), Some(0));
    }
}
