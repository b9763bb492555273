//! HTTPS: which names a certificate is valid for (RFC 6125 §6.4.4, as browsers and CPython).
//!
//! A host name is matched against the certificate's DNS subjectAltNames only and an IP literal
//! against its IP subjectAltNames only; the subject's common name is never consulted, not
//! even when the certificate has no DNS name at all. A wildcard stands for exactly one whole
//! left-most label.
//!
//! Each test makes its own CA and leaf certificate with the openssl crate, serves it from a
//! TLS server in the test, and connects the way users do. Names such as `a.example.test` do
//! not resolve, so those connections go through a CONNECT tunnel (a proxy made here that
//! sends every CONNECT to the test's TLS server): the TLS session, SNI and the name check
//! are then exactly those of a direct connection to that name.

mod common;

use std::io::Write;
use std::net::{IpAddr, Shutdown, TcpListener, TcpStream};
use std::path::PathBuf;
use std::thread;
use std::time::Duration;

use httpclient::{Connection, ErrorKind};
use openssl::asn1::Asn1Time;
use openssl::bn::BigNum;
use openssl::hash::MessageDigest;
use openssl::pkey::{PKey, Private};
use openssl::rsa::Rsa;
use openssl::ssl::{SslAcceptor, SslMethod};
use openssl::x509::extension::{BasicConstraints, KeyUsage, SubjectAlternativeName};
use openssl::x509::{X509Builder, X509Name, X509NameBuilder, X509};

