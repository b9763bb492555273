//! Opening a connection in non-blocking mode: a host name resolved off the caller's thread
//! (the resolver's descriptor, then each address's socket), a refused connect, the TLS
//! handshake and a CONNECT tunnel dripped one byte at a time by a relay, verification still
//! refusing a bad certificate, the deadline, and a connection freed in the middle of each
//! step. Every call is driven by a small poll(2) loop that waits only on what the call says
//! (`fileno`, `want`); what comes through is compared with blocking mode's bytes.

mod common;

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant};

use common::event_loop::poll_ready;
use common::routed::Routed;
use httpclient::transport::{WANT_READ, WANT_WRITE};
use httpclient::{Connection, ErrorKind};

/// The longest a non-blocking call may take: it must not wait on the network (generous, for a
/// loaded machine; a call that waited would take the relay's whole drip or the resolver's).
const AT_ONCE: Duration = Duration::from_millis(250);
/// How long a test's loop waits for anything at all.
const PATIENCE: Duration = Duration::from_secs(20);

/// Tests that count the resolver's threads run one at a time.
fn resolving() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|p| p.into_inner())
}

/// The address family of the socket `fd` (AF_UNIX, AF_INET, AF_INET6).
fn family(fd: i32) -> i32 {
    // SAFETY: getsockname writes at most `len` bytes into the storage, which outlives it.
    unsafe {
        let mut ss: libc::sockaddr_storage = std::mem::zeroed();
        let mut len = std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
        let r = libc::getsockname(fd, &mut ss as *mut _ as *mut libc::sockaddr, &mut len);
        assert_eq!(
            r,
            0,
            "getsockname({fd}): {}",
            std::io::Error::last_os_error()
        );
        i32::from(ss.ss_family)
    }
}

/// The threads of this process named `name` (Linux: /proc/self/task/*/comm).
fn threads_named(name: &str) -> usize {
    std::fs::read_dir("/proc/self/task")
        .map(|d| {
            d.filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
                .filter(|c| c.trim_end() == name)
                .count()
        })
        .unwrap_or(0)
}

/// Waits (at most 10 s) until no resolver thread runs: a thread that posted its answer may
/// still be on its way out.
fn no_resolver_threads() {
    let end = Instant::now() + Duration::from_secs(10);
    while threads_named("hc-resolve") > 0 {
        assert!(Instant::now() < end, "resolver threads still running");
        thread::sleep(Duration::from_millis(10));
    }
}

/// What an event loop saw while driving one call to its end.
#[derive(Debug, Default)]
struct Seen {
    /// Each WouldBlock: the descriptor and what it waited for.
    waits: Vec<(i32, u8)>,
    /// The longest single call.
    slowest: Duration,
}

impl Seen {
    /// The descriptors waited on, each change once, in order.
    fn fds(&self) -> Vec<i32> {
        let mut v: Vec<i32> = self.waits.iter().map(|w| w.0).collect();
        v.dedup();
        v
    }
}

/// Calls `call` until it stops returning WouldBlock, waiting between calls only for what it
/// said (the descriptor of `fileno`, the direction of `want`), and at most `tick` each time
/// (then it calls again, as a loop does when its timer fires).
fn drive<T>(
    c: &mut Connection,
    tick: Duration,
    mut call: impl FnMut(&mut Connection) -> httpclient::Result<T>,
) -> (httpclient::Result<T>, Seen) {
    let mut seen = Seen::default();
    let end = Instant::now() + PATIENCE;
    loop {
        let t = Instant::now();
        let r = call(c);
        seen.slowest = seen.slowest.max(t.elapsed());
        match r {
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                let fd = c
                    .fileno()
                    .expect("a descriptor to wait on after WouldBlock");
                let want = c.want();
                assert!(
                    want & (WANT_READ | WANT_WRITE) != 0,
                    "want {want} after {e}"
                );
                seen.waits.push((fd, want));
                assert!(Instant::now() < end, "still WouldBlock after {PATIENCE:?}");
                poll_ready(fd, want, tick.as_millis() as i32);
            }
            r => return (r, seen),
        }
    }
}

