//! The most heap one test thread holds at once while a future runs: a counting global
//! allocator with per-thread counters, so tests running beside each other do not
//! disturb each other's numbers. A `#[tokio::test]` runs its whole remediation (the
//! plugin's fibers, the host calls, the SDK's connections) on its own thread.

// A global allocator is `unsafe` by definition; this one only forwards to `System` and
// counts.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

struct Counting;

#[global_allocator]
static ALLOCATOR: Counting = Counting;

thread_local! {
    static LIVE: Cell<isize> = const { Cell::new(0) };
    static PEAK: Cell<isize> = const { Cell::new(0) };
}

fn count(bytes: isize) {
    let _ = LIVE.try_with(|live| {
        let now = live.get() + bytes;
        live.set(now);
        let _ = PEAK.try_with(|peak| peak.set(peak.get().max(now)));
    });
}

// SAFETY: every method forwards to `System` with the caller's arguments unchanged.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            count(layout.size().cast_signed());
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            count(layout.size().cast_signed());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        count(-layout.size().cast_signed());
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            count(new_size.cast_signed() - layout.size().cast_signed());
        }
        p
    }
}

/// Awaits `future` and returns its output with the most heap bytes this thread held at
/// once meanwhile, above what it held when it started.
pub async fn peak_heap<F: Future>(future: F) -> (F::Output, usize) {
    let start = LIVE.with(Cell::get);
    PEAK.with(|peak| peak.set(start));
    let output = future.await;
    let peak = PEAK.with(Cell::get);
    (output, (peak - start).max(0).cast_unsigned())
}
