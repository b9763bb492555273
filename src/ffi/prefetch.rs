//! Cache prefetch hints for the entry points of a request.
//!
//! An event loop driving thousands of connections finds everything of a connection out of
//! cache when its next request comes: the connection, its wire, its request buffer. Read as the
//! code reaches them, each of those cache lines waits for the one before it (the address of
//! the wire is in the connection, and so on). Asking for all of them on entry lets the loads
//! overlap. A hint never changes what the program does, only when memory arrives.

use crate::connection::Connection;

const LINE: usize = 64;

/// Asks the CPU to load the cache line holding `addr`. Does nothing on other architectures.
#[inline(always)]
fn line(addr: usize) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch never faults and never reads for the program, whatever the address;
    // SSE, which provides it, is part of every x86_64 CPU.
    unsafe {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        _mm_prefetch::<_MM_HINT_T0>(addr as *const i8);
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = addr;
}

/// Every line of `len` bytes at `addr`.
#[inline(always)]
fn span(addr: usize, len: usize) {
    if len == 0 {
        return;
    }
    let mut a = addr & !(LINE - 1);
    while a < addr + len {
        line(a);
        a += LINE;
    }
}

/// Starts loading what a request on `c` reads: the connection's first lines (its
/// per-request fields), then what they point to.
#[inline(always)]
pub(crate) fn connection(c: &Connection) {
    span(c as *const Connection as usize, Connection::HOT_BYTES);
    for (addr, len) in c.hot_memory() {
        span(addr, len);
    }
}
