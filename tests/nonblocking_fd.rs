//! Non-blocking mode (docs/nonblocking.md, "The descriptor changes"): after any reopen,
//! `fileno` gives a number other than the one the event loop registered last, so a loop that
//! re-registers only when the number changes never misses a new socket. The cases where the old
//! socket was gone before the next request began: a response with `Connection: close`,
//! `close()` between requests and during an opening; the idle close seen at the next request.
//! A closed socket leaves an epoll set at once (its number keeps a placeholder, not the
//! socket), and the descriptors of the process are back to their count after freeing.
//!
//! Descriptor numbers are shared by the whole process: the tests of this file run one at a
//! time (`SERIAL`) so that no other test takes or frees numbers meanwhile.

mod common;

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::Mutex;
use std::time::Duration;

use common::event_loop::wait_ready;
use common::routed::{ok, Routed};
use common::scripted::ScriptedServer;
use httpclient::transport::{WANT_READ, WANT_WRITE};
use httpclient::{Connection, ErrorKind, Response};

static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|p| p.into_inner())
}

/// The most calls one request may take here (a bound on every loop, not a time limit).
const MAX_CALLS: usize = 10_000;
/// How long the loop waits for an event before it calls the connection stuck.
const STUCK_MS: i32 = 10_000;

/// An epoll loop for one connection that does what rule 3 asks and no more: after each
/// `WouldBlock` it reads the descriptor and registers it again only when its number differs
/// from the registered one (else it changes the events, when they differ).
struct EpollLoop {
    ep: OwnedFd,
    fd: i32,
    events: u32,
    /// Every number registered, in order.
    registered: Vec<i32>,
}

impl EpollLoop {
    fn new() -> EpollLoop {
        // SAFETY: plain system call; the descriptor it returns is owned below.
        let ep = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
        assert!(
            ep >= 0,
            "epoll_create1: {}",
            std::io::Error::last_os_error()
        );
        EpollLoop {
            // SAFETY: a new descriptor nobody else owns.
            ep: unsafe { OwnedFd::from_raw_fd(ep) },
            fd: -1,
            events: 0,
            registered: Vec::new(),
        }
    }

    fn ctl(&self, op: i32, fd: i32, events: u32) -> std::io::Result<()> {
        let mut ev = libc::epoll_event {
            events,
            u64: fd as u64,
        };
        // SAFETY: a valid epoll descriptor and event.
        match unsafe { libc::epoll_ctl(self.ep.as_raw_fd(), op, fd, &mut ev) } {
            0 => Ok(()),
            _ => Err(std::io::Error::last_os_error()),
        }
    }

    /// Waits (at most STUCK_MS) until `fd` is ready for `want`; panics when nothing came, the
    /// loop's registration of a new socket having been missed.
    fn wait(&mut self, fd: i32, want: u8) {
        assert!(fd >= 0, "WouldBlock without a descriptor");
        let mut events = 0;
        if want & WANT_READ != 0 {
            events |= libc::EPOLLIN as u32;
        }
        if want & WANT_WRITE != 0 {
            events |= libc::EPOLLOUT as u32;
        }
        if fd != self.fd {
            if self.fd >= 0 {
                // Closed already (then out of the set) or a placeholder: either way no error
                // matters here.
                let _ = self.ctl(libc::EPOLL_CTL_DEL, self.fd, 0);
            }
            self.ctl(libc::EPOLL_CTL_ADD, fd, events)
                .unwrap_or_else(|e| panic!("EPOLL_CTL_ADD {fd}: {e}"));
            self.fd = fd;
            self.events = events;
            self.registered.push(fd);
        } else if events != self.events {
            self.ctl(libc::EPOLL_CTL_MOD, fd, events)
                .unwrap_or_else(|e| {
                    panic!("EPOLL_CTL_MOD {fd}: {e}: the same number is a new descriptor")
                });
            self.events = events;
        }
        let ready = self.ready(STUCK_MS);
        assert!(
            ready == [fd],
            "events on {ready:?} waiting for descriptor {fd} (registered: {:?}; none: for \
             {STUCK_MS} ms): the loop missed a new descriptor under an old number",
            self.registered
        );
    }

