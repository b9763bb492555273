//! hc_response: status, headers and the body read in pieces.

use std::ffi::{c_char, c_int};

use super::{arg_bytes, guard, guard_value, handle_mut, handle_ref, hc_error, null_arg, out_write};
use crate::client::Response as ClientResponse;
use crate::error::{Error, ErrorKind};
use crate::response::head::Head;
use crate::response::Response;

/// A response (httplib's HTTPResponse). Opaque; got from hc_getresponse, or from hc_call_send,
/// hc_client_request or hc_get; freed by hc_response_free. It stays readable after its
/// connection or client handle was freed.
pub struct hc_response {
    /// Always Some while the handle is live; None only inside the per-thread spare below.
    inner: Option<Held>,
}

/// What a response handle holds: a connection-level response, or one from the URL-level
/// client (which may decode its body and gives its connection back to the pool).
// A connection-level response stays inline: the handle's allocation is reused per thread, so a
// warm keep-alive request allocates nothing (tests/no_alloc.rs); the larger client response is
// boxed so that it does not make every handle bigger.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Held {
    Plain(Response),
    Client(Box<ClientResponse>),
}

impl Held {
    /// The connection layer's response: status, headers and trailers as received.
    fn raw(&self) -> &Response {
        match self {
            Held::Plain(r) => r,
            Held::Client(c) => c.raw(),
        }
    }

    fn read_fill(&mut self, buf: &mut [u8]) -> (usize, crate::Result<()>) {
        match self {
            Held::Plain(r) => r.read_fill(buf),
            Held::Client(c) => c.read_fill(buf),
        }
    }

    fn read_to_end(&mut self, out: &mut Vec<u8>) -> crate::Result<()> {
        match self {
            Held::Plain(r) => r.read_to_end(out),
            Held::Client(c) => c.read_to_end(out),
        }
    }

    fn readline(&mut self, buf: &mut [u8]) -> crate::Result<usize> {
        match self {
            Held::Plain(r) => r.readline(buf),
            Held::Client(c) => c.readline(buf),
        }
    }

    fn bytes_read(&self) -> u64 {
        match self {
            Held::Plain(r) => r.bytes_read(),
            Held::Client(c) => c.bytes_read(),
        }
    }

    fn length(&self) -> Option<u64> {
        match self {
            Held::Plain(r) => r.length(),
            Held::Client(c) => c.length(),
        }
    }

    fn isclosed(&self) -> bool {
        match self {
            Held::Plain(r) => r.isclosed(),
            Held::Client(c) => c.isclosed(),
        }
    }

    fn client(&self) -> Option<&ClientResponse> {
        match self {
            Held::Plain(_) => None,
            Held::Client(c) => Some(c),
        }
    }
}

thread_local! {
    /// The allocation of the last response freed on this thread, reused by the next one so
    /// that a warm keep-alive request allocates nothing.
    static SPARE: std::cell::Cell<Option<Box<hc_response>>> = const { std::cell::Cell::new(None) };
}

pub(crate) fn into_raw(resp: Response) -> *mut hc_response {
    held_into_raw(Held::Plain(resp))
}

/// A new handle for a response of the URL-level client.
pub(crate) fn client_into_raw(resp: ClientResponse) -> *mut hc_response {
    held_into_raw(Held::Client(Box::new(resp)))
}

fn held_into_raw(held: Held) -> *mut hc_response {
    let boxed = match SPARE.try_with(|s| s.take()).ok().flatten() {
        Some(mut b) => {
            b.inner = Some(held);
            b
        }
        None => Box::new(hc_response { inner: Some(held) }),
    };
    Box::into_raw(boxed)
}

fn freed(func: &str) -> Error {
    Error::new(
        ErrorKind::InvalidArgument,
        format!("{func}: a freed response"),
    )
}

fn resp_ref<'a>(resp: *const hc_response, func: &str) -> crate::Result<&'a Response> {
    held_ref(resp, func).map(Held::raw)
}

