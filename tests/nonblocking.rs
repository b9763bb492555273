//! Non-blocking mode (docs/nonblocking.md): every response shape dripped one byte per
//! readiness event gives, byte for byte, what blocking mode gives; no call waits while the
//! server holds bytes back; a repeated call goes on without resending and a different call in
//! between is refused; the keep-alive reopen and the stale-connection resend work, on a new
//! socket.
//!
//! The loop here is what an event loop does: make the call; on `WouldBlock`, poll(2) the
//! descriptor (`fileno`, read again after every `WouldBlock`) for what `want` says, then
//! repeat the same call.

mod common;

use std::time::{Duration, Instant};

use common::scripted::{Gate, ScriptedServer};
use httpclient::transport::{WANT_READ, WANT_WRITE};
use httpclient::{Connection, Error, ErrorKind, Response};

/// The longest any call may take in non-blocking mode. Generous (a debug build on a loaded
/// machine): the servers below hold bytes back for seconds, so a call that waited would take
/// far longer.
const CALL_LIMIT: Duration = Duration::from_millis(250);

/// What the driving loop saw: how many `WouldBlock`s, the longest call, the descriptors.
#[derive(Default, Debug)]
struct Stats {
    blocks: usize,
    longest: Duration,
    fds: Vec<i32>,
}

/// Waits (poll(2), at most 10 s) until `fd` is ready for `want`.
fn wait_ready(fd: i32, want: u8) {
    assert!(fd >= 0, "WouldBlock without a descriptor");
    assert!(
        want & (WANT_READ | WANT_WRITE) != 0,
        "WouldBlock with want {want}"
    );
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
    // SAFETY: one valid pollfd.
    let n = unsafe { libc::poll(&mut p, 1, 10_000) };
    assert!(
        n == 1,
        "poll: descriptor {fd} not ready for {want} within 10 s"
    );
}

