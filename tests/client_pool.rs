//! The URL-level client's pool and timeouts (docs/client.md, "Pool" and "Timeouts").

mod common;

use std::io::Write;
use std::time::{Duration, Instant};

use common::routed::{ok, redirect, Routed};
use common::scripted::ScriptedServer;
use httpclient::client::proxy::ProxyConfig;
use httpclient::client::Client;
use httpclient::ErrorKind;

fn client() -> Client {
    let c = Client::with_proxy_config(ProxyConfig::default()).unwrap();
    c.set_timeout(10.0).unwrap();
    c
}

fn fetch(c: &Client, url: &str) -> Vec<u8> {
    let mut r = c.get(url).unwrap();
    let mut v = Vec::new();
    r.read_to_end(&mut v).unwrap();
    v
}

#[test]
fn a_response_read_to_its_end_gives_its_connection_back() {
    let srv = Routed::start(|_| ok("hello"));
    let c = client();
    for _ in 0..5 {
        assert_eq!(fetch(&c, &srv.url("/")), b"hello");
    }
    assert_eq!(srv.connections(), 1);
    assert_eq!(c.idle_connections(), 1);
}

#[test]
fn an_unfinished_or_closing_response_is_not_pooled() {
    let srv = Routed::start(|r| match r.target.as_str() {
        "/close" => b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\nx".to_vec(),
        "/old" => b"HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nx".to_vec(),
        _ => ok("0123456789"),
    });
    let c = client();
    let mut r = c.get(&srv.url("/")).unwrap();
    let mut two = [0u8; 2];
    r.read_some(&mut two).unwrap();
    drop(r);
    assert_eq!(c.idle_connections(), 0, "a body not read to its end closes");
    fetch(&c, &srv.url("/close"));
    assert_eq!(c.idle_connections(), 0, "Connection: close");
    fetch(&c, &srv.url("/old"));
    assert_eq!(c.idle_connections(), 0, "HTTP/1.0 without keep-alive");
    fetch(&c, &srv.url("/"));
    assert_eq!(c.idle_connections(), 1);
    assert_eq!(srv.connections(), 4);
}

#[test]
fn limits_per_key_and_in_total_evict_the_least_recently_used() {
    let a = Routed::start(|_| ok("a"));
    let b = Routed::start(|_| ok("b"));
    let c = client();
    c.set_pool_limits(2, 3, 30.0).unwrap();
    // Three responses of `a` open at once: three connections, two kept.
    let mut open: Vec<_> = (0..3).map(|_| c.get(&a.url("/")).unwrap()).collect();
    for r in &mut open {
        let mut v = Vec::new();
        r.read_to_end(&mut v).unwrap();
    }
    assert_eq!(a.connections(), 3);
    assert_eq!(c.idle_connections(), 2);
    let mut open: Vec<_> = (0..2).map(|_| c.get(&b.url("/")).unwrap()).collect();
    for r in &mut open {
        let mut v = Vec::new();
        r.read_to_end(&mut v).unwrap();
    }
    assert_eq!(b.connections(), 2);
    assert_eq!(c.idle_connections(), 3, "at most 3 in total");
    c.close_idle();
    assert_eq!(c.idle_connections(), 0);
    // No pooling at all.
    c.set_pool_limits(0, 0, 0.0).unwrap();
    fetch(&c, &b.url("/"));
    fetch(&c, &b.url("/"));
    assert_eq!(b.connections(), 4);
}

#[test]
fn an_idle_connection_expires() {
    let srv = Routed::start(|_| ok("x"));
    let c = client();
    c.set_pool_limits(4, 16, 0.2).unwrap();
    fetch(&c, &srv.url("/"));
    fetch(&c, &srv.url("/"));
    assert_eq!(srv.connections(), 1);
    std::thread::sleep(Duration::from_millis(300));
    fetch(&c, &srv.url("/"));
    assert_eq!(srv.connections(), 2);
}

#[test]
fn other_tls_settings_never_share_a_connection() {
    let srv = Routed::start_tls(|_| ok("tls"));
    let ca = common::servers().ca_file.to_str().unwrap().to_string();
    let c = client();
    c.set_ca_file(&ca).unwrap();
    fetch(&c, &srv.url("/"));
    fetch(&c, &srv.url("/"));
    assert_eq!(srv.connections(), 1);
    c.set_verify(false).unwrap();
    fetch(&c, &srv.url("/"));
    assert_eq!(srv.connections(), 2, "verify off is another key");
    c.set_verify(true).unwrap();
    fetch(&c, &srv.url("/"));
    assert_eq!(
        srv.connections(),
        2,
        "back to the first key: its connection is reused"
    );
    // And localhost vs 127.0.0.1 are two keys (two origins).
    fetch(&c, &srv.url("/").replace("127.0.0.1", "localhost"));
    assert_eq!(srv.connections(), 3);
}

