//! Non-blocking mode (docs/nonblocking.md), the responses: every response shape dripped one
//! byte per readiness event (plain, TLS, through a tunnel), read by read, readline and
//! read_all, gives byte for byte what blocking mode gives; hostile replies give the same
//! verdict; no call waits while the server holds bytes back. tests/nonblocking_calls.rs has
//! the rules of the calls.

mod common;

use std::time::{Duration, Instant};

use common::event_loop::{conn_call, resp_call, Stats, CALL_LIMIT};
use common::scripted::{Gate, ScriptedServer};
use httpclient::{Connection, ErrorKind, Response};

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

// ----- hostile bytes: the same verdict, byte by byte -----

/// What a GET gives: the head's error, or the body and the body's error.
fn outcome_blocking(reply: &[u8]) -> (Option<(ErrorKind, String)>, Vec<u8>) {
    let srv = ScriptedServer::reply_each(vec![reply.to_vec()]);
    let mut conn = Connection::new("127.0.0.1", srv.port()).unwrap();
    conn.request(b"GET", b"/0", None, &[]).unwrap();
    let mut resp = match conn.getresponse() {
        Ok(r) => r,
        Err(e) => return (Some((e.kind(), e.message().to_string())), Vec::new()),
    };
    let mut body = Vec::new();
    let e = resp.read_to_end(&mut body).err();
    (e.map(|e| (e.kind(), e.message().to_string())), body)
}

fn outcome_dripped(reply: &[u8]) -> (Option<(ErrorKind, String)>, Vec<u8>) {
    let gate = Gate::new();
    let server_gate = gate.clone();
    let script = reply.to_vec();
    let srv = ScriptedServer::start(move |conn, _| {
        if conn.read_request().ok().flatten().is_some() {
            let _ = conn.drip(&script, &server_gate);
        }
    });
    let mut conn = Connection::new("127.0.0.1", srv.port()).unwrap();
    conn.set_blocking(false).unwrap();
    let mut stats = Stats::default();
    conn_call(&mut stats, &gate, &mut conn, |c| {
        c.request(b"GET", b"/0", None, &[])
    })
    .unwrap();
    let mut resp = match conn_call(&mut stats, &gate, &mut conn, |c| c.getresponse()) {
        Ok(r) => r,
        Err(e) => return (Some((e.kind(), e.message().to_string())), Vec::new()),
    };
    let mut body = Vec::new();
    let mut buf = [0u8; 5];
    let e = loop {
        match resp_call(&mut stats, &gate, &mut resp, |r| {
            let (n, res) = r.read_fill(&mut buf);
            body.extend_from_slice(&buf[..n]);
            res.map(|()| n)
        }) {
            Ok(0) => break None,
            Ok(_) => {}
            Err(e) => break Some((e.kind(), e.message().to_string())),
        }
    };
    assert!(stats.longest < CALL_LIMIT, "{stats:?}");
    (e, body)
}

#[test]
fn hostile_replies_give_the_same_verdict_dripped() {
    let replies: [&[u8]; 7] = [
        b"HTTP/1.1 abc\r\n\r\n",
        b"HTTP/2.0 200 OK\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\ncut",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\nzz\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
        b"HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n",
    ];
    for reply in replies {
        let want = outcome_blocking(reply);
        let got = outcome_dripped(reply);
        assert!(
            want.0.is_some(),
            "{}: no error",
            String::from_utf8_lossy(reply)
        );
        assert_eq!(got, want, "{}", String::from_utf8_lossy(reply));
    }
}

/// A HEAD (its Content-Length announces no body here) then a GET on the same connection, and
/// an HTTP/0.9 reply in lenient mode (told apart from a status line by its first 5 bytes,
/// which come one at a time): as blocking mode gives them.
#[test]
fn head_request_and_http09_dripped() {
    let run = |nonblocking: bool, methods: &[&[u8]], script: &[&[u8]], strict: bool| {
        let gate = Gate::new();
        let server_gate = gate.clone();
        let script: Vec<Vec<u8>> = script.iter().map(|r| r.to_vec()).collect();
        let srv = ScriptedServer::start(move |conn, _| {
            for reply in &script {
                if conn.read_request().ok().flatten().is_none() {
                    return;
                }
                let _ = if nonblocking {
                    conn.drip(reply, &server_gate)
                } else {
                    use std::io::Write;
                    conn.write_all(reply)
                };
            }
        });
        let mut conn = Connection::new("127.0.0.1", srv.port()).unwrap();
        conn.set_strict(strict).unwrap();
        conn.set_blocking(!nonblocking).unwrap();
        let mut stats = Stats::default();
        let mut out = Vec::new();
        for &method in methods {
            conn_call(&mut stats, &gate, &mut conn, |c| {
                c.request(method, b"/", None, &[])
            })
            .unwrap();
            let mut resp = conn_call(&mut stats, &gate, &mut conn, |c| c.getresponse()).unwrap();
            let mut body = Vec::new();
            resp_call(&mut stats, &gate, &mut resp, |r| {
                r.read_to_end_keyed(&mut body, (1, 1))
            })
            .unwrap();
            out.push(seen(&resp, body));
        }
        assert!(stats.longest < CALL_LIMIT, "{stats:?}");
        out
    };
    let methods: &[&[u8]] = &[b"HEAD", b"GET"];
    let head_then_get: &[&[u8]] = &[
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
    ];
    let want = run(false, methods, head_then_get, true);
    assert_eq!(want[0].body, b"");
    assert_eq!(want[1].body, b"hello");
    assert_eq!(run(true, methods, head_then_get, true), want);

    let http09: &[&[u8]] = &[b"hi there\nno status line"];
    let want = run(false, &[b"GET"], http09, false);
    assert_eq!(want[0].version, 9);
    assert_eq!(want[0].body, b"hi there\nno status line");
    assert_eq!(run(true, &[b"GET"], http09, false), want);
}
