//! A scripted TCP server: the test decides every byte the "server" sends, and afterwards
//! inspects every byte the client sent.
//!
//! ```ignore
//! // The common case: canned replies, one per request, on every connection.
//! let srv = ScriptedServer::reply_each(vec![
//!     b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi".to_vec(),
//!     b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n".to_vec(),
//! ]);
//! // ... point the client at 127.0.0.1:srv.port(), make two requests ...
//! assert!(srv.received(0).starts_with(b"GET / HTTP/1.1\r\n"));
//!
//! // Anything else: a closure per connection (each runs in its own thread).
//! let srv = ScriptedServer::start(|conn, idx| {
//!     let _request = conn.read_request().unwrap();
//!     conn.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort").unwrap();
//!     conn.reset_on_close(); // then RST instead of FIN when the closure returns
//! });
//! ```
//!
//! Connections are accepted on 127.0.0.1 (or the address given to `start_on`), each handled
//! in its own thread with a 60 s read timeout. The closure gets a [`Conn`]: it reads and
//! writes like the `TcpStream` it derefs to (so `set_read_timeout`, `shutdown`, `peer_addr`
//! ... all work), and every byte read through it is recorded for
//! [`ScriptedServer::received`]. When the closure returns, the connection is closed.
//! Write errors are normal when the client gives up early: prefer `let _ = conn.write_all(..)`
//! to `unwrap()` in handlers for hostile cases. A panic in a handler is printed by the test
//! harness but does not fail the test by itself; assert on `received()` in the test instead.

use std::io::{self, Read, Write};
use std::net::{IpAddr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// How long `received*` wait for a connection to appear or finish before panicking.
const WAIT: Duration = Duration::from_secs(10);
/// Read timeout set on every accepted connection, so a handler waiting for a client that
/// never sends does not block forever (a handler may set its own).
const READ_TIMEOUT: Duration = Duration::from_secs(60);
/// Largest request head `read_request` accepts.
const MAX_HEAD: usize = 1 << 20;

#[derive(Default)]
struct Record {
    received: Vec<u8>,
    done: bool,
}

#[derive(Default)]
struct Shared {
    conns: Mutex<Vec<Record>>,
    changed: Condvar,
    stop: AtomicBool,
}

impl Shared {
    /// Waits until `ready(record idx)` holds; panics after `WAIT`.
    fn wait_for<T>(&self, idx: usize, what: &str, f: impl Fn(&Record) -> Option<T>) -> T {
        let deadline = Instant::now() + WAIT;
        let mut conns = self.conns.lock().unwrap();
        loop {
            if let Some(v) = conns.get(idx).and_then(&f) {
                return v;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                panic!(
                    "scripted server: connection {idx} not {what} after {WAIT:?} ({} accepted)",
                    conns.len()
                );
            }
            conns = self.changed.wait_timeout(conns, left).unwrap().0;
        }
    }
}

/// A listening socket on 127.0.0.1 whose connections are handled by a test closure.
/// Dropping it stops accepting; handlers already running finish on their own.
pub struct ScriptedServer {
    port: u16,
    ip: IpAddr,
    shared: Arc<Shared>,
}

impl ScriptedServer {
    /// Binds 127.0.0.1:0 and hands each accepted connection, with its index (0, 1, ...), to
    /// `handler` in a new thread.
    pub fn start<F>(handler: F) -> ScriptedServer
    where
        F: Fn(&mut Conn, usize) + Send + Sync + 'static,
    {
        ScriptedServer::start_on("127.0.0.1:0", handler)
    }

    /// Like [`ScriptedServer::start`] on another address, e.g. `"[::1]:0"` for IPv6 (check
    /// `common::servers().http6_port.is_some()` or bind errors first: the machine may have no
    /// IPv6). Panics if it cannot bind.
    pub fn start_on<F>(addr: &str, handler: F) -> ScriptedServer
    where
        F: Fn(&mut Conn, usize) + Send + Sync + 'static,
    {
        let listener = TcpListener::bind(addr).unwrap_or_else(|e| panic!("bind {addr}: {e}"));
        let local = listener.local_addr().unwrap();
        let port = local.port();
        let shared = Arc::new(Shared::default());
        let handler = Arc::new(handler);
        let accept_shared = Arc::clone(&shared);
        thread::spawn(move || {
            for stream in listener.incoming() {
                if accept_shared.stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let _ = stream.set_read_timeout(Some(READ_TIMEOUT));
                let idx = {
                    let mut conns = accept_shared.conns.lock().unwrap();
                    conns.push(Record::default());
                    conns.len() - 1
                };
                accept_shared.changed.notify_all();
                let shared = Arc::clone(&accept_shared);
                let handler = Arc::clone(&handler);
                thread::spawn(move || {
                    let mut conn = Conn {
                        stream,
                        idx,
                        shared: Arc::clone(&shared),
                    };
                    handler(&mut conn, idx);
                    drop(conn); // close before reporting done
                    shared.conns.lock().unwrap()[idx].done = true;
                    shared.changed.notify_all();
                });
            }
        });
        ScriptedServer {
            port,
            ip: local.ip(),
            shared,
        }
    }

    /// Every connection gets the same script: for each reply in order, read one request
    /// ([`Conn::read_request`]) and write the reply. After the last reply the server half-closes
    /// (FIN) and reads until the client closes, so everything it sent is recorded. A reply
    /// without framing (read until close) should be the last one. The server does not answer
    /// `Expect: 100-continue`; use [`ScriptedServer::start`] for that.
    pub fn reply_each(replies: Vec<Vec<u8>>) -> ScriptedServer {
        ScriptedServer::start(move |conn, _| play(conn, &replies))
    }

    /// Like [`ScriptedServer::reply_each`], but connection `i` follows `scripts[i]` (e.g. a
    /// server that closes after one response, then answers on the reconnect). Connections
    /// beyond the list are closed at once.
    pub fn reply_by_conn(scripts: Vec<Vec<Vec<u8>>>) -> ScriptedServer {
        ScriptedServer::start(move |conn, idx| {
            if let Some(script) = scripts.get(idx) {
                play(conn, script);
            }
        })
    }

    /// The port (on 127.0.0.1 unless started with `start_on`).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The listening address, e.g. `127.0.0.1:4242` or `[::1]:4242`.
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::new(self.ip, self.port)
    }

    /// How many connections have been accepted so far.
    pub fn connections(&self) -> usize {
        self.shared.conns.lock().unwrap().len()
    }

    /// The bytes received so far on connection `conn_idx` (waits up to 10 s for that
    /// connection to be accepted; panics if it never is).
    pub fn received(&self, conn_idx: usize) -> Vec<u8> {
        self.shared
            .wait_for(conn_idx, "accepted", |r| Some(r.received.clone()))
    }

    /// Like [`ScriptedServer::received`], but first waits (up to 10 s) for that connection's
    /// handler to return, so the record is final.
    pub fn received_when_done(&self, conn_idx: usize) -> Vec<u8> {
        self.shared
            .wait_for(conn_idx, "finished", |r| r.done.then(|| r.received.clone()))
    }
}