fn held_ref<'a>(resp: *const hc_response, func: &str) -> crate::Result<&'a Held> {
    let r = unsafe { handle_ref(resp, func, "resp") }?;
    r.inner.as_ref().ok_or_else(|| freed(func))
}

fn resp_mut<'a>(resp: *mut hc_response, func: &str) -> crate::Result<&'a mut Held> {
    let r = unsafe { handle_mut(resp, func, "resp") }?;
    r.inner.as_mut().ok_or_else(|| freed(func))
}

/// The status code (200, 404, ...), or -1 for a NULL `resp`.
#[no_mangle]
pub extern "C" fn hc_response_status(resp: *const hc_response) -> c_int {
    guard_value(-1, || {
        resp_ref(resp, "hc_response_status").map_or(-1, |r| c_int::from(r.status()))
    })
}

/// The reason phrase as sent by the server ("" when it sent none; bytes 0x80-0xFF passed
/// through), valid until hc_response_free; NULL for a NULL `resp`.
#[no_mangle]
pub extern "C" fn hc_response_reason(resp: *const hc_response) -> *const c_char {
    guard_value(std::ptr::null(), || {
        resp_ref(resp, "hc_response_reason").map_or(std::ptr::null(), |r| r.reason_cstr().as_ptr())
    })
}

/// The HTTP version of the response: 10 for HTTP/1.0, 11 for HTTP/1.1, 9 for an HTTP/0.9
/// reply taken in lenient mode; -1 for a NULL `resp`.
#[no_mangle]
pub extern "C" fn hc_response_version(resp: *const hc_response) -> c_int {
    guard_value(-1, || {
        resp_ref(resp, "hc_response_version").map_or(-1, |r| c_int::from(r.version()))
    })
}

/// Reads the body (httplib's read(amt)): fills `buf` with up to `cap` bytes, fewer only when
/// the body ends first, and stores the count in `*n_read`. `HC_OK` with `*n_read == 0` means
/// the body has ended (and every later call says so again); `cap == 0` reads nothing. The
/// body is de-framed (Content-Length, chunked, or until close); HEAD, 1xx, 204 and 304
/// responses have none. A response from hc_client gives decoded bytes when
/// hc_response_decoded says so, and gives its connection back to the client's pool once read
/// to its end.
///
/// Returns HC_OK; HC_ERR_INVALID_ARGUMENT for a NULL `resp` or `n_read`, or a NULL `buf` with
/// a non-zero `cap`; HC_ERR_INCOMPLETE_READ when the body was cut short (`*n_read` still
/// holds the bytes placed in `buf`; the message says how many were read and expected);
/// HC_ERR_HTTP_EXCEPTION for a malformed chunked body; HC_ERR_NOT_CONNECTED when the
/// connection was closed by hc_connection_close; HC_ERR_TIMEOUT, HC_ERR_CONNECTION_RESET,
/// HC_ERR_OS and TLS errors; for a body decoded by hc_client, HC_ERR_CONTENT_DECODING
/// (corrupt, truncated, or followed by other bytes) and HC_ERR_DECODED_SIZE_EXCEEDED (over the
/// cap of hc_client_set_max_decoded_size). After an error the connection is closed and every later read
/// returns the same error.
///
/// Non-blocking mode (hc_connection_set_blocking): HC_OK with `*n_read > 0` as soon as some bytes
/// came (the buffer is not filled first), HC_ERR_WOULD_BLOCK with `*n_read == 0` when none came
/// yet (wait for hc_response_want on hc_response_fileno), HC_OK with 0 at the end
/// (docs/nonblocking.md).
#[no_mangle]
pub extern "C" fn hc_response_read(
    resp: *mut hc_response,
    buf: *mut u8,
    cap: usize,
    n_read: *mut usize,
) -> hc_error {
    const F: &str = "hc_response_read";
    guard(|| {
        let r = resp_mut(resp, F)?;
        if n_read.is_null() {
            return Err(null_arg(F, "n_read"));
        }
        if buf.is_null() && cap != 0 {
            return Err(null_arg(F, "buf"));
        }
        let out: &mut [u8] = if cap == 0 {
            &mut []
        } else {
            // SAFETY: the caller gives `cap` writable bytes at `buf`.
            unsafe { std::slice::from_raw_parts_mut(buf, cap) }
        };
        let (n, result) = r.read_fill(out);
        unsafe { out_write(n_read, n) };
        result
    })
}

