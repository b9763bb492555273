//! TLS through the system's OpenSSL: TLS 1.2 or newer, ALPN http/1.1, the chain verified
//! against the system's roots (or the caller's) and the host name against the certificate.

use std::io;
use std::net::{IpAddr, Shutdown, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use openssl::ssl::{
    ErrorCode, HandshakeError, MidHandshakeSslStream, Ssl, SslContext, SslContextBuilder,
    SslFiletype, SslMethod, SslMode, SslOptions, SslStream, SslVerifyMode, SslVersion,
};
use openssl::x509::verify::X509CheckFlags;
use openssl::x509::X509VerifyResult;

use super::{Transport, WANT_READ, WANT_WRITE};
use crate::error::{Error, ErrorKind, Result};

/// The TLS options of a connection.
#[derive(Debug, Clone)]
pub struct TlsOptions {
    pub ca_file: Option<PathBuf>,
    pub ca_path: Option<PathBuf>,
    pub client_cert: Option<(PathBuf, PathBuf)>,
    pub verify: bool,
}

impl Default for TlsOptions {
    fn default() -> Self {
        TlsOptions {
            ca_file: None,
            ca_path: None,
            client_cert: None,
            verify: true,
        }
    }
}

fn tls_err(context: &str, e: impl std::fmt::Display) -> Error {
    Error::new(ErrorKind::Tls, format!("{context}: {e}"))
}

fn need_file(path: &Path, what: &str) -> Result<()> {
    crate::sys::check_path_length(path)
        .and_then(|()| std::fs::metadata(path))
        .map(|_| ())
        .map_err(|e| Error::io(&format!("{what} {}", path.display()), &e))
}

/// The settings every context starts from: the openssl crate's SslConnector defaults (options,
/// modes, cipher list) without loading any trust store, TLS 1.2 or newer, ALPN http/1.1, and
/// read-ahead (without it OpenSSL reads each record with two system calls).
fn base_builder() -> Result<SslContextBuilder> {
    let mut b = SslContextBuilder::new(SslMethod::tls_client())
        .map_err(|e| tls_err("creating the TLS context", e))?;
    let mut opts =
        SslOptions::ALL | SslOptions::NO_COMPRESSION | SslOptions::NO_SSLV2 | SslOptions::NO_SSLV3;
    opts &= !SslOptions::DONT_INSERT_EMPTY_FRAGMENTS;
    b.set_options(opts);
    b.set_mode(
        SslMode::AUTO_RETRY | SslMode::ACCEPT_MOVING_WRITE_BUFFER | SslMode::ENABLE_PARTIAL_WRITE,
    );
    b.set_cipher_list("DEFAULT:!aNULL:!eNULL:!MD5:!3DES:!DES:!RC4:!IDEA:!SEED:!aDSS:!SRP:!PSK")
        .map_err(|e| tls_err("setting the cipher list", e))?;
    b.set_min_proto_version(Some(SslVersion::TLS1_2))
        .map_err(|e| tls_err("setting the minimum TLS version", e))?;
    b.set_alpn_protos(b"\x08http/1.1")
        .map_err(|e| tls_err("setting ALPN", e))?;
    b.set_read_ahead(true);
    Ok(b)
}

/// Trusts the system's roots: OpenSSL's default paths (SSL_CERT_FILE, SSL_CERT_DIR), and on
/// Windows the Windows certificate store too.
fn system_trust(b: &mut SslContextBuilder) -> Result<()> {
    b.set_default_verify_paths()
        .map_err(|e| tls_err("loading the system's trust store", e))?;
    crate::sys::add_native_roots(b.cert_store_mut());
    Ok(())
}

/// The context for the default options (the system's trust store, verification on). Loading
/// the system's roots costs tens of milliseconds, so it is done once per process and shared;
/// SSL_CERT_FILE and SSL_CERT_DIR are read then.
fn default_context() -> Result<SslContext> {
    static DEFAULT: OnceLock<std::result::Result<SslContext, Error>> = OnceLock::new();
    DEFAULT
        .get_or_init(|| {
            let mut b = base_builder()?;
            system_trust(&mut b)?;
            b.set_verify(SslVerifyMode::PEER);
            Ok(b.build())
        })
        .clone()
}

fn default_trust(opts: &TlsOptions) -> bool {
    opts.ca_file.is_none() && opts.ca_path.is_none()
}

/// Builds the OpenSSL context for `opts`, checking every file now. Shared by every
/// (re)connect of the connection.
pub fn build_context(opts: &TlsOptions) -> Result<SslContext> {
    if default_trust(opts) && opts.verify && opts.client_cert.is_none() {
        return default_context();
    }
    context_builder(opts).map(SslContextBuilder::build)
}

/// The builder of [`build_context`], for a caller that adds its own settings (the URL-level
/// client's session cache) before building. It loads the trust store each time.
pub fn context_builder(opts: &TlsOptions) -> Result<SslContextBuilder> {
    let mut b = base_builder()?;
    if default_trust(opts) {
        // Without verification no roots are needed.
        if opts.verify {
            system_trust(&mut b)?;
        }
    } else {
        if let Some(f) = &opts.ca_file {
            need_file(f, "CA file")?;
        }
        if let Some(d) = &opts.ca_path {
            need_file(d, "CA directory")?;
            if !d.is_dir() {
                // OpenSSL would take it and find no certificate in it, connection after
                // connection.
                let e = crate::sys::not_a_directory();
                return Err(Error::io(&format!("CA directory {}", d.display()), &e));
            }
        }
        b.load_verify_locations(opts.ca_file.as_deref(), opts.ca_path.as_deref())
            .map_err(|e| tls_err("loading the CA certificates", e))?;
    }
    if let Some((cert, key)) = &opts.client_cert {
        need_file(cert, "client certificate")?;
        need_file(key, "client key")?;
        b.set_certificate_chain_file(cert)
            .map_err(|e| tls_err(&format!("loading client certificate {}", cert.display()), e))?;
        b.set_private_key_file(key, SslFiletype::PEM).map_err(|e| {
            // OpenSSL checks the key against the certificate as it loads it.
            let mismatch = e
                .errors()
                .iter()
                .any(|x| x.reason() == Some("key values mismatch"));
            let what = if mismatch {
                format!(
                    "client key {} does not match client certificate {}",
                    key.display(),
                    cert.display()
                )
            } else {
                format!("loading client key {}", key.display())
            };
            tls_err(&what, e)
        })?;
        b.check_private_key()
            .map_err(|e| tls_err("the client key does not match the client certificate", e))?;
    }
    b.set_verify(if opts.verify {
        SslVerifyMode::PEER
    } else {
        SslVerifyMode::NONE
    });
    Ok(b)
}

/// Runs the TLS handshake over `tcp`, for `host`: a name gets SNI and is checked against the
/// certificate's DNS subjectAltNames only; an IP literal gets no SNI and is checked against its
/// IP subjectAltNames only. The subject's common name is never consulted.
pub fn handshake(
    ctx: &SslContext,
    verify: bool,
    host: &str,
    tcp: TcpStream,
) -> Result<SslStream<TcpStream>> {
    handshake_prepared(ctx, verify, host, tcp, None)
}

/// Called on a new TLS session's `Ssl` just before its handshake (the URL-level client offers
/// a cached session for resumption there).
pub type TlsPrepare = std::sync::Arc<dyn Fn(&mut openssl::ssl::SslRef) -> Result<()> + Send + Sync>;

/// [`handshake`], with `prepare` run on the `Ssl` before the handshake starts. On a socket
/// with a timeout, a handshake that runs out of it is `Timeout`.
pub fn handshake_prepared(
    ctx: &SslContext,
    verify: bool,
    host: &str,
    tcp: TcpStream,
    prepare: Option<&TlsPrepare>,
) -> Result<SslStream<TcpStream>> {
    let ssl = new_session(ctx, verify, host, prepare)?;
    match handshake_step(ssl.connect(tcp), verify, host)? {
        Handshake::Done(s) => Ok(s),
        Handshake::Failed(_, e) => Err(e),
        Handshake::Wants(..) => Err(Error::new(
            ErrorKind::Timeout,
            format!("TLS handshake with {host}: timed out"),
        )),
    }
}

/// Where a handshake on a non-blocking socket stands.
pub enum Handshake {
    /// Over: the stream carries application data.
    Done(SslStream<TcpStream>),
    /// Waiting for the socket: [`WANT_READ`] or [`WANT_WRITE`]; continue it with
    /// [`continue_handshake`] once the socket is ready.
    Wants(MidHandshakeSslStream<TcpStream>, u8),
    /// Failed: why, and the session with its socket still open, for the caller to drop (a
    /// non-blocking connection keeps its descriptor's number until the next one exists).
    Failed(MidHandshakeSslStream<TcpStream>, Error),
}

/// Starts the handshake of [`handshake_prepared`] (the same session setup and verification)
/// over a non-blocking `tcp`: it goes as far as the socket allows.
pub fn start_handshake(
    ctx: &SslContext,
    verify: bool,
    host: &str,
    tcp: TcpStream,
    prepare: Option<&TlsPrepare>,
) -> Result<Handshake> {
    let ssl = new_session(ctx, verify, host, prepare)?;
    handshake_step(ssl.connect(tcp), verify, host)
}

/// Takes a handshake that waited further, as far as the socket allows.
pub fn continue_handshake(
    mid: MidHandshakeSslStream<TcpStream>,
    verify: bool,
    host: &str,
) -> Result<Handshake> {
    handshake_step(mid.handshake(), verify, host)
}

/// A TLS session for `host`: a name gets SNI and is checked against the certificate's DNS
/// subjectAltNames only; an IP literal gets no SNI and is checked against its IP
/// subjectAltNames only.
fn new_session(
    ctx: &SslContext,
    verify: bool,
    host: &str,
    prepare: Option<&TlsPrepare>,
) -> Result<Ssl> {
    let setup = |e| tls_err("setting up the TLS session", e);
    let mut ssl = Ssl::new(ctx).map_err(setup)?;
    let ip = host.parse::<IpAddr>().ok();
    if verify {
        let param = ssl.param_mut();
        // RFC 6125 §6.4.4: the subject's common name is never a name, not even when the
        // certificate has no DNS subjectAltName (OpenSSL's default falls back to it then).
        // A wildcard stands for one whole left-most label only.
        param.set_hostflags(
            X509CheckFlags::NO_PARTIAL_WILDCARDS | X509CheckFlags::NEVER_CHECK_SUBJECT,
        );
        match ip {
            Some(ip) => param.set_ip(ip).map_err(setup)?,
            None => param.set_host(host).map_err(setup)?,
        }
    }
    if ip.is_none() {
        ssl.set_hostname(host).map_err(setup)?;
    }
    if let Some(p) = prepare {
        p(&mut ssl)?;
    }
    Ok(ssl)
}

/// What one step of a handshake came to: done, waiting for the socket, or failed (a
/// verification failure, an I/O error, the server closing, any other TLS error).
fn handshake_step(
    r: std::result::Result<SslStream<TcpStream>, HandshakeError<TcpStream>>,
    verify: bool,
    host: &str,
) -> Result<Handshake> {
    match r {
        Ok(s) => Ok(Handshake::Done(s)),
        Err(HandshakeError::SetupFailure(e)) => Err(tls_err("setting up the TLS session", e)),
        Err(HandshakeError::WouldBlock(mid)) => {
            let want = if mid.error().code() == ErrorCode::WANT_WRITE {
                WANT_WRITE
            } else {
                WANT_READ
            };
            Ok(Handshake::Wants(mid, want))
        }
        Err(HandshakeError::Failure(mid)) => {
            let e = handshake_failure(&mid, verify, host);
            Ok(Handshake::Failed(mid, e))
        }
    }
}

/// Why the handshake on `mid` failed.
fn handshake_failure(mid: &MidHandshakeSslStream<TcpStream>, verify: bool, host: &str) -> Error {
    let is_ip = host.parse::<IpAddr>().is_ok();
    let vr = mid.ssl().verify_result();
    if verify && vr != X509VerifyResult::OK {
        return Error::new(
            ErrorKind::CertificateVerify,
            format!(
                "certificate verify failed for {host}{}: {} (X509 error {})",
                if is_ip { " (IP address)" } else { "" },
                vr.error_string(),
                vr.as_raw()
            ),
        );
    }
    let err = mid.error();
    if let Some(ioe) = err.io_error() {
        return Error::io(&format!("TLS handshake with {host}"), ioe);
    }
    if err.code() == ErrorCode::SYSCALL {
        return Error::new(
            ErrorKind::ConnectionReset,
            format!("TLS handshake with {host}: the server closed the connection"),
        );
    }
    tls_err(&format!("TLS handshake with {host}"), err)
}

/// A TLS transport.
pub struct TlsTransport {
    stream: SslStream<TcpStream>,
    /// The socket is non-blocking (the connection's non-blocking mode); otherwise it is
    /// blocking, with the connection's timeouts.
    nonblocking: bool,
    /// What the last read or write that would block waits for: OpenSSL may need to read to
    /// write (a renegotiation, a key update) or to write to read.
    want: u8,
}

impl TlsTransport {
    /// The transport over an established stream, blocking or not as its socket is.
    pub fn new(stream: SslStream<TcpStream>, nonblocking: bool) -> TlsTransport {
        TlsTransport {
            stream,
            nonblocking,
            want: 0,
        }
    }

    /// Runs `f` with the socket non-blocking, then puts it back as it was. None when the
    /// socket could not be switched.
    fn without_blocking<T>(&mut self, f: impl FnOnce(&mut SslStream<TcpStream>) -> T) -> Option<T> {
        if self.nonblocking {
            return Some(f(&mut self.stream));
        }
        self.stream.get_ref().set_nonblocking(true).ok()?;
        let r = f(&mut self.stream);
        self.stream.get_ref().set_nonblocking(false).ok()?;
        Some(r)
    }

    /// When the peer reset the connection under a write, its reason may be waiting in the
    /// receive buffer: a TLS alert (with TLS 1.3 a server refuses a client certificate only
    /// after the client's handshake is done). Looks for it without blocking; a peek, so that
    /// application data (the server's early answer to an upload) stays there to be read.
    fn pending_alert(&mut self) -> Option<io::Error> {
        let mut scratch = [0u8; 1];
        match self.without_blocking(|s| s.ssl_peek(&mut scratch))? {
            Err(e) if e.code() == ErrorCode::SSL => {
                Some(io::Error::other(TlsStreamError(e.to_string())))
            }
            _ => None,
        }
    }

    /// Notes what a failed read or write waits for, when it would block.
    fn note_want(&mut self, e: &openssl::ssl::Error) {
        self.want = match e.code() {
            ErrorCode::WANT_READ => WANT_READ,
            ErrorCode::WANT_WRITE => WANT_WRITE,
            _ => 0,
        };
    }
}

/// An OpenSSL failure on an established stream (an alert from the peer, a bad record),
/// carried inside an `io::Error` so that [`Error::io`] reports it as a TLS error with
/// OpenSSL's reason rather than as an OS error.
#[derive(Debug)]
pub struct TlsStreamError(pub String);

impl std::fmt::Display for TlsStreamError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TLS: {}", self.0)
    }
}

