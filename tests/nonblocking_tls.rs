//! Non-blocking mode over TLS when the server changes the session's keys (docs/nonblocking.md,
//! "Once the connection is open"): a TLS 1.2 renegotiation started by the server, before an
//! answer or in the middle of a several-MiB upload, and a TLS 1.3 KeyUpdate asking the
//! client to update its keys too. Every exchange is driven by a poll loop that waits for what
//! `want` says after each `WouldBlock`; the wants are recorded call by call, the number of
//! calls is bounded (a loop that spun would pass the bound), and the responses and the bytes
//! the server got equal those of the same exchanges in blocking mode.

mod common;
#[path = "common/tls_peer.rs"]
mod tls_peer;

use std::os::raw::c_int;
use std::sync::mpsc;

use common::event_loop::wait_ready;
use httpclient::transport::{WANT_READ, WANT_WRITE};
use httpclient::{Connection, ErrorKind, Response};
use openssl::ssl::SslVersion;
use tls_peer::{Got, Step, TlsPeer, Twist, CLIENT_HELLO, FINISHED, KEY_UPDATE};

/// The upload: 4 MiB that differ from byte to byte, so that a byte sent twice, lost or out
/// of place changes the server's digest.
fn upload() -> Vec<u8> {
    let mut x: u32 = 0x1234_5678;
    (0..4 << 20)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

/// The client's send buffer (and the server's receive buffer): small, so that the upload's
/// 16 KiB records go out in several writes each and the writes wait often.
const SMALL_BUFFER: usize = 32 * 1024;

/// One request of a test: method, target and body.
struct Req {
    method: &'static [u8],
    target: &'static [u8],
    body: Option<Vec<u8>>,
}

fn get(target: &'static [u8]) -> Req {
    Req {
        method: b"GET",
        target,
        body: None,
    }
}

fn post(target: &'static [u8], body: Vec<u8>) -> Req {
    Req {
        method: b"POST",
        target,
        body: Some(body),
    }
}

/// Which call of the exchange a `WouldBlock` came from (the index of the request).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Call {
    Connect,
    Request(usize),
    GetResponse(usize),
    Read(usize),
}

/// What the loop saw: every call made, and at each `WouldBlock` the call and its want.
#[derive(Default, Debug)]
struct Log {
    calls: usize,
    blocks: Vec<(Call, u8)>,
}

impl Log {
    /// The wants of the `WouldBlock`s of the calls `which` matches.
    fn wants(&self, which: impl Fn(Call) -> bool) -> Vec<u8> {
        self.blocks
            .iter()
            .filter(|(c, _)| which(*c))
            .map(|(_, w)| *w)
            .collect()
    }

    /// A short account: for each call, its WouldBlocks by want.
    fn summary(&self) -> String {
        let mut out: Vec<(Call, usize, usize)> = Vec::new();
        for &(c, w) in &self.blocks {
            if out.last().map(|l| l.0) != Some(c) {
                out.push((c, 0, 0));
            }
            let l = out.last_mut().unwrap();
            if w & WANT_READ != 0 {
                l.1 += 1;
            }
            if w & WANT_WRITE != 0 {
                l.2 += 1;
            }
        }
        let parts: Vec<String> = out
            .iter()
            .map(|(c, r, w)| format!("{c:?}: {r} READ, {w} WRITE"))
            .collect();
        format!("{} calls; {}", self.calls, parts.join("; "))
    }
}

/// What a caller sees of a response.
#[derive(Debug, PartialEq, Eq)]
struct Seen {
    status: u16,
    headers: Vec<(Vec<u8>, Vec<u8>)>,
    body: Vec<u8>,
}

fn seen(resp: &Response, body: Vec<u8>) -> Seen {
    let h = resp.headers();
    Seen {
        status: resp.status(),
        headers: (0..h.len())
            .map(|i| {
                let (n, v) = h.field(i).unwrap();
                (n.to_vec(), v.to_vec())
            })
            .collect(),
        body,
    }
}