/// Reads the rest of the body into a new buffer: `*out` receives it (NUL-terminated for
/// convenience; the NUL is not counted) and `*out_len` its length. The caller frees it with
/// hc_buffer_free(*out, *out_len).
///
/// Returns HC_OK; HC_ERR_INVALID_ARGUMENT for a NULL argument; the errors of
/// hc_response_read. On HC_ERR_INCOMPLETE_READ, `*out` and `*out_len` still receive the
/// partial body, which the caller frees; on other errors they are untouched.
///
/// Non-blocking mode: HC_ERR_WOULD_BLOCK (`*out`, `*out_len` untouched) keeps what was read so far
/// inside; repeat the call with the same `out` and `out_len` (docs/nonblocking.md). Until then
/// another read of `resp`, and every call on its connection except the getters, `_want`,
/// `_fileno`, `_timeout_ms`, close and free, is HC_ERR_IMPROPER_CONNECTION_STATE; freeing
/// `resp` gives the kept bytes up.
#[no_mangle]
pub extern "C" fn hc_response_read_all(
    resp: *mut hc_response,
    out: *mut *mut u8,
    out_len: *mut usize,
) -> hc_error {
    const F: &str = "hc_response_read_all";
    guard(|| {
        let r = resp_mut(resp, F)?;
        if out.is_null() {
            return Err(null_arg(F, "out"));
        }
        if out_len.is_null() {
            return Err(null_arg(F, "out_len"));
        }
        let mut body = Vec::new();
        let result = match r {
            Held::Plain(p) => p.read_to_end_keyed(&mut body, (out as usize, out_len as usize)),
            _ => r.read_to_end(&mut body),
        };
        if let Err(e) = &result {
            if e.kind() != ErrorKind::IncompleteRead {
                return result;
            }
        }
        let len = body.len();
        body.push(0);
        let ptr = Box::into_raw(body.into_boxed_slice()).cast::<u8>();
        unsafe {
            out_write(out, ptr);
            out_write(out_len, len);
        }
        result
    })
}

/// Frees a buffer from hc_response_read_all; `len` is the length it gave. NULL is a no-op.
#[no_mangle]
pub extern "C" fn hc_buffer_free(buf: *mut u8, len: usize) {
    guard_value((), || {
        if !buf.is_null() {
            // SAFETY: made by Box::into_raw of a boxed slice of len + 1 bytes in read_all.
            drop(unsafe { Box::from_raw(std::ptr::slice_from_raw_parts_mut(buf, len + 1)) });
        }
    })
}

/// The value of the header `name` (case-insensitive), repeated fields joined with ", ", or
/// NULL when absent (or for a NULL argument). Valid until hc_response_free.
#[no_mangle]
pub extern "C" fn hc_response_getheader(
    resp: *const hc_response,
    name: *const c_char,
) -> *const c_char {
    lookup(
        "hc_response_getheader",
        resp,
        name,
        |r: &Response, n: &[u8]| r.getheader(n),
    )
}

/// Looks `name` up with `find` for hc_response_getheader and hc_response_gettrailer: the
/// value's pointer, or NULL when absent or for a NULL argument.
fn lookup(
    func: &str,
    resp: *const hc_response,
    name: *const c_char,
    find: impl for<'r> Fn(&'r Response, &[u8]) -> Option<&'r std::ffi::CStr>,
) -> *const c_char {
    guard_value(std::ptr::null(), || {
        let Ok(r) = resp_ref(resp, func) else {
            return std::ptr::null();
        };
        let Ok(name) = (unsafe { arg_bytes(name, func, "name") }) else {
            return std::ptr::null();
        };
        find(r, name).map_or(std::ptr::null(), |v| v.as_ptr())
    })
}

