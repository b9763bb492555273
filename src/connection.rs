//! httplib's HTTPConnection: options, the request state machine (idle -> request started ->
//! request sent), keep-alive, reopening a connection the server closed, and getresponse.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use openssl::ssl::SslConnector;

use crate::debug::{DebugCallback, DebugKind, DebugSink};
use crate::error::{Error, ErrorKind, Result};
use crate::request::{self, GivenHeaders};
use crate::response::Response;
use crate::transport::tcp::{self, TcpOptions, TcpTransport};
use crate::transport::tls::{self, TlsOptions, TlsTransport};
use crate::transport::Transport;
use crate::url::{absolute_url_authority, Target};
use crate::wire::{lock, Sent, SharedWire, Wire};

/// A connection that sat idle at least this long is checked, without blocking, for a close
/// by the server before it carries another request. Checking every time would cost a system
/// call per request; a close that races the request is caught by the retry instead.
const IDLE_CHECK_AFTER: Duration = Duration::from_millis(1);
/// Requests up to this size are kept, so that they can be sent again on a fresh connection.
const MAX_REPLAY: usize = 1024 * 1024;
/// A body up to this size is copied behind the head and sent with it in one write.
const COALESCE_BODY: usize = 64 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Idle,
    Started,
    Sent,
}

/// Makes transports for a connection instead of TCP/TLS (tests and fuzzers).
pub type TransportFactory = Box<dyn FnMut(&Target) -> Result<Box<dyn Transport>> + Send>;

struct Tls {
    opts: TlsOptions,
    connector: Option<Arc<SslConnector>>,
}

