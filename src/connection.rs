//! httplib's HTTPConnection: options, the request state machine (idle -> request started ->
//! request sent), keep-alive, reopening a connection the server closed, and getresponse.
//!
//! This file holds the [`Connection`] struct and its companion types, the constructors, the
//! core state transitions (a request's progress, marking it sent, abandoning it) and the
//! hints of the memory a request reads; the rest is split by responsibility:
//! - `options`: the options' setters and getters (timeouts, deadline, debugging, tunnel, block
//!   size, blocking mode, source address, TLS);
//! - `open_close`: opening the connection in blocking mode (through a tunnel), reusing or
//!   reopening it, giving up its descriptors, closing it;
//! - `opening`: opening it in non-blocking mode;
//! - `request_head`: starting a request and building its head (putrequest, putheader);
//! - `send`: sending a request whose body is in memory (endheaders, send_chunk, send, request)
//!   and the writes under them;
//! - `expect_continue`: the wait for `100 Continue` before a body;
//! - `request_stream`: requests whose body is streamed from a callback;
//! - `getresponse`: reading the response, and sending the request again when a reused
//!   connection turns out closed;
//! - `nonblocking`: non-blocking mode for all of the above.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use openssl::ssl::SslContext;

use crate::debug::{DebugCallback, DebugSink};
use crate::error::Result;
use crate::request::{self, GivenHeaders};
use crate::response::head::Head;
use crate::transport::tcp::TcpOptions;
use crate::transport::tls::{self, TlsOptions};
use crate::transport::Transport;
use crate::url::Target;
use crate::wire::{lock, SharedWire, Wire};

mod expect_continue;
mod getresponse;
mod nonblocking;
mod open_close;
mod opening;
mod options;
mod request_head;
mod request_stream;
mod send;

/// A connection that sat idle at least this long is checked, without blocking, for a close
/// by the server before it carries another request. Checking every time would cost a system
/// call per request; a close that races the request is caught by the retry instead.
const IDLE_CHECK_AFTER: Duration = Duration::from_millis(1);
/// Requests up to this size are kept, so that they can be sent again on a fresh connection.
const MAX_REPLAY: usize = 1024 * 1024;
/// A body up to this size is copied behind the head and sent with it in one write.
const COALESCE_BODY: usize = 64 * 1024;

/// Where the connection is in httplib's request cycle. A request in progress carries its
/// own facts; ending it early, for whatever reason, is [`Connection::abandon`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// No request in progress: putrequest or request may start one.
    Idle,
    /// putrequest was called: putheader adds headers, endheaders sends them.
    Started(Pending),
    /// The request went out (its body may still be coming: send, send_chunk): getresponse
    /// reads its answer.
    Sent(Pending),
}

/// What the connection knows of the request in progress, from putrequest to getresponse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Pending {
    /// The method is HEAD: its response has no body.
    is_head_request: bool,
    /// The method may be sent twice (RFC 9110 §9.2.2).
    idempotent: bool,
    /// `out` holds the whole request, which may be sent again on a fresh connection.
    replayable: bool,
    /// The request went out on a connection that had already carried a response.
    sent_on_reused: bool,
    /// A chunked body was left open by endheaders without a body: send_chunk adds to it,
    /// and getresponse ends it if the caller did not.
    chunk_open: bool,
    /// A final response came before the request's body was all sent: that response ends the
    /// request, the rest of the body is dropped, and the connection closes after it.
    body_withheld: bool,
}

impl Pending {
    fn new(method: &[u8]) -> Pending {
        Pending {
            is_head_request: method.eq_ignore_ascii_case(b"HEAD"),
            idempotent: request::is_idempotent(method),
            replayable: false,
            sent_on_reused: false,
            chunk_open: false,
            body_withheld: false,
        }
    }
}

impl State {
    fn pending_mut(&mut self) -> Option<&mut Pending> {
        match self {
            State::Started(p) | State::Sent(p) => Some(p),
            State::Idle => None,
        }
    }

