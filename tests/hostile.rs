//! Hostile servers: one test per attack, each asserting the exact error
//! kind and, where it matters, that the connection is not reused afterwards (the next request
//! opens a new TCP connection, and the bad one carried exactly one request).

mod common;

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::thread;
use std::time::Duration;

use common::err;
use common::scripted::ScriptedServer;
use httpclient::transport::Transport;
use httpclient::{Connection, Error, ErrorKind, Response, Result};

/// The good answer a second connection gives.
const REAL: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nreal";

fn conn(srv: &ScriptedServer) -> Connection {
    let mut c = Connection::new("127.0.0.1", srv.port()).unwrap();
    // Only a guard against a hang; no test waits for it.
    c.set_timeout(10.0).unwrap();
    c
}

fn get(c: &mut Connection) -> Result<Response> {
    c.request(b"GET", b"/", None, &[])?;
    c.getresponse()
}

/// Reads the body to its end or first error: the bytes delivered and the outcome.
fn read_all(r: &mut Response) -> (Vec<u8>, Result<()>) {
    let mut out = Vec::new();
    let res = r.read_to_end(&mut out);
    (out, res)
}

fn body_ok(r: &mut Response) -> Vec<u8> {
    let (b, res) = read_all(r);
    res.unwrap();
    b
}

fn requests_in(bytes: &[u8]) -> usize {
    bytes
        .windows(16)
        .filter(|w| w == b"GET / HTTP/1.1\r\n")
        .count()
}

/// Connection 0 gets `bad`, connection 1 the good answer.
fn bad_then_real(bad: &[u8]) -> ScriptedServer {
    ScriptedServer::reply_by_conn(vec![vec![bad.to_vec()], vec![REAL.to_vec()]])
}

/// The next request opens a new connection and gets the real answer; the bad connection
/// carried exactly one request.
fn assert_not_reused(c: &mut Connection, srv: &ScriptedServer) {
    let mut r = get(c).expect("the request after the bad response");
    assert_eq!(body_ok(&mut r), b"real");
    assert_eq!(srv.connections(), 2, "a new connection was opened");
    assert_eq!(requests_in(&srv.received_when_done(0)), 1);
    assert_eq!(requests_in(&srv.received(1)), 1);
}

/// The head is rejected by getresponse with `kind`, and the connection is dropped.
fn head_rejected(bad: &[u8], kind: ErrorKind) -> Error {
    let srv = bad_then_real(bad);
    let mut c = conn(&srv);
    let e = err(get(&mut c));
    assert_eq!(e.kind(), kind, "{e}");
    assert_not_reused(&mut c, &srv);
    e
}

/// The head is accepted but reading the body fails with `kind` after delivering `delivered`;
/// the connection is dropped.
fn body_rejected(bad: &[u8], kind: ErrorKind, delivered: &[u8]) -> Error {
    let srv = bad_then_real(bad);
    let mut c = conn(&srv);
    let mut r = get(&mut c).unwrap();
    let (b, res) = read_all(&mut r);
    let e = res.unwrap_err();
    assert_eq!(e.kind(), kind, "{e}");
    assert_eq!(b, delivered);
    assert!(r.isclosed());
    // The error sticks.
    assert_eq!(r.read_some(&mut [0u8; 8]).unwrap_err().kind(), kind);
    assert_not_reused(&mut c, &srv);
    e
}

// ----- response splitting and desync -----