/// Opens `c` in non-blocking mode, asserting that no call waited.
fn open_nonblocking(c: &mut Connection) -> Seen {
    c.set_blocking(false).unwrap();
    let (r, seen) = drive(c, PATIENCE, Connection::connect);
    r.unwrap();
    assert!(seen.slowest < AT_ONCE, "a call took {:?}", seen.slowest);
    seen
}

/// GET `path` in non-blocking mode, every call driven by the loop and none waiting:
/// (status, body).
fn get_nonblocking(c: &mut Connection, path: &str) -> (u16, Vec<u8>) {
    let (r, sent) = drive(c, PATIENCE, |c| {
        c.request(b"GET", path.as_bytes(), None, &[])
    });
    r.unwrap();
    let (r, head) = drive(c, PATIENCE, Connection::getresponse);
    let mut resp = r.unwrap();
    let mut slowest = sent.slowest.max(head.slowest);
    let mut body = Vec::new();
    let mut buf = [0u8; 4096];
    let end = Instant::now() + PATIENCE;
    loop {
        let t = Instant::now();
        let r = resp.read_some(&mut buf);
        slowest = slowest.max(t.elapsed());
        match r {
            Ok(0) => break,
            Ok(n) => body.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                assert!(Instant::now() < end, "the body never ended");
                let (fd, want) = (resp.fileno().expect("a descriptor"), resp.want());
                assert!(
                    want & (WANT_READ | WANT_WRITE) != 0,
                    "want {want} after {e}"
                );
                poll_ready(fd, want, 10_000);
            }
            Err(e) => panic!("reading the body: {e}"),
        }
    }
    assert!(slowest < AT_ONCE, "a call took {slowest:?}");
    (resp.status(), body)
}

/// GET `path` on an open connection in blocking mode: (status, body).
fn get(c: &mut Connection, path: &str) -> (u16, Vec<u8>) {
    c.request(b"GET", path.as_bytes(), None, &[]).unwrap();
    let mut r = c.getresponse().unwrap();
    let mut body = Vec::new();
    r.read_to_end(&mut body).unwrap();
    (r.status(), body)
}

/// A body of `n` bytes that shows where each one came from.
fn pattern(n: usize) -> Vec<u8> {
    (0..n).map(|i| b"0123456789abcdefghij"[i % 20]).collect()
}

/// A TLS origin (the test PKI's localhost certificate) answering every request with
/// `pattern(size)`.
fn tls_origin(size: usize) -> Routed {
    Routed::start_tls(move |_| {
        let body = pattern(size);
        let mut r =
            format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", body.len()).into_bytes();
        r.extend_from_slice(&body);
        r
    })
}

fn trusting(c: &mut Connection) {
    let ca = common::servers().ca_file.to_str().unwrap().to_owned();
    c.set_ca_file(&ca).unwrap();
}

// ----- a relay that drips what the server sends -----

/// A relay on 127.0.0.1 to `upstream`: what the client sends passes at once; what the server
/// sends passes one byte at a time, with a pause after each, so that every step of the
/// client's opening (the TLS handshake above all) meets many partial reads. With
/// `connect_reply`, it plays an HTTP proxy first: it reads a CONNECT head (kept in
/// `connects`), drips `connect_reply`, and relays only after a 2xx.
struct Relay {
    port: u16,
    connects: Arc<Mutex<Vec<Vec<u8>>>>,
}

impl Relay {
    fn start(upstream: u16, connect_reply: Option<&'static [u8]>) -> Relay {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let connects = Arc::new(Mutex::new(Vec::new()));
        let seen = connects.clone();
        thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { return };
                let seen = seen.clone();
                thread::spawn(move || relay(client, upstream, connect_reply, &seen));
            }
        });
        Relay { port, connects }
    }
}

fn drip(to: &mut TcpStream, bytes: &[u8]) -> std::io::Result<()> {
    for b in bytes {
        to.write_all(std::slice::from_ref(b))?;
        thread::sleep(Duration::from_micros(200));
    }
    Ok(())
}