    fn is_sent(&self) -> bool {
        matches!(self, State::Sent(_))
    }
}

/// Makes transports for a connection instead of TCP/TLS (tests and fuzzers).
pub type TransportFactory = Box<dyn FnMut(&Target) -> Result<Box<dyn Transport>> + Send>;

struct Tls {
    opts: TlsOptions,
    context: Option<SslContext>,
    /// Run on each new TLS session before its handshake (see [`Connection::set_tls_config`]).
    prepare: Option<tls::TlsPrepare>,
}

/// An HTTP/1.1 connection to one host (httplib's HTTPConnection / HTTPSConnection).
///
/// The fields every request reads come first, in this order (`repr(C)`): an event loop with
/// thousands of connections finds each one out of cache, and a request then loads two or three
/// cache lines of it rather than most of them (the first two, as it is aligned to a line).
#[repr(C, align(64))]
pub struct Connection {
    wire: Option<SharedWire>,
    /// Non-blocking mode: the call that returned `WouldBlock` and how far it got.
    flight: Option<Box<nonblocking::Flight>>,
    /// Non-blocking mode: the response head getresponse is reading.
    beginning: Option<Box<crate::response::Beginning>>,
    /// A non-blocking opening in progress (resolving, connecting, tunnel, handshake).
    opening: Option<Box<opening::Opening>>,
    /// The wire of the last response that closes its connection (which holds it alone), for
    /// timeout_ms: its body's reads are still bounded by the request's deadline.
    reading: Option<std::sync::Weak<Mutex<Wire>>>,
    /// Requests go through a tunnel, opened with CONNECT through `target` (the proxy).
    tunnel: Option<Box<Tunnel>>,
    /// The request being built, then the bytes of the last request sent when it may be sent
    /// again (idempotent, body in memory).
    out: request::RequestBytes,
    /// When the request being sent must be over.
    request_deadline: Option<Instant>,
    /// The deadline option: how long one request may take, sending through its response.
    deadline: Option<Duration>,
    state: State,
    given: GivenHeaders,
    /// Non-blocking mode (set_blocking(false)): no call waits on the network; one that would
    /// returns `WouldBlock`.
    nonblocking: bool,
    /// What the last call that returned `WouldBlock` waits for (WANT_READ | WANT_WRITE);
    /// cleared by every call on entry.
    want: u8,
    strict: bool,
    /// A deadline option was set at some time: the wires and the response being read may
    /// carry a deadline (none can without one).
    timed: bool,
    target: Target,
    // The rest is read when a connection opens or an option changes.
    tls: Option<Box<Tls>>,
    debug: Option<Arc<DebugSink>>,
    tcp: TcpOptions,
    debuglevel: i32,
    debug_callback: Option<Arc<Mutex<DebugCallback>>>,
    factory: Option<TransportFactory>,
    /// How long a request with `Expect: 100-continue` waits for the go-ahead.
    continue_timeout: Duration,
    /// The proxy's answer to the last CONNECT.
    tunnel_head: Option<Head>,
    /// The read buffer's size; None: the default.
    block: Option<usize>,
    /// Non-blocking mode: the descriptor given up last, kept until the next one exists.
    retired: Option<Retired>,
}

