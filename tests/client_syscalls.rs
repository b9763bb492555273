//! The system calls of a warm request through the client (docs/client.md, "Pool"): a pooled
//! connection keeps the read/write timeout it was given, so a call wanting the same one does
//! not set it again (two setsockopt calls per request, a quarter of the layer's cost in
//! bench/'s client-warm scenario), while a changed timeout still reaches it.
//!
//! This test binary defines `setsockopt` itself: std's calls bind to it at link time, it
//! counts the calls made by the watching thread and passes every call on to the kernel.
#![cfg(target_os = "linux")]

mod common;

use std::cell::Cell;
use std::time::{Duration, Instant};

use common::routed::{ok, Routed};
use httpclient::client::proxy::ProxyConfig;
use httpclient::client::Client;
use httpclient::ErrorKind;

thread_local! {
    static WATCHING: Cell<bool> = const { Cell::new(false) };
    static CALLS: Cell<u32> = const { Cell::new(0) };
}

/// # Safety
/// As setsockopt(2): `value` points at `len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn setsockopt(
    fd: libc::c_int,
    level: libc::c_int,
    name: libc::c_int,
    value: *const libc::c_void,
    len: libc::socklen_t,
) -> libc::c_int {
    if WATCHING.try_with(Cell::get).unwrap_or(false) {
        let _ = CALLS.try_with(|c| c.set(c.get() + 1));
    }
    // SAFETY: the caller's arguments, unchanged; syscall() sets errno and returns -1 on error.
    unsafe { libc::syscall(libc::SYS_setsockopt, fd, level, name, value, len) as libc::c_int }
}

/// The setsockopt calls this thread makes while running `f`.
fn setsockopt_calls(f: impl FnOnce()) -> u32 {
    CALLS.with(|c| c.set(0));
    WATCHING.with(|w| w.set(true));
    f();
    WATCHING.with(|w| w.set(false));
    CALLS.with(Cell::get)
}

fn client() -> Client {
    let c = Client::with_proxy_config(ProxyConfig::default()).unwrap();
    c.set_timeout(10.0).unwrap();
    c
}

fn fetch(c: &Client, url: &str) -> Vec<u8> {
    let mut r = c.get(url).unwrap();
    let mut v = Vec::new();
    r.read_to_end(&mut v).unwrap();
    v
}

#[test]
fn the_interposer_sees_a_timeout_being_set() {
    // The premise of the next test: a timeout set on a socket is counted here.
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let s = std::net::TcpStream::connect(l.local_addr().unwrap()).unwrap();
    let n = setsockopt_calls(|| s.set_read_timeout(Some(Duration::from_secs(3))).unwrap());
    assert_eq!(n, 1);
    assert_eq!(s.read_timeout().unwrap(), Some(Duration::from_secs(3)));
}

#[test]
fn warm_requests_set_no_socket_option() {
    let srv = Routed::start(|_| ok("hello"));
    let c = client();
    assert_eq!(fetch(&c, &srv.url("/")), b"hello");
    let n = setsockopt_calls(|| {
        for _ in 0..5 {
            assert_eq!(fetch(&c, &srv.url("/")), b"hello");
        }
    });
    assert_eq!(srv.connections(), 1, "the connection was reused");
    assert_eq!(n, 0, "setsockopt calls for 5 warm requests");
}

#[test]
fn a_changed_timeout_reaches_a_pooled_connection() {
    let srv = Routed::start(|r| {
        if r.target == "/slow" {
            std::thread::sleep(Duration::from_millis(1500));
        }
        ok("hello")
    });
    let c = client();
    assert_eq!(fetch(&c, &srv.url("/")), b"hello");
    assert_eq!(c.idle_connections(), 1);
    c.set_timeout(0.2).unwrap();
    let t = Instant::now();
    let mut e = None;
    let n = setsockopt_calls(|| e = c.get(&srv.url("/slow")).err());
    let e = e.expect("a timeout");
    assert_eq!(e.kind(), ErrorKind::Timeout, "{e}");
    assert!(
        t.elapsed() < Duration::from_millis(1200),
        "{:?}",
        t.elapsed()
    );
    assert_eq!(n, 2, "the new timeout set once (read and write)");
    assert_eq!(srv.connections(), 1, "on the pooled connection");
}