fn relay(
    mut client: TcpStream,
    upstream: u16,
    connect_reply: Option<&[u8]>,
    connects: &Mutex<Vec<Vec<u8>>>,
) {
    client.set_nodelay(true).unwrap();
    client
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    if let Some(reply) = connect_reply {
        let head = common::read_head(&mut client);
        connects.lock().unwrap().push(head);
        if drip(&mut client, reply).is_err() || !reply.starts_with(b"HTTP/1.1 2") {
            return;
        }
    }
    let Ok(server) = TcpStream::connect(("127.0.0.1", upstream)) else {
        return;
    };
    let (mut up, mut c2) = (server.try_clone().unwrap(), client.try_clone().unwrap());
    let forward = thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = c2.read(&mut buf) {
            if n == 0 || up.write_all(&buf[..n]).is_err() {
                break;
            }
        }
        let _ = up.shutdown(Shutdown::Write);
    });
    let mut server = server;
    let mut buf = [0u8; 4096];
    while let Ok(n) = server.read(&mut buf) {
        if n == 0 || drip(&mut client, &buf[..n]).is_err() {
            break;
        }
    }
    let _ = client.shutdown(Shutdown::Write);
    let _ = forward.join();
}

/// A TLS "server" that takes the ClientHello and never answers; it reports each connection's
/// end (the client closing its socket) on the channel.
fn stalling_server() -> (u16, mpsc::Receiver<usize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        for s in listener.incoming() {
            let Ok(mut s) = s else { return };
            let tx = tx.clone();
            thread::spawn(move || {
                s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
                let mut total = 0;
                let mut buf = [0u8; 4096];
                while let Ok(n) = s.read(&mut buf) {
                    if n == 0 {
                        let _ = tx.send(total);
                        return;
                    }
                    total += n;
                }
            });
        }
    });
    (port, rx)
}

/// A port on 127.0.0.1 with nothing listening.
fn closed_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

// ----- name resolution -----

#[test]
fn a_host_name_is_resolved_off_the_callers_thread_and_the_descriptor_changes() {
    let _one = resolving();
    let srv = Routed::start(|_| common::routed::ok("resolved"));
    let mut c = Connection::new("localhost", srv.port()).unwrap();
    c.set_blocking(false).unwrap();

    // The call that starts the resolution returns at once, waiting for the resolver's
    // descriptor (a socket of the library's own, not an IP socket).
    let t = Instant::now();
    let e = c.connect().unwrap_err();
    assert!(t.elapsed() < AT_ONCE, "connect took {:?}", t.elapsed());
    assert_eq!(e.kind(), ErrorKind::WouldBlock, "{e}");
    assert!(e.message().contains("resolving localhost"), "{e}");
    assert_eq!(c.want(), WANT_READ);
    let resolver_fd = c.fileno().unwrap();
    assert_eq!(family(resolver_fd), libc::AF_UNIX);
    assert!(
        poll_ready(resolver_fd, WANT_READ, 10_000),
        "the resolver never signalled"
    );

    let (r, seen) = drive(&mut c, PATIENCE, Connection::connect);
    r.unwrap();
    assert!(seen.slowest < AT_ONCE, "a call took {:?}", seen.slowest);
    // Then the sockets of the addresses tried: each a new descriptor, waited on for WRITE.
    let open_fd = c.fileno().unwrap();
    assert_ne!(open_fd, resolver_fd);
    assert!([libc::AF_INET, libc::AF_INET6].contains(&family(open_fd)));
    for (fd, want) in &seen.waits {
        assert_ne!(*fd, resolver_fd, "{seen:?}");
        assert_eq!(*want, WANT_WRITE, "{seen:?}");
    }

    assert_eq!(get_nonblocking(&mut c, "/"), (200, b"resolved".to_vec()));
}

#[test]
fn an_ip_literal_never_waits_for_a_resolver() {
    let _one = resolving();
    no_resolver_threads();
    let srv = Routed::start(|_| common::routed::ok("literal"));
    let mut c = Connection::new("127.0.0.1", srv.port()).unwrap();
    c.set_blocking(false).unwrap();
    match c.connect() {
        Ok(()) => {}
        Err(e) => {
            assert_eq!(e.kind(), ErrorKind::WouldBlock, "{e}");
            assert_eq!(
                c.want(),
                WANT_WRITE,
                "a literal's first wait is the connect's"
            );
            assert_eq!(family(c.fileno().unwrap()), libc::AF_INET);
        }
    }
    assert_eq!(
        threads_named("hc-resolve"),
        0,
        "a literal started a resolver"
    );
    let (r, _) = drive(&mut c, PATIENCE, Connection::connect);
    r.unwrap();
    assert_eq!(get_nonblocking(&mut c, "/"), (200, b"literal".to_vec()));
}

