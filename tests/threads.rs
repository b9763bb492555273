//! Threads: 32 threads, each with its own connection, 2,000 requests each
//! against nginx on loopback, every answer checked byte for byte; and the per-thread
//! last-error message never bleeds from one thread into another.

mod common;

use std::ffi::{CStr, CString};
use std::sync::{Arc, Barrier};
use std::thread;

use httpclient::ffi::connection::{hc_connection, hc_connection_free, hc_connection_new};
use httpclient::ffi::error::hc_last_error_message;
use httpclient::Connection;

const THREADS: usize = 32;
const REQUESTS: usize = 2_000;

#[test]
fn thirty_two_threads_two_thousand_requests_each_against_nginx() {
    let s = common::servers();
    let small = Arc::new(s.docroot_file("small.txt"));
    let index = Arc::new(s.docroot_file("index.html"));
    let port = s.http_port;
    let start = Arc::new(Barrier::new(THREADS));
    let handles: Vec<_> = (0..THREADS)
        .map(|t| {
            let (small, index, start) = (small.clone(), index.clone(), start.clone());
            thread::spawn(move || {
                let mut conn = Connection::new("127.0.0.1", port).unwrap();
                start.wait();
                let mut buf = vec![0u8; 4096];
                for i in 0..REQUESTS {
                    // Alternate bodies and echo a per-thread marker so that any mix-up of
                    // responses between threads or requests shows.
                    let (path, expected): (String, Vec<u8>) = match i % 3 {
                        0 => ("/small.txt".into(), small.to_vec()),
                        1 => ("/index.html".into(), index.to_vec()),
                        _ => {
                            let marker = format!("t{t}-r{i}");
                            let host = format!("127.0.0.1:{port}");
                            let body = format!("{host}|identity|{marker}").into_bytes();
                            conn.request(
                                b"GET",
                                b"/headers",
                                None,
                                &[(b"X-Test", marker.as_bytes())],
                            )
                            .unwrap();
                            let mut resp = conn.getresponse().unwrap();
                            let (n, r) = resp.read_fill(&mut buf);
                            r.unwrap();
                            assert_eq!(&buf[..n], &body[..], "thread {t} request {i}");
                            continue;
                        }
                    };
                    conn.request(b"GET", path.as_bytes(), None, &[]).unwrap();
                    let mut resp = conn.getresponse().unwrap();
                    assert_eq!(resp.status(), 200);
                    let (n, r) = resp.read_fill(&mut buf);
                    r.unwrap();
                    assert_eq!(&buf[..n], &expected[..], "thread {t} request {i} {path}");
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
}

fn last_error() -> String {
    let mut buf = vec![0u8; 512];
    let n = hc_last_error_message(buf.as_mut_ptr().cast(), buf.len());
    assert!(n < buf.len());
    CStr::from_bytes_until_nul(&buf)
        .unwrap()
        .to_str()
        .unwrap()
        .to_string()
}

#[test]
fn last_error_messages_never_bleed_between_threads() {
    let start = Arc::new(Barrier::new(THREADS));
    let handles: Vec<_> = (0..THREADS)
        .map(|t| {
            let start = start.clone();
            thread::spawn(move || {
                start.wait();
                for round in 0..200 {
                    // Each thread fails with a host that names it; the message must be its own.
                    let host = CString::new(format!("thread{t}-round{round}:notaport")).unwrap();
                    let mut out: *mut hc_connection = std::ptr::null_mut();
                    let code = hc_connection_new(host.as_ptr(), 0, &mut out);
                    assert_eq!(code, 3, "HC_ERR_INVALID_URL");
                    assert!(out.is_null(), "out untouched on failure");
                    let msg = last_error();
                    assert!(
                        msg.contains(&format!("thread{t}-round{round}:")),
                        "thread {t} round {round} read another thread's message: {msg}"
                    );
                    thread::yield_now();
                }
                hc_connection_free(std::ptr::null_mut());
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    // This thread failed nothing: its message is empty.
    assert_eq!(last_error(), "");
}