/// The number of header fields (0 for a NULL `resp`).
#[no_mangle]
pub extern "C" fn hc_response_header_count(resp: *const hc_response) -> usize {
    guard_value(0, || {
        resp_ref(resp, "hc_response_header_count").map_or(0, |r| r.headers().len())
    })
}

/// The header field at `index` in wire order (httplib's getheaders()): `*name` and `*value`
/// receive strings valid until hc_response_free (an obsolete line fold is one space).
///
/// Returns HC_OK; HC_ERR_INVALID_ARGUMENT for a NULL argument or `index >=
/// hc_response_header_count(resp)`.
#[no_mangle]
pub extern "C" fn hc_response_header(
    resp: *const hc_response,
    index: usize,
    name: *mut *const c_char,
    value: *mut *const c_char,
) -> hc_error {
    field_at(
        "hc_response_header",
        resp,
        index,
        name,
        value,
        |r| Some(r.headers()),
        "fields",
    )
}

/// The field at `index` of the section `section` gives (headers or trailers) through the
/// out-pointers, for hc_response_header and hc_response_trailer.
fn field_at(
    func: &str,
    resp: *const hc_response,
    index: usize,
    name: *mut *const c_char,
    value: *mut *const c_char,
    section: fn(&Response) -> Option<&Head>,
    what: &str,
) -> hc_error {
    guard(|| {
        let r = resp_ref(resp, func)?;
        if name.is_null() {
            return Err(null_arg(func, "name"));
        }
        if value.is_null() {
            return Err(null_arg(func, "value"));
        }
        let fields = section(r);
        let count = fields.map_or(0, |f| f.len());
        let (n, v) = fields.and_then(|f| f.field_cstr(index)).ok_or_else(|| {
            Error::new(
                ErrorKind::InvalidArgument,
                format!("{func}: index {index} out of range ({count} {what})"),
            )
        })?;
        unsafe {
            out_write(name, n.as_ptr());
            out_write(value, v.as_ptr());
        }
        Ok(())
    })
}

/// The body bytes still to come when known (from Content-Length; 0 once the body ended and
/// for a response without body), else -1 (chunked, until close, a body being decoded by
/// hc_client, or a NULL `resp`).
#[no_mangle]
pub extern "C" fn hc_response_length(resp: *const hc_response) -> i64 {
    guard_value(-1, || {
        held_ref(resp, "hc_response_length")
            .ok()
            .and_then(|r| r.length())
            .and_then(|n| i64::try_from(n).ok())
            .unwrap_or(-1)
    })
}

/// True once the body was read to its end (or failed); true for a NULL `resp`.
#[no_mangle]
pub extern "C" fn hc_response_isclosed(resp: *const hc_response) -> bool {
    guard_value(true, || {
        held_ref(resp, "hc_response_isclosed").map_or(true, |r| r.isclosed())
    })
}

/// Frees a response. NULL is a no-op. Freeing it before its body ended closes the
/// connection underneath (the next request on that connection opens a new one).
#[no_mangle]
pub extern "C" fn hc_response_free(resp: *mut hc_response) {
    guard_value((), || {
        if !resp.is_null() {
            // SAFETY: made by into_raw, freed once (contract).
            let mut boxed = unsafe { Box::from_raw(resp) };
            drop(boxed.inner.take());
            let _ = SPARE.try_with(|s| s.set(Some(boxed)));
        }
    })
}

