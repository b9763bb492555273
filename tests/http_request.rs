//! The bytes a request puts on the wire: automatic headers, caller overrides, the
//! step-by-step API and its state errors, refusal of injected control characters before any
//! byte is sent, and the debug trace.

mod common;

use std::io;
use std::io::ErrorKind as IoKind;
use std::net::TcpListener;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::thread::sleep;
use std::time::Duration;

use common::err;
use common::scripted::ScriptedServer;
use httpclient::debug::DebugKind;
use httpclient::transport::Transport;
use httpclient::{Connection, ErrorKind, Response};

const OK_HI: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi";
/// `OK_HI` that ends its connection.
const CLOSE_HI: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi";

fn body(r: &mut Response) -> Vec<u8> {
    let mut v = Vec::new();
    r.read_to_end(&mut v).unwrap();
    v
}

/// An in-memory transport: records what is written, answers with canned bytes. For targets
/// (default ports, IPv6 names) that a loopback scripted server can't stand for.
struct Memory {
    written: Arc<Mutex<Vec<u8>>>,
    reply: io::Cursor<Vec<u8>>,
    /// When set, the request head being written: each one is answered as it completes (with
    /// `OK_HI`, or `CLOSE_HI` for `GET /last`), so one connection carries a keep-alive
    /// sequence.
    answering: Option<Vec<u8>>,
}

impl Transport for Memory {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        io::Read::read(&mut self.reply, buf)
    }
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.written.lock().unwrap().extend_from_slice(buf);
        if let Some(head) = &mut self.answering {
            head.extend_from_slice(buf);
            while let Some(end) = head.windows(4).position(|w| w == b"\r\n\r\n") {
                let last = head.starts_with(b"GET /last ");
                head.drain(..end + 4);
                let mut left = self.reply.get_ref()[self.reply.position() as usize..].to_vec();
                left.extend_from_slice(if last { CLOSE_HI } else { OK_HI });
                self.reply = io::Cursor::new(left);
            }
        }
        Ok(buf.len())
    }
}

/// Sends one request through a memory transport to `host` and returns the bytes written.
fn sent_to(host: &str, https: bool, url: &str) -> String {
    let mut c = if https {
        Connection::new_https(host, 0).unwrap()
    } else {
        Connection::new(host, 0).unwrap()
    };
    let written = Arc::new(Mutex::new(Vec::new()));
    let w = written.clone();
    c.set_transport_factory(Box::new(move |_| {
        Ok(Box::new(Memory {
            written: w.clone(),
            reply: io::Cursor::new(OK_HI.to_vec()),
            answering: None,
        }))
    }));
    c.request(b"GET", url.as_bytes(), None, &[]).unwrap();
    let mut r = c.getresponse().unwrap();
    assert_eq!(body(&mut r), b"hi");
    let v = written.lock().unwrap().clone();
    String::from_utf8(v).unwrap()
}

/// One request to a scripted server; returns what the server received.
fn sent(method: &str, url: &str, body_: Option<&[u8]>, headers: &[(&str, &str)]) -> (String, u16) {
    let srv = ScriptedServer::reply_each(vec![OK_HI.to_vec()]);
    let mut c = Connection::new("127.0.0.1", srv.port()).unwrap();
    let hs: Vec<(&[u8], &[u8])> = headers
        .iter()
        .map(|(n, v)| (n.as_bytes(), v.as_bytes()))
        .collect();
    c.request(method.as_bytes(), url.as_bytes(), body_, &hs)
        .unwrap();
    let mut r = c.getresponse().unwrap();
    assert_eq!(body(&mut r), b"hi");
    drop(c);
    let got = srv.received_when_done(0);
    (String::from_utf8(got).unwrap(), srv.port())
}

// ----- automatic headers -----

#[test]
fn get_sends_host_with_port_and_identity_and_no_length() {
    let (got, port) = sent("GET", "/a?b=c", None, &[]);
    assert_eq!(
        got,
        format!(
            "GET /a?b=c HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAccept-Encoding: identity\r\n\r\n"
        )
    );
}

