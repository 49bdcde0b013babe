//! Redis 7.0 memory accounting (REDIS-MODEL.md section 8): what one key costs in `used_memory`,
//! through jemalloc 5.3 size classes, sds headers, string encodings, dict entries and the
//! power-of-two bucket arrays of the main and expires tables. Pure arithmetic: no state.

/// `used_memory` of an empty Redis 7.0.15 server with one connected client (measured, bytes).
pub const EMPTY_SERVER_USED_MEMORY_BYTES: u64 = 977_368;

/// Size of a `robj` header (type, encoding, lru, refcount, ptr).
pub const ROBJ_BYTES: u64 = 16;

/// Longest string stored with the EMBSTR encoding (object.c OBJ_ENCODING_EMBSTR_SIZE_LIMIT).
pub const EMBSTR_SIZE_LIMIT: u64 = 44;

/// Initial size of a dict's bucket array (dict.h DICT_HT_INITIAL_SIZE).
pub const DICT_HT_INITIAL_SIZE: u64 = 4;

/// A dict may grow past maxmemory only above this load factor (server.h HASHTABLE_MAX_LOAD_FACTOR).
pub const HASHTABLE_MAX_LOAD_FACTOR: f64 = 1.618;

/// A dict shrinks in cron below this fill percentage (server.h HASHTABLE_MIN_FILL).
pub const HASHTABLE_MIN_FILL_PERCENT: u64 = 10;

/// Rounds a request up to its jemalloc 5.3 size class (64-bit): 8, 16, then steps of 16 up to
/// 128, then four classes per power of two (160, 192, 224, 256, 320, ...), for small and large
/// sizes alike.
pub fn jemalloc_size(request_bytes: u64) -> u64 {
    if request_bytes <= 8 {
        return 8;
    }
    if request_bytes <= 128 {
        return request_bytes.div_ceil(16) * 16;
    }
    // (2^k, 2^(k+1)] is split into four classes of 2^(k-2).
    let k = 63 - (request_bytes - 1).leading_zeros() as u64; // 2^k < request <= 2^(k+1)
    let step = 1u64 << (k - 2);
    request_bytes.div_ceil(step) * step
}

/// Header bytes of an sds string of `len` bytes (sds.c sdsReqType: type 5, 8, 16, 32, 64).
pub fn sds_header_bytes(len: u64) -> u64 {
    if len < 32 {
        1
    } else if len < 256 {
        3
    } else if len < 65_536 {
        5
    } else if len < (1u64 << 32) {
        9
    } else {
        17
    }
}

/// Allocation of an sds string holding `len` bytes (header + bytes + NUL, size-classed).
pub fn sds_alloc_bytes(len: u64) -> u64 {
    jemalloc_size(sds_header_bytes(len) + len + 1)
}

/// How a string value is encoded (object.c tryObjectEncoding).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StringEncoding {
    /// A 64-bit integer in the object's pointer: 16 bytes, or 0 for a shared integer.
    Int,
    /// Object header and sds in one allocation (values up to 44 bytes).
    Embstr,
    /// Object header plus a separate sds.
    Raw,
}

/// The encoding Redis picks for a value of `len` bytes that is not integer-looking.
pub fn string_encoding(len: u64) -> StringEncoding {
    if len <= EMBSTR_SIZE_LIMIT {
        StringEncoding::Embstr
    } else {
        StringEncoding::Raw
    }
}

/// Bytes of a string value object of `len` bytes in the given encoding (`shared_integer`: a
/// value 0..9999 when shared integers are allowed, i.e. no LRU/LFU maxmemory policy).
pub fn value_object_bytes(len: u64, encoding: StringEncoding, shared_integer: bool) -> u64 {
    match encoding {
        StringEncoding::Int if shared_integer => 0,
        StringEncoding::Int => ROBJ_BYTES,
        StringEncoding::Embstr => jemalloc_size(ROBJ_BYTES + 3 + len + 1),
        StringEncoding::Raw => ROBJ_BYTES + sds_alloc_bytes(len),
    }
}

/// Bytes of one main-dict entry: 24 rounded to 32, or 40 rounded to 48 in cluster mode
/// (7.0 keeps per-slot list links in the entry metadata).
pub fn main_dict_entry_bytes(cluster_enabled: bool) -> u64 {
    if cluster_enabled {
        jemalloc_size(40)
    } else {
        jemalloc_size(24)
    }
}

