//! [`TrackingAllocator`]: counts heap bytes and allocations for any `GlobalAlloc`.
//!
//! Counts live in cache-line-padded shards, one picked per thread, so threads allocating at the
//! same time do not fight over one cache line; a collection sums the shards.

use std::alloc::{GlobalAlloc, Layout};
use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, AtomicUsize, Ordering};

const SHARDS: usize = 32;

#[repr(align(128))]
struct Shard {
    bytes: AtomicI64,
    allocations: AtomicU64,
}

#[allow(clippy::declare_interior_mutable_const)] // Only used to initialize the array below.
const EMPTY_SHARD: Shard = Shard {
    bytes: AtomicI64::new(0),
    allocations: AtomicU64::new(0),
};
static COUNTS: [Shard; SHARDS] = [EMPTY_SHARD; SHARDS];
static NEXT_SHARD: AtomicUsize = AtomicUsize::new(0);
static IN_USE: AtomicBool = AtomicBool::new(false);

thread_local! {
    // `const` and without destructor: reading it never allocates, so it is safe in an allocator.
    static SHARD: Cell<usize> = const { Cell::new(usize::MAX) };
}

fn shard() -> &'static Shard {
    let index = SHARD
        .try_with(|shard| {
            if shard.get() == usize::MAX {
                shard.set(NEXT_SHARD.fetch_add(1, Ordering::Relaxed) % SHARDS);
            }
            shard.get()
        })
        // During thread teardown the thread-local is gone; any shard is correct for sums.
        .unwrap_or(0);
    &COUNTS[index]
}

#[inline]
fn record(bytes: i64, allocations: u64) {
    if !IN_USE.load(Ordering::Relaxed) {
        IN_USE.store(true, Ordering::Relaxed);
    }
    let shard = shard();
    shard.bytes.fetch_add(bytes, Ordering::Relaxed);
    if allocations > 0 {
        shard.allocations.fetch_add(allocations, Ordering::Relaxed);
    }
}

fn signed(size: usize) -> i64 {
    i64::try_from(size).unwrap_or(i64::MAX)
}

/// A `GlobalAlloc` wrapper that counts live heap bytes and allocations, feeding
/// `runtime.memory.heap_allocated` and `runtime.memory.allocations` of
/// [`MemoryMetrics`](crate::collectors::MemoryMetrics) when jemalloc is not used.
///
/// ```
/// use std::alloc::System;
/// use sentry_runtime_metrics::TrackingAllocator;
///
/// #[global_allocator]
/// static ALLOCATOR: TrackingAllocator<System> = TrackingAllocator::new(System);
/// # fn main() {
/// # let v = vec![0u8; 1024];
/// # assert!(TrackingAllocator::<System>::heap_allocated().unwrap() >= 1024);
/// # }
/// ```
///
/// Costs two relaxed atomic additions on a per-thread shard per allocation (see
/// `BENCHMARKS.md`).
#[derive(Debug, Default)]
pub struct TrackingAllocator<A> {
    inner: A,
}

impl<A> TrackingAllocator<A> {
    /// Wraps `inner`.
    pub const fn new(inner: A) -> Self {
        TrackingAllocator { inner }
    }

    /// Bytes currently allocated through any `TrackingAllocator`; `None` if none is in use.
    pub fn heap_allocated() -> Option<u64> {
        IN_USE.load(Ordering::Relaxed).then(|| {
            let live: i64 = COUNTS.iter().map(|s| s.bytes.load(Ordering::Relaxed)).sum();
            u64::try_from(live).unwrap_or(0)
        })
    }

    /// Allocations (including reallocations) made so far; `None` if no tracker is in use.
    pub fn allocations() -> Option<u64> {
        IN_USE.load(Ordering::Relaxed).then(|| {
            COUNTS
                .iter()
                .map(|s| s.allocations.load(Ordering::Relaxed))
                .sum()
        })
    }
}

// SAFETY: every method forwards to `inner` with the caller's arguments unchanged, so `inner`'s
// guarantees hold; the bookkeeping only touches atomics and never allocates.
unsafe impl<A: GlobalAlloc> GlobalAlloc for TrackingAllocator<A> {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract, passed on unchanged.
        let ptr = unsafe { self.inner.alloc(layout) };
        if !ptr.is_null() {
            record(signed(layout.size()), 1);
        }
        ptr
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as for `alloc`.
        let ptr = unsafe { self.inner.alloc_zeroed(layout) };
        if !ptr.is_null() {
            record(signed(layout.size()), 1);
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller guarantees `ptr` came from this allocator with `layout`.
        unsafe { self.inner.dealloc(ptr, layout) };
        record(-signed(layout.size()), 0);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller upholds `GlobalAlloc::realloc`'s contract, passed on unchanged.
        let new = unsafe { self.inner.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            record(signed(new_size) - signed(layout.size()), 1);
        }
        new
    }
}
