//! Opening a connection in non-blocking mode: the steps of the blocking open (resolve, TCP
//! connect to each address in turn, the CONNECT exchange of a tunnel, the TLS handshake), each
//! taken as far as the descriptor allows and resumed by the next call. Nothing here waits or
//! sleeps: a step that would wait says what it waits for (`want`) and on which descriptor
//! ([`Opening::fd`]), which changes from step to step (the resolver's signal, then each
//! address's socket).

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::time::Instant;

use openssl::ssl::MidHandshakeSslStream;

use super::{Connection, Tunnel};
use crate::debug::{DebugKind, DebugSink};
use crate::error::{Error, ErrorKind, Result};
use crate::request;
use crate::response::head::{Head, HeadParser, Status};
use crate::transport::resolver::Resolver;
use crate::transport::tcp::{self, Connecting, TcpTransport};
use crate::transport::tls::{self, Handshake, TlsTransport};
use crate::transport::{Stream, WANT_READ, WANT_WRITE};
use crate::url::Target;

/// An opening in progress: where it stands and when it must be over.
pub(super) struct Opening {
    step: Step,
    /// When the opening must be over, checked on every call (the loop owns time: nothing
    /// here sleeps until then).
    deadline: Option<Instant>,
}

enum Step {
    /// The host name is being resolved off the caller's thread.
    Resolving(Resolver),
    /// A TCP connect is in progress (or about to start) on one of the addresses.
    Connecting(Connecting),
    /// The CONNECT request is being written to the proxy, or its answer read.
    Tunnel(Box<TunnelExchange>),
    /// The TLS handshake is in progress.
    Handshake(MidHandshakeSslStream<TcpStream>),
    /// Between two steps (never seen outside [`Connection::advance_opening`]).
    Empty,
}

impl Opening {
    /// The descriptor the opening waits on: the resolver's signal while resolving, then the
    /// socket.
    pub(super) fn fd(&self) -> Option<i32> {
        match &self.step {
            Step::Resolving(r) => r.fd(),
            Step::Connecting(c) => c.fd(),
            Step::Tunnel(t) => crate::sys::socket_number(&t.stream),
            Step::Handshake(mid) => crate::sys::socket_number(mid.get_ref()),
            Step::Empty => None,
        }
    }

    /// The descriptor it still holds, also after it failed (a refused connect's socket):
    /// the one to keep when it is given up.
    pub(super) fn held_fd(&self) -> Option<i32> {
        match &self.step {
            Step::Connecting(c) => c.held_fd(),
            _ => self.fd(),
        }
    }
}

/// What one round of an opening came to.
enum Progress {
    /// The connection is open.
    Open(Stream),
    /// The step waits for the descriptor (WANT_READ or WANT_WRITE).
    Waits(u8),
}

impl Connection {
    /// When the non-blocking opening in progress must be over (the deadline option), if one
    /// is in progress and must: the latest time the caller must call again.
    pub fn opening_deadline(&self) -> Option<Instant> {
        self.opening.as_ref()?.deadline
    }

    /// Opens the connection without waiting: the transport once the connection is open (a
    /// non-blocking socket, the tunnel and the TLS session established), else `WouldBlock`
    /// with `want` set and the progress kept for the next call. Any other error ends the
    /// opening; the next call starts another.
    pub(super) fn open_nonblocking(&mut self) -> Result<Stream> {
        let (mut opening, started) = match self.opening.take() {
            Some(o) => (o, false),
            None => (Box::new(self.start_opening()?), true),
        };
        if opening.deadline.is_some_and(|d| Instant::now() >= d) {
            let e = Error::new(
                ErrorKind::Timeout,
                format!(
                    "opening the connection to {}: the deadline passed",
                    self.target.display()
                ),
            );
            return Err(self.opening_failed(opening, started, e));
        }
        // A name's resolution has only just started: the call that starts it always waits
        // for the resolver's descriptor, however fast the answer (one rule, no race).
        let progress = if started && matches!(opening.step, Step::Resolving(_)) {
            Progress::Waits(WANT_READ)
        } else {
            match self.advance_opening(&mut opening.step) {
                Ok(p) => p,
                Err(e) => return Err(self.opening_failed(opening, started, e)),
            }
        };
        match progress {
            Progress::Open(io) => Ok(io),
            Progress::Waits(want) => {
                self.want = want;
                let what = match opening.step {
                    Step::Resolving(_) => "resolving",
                    Step::Connecting(_) => "connecting to",
                    Step::Tunnel(_) => "opening the tunnel through",
                    Step::Handshake(_) | Step::Empty => "the TLS handshake with",
                };
                let peer = match opening.step {
                    Step::Handshake(_) => &self.origin().authority,
                    _ => &self.target.authority,
                };
                let e = Error::would_block_at(what, peer);
                self.opening = Some(opening);
                Err(e)
            }
        }
    }

