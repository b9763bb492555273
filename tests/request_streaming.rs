//! Streaming request bodies (request_stream, send_chunk) and `Expect: 100-continue`, checked
//! on the exact bytes a scripted server receives.

mod common;

use std::io::{Read, Write};
use std::time::Duration;

use common::scripted::ScriptedServer;
use httpclient::{Connection, Error, ErrorKind};

const OK: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

fn conn(srv: &ScriptedServer) -> Connection {
    let mut c = Connection::new("127.0.0.1", srv.port()).unwrap();
    c.set_timeout(10.0).unwrap();
    c
}

fn body_of(resp: &mut httpclient::Response) -> Vec<u8> {
    let mut v = Vec::new();
    resp.read_to_end(&mut v).unwrap();
    v
}

/// Reads a request head only (up to the empty line), recorded like every read.
/// A body source handing out `pieces` one per call.
fn pieces(parts: &[&'static [u8]]) -> impl FnMut(&mut [u8]) -> std::io::Result<usize> {
    let mut parts: Vec<&[u8]> = parts.to_vec();
    parts.reverse();
    move |buf: &mut [u8]| match parts.pop() {
        Some(p) => {
            buf[..p.len()].copy_from_slice(p);
            Ok(p.len())
        }
        None => Ok(0),
    }
}

#[test]
fn request_stream_without_length_sends_each_piece_as_a_chunk() {
    let srv = ScriptedServer::reply_each(vec![OK.to_vec()]);
    let mut c = conn(&srv);
    let mut src = pieces(&[b"hello", b" ", b"world!"]);
    c.request_stream(b"POST", b"/up", &mut src, None, &[])
        .unwrap();
    let mut r = c.getresponse().unwrap();
    assert_eq!(body_of(&mut r), b"ok");
    let got = srv.received(0);
    let text = String::from_utf8_lossy(&got);
    assert!(
        text.contains("\r\nTransfer-Encoding: chunked\r\n"),
        "{text}"
    );
    assert!(!text.contains("Content-Length"), "{text}");
    assert!(
        got.ends_with(b"\r\n\r\n5\r\nhello\r\n1\r\n \r\n6\r\nworld!\r\n0\r\n\r\n"),
        "{text}"
    );
}

#[test]
fn request_stream_with_length_sends_content_length_and_the_bytes() {
    let srv = ScriptedServer::reply_each(vec![OK.to_vec()]);
    let mut c = conn(&srv);
    let mut src = pieces(&[b"abc", b"de"]);
    c.request_stream(b"PUT", b"/f", &mut src, Some(5), &[])
        .unwrap();
    c.getresponse().unwrap();
    let got = srv.received(0);
    let text = String::from_utf8_lossy(&got);
    assert!(text.contains("\r\nContent-Length: 5\r\n"), "{text}");
    assert!(got.ends_with(b"\r\n\r\nabcde"), "{text}");
}

#[test]
fn request_stream_aborted_by_its_source_fails_with_that_error_and_closes() {
    let srv = ScriptedServer::reply_each(vec![OK.to_vec()]);
    let mut c = conn(&srv);
    let mut calls = 0;
    let mut src = |buf: &mut [u8]| {
        calls += 1;
        if calls == 1 {
            buf[..4].copy_from_slice(b"part");
            return Ok(4);
        }
        Err(std::io::Error::other(Error::new(
            ErrorKind::AbortedByCallback,
            "stop",
        )))
    };
    let e = c
        .request_stream(b"POST", b"/", &mut src, None, &[])
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::AbortedByCallback);
    assert_eq!(c.fileno(), None, "the connection must be closed");
    // The server saw a partial chunked body and then the close.
    let got = srv.received_when_done(0);
    assert!(
        got.ends_with(b"4\r\npart\r\n"),
        "{}",
        String::from_utf8_lossy(&got)
    );
}

#[test]
fn send_chunk_streams_a_body_after_endheaders_without_one() {
    let srv = ScriptedServer::reply_each(vec![OK.to_vec()]);
    let mut c = conn(&srv);
    c.putrequest(b"POST", b"/c", false, false).unwrap();
    c.putheader(b"Transfer-Encoding", b"chunked").unwrap();
    c.endheaders(None).unwrap();
    c.send_chunk(b"first").unwrap();
    c.send_chunk(b"second!").unwrap();
    c.send_chunk(b"").unwrap();
    let e = c.send_chunk(b"late").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ImproperConnectionState);
    let mut r = c.getresponse().unwrap();
    assert_eq!(body_of(&mut r), b"ok");
    let got = srv.received(0);
    assert!(
        got.ends_with(b"\r\n\r\n5\r\nfirst\r\n7\r\nsecond!\r\n0\r\n\r\n"),
        "{}",
        String::from_utf8_lossy(&got)
    );
}

