//! The connection's options: their setters and getters (timeouts and the request deadline,
//! strictness, debugging, the tunnel, the block size, blocking mode, the source address,
//! TLS), applied at once to an open connection where they can be.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use openssl::ssl::SslContext;

use super::{Connection, Tls, TransportFactory, Tunnel};
use crate::debug::{DebugCallback, DebugSink};
use crate::error::{Error, ErrorKind, Result};
use crate::request;
use crate::response::head::Head;
use crate::transport::tls::{self, TlsOptions};
use crate::url::Target;
use crate::wire::{lock, MAX_BLOCK, MIN_BLOCK};

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
    pub(super) fn start_deadline(&mut self) {
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
    pub(super) fn origin(&self) -> &Target {
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
}