/// Non-blocking mode: what holds the number of a descriptor the connection gave up (a wire
/// closed or handed to a response that closes it, an opening given up), until the
/// connection's next descriptor exists. Its socket is released when it closes (the number
/// then holds a placeholder, `ffi::park`), so an event loop that compares
/// `hc_connection_fileno` with the number it registered always sees a new socket as a new
/// number. At most one descriptor; dropping this closes it.
enum Retired {
    Wire(#[allow(dead_code)] SharedWire),
    Opening(#[allow(dead_code)] Box<opening::Opening>),
}

/// Where a tunnel leads and what the CONNECT carries.
struct Tunnel {
    origin: Target,
    headers: Vec<(Vec<u8>, Vec<u8>)>,
}

/// The default wait for `100 Continue`.
pub const CONTINUE_TIMEOUT: Duration = Duration::from_secs(1);

impl Connection {
    /// An HTTP connection; no I/O happens until the first request or `connect`.
    pub fn new(host: &str, port: u16) -> Result<Connection> {
        Self::with_target(Target::parse(host, port, 80)?, None)
    }

    /// An HTTPS connection, verifying the server's certificate and name by default.
    pub fn new_https(host: &str, port: u16) -> Result<Connection> {
        let tls = Tls {
            opts: TlsOptions::default(),
            context: None,
            prepare: None,
        };
        Self::with_target(Target::parse(host, port, 443)?, Some(tls))
    }

    fn with_target(target: Target, tls: Option<Tls>) -> Result<Connection> {
        Ok(Connection {
            target,
            tls: tls.map(Box::new),
            tcp: TcpOptions::default(),
            strict: true,
            timed: false,
            debuglevel: 0,
            debug_callback: None,
            debug: None,
            factory: None,
            wire: None,
            opening: None,
            state: State::Idle,
            out: request::RequestBytes::with_capacity(512),
            given: GivenHeaders::default(),
            continue_timeout: CONTINUE_TIMEOUT,
            tunnel: None,
            tunnel_head: None,
            block: None,
            deadline: None,
            request_deadline: None,
            nonblocking: false,
            want: 0,
            flight: None,
            beginning: None,
            reading: None,
            retired: None,
        })
    }

    pub fn target(&self) -> &Target {
        &self.target
    }

    pub fn is_https(&self) -> bool {
        self.tls.is_some()
    }

    /// Ends the request in progress, if any, before its response: the one way out of Started
    /// and Sent other than getresponse. With `close_why`, the connection is closed (for that
    /// reason) and dropped, so the next request opens a new one; without, it is left as it is
    /// (already closed, or still usable when nothing was written).
    fn abandon(&mut self, close_why: Option<&'static str>) {
        if let Some(why) = close_why {
            if let Some(shared) = self.wire.take() {
                lock(&shared).close(why);
                self.retire_wire(shared);
            }
        }
        self.state = State::Idle;
        self.out.clear();
    }

    /// The request in progress (Started or Sent).
    fn pending(&mut self) -> &mut Pending {
        self.state
            .pending_mut()
            .expect("called with a request in progress")
    }

    /// endheaders or request finished the head: Started becomes Sent.
    fn mark_sent(&mut self) {
        if let State::Started(p) = self.state {
            self.state = State::Sent(p);
        }
    }

    /// How many bytes at the start of a connection its requests read: its first lines, up
    /// to and with `target` (repr(C), fields in order).
    pub const HOT_BYTES: usize = std::mem::offset_of!(Connection, target) + size_of::<Target>();

    /// Where the memory a request on this connection reads lies beyond the connection itself,
    /// as (address, length) spans: its wire (the `Arc`'s counts, which std keeps just before
    /// the value, the lock and the wire's fields), the request buffer and the `Host` value.
    /// Only a hint for prefetching (ffi::prefetch): nothing reads through these addresses.
    pub fn hot_memory(&self) -> [(usize, usize); 3] {
        let counts = 2 * size_of::<usize>();
        let wire = self.wire.as_ref().map_or((0, 0), |w| {
            let value = Arc::as_ptr(w) as usize;
            (
                value.saturating_sub(counts),
                counts + size_of::<Mutex<Wire>>(),
            )
        });
        let out = (self.out.as_ptr() as usize, self.out.capacity().min(128));
        let host = self.target.host_header();
        [wire, out, (host.as_ptr() as usize, host.len())]
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        // A response still being read keeps the connection open; an idle one is closed.
        if let Some(shared) = self.wire.take() {
            let mut w = lock(&shared);
            if w.response_active() {
                return;
            }
            if Arc::strong_count(&shared) == 1 && !w.is_tls() {
                // Nobody else holds it: dropping it closes the socket. (TLS still says
                // close_notify.)
                w.close_by_dropping();
                return;
            }
            w.close("the connection was freed");
        }
    }
}
