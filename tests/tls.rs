//! HTTPS: certificate and host-name verification, every TLS option, and HTTP over TLS.
//!
//! Real peers are the nginx TLS ports of `common::servers()` (one per bad certificate), the
//! nginx mTLS port and the strict-mTLS Python server. What only a server can see (SNI, the
//! ALPN offer, the negotiated version) is recorded by small TLS servers made here with the
//! openssl crate's `SslAcceptor`, with certificates from the harness's test PKI; they also play
//! the misbehaving peers (a TLS 1.1-only server, a stall after the handshake, an end of stream
//! without close_notify).

mod common;

use std::ffi::OsString;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use httpclient::debug::DebugKind;
use httpclient::{Connection, Error, ErrorKind};
use openssl::ssl::{
    select_next_proto, AlpnError, NameType, SslAcceptor, SslAcceptorBuilder, SslConnector,
    SslFiletype, SslMethod, SslOptions, SslStream, SslVerifyMode, SslVersion,
};

// ----- helpers -----

fn path_str(p: &Path) -> &str {
    p.to_str().expect("test paths are UTF-8")
}

/// A file of the harness's test PKI (see tests/servers/hc_pki.py).
fn pki(name: &str) -> PathBuf {
    let dir = common::servers()
        .var("HC_TEST_PKI_DIR")
        .expect("HC_TEST_PKI_DIR");
    PathBuf::from(dir).join(name)
}

/// An HTTPS connection with the default options (system trust store) and a 30 s safety limit.
fn https(host: &str, port: u16) -> Connection {
    let mut c = Connection::new_https(host, port).unwrap();
    c.set_timeout(30.0).unwrap();
    c
}

/// An HTTPS connection that trusts the test CA only.
fn trusting(host: &str, port: u16) -> Connection {
    let mut c = https(host, port);
    c.set_ca_file(path_str(&common::servers().ca_file)).unwrap();
    c
}

/// GET `path`, read the whole body: (status, body).
fn get(c: &mut Connection, path: &str) -> httpclient::Result<(u16, Vec<u8>)> {
    get_with(c, path, &[])
}

fn get_with(
    c: &mut Connection,
    path: &str,
    headers: &[(&[u8], &[u8])],
) -> httpclient::Result<(u16, Vec<u8>)> {
    c.request(b"GET", path.as_bytes(), None, headers)?;
    let mut r = c.getresponse()?;
    let mut body = Vec::new();
    r.read_to_end(&mut body)?;
    Ok((r.status(), body))
}

/// Asserts `r` failed with `kind` and a message containing `needle`; returns the error.
#[track_caller]
fn expect_err<T: std::fmt::Debug>(
    r: httpclient::Result<T>,
    kind: ErrorKind,
    needle: &str,
) -> Error {
    let e = r.expect_err("expected an error");
    assert_eq!(e.kind(), kind, "{e}");
    assert!(e.message().contains(needle), "{needle:?} not in: {e}");
    e
}

/// Asserts that GET /small.txt answers 200 with the docroot's small.txt.
#[track_caller]
fn assert_small(c: &mut Connection) {
    let (status, body) = get(c, "/small.txt").unwrap();
    assert_eq!(status, 200);
    assert_eq!(body, common::servers().docroot_file("small.txt"));
}

/// Counts "connected to" debug events, i.e. TCP+TLS connections the client opened.
fn count_connects(c: &mut Connection) -> Arc<Mutex<usize>> {
    let n = Arc::new(Mutex::new(0usize));
    let n2 = n.clone();
    c.set_debug_callback(Some(Box::new(move |kind, data| {
        if kind == DebugKind::Text && data.starts_with(b"connected to") {
            *n2.lock().unwrap() += 1;
        }
    })))
    .unwrap();
    n
}

// ----- an in-test TLS server that records what the client sent -----

/// What one connection to a [`TlsServer`] showed.
#[derive(Debug, Default, Clone)]
struct Seen {
    /// Set when the servername callback ran: the SNI it saw (None: no SNI in the hello).
    sni_callback: Option<Option<String>>,
    /// The SNI of the established session.
    sni: Option<String>,
    /// The client's ALPN list, in wire format, when it offered one.
    alpn: Option<Vec<u8>>,
    /// The negotiated protocol version ("TLSv1.3").
    version: Option<String>,
    /// Why the server's handshake failed, if it did.
    handshake_error: Option<String>,
}

/// Serves `conns` TLS connections one after another on 127.0.0.1 or [::1]; each completes
/// the handshake and is handed to the handler.
struct TlsServer {
    port: u16,
    seen: Arc<Mutex<Vec<Seen>>>,
    thread: Option<JoinHandle<()>>,
}

