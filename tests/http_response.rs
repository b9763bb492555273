//! Responses from scripted servers: status lines, header limits and oddities, body framing,
//! interim responses, reading, header access, and how a response's end (or early free)
//! leaves the connection.

mod common;

use common::err;
use common::scripted::ScriptedServer;
use httpclient::{Connection, Error, ErrorKind, Response};

const OK_HI: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi";
const OK_YO: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nyo";

fn body(r: &mut Response) -> Vec<u8> {
    let mut v = Vec::new();
    r.read_to_end(&mut v).unwrap();
    v
}

/// A server answering each request of each connection with the next of `replies`, and a
/// connection to it.
fn serve(replies: &[&[u8]]) -> (ScriptedServer, Connection) {
    let srv = ScriptedServer::reply_each(replies.iter().map(|r| r.to_vec()).collect());
    let c = Connection::new("127.0.0.1", srv.port()).unwrap();
    (srv, c)
}

fn get(c: &mut Connection) -> httpclient::Result<Response> {
    c.request(b"GET", b"/", None, &[]).unwrap();
    c.getresponse()
}

/// The response to one GET whose reply is `reply`.
fn one(reply: &[u8]) -> httpclient::Result<Response> {
    let (_srv, mut c) = serve(&[reply]);
    get(&mut c)
}

// ----- status line -----

