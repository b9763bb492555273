//! The URL-level client through proxies (docs/client.md, "Proxies"): tinyproxy as a real
//! forward proxy, and scripted proxies for the hostile answers.

mod common;

use std::io::Write;

use common::routed::{ok, Routed};
use common::scripted::ScriptedServer;
use httpclient::client::proxy::ProxyConfig;
use httpclient::client::Client;
use httpclient::ErrorKind;

fn client_via(proxy: &str) -> Client {
    let c = Client::with_proxy_config(ProxyConfig::default()).unwrap();
    c.set_timeout(10.0).unwrap();
    c.set_proxy(Some(proxy)).unwrap();
    c
}

fn body(r: &mut httpclient::client::Response) -> Vec<u8> {
    let mut v = Vec::new();
    r.read_to_end(&mut v).unwrap();
    v
}

fn err_kind(r: httpclient::Result<httpclient::client::Response>) -> ErrorKind {
    match r {
        Ok(resp) => panic!("expected an error, got {}", resp.status()),
        Err(e) => e.kind(),
    }
}

#[test]
fn http_through_tinyproxy_in_absolute_form() {
    let s = common::servers();
    let Some(pp) = s.proxy_port else {
        panic!("tinyproxy is not installed: scripts/setup.sh installs it");
    };
    let c = client_via(&format!("127.0.0.1:{pp}"));
    let mut r = c
        .get(&format!("http://127.0.0.1:{}/small.txt", s.http_port))
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(body(&mut r), s.docroot_file("small.txt"));
    // A second call reuses the connection to the proxy.
    let mut r = c
        .get(&format!("http://127.0.0.1:{}/small.txt", s.http_port))
        .unwrap();
    assert_eq!(body(&mut r), s.docroot_file("small.txt"));
}

#[test]
fn https_through_tinyproxy_with_connect() {
    let s = common::servers();
    let pp = s.proxy_port.expect("tinyproxy");
    let c = client_via(&format!("http://127.0.0.1:{pp}"));
    c.set_ca_file(s.ca_file.to_str().unwrap()).unwrap();
    let mut r = c
        .get(&format!("https://localhost:{}/large.bin", s.https_port))
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(body(&mut r).len() as u64, s.large_size);
}

#[test]
fn no_proxy_bypasses_and_empty_proxy_means_direct() {
    let origin = Routed::start(|_| ok("direct"));
    // A "proxy" that would answer wrongly if used.
    let proxy = Routed::start(|_| ok("via proxy"));
    let c = client_via(&format!("127.0.0.1:{}", proxy.port()));
    c.set_no_proxy(Some("localhost, 10.0.0.0/8")).unwrap();
    let url = format!("http://localhost:{}/x", origin.port());
    assert_eq!(body(&mut c.get(&url).unwrap()), b"direct");
    let url = format!("http://127.0.0.1:{}/x", origin.port());
    assert_eq!(body(&mut c.get(&url).unwrap()), b"via proxy");
    assert_eq!(
        proxy.requests()[0].target,
        format!("http://127.0.0.1:{}/x", origin.port()),
        "absolute form to the proxy"
    );
    c.set_proxy(Some("")).unwrap();
    assert_eq!(body(&mut c.get(&url).unwrap()), b"direct");
    // From the "environment".
    let env = ProxyConfig::from_env(&|n: &str| match n {
        "http_proxy" => Some(format!("127.0.0.1:{}", proxy.port())),
        "no_proxy" => Some("localhost".into()),
        _ => None,
    });
    let c = Client::with_proxy_config(env).unwrap();
    assert_eq!(body(&mut c.get(&url).unwrap()), b"via proxy");
    let url = format!("http://localhost:{}/x", origin.port());
    assert_eq!(body(&mut c.get(&url).unwrap()), b"direct");
}

#[test]
fn proxy_credentials_go_to_the_proxy_only() {
    let proxy = Routed::start(|_| ok("proxied"));
    // "user:p@ss" with the @ written %40.
    let c = client_via(&format!("http://user:p%40ss@127.0.0.1:{}", proxy.port()));
    c.get("http://origin.example/").unwrap();
    let r = &proxy.requests()[0];
    assert_eq!(r.header("proxy-authorization"), Some("Basic dXNlcjpwQHNz"));
    assert_eq!(r.header("authorization"), None);
    assert_eq!(r.target, "http://origin.example/");
}

#[test]
fn a_407_to_an_absolute_form_request() {
    let proxy = Routed::start(|_| {
        b"HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"p\"\r\n\
          Content-Length: 0\r\n\r\n"
            .to_vec()
    });
    let c = client_via(&format!("127.0.0.1:{}", proxy.port()));
    assert_eq!(
        err_kind(c.get("http://origin.example/")),
        ErrorKind::ProxyAuthRequired
    );
}

/// A scripted proxy answering CONNECT with `reply` (then, when `then_close`, closing).
fn connect_proxy(reply: &'static [u8]) -> ScriptedServer {
    ScriptedServer::start(move |conn, _| {
        let _ = conn.read_request();
        if !reply.is_empty() {
            let _ = conn.write_all(reply);
        } else {
            // Silence: wait for the client to give up.
            conn.drain(std::time::Duration::from_secs(10));
        }
    })
}