type Handler = fn(&mut SslStream<TcpStream>);

/// Reads a request head (to its blank line) and returns it.
fn read_head(s: &mut SslStream<TcpStream>) -> Vec<u8> {
    common::read_head(s)
}

/// The usual handler: answers `ok` with Content-Length and closes cleanly (close_notify).
fn answer_ok(s: &mut SslStream<TcpStream>) {
    read_head(s);
    let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
    let _ = s.shutdown();
}

impl TlsServer {
    fn start(
        bind: &str,
        conns: usize,
        tweak: impl FnOnce(&mut SslAcceptorBuilder),
        handler: Handler,
    ) -> TlsServer {
        let current = Arc::new(Mutex::new(Seen::default()));
        let mut b = SslAcceptor::mozilla_intermediate_v5(SslMethod::tls_server()).unwrap();
        b.set_certificate_chain_file(pki("localhost.pem")).unwrap();
        b.set_private_key_file(pki("localhost.key"), SslFiletype::PEM)
            .unwrap();
        let c1 = current.clone();
        b.set_servername_callback(move |ssl, _alert| {
            c1.lock().unwrap().sni_callback =
                Some(ssl.servername(NameType::HOST_NAME).map(str::to_string));
            Ok(())
        });
        let c2 = current.clone();
        b.set_alpn_select_callback(move |_ssl, offered| {
            c2.lock().unwrap().alpn = Some(offered.to_vec());
            select_next_proto(b"\x08http/1.1", offered).ok_or(AlpnError::NOACK)
        });
        tweak(&mut b);
        let acceptor = b.build();
        let listener = TcpListener::bind((bind, 0)).unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let seen2 = seen.clone();
        let thread = thread::spawn(move || {
            for _ in 0..conns {
                let Ok((tcp, _)) = listener.accept() else {
                    return;
                };
                tcp.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
                tcp.set_write_timeout(Some(Duration::from_secs(20)))
                    .unwrap();
                match acceptor.accept(tcp) {
                    Ok(mut s) => {
                        {
                            let mut cur = current.lock().unwrap();
                            cur.sni = s.ssl().servername(NameType::HOST_NAME).map(str::to_string);
                            cur.version = Some(s.ssl().version_str().to_string());
                        }
                        handler(&mut s);
                    }
                    Err(e) => current.lock().unwrap().handshake_error = Some(e.to_string()),
                }
                let done = std::mem::take(&mut *current.lock().unwrap());
                seen2.lock().unwrap().push(done);
            }
        });
        TlsServer {
            port,
            seen,
            thread: Some(thread),
        }
    }

    /// Waits for every connection to be served and returns what each showed.
    fn finish(mut self) -> Vec<Seen> {
        self.thread.take().unwrap().join().unwrap();
        self.seen.lock().unwrap().clone()
    }
}

fn ipv6() -> bool {
    common::servers().var("HC_TEST_IPV6").as_deref() == Some("1")
}

// ----- verification against nginx -----

#[test]
fn valid_certificate_with_ca_file_gives_200_and_body() {
    let s = common::servers();
    let mut c = trusting("localhost", s.https_port);
    assert_small(&mut c);
}

#[test]
fn valid_certificate_with_hashed_ca_path_gives_200_and_body() {
    let s = common::servers();
    let mut c = https("localhost", s.https_port);
    c.set_ca_path(path_str(&s.ca_dir)).unwrap();
    assert_small(&mut c);
}

#[test]
fn ca_path_without_the_issuer_fails_verification() {
    // The docroot is a directory with no hashed certificates: nothing is trusted.
    let s = common::servers();
    let mut c = https("localhost", s.https_port);
    c.set_ca_path(path_str(&s.docroot)).unwrap();
    expect_err(
        c.connect(),
        ErrorKind::CertificateVerify,
        "unable to get local issuer certificate",
    );
}

#[test]
fn default_trust_store_does_not_know_the_test_ca() {
    // Verification is on by default: the system roots don't include the test CA.
    let s = common::servers();
    if std::env::var_os("SSL_CERT_FILE").is_some() || std::env::var_os("SSL_CERT_DIR").is_some() {
        eprintln!("SSL_CERT_FILE/SSL_CERT_DIR set in the environment: the default store is not the system's");
    }
    let mut c = https("localhost", s.https_port);
    let e = expect_err(
        c.connect(),
        ErrorKind::CertificateVerify,
        "unable to get local issuer certificate",
    );
    assert!(e.kind().is(ErrorKind::Tls) && e.kind().is(ErrorKind::Os));
}

