//! Memory of the non-string objects the simulator writes (REDIS-MODEL.md section 8 extended to
//! Redis 7.0's encodings): a sorted set used as a sliding rate-limit window, and a small hash
//! used as a token bucket. Pure arithmetic, like `memory`; the values and thresholds are
//! Redis 7.0's defaults (`zset-max-listpack-entries 128`, `zset-max-listpack-value 64`,
//! `hash-max-listpack-entries 128`).

use super::memory::{jemalloc_size, sds_alloc_bytes, ROBJ_BYTES};

/// `zset-max-listpack-entries` (default 128).
pub const ZSET_MAX_LISTPACK_ENTRIES: u64 = 128;

/// Bytes of one listpack element holding a string of `len` bytes (len < 64): a 1-byte header,
/// the bytes, a 1-byte back-length (listpack.c lpEncodeString / lpEncodeBacklen).
pub fn listpack_string_bytes(len: u64) -> u64 {
    let header = if len < 64 {
        1
    } else if len < 4096 {
        2
    } else {
        5
    };
    let body = header + len;
    body + if body < 128 { 1 } else { 2 }
}

/// Bytes of one listpack element holding a 64-bit integer that needs the full width (a unix
/// timestamp in ms): 1-byte encoding + 8 bytes + 1-byte back-length.
pub const LISTPACK_INT64_BYTES: u64 = 10;

/// Listpack header (total bytes u32 + element count u16) and end byte.
pub const LISTPACK_OVERHEAD_BYTES: u64 = 7;

/// Bytes of a sorted set of `members` members of `member_len` bytes with integral scores (ms
/// timestamps): a listpack while it is small, a skiplist + dict beyond
/// `zset-max-listpack-entries` (t_zset.c zsetTypeCreate, zsetConvert).
pub fn zset_bytes(members: u64, member_len: u64) -> u64 {
    if members <= ZSET_MAX_LISTPACK_ENTRIES && member_len <= 64 {
        let lp = LISTPACK_OVERHEAD_BYTES
            + members * (listpack_string_bytes(member_len) + LISTPACK_INT64_BYTES);
        return ROBJ_BYTES + jemalloc_size(lp);
    }
    // zset struct (dict*, zskiplist*), dict (7.0: 56 B), skiplist header node (32 levels).
    let fixed =
        jemalloc_size(16) + jemalloc_size(56) + jemalloc_size(24 + 32 * 16) + jemalloc_size(32);
    let table = (members + 1).next_power_of_two() * 8;
    // Per member: dict entry, skiplist node (level 1 or 2 for 94 % of nodes: average 1.33 levels
    // of 16 B over a 24-byte base, size-classed), the member sds.
    let node = (3 * jemalloc_size(24 + 16) + jemalloc_size(24 + 32)) / 4;
    let per_member = jemalloc_size(24) + node + sds_alloc_bytes(member_len);
    ROBJ_BYTES + fixed + jemalloc_size(table) + members * per_member
}

/// Bytes of a token-bucket hash: two fields, `tokens` (a small integer) and `ts` (a ms
/// timestamp), in a listpack.
pub fn token_bucket_bytes() -> u64 {
    let lp = LISTPACK_OVERHEAD_BYTES
        + listpack_string_bytes(6) // "tokens"
        + 2 // a small integer (7-bit encoding + back-length)
        + listpack_string_bytes(2) // "ts"
        + LISTPACK_INT64_BYTES;
    ROBJ_BYTES + jemalloc_size(lp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_zsets_are_listpacks_and_grow_by_size_class() {
        // 10 members of 16 bytes: 7 + 10 x (18 + 10) = 287 -> 320, + 16.
        assert_eq!(zset_bytes(10, 16), 16 + 320);
        assert!(zset_bytes(128, 16) < zset_bytes(129, 16));
        // Past the listpack limit each member costs about a hundred bytes.
        let per = (zset_bytes(2_000, 16) - zset_bytes(1_000, 16)) as f64 / 1_000.0;
        assert!((90.0..140.0).contains(&per), "{per}");
    }

    #[test]
    fn token_bucket_is_one_small_allocation() {
        assert_eq!(token_bucket_bytes(), 16 + 32);
    }
}
