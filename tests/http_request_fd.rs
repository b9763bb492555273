//! hc_request_fd (a body read from a file descriptor) through the C face, against a
//! scripted server: a regular file goes out with Content-Length from fstat (from the current
//! offset), a pipe goes out chunked; the exact bytes received are checked.

mod common;

use std::ffi::CString;
use std::io::{Seek, SeekFrom, Write};
use std::os::fd::AsRawFd;
use std::ptr;

use common::scripted::ScriptedServer;
use httpclient::ffi::connection::{
    hc_connection, hc_connection_free, hc_connection_new, hc_getresponse, hc_request_fd,
};
use httpclient::ffi::response::{
    hc_buffer_free, hc_response, hc_response_free, hc_response_read_all,
};

const OK_HI: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi";

struct Conn(*mut hc_connection);

impl Drop for Conn {
    fn drop(&mut self) {
        hc_connection_free(self.0);
    }
}

fn connect(srv: &ScriptedServer) -> Conn {
    let host = CString::new(srv.addr().to_string()).unwrap();
    let mut c = ptr::null_mut();
    assert_eq!(hc_connection_new(host.as_ptr(), 0, &mut c), 0);
    Conn(c)
}

/// Sends `method url` with the body from `fd`, reads the response; returns the request bytes
/// the server got.
fn send_fd(method: &str, url: &str, fd: i32) -> (Vec<u8>, u16) {
    let srv = ScriptedServer::reply_each(vec![OK_HI.to_vec()]);
    let c = connect(&srv);
    let m = CString::new(method).unwrap();
    let u = CString::new(url).unwrap();
    assert_eq!(
        hc_request_fd(c.0, m.as_ptr(), u.as_ptr(), fd, ptr::null(), 0),
        0
    );
    let mut r: *mut hc_response = ptr::null_mut();
    assert_eq!(hc_getresponse(c.0, &mut r), 0);
    let (mut buf, mut len) = (ptr::null_mut(), 0usize);
    assert_eq!(hc_response_read_all(r, &mut buf, &mut len), 0);
    // SAFETY: read_all gave `len` bytes at `buf`.
    assert_eq!(unsafe { std::slice::from_raw_parts(buf, len) }, b"hi");
    hc_buffer_free(buf, len);
    hc_response_free(r);
    drop(c);
    (srv.received_when_done(0), srv.port())
}

fn head(method: &str, url: &str, port: u16, framing: &str) -> Vec<u8> {
    format!("{method} {url} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAccept-Encoding: identity\r\n{framing}\r\n\r\n")
        .into_bytes()
}

fn temp_file(contents: &[u8]) -> std::fs::File {
    let path = std::env::temp_dir().join(format!(
        "hc-request-fd-{}-{}",
        std::process::id(),
        contents.len()
    ));
    let mut f = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(&path)
        .unwrap();
    std::fs::remove_file(&path).unwrap();
    f.write_all(contents).unwrap();
    f.seek(SeekFrom::Start(0)).unwrap();
    f
}

#[test]
fn regular_file_body_has_content_length_from_fstat() {
    let data: Vec<u8> = (0..300_000u32).map(|i| (i * 7 % 256) as u8).collect();
    let f = temp_file(&data);
    let (got, port) = send_fd("PUT", "/file", f.as_raw_fd());
    let mut want = head("PUT", "/file", port, "Content-Length: 300000");
    want.extend_from_slice(&data);
    assert_eq!(got.len(), want.len());
    assert!(got == want, "request bytes differ");
}

#[test]
fn regular_file_body_starts_at_the_current_offset() {
    let f = temp_file(b"0123456789abcdef");
    let mut f2 = f.try_clone().unwrap();
    f2.seek(SeekFrom::Start(10)).unwrap();
    let (got, port) = send_fd("POST", "/off", f.as_raw_fd());
    let mut want = head("POST", "/off", port, "Content-Length: 6");
    want.extend_from_slice(b"abcdef");
    assert_eq!(
        String::from_utf8_lossy(&got),
        String::from_utf8_lossy(&want)
    );
    // The descriptor is still the caller's: open, and read to its end.
    assert_eq!(f2.stream_position().unwrap(), 16);
}

#[test]
fn pipe_body_is_sent_chunked() {
    let mut fds = [0i32; 2];
    // SAFETY: a two-int array for pipe(2).
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    let writer = std::thread::spawn(move || {
        // SAFETY: the write end, owned by this thread from here on.
        let mut w = unsafe { <std::fs::File as std::os::fd::FromRawFd>::from_raw_fd(fds[1]) };
        w.write_all(b"hello ").unwrap();
        w.flush().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        w.write_all(b"pipe").unwrap();
    });
    // SAFETY: the read end, closed when `r` drops.
    let r = unsafe { <std::fs::File as std::os::fd::FromRawFd>::from_raw_fd(fds[0]) };
    let (got, port) = send_fd("POST", "/pipe", r.as_raw_fd());
    writer.join().unwrap();
    let got_s = String::from_utf8_lossy(&got).into_owned();
    let h = head("POST", "/pipe", port, "Transfer-Encoding: chunked");
    assert!(got.starts_with(&h), "{got_s}");
    // The chunks may be cut where the pipe delivered; de-chunk and check the pieces.
    let mut rest = &got[h.len()..];
    let mut body = Vec::new();
    loop {
        let nl = rest.windows(2).position(|w| w == b"\r\n").unwrap();
        let size = usize::from_str_radix(std::str::from_utf8(&rest[..nl]).unwrap(), 16).unwrap();
        rest = &rest[nl + 2..];
        if size == 0 {
            assert_eq!(rest, b"\r\n", "{got_s}");
            break;
        }
        body.extend_from_slice(&rest[..size]);
        assert_eq!(&rest[size..size + 2], b"\r\n");
        rest = &rest[size + 2..];
    }
    assert_eq!(body, b"hello pipe");
}

#[test]
fn empty_pipe_sends_only_the_last_chunk() {
    let mut fds = [0i32; 2];
    // SAFETY: a two-int array for pipe(2).
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    // SAFETY: closing the write end we own.
    unsafe { libc::close(fds[1]) };
    // SAFETY: the read end, closed when `r` drops.
    let r = unsafe { <std::fs::File as std::os::fd::FromRawFd>::from_raw_fd(fds[0]) };
    let (got, port) = send_fd("PUT", "/e", r.as_raw_fd());
    let mut want = head("PUT", "/e", port, "Transfer-Encoding: chunked");
    want.extend_from_slice(b"0\r\n\r\n");
    assert_eq!(
        String::from_utf8_lossy(&got),
        String::from_utf8_lossy(&want)
    );
}

#[test]
fn negative_fd_is_invalid_argument_and_sends_nothing() {
    let srv = ScriptedServer::reply_each(vec![OK_HI.to_vec()]);
    let c = connect(&srv);
    let rc = hc_request_fd(c.0, c"PUT".as_ptr(), c"/".as_ptr(), -1, ptr::null(), 0);
    assert_eq!(rc, 300);
    drop(c);
    assert_eq!(srv.connections(), 0);
}
