//! A server that answers a request before it has read the whole body (413 Payload Too Large,
//! 401, 417 to `Expect: 100-continue`) and closes: the answer ends the request. The write that
//! the close breaks (a reset or a broken pipe) is not the caller's error; the request call
//! succeeds, getresponse returns the server's answer, and the connection is not used again.
//! Only when no answer came does the write failure stand.
//!
//! The servers here read the request head, answer, and close with the body still arriving,
//! which makes the kernel reset the connection (as servers that close at once do); nginx with
//! a small `client_max_body_size` is the real peer.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::scripted::ScriptedServer;
use httpclient::debug::DebugKind;
use httpclient::{Connection, ErrorKind, Response};

const TOO_LARGE: &[u8] =
    b"HTTP/1.1 413 Payload Too Large\r\nContent-Length: 9\r\nConnection: close\r\n\r\ntoo large";

/// Reads a request head (up to the blank line) and nothing more.
/// A server that reads each request's head, answers `reply` (empty: nothing) and closes with
/// the body unread. Also a plain 200 for a request without a body (the connection check).
fn answers_early(reply: &'static [u8]) -> ScriptedServer {
    ScriptedServer::start(move |conn, _| {
        let head = conn.read_head();
        if head.starts_with(b"GET /next") {
            let _ = conn.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
            return;
        }
        // Let some body arrive, so the close finds unread bytes and resets.
        std::thread::sleep(Duration::from_millis(50));
        let _ = conn.write_all(reply);
    })
}

fn conn(srv: &ScriptedServer) -> Connection {
    let mut c = Connection::new("127.0.0.1", srv.port()).unwrap();
    c.set_timeout(20.0).unwrap();
    c
}

fn body(r: &mut Response) -> Vec<u8> {
    let mut v = Vec::new();
    r.read_to_end(&mut v).unwrap();
    v
}

/// Records the debug trace's text lines.
fn trace(c: &mut Connection) -> Arc<Mutex<Vec<String>>> {
    let lines = Arc::new(Mutex::new(Vec::new()));
    let l = lines.clone();
    c.set_debug_callback(Some(Box::new(move |kind, data: &[u8]| {
        if kind == DebugKind::Text {
            l.lock()
                .unwrap()
                .push(String::from_utf8_lossy(data).into_owned());
        }
    })))
    .unwrap();
    lines
}

/// After an early answer the connection is not reused: the next request opens another.
fn next_request_uses_a_new_connection(c: &mut Connection, srv: &ScriptedServer) {
    c.request(b"GET", b"/next", None, &[]).unwrap();
    let mut r = c.getresponse().unwrap();
    assert_eq!(body(&mut r), b"ok");
    assert_eq!(srv.connections(), 2);
}

const BIG: usize = 16 << 20;

#[test]
fn request_with_a_large_body_gets_the_early_413() {
    let srv = answers_early(TOO_LARGE);
    let mut c = conn(&srv);
    let lines = trace(&mut c);
    let data = vec![b'x'; BIG];
    c.request(b"POST", b"/upload", Some(&data), &[]).unwrap();
    let mut r = c.getresponse().unwrap();
    assert_eq!(r.status(), 413);
    assert_eq!(body(&mut r), b"too large");
    let lines = lines.lock().unwrap();
    let note = lines
        .iter()
        .find(|l| l.contains("answered before the request was sent whole"))
        .unwrap_or_else(|| panic!("no trace line: {lines:?}"));
    // "... after N of 16777216 body bytes ..."
    assert!(note.contains(&format!("of {BIG} body bytes")), "{note}");
    drop(lines);
    next_request_uses_a_new_connection(&mut c, &srv);
}