#[test]
fn extra_bytes_after_a_content_length_body_are_not_read_as_the_next_response() {
    let mut bad = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi".to_vec();
    bad.extend_from_slice(b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nevil");
    let srv = bad_then_real(&bad);
    let mut c = conn(&srv);
    let mut r = get(&mut c).unwrap();
    assert_eq!(body_ok(&mut r), b"hi");
    drop(r);
    assert_not_reused(&mut c, &srv);
}

#[test]
fn extra_bytes_arriving_after_the_body_ended_are_not_read_as_the_next_response() {
    // The fake response comes 50 ms after the real one, when the client has already seen
    // the end of the body and the connection looks idle and reusable.
    let srv = ScriptedServer::start(|conn, idx| {
        let _ = conn.read_request();
        if idx == 0 {
            let _ = conn.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi");
            thread::sleep(Duration::from_millis(50));
            let _ = conn.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nevil");
            conn.drain(Duration::from_secs(10));
        } else {
            let _ = conn.write_all(REAL);
            conn.drain(Duration::from_secs(10));
        }
    });
    let mut c = conn(&srv);
    let mut r = get(&mut c).unwrap();
    assert_eq!(body_ok(&mut r), b"hi");
    drop(r);
    thread::sleep(Duration::from_millis(300));
    assert_not_reused(&mut c, &srv);
}

#[test]
fn a_body_sent_after_a_head_response_is_not_read_as_the_next_response() {
    let srv = bad_then_real(
        b"HTTP/1.1 200 OK\r\nContent-Length: 40\r\n\r\n\
          HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nevil",
    );
    let mut c = conn(&srv);
    c.request(b"HEAD", b"/", None, &[]).unwrap();
    let mut r = c.getresponse().unwrap();
    assert_eq!(r.length(), Some(0));
    assert_eq!(body_ok(&mut r), b"");
    drop(r);
    let mut r = get(&mut c).expect("the request after the bad response");
    assert_eq!(body_ok(&mut r), b"real");
    assert_eq!(srv.connections(), 2);
}

#[test]
fn a_body_sent_with_a_204_is_not_read_as_the_next_response() {
    let srv = bad_then_real(
        b"HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nevil",
    );
    let mut c = conn(&srv);
    let mut r = get(&mut c).unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(body_ok(&mut r), b"");
    drop(r);
    assert_not_reused(&mut c, &srv);
}

#[test]
fn a_response_smuggled_inside_a_chunk_is_body_data() {
    let fake = b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nevil";
    let mut first = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    first.extend_from_slice(format!("{:x}\r\n", fake.len()).as_bytes());
    first.extend_from_slice(fake);
    first.extend_from_slice(b"\r\n0\r\n\r\n");
    let srv = ScriptedServer::reply_each(vec![first, REAL.to_vec()]);
    let mut c = conn(&srv);
    let mut r = get(&mut c).unwrap();
    assert_eq!(body_ok(&mut r), fake);
    // Well framed: the connection is reused, and the next answer is the server's real one.
    let mut r = get(&mut c).unwrap();
    assert_eq!(body_ok(&mut r), b"real");
    assert_eq!(srv.connections(), 1);
    assert_eq!(requests_in(&srv.received(0)), 2);
}

#[test]
fn a_response_smuggled_in_a_trailer_changes_nothing_and_drops_the_connection() {
    let bad = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\
        2\r\nhi\r\n0\r\nHTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nevil";
    let srv = bad_then_real(bad);
    let mut c = conn(&srv);
    let mut r = get(&mut c).unwrap();
    assert_eq!(body_ok(&mut r), b"hi");
    // The fake status line (no colon) is skipped; its Content-Length stays a trailer.
    let t = r.trailers().unwrap();
    assert_eq!(t.len(), 1);
    assert_eq!(t.field(0).unwrap(), (&b"Content-Length"[..], &b"4"[..]));
    assert!(r.getheader(b"content-length").is_none());
    drop(r);
    // "evil" came after the end of the response: never read as the next one.
    assert_not_reused(&mut c, &srv);
}

// ----- Content-Length -----

#[test]
fn conflicting_content_lengths_are_rejected() {
    head_rejected(
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello",
        ErrorKind::HttpException,
    );
}

#[test]
fn a_content_length_list_with_different_values_is_rejected() {
    head_rejected(
        b"HTTP/1.1 200 OK\r\nContent-Length: 5, 6\r\n\r\nhello",
        ErrorKind::HttpException,
    );
}

#[test]
fn duplicated_identical_content_lengths_are_one_value() {
    let first = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello";
    let srv = ScriptedServer::reply_each(vec![first.to_vec(), REAL.to_vec()]);
    let mut c = conn(&srv);
    let mut r = get(&mut c).unwrap();
    assert_eq!(r.length(), Some(5));
    assert_eq!(body_ok(&mut r), b"hello");
    let mut r = get(&mut c).unwrap();
    assert_eq!(body_ok(&mut r), b"real");
    assert_eq!(
        srv.connections(),
        1,
        "a clean response keeps the connection"
    );
}

#[test]
fn a_content_length_list_of_identical_values_is_one_value() {
    let first = b"HTTP/1.1 200 OK\r\nContent-Length: 5 , 5,5\r\n\r\nhello";
    let srv = ScriptedServer::reply_each(vec![first.to_vec(), REAL.to_vec()]);
    let mut c = conn(&srv);
    let mut r = get(&mut c).unwrap();
    assert_eq!(r.length(), Some(5));
    assert_eq!(body_ok(&mut r), b"hello");
    let mut r = get(&mut c).unwrap();
    assert_eq!(body_ok(&mut r), b"real");
    assert_eq!(srv.connections(), 1);
}

#[test]
fn content_length_with_a_sign_junk_an_empty_item_or_overflow_is_rejected() {
    for v in [
        &b"+5"[..],
        b"-1",
        b"0x5",
        b"5a",
        b"5,",
        b"",
        b"5 5",
        b"18446744073709551616",
    ] {
        let mut bad = b"HTTP/1.1 200 OK\r\nContent-Length: ".to_vec();
        bad.extend_from_slice(v);
        bad.extend_from_slice(b"\r\n\r\nhello");
        let e = head_rejected(&bad, ErrorKind::HttpException);
        assert!(e.message().contains("Content-Length"), "{e}");
    }
}

#[test]
fn a_huge_content_length_is_not_preallocated_and_a_short_body_is_incomplete() {
    let e = body_rejected(
        b"HTTP/1.1 200 OK\r\nContent-Length: 18446744073709551615\r\n\r\nhello",
        ErrorKind::IncompleteRead,
        b"hello",
    );
    assert!(e.message().contains("5 bytes read"), "{e}");
}

// ----- Transfer-Encoding -----

#[test]
fn transfer_encoding_wins_over_content_length_and_the_connection_is_not_reused() {
    let srv = bad_then_real(
        b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n\
          5\r\nhello\r\n0\r\n\r\n",
    );
    let mut c = conn(&srv);
    let mut r = get(&mut c).unwrap();
    assert_eq!(r.length(), None);
    assert_eq!(body_ok(&mut r), b"hello");
    assert!(r.will_close());
    drop(r);
    assert_not_reused(&mut c, &srv);
}

#[test]
fn gzip_then_chunked_is_dechunked_and_handed_over_still_coded() {
    let first = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n\
        4\r\n\x1f\x8b\x08\x00\r\n0\r\n\r\n";
    let srv = ScriptedServer::reply_each(vec![first.to_vec(), REAL.to_vec()]);
    let mut c = conn(&srv);
    let mut r = get(&mut c).unwrap();
    assert_eq!(body_ok(&mut r), b"\x1f\x8b\x08\x00");
    // Chunked framing ended the body exactly: the connection stays usable.
    let mut r = get(&mut c).unwrap();
    assert_eq!(body_ok(&mut r), b"real");
    assert_eq!(srv.connections(), 1);
}

/// A coding list that does not end in chunked (or a coding we don't know): the body is
/// everything up to the close, chunk framing included, and the connection is never reused.
fn read_until_close(te: &str) {
    let mut bad =
        format!("HTTP/1.1 200 OK\r\nTransfer-Encoding: {te}\r\nContent-Length: 3\r\n\r\n")
            .into_bytes();
    bad.extend_from_slice(b"5\r\nhello\r\n0\r\n\r\n");
    let srv = bad_then_real(&bad);
    let mut c = conn(&srv);
    let mut r = get(&mut c).unwrap();
    assert!(r.will_close());
    assert_eq!(r.length(), None);
    assert_eq!(body_ok(&mut r), b"5\r\nhello\r\n0\r\n\r\n");
    drop(r);
    assert_not_reused(&mut c, &srv);
}

#[test]
fn chunked_then_gzip_reads_until_close() {
    read_until_close("chunked, gzip");
}

#[test]
fn an_unknown_transfer_coding_reads_until_close() {
    read_until_close("x-hostile");
}

// ----- chunk sizes -----

fn bad_chunk_size(size_line: &[u8]) {
    let mut bad = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    bad.extend_from_slice(size_line);
    bad.extend_from_slice(b"\r\nhello\r\n0\r\n\r\n");
    let e = body_rejected(&bad, ErrorKind::HttpException, b"");
    assert!(e.message().contains("chunk size"), "{e}");
}

#[test]
fn a_chunk_size_of_17_hex_digits_overflows() {
    bad_chunk_size(b"10000000000000000"); // 0xffffffffffffffff + 1
}

#[test]
fn a_chunk_size_with_a_sign_is_rejected() {
    bad_chunk_size(b"-5");
    bad_chunk_size(b"+5");
}

#[test]
fn a_chunk_size_with_a_leading_space_is_rejected() {
    bad_chunk_size(b" 5");
}

#[test]
fn a_chunk_size_with_0x_or_underscore_is_rejected() {
    bad_chunk_size(b"0x5");
    bad_chunk_size(b"0_5");
}

#[test]
fn a_chunk_size_with_junk_nul_or_bare_cr_is_rejected() {
    bad_chunk_size(b"5z");
    bad_chunk_size(b"");
    bad_chunk_size(b"5\x00");
    bad_chunk_size(b"5\r;x");
}

#[test]
fn a_chunk_size_with_trailing_space_and_extension_is_accepted() {
    let first = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\
        5 \t;name=\"v\"\r\nhello\r\n0\r\n\r\n";
    let srv = ScriptedServer::reply_each(vec![first.to_vec()]);
    let mut c = conn(&srv);
    let mut r = get(&mut c).unwrap();
    assert_eq!(body_ok(&mut r), b"hello");
}

#[test]
fn the_largest_chunk_size_is_not_preallocated_and_a_short_chunk_is_incomplete() {
    let e = body_rejected(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffff\r\nhello",
        ErrorKind::IncompleteRead,
        b"hello",
    );
    assert!(e.message().contains("5 bytes read"), "{e}");
}

#[test]
fn chunk_data_not_followed_by_a_line_ending_is_rejected() {
    body_rejected(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX\r\n0\r\n\r\n",
        ErrorKind::HttpException,
        b"hello",
    );
}

#[test]
fn more_than_100_trailer_lines_are_too_many_headers() {
    let mut bad = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n".to_vec();
    for i in 0..101 {
        bad.extend_from_slice(format!("T{i}: x\r\n").as_bytes());
    }
    bad.extend_from_slice(b"\r\n");
    body_rejected(&bad, ErrorKind::TooManyHeaders, b"hi");
}

// ----- bodies cut short -----

#[test]
fn a_body_cut_off_mid_chunk_is_incomplete_with_decoded_bytes_only() {
    let e = body_rejected(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n10\r\nabc",
        ErrorKind::IncompleteRead,
        b"helloabc",
    );
    // The count is of decoded bytes: the chunk-size lines are not in it; the chunk of 0x10
    // bytes announced 13 more, whichever read path (buffered or direct) met the end.
    assert!(
        e.message().contains("(8 bytes read, 13 more expected"),
        "{e}"
    );
}

#[test]
fn a_body_cut_off_at_a_chunk_boundary_is_incomplete() {
    let e = body_rejected(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n",
        ErrorKind::IncompleteRead,
        b"hello",
    );
    assert!(e.message().contains("5 bytes read"), "{e}");
}

#[test]
fn a_body_cut_off_mid_length_is_incomplete_with_the_partial_bytes() {
    let e = body_rejected(
        b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabcd",
        ErrorKind::IncompleteRead,
        b"abcd",
    );
    assert!(e.message().contains("4 bytes read, 6 more expected"), "{e}");
}

#[test]
fn read_fill_reports_the_partial_count_of_a_cut_body() {
    let srv = bad_then_real(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabcd");
    let mut c = conn(&srv);
    let mut r = get(&mut c).unwrap();
    let mut buf = [0u8; 10];
    let (n, res) = r.read_fill(&mut buf);
    assert_eq!(res.unwrap_err().kind(), ErrorKind::IncompleteRead);
    assert_eq!(&buf[..n], b"abcd");
}

#[test]
fn a_server_that_closes_after_the_headers_is_incomplete() {
    let e = body_rejected(
        b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n",
        ErrorKind::IncompleteRead,
        b"",
    );
    assert!(
        e.message().contains("0 bytes read, 10 more expected"),
        "{e}"
    );
}

#[test]
fn a_chunked_server_that_closes_after_the_headers_is_incomplete() {
    body_rejected(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
        ErrorKind::IncompleteRead,
        b"",
    );
}

// A head or trailer section ended by the close after a whole line (docs/cut-responses.md).

/// `bad` is accepted: its body, read with reads of `cap` bytes, is `want` and ends without
/// an error, and the connection is not reused. Returns the response, ended.
fn accepted_at_close(bad: &[u8], cap: usize, want: &[u8]) -> Response {
    let srv = bad_then_real(bad);
    let mut c = conn(&srv);
    let mut r = get(&mut c).unwrap_or_else(|e| panic!("{e}"));
    let mut got = Vec::new();
    let mut buf = vec![0u8; cap];
    loop {
        match r.read_some(&mut buf) {
            Ok(0) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) => panic!("cap {cap}: {e} after {got:?}"),
        }
    }
    assert_eq!(got, want, "cap {cap}");
    assert!(r.isclosed());
    assert_not_reused(&mut c, &srv);
    r
}

#[test]
fn a_head_ended_by_the_close_after_a_whole_line_is_accepted_and_not_reused() {
    for bad in [
        &b"HTTP/1.1 200 OK\r\nConnection: close\r\n"[..],
        b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n",
        b"HTTP/1.1 200 OK\r\nX-A: 1\n",
        b"HTTP/1.1 200 OK\r\n",
    ] {
        let r = accepted_at_close(bad, 100, b"");
        assert_eq!(r.status(), 200);
    }
}

#[test]
fn a_head_ended_by_the_close_with_a_content_length_owed_is_incomplete() {
    let e = body_rejected(
        b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n",
        ErrorKind::IncompleteRead,
        b"",
    );
    assert!(
        e.message().contains("0 bytes read, 10 more expected"),
        "{e}"
    );
    body_rejected(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n",
        ErrorKind::IncompleteRead,
        b"",
    );
}

#[test]
fn a_head_cut_inside_a_line_is_still_an_error() {
    let e = head_rejected(
        b"HTTP/1.1 200 OK\r\nContent-Length: 10",
        ErrorKind::HttpException,
    );
    assert!(e.message().contains("inside a response header line"), "{e}");
    head_rejected(b"HTTP/1.1 200 OK", ErrorKind::BadStatusLine);
}

#[test]
fn a_trailer_section_cut_after_the_last_chunk_keeps_the_body() {
    // Small reads go through the connection's buffer, large ones take the in-place path.
    for cap in [1, 2, 100, 65536] {
        let r = accepted_at_close(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n",
            cap,
            b"abc",
        );
        assert_eq!(r.trailers().map(|t| t.len()), Some(0));
        let r = accepted_at_close(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nX-Sum: 1\r\n",
            cap,
            b"abc",
        );
        let t = r.trailers().expect("trailers");
        assert_eq!(t.field(0), Some((&b"X-Sum"[..], &b"1"[..])));
    }
    // The read-all path.
    let srv =
        bad_then_real(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n");
    let mut c = conn(&srv);
    let mut r = get(&mut c).unwrap();
    assert_eq!(body_ok(&mut r), b"abc");
    assert_not_reused(&mut c, &srv);
}

#[test]
fn a_trailer_line_cut_in_the_middle_is_incomplete_with_the_body_kept() {
    let e = body_rejected(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nX-Sum: 1",
        ErrorKind::IncompleteRead,
        b"abc",
    );
    assert!(e.message().contains("3 bytes read"), "{e}");
    assert!(e.message().contains("trailer"), "{e}");
}

/// A reset in the middle of the body is the OS's ConnectionReset (what happened), not an
/// IncompleteRead (which would claim a clean close); the bytes before it were delivered.
#[test]
fn a_server_that_resets_mid_body_is_connection_reset() {
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let go_rx = Mutex::new(go_rx);
    let srv = ScriptedServer::start(move |conn, idx| {
        let _ = conn.read_request();
        if idx == 0 {
            let _ = conn.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789");
            // Reset only once the client has read the first bytes.
            let _ = go_rx.lock().unwrap().recv_timeout(Duration::from_secs(10));
            conn.reset_on_close();
        } else {
            let _ = conn.write_all(REAL);
            conn.drain(Duration::from_secs(10));
        }
    });
    let mut c = conn(&srv);
    let mut r = get(&mut c).unwrap();
    let mut buf = [0u8; 10];
    let (n, res) = r.read_fill(&mut buf);
    res.unwrap();
    assert_eq!(&buf[..n], b"0123456789");
    go_tx.send(()).unwrap();
    let e = r.read_some(&mut [0u8; 100]).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ConnectionReset, "{e}");
    assert_eq!(r.bytes_read(), 10);
    assert!(r.isclosed());
    drop(r);
    let mut r = get(&mut c).unwrap();
    assert_eq!(body_ok(&mut r), b"real");
    assert_eq!(srv.connections(), 2);
}

// ----- interim responses -----

fn interim_then_ok(n: usize) -> Vec<u8> {
    let mut v = b"HTTP/1.1 100 Continue\r\n\r\n".repeat(n);
    v.extend_from_slice(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    v
}

#[test]
fn thirty_two_interim_responses_are_skipped() {
    let srv = ScriptedServer::reply_each(vec![interim_then_ok(32)]);
    let mut c = conn(&srv);
    let mut r = get(&mut c).unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(body_ok(&mut r), b"ok");
}

#[test]
fn endless_interim_responses_are_an_http_exception() {
    // The server would go on for 100,000 of them; the client stops after 32.
    let srv = ScriptedServer::start(|conn, _| {
        let _ = conn.read_request();
        for _ in 0..100_000 {
            if conn.write_all(b"HTTP/1.1 102 Processing\r\n\r\n").is_err() {
                return;
            }
        }
    });
    let mut c = conn(&srv);
    let e = err(get(&mut c));
    assert_eq!(e.kind(), ErrorKind::HttpException, "{e}");
    assert!(e.message().contains("interim"), "{e}");
}

// ----- endless and huge heads -----

/// A transport over TCP that counts the bytes the client read.
struct Counting {
    s: TcpStream,
    n: Arc<AtomicUsize>,
}

impl Transport for Counting {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.s.read(buf)?;
        self.n.fetch_add(n, Ordering::SeqCst);
        Ok(n)
    }
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.s.write(buf)
    }
    fn set_io_timeout(&mut self, t: Option<Duration>) -> io::Result<()> {
        self.s.set_read_timeout(t)?;
        self.s.set_write_timeout(t)
    }
    fn shutdown(&mut self) {
        let _ = self.s.shutdown(std::net::Shutdown::Both);
    }
}