impl std::error::Error for TlsStreamError {}

/// Maps a failed ssl_read/ssl_write: a timeout or a socket error stays what it is, an end of
/// stream without close_notify is UnexpectedEof, anything else is a [`TlsStreamError`].
fn stream_error(e: openssl::ssl::Error) -> io::Error {
    match e.code() {
        ErrorCode::WANT_READ | ErrorCode::WANT_WRITE => match e.into_io_error() {
            Ok(ioe) => ioe,
            Err(_) => io::ErrorKind::WouldBlock.into(),
        },
        ErrorCode::SYSCALL if e.io_error().is_none() => io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "TLS stream ended without close_notify",
        ),
        _ => {
            if e.to_string().contains("unexpected eof") {
                return io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "TLS stream ended without close_notify",
                );
            }
            match e.into_io_error() {
                Ok(ioe) => ioe,
                Err(e) => io::Error::other(TlsStreamError(e.to_string())),
            }
        }
    }
}

impl Transport for TlsTransport {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            match self.stream.ssl_read(buf) {
                Ok(n) => return Ok(n),
                Err(e) if e.code() == ErrorCode::ZERO_RETURN => return Ok(0),
                // OpenSSL handled a non-application record (as SslStream's Read does).
                Err(e) if e.code() == ErrorCode::WANT_READ && e.io_error().is_none() => {}
                Err(e) => {
                    self.note_want(&e);
                    return Err(stream_error(e));
                }
            }
        }
    }
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        loop {
            match self.stream.ssl_write(buf) {
                Ok(n) => return Ok(n),
                Err(e) if e.code() == ErrorCode::WANT_READ && e.io_error().is_none() => {}
                Err(e) => {
                    self.note_want(&e);
                    let err = stream_error(e);
                    if matches!(
                        err.kind(),
                        io::ErrorKind::ConnectionReset | io::ErrorKind::BrokenPipe
                    ) {
                        if let Some(alert) = self.pending_alert() {
                            return Err(alert);
                        }
                    }
                    return Err(err);
                }
            }
        }
    }
    fn closed_while_idle(&mut self) -> bool {
        // Anything readable while idle (plaintext, a close_notify or alert, possibly already
        // read ahead into OpenSSL's buffer, or a FIN) means the stream can't carry another
        // request. A non-blocking peek through OpenSSL sees all of them. A peek that waits
        // met a TLS 1.2 HelloRequest: OpenSSL answered it with a ClientHello and waits for the
        // server's reply (WANT_READ), or for room in the socket to finish writing it
        // (WANT_WRITE, the previous upload still filling the socket); the stream is open and
        // the next write goes on with that handshake.
        if self.stream.ssl().pending() > 0 {
            return true;
        }
        let mut byte = [0u8; 1];
        let idle = self.without_blocking(|s| {
            matches!(
                s.ssl_peek(&mut byte),
                Err(e) if e.code() == ErrorCode::WANT_READ || e.code() == ErrorCode::WANT_WRITE
            )
        });
        idle != Some(true)
    }
    fn set_io_timeout(&mut self, t: Option<Duration>) -> io::Result<()> {
        self.stream.get_ref().set_read_timeout(t)?;
        self.stream.get_ref().set_write_timeout(t)
    }
    fn shutdown(&mut self) {
        // A best-effort close_notify, then the socket; a failure here changes nothing. A
        // non-blocking socket sends it if it can at once.
        if !self.nonblocking {
            let _ = self
                .stream
                .get_ref()
                .set_write_timeout(Some(Duration::from_millis(100)));
        }
        let _ = self.stream.shutdown();
        let _ = self.stream.get_ref().shutdown(Shutdown::Both);
    }
    fn fd(&self) -> Option<i32> {
        crate::sys::socket_number(self.stream.get_ref())
    }
    fn want(&self) -> u8 {
        self.want
    }
    fn set_nonblocking(&mut self, on: bool) -> io::Result<()> {
        self.stream.get_ref().set_nonblocking(on)?;
        self.nonblocking = on;
        Ok(())
    }
}