#[test]
fn hostile_answers_to_connect() {
    let cases: [(&[u8], &[ErrorKind]); 4] = [
        (
            b"HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n",
            &[ErrorKind::ProxyAuthRequired],
        ),
        (b"\x00\x01garbage\r\n\r\n", &[ErrorKind::TunnelFailed]),
        // An HTTP/0.9-style reply (no status line).
        (b"<html>hello</html>\n", &[ErrorKind::TunnelFailed]),
        // 200 then close: the TLS handshake with the origin can't happen.
        (
            b"HTTP/1.1 200 Connection established\r\n\r\n",
            &[ErrorKind::Proxy, ErrorKind::ConnectionReset, ErrorKind::Tls],
        ),
    ];
    for (reply, kinds) in cases {
        let p = connect_proxy(reply);
        let c = client_via(&format!("127.0.0.1:{}", p.port()));
        let k = err_kind(c.get("https://origin.example/"));
        assert!(
            kinds.contains(&k),
            "{:?}: {k:?}",
            String::from_utf8_lossy(reply)
        );
        assert!(k.is(ErrorKind::Os), "{k:?} is an OS error");
        let head = p.received(0);
        assert!(head.starts_with(b"CONNECT origin.example:443 HTTP/1.1\r\n"));
    }
    // Silence: the connect timeout covers the CONNECT.
    let p = connect_proxy(b"");
    let c = client_via(&format!("127.0.0.1:{}", p.port()));
    c.set_connect_timeout(0.5).unwrap();
    let t = std::time::Instant::now();
    let k = err_kind(c.get("https://origin.example/"));
    assert!(t.elapsed().as_secs_f64() < 5.0, "{:?}", t.elapsed());
    assert!(
        k == ErrorKind::Timeout || k == ErrorKind::TunnelFailed,
        "{k:?}"
    );
}

#[test]
fn an_unreachable_proxy_is_a_proxy_error() {
    let c = client_via("127.0.0.1:1");
    assert_eq!(err_kind(c.get("http://origin.example/")), ErrorKind::Proxy);
    assert_eq!(err_kind(c.get("https://origin.example/")), ErrorKind::Proxy);
    // A bad proxy in the environment fails the calls that would use it, loudly.
    let env = ProxyConfig::from_env(&|n: &str| (n == "https_proxy").then(|| "socks5://x:1".into()));
    let c = Client::with_proxy_config(env).unwrap();
    assert_eq!(err_kind(c.get("https://origin.example/")), ErrorKind::Proxy);
}

/// The origin behind a tunnel never sees the proxy's credentials.
#[test]
fn no_proxy_authorization_inside_the_tunnel() {
    let origin = Routed::start_tls(|_| ok("secret-free"));
    let origin_port = origin.port();
    // A CONNECT proxy that records the CONNECT head and then relays bytes.
    let proxy = ScriptedServer::start(move |conn, _| {
        let Ok(Some(_)) = conn.read_request() else {
            return;
        };
        let up = std::net::TcpStream::connect(("127.0.0.1", origin_port)).unwrap();
        let _ = conn.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n");
        let mut down = conn.try_clone().unwrap();
        let mut up2 = up.try_clone().unwrap();
        let t = std::thread::spawn(move || {
            let _ = std::io::copy(&mut down, &mut up2);
        });
        let mut up3 = up;
        let _ = std::io::copy(&mut up3, &mut **conn);
        let _ = t.join();
    });
    let c = client_via(&format!("http://u:pw@127.0.0.1:{}", proxy.port()));
    c.set_ca_file(common::servers().ca_file.to_str().unwrap())
        .unwrap();
    let mut r = c.get(&format!("https://localhost:{origin_port}/")).unwrap();
    assert_eq!(body(&mut r), b"secret-free");
    let connect = String::from_utf8_lossy(&proxy.received(0)).to_string();
    assert!(
        connect.contains("Proxy-Authorization: Basic dTpwdw=="),
        "{connect}"
    );
    let seen = &origin.requests()[0];
    assert_eq!(seen.header("proxy-authorization"), None);
    assert_eq!(seen.header("authorization"), None);
}

/// The environment is read once, when the client is made: `set_proxy(None)` goes back to what
/// was read then.
#[test]
fn back_to_the_environment_as_read_at_creation() {
    let proxy = Routed::start(|_| ok("via proxy"));
    let origin = Routed::start(|_| ok("direct"));
    let pp = proxy.port();
    let env = ProxyConfig::from_env(&move |n: &str| {
        (n == "http_proxy").then(|| format!("127.0.0.1:{pp}"))
    });
    let c = Client::with_proxy_config(env).unwrap();
    let url = format!("http://127.0.0.1:{}/", origin.port());
    c.set_proxy(Some("")).unwrap();
    assert_eq!(body(&mut c.get(&url).unwrap()), b"direct");
    c.set_proxy(None).unwrap();
    assert_eq!(body(&mut c.get(&url).unwrap()), b"via proxy");
}
