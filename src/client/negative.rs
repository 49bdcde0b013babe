//! Negative caching: a fixed fraction of keys do not exist at the origin; their "not found"
//! is written back as a small value with a TTL of its own.

use crate::engine::rng::mix64;
use crate::engine::SimTime;

/// Bytes of a cached "not found".
pub const NEGATIVE_VALUE_BYTES: u32 = 16;

/// Whether the origin has nothing for `key_id`, when a `fraction` of keys are missing there:
/// fixed per key (a hash of the id), so every plan and every load agree.
pub fn is_negative(key_id: u64, fraction: f64) -> bool {
    let u = (mix64(key_id ^ 0x4E45_4741) >> 11) as f64 / (1u64 << 53) as f64;
    u < fraction
}

/// The write-back of a load: `(value_size, ttl_ms)` of a "not found" when the key is negative
/// under `negative` (its fraction and TTL), else the value's own.
pub fn write_back(
    key_id: u64,
    negative: Option<(f64, SimTime)>,
    value: impl FnOnce() -> (u32, u64),
) -> (u32, u64) {
    match negative {
        Some((fraction, ttl)) if is_negative(key_id, fraction) => {
            (NEGATIVE_VALUE_BYTES, ttl.as_ms())
        }
        _ => value(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_negative_fraction_is_kept() {
        let n = 100_000u64;
        let neg = (0..n).filter(|&k| is_negative(k << 8, 0.2)).count() as f64 / n as f64;
        assert!((neg - 0.2).abs() < 0.005, "{neg}");
        let (size, ttl_ms) = write_back(3, Some((1.0, SimTime::from_ms(1500))), || (900, 60_000));
        assert_eq!((size, ttl_ms), (NEGATIVE_VALUE_BYTES, 1500));
        assert_eq!(write_back(3, None, || (900, 60_000)), (900, 60_000));
    }
}