    /// The registered descriptors with an event, waiting at most `ms`.
    fn ready(&self, ms: i32) -> Vec<i32> {
        let mut evs = [libc::epoll_event { events: 0, u64: 0 }; 8];
        // SAFETY: a valid epoll descriptor and room for 8 events.
        let n = unsafe { libc::epoll_wait(self.ep.as_raw_fd(), evs.as_mut_ptr(), 8, ms) };
        assert!(n >= 0, "epoll_wait: {}", std::io::Error::last_os_error());
        evs[..n as usize].iter().map(|e| e.u64 as i32).collect()
    }

    /// Makes `call` on `c` until it does not return `WouldBlock`, waiting in between.
    fn drive<T>(
        &mut self,
        c: &mut Connection,
        mut call: impl FnMut(&mut Connection) -> httpclient::Result<T>,
    ) -> T {
        for _ in 0..MAX_CALLS {
            match call(c) {
                Err(e) if e.kind() == ErrorKind::WouldBlock => {
                    self.wait(c.fileno().unwrap_or(-1), c.want())
                }
                r => return r.unwrap_or_else(|e| panic!("{e}")),
            }
        }
        panic!("still WouldBlock after {MAX_CALLS} calls");
    }

    /// Reads `resp`'s body to its end, waiting on the response's descriptor.
    fn body(&mut self, resp: &mut Response) -> Vec<u8> {
        let mut body = Vec::new();
        let mut buf = [0u8; 4096];
        for _ in 0..MAX_CALLS {
            match resp.read_some(&mut buf) {
                Ok(0) => return body,
                Ok(n) => body.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == ErrorKind::WouldBlock => {
                    self.wait(resp.fileno().unwrap_or(-1), resp.want())
                }
                Err(e) => panic!("reading the body: {e}"),
            }
        }
        panic!("the body did not end after {MAX_CALLS} calls");
    }

    /// A GET of `path` through the loop: the status and body.
    fn get(&mut self, c: &mut Connection, path: &[u8]) -> (u16, Vec<u8>) {
        self.drive(c, |c| c.request(b"GET", path, None, &[]));
        let mut resp = self.drive(c, |c| c.getresponse());
        (resp.status(), self.body(&mut resp))
    }

    /// The number registered last.
    fn last(&self) -> i32 {
        *self.registered.last().expect("a descriptor was registered")
    }
}

/// The open descriptors of the process.
fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