fn counting_conn(srv: &ScriptedServer) -> (Connection, Arc<AtomicUsize>) {
    let n = Arc::new(AtomicUsize::new(0));
    let mut c = Connection::new("127.0.0.1", srv.port()).unwrap();
    let counter = n.clone();
    c.set_transport_factory(Box::new(move |t| {
        let s = TcpStream::connect((t.host(), t.port)).map_err(|e| Error::io("connect", &e))?;
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        Ok(Box::new(Counting {
            s,
            n: counter.clone(),
        }))
    }));
    (c, n)
}

/// A server that answers the request with `start`, then `line` over and over (up to
/// `times`), until the client goes away.
fn flood(start: &'static [u8], line: &'static [u8], times: usize) -> ScriptedServer {
    ScriptedServer::start(move |conn, _| {
        let _ = conn.read_request();
        let _ = conn.write_all(start);
        let mut batch = Vec::new();
        for _ in 0..(65536 / line.len()).max(1) {
            batch.extend_from_slice(line);
        }
        let mut sent = 0;
        while sent < times {
            if conn.write_all(&batch).is_err() {
                return;
            }
            sent += 65536 / line.len().max(1);
        }
    })
}

/// The most the client may read before giving up on one head line: the longest line, plus
/// one buffer of read-ahead.
const LINE_BOUND: usize = 65536 + 16 * 1024 + 1024;