#[test]
fn host_has_no_port_when_default() {
    assert_eq!(
        sent_to("example.com", false, "/"),
        "GET / HTTP/1.1\r\nHost: example.com\r\nAccept-Encoding: identity\r\n\r\n"
    );
    assert_eq!(
        sent_to("example.com:443", true, "/"),
        "GET / HTTP/1.1\r\nHost: example.com\r\nAccept-Encoding: identity\r\n\r\n"
    );
    assert_eq!(
        sent_to("example.com:80", true, "/"),
        "GET / HTTP/1.1\r\nHost: example.com:80\r\nAccept-Encoding: identity\r\n\r\n"
    );
}

#[test]
fn ipv6_host_is_bracketed() {
    assert_eq!(
        sent_to("[::1]:8080", false, "/"),
        "GET / HTTP/1.1\r\nHost: [::1]:8080\r\nAccept-Encoding: identity\r\n\r\n"
    );
    assert_eq!(
        sent_to("[fe80::1]", false, "/"),
        "GET / HTTP/1.1\r\nHost: [fe80::1]\r\nAccept-Encoding: identity\r\n\r\n"
    );
}

#[test]
fn absolute_url_gives_the_host() {
    let (got, _) = sent("GET", "http://user@example.org:81/p?q", None, &[]);
    assert_eq!(
        got,
        "GET http://user@example.org:81/p?q HTTP/1.1\r\nHost: example.org:81\r\nAccept-Encoding: identity\r\n\r\n"
    );
}

#[test]
fn body_gets_content_length() {
    let (got, port) = sent("POST", "/f", Some(b"x=1&y=2"), &[("X-A", "b")]);
    assert_eq!(
        got,
        format!("POST /f HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAccept-Encoding: identity\r\nX-A: b\r\nContent-Length: 7\r\n\r\nx=1&y=2")
    );
}

#[test]
fn large_body_is_sent_whole() {
    let big: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    let (got, _) = sent_bytes("PUT", &big);
    let head_end = got.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    assert!(String::from_utf8_lossy(&got[..head_end]).contains("Content-Length: 200000\r\n"));
    assert_eq!(&got[head_end..], &big[..]);
}

fn sent_bytes(method: &str, b: &[u8]) -> (Vec<u8>, u16) {
    let srv = ScriptedServer::reply_each(vec![OK_HI.to_vec()]);
    let mut c = Connection::new("127.0.0.1", srv.port()).unwrap();
    c.request(method.as_bytes(), b"/", Some(b), &[]).unwrap();
    let mut r = c.getresponse().unwrap();
    assert_eq!(body(&mut r), b"hi");
    drop(c);
    (srv.received_when_done(0), srv.port())
}

#[test]
fn empty_post_put_patch_send_content_length_zero() {
    for m in ["POST", "PUT", "PATCH"] {
        let (got, port) = sent(m, "/", None, &[]);
        assert_eq!(
            got,
            format!("{m} / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAccept-Encoding: identity\r\nContent-Length: 0\r\n\r\n"),
        );
    }
    // An empty body given explicitly is also announced.
    let (got, _) = sent("POST", "/", Some(b""), &[]);
    assert!(got.ends_with("Content-Length: 0\r\n\r\n"), "{got}");
}

#[test]
fn get_delete_without_body_send_no_content_length() {
    for m in ["GET", "DELETE", "OPTIONS"] {
        let (got, _) = sent(m, "/", None, &[]);
        assert!(!got.contains("Content-Length"), "{got}");
    }
}

#[test]
fn caller_headers_replace_the_automatic_ones() {
    let (got, _) = sent(
        "POST",
        "/",
        Some(b"abc"),
        &[
            ("host", "other.example"),
            ("ACCEPT-ENCODING", "gzip"),
            ("Content-length", "3"),
        ],
    );
    assert_eq!(
        got,
        "POST / HTTP/1.1\r\nhost: other.example\r\nACCEPT-ENCODING: gzip\r\nContent-length: 3\r\n\r\nabc"
    );
}