impl Drop for ScriptedServer {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees `stop`.
        let _ = TcpStream::connect(self.addr());
    }
}

fn play(conn: &mut Conn, script: &[Vec<u8>]) {
    for reply in script {
        match conn.read_request() {
            Ok(Some(_)) => {}
            _ => return,
        }
        if conn.write_all(reply).is_err() {
            return;
        }
    }
    let _ = conn.flush();
    let _ = conn.shutdown(Shutdown::Write);
    conn.drain(WAIT);
}

/// One accepted connection, as seen by a [`ScriptedServer`] handler. Reads are recorded.
pub struct Conn {
    stream: TcpStream,
    idx: usize,
    shared: Arc<Shared>,
}

impl Conn {
    /// This connection's index (0 for the first accepted).
    pub fn idx(&self) -> usize {
        self.idx
    }

    /// Reads one HTTP request: the head up to the empty line, then a `Content-Length` body or a
    /// chunked body (through its trailers). Returns the raw bytes, or `None` if the client
    /// closed before sending anything. Reads byte by byte, so a pipelined next request stays in
    /// the socket. Does not send `100 Continue`.
    pub fn read_request(&mut self) -> io::Result<Option<Vec<u8>>> {
        let mut req = Vec::new();
        while !req.ends_with(b"\r\n\r\n") && !req.ends_with(b"\n\n") {
            if req.len() > MAX_HEAD {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "request head too long",
                ));
            }
            match self.read_byte()? {
                Some(b) => req.push(b),
                None if req.is_empty() => return Ok(None),
                None => return Err(io::ErrorKind::UnexpectedEof.into()),
            }
        }
        let head = String::from_utf8_lossy(&req).to_ascii_lowercase();
        let header = |name: &str| {
            head.lines()
                .filter_map(|l| l.split_once(':'))
                .find(|(k, _)| k.trim() == name)
                .map(|(_, v)| v.trim().to_string())
        };
        if header("transfer-encoding").is_some_and(|te| te.contains("chunked")) {
            loop {
                let line = self.read_line(&mut req)?;
                let size_text = line.split(';').next().unwrap_or("").trim();
                let size = usize::from_str_radix(size_text, 16)
                    .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "bad chunk size"))?;
                if size == 0 {
                    // Trailers, up to the empty line.
                    while !self.read_line(&mut req)?.is_empty() {}
                    break;
                }
                self.read_exact_into(&mut req, size)?;
                self.read_line(&mut req)?;
            }
        } else if let Some(len) = header("content-length") {
            let len = len
                .parse()
                .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "bad Content-Length"))?;
            self.read_exact_into(&mut req, len)?;
        }
        Ok(Some(req))
    }

    /// Reads (and records) a request head up to its empty line, and nothing of the body after
    /// it; fewer bytes when the client closes first.
    pub fn read_head(&mut self) -> Vec<u8> {
        super::read_head(self)
    }

    /// Writes `bytes` one at a time, each in its own segment (TCP_NODELAY), and after each
    /// waits until the client side ticks `gate` (a call made after the byte was sent), at
    /// most 10 s: every byte arrives in a readiness event of its own. For the tests of
    /// non-blocking mode.
    pub fn drip(&mut self, bytes: &[u8], gate: &Gate) -> io::Result<()> {
        drip_to(&mut self.stream, bytes, gate)
    }

    /// Reads (and records) everything until the client closes, an error, or `timeout` passes.
    pub fn drain(&mut self, timeout: Duration) {
        let _ = self.stream.set_read_timeout(Some(timeout));
        let mut buf = [0u8; 8192];
        while matches!(self.read(&mut buf), Ok(n) if n > 0) {}
    }

    /// Makes the close at the end of the handler a TCP reset (RST) instead of a FIN
    /// (SO_LINGER with a zero timeout), to simulate a server that crashes or aborts.
    pub fn reset_on_close(&mut self) {
        use std::os::fd::AsRawFd;
        let linger = libc::linger {
            l_onoff: 1,
            l_linger: 0,
        };
        // SAFETY: a valid socket fd and a correctly sized, initialised `linger` value.
        let rc = unsafe {
            libc::setsockopt(
                self.stream.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_LINGER,
                std::ptr::addr_of!(linger).cast(),
                std::mem::size_of::<libc::linger>() as libc::socklen_t,
            )
        };
        assert_eq!(
            rc,
            0,
            "setsockopt(SO_LINGER): {}",
            io::Error::last_os_error()
        );
    }

    fn read_byte(&mut self) -> io::Result<Option<u8>> {
        let mut b = [0u8; 1];
        loop {
            match self.read(&mut b) {
                Ok(0) => return Ok(None),
                Ok(_) => return Ok(Some(b[0])),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// Appends one line (with its LF) to `out`; returns it without CR/LF.
    fn read_line(&mut self, out: &mut Vec<u8>) -> io::Result<String> {
        let start = out.len();
        loop {
            let b = self.read_byte()?.ok_or(io::ErrorKind::UnexpectedEof)?;
            out.push(b);
            if b == b'\n' {
                let line = String::from_utf8_lossy(&out[start..]);
                return Ok(line.trim_end_matches(['\r', '\n']).to_string());
            }
        }
    }

    fn read_exact_into(&mut self, out: &mut Vec<u8>, n: usize) -> io::Result<()> {
        let start = out.len();
        out.resize(start + n, 0);
        self.read_exact(&mut out[start..])
    }
}

impl Read for Conn {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.stream.read(buf)?;
        self.shared.conns.lock().unwrap()[self.idx]
            .received
            .extend_from_slice(&buf[..n]);
        Ok(n)
    }
}

impl Write for Conn {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.stream.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.stream.flush()
    }
}