    /// An opening ended by `e`. One that a call already returned `WouldBlock` for keeps the
    /// number of the descriptor it still holds until the next descriptor exists (the loop may
    /// have registered it).
    fn opening_failed(&mut self, opening: Box<Opening>, started: bool, e: Error) -> Error {
        if !started {
            self.retire_opening(opening);
        }
        e
    }

    /// The first step: the addresses of an IP literal at once, a name's from a resolver
    /// thread. The opening's deadline is the request's, when one is being sent, else the
    /// deadline option counted from now.
    fn start_opening(&mut self) -> Result<Opening> {
        let host = self.target.host();
        let step = match tcp::literal_addr(host, self.target.port) {
            Some(addr) => Step::Connecting(Connecting::new(addr, self.tcp.source)),
            None => Step::Resolving(Resolver::start(host, self.target.port)?),
        };
        let deadline = self
            .request_deadline
            .or_else(|| self.deadline.and_then(|d| Instant::now().checked_add(d)));
        Ok(Opening { step, deadline })
    }

    /// Takes the opening's steps as far as they go without waiting.
    fn advance_opening(&mut self, step: &mut Step) -> Result<Progress> {
        loop {
            let next = match step {
                Step::Resolving(r) => match r.poll() {
                    None => return Ok(Progress::Waits(WANT_READ)),
                    Some(addrs) => {
                        let addrs = addrs?;
                        let Step::Resolving(r) = std::mem::replace(step, Step::Empty) else {
                            unreachable!("matched above")
                        };
                        Step::Connecting(Connecting::after(r, addrs, self.tcp.source))
                    }
                },
                Step::Connecting(c) => match c.advance(self.target.host())? {
                    None => return Ok(Progress::Waits(WANT_WRITE)),
                    Some(stream) => match &self.tunnel {
                        Some(t) => {
                            self.tunnel_head = None;
                            let ex = TunnelExchange::new(stream, t, self.debug.as_deref());
                            Step::Tunnel(Box::new(ex))
                        }
                        None => return self.after_tcp(stream, step),
                    },
                },
                Step::Tunnel(ex) => {
                    let r = ex.advance(&self.target, self.debug.as_deref());
                    match r {
                        Err(e) => {
                            self.tunnel_head = ex.take_head();
                            return Err(e);
                        }
                        Ok(Some(want)) => return Ok(Progress::Waits(want)),
                        Ok(None) => {
                            self.tunnel_head = ex.take_head();
                            let Step::Tunnel(ex) = std::mem::replace(step, Step::Empty) else {
                                unreachable!("matched above")
                            };
                            return self.after_tcp(ex.stream, step);
                        }
                    }
                }
                Step::Handshake(_) => {
                    let Step::Handshake(mid) = std::mem::replace(step, Step::Empty) else {
                        unreachable!("matched above")
                    };
                    let verify = self.tls.as_ref().is_some_and(|t| t.opts.verify);
                    let host = self.origin().host().to_owned();
                    match tls::continue_handshake(mid, verify, &host)? {
                        Handshake::Done(s) => {
                            return Ok(Progress::Open(Stream::Boxed(Box::new(TlsTransport::new(
                                s, true,
                            )))))
                        }
                        Handshake::Wants(mid, want) => {
                            *step = Step::Handshake(mid);
                            return Ok(Progress::Waits(want));
                        }
                        Handshake::Failed(mid, e) => {
                            // Kept with its socket: a given-up opening keeps its number.
                            *step = Step::Handshake(mid);
                            return Err(e);
                        }
                    }
                }
                Step::Empty => unreachable!("a step is always put back"),
            };
            *step = next;
        }
    }

    /// The stream to the server (through the tunnel when there is one) is open: plain HTTP
    /// is ready; HTTPS starts its handshake, which becomes the `step` when it must wait.
    fn after_tcp(&mut self, stream: TcpStream, step: &mut Step) -> Result<Progress> {
        if self.tls.is_none() {
            return Ok(Progress::Open(TcpTransport(stream).into()));
        }
        let host = self.origin().host().to_owned();
        let tls = self.tls.as_mut().expect("checked above");
        if tls.context.is_none() {
            tls.context = Some(tls::build_context(&tls.opts)?);
        }
        let ctx = tls.context.as_ref().expect("built above");
        match tls::start_handshake(ctx, tls.opts.verify, &host, stream, tls.prepare.as_ref())? {
            Handshake::Done(s) => Ok(Progress::Open(Stream::Boxed(Box::new(TlsTransport::new(
                s, true,
            ))))),
            Handshake::Wants(mid, want) => {
                *step = Step::Handshake(mid);
                Ok(Progress::Waits(want))
            }
            Handshake::Failed(mid, e) => {
                *step = Step::Handshake(mid);
                Err(e)
            }
        }
    }
}