#[test]
fn caller_transfer_encoding_chunked_sends_chunks() {
    let (got, port) = sent(
        "POST",
        "/",
        Some(b"hello"),
        &[("Transfer-Encoding", "chunked")],
    );
    assert_eq!(
        got,
        format!("POST / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAccept-Encoding: identity\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n")
    );
}

/// A listener that must never see a connection.
fn untouched_listener() -> (TcpListener, u16) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    l.set_nonblocking(true).unwrap();
    let port = l.local_addr().unwrap().port();
    (l, port)
}

fn assert_no_connection(l: &TcpListener) {
    sleep(Duration::from_millis(20));
    match l.accept() {
        Err(e) if e.kind() == IoKind::WouldBlock => {}
        other => panic!("the client connected: {other:?}"),
    }
}

#[test]
fn content_length_and_transfer_encoding_together_are_refused() {
    let (l, port) = untouched_listener();
    let mut c = Connection::new("127.0.0.1", port).unwrap();
    let e = c
        .request(
            b"POST",
            b"/",
            Some(b"x"),
            &[
                (b"Content-Length", b"1"),
                (b"Transfer-Encoding", b"chunked"),
            ],
        )
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e}");
    assert_no_connection(&l);
}

// ----- step by step -----

#[test]
fn step_by_step_request_sends_exact_bytes() {
    let srv = ScriptedServer::reply_each(vec![OK_HI.to_vec(), OK_HI.to_vec()]);
    let mut c = Connection::new("127.0.0.1", srv.port()).unwrap();
    c.putrequest(b"PUT", b"/s", false, false).unwrap();
    c.putheader(b"Content-Length", b"5").unwrap();
    c.putheader(b"X-Tab", b"a\tb").unwrap();
    c.endheaders(Some(b"he")).unwrap();
    c.send(b"llo").unwrap();
    let mut r = c.getresponse().unwrap();
    assert_eq!(body(&mut r), b"hi");
    // The skip flags leave the automatic headers out.
    c.putrequest(b"GET", b"/t", true, true).unwrap();
    c.putheader(b"Host", b"h").unwrap();
    c.endheaders(None).unwrap();
    let mut r = c.getresponse().unwrap();
    assert_eq!(body(&mut r), b"hi");
    drop(c);
    let port = srv.port();
    assert_eq!(
        String::from_utf8(srv.received_when_done(0)).unwrap(),
        format!("PUT /s HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAccept-Encoding: identity\r\nContent-Length: 5\r\nX-Tab: a\tb\r\n\r\nhello\
                 GET /t HTTP/1.1\r\nHost: h\r\n\r\n")
    );
}

#[test]
fn putrequest_twice_is_cannot_send_request() {
    let mut c = Connection::new("127.0.0.1", 9).unwrap();
    c.putrequest(b"GET", b"/", false, false).unwrap();
    let e = c.putrequest(b"GET", b"/", false, false).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::CannotSendRequest);
    let e = c.request(b"GET", b"/", None, &[]).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::CannotSendRequest);
}

#[test]
fn request_before_getresponse_is_cannot_send_request() {
    let srv = ScriptedServer::reply_each(vec![OK_HI.to_vec()]);
    let mut c = Connection::new("127.0.0.1", srv.port()).unwrap();
    c.request(b"GET", b"/1", None, &[]).unwrap();
    let e = c.request(b"GET", b"/2", None, &[]).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::CannotSendRequest);
    let e = c.putrequest(b"GET", b"/2", false, false).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::CannotSendRequest);
    let mut r = c.getresponse().unwrap();
    assert_eq!(body(&mut r), b"hi");
    drop(c);
    assert_eq!(
        srv.received_when_done(0),
        format!(
            "GET /1 HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nAccept-Encoding: identity\r\n\r\n",
            srv.port()
        )
        .into_bytes()
    );
}

