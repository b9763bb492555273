//! The loop of an event loop, for the tests of non-blocking mode (docs/nonblocking.md): make
//! the call; on `WouldBlock`, poll(2) the descriptor (`fileno`, read again after every
//! `WouldBlock`) for what `want` says, then repeat the same call. Every call is timed, and
//! ticks a [`Gate`] so that a dripping server ([`super::scripted::Conn::drip`]) sends its
//! next byte.

use std::time::{Duration, Instant};

use super::scripted::Gate;
use httpclient::transport::{WANT_READ, WANT_WRITE};
use httpclient::{Connection, ErrorKind, Response};

/// The longest any call may take in non-blocking mode. Generous (a debug build on a loaded
/// machine): the servers below hold bytes back for seconds, so a call that waited would take
/// far longer.
pub const CALL_LIMIT: Duration = Duration::from_millis(250);

/// What the driving loop saw: how many `WouldBlock`s, the longest call, the descriptors.
#[derive(Default, Debug)]
pub struct Stats {
    pub blocks: usize,
    pub longest: Duration,
    pub fds: Vec<i32>,
}

/// Waits at most `ms` for `fd` to become ready as `want` says; true when it did.
pub fn poll_ready(fd: i32, want: u8, ms: i32) -> bool {
    let mut events = 0;
    if want & WANT_READ != 0 {
        events |= libc::POLLIN;
    }
    if want & WANT_WRITE != 0 {
        events |= libc::POLLOUT;
    }
    let mut p = libc::pollfd {
        fd,
        events,
        revents: 0,
    };
    // SAFETY: one valid pollfd, for the duration of the call.
    unsafe { libc::poll(&mut p, 1, ms) > 0 }
}

/// Waits (poll(2), at most 10 s) until `fd` is ready for `want`.
pub fn wait_ready(fd: i32, want: u8) {
    assert!(fd >= 0, "WouldBlock without a descriptor");
    assert!(
        want & (WANT_READ | WANT_WRITE) != 0,
        "WouldBlock with want {want}"
    );
    assert!(
        poll_ready(fd, want, 10_000),
        "poll: descriptor {fd} not ready for {want} within 10 s"
    );
}

/// Repeats `call` on `c` after each WouldBlock once the connection's descriptor is ready (at
/// most 20 s in all), for tests that count or measure something other than the calls.
pub fn drive_conn<T>(
    c: &mut Connection,
    mut call: impl FnMut(&mut Connection) -> httpclient::Result<T>,
) -> T {
    let end = Instant::now() + Duration::from_secs(20);
    loop {
        match call(c) {
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                assert!(Instant::now() < end, "still WouldBlock: {e}");
                poll_ready(c.fileno().expect("a descriptor"), c.want(), 10_000);
            }
            r => return r.unwrap(),
        }
    }
}

/// Reads `resp`'s body to its end with a `buf_len`-byte buffer, waiting on the response's
/// descriptor after each WouldBlock.
pub fn read_body(resp: &mut Response, buf_len: usize) -> Vec<u8> {
    let mut body = Vec::new();
    let mut buf = vec![0u8; buf_len];
    loop {
        match resp.read_some(&mut buf) {
            Ok(0) => return body,
            Ok(n) => body.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                poll_ready(resp.fileno().expect("a descriptor"), resp.want(), 10_000);
            }
            Err(e) => panic!("reading the body: {e}"),
        }
    }
}

/// Makes `call` until it does not return `WouldBlock`, waiting for readiness in between as an
/// event loop would; `fd_want` gives the descriptor and want after each `WouldBlock`. Every
/// call ticks `gate` (a dripping server sends its next byte then) and is timed.
pub fn drive<T>(
    stats: &mut Stats,
    gate: &Gate,
    mut call: impl FnMut() -> httpclient::Result<T>,
    fd_want: impl Fn() -> (i32, u8),
) -> httpclient::Result<T> {
    loop {
        let t = Instant::now();
        let r = call();
        let took = t.elapsed();
        stats.longest = stats.longest.max(took);
        gate.tick();
        match r {
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                stats.blocks += 1;
                let (fd, want) = fd_want();
                if stats.fds.last() != Some(&fd) {
                    stats.fds.push(fd);
                }
                wait_ready(fd, want);
            }
            r => return r,
        }
    }
}

pub fn conn_call<T>(
    stats: &mut Stats,
    gate: &Gate,
    conn: &mut Connection,
    mut f: impl FnMut(&mut Connection) -> httpclient::Result<T>,
) -> httpclient::Result<T> {
    let c = std::cell::RefCell::new(conn);
    drive(
        stats,
        gate,
        || f(&mut c.borrow_mut()),
        || {
            let c = c.borrow();
            (c.fileno().unwrap_or(-1), c.want())
        },
    )
}

pub fn resp_call<T>(
    stats: &mut Stats,
    gate: &Gate,
    resp: &mut Response,
    mut f: impl FnMut(&mut Response) -> httpclient::Result<T>,
) -> httpclient::Result<T> {
    let r = std::cell::RefCell::new(resp);
    drive(
        stats,
        gate,
        || f(&mut r.borrow_mut()),
        || {
            let r = r.borrow();
            (r.fileno().unwrap_or(-1), r.want())
        },
    )
}

/// The local port of a socket, to tell one connection from the next (a descriptor number
/// may be reused).
pub fn local_port(fd: i32) -> u16 {
    let mut addr: libc::sockaddr_in = unsafe { std::mem::zeroed() };
    let mut len = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
    // SAFETY: a sockaddr_in-sized buffer for an IPv4 socket.
    let r =
        unsafe { libc::getsockname(fd, (&mut addr as *mut libc::sockaddr_in).cast(), &mut len) };
    assert_eq!(r, 0);
    u16::from_be(addr.sin_port)
}

/// Calls `call` until it stops returning WouldBlock, polling at most until
/// `timeout_ms` says; returns the outcome and the timeouts seen.
pub fn drive_timed<T>(
    conn: &mut Connection,
    mut call: impl FnMut(&mut Connection) -> httpclient::Result<T>,
) -> (httpclient::Result<T>, Vec<i64>, Duration) {
    let mut seen = Vec::new();
    let mut longest = Duration::ZERO;
    loop {
        let t = Instant::now();
        let r = call(conn);
        longest = longest.max(t.elapsed());
        match r {
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                let ms = conn.timeout_ms();
                seen.push(ms);
                let mut p = libc::pollfd {
                    fd: conn.fileno().unwrap(),
                    events: if conn.want() & WANT_WRITE != 0 {
                        libc::POLLOUT
                    } else {
                        libc::POLLIN
                    },
                    revents: 0,
                };
                let wait = if ms < 0 {
                    10_000
                } else {
                    ms.min(10_000) as i32
                };
                // SAFETY: one valid pollfd.
                unsafe { libc::poll(&mut p, 1, wait) };
            }
            r => return (r, seen, longest),
        }
    }
}
