//! Non-blocking mode (docs/nonblocking.md), the calls: a repeated call goes on without
//! resending and a different call in between is refused; readline keeps its partial line;
//! uploads (endheaders, send, send_chunk, request_stream) keep their progress; the keep-alive
//! reopen and the stale-connection resend work on a new descriptor; the 100-continue wait and
//! the deadline are times reported by timeout_ms, never waits.

mod common;

use std::time::{Duration, Instant};

use common::event_loop::{
    conn_call, drive_timed, local_port, resp_call, wait_ready, Stats, CALL_LIMIT,
};
use common::scripted::{Gate, ScriptedServer};
use httpclient::transport::{WANT_READ, WANT_WRITE};
use httpclient::{Connection, Error, ErrorKind, Response};

/// A request body larger than the socket buffers, to a server that reads nothing for a
/// while: the request call returns WouldBlock wanting WRITE; another call in between (a
/// setter too) is refused with a message that says what to do; the repeated call goes on and the server
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
    // Opened first, so that the request's WouldBlock is its write (an unfinished opening
    // refuses the same calls: tests/nonblocking_open.rs).
    let gate = Gate::new();
    let mut stats = Stats::default();
    conn_call(&mut stats, &gate, &mut conn, |c| c.connect()).unwrap();
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
        // Every setter too (rule 2 exempts only the getters, want, fileno, timeout_ms,
        // close and free): none may change what the unfinished call goes on with.
        common::err(conn.set_timeout(1.0)),
        common::err(conn.set_connect_timeout(1.0)),
        common::err(conn.set_deadline(0.001)),
        common::err(conn.set_strict(false)),
        common::err(conn.set_debuglevel(1)),
        common::err(conn.set_debug_callback(None)),
        common::err(conn.set_continue_timeout(0.0)),
        common::err(conn.set_blocksize(1024)),
        common::err(conn.set_source_address(None)),
        common::err(conn.set_verify(false)),
        common::err(conn.set_tunnel("origin.example", 80, &[])),
        common::err(conn.set_blocking(true)),
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

/// A non-blocking connection to `port` and the response to its `GET /`.
fn first_response(stats: &mut Stats, gate: &Gate, port: u16) -> (Connection, Response) {
    let mut conn = Connection::new("127.0.0.1", port).unwrap();
    conn.set_blocking(false).unwrap();
    conn_call(stats, gate, &mut conn, |c| {
        c.request(b"GET", b"/", None, &[])
    })
    .unwrap();
    let resp = conn_call(stats, gate, &mut conn, |c| c.getresponse()).unwrap();
    (conn, resp)
}

/// readline keeps a partial line inside across WouldBlock; only the same readline (same
/// buffer) may come next, on the response and on its connection.
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
    let mut stats = Stats::default();
    let (mut conn, mut resp) = first_response(&mut stats, &gate, srv.port());
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
    // The connection's calls too, but its getters.
    refused_while_held(&mut conn, "readline");
    let n = resp_call(&mut stats, &gate, &mut resp, |r| r.readline(&mut line)).unwrap();
    assert_eq!(&line[..n], b"partial\n");
    // The repeat ended the hold: the connection takes settings again, with the body unread.
    conn.set_debuglevel(0).unwrap();
    conn.set_timeout(5.0).unwrap();
    let n = resp_call(&mut stats, &gate, &mut resp, |r| r.readline(&mut line)).unwrap();
    assert_eq!(&line[..n], b"end\n");
    let n = resp_call(&mut stats, &gate, &mut resp, |r| r.readline(&mut line)).unwrap();
    assert_eq!(n, 0);
}