#[test]
fn putheader_and_endheaders_outside_a_request_are_cannot_send_header() {
    let (l, port) = untouched_listener();
    let mut c = Connection::new("127.0.0.1", port).unwrap();
    assert_eq!(
        c.putheader(b"X", b"y").unwrap_err().kind(),
        ErrorKind::CannotSendHeader
    );
    assert_eq!(
        c.endheaders(None).unwrap_err().kind(),
        ErrorKind::CannotSendHeader
    );
    assert_no_connection(&l);
}

#[test]
fn putheader_after_endheaders_is_cannot_send_header() {
    let srv = ScriptedServer::reply_each(vec![OK_HI.to_vec()]);
    let mut c = Connection::new("127.0.0.1", srv.port()).unwrap();
    c.putrequest(b"GET", b"/", false, false).unwrap();
    c.endheaders(None).unwrap();
    assert_eq!(
        c.putheader(b"X", b"y").unwrap_err().kind(),
        ErrorKind::CannotSendHeader
    );
    assert_eq!(
        c.endheaders(None).unwrap_err().kind(),
        ErrorKind::CannotSendHeader
    );
    let mut r = c.getresponse().unwrap();
    assert_eq!(body(&mut r), b"hi");
}

#[test]
fn getresponse_without_a_sent_request_is_response_not_ready() {
    let (l, port) = untouched_listener();
    let mut c = Connection::new("127.0.0.1", port).unwrap();
    assert_eq!(err(c.getresponse()).kind(), ErrorKind::ResponseNotReady);
    c.putrequest(b"GET", b"/", false, false).unwrap();
    assert_eq!(err(c.getresponse()).kind(), ErrorKind::ResponseNotReady);
    assert_no_connection(&l);
}

#[test]
fn send_between_putrequest_and_endheaders_is_improper_state() {
    let (l, port) = untouched_listener();
    let mut c = Connection::new("127.0.0.1", port).unwrap();
    c.putrequest(b"GET", b"/", false, false).unwrap();
    let e = c.send(b"x").unwrap_err();
    assert!(e.kind().is(ErrorKind::ImproperConnectionState), "{e}");
    assert_no_connection(&l);
}

// ----- injection refused before any byte -----

#[test]
fn control_characters_are_refused_before_connecting() {
    let (l, port) = untouched_listener();
    let mut c = Connection::new("127.0.0.1", port).unwrap();
    for bad in [
        &b"/a\r\nX: y"[..],
        b"/a\nb",
        b"/\0",
        b"/a b",
        b"/\x7f",
        b"/\t",
    ] {
        let e = c.request(b"GET", bad, None, &[]).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidUrl, "{bad:?}");
        let e = c.putrequest(b"GET", bad, false, false).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidUrl, "{bad:?}");
    }
    for bad in [&b"GET\r\n"[..], b"G\nET", b"GE\0T", b"GET /", b""] {
        let e = c.request(bad, b"/", None, &[]).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{bad:?}");
        let e = c.putrequest(bad, b"/", false, false).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{bad:?}");
    }
    for (n, v) in [
        (&b"X-A\r\nEvil"[..], &b"1"[..]),
        (b"X\nA", b"1"),
        (b"X\0", b"1"),
        (b"X A", b"1"),
        (b"X:A", b"1"),
        (b"", b"1"),
        (b"X-A", b"1\r\nEvil: 1"),
        (b"X-A", b"1\nEvil: 1"),
        (b"X-A", b"1\rEvil: 1"),
        (b"X-A", b"a\0b"),
        (b"X-A", b"a\x01b"),
    ] {
        let e = c.request(b"GET", b"/", None, &[(n, v)]).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{n:?}: {v:?}");
    }
    c.putrequest(b"GET", b"/", false, false).unwrap();
    let e = c.putheader(b"X-A", b"1\r\nEvil: 1").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    let e = c.putheader(b"X\r\nA", b"1").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    assert_no_connection(&l);
}

