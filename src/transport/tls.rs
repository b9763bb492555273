//! TLS through the system's OpenSSL: TLS 1.2 or newer, ALPN http/1.1, the chain verified
//! against the system's roots (or the caller's) and the host name against the certificate.

use std::io::{self, Write};
use std::net::{IpAddr, Shutdown, TcpStream};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::time::Duration;

use openssl::ssl::{
    ErrorCode, HandshakeError, SslConnector, SslFiletype, SslMethod, SslStream, SslVerifyMode,
    SslVersion,
};
use openssl::x509::store::X509StoreBuilder;
use openssl::x509::X509VerifyResult;

use super::Transport;
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
    std::fs::metadata(path)
        .map(|_| ())
        .map_err(|e| Error::io(&format!("{what} {}", path.display()), &e))
}

/// Builds the OpenSSL context for `opts`. Done once per set of options (loading the system's
/// roots costs milliseconds), then shared by every (re)connect.
pub fn build_connector(opts: &TlsOptions) -> Result<SslConnector> {
    let mut b = SslConnector::builder(SslMethod::tls_client())
        .map_err(|e| tls_err("creating the TLS context", e))?;
    b.set_min_proto_version(Some(SslVersion::TLS1_2))
        .map_err(|e| tls_err("setting the minimum TLS version", e))?;
    b.set_alpn_protos(b"\x08http/1.1")
        .map_err(|e| tls_err("setting ALPN", e))?;
    // Without read-ahead OpenSSL reads each record with two system calls (header, then body).
    b.set_read_ahead(true);
    if opts.ca_file.is_some() || opts.ca_path.is_some() {
        // Replace the system's roots (SslConnector::builder loaded them) with the caller's.
        let store = X509StoreBuilder::new().map_err(|e| tls_err("creating a store", e))?;
        b.set_cert_store(store.build());
        if let Some(f) = &opts.ca_file {
            need_file(f, "CA file")?;
        }
        if let Some(d) = &opts.ca_path {
            need_file(d, "CA directory")?;
        }
        b.load_verify_locations(opts.ca_file.as_deref(), opts.ca_path.as_deref())
            .map_err(|e| tls_err("loading the CA certificates", e))?;
    }
    if let Some((cert, key)) = &opts.client_cert {
        need_file(cert, "client certificate")?;
        need_file(key, "client key")?;
        b.set_certificate_chain_file(cert)
            .map_err(|e| tls_err(&format!("loading client certificate {}", cert.display()), e))?;
        b.set_private_key_file(key, SslFiletype::PEM)
            .map_err(|e| tls_err(&format!("loading client key {}", key.display()), e))?;
        b.check_private_key()
            .map_err(|e| tls_err("the client key does not match the client certificate", e))?;
    }
    b.set_verify(if opts.verify {
        SslVerifyMode::PEER
    } else {
        SslVerifyMode::NONE
    });
    Ok(b.build())
}

/// Runs the TLS handshake over `tcp`, for `host` (a name gets SNI; an IP literal none).
pub fn handshake(
    connector: &SslConnector,
    verify: bool,
    host: &str,
    tcp: TcpStream,
) -> Result<SslStream<TcpStream>> {
    let mut config = connector
        .configure()
        .map_err(|e| tls_err("configuring the TLS session", e))?;
    config.set_verify_hostname(verify);
    // The openssl crate sends SNI only for names, never for IP literals, and checks an IP
    // literal against the certificate's IP SANs.
    config.set_use_server_name_indication(true);
    let is_ip = host.parse::<IpAddr>().is_ok();
    match config.connect(host, tcp) {
        Ok(s) => Ok(s),
        Err(HandshakeError::SetupFailure(e)) => Err(tls_err("setting up the TLS session", e)),
        Err(HandshakeError::WouldBlock(_)) => Err(Error::new(
            ErrorKind::Timeout,
            format!("TLS handshake with {host}: timed out"),
        )),
        Err(HandshakeError::Failure(mid)) => {
            let vr = mid.ssl().verify_result();
            if verify && vr != X509VerifyResult::OK {
                return Err(Error::new(
                    ErrorKind::CertificateVerify,
                    format!(
                        "certificate verify failed for {host}{}: {} (X509 error {})",
                        if is_ip { " (IP address)" } else { "" },
                        vr.error_string(),
                        vr.as_raw()
                    ),
                ));
            }
            let err = mid.error();
            if let Some(ioe) = err.io_error() {
                return Err(Error::io(&format!("TLS handshake with {host}"), ioe));
            }
            if err.code() == ErrorCode::SYSCALL {
                return Err(Error::new(
                    ErrorKind::ConnectionReset,
                    format!("TLS handshake with {host}: the server closed the connection"),
                ));
            }
            Err(tls_err(&format!("TLS handshake with {host}"), err))
        }
    }
}

/// A TLS transport.
pub struct TlsTransport(pub SslStream<TcpStream>);

impl Transport for TlsTransport {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.0.ssl_read(buf) {
            Ok(n) => Ok(n),
            Err(e) => match e.code() {
                ErrorCode::ZERO_RETURN => Ok(0),
                ErrorCode::WANT_READ | ErrorCode::WANT_WRITE => match e.into_io_error() {
                    Ok(ioe) => Err(ioe),
                    Err(_) => Err(io::ErrorKind::WouldBlock.into()),
                },
                ErrorCode::SYSCALL if e.io_error().is_none() => Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "TLS stream ended without close_notify",
                )),
                _ => {
                    let msg = e.to_string();
                    if msg.contains("unexpected eof") {
                        return Err(io::Error::new(
                            io::ErrorKind::UnexpectedEof,
                            "TLS stream ended without close_notify",
                        ));
                    }
                    match e.into_io_error() {
                        Ok(ioe) => Err(ioe),
                        Err(e) => Err(io::Error::other(format!("TLS: {e}"))),
                    }
                }
            },
        }
    }
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.write(buf)
    }
    fn closed_while_idle(&mut self) -> bool {
        // Anything readable while idle (plaintext, a close_notify or alert, possibly already
        // read ahead into OpenSSL's buffer, or a FIN) means the stream can't carry another
        // request. A non-blocking peek through OpenSSL sees all of them.
        if self.0.ssl().pending() > 0 || self.0.get_ref().set_nonblocking(true).is_err() {
            return true;
        }
        let mut byte = [0u8; 1];
        let r = self.0.ssl_peek(&mut byte);
        let restored = self.0.get_ref().set_nonblocking(false).is_ok();
        let idle = matches!(&r, Err(e) if e.code() == ErrorCode::WANT_READ);
        !(idle && restored)
    }
    fn set_io_timeout(&mut self, t: Option<Duration>) -> io::Result<()> {
        self.0.get_ref().set_read_timeout(t)?;
        self.0.get_ref().set_write_timeout(t)
    }
    fn shutdown(&mut self) {
        // A best-effort close_notify, then the socket; a failure here changes nothing.
        let _ = self
            .0
            .get_ref()
            .set_write_timeout(Some(Duration::from_millis(100)));
        let _ = self.0.shutdown();
        let _ = self.0.get_ref().shutdown(Shutdown::Both);
    }
    fn fd(&self) -> Option<i32> {
        Some(self.0.get_ref().as_raw_fd())
    }
}