#[test]
fn streamed_upload_gets_the_early_401() {
    let srv = answers_early(
        b"HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"x\"\r\nContent-Length: 0\r\n\r\n",
    );
    let mut c = conn(&srv);
    let mut sent = 0usize;
    let mut source = |buf: &mut [u8]| -> std::io::Result<usize> {
        if sent >= BIG {
            return Ok(0);
        }
        let n = buf.len().min(BIG - sent);
        buf[..n].fill(b'y');
        sent += n;
        Ok(n)
    };
    // Chunked: the length is not known.
    c.request_stream(b"PUT", b"/up", &mut source, None, &[])
        .unwrap();
    let mut r = c.getresponse().unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(body(&mut r), b"");
    assert!(sent < BIG, "the whole body was read from the source");
    next_request_uses_a_new_connection(&mut c, &srv);
}

#[test]
fn request_fd_of_50_mib_gets_the_early_413() {
    use httpclient::ffi::connection::{
        hc_connection_free, hc_connection_new, hc_getresponse, hc_request_fd,
    };
    use httpclient::ffi::response::{
        hc_buffer_free, hc_response_free, hc_response_read_all, hc_response_status,
    };
    use std::os::fd::AsRawFd;
    use std::ptr;

    let path = std::env::temp_dir().join(format!("hc-early-{}.bin", std::process::id()));
    let file = {
        let mut f = std::fs::File::create(&path).unwrap();
        let block = vec![b'z'; 1 << 20];
        for _ in 0..50 {
            f.write_all(&block).unwrap();
        }
        std::fs::File::open(&path).unwrap()
    };
    std::fs::remove_file(&path).unwrap();
    let srv = answers_early(TOO_LARGE);
    let host = std::ffi::CString::new(srv.addr().to_string()).unwrap();
    let mut c = ptr::null_mut();
    assert_eq!(hc_connection_new(host.as_ptr(), 0, &mut c), 0);
    let rc = hc_request_fd(
        c,
        c"POST".as_ptr(),
        c"/file".as_ptr(),
        file.as_raw_fd(),
        ptr::null(),
        0,
    );
    assert_eq!(rc, 0, "hc_request_fd");
    let mut r = ptr::null_mut();
    assert_eq!(hc_getresponse(c, &mut r), 0);
    assert_eq!(hc_response_status(r), 413);
    let (mut buf, mut len) = (ptr::null_mut(), 0usize);
    assert_eq!(hc_response_read_all(r, &mut buf, &mut len), 0);
    // SAFETY: read_all gave `len` bytes at `buf`.
    assert_eq!(
        unsafe { std::slice::from_raw_parts(buf, len) },
        b"too large"
    );
    hc_buffer_free(buf, len);
    hc_response_free(r);
    hc_connection_free(c);
}

#[test]
fn expect_continue_answered_with_417_and_close() {
    let srv = answers_early(
        b"HTTP/1.1 417 Expectation Failed\r\nContent-Length: 4\r\nConnection: close\r\n\r\nnope",
    );
    let mut c = conn(&srv);
    let data = vec![b'x'; BIG];
    c.request(
        b"POST",
        b"/upload",
        Some(&data),
        &[(b"Expect", b"100-continue")],
    )
    .unwrap();
    let mut r = c.getresponse().unwrap();
    assert_eq!(r.status(), 417);
    assert_eq!(body(&mut r), b"nope");
    next_request_uses_a_new_connection(&mut c, &srv);
}

#[test]
fn step_by_step_body_gets_the_early_413() {
    let srv = answers_early(TOO_LARGE);
    let mut c = conn(&srv);
    c.putrequest(b"POST", b"/upload", false, false).unwrap();
    c.putheader(b"Content-Length", BIG.to_string().as_bytes())
        .unwrap();
    c.endheaders(None).unwrap();
    let block = vec![b'x'; 1 << 20];
    for _ in 0..16 {
        // Once the answer is in, the remaining sends are accepted and dropped.
        c.send(&block).unwrap();
    }
    let mut r = c.getresponse().unwrap();
    assert_eq!(r.status(), 413);
    assert_eq!(body(&mut r), b"too large");
    next_request_uses_a_new_connection(&mut c, &srv);
}