/// Bytes of one expires-dict entry (it shares the key sds with the main dict).
pub const EXPIRES_DICT_ENTRY_BYTES: u64 = 32;

/// Bytes a key of `key_len` bytes with a string value costs, excluding bucket arrays and the
/// expires entry: dict entry + key sds + value object.
pub fn key_value_bytes(key_len: u64, value_bytes: u64, cluster_enabled: bool) -> u64 {
    main_dict_entry_bytes(cluster_enabled) + sds_alloc_bytes(key_len) + value_bytes
}

/// Bytes of a dict bucket array of `table_size` slots (0 before the first insert).
pub fn bucket_array_bytes(table_size: u64) -> u64 {
    if table_size == 0 {
        0
    } else {
        jemalloc_size(8 * table_size)
    }
}

/// The table size a dict expands to when it holds `used` entries and needs room for one more
/// (dict.c _dictNextExp: the next power of two >= used + 1, at least the initial size).
pub fn next_table_size(used: u64) -> u64 {
    (used + 1).next_power_of_two().max(DICT_HT_INITIAL_SIZE)
}

/// The table size a dict shrinks to in cron when holding `used` entries (dict.c dictResize:
/// the next power of two >= used, at least the initial size).
pub fn shrunk_table_size(used: u64) -> u64 {
    used.next_power_of_two().max(DICT_HT_INITIAL_SIZE)
}

/// Bytes of one command argument while the command runs: networking.c
/// processMultibulkBuffer makes every bulk argument its own string object
/// (object.c createStringObject: EMBSTR up to 44 bytes, RAW above; never the INT encoding).
pub fn argument_object_bytes(len: u64) -> u64 {
    value_object_bytes(len, string_encoding(len), false)
}

/// Bytes of a command's argument vector (`c->argv`, one pointer per argument, at most 1,024
/// preallocated: networking.c processMultibulkBuffer), excluding the argument objects.
pub fn argv_array_bytes(argc: u64) -> u64 {
    jemalloc_size(8 * argc.clamp(1, 1024))
}

/// Number of decimal digits of `n` (the key length when a trace names a key by its number).
pub fn decimal_digits(n: u64) -> u32 {
    if n == 0 {
        1
    } else {
        n.ilog10() + 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn size_classes_match_the_jemalloc_list() {
        let classes = [
            8, 16, 32, 48, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384, 448, 512, 640, 768,
            896, 1024, 1280, 1536, 1792, 2048, 2560, 3072, 3584, 4096, 5120, 6144, 7168, 8192,
            10240, 12288, 14336, 16384, 20480, 24576, 28672, 32768,
        ];
        for w in classes.windows(2) {
            assert_eq!(jemalloc_size(w[0]), w[0]);
            assert_eq!(jemalloc_size(w[0] + 1), w[1], "after {}", w[0]);
        }
        assert_eq!(jemalloc_size(1), 8);
    }

    #[test]
    fn model_section_8_examples() {
        // k:12345 with a 512-byte value: 32 + 16 + 16 + 640 = 704 before buckets.
        let v = value_object_bytes(512, string_encoding(512), false);
        assert_eq!(v, 16 + 640);
        assert_eq!(key_value_bytes(7, v, false), 704);
        // EMBSTR limit: 44 fits in 64, 45 goes raw.
        assert_eq!(value_object_bytes(44, string_encoding(44), false), 64);
        assert_eq!(string_encoding(45), StringEncoding::Raw);
        assert_eq!(main_dict_entry_bytes(true), 48);
    }

    #[test]
    fn table_sizes() {
        assert_eq!(next_table_size(0), 4);
        assert_eq!(next_table_size(4), 8);
        assert_eq!(next_table_size(65_536), 131_072);
        assert_eq!(shrunk_table_size(13_000), 16_384);
        assert_eq!(decimal_digits(0), 1);
        assert_eq!(decimal_digits(99_999), 5);
    }

    #[test]
    fn argument_objects_are_strings_never_integers() {
        // "SET": EMBSTR 16 + 3 + 3 + 1 = 23 -> 32; a 250-byte value: 16 + J(3 + 250 + 1) = 272.
        assert_eq!(argument_object_bytes(3), 32);
        assert_eq!(argument_object_bytes(250), 16 + 256);
        // Three pointers -> 24 bytes -> 32; five -> 40 -> 48.
        assert_eq!(argv_array_bytes(3), 32);
        assert_eq!(argv_array_bytes(5), 48);
    }
}