/// Reads one line of the body (httplib's readline(limit)): up to and including the next
/// `\n`, at most `cap` bytes, into `buf`, and stores the count in `*n_read`. The line is not
/// NUL-terminated. Fewer bytes without a `\n` at the end mean either that `cap` was reached
/// (`*n_read == cap`) or that the body ended; `*n_read == 0` (with `cap > 0`) means the body
/// has ended. Never reads past the line, so hc_response_read and hc_response_readline may
/// be mixed (e.g. for server-sent events).
///
/// Returns HC_OK; HC_ERR_INVALID_ARGUMENT for a NULL `resp` or `n_read`, or a NULL `buf` with
/// a non-zero `cap`; the errors of hc_response_read (on an error `*n_read` holds the bytes
/// placed in `buf` before it).
///
/// Non-blocking mode: HC_ERR_WOULD_BLOCK with `*n_read == 0` keeps the part of the line read so
/// far inside; repeat the call with the same `buf` and `cap`, which gets it first; another read in
/// between, and every call on its connection except the getters, `_want`, `_fileno`,
/// `_timeout_ms`, close and free, is HC_ERR_IMPROPER_CONNECTION_STATE (docs/nonblocking.md);
/// freeing `resp` gives the kept part up. A WOULD_BLOCK with nothing read keeps nothing and
/// binds nothing.
#[no_mangle]
pub extern "C" fn hc_response_readline(
    resp: *mut hc_response,
    buf: *mut u8,
    cap: usize,
    n_read: *mut usize,
) -> hc_error {
    const F: &str = "hc_response_readline";
    guard(|| {
        let r = resp_mut(resp, F)?;
        if n_read.is_null() {
            return Err(null_arg(F, "n_read"));
        }
        if cap == 0 {
            unsafe { out_write(n_read, 0) };
            return Ok(());
        }
        if buf.is_null() {
            return Err(null_arg(F, "buf"));
        }
        // SAFETY: the caller gives `cap` writable bytes at `buf`.
        let out = unsafe { std::slice::from_raw_parts_mut(buf, cap) };
        if let Held::Plain(p) = r {
            let (n, result) = p.readline_counted(out);
            unsafe { out_write(n_read, n) };
            return result;
        }
        let before = r.bytes_read();
        match r.readline(out) {
            Ok(n) => {
                unsafe { out_write(n_read, n) };
                Ok(())
            }
            Err(e) => {
                let n = (r.bytes_read() - before) as usize;
                unsafe { out_write(n_read, n) };
                Err(e)
            }
        }
    })
}

/// After a read of `resp` (hc_response_read, hc_response_readline, hc_response_read_all)
/// returned HC_ERR_WOULD_BLOCK in non-blocking mode: what it waits for, HC_WANT_READ,
/// HC_WANT_WRITE (TLS) or both; 0 after any other outcome. `resp` is borrowed for the call.
///
/// Returns the bits, or -1 for a NULL `resp` (with HC_ERR_INVALID_ARGUMENT recorded for
/// hc_last_error_message).
#[no_mangle]
pub extern "C" fn hc_response_want(resp: *const hc_response) -> c_int {
    guard_value(-1, || match held_ref(resp, "hc_response_want") {
        Ok(Held::Plain(r)) => c_int::from(r.want()),
        Ok(Held::Client(c)) => c_int::from(c.raw().want()),
        Err(e) => {
            super::fail(e);
            -1
        }
    })
}

/// The descriptor the body of `resp` is read from (the socket of its connection), for
/// poll(), epoll or select() with hc_response_want; -1 once the body ended (or failed, or the
/// response was closed), and for a NULL `resp` (which also records HC_ERR_INVALID_ARGUMENT).
/// The descriptor stays owned by the library: do not close it or read from it. On Windows it
/// is a `SOCKET`, as for hc_connection_fileno. `resp` is borrowed for the call.
#[no_mangle]
pub extern "C" fn hc_response_fileno(resp: *const hc_response) -> c_int {
    guard_value(-1, || match held_ref(resp, "hc_response_fileno") {
        Ok(h) => h.raw().fileno().unwrap_or(-1),
        Err(e) => {
            super::fail(e);
            -1
        }
    })
}

/// The number of body bytes delivered so far (after de-framing: chunk sizes and trailers not
/// counted); 0 for a NULL `resp`.
#[no_mangle]
pub extern "C" fn hc_response_bytes_read(resp: *const hc_response) -> u64 {
    guard_value(0, || {
        held_ref(resp, "hc_response_bytes_read").map_or(0, |r| r.bytes_read())
    })
}

