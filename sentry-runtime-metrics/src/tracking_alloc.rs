//! [`TrackingAllocator`]: counts heap bytes and allocations for any `GlobalAlloc`.
//!
//! Counts live in cache-line-padded shards, one picked per thread, so threads allocating at the
//! same time do not fight over one cache line; a collection sums the shards. Bytes allocated
//! and bytes freed are counted apart (the live heap is their difference), so the bytes
//! allocated are a running total too, at no cost more per allocation or free.

use std::alloc::{GlobalAlloc, Layout};
use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

const SHARDS: usize = 32;

#[repr(align(128))]
struct Shard {
    /// Bytes handed out (a reallocation's new size included).
    allocated: AtomicU64,
    /// Bytes given back (a reallocation's old size included).
    freed: AtomicU64,
    allocations: AtomicU64,
}

#[allow(clippy::declare_interior_mutable_const)] // Only used to initialize the array below.
const EMPTY_SHARD: Shard = Shard {
    allocated: AtomicU64::new(0),
    freed: AtomicU64::new(0),
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

/// Records `allocated` bytes handed out by one allocation (or reallocation) and `freed` bytes
/// given back: the pair a reallocation records; an allocation frees 0, a free allocates none.
#[inline]
fn record(allocated: usize, freed: usize) {
    if !IN_USE.load(Ordering::Relaxed) {
        IN_USE.store(true, Ordering::Relaxed);
    }
    let shard = shard();
    if allocated > 0 {
        shard
            .allocated
            .fetch_add(allocated as u64, Ordering::Relaxed);
        shard.allocations.fetch_add(1, Ordering::Relaxed);
    }
    if freed > 0 {
        shard.freed.fetch_add(freed as u64, Ordering::Relaxed);
    }
}

/// The sum of one counter over the shards.
fn sum(counter: impl Fn(&Shard) -> &AtomicU64) -> u64 {
    COUNTS
        .iter()
        .map(|shard| counter(shard).load(Ordering::Relaxed))
        .fold(0, u64::wrapping_add)
}

/// A `GlobalAlloc` wrapper that counts live heap bytes, allocations and bytes allocated,
/// feeding `runtime.memory.heap_allocated`, `runtime.memory.allocations` and
/// `runtime.memory.allocated_bytes` of
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
/// Costs two relaxed atomic additions on a per-thread shard per allocation, one per free and
/// three per reallocation (see `BENCHMARKS.md`).
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
            // The frees first, then the allocations: the sums are of relaxed loads across
            // shards, so a free may be seen without its allocation for a moment; the
            // saturating difference keeps that from reading as a negative heap.
            let freed = sum(|shard| &shard.freed);
            sum(|shard| &shard.allocated).saturating_sub(freed)
        })
    }

    /// Allocations (including reallocations) made so far; `None` if no tracker is in use.
    pub fn allocations() -> Option<u64> {
        IN_USE
            .load(Ordering::Relaxed)
            .then(|| sum(|shard| &shard.allocations))
    }

    /// Bytes allocated so far (a reallocation counts its new size, as jemalloc's
    /// `thread.allocated` does); `None` if no tracker is in use. Its increase over an interval
    /// is the allocation rate.
    pub fn allocated_bytes() -> Option<u64> {
        IN_USE
            .load(Ordering::Relaxed)
            .then(|| sum(|shard| &shard.allocated))
    }
}

// SAFETY: every method forwards to `inner` with the caller's arguments unchanged, so `inner`'s
// guarantees hold; the bookkeeping only touches atomics and never allocates.
unsafe impl<A: GlobalAlloc> GlobalAlloc for TrackingAllocator<A> {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract, passed on unchanged.
        let ptr = unsafe { self.inner.alloc(layout) };
        if !ptr.is_null() {
            record(layout.size(), 0);
        }
        ptr
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as for `alloc`.
        let ptr = unsafe { self.inner.alloc_zeroed(layout) };
        if !ptr.is_null() {
            record(layout.size(), 0);
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller guarantees `ptr` came from this allocator with `layout`.
        unsafe { self.inner.dealloc(ptr, layout) };
        record(0, layout.size());
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller upholds `GlobalAlloc::realloc`'s contract, passed on unchanged.
        let new = unsafe { self.inner.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            record(new_size, layout.size());
        }
        new
    }
}