/// Makes `call` until it does not return `WouldBlock`, waiting for readiness in between as an
/// event loop would; `fd_want` gives the descriptor and want after each `WouldBlock`. Every
/// call ticks `gate` (a dripping server sends its next byte then) and is timed.
fn drive<T>(
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

fn conn_call<T>(
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

fn resp_call<T>(
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

/// Everything a caller sees of a response: status line, headers, body, trailers.
#[derive(Debug, PartialEq, Eq)]
struct Seen {
    version: u8,
    status: u16,
    reason: Vec<u8>,
    headers: Vec<(Vec<u8>, Vec<u8>)>,
    body: Vec<u8>,
    trailers: Vec<(Vec<u8>, Vec<u8>)>,
}

fn fields(h: Option<&httpclient::response::head::Head>) -> Vec<(Vec<u8>, Vec<u8>)> {
    let Some(h) = h else { return Vec::new() };
    (0..h.len())
        .map(|i| {
            let (n, v) = h.field(i).unwrap();
            (n.to_vec(), v.to_vec())
        })
        .collect()
}

fn seen(resp: &Response, body: Vec<u8>) -> Seen {
    Seen {
        version: resp.version(),
        status: resp.status(),
        reason: resp.reason().to_vec(),
        headers: fields(Some(resp.headers())),
        body,
        trailers: fields(resp.trailers()),
    }
}

/// How the body is read in non-blocking mode.
#[derive(Clone, Copy, Debug)]
enum ReadBy {
    /// read (httplib's read(amt)) into a 7-byte buffer.
    Read,
    /// readline into a 64-byte buffer.
    Readline,
    /// read_all (read_to_end).
    ReadAll,
}

/// The responses of `n` GETs on one connection in blocking mode, the server sending each
/// reply whole.
fn blocking_reference(replies: &[Vec<u8>]) -> Vec<Seen> {
    let srv = ScriptedServer::reply_each(replies.to_vec());
    let mut conn = Connection::new("127.0.0.1", srv.port()).unwrap();
    let mut out = Vec::new();
    for i in 0..replies.len() {
        conn.request(b"GET", format!("/{i}").as_bytes(), None, &[])
            .unwrap();
        let mut resp = conn.getresponse().unwrap();
        let mut body = Vec::new();
        resp.read_to_end(&mut body).unwrap();
        out.push(seen(&resp, body));
    }
    out
}

/// The same GETs in non-blocking mode, the server dripping every reply one byte per
/// readiness event; checks that the server got the same requests as in blocking mode.
fn nonblocking_dripped(replies: &[Vec<u8>], by: ReadBy) -> (Vec<Seen>, Stats) {
    let gate = Gate::new();
    let server_gate = gate.clone();
    let script = replies.to_vec();
    let srv = ScriptedServer::start(move |conn, _| {
        for reply in &script {
            if conn.read_request().ok().flatten().is_none() {
                return;
            }
            let _ = conn.drip(reply, &server_gate);
        }
    });
    let mut conn = Connection::new("127.0.0.1", srv.port()).unwrap();
    let (out, stats) = exchanges(&mut conn, &gate, replies.len(), by);
    // The requests went out as in blocking mode.
    let got = srv.received(0);
    for i in 0..replies.len() {
        let line = format!("GET /{i} HTTP/1.1\r\n");
        assert!(
            got.windows(line.len()).any(|w| w == line.as_bytes()),
            "request {i} not received: {}",
            String::from_utf8_lossy(&got)
        );
    }
    (out, stats)
}

/// GETs `/0` .. `/{n-1}` on `conn` in non-blocking mode, reading each body `by`, every call
/// driven by [`drive`].
fn exchanges(conn: &mut Connection, gate: &Gate, n: usize, by: ReadBy) -> (Vec<Seen>, Stats) {
    let gate = gate.clone();
    conn.set_blocking(false).unwrap();
    let mut stats = Stats::default();
    let mut out = Vec::new();
    for i in 0..n {
        let url = format!("/{i}");
        conn_call(&mut stats, &gate, conn, |c| {
            c.request(b"GET", url.as_bytes(), None, &[])
        })
        .unwrap();
        let mut resp = conn_call(&mut stats, &gate, conn, |c| c.getresponse()).unwrap();
        let mut body = Vec::new();
        match by {
            ReadBy::Read => {
                let mut buf = [0u8; 7];
                loop {
                    let n = resp_call(&mut stats, &gate, &mut resp, |r| {
                        let (n, res) = r.read_fill(&mut buf);
                        res.map(|()| n)
                    })
                    .unwrap();
                    if n == 0 {
                        break;
                    }
                    body.extend_from_slice(&buf[..n]);
                }
            }
            ReadBy::Readline => {
                let mut buf = [0u8; 64];
                loop {
                    let n =
                        resp_call(&mut stats, &gate, &mut resp, |r| r.readline(&mut buf)).unwrap();
                    if n == 0 {
                        break;
                    }
                    body.extend_from_slice(&buf[..n]);
                }
            }
            ReadBy::ReadAll => {
                let mut all = Vec::new();
                resp_call(&mut stats, &gate, &mut resp, |r| {
                    r.read_to_end_keyed(&mut all, (1, 2))
                })
                .unwrap();
                body = all;
            }
        }
        out.push(seen(&resp, body));
    }
    (out, stats)
}

fn check_shape(name: &str, replies: &[&[u8]]) {
    let replies: Vec<Vec<u8>> = replies.iter().map(|r| r.to_vec()).collect();
    let reference = blocking_reference(&replies);
    let total: usize = replies.iter().map(Vec::len).sum();
    for by in [ReadBy::Read, ReadBy::Readline, ReadBy::ReadAll] {
        let (got, stats) = nonblocking_dripped(&replies, by);
        eprintln!(
            "{name} by {by:?}: {total} bytes dripped, {} WouldBlocks, longest call {:?}",
            stats.blocks, stats.longest
        );
        assert_eq!(got, reference, "{name} read by {by:?}");
        // One readiness event per byte, give or take the ticks that raced a byte.
        assert!(
            stats.blocks >= total / 2,
            "{name} by {by:?}: only {} WouldBlocks for {total} bytes dripped",
            stats.blocks
        );
        assert!(
            stats.longest < CALL_LIMIT,
            "{name} by {by:?}: a call took {:?}",
            stats.longest
        );
    }
}

#[test]
fn content_length_dripped() {
    check_shape(
        "Content-Length",
        &[b"HTTP/1.1 200 OK\r\nContent-Length: 12\r\nX-A: 1\r\n\r\nhello\nworld\n"],
    );
}

#[test]
fn chunked_with_extensions_and_trailers_dripped() {
    check_shape(
        "chunked",
        &[b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\
            5;name=value\r\nhel\nl\r\n3;x\r\no\nw\r\n0\r\nX-Trailer: t1\r\nX-Two: t2\r\n\r\n"],
    );
}

#[test]
fn until_close_dripped() {
    check_shape(
        "until close",
        &[b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil\nthe close\n"],
    );
}

#[test]
fn interim_then_final_dripped() {
    check_shape(
        "1xx then final",
        &[
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n\
            HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nyes",
        ],
    );
}

#[test]
fn keep_alive_sequence_dripped() {
    check_shape(
        "keep-alive",
        &[
            b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\none\n",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\ntwo\n\r\n0\r\n\r\n",
            b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n",
            b"HTTP/1.0 200 OK\r\nContent-Length: 6\r\n\r\nfour\n\n",
        ],
    );
}

/// The server sends part of the head, holds the rest back for 2 s, then part of the body and
/// holds again: no call takes long, and the exchange still completes.
#[test]
fn no_call_waits_while_the_server_holds_bytes_back() {
    const HOLD: Duration = Duration::from_secs(2);
    let srv = ScriptedServer::start(|conn, _| {
        conn.read_request().unwrap();
        let _ = conn.set_nodelay(true);
        use std::io::Write;
        let _ = conn.write_all(b"HTTP/1.1 200 OK\r\nContent-Le");
        std::thread::sleep(HOLD);
        let _ = conn.write_all(b"ngth: 10\r\n\r\nfirst");
        std::thread::sleep(HOLD);
        let _ = conn.write_all(b"-last");
    });
    let gate = Gate::new();
    let mut stats = Stats::default();
    let start = Instant::now();
    let mut conn = Connection::new("127.0.0.1", srv.port()).unwrap();
    conn.set_blocking(false).unwrap();
    conn_call(&mut stats, &gate, &mut conn, |c| {
        c.request(b"GET", b"/", None, &[])
    })
    .unwrap();
    let mut resp = conn_call(&mut stats, &gate, &mut conn, |c| c.getresponse()).unwrap();
    let mut body = Vec::new();
    let mut buf = [0u8; 64];
    let mut reads = Vec::new();
    loop {
        let n = resp_call(&mut stats, &gate, &mut resp, |r| {
            let (n, res) = r.read_fill(&mut buf);
            res.map(|()| n)
        })
        .unwrap();
        if n == 0 {
            break;
        }
        reads.push(n);
        body.extend_from_slice(&buf[..n]);
    }
    eprintln!(
        "held back 2 x {HOLD:?}: total {:?}, {} WouldBlocks, longest call {:?}",
        start.elapsed(),
        stats.blocks,
        stats.longest
    );
    assert_eq!(body, b"first-last");
    // read returned what had come (5 bytes) without waiting to fill the buffer.
    assert_eq!(reads, vec![5, 5]);
    assert!(start.elapsed() >= HOLD * 2 - Duration::from_millis(100));
    assert!(stats.blocks >= 2, "{stats:?}");
    assert!(
        stats.longest < CALL_LIMIT,
        "a call took {:?} while the server held bytes back for {HOLD:?}",
        stats.longest
    );
}

/// A request body larger than the socket buffers, to a server that reads nothing for a
/// while: the request call returns WouldBlock wanting WRITE; another call in between is
/// refused with a message that says what to do; the repeated call goes on and the server
/// gets every byte exactly once.
#[test]
fn a_mismatched_repeat_is_refused_and_the_repeat_resends_nothing() {
    const BODY: usize = 8 << 20;
    let srv = ScriptedServer::start(|conn, _| {
        std::thread::sleep(Duration::from_millis(300));
        if conn.read_request().ok().flatten().is_some() {
            use std::io::Write;
            let _ = conn.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        }
    });
    let body: Vec<u8> = (0..BODY).map(|i| (i % 251) as u8).collect();
    let other = vec![0u8; 16];
    let url: &[u8] = b"/up";
    let mut conn = Connection::new("127.0.0.1", srv.port()).unwrap();
    conn.set_blocking(false).unwrap();
    let t = Instant::now();
    let e = common::err(conn.request(b"PUT", url, Some(&body), &[]));
    assert!(t.elapsed() < CALL_LIMIT);
    assert_eq!(e.kind(), ErrorKind::WouldBlock, "{e}");
    assert_eq!(conn.want(), WANT_WRITE);
    // Other calls, or the same call with another buffer, are refused.
    let refused: Vec<Error> = vec![
        common::err(conn.send(b"x")),
        common::err(conn.getresponse()),
        common::err(conn.request(b"PUT", url, Some(&other), &[])),
        common::err(conn.putrequest(b"GET", b"/", false, false)),
    ];
    for e in &refused {
        assert_eq!(e.kind(), ErrorKind::ImproperConnectionState, "{e}");
        assert!(
            e.message()
                .contains("repeat that request with the same arguments"),
            "{e}"
        );
    }
    // The repeated call goes on.
    let gate = Gate::new();
    let mut stats = Stats::default();
    conn_call(&mut stats, &gate, &mut conn, |c| {
        c.request(b"PUT", url, Some(&body), &[])
    })
    .unwrap();
    let mut resp = conn_call(&mut stats, &gate, &mut conn, |c| c.getresponse()).unwrap();
    assert_eq!(resp.status(), 200);
    let mut got = Vec::new();
    resp_call(&mut stats, &gate, &mut resp, |r| {
        r.read_to_end_keyed(&mut got, (0, 0))
    })
    .unwrap();
    assert_eq!(got, b"ok");
    let received = srv.received(0);
    let head_end = received.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    assert_eq!(
        received.len() - head_end,
        BODY,
        "the body was sent exactly once"
    );
    assert!(received[head_end..] == body[..]);
    assert!(stats.longest < CALL_LIMIT, "{stats:?}");
}

/// readline keeps a partial line inside across WouldBlock; only the same readline (same
/// buffer) may come next.
#[test]
fn readline_keeps_its_partial_line_and_refuses_other_reads() {
    let gate = Gate::new();
    let server_gate = gate.clone();
    let srv = ScriptedServer::start(move |conn, _| {
        conn.read_request().unwrap();
        use std::io::Write;
        let _ = conn.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\npart");
        // The rest once the client made its calls below.
        std::thread::sleep(Duration::from_millis(200));
        let _ = conn.drip(b"ial\nend\n", &server_gate);
    });
    let mut conn = Connection::new("127.0.0.1", srv.port()).unwrap();
    conn.set_blocking(false).unwrap();
    let mut stats = Stats::default();
    conn_call(&mut stats, &gate, &mut conn, |c| {
        c.request(b"GET", b"/", None, &[])
    })
    .unwrap();
    let mut resp = conn_call(&mut stats, &gate, &mut conn, |c| c.getresponse()).unwrap();
    let mut line = [0u8; 32];
    // Wait until "part" is readable, then readline takes it and would block.
    let e = loop {
        match resp.readline_counted(&mut line) {
            (0, Err(e)) if e.kind() == ErrorKind::WouldBlock && resp.bytes_read() == 4 => break e,
            (0, Err(e)) if e.kind() == ErrorKind::WouldBlock => {
                wait_ready(resp.fileno().unwrap(), resp.want())
            }
            other => panic!("unexpected {other:?}"),
        }
    };
    assert_eq!(e.kind(), ErrorKind::WouldBlock);
    assert_eq!(resp.want(), WANT_READ);
    let mut other = [0u8; 32];
    let refused = resp.readline_counted(&mut other[..16]).1.unwrap_err();
    assert_eq!(
        refused.kind(),
        ErrorKind::ImproperConnectionState,
        "{refused}"
    );
    assert!(
        refused.message().contains("with the same buffer"),
        "{refused}"
    );
    let refused = resp.read_fill(&mut other).1.unwrap_err();
    assert_eq!(
        refused.kind(),
        ErrorKind::ImproperConnectionState,
        "{refused}"
    );
    let n = resp_call(&mut stats, &gate, &mut resp, |r| r.readline(&mut line)).unwrap();
    assert_eq!(&line[..n], b"partial\n");
    let n = resp_call(&mut stats, &gate, &mut resp, |r| r.readline(&mut line)).unwrap();
    assert_eq!(&line[..n], b"end\n");
    let n = resp_call(&mut stats, &gate, &mut resp, |r| r.readline(&mut line)).unwrap();
    assert_eq!(n, 0);
}

/// The local port of a socket, to tell one connection from the next (a descriptor number
/// may be reused).
fn local_port(fd: i32) -> u16 {
    let mut addr: libc::sockaddr_in = unsafe { std::mem::zeroed() };
    let mut len = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
    // SAFETY: a sockaddr_in-sized buffer for an IPv4 socket.
    let r =
        unsafe { libc::getsockname(fd, (&mut addr as *mut libc::sockaddr_in).cast(), &mut len) };
    assert_eq!(r, 0);
    u16::from_be(addr.sin_port)
}

/// The server closes a keep-alive connection after reading the second request without
/// answering: getresponse sends the (idempotent, in-memory) request once more on a new
/// connection, without blocking, on a new socket.
#[test]
fn stale_connection_resend() {
    let gate = Gate::new();
    let server_gate = gate.clone();
    let srv = ScriptedServer::start(move |conn, idx| {
        if conn.read_request().ok().flatten().is_none() {
            return;
        }
        let _ = conn.drip(
            b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfirst",
            &server_gate,
        );
        if idx == 0 {
            // Reads the second request and closes without an answer.
            let _ = conn.read_request();
        }
    });
    let mut conn = Connection::new("127.0.0.1", srv.port()).unwrap();
    conn.set_blocking(false).unwrap();
    let mut stats = Stats::default();
    let mut bodies = Vec::new();
    let mut ports = Vec::new();
    let mut fds = Vec::new();
    for _ in 0..2 {
        conn_call(&mut stats, &gate, &mut conn, |c| {
            c.request(b"GET", b"/again", None, &[])
        })
        .unwrap();
        ports.push(local_port(conn.fileno().unwrap()));
        fds.push(conn.fileno().unwrap());
        let mut resp = conn_call(&mut stats, &gate, &mut conn, |c| c.getresponse()).unwrap();
        let mut body = Vec::new();
        resp_call(&mut stats, &gate, &mut resp, |r| {
            r.read_to_end_keyed(&mut body, (3, 4))
        })
        .unwrap();
        bodies.push(body);
        ports.push(local_port(conn.fileno().unwrap()));
        fds.push(conn.fileno().unwrap());
    }
    assert_eq!(bodies, vec![b"first".to_vec(), b"first".to_vec()]);
    assert_eq!(srv.connections(), 2);
    assert!(srv.received(1).starts_with(b"GET /again HTTP/1.1\r\n"));
    // The same socket for the first exchange and the second request; a new one after.
    assert_eq!(ports[0], ports[1]);
    assert_eq!(ports[1], ports[2]);
    assert_ne!(ports[2], ports[3], "the resend went out on a new socket");
    // ... with another descriptor number: the old one is closed only once the new one exists.
    assert_eq!(fds[0], fds[2]);
    assert_ne!(
        fds[2], fds[3],
        "the descriptor number changes on the resend"
    );
    assert!(stats.longest < CALL_LIMIT, "{stats:?}");
}

/// The server closes a keep-alive connection while it is idle: the next request opens a new
/// one (a new socket) without blocking.
#[test]
fn keep_alive_reopen_after_the_server_closed() {
    let gate = Gate::new();
    let server_gate = gate.clone();
    let srv = ScriptedServer::start(move |conn, _| {
        if conn.read_request().ok().flatten().is_some() {
            let _ = conn.drip(
                b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi",
                &server_gate,
            );
        }
    });
    let mut conn = Connection::new("127.0.0.1", srv.port()).unwrap();
    conn.set_blocking(false).unwrap();
    let mut stats = Stats::default();
    let mut ports = Vec::new();
    let mut fds = Vec::new();
    for i in 0..2 {
        conn_call(&mut stats, &gate, &mut conn, |c| {
            c.request(b"GET", b"/", None, &[])
        })
        .unwrap();
        ports.push(local_port(conn.fileno().unwrap()));
        fds.push(conn.fileno().unwrap());
        let mut resp = conn_call(&mut stats, &gate, &mut conn, |c| c.getresponse()).unwrap();
        let mut body = Vec::new();
        resp_call(&mut stats, &gate, &mut resp, |r| {
            r.read_to_end_keyed(&mut body, (5, 6))
        })
        .unwrap();
        assert_eq!(body, b"hi");
        if i == 0 {
            // The server's handler returned: it closed the connection.
            srv.received_when_done(0);
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    assert_eq!(srv.connections(), 2);
    assert_ne!(ports[0], ports[1]);
    assert_ne!(
        fds[0], fds[1],
        "the descriptor number changes on the reopen"
    );
    assert!(stats.longest < CALL_LIMIT, "{stats:?}");
}

// ----- TLS and tunnels: a relay drips what the server sends, one byte per call -----

/// A relay on 127.0.0.1 to `upstream`: what the client sends passes at once; what the server
/// sends (TLS records, handshake included) is dripped one byte per tick of `gate`. With
/// `proxy`, it first plays an HTTP proxy: it reads a CONNECT head and drips a 200 answer.
fn drip_relay(upstream: u16, proxy: bool, gate: &Gate) -> u16 {
    use std::io::{Read, Write};
    use std::net::{Shutdown, TcpListener, TcpStream};
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let gate = gate.clone();
    std::thread::spawn(move || {
        for client in listener.incoming() {
            let Ok(mut client) = client else { return };
            let gate = gate.clone();
            std::thread::spawn(move || {
                let _ = client.set_read_timeout(Some(Duration::from_secs(20)));
                if proxy {
                    let head = common::read_head(&mut client);
                    if !head.starts_with(b"CONNECT ") {
                        return;
                    }
                    let ok = b"HTTP/1.1 200 Connection established\r\nX-Relay: drip\r\n\r\n";
                    if common::scripted::drip_to(&mut client, ok, &gate).is_err() {
                        return;
                    }
                }
                let Ok(server) = TcpStream::connect(("127.0.0.1", upstream)) else {
                    return;
                };
                let (mut up, mut from_client) =
                    (server.try_clone().unwrap(), client.try_clone().unwrap());
                let forward = std::thread::spawn(move || {
                    let mut buf = [0u8; 4096];
                    while let Ok(n) = from_client.read(&mut buf) {
                        if n == 0 || up.write_all(&buf[..n]).is_err() {
                            break;
                        }
                    }
                    let _ = up.shutdown(Shutdown::Write);
                });
                let mut server = server;
                let mut buf = [0u8; 4096];
                while let Ok(n) = server.read(&mut buf) {
                    if n == 0 || common::scripted::drip_to(&mut client, &buf[..n], &gate).is_err() {
                        break;
                    }
                }
                let _ = client.shutdown(Shutdown::Write);
                let _ = forward.join();
            });
        }
    });
    port
}

/// The shapes of a keep-alive TLS exchange, by request target `/0` .. `/3`.
const TLS_SHAPES: [&[u8]; 4] = [
    b"HTTP/1.1 200 OK\r\nContent-Length: 12\r\nX-A: 1\r\n\r\nhello\nworld\n",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\
      5;name=value\r\nhel\nl\r\n3;x\r\no\nw\r\n0\r\nX-Trailer: t1\r\n\r\n",
    b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n\
      HTTP/1.1 201 Created\r\nContent-Length: 3\r\n\r\nyes",
    b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n",
];

fn tls_shapes_origin() -> common::routed::Routed {
    common::routed::Routed::start_tls(|req| {
        let i: usize = req.target[1..].parse().unwrap_or(3);
        TLS_SHAPES[i.min(3)].to_vec()
    })
}

fn https_to(port: u16) -> Connection {
    let mut c = Connection::new_https("127.0.0.1", port).unwrap();
    c.set_ca_file(common::servers().ca_file.to_str().unwrap())
        .unwrap();
    c
}

/// Blocking mode, straight to the origin: what every non-blocking run must give.
fn tls_reference(origin: u16) -> Vec<Seen> {
    let mut c = https_to(origin);
    (0..TLS_SHAPES.len())
        .map(|i| {
            c.request(b"GET", format!("/{i}").as_bytes(), None, &[])
                .unwrap();
            let mut resp = c.getresponse().unwrap();
            let mut body = Vec::new();
            resp.read_to_end(&mut body).unwrap();
            seen(&resp, body)
        })
        .collect()
}

#[test]
fn tls_shapes_dripped_through_a_relay() {
    let origin = tls_shapes_origin();
    let reference = tls_reference(origin.port());
    for by in [ReadBy::Read, ReadBy::Readline, ReadBy::ReadAll] {
        let gate = Gate::new();
        let relay = drip_relay(origin.port(), false, &gate);
        let mut c = https_to(relay);
        let (got, stats) = exchanges(&mut c, &gate, TLS_SHAPES.len(), by);
        eprintln!(
            "TLS by {by:?}: {} WouldBlocks, longest call {:?}",
            stats.blocks, stats.longest
        );
        assert_eq!(got, reference, "TLS read by {by:?}");
        // The handshake and every record came one byte at a time.
        assert!(stats.blocks > 500, "TLS by {by:?}: {stats:?}");
        assert!(stats.longest < CALL_LIMIT, "TLS by {by:?}: {stats:?}");
    }
}

#[test]
fn tls_shapes_dripped_through_a_tunnel() {
    let origin = tls_shapes_origin();
    let reference = tls_reference(origin.port());
    let gate = Gate::new();
    let proxy = drip_relay(origin.port(), true, &gate);
    let mut c = https_to(proxy);
    c.set_tunnel("127.0.0.1", origin.port(), &[]).unwrap();
    let (got, stats) = exchanges(&mut c, &gate, TLS_SHAPES.len(), ReadBy::Read);
    eprintln!(
        "TLS through a tunnel: {} WouldBlocks, longest call {:?}",
        stats.blocks, stats.longest
    );
    assert_eq!(got, reference, "TLS through a tunnel");
    assert_eq!(c.tunnel_response().map(|h| h.status), Some(200));
    assert!(stats.blocks > 500, "{stats:?}");
    assert!(stats.longest < CALL_LIMIT, "{stats:?}");
}

#[test]
fn plain_shapes_dripped_through_a_tunnel() {
    let replies: Vec<Vec<u8>> = TLS_SHAPES.iter().map(|r| r.to_vec()).collect();
    let reference = blocking_reference(&replies);
    let origin = ScriptedServer::reply_each(replies.clone());
    let gate = Gate::new();
    let proxy = drip_relay(origin.port(), true, &gate);
    let mut c = Connection::new("127.0.0.1", proxy).unwrap();
    c.set_tunnel("127.0.0.1", origin.port(), &[]).unwrap();
    let (got, stats) = exchanges(&mut c, &gate, replies.len(), ReadBy::Readline);
    assert_eq!(got, reference, "HTTP through a tunnel");
    let total: usize = replies.iter().map(Vec::len).sum();
    assert!(stats.blocks >= total / 2, "{stats:?}");
    assert!(stats.longest < CALL_LIMIT, "{stats:?}");
}

// ----- uploads: every sending call keeps its progress -----

/// A server that reads nothing for `pause`, then one request (a chunked or Content-Length
/// body), and answers 200 with the size of the request it read as the body.
fn slow_reader(pause: Duration) -> ScriptedServer {
    ScriptedServer::start(move |conn, _| {
        std::thread::sleep(pause);
        if let Ok(Some(req)) = conn.read_request() {
            use std::io::Write;
            let size = req.len().to_string();
            let reply = format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{size}",
                size.len()
            );
            let _ = conn.write_all(reply.as_bytes());
        }
    })
}

fn body_of(n: usize, seed: u8) -> Vec<u8> {
    (0..n).map(|i| (i as u8).wrapping_mul(31) ^ seed).collect()
}

/// The body of a chunked request, decoded.
fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let eol = b.windows(2).position(|w| w == b"\r\n").unwrap();
        let size_text = std::str::from_utf8(&b[..eol]).unwrap();
        let size = usize::from_str_radix(size_text.split(';').next().unwrap(), 16).unwrap();
        b = &b[eol + 2..];
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&b[..size]);
        b = &b[size + 2..];
    }
}

fn split_request(req: &[u8]) -> (&[u8], &[u8]) {
    let end = req.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    (&req[..end], &req[end..])
}

/// putrequest / putheader never wait; endheaders, send_chunk and send return WouldBlock
/// while the server reads nothing, and their repeats send every byte once.
#[test]
fn chunked_and_raw_uploads_step_by_step() {
    let srv = slow_reader(Duration::from_millis(300));
    let gate = Gate::new();
    let mut stats = Stats::default();
    let mut conn = Connection::new("127.0.0.1", srv.port()).unwrap();
    conn.set_blocking(false).unwrap();
    let first = body_of(3 << 20, 1);
    let second = body_of(2 << 20, 2);
    let t = Instant::now();
    conn.putrequest(b"PUT", b"/chunks", false, false).unwrap();
    conn.putheader(b"Transfer-Encoding", b"chunked").unwrap();
    assert!(t.elapsed() < CALL_LIMIT);
    conn_call(&mut stats, &gate, &mut conn, |c| c.endheaders(None)).unwrap();
    conn_call(&mut stats, &gate, &mut conn, |c| c.send_chunk(&first)).unwrap();
    conn_call(&mut stats, &gate, &mut conn, |c| c.send_chunk(&second)).unwrap();
    // getresponse ends the chunked body itself.
    let mut resp = conn_call(&mut stats, &gate, &mut conn, |c| c.getresponse()).unwrap();
    assert_eq!(resp.status(), 200);
    let mut got = Vec::new();
    resp_call(&mut stats, &gate, &mut resp, |r| {
        r.read_to_end_keyed(&mut got, (7, 8))
    })
    .unwrap();
    let req = srv.received(0);
    let (head, body) = split_request(&req);
    assert!(head.starts_with(b"PUT /chunks HTTP/1.1\r\n"));
    let mut both = first.clone();
    both.extend_from_slice(&second);
    assert!(
        dechunk(body) == both,
        "the chunked body arrived whole, once"
    );
    assert!(stats.blocks > 0, "{stats:?}");
    assert!(stats.longest < CALL_LIMIT, "{stats:?}");

    // A Content-Length body sent raw with send.
    let srv = slow_reader(Duration::from_millis(300));
    let mut conn = Connection::new("127.0.0.1", srv.port()).unwrap();
    conn.set_blocking(false).unwrap();
    let raw = body_of(4 << 20, 3);
    let len = raw.len().to_string();
    conn.putrequest(b"POST", b"/raw", false, false).unwrap();
    conn.putheader(b"Content-Length", len.as_bytes()).unwrap();
    conn_call(&mut stats, &gate, &mut conn, |c| c.endheaders(None)).unwrap();
    let blocks = stats.blocks;
    conn_call(&mut stats, &gate, &mut conn, |c| c.send(&raw)).unwrap();
    assert!(stats.blocks > blocks, "send would have blocked: {stats:?}");
    let resp = conn_call(&mut stats, &gate, &mut conn, |c| c.getresponse()).unwrap();
    assert_eq!(resp.status(), 200);
    let req = srv.received(0);
    assert!(split_request(&req).1 == raw);
    assert!(stats.longest < CALL_LIMIT, "{stats:?}");
}

/// request_stream reads its source only as the socket takes bytes, and sends it whole.
#[test]
fn streamed_upload() {
    for length in [None, Some(5u64 << 20)] {
        let srv = slow_reader(Duration::from_millis(300));
        let gate = Gate::new();
        let mut stats = Stats::default();
        let mut conn = Connection::new("127.0.0.1", srv.port()).unwrap();
        conn.set_blocking(false).unwrap();
        let data = body_of(5 << 20, 4);
        let mut pos = 0usize;
        let mut calls = 0usize;
        let url: &[u8] = b"/stream";
        conn_call(&mut stats, &gate, &mut conn, |c| {
            let mut read = |buf: &mut [u8]| {
                calls += 1;
                let n = buf.len().min(data.len() - pos).min(100_000);
                buf[..n].copy_from_slice(&data[pos..pos + n]);
                pos += n;
                Ok(n)
            };
            c.request_stream(b"PUT", url, &mut read, length, &[])
        })
        .unwrap();
        let resp = conn_call(&mut stats, &gate, &mut conn, |c| c.getresponse()).unwrap();
        assert_eq!(resp.status(), 200);
        let req = srv.received(0);
        let (head, body) = split_request(&req);
        let sent = match length {
            None => {
                assert!(head.windows(26).any(|w| w == b"Transfer-Encoding: chunked"));
                dechunk(body)
            }
            Some(_) => body.to_vec(),
        };
        assert!(
            sent == data,
            "length {length:?}: the streamed body arrived whole, once"
        );
        assert!(stats.blocks > 0, "{stats:?}");
        assert!(stats.longest < CALL_LIMIT, "{stats:?}");
        assert!(calls >= data.len() / 100_000, "{calls} source calls");
    }
}

// ----- time: the 100-continue wait and the deadline are checked, never waited -----

/// Calls `call` until it stops returning WouldBlock, polling at most until
/// `timeout_ms` says; returns the outcome and the timeouts seen.
fn drive_timed<T>(
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

/// No `100 Continue` comes: the body goes out once the continue timeout passed, and
/// timeout_ms counted down to it; a final answer before it withholds the body.
#[test]
fn continue_wait_is_a_time_limit() {
    let srv = ScriptedServer::start(|conn, idx| {
        use std::io::Write;
        let head = conn.read_head();
        assert!(String::from_utf8_lossy(&head).contains("Expect: 100-continue"));
        if idx == 0 {
            // Silent: the client must send the body after its wait.
            let mut body = [0u8; 5];
            use std::io::Read;
            if conn.read_exact(&mut body).is_ok() {
                let _ = conn.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n");
                let _ = conn.write_all(&body);
            }
        } else {
            let _ = conn.write_all(b"HTTP/1.1 417 Expectation Failed\r\nContent-Length: 0\r\n\r\n");
            conn.drain(Duration::from_millis(500));
        }
    });
    let expect: &[(&[u8], &[u8])] = &[(b"Expect", b"100-continue")];
    let body: &[u8] = b"hello";
    let url: &[u8] = b"/c";
    for (i, want_status) in [(0, 200), (1, 417)] {
        let mut conn = Connection::new("127.0.0.1", srv.port()).unwrap();
        conn.set_blocking(false).unwrap();
        conn.set_continue_timeout(0.4).unwrap();
        let start = Instant::now();
        let (r, timeouts, longest) =
            drive_timed(&mut conn, |c| c.request(b"PUT", url, Some(body), expect));
        r.unwrap();
        let took = start.elapsed();
        let (r, _, longest2) = drive_timed(&mut conn, |c| c.getresponse());
        let mut resp = r.unwrap();
        assert_eq!(resp.status(), want_status);
        let mut got = Vec::new();
        resp.read_to_end(&mut got).unwrap();
        assert!(
            longest.max(longest2) < CALL_LIMIT,
            "{longest:?} {longest2:?}"
        );
        if i == 0 {
            assert_eq!(got, body);
            assert!(
                took >= Duration::from_millis(350),
                "the body went after the wait: {took:?}"
            );
            assert!(
                timeouts.iter().any(|&t| t > 0 && t <= 400),
                "timeout_ms counted down: {timeouts:?}"
            );
        } else {
            assert!(
                took < Duration::from_millis(350),
                "417 ended the wait: {took:?}"
            );
            let req = srv.received_when_done(1);
            assert!(split_request(&req).1.is_empty(), "the body was withheld");
        }
    }
}

/// The deadline of a request is reported by timeout_ms and ends getresponse with Timeout
/// once it passed, without any call waiting.
#[test]
fn the_deadline_is_checked_at_each_call() {
    let srv = ScriptedServer::start(|conn, _| {
        let _ = conn.read_request();
        conn.drain(Duration::from_secs(3));
    });
    let mut conn = Connection::new("127.0.0.1", srv.port()).unwrap();
    conn.set_blocking(false).unwrap();
    conn.set_timeout(0.05).unwrap(); // does not apply in non-blocking mode
    conn.set_deadline(0.5).unwrap();
    assert_eq!(conn.timeout_ms(), -1);
    let start = Instant::now();
    let (r, _, _) = drive_timed(&mut conn, |c| c.request(b"GET", b"/", None, &[]));
    r.unwrap();
    let left = conn.timeout_ms();
    assert!(left > 0 && left <= 500, "{left}");
    let (r, timeouts, longest) = drive_timed(&mut conn, |c| c.getresponse());
    let e = r.err().expect("the deadline passed");
    assert_eq!(e.kind(), ErrorKind::Timeout, "{e}");
    assert!(e.message().contains("deadline"), "{e}");
    let took = start.elapsed();
    assert!(took >= Duration::from_millis(450), "{took:?}");
    assert!(took < Duration::from_secs(2), "{took:?}");
    assert!(!timeouts.is_empty() && timeouts.iter().all(|&t| (0..=500).contains(&t)));
    assert!(longest < CALL_LIMIT, "{longest:?}");
    assert_eq!(conn.timeout_ms(), -1);
}
