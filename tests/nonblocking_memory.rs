//! The memory of a non-blocking connection (bench/README.md "Many connections": one thread,
//! ten thousand connections): its read buffer starts small and grows only when a response
//! needs more, so a connection that reads small responses holds no 16 KiB buffer; a large
//! head and body still come through whole.
//!
//! This test binary's allocator notes the largest allocation the watching thread makes, and
//! counts the bytes each thread allocates and frees (tests run on threads of their own).

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

thread_local! {
    /// Bytes this thread allocated less the bytes it freed.
    static HELD: Cell<isize> = const { Cell::new(0) };
}

fn held() -> isize {
    HELD.with(Cell::get)
}

fn count(delta: isize) {
    let _ = HELD.try_with(|h| h.set(h.get() + delta));
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
        count(layout.size() as isize);
        // SAFETY: the caller's layout, unchanged.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        count(layout.size() as isize);
        // SAFETY: as above.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        count(-(layout.size() as isize));
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note(new_size);
        count(new_size as isize - layout.size() as isize);
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
        } else if req.target == "/close" {
            b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 5\r\n\r\nhello".to_vec()
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

/// An event loop keeps thousands of connections open between requests: an idle one holds no
/// read buffer (it borrows one from its thread while a response's bytes are buffered), so an
/// open, idle keep-alive connection holds less than 3 KiB in all (with its own 4 KiB buffer
/// it held more than 4 KiB).
#[test]
fn idle_non_blocking_connections_hold_no_read_buffer() {
    const CONNS: usize = 64;
    let srv = server();
    // A first connection settles the per-thread storage (spare buffers and heads).
    let mut first = Connection::new("127.0.0.1", srv.port()).unwrap();
    first.set_blocking(false).unwrap();
    assert_eq!(get(&mut first, "/"), (200, None, b"hello".to_vec()));
    let before = held();
    let mut cs: Vec<Connection> = (0..CONNS)
        .map(|_| {
            let mut c = Connection::new("127.0.0.1", srv.port()).unwrap();
            c.set_blocking(false).unwrap();
            c
        })
        .collect();
    for c in cs.iter_mut() {
        // Two requests each: the connection has read responses and is idle, keep-alive.
        for _ in 0..2 {
            assert_eq!(get(c, "/"), (200, None, b"hello".to_vec()));
        }
    }
    let per_connection = (held() - before) / CONNS as isize;
    assert!(
        per_connection < 3072,
        "each open, idle connection holds {per_connection} bytes"
    );
    drop(cs);
}

/// A response that ends with `Connection: close` leaves the connection holding its closed
/// socket's number (docs/nonblocking.md, "The descriptor changes") until its next request,
/// but not the read buffer: the closed wire gave it back. What such a connection holds more
/// than before its request stays well under one 4 KiB buffer.
#[test]
fn a_connection_closed_by_the_server_holds_no_read_buffer() {
    const CONNS: usize = 32;
    let srv = server();
    let mut first = Connection::new("127.0.0.1", srv.port()).unwrap();
    first.set_blocking(false).unwrap();
    assert_eq!(get(&mut first, "/close"), (200, None, b"hello".to_vec()));
    let mut cs: Vec<Connection> = (0..CONNS)
        .map(|_| {
            let mut c = Connection::new("127.0.0.1", srv.port()).unwrap();
            c.set_blocking(false).unwrap();
            c
        })
        .collect();
    let before = held();
    for c in cs.iter_mut() {
        assert_eq!(get(c, "/close"), (200, None, b"hello".to_vec()));
        assert!(c.fileno().is_none(), "closed after Connection: close");
    }
    let per_connection = (held() - before) / CONNS as isize;
    assert!(
        per_connection < 2048,
        "a connection closed by the server holds {per_connection} bytes more"
    );
    drop(cs);
}
