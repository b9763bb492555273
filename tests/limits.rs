//! Resource limits: thousands of connections and a hundred thousand requests
//! on one keep-alive connection leave file descriptors and memory flat.
//!
//! The figures are printed (run with `--nocapture` to see them); the assertions are on file
//! descriptors, which must come back exactly, and on memory growth with a generous bound that a
//! per-connection or per-request leak would break (10,000 x even a few hundred bytes).

mod common;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;

use httpclient::Connection;

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap()
}

fn get(conn: &mut Connection, path: &str) -> (u16, Vec<u8>) {
    conn.request(b"GET", path.as_bytes(), None, &[]).unwrap();
    let mut resp = conn.getresponse().unwrap();
    let mut body = Vec::new();
    resp.read_to_end(&mut body).unwrap();
    (resp.status(), body)
}

/// File descriptors and RSS are the whole process's: the tests of this file take turns so that
/// one's connections never show in another's counts.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// This test's turn: held from before anything it opens for itself.
fn turn() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner())
}

/// Runs `n` rounds of `round` after a warm-up, and checks fds and RSS around them.
fn flat(label: &str, n: usize, round: impl FnMut(usize)) {
    let _turn = turn();
    flat_in_turn(label, n, round);
}

/// [`flat`] for a test that holds its turn already.
fn flat_in_turn(label: &str, n: usize, mut round: impl FnMut(usize)) {
    for i in 0..50 {
        round(i);
    }
    let (fd0, rss0) = (open_fds(), rss_kib());
    for i in 0..n {
        round(i);
    }
    let (fd1, rss1) = (open_fds(), rss_kib());
    println!(
        "{label}: {n} rounds: fds {fd0} -> {fd1}, RSS {rss0} KiB -> {rss1} KiB ({:+} KiB)",
        rss1 as i64 - rss0 as i64
    );
    assert_eq!(fd0, fd1, "{label}: file descriptors leaked");
    assert!(
        rss1 < rss0 + 8 * 1024,
        "{label}: RSS grew by {} KiB over {n} rounds",
        rss1 - rss0
    );
}

#[test]
fn ten_thousand_http_connections_leave_fds_and_rss_flat() {
    let s = common::servers();
    let expected = s.docroot_file("small.txt");
    flat("HTTP connections", 10_000, |_| {
        let mut conn = Connection::new("127.0.0.1", s.http_port).unwrap();
        let (status, body) = get(&mut conn, "/small.txt");
        assert_eq!((status, &body), (200, &expected));
    });
}

#[test]
fn ten_thousand_https_connections_leave_fds_and_rss_flat() {
    let s = common::servers();
    let expected = s.docroot_file("small.txt");
    let ca = s.ca_file.to_str().unwrap().to_string();
    flat("HTTPS connections", 10_000, |_| {
        let mut conn = Connection::new_https("localhost", s.https_port).unwrap();
        conn.set_ca_file(&ca).unwrap();
        let (status, body) = get(&mut conn, "/small.txt");
        assert_eq!((status, &body), (200, &expected));
    });
}

#[test]
fn a_hundred_thousand_requests_on_one_keep_alive_connection() {
    // A minimal keep-alive server that records nothing (a recording server would grow the
    // process's RSS itself): it answers each request head and counts connections and requests.
    const REPLY: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";
    // The listener is a descriptor too: opened in this test's turn, or it shows in another's
    // count.
    let _turn = turn();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let conns = Arc::new(AtomicUsize::new(0));
    let requests = Arc::new(AtomicUsize::new(0));
    let (c2, r2) = (conns.clone(), requests.clone());
    thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { break };
            c2.fetch_add(1, Ordering::SeqCst);
            let r2 = r2.clone();
            thread::spawn(move || {
                let mut buf = [0u8; 4096];
                let mut pending = Vec::new();
                while let Ok(n) = stream.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    pending.extend_from_slice(&buf[..n]);
                    while let Some(i) = pending.windows(4).position(|w| w == b"\r\n\r\n") {
                        pending.drain(..i + 4);
                        r2.fetch_add(1, Ordering::SeqCst);
                        if stream.write_all(REPLY).is_err() {
                            return;
                        }
                    }
                }
            });
        }
    });
    let mut conn = Connection::new("127.0.0.1", port).unwrap();
    let mut buf = [0u8; 64];
    flat_in_turn("keep-alive requests", 100_000, |i| {
        let path = format!("/r{i}");
        conn.request(b"GET", path.as_bytes(), None, &[]).unwrap();
        let mut resp = conn.getresponse().unwrap();
        let (n, r) = resp.read_fill(&mut buf);
        r.unwrap();
        assert_eq!(&buf[..n], b"hello");
        assert!(resp.isclosed());
    });
    assert_eq!(
        conns.load(Ordering::SeqCst),
        1,
        "every request must reuse the one connection"
    );
    assert_eq!(requests.load(Ordering::SeqCst), 100_050);
}