/// A subjectAltName entry of a test certificate.
enum San {
    Dns(&'static str),
    Ip(&'static str),
}

struct Leaf {
    cert: X509,
    key: PKey<Private>,
    /// The CA file that trusts it, written to a fresh directory.
    ca_file: PathBuf,
}

fn key() -> PKey<Private> {
    PKey::from_rsa(Rsa::generate(2048).unwrap()).unwrap()
}

fn name(cn: &str) -> X509Name {
    let mut name = X509NameBuilder::new().unwrap();
    name.append_entry_by_text("O", "httpclient tests").unwrap();
    name.append_entry_by_text("CN", cn).unwrap();
    name.build()
}

fn builder(cn: &str, serial: u32) -> X509Builder {
    let name = name(cn);
    let mut b = X509Builder::new().unwrap();
    b.set_version(2).unwrap();
    b.set_serial_number(&BigNum::from_u32(serial).unwrap().to_asn1_integer().unwrap())
        .unwrap();
    b.set_subject_name(&name).unwrap();
    b.set_not_before(&Asn1Time::days_from_now(0).unwrap())
        .unwrap();
    b.set_not_after(&Asn1Time::days_from_now(2).unwrap())
        .unwrap();
    b
}

/// A CA, and a leaf certificate it signed with subject `CN=cn` and `sans` (none: no
/// subjectAltName extension at all).
fn leaf(cn: &str, sans: &[San]) -> Leaf {
    let ca_key = key();
    let ca_name = "httpclient name-check CA";
    let mut ca = builder(ca_name, 1);
    ca.set_issuer_name(&name(ca_name)).unwrap();
    ca.set_pubkey(&ca_key).unwrap();
    ca.append_extension(BasicConstraints::new().critical().ca().build().unwrap())
        .unwrap();
    ca.append_extension(
        KeyUsage::new()
            .critical()
            .key_cert_sign()
            .crl_sign()
            .build()
            .unwrap(),
    )
    .unwrap();
    ca.sign(&ca_key, MessageDigest::sha256()).unwrap();
    let ca = ca.build();

    let key = key();
    let mut b = builder(cn, 2);
    b.set_issuer_name(ca.subject_name()).unwrap();
    b.set_pubkey(&key).unwrap();
    b.append_extension(BasicConstraints::new().build().unwrap())
        .unwrap();
    if !sans.is_empty() {
        let mut ext = SubjectAlternativeName::new();
        for s in sans {
            match s {
                San::Dns(d) => ext.dns(d),
                San::Ip(i) => ext.ip(i),
            };
        }
        let ext = ext.build(&b.x509v3_context(Some(&ca), None)).unwrap();
        b.append_extension(ext).unwrap();
    }
    b.sign(&ca_key, MessageDigest::sha256()).unwrap();

    let dir = std::env::temp_dir().join(format!(
        "hc-tls-names-{}-{:?}",
        std::process::id(),
        thread::current().id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let ca_file = dir.join("ca.pem");
    std::fs::write(&ca_file, ca.to_pem().unwrap()).unwrap();
    Leaf {
        cert: b.build(),
        key,
        ca_file,
    }
}

/// Serves `leaf` for one connection on 127.0.0.1 (and on ::1 when `v6`): answers one request
/// with `200 ok`. Returns the port.
fn serve(leaf: &Leaf, bind: &str) -> u16 {
    let mut b = SslAcceptor::mozilla_intermediate_v5(SslMethod::tls_server()).unwrap();
    b.set_certificate(&leaf.cert).unwrap();
    b.set_private_key(&leaf.key).unwrap();
    let acceptor = b.build();
    let listener = TcpListener::bind((bind, 0)).unwrap();
    let port = listener.local_addr().unwrap().port();
    thread::spawn(move || {
        let Ok((tcp, _)) = listener.accept() else {
            return;
        };
        tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        // A refused certificate ends the handshake on the client's side: nothing to serve.
        let Ok(mut s) = acceptor.accept(tcp) else {
            return;
        };
        if !common::read_head(&mut s).ends_with(b"\r\n\r\n") {
            return;
        }
        let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
        let _ = s.shutdown();
    });
    port
}

/// A CONNECT proxy for one tunnel: whatever host the CONNECT names, the tunnel leads to
/// 127.0.0.1:`origin_port`.
fn tunnel_to(origin_port: u16) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    thread::spawn(move || {
        let Ok((mut client, _)) = listener.accept() else {
            return;
        };
        client
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        if !common::read_head(&mut client).ends_with(b"\r\n\r\n") {
            return;
        }
        let origin = TcpStream::connect(("127.0.0.1", origin_port)).unwrap();
        client
            .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
            .unwrap();
        let (mut c2, mut o2) = (client.try_clone().unwrap(), origin.try_clone().unwrap());
        let up = thread::spawn(move || {
            let _ = std::io::copy(&mut c2, &mut o2);
            let _ = o2.shutdown(Shutdown::Write);
        });
        let (mut o, mut c) = (origin, client);
        let _ = std::io::copy(&mut o, &mut c);
        let _ = c.shutdown(Shutdown::Both);
        let _ = up.join();
    });
    port
}

/// GET / over HTTPS from `host` (through a tunnel unless it is an IP literal or localhost),
/// trusting only `leaf`'s CA: Ok(body) or the error's kind and message.
fn fetch(leaf: &Leaf, host: &str) -> Result<Vec<u8>, (ErrorKind, String)> {
    let ip = host.parse::<IpAddr>().ok();
    let bind = match ip {
        Some(IpAddr::V6(_)) => "::1",
        _ => "127.0.0.1",
    };
    let origin = serve(leaf, bind);
    let mut c = if ip.is_some() || host == "localhost" {
        Connection::new_https(host, origin).unwrap()
    } else {
        let mut c = Connection::new_https("127.0.0.1", tunnel_to(origin)).unwrap();
        c.set_tunnel(host, 443, &[]).unwrap();
        c
    };
    c.set_timeout(10.0).unwrap();
    c.set_ca_file(leaf.ca_file.to_str().unwrap()).unwrap();
    let run = |c: &mut Connection| -> httpclient::Result<Vec<u8>> {
        c.request(b"GET", b"/", None, &[])?;
        let mut r = c.getresponse()?;
        let mut body = Vec::new();
        r.read_to_end(&mut body)?;
        Ok(body)
    };
    run(&mut c).map_err(|e| (e.kind(), e.to_string()))
}

#[track_caller]
fn accepted(leaf: &Leaf, host: &str) {
    match fetch(leaf, host) {
        Ok(body) => assert_eq!(body, b"ok", "{host}"),
        Err(e) => panic!("{host}: expected the certificate to be accepted, got {e:?}"),
    }
}

#[track_caller]
fn refused(leaf: &Leaf, host: &str) {
    match fetch(leaf, host) {
        Ok(_) => panic!("{host}: the certificate was accepted"),
        Err((kind, msg)) => {
            assert_eq!(kind, ErrorKind::CertificateVerify, "{host}: {msg}");
            assert!(msg.contains("mismatch"), "{host}: {msg}");
        }
    }
}

fn ipv6() -> bool {
    TcpListener::bind("[::1]:0").is_ok()
}

// ----- the common name is never a name -----

#[test]
fn common_name_without_any_subject_alt_name_is_refused_for_the_host() {
    // The certificate of the outside finding: CA-signed, CN=localhost, no subjectAltName.
    let l = leaf("localhost", &[]);
    refused(&l, "localhost");
}

#[test]
fn common_name_beside_ip_sans_only_is_refused_for_the_host() {
    let l = leaf("localhost", &[San::Ip("127.0.0.1"), San::Ip("::1")]);
    refused(&l, "localhost");
    // The IP names it does carry still verify.
    accepted(&leaf("localhost", &[San::Ip("127.0.0.1")]), "127.0.0.1");
}

#[test]
fn common_name_ip_is_not_an_ip_name() {
    let l = leaf("127.0.0.1", &[]);
    refused(&l, "127.0.0.1");
    let l = leaf("127.0.0.1", &[San::Dns("localhost")]);
    refused(&l, "127.0.0.1");
}

#[test]
fn dns_san_matches_case_insensitively_and_the_common_name_does_not_matter() {
    let l = leaf("not-the-host.example", &[San::Dns("LocalHost")]);
    accepted(&l, "localhost");
    let l = leaf("localhost", &[San::Dns("other.example.test")]);
    refused(&l, "localhost");
}

#[test]
fn dns_san_equal_to_an_ip_literal_is_not_an_ip_name() {
    let l = leaf("x", &[San::Dns("127.0.0.1")]);
    refused(&l, "127.0.0.1");
}

#[test]
fn ip_san_matches_ipv6_literal() {
    if !ipv6() {
        eprintln!("skipped: no IPv6 loopback");
        return;
    }
    accepted(&leaf("x", &[San::Ip("::1")]), "::1");
    refused(&leaf("::1", &[San::Dns("localhost")]), "::1");
}

// ----- wildcards -----

#[test]
fn wildcard_matches_one_left_most_label() {
    let l = leaf("x", &[San::Dns("*.example.test")]);
    accepted(&l, "a.example.test");
    accepted(&l, "other-name.example.test");
}

#[test]
fn wildcard_does_not_match_two_labels() {
    refused(
        &leaf("x", &[San::Dns("*.example.test")]),
        "a.b.example.test",
    );
}

#[test]
fn wildcard_does_not_match_the_bare_domain() {
    refused(&leaf("x", &[San::Dns("*.example.test")]), "example.test");
}

#[test]
fn partial_wildcards_are_refused() {
    let l = leaf("x", &[San::Dns("f*.example.test")]);
    refused(&l, "foo.example.test");
    refused(
        &leaf("x", &[San::Dns("*o.example.test")]),
        "foo.example.test",
    );
}

#[test]
fn wildcard_in_the_common_name_is_not_a_name_either() {
    refused(&leaf("*.example.test", &[]), "a.example.test");
}

#[test]
fn wildcard_never_matches_an_ip_address() {
    let l = leaf("x", &[San::Dns("*.0.0.1")]);
    refused(&l, "127.0.0.1");
    refused(&leaf("*.0.0.1", &[]), "127.0.0.1");
}

// ----- internationalised names -----

#[test]
fn internationalised_host_is_checked_as_its_a_label() {
    // The tunnel's CONNECT, SNI and the name check all use xn--bcher-kva.example.
    accepted(
        &leaf("x", &[San::Dns("xn--bcher-kva.example")]),
        "bücher.example",
    );
    refused(&leaf("x", &[San::Dns("bucher.example")]), "bücher.example");
}