/// The loop of an event loop around one call: make it; on `WouldBlock` note the call and
/// what it wants, tell `on_block`, wait (poll, at most 10 s) for the descriptor to be ready
/// for that, and make it again. Every call counts against `bound`.
fn drive<S, T>(
    log: &mut Log,
    bound: usize,
    call: Call,
    subject: &mut S,
    mut f: impl FnMut(&mut S) -> httpclient::Result<T>,
    fd_want: impl Fn(&S) -> (i32, u8),
    on_block: &mut dyn FnMut(Call, u8, i32),
) -> httpclient::Result<T> {
    loop {
        log.calls += 1;
        assert!(
            log.calls <= bound,
            "more than {bound} calls: the loop spins ({})",
            log.summary()
        );
        match f(subject) {
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                let (fd, want) = fd_want(subject);
                log.blocks.push((call, want));
                on_block(call, want, fd);
                wait_ready(fd, want);
            }
            r => return r,
        }
    }
}

fn conn_fd_want(c: &Connection) -> (i32, u8) {
    (c.fileno().unwrap_or(-1), c.want())
}

fn resp_fd_want(r: &Response) -> (i32, u8) {
    (r.fileno().unwrap_or(-1), r.want())
}

fn set_sndbuf(fd: i32, n: usize) {
    let v = n as c_int;
    // SAFETY: an open socket and an int option.
    let r = unsafe {
        libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_SNDBUF,
            (&v as *const c_int).cast(),
            std::mem::size_of::<c_int>() as libc::socklen_t,
        )
    };
    assert_eq!(r, 0, "SO_SNDBUF");
}

/// Runs `reqs` on one connection to `port`, blocking or not, the client's send buffer
/// [`SMALL_BUFFER`]; every call goes through [`drive`] (in blocking mode none returns
/// `WouldBlock`). Returns the responses, or the first error with the responses before it.
fn exchange(
    port: u16,
    nonblocking: bool,
    reqs: &[Req],
    log: &mut Log,
    bound: usize,
    on_block: &mut dyn FnMut(Call, u8, i32),
) -> Result<Vec<Seen>, (httpclient::Error, Vec<Seen>)> {
    exchange_with(
        port,
        nonblocking,
        reqs,
        log,
        bound,
        SMALL_BUFFER,
        on_block,
        &mut |_, _| {},
    )
}

/// Where [`exchange_with`] tells the test how far it got.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum At {
    /// Request i is about to be made.
    Before(usize),
    /// Request i is written.
    Sent(usize),
}

/// [`exchange`] with the client's send buffer `sndbuf`, and `at` told where the exchange
/// stands, with the socket, before each request and once it is written.
#[allow(clippy::too_many_arguments)]
fn exchange_with(
    port: u16,
    nonblocking: bool,
    reqs: &[Req],
    log: &mut Log,
    bound: usize,
    sndbuf: usize,
    on_block: &mut dyn FnMut(Call, u8, i32),
    at: &mut dyn FnMut(At, i32),
) -> Result<Vec<Seen>, (httpclient::Error, Vec<Seen>)> {
    let mut c = Connection::new_https("127.0.0.1", port).unwrap();
    c.set_ca_file(common::servers().ca_file.to_str().unwrap())
        .unwrap();
    c.set_blocking(!nonblocking).unwrap();
    let mut out = Vec::new();
    let r = drive(
        log,
        bound,
        Call::Connect,
        &mut c,
        |c| c.connect(),
        conn_fd_want,
        on_block,
    );
    if let Err(e) = r {
        return Err((e, out));
    }
    set_sndbuf(c.fileno().unwrap(), sndbuf);
    for (i, req) in reqs.iter().enumerate() {
        at(At::Before(i), c.fileno().unwrap());
        let body = req.body.as_deref();
        let r = drive(
            log,
            bound,
            Call::Request(i),
            &mut c,
            |c| c.request(req.method, req.target, body, &[]),
            conn_fd_want,
            on_block,
        );
        if let Err(e) = r {
            return Err((e, out));
        }
        at(At::Sent(i), c.fileno().unwrap());
        let mut resp = match drive(
            log,
            bound,
            Call::GetResponse(i),
            &mut c,
            |c| c.getresponse(),
            conn_fd_want,
            on_block,
        ) {
            Ok(r) => r,
            Err(e) => return Err((e, out)),
        };
        let mut body = Vec::new();
        let mut buf = vec![0u8; 4096];
        loop {
            match drive(
                log,
                bound,
                Call::Read(i),
                &mut resp,
                |r| r.read_some(&mut buf),
                resp_fd_want,
                on_block,
            ) {
                Ok(0) => break,
                Ok(n) => body.extend_from_slice(&buf[..n]),
                Err(e) => return Err((e, out)),
            }
        }
        out.push(seen(&resp, body));
    }
    Ok(out)
}