impl Deref for Conn {
    type Target = TcpStream;

    fn deref(&self) -> &TcpStream {
        &self.stream
    }
}

impl DerefMut for Conn {
    fn deref_mut(&mut self) -> &mut TcpStream {
        &mut self.stream
    }
}

/// Writes `bytes` to `stream` as [`Conn::drip`] does (for relays and other servers).
pub fn drip_to(stream: &mut TcpStream, bytes: &[u8], gate: &Gate) -> io::Result<()> {
    stream.set_nodelay(true)?;
    for b in bytes {
        let seen = gate.count();
        stream.write_all(std::slice::from_ref(b))?;
        gate.wait_past(seen);
    }
    Ok(())
}

/// A counter the client side of a test ticks after each call it makes, and that a dripping
/// server ([`Conn::drip`]) waits on between bytes.
#[derive(Clone, Default)]
pub struct Gate(Arc<(Mutex<u64>, Condvar)>);

impl Gate {
    pub fn new() -> Gate {
        Gate::default()
    }

    /// The client made a call.
    pub fn tick(&self) {
        *self.0 .0.lock().unwrap() += 1;
        self.0 .1.notify_all();
    }

    fn count(&self) -> u64 {
        *self.0 .0.lock().unwrap()
    }

    /// Waits until the count passes `seen` (at most `WAIT`).
    fn wait_past(&self, seen: u64) {
        let deadline = Instant::now() + WAIT;
        let mut n = self.0 .0.lock().unwrap();
        while *n <= seen {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return;
            }
            n = self.0 .1.wait_timeout(n, left).unwrap().0;
        }
    }
}