#[test]
fn ca_file_replaces_the_roots_instead_of_adding_to_them() {
    let s = common::servers();
    let mut c = https("localhost", s.https_port);
    c.set_ca_file(path_str(&s.untrusted_ca_file)).unwrap();
    expect_err(
        c.connect(),
        ErrorKind::CertificateVerify,
        "unable to get local issuer certificate",
    );
    // ... and what it holds is trusted: the untrusted CA's leaf now verifies.
    let mut c = https("localhost", s.https_untrusted_port);
    c.set_ca_file(path_str(&s.untrusted_ca_file)).unwrap();
    assert_small(&mut c);
}

#[test]
fn expired_certificate_fails_with_certificate_has_expired() {
    let s = common::servers();
    let mut c = trusting("localhost", s.https_expired_port);
    expect_err(
        get(&mut c, "/small.txt"),
        ErrorKind::CertificateVerify,
        "certificate has expired",
    );
}

#[test]
fn wrong_host_certificate_fails_with_hostname_mismatch() {
    let s = common::servers();
    let mut c = trusting("localhost", s.https_wronghost_port);
    expect_err(
        get(&mut c, "/small.txt"),
        ErrorKind::CertificateVerify,
        "hostname mismatch",
    );
}

#[test]
fn wrong_host_certificate_fails_for_an_ip_with_ip_address_mismatch() {
    let s = common::servers();
    let mut c = trusting("127.0.0.1", s.https_wronghost_port);
    expect_err(
        c.connect(),
        ErrorKind::CertificateVerify,
        "IP address mismatch",
    );
}

#[test]
fn self_signed_certificate_fails_with_self_signed_certificate() {
    let s = common::servers();
    let mut c = trusting("localhost", s.https_selfsigned_port);
    expect_err(
        get(&mut c, "/small.txt"),
        ErrorKind::CertificateVerify,
        "self-signed certificate",
    );
}

#[test]
fn self_signed_certificate_connects_when_trusted_on_purpose() {
    let s = common::servers();
    let mut c = https("localhost", s.https_selfsigned_port);
    c.set_ca_file(path_str(&s.selfsigned_cert)).unwrap();
    assert_small(&mut c);
}

#[test]
fn untrusted_issuer_fails_with_unable_to_get_local_issuer_certificate() {
    let s = common::servers();
    let mut c = trusting("localhost", s.https_untrusted_port);
    expect_err(
        get(&mut c, "/small.txt"),
        ErrorKind::CertificateVerify,
        "unable to get local issuer certificate",
    );
}

#[test]
fn verify_false_connects_to_every_bad_certificate() {
    let s = common::servers();
    for (name, port) in [
        ("expired", s.https_expired_port),
        ("wronghost", s.https_wronghost_port),
        ("ipsan", s.https_ipsan_port),
        ("selfsigned", s.https_selfsigned_port),
        ("untrusted", s.https_untrusted_port),
    ] {
        // Once with the test CA set, once with the default store: neither is consulted.
        for with_ca in [true, false] {
            let mut c = if with_ca {
                trusting("localhost", port)
            } else {
                https("localhost", port)
            };
            c.set_verify(false).unwrap();
            let (status, body) = get(&mut c, "/small.txt")
                .unwrap_or_else(|e| panic!("{name} (CA file: {with_ca}): {e}"));
            assert_eq!(status, 200, "{name}");
            assert_eq!(body, s.docroot_file("small.txt"), "{name}");
        }
    }
}

#[test]
fn verify_can_be_turned_back_on() {
    let s = common::servers();
    let mut c = trusting("localhost", s.https_expired_port);
    c.set_verify(false).unwrap();
    c.set_verify(true).unwrap();
    expect_err(
        c.connect(),
        ErrorKind::CertificateVerify,
        "certificate has expired",
    );
}

#[test]
fn ip_san_certificate_verifies_for_the_ip_literal() {
    let s = common::servers();
    let mut c = trusting("127.0.0.1", s.https_ipsan_port);
    assert_small(&mut c);
}

#[test]
fn ip_san_certificate_fails_for_localhost() {
    let s = common::servers();
    let mut c = trusting("localhost", s.https_ipsan_port);
    expect_err(
        c.connect(),
        ErrorKind::CertificateVerify,
        "hostname mismatch",
    );
}

#[test]
fn verify_error_message_names_the_host() {
    let s = common::servers();
    let mut c = trusting("localhost", s.https_expired_port);
    let e = expect_err(c.connect(), ErrorKind::CertificateVerify, "localhost");
    assert!(e.message().contains("certificate verify failed"), "{e}");
}

// ----- what the client sends: SNI, ALPN, versions -----

