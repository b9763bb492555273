//! A scripted HTTPS server that changes the keys of its TLS session at a chosen point of an
//! exchange, for tests/nonblocking_tls.rs: a TLS 1.2 renegotiation it starts itself (a
//! HelloRequest), or a TLS 1.3 KeyUpdate that asks the client to update its keys too. The
//! server is the openssl crate's, with the test PKI's localhost certificate (trust
//! `servers().ca_file`), on a blocking socket: it serves one connection, one exchange per
//! [`Step`], and records every request head, every body, and the type of every handshake
//! message it received (so a test can tell that the client took part in a renegotiation or
//! answered a KeyUpdate).
//!
//! The openssl crate has no call for `SSL_renegotiate` or `SSL_key_update`, so they are
//! declared here (libssl is linked already through the openssl crate); this module, test
//! code only, is where the unsafe calls into OpenSSL are.

#![allow(dead_code)] // each test uses a part of this module

use std::cell::RefCell;
use std::ffi::{c_int, c_void};
use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::mpsc;
use std::thread::{self, JoinHandle};
use std::time::Duration;

use openssl::ssl::{
    Ssl, SslContextBuilder, SslFiletype, SslMethod, SslOptions, SslRef, SslStream, SslVersion,
};

extern "C" {
    fn SSL_renegotiate(s: *mut c_void) -> c_int;
    fn SSL_key_update(s: *mut c_void, updatetype: c_int) -> c_int;
    fn SSL_set_msg_callback(
        s: *mut c_void,
        cb: Option<
            unsafe extern "C" fn(
                c_int,
                c_int,
                c_int,
                *const c_void,
                usize,
                *mut c_void,
                *mut c_void,
            ),
        >,
    );
}

const SSL_KEY_UPDATE_REQUESTED: c_int = 1;
const SSL3_RT_HANDSHAKE: c_int = 22;
/// Handshake message types (RFC 8446 §4, RFC 5246 §7.4).
pub const CLIENT_HELLO: u8 = 1;
pub const FINISHED: u8 = 20;
pub const KEY_UPDATE: u8 = 24;

thread_local! {
    /// The handshake messages the server thread received, in order (the message callback runs
    /// on the thread doing the SSL call, the server's own).
    static RECEIVED: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

unsafe extern "C" fn note_message(
    write_p: c_int,
    _version: c_int,
    content_type: c_int,
    buf: *const c_void,
    len: usize,
    _ssl: *mut c_void,
    _arg: *mut c_void,
) {
    if write_p == 0 && content_type == SSL3_RT_HANDSHAKE && len > 0 {
        // SAFETY: OpenSSL passes the message, `len` bytes at `buf`, for the call's duration.
        let kind = unsafe { *buf.cast::<u8>() };
        RECEIVED.with(|r| r.borrow_mut().push(kind));
    }
}

fn ssl_ptr(ssl: &SslRef) -> *mut c_void {
    // An SslRef is the SSL itself (openssl's ForeignTypeRef::as_ptr does the same cast).
    ssl as *const SslRef as *mut c_void
}

/// What the server does in one exchange besides reading the request and answering it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Twist {
    /// Nothing.
    None,
    /// TLS 1.2: once the request is read, a HelloRequest (the server starts a renegotiation),
    /// then the answer. The client reads the HelloRequest before the answer.
    RenegotiateBeforeAnswer,
    /// TLS 1.2: a HelloRequest right after the answer: it reaches the client while the
    /// connection is idle between two requests.
    RenegotiateAfterAnswer,
    /// TLS 1.2: a HelloRequest once this many body bytes were read, then the rest of the body
    /// and the answer: the renegotiation is asked for in the middle of the client's upload.
    RenegotiateMidBody(usize),
    /// TLS 1.3: once the request is read, a KeyUpdate with update_requested, then the answer.
    KeyUpdateBeforeAnswer,
    /// TLS 1.2: once the request head is read, a HelloRequest, then (after the hold) an
    /// answer that says nothing of the body ([`early_answer`]), and only then the body: the
    /// client reads the HelloRequest while its upload still fills its socket.
    RenegotiateEarlyAnswer,
    /// TLS 1.2: once the request head is read, the answer's head and the first part of its
    /// body ([`split_answer`]); after the hold is released once, a HelloRequest; after it is
    /// released again, the rest of the answer; and only then the request's body: the client
    /// meets the HelloRequest while reading the response body, its upload still filling its
    /// socket.
    RenegotiateMidAnswer,
    /// TLS 1.2: once the request head is read, the [`early_answer`]; after the hold is
    /// released once, a HelloRequest; after it is released again, the request's body: the
    /// client meets the HelloRequest while idle between two requests, its upload still
    /// filling its socket.
    RenegotiateAfterEarlyAnswer,
}