#[test]
fn control_characters_are_refused_on_an_open_connection_with_nothing_sent() {
    let srv = ScriptedServer::reply_each(vec![OK_HI.to_vec(), OK_HI.to_vec()]);
    let mut c = Connection::new("127.0.0.1", srv.port()).unwrap();
    c.request(b"GET", b"/1", None, &[]).unwrap();
    let mut r = c.getresponse().unwrap();
    assert_eq!(body(&mut r), b"hi");
    let before = srv.received(0);
    let e = c
        .request(b"GET", b"/2", None, &[(b"X-A", b"v\r\nEvil: 1")])
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    let e = c.request(b"GET", b"/2\r\nEvil: 1", None, &[]).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidUrl);
    // The connection is still usable and nothing of the refused requests went out.
    c.request(b"GET", b"/3", None, &[]).unwrap();
    let mut r = c.getresponse().unwrap();
    assert_eq!(body(&mut r), b"hi");
    drop(c);
    let all = srv.received_when_done(0);
    assert!(all.starts_with(&before));
    assert_eq!(
        String::from_utf8_lossy(&all[before.len()..]),
        format!(
            "GET /3 HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nAccept-Encoding: identity\r\n\r\n",
            srv.port()
        )
    );
}

// ----- debugging -----

type Events = Arc<Mutex<Vec<(DebugKind, Vec<u8>)>>>;

#[test]
fn debug_callback_gets_typed_events() {
    let srv = ScriptedServer::reply_each(vec![
        b"HTTP/1.1 200 OK\r\nX-A: 1\r\nContent-Length: 2\r\n\r\nhi".to_vec(),
    ]);
    let mut c = Connection::new("127.0.0.1", srv.port()).unwrap();
    let events: Events = Arc::default();
    let ev = events.clone();
    c.set_debug_callback(Some(Box::new(move |k, d| {
        ev.lock().unwrap().push((k, d.to_vec()))
    })))
    .unwrap();
    c.request(b"POST", b"/d", Some(b"body!"), &[]).unwrap();
    let mut r = c.getresponse().unwrap();
    assert_eq!(body(&mut r), b"hi");
    let ev = events.lock().unwrap().clone();
    let of = |k: DebugKind| -> Vec<Vec<u8>> {
        ev.iter()
            .filter(|(kk, _)| *kk == k)
            .map(|(_, d)| d.clone())
            .collect()
    };
    let text = of(DebugKind::Text);
    assert!(
        text.iter()
            .any(|t| String::from_utf8_lossy(t).contains(&format!("127.0.0.1:{}", srv.port()))),
        "{text:?}"
    );
    let port = srv.port();
    assert_eq!(
        of(DebugKind::HeaderOut),
        vec![format!("POST /d HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAccept-Encoding: identity\r\nContent-Length: 5\r\n\r\n").into_bytes()]
    );
    assert_eq!(of(DebugKind::DataOut), vec![b"body!".to_vec()]);
    assert_eq!(
        of(DebugKind::HeaderIn),
        vec![
            b"HTTP/1.1 200 OK\r\n".to_vec(),
            b"X-A: 1\r\n".to_vec(),
            b"Content-Length: 2\r\n".to_vec()
        ]
    );
    assert_eq!(of(DebugKind::DataIn).concat(), b"hi");
    // Order: connect text, head out, body out, then what came in.
    let kinds: Vec<DebugKind> = ev.iter().map(|(k, _)| *k).collect();
    let pos = |k| kinds.iter().position(|x| *x == k).unwrap();
    assert!(pos(DebugKind::Text) < pos(DebugKind::HeaderOut));
    assert!(pos(DebugKind::HeaderOut) < pos(DebugKind::DataOut));
    assert!(pos(DebugKind::DataOut) < pos(DebugKind::HeaderIn));
    assert!(pos(DebugKind::HeaderIn) < pos(DebugKind::DataIn));
}

