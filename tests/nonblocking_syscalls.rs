//! The system calls of a non-blocking opening (docs/nonblocking.md, bench/README.md "Many
//! connections"): on Linux the socket is created non-blocking (no fcntl or ioctl after it),
//! the only option set is TCP_NODELAY (no zero timeouts, which do nothing in this mode), and
//! the connect in progress is checked with a second connect, not SO_ERROR and getpeername.
//! Ten thousand connections from one thread pay these per connection.
//!
//! This test binary defines the counted functions itself: the crate's and std's calls bind
//! to them at link time; they count the calls made by the watching thread and pass every
//! call on to the kernel.
#![cfg(all(
    target_os = "linux",
    any(target_arch = "x86_64", target_arch = "aarch64")
))]

mod common;

use std::cell::Cell;
use std::time::{Duration, Instant};

use common::event_loop::{drive_conn, poll_ready, read_body};
use common::routed::{ok, Routed};
use httpclient::{Connection, ErrorKind};

thread_local! {
    static WATCHING: Cell<bool> = const { Cell::new(false) };
    static COUNTS: Cell<Counts> = const { Cell::new(Counts::ZERO) };
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Counts {
    setsockopt: u32,
    getsockopt: u32,
    getpeername: u32,
    fcntl: u32,
    ioctl: u32,
}

impl Counts {
    const ZERO: Counts = Counts {
        setsockopt: 0,
        getsockopt: 0,
        getpeername: 0,
        fcntl: 0,
        ioctl: 0,
    };
}

fn count(f: impl FnOnce(&mut Counts)) {
    if WATCHING.try_with(Cell::get).unwrap_or(false) {
        let _ = COUNTS.try_with(|c| {
            let mut v = c.get();
            f(&mut v);
            c.set(v);
        });
    }
}

/// # Safety
/// As setsockopt(2).
#[no_mangle]
pub unsafe extern "C" fn setsockopt(
    fd: libc::c_int,
    level: libc::c_int,
    name: libc::c_int,
    value: *const libc::c_void,
    len: libc::socklen_t,
) -> libc::c_int {
    count(|c| c.setsockopt += 1);
    // SAFETY: the caller's arguments, unchanged; syscall() sets errno and returns -1 on error.
    unsafe { libc::syscall(libc::SYS_setsockopt, fd, level, name, value, len) as libc::c_int }
}

/// # Safety
/// As getsockopt(2).
#[no_mangle]
pub unsafe extern "C" fn getsockopt(
    fd: libc::c_int,
    level: libc::c_int,
    name: libc::c_int,
    value: *mut libc::c_void,
    len: *mut libc::socklen_t,
) -> libc::c_int {
    count(|c| c.getsockopt += 1);
    // SAFETY: as above.
    unsafe { libc::syscall(libc::SYS_getsockopt, fd, level, name, value, len) as libc::c_int }
}

/// # Safety
/// As getpeername(2).
#[no_mangle]
pub unsafe extern "C" fn getpeername(
    fd: libc::c_int,
    addr: *mut libc::sockaddr,
    len: *mut libc::socklen_t,
) -> libc::c_int {
    count(|c| c.getpeername += 1);
    // SAFETY: as above.
    unsafe { libc::syscall(libc::SYS_getpeername, fd, addr, len) as libc::c_int }
}

/// fcntl(2) is variadic; on x86-64 and AArch64 Linux its one optional integer or pointer
/// argument is passed as a fixed third one would be.
///
/// # Safety
/// As fcntl(2).
#[no_mangle]
pub unsafe extern "C" fn fcntl(
    fd: libc::c_int,
    cmd: libc::c_int,
    arg: libc::c_long,
) -> libc::c_int {
    count(|c| c.fcntl += 1);
    // SAFETY: as above.
    unsafe { libc::syscall(libc::SYS_fcntl, fd, cmd, arg) as libc::c_int }
}

/// ioctl(2), variadic too (see [`fcntl`]).
///
/// # Safety
/// As ioctl(2).
#[no_mangle]
pub unsafe extern "C" fn ioctl(
    fd: libc::c_int,
    request: libc::c_ulong,
    arg: *mut libc::c_void,
) -> libc::c_int {
    count(|c| c.ioctl += 1);
    // SAFETY: as above.
    unsafe { libc::syscall(libc::SYS_ioctl, fd, request, arg) as libc::c_int }
}

/// The counted calls this thread makes while running `f`.
fn calls(f: impl FnOnce()) -> Counts {
    COUNTS.with(|c| c.set(Counts::ZERO));
    WATCHING.with(|w| w.set(true));
    f();
    WATCHING.with(|w| w.set(false));
    COUNTS.with(Cell::get)
}

/// A GET in non-blocking mode: (status, body).
fn get(c: &mut Connection) -> (u16, Vec<u8>) {
    drive_conn(c, |c| c.request(b"GET", b"/", None, &[]));
    let mut resp = drive_conn(c, Connection::getresponse);
    let body = read_body(&mut resp, 4096);
    (resp.status(), body)
}

#[test]
fn the_interposer_sees_the_calls_it_counts() {
    // The premise of the next test: std's and socket2's calls are counted here.
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let s = std::net::TcpStream::connect(l.local_addr().unwrap()).unwrap();
    let n = calls(|| {
        s.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
        s.set_nonblocking(true).unwrap();
        socket2::SockRef::from(&s).set_nonblocking(false).unwrap();
        s.take_error().unwrap();
        s.peer_addr().unwrap();
    });
    assert_eq!(
        n,
        Counts {
            setsockopt: 1,
            getsockopt: 1,
            getpeername: 1,
            fcntl: 2,
            ioctl: 1,
        }
    );
}

#[test]
fn a_non_blocking_opening_sets_nodelay_and_nothing_else() {
    let srv = Routed::start(|_| ok("hello"));
    let mut c = Connection::new("127.0.0.1", srv.port()).unwrap();
    c.set_blocking(false).unwrap();
    let n = calls(|| {
        drive_conn(&mut c, Connection::connect);
        assert_eq!(get(&mut c), (200, b"hello".to_vec()));
        assert_eq!(get(&mut c), (200, b"hello".to_vec()));
    });
    assert_eq!(
        n,
        Counts {
            setsockopt: 1, // TCP_NODELAY
            getsockopt: 0,
            getpeername: 0,
            fcntl: 0,
            ioctl: 0,
        }
    );
}

#[test]
fn a_refused_connect_is_still_refused() {
    // The second connect(2) reports the first one's failure.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut c = Connection::new("127.0.0.1", port).unwrap();
    c.set_blocking(false).unwrap();
    let end = Instant::now() + Duration::from_secs(20);
    let e = loop {
        match c.connect() {
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                assert!(Instant::now() < end, "still WouldBlock: {e}");
                poll_ready(c.fileno().expect("a descriptor"), c.want(), 10_000);
            }
            Err(e) => break e,
            Ok(()) => panic!("connected to a closed port"),
        }
    };
    assert_eq!(e.kind(), ErrorKind::ConnectionRefused, "{e}");
}
