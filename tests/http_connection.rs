//! Connections against scripted servers: host parsing, lazy connect, address fallback,
//! socket options, timeouts, keep-alive, reopening, the idle-close check and the retry of a
//! request whose reused connection was closed under it.

mod common;

use std::io::ErrorKind as IoKind;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::thread::sleep;
use std::time::Duration;

use common::err;
use common::scripted::ScriptedServer;
use httpclient::transport::tcp::{connect_addrs, TcpOptions};
use httpclient::{Connection, ErrorKind, Response};

const OK_HI: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi";
const OK_YO: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nyo";

fn conn_to(srv: &ScriptedServer) -> Connection {
    Connection::new(&srv.addr().to_string(), 0).unwrap()
}

fn send(c: &mut Connection, method: &str, url: &str, body: Option<&[u8]>) -> Response {
    c.request(method.as_bytes(), url.as_bytes(), body, &[])
        .unwrap();
    c.getresponse().unwrap()
}

fn body(r: &mut Response) -> Vec<u8> {
    let mut v = Vec::new();
    r.read_to_end(&mut v).unwrap();
    v
}

fn get_body(c: &mut Connection, url: &str) -> Vec<u8> {
    let mut r = send(c, "GET", url, None);
    body(&mut r)
}

fn count(hay: &[u8], needle: &[u8]) -> usize {
    hay.windows(needle.len()).filter(|w| *w == needle).count()
}

fn req(method: &str, url: &str, port: u16) -> Vec<u8> {
    format!(
        "{method} {url} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAccept-Encoding: identity\r\n\r\n"
    )
    .into_bytes()
}

// ----- host parsing -----

#[test]
fn host_forms_give_host_and_port() {
    let t = |h: &str, p: u16| {
        let c = Connection::new(h, p).unwrap();
        (c.target().host().to_owned(), c.target().port)
    };
    assert_eq!(t("example.com", 0), ("example.com".into(), 80));
    assert_eq!(t("example.com:8080", 0), ("example.com".into(), 8080));
    assert_eq!(t("example.com", 81), ("example.com".into(), 81));
    assert_eq!(t("[::1]", 0), ("::1".into(), 80));
    assert_eq!(t("[::1]:8080", 0), ("::1".into(), 8080));
    assert_eq!(t("[2001:db8::5]:1", 0), ("2001:db8::5".into(), 1));
    let https = Connection::new_https("h", 0).unwrap();
    assert_eq!(https.target().port, 443);
}

#[test]
fn host_with_port_reaches_that_port() {
    let srv = ScriptedServer::reply_each(vec![OK_HI.to_vec()]);
    let mut c = Connection::new(&format!("127.0.0.1:{}", srv.port()), 0).unwrap();
    assert_eq!(get_body(&mut c, "/"), b"hi");
    assert_eq!(srv.received(0), req("GET", "/", srv.port()));
}

#[test]
fn bracketed_ipv6_with_port_reaches_v6_listener() {
    let Ok(l) = TcpListener::bind("[::1]:0") else {
        eprintln!("no IPv6 loopback: skipped");
        return;
    };
    let port = l.local_addr().unwrap().port();
    let t = std::thread::spawn(move || {
        let (mut s, _) = l.accept().unwrap();
        let mut buf = Vec::new();
        let mut b = [0u8; 1024];
        while !buf.ends_with(b"\r\n\r\n") {
            let n = std::io::Read::read(&mut s, &mut b).unwrap();
            assert!(n > 0);
            buf.extend_from_slice(&b[..n]);
        }
        std::io::Write::write_all(&mut s, OK_HI).unwrap();
        buf
    });
    let mut c = Connection::new(&format!("[::1]:{port}"), 0).unwrap();
    assert_eq!(get_body(&mut c, "/v6"), b"hi");
    let got = t.join().unwrap();
    let expect =
        format!("GET /v6 HTTP/1.1\r\nHost: [::1]:{port}\r\nAccept-Encoding: identity\r\n\r\n");
    assert_eq!(String::from_utf8_lossy(&got), expect);
}

#[test]
fn bad_ports_are_invalid_url() {
    for h in [
        "h:", "h:x", "h:0", "h:65536", "h:99999", "h:-1", "h:+80", "h:8 0", "[::1]:", "[::1]:x",
        "[::1]x", "[::1", "a b", "u@h", "h\r\n",
    ] {
        let e = Connection::new(h, 0)
            .err()
            .unwrap_or_else(|| panic!("{h:?} accepted"));
        assert_eq!(e.kind(), ErrorKind::InvalidUrl, "{h:?}: {e}");
    }
}