#[test]
fn sni_is_sent_for_a_host_name() {
    let srv = TlsServer::start("127.0.0.1", 1, |_| {}, answer_ok);
    let mut c = trusting("localhost", srv.port);
    let (status, body) = get(&mut c, "/").unwrap();
    assert_eq!((status, body.as_slice()), (200, &b"ok"[..]));
    let seen = srv.finish();
    assert_eq!(seen[0].sni.as_deref(), Some("localhost"), "{seen:?}");
    assert_eq!(
        seen[0].sni_callback,
        Some(Some("localhost".into())),
        "{seen:?}"
    );
}

#[test]
fn sni_is_never_sent_for_an_ipv4_literal() {
    let srv = TlsServer::start("127.0.0.1", 1, |_| {}, answer_ok);
    // Verified against the localhost certificate's IP:127.0.0.1 SAN.
    let mut c = trusting("127.0.0.1", srv.port);
    assert_eq!(get(&mut c, "/").unwrap().0, 200);
    let seen = srv.finish();
    assert_eq!(seen[0].sni, None, "{seen:?}");
    assert!(
        matches!(seen[0].sni_callback, None | Some(None)),
        "{seen:?}"
    );
}

#[test]
fn sni_is_never_sent_for_an_ipv6_literal() {
    if !ipv6() {
        eprintln!("no IPv6 loopback: skipped");
        return;
    }
    let srv = TlsServer::start("::1", 1, |_| {}, answer_ok);
    let mut c = trusting("::1", srv.port);
    assert_eq!(get(&mut c, "/").unwrap().0, 200);
    let seen = srv.finish();
    assert_eq!(seen[0].sni, None, "{seen:?}");
    assert!(
        matches!(seen[0].sni_callback, None | Some(None)),
        "{seen:?}"
    );
}

#[test]
fn alpn_offers_http_1_1_only() {
    let srv = TlsServer::start("127.0.0.1", 1, |_| {}, answer_ok);
    let mut c = trusting("localhost", srv.port);
    assert_eq!(get(&mut c, "/").unwrap().0, 200);
    let seen = srv.finish();
    assert_eq!(
        seen[0].alpn.as_deref(),
        Some(&b"\x08http/1.1"[..]),
        "{seen:?}"
    );
}

#[test]
fn tls_1_3_is_negotiated_when_the_server_has_it() {
    let srv = TlsServer::start("127.0.0.1", 1, |_| {}, answer_ok);
    let mut c = trusting("localhost", srv.port);
    assert_eq!(get(&mut c, "/").unwrap().0, 200);
    assert_eq!(srv.finish()[0].version.as_deref(), Some("TLSv1.3"));
}

#[test]
fn tls_1_2_server_is_accepted() {
    let srv = TlsServer::start(
        "127.0.0.1",
        1,
        |b| b.set_max_proto_version(Some(SslVersion::TLS1_2)).unwrap(),
        answer_ok,
    );
    let mut c = trusting("localhost", srv.port);
    assert_eq!(get(&mut c, "/").unwrap().0, 200);
    assert_eq!(srv.finish()[0].version.as_deref(), Some("TLSv1.2"));
}

/// A server limited to TLS 1.0/1.1 (security level 0, so that OpenSSL 3 lets it exist).
fn old_tls_server(conns: usize) -> TlsServer {
    TlsServer::start(
        "127.0.0.1",
        conns,
        |b| {
            // mozilla_intermediate_v5 turns TLS 1.0/1.1 off with options as well.
            b.clear_options(SslOptions::NO_TLSV1 | SslOptions::NO_TLSV1_1);
            b.set_security_level(0);
            b.set_cipher_list("DEFAULT:@SECLEVEL=0").unwrap();
            b.set_min_proto_version(Some(SslVersion::TLS1)).unwrap();
            b.set_max_proto_version(Some(SslVersion::TLS1_1)).unwrap();
        },
        answer_ok,
    )
}

#[test]
fn tls_1_1_server_is_refused() {
    // The server must really speak TLS 1.1: an openssl client that allows it gets through.
    let srv = old_tls_server(2);
    let mut b = SslConnector::builder(SslMethod::tls_client()).unwrap();
    b.set_security_level(0);
    b.set_cipher_list("DEFAULT:@SECLEVEL=0").unwrap();
    b.set_min_proto_version(Some(SslVersion::TLS1)).unwrap();
    b.set_verify(SslVerifyMode::NONE);
    let tcp = TcpStream::connect(("127.0.0.1", srv.port)).unwrap();
    let control = b.build().connect("localhost", tcp);
    let control_version = match control {
        Ok(mut s) => {
            let v = s.ssl().version_str().to_string();
            let _ = s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
            let mut sink = Vec::new();
            let _ = s.read_to_end(&mut sink);
            Some(v)
        }
        Err(e) => {
            eprintln!("this OpenSSL refuses TLS 1.1 even at security level 0 ({e}); only the refusal is tested");
            None
        }
    };
    if let Some(v) = &control_version {
        assert_eq!(v, "TLSv1.1");
    }
    let mut c = trusting("localhost", srv.port);
    let e = c.connect().expect_err("a TLS 1.1 server must be refused");
    assert_eq!(e.kind(), ErrorKind::Tls, "{e}");
    assert!(
        e.message().contains("protocol version") || e.message().contains("unsupported protocol"),
        "{e}"
    );
    let seen = srv.finish();
    assert!(seen[1].handshake_error.is_some(), "{seen:?}");
}