#[test]
fn headers_that_never_end_stop_at_100_lines() {
    let srv = flood(b"HTTP/1.1 200 OK\r\n", b"X-Flood: yes\r\n", 10_000_000);
    let (mut c, n) = counting_conn(&srv);
    let e = err(get(&mut c));
    assert_eq!(e.kind(), ErrorKind::TooManyHeaders, "{e}");
    assert!(n.load(Ordering::SeqCst) <= LINE_BOUND, "read {n:?} bytes");
}

#[test]
fn a_header_line_that_never_ends_is_line_too_long() {
    let srv = flood(b"HTTP/1.1 200 OK\r\nX-Long: ", b"a", 10 << 20);
    let (mut c, n) = counting_conn(&srv);
    let e = err(get(&mut c));
    assert_eq!(e.kind(), ErrorKind::LineTooLong, "{e}");
    assert!(n.load(Ordering::SeqCst) <= LINE_BOUND, "read {n:?} bytes");
}

#[test]
fn a_10_mib_header_line_is_line_too_long_and_read_no_further() {
    let mut bad = b"HTTP/1.1 200 OK\r\nX-Long: ".to_vec();
    bad.resize(bad.len() + (10 << 20), b'a');
    bad.extend_from_slice(b"\r\nContent-Length: 0\r\n\r\n");
    let bad: &'static [u8] = bad.leak();
    let srv = ScriptedServer::start(move |conn, _| {
        let _ = conn.read_request();
        let _ = conn.write_all(bad);
    });
    let (mut c, n) = counting_conn(&srv);
    let e = err(get(&mut c));
    assert_eq!(e.kind(), ErrorKind::LineTooLong, "{e}");
    assert!(n.load(Ordering::SeqCst) <= LINE_BOUND, "read {n:?} bytes");
}