#[test]
fn no_io_before_the_first_request() {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    l.set_nonblocking(true).unwrap();
    let port = l.local_addr().unwrap().port();
    let mut c = Connection::new("127.0.0.1", port).unwrap();
    c.set_timeout(5.0).unwrap();
    c.set_connect_timeout(5.0).unwrap();
    c.set_strict(false).unwrap();
    c.set_debuglevel(0).unwrap();
    assert!(c.fileno().is_none());
    // Give a stray connect every chance to arrive.
    sleep(Duration::from_millis(50));
    match l.accept() {
        Err(e) if e.kind() == IoKind::WouldBlock => {}
        other => panic!("a connection was made before any request: {other:?}"),
    }
    // And the first request does connect.
    c.connect().unwrap();
    assert!(c.fileno().is_some());
    l.set_nonblocking(false).unwrap();
    l.accept().unwrap();
}

// ----- connecting -----

#[test]
fn connect_tries_each_address_in_turn() {
    // Two addresses that refuse (a port just freed), then one that listens.
    let dead = |bind: &str| {
        let l = TcpListener::bind(bind).unwrap();
        l.local_addr().unwrap()
    };
    let refused4 = dead("127.0.0.1:0");
    let refused6 = TcpListener::bind("[::1]:0")
        .ok()
        .map(|l| l.local_addr().unwrap());
    let live = TcpListener::bind("127.0.0.1:0").unwrap();
    let live_addr = live.local_addr().unwrap();
    let mut addrs: Vec<SocketAddr> = vec![refused4];
    addrs.extend(refused6);
    addrs.push(live_addr);
    let s = connect_addrs("test", &addrs, &TcpOptions::default()).unwrap();
    assert_eq!(s.peer_addr().unwrap(), live_addr);
    let (_, peer) = live.accept().unwrap();
    assert_eq!(peer, s.local_addr().unwrap());
    // When none answers, the last error is given.
    let e = connect_addrs("test", &[refused4], &TcpOptions::default()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ConnectionRefused, "{e}");
}

#[test]
fn refused_connection_is_connection_refused() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut c = Connection::new("127.0.0.1", port).unwrap();
    let e = c.request(b"GET", b"/", None, &[]).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ConnectionRefused, "{e}");
}

#[test]
fn tcp_nodelay_is_set() {
    let srv = ScriptedServer::reply_each(vec![OK_HI.to_vec()]);
    let mut c = conn_to(&srv);
    c.connect().unwrap();
    let fd = c.fileno().unwrap();
    let mut v: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: a valid socket fd and an int-sized out value.
    let rc = unsafe {
        libc::getsockopt(
            fd,
            libc::IPPROTO_TCP,
            libc::TCP_NODELAY,
            std::ptr::addr_of_mut!(v).cast(),
            &mut len,
        )
    };
    assert_eq!(rc, 0);
    assert_ne!(v, 0, "TCP_NODELAY not set");
}

/// A listener whose accept queue is full: further connects get no answer (Linux drops the
/// SYN), so a connect hangs until its timeout.
fn black_hole() -> (socket2::Socket, Vec<TcpStream>, SocketAddr) {
    use socket2::{Domain, Socket, Type};
    let s = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
    s.bind(&"127.0.0.1:0".parse::<SocketAddr>().unwrap().into())
        .unwrap();
    s.listen(0).unwrap();
    let addr = s.local_addr().unwrap().as_socket().unwrap();
    let mut fillers = Vec::new();
    for _ in 0..8 {
        if let Ok(f) = TcpStream::connect_timeout(&addr, Duration::from_millis(200)) {
            fillers.push(f);
        }
    }
    (s, fillers, addr)
}

#[test]
fn connect_timeout_bounds_the_connect() {
    let (_l, _f, addr) = black_hole();
    let mut c = Connection::new("127.0.0.1", addr.port()).unwrap();
    c.set_connect_timeout(0.3).unwrap();
    let e = c.request(b"GET", b"/", None, &[]).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Timeout, "{e}");
}

#[test]
fn timeout_bounds_the_connect_when_no_connect_timeout() {
    let (_l, _f, addr) = black_hole();
    let mut c = Connection::new("127.0.0.1", addr.port()).unwrap();
    c.set_timeout(0.3).unwrap();
    let e = c.connect().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Timeout, "{e}");
}

