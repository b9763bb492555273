//! httplib's HTTPConnection: options, the request state machine (idle -> request started ->
//! request sent), keep-alive, reopening a connection the server closed, and getresponse.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use openssl::ssl::SslContext;

use crate::debug::{DebugCallback, DebugKind, DebugSink};
use crate::error::{Error, ErrorKind, Result};
use crate::request::{self, GivenHeaders};
use crate::response::head::{parse_status_line, read_head, Head};
use crate::response::Response;
use crate::transport::tcp::{self, TcpOptions, TcpTransport};
use crate::transport::tls::{self, TlsOptions, TlsTransport};
use crate::transport::{Stream, Transport};
use crate::url::{absolute_url_authority, Target};
use crate::wire::{lock, Line, Sent, SharedWire, Wire, MAX_BLOCK, MAX_LINE, MIN_BLOCK};

mod opening;

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

fn secs(seconds: f64) -> Result<Option<Duration>> {
    if seconds.is_nan() {
        return Err(Error::new(ErrorKind::InvalidArgument, "timeout is NaN"));
    }
    if seconds <= 0.0 {
        return Ok(None);
    }
    Duration::try_from_secs_f64(seconds).map(Some).map_err(|e| {
        Error::new(
            ErrorKind::InvalidArgument,
            format!("bad timeout {seconds}: {e}"),
        )
    })
}

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

    // ----- options -----

    /// The limit for connecting and for each read and write; `<= 0`: none.
    pub fn set_timeout(&mut self, seconds: f64) -> Result<()> {
        self.nb_refuse_other("set_timeout")?;
        let t = secs(seconds)?;
        self.tcp.io_timeout = t;
        if let Some(w) = &self.wire {
            let mut w = lock(w);
            w.set_io_timeout(t);
        }
        Ok(())
    }

    /// An overall limit for each request; `<= 0`: none (the default). It counts from the
    /// moment the request starts being written (after the connection is open: connecting is
    /// bounded by the timeouts) and covers writing the request, reading the response head
    /// (interim 1xx responses included) and every read of its body, until the body ends or
    /// fails. Each read and write waits at most what is left of it (and at most the timeout);
    /// once it has passed, the read or write fails with `Timeout` and the connection is closed.
    /// A sender that trickles bytes, each within the timeout, can't hold the caller longer.
    /// The time the caller spends between reads of the body counts too. Applies to requests
    /// sent after the call. Over TLS, one record trickled by the server is read in one go and
    /// can overrun the limit by the time it takes to arrive.
    pub fn set_deadline(&mut self, seconds: f64) -> Result<()> {
        self.nb_refuse_other("set_deadline")?;
        self.deadline = secs(seconds)?;
        self.timed |= self.deadline.is_some();
        Ok(())
    }

    /// Starts the deadline of a request about to be written.
    fn start_deadline(&mut self) {
        self.request_deadline = self.deadline.and_then(|d| Instant::now().checked_add(d));
    }

    /// A limit for connecting alone (overrides the timeout for the connect); `<= 0`: use the
    /// timeout.
    pub fn set_connect_timeout(&mut self, seconds: f64) -> Result<()> {
        self.nb_refuse_other("set_connect_timeout")?;
        self.tcp.connect_timeout = secs(seconds)?;
        Ok(())
    }

    pub fn set_strict(&mut self, strict: bool) -> Result<()> {
        self.nb_refuse_other("set_strict")?;
        self.strict = strict;
        Ok(())
    }

    pub fn set_debuglevel(&mut self, level: i32) -> Result<()> {
        self.nb_refuse_other("set_debuglevel")?;
        self.debuglevel = level;
        self.rebuild_debug();
        Ok(())
    }

    pub fn set_debug_callback(&mut self, cb: Option<DebugCallback>) -> Result<()> {
        self.nb_refuse_other("set_debug_callback")?;
        self.debug_callback = cb.map(|c| Arc::new(Mutex::new(c)));
        self.rebuild_debug();
        Ok(())
    }

    fn rebuild_debug(&mut self) {
        let cb = self.debug_callback.clone().map(|shared| {
            let f: DebugCallback = Box::new(move |k, d| {
                let mut g = shared.lock().unwrap_or_else(|p| p.into_inner());
                (*g)(k, d)
            });
            f
        });
        self.debug = DebugSink::new(self.debuglevel, cb).map(Arc::new);
        if let Some(w) = &self.wire {
            lock(w).set_debug(self.debug.clone());
        }
    }

    /// How long a request carrying `Expect: 100-continue` waits for `100 Continue` (or a
    /// final response) before sending its body anyway; `<= 0`: no wait.
    pub fn set_continue_timeout(&mut self, seconds: f64) -> Result<()> {
        self.nb_refuse_other("set_continue_timeout")?;
        self.continue_timeout = secs(seconds)?.unwrap_or(Duration::ZERO);
        Ok(())
    }

    /// Sends every request through a tunnel to `host:port` (httplib's set_tunnel): the
    /// connection's own host and port are then the proxy's, which gets `CONNECT host:port
    /// HTTP/1.1` with `Host` and `headers` (e.g. Proxy-Authorization) on each connect. HTTPS
    /// runs inside the tunnel, verified against (and SNI naming) `host`; the `Host` header of
    /// requests names `host`. `port == 0` takes it from `host` or the scheme's default. Must
    /// be set while the connection is not open.
    pub fn set_tunnel(&mut self, host: &str, port: u16, headers: &[(&[u8], &[u8])]) -> Result<()> {
        self.nb_refuse_other("set_tunnel")?;
        self.check_closed_for_tunnel()?;
        let default = if self.tls.is_some() { 443 } else { 80 };
        let origin = Target::parse(host, port, default)?;
        for (n, v) in headers {
            request::check_header_name(n)?;
            request::check_header_value(n, v)?;
        }
        self.out.forget_plain();
        self.tunnel = Some(Box::new(Tunnel {
            origin,
            headers: headers
                .iter()
                .map(|(n, v)| (n.to_vec(), v.to_vec()))
                .collect(),
        }));
        self.tunnel_head = None;
        Ok(())
    }

    /// Sends requests straight to the connection's host again (while not open).
    pub fn clear_tunnel(&mut self) -> Result<()> {
        self.nb_refuse_other("clear_tunnel")?;
        self.check_closed_for_tunnel()?;
        self.out.forget_plain();
        self.tunnel = None;
        self.tunnel_head = None;
        Ok(())
    }

    fn check_closed_for_tunnel(&self) -> Result<()> {
        if self.opening.is_some() || self.wire.as_ref().is_some_and(|w| !lock(w).is_closed()) {
            return Err(Error::new(
                ErrorKind::ImproperConnectionState,
                "can't change the tunnel of an open connection: close it first",
            ));
        }
        Ok(())
    }

    /// The proxy's answer to the last CONNECT (also when it refused the tunnel).
    pub fn tunnel_response(&self) -> Option<&Head> {
        self.tunnel_head.as_ref()
    }

    /// The server requests are for: the tunnel's end, else the connection's host.
    fn origin(&self) -> &Target {
        self.tunnel.as_ref().map_or(&self.target, |t| &t.origin)
    }

    /// The size of the connection's read buffer, in bytes (httplib's blocksize): each read
    /// from the socket asks for at most this much, except reads straight into a large caller
    /// buffer. 1 KiB to 1 MiB; default 16 KiB. Applies at once to an open connection.
    pub fn set_blocksize(&mut self, size: usize) -> Result<()> {
        self.nb_refuse_other("set_blocksize")?;
        if !(MIN_BLOCK..=MAX_BLOCK).contains(&size) {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                format!("blocksize must be {MIN_BLOCK} to {MAX_BLOCK} bytes, not {size}"),
            ));
        }
        self.block = Some(size);
        if let Some(w) = &self.wire {
            lock(w).set_block(size);
        }
        Ok(())
    }

    /// Blocking mode (true, the default) or non-blocking mode (false): in non-blocking mode
    /// no call waits on the network or sleeps; one that would returns `WouldBlock`, and
    /// [`Connection::want`] says what it waits for. Applies at once to an open connection.
    pub fn set_blocking(&mut self, blocking: bool) -> Result<()> {
        self.nb_refuse_other("set_blocking")?;
        if blocking && self.beginning.is_some() {
            return Err(Error::new(
                ErrorKind::ImproperConnectionState,
                "set_blocking(true) while getresponse is reading a head in non-blocking mode: \
                 finish it first, or close the connection",
            ));
        }
        self.nonblocking = !blocking;
        if let Some(w) = &self.wire {
            lock(w).set_nonblocking(!blocking)?;
        }
        Ok(())
    }

    /// True in non-blocking mode.
    pub fn is_nonblocking(&self) -> bool {
        self.nonblocking
    }

    /// After a call returned `WouldBlock`: what it waits for (WANT_READ and/or WANT_WRITE);
    /// else 0.
    pub fn want(&self) -> u8 {
        self.want
    }

    /// The local address to connect from. Refused while a non-blocking opening is unfinished
    /// (see [`Connection::refuse_mid_opening`]).
    pub fn set_source_address(&mut self, addr: Option<SocketAddr>) -> Result<()> {
        self.refuse_mid_opening("the source address")?;
        self.nb_refuse_other("set_source_address")?;
        self.tcp.source = addr;
        Ok(())
    }

    /// What an opening reads as it goes (the source address at each address tried, the TLS
    /// options at the handshake) must not change under it: while a non-blocking opening is
    /// unfinished, changing them is `ImproperConnectionState`, as `set_tunnel` is.
    fn refuse_mid_opening(&self, what: &str) -> Result<()> {
        if self.opening.is_some() {
            return Err(Error::new(
                ErrorKind::ImproperConnectionState,
                format!(
                    "can't change {what} while the connection is opening (a call that returned \
                     WouldBlock is unfinished): repeat it until it ends, or close the connection"
                ),
            ));
        }
        Ok(())
    }

    /// Replaces TCP/TLS with transports from `factory` (tests, fuzzing).
    pub fn set_transport_factory(&mut self, factory: TransportFactory) {
        self.factory = Some(factory);
    }

    fn tls_mut(&mut self, what: &str) -> Result<&mut Tls> {
        self.tls.as_deref_mut().ok_or_else(|| {
            Error::new(
                ErrorKind::InvalidArgument,
                format!("{what} applies to HTTPS connections only"),
            )
        })
    }

    /// Applies a change to the TLS options, checking it at once by building the context.
    fn update_tls(
        &mut self,
        name: &'static str,
        what: &str,
        change: impl FnOnce(&mut TlsOptions),
    ) -> Result<()> {
        self.refuse_mid_opening(what)?;
        self.nb_refuse_other(name)?;
        let tls = self.tls_mut(what)?;
        let mut opts = tls.opts.clone();
        change(&mut opts);
        let context = tls::build_context(&opts)?;
        tls.opts = opts;
        tls.context = Some(context);
        Ok(())
    }

    /// Sets every TLS option at once with a context already built from `opts` (shared by many
    /// connections), and a hook run on each TLS session before its handshake. For the
    /// URL-level client, which shares one context per set of TLS settings and resumes
    /// sessions.
    pub fn set_tls_config(
        &mut self,
        opts: TlsOptions,
        context: SslContext,
        prepare: Option<tls::TlsPrepare>,
    ) -> Result<()> {
        self.refuse_mid_opening("the TLS configuration")?;
        self.nb_refuse_other("set_tls_config")?;
        let tls = self.tls_mut("a TLS configuration")?;
        tls.opts = opts;
        tls.context = Some(context);
        tls.prepare = prepare;
        Ok(())
    }

    pub fn set_ca_file(&mut self, path: &str) -> Result<()> {
        self.update_tls("set_ca_file", "a CA file", |o| {
            o.ca_file = Some(path.into())
        })
    }

    pub fn set_ca_path(&mut self, path: &str) -> Result<()> {
        self.update_tls("set_ca_path", "a CA directory", |o| {
            o.ca_path = Some(path.into())
        })
    }

    pub fn set_client_cert(&mut self, cert: &str, key: &str) -> Result<()> {
        self.update_tls("set_client_cert", "a client certificate", |o| {
            o.client_cert = Some((cert.into(), key.into()))
        })
    }

    pub fn set_verify(&mut self, verify: bool) -> Result<()> {
        self.update_tls("set_verify", "certificate verification", |o| {
            o.verify = verify
        })
    }

    // ----- opening and closing -----

    fn open(&mut self) -> Result<SharedWire> {
        let peer = self.origin().authority.clone();
        // A non-blocking opening of our own hands over a socket already non-blocking, with the
        // system's default (no) timeouts, which do nothing in this mode anyway.
        let opened_nonblocking = self.nonblocking && self.factory.is_none();
        let io: Stream = if let Some(f) = self.factory.as_mut() {
            f(&self.target)?.into()
        } else if self.nonblocking {
            self.open_nonblocking()?
        } else {
            // An opening left unfinished in non-blocking mode starts over, blocking.
            self.opening = None;
            let mut opts = self.tcp.clone();
            if opts.connect_timeout.is_none() {
                opts.connect_timeout = opts.io_timeout;
            }
            let stream = tcp::connect(self.target.host(), self.target.port, &opts)?;
            // The connect limit covers a proxy's CONNECT and the TLS handshake too, when it
            // differs from the read/write limit (also on a reopen no caller sees); the wire
            // below gives the socket the read/write limit.
            if opts.connect_timeout != self.tcp.io_timeout {
                stream
                    .set_read_timeout(opts.connect_timeout)
                    .and_then(|()| stream.set_write_timeout(opts.connect_timeout))
                    .map_err(|e| Error::io("setting the socket's timeout", &e))?;
            }
            if let Some(t) = &self.tunnel {
                self.tunnel_head = None;
                let (head, result) = open_tunnel(&stream, &self.target, t, self.debug.clone());
                self.tunnel_head = head;
                result?;
            }
            let origin_host = self
                .tunnel
                .as_ref()
                .map_or(&self.target, |t| &t.origin)
                .host()
                .to_owned();
            match &mut self.tls {
                None => TcpTransport(stream).into(),
                Some(tls) => {
                    if tls.context.is_none() {
                        tls.context = Some(tls::build_context(&tls.opts)?);
                    }
                    let c = tls.context.as_ref().unwrap();
                    let s = tls::handshake_prepared(
                        c,
                        tls.opts.verify,
                        &origin_host,
                        stream,
                        tls.prepare.as_ref(),
                    )?;
                    Stream::Boxed(Box::new(TlsTransport::new(s, false)))
                }
            }
        };
        // One thread may drive thousands of non-blocking connections: each borrows a small read
        // buffer while bytes are buffered, grown on need (blocking mode keeps its usual one).
        let mut wire = if opened_nonblocking && self.block.is_none() {
            Wire::lending(io, peer, self.tls.is_some())
        } else {
            Wire::new(io, peer, self.tls.is_some())
        };
        wire.set_debug(self.debug.clone());
        if let Some(n) = self.block {
            wire.set_block(n);
        }
        if !(opened_nonblocking && self.tcp.io_timeout.is_none()) {
            wire.set_io_timeout(self.tcp.io_timeout);
        }
        if opened_nonblocking {
            wire.note_nonblocking();
        } else if self.nonblocking {
            wire.set_nonblocking(true)?;
        }
        if wire.has_debug() {
            let text = format!("connected to {}", self.origin().display());
            wire.debug(DebugKind::Text, text.as_bytes());
        }
        let shared = Arc::new(Mutex::new(wire));
        self.wire = Some(shared.clone());
        Ok(shared)
    }

    /// Opens the connection now, unless it is already open and usable.
    pub fn connect(&mut self) -> Result<()> {
        if self.nonblocking {
            return self.nb_connect();
        }
        self.usable_wire().map(|_| ())
    }

    /// The open connection to send on: reopened when there is none, when it was closed, or
    /// when the server closed it while idle. Also says whether it carried responses before.
    fn usable_wire(&mut self) -> Result<(SharedWire, bool)> {
        if let Some(shared) = &self.wire {
            let mut w = lock(shared);
            if w.check_idle(IDLE_CHECK_AFTER) {
                let reused = w.responses() > 0;
                drop(w);
                return Ok((shared.clone(), reused));
            }
        }
        // In non-blocking mode the wire replaced (or the descriptor given up before) keeps its
        // number until the new descriptor exists, so that the new one never takes it (an event
        // loop comparing numbers sees the change). When the opening fails at once, nothing new
        // exists: the number stays taken.
        let replaced = self.wire.take().filter(|_| self.nonblocking);
        let kept = replaced.map(Retired::Wire).or(self.retired.take());
        let opened = self.open();
        match &opened {
            Err(e) if !e.is_would_block() && self.retired.is_none() => self.retired = kept,
            _ => drop(kept),
        }
        Ok((opened?, false))
    }

    /// A wire given up (closed, or closing when the response reading it ends): non-blocking
    /// mode keeps it, and with it its descriptor's number, until the next descriptor exists.
    fn retire_wire(&mut self, wire: SharedWire) {
        if self.nonblocking {
            self.retired = Some(Retired::Wire(wire));
        }
    }

    /// An opening given up after a call returned `WouldBlock` on its descriptor: its socket
    /// is released, its number kept until the next descriptor exists.
    fn retire_opening(&mut self, o: Box<opening::Opening>) {
        if let Some(fd) = o.held_fd() {
            crate::ffi::park::park(fd);
            self.retired = Some(Retired::Opening(o));
        }
    }

    /// Closes the connection (and the response being read from it, as httplib does). The
    /// next request opens a new one.
    pub fn close(&mut self) {
        self.flight = None;
        self.beginning = None;
        if let Some(o) = self.opening.take() {
            self.retire_opening(o);
        }
        self.abandon(Some("the connection was closed by its owner"));
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

    /// The socket's file descriptor while open. While a non-blocking opening is in
    /// progress, the descriptor it waits on: the resolver's (readable when the name is
    /// resolved), then the socket of each address tried.
    pub fn fileno(&self) -> Option<i32> {
        if let Some(o) = &self.opening {
            return o.fd();
        }
        let w = lock(self.wire.as_ref()?);
        if w.is_closed() {
            None
        } else {
            w.fd()
        }
    }

    // ----- requests -----

    fn begin_request(&mut self, method: &[u8], url: &[u8], skip_host: bool, skip_ae: bool) {
        self.out.clear();
        self.given = GivenHeaders::default();
        request::write_request_line(&mut self.out, method, url);
        if !skip_host {
            let host = match absolute_url_authority(url) {
                Some(a) => a,
                // The tunnel's end when there is one (fields borrowed apart from `out`).
                None => self
                    .tunnel
                    .as_ref()
                    .map_or(&self.target, |t| &t.origin)
                    .host_header()
                    .as_bytes(),
            };
            request::write_header(&mut self.out, b"Host", host);
        }
        if !skip_ae {
            request::write_header(&mut self.out, b"Accept-Encoding", b"identity");
        }
        self.state = State::Started(Pending::new(method));
    }

    fn cannot_send_request(&self) -> Error {
        Error::new(
            ErrorKind::CannotSendRequest,
            match self.state {
                State::Started(_) => "a request is being built: finish it with endheaders",
                _ => "a request was sent: read its response with getresponse first",
            },
        )
    }

    /// Starts a request (httplib's putrequest): `skip_host` and `skip_accept_encoding` leave
    /// out the automatic headers.
    pub fn putrequest(
        &mut self,
        method: &[u8],
        url: &[u8],
        skip_host: bool,
        skip_accept_encoding: bool,
    ) -> Result<()> {
        self.want = 0;
        self.nb_refuse_other("putrequest")?;
        if self.state != State::Idle {
            return Err(self.cannot_send_request());
        }
        request::check_method(method)?;
        let url = crate::url::request_target(url)?;
        self.begin_request(method, &url, skip_host, skip_accept_encoding);
        Ok(())
    }

    /// Adds a header to the request being built (httplib's putheader).
    pub fn putheader(&mut self, name: &[u8], value: &[u8]) -> Result<()> {
        self.add_header(name, value, true)
    }

    /// [`Connection::putheader`] for a header the caller made itself and knows to be valid (the
    /// URL-level client's constant User-Agent and Accept-Encoding): the checks are skipped,
    /// which is most of a header's cost on a warm request.
    pub(crate) fn putheader_trusted(&mut self, name: &[u8], value: &[u8]) -> Result<()> {
        debug_assert!(request::check_header_name(name).is_ok());
        debug_assert!(request::check_header_value(name, value).is_ok());
        self.add_header(name, value, false)
    }

    /// putheader, with or without the checks of the name and value (made after the state's).
    fn add_header(&mut self, name: &[u8], value: &[u8], check: bool) -> Result<()> {
        self.want = 0;
        self.nb_refuse_other("putheader")?;
        if !matches!(self.state, State::Started(_)) {
            return Err(Error::new(
                ErrorKind::CannotSendHeader,
                "putheader needs a request started with putrequest and not yet ended",
            ));
        }
        if check {
            request::check_header_name(name)?;
            request::check_header_value(name, value)?;
        }
        self.given.note(name, value);
        request::write_header(&mut self.out, name, value);
        Ok(())
    }

    /// Ends the headers and sends the request, with `body` when given (httplib's
    /// endheaders(message_body)). With `Transfer-Encoding: chunked` and no `body`, the body
    /// stays open: [`Connection::send_chunk`] sends it, and getresponse ends it if needed.
    pub fn endheaders(&mut self, body: Option<&[u8]>) -> Result<()> {
        let call = Call::new(CallKind::Endheaders, slice_key(body, 0));
        if self.nonblocking && self.nb_enter(call)? {
            return self.nb_drive(None);
        }
        if !matches!(self.state, State::Started(_)) {
            return Err(Error::new(
                ErrorKind::CannotSendHeader,
                "endheaders needs a request started with putrequest and not yet ended",
            ));
        }
        self.out.extend_from_slice(b"\r\n");
        self.mark_sent();
        let chunked = self.given.chunked;
        self.pending().chunk_open = chunked && body.is_none();
        if self.nonblocking {
            self.append_body(body.unwrap_or(&[]), chunked);
            return self.nb_start_request(call, None);
        }
        self.send_request(body.unwrap_or(&[]), chunked)
    }

    /// Sends `data` as one chunk of the chunked body left open by endheaders; empty `data`
    /// ends the body (`0\r\n\r\n`). A failed write closes the connection.
    pub fn send_chunk(&mut self, data: &[u8]) -> Result<()> {
        let call = Call::new(CallKind::SendChunk, slice_key(Some(data), 0));
        if self.nonblocking && self.nb_enter(call)? {
            return self.nb_drive(None);
        }
        let pending = match self.state {
            State::Sent(p) => Some(p),
            _ => None,
        };
        if pending.is_some_and(|p| p.body_withheld) {
            // The server's answer already ended the request: the rest of the body is dropped.
            return Ok(());
        }
        if !pending.is_some_and(|p| p.chunk_open) {
            return Err(Error::new(
                ErrorKind::ImproperConnectionState,
                "send_chunk needs a request with Transfer-Encoding: chunked whose headers were \
                 ended by endheaders without a body, and whose body was not ended yet",
            ));
        }
        let Some(shared) = self.wire.clone() else {
            self.abandon(None);
            return Err(Error::new(
                ErrorKind::NotConnected,
                "the connection was closed after the request head was sent",
            ));
        };
        let mut frame = Vec::with_capacity(data.len() + 24);
        if data.is_empty() {
            frame.extend_from_slice(b"0\r\n\r\n");
        } else {
            request::write_chunk(&mut frame, data);
        }
        if self.nonblocking {
            drop(shared);
            let then = nonblocking::Then::Chunk {
                last: data.is_empty(),
            };
            return self.nb_start_bytes(call, frame, then);
        }
        let mut w = lock(&shared);
        if !data.is_empty() {
            w.debug(DebugKind::DataOut, data);
        }
        let body_start = w.bytes_out();
        let written = w.write_all(&frame);
        if let Err(e) = &written {
            if self.answered_early(&mut w, e, body_start, None) {
                return Ok(());
            }
        }
        drop(w);
        if let Err(e) = written {
            self.abandon(Some("a write failed"));
            return Err(e);
        }
        if data.is_empty() {
            self.out.extend_from_slice(&frame);
            let fits = self.out.len() <= MAX_REPLAY;
            let p = self.pending();
            p.chunk_open = false;
            p.replayable = p.replayable && fits;
        } else {
            self.pending().replayable = false;
        }
        Ok(())
    }

    /// Sends raw bytes on the connection (httplib's send), opening it if needed. A request
    /// that used it can't be sent again by itself.
    pub fn send(&mut self, data: &[u8]) -> Result<()> {
        let call = Call::new(CallKind::Send, slice_key(Some(data), 0));
        if self.nonblocking && self.nb_enter(call)? {
            return self.nb_drive(None);
        }
        if matches!(self.state, State::Started(_)) {
            return Err(Error::new(
                ErrorKind::ImproperConnectionState,
                "send while a request's headers are being built: call endheaders first",
            ));
        }
        if let State::Sent(p) = &mut self.state {
            if p.body_withheld {
                // The server's answer already ended the request: the rest of the body is
                // dropped.
                return Ok(());
            }
            p.replayable = false;
            // Raw bytes after endheaders of a chunked request: the caller frames the body
            // itself (as with http.client), so getresponse must not end it.
            p.chunk_open = false;
        }
        if self.nonblocking {
            return self.nb_start_bytes(call, data.to_vec(), nonblocking::Then::Done);
        }
        let (shared, _) = self.usable_wire()?;
        let mut w = lock(&shared);
        w.debug(DebugKind::DataOut, data);
        let body_start = w.bytes_out();
        match w.write_all(data) {
            Err(e) if self.state.is_sent() && self.answered_early(&mut w, &e, body_start, None) => {
                Ok(())
            }
            Err(e) => {
                w.close("a write failed");
                Err(e)
            }
            Ok(()) => Ok(()),
        }
    }

    /// Checks a whole request's method, URL and headers before anything is written, then
    /// starts it: the request line, the automatic headers the caller does not give, and the
    /// caller's. Returns what the caller's headers say.
    fn start_whole_request(
        &mut self,
        method: &[u8],
        url: &[u8],
        headers: &[(&[u8], &[u8])],
    ) -> Result<GivenHeaders> {
        if self.state != State::Idle {
            return Err(self.cannot_send_request());
        }
        request::check_method(method)?;
        let url = crate::url::request_target(url)?;
        let mut given = GivenHeaders::default();
        for (n, v) in headers {
            request::check_header_name(n)?;
            request::check_header_value(n, v)?;
            given.note(n, v);
        }
        given.check()?;
        self.begin_request(method, &url, given.host, given.accept_encoding);
        for (n, v) in headers {
            request::write_header(&mut self.out, n, v);
        }
        Ok(given)
    }

    /// Sends a whole request (httplib's request): adds Host, Accept-Encoding: identity and
    /// Content-Length as httplib does unless `headers` gives them.
    pub fn request(
        &mut self,
        method: &[u8],
        url: &[u8],
        body: Option<&[u8]>,
        headers: &[(&[u8], &[u8])],
    ) -> Result<()> {
        let call = Call::new(CallKind::Request, slice_key(body, url.as_ptr() as usize));
        if self.nonblocking && self.nb_enter(call)? {
            return self.nb_drive(None);
        }
        let plain = body.is_none() && headers.is_empty();
        let given = if plain && self.state == State::Idle && self.out.is_plain_request(method, url)
        {
            // The same plain request as the last one, its bytes kept: they are what building
            // it would give again (its method and URL were checked then).
            self.state = State::Started(Pending::new(method));
            GivenHeaders::default()
        } else {
            let given = self.start_whole_request(method, url, headers)?;
            if !given.content_length && !given.transfer_encoding {
                match body {
                    Some(b) => {
                        self.out.extend_from_slice(b"Content-Length: ");
                        request::write_decimal(&mut self.out, b.len() as u64);
                        self.out.extend_from_slice(b"\r\n");
                    }
                    None if request::expects_body(method) => {
                        request::write_header(&mut self.out, b"Content-Length", b"0")
                    }
                    None => {}
                }
            }
            self.out.extend_from_slice(b"\r\n");
            if plain {
                self.out.mark_plain();
            }
            given
        };
        self.given = given;
        self.mark_sent();
        if self.nonblocking {
            let b = body.unwrap_or(&[]);
            if given.expect_continue && !b.is_empty() {
                let mut framed = Vec::with_capacity(b.len() + 32);
                if given.chunked {
                    request::write_chunk(&mut framed, b);
                    framed.extend_from_slice(b"0\r\n\r\n");
                } else {
                    framed.extend_from_slice(b);
                }
                return self.nb_start_request(call, Some(framed));
            }
            self.append_body(b, given.chunked);
            return self.nb_start_request(call, None);
        }
        match body {
            Some(b) if given.expect_continue && !b.is_empty() => {
                self.send_expecting_continue(b, given.chunked)
            }
            _ => self.send_request(body.unwrap_or(&[]), given.chunked),
        }
    }

    /// Sends the built head alone, then the body only once the server allows it (or the wait
    /// passed); a final response that came first is left for getresponse.
    fn send_expecting_continue(&mut self, body: &[u8], chunked: bool) -> Result<()> {
        let go = self.send_head_and_wait()?;
        self.out.clear();
        if !go {
            return Ok(());
        }
        let shared = self.wire.clone().expect("send_head_and_wait leaves a wire");
        let mut framed = Vec::new();
        let data = if chunked {
            request::write_chunk(&mut framed, body);
            framed.extend_from_slice(b"0\r\n\r\n");
            &framed[..]
        } else {
            body
        };
        let mut w = lock(&shared);
        w.debug(DebugKind::DataOut, body);
        let body_start = w.bytes_out();
        match w.write_all(data) {
            Err(e) if !self.answered_early(&mut w, &e, body_start, Some(data.len() as u64)) => {
                drop(w);
                self.abandon(Some("a write failed"));
                Err(e)
            }
            _ => Ok(()),
        }
    }

    /// Appends `body` to the request built in `out`, chunk-framed (and ended) when `chunked`
    /// and the body is not left open for send_chunk (non-blocking mode keeps a request whole
    /// in one buffer).
    fn append_body(&mut self, body: &[u8], chunked: bool) {
        if body.is_empty() && !chunked {
            // Nothing to add (and a plain request's bytes stay marked as such).
            return;
        }
        if chunked && !self.pending().chunk_open {
            request::write_chunk(&mut self.out, body);
            self.out.extend_from_slice(b"0\r\n\r\n");
        } else {
            self.out.extend_from_slice(body);
        }
    }

    /// Writes the built head alone, for a body that follows separately (such a request is
    /// never sent again); on failure the request is dropped and the connection is idle.
    fn write_head(&mut self) -> Result<()> {
        let head_len = self.out.len();
        self.start_deadline();
        if let Err(e) = self.write_request(head_len, None) {
            self.abandon(None);
            return Err(e);
        }
        self.pending().replayable = false;
        Ok(())
    }

    /// Writes the built head (a request with `Expect: 100-continue`) and waits for the
    /// server's answer: true when the body may follow (`100 Continue`, or nothing within the
    /// continue timeout), false when a final response (or the end of the stream) came first.
    fn send_head_and_wait(&mut self) -> Result<bool> {
        self.write_head()?;
        let shared = self.wire.clone().expect("write_request leaves a wire");
        let go = await_continue(&shared, self.continue_timeout);
        match go {
            Ok(go) => {
                self.pending().body_withheld = !go;
                Ok(go)
            }
            Err(e) => {
                self.abandon(Some("an interim response could not be read"));
                Err(e)
            }
        }
    }

    /// Sends a request whose body comes from `read` (which fills a buffer and returns the
    /// count, 0 at the end): with `Content-Length: length` when the length is known (exactly
    /// that many bytes are sent), else chunk-encoded. Such a request is never sent again.
    pub fn request_stream(
        &mut self,
        method: &[u8],
        url: &[u8],
        read: &mut dyn FnMut(&mut [u8]) -> std::io::Result<usize>,
        length: Option<u64>,
        headers: &[(&[u8], &[u8])],
    ) -> Result<()> {
        // Not the length: hc_request_fd computes it from the file's position, which moves.
        let call = Call::new(CallKind::RequestStream, [url.as_ptr() as usize, 0, 0]);
        if self.nonblocking && self.nb_enter(call)? {
            return self.nb_drive(Some(read));
        }
        let given = self.start_whole_request(method, url, headers)?;
        let chunked = if given.content_length {
            false
        } else if given.transfer_encoding {
            given.chunked
        } else if let Some(len) = length {
            self.out.extend_from_slice(b"Content-Length: ");
            request::write_decimal(&mut self.out, len);
            self.out.extend_from_slice(b"\r\n");
            false
        } else {
            request::write_header(&mut self.out, b"Transfer-Encoding", b"chunked");
            true
        };
        self.given = given;
        self.out.extend_from_slice(b"\r\n");
        self.mark_sent();
        self.pending().idempotent = false;
        if self.nonblocking {
            let limit = if chunked { None } else { length };
            let cont = (self.given.expect_continue && length != Some(0)).then(Vec::new);
            self.start_deadline();
            return self.nb_start_stream(call, cont, chunked, limit, read);
        }
        if self.given.expect_continue && length != Some(0) {
            if !self.send_head_and_wait()? {
                self.out.clear();
                return Ok(());
            }
        } else {
            self.write_head()?;
        }
        self.out.clear();
        if self.pending().body_withheld {
            // The server answered while the head went out.
            return Ok(());
        }
        let shared = self.wire.clone().expect("write_request leaves a wire");
        let limit = if chunked { None } else { length };
        let body_start = lock(&shared).bytes_out();
        let result = stream_body(&shared, read, chunked, limit);
        if let Err(e) = &result {
            let mut w = lock(&shared);
            if self.answered_early(&mut w, e, body_start, limit) {
                return Ok(());
            }
            drop(w);
            self.abandon(Some("a streamed request body failed"));
        }
        result
    }

    /// Writes the built head and `body` (chunk-encoded when `chunked`), on a reused connection
    /// retrying once on a fresh one when the write fails and the request may be sent again.
    fn send_request(&mut self, body: &[u8], chunked: bool) -> Result<()> {
        let head_len = self.out.len();
        if chunked && !self.pending().chunk_open {
            request::write_chunk(&mut self.out, body);
            self.out.extend_from_slice(b"0\r\n\r\n");
        } else if !body.is_empty() && body.len() <= COALESCE_BODY {
            // (Not for an empty body: a plain request's bytes stay marked as such.)
            self.out.extend_from_slice(body);
        }
        let separate_body = !chunked && body.len() > COALESCE_BODY;
        self.start_deadline();
        let mut result = self.write_request(head_len, separate_body.then_some(body));
        if let Err(e) = &result {
            let p = self.pending();
            let retry = p.sent_on_reused
                && p.idempotent
                && (e.kind() == ErrorKind::ConnectionReset || e.kind() == ErrorKind::Os);
            if retry {
                if let Some(w) = self.wire.take() {
                    lock(&w).close("a write failed");
                }
                result = self.write_request(head_len, separate_body.then_some(body));
            }
        }
        match result {
            // The server answered early: that response ends the request, which is not resent.
            Ok(()) if self.pending().body_withheld => Ok(()),
            Ok(()) => {
                let idempotent = self.pending().idempotent;
                let mut replayable = idempotent && !separate_body && self.out.len() <= MAX_REPLAY;
                if separate_body && idempotent && head_len + body.len() <= MAX_REPLAY {
                    self.out.extend_from_slice(body);
                    replayable = true;
                }
                self.pending().replayable = replayable;
                Ok(())
            }
            Err(e) => {
                self.abandon(None);
                Err(e)
            }
        }
    }

    fn write_request(&mut self, head_len: usize, separate_body: Option<&[u8]>) -> Result<()> {
        let (shared, reused) = self.usable_wire()?;
        self.pending().sent_on_reused = reused;
        let is_head_request = self.pending().is_head_request;
        let mut w = lock(&shared);
        // While an earlier response is being read, its deadline stays in force.
        w.set_deadline(self.request_deadline);
        if w.has_debug() {
            w.debug(DebugKind::HeaderOut, &self.out[..head_len]);
            if self.out.len() > head_len {
                w.debug(DebugKind::DataOut, &self.out[head_len..]);
            }
            if let Some(b) = separate_body {
                w.debug(DebugKind::DataOut, b);
            }
        }
        let body_start = w.bytes_out() + head_len as u64;
        let body_len = (self.out.len() - head_len + separate_body.map_or(0, <[u8]>::len)) as u64;
        let r = w.write_all(&self.out).and_then(|()| match separate_body {
            Some(b) => w.write_all(b),
            None => Ok(()),
        });
        match r {
            Err(e) if !self.answered_early(&mut w, &e, body_start, Some(body_len)) => {
                w.close("a write failed");
                Err(e)
            }
            _ => {
                w.queue(Sent {
                    head: is_head_request,
                    deadline: self.request_deadline,
                });
                Ok(())
            }
        }
    }

    /// A write of the request failed. When the failure is the server closing (a reset or a
    /// broken pipe) and its final answer is already here (an upload refused early: 413, 401,
    /// 417 ...), that answer ends the request: true, the rest of the body is not sent, the
    /// request stays sent for getresponse, and the connection closes after that response.
    /// False when the failure stands. `body_start` is where the body began in the wire's
    /// count of bytes out, `body_len` its length when known (for the debug trace).
    fn answered_early(
        &mut self,
        w: &mut Wire,
        e: &Error,
        body_start: u64,
        body_len: Option<u64>,
    ) -> bool {
        if e.kind() != ErrorKind::ConnectionReset || !w.holds_final_head() {
            return false;
        }
        if w.has_debug() {
            let sent = w.bytes_out().saturating_sub(body_start);
            let of = body_len.map_or(String::new(), |n| format!(" of {n}"));
            let note = format!(
                "the server answered before the request was sent whole (after {sent}{of} body \
                 bytes; {e}): the connection will not be reused"
            );
            w.debug(DebugKind::Text, note.as_bytes());
        }
        let p = self.pending();
        p.body_withheld = true;
        p.replayable = false;
        p.chunk_open = false;
        true
    }

    /// The wire a sent request went out on; the request is abandoned when there is none (the
    /// connection was closed after sending).
    fn sent_wire(&mut self) -> Result<SharedWire> {
        match self.wire.clone() {
            Some(shared) => Ok(shared),
            None => {
                self.abandon(None);
                Err(Error::new(
                    ErrorKind::NotConnected,
                    "the connection was closed after the request was sent",
                ))
            }
        }
    }

    /// Checks that a response can begin on `shared`: the previous one was read to its end and
    /// the wire is still open (else the request is abandoned). Returns how many requests sent
    /// on it wait for their responses.
    fn ready_for_response(&mut self, shared: &SharedWire) -> Result<usize> {
        let w = lock(shared);
        if w.response_active() {
            return Err(Error::new(
                ErrorKind::ResponseNotReady,
                "the previous response was not read to its end",
            ));
        }
        if w.is_closed() {
            let why = w.closed_why();
            drop(w);
            self.abandon(Some(why));
            return Err(Error::new(
                ErrorKind::NotConnected,
                format!("the connection closed after the request was sent: {why}"),
            ));
        }
        Ok(w.outstanding())
    }

    /// Reads the response to the request sent (httplib's getresponse).
    pub fn getresponse(&mut self) -> Result<Response> {
        if self.nonblocking {
            return self.nb_getresponse();
        }
        let State::Sent(pending) = self.state else {
            return Err(Error::new(
                ErrorKind::ResponseNotReady,
                match self.state {
                    State::Idle => "no request was sent",
                    _ => "the request's headers were not ended with endheaders",
                },
            ));
        };
        if pending.chunk_open {
            // The caller did not end the chunked body: end it now.
            self.send_chunk(&[])?;
        }
        let shared = self.sent_wire()?;
        let single = self.ready_for_response(&shared)? == 1;
        let mut result = Response::begin(shared, self.strict);
        if let Err(e) = &result {
            let closed_early = matches!(
                e.kind(),
                ErrorKind::RemoteDisconnected | ErrorKind::ConnectionReset
            );
            let p = self.pending();
            if closed_early && p.sent_on_reused && p.replayable && single {
                result = self.replay();
            }
        }
        let withheld = self.pending().body_withheld;
        // The request is over: its response (or its failure) is the caller's now.
        self.state = State::Idle;
        self.finish_getresponse(result, withheld)
    }

    /// The end of getresponse, the request over: the response is the caller's; the
    /// connection is dropped when the response will close it, or closed when it failed.
    fn finish_getresponse(&mut self, result: Result<Response>, withheld: bool) -> Result<Response> {
        match result {
            Ok(mut resp) => {
                if withheld {
                    // The server answered before the body went out, and may still expect it:
                    // the connection can't carry another request.
                    resp.set_will_close();
                    if let Some(w) = &self.wire {
                        if resp.isclosed() {
                            lock(w).close("the request body was not sent");
                        }
                    }
                }
                if resp.will_close() {
                    // The response owns the connection now; the next request opens another.
                    let wire = self.wire.take();
                    self.reading = wire.as_ref().map(Arc::downgrade);
                    if let Some(w) = wire {
                        self.retire_wire(w);
                    }
                }
                Ok(resp)
            }
            Err(e) => {
                if let Some(w) = self.wire.take() {
                    lock(&w).close("a response failed");
                    self.retire_wire(w);
                }
                Err(e)
            }
        }
    }

    /// Sends the kept request again on a fresh connection and reads its response.
    fn replay(&mut self) -> Result<Response> {
        if let Some(w) = self.wire.take() {
            lock(&w).close("the server closed a reused connection");
        }
        let shared = self.open()?;
        {
            let mut w = lock(&shared);
            w.debug(
                DebugKind::Text,
                b"the server closed a reused connection: sending the request again",
            );
            // The request's deadline still counts from its first sending.
            w.set_deadline(self.request_deadline);
            if let Err(e) = w.write_all(&self.out) {
                w.close("a write failed");
                return Err(e);
            }
            w.queue(Sent {
                head: self.pending().is_head_request,
                deadline: self.request_deadline,
            });
        }
        self.pending().sent_on_reused = false;
        Response::begin(shared, self.strict)
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

/// Copies a streamed body from `read` to the connection, chunk-encoded or at most `limit`
/// bytes (and exactly that many: a shorter source is an error).
fn stream_body(
    shared: &SharedWire,
    read: &mut dyn FnMut(&mut [u8]) -> std::io::Result<usize>,
    chunked: bool,
    limit: Option<u64>,
) -> Result<()> {
    const STEP: usize = 64 * 1024;
    // Room in front for a chunk-size line, behind for its CRLF.
    let mut buf = vec![0u8; STEP + 32];
    let mut sent: u64 = 0;
    loop {
        let want = match limit {
            Some(l) => (l - sent).min(STEP as u64) as usize,
            None => STEP,
        };
        if want == 0 {
            break;
        }
        let n = loop {
            match read(&mut buf[16..16 + want]) {
                Ok(n) => break n.min(want),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(body_source_error(e)),
            }
        };
        if n == 0 {
            if let Some(l) = limit {
                return Err(Error::new(
                    ErrorKind::IncompleteRead,
                    format!("the request body ended after {sent} of {l} bytes"),
                ));
            }
            break;
        }
        let mut w = lock(shared);
        w.debug(DebugKind::DataOut, &buf[16..16 + n]);
        if chunked {
            let size = format!("{n:x}\r\n");
            let start = 16 - size.len();
            buf[start..16].copy_from_slice(size.as_bytes());
            buf[16 + n..16 + n + 2].copy_from_slice(b"\r\n");
            w.write_all(&buf[start..16 + n + 2])?;
        } else {
            w.write_all(&buf[16..16 + n])?;
        }
        sent += n as u64;
    }
    if chunked {
        lock(shared).write_all(b"0\r\n\r\n")?;
    }
    Ok(())
}

/// The error of a failed body source: an [`Error`] carried inside the `io::Error` (a source
/// that aborts on purpose) is returned as is; any other is an OS error.
fn body_source_error(e: std::io::Error) -> Error {
    if e.get_ref().is_some_and(|inner| inner.is::<Error>()) {
        let inner = e.into_inner().expect("checked above");
        return *inner.downcast::<Error>().expect("checked above");
    }
    Error::io("reading the request body", &e)
}

/// Waits, at most `wait`, for the server's answer to a request head with `Expect:
/// 100-continue`: true on `100 Continue` (consumed, with any other interim response before
/// it) or when nothing came in time; false when a final response (left unread for
/// getresponse), something that is not a status line, or the end of the stream came first.
fn await_continue(shared: &SharedWire, wait: Duration) -> Result<bool> {
    let deadline = Instant::now() + wait;
    let mut w = lock(shared);
    loop {
        if w.available().is_empty() {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(true);
            }
            let r = w.fill_within(left, MAX_LINE);
            match r {
                Ok(0) => return Ok(false),
                Ok(_) => {}
                Err(e) if e.kind() == ErrorKind::Timeout => return Ok(true),
                // Reported by getresponse, which reads from the same stream.
                Err(_) => return Ok(false),
            }
        }
        // Bytes came: the status line decides (read with the usual timeout).
        let (s, e) = match w.line(MAX_LINE) {
            Ok(Line::Complete(s, e)) => (s, e),
            _ => return Ok(false),
        };
        let line = w.slice(s, e);
        let line = line.strip_suffix(b"\n").unwrap_or(line);
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let status = match parse_status_line(line) {
            Ok((_, status, _)) => status,
            Err(_) => return Ok(false),
        };
        if !(100..200).contains(&status) || status == 101 {
            return Ok(false);
        }
        read_head(&mut w, false)?;
        if status == 100 {
            return Ok(true);
        }
    }
}

/// Asks the proxy on `stream` for a tunnel (`CONNECT`), returning its answer's head (when one
/// could be read) and whether the tunnel is open: any 2xx. A refusal, a reply that is not
/// HTTP, or a close without a reply is `TunnelFailed` with the proxy's status line in the
/// message; I/O errors (timeout, reset) keep their own kind.
fn open_tunnel(
    stream: &std::net::TcpStream,
    proxy: &Target,
    tunnel: &Tunnel,
    debug: Option<Arc<DebugSink>>,
) -> (Option<Head>, Result<()>) {
    let req = opening::connect_request(tunnel);
    let clone = match stream.try_clone() {
        Ok(c) => c,
        Err(e) => return (None, Err(Error::io("duplicating the proxy socket", &e))),
    };
    let mut wire = Wire::new(TcpTransport(clone), proxy.authority.clone(), false);
    wire.set_debug(debug);
    wire.debug(DebugKind::HeaderOut, &req);
    if let Err(e) = wire.write_all(&req) {
        return (None, Err(e));
    }
    let head = match read_head(&mut wire, false) {
        Ok(h) => h,
        Err(e) if e.kind().is(ErrorKind::Os) => return (None, Err(e)),
        Err(e) => {
            let msg = format!("unreadable reply: {e}");
            return (
                None,
                Err(opening::tunnel_failed(&msg, proxy, &tunnel.origin)),
            );
        }
    };
    let extra = !wire.available().is_empty();
    let result = opening::tunnel_verdict(&head, extra, proxy, &tunnel.origin);
    (Some(head), result)
}

mod nonblocking;
use nonblocking::{Call, CallKind};

/// The address and length of an optional buffer, and `extra`, as the key of a call that must
/// be repeated with the same arguments in non-blocking mode.
fn slice_key(b: Option<&[u8]>, extra: usize) -> [usize; 3] {
    match b {
        Some(b) => [b.as_ptr() as usize, b.len(), extra],
        None => [0, usize::MAX, extra],
    }
}