/// How many calls an exchange of `bytes` request bytes may take: one per 4 KiB written plus
/// 500 for the handshakes, the heads and the bodies read. Ten runs made 13 to 18 calls for
/// 64 KiB and 62 to 80 for 4 MiB: the socket wakes a writer only once a good part of its
/// buffer is free, so a write moves tens of KiB, whatever the load. A loop that spun (a want
/// that is not what OpenSSL waits for: poll says ready at once, the call blocks again) passes
/// the bound within a second; with a body read's want forced to READ the loop made 1,208
/// calls.
fn bound_for(bytes: usize) -> usize {
    bytes / 4096 + 500
}

fn count(types: &[u8], t: u8) -> usize {
    types.iter().filter(|&&x| x == t).count()
}

/// The same exchanges in blocking mode: what a non-blocking run must give, responses and
/// the bytes the server got.
fn blocking_reference(version: SslVersion, twists: &[Twist], reqs: &[Req]) -> (Vec<Seen>, Got) {
    let steps = twists.iter().map(|&t| Step::new(t)).collect();
    let peer = TlsPeer::start(version, steps, false);
    let mut log = Log::default();
    let bytes = reqs
        .iter()
        .map(|r| r.body.as_ref().map_or(0, Vec::len))
        .sum();
    let seen = exchange(
        peer.port(),
        false,
        reqs,
        &mut log,
        bound_for(bytes),
        &mut |_, _, _| {},
    )
    .unwrap_or_else(|(e, _)| panic!("blocking mode: {e}"));
    assert!(log.blocks.is_empty(), "blocking mode: {log:?}");
    let got = peer.finish();
    assert_eq!(got.error, None, "blocking mode: the server's error");
    (seen, got)
}

/// The server got exactly what was sent, and both modes gave the same.
fn assert_same(what: &str, reqs: &[Req], got: &Got, reference: &Got) {
    assert_eq!(got.error, None, "{what}: the server's error");
    // The same heads but for the port in Host.
    let heads = |g: &Got| -> Vec<String> {
        let host = format!("Host: 127.0.0.1:{}\r\n", g.port);
        g.heads
            .iter()
            .map(|h| String::from_utf8_lossy(h).replace(&host, "Host: 127.0.0.1:PORT\r\n"))
            .collect()
    };
    assert_eq!(heads(got), heads(reference), "{what}: request heads");
    assert!(
        heads(got).iter().all(|h| h.contains("PORT")),
        "{what}: Host"
    );
    assert_eq!(got.bodies.len(), reqs.len(), "{what}: requests served");
    for (i, req) in reqs.iter().enumerate() {
        let sent = req.body.as_deref().unwrap_or(b"");
        assert!(
            got.bodies[i] == sent,
            "{what}: request {i}'s body differs from what was sent ({} bytes got, {} sent)",
            got.bodies[i].len(),
            sent.len()
        );
    }
}