#[test]
fn an_unknown_name_is_host_not_found_without_waiting() {
    let _one = resolving();
    let mut c = Connection::new("no-such-host.invalid", 80).unwrap();
    c.set_blocking(false).unwrap();
    let (r, seen) = drive(&mut c, PATIENCE, Connection::connect);
    let e = r.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::HostNotFound, "{e}");
    assert!(e.message().contains("no-such-host.invalid"), "{e}");
    assert!(seen.slowest < AT_ONCE, "a call took {:?}", seen.slowest);
    assert_eq!(seen.waits[0].1, WANT_READ);
}

#[test]
fn connections_freed_while_resolving_leave_no_thread_behind() {
    let _one = resolving();
    for _ in 0..20 {
        let mut c = Connection::new("localhost", 9).unwrap();
        c.set_blocking(false).unwrap();
        assert_eq!(c.connect().unwrap_err().kind(), ErrorKind::WouldBlock);
        assert_eq!(family(c.fileno().unwrap()), libc::AF_UNIX);
        drop(c);
    }
    // Each thread finishes its lookup alone and exits.
    no_resolver_threads();
}

// ----- TCP connect -----

#[test]
fn connect_refused_is_connection_refused_in_non_blocking_mode() {
    let port = closed_port();
    let mut c = Connection::new("127.0.0.1", port).unwrap();
    c.set_blocking(false).unwrap();
    let (r, seen) = drive(&mut c, PATIENCE, Connection::connect);
    let e = r.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ConnectionRefused, "{e}");
    assert!(e.message().contains(&format!("127.0.0.1:{port}")), "{e}");
    assert!(seen.waits.iter().all(|w| w.1 == WANT_WRITE), "{seen:?}");
    assert_eq!(c.fileno(), None, "a failed opening keeps no descriptor");
    // The next call starts over (and fails the same way).
    let (r, _) = drive(&mut c, PATIENCE, Connection::connect);
    assert_eq!(r.unwrap_err().kind(), ErrorKind::ConnectionRefused);
}

/// The calling thread's last message through the C face.
fn last_error_message() -> String {
    let mut buf = [0u8; 512];
    let n = httpclient::ffi::error::hc_last_error_message(buf.as_mut_ptr().cast(), buf.len());
    String::from_utf8(buf[..n].to_vec()).unwrap()
}

/// Drives `hc_connection_connect` from C: its WouldBlocks' messages, then its outcome.
fn connect_from_c(port: u16) -> (Vec<String>, i32) {
    use httpclient::ffi::connection::*;
    let mut c: *mut hc_connection = std::ptr::null_mut();
    assert_eq!(hc_connection_new(c"127.0.0.1".as_ptr(), port, &mut c), 0);
    assert_eq!(hc_connection_set_blocking(c, false), 0);
    let mut waits = Vec::new();
    let end = Instant::now() + PATIENCE;
    let code = loop {
        let code = hc_connection_connect(c);
        if code != ErrorKind::WouldBlock.code() || Instant::now() > end {
            break code;
        }
        waits.push(last_error_message());
        let want = u8::try_from(hc_connection_want(c)).unwrap();
        poll_ready(hc_connection_fileno(c), want, 1000);
    };
    hc_connection_free(c);
    (waits, code)
}

#[test]
fn hc_last_error_message_after_a_would_block_and_a_refused_connect() {
    // The connect in progress, then done.
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let (waits, code) = connect_from_c(port);
    assert_eq!(code, 0);
    let waiting = format!("BlockingIOError: connecting to 127.0.0.1:{port}: the call would block");
    assert!(waits.iter().all(|m| *m == waiting), "{waits:?}");
    // The message stays that of the last failure.
    assert_eq!(last_error_message(), waiting);
    // Refused: the errno's text, after the same wait.
    let port = closed_port();
    let (waits, code) = connect_from_c(port);
    assert_eq!(code, ErrorKind::ConnectionRefused.code());
    let waiting = format!("BlockingIOError: connecting to 127.0.0.1:{port}: the call would block");
    assert!(waits.iter().all(|m| *m == waiting), "{waits:?}");
    assert_eq!(
        last_error_message(),
        format!(
            "ConnectionRefused: connect to 127.0.0.1:{port}: Connection refused (os error {})",
            libc::ECONNREFUSED
        )
    );
}