/// An HTTP/1.1 connection to one host (httplib's HTTPConnection / HTTPSConnection).
pub struct Connection {
    target: Target,
    tls: Option<Tls>,
    tcp: TcpOptions,
    strict: bool,
    debuglevel: i32,
    debug_callback: Option<Arc<Mutex<DebugCallback>>>,
    debug: Option<Arc<DebugSink>>,
    factory: Option<TransportFactory>,
    wire: Option<SharedWire>,
    state: State,
    /// The request being built, then the bytes of the last request sent when it may be sent
    /// again (idempotent, body in memory).
    out: Vec<u8>,
    replayable: bool,
    method_is_head: bool,
    method_idempotent: bool,
    /// The request went out on a connection that had already carried a response.
    sent_on_reused: bool,
    given: GivenHeaders,
    /// The deadline option: how long one request may take, sending through its response.
    deadline: Option<Duration>,
    /// When the request being sent must be over.
    request_deadline: Option<Instant>,
}

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
            connector: None,
        };
        Self::with_target(Target::parse(host, port, 443)?, Some(tls))
    }

    fn with_target(target: Target, tls: Option<Tls>) -> Result<Connection> {
        Ok(Connection {
            target,
            tls,
            tcp: TcpOptions::default(),
            strict: true,
            debuglevel: 0,
            debug_callback: None,
            debug: None,
            factory: None,
            wire: None,
            state: State::Idle,
            out: Vec::with_capacity(512),
            replayable: false,
            method_is_head: false,
            method_idempotent: false,
            sent_on_reused: false,
            given: GivenHeaders::default(),
            deadline: None,
            request_deadline: None,
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
        let t = secs(seconds)?;
        self.tcp.io_timeout = t;
        if let Some(w) = &self.wire {
            let mut w = lock(w);
            w.io_timeout = t;
            let _ = w.io.set_io_timeout(t);
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
        self.deadline = secs(seconds)?;
        Ok(())
    }

    /// Starts the deadline of a request about to be written.
    fn start_deadline(&mut self) {
        self.request_deadline = self.deadline.and_then(|d| Instant::now().checked_add(d));
    }

    /// A limit for connecting alone (overrides the timeout for the connect); `<= 0`: use the
    /// timeout.
    pub fn set_connect_timeout(&mut self, seconds: f64) -> Result<()> {
        self.tcp.connect_timeout = secs(seconds)?;
        Ok(())
    }

    pub fn set_strict(&mut self, strict: bool) {
        self.strict = strict;
    }

    pub fn set_debuglevel(&mut self, level: i32) {
        self.debuglevel = level;
        self.rebuild_debug();
    }

    pub fn set_debug_callback(&mut self, cb: Option<DebugCallback>) {
        self.debug_callback = cb.map(|c| Arc::new(Mutex::new(c)));
        self.rebuild_debug();
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
            lock(w).debug = self.debug.clone();
        }
    }

    /// The local address to connect from.
    pub fn set_source_address(&mut self, addr: Option<SocketAddr>) {
        self.tcp.source = addr;
    }

    /// Replaces TCP/TLS with transports from `factory` (tests, fuzzing).
    pub fn set_transport_factory(&mut self, factory: TransportFactory) {
        self.factory = Some(factory);
    }

    fn tls_mut(&mut self, what: &str) -> Result<&mut Tls> {
        self.tls.as_mut().ok_or_else(|| {
            Error::new(
                ErrorKind::InvalidArgument,
                format!("{what} applies to HTTPS connections only"),
            )
        })
    }

    /// Applies a change to the TLS options, checking it at once by building the context.
    fn update_tls(&mut self, what: &str, change: impl FnOnce(&mut TlsOptions)) -> Result<()> {
        let tls = self.tls_mut(what)?;
        let mut opts = tls.opts.clone();
        change(&mut opts);
        let connector = tls::build_connector(&opts)?;
        tls.opts = opts;
        tls.connector = Some(Arc::new(connector));
        Ok(())
    }

    pub fn set_ca_file(&mut self, path: &str) -> Result<()> {
        self.update_tls("a CA file", |o| o.ca_file = Some(path.into()))
    }

    pub fn set_ca_path(&mut self, path: &str) -> Result<()> {
        self.update_tls("a CA directory", |o| o.ca_path = Some(path.into()))
    }

    pub fn set_client_cert(&mut self, cert: &str, key: &str) -> Result<()> {
        self.update_tls("a client certificate", |o| {
            o.client_cert = Some((cert.into(), key.into()))
        })
    }

    pub fn set_verify(&mut self, verify: bool) -> Result<()> {
        self.update_tls("certificate verification", |o| o.verify = verify)
    }

    // ----- opening and closing -----

    fn open(&mut self) -> Result<SharedWire> {
        let peer = self.target.display();
        let io: Box<dyn Transport> = if let Some(f) = self.factory.as_mut() {
            f(&self.target)?
        } else {
            let mut opts = self.tcp.clone();
            if opts.connect_timeout.is_none() {
                opts.connect_timeout = opts.io_timeout;
            }
            let stream = tcp::connect(&self.target.host, self.target.port, &opts)?;
            match &mut self.tls {
                None => Box::new(TcpTransport(stream)),
                Some(tls) => {
                    if tls.connector.is_none() {
                        tls.connector = Some(Arc::new(tls::build_connector(&tls.opts)?));
                    }
                    let c = tls.connector.as_ref().unwrap();
                    let s = tls::handshake(c, tls.opts.verify, &self.target.host, stream)?;
                    Box::new(TlsTransport(s))
                }
            }
        };
        let mut wire = Wire::new(io, peer, self.tls.is_some());
        wire.debug = self.debug.clone();
        wire.io_timeout = self.tcp.io_timeout;
        wire.debug(
            DebugKind::Text,
            format!("connected to {}", self.target.display()).as_bytes(),
        );
        let shared = Arc::new(Mutex::new(wire));
        self.wire = Some(shared.clone());
        Ok(shared)
    }

    /// Opens the connection now, unless it is already open and usable.
    pub fn connect(&mut self) -> Result<()> {
        self.usable_wire().map(|_| ())
    }

    /// The open connection to send on: reopened when there is none, when it was closed, or
    /// when the server closed it while idle. Also says whether it carried responses before.
    fn usable_wire(&mut self) -> Result<(SharedWire, bool)> {
        if let Some(shared) = &self.wire {
            let mut w = lock(shared);
            let idle = !w.response_active && w.outstanding.is_empty();
            if !w.closed
                && idle
                && w.responses > 0
                && w.last_used.elapsed() >= IDLE_CHECK_AFTER
                && w.io.closed_while_idle()
            {
                w.close("the server closed the connection while it was idle");
            }
            if !w.closed {
                let reused = w.responses > 0;
                drop(w);
                return Ok((shared.clone(), reused));
            }
        }
        self.wire = None;
        Ok((self.open()?, false))
    }

    /// Closes the connection (and the response being read from it, as httplib does). The
    /// next request opens a new one.
    pub fn close(&mut self) {
        if let Some(shared) = self.wire.take() {
            lock(&shared).close("the connection was closed by its owner");
        }
        self.state = State::Idle;
        self.out.clear();
        self.replayable = false;
    }

    /// The socket's file descriptor while open.
    pub fn fileno(&self) -> Option<i32> {
        let w = lock(self.wire.as_ref()?);
        if w.closed {
            None
        } else {
            w.io.fd()
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
                None => self.target.host_header.as_bytes(),
            };
            request::write_header(&mut self.out, b"Host", host);
        }
        if !skip_ae {
            request::write_header(&mut self.out, b"Accept-Encoding", b"identity");
        }
        self.method_is_head = method.eq_ignore_ascii_case(b"HEAD");
        self.method_idempotent = request::is_idempotent(method);
        self.replayable = false;
        self.state = State::Started;
    }

    fn cannot_send_request(&self) -> Error {
        Error::new(
            ErrorKind::CannotSendRequest,
            match self.state {
                State::Started => "a request is being built: finish it with endheaders",
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
        if self.state != State::Idle {
            return Err(self.cannot_send_request());
        }
        request::check_method(method)?;
        request::check_url(url)?;
        self.begin_request(method, url, skip_host, skip_accept_encoding);
        Ok(())
    }

    /// Adds a header to the request being built (httplib's putheader).
    pub fn putheader(&mut self, name: &[u8], value: &[u8]) -> Result<()> {
        if self.state != State::Started {
            return Err(Error::new(
                ErrorKind::CannotSendHeader,
                "putheader needs a request started with putrequest and not yet ended",
            ));
        }
        request::check_header_name(name)?;
        request::check_header_value(name, value)?;
        self.given.note(name, value);
        request::write_header(&mut self.out, name, value);
        Ok(())
    }

    /// Ends the headers and sends the request, with `body` when given (httplib's
    /// endheaders(message_body)).
    pub fn endheaders(&mut self, body: Option<&[u8]>) -> Result<()> {
        if self.state != State::Started {
            return Err(Error::new(
                ErrorKind::CannotSendHeader,
                "endheaders needs a request started with putrequest and not yet ended",
            ));
        }
        self.out.extend_from_slice(b"\r\n");
        self.state = State::Sent;
        let chunked = self.given.chunked;
        self.send_request(body.unwrap_or(&[]), chunked)
    }

    /// Sends raw bytes on the connection (httplib's send), opening it if needed. A request
    /// that used it can't be sent again by itself.
    pub fn send(&mut self, data: &[u8]) -> Result<()> {
        if self.state == State::Started {
            return Err(Error::new(
                ErrorKind::ImproperConnectionState,
                "send while a request's headers are being built: call endheaders first",
            ));
        }
        self.replayable = false;
        let (shared, _) = self.usable_wire()?;
        let mut w = lock(&shared);
        w.debug(DebugKind::DataOut, data);
        w.write_all(data).inspect_err(|_| w.close("a write failed"))
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
        if self.state != State::Idle {
            return Err(self.cannot_send_request());
        }
        request::check_method(method)?;
        request::check_url(url)?;
        let mut given = GivenHeaders::default();
        for (n, v) in headers {
            request::check_header_name(n)?;
            request::check_header_value(n, v)?;
            given.note(n, v);
        }
        given.check()?;
        self.begin_request(method, url, given.host, given.accept_encoding);
        for (n, v) in headers {
            request::write_header(&mut self.out, n, v);
        }
        self.given = given;
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
        self.state = State::Sent;
        self.send_request(body.unwrap_or(&[]), given.chunked)
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
        if self.state != State::Idle {
            return Err(self.cannot_send_request());
        }
        request::check_method(method)?;
        request::check_url(url)?;
        let mut given = GivenHeaders::default();
        for (n, v) in headers {
            request::check_header_name(n)?;
            request::check_header_value(n, v)?;
            given.note(n, v);
        }
        given.check()?;
        self.begin_request(method, url, given.host, given.accept_encoding);
        for (n, v) in headers {
            request::write_header(&mut self.out, n, v);
        }
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
        self.state = State::Sent;
        self.method_idempotent = false;
        let head_len = self.out.len();
        self.start_deadline();
        if let Err(e) = self.write_request(head_len, None) {
            self.state = State::Idle;
            self.out.clear();
            return Err(e);
        }
        self.replayable = false;
        let shared = self.wire.clone().expect("write_request leaves a wire");
        let limit = if chunked { None } else { length };
        let result = stream_body(&shared, read, chunked, limit);
        if result.is_err() {
            lock(&shared).close("a streamed request body failed");
            self.wire = None;
            self.state = State::Idle;
        }
        self.out.clear();
        result
    }

    /// Writes the built head and `body` (chunk-encoded when `chunked`), on a reused connection
    /// retrying once on a fresh one when the write fails and the request may be sent again.
    fn send_request(&mut self, body: &[u8], chunked: bool) -> Result<()> {
        let head_len = self.out.len();
        if chunked {
            request::write_chunk(&mut self.out, body);
            self.out.extend_from_slice(b"0\r\n\r\n");
        } else if body.len() <= COALESCE_BODY {
            self.out.extend_from_slice(body);
        }
        let separate_body = !chunked && body.len() > COALESCE_BODY;
        self.start_deadline();
        let mut result = self.write_request(head_len, separate_body.then_some(body));
        if let Err(e) = &result {
            let retry = self.sent_on_reused
                && self.method_idempotent
                && (e.kind() == ErrorKind::ConnectionReset || e.kind() == ErrorKind::Os);
            if retry {
                if let Some(w) = self.wire.take() {
                    lock(&w).close("a write failed");
                }
                result = self.write_request(head_len, separate_body.then_some(body));
            }
        }
        match result {
            Ok(()) => {
                self.replayable =
                    self.method_idempotent && !separate_body && self.out.len() <= MAX_REPLAY;
                if separate_body && self.method_idempotent && head_len + body.len() <= MAX_REPLAY {
                    self.out.extend_from_slice(body);
                    self.replayable = true;
                }
                Ok(())
            }
            Err(e) => {
                self.state = State::Idle;
                self.out.clear();
                Err(e)
            }
        }
    }

    fn write_request(&mut self, head_len: usize, separate_body: Option<&[u8]>) -> Result<()> {
        let (shared, reused) = self.usable_wire()?;
        self.sent_on_reused = reused;
        let mut w = lock(&shared);
        if !w.response_active {
            // While an earlier response is being read, its deadline stays in force.
            w.deadline = self.request_deadline;
        }
        if w.debug.is_some() {
            w.debug(DebugKind::HeaderOut, &self.out[..head_len]);
            if self.out.len() > head_len {
                w.debug(DebugKind::DataOut, &self.out[head_len..]);
            }
            if let Some(b) = separate_body {
                w.debug(DebugKind::DataOut, b);
            }
        }
        let r = w.write_all(&self.out).and_then(|()| match separate_body {
            Some(b) => w.write_all(b),
            None => Ok(()),
        });
        match r {
            Ok(()) => {
                w.outstanding.push_back(Sent {
                    head: self.method_is_head,
                    deadline: self.request_deadline,
                });
                Ok(())
            }
            Err(e) => {
                w.close("a write failed");
                Err(e)
            }
        }
    }

    /// Reads the response to the request sent (httplib's getresponse).
    pub fn getresponse(&mut self) -> Result<Response> {
        if self.state != State::Sent {
            return Err(Error::new(
                ErrorKind::ResponseNotReady,
                match self.state {
                    State::Idle => "no request was sent",
                    _ => "the request's headers were not ended with endheaders",
                },
            ));
        }
        let Some(shared) = self.wire.clone() else {
            self.state = State::Idle;
            return Err(Error::new(
                ErrorKind::NotConnected,
                "the connection was closed after the request was sent",
            ));
        };
        {
            let w = lock(&shared);
            if w.response_active {
                return Err(Error::new(
                    ErrorKind::ResponseNotReady,
                    "the previous response was not read to its end",
                ));
            }
            if w.closed {
                let why = w.closed_why;
                drop(w);
                self.state = State::Idle;
                self.wire = None;
                return Err(Error::new(
                    ErrorKind::NotConnected,
                    format!("the connection closed after the request was sent: {why}"),
                ));
            }
        }
        let single = lock(&shared).outstanding.len() == 1;
        let mut result = Response::begin(shared, self.strict);
        if let Err(e) = &result {
            let closed_early = matches!(
                e.kind(),
                ErrorKind::RemoteDisconnected | ErrorKind::ConnectionReset
            );
            if closed_early && self.sent_on_reused && self.replayable && single {
                result = self.replay();
            }
        }
        self.state = State::Idle;
        match result {
            Ok(resp) => {
                if resp.will_close() {
                    // The response owns the connection now; the next request opens another.
                    self.wire = None;
                }
                Ok(resp)
            }
            Err(e) => {
                if let Some(w) = self.wire.take() {
                    lock(&w).close("a response failed");
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
            w.deadline = self.request_deadline;
            if let Err(e) = w.write_all(&self.out) {
                w.close("a write failed");
                return Err(e);
            }
            w.outstanding.push_back(Sent {
                head: self.method_is_head,
                deadline: self.request_deadline,
            });
        }
        self.sent_on_reused = false;
        Response::begin(shared, self.strict)
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        // A response still being read keeps the connection open; an idle one is closed.
        if let Some(shared) = self.wire.take() {
            let mut w = lock(&shared);
            if !w.response_active {
                w.close("the connection was freed");
            }
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
                Err(e) => return Err(Error::io("reading the request body", &e)),
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
