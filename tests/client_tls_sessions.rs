//! TLS session resumption in the URL-level client (docs/client.md, "TLS sessions"): nginx says
//! with `$ssl_session_reused` whether a handshake resumed (TLS 1.3 tickets), a TLS 1.2 server
//! of the test's own says it for TLS 1.2, and sessions never cross TLS settings or peers.

mod common;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use httpclient::client::proxy::ProxyConfig;
use httpclient::client::Client;

/// A client that opens a new connection for every call (no idle connection kept), so that
/// every call does a handshake.
fn client() -> Client {
    let c = Client::with_proxy_config(ProxyConfig::default()).unwrap();
    c.set_timeout(20.0).unwrap();
    c.set_pool_limits(0, 0, 0.0).unwrap();
    c.set_ca_file(common::servers().ca_file.to_str().unwrap())
        .unwrap();
    c
}

fn reused(c: &Client, host: &str) -> String {
    let port = common::servers().https_port;
    let mut r = c
        .get(&format!("https://{host}:{port}/session_reused"))
        .unwrap();
    let mut v = Vec::new();
    r.read_to_end(&mut v).unwrap();
    String::from_utf8(v).unwrap()
}

#[test]
fn nginx_resumes_the_second_handshake() {
    let c = client();
    assert_eq!(
        reused(&c, "localhost"),
        ".",
        "the first handshake is a full one"
    );
    assert!(c.tls_sessions() >= 1, "a session was saved");
    for _ in 0..3 {
        assert_eq!(reused(&c, "localhost"), "r");
    }
    // Another peer (the same server under another name) has sessions of its own.
    assert_eq!(reused(&c, "127.0.0.1"), ".");
    assert_eq!(reused(&c, "127.0.0.1"), "r");
    // Other TLS settings: another context, no session offered.
    c.set_ca_path(common::servers().ca_dir.to_str().unwrap())
        .unwrap();
    assert_eq!(reused(&c, "localhost"), ".");
    assert_eq!(reused(&c, "localhost"), "r");
}

#[test]
fn no_resumption_with_the_cache_off() {
    let c = client();
    c.set_tls_session_cache(false).unwrap();
    for _ in 0..3 {
        assert_eq!(reused(&c, "localhost"), ".");
    }
    assert_eq!(c.tls_sessions(), 0);
    c.set_tls_session_cache(true).unwrap();
    assert_eq!(reused(&c, "localhost"), ".");
    assert_eq!(reused(&c, "localhost"), "r");
}

#[test]
fn threads_share_the_sessions() {
    let c = client();
    assert_eq!(reused(&c, "localhost"), ".");
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let c = c.clone();
            std::thread::spawn(move || (0..10).map(|_| reused(&c, "localhost")).collect::<Vec<_>>())
        })
        .collect();
    let answers: Vec<String> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    // A session is taken out on use, and each resumed TLS 1.3 handshake brings new tickets:
    // with 2 kept per peer, many handshakes resume (how many depends on the race), none fails.
    let resumed = answers.iter().filter(|a| *a == "r").count();
    assert!(resumed >= answers.len() / 4, "{answers:?}");
}

#[test]
fn a_tls_1_2_session_is_resumed() {
    use openssl::ssl::{SslAcceptor, SslFiletype, SslMethod, SslVersion};
    let dir = std::path::PathBuf::from(common::servers().var("HC_TEST_PKI_DIR").unwrap());
    let mut b = SslAcceptor::mozilla_intermediate_v5(SslMethod::tls_server()).unwrap();
    b.set_certificate_chain_file(dir.join("localhost.pem"))
        .unwrap();
    b.set_private_key_file(dir.join("localhost.key"), SslFiletype::PEM)
        .unwrap();
    b.set_max_proto_version(Some(SslVersion::TLS1_2)).unwrap();
    b.set_session_id_context(b"hc-test").unwrap();
    let acceptor = b.build();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let seen2 = seen.clone();
    let server = std::thread::spawn(move || {
        for _ in 0..3 {
            let (tcp, _) = listener.accept().unwrap();
            let mut s = acceptor.accept(tcp).unwrap();
            seen2
                .lock()
                .unwrap()
                .push((s.ssl().session_reused(), s.ssl().version_str().to_string()));
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") && s.read(&mut byte).unwrap_or(0) == 1 {
                head.push(byte[0]);
            }
            let _ =
                s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
            let _ = s.shutdown();
        }
    });
    let c = client();
    for _ in 0..3 {
        let mut r = c.get(&format!("https://localhost:{port}/")).unwrap();
        let mut v = Vec::new();
        r.read_to_end(&mut v).unwrap();
        assert_eq!(v, b"ok");
    }
    server.join().unwrap();
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen[0], (false, "TLSv1.2".to_string()));
    assert_eq!(seen[1], (true, "TLSv1.2".to_string()));
    assert_eq!(seen[2], (true, "TLSv1.2".to_string()));
}