#[test]
fn chunked_sends_get_the_early_413() {
    let srv = answers_early(TOO_LARGE);
    let mut c = conn(&srv);
    c.putrequest(b"POST", b"/upload", false, false).unwrap();
    c.putheader(b"Transfer-Encoding", b"chunked").unwrap();
    c.endheaders(None).unwrap();
    let block = vec![b'x'; 1 << 20];
    for _ in 0..16 {
        c.send_chunk(&block).unwrap();
    }
    let mut r = c.getresponse().unwrap();
    assert_eq!(r.status(), 413);
    assert_eq!(body(&mut r), b"too large");
    next_request_uses_a_new_connection(&mut c, &srv);
}

/// Sends a 16 MiB upload to a server that answers `reply` early and resets: the write's
/// ConnectionReset stands, since `reply` is not a whole final response head.
fn upload_fails_with_reset(reply: &'static [u8]) -> Connection {
    let srv = answers_early(reply);
    let mut c = conn(&srv);
    let data = vec![b'x'; BIG];
    let e = c
        .request(b"POST", b"/upload", Some(&data), &[])
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ConnectionReset, "{e}");
    c
}

#[test]
fn no_answer_leaves_the_write_error_standing() {
    let mut c = upload_fails_with_reset(b"");
    let e = c.getresponse().err().expect("no response");
    assert_eq!(e.kind(), ErrorKind::ResponseNotReady, "{e}");
}

#[test]
fn an_interim_response_alone_is_not_an_answer() {
    upload_fails_with_reset(b"HTTP/1.1 100 Continue\r\n\r\n");
}

#[test]
fn a_cut_answer_is_not_an_answer() {
    upload_fails_with_reset(b"HTTP/1.1 413 Payload Too Large\r\nContent-Le");
}

#[test]
fn nginx_client_max_body_size_413_is_seen() {
    let s = common::servers();
    let port = s.http_port;
    let mut c = Connection::new("127.0.0.1", port).unwrap();
    c.set_timeout(30.0).unwrap();
    // The test nginx takes at most 1 MiB on /small-upload/.
    let data = vec![b'x'; 64 << 20];
    c.request(b"POST", b"/small-upload/", Some(&data), &[])
        .unwrap();
    let mut r = c.getresponse().unwrap();
    assert_eq!(r.status(), 413);
    let b = body(&mut r);
    assert!(String::from_utf8_lossy(&b).contains("413"), "{b:?}");
}

#[test]
fn tls_upload_gets_the_early_413() {
    use openssl::ssl::{SslAcceptor, SslFiletype, SslMethod};
    let pki = std::path::PathBuf::from(common::servers().var("HC_TEST_PKI_DIR").unwrap());
    let mut b = SslAcceptor::mozilla_intermediate_v5(SslMethod::tls_server()).unwrap();
    b.set_certificate_chain_file(pki.join("localhost.pem"))
        .unwrap();
    b.set_private_key_file(pki.join("localhost.key"), SslFiletype::PEM)
        .unwrap();
    let acceptor = b.build();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = std::thread::spawn(move || {
        let (tcp, _) = listener.accept().unwrap();
        tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut s = acceptor.accept(tcp).unwrap();
        if !common::read_head(&mut s).ends_with(b"\r\n\r\n") {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
        let _ = s.write_all(TOO_LARGE);
        // Dropped without close_notify, the body unread: the kernel resets the connection.
    });
    let mut c = Connection::new_https("localhost", port).unwrap();
    c.set_timeout(20.0).unwrap();
    c.set_ca_file(common::servers().ca_file.to_str().unwrap())
        .unwrap();
    let data = vec![b'x'; BIG];
    c.request(b"POST", b"/upload", Some(&data), &[]).unwrap();
    let mut r = c.getresponse().unwrap();
    assert_eq!(r.status(), 413);
    assert_eq!(body(&mut r), b"too large");
    server.join().unwrap();
}
