//! Interop with real servers on loopback (started by tests/servers/hcservers.py): nginx for
//! HTTP/1.1 (keep-alive, a large file in small and large reads, HEAD, 404, chunked gzip,
//! POST) and Python's http.server for HTTP/1.0 bodies that end at close.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};

use httpclient::debug::DebugKind;
use httpclient::{Connection, Response};
use openssl::sha::Sha256;

fn nginx() -> Connection {
    Connection::new("127.0.0.1", common::servers().http_port).unwrap()
}

fn get(c: &mut Connection, url: &str, headers: &[(&[u8], &[u8])]) -> Response {
    c.request(b"GET", url.as_bytes(), None, headers).unwrap();
    c.getresponse().unwrap()
}

fn body(r: &mut Response) -> Vec<u8> {
    let mut v = Vec::new();
    r.read_to_end(&mut v).unwrap();
    v
}

fn hex(d: [u8; 32]) -> String {
    d.iter().map(|b| format!("{b:02x}")).collect()
}

/// The local port of the connection's socket.
fn local_port(fd: i32) -> u16 {
    // SAFETY: zeroed sockaddr_storage is a valid out value for getsockname.
    let mut ss: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    let mut len = std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
    // SAFETY: a valid fd and a correctly sized out buffer.
    let rc = unsafe { libc::getsockname(fd, std::ptr::addr_of_mut!(ss).cast(), &mut len) };
    assert_eq!(rc, 0);
    // SAFETY: an AF_INET socket (we connect to 127.0.0.1) fills a sockaddr_in.
    let sin: libc::sockaddr_in = unsafe { std::ptr::read(std::ptr::addr_of!(ss).cast()) };
    u16::from_be(sin.sin_port)
}

#[test]
fn a_thousand_keep_alive_gets_use_one_connection() {
    let s = common::servers();
    let small = s.docroot_file("small.txt");
    let mut c = nginx();
    let connects = Arc::new(Mutex::new(0usize));
    let n = connects.clone();
    c.set_debug_callback(Some(Box::new(move |k, d| {
        if k == DebugKind::Text && d.starts_with(b"connected to") {
            *n.lock().unwrap() += 1;
        }
    })))
    .unwrap();
    c.connect().unwrap();
    let fd = c.fileno().unwrap();
    let port = local_port(fd);
    for i in 0..1000 {
        let mut r = get(&mut c, "/small.txt", &[]);
        assert_eq!(r.status(), 200, "request {i}");
        assert_eq!(body(&mut r), small, "request {i}");
        assert_eq!(c.fileno(), Some(fd), "request {i}");
    }
    assert_eq!(local_port(fd), port);
    assert_eq!(*connects.lock().unwrap(), 1);
}

#[test]
fn large_file_in_small_then_large_reads() {
    let s = common::servers();
    let mut c = nginx();
    let mut r = get(&mut c, "/large.bin", &[]);
    assert_eq!(r.length(), Some(s.large_size));
    let mut h = Sha256::new();
    let mut total = 0u64;
    let mut small = [0u8; 7];
    while total < 64 * 1024 {
        let (n, res) = r.read_fill(&mut small);
        res.unwrap();
        assert_eq!(n, 7, "a 7-byte read short before the end");
        h.update(&small[..n]);
        total += n as u64;
    }
    let mut big = vec![0u8; 1 << 20];
    loop {
        let (n, res) = r.read_fill(&mut big);
        res.unwrap();
        if n == 0 {
            break;
        }
        h.update(&big[..n]);
        total += n as u64;
    }
    assert_eq!(total, s.large_size);
    assert_eq!(hex(h.finish()), s.large_sha256);
    assert!(r.isclosed());
    // The connection carries another request.
    let mut r2 = get(&mut c, "/small.txt", &[]);
    assert_eq!(body(&mut r2), s.docroot_file("small.txt"));
}

#[test]
fn large_file_read_whole() {
    let s = common::servers();
    let mut c = nginx();
    let mut r = get(&mut c, "/large.bin", &[]);
    let b = body(&mut r);
    assert_eq!(b.len() as u64, s.large_size);
    assert_eq!(hex(openssl::sha::sha256(&b)), s.large_sha256);
}