#[test]
fn a_status_line_of_1_mib_is_line_too_long() {
    let mut bad = b"HTTP/1.1 200 ".to_vec();
    bad.resize(1 << 20, b'r');
    bad.extend_from_slice(b"\r\nContent-Length: 0\r\n\r\n");
    let bad: &'static [u8] = bad.leak();
    let srv = ScriptedServer::start(move |conn, _| {
        let _ = conn.read_request();
        let _ = conn.write_all(bad);
    });
    let (mut c, n) = counting_conn(&srv);
    let e = err(get(&mut c));
    assert_eq!(e.kind(), ErrorKind::LineTooLong, "{e}");
    assert!(n.load(Ordering::SeqCst) <= LINE_BOUND, "read {n:?} bytes");
}

#[test]
fn a_head_of_100000_headers_is_too_many_headers() {
    let mut bad = b"HTTP/1.1 200 OK\r\n".to_vec();
    for i in 0..100_000 {
        bad.extend_from_slice(format!("H{i}: v\r\n").as_bytes());
    }
    bad.extend_from_slice(b"Content-Length: 0\r\n\r\n");
    let e = head_rejected(&bad, ErrorKind::TooManyHeaders);
    assert!(e.message().contains("100"), "{e}");
}

#[test]
fn exactly_100_headers_are_accepted() {
    let mut ok = b"HTTP/1.1 200 OK\r\n".to_vec();
    for i in 0..99 {
        ok.extend_from_slice(format!("H{i}: v\r\n").as_bytes());
    }
    ok.extend_from_slice(b"Content-Length: 2\r\n\r\nok");
    let srv = ScriptedServer::reply_each(vec![ok]);
    let mut c = conn(&srv);
    let mut r = get(&mut c).unwrap();
    assert_eq!(r.headers().len(), 100);
    assert_eq!(body_ok(&mut r), b"ok");
}