#[test]
fn debug_callback_removed_gets_nothing_more() {
    let srv = ScriptedServer::reply_each(vec![OK_HI.to_vec()]);
    let mut c = Connection::new("127.0.0.1", srv.port()).unwrap();
    let n = Arc::new(Mutex::new(0usize));
    let n2 = n.clone();
    c.set_debug_callback(Some(Box::new(move |_, _| *n2.lock().unwrap() += 1)))
        .unwrap();
    c.set_debug_callback(None).unwrap();
    c.request(b"GET", b"/", None, &[]).unwrap();
    let mut r = c.getresponse().unwrap();
    assert_eq!(body(&mut r), b"hi");
    assert_eq!(*n.lock().unwrap(), 0);
}

/// Run in a child process by `debuglevel_prints_httplib_trace_to_stderr`.
#[test]
#[ignore = "helper: run by debuglevel_prints_httplib_trace_to_stderr in a child process"]
fn debuglevel_child() {
    let port: u16 = std::env::var("HC_DEBUG_CHILD_PORT")
        .unwrap()
        .parse()
        .unwrap();
    let level: i32 = std::env::var("HC_DEBUG_CHILD_LEVEL")
        .unwrap()
        .parse()
        .unwrap();
    let mut c = Connection::new("127.0.0.1", port).unwrap();
    c.set_debuglevel(level).unwrap();
    c.request(b"GET", b"/dbg", None, &[]).unwrap();
    let mut r = c.getresponse().unwrap();
    assert_eq!(body(&mut r), b"hi");
}

fn child_stderr(level: i32) -> (String, u16) {
    let srv = ScriptedServer::reply_each(vec![
        b"HTTP/1.1 200 OK\r\nX-A: 1\r\nContent-Length: 2\r\n\r\nhi".to_vec(),
    ]);
    let out = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "debuglevel_child",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("HC_DEBUG_CHILD_PORT", srv.port().to_string())
        .env("HC_DEBUG_CHILD_LEVEL", level.to_string())
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    (
        String::from_utf8_lossy(&out.stderr).into_owned(),
        srv.port(),
    )
}

#[test]
fn debuglevel_prints_httplib_trace_to_stderr() {
    let (err, port) = child_stderr(1);
    let send = format!(
        "send: b'GET /dbg HTTP/1.1\\r\\nHost: 127.0.0.1:{port}\\r\\nAccept-Encoding: identity\\r\\n\\r\\n'\n"
    );
    assert!(err.contains(&send), "{err}");
    assert!(err.contains("reply: 'HTTP/1.1 200 OK\\r\\n'\n"), "{err}");
    assert!(err.contains("header: X-A: 1\n"), "{err}");
    assert!(err.contains("header: Content-Length: 2\n"), "{err}");
}

#[test]
fn debuglevel_zero_prints_nothing() {
    let (err, _) = child_stderr(0);
    assert!(!err.contains("send:"), "{err}");
    assert!(!err.contains("reply:"), "{err}");
}

// ----- non-ASCII: a request target is ASCII; a host name goes out as its IDNA A-label -----

#[test]
fn non_ascii_request_target_is_refused_before_connecting() {
    let (l, port) = untouched_listener();
    let mut c = Connection::new("127.0.0.1", port).unwrap();
    for bad in [
        "/café".as_bytes(),
        "/a?q=é".as_bytes(),
        "/\u{1F600}".as_bytes(),
        "http://example.org/café".as_bytes(),
        b"/\xff",
        b"/\x80",
    ] {
        let e = c.request(b"GET", bad, None, &[]).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidUrl, "{bad:?}");
        assert!(e.to_string().contains("non-ASCII"), "{e}");
        let e = c.putrequest(b"GET", bad, false, false).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidUrl, "{bad:?}");
    }
    // A refused target leaves the connection idle: a good request may follow.
    assert!(c.putrequest(b"GET", b"/caf%C3%A9", false, false).is_ok());
    assert_no_connection(&l);
}