#[test]
fn a_connection_the_server_closed_while_idle_is_replaced() {
    // Connection 0 answers once and closes without saying so; the next call must not fail.
    let srv = ScriptedServer::start(|conn, _| {
        let _ = conn.read_request();
        let _ = conn.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    });
    let c = client();
    let url = format!("http://127.0.0.1:{}/", srv.port());
    assert_eq!(fetch(&c, &url), b"ok");
    srv.received_when_done(0);
    assert_eq!(fetch(&c, &url), b"ok");
    assert_eq!(srv.connections(), 2);
}

#[test]
fn the_total_timeout_covers_every_hop_and_the_body() {
    // Each hop waits 300 ms: 4 hops exceed a total of 1 s although each is quick enough.
    let srv = Routed::start(|r| {
        std::thread::sleep(Duration::from_millis(300));
        let i: u32 = r.target.trim_start_matches('/').parse().unwrap_or(0);
        redirect(302, &format!("/{}", i + 1))
    });
    let c = client();
    c.set_total_timeout(1.0).unwrap();
    let t = Instant::now();
    let e = c.get(&srv.url("/0")).err().expect("timeout");
    assert_eq!(e.kind(), ErrorKind::Timeout, "{e}");
    assert!(
        t.elapsed() < Duration::from_millis(1800),
        "{:?}",
        t.elapsed()
    );
    // A body trickled slower than the total.
    let slow = ScriptedServer::start(|conn, _| {
        let _ = conn.read_request();
        let _ = conn.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n");
        for _ in 0..100 {
            if conn.write_all(b"x").is_err() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    });
    let mut call = c
        .call("GET", &format!("http://127.0.0.1:{}/", slow.port()))
        .unwrap();
    call.set_total_timeout(0.5).unwrap();
    let t = Instant::now();
    let mut r = call.send().unwrap();
    let mut v = Vec::new();
    let e = r.read_to_end(&mut v).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Timeout);
    assert!(
        t.elapsed() < Duration::from_millis(1500),
        "{:?}",
        t.elapsed()
    );
}

#[test]
fn a_response_outlives_its_client() {
    let srv = Routed::start(|_| ok("still readable"));
    let c = client();
    let mut r = c.get(&srv.url("/")).unwrap();
    c.shut();
    drop(c);
    let mut v = Vec::new();
    r.read_to_end(&mut v).unwrap();
    assert_eq!(v, b"still readable");
}

#[test]
fn many_threads_share_one_client() {
    let s = common::servers();
    let small = s.docroot_file("small.txt");
    let c = client();
    let url = format!("http://127.0.0.1:{}/small.txt", s.http_port);
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let (c, url, small) = (c.clone(), url.clone(), small.clone());
            std::thread::spawn(move || {
                for _ in 0..200 {
                    assert_eq!(fetch(&c, &url), small);
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert!(c.idle_connections() <= 4);
}

/// A TLS server on 127.0.0.1 whose first connection answers one request with "ok" and is then
/// closed while idle; the next connection (the client's reopen) is accepted and the TLS
/// handshake never answered.
fn tls_server_stalling_the_reopen() -> u16 {
    use std::net::TcpListener;
    let acc = common::routed::acceptor();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let (tcp, _) = listener.accept().unwrap();
        let mut s = acc.accept(tcp).unwrap();
        common::read_head(&mut s);
        let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        std::thread::sleep(Duration::from_millis(200));
        let _ = s.shutdown();
        drop(s);
        let (stalled, _) = listener.accept().unwrap();
        std::thread::sleep(Duration::from_secs(15));
        drop(stalled);
    });
    port
}

#[test]
fn a_pooled_connection_reopened_keeps_the_connect_timeout_for_tls() {
    // The pooled connection is found closed when reused, and the connection layer opens a new
    // one: its TLS handshake is bounded by the connect timeout (0.5 s), not by the read/write
    // timeout (10 s).
    let port = tls_server_stalling_the_reopen();
    let c = client();
    c.set_ca_file(common::servers().ca_file.to_str().unwrap())
        .unwrap();
    c.set_connect_timeout(0.5).unwrap();
    let url = format!("https://localhost:{port}/");
    assert_eq!(fetch(&c, &url), b"ok");
    assert_eq!(c.idle_connections(), 1);
    std::thread::sleep(Duration::from_millis(600)); // the server closed it meanwhile
    let t = Instant::now();
    let e = c.get(&url).err().expect("the stalled handshake");
    assert_eq!(e.kind(), ErrorKind::Timeout, "{e}");
    assert!(
        t.elapsed() < Duration::from_secs(3),
        "{:?}: not the connect timeout",
        t.elapsed()
    );
}

#[test]
fn a_pooled_tunnel_reopened_keeps_the_connect_timeout_for_connect() {
    // Through a proxy: the first tunnel is relayed to a TLS origin for 1 s, then the proxy
    // closes it; the reopen's CONNECT is read and never answered. The reopen (CONNECT and TLS)
    // is bounded by the connect timeout (0.5 s), not by the read/write timeout (10 s).
    use std::net::{Shutdown, TcpListener, TcpStream};
    let origin = Routed::start_tls(|_| ok("through"));
    let origin_port = origin.port();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let proxy_port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let (mut client_side, _) = listener.accept().unwrap();
        common::read_head(&mut client_side);
        let _ = client_side.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n");
        let origin_side = TcpStream::connect(("127.0.0.1", origin_port)).unwrap();
        let relay = |mut from: TcpStream, mut to: TcpStream| {
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut from, &mut to);
            })
        };
        relay(
            client_side.try_clone().unwrap(),
            origin_side.try_clone().unwrap(),
        );
        relay(
            origin_side.try_clone().unwrap(),
            client_side.try_clone().unwrap(),
        );
        std::thread::sleep(Duration::from_secs(1));
        let _ = client_side.shutdown(Shutdown::Both);
        let _ = origin_side.shutdown(Shutdown::Both);
        let (mut stalled, _) = listener.accept().unwrap();
        common::read_head(&mut stalled);
        std::thread::sleep(Duration::from_secs(15));
    });
    let c = client();
    c.set_proxy(Some(&format!("http://127.0.0.1:{proxy_port}")))
        .unwrap();
    c.set_ca_file(common::servers().ca_file.to_str().unwrap())
        .unwrap();
    c.set_connect_timeout(0.5).unwrap();
    let url = format!("https://localhost:{origin_port}/");
    assert_eq!(fetch(&c, &url), b"through");
    assert_eq!(c.idle_connections(), 1);
    std::thread::sleep(Duration::from_millis(1500)); // the proxy closed the tunnel meanwhile
    let t = Instant::now();
    let e = c.get(&url).err().expect("the unanswered CONNECT");
    assert_eq!(e.kind(), ErrorKind::Timeout, "{e}");
    assert!(
        t.elapsed() < Duration::from_secs(3),
        "{:?}: not the connect timeout",
        t.elapsed()
    );
}