// ----- NUL, bare CR, bare LF -----

#[test]
fn a_nul_in_the_status_line_is_a_bad_status_line() {
    head_rejected(
        b"HTTP/1.1 200 O\x00K\r\nContent-Length: 0\r\n\r\n",
        ErrorKind::BadStatusLine,
    );
}

#[test]
fn a_bare_cr_in_the_status_line_is_a_bad_status_line() {
    head_rejected(
        b"HTTP/1.1 200 OK\rContent-Length: 0\r\n\r\n",
        ErrorKind::BadStatusLine,
    );
}

#[test]
fn a_nul_in_a_header_is_an_http_exception() {
    head_rejected(
        b"HTTP/1.1 200 OK\r\nX-A: a\x00b\r\nContent-Length: 0\r\n\r\n",
        ErrorKind::HttpException,
    );
}

#[test]
fn a_bare_cr_in_a_header_is_an_http_exception() {
    // A bare CR could hide a second field from one parser and show it to another.
    head_rejected(
        b"HTTP/1.1 200 OK\r\nX-A: a\rContent-Length: 4\r\nContent-Length: 0\r\n\r\n",
        ErrorKind::HttpException,
    );
}

#[test]
fn white_space_before_a_header_colon_is_an_http_exception() {
    head_rejected(
        b"HTTP/1.1 200 OK\r\nContent-Length : 4\r\n\r\nevil",
        ErrorKind::HttpException,
    );
}