fn closing_reply(body: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

fn keep_alive_reply(body: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

fn nonblocking(port: u16) -> Connection {
    let mut c = Connection::new("127.0.0.1", port).unwrap();
    c.set_blocking(false).unwrap();
    c
}

/// Each response says `Connection: close`: its socket is closed when its body ends, and the
/// next request opens a new one, under another number; the loop registers it and the request
/// completes. (Before, the new socket took the old number, which epoll had forgotten with the
/// close: the loop saw no change and waited for ever.)
#[test]
fn connection_close_then_the_next_request_gets_another_number() {
    let _serial = serial();
    let srv = ScriptedServer::reply_each(vec![closing_reply("first")]);
    let mut lp = EpollLoop::new();
    let mut c = nonblocking(srv.port());
    let mut seen = Vec::new();
    for _ in 0..3 {
        let before = lp.registered.len();
        assert_eq!(lp.get(&mut c, b"/"), (200, b"first".to_vec()));
        assert!(
            lp.registered.len() > before,
            "every request waited at least once"
        );
        seen.push(lp.last());
        assert_eq!(
            c.fileno(),
            None,
            "the connection is closed after the response"
        );
    }
    assert_eq!(srv.connections(), 3);
    assert_ne!(seen[0], seen[1], "{:?}", lp.registered);
    assert_ne!(seen[1], seen[2], "{:?}", lp.registered);
    // Every change of number was a change of descriptor: none repeats the one before it.
    for w in lp.registered.windows(2) {
        assert_ne!(w[0], w[1]);
    }
}

/// The same with a host name: each request's opening waits on the resolver's descriptor, then
/// on each address's socket (`localhost` may be ::1, refused here, before 127.0.0.1); every
/// one has another number than the one registered before it.
#[test]
fn connection_close_then_a_named_host_gets_another_number() {
    let _serial = serial();
    let srv = ScriptedServer::reply_each(vec![closing_reply("named")]);
    let mut lp = EpollLoop::new();
    let mut c = Connection::new("localhost", srv.port()).unwrap();
    c.set_blocking(false).unwrap();
    for _ in 0..3 {
        assert_eq!(lp.get(&mut c, b"/"), (200, b"named".to_vec()));
    }
    assert_eq!(srv.connections(), 3);
    for w in lp.registered.windows(2) {
        assert_ne!(w[0], w[1], "{:?}", lp.registered);
    }
}

/// The socket of a response with `Connection: close` leaves the loop's epoll set when the
/// body ends, although its number stays taken: nothing of it is reported to a loop that keeps
/// it registered (a shut-down socket kept open would report EPOLLHUP without end).
#[test]
fn a_closed_socket_leaves_the_epoll_set_at_once() {
    let _serial = serial();
    let srv = ScriptedServer::reply_each(vec![closing_reply("bye")]);
    let mut lp = EpollLoop::new();
    let mut c = nonblocking(srv.port());
    assert_eq!(lp.get(&mut c, b"/"), (200, b"bye".to_vec()));
    let fd = lp.last();
    srv.received_when_done(0);
    assert_eq!(lp.ready(0), Vec::<i32>::new(), "events of descriptor {fd}");
    // The number is still taken (no new descriptor gets it) ...
    // SAFETY: fcntl on a number only reads its flags.
    assert!(unsafe { libc::fcntl(fd, libc::F_GETFD) } >= 0);
    drop(c);
}

/// The server closes a keep-alive connection while it is idle; the next request notices (the
/// idle check, or the resend when the close races the request) and opens a new socket, under
/// another number.
#[test]
fn the_idle_close_seen_at_the_next_request() {
    let _serial = serial();
    let srv = ScriptedServer::reply_each(vec![keep_alive_reply("one")]);
    let mut lp = EpollLoop::new();
    let mut c = nonblocking(srv.port());
    assert_eq!(lp.get(&mut c, b"/"), (200, b"one".to_vec()));
    let first = lp.last();
    assert_eq!(c.fileno(), Some(first), "kept alive");
    // The server half-closes after its reply: wait for that end of stream (and past the
    // library's idle-check interval).
    wait_ready(first, WANT_READ);
    std::thread::sleep(Duration::from_millis(5));
    assert_eq!(lp.get(&mut c, b"/"), (200, b"one".to_vec()));
    assert_eq!(srv.connections(), 2);
    assert_ne!(lp.last(), first, "{:?}", lp.registered);
}

/// close() between two requests: the next request opens a new socket under another number.
#[test]
fn close_then_a_request_gets_another_number() {
    let _serial = serial();
    let srv = ScriptedServer::reply_each(vec![keep_alive_reply("a"), keep_alive_reply("b")]);
    let mut lp = EpollLoop::new();
    let mut c = nonblocking(srv.port());
    assert_eq!(lp.get(&mut c, b"/"), (200, b"a".to_vec()));
    let first = lp.last();
    c.close();
    assert_eq!(c.fileno(), None);
    assert_eq!(lp.get(&mut c, b"/"), (200, b"a".to_vec()));
    assert_eq!(srv.connections(), 2);
    assert_ne!(lp.last(), first, "{:?}", lp.registered);
}

/// close() while the connect is in progress (the loop registered its socket): the next request
/// opens a new socket under another number.
#[test]
fn close_during_the_opening_then_a_request_gets_another_number() {
    let _serial = serial();
    let srv = ScriptedServer::reply_each(vec![keep_alive_reply("c")]);
    let mut lp = EpollLoop::new();
    let mut c = nonblocking(srv.port());
    let e = common::err(c.request(b"GET", b"/", None, &[]));
    assert_eq!(e.kind(), ErrorKind::WouldBlock, "{e}");
    let connecting = c.fileno().expect("the socket being connected");
    lp.wait(connecting, c.want());
    c.close();
    assert_eq!(c.fileno(), None);
    assert_eq!(lp.get(&mut c, b"/"), (200, b"c".to_vec()));
    assert_ne!(lp.last(), connecting, "{:?}", lp.registered);
}

/// The response to a GET of `/` on `c`, waiting with poll(2).
fn response_to_get(c: &mut Connection) -> Response {
    for _ in 0..MAX_CALLS {
        match c.request(b"GET", b"/", None, &[]) {
            Ok(()) => break,
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                wait_ready(c.fileno().unwrap(), c.want())
            }
            Err(e) => panic!("{e}"),
        }
    }
    for _ in 0..MAX_CALLS {
        match c.getresponse() {
            Ok(r) => return r,
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                wait_ready(c.fileno().unwrap(), c.want())
            }
            Err(e) => panic!("{e}"),
        }
    }
    panic!("no response after {MAX_CALLS} calls");
}

