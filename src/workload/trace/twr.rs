//! libCacheSim's `twr` binary format (Twitter cache traces): packed 20-byte little-endian
//! records, no header. This module owns its decoder and its field packing constants.
//!
//! | offset | type | field |
//! |---:|---|---|
//! | 0 | u32 | time in seconds |
//! | 4 | u64 | key id |
//! | 12 | u32 | bits 31..22 key size, bits 21..0 value size |
//! | 16 | u32 | bits 31..24 op, bits 23..0 TTL in seconds |

use std::io::Read;

use super::fixed::{le_u32, le_u64, FixedSource, RecordDecoder};
use super::{TraceError, TraceRequest, TraceSource, NO_NEXT_ACCESS_INFO};

/// Bytes per twr record.
pub const TWR_RECORD_BYTES: usize = 20;
/// Bits of the value size in the packed size word (the key size takes the 10 bits above).
pub const TWR_VALUE_SIZE_BITS: u32 = 22;
/// Largest key size a twr record can hold, in bytes.
pub const TWR_MAX_KEY_SIZE: u32 = (1 << 10) - 1;
/// Largest value size a twr record can hold, in bytes.
pub const TWR_MAX_VALUE_SIZE: u32 = (1 << TWR_VALUE_SIZE_BITS) - 1;
/// Bits of the TTL in the packed op/TTL word (the op takes the 8 bits above).
pub const TWR_TTL_BITS: u32 = 24;
/// Largest TTL a twr record can hold, in seconds.
pub const TWR_MAX_TTL_S: u32 = (1 << TWR_TTL_BITS) - 1;
/// The twr op code of a `get`.
pub const TWR_OP_GET: u8 = 1;

/// Decoder of one twr record.
struct TwrDecoder;

impl RecordDecoder for TwrDecoder {
    #[inline(always)]
    fn record_bytes(&self) -> usize {
        TWR_RECORD_BYTES
    }

    #[inline(always)]
    fn decode(&self, rec: &[u8]) -> Result<TraceRequest, String> {
        let time_s = le_u32(rec, 0);
        let obj_id = le_u64(rec, 4);
        let sizes = le_u32(rec, 12);
        let op_ttl = le_u32(rec, 16);
        let key_size = sizes >> TWR_VALUE_SIZE_BITS;
        let value_size = sizes & TWR_MAX_VALUE_SIZE;
        // key_size < 2^10 and value_size < 2^22: the sum cannot overflow.
        let obj_size = key_size + value_size;
        if obj_size == 0 {
            return Err(format!("object {obj_id} has size 0 (key 0 B, value 0 B)"));
        }
        Ok(TraceRequest {
            time_ms: time_s as u64 * 1000,
            obj_id,
            obj_size,
            key_size,
            value_size,
            ttl_s: 0,
            ttl_ms: (op_ttl & TWR_MAX_TTL_S) as u64 * 1000,
            next_access_vtime: NO_NEXT_ACCESS_INFO,
        })
    }
}

/// A streaming reader of a twr trace. `obj_size = key_size + value_size` (as libCacheSim
/// counts it), `ttl_ms` from the TTL bits (seconds) (0 = none), `time_ms` = seconds times 1000.
///
/// The op byte is not checked: every record, whatever its op (get, set, delete, ...), is kept
/// as a request, because the replay treats every request as a GET that inserts on a miss (as
/// libCacheSim's cachesim does). A record whose key and value sizes are both 0 is an error.
pub struct TwrSource(FixedSource<TwrDecoder>);

impl TwrSource {
    /// Reads twr records from `reader`; `name` names the trace in errors.
    pub fn new(reader: Box<dyn Read + Send>, name: &str) -> TwrSource {
        TwrSource(FixedSource::new(reader, TwrDecoder, name))
    }
}

impl TraceSource for TwrSource {
    fn next_batch(&mut self, buf: &mut Vec<TraceRequest>, max: usize) -> Result<usize, TraceError> {
        self.0.next_batch(buf, max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unpacks_sizes_and_ttl() {
        let mut rec = Vec::new();
        rec.extend_from_slice(&7u32.to_le_bytes());
        rec.extend_from_slice(&42u64.to_le_bytes());
        rec.extend_from_slice(&((24u32 << 22) | 3999).to_le_bytes());
        rec.extend_from_slice(&((3u32 << 24) | 3600).to_le_bytes());
        let mut src = TwrSource::new(Box::new(std::io::Cursor::new(rec)), "t");
        let mut buf = Vec::new();
        assert_eq!(src.next_batch(&mut buf, 4).ok(), Some(1));
        let r = buf[0];
        assert_eq!((r.time_ms, r.obj_id), (7000, 42));
        assert_eq!((r.key_size, r.value_size, r.obj_size), (24, 3999, 4023));
        assert_eq!((r.ttl_ms, r.next_access_vtime), (3_600_000, -2));
    }
}