#[test]
fn getresponse_ends_a_chunked_body_left_open() {
    let srv = ScriptedServer::reply_each(vec![OK.to_vec()]);
    let mut c = conn(&srv);
    c.putrequest(b"POST", b"/c", false, false).unwrap();
    c.putheader(b"Transfer-Encoding", b"chunked").unwrap();
    c.endheaders(None).unwrap();
    c.send_chunk(b"xyz").unwrap();
    let mut r = c.getresponse().unwrap();
    assert_eq!(body_of(&mut r), b"ok");
    let got = srv.received(0);
    assert!(got.ends_with(b"\r\n\r\n3\r\nxyz\r\n0\r\n\r\n"));
    assert_eq!(got.windows(5).filter(|w| w == b"0\r\n\r\n").count(), 1);
}

#[test]
fn send_chunk_without_a_chunked_request_is_improper_state() {
    let srv = ScriptedServer::reply_each(vec![OK.to_vec()]);
    let mut c = conn(&srv);
    assert_eq!(
        c.send_chunk(b"x").unwrap_err().kind(),
        ErrorKind::ImproperConnectionState
    );
    c.putrequest(b"POST", b"/", false, false).unwrap();
    c.putheader(b"Content-Length", b"1").unwrap();
    c.endheaders(None).unwrap();
    assert_eq!(
        c.send_chunk(b"x").unwrap_err().kind(),
        ErrorKind::ImproperConnectionState
    );
}

// ----- Expect: 100-continue -----

const EXPECT: (&[u8], &[u8]) = (b"Expect", b"100-continue");

#[test]
fn expect_continue_sends_the_body_after_100_continue() {
    let srv = ScriptedServer::start(|conn, _| {
        let head = conn.read_head();
        assert!(!head.is_empty());
        // Nothing of the body may have come before the go-ahead.
        conn.set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        let mut b = [0u8; 1];
        assert!(conn.read(&mut b).is_err(), "body sent before 100 Continue");
        conn.set_read_timeout(None).unwrap();
        conn.write_all(b"HTTP/1.1 100 Continue\r\n\r\n").unwrap();
        let mut body = [0u8; 4];
        conn.read_exact(&mut body).unwrap();
        conn.write_all(OK).unwrap();
    });
    let mut c = conn(&srv);
    c.set_continue_timeout(30.0).unwrap();
    c.request(b"POST", b"/e", Some(b"data"), &[EXPECT]).unwrap();
    let mut r = c.getresponse().unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(body_of(&mut r), b"ok");
    let got = srv.received_when_done(0);
    assert!(got.ends_with(b"\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\ndata"));
}

#[test]
fn expect_continue_final_response_first_withholds_the_body_and_closes() {
    let srv = ScriptedServer::start(|conn, idx| {
        if idx == 0 {
            conn.read_head();
            conn.write_all(b"HTTP/1.1 417 Expectation Failed\r\nContent-Length: 0\r\n\r\n")
                .unwrap();
            conn.drain(Duration::from_secs(10));
        } else {
            let _ = conn.read_request();
            let _ = conn.write_all(OK);
        }
    });
    let mut c = conn(&srv);
    c.set_continue_timeout(30.0).unwrap();
    let mut called = false;
    let mut src = |_: &mut [u8]| {
        called = true;
        Ok(0)
    };
    c.request_stream(b"POST", b"/e", &mut src, Some(4), &[EXPECT])
        .unwrap();
    assert!(!called, "the body source must not be read");
    let r = c.getresponse().unwrap();
    assert_eq!(r.status(), 417);
    // The connection is not reused: the next request opens a second one.
    c.request(b"GET", b"/", None, &[]).unwrap();
    let mut r = c.getresponse().unwrap();
    assert_eq!(body_of(&mut r), b"ok");
    let first = srv.received_when_done(0);
    assert!(
        first.ends_with(b"Content-Length: 4\r\n\r\n"),
        "body was sent"
    );
    assert_eq!(srv.connections(), 2);
}