/// Reads `resp`'s body to its end, waiting with poll(2).
fn read_to_end(resp: &mut Response) -> Vec<u8> {
    let mut body = Vec::new();
    let mut buf = [0u8; 4096];
    for _ in 0..MAX_CALLS {
        match resp.read_some(&mut buf) {
            Ok(0) => return body,
            Ok(n) => body.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                wait_ready(resp.fileno().unwrap(), resp.want())
            }
            Err(e) => panic!("{e}"),
        }
    }
    panic!("the body did not end after {MAX_CALLS} calls");
}

/// The descriptors: a connection whose socket closed holds at most one extra descriptor (the
/// number kept) until its next request or its end; freeing it (before or after its last
/// response) gives every one back.
///
/// Counted in a process of its own (this test binary run again for this test alone), where
/// no other test's threads open or close descriptors meanwhile.
#[test]
fn descriptors_are_given_back() {
    const ALONE: &str = "HC_TEST_FD_COUNT_ALONE";
    // Serial in the parent too: the child holds a copy of every descriptor of this process
    // until it execs, which would keep a socket that another test closes meanwhile in that
    // test's epoll set (epoll drops a file only when its last descriptor closes).
    let _serial = serial();
    if std::env::var_os(ALONE).is_none() {
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "descriptors_are_given_back", "--test-threads=1"])
            .env(ALONE, "1")
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && text.contains("1 passed"),
            "{text}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        return;
    }
    let srv = ScriptedServer::reply_each(vec![closing_reply("x")]);
    let start = open_fds();
    let mut served = 0;
    let mut server_done = || {
        srv.received_when_done(served);
        served += 1;
    };

    // Two responses that close, each read to its end; then the connection is freed.
    let mut c = nonblocking(srv.port());
    for _ in 0..2 {
        let mut resp = response_to_get(&mut c);
        assert_eq!(read_to_end(&mut resp), b"x");
        drop(resp);
        server_done();
        let open = open_fds();
        assert!(open <= start + 1, "{open} open, {start} at the start");
    }
    drop(c);
    assert_eq!(open_fds(), start, "after a response that closed");

    // The connection freed while its response is being read, then the response.
    let mut c = nonblocking(srv.port());
    let resp = response_to_get(&mut c);
    drop(c);
    drop(resp);
    server_done();
    assert_eq!(open_fds(), start, "after freeing the connection first");

    // close() after a response, then freed.
    let mut c = nonblocking(srv.port());
    let mut resp = response_to_get(&mut c);
    assert_eq!(read_to_end(&mut resp), b"x");
    drop(resp);
    c.close();
    server_done();
    assert!(open_fds() <= start + 1);
    drop(c);
    assert_eq!(open_fds(), start, "after close()");

    // close() during the opening, then freed.
    let mut c = nonblocking(srv.port());
    let e = common::err(c.request(b"GET", b"/", None, &[]));
    assert_eq!(e.kind(), ErrorKind::WouldBlock, "{e}");
    wait_ready(c.fileno().unwrap(), c.want());
    c.close();
    server_done();
    assert!(open_fds() <= start + 1);
    drop(c);
    assert_eq!(open_fds(), start, "after close() during the opening");
}

