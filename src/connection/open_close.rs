//! Opening the connection in blocking mode (through a proxy's tunnel when one is set),
//! reusing it or opening it again, giving up its descriptors, and closing it. Non-blocking
//! opening is in `opening`.

use std::sync::{Arc, Mutex};

use super::{opening, Connection, Retired, Tunnel, IDLE_CHECK_AFTER};
use crate::debug::{DebugKind, DebugSink};
use crate::error::{Error, ErrorKind, Result};
use crate::response::head::{read_head, Head};
use crate::transport::tcp::{self, TcpTransport};
use crate::transport::tls::{self, TlsTransport};
use crate::transport::Stream;
use crate::url::Target;
use crate::wire::{lock, SharedWire, Wire};

impl Connection {
    pub(super) fn open(&mut self) -> Result<SharedWire> {
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
    pub(super) fn usable_wire(&mut self) -> Result<(SharedWire, bool)> {
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
    pub(super) fn retire_wire(&mut self, wire: SharedWire) {
        if self.nonblocking {
            self.retired = Some(Retired::Wire(wire));
        }
    }

    /// An opening given up after a call returned `WouldBlock` on its descriptor: its socket
    /// is released, its number kept until the next descriptor exists.
    pub(super) fn retire_opening(&mut self, o: Box<opening::Opening>) {
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