// ----- client certificates -----

#[test]
fn client_certificate_is_accepted_by_nginx_mtls() {
    let s = common::servers();
    let mut c = trusting("localhost", s.mtls_port);
    c.set_client_cert(path_str(&s.client_cert), path_str(&s.client_key))
        .unwrap();
    c.request(b"GET", b"/whoami", None, &[]).unwrap();
    let mut r = c.getresponse().unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.getheader(b"X-Client-Verify").map(|v| v.to_bytes()),
        Some(&b"SUCCESS"[..])
    );
    let mut body = Vec::new();
    r.read_to_end(&mut body).unwrap();
    assert_eq!(
        String::from_utf8(body).unwrap(),
        "CN=httpclient test client,OU=tests,O=httpclient\n"
    );
}

#[test]
fn nginx_mtls_without_client_certificate_answers_400() {
    let s = common::servers();
    let mut c = trusting("localhost", s.mtls_port);
    assert_eq!(get(&mut c, "/whoami").unwrap().0, 400);
}

#[test]
fn strict_mtls_succeeds_with_the_right_client_certificate() {
    let s = common::servers();
    let mut c = trusting("localhost", s.mtls_strict_port);
    c.set_client_cert(path_str(&s.client_cert), path_str(&s.client_key))
        .unwrap();
    let (status, body) = get(&mut c, "/hello").unwrap();
    assert_eq!(status, 200);
    let text = String::from_utf8(body).unwrap();
    assert!(
        text.contains("\"path\": \"/hello\"") || text.contains("\"path\":\"/hello\""),
        "{text}"
    );
}

/// GET on the strict mTLS port; returns the first error.
fn strict_mtls_get(cert: Option<(&Path, &Path)>) -> Error {
    let s = common::servers();
    let mut c = trusting("localhost", s.mtls_strict_port);
    if let Some((cert, key)) = cert {
        c.set_client_cert(path_str(cert), path_str(key)).unwrap();
    }
    get(&mut c, "/hello").expect_err("the strict mTLS server must refuse")
}

#[test]
fn strict_mtls_fails_without_a_client_certificate() {
    // TLS 1.3: the client's handshake completes and the server's alert arrives on the first
    // read: a TLS error carrying OpenSSL's reason for the alert.
    let e = strict_mtls_get(None);
    assert_eq!(e.kind(), ErrorKind::Tls, "{e}");
    assert!(e.message().contains("alert certificate required"), "{e}");
}

#[test]
fn strict_mtls_fails_with_an_untrusted_client_certificate() {
    let s = common::servers();
    let e = strict_mtls_get(Some((&s.untrusted_client_cert, &s.untrusted_client_key)));
    assert_eq!(e.kind(), ErrorKind::Tls, "{e}");
    assert!(e.message().contains("alert unknown ca"), "{e}");
}

#[test]
fn mismatched_client_key_is_refused_when_set() {
    let s = common::servers();
    let mut c = https("localhost", s.mtls_strict_port);
    let e = expect_err(
        c.set_client_cert(path_str(&s.client_cert), path_str(&s.mismatched_key)),
        ErrorKind::Tls,
        "does not match",
    );
    assert!(e.message().contains("key values mismatch"), "{e}");
}

#[test]
fn missing_client_cert_or_key_file_is_an_os_error() {
    let s = common::servers();
    let mut c = https("localhost", s.https_port);
    expect_err(
        c.set_client_cert("/nonexistent/client.pem", path_str(&s.client_key)),
        ErrorKind::Os,
        "/nonexistent/client.pem",
    );
    expect_err(
        c.set_client_cert(path_str(&s.client_cert), "/nonexistent/client.key"),
        ErrorKind::Os,
        "/nonexistent/client.key",
    );
}

// ----- the other options and their errors -----

#[test]
fn missing_ca_file_or_directory_is_an_os_error() {
    let s = common::servers();
    let mut c = https("localhost", s.https_port);
    let e = expect_err(
        c.set_ca_file("/nonexistent/ca.pem"),
        ErrorKind::Os,
        "/nonexistent/ca.pem",
    );
    assert!(e.message().contains("No such file"), "{e}");
    expect_err(
        c.set_ca_path("/nonexistent/ca-dir"),
        ErrorKind::Os,
        "/nonexistent/ca-dir",
    );
}