/// One exchange: its twist, and the points where the server stops until the test lets it go
/// on (a hold ends when its sender sends or is dropped).
pub struct Step {
    pub twist: Twist,
    /// After the answer, before reading anything more ([`Twist::RenegotiateEarlyAnswer`]:
    /// after the HelloRequest, before the answer; [`Twist::RenegotiateMidAnswer`] and
    /// [`Twist::RenegotiateAfterEarlyAnswer`]: twice, see there).
    pub hold: Option<mpsc::Receiver<()>>,
    /// [`Twist::RenegotiateEarlyAnswer`]: told once the HelloRequest is written.
    pub hello_request_sent: Option<mpsc::Sender<()>>,
}

impl Step {
    pub fn new(twist: Twist) -> Step {
        Step {
            twist,
            hold: None,
            hello_request_sent: None,
        }
    }

    /// The step with a hold after the answer, and the sender that releases it.
    pub fn held(twist: Twist) -> (Step, mpsc::Sender<()>) {
        let (tx, rx) = mpsc::channel();
        let mut step = Step::new(twist);
        step.hold = Some(rx);
        (step, tx)
    }
}

fn wait(hold: &Option<mpsc::Receiver<()>>) {
    if let Some(h) = hold {
        let _ = h.recv();
    }
}

/// What the server got on its connection.
#[derive(Debug, Default)]
pub struct Got {
    /// Each request head, through its blank line.
    pub heads: Vec<Vec<u8>>,
    /// Each request body (Content-Length).
    pub bodies: Vec<Vec<u8>>,
    /// The types of the handshake messages received, the first handshake's included.
    pub handshake_in: Vec<u8>,
    /// How many handshake messages had been received when each request head was complete.
    pub handshake_at_head: Vec<usize>,
    /// The TLS version of the session ("TLSv1.2", "TLSv1.3").
    pub version: String,
    /// What ended the connection early, if anything did.
    pub error: Option<String>,
    /// The port the server listened on (the client's Host header names it).
    pub port: u16,
}

/// The server: one connection, then it exits.
pub struct TlsPeer {
    port: u16,
    handle: Option<JoinHandle<Got>>,
}

fn pki(name: &str) -> PathBuf {
    let dir = crate::common::servers()
        .var("HC_TEST_PKI_DIR")
        .expect("HC_TEST_PKI_DIR");
    PathBuf::from(dir).join(name)
}

/// The answer to a request whose body was `body`: its length and digest, so that the client's
/// copy says what the server got.
pub fn answer_for(index: usize, body: &[u8]) -> Vec<u8> {
    let digest: String = openssl::sha::sha256(body)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let text = format!(
        "request {index}: {} body bytes, sha256 {digest}\n",
        body.len()
    );
    let mut out = format!(
        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nX-Request: {index}\r\n\r\n",
        text.len()
    )
    .into_bytes();
    out.extend_from_slice(text.as_bytes());
    out
}

/// The answer [`Twist::RenegotiateMidAnswer`] gives before reading the body, in its two parts.
pub fn split_answer(index: usize) -> (Vec<u8>, Vec<u8>) {
    let first = format!("request {index}: the first part of the answer\n");
    let rest = format!("request {index}: the rest, after a HelloRequest\n");
    let mut out = format!(
        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nX-Request: {index}\r\n\r\n",
        first.len() + rest.len()
    )
    .into_bytes();
    out.extend_from_slice(first.as_bytes());
    (out, rest.into_bytes())
}

/// The answer [`Twist::RenegotiateEarlyAnswer`] gives before reading the body.
pub fn early_answer(index: usize) -> Vec<u8> {
    let text = format!("request {index}: answered before its body was read\n");
    let mut out = format!(
        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nX-Request: {index}\r\n\r\n",
        text.len()
    )
    .into_bytes();
    out.extend_from_slice(text.as_bytes());
    out
}

