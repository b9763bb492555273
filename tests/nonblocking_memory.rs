//! The memory of a non-blocking connection (bench/README.md "Many connections": one thread,
//! ten thousand connections): its read buffer starts small and grows only when a response
//! needs more, so a connection that reads small responses holds no 16 KiB buffer; a large
//! head and body still come through whole.
//!
//! This test binary's allocator notes the largest allocation the watching thread makes.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use common::event_loop::{drive_conn, read_body};
use common::routed::{ok, Routed};
use httpclient::Connection;

struct Watching;

thread_local! {
    static WATCHING: Cell<bool> = const { Cell::new(false) };
    static LARGEST: Cell<usize> = const { Cell::new(0) };
}

fn note(size: usize) {
    if WATCHING.try_with(Cell::get).unwrap_or(false) {
        let _ = LARGEST.try_with(|l| l.set(l.get().max(size)));
    }
}

// SAFETY: every call is passed on to the system allocator unchanged.
unsafe impl GlobalAlloc for Watching {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        // SAFETY: the caller's layout, unchanged.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        // SAFETY: as above.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note(new_size);
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOC: Watching = Watching;

/// The largest allocation this thread makes while running `f`.
fn largest_allocation(f: impl FnOnce()) -> usize {
    LARGEST.with(|l| l.set(0));
    WATCHING.with(|w| w.set(true));
    f();
    WATCHING.with(|w| w.set(false));
    LARGEST.with(Cell::get)
}

/// A GET of `path` in non-blocking mode, read with a 1 KiB buffer: (status, a header's
/// value, body).
fn get(c: &mut Connection, path: &str) -> (u16, Option<String>, Vec<u8>) {
    drive_conn(c, |c| c.request(b"GET", path.as_bytes(), None, &[]));
    let mut resp = drive_conn(c, Connection::getresponse);
    let header = resp
        .getheader(b"X-Long")
        .map(|v| v.to_string_lossy().into_owned());
    let body = read_body(&mut resp, 1024);
    (resp.status(), header, body)
}

fn pattern(n: usize) -> Vec<u8> {
    (0..n).map(|i| b"0123456789abcdefghij"[i % 20]).collect()
}

fn server() -> Routed {
    Routed::start(|req| {
        if req.target == "/big" {
            let long = "v".repeat(30_000);
            let body = pattern(100_000);
            let mut r = format!(
                "HTTP/1.1 200 OK\r\nX-Long: {long}\r\nContent-Length: {}\r\n\r\n",
                body.len()
            )
            .into_bytes();
            r.extend_from_slice(&body);
            r
        } else {
            ok("hello")
        }
    })
}

#[test]
fn a_non_blocking_connection_reading_small_responses_allocates_no_16_kib_buffer() {
    let srv = server();
    let mut c = Connection::new("127.0.0.1", srv.port()).unwrap();
    c.set_blocking(false).unwrap();
    let largest = largest_allocation(|| {
        drive_conn(&mut c, Connection::connect);
        for _ in 0..3 {
            assert_eq!(get(&mut c, "/"), (200, None, b"hello".to_vec()));
        }
    });
    assert!(largest < 16 * 1024, "an allocation of {largest} bytes");
}

#[test]
fn a_large_head_and_body_still_come_through_whole_after_small_ones() {
    let srv = server();
    let mut c = Connection::new("127.0.0.1", srv.port()).unwrap();
    c.set_blocking(false).unwrap();
    assert_eq!(get(&mut c, "/"), (200, None, b"hello".to_vec()));
    for _ in 0..2 {
        let (status, header, body) = get(&mut c, "/big");
        assert_eq!(status, 200);
        assert_eq!(header.as_deref(), Some("v".repeat(30_000).as_str()));
        assert_eq!(body, pattern(100_000));
        assert_eq!(get(&mut c, "/"), (200, None, b"hello".to_vec()));
    }
}
