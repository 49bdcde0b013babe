//! Redis Cluster hash slots (REDIS-MODEL.md section 9): the CRC16 key hash, hash tags, and the
//! assignment of the 16384 slots to shards. It owns routing a key to a shard and nothing else: it
//! must not know about keyspaces, memory, eviction or time, and it never allocates per key.

/// Number of hash slots in a Redis Cluster.
pub const CLUSTER_SLOTS: u16 = 16384;

/// Polynomial of CRC-16/XMODEM.
const CRC16_POLY: u16 = 0x1021;

/// Byte-at-a-time lookup table for CRC-16/XMODEM, built at compile time.
static CRC16_TABLE: [u16; 256] = crc16_table();

/// Builds the CRC-16/XMODEM table: entry `b` is the CRC register after shifting byte `b` (placed
/// in the high byte) through eight rounds of the MSB-first polynomial division.
const fn crc16_table() -> [u16; 256] {
    let mut table = [0u16; 256];
    let mut byte = 0;
    while byte < 256 {
        let mut register = (byte as u16) << 8;
        let mut round = 0;
        while round < 8 {
            register = if register & 0x8000 != 0 {
                (register << 1) ^ CRC16_POLY
            } else {
                register << 1
            };
            round += 1;
        }
        table[byte] = register;
        byte += 1;
    }
    table
}

/// CRC-16/XMODEM of `bytes` (poly 0x1021, init 0, no reflection, no final xor), the checksum
/// Redis Cluster hashes keys with. `crc16_xmodem(b"123456789") == 0x31C3`.
#[inline]
pub fn crc16_xmodem(bytes: &[u8]) -> u16 {
    let mut crc = 0u16;
    for &byte in bytes {
        let index = ((crc >> 8) as u8 ^ byte) as usize;
        crc = (crc << 8) ^ CRC16_TABLE[index];
    }
    crc
}

/// The part of `key` that decides its slot: if the key has a `{`, and a `}` somewhere after the
/// first `{`, with at least one byte between them, the bytes between the first `{` and the first
/// `}` after it; otherwise the whole key. So `{user1000}.following` hashes `user1000`,
/// `foo{{bar}}zap` hashes `{bar`, and `foo{}{bar}` hashes the whole key.
#[inline]
pub fn hash_tag(key: &[u8]) -> &[u8] {
    let Some(open) = key.iter().position(|&b| b == b'{') else {
        return key;
    };
    let after_open = &key[open + 1..];
    match after_open.iter().position(|&b| b == b'}') {
        Some(tag_len) if tag_len > 0 => &after_open[..tag_len],
        _ => key,
    }
}

/// The cluster hash slot of `key`, in `0..CLUSTER_SLOTS`: CRC16 of its [`hash_tag`], low 14 bits.
#[inline]
pub fn key_hash_slot(key: &[u8]) -> u16 {
    crc16_xmodem(hash_tag(key)) & (CLUSTER_SLOTS - 1)
}

/// Which shard (master) serves each of the 16384 slots.
#[derive(Clone, PartialEq, Eq)]
pub struct SlotMap {
    /// Shard index of every slot.
    shard_of_slot: Box<[u16; CLUSTER_SLOTS as usize]>,
    /// Number of slots each shard serves; its length is the number of shards.
    slot_count_of_shard: Vec<u32>,
}

impl SlotMap {
    /// Contiguous slot ranges over `n_shards` shards, the same ranges `redis-cli --cluster create`
    /// gives `n_shards` masters. The rule: let `per = 16384 / n_shards` computed in `f32`, and a
    /// `f32` cursor start at 0; shard `i` takes slots `first..=last` with
    /// `last = round_half_away_from_zero(cursor + per - 1)` (in `f32`), `last` raised to `first`
    /// if below it and set to 16383 for the last shard; then `first = last + 1`, `cursor += per`.
    /// This differs from "16384 / n each, remainder to the first shards": for 3 shards it gives
    /// 0-5460, 5461-10922, 10923-16383 (5461, 5462, 5461 slots), as real clusters have.
    ///
    /// # Panics
    /// If `n_shards` is 0 or above 16384 (validate the configuration before calling).
    pub fn even(n_shards: usize) -> SlotMap {
        assert!(
            (1..=CLUSTER_SLOTS as usize).contains(&n_shards),
            "a cluster needs 1..=16384 shards, got {n_shards}"
        );
        let per_shard = CLUSTER_SLOTS as f32 / n_shards as f32;
        let mut cursor = 0.0f32;
        let mut first: u32 = 0;
        let mut ranges = Vec::with_capacity(n_shards);
        for shard in 0..n_shards {
            let mut last = (cursor + per_shard - 1.0).round() as u32;
            if shard == n_shards - 1 || last >= CLUSTER_SLOTS as u32 {
                last = CLUSTER_SLOTS as u32 - 1;
            }
            last = last.max(first);
            ranges.push((shard, first as u16, last as u16));
            first = last + 1;
            cursor += per_shard;
        }
        SlotMap::from_ranges(n_shards, &ranges)
            .expect("the redis-cli rule assigns every slot exactly once")
    }