impl TlsPeer {
    /// Listens on 127.0.0.1 for one connection of exactly `version`, served by `steps`.
    /// With `small_window`, the connection's receive window and segment size are as small as
    /// Linux allows, from its first segment (set on the listening socket).
    pub fn start(version: SslVersion, steps: Vec<Step>, small_window: bool) -> TlsPeer {
        let mut b = SslContextBuilder::new(SslMethod::tls_server()).unwrap();
        b.set_certificate_chain_file(pki("localhost.pem")).unwrap();
        b.set_private_key_file(pki("localhost.key"), SslFiletype::PEM)
            .unwrap();
        b.set_min_proto_version(Some(version)).unwrap();
        b.set_max_proto_version(Some(version)).unwrap();
        // A server may renegotiate (OpenSSL 3 allows it unless this is set); a full handshake
        // each time, not a resumption, so that the client has a whole flight to wait for.
        b.clear_options(SslOptions::NO_RENEGOTIATION);
        b.set_options(SslOptions::NO_SESSION_RESUMPTION_ON_RENEGOTIATION);
        let ctx = b.build();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        if small_window {
            // The kernel's least receive buffer, and segments of at most 88 bytes: the
            // client's socket then queues its bytes in pieces smaller than one TLS record
            // of a handshake message, and a window the server stops reading closes at once.
            set_int_opt(&listener, libc::SOL_SOCKET, libc::SO_RCVBUF, 1);
            set_int_opt(&listener, libc::IPPROTO_TCP, libc::TCP_MAXSEG, 88);
        }
        let port = listener.local_addr().unwrap().port();
        let handle = thread::spawn(move || {
            let mut got = Got {
                port,
                ..Got::default()
            };
            let (tcp, _) = listener.accept().unwrap();
            // Bounded: a client that stops talking ends the server within the test's time.
            tcp.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
            tcp.set_write_timeout(Some(Duration::from_secs(20)))
                .unwrap();
            RECEIVED.with(|r| r.borrow_mut().clear());
            let mut ssl = Ssl::new(&ctx).unwrap();
            // SAFETY: a valid SSL and a callback of the right signature that outlives it.
            unsafe { SSL_set_msg_callback(ssl_ptr(&ssl), Some(note_message)) };
            ssl.set_accept_state();
            let mut s = SslStream::new(ssl, tcp).unwrap();
            let r = s.do_handshake().map_err(|e| format!("handshake: {e}"));
            if let Err(e) = r {
                got.error = Some(e);
            } else {
                got.version = s.ssl().version_str().to_string();
                if let Err(e) = serve(&mut s, steps, &mut got) {
                    got.error = Some(e.to_string());
                }
            }
            got.handshake_in = RECEIVED.with(|r| r.borrow().clone());
            got
        });
        TlsPeer {
            port,
            handle: Some(handle),
        }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Waits for the server to finish (the client closed, or 20 s of silence) and returns
    /// what it got.
    pub fn finish(mut self) -> Got {
        self.handle
            .take()
            .unwrap()
            .join()
            .expect("the TLS peer panicked")
    }
}

fn set_int_opt(socket: &impl std::os::fd::AsRawFd, level: c_int, name: c_int, v: c_int) {
    // SAFETY: a valid socket and an int option.
    let r = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            level,
            name,
            (&v as *const c_int).cast(),
            std::mem::size_of::<c_int>() as libc::socklen_t,
        )
    };
    assert_eq!(r, 0, "setsockopt({level}, {name}, {v})");
}

fn renegotiate(s: &mut SslStream<TcpStream>) -> io::Result<()> {
    // SAFETY: the stream's own SSL, on this thread.
    let r = unsafe { SSL_renegotiate(ssl_ptr(s.ssl())) };
    if r != 1 {
        return Err(io::Error::other(format!(
            "SSL_renegotiate: {}",
            openssl::error::ErrorStack::get()
        )));
    }
    // Writes the HelloRequest; the rest of the handshake comes when the client's ClientHello
    // is read.
    s.do_handshake()
        .map_err(|e| io::Error::other(format!("sending the HelloRequest: {e}")))
}

