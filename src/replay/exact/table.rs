//! `IdTable`: an open-addressing hash table from a `u64` object id to a `u32` slab index, built
//! for the exact caches' hot path. Linear probing over one flat array of (key, value) slots,
//! Fibonacci hashing on the top bits, deletion by backward shift (no tombstones, so lookups stay
//! short however many inserts and removes a replay does). It grows by doubling when more than
//! half full and never shrinks, so a warmed-up cache does no allocation per request.
//! It is never iterated, so its order cannot reach any output.

/// Slot value marking an empty slot (a slab index never takes this value).
const EMPTY: u32 = u32::MAX;
/// Smallest number of slots.
const MIN_SLOTS: usize = 16;

#[derive(Clone, Copy)]
struct Slot {
    key: u64,
    val: u32,
}

const EMPTY_SLOT: Slot = Slot { key: 0, val: EMPTY };

/// Open-addressing map `obj_id -> slab index`.
pub(crate) struct IdTable {
    slots: Vec<Slot>,
    mask: usize,
    shift: u32,
    len: usize,
}

impl IdTable {
    /// A table that holds `n_expected` keys without growing.
    pub(crate) fn with_expected(n_expected: usize) -> IdTable {
        let n_slots = n_expected
            .saturating_mul(2)
            .max(MIN_SLOTS)
            .checked_next_power_of_two()
            .unwrap_or(1 << 62);
        IdTable {
            slots: vec![EMPTY_SLOT; n_slots],
            mask: n_slots - 1,
            shift: 64 - n_slots.trailing_zeros(),
            len: 0,
        }
    }

    /// Number of keys held.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    #[inline]
    fn home(&self, key: u64) -> usize {
        let h = (key ^ (key >> 32)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        (h >> self.shift) as usize
    }

    /// The slab index stored for `key`, if any.
    #[inline]
    pub(crate) fn get(&self, key: u64) -> Option<u32> {
        let mut i = self.home(key);
        loop {
            let slot = self.slots[i];
            if slot.val == EMPTY {
                return None;
            }
            if slot.key == key {
                return Some(slot.val);
            }
            i = (i + 1) & self.mask;
        }
    }

    /// Stores `key -> val`; `key` must be absent and `val` must not be `u32::MAX`.
    #[inline]
    pub(crate) fn insert_new(&mut self, key: u64, val: u32) {
        debug_assert!(val != EMPTY);
        debug_assert!(self.get(key).is_none());
        if (self.len + 1) * 2 > self.slots.len() {
            self.grow();
        }
        let mut i = self.home(key);
        while self.slots[i].val != EMPTY {
            i = (i + 1) & self.mask;
        }
        self.slots[i] = Slot { key, val };
        self.len += 1;
    }

    /// Removes `key`; returns its value if it was present.
    #[inline]
    pub(crate) fn remove(&mut self, key: u64) -> Option<u32> {
        let mut i = self.home(key);
        loop {
            let slot = self.slots[i];
            if slot.val == EMPTY {
                return None;
            }
            if slot.key == key {
                break;
            }
            i = (i + 1) & self.mask;
        }
        let removed = self.slots[i].val;
        // Backward shift: pull later members of the probe run into the hole when their home
        // slot lies at or before the hole (cyclically), so every key stays reachable.
        let mut hole = i;
        let mut j = i;
        loop {
            j = (j + 1) & self.mask;
            let slot = self.slots[j];
            if slot.val == EMPTY {
                break;
            }
            let home = self.home(slot.key);
            if (j.wrapping_sub(home) & self.mask) >= (j.wrapping_sub(hole) & self.mask) {
                self.slots[hole] = slot;
                hole = j;
            }
        }
        self.slots[hole] = EMPTY_SLOT;
        self.len -= 1;
        Some(removed)
    }

    fn grow(&mut self) {
        let n_slots = self.slots.len() * 2;
        let old = std::mem::replace(&mut self.slots, vec![EMPTY_SLOT; n_slots]);
        self.mask = n_slots - 1;
        self.shift = 64 - n_slots.trailing_zeros();
        for slot in old {
            if slot.val != EMPTY {
                let mut i = self.home(slot.key);
                while self.slots[i].val != EMPTY {
                    i = (i + 1) & self.mask;
                }
                self.slots[i] = slot;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::RngStream;
    use std::collections::BTreeMap;

    #[test]
    fn matches_btreemap_under_random_inserts_and_removes() {
        let mut rng = RngStream::new(1, 1);
        let mut table = IdTable::with_expected(0);
        let mut reference: BTreeMap<u64, u32> = BTreeMap::new();
        for step in 0..200_000u32 {
            // Small key range so removes hit, plus some keys sharing low or high bits.
            let key = match rng.below(3) {
                0 => rng.below(2_000),
                1 => rng.below(64) << 40,
                _ => rng.below(64) * 1024,
            };
            if rng.below(3) == 0 {
                assert_eq!(table.remove(key), reference.remove(&key), "step {step}");
            } else if let Some(&v) = reference.get(&key) {
                assert_eq!(table.get(key), Some(v));
            } else {
                table.insert_new(key, step);
                reference.insert(key, step);
            }
            assert_eq!(table.len(), reference.len());
        }
        for (&k, &v) in &reference {
            assert_eq!(table.get(k), Some(v));
        }
        assert_eq!(table.get(u64::MAX), None);
    }
}