#[test]
fn a_bare_lf_ends_a_line_in_the_status_line_and_headers() {
    // LF-only line endings are accepted: a bare LF is a line end, nothing more, and the
    // head parsed this way frames the body exactly.
    let first = b"HTTP/1.1 200 OK\nX-A: a\nX-B: b\r\nContent-Length: 2\n\nok";
    let srv = ScriptedServer::reply_each(vec![first.to_vec(), REAL.to_vec()]);
    let mut c = conn(&srv);
    let mut r = get(&mut c).unwrap();
    assert_eq!(r.reason(), b"OK");
    assert_eq!(r.getheader(b"x-a").unwrap().to_bytes(), b"a");
    assert_eq!(r.getheader(b"x-b").unwrap().to_bytes(), b"b");
    assert_eq!(body_ok(&mut r), b"ok");
    let mut r = get(&mut c).unwrap();
    assert_eq!(body_ok(&mut r), b"real");
    assert_eq!(srv.connections(), 1);
}

// ----- slow servers, timeout and deadline -----

/// A server that answers with `reply`, one byte every `gap`, until done or the client leaves.
fn trickle(reply: &'static [u8], gap: Duration) -> ScriptedServer {
    ScriptedServer::start(move |conn, _| {
        let _ = conn.read_request();
        for b in reply {
            if conn.write_all(&[*b]).is_err() {
                return;
            }
            thread::sleep(gap);
        }
    })
}