#[test]
fn expect_continue_sends_the_body_when_the_server_stays_silent() {
    let srv = ScriptedServer::start(|conn, _| {
        conn.read_head();
        let mut body = [0u8; 4];
        conn.read_exact(&mut body).unwrap();
        conn.write_all(OK).unwrap();
    });
    let mut c = conn(&srv);
    c.set_continue_timeout(0.2).unwrap();
    c.request(b"POST", b"/e", Some(b"abcd"), &[EXPECT]).unwrap();
    let r = c.getresponse().unwrap();
    assert_eq!(r.status(), 200);
    assert!(srv.received_when_done(0).ends_with(b"\r\n\r\nabcd"));
}

#[test]
fn expect_continue_skips_other_interim_responses_before_100() {
    let srv = ScriptedServer::start(|conn, _| {
        conn.read_head();
        conn.write_all(b"HTTP/1.1 102 Processing\r\n\r\nHTTP/1.1 100 Continue\r\n\r\n")
            .unwrap();
        let mut body = [0u8; 12];
        conn.read_exact(&mut body).unwrap();
        conn.write_all(OK).unwrap();
    });
    let mut c = conn(&srv);
    c.set_continue_timeout(30.0).unwrap();
    let mut src = pieces(&[b"xy"]);
    c.request_stream(b"POST", b"/e", &mut src, None, &[EXPECT])
        .unwrap();
    let r = c.getresponse().unwrap();
    assert_eq!(r.status(), 200);
    assert!(srv
        .received_when_done(0)
        .ends_with(b"\r\n\r\n2\r\nxy\r\n0\r\n\r\n"));
}

#[test]
fn expect_continue_with_the_echo_server() {
    let s = common::servers();
    let mut c = Connection::new("127.0.0.1", s.echo_port).unwrap();
    c.set_timeout(10.0).unwrap();
    c.set_continue_timeout(30.0).unwrap();
    c.request(b"POST", b"/", Some(b"payload"), &[EXPECT])
        .unwrap();
    let mut r = c.getresponse().unwrap();
    let json = String::from_utf8(body_of(&mut r)).unwrap();
    assert!(json.contains("\"expect_continue\": true"), "{json}");
    assert!(json.contains("\"body\": \"payload\""), "{json}");
    // The same connection carries the next request.
    c.request(b"POST", b"/expect-417", Some(b"zz"), &[EXPECT])
        .unwrap();
    let r = c.getresponse().unwrap();
    assert_eq!(r.status(), 417);
}

#[test]
fn send_after_a_chunked_endheaders_leaves_the_framing_to_the_caller() {
    let srv = ScriptedServer::reply_each(vec![OK.to_vec()]);
    let mut c = conn(&srv);
    c.putrequest(b"POST", b"/c", false, false).unwrap();
    c.putheader(b"Transfer-Encoding", b"chunked").unwrap();
    c.endheaders(None).unwrap();
    c.send(b"2\r\nhi\r\n0\r\n\r\n").unwrap();
    let mut r = c.getresponse().unwrap();
    assert_eq!(body_of(&mut r), b"ok");
    drop(c);
    let got = srv.received_when_done(0);
    assert!(got.ends_with(b"\r\n\r\n2\r\nhi\r\n0\r\n\r\n"));
    assert_eq!(got.windows(5).filter(|w| w == b"0\r\n\r\n").count(), 1);
}

#[test]
fn expect_continue_over_tls() {
    let s = common::servers();
    let ca = s.ca_file.to_str().unwrap();
    let mut c = Connection::new_https("localhost", s.mtls_strict_port).unwrap();
    c.set_timeout(10.0).unwrap();
    c.set_ca_file(ca).unwrap();
    c.set_client_cert(
        s.client_cert.to_str().unwrap(),
        s.client_key.to_str().unwrap(),
    )
    .unwrap();
    c.set_continue_timeout(30.0).unwrap();
    let mut src = pieces(&[b"over ", b"tls"]);
    c.request_stream(b"PUT", b"/", &mut src, None, &[EXPECT])
        .unwrap();
    let mut r = c.getresponse().unwrap();
    let json = String::from_utf8(body_of(&mut r)).unwrap();
    assert!(json.contains("\"expect_continue\": true"), "{json}");
    assert!(json.contains("\"body\": \"over tls\""), "{json}");

    // nginx answers 100 Continue itself.
    let mut c = Connection::new_https("localhost", s.https_port).unwrap();
    c.set_timeout(10.0).unwrap();
    c.set_ca_file(ca).unwrap();
    c.set_continue_timeout(30.0).unwrap();
    for _ in 0..2 {
        c.request(b"POST", b"/echo", Some(b"nginx body"), &[EXPECT])
            .unwrap();
        let mut r = c.getresponse().unwrap();
        assert_eq!(body_of(&mut r), b"nginx body");
    }
}