/// TLS 1.2: the server asks for a renegotiation before its first answer and then reads
/// nothing until the client's next request has blocked. The client reads the HelloRequest
/// with the answer and sends its ClientHello; its next request (a 4 MiB upload) must first
/// finish that handshake, so the write waits to READ (the ServerHello) — the one way a
/// write wants READ — and the loop, polling for readability as told, completes it.
/// The requests came through as in blocking mode, and the session was renegotiated once: two
/// ClientHellos and two Finished messages from the client.
fn assert_renegotiated(what: &str, reqs: &[Req], got: &Got, reference: &Got) {
    assert_same(what, reqs, got, reference);
    for (name, t) in [("ClientHello", CLIENT_HELLO), ("Finished", FINISHED)] {
        assert_eq!(
            count(&got.handshake_in, t),
            2,
            "{what}: {name} messages in {:?}",
            got.handshake_in
        );
    }
}

#[test]
fn tls12_renegotiation_a_write_waits_to_read() {
    let reqs = [get(b"/first"), post(b"/upload", upload()), get(b"/last")];
    let twists = [Twist::RenegotiateBeforeAnswer, Twist::None, Twist::None];
    let (reference, reference_got) = blocking_reference(SslVersion::TLS1_2, &twists, &reqs);
    // The blocking run renegotiated too: a second ClientHello and a second Finished.
    assert_eq!(reference_got.version, "TLSv1.2");
    assert_eq!(count(&reference_got.handshake_in, CLIENT_HELLO), 2);
    assert_eq!(count(&reference_got.handshake_in, FINISHED), 2);

    let (first, release) = Step::held(Twist::RenegotiateBeforeAnswer);
    let steps = vec![first, Step::new(Twist::None), Step::new(Twist::None)];
    let peer = TlsPeer::start(SslVersion::TLS1_2, steps, false);
    let mut log = Log::default();
    let mut release = Some(release);
    let mut on_block = |call: Call, _want: u8, _fd: i32| {
        // The upload's first WouldBlock: the server may go on now.
        if call == Call::Request(1) {
            if let Some(tx) = release.take() {
                let _ = tx.send(());
            }
        }
    };
    let bound = bound_for(4 << 20);
    let got_seen = exchange(peer.port(), true, &reqs, &mut log, bound, &mut on_block)
        .unwrap_or_else(|(e, _)| panic!("non-blocking mode: {e} ({})", log.summary()));
    // The hold ends in any case (the sender dropped), for the server to finish.
    release.take();
    let got = peer.finish();
    eprintln!("renegotiation before an answer: {}", log.summary());

    assert_eq!(got_seen, reference, "responses");
    assert_renegotiated(
        "renegotiation before an answer",
        &reqs,
        &got,
        &reference_got,
    );
    // The upload's first WouldBlock waits for the ServerHello: READ, from a write.
    let upload_wants = log.wants(|c| c == Call::Request(1));
    assert_eq!(
        upload_wants.first(),
        Some(&WANT_READ),
        "the upload's first WouldBlock: {}",
        log.summary()
    );
    // And then it waited to write, the send buffer being small.
    assert!(
        upload_wants.contains(&WANT_WRITE),
        "the upload never waited to write: {}",
        log.summary()
    );
}