/// The number of trailer fields of a chunked body; 0 until the body has been read to its
/// end, for a body that is not chunked or has no trailers, and for a NULL `resp`.
#[no_mangle]
pub extern "C" fn hc_response_trailer_count(resp: *const hc_response) -> usize {
    guard_value(0, || {
        resp_ref(resp, "hc_response_trailer_count")
            .ok()
            .and_then(|r| r.trailers())
            .map_or(0, |t| t.len())
    })
}

/// The trailer field at `index` in wire order: `*name` and `*value` receive strings valid
/// until hc_response_free. Trailers never change the headers.
///
/// Returns HC_OK; HC_ERR_INVALID_ARGUMENT for a NULL argument or `index >=
/// hc_response_trailer_count(resp)` (also before the body ended).
#[no_mangle]
pub extern "C" fn hc_response_trailer(
    resp: *const hc_response,
    index: usize,
    name: *mut *const c_char,
    value: *mut *const c_char,
) -> hc_error {
    field_at(
        "hc_response_trailer",
        resp,
        index,
        name,
        value,
        Response::trailers,
        "trailer fields",
    )
}

/// The value of the trailer field `name` (case-insensitive; the first when repeated), or
/// NULL when absent, before the body ended, or for a NULL argument. Valid until
/// hc_response_free.
#[no_mangle]
pub extern "C" fn hc_response_gettrailer(
    resp: *const hc_response,
    name: *const c_char,
) -> *const c_char {
    lookup(
        "hc_response_gettrailer",
        resp,
        name,
        |r: &Response, n: &[u8]| {
            let t = r.trailers()?;
            let (i, _) = t.find(n)?;
            t.field_cstr(i).map(|(_, v)| v)
        },
    )
}

/// The final URL of a response from hc_client (after redirects; userinfo removed; the
/// fragment kept), valid until hc_response_free; NULL for a response from hc_getresponse and
/// for a NULL `resp`.
#[no_mangle]
pub extern "C" fn hc_response_url(resp: *const hc_response) -> *const c_char {
    guard_value(std::ptr::null(), || {
        held_ref(resp, "hc_response_url")
            .ok()
            .and_then(Held::client)
            .map_or(std::ptr::null(), |c| c.url_cstr().as_ptr())
    })
}

/// How many redirects hc_client followed to get this response; 0 for a response from
/// hc_getresponse; -1 for a NULL `resp`.
#[no_mangle]
pub extern "C" fn hc_response_redirect_count(resp: *const hc_response) -> c_int {
    guard_value(-1, || match held_ref(resp, "hc_response_redirect_count") {
        Ok(h) => h.client().map_or(0, |c| {
            c_int::try_from(c.redirect_count()).unwrap_or(c_int::MAX)
        }),
        Err(_) => -1,
    })
}

/// The resolved target of a 3xx response that hc_client returned instead of following (the
/// redirect limit is 0, the status is not one that is followed, or a streamed body would have
/// had to be sent again), valid until hc_response_free; NULL when there is none (no Location,
/// one that does not resolve, several differing ones), for a response from hc_getresponse and
/// for a NULL `resp`. It may have any scheme: check it before following it by hand.
#[no_mangle]
pub extern "C" fn hc_response_redirect_location(resp: *const hc_response) -> *const c_char {
    guard_value(std::ptr::null(), || {
        held_ref(resp, "hc_response_redirect_location")
            .ok()
            .and_then(Held::client)
            .and_then(|c| c.redirect_location_cstr())
            .map_or(std::ptr::null(), |l| l.as_ptr())
    })
}

/// True when hc_client decodes this response's body (its Content-Encoding is a chain of
/// codings hc_client offered): hc_response_read then gives decoded bytes,
/// hc_response_length is -1 and hc_response_getheader still shows Content-Encoding as
/// received. False for a body passed raw, a response from hc_getresponse, and a NULL `resp`.
#[no_mangle]
pub extern "C" fn hc_response_decoded(resp: *const hc_response) -> bool {
    guard_value(false, || {
        held_ref(resp, "hc_response_decoded")
            .ok()
            .and_then(Held::client)
            .is_some_and(ClientResponse::decoded)
    })
}