#[test]
fn internationalised_host_is_resolved_and_sent_as_its_a_label() {
    assert_eq!(
        sent_to("bücher.example", false, "/"),
        "GET / HTTP/1.1\r\nHost: xn--bcher-kva.example\r\nAccept-Encoding: identity\r\n\r\n"
    );
    // UTS 46 maps to lower case; the port stays.
    assert_eq!(
        sent_to("BÜCHER.example:8080", false, "/"),
        "GET / HTTP/1.1\r\nHost: xn--bcher-kva.example:8080\r\nAccept-Encoding: identity\r\n\r\n"
    );
    // The name that is looked up (and, over TLS, sent as SNI and checked) is the A-label.
    let c = Connection::new_https("日本語.example", 0).unwrap();
    assert_eq!(c.target().host(), "xn--wgv71a119e.example");
    // An ASCII host is left exactly as written.
    let c = Connection::new("Example.COM", 0).unwrap();
    assert_eq!(c.target().host(), "Example.COM");
}

#[test]
fn internationalised_host_in_an_absolute_url_is_sent_as_its_a_label() {
    let (got, _) = sent("GET", "http://bücher.example/x", None, &[]);
    assert_eq!(
        got,
        "GET http://xn--bcher-kva.example/x HTTP/1.1\r\nHost: xn--bcher-kva.example\r\nAccept-Encoding: identity\r\n\r\n"
    );
    let (got, _) = sent("GET", "HTTPS://u@bücher.example:81/x?q", None, &[]);
    assert_eq!(
        got,
        "GET HTTPS://u@xn--bcher-kva.example:81/x?q HTTP/1.1\r\nHost: xn--bcher-kva.example:81\r\nAccept-Encoding: identity\r\n\r\n"
    );
}

#[test]
fn internationalised_tunnel_host_is_sent_as_its_a_label() {
    let srv = ScriptedServer::start(|conn, _| {
        use std::io::Write;
        if let Ok(Some(_)) = conn.read_request() {
            let _ = conn.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n");
            if let Ok(Some(_)) = conn.read_request() {
                let _ = conn.write_all(OK_HI);
            }
        }
    });
    let mut c = Connection::new("127.0.0.1", srv.port()).unwrap();
    c.set_tunnel("bücher.example", 8080, &[]).unwrap();
    c.request(b"GET", b"/", None, &[]).unwrap();
    assert_eq!(body(&mut c.getresponse().unwrap()), b"hi");
    drop(c);
    let got = String::from_utf8(srv.received_when_done(0)).unwrap();
    assert!(
        got.starts_with(
            "CONNECT xn--bcher-kva.example:8080 HTTP/1.1\r\nHost: xn--bcher-kva.example:8080\r\n\r\n\
             GET / HTTP/1.1\r\nHost: xn--bcher-kva.example:8080\r\n"
        ),
        "{got}"
    );
}

#[test]
fn host_that_fails_idna_processing_is_invalid_url() {
    let long_label = format!("{}ü.example", "a".repeat(63));
    for bad in [
        "-bücher.example",
        "bü_cher.example",
        "bücher..example",
        long_label.as_str(),
    ] {
        let e = err(Connection::new(bad, 80));
        assert_eq!(e.kind(), ErrorKind::InvalidUrl, "{bad}");
        assert!(e.to_string().contains("IDNA"), "{e}");
        let url = format!("http://{bad}/");
        let mut c = Connection::new("127.0.0.1", 9).unwrap();
        let e = c.request(b"GET", url.as_bytes(), None, &[]).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidUrl, "{url}");
    }
}

// ----- a plain request sent again -----

/// A connection whose connects go to answering [`Memory`] transports; what the client writes
/// is collected in the returned buffer.
fn memory_connection() -> (Connection, Arc<Mutex<Vec<u8>>>) {
    let mut c = Connection::new("127.0.0.1", 8080).unwrap();
    let written = Arc::new(Mutex::new(Vec::new()));
    let w = written.clone();
    c.set_transport_factory(Box::new(move |_| {
        Ok(Box::new(Memory {
            written: w.clone(),
            reply: io::Cursor::new(Vec::new()),
            answering: Some(Vec::new()),
        }))
    }));
    (c, written)
}

#[test]
fn a_repeated_plain_request_sends_the_same_bytes_and_any_change_rebuilds_them() {
    plain_requests_in_turn(false);
}