#[test]
fn ca_path_that_is_a_file_is_an_os_error() {
    let s = common::servers();
    let mut c = https("localhost", s.https_port);
    expect_err(
        c.set_ca_path(path_str(&s.ca_file)),
        ErrorKind::Os,
        "Not a directory",
    );
}

#[test]
fn ca_file_that_is_not_pem_is_a_tls_error() {
    let s = common::servers();
    let mut c = https("localhost", s.https_port);
    expect_err(
        c.set_ca_file(path_str(&s.docroot.join("small.txt"))),
        ErrorKind::Tls,
        "loading the CA certificates",
    );
}

#[test]
fn a_refused_option_leaves_the_previous_ones_in_force() {
    let s = common::servers();
    let mut c = trusting("localhost", s.https_port);
    c.set_ca_file("/nonexistent/ca.pem").unwrap_err();
    c.set_client_cert(path_str(&s.client_cert), path_str(&s.mismatched_key))
        .unwrap_err();
    assert_small(&mut c);
}

#[test]
fn tls_options_on_a_plain_connection_are_invalid_arguments() {
    let s = common::servers();
    let mut c = Connection::new("localhost", s.http_port).unwrap();
    let ca = path_str(&s.ca_file);
    expect_err(c.set_ca_file(ca), ErrorKind::InvalidArgument, "HTTPS");
    expect_err(c.set_ca_path(ca), ErrorKind::InvalidArgument, "HTTPS");
    expect_err(
        c.set_client_cert(path_str(&s.client_cert), path_str(&s.client_key)),
        ErrorKind::InvalidArgument,
        "HTTPS",
    );
    expect_err(c.set_verify(false), ErrorKind::InvalidArgument, "HTTPS");
    // The connection is still a working plain one.
    assert_small(&mut c);
}

// ----- SSL_CERT_FILE / SSL_CERT_DIR (in a child process of this test binary) -----

/// Not a test by itself: run by `default_trust_honours_*` in a child process whose
/// SSL_CERT_FILE / SSL_CERT_DIR are set. Prints the outcome of a GET with default options.
#[test]
#[ignore = "run by the SSL_CERT_FILE tests in a child process"]
fn child_get_with_default_trust() {
    let port: u16 = std::env::var("HC_TLS_CHILD_PORT")
        .expect("run by default_trust_honours_* only")
        .parse()
        .unwrap();
    let mut c = https("localhost", port);
    match get(&mut c, "/small.txt") {
        Ok((status, _)) => println!("CHILD-RESULT: ok {status}"),
        Err(e) => println!("CHILD-RESULT: err {:?} {}", e.kind(), e.message()),
    }
}

/// Runs `child_get_with_default_trust` with `env` (SSL_CERT_* otherwise removed).
fn child_result(env: &[(&str, OsString)]) -> String {
    let port = common::servers().https_port;
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([
        "--exact",
        "child_get_with_default_trust",
        "--ignored",
        "--nocapture",
        "--test-threads=1",
    ])
    .env_remove("SSL_CERT_FILE")
    .env_remove("SSL_CERT_DIR")
    .env("HC_TLS_CHILD_PORT", port.to_string());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    stdout
        .lines()
        .find_map(|l| l.split_once("CHILD-RESULT: ").map(|(_, r)| r))
        .unwrap_or_else(|| {
            panic!(
                "child printed no result: {stdout}\n{}",
                String::from_utf8_lossy(&out.stderr)
            )
        })
        .to_string()
}

#[test]
fn default_trust_honours_ssl_cert_file() {
    let s = common::servers();
    assert_eq!(
        child_result(&[("SSL_CERT_FILE", s.ca_file.clone().into())]),
        "ok 200"
    );
    // Control: the same child with another CA in SSL_CERT_FILE fails.
    let r = child_result(&[("SSL_CERT_FILE", s.untrusted_ca_file.clone().into())]);
    assert!(r.starts_with("err CertificateVerify"), "{r}");
}

#[test]
fn default_trust_honours_ssl_cert_dir() {
    let s = common::servers();
    let r = child_result(&[
        ("SSL_CERT_FILE", "/nonexistent/none.pem".into()),
        ("SSL_CERT_DIR", s.ca_dir.clone().into()),
    ]);
    assert_eq!(r, "ok 200");
}

// ----- HTTP over TLS -----