#[test]
fn read_timeout_applies_to_reads() {
    let srv = ScriptedServer::start(|conn, _| {
        let _ = conn.read_request();
        conn.drain(Duration::from_secs(5)); // never answers
    });
    let mut c = conn_to(&srv);
    c.set_timeout(0.3).unwrap();
    c.request(b"GET", b"/", None, &[]).unwrap();
    let e = err(c.getresponse());
    assert_eq!(e.kind(), ErrorKind::Timeout, "{e}");
}

#[test]
fn connect_timeout_does_not_limit_reads() {
    let srv = ScriptedServer::start(|conn, _| {
        let _ = conn.read_request();
        sleep(Duration::from_millis(600));
        let _ = std::io::Write::write_all(conn, OK_HI);
    });
    let mut c = conn_to(&srv);
    c.set_connect_timeout(0.2).unwrap();
    assert_eq!(get_body(&mut c, "/slow"), b"hi");
}

// ----- keep-alive -----

#[test]
fn http11_keeps_the_connection() {
    let srv = ScriptedServer::reply_each(vec![OK_HI.to_vec(), OK_YO.to_vec()]);
    let mut c = conn_to(&srv);
    assert_eq!(get_body(&mut c, "/1"), b"hi");
    assert_eq!(get_body(&mut c, "/2"), b"yo");
    drop(c);
    let mut both = req("GET", "/1", srv.port());
    both.extend(req("GET", "/2", srv.port()));
    assert_eq!(srv.received_when_done(0), both);
    assert_eq!(srv.connections(), 1);
}

#[test]
fn connection_close_closes_and_next_request_reopens() {
    let close = b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nhi".to_vec();
    // Connection 0 would answer a second request with "hi": it must not get one.
    let srv =
        ScriptedServer::reply_by_conn(vec![vec![close, OK_HI.to_vec()], vec![OK_YO.to_vec()]]);
    let mut c = conn_to(&srv);
    let mut r = send(&mut c, "GET", "/1", None);
    assert!(r.will_close());
    assert_eq!(body(&mut r), b"hi");
    assert!(r.isclosed());
    assert_eq!(get_body(&mut c, "/2"), b"yo");
    drop(c);
    assert_eq!(srv.received_when_done(0), req("GET", "/1", srv.port()));
    assert_eq!(srv.received_when_done(1), req("GET", "/2", srv.port()));
    assert_eq!(srv.connections(), 2);
}

#[test]
fn http10_closes_without_keep_alive() {
    let r10 = b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nhi".to_vec();
    let srv = ScriptedServer::reply_by_conn(vec![vec![r10, OK_YO.to_vec()], vec![OK_HI.to_vec()]]);
    let mut c = conn_to(&srv);
    assert_eq!(get_body(&mut c, "/1"), b"hi");
    assert_eq!(get_body(&mut c, "/2"), b"hi");
    drop(c);
    assert_eq!(srv.received_when_done(0), req("GET", "/1", srv.port()));
    assert_eq!(srv.received_when_done(1), req("GET", "/2", srv.port()));
}

#[test]
fn http10_with_keep_alive_keeps_the_connection() {
    let r10 = b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nhi".to_vec();
    let srv = ScriptedServer::reply_each(vec![r10.clone(), r10]);
    let mut c = conn_to(&srv);
    assert_eq!(get_body(&mut c, "/1"), b"hi");
    assert_eq!(get_body(&mut c, "/2"), b"hi");
    drop(c);
    let mut both = req("GET", "/1", srv.port());
    both.extend(req("GET", "/2", srv.port()));
    assert_eq!(srv.received_when_done(0), both);
    assert_eq!(srv.connections(), 1);
}

#[test]
fn reopen_after_close() {
    let srv = ScriptedServer::reply_each(vec![OK_HI.to_vec()]);
    let mut c = conn_to(&srv);
    assert_eq!(get_body(&mut c, "/1"), b"hi");
    c.close();
    assert!(c.fileno().is_none());
    assert_eq!(get_body(&mut c, "/2"), b"hi");
    drop(c);
    assert_eq!(srv.received_when_done(0), req("GET", "/1", srv.port()));
    assert_eq!(srv.received_when_done(1), req("GET", "/2", srv.port()));
}

// ----- a server that closes a kept-alive connection -----