#[test]
fn http10_status_line_is_version_10() {
    let mut r = one(b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nhi").unwrap();
    assert_eq!((r.version(), r.status(), r.reason()), (10, 200, &b"OK"[..]));
    assert_eq!(body(&mut r), b"hi");
}

#[test]
fn http11_and_http1x_are_version_11() {
    for v in ["1.1", "1.2", "1.9"] {
        let reply = format!("HTTP/{v} 201 Created\r\nContent-Length: 0\r\n\r\n");
        let r = one(reply.as_bytes()).unwrap();
        assert_eq!((r.version(), r.status()), (11, 201), "{v}");
        assert_eq!(r.reason(), b"Created");
    }
}

#[test]
fn other_http_versions_are_unknown_protocol() {
    for v in ["HTTP/2.0", "HTTP/2", "HTTP/0.9", "HTTP/1.10", "HTTP/3.0"] {
        let reply = format!("{v} 200 OK\r\nContent-Length: 0\r\n\r\n");
        let e = err(one(reply.as_bytes()));
        assert_eq!(e.kind(), ErrorKind::UnknownProtocol, "{v}: {e}");
    }
}

#[test]
fn missing_reason_phrase_is_fine() {
    for line in ["HTTP/1.1 404\r\n", "HTTP/1.1 404 \r\n"] {
        let reply = format!("{line}Content-Length: 1\r\n\r\nx");
        let mut r = one(reply.as_bytes()).unwrap();
        assert_eq!((r.status(), r.reason()), (404, &b""[..]));
        assert_eq!(body(&mut r), b"x");
    }
}

#[test]
fn status_not_three_digits_is_bad_status_line() {
    for line in [
        "HTTP/1.1 20 OK",
        "HTTP/1.1 2000 OK",
        "HTTP/1.1 abc OK",
        "HTTP/1.1 -20 OK",
        "HTTP/1.1 099 OK",
        "HTTP/1.1",
    ] {
        let reply = format!("{line}\r\nContent-Length: 0\r\n\r\n");
        let e = err(one(reply.as_bytes()));
        assert_eq!(e.kind(), ErrorKind::BadStatusLine, "{line}: {e}");
    }
}

#[test]
fn empty_reply_is_remote_disconnected() {
    let srv = ScriptedServer::start(|conn, _| {
        let _ = conn.read_request();
    });
    let mut c = Connection::new("127.0.0.1", srv.port()).unwrap();
    let e = err(get(&mut c));
    assert_eq!(e.kind(), ErrorKind::RemoteDisconnected, "{e}");
    assert!(e.kind().is(ErrorKind::BadStatusLine));
}

#[test]
fn non_http_reply_is_bad_status_line_in_strict_mode() {
    let e = err(one(b"hello world\n"));
    assert_eq!(e.kind(), ErrorKind::BadStatusLine, "{e}");
}

#[test]
fn non_http_reply_is_http09_body_in_lenient_mode() {
    let srv = ScriptedServer::reply_each(vec![b"<html>old</html>\r\nmore".to_vec()]);
    let mut c = Connection::new("127.0.0.1", srv.port()).unwrap();
    c.set_strict(false).unwrap();
    let mut r = get(&mut c).unwrap();
    assert_eq!((r.version(), r.status()), (9, 200));
    assert_eq!(r.headers().len(), 0);
    assert_eq!(r.length(), None);
    assert_eq!(body(&mut r), b"<html>old</html>\r\nmore");
    assert!(r.isclosed());
}

#[test]
fn a_head_request_answered_by_http09_has_no_body_and_closes_in_lenient_mode() {
    let srv = ScriptedServer::reply_by_conn(vec![
        vec![b"<html>old</html>\r\nmore".to_vec()],
        vec![OK_HI.to_vec()],
    ]);
    let mut c = Connection::new("127.0.0.1", srv.port()).unwrap();
    c.set_strict(false).unwrap();
    c.request(b"HEAD", b"/", None, &[]).unwrap();
    let mut r = c.getresponse().unwrap();
    assert_eq!((r.version(), r.status()), (9, 200));
    assert_eq!(body(&mut r), b"");
    assert!(r.isclosed());
    assert!(r.will_close());
    // The next request opens a new connection: the old one's bytes are never read.
    let mut r = get(&mut c).unwrap();
    assert_eq!(body(&mut r), b"hi");
    assert_eq!(srv.connections(), 2);
}

#[test]
fn lenient_mode_takes_http09_only_on_a_fresh_connection() {
    let (_srv, mut c) = serve(&[OK_HI, b"<html>old</html>"]);
    c.set_strict(false).unwrap();
    let mut r = get(&mut c).unwrap();
    assert_eq!(body(&mut r), b"hi");
    let e = err(get(&mut c));
    assert_eq!(e.kind(), ErrorKind::BadStatusLine, "{e}");
}

// ----- headers -----

#[test]
fn header_line_over_65536_bytes_is_line_too_long() {
    let mut reply = b"HTTP/1.1 200 OK\r\nX-Long: ".to_vec();
    reply.extend(std::iter::repeat_n(b'a', 65536));
    reply.extend_from_slice(b"\r\nContent-Length: 0\r\n\r\n");
    let e = err(one(&reply));
    assert_eq!(e.kind(), ErrorKind::LineTooLong, "{e}");
    let mut status = b"HTTP/1.1 200 ".to_vec();
    status.extend(std::iter::repeat_n(b'a', 65536));
    status.extend_from_slice(b"\r\n\r\n");
    assert_eq!(err(one(&status)).kind(), ErrorKind::LineTooLong);
}

#[test]
fn header_line_just_under_the_limit_is_fine() {
    let mut reply = b"HTTP/1.1 200 OK\r\nX-Long: ".to_vec();
    let value_len = 65536 - "X-Long: \r\n".len();
    reply.extend(std::iter::repeat_n(b'a', value_len));
    reply.extend_from_slice(b"\r\nContent-Length: 0\r\n\r\n");
    let r = one(&reply).unwrap();
    assert_eq!(r.getheader(b"x-long").unwrap().to_bytes().len(), value_len);
}

fn with_fields(n: usize) -> Vec<u8> {
    let mut reply = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n".to_vec();
    for i in 1..n {
        reply.extend_from_slice(format!("X-H{i}: {i}\r\n").as_bytes());
    }
    reply.extend_from_slice(b"\r\n");
    reply
}

#[test]
fn more_than_100_headers_is_too_many_headers() {
    let e = err(one(&with_fields(101)));
    assert_eq!(e.kind(), ErrorKind::TooManyHeaders, "{e}");
}

#[test]
fn exactly_100_headers_is_fine() {
    let r = one(&with_fields(100)).unwrap();
    assert_eq!(r.headers().len(), 100);
    assert_eq!(r.getheader(b"X-H99").unwrap().to_bytes(), b"99");
}

#[test]
fn obsolete_folds_are_joined_with_one_space() {
    let r = one(b"HTTP/1.1 200 OK\r\nX-F: a\r\n  b\r\n\tc\r\nX-G: d\r\nContent-Length: 0\r\n\r\n")
        .unwrap();
    assert_eq!(r.getheader(b"X-F").unwrap().to_bytes(), b"a b c");
    assert_eq!(r.getheader(b"X-G").unwrap().to_bytes(), b"d");
    assert_eq!(r.headers().len(), 3);
}

#[test]
fn non_utf8_bytes_pass_through() {
    let r =
        one(b"HTTP/1.1 200 Caf\xe9\r\nX-B: \xff\xfe\x80 z\r\nContent-Length: 0\r\n\r\n").unwrap();
    assert_eq!(r.reason(), b"Caf\xe9");
    assert_eq!(r.getheader(b"x-b").unwrap().to_bytes(), b"\xff\xfe\x80 z");
    assert_eq!(
        r.headers().field(0).unwrap(),
        (&b"X-B"[..], &b"\xff\xfe\x80 z"[..])
    );
}

#[test]
fn lf_only_line_endings_are_accepted() {
    let mut r = one(b"HTTP/1.1 200 OK\nX-A: 1\nContent-Length: 2\n\nhi").unwrap();
    assert_eq!(r.getheader(b"X-A").unwrap().to_bytes(), b"1");
    assert_eq!(body(&mut r), b"hi");
}

#[test]
fn getheader_is_case_insensitive_and_joins_repeats() {
    let r = one(b"HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nX-One: v\r\nset-cookie: b=2\r\nSET-COOKIE: c=3\r\nContent-Length: 0\r\n\r\n")
        .unwrap();
    assert_eq!(r.getheader(b"x-ONE").unwrap().to_bytes(), b"v");
    assert_eq!(
        r.getheader(b"Set-Cookie").unwrap().to_bytes(),
        b"a=1, b=2, c=3"
    );
    assert!(r.getheader(b"X-Absent").is_none());
}

#[test]
fn header_iteration_is_in_wire_order() {
    let r = one(b"HTTP/1.1 200 OK\r\nB: 2\r\nA: 1\r\nb: 3\r\nContent-Length: 0\r\n\r\n").unwrap();
    let h = r.headers();
    let all: Vec<(Vec<u8>, Vec<u8>)> = (0..h.len())
        .map(|i| {
            let (n, v) = h.field(i).unwrap();
            (n.to_vec(), v.to_vec())
        })
        .collect();
    let want: Vec<(Vec<u8>, Vec<u8>)> =
        [("B", "2"), ("A", "1"), ("b", "3"), ("Content-Length", "0")]
            .iter()
            .map(|(n, v)| (n.as_bytes().to_vec(), v.as_bytes().to_vec()))
            .collect();
    assert_eq!(all, want);
    assert!(h.field(4).is_none());
}

// ----- body framing -----

#[test]
fn chunked_with_extensions_and_trailers() {
    let (srv, mut c) = serve(&[
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4;ext=1;q=\"x\"\r\nWiki\r\n5 \r\npedia\r\n0\r\nX-Trailer: t\r\nX-Other: o\r\n\r\n",
        OK_YO,
    ]);
    let mut r = get(&mut c).unwrap();
    assert_eq!(r.length(), None);
    assert_eq!(body(&mut r), b"Wikipedia");
    let t = r.trailers().unwrap();
    assert_eq!(t.len(), 2);
    // Trailers never become headers.
    assert!(r.getheader(b"X-Trailer").is_none());
    // The trailers were consumed: the next response on the same connection is right.
    let mut r2 = get(&mut c).unwrap();
    assert_eq!(body(&mut r2), b"yo");
    assert_eq!(srv.connections(), 1);
}

#[test]
fn chunked_wins_over_content_length_and_stops_reuse() {
    // Connection 0 would answer a second request with "yo": it must not get one.
    let srv = ScriptedServer::reply_by_conn(vec![
        vec![
            b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n".to_vec(),
            OK_YO.to_vec(),
        ],
        vec![OK_HI.to_vec()],
    ]);
    let mut c = Connection::new("127.0.0.1", srv.port()).unwrap();
    let mut r = get(&mut c).unwrap();
    assert_eq!(body(&mut r), b"hello");
    let mut r2 = get(&mut c).unwrap();
    assert_eq!(body(&mut r2), b"hi");
    drop(c);
    let one_get = format!(
        "GET / HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nAccept-Encoding: identity\r\n\r\n",
        srv.port()
    );
    assert_eq!(String::from_utf8_lossy(&srv.received_when_done(0)), one_get);
    assert_eq!(String::from_utf8_lossy(&srv.received_when_done(1)), one_get);
}

#[test]
fn conflicting_content_lengths_are_an_error() {
    for cl in [
        "Content-Length: 3\r\nContent-Length: 4\r\n",
        "Content-Length: 3, 4\r\n",
        "Content-Length: +3\r\n",
        "Content-Length: -1\r\n",
        "Content-Length: 3x\r\n",
        "Content-Length: 99999999999999999999999\r\n",
    ] {
        let reply = format!("HTTP/1.1 200 OK\r\n{cl}\r\nabcd");
        let e = err(one(reply.as_bytes()));
        assert_eq!(e.kind(), ErrorKind::HttpException, "{cl}: {e}");
    }
}

#[test]
fn identical_content_lengths_are_one_value() {
    let mut r =
        one(b"HTTP/1.1 200 OK\r\nContent-Length: 3, 3\r\nContent-Length: 3\r\n\r\nabc").unwrap();
    assert_eq!(r.length(), Some(3));
    assert_eq!(body(&mut r), b"abc");
}

#[test]
fn head_response_has_no_body_and_keeps_the_connection() {
    let (srv, mut c) = serve(&[b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", OK_YO]);
    c.request(b"HEAD", b"/", None, &[]).unwrap();
    let mut r = c.getresponse().unwrap();
    assert_eq!(r.getheader(b"content-length").unwrap().to_bytes(), b"5");
    assert_eq!(r.length(), Some(0));
    assert!(r.isclosed());
    assert_eq!(body(&mut r), b"");
    let mut r2 = get(&mut c).unwrap();
    assert_eq!(body(&mut r2), b"yo");
    assert_eq!(srv.connections(), 1);
}

#[test]
fn no_body_for_204_and_304() {
    for status in ["204 No Content", "304 Not Modified"] {
        let head = format!("HTTP/1.1 {status}\r\nContent-Length: 5\r\n\r\n");
        let (srv, mut c) = serve(&[head.as_bytes(), OK_YO]);
        let mut r = get(&mut c).unwrap();
        assert_eq!(body(&mut r), b"", "{status}");
        assert!(r.isclosed());
        let mut r2 = get(&mut c).unwrap();
        assert_eq!(body(&mut r2), b"yo", "{status}");
        assert_eq!(srv.connections(), 1);
    }
}

#[test]
fn interim_1xx_responses_are_skipped() {
    let mut r = one(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 102 Processing\r\nX-P: 1\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </s>\r\n\r\nHTTP/1.1 200 OK\r\nX-F: 1\r\nContent-Length: 2\r\n\r\nhi")
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.getheader(b"X-P").is_none());
    assert!(r.getheader(b"Link").is_none());
    assert_eq!(r.getheader(b"X-F").unwrap().to_bytes(), b"1");
    assert_eq!(body(&mut r), b"hi");
}

#[test]
fn interim_responses_are_bounded() {
    let mut reply = b"HTTP/1.1 100 Continue\r\n\r\n".repeat(1000);
    reply.extend_from_slice(OK_HI);
    let e = err(one(&reply));
    assert_eq!(e.kind(), ErrorKind::HttpException, "{e}");
}

#[test]
fn without_length_or_chunked_the_body_ends_at_close() {
    let (srv, mut c) = serve(&[b"HTTP/1.1 200 OK\r\n\r\nuntil the end\r\n\r\nof it"]);
    let mut r = get(&mut c).unwrap();
    assert_eq!(r.length(), None);
    assert!(r.will_close());
    assert_eq!(body(&mut r), b"until the end\r\n\r\nof it");
    assert!(r.isclosed());
    let mut r2 = get(&mut c).unwrap();
    assert_eq!(body(&mut r2), b"until the end\r\n\r\nof it");
    assert_eq!(srv.connections(), 2);
}

fn chunk_error(chunk_line: &str) -> Error {
    let reply = format!(
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n{chunk_line}\r\nhello\r\n0\r\n\r\n"
    );
    let (_srv, mut c) = serve(&[reply.as_bytes()]);
    match get(&mut c) {
        Err(e) => e,
        Ok(mut r) => {
            let mut v = Vec::new();
            let e = r.read_to_end(&mut v).unwrap_err();
            assert!(v.is_empty(), "{v:?}");
            e
        }
    }
}

#[test]
fn chunk_size_not_hex_is_an_error() {
    for l in ["zz", "-5", "+5", "0x5", "5_0", "", " 5"] {
        let e = chunk_error(l);
        assert_eq!(e.kind(), ErrorKind::HttpException, "{l:?}: {e}");
    }
}

#[test]
fn chunk_size_overflowing_64_bits_is_an_error() {
    for l in [
        "10000000000000000",
        "fffffffffffffffff",
        "100000000000000005",
    ] {
        let e = chunk_error(l);
        assert_eq!(e.kind(), ErrorKind::HttpException, "{l:?}: {e}");
        assert!(e.message().contains("overflow"), "{e}");
    }
}

#[test]
fn chunk_data_without_line_ending_is_an_error() {
    let mut r = one(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhiXX\r\n0\r\n\r\n")
        .unwrap();
    let mut v = Vec::new();
    let e = r.read_to_end(&mut v).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::HttpException, "{e}");
    assert_eq!(v, b"hi");
}

// ----- reading -----

#[test]
fn read_fill_fills_the_buffer_then_reports_the_end() {
    let srv = ScriptedServer::start(|conn, _| {
        let _ = conn.read_request();
        // Three separate writes: read_fill must gather them.
        for part in [
            &b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"[..],
            b"defg",
            b"hij",
        ] {
            let _ = std::io::Write::write_all(conn, part);
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        conn.drain(std::time::Duration::from_secs(5));
    });
    let mut c = Connection::new("127.0.0.1", srv.port()).unwrap();
    let mut r = get(&mut c).unwrap();
    assert_eq!(r.length(), Some(10));
    let mut buf = [0u8; 8];
    let (n, res) = r.read_fill(&mut buf);
    res.unwrap();
    assert_eq!(&buf[..n], b"abcdefgh");
    assert_eq!(r.length(), Some(2));
    assert!(!r.isclosed());
    let (n, res) = r.read_fill(&mut buf);
    res.unwrap();
    assert_eq!(&buf[..n], b"ij");
    assert!(r.isclosed());
    assert_eq!(r.length(), Some(0));
    let (n, res) = r.read_fill(&mut buf);
    res.unwrap();
    assert_eq!(n, 0);
    // An empty buffer reads nothing.
    let (n, res) = r.read_fill(&mut []);
    res.unwrap();
    assert_eq!(n, 0);
}

#[test]
fn cut_short_body_is_incomplete_read_with_partial_bytes() {
    let mut r = one(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabcd").unwrap();
    let mut buf = [0u8; 16];
    let (n, res) = r.read_fill(&mut buf);
    let e = res.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::IncompleteRead);
    assert_eq!(&buf[..n], b"abcd");
    assert!(e.message().contains("4 bytes read, 6 more expected"), "{e}");
    // Every later read says so again.
    let (n, res) = r.read_fill(&mut buf);
    assert_eq!(n, 0);
    assert_eq!(res.unwrap_err().kind(), ErrorKind::IncompleteRead);
}

#[test]
fn cut_short_chunked_body_keeps_decoded_bytes_only() {
    let mut r = one(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n8\r\nwor")
        .unwrap();
    let mut v = Vec::new();
    let e = r.read_to_end(&mut v).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::IncompleteRead, "{e}");
    assert_eq!(v, b"hellowor");
}

#[test]
fn length_counts_down_and_isclosed_turns_true() {
    let mut r = one(b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nabcdef").unwrap();
    assert_eq!(r.length(), Some(6));
    assert!(!r.isclosed());
    let mut b = [0u8; 4];
    let (n, res) = r.read_fill(&mut b);
    res.unwrap();
    assert_eq!(n, 4);
    assert_eq!(r.length(), Some(2));
    assert!(!r.isclosed());
    assert_eq!(body(&mut r), b"ef");
    assert!(r.isclosed());
}

#[test]
fn freeing_a_response_early_closes_the_connection() {
    let srv = ScriptedServer::reply_by_conn(vec![
        vec![b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\nstart".to_vec()],
        vec![OK_YO.to_vec()],
    ]);
    let mut c = Connection::new("127.0.0.1", srv.port()).unwrap();
    let r = get(&mut c).unwrap();
    drop(r);
    let mut r2 = get(&mut c).unwrap();
    assert_eq!(body(&mut r2), b"yo");
    drop(c);
    assert_eq!(srv.connections(), 2);
}

#[test]
fn response_stays_readable_after_its_connection_is_dropped() {
    let (_srv, mut c) = serve(&[b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"]);
    let mut r = get(&mut c).unwrap();
    drop(c);
    assert_eq!(body(&mut r), b"hello");
}

#[test]
fn pipelined_request_waits_for_the_first_response() {
    let (srv, mut c) = serve(&[
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfirst",
        b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nsecond",
    ]);
    let mut r1 = get(&mut c).unwrap();
    c.request(b"GET", b"/2", None, &[]).unwrap();
    let e = err(c.getresponse());
    assert_eq!(e.kind(), ErrorKind::ResponseNotReady, "{e}");
    assert_eq!(body(&mut r1), b"first");
    let mut r2 = c.getresponse().unwrap();
    assert_eq!(body(&mut r2), b"second");
    assert_eq!(srv.connections(), 1);
}

#[test]
fn bad_chunk_size_after_data_keeps_the_decoded_bytes_on_a_large_read() {
    // The head arrives alone, so the body is read straight into the caller's large buffer.
    let srv = ScriptedServer::start(|conn, _| {
        let _ = conn.read_request();
        let _ = std::io::Write::write_all(
            conn,
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
        let _ = std::io::Write::write_all(conn, b"2\r\nhi\r\nzz\r\nmore\r\n0\r\n\r\n");
        conn.drain(std::time::Duration::from_secs(5));
    });
    let mut c = Connection::new("127.0.0.1", srv.port()).unwrap();
    let mut r = get(&mut c).unwrap();
    let mut v = Vec::new();
    let e = r.read_to_end(&mut v).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::HttpException, "{e}");
    assert_eq!(v, b"hi");
}