#[test]
fn keep_alive_over_tls_100_gets_on_one_connection() {
    let s = common::servers();
    let mut c = trusting("localhost", s.https_port);
    let connects = count_connects(&mut c);
    let small = s.docroot_file("small.txt");
    for i in 0..100 {
        let (status, body) = get(&mut c, "/small.txt").unwrap_or_else(|e| panic!("GET {i}: {e}"));
        assert_eq!(status, 200);
        assert_eq!(body, small);
    }
    assert_eq!(*connects.lock().unwrap(), 1);
}

#[test]
fn reopens_after_the_server_closed_over_tls() {
    let s = common::servers();
    let mut c = trusting("localhost", s.https_port);
    let connects = count_connects(&mut c);
    let (status, body) = get(&mut c, "/close").unwrap();
    assert_eq!((status, body.as_slice()), (200, &b"closing\n"[..]));
    assert_small(&mut c);
    assert_small(&mut c);
    assert_eq!(*connects.lock().unwrap(), 2);
}

#[test]
fn reopens_after_the_server_closed_an_idle_kept_alive_connection() {
    // The server closes (with close_notify) a connection that looked reusable.
    let srv = TlsServer::start(
        "127.0.0.1",
        2,
        |_| {},
        |s| {
            read_head(s);
            let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
            let _ = s.shutdown();
        },
    );
    let mut c = trusting("localhost", srv.port);
    let connects = count_connects(&mut c);
    assert_eq!(get(&mut c, "/a").unwrap(), (200, b"ok".to_vec()));
    thread::sleep(Duration::from_millis(100)); // let the close arrive
    assert_eq!(get(&mut c, "/b").unwrap(), (200, b"ok".to_vec()));
    assert_eq!(*connects.lock().unwrap(), 2);
    srv.finish();
}

#[test]
fn large_download_over_tls_matches_sha256() {
    let s = common::servers();
    let mut c = trusting("localhost", s.https_port);
    c.request(b"GET", b"/large.bin", None, &[]).unwrap();
    let mut r = c.getresponse().unwrap();
    assert_eq!(r.length(), Some(s.large_size));
    let mut h = openssl::sha::Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut total = 0u64;
    loop {
        let n = r.read_some(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
        total += n as u64;
    }
    assert_eq!(total, s.large_size);
    let hex: String = h.finish().iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(hex, s.large_sha256);
    assert!(r.isclosed());
    // The connection is reusable after the large body.
    assert_small(&mut c);
}

#[test]
fn read_amt_in_pieces_over_tls() {
    let s = common::servers();
    let small = s.docroot_file("small.txt");
    let mut c = trusting("localhost", s.https_port);
    c.request(b"GET", b"/small.txt", None, &[]).unwrap();
    let mut r = c.getresponse().unwrap();
    let mut got = Vec::new();
    let mut pieces = Vec::new();
    loop {
        let mut buf = [0u8; 5];
        let (n, res) = r.read_fill(&mut buf);
        res.unwrap();
        if n == 0 {
            break;
        }
        pieces.push(n);
        got.extend_from_slice(&buf[..n]);
    }
    assert_eq!(got, small);
    // Every read(5) but the last is full.
    let (last, full) = pieces.split_last().unwrap();
    assert!(full.iter().all(|&n| n == 5), "{pieces:?}");
    assert_eq!(
        *last,
        if small.len().is_multiple_of(5) {
            5
        } else {
            small.len() % 5
        }
    );
}

#[test]
fn chunked_gzip_over_tls() {
    let s = common::servers();
    let mut c = trusting("localhost", s.https_port);
    c.request(
        b"GET",
        b"/gzip/text.txt",
        None,
        &[(b"Accept-Encoding", b"gzip")],
    )
    .unwrap();
    let mut r = c.getresponse().unwrap();
    assert_eq!(r.status(), 200);
    let te = r
        .getheader(b"Transfer-Encoding")
        .map(|v| v.to_bytes().to_vec());
    assert_eq!(te.as_deref(), Some(&b"chunked"[..]));
    let ce = r
        .getheader(b"Content-Encoding")
        .map(|v| v.to_bytes().to_vec());
    assert_eq!(ce.as_deref(), Some(&b"gzip"[..]));
    assert_eq!(r.length(), None);
    let mut body = Vec::new();
    r.read_to_end(&mut body).unwrap();
    assert!(body.starts_with(&[0x1f, 0x8b]), "not gzip");
    let mut gz = Command::new("gzip")
        .arg("-dc")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = gz.stdin.take().unwrap();
    let writer = thread::spawn(move || stdin.write_all(&body));
    let out = gz.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(out.status.success());
    assert_eq!(out.stdout, s.docroot_file("gzip/text.txt"));
    assert_small(&mut c); // chunked framing ended exactly: the connection is reusable
}

#[test]
fn timeout_during_the_handshake() {
    // A TCP listener that accepts and never says a word.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let t = thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        let mut sink = Vec::new();
        let _ = s.read_to_end(&mut sink); // until the client gives up
    });
    let mut c = trusting("localhost", port);
    c.set_timeout(0.5).unwrap();
    expect_err(c.connect(), ErrorKind::Timeout, "TLS handshake");
    drop(c);
    t.join().unwrap();
}