#[test]
fn a_name_whose_every_address_refuses_tries_each_then_is_refused() {
    let _one = resolving();
    let port = closed_port();
    let addrs: Vec<SocketAddr> = std::net::ToSocketAddrs::to_socket_addrs(&("localhost", port))
        .unwrap()
        .collect();
    let mut c = Connection::new("localhost", port).unwrap();
    c.set_blocking(false).unwrap();
    let (r, seen) = drive(&mut c, PATIENCE, Connection::connect);
    assert_eq!(r.unwrap_err().kind(), ErrorKind::ConnectionRefused);
    // The resolver's descriptor, then one socket per address (each address waited on at
    // least once, unless refused at once), each a new number: a socket is closed only once
    // the next one exists.
    assert_eq!(seen.waits[0].1, WANT_READ, "{seen:?}");
    let fds = seen.fds();
    assert!(fds.len() <= 1 + addrs.len(), "{seen:?} for {addrs:?}");
    for pair in fds.windows(2) {
        assert_ne!(pair[0], pair[1]);
    }
    assert!(
        seen.waits[1..].iter().all(|w| w.1 == WANT_WRITE),
        "{seen:?}"
    );
}

// ----- TLS -----

#[test]
fn tls_opened_without_blocking_through_a_dripping_relay_gives_the_blocking_bytes() {
    let origin = tls_origin(6_000);
    let relay = Relay::start(origin.port(), None);

    let mut blocking = Connection::new_https("127.0.0.1", relay.port).unwrap();
    trusting(&mut blocking);
    blocking.set_timeout(20.0).unwrap();
    let want = get(&mut blocking, "/a");

    let mut c = Connection::new_https("127.0.0.1", relay.port).unwrap();
    trusting(&mut c);
    let seen = open_nonblocking(&mut c);
    // The handshake's bytes came one at a time: the opening waited many times, for READ
    // most of all.
    let reads = seen.waits.iter().filter(|w| w.1 == WANT_READ).count();
    assert!(reads > 50, "only {reads} waits to read: {seen:?}");
    assert_eq!(seen.fds().len(), 1, "one socket: {seen:?}");

    let fd = c.fileno();
    assert_eq!(get_nonblocking(&mut c, "/a"), want);
    assert_eq!(want, (200, pattern(6_000)));
    // And again on the same connection, kept alive.
    assert_eq!(get_nonblocking(&mut c, "/a"), want);
    assert_eq!(c.fileno(), fd);
}

#[test]
fn a_tls_connection_the_server_closed_is_opened_again_without_blocking() {
    let _one = resolving();
    let origin = Routed::start_tls(|_| {
        b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 5\r\n\r\nagain".to_vec()
    });
    let mut c = Connection::new_https("localhost", origin.port()).unwrap();
    trusting(&mut c);
    c.set_blocking(false).unwrap();
    for _ in 0..3 {
        assert_eq!(get_nonblocking(&mut c, "/"), (200, b"again".to_vec()));
    }
    assert_eq!(origin.connections(), 3);
}

#[test]
fn certificate_verification_still_refuses_a_wrong_host_in_non_blocking_mode() {
    let _one = resolving();
    let s = common::servers();
    let mut c = Connection::new_https("localhost", s.https_wronghost_port).unwrap();
    trusting(&mut c);
    c.set_blocking(false).unwrap();
    let (r, _) = drive(&mut c, PATIENCE, Connection::connect);
    let e = r.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::CertificateVerify, "{e}");
    assert!(e.message().contains("hostname mismatch"), "{e}");

    // An untrusted issuer too (the CA file does not know it).
    let mut c = Connection::new_https("127.0.0.1", s.https_untrusted_port).unwrap();
    trusting(&mut c);
    c.set_blocking(false).unwrap();
    let (r, _) = drive(&mut c, PATIENCE, Connection::connect);
    assert_eq!(r.unwrap_err().kind(), ErrorKind::CertificateVerify);
}