/// The CONNECT request of a tunnel to the proxy `proxy`: `CONNECT host:port`, `Host` and the
/// tunnel's own headers.
pub(super) fn connect_request(tunnel: &Tunnel) -> Vec<u8> {
    let authority = tunnel.origin.display();
    let mut req = Vec::with_capacity(256);
    req.extend_from_slice(b"CONNECT ");
    req.extend_from_slice(authority.as_bytes());
    req.extend_from_slice(b" HTTP/1.1\r\n");
    request::write_header(&mut req, b"Host", authority.as_bytes());
    for (n, v) in &tunnel.headers {
        request::write_header(&mut req, n, v);
    }
    req.extend_from_slice(b"\r\n");
    req
}

/// The proxy refused the tunnel, or its answer can't be read as one: `TunnelFailed` naming
/// the proxy and the origin.
pub(super) fn tunnel_failed(msg: &str, proxy: &Target, origin: &Target) -> Error {
    Error::new(
        ErrorKind::TunnelFailed,
        format!(
            "Tunnel connection failed: {msg} (proxy {}, tunnel to {})",
            proxy.display(),
            origin.display()
        ),
    )
}

/// What the proxy's answer `head` means: the tunnel is open on any 2xx that is followed by
/// nothing (`extra`: bytes came after the head).
pub(super) fn tunnel_verdict(
    head: &Head,
    extra: bool,
    proxy: &Target,
    origin: &Target,
) -> Result<()> {
    if !(200..300).contains(&head.status) {
        let msg = format!("{} {}", head.status, String::from_utf8_lossy(head.reason()));
        return Err(tunnel_failed(&msg, proxy, origin));
    }
    if extra {
        return Err(tunnel_failed(
            "the proxy sent bytes after its answer",
            proxy,
            origin,
        ));
    }
    Ok(())
}

/// The CONNECT exchange on a non-blocking socket: the request written (resuming where a
/// write stopped), then the proxy's head read with the resumable head parser.
struct TunnelExchange {
    stream: TcpStream,
    origin: Target,
    request: Vec<u8>,
    written: usize,
    /// Bytes read and not yet consumed by the parser (a line not yet ended).
    buf: Vec<u8>,
    parser: HeadParser,
    head: Head,
    /// The head was parsed whole.
    head_read: bool,
}

impl TunnelExchange {
    fn new(stream: TcpStream, tunnel: &Tunnel, debug: Option<&DebugSink>) -> TunnelExchange {
        let request = connect_request(tunnel);
        if let Some(d) = debug {
            d.event(DebugKind::HeaderOut, &request);
        }
        TunnelExchange {
            stream,
            origin: tunnel.origin.clone(),
            request,
            written: 0,
            buf: Vec::new(),
            parser: HeadParser::new(),
            head: Head::default(),
            head_read: false,
        }
    }

    /// The proxy's answer, once its status line was read (also when the tunnel failed).
    fn take_head(&mut self) -> Option<Head> {
        self.head_read.then(|| std::mem::take(&mut self.head))
    }

    /// Goes as far as the socket allows: None when the tunnel is open, Some(want) while it
    /// waits. A refusal, a reply that is not HTTP, or a close without a reply is
    /// `TunnelFailed`; I/O errors keep their own kind, as in blocking mode.
    fn advance(&mut self, proxy: &Target, debug: Option<&DebugSink>) -> Result<Option<u8>> {
        let peer = proxy.display();
        while self.written < self.request.len() {
            match self.stream.write(&self.request[self.written..]) {
                Ok(0) => {
                    let e = io::Error::from(io::ErrorKind::WriteZero);
                    return Err(Error::io(&format!("write to {peer}"), &e));
                }
                Ok(n) => self.written += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(Some(WANT_WRITE)),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(Error::io(&format!("write to {peer}"), &e)),
            }
        }
        let mut chunk = [0u8; 4096];
        loop {
            let n = match self.stream.read(&mut chunk) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(Some(WANT_READ)),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(Error::io(&format!("read from {peer}"), &e)),
            };
            let unreadable =
                |e: Error| tunnel_failed(&format!("unreadable reply: {e}"), proxy, &self.origin);
            if n == 0 {
                self.parser
                    .end_of_stream(&self.buf, &peer)
                    .map_err(unreadable)?;
                self.head_read = true;
                return tunnel_verdict(&self.head, false, proxy, &self.origin).map(|()| None);
            }
            self.buf.extend_from_slice(&chunk[..n]);
            match self
                .parser
                .parse(&self.buf, &mut self.head, debug)
                .map_err(unreadable)?
            {
                Status::Partial(used) => {
                    self.buf.drain(..used);
                }
                Status::Complete(used) => {
                    self.head_read = true;
                    let extra = self.buf.len() > used;
                    return tunnel_verdict(&self.head, extra, proxy, &self.origin).map(|()| None);
                }
            }
        }
    }
}