const SLOW_REPLY: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 40\r\n\r\n\
    0123456789012345678901234567890123456789";

#[test]
fn a_server_sending_one_byte_per_second_trips_the_read_timeout() {
    let srv = trickle(SLOW_REPLY, Duration::from_secs(1));
    let mut c = Connection::new("127.0.0.1", srv.port()).unwrap();
    c.set_timeout(0.5).unwrap();
    let e = err(get(&mut c));
    assert_eq!(e.kind(), ErrorKind::Timeout, "{e}");
}

#[test]
fn the_deadline_stops_a_server_trickling_the_head_within_the_timeout() {
    // 100 ms between bytes never trips a 2 s read timeout; the head alone would take 4 s.
    let srv = trickle(SLOW_REPLY, Duration::from_millis(100));
    let mut c = Connection::new("127.0.0.1", srv.port()).unwrap();
    c.set_timeout(2.0).unwrap();
    c.set_deadline(0.8).unwrap();
    let e = err(get(&mut c));
    assert_eq!(e.kind(), ErrorKind::Timeout, "{e}");
    assert!(e.message().contains("deadline"), "{e}");
}

#[test]
fn the_deadline_stops_a_server_trickling_the_body() {
    let srv = ScriptedServer::start(|conn, _| {
        let _ = conn.read_request();
        let _ = conn.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n");
        for _ in 0..100 {
            if conn.write_all(b"x").is_err() {
                return;
            }
            thread::sleep(Duration::from_millis(100));
        }
    });
    let mut c = Connection::new("127.0.0.1", srv.port()).unwrap();
    c.set_timeout(2.0).unwrap();
    c.set_deadline(0.8).unwrap();
    let mut r = get(&mut c).unwrap();
    let (b, res) = read_all(&mut r);
    let e = res.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Timeout, "{e}");
    assert!(e.message().contains("deadline"), "{e}");
    assert!(!b.is_empty() && b.len() < 100, "{} bytes", b.len());
    assert!(r.isclosed());
}

#[test]
fn the_deadline_counts_per_request_and_ends_with_the_body() {
    let srv = ScriptedServer::reply_each(vec![REAL.to_vec(), REAL.to_vec()]);
    let mut c = conn(&srv);
    c.set_deadline(1.0).unwrap();
    let mut r = get(&mut c).unwrap();
    assert_eq!(body_ok(&mut r), b"real");
    // Idle time between requests is no request's: the next one gets its own deadline.
    thread::sleep(Duration::from_millis(1200));
    let mut r = get(&mut c).unwrap();
    assert_eq!(body_ok(&mut r), b"real");
    assert_eq!(srv.connections(), 1);
}

#[test]
fn a_nan_deadline_is_an_invalid_argument() {
    let mut c = Connection::new("127.0.0.1", 80).unwrap();
    assert_eq!(
        c.set_deadline(f64::NAN).unwrap_err().kind(),
        ErrorKind::InvalidArgument
    );
    assert_eq!(
        c.set_deadline(1e300).unwrap_err().kind(),
        ErrorKind::InvalidArgument
    );
    c.set_deadline(0.0).unwrap();
    c.set_deadline(-1.0).unwrap();
}

#[test]
fn the_deadline_bounds_writing_a_request_to_a_server_that_does_not_read() {
    let srv = ScriptedServer::start(|_conn, _| thread::sleep(Duration::from_secs(3)));
    let mut c = Connection::new("127.0.0.1", srv.port()).unwrap();
    c.set_timeout(10.0).unwrap();
    c.set_deadline(0.5).unwrap();
    // Far more than the socket buffers hold: the write blocks until the deadline.
    let body = vec![b'x'; 64 << 20];
    let e = c.request(b"POST", b"/", Some(&body), &[]).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Timeout, "{e}");
    assert!(e.message().contains("deadline"), "{e}");
}