#[test]
fn the_same_in_non_blocking_mode() {
    plain_requests_in_turn(true);
}

/// Plain requests (no headers, no body) between other requests and changes of the tunnel:
/// each one's bytes are what building it gives, whether they were kept or built anew.
fn plain_requests_in_turn(nonblocking: bool) {
    let (mut c, written) = memory_connection();
    c.set_blocking(!nonblocking).unwrap();
    // Sends one request (or runs `send`) and reads its response; returns what was written.
    let exchange = |c: &mut Connection, send: &dyn Fn(&mut Connection)| -> String {
        send(c);
        assert_eq!(body(&mut c.getresponse().unwrap()), b"hi");
        String::from_utf8(std::mem::take(&mut *written.lock().unwrap())).unwrap()
    };
    let get = |url: &'static str| {
        move |c: &mut Connection| c.request(b"GET", url.as_bytes(), None, &[]).unwrap()
    };
    let head = |method: &str, url: &str, host: &str, more: &str| {
        format!(
            "{method} {url} HTTP/1.1\r\nHost: {host}\r\nAccept-Encoding: identity\r\n{more}\r\n"
        )
    };
    let here = "127.0.0.1:8080";
    let plain_a = head("GET", "/a", here, "");

    assert_eq!(exchange(&mut c, &get("/a")), plain_a);
    assert_eq!(exchange(&mut c, &get("/a")), plain_a);
    // Caller headers, then the plain request again: the header is not carried over.
    let with_header =
        |c: &mut Connection| c.request(b"GET", b"/a", None, &[(b"X-One", b"1")]).unwrap();
    assert_eq!(
        exchange(&mut c, &with_header),
        head("GET", "/a", here, "X-One: 1\r\n")
    );
    assert_eq!(exchange(&mut c, &get("/a")), plain_a);
    // Another URL, another method, an empty URL, an absolute URL.
    assert_eq!(exchange(&mut c, &get("/b")), head("GET", "/b", here, ""));
    assert_eq!(exchange(&mut c, &get("/a")), plain_a);
    let delete = |c: &mut Connection| c.request(b"DELETE", b"/a", None, &[]).unwrap();
    assert_eq!(exchange(&mut c, &delete), head("DELETE", "/a", here, ""));
    assert_eq!(exchange(&mut c, &get("")), head("GET", "/", here, ""));
    assert_eq!(exchange(&mut c, &get("/")), head("GET", "/", here, ""));
    assert_eq!(
        exchange(&mut c, &get("http://other.example/z")),
        head("GET", "http://other.example/z", "other.example", "")
    );
    // The step-by-step calls build their own bytes; the plain request after them is whole.
    let steps = |c: &mut Connection| {
        c.putrequest(b"GET", b"/a", false, false).unwrap();
        c.putheader(b"X-Two", b"2").unwrap();
        c.endheaders(None).unwrap();
    };
    assert_eq!(
        exchange(&mut c, &steps),
        head("GET", "/a", here, "X-Two: 2\r\n")
    );
    assert_eq!(exchange(&mut c, &get("/a")), plain_a);

    // A tunnel changes the Host of the same method and URL; clearing it changes it back.
    // (A transport from the factory stands for the whole path: no CONNECT goes through it.)
    // The server ends the connection, which keeps the request's bytes; set while it is closed,
    // the tunnel must still change them.
    assert_eq!(
        exchange(&mut c, &get("/last")),
        head("GET", "/last", here, "")
    );
    c.set_tunnel("origin.example", 80, &[]).unwrap();
    assert_eq!(
        exchange(&mut c, &get("/last")),
        head("GET", "/last", "origin.example", "")
    );
    assert_eq!(
        exchange(&mut c, &get("/a")),
        head("GET", "/a", "origin.example", "")
    );
    assert_eq!(
        exchange(&mut c, &get("/a")),
        head("GET", "/a", "origin.example", "")
    );
    c.close();
    c.clear_tunnel().unwrap();
    assert_eq!(exchange(&mut c, &get("/a")), plain_a);
}
