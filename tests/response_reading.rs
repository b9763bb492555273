//! Response extras: readline, trailers after a chunked body, bytes_read.

mod common;

use common::scripted::ScriptedServer;
use httpclient::{Connection, Response};

fn respond(reply: &[u8]) -> (Response, ScriptedServer) {
    let srv = ScriptedServer::reply_each(vec![reply.to_vec()]);
    let mut c = Connection::new("127.0.0.1", srv.port()).unwrap();
    c.set_timeout(10.0).unwrap();
    c.request(b"GET", b"/", None, &[]).unwrap();
    (c.getresponse().unwrap(), srv)
}

fn lines(r: &mut Response, cap: usize) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut buf = vec![0u8; cap];
    for _ in 0..1000 {
        let n = r.readline(&mut buf).unwrap();
        if n == 0 {
            return out;
        }
        out.push(buf[..n].to_vec());
    }
    panic!("readline never ended");
}

#[test]
fn readline_splits_a_chunked_body_at_newlines_across_chunks() {
    let (mut r, _s) = respond(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\
          4\r\nda\nt\r\n6\r\na: 1\n\n\r\n5\r\nlast!\r\n0\r\n\r\n",
    );
    assert_eq!(
        lines(&mut r, 64),
        vec![
            b"da\n".to_vec(),
            b"ta: 1\n".to_vec(),
            b"\n".to_vec(),
            b"last!".to_vec()
        ]
    );
    assert!(r.isclosed());
}

#[test]
fn readline_stops_at_the_limit() {
    let (mut r, _s) = respond(b"HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\nabcdefg\nxy\n");
    assert_eq!(
        lines(&mut r, 3),
        vec![
            b"abc".to_vec(),
            b"def".to_vec(),
            b"g\n".to_vec(),
            b"xy\n".to_vec()
        ]
    );
}

#[test]
fn readline_never_reads_past_the_line_so_reads_can_follow() {
    let (mut r, _s) = respond(b"HTTP/1.0 200 OK\r\n\r\nevent: a\ndata: 1\n\nrest of the body");
    let mut buf = [0u8; 100];
    let n = r.readline(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"event: a\n");
    assert_eq!(r.bytes_read(), 9);
    let n = r.readline(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"data: 1\n");
    let mut rest = Vec::new();
    r.read_to_end(&mut rest).unwrap();
    assert_eq!(rest, b"\nrest of the body");
    assert_eq!(r.bytes_read(), 34);
}

#[test]
fn trailers_are_readable_once_the_chunked_body_ended() {
    let (mut r, _s) = respond(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\
          3\r\nabc\r\n0\r\nX-Checksum: 42\r\nX-Other: a b\r\n\r\n",
    );
    assert_eq!(r.bytes_read(), 0);
    let mut body = Vec::new();
    r.read_to_end(&mut body).unwrap();
    assert_eq!(body, b"abc");
    assert_eq!(r.bytes_read(), 3);
    let t = r.trailers().expect("trailers");
    assert_eq!(t.len(), 2);
    assert_eq!(t.field(0), Some((&b"X-Checksum"[..], &b"42"[..])));
    assert_eq!(t.values(b"x-other").next(), Some(&b"a b"[..]));
    assert!(r.getheader(b"X-Checksum").is_none());
}
