//! The crate's only unsafe code (`#![deny(unsafe_code)]` holds everywhere else): the machine
//! level aids to speed, none of which changes a result.
//!
//! - `prefetch`, `prefetch_span`: hints that bring a value's cache line in ahead of use
//!   (x86-64 `prefetcht0`; no-ops elsewhere).
//! - `HugePageAlloc`: a global allocator, opt-in (the binary installs it when built with
//!   `--features hugepages`): the system allocator, except that large blocks (2 MiB and more:
//!   popularity tables, the Redis model's slabs and bucket arrays) are aligned to 2 MiB and
//!   advised for transparent huge pages before they are touched. Random probes into tables of
//!   tens of MiB otherwise miss the TLB on most accesses; with 2 MiB pages the whole model fits
//!   in the TLB's reach. Where the kernel has transparent huge pages off (or not in `madvise`
//!   mode) the advice is a no-op and nothing changes but alignment.
//!
//! Each unsafe block carries a `SAFETY:` comment saying why it is sound.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};

/// Blocks at least this large get 2 MiB alignment and the huge-page advice.
const HUGE_BYTES: usize = 2 << 20;

#[cfg(target_os = "linux")]
extern "C" {
    fn madvise(addr: *mut std::ffi::c_void, len: usize, advice: i32) -> i32;
}

/// Linux's `MADV_HUGEPAGE`.
#[cfg(target_os = "linux")]
const MADV_HUGEPAGE: i32 = 14;

/// The huge-page allocator (install with `#[global_allocator]`).
pub struct HugePageAlloc;

impl HugePageAlloc {
    fn advise(ptr: *mut u8, size: usize) {
        #[cfg(target_os = "linux")]
        // SAFETY: `ptr..ptr + size` is a block this allocator just obtained; madvise only
        // changes how the kernel backs it (a failure leaves normal pages).
        unsafe {
            madvise(ptr.cast(), size, MADV_HUGEPAGE);
        }
        #[cfg(not(target_os = "linux"))]
        let _ = (ptr, size);
    }

    fn huge(layout: Layout) -> Option<Layout> {
        (layout.size() >= HUGE_BYTES)
            .then(|| Layout::from_size_align(layout.size(), HUGE_BYTES.max(layout.align())).ok())
            .flatten()
    }
}

// SAFETY: every block is obtained from and returned to `System` with the same layout
// (`huge` maps a layout to the same adjusted layout on allocation and deallocation).
unsafe impl GlobalAlloc for HugePageAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        match Self::huge(layout) {
            Some(h) => {
                let ptr = System.alloc(h);
                if !ptr.is_null() {
                    Self::advise(ptr, h.size());
                }
                ptr
            }
            None => System.alloc(layout),
        }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if Self::huge(layout).is_none() {
            return System.alloc_zeroed(layout);
        }
        let ptr = self.alloc(layout);
        if !ptr.is_null() {
            std::ptr::write_bytes(ptr, 0, layout.size());
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, Self::huge(layout).unwrap_or(layout))
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let new_layout = Layout::from_size_align_unchecked(new_size, layout.align());
        if Self::huge(layout).is_none() && Self::huge(new_layout).is_none() {
            return System.realloc(ptr, layout, new_size);
        }
        let new_ptr = self.alloc(new_layout);
        if !new_ptr.is_null() {
            std::ptr::copy_nonoverlapping(ptr, new_ptr, layout.size().min(new_size));
            self.dealloc(ptr, layout);
        }
        new_ptr
    }
}

/// Hints the CPU to bring `*value`'s cache line in (x86-64 `prefetcht0`; a no-op elsewhere).
/// Only a performance hint: it never changes what the program computes.
#[inline(always)]
pub fn prefetch<T>(value: &T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: prefetching never faults and reads nothing architecturally visible.
    unsafe {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        _mm_prefetch(value as *const T as *const i8, _MM_HINT_T0);
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = value;
}

/// Like [`prefetch`], for a value that may straddle two cache lines: asks for the lines of its
/// first and last bytes.
#[inline(always)]
pub fn prefetch_span<T>(value: &T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: prefetching never faults and reads nothing architecturally visible; both
    // addresses lie within `value`.
    unsafe {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        let first = value as *const T as *const i8;
        _mm_prefetch(first, _MM_HINT_T0);
        _mm_prefetch(first.add(std::mem::size_of::<T>().max(1) - 1), _MM_HINT_T0);
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = value;
}