#[test]
fn head_has_headers_and_no_body() {
    let s = common::servers();
    let mut c = nginx();
    c.request(b"HEAD", b"/large.bin", None, &[]).unwrap();
    let mut r = c.getresponse().unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.getheader(b"Content-Length").unwrap().to_str().unwrap(),
        s.large_size.to_string()
    );
    assert_eq!(body(&mut r), b"");
    let fd = c.fileno();
    let mut r2 = get(&mut c, "/small.txt", &[]);
    assert_eq!(body(&mut r2), s.docroot_file("small.txt"));
    assert_eq!(c.fileno(), fd);
}

#[test]
fn not_found_is_404_with_a_body() {
    let mut c = nginx();
    let mut r = get(&mut c, "/status/404", &[]);
    assert_eq!(r.status(), 404);
    assert_eq!(r.reason(), b"Not Found");
    let b = body(&mut r);
    assert!(String::from_utf8_lossy(&b).contains("404"), "{b:?}");
    let mut r = get(&mut c, "/no/such/file", &[]);
    assert_eq!(r.status(), 404);
    body(&mut r);
}

#[test]
fn chunked_gzip_response_dechunks_to_a_valid_gzip_stream() {
    let s = common::servers();
    let mut c = nginx();
    let mut r = get(&mut c, "/gzip/text.txt", &[(b"Accept-Encoding", b"gzip")]);
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.getheader(b"transfer-encoding").unwrap().to_bytes(),
        b"chunked"
    );
    assert_eq!(
        r.getheader(b"content-encoding").unwrap().to_bytes(),
        b"gzip"
    );
    assert_eq!(r.length(), None);
    let gz = body(&mut r);
    assert_eq!(&gz[..2], &[0x1f, 0x8b]);
    let mut child = Command::new("gzip")
        .arg("-dc")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("gzip");
    let mut stdin = child.stdin.take().unwrap();
    let feeder = std::thread::spawn(move || stdin.write_all(&gz).unwrap());
    let out = child.wait_with_output().unwrap();
    feeder.join().unwrap();
    assert!(out.status.success(), "gzip -dc failed: {out:?}");
    assert_eq!(out.stdout, s.docroot_file("gzip/text.txt"));
    // The chunked body ended cleanly: the connection is reused.
    let fd = c.fileno();
    assert!(fd.is_some());
    let mut r2 = get(&mut c, "/small.txt", &[]);
    assert_eq!(body(&mut r2), s.docroot_file("small.txt"));
    assert_eq!(c.fileno(), fd);
}

#[test]
fn post_to_echo_returns_the_body() {
    let mut c = nginx();
    let payload: Vec<u8> = (0..100_000u32).map(|i| (i % 253) as u8).collect();
    c.request(
        b"POST",
        b"/echo",
        Some(&payload),
        &[(b"Content-Type", b"application/octet-stream")],
    )
    .unwrap();
    let mut r = c.getresponse().unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(body(&mut r), payload);
    // An empty POST echoes nothing.
    c.request(b"POST", b"/echo", None, &[]).unwrap();
    let mut r = c.getresponse().unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(body(&mut r), b"");
}

#[test]
fn python_http10_body_is_read_until_close() {
    let s = common::servers();
    let mut c = Connection::new("127.0.0.1", s.py10_port).unwrap();
    for _ in 0..2 {
        let mut r = get(&mut c, "/small.txt", &[]);
        assert_eq!(r.version(), 10);
        assert_eq!(r.status(), 200);
        assert!(r.getheader(b"Content-Length").is_none());
        assert_eq!(r.length(), None);
        assert!(r.will_close());
        assert_eq!(body(&mut r), s.docroot_file("small.txt"));
        assert!(r.isclosed());
    }
    let mut r = get(&mut c, "/large.bin", &[]);
    let b = body(&mut r);
    assert_eq!(hex(openssl::sha::sha256(&b)), s.large_sha256);
}