/// The connection's calls while a response's readline or read_all holds the bytes it read
/// (rule 2: any other call on that connection): each refused, naming the call to repeat; the
/// getters still answer.
fn refused_while_held(conn: &mut Connection, what: &str) {
    let refused = [
        common::err(conn.request(b"GET", b"/", None, &[])),
        common::err(conn.putrequest(b"GET", b"/", false, false)),
        common::err(conn.getresponse()),
        common::err(conn.connect()),
        common::err(conn.set_timeout(1.0)),
        common::err(conn.set_deadline(1.0)),
        common::err(conn.set_strict(true)),
        common::err(conn.set_debuglevel(1)),
        common::err(conn.set_blocksize(1024)),
        common::err(conn.set_tunnel("origin.example", 80, &[])),
        common::err(conn.set_blocking(true)),
    ];
    for e in &refused {
        assert_eq!(e.kind(), ErrorKind::ImproperConnectionState, "{e}");
        assert!(
            e.message().contains(&format!(
                "a response's {what} that returned WouldBlock holds the bytes it read: repeat \
                 that {what} with the same buffer and length first"
            )),
            "{e}"
        );
    }
    assert!(conn.fileno().is_some());
    assert_eq!(conn.timeout_ms(), -1);
    let _ = conn.want();
}