    /// A slot map from explicit inclusive ranges `(shard, first_slot, last_slot)`. Every slot must
    /// be assigned exactly once and every shard index must be below `n_shards`; a shard may serve
    /// no slots. The error names the first problem found, for example
    /// `"slot 5461 assigned to no shard"`.
    pub fn from_ranges(n_shards: usize, ranges: &[(usize, u16, u16)]) -> Result<SlotMap, String> {
        if n_shards == 0 || n_shards > CLUSTER_SLOTS as usize {
            return Err(format!("a cluster needs 1..=16384 shards, got {n_shards}"));
        }
        const UNASSIGNED: u16 = u16::MAX;
        let mut shard_of_slot: Box<[u16; CLUSTER_SLOTS as usize]> =
            vec![UNASSIGNED; CLUSTER_SLOTS as usize]
                .into_boxed_slice()
                .try_into()
                .expect("length is CLUSTER_SLOTS");
        let mut slot_count_of_shard = vec![0u32; n_shards];
        for &(shard, first, last) in ranges {
            if shard >= n_shards {
                return Err(format!(
                    "slots {first}-{last} assigned to shard {shard}, but the cluster has only \
                     {n_shards} shards (0-{})",
                    n_shards - 1
                ));
            }
            if last >= CLUSTER_SLOTS {
                return Err(format!(
                    "slots {first}-{last} of shard {shard}: slot {last} is out of range 0-16383"
                ));
            }
            if first > last {
                return Err(format!(
                    "slots {first}-{last} of shard {shard}: the first slot is after the last"
                ));
            }
            for slot in first..=last {
                let owner = shard_of_slot[slot as usize];
                if owner != UNASSIGNED {
                    return Err(format!(
                        "slot {slot} assigned to both shard {owner} and shard {shard}"
                    ));
                }
                shard_of_slot[slot as usize] = shard as u16;
            }
            slot_count_of_shard[shard] += u32::from(last - first) + 1;
        }
        if let Some(slot) = shard_of_slot.iter().position(|&s| s == UNASSIGNED) {
            let n_unassigned = shard_of_slot.iter().filter(|&&s| s == UNASSIGNED).count();
            return Err(format!(
                "slot {slot} assigned to no shard ({n_unassigned} unassigned slots in all)"
            ));
        }
        Ok(SlotMap {
            shard_of_slot,
            slot_count_of_shard,
        })
    }

    /// Number of shards (including any that serve no slots).
    pub fn n_shards(&self) -> usize {
        self.slot_count_of_shard.len()
    }

    /// The shard serving `slot`.
    ///
    /// # Panics
    /// If `slot >= CLUSTER_SLOTS`.
    #[inline]
    pub fn shard_of_slot(&self, slot: u16) -> usize {
        self.shard_of_slot[slot as usize] as usize
    }

    /// The shard serving `key` (through [`key_hash_slot`]; no allocation).
    #[inline]
    pub fn shard_of_key(&self, key: &[u8]) -> usize {
        self.shard_of_slot(key_hash_slot(key))
    }

    /// How many slots `shard` serves.
    ///
    /// # Panics
    /// If `shard >= self.n_shards()`.
    pub fn slots_of_shard(&self, shard: usize) -> usize {
        self.slot_count_of_shard[shard] as usize
    }

    /// The assignment as maximal contiguous ranges `(shard, first_slot, last_slot)` in slot
    /// order; [`SlotMap::from_ranges`] on them rebuilds this map.
    pub fn ranges(&self) -> Vec<(usize, u16, u16)> {
        let mut ranges: Vec<(usize, u16, u16)> = Vec::new();
        for (slot, &shard) in self.shard_of_slot.iter().enumerate() {
            let (shard, slot) = (shard as usize, slot as u16);
            match ranges.last_mut() {
                Some((last_shard, _, last_slot)) if *last_shard == shard => *last_slot = slot,
                _ => ranges.push((shard, slot, slot)),
            }
        }
        ranges
    }
}