/// TLS 1.2: the HelloRequest comes right after an answer, while the connection is idle. The
/// next request's check that the server did not close the idle connection (a peek) reads it
/// and sends the ClientHello, the connection stays (the server serves one connection only),
/// and the request's write waits to READ for the ServerHello.
#[test]
fn tls12_renegotiation_while_idle() {
    let reqs = [get(b"/first"), post(b"/upload", upload()), get(b"/last")];
    let twists = [Twist::RenegotiateAfterAnswer, Twist::None, Twist::None];
    let (reference, reference_got) = blocking_reference(SslVersion::TLS1_2, &twists, &reqs);
    assert_eq!(count(&reference_got.handshake_in, CLIENT_HELLO), 2);
    assert_eq!(count(&reference_got.handshake_in, FINISHED), 2);

    let (first, release) = Step::held(Twist::RenegotiateAfterAnswer);
    let steps = vec![first, Step::new(Twist::None), Step::new(Twist::None)];
    let peer = TlsPeer::start(SslVersion::TLS1_2, steps, false);
    let mut log = Log::default();
    let mut release = Some(release);
    let mut on_block = |call: Call, _want: u8, _fd: i32| {
        if call == Call::Request(1) {
            if let Some(tx) = release.take() {
                let _ = tx.send(());
            }
        }
    };
    let mut at = |at: At, fd: i32| {
        if at == At::Before(1) {
            // The HelloRequest is there before the request is made, and the connection has
            // been idle long enough (1 ms) for the request to check it first.
            wait_ready(fd, WANT_READ);
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
    };
    let r = exchange_with(
        peer.port(),
        true,
        &reqs,
        &mut log,
        bound_for(4 << 20),
        SMALL_BUFFER,
        &mut on_block,
        &mut at,
    );
    release.take();
    let got = peer.finish();
    eprintln!("renegotiation while idle: {}", log.summary());
    let got_seen = r.unwrap_or_else(|(e, _)| panic!("non-blocking mode: {e} ({})", log.summary()));

    assert_eq!(got_seen, reference, "responses");
    assert_renegotiated("renegotiation while idle", &reqs, &got, &reference_got);
    assert_eq!(
        log.wants(|c| c == Call::Request(1)).first(),
        Some(&WANT_READ),
        "the upload's first WouldBlock: {}",
        log.summary()
    );
}

/// TLS 1.2: the server asks for a renegotiation after 1 MiB of a 4 MiB upload. SSL_write
/// never reads, so the client sees the HelloRequest only when it reads the answer: the
/// upload is written whole on the old keys (every WouldBlock of the upload wants WRITE), the
/// client answers the HelloRequest from getresponse, and the handshake ends on the next
/// request. Everything equals blocking mode's.
#[test]
fn tls12_renegotiation_asked_in_the_middle_of_an_upload() {
    let reqs = [post(b"/upload", upload()), get(b"/after")];
    let twists = [Twist::RenegotiateMidBody(1 << 20), Twist::None];
    let (reference, reference_got) = blocking_reference(SslVersion::TLS1_2, &twists, &reqs);
    assert_eq!(count(&reference_got.handshake_in, CLIENT_HELLO), 2);
    assert_eq!(count(&reference_got.handshake_in, FINISHED), 2);

    let steps = twists.iter().map(|&t| Step::new(t)).collect();
    let peer = TlsPeer::start(SslVersion::TLS1_2, steps, false);
    let mut log = Log::default();
    let got_seen = exchange(
        peer.port(),
        true,
        &reqs,
        &mut log,
        bound_for(4 << 20),
        &mut |_, _, _| {},
    )
    .unwrap_or_else(|(e, _)| panic!("non-blocking mode: {e} ({})", log.summary()));
    let got = peer.finish();
    eprintln!(
        "renegotiation in the middle of an upload: {}",
        log.summary()
    );

    assert_eq!(got_seen, reference, "responses");
    assert_renegotiated("renegotiation mid-upload", &reqs, &got, &reference_got);
    let upload_wants = log.wants(|c| c == Call::Request(0));
    assert!(!upload_wants.is_empty(), "the upload never blocked");
    assert!(
        upload_wants.iter().all(|&w| w == WANT_WRITE),
        "the upload: {}",
        log.summary()
    );
}

/// TLS 1.3: the server sends a KeyUpdate asking the client to update its keys too, before
/// its answer to a 4 MiB upload. The client reads it with the answer and owes a KeyUpdate of
/// its own, which OpenSSL 3 sends with its next write (the next request): the server gets it,
/// and everything equals blocking mode's.
#[test]
fn tls13_key_update_requested_by_the_server() {
    let reqs = [post(b"/upload", upload()), get(b"/after"), get(b"/last")];
    let twists = [Twist::KeyUpdateBeforeAnswer, Twist::None, Twist::None];
    let (reference, reference_got) = blocking_reference(SslVersion::TLS1_3, &twists, &reqs);
    assert_eq!(reference_got.version, "TLSv1.3");
    assert_eq!(count(&reference_got.handshake_in, KEY_UPDATE), 1);

    let steps = twists.iter().map(|&t| Step::new(t)).collect();
    let peer = TlsPeer::start(SslVersion::TLS1_3, steps, false);
    let mut log = Log::default();
    let got_seen = exchange(
        peer.port(),
        true,
        &reqs,
        &mut log,
        bound_for(4 << 20),
        &mut |_, _, _| {},
    )
    .unwrap_or_else(|(e, _)| panic!("non-blocking mode: {e} ({})", log.summary()));
    let got = peer.finish();
    eprintln!("TLS 1.3 key update: {}", log.summary());

    assert_eq!(got_seen, reference, "responses");
    assert_same("key update", &reqs, &got, &reference_got);
    assert_eq!(got.version, "TLSv1.3");
    assert_eq!(
        count(&got.handshake_in, KEY_UPDATE),
        1,
        "the client's KeyUpdate: {:?}",
        got.handshake_in
    );
    // It came after the upload and before the second request's head: with the next write.
    let at = got.handshake_in.iter().position(|&t| t == KEY_UPDATE);
    let heads = &got.handshake_at_head;
    assert!(
        at.is_some_and(|i| heads[0] <= i && i < heads[1]),
        "the client's KeyUpdate at {at:?}, heads at {heads:?}"
    );
    // Nothing else waited: the reads waited to read, the writes to write.
    for &(call, want) in &log.blocks {
        let expected = match call {
            Call::Request(_) => WANT_WRITE,
            Call::GetResponse(_) | Call::Read(_) => WANT_READ,
            Call::Connect => want,
        };
        assert_eq!(want, expected, "{call:?}: {}", log.summary());
    }
}

/// TLS 1.2: the server answers a 64 KiB upload before reading its body, after a HelloRequest
/// sent alone. The client's upload is written whole into its socket, and most of it stays
/// there unsent (the server reads nothing; its kernel took about 17 KiB before the window
/// closed, as measured with SIOCOUTQNSD, so 64 KiB leave some 48 KiB), and the socket is not
/// writable while it holds unsent bytes (TCP_NOTSENT_LOWAT 1, segments of at most 88 bytes:
/// no room for a 541-byte record).
/// getresponse reads the HelloRequest, OpenSSL answers it at once with a ClientHello, which
/// can't be written: the read waits to WRITE. Once the server reads the body the loop,
/// polling for writability as told, completes it; everything equals blocking mode's.
#[test]
fn tls12_renegotiation_a_read_waits_to_write() {
    let reqs = [
        post(b"/upload", upload()[..64 << 10].to_vec()),
        get(b"/after"),
    ];
    let twists = [Twist::RenegotiateEarlyAnswer, Twist::None];
    let (reference, reference_got) = blocking_reference(SslVersion::TLS1_2, &twists, &reqs);
    assert_eq!(count(&reference_got.handshake_in, CLIENT_HELLO), 2);
    assert_eq!(count(&reference_got.handshake_in, FINISHED), 2);

    let (mut first, release) = Step::held(Twist::RenegotiateEarlyAnswer);
    let (hello_request_tx, hello_request_rx) = mpsc::channel();
    first.hello_request_sent = Some(hello_request_tx);
    let peer = TlsPeer::start(
        SslVersion::TLS1_2,
        vec![first, Step::new(Twist::None)],
        true,
    );
    let mut log = Log::default();
    let mut release = Some(release);
    let mut on_block = |call: Call, _want: u8, _fd: i32| {
        // The first WouldBlock after the upload: the server may answer and read on.
        if !matches!(call, Call::Connect | Call::Request(0)) {
            if let Some(tx) = release.take() {
                let _ = tx.send(());
            }
        }
    };
    let mut at = |at: At, fd: i32| {
        if at == At::Sent(0) {
            set_int_opt(fd, libc::IPPROTO_TCP, libc::TCP_NOTSENT_LOWAT, 1);
            assert_unsent(fd);
            // The HelloRequest alone is there to read (the answer is held back).
            hello_request_rx.recv().unwrap();
            wait_ready(fd, WANT_READ);
        }
    };
    // A send buffer that takes the whole upload at once.
    let r = exchange_with(
        peer.port(),
        true,
        &reqs,
        &mut log,
        bound_for(64 << 10),
        256 << 10,
        &mut on_block,
        &mut at,
    );
    release.take();
    let got = peer.finish();
    eprintln!("a read waits to write: {}", log.summary());
    let got_seen = r.unwrap_or_else(|(e, _)| panic!("non-blocking mode: {e} ({})", log.summary()));

    assert_eq!(got_seen, reference, "responses");
    assert_renegotiated("a read waits to write", &reqs, &got, &reference_got);
    // The upload went into the socket at once; getresponse's first WouldBlock waits to
    // write the ClientHello.
    assert!(
        log.wants(|c| c == Call::Request(0)).is_empty(),
        "{}",
        log.summary()
    );
    assert_eq!(
        log.wants(|c| c == Call::GetResponse(0)).first(),
        Some(&WANT_WRITE),
        "getresponse's first WouldBlock: {}",
        log.summary()
    );
}

/// The same as [`tls12_renegotiation_a_read_waits_to_write`] in the middle of the response
/// body: the server sends the answer's head and the first part of its body, then a
/// HelloRequest alone, while the client's upload sits unsent in its socket. The body read
/// that meets it waits to WRITE, and `hc_response_want` says so.
#[test]
fn tls12_renegotiation_a_body_read_waits_to_write() {
    let reqs = [
        post(b"/upload", upload()[..64 << 10].to_vec()),
        get(b"/after"),
    ];
    let twists = [Twist::RenegotiateMidAnswer, Twist::None];
    let (reference, reference_got) = blocking_reference(SslVersion::TLS1_2, &twists, &reqs);
    assert_eq!(count(&reference_got.handshake_in, CLIENT_HELLO), 2);

    let (first, release) = Step::held(Twist::RenegotiateMidAnswer);
    let peer = TlsPeer::start(
        SslVersion::TLS1_2,
        vec![first, Step::new(Twist::None)],
        true,
    );
    let mut log = Log::default();
    let mut release = Some(release);
    let mut body_blocks = 0;
    let mut on_block = |call: Call, _want: u8, _fd: i32| {
        // The body read's first WouldBlock (the first part read): the HelloRequest may go;
        // at its second, the rest of the answer and the reading of the upload.
        if call == Call::Read(0) {
            body_blocks += 1;
            if let Some(tx) = &release {
                let _ = tx.send(());
            }
            if body_blocks == 2 {
                release = None;
            }
        } else if matches!(call, Call::Request(1) | Call::GetResponse(1)) {
            release = None;
        }
    };
    let mut at = |at: At, fd: i32| {
        if at == At::Sent(0) {
            set_int_opt(fd, libc::IPPROTO_TCP, libc::TCP_NOTSENT_LOWAT, 1);
            assert_unsent(fd);
        }
    };
    let r = exchange_with(
        peer.port(),
        true,
        &reqs,
        &mut log,
        bound_for(64 << 10),
        256 << 10,
        &mut on_block,
        &mut at,
    );
    release.take();
    let got = peer.finish();
    eprintln!("a body read waits to write: {}", log.summary());
    let got_seen = r.unwrap_or_else(|(e, _)| panic!("non-blocking mode: {e} ({})", log.summary()));

    assert_eq!(got_seen, reference, "responses");
    assert_renegotiated("a body read waits to write", &reqs, &got, &reference_got);
    // Waiting for the HelloRequest, then for the socket to take the ClientHello.
    let wants = log.wants(|c| c == Call::Read(0));
    assert_eq!(
        wants.get(..2),
        Some(&[WANT_READ, WANT_WRITE][..]),
        "the body read's WouldBlocks: {}",
        log.summary()
    );
}

/// TLS 1.2: the HelloRequest reaches the client while the connection is idle and the
/// previous upload still sits unsent in its socket (the server answered before reading it).
/// The next request's check that the idle connection is still open (a peek) reads the
/// HelloRequest, and OpenSSL's ClientHello can't be written: the connection is still open
/// and stays (the server serves one connection only); the request's write finishes the
/// ClientHello (WRITE) and the handshake, and goes out.
#[test]
fn tls12_renegotiation_while_idle_with_a_full_socket() {
    let reqs = [
        post(b"/upload", upload()[..64 << 10].to_vec()),
        get(b"/after"),
    ];
    let twists = [Twist::RenegotiateAfterEarlyAnswer, Twist::None];
    let (reference, reference_got) = blocking_reference(SslVersion::TLS1_2, &twists, &reqs);
    assert_eq!(count(&reference_got.handshake_in, CLIENT_HELLO), 2);

    let (first, release) = Step::held(Twist::RenegotiateAfterEarlyAnswer);
    let peer = TlsPeer::start(
        SslVersion::TLS1_2,
        vec![first, Step::new(Twist::None)],
        true,
    );
    let mut log = Log::default();
    let socket = std::cell::Cell::new(None);
    let hello_request = release.clone();
    let mut at = |at: At, fd: i32| {
        if at == At::Sent(0) {
            set_int_opt(fd, libc::IPPROTO_TCP, libc::TCP_NOTSENT_LOWAT, 1);
            assert_unsent(fd);
        }
        if at == At::Before(1) {
            // The response was read: the HelloRequest may go. Once it is there, and the
            // connection idle long enough (1 ms) to be checked, the request is made.
            socket.set(Some(fd));
            hello_request.send(()).unwrap();
            wait_ready(fd, WANT_READ);
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
    };
    let mut release = Some(release);
    let mut on_block = |call: Call, _want: u8, fd: i32| {
        if call == Call::Request(1) {
            // The same connection: the request waits on the first one's socket (a new one
            // would never be served).
            assert_eq!(
                Some(fd),
                socket.get(),
                "the request went on another connection"
            );
            // The server may read the upload, and then the ClientHello.
            if let Some(tx) = release.take() {
                let _ = tx.send(());
            }
        }
    };
    let r = exchange_with(
        peer.port(),
        true,
        &reqs,
        &mut log,
        bound_for(64 << 10),
        256 << 10,
        &mut on_block,
        &mut at,
    );
    release.take();
    let got = peer.finish();
    eprintln!(
        "renegotiation while idle, the socket full: {}",
        log.summary()
    );
    let got_seen = r.unwrap_or_else(|(e, _)| panic!("non-blocking mode: {e} ({})", log.summary()));

    assert_eq!(got_seen, reference, "responses");
    assert_renegotiated("idle, the socket full", &reqs, &got, &reference_got);
    // The request's first WouldBlock finishes the ClientHello. (Whether it then waits to
    // READ depends on the server's speed: the socket becomes writable only once the server
    // has read the upload and the ClientHello, and its reply may be there already.)
    let wants = log.wants(|c| c == Call::Request(1));
    assert_eq!(wants.first(), Some(&WANT_WRITE), "{}", log.summary());
}

/// The premise of the tests where a read waits to write: the upload, written, is mostly
/// still in the client's socket, unsent.
fn assert_unsent(fd: i32) {
    let mut unsent: c_int = 0;
    // SAFETY: an open TCP socket and an int out-parameter.
    let r = unsafe { libc::ioctl(fd, libc::SIOCOUTQNSD, &mut unsent) };
    assert_eq!(r, 0, "SIOCOUTQNSD");
    assert!(
        unsent > 16 << 10,
        "only {unsent} bytes of the upload wait in the socket"
    );
}

fn set_int_opt(fd: i32, level: c_int, name: c_int, v: c_int) {
    // SAFETY: an open socket and an int option.
    let r = unsafe {
        libc::setsockopt(
            fd,
            level,
            name,
            (&v as *const c_int).cast(),
            std::mem::size_of::<c_int>() as libc::socklen_t,
        )
    };
    assert_eq!(r, 0, "setsockopt {level} {name}");
}
