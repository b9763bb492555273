//! No allocation per request on a warm keep-alive connection. A counting global
//! allocator watches this thread while the C face sends requests, reads responses and frees
//! them; once the connection is warm, the count must stay at zero.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::thread;

use httpclient::ffi::connection::{
    hc_connection, hc_connection_free, hc_connection_new, hc_getresponse, hc_header, hc_request,
};
use httpclient::ffi::response::{
    hc_response, hc_response_free, hc_response_getheader, hc_response_read, hc_response_status,
};

struct Counting;

thread_local! {
    static WATCHING: Cell<bool> = const { Cell::new(false) };
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if WATCHING.try_with(Cell::get).unwrap_or(false) {
            let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + 1));
        }
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if WATCHING.try_with(Cell::get).unwrap_or(false) {
            let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + 1));
        }
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static COUNTING: Counting = Counting;

const REPLY: &[u8] =
    b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\nServer: t\r\n\r\nhello";

#[test]
fn a_warm_keep_alive_request_allocates_nothing() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        let mut buf = [0u8; 4096];
        let mut pending = Vec::new();
        while let Ok(n) = s.read(&mut buf) {
            if n == 0 {
                break;
            }
            pending.extend_from_slice(&buf[..n]);
            while let Some(i) = pending.windows(4).position(|w| w == b"\r\n\r\n") {
                pending.drain(..i + 4);
                if s.write_all(REPLY).is_err() {
                    return;
                }
            }
        }
    });

    let host = std::ffi::CString::new(format!("127.0.0.1:{port}")).unwrap();
    let mut conn: *mut hc_connection = std::ptr::null_mut();
    assert_eq!(hc_connection_new(host.as_ptr(), 0, &mut conn), 0);
    let header = hc_header {
        name: c"X-Request".as_ptr(),
        value: c"1".as_ptr(),
    };
    let mut buf = [0u8; 256];
    let mut counted = 0;
    for i in 0..1_010 {
        if i == 10 {
            WATCHING.with(|w| w.set(true));
        }
        let rc = hc_request(
            conn,
            c"GET".as_ptr(),
            c"/".as_ptr(),
            std::ptr::null(),
            0,
            &header,
            1,
        );
        assert_eq!(rc, 0);
        let mut resp: *mut hc_response = std::ptr::null_mut();
        assert_eq!(hc_getresponse(conn, &mut resp), 0);
        assert_eq!(hc_response_status(resp), 200);
        assert!(!hc_response_getheader(resp, c"content-type".as_ptr()).is_null());
        let mut n = 0usize;
        assert_eq!(
            hc_response_read(resp, buf.as_mut_ptr(), buf.len(), &mut n),
            0
        );
        assert_eq!(&buf[..n], b"hello");
        hc_response_free(resp);
        if i >= 10 {
            counted += 1;
        }
    }
    WATCHING.with(|w| w.set(false));
    let allocations = ALLOCATIONS.with(Cell::get);
    hc_connection_free(conn);
    assert_eq!(
        allocations, 0,
        "{allocations} allocations over {counted} warm requests"
    );
}
