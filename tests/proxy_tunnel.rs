//! Proxy tunnels (set_tunnel): the CONNECT exchange on exact bytes with scripted proxies,
//! refusals, and real traffic through tinyproxy to nginx over HTTP and HTTPS.

mod common;

use std::io::Write;
use std::time::Duration;

use common::scripted::ScriptedServer;
use httpclient::{Connection, ErrorKind};

const OK: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

/// A proxy that answers the CONNECT with `reply`, then (on a 2xx) acts as the origin.
fn proxy(reply: &'static [u8]) -> ScriptedServer {
    ScriptedServer::start(move |conn, _| {
        conn.read_head();
        if reply.is_empty() {
            return; // close without answering
        }
        let _ = conn.write_all(reply);
        if reply.starts_with(b"HTTP/1.1 2") {
            if let Ok(Some(_)) = conn.read_request() {
                let _ = conn.write_all(OK);
            }
        }
        conn.drain(Duration::from_secs(10));
    })
}

fn via(srv: &ScriptedServer) -> Connection {
    let mut c = Connection::new("127.0.0.1", srv.port()).unwrap();
    c.set_timeout(10.0).unwrap();
    c
}

#[test]
fn tunnel_sends_connect_with_host_and_extra_headers_then_requests_for_the_origin() {
    let srv = proxy(b"HTTP/1.1 200 Connection established\r\nX-Proxy: tp\r\n\r\n");
    let mut c = via(&srv);
    c.set_tunnel(
        "origin.example",
        8080,
        &[(b"Proxy-Authorization", b"Basic dTpw")],
    )
    .unwrap();
    c.request(b"GET", b"/path", None, &[]).unwrap();
    let mut r = c.getresponse().unwrap();
    let mut body = Vec::new();
    r.read_to_end(&mut body).unwrap();
    assert_eq!(body, b"ok");
    let got = srv.received(0);
    let want = b"CONNECT origin.example:8080 HTTP/1.1\r\nHost: origin.example:8080\r\n\
                 Proxy-Authorization: Basic dTpw\r\n\r\n\
                 GET /path HTTP/1.1\r\nHost: origin.example:8080\r\n";
    assert!(got.starts_with(want), "{}", String::from_utf8_lossy(&got));
    let head = c.tunnel_response().unwrap();
    assert_eq!(head.status, 200);
    assert_eq!(head.values(b"x-proxy").next(), Some(&b"tp"[..]));
}

#[test]
fn tunnel_host_header_omits_the_default_port() {
    let srv = proxy(b"HTTP/1.1 200 OK\r\n\r\n");
    let mut c = via(&srv);
    c.set_tunnel("origin.example", 0, &[]).unwrap();
    c.request(b"GET", b"/", None, &[]).unwrap();
    c.getresponse().unwrap();
    let got = srv.received(0);
    assert!(got.starts_with(b"CONNECT origin.example:80 HTTP/1.1\r\nHost: origin.example:80\r\n\r\nGET / HTTP/1.1\r\nHost: origin.example\r\n"),
        "{}", String::from_utf8_lossy(&got));
}

fn refused(reply: &'static [u8]) -> (httpclient::Error, Connection, ScriptedServer) {
    let srv = proxy(reply);
    let mut c = via(&srv);
    c.set_tunnel("origin.example", 443, &[]).unwrap();
    let e = c.request(b"GET", b"/", None, &[]).unwrap_err();
    (e, c, srv)
}

#[test]
fn tunnel_refused_with_407_is_tunnel_failed_and_keeps_the_proxy_headers() {
    let (e, c, srv) = refused(
        b"HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"p\"\r\nContent-Length: 0\r\n\r\n",
    );
    assert_eq!(e.kind(), ErrorKind::TunnelFailed);
    assert!(e.kind().is(ErrorKind::Os));
    assert!(
        e.message().contains("407 Proxy Authentication Required"),
        "{e}"
    );
    let head = c.tunnel_response().unwrap();
    assert_eq!(head.status, 407);
    assert_eq!(
        head.values(b"proxy-authenticate").next(),
        Some(&b"Basic realm=\"p\""[..])
    );
    // No request went to the proxy after the refused CONNECT.
    let got = srv.received_when_done(0);
    assert!(!got.windows(4).any(|w| w == b"GET "));
}