impl std::fmt::Debug for SlotMap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SlotMap")
            .field("n_shards", &self.n_shards())
            .field("ranges", &self.ranges())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bit-by-bit CRC-16/XMODEM straight from the definition: the oracle for the table.
    fn crc16_bitwise(bytes: &[u8]) -> u16 {
        let mut crc = 0u16;
        for &byte in bytes {
            crc ^= (byte as u16) << 8;
            for _ in 0..8 {
                crc = if crc & 0x8000 != 0 {
                    (crc << 1) ^ 0x1021
                } else {
                    crc << 1
                };
            }
        }
        crc
    }

    #[test]
    fn crc16_check_value() {
        assert_eq!(crc16_xmodem(b"123456789"), 0x31C3);
        assert_eq!(crc16_xmodem(b""), 0);
    }

    #[test]
    fn crc16_table_matches_bitwise_definition() {
        let mut rng = crate::engine::RngStream::new(9, 9);
        for len in 0..200 {
            let bytes: Vec<u8> = (0..len).map(|_| rng.next_u64() as u8).collect();
            assert_eq!(crc16_xmodem(&bytes), crc16_bitwise(&bytes), "{bytes:?}");
        }
    }

    #[test]
    fn slot_vectors_from_redis_model() {
        let vectors: [(&str, u16); 15] = [
            ("foo", 12182),
            ("bar", 5061),
            ("hello", 866),
            ("123456789", 12739),
            ("user:1000", 1649),
            ("{user1000}.following", 3443),
            ("{user1000}.followers", 3443),
            ("foo{}{bar}", 8363),
            ("foo{{bar}}zap", 4015),
            ("foo{bar}{zap}", 5061),
            ("{}foo", 9500),
            ("a{b", 13340),
            ("k:0", 14231),
            ("cpq:quote:{acct42}:v1", 13360),
            ("", 0),
        ];
        for (key, slot) in vectors {
            assert_eq!(key_hash_slot(key.as_bytes()), slot, "key {key:?}");
        }
    }

    #[test]
    fn hash_tags() {
        let tag = |k: &str| {
            std::str::from_utf8(hash_tag(k.as_bytes()))
                .unwrap()
                .to_owned()
        };
        assert_eq!(tag("{user1000}.following"), "user1000");
        assert_eq!(tag("foo{{bar}}zap"), "{bar");
        assert_eq!(tag("foo{bar}{zap}"), "bar");
        assert_eq!(tag("foo{}{bar}"), "foo{}{bar}");
        assert_eq!(tag("{}foo"), "{}foo");
        assert_eq!(tag("a{b"), "a{b");
        assert_eq!(tag("a}b{c"), "a}b{c");
        assert_eq!(tag("a}b{c}"), "c");
        assert_eq!(tag("plain"), "plain");
        assert_eq!(tag(""), "");
    }

    #[test]
    fn even_three_shards_matches_redis_cli() {
        let map = SlotMap::even(3);
        assert_eq!(
            map.ranges(),
            [(0, 0, 5460), (1, 5461, 10922), (2, 10923, 16383)]
        );
        assert_eq!([0, 1, 2].map(|s| map.slots_of_shard(s)), [5461, 5462, 5461]);
        assert_eq!(map.shard_of_slot(5460), 0);
        assert_eq!(map.shard_of_slot(5461), 1);
        assert_eq!(map.shard_of_slot(16383), 2);
        assert_eq!(map.shard_of_key(b"foo"), 2); // slot 12182
        assert_eq!(map.shard_of_key(b"bar"), 0); // slot 5061
        assert_eq!(map.shard_of_key(b"{user1000}.following"), 0); // slot 3443
    }

    #[test]
    fn even_is_contiguous_complete_and_balanced() {
        for n_shards in (1..=130).chain([1000, 4096, 10_000, 16_383, 16_384]) {
            let map = SlotMap::even(n_shards);
            assert_eq!(map.n_shards(), n_shards);
            let ranges = map.ranges();
            assert_eq!(
                ranges.len(),
                n_shards,
                "one range per shard, n = {n_shards}"
            );
            for (i, &(shard, _, _)) in ranges.iter().enumerate() {
                assert_eq!(shard, i);
            }
            let total: usize = (0..n_shards).map(|s| map.slots_of_shard(s)).sum();
            assert_eq!(total, CLUSTER_SLOTS as usize);
            let floor = CLUSTER_SLOTS as usize / n_shards;
            for shard in 0..n_shards {
                let count = map.slots_of_shard(shard);
                assert!(
                    (floor..=floor + 1).contains(&count),
                    "n = {n_shards}: shard {shard} has {count} slots"
                );
            }
            assert_eq!(SlotMap::from_ranges(n_shards, &ranges).unwrap(), map);
        }
    }

    #[test]
    fn from_ranges_valid_and_shard_without_slots() {
        let map = SlotMap::from_ranges(3, &[(2, 0, 99), (0, 100, 16383)]).unwrap();
        assert_eq!(map.slots_of_shard(0), 16284);
        assert_eq!(map.slots_of_shard(1), 0);
        assert_eq!(map.slots_of_shard(2), 100);
        assert_eq!(map.shard_of_slot(99), 2);
        assert_eq!(map.shard_of_slot(100), 0);
    }

    #[test]
    fn from_ranges_errors_name_the_problem() {
        let err = |n, ranges: &[(usize, u16, u16)]| SlotMap::from_ranges(n, ranges).unwrap_err();
        assert_eq!(
            err(2, &[(0, 0, 5460), (1, 5462, 16383)]),
            "slot 5461 assigned to no shard (1 unassigned slots in all)"
        );
        assert_eq!(
            err(2, &[(0, 0, 8192), (1, 8192, 16383)]),
            "slot 8192 assigned to both shard 0 and shard 1"
        );
        assert!(err(2, &[(0, 0, 8191), (2, 8192, 16383)]).contains("shard 2"));
        assert!(err(1, &[(0, 0, 16384)]).contains("slot 16384 is out of range"));
        assert!(err(1, &[(0, 10, 5), (0, 0, 16383)]).contains("first slot is after the last"));
        assert!(err(0, &[]).contains("got 0"));
        assert!(err(1, &[]).starts_with("slot 0 assigned to no shard"));
    }
}