/// read_all holds what it read as readline does; freeing its response gives that up and
/// ends the hold on the connection, and so does closing the connection.
#[test]
fn a_held_read_all_binds_the_connection_until_its_response_is_freed() {
    let srv = ScriptedServer::start(|conn, _| {
        use std::io::Write;
        conn.read_request().unwrap();
        // Half a body, and the rest never.
        let _ = conn.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\nabcd");
        conn.drain(Duration::from_secs(5));
    });
    let gate = Gate::new();
    let mut stats = Stats::default();
    for end_by_closing in [false, true] {
        let (mut conn, mut resp) = first_response(&mut stats, &gate, srv.port());
        let mut all = Vec::new();
        loop {
            match resp.read_to_end(&mut all) {
                Err(e) if e.kind() == ErrorKind::WouldBlock && resp.bytes_read() == 4 => break,
                Err(e) if e.kind() == ErrorKind::WouldBlock => {
                    wait_ready(resp.fileno().unwrap(), resp.want())
                }
                other => panic!("unexpected {other:?}"),
            }
        }
        refused_while_held(&mut conn, "read_all");
        if end_by_closing {
            conn.close();
        } else {
            drop(resp);
        }
        conn.set_timeout(1.0).unwrap();
        conn.set_blocking(true).unwrap();
    }
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
        let (body, (port, fd)) = get_on(&mut stats, &gate, &mut conn, b"/again", (3, 4));
        ports.push(port);
        fds.push(fd);
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

/// A GET of `path`, every call driven as an event loop would (`key`: read_to_end's repeat
/// key): the body, and the socket the request went out on (local port, descriptor).
fn get_on(
    stats: &mut Stats,
    gate: &Gate,
    conn: &mut Connection,
    path: &[u8],
    key: (usize, usize),
) -> (Vec<u8>, (u16, i32)) {
    conn_call(stats, gate, conn, |c| c.request(b"GET", path, None, &[])).unwrap();
    let fd = conn.fileno().unwrap();
    let sent_on = (local_port(fd), fd);
    let mut resp = conn_call(stats, gate, conn, |c| c.getresponse()).unwrap();
    let mut body = Vec::new();
    resp_call(stats, gate, &mut resp, |r| {
        r.read_to_end_keyed(&mut body, key)
    })
    .unwrap();
    (body, sent_on)
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
        let (body, (port, fd)) = get_on(&mut stats, &gate, &mut conn, b"/", (5, 6));
        ports.push(port);
        fds.push(fd);
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
        let mut stats = Stats::default();
        resp_call(&mut stats, &Gate::new(), &mut resp, |r| {
            r.read_to_end_keyed(&mut got, (9, 9))
        })
        .unwrap();
        assert!(
            longest.max(longest2).max(stats.longest) < CALL_LIMIT,
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

/// The deadline also bounds the body of a response that closes its connection (which then
/// holds the connection alone): timeout_ms still reports it, and a read after it fails.
#[test]
fn the_deadline_bounds_the_body_of_a_closing_response() {
    let srv = ScriptedServer::start(|conn, _| {
        use std::io::Write;
        let _ = conn.read_request();
        let _ =
            conn.write_all(b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 9\r\n\r\nabc");
        conn.drain(Duration::from_secs(3));
    });
    let mut conn = Connection::new("127.0.0.1", srv.port()).unwrap();
    conn.set_blocking(false).unwrap();
    conn.set_deadline(0.5).unwrap();
    let start = Instant::now();
    let (r, _, _) = drive_timed(&mut conn, |c| c.request(b"GET", b"/", None, &[]));
    r.unwrap();
    let (r, _, _) = drive_timed(&mut conn, |c| c.getresponse());
    let mut resp = r.unwrap();
    assert!(resp.will_close());
    let mut buf = [0u8; 16];
    let mut got = Vec::new();
    let e = loop {
        let (n, r) = resp.read_fill(&mut buf);
        got.extend_from_slice(&buf[..n]);
        match r {
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                let ms = conn.timeout_ms();
                assert!((0..=500).contains(&ms), "timeout_ms {ms}");
                let mut p = libc::pollfd {
                    fd: resp.fileno().unwrap(),
                    events: libc::POLLIN,
                    revents: 0,
                };
                // SAFETY: one valid pollfd.
                unsafe { libc::poll(&mut p, 1, ms as i32) };
            }
            Err(e) => break e,
            Ok(()) if n == 0 => panic!("the body ended"),
            Ok(()) => {}
        }
    };
    assert_eq!(got, b"abc");
    assert_eq!(e.kind(), ErrorKind::Timeout, "{e}");
    let took = start.elapsed();
    assert!(
        took >= Duration::from_millis(450) && took < Duration::from_secs(2),
        "{took:?}"
    );
}

/// Part of a final answer came before the continue wait passed, the rest after it: as in
/// blocking mode, its status line decides (the body is withheld), and timeout_ms stops
/// counting down to the wait once the answer began (no busy loop).
#[test]
fn continue_wait_decided_by_an_answer_that_began_in_time() {
    let srv = ScriptedServer::start(|conn, _| {
        use std::io::Write;
        let _ = conn.read_head();
        let _ = conn.set_nodelay(true);
        // Within the wait (400 ms), after the client's first look.
        std::thread::sleep(Duration::from_millis(100));
        let _ = conn.write_all(b"HTTP/1.1 417 Expec");
        std::thread::sleep(Duration::from_millis(600));
        let _ = conn.write_all(b"tation Failed\r\nContent-Length: 0\r\n\r\n");
        conn.drain(Duration::from_millis(500));
    });
    let expect: &[(&[u8], &[u8])] = &[(b"Expect", b"100-continue")];
    let body: &[u8] = b"hello";
    let url: &[u8] = b"/c";
    let mut conn = Connection::new("127.0.0.1", srv.port()).unwrap();
    conn.set_blocking(false).unwrap();
    conn.set_continue_timeout(0.4).unwrap();
    let (r, timeouts, longest) =
        drive_timed(&mut conn, |c| c.request(b"PUT", url, Some(body), expect));
    r.unwrap();
    assert!(longest < CALL_LIMIT, "{longest:?}");
    // Counted down to the wait, then nothing timed once the answer began.
    assert!(
        timeouts.iter().any(|&t| (0..=400).contains(&t)),
        "{timeouts:?}"
    );
    assert_eq!(timeouts.last(), Some(&-1), "{timeouts:?}");
    let (r, _, _) = drive_timed(&mut conn, |c| c.getresponse());
    assert_eq!(r.unwrap().status(), 417);
    let req = srv.received_when_done(0);
    assert!(split_request(&req).1.is_empty(), "the body was withheld");
}