#[test]
fn timeout_waiting_for_a_response_over_tls() {
    let srv = TlsServer::start(
        "127.0.0.1",
        1,
        |_| {},
        |s| {
            read_head(s);
            let mut b = [0u8; 1];
            let _ = s.read(&mut b); // stall until the client closes
        },
    );
    let mut c = trusting("localhost", srv.port);
    c.set_timeout(0.5).unwrap();
    c.request(b"GET", b"/", None, &[]).unwrap();
    expect_err(c.getresponse().map(|_| ()), ErrorKind::Timeout, "timed out");
    c.close();
    srv.finish();
}

fn body_until_close(clean: bool) -> (httpclient::Result<()>, Vec<u8>) {
    let srv = TlsServer::start(
        "127.0.0.1",
        1,
        |_| {},
        if clean {
            |s: &mut SslStream<TcpStream>| {
                read_head(s);
                let _ = s.write_all(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\npartial body");
                let _ = s.shutdown(); // close_notify
                let _ = s.get_ref().shutdown(Shutdown::Both);
            }
        } else {
            |s: &mut SslStream<TcpStream>| {
                read_head(s);
                let _ = s.write_all(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\npartial body");
                let _ = s.flush();
                // TCP FIN without SSL_shutdown: a truncation attack looks like this.
                let _ = s.get_ref().shutdown(Shutdown::Both);
            }
        },
    );
    let mut c = trusting("localhost", srv.port);
    c.request(b"GET", b"/", None, &[]).unwrap();
    let mut r = c.getresponse().unwrap();
    assert_eq!(r.length(), None);
    let mut body = Vec::new();
    let res = r.read_to_end(&mut body);
    srv.finish();
    (res, body)
}

#[test]
fn body_ended_by_close_without_close_notify_is_incomplete_read() {
    let (res, body) = body_until_close(false);
    expect_err(res, ErrorKind::IncompleteRead, "close_notify");
    assert_eq!(body, b"partial body");
}

#[test]
fn body_ended_by_close_with_close_notify_is_complete() {
    let (res, body) = body_until_close(true);
    res.unwrap();
    assert_eq!(body, b"partial body");
}

type Event = (DebugKind, Vec<u8>);

#[test]
fn debug_trace_over_tls() {
    let s = common::servers();
    let mut c = trusting("localhost", s.https_port);
    let events: Arc<Mutex<Vec<Event>>> = Arc::default();
    let ev = events.clone();
    c.set_debug_callback(Some(Box::new(move |k, d| {
        ev.lock().unwrap().push((k, d.to_vec()))
    })))
    .unwrap();
    assert_small(&mut c);
    let events = events.lock().unwrap();
    let text: Vec<String> = events
        .iter()
        .filter(|(k, _)| *k == DebugKind::Text)
        .map(|(_, d)| String::from_utf8_lossy(d).into_owned())
        .collect();
    assert!(
        text.iter()
            .any(|t| t == &format!("connected to localhost:{}", s.https_port)),
        "{text:?}"
    );
    let head_out = events
        .iter()
        .find(|(k, _)| *k == DebugKind::HeaderOut)
        .expect("no HeaderOut");
    assert!(head_out.1.starts_with(b"GET /small.txt HTTP/1.1\r\n"));
    let head_in: Vec<&[u8]> = events
        .iter()
        .filter(|(k, _)| *k == DebugKind::HeaderIn)
        .map(|(_, d)| d.as_slice())
        .collect();
    assert!(head_in[0].starts_with(b"HTTP/1.1 200 OK"), "{head_in:?}");
    let data_in: Vec<u8> = events
        .iter()
        .filter(|(k, _)| *k == DebugKind::DataIn)
        .flat_map(|(_, d)| d.clone())
        .collect();
    assert_eq!(data_in, s.docroot_file("small.txt"));
}

#[test]
fn connect_timeout_alone_bounds_the_tls_handshake() {
    // A listener that accepts (the kernel completes the TCP handshake) and never speaks TLS.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let mut conn = Connection::new_https("127.0.0.1", port).unwrap();
    conn.set_connect_timeout(0.3).unwrap();
    let e = conn.connect().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Timeout, "{e}");
    assert!(e.message().contains("TLS handshake"), "{e}");
    drop(listener);
}