/// A connect refused after the loop registered its socket, then the request again (the server
/// listens now): the new socket gets another number, and the loop completes the request.
#[test]
fn a_refused_connect_then_a_request_gets_another_number() {
    let _serial = serial();
    // A socket bound to the port, not listening yet: a connect is refused. Every descriptor of
    // the server exists before the refusal.
    let server = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    server
        .bind(
            &"127.0.0.1:0"
                .parse::<std::net::SocketAddr>()
                .unwrap()
                .into(),
        )
        .unwrap();
    let port = server.local_addr().unwrap().as_socket().unwrap().port();
    let mut lp = EpollLoop::new();
    let mut c = nonblocking(port);
    let e = common::err(c.request(b"GET", b"/", None, &[]));
    assert_eq!(e.kind(), ErrorKind::WouldBlock, "{e}");
    let refused = c.fileno().expect("the socket being connected");
    lp.wait(refused, c.want());
    let e = common::err(c.request(b"GET", b"/", None, &[]));
    assert_eq!(e.kind(), ErrorKind::ConnectionRefused, "{e}");
    assert_eq!(c.fileno(), None);
    // The server listens now: the same connection tries again.
    server.listen(8).unwrap();
    let listener: std::net::TcpListener = server.into();
    let answer = std::thread::spawn(move || {
        use std::io::{Read, Write};
        let (mut s, _) = listener.accept().unwrap();
        let mut req = Vec::new();
        let mut byte = [0u8; 1];
        while !req.ends_with(b"\r\n\r\n") && s.read(&mut byte).unwrap() == 1 {
            req.push(byte[0]);
        }
        s.write_all(&keep_alive_reply("d")).unwrap();
        req
    });
    assert_eq!(lp.get(&mut c, b"/"), (200, b"d".to_vec()));
    assert!(answer.join().unwrap().starts_with(b"GET / HTTP/1.1\r\n"));
    assert_ne!(lp.last(), refused, "{:?}", lp.registered);
}

/// A TLS handshake that fails after the loop registered its socket (the server answers the
/// ClientHello with bytes that are not TLS), then the request again, to a server that speaks
/// TLS this time: the new socket gets another number, and the loop completes the request.
#[test]
fn a_failed_tls_handshake_then_a_request_gets_another_number() {
    let _serial = serial();
    let origin = Routed::start_tls(|_| ok("tls"));
    let upstream = origin.port();
    // The first connection fails the handshake; the next ones pass through to the origin.
    let front = ScriptedServer::start(move |conn, idx| {
        use std::io::{Read, Write};
        if idx == 0 {
            let mut hello = [0u8; 5];
            let _ = conn.read_exact(&mut hello);
            let _ = conn.write_all(b"HTTP/1.1 400 Bad Request\r\n\r\n");
            return;
        }
        let up = std::net::TcpStream::connect(("127.0.0.1", upstream)).unwrap();
        let (mut up_r, mut up_w) = (up.try_clone().unwrap(), up);
        let (mut down_r, mut down_w) = (conn.try_clone().unwrap(), conn.try_clone().unwrap());
        let t = std::thread::spawn(move || {
            let _ = std::io::copy(&mut down_r, &mut up_w);
            let _ = up_w.shutdown(std::net::Shutdown::Write);
        });
        let _ = std::io::copy(&mut up_r, &mut down_w);
        let _ = down_w.shutdown(std::net::Shutdown::Write);
        let _ = t.join();
        let _ = conn.flush();
    });
    let mut lp = EpollLoop::new();
    let mut c = Connection::new_https("127.0.0.1", front.port()).unwrap();
    let ca = common::servers().ca_file.to_str().unwrap().to_owned();
    c.set_ca_file(&ca).unwrap();
    c.set_blocking(false).unwrap();
    let failed = (0..MAX_CALLS)
        .find_map(|_| match c.request(b"GET", b"/", None, &[]) {
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                lp.wait(c.fileno().unwrap_or(-1), c.want());
                None
            }
            r => Some(r),
        })
        .expect("the handshake ends");
    let e = failed.expect_err("the handshake fails");
    assert_eq!(e.kind(), ErrorKind::Tls, "{e}");
    let registered = lp.last();
    assert_eq!(c.fileno(), None);
    assert_eq!(lp.get(&mut c, b"/"), (200, b"tls".to_vec()));
    assert_eq!(front.connections(), 2);
    assert_ne!(lp.last(), registered, "{:?}", lp.registered);
}