#[test]
fn a_connection_freed_mid_handshake_closes_its_socket() {
    let (port, ended) = stalling_server();
    let mut c = Connection::new_https("127.0.0.1", port).unwrap();
    trusting(&mut c);
    c.set_blocking(false).unwrap();
    // Until the handshake waits for the server's answer.
    let end = Instant::now() + PATIENCE;
    loop {
        let e = c.connect().unwrap_err();
        assert_eq!(e.kind(), ErrorKind::WouldBlock, "{e}");
        if e.message().contains("TLS handshake") && c.want() == WANT_READ {
            break;
        }
        assert!(Instant::now() < end);
        poll_ready(c.fileno().unwrap(), c.want(), 1000);
    }
    drop(c);
    let hello = ended
        .recv_timeout(Duration::from_secs(10))
        .expect("the socket was not closed");
    assert!(hello > 0, "the ClientHello was sent");
}

#[test]
fn the_deadline_ends_a_stalled_handshake() {
    let (port, _ended) = stalling_server();
    let mut c = Connection::new_https("127.0.0.1", port).unwrap();
    trusting(&mut c);
    c.set_deadline(0.3).unwrap();
    c.set_blocking(false).unwrap();
    let t = Instant::now();
    assert_eq!(c.connect().unwrap_err().kind(), ErrorKind::WouldBlock);
    // The loop is told when to call again at the latest.
    let left = c.timeout_ms();
    assert!(left > 0 && left <= 300, "timeout_ms {left}");
    // It calls again every 50 ms, as when its timer fires.
    let (r, seen) = drive(&mut c, Duration::from_millis(50), Connection::connect);
    let e = r.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Timeout, "{e}");
    assert!(
        t.elapsed() >= Duration::from_millis(300),
        "{:?}",
        t.elapsed()
    );
    assert!(seen.slowest < AT_ONCE, "a call took {:?}", seen.slowest);
}

// ----- tunnels -----

const ESTABLISHED: &[u8] = b"HTTP/1.1 200 Connection established\r\nX-Relay: drip\r\n\r\n";

#[test]
fn tunnel_to_a_tls_origin_opened_without_blocking_gives_the_blocking_bytes() {
    let origin = tls_origin(4_000);
    let proxy = Relay::start(origin.port(), Some(ESTABLISHED));
    let open = |blocking: bool| {
        let mut c = Connection::new_https("127.0.0.1", proxy.port).unwrap();
        trusting(&mut c);
        c.set_tunnel(
            "localhost",
            origin.port(),
            &[(b"Proxy-Authorization", b"Basic dTpw")],
        )
        .unwrap();
        c.set_timeout(20.0).unwrap();
        if !blocking {
            let seen = open_nonblocking(&mut c);
            assert!(seen.waits.len() > 50, "{seen:?}");
            let head = c.tunnel_response().expect("the proxy's answer");
            assert_eq!(head.status, 200);
            assert_eq!(head.values(b"x-relay").next(), Some(&b"drip"[..]));
        }
        c
    };
    let want = get(&mut open(true), "/t");
    let got = get_nonblocking(&mut open(false), "/t");
    assert_eq!(got, want);
    assert_eq!(want, (200, pattern(4_000)));
    let connects = proxy.connects.lock().unwrap().clone();
    let expected = format!(
        "CONNECT localhost:{p} HTTP/1.1\r\nHost: localhost:{p}\r\n\
         Proxy-Authorization: Basic dTpw\r\n\r\n",
        p = origin.port()
    );
    assert_eq!(connects.len(), 2);
    for got in connects {
        assert_eq!(String::from_utf8_lossy(&got), expected);
    }
}

#[test]
fn tunnel_refused_in_non_blocking_mode_is_tunnel_failed_with_the_proxys_answer() {
    let proxy = Relay::start(
        closed_port(),
        Some(b"HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic\r\n\r\n"),
    );
    let mut c = Connection::new_https("127.0.0.1", proxy.port).unwrap();
    c.set_tunnel("localhost", 443, &[]).unwrap();
    c.set_blocking(false).unwrap();
    let (r, seen) = drive(&mut c, PATIENCE, Connection::connect);
    let e = r.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::TunnelFailed, "{e}");
    assert!(
        e.message().contains("407 Proxy Authentication Required"),
        "{e}"
    );
    let head = c.tunnel_response().expect("the refusal is kept");
    assert_eq!(head.status, 407);
    assert_eq!(
        head.values(b"proxy-authenticate").next(),
        Some(&b"Basic"[..])
    );
    assert!(seen.slowest < AT_ONCE, "a call took {:?}", seen.slowest);
}