fn key_update(s: &mut SslStream<TcpStream>) -> io::Result<()> {
    // SAFETY: the stream's own SSL, on this thread.
    let r = unsafe { SSL_key_update(ssl_ptr(s.ssl()), SSL_KEY_UPDATE_REQUESTED) };
    if r != 1 {
        return Err(io::Error::other(format!(
            "SSL_key_update: {}",
            openssl::error::ErrorStack::get()
        )));
    }
    s.do_handshake()
        .map_err(|e| io::Error::other(format!("sending the KeyUpdate: {e}")))
}

fn serve(s: &mut SslStream<TcpStream>, steps: Vec<Step>, got: &mut Got) -> io::Result<()> {
    let mut buf: Vec<u8> = Vec::new();
    for (index, step) in steps.into_iter().enumerate() {
        // The head.
        let end = loop {
            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            if !fill(s, &mut buf)? {
                return Err(io::Error::other(format!("request {index}: no head")));
            }
        };
        let head: Vec<u8> = buf.drain(..end).collect();
        let text = String::from_utf8_lossy(&head).to_ascii_lowercase();
        let len: usize = text
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .map_or(0, |v| v.trim().parse().unwrap());
        got.heads.push(head);
        if step.twist == Twist::RenegotiateMidAnswer {
            let (first, rest) = split_answer(index);
            s.write_all(&first)?;
            s.flush()?;
            wait(&step.hold);
            renegotiate(s)?;
            wait(&step.hold);
            s.write_all(&rest)?;
            s.flush()?;
        }
        if step.twist == Twist::RenegotiateAfterEarlyAnswer {
            s.write_all(&early_answer(index))?;
            s.flush()?;
            wait(&step.hold);
            renegotiate(s)?;
            wait(&step.hold);
        }
        if step.twist == Twist::RenegotiateEarlyAnswer {
            renegotiate(s)?;
            if let Some(tx) = &step.hello_request_sent {
                let _ = tx.send(());
            }
            wait(&step.hold);
            s.write_all(&early_answer(index))?;
            s.flush()?;
        }
        got.handshake_at_head
            .push(RECEIVED.with(|r| r.borrow().len()));
        // The body, with the renegotiation asked for part way through.
        let mut body = Vec::with_capacity(len);
        let mut asked = false;
        while body.len() < len {
            if let Twist::RenegotiateMidBody(at) = step.twist {
                if !asked && body.len() + buf.len() >= at {
                    let take = at.saturating_sub(body.len()).min(buf.len());
                    body.extend(buf.drain(..take));
                    renegotiate(s)?;
                    asked = true;
                }
            }
            if buf.is_empty() && !fill(s, &mut buf)? {
                return Err(io::Error::other(format!("request {index}: body cut short")));
            }
            let take = (len - body.len()).min(buf.len());
            body.extend(buf.drain(..take));
        }
        match step.twist {
            Twist::RenegotiateBeforeAnswer => renegotiate(s)?,
            Twist::KeyUpdateBeforeAnswer => key_update(s)?,
            _ => {}
        }
        if !matches!(
            step.twist,
            Twist::RenegotiateEarlyAnswer
                | Twist::RenegotiateMidAnswer
                | Twist::RenegotiateAfterEarlyAnswer
        ) {
            s.write_all(&answer_for(index, &body))?;
            s.flush()?;
            if step.twist == Twist::RenegotiateAfterAnswer {
                renegotiate(s)?;
            }
            wait(&step.hold);
        }
        got.bodies.push(body);
    }
    // Until the client closes.
    while fill(s, &mut buf)? {}
    Ok(())
}

/// Reads what the stream has into `buf`; false at its end (a close, with or without
/// close_notify).
fn fill(s: &mut SslStream<TcpStream>, buf: &mut Vec<u8>) -> io::Result<bool> {
    let mut chunk = [0u8; 16384];
    match s.read(&mut chunk) {
        Ok(0) => Ok(false),
        Ok(n) => {
            buf.extend_from_slice(&chunk[..n]);
            Ok(true)
        }
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Ok(false),
        Err(e) if e.kind() == io::ErrorKind::ConnectionReset => Ok(false),
        Err(e) => Err(e),
    }
}
