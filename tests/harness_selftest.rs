//! Exercises the test helpers themselves: the real servers of `common::servers()` and the
//! in-process `ScriptedServer`.

mod common;

use common::scripted::ScriptedServer;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::Duration;

/// Sends `request` on a new connection and reads the reply until the server closes.
fn exchange(port: u16, request: &[u8]) -> Vec<u8> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    s.write_all(request).unwrap();
    let mut reply = Vec::new();
    s.read_to_end(&mut reply).unwrap();
    reply
}

fn split_head(reply: &[u8]) -> (String, &[u8]) {
    let end = reply
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("no end of head");
    (
        String::from_utf8_lossy(&reply[..end]).into_owned(),
        &reply[end + 4..],
    )
}

#[test]
fn nginx_serves_small_txt() {
    let s = common::servers();
    let reply = exchange(
        s.http_port,
        b"GET /small.txt HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
    );
    let (head, body) = split_head(&reply);
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
    assert_eq!(body, s.docroot_file("small.txt"));
}

#[test]
fn http10_server_frames_by_close() {
    let s = common::servers();
    let reply = exchange(s.py10_port, b"GET /small.txt HTTP/1.0\r\n\r\n");
    let (head, body) = split_head(&reply);
    assert!(head.starts_with("HTTP/1.0 200"), "{head}");
    assert!(
        !head.to_ascii_lowercase().contains("content-length"),
        "{head}"
    );
    assert_eq!(body, s.docroot_file("small.txt"));
}

#[test]
fn env_describes_everything() {
    let s = common::servers();
    assert!(s.ca_file.is_file() && s.client_key.is_file() && s.mismatched_key.is_file());
    assert!(s.ca_dir.is_dir());
    assert_eq!(s.large_size, 8 << 20);
    assert_eq!(s.large_sha256.len(), 64);
    assert_eq!(s.var("HC_TEST_HTTPS_PORT"), Some(s.https_port.to_string()));
    assert_eq!(s.var("HC_TEST_NO_SUCH_VARIABLE"), None);
}

#[test]
fn scripted_reply_each_keeps_the_connection() {
    let srv = ScriptedServer::reply_each(vec![
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi".to_vec(),
        b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nbye".to_vec(),
    ]);
    let mut c = TcpStream::connect(("127.0.0.1", srv.port())).unwrap();
    c.write_all(b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let mut first = [0u8; 40];
    c.read_exact(&mut first).unwrap();
    assert!(first.ends_with(b"\r\n\r\nhi"));
    c.write_all(b"POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nbody")
        .unwrap();
    let mut rest = Vec::new();
    c.read_to_end(&mut rest).unwrap(); // the script ends: the server half-closes
    assert!(rest.ends_with(b"\r\n\r\nbye"));
    c.shutdown(Shutdown::Write).unwrap();
    assert_eq!(
        srv.received_when_done(0),
        b"GET /a HTTP/1.1\r\nHost: x\r\n\r\nPOST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nbody"
    );
    assert_eq!(srv.connections(), 1);
}

#[test]
fn scripted_closure_sees_chunked_bodies_and_each_connection() {
    let srv = ScriptedServer::start(|conn, idx| {
        let req = conn.read_request().unwrap().unwrap();
        assert!(req.ends_with(b"0\r\n\r\n"));
        let body = format!("conn {idx}");
        let reply = format!(
            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        conn.write_all(reply.as_bytes()).unwrap();
    });
    let req = b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n";
    for i in 0..2 {
        let reply = exchange(srv.port(), req);
        assert!(reply.ends_with(format!("conn {i}").as_bytes()));
        assert_eq!(srv.received_when_done(i), req);
    }
}

#[test]
fn scripted_reset_on_close_sends_rst() {
    let srv = ScriptedServer::start(|conn, _| {
        let _ = conn.read_request();
        let _ = conn.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial");
        conn.reset_on_close();
    });
    let mut c = TcpStream::connect(("127.0.0.1", srv.port())).unwrap();
    c.write_all(b"GET / HTTP/1.1\r\n\r\n").unwrap();
    let _ = srv.received_when_done(0);
    let mut buf = Vec::new();
    let err = c.read_to_end(&mut buf).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::ConnectionReset);
}

#[test]
fn scripted_on_ipv6_when_available() {
    if common::servers().http6_port.is_none() {
        return; // no IPv6 loopback on this machine
    }
    let srv = ScriptedServer::start_on("[::1]:0", |conn, _| {
        let _ = conn.read_request();
        let _ = conn.write_all(b"HTTP/1.0 200 OK\r\n\r\nv6");
    });
    assert!(srv.addr().is_ipv6());
    let mut c = TcpStream::connect(srv.addr()).unwrap();
    c.write_all(b"GET / HTTP/1.0\r\n\r\n").unwrap();
    let mut reply = Vec::new();
    c.read_to_end(&mut reply).unwrap();
    assert!(reply.ends_with(b"\r\n\r\nv6"));
}