#[test]
fn a_proxy_closing_without_an_answer_is_tunnel_failed_in_non_blocking_mode() {
    let proxy = Relay::start(closed_port(), Some(b""));
    let mut c = Connection::new("127.0.0.1", proxy.port).unwrap();
    c.set_tunnel("origin.example", 80, &[]).unwrap();
    c.set_blocking(false).unwrap();
    let (r, _) = drive(&mut c, PATIENCE, Connection::connect);
    let e = r.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::TunnelFailed, "{e}");
    assert!(c.tunnel_response().is_none());
}

// ----- the source address -----

#[test]
fn the_source_address_binds_the_local_end_in_non_blocking_mode() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let mut c = Connection::new("127.0.0.1", port).unwrap();
    c.set_source_address(Some(SocketAddr::new("127.0.0.2".parse().unwrap(), 0)))
        .unwrap();
    open_nonblocking(&mut c);
    let (_conn, peer) = listener.accept().unwrap();
    assert_eq!(peer.ip(), "127.0.0.2".parse::<std::net::IpAddr>().unwrap());

    // An address of the other family is skipped, as in blocking mode: none is left.
    let mut c = Connection::new("[::1]", port).unwrap();
    c.set_source_address(Some(SocketAddr::new("127.0.0.2".parse().unwrap(), 0)))
        .unwrap();
    c.set_blocking(false).unwrap();
    let (r, seen) = drive(&mut c, PATIENCE, Connection::connect);
    let e = r.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Os, "{e}");
    assert!(e.message().contains("source address's family"), "{e}");
    assert!(seen.waits.is_empty(), "{seen:?}");
}

#[test]
fn an_ipv6_literal_is_opened_without_blocking() {
    let Some(port) = common::servers().http6_port else {
        eprintln!("no IPv6 loopback: skipped");
        return;
    };
    let mut c = Connection::new("::1", port).unwrap();
    c.set_blocking(false).unwrap();
    let (r, seen) = drive(&mut c, PATIENCE, Connection::connect);
    r.unwrap();
    assert!(seen.slowest < AT_ONCE, "a call took {:?}", seen.slowest);
    assert_eq!(family(c.fileno().unwrap()), libc::AF_INET6);
    let (status, body) = get_nonblocking(&mut c, "/small.txt");
    assert_eq!(status, 200);
    assert_eq!(body, common::servers().docroot_file("small.txt"));
}

#[test]
fn set_blocking_tunnel_source_and_tls_are_refused_mid_opening_until_close() {
    let (port, _ended) = stalling_server();
    let mut c = Connection::new_https("127.0.0.1", port).unwrap();
    trusting(&mut c);
    c.set_blocking(false).unwrap();
    assert_eq!(c.connect().unwrap_err().kind(), ErrorKind::WouldBlock);
    // What the opening reads as it goes (the source address for each address tried, the TLS
    // options at its handshake) can't change under it.
    let source = Some(SocketAddr::new("127.0.0.2".parse().unwrap(), 0));
    for e in [
        c.set_blocking(true).unwrap_err(),
        c.set_tunnel("origin.example", 443, &[]).unwrap_err(),
        c.set_source_address(source).unwrap_err(),
        c.set_verify(false).unwrap_err(),
        c.set_ca_file("/nonexistent.pem").unwrap_err(),
    ] {
        assert_eq!(e.kind(), ErrorKind::ImproperConnectionState, "{e}");
    }
    assert!(c.fileno().is_some());
    // close ends the opening: its descriptor is gone, and the settings may change again.
    c.close();
    assert_eq!(c.fileno(), None);
    c.set_source_address(None).unwrap();
    c.set_verify(true).unwrap();
    c.set_blocking(true).unwrap();
    c.set_timeout(0.2).unwrap();
    // A blocking connect starts over (and meets the same silent server: a timeout).
    assert_eq!(c.connect().unwrap_err().kind(), ErrorKind::Timeout);
}