#[test]
fn tunnel_refused_with_403_is_tunnel_failed() {
    let (e, c, _srv) = refused(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n");
    assert_eq!(e.kind(), ErrorKind::TunnelFailed);
    assert!(e.message().contains("403 Forbidden"), "{e}");
    assert_eq!(c.tunnel_response().unwrap().status, 403);
}

#[test]
fn tunnel_garbage_reply_is_tunnel_failed() {
    let (e, c, _srv) = refused(b"SSH-2.0-OpenSSH_9.2\r\n\r\n");
    assert_eq!(e.kind(), ErrorKind::TunnelFailed);
    assert!(e.message().contains("SSH-2.0"), "{e}");
    assert!(c.tunnel_response().is_none());
}

#[test]
fn tunnel_proxy_closing_without_reply_is_tunnel_failed() {
    let (e, _c, _srv) = refused(b"");
    assert_eq!(e.kind(), ErrorKind::TunnelFailed, "{e}");
}

#[test]
fn set_tunnel_on_an_open_connection_is_improper_state() {
    let srv = ScriptedServer::reply_each(vec![OK.to_vec()]);
    let mut c = via(&srv);
    c.connect().unwrap();
    assert_eq!(
        c.set_tunnel("x", 1, &[]).unwrap_err().kind(),
        ErrorKind::ImproperConnectionState
    );
}

#[test]
fn https_tunnel_sends_the_origin_name_as_sni() {
    // The proxy answers 200 and records the ClientHello, whose SNI names the origin.
    let srv = ScriptedServer::start(|conn, _| {
        conn.read_head();
        conn.write_all(b"HTTP/1.1 200 OK\r\n\r\n").unwrap();
        conn.drain(Duration::from_secs(2));
    });
    let mut c = Connection::new_https("127.0.0.1", srv.port()).unwrap();
    c.set_timeout(2.0).unwrap();
    c.set_tunnel("origin.example", 0, &[]).unwrap();
    assert!(c.connect().is_err()); // the "proxy" never answers the handshake
    let got = srv.received_when_done(0);
    let head_end = got.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    assert!(got[..head_end].starts_with(b"CONNECT origin.example:443 HTTP/1.1\r\n"));
    let hello = &got[head_end..];
    assert_eq!(hello.first(), Some(&0x16), "a TLS handshake record follows");
    assert!(hello.windows(14).any(|w| w == b"origin.example"));
}

#[test]
fn tunnel_through_tinyproxy_to_nginx_http_and_https() {
    let s = common::servers();
    let Some(proxy_port) = s.proxy_port else {
        panic!("tinyproxy is not installed: apt-get install -y tinyproxy");
    };
    let small = std::fs::read(s.docroot.join("small.txt")).unwrap();

    let mut c = Connection::new("127.0.0.1", proxy_port).unwrap();
    c.set_timeout(10.0).unwrap();
    c.set_tunnel("127.0.0.1", s.http_port, &[]).unwrap();
    for _ in 0..2 {
        c.request(b"GET", b"/small.txt", None, &[]).unwrap();
        let mut r = c.getresponse().unwrap();
        let mut body = Vec::new();
        r.read_to_end(&mut body).unwrap();
        assert_eq!(body, small);
    }
    c.request(b"GET", b"/headers", None, &[]).unwrap();
    let mut r = c.getresponse().unwrap();
    let mut body = Vec::new();
    r.read_to_end(&mut body).unwrap();
    assert_eq!(
        body,
        format!("127.0.0.1:{}|identity|", s.http_port).as_bytes()
    );
    assert_eq!(c.tunnel_response().unwrap().status, 200);

    let mut c = Connection::new_https("127.0.0.1", proxy_port).unwrap();
    c.set_timeout(10.0).unwrap();
    c.set_ca_file(s.ca_file.to_str().unwrap()).unwrap();
    c.set_tunnel("localhost", s.https_port, &[]).unwrap();
    c.request(b"GET", b"/small.txt", None, &[]).unwrap();
    let mut r = c.getresponse().unwrap();
    let mut body = Vec::new();
    r.read_to_end(&mut body).unwrap();
    assert_eq!(body, small);

    // The origin's certificate is what gets verified: a wrong-host origin fails.
    let mut c = Connection::new_https("127.0.0.1", proxy_port).unwrap();
    c.set_timeout(10.0).unwrap();
    c.set_ca_file(s.ca_file.to_str().unwrap()).unwrap();
    c.set_tunnel("localhost", s.https_wronghost_port, &[])
        .unwrap();
    let e = c.connect().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::CertificateVerify, "{e}");
}

#[test]
fn the_connect_timeout_covers_the_connect_exchange() {
    // A proxy that reads the CONNECT and never answers: the connect timeout (0.5 s) ends the
    // wait, not the read/write timeout (10 s), on the first connect and on a reconnect.
    let srv = ScriptedServer::start(|conn, _| {
        conn.read_head();
        std::thread::sleep(Duration::from_secs(15));
    });
    let mut c = via(&srv);
    c.set_connect_timeout(0.5).unwrap();
    c.set_tunnel("origin.example", 80, &[]).unwrap();
    for attempt in 0..2 {
        let t = std::time::Instant::now();
        let e = c.request(b"GET", b"/", None, &[]).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Timeout, "attempt {attempt}: {e}");
        assert!(
            t.elapsed() < Duration::from_secs(3),
            "attempt {attempt}: {:?}, not the connect timeout",
            t.elapsed()
        );
    }
}