#[test]
fn the_source_address_is_used_and_is_part_of_the_pool_key() {
    use std::io::Read;
    use std::net::{IpAddr, SocketAddr, TcpListener};
    use std::sync::{Arc, Mutex};
    // A keep-alive server recording the peer address of each connection.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let peers: Arc<Mutex<Vec<IpAddr>>> = Arc::default();
    let seen = peers.clone();
    std::thread::spawn(move || {
        for tcp in listener.incoming() {
            let Ok(mut tcp) = tcp else { continue };
            seen.lock().unwrap().push(tcp.peer_addr().unwrap().ip());
            std::thread::spawn(move || loop {
                let head = common::read_head(&mut tcp);
                if head.is_empty()
                    || tcp
                        .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                        .is_err()
                {
                    let _ = tcp.read(&mut [0u8; 1]);
                    return;
                }
            });
        }
    });
    let url = format!("http://127.0.0.1:{port}/");
    let source = |ip: &str| Some(SocketAddr::new(ip.parse().unwrap(), 0));
    let ip = |s: &str| -> IpAddr { s.parse().unwrap() };
    let c = client();
    c.set_source_address(source("127.0.0.2")).unwrap();
    assert_eq!(fetch(&c, &url), b"ok");
    assert_eq!(fetch(&c, &url), b"ok");
    assert_eq!(
        *peers.lock().unwrap(),
        [ip("127.0.0.2")],
        "one connection, from 127.0.0.2"
    );
    // Another source: the pooled connection is not used for it.
    c.set_source_address(source("127.0.0.3")).unwrap();
    assert_eq!(fetch(&c, &url), b"ok");
    assert_eq!(*peers.lock().unwrap(), [ip("127.0.0.2"), ip("127.0.0.3")]);
    // Back to the first: its connection is still pooled, and reused.
    c.set_source_address(source("127.0.0.2")).unwrap();
    assert_eq!(fetch(&c, &url), b"ok");
    assert_eq!(peers.lock().unwrap().len(), 2);
    assert_eq!(c.idle_connections(), 2);
    // Any address again.
    c.set_source_address(None).unwrap();
    assert_eq!(fetch(&c, &url), b"ok");
    assert_eq!(peers.lock().unwrap()[2], ip("127.0.0.1"));
    // A source of the other family than the server's: no address to connect from.
    c.set_source_address(source("::1")).unwrap();
    let e = c.get(&url).err().expect("no IPv4 source");
    assert_eq!(e.kind(), ErrorKind::Os, "{e}");
    assert!(e.message().contains("family"), "{e}");
    assert_eq!(peers.lock().unwrap().len(), 3);
}