#[test]
fn get_after_idle_close_goes_out_on_a_new_connection() {
    // Connection 0 answers once, then the server closes it (FIN) while it is idle.
    let srv = ScriptedServer::reply_by_conn(vec![vec![OK_HI.to_vec()], vec![OK_YO.to_vec()]]);
    let mut c = conn_to(&srv);
    assert_eq!(get_body(&mut c, "/1"), b"hi");
    // Let the server's FIN arrive: the check before sending sees it.
    sleep(Duration::from_millis(50));
    assert_eq!(get_body(&mut c, "/2"), b"yo");
    drop(c);
    assert_eq!(srv.received_when_done(0), req("GET", "/1", srv.port()));
    assert_eq!(srv.received_when_done(1), req("GET", "/2", srv.port()));
    assert_eq!(srv.connections(), 2);
}

#[test]
fn post_after_idle_close_is_caught_by_the_idle_check() {
    let srv = ScriptedServer::reply_by_conn(vec![vec![OK_HI.to_vec()], vec![OK_YO.to_vec()]]);
    let mut c = conn_to(&srv);
    assert_eq!(get_body(&mut c, "/1"), b"hi");
    // Let the server's FIN arrive before the POST is written.
    sleep(Duration::from_millis(50));
    let mut r = send(&mut c, "POST", "/form", Some(b"a=1"));
    assert_eq!(body(&mut r), b"yo");
    drop(c);
    // The POST never went to the closed connection (which kept reading after its FIN).
    assert_eq!(srv.received_when_done(0), req("GET", "/1", srv.port()));
    let post = format!(
        "POST /form HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nAccept-Encoding: identity\r\nContent-Length: 3\r\n\r\na=1",
        srv.port()
    );
    assert_eq!(String::from_utf8_lossy(&srv.received_when_done(1)), post);
}

/// Connection 0 answers the first request, reads the second and closes without answering;
/// later connections answer every request with "yo".
fn racing_close_server() -> ScriptedServer {
    ScriptedServer::start(|conn, idx| {
        if idx == 0 {
            if conn.read_request().ok().flatten().is_none() {
                return;
            }
            let _ = std::io::Write::write_all(conn, OK_HI);
            let _ = conn.read_request();
            return; // close without a response
        }
        while let Ok(Some(_)) = conn.read_request() {
            if std::io::Write::write_all(conn, OK_YO).is_err() {
                return;
            }
        }
    })
}

#[test]
fn get_on_a_connection_closed_racing_is_retried_once() {
    let srv = racing_close_server();
    let mut c = conn_to(&srv);
    assert_eq!(get_body(&mut c, "/1"), b"hi");
    assert_eq!(get_body(&mut c, "/2"), b"yo");
    drop(c);
    let mut first = req("GET", "/1", srv.port());
    first.extend(req("GET", "/2", srv.port()));
    assert_eq!(srv.received_when_done(0), first);
    assert_eq!(srv.received_when_done(1), req("GET", "/2", srv.port()));
    assert_eq!(srv.connections(), 2);
}

#[test]
fn post_on_a_connection_closed_racing_fails_and_is_not_resent() {
    let srv = racing_close_server();
    let mut c = conn_to(&srv);
    assert_eq!(get_body(&mut c, "/1"), b"hi");
    c.request(b"POST", b"/pay", Some(b"once"), &[]).unwrap();
    let e = err(c.getresponse());
    assert_eq!(e.kind(), ErrorKind::RemoteDisconnected, "{e}");
    // The next request opens connection 1: had the POST been resent, it would be there.
    assert_eq!(get_body(&mut c, "/after"), b"yo");
    drop(c);
    let all: Vec<u8> = [srv.received_when_done(0), srv.received_when_done(1)].concat();
    assert_eq!(count(&all, b"POST /pay"), 1);
    assert_eq!(srv.received_when_done(1), req("GET", "/after", srv.port()));
    assert_eq!(srv.connections(), 2);
}

#[test]
fn bytes_after_a_content_length_body_stop_reuse() {
    let srv = ScriptedServer::start(|conn, idx| {
        if idx > 0 {
            // Later connections answer normally.
        } else if let Ok(Some(_)) = conn.read_request() {
            let mut r = OK_HI.to_vec();
            r.extend_from_slice(b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nevil");
            let _ = std::io::Write::write_all(conn, &r);
        }
        while let Ok(Some(_)) = conn.read_request() {
            let _ = std::io::Write::write_all(conn, OK_YO);
        }
    });
    let mut c = conn_to(&srv);
    assert_eq!(get_body(&mut c, "/1"), b"hi");
    assert_eq!(get_body(&mut c, "/2"), b"yo");
    drop(c);
    assert_eq!(srv.received_when_done(0), req("GET", "/1", srv.port()));
    assert_eq!(srv.received_when_done(1), req("GET", "/2", srv.port()));
}
