//! hc_call: one request of the URL-level client, built step by step, then sent.

use std::ffi::{c_char, c_int, c_uint, c_void};
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::mem::ManuallyDrop;

use super::client::{client_ref, hc_client, spent};
use super::connection::{hc_read_callback, HC_READ_ABORT};
use super::response::{client_into_raw, hc_response};
use super::{arg_bytes, arg_slice, guard, handle_mut, hc_error, null_arg, out_write};
use crate::client::Call;
use crate::error::{Error, ErrorKind};

/// One request being built by hc_call_new and the hc_call_* setters, then sent by
/// hc_call_send. Opaque; single use; freed by hc_call_free, sent or not. Used by one thread
/// at a time. It keeps what it needs of its client: it may still be sent after hc_client_free
/// (its connection is then closed, not pooled, at the end).
pub struct hc_call {
    /// None once sent.
    inner: Option<Call>,
}

/// hc_call_add_header flag: the header is a secret, dropped once a redirect leaves the first
/// origin (as Authorization and Cookie are).
pub const HC_HEADER_SENSITIVE: c_uint = 1;
/// hc_call_set_auth: Basic authentication (the only scheme).
pub const HC_AUTH_BASIC: c_uint = 1;

/// Runs a builder's body on an unsent call.
fn with_call(
    func: &str,
    call: *mut hc_call,
    f: impl FnOnce(&mut Call) -> crate::Result<()>,
) -> hc_error {
    guard(|| {
        let c = unsafe { handle_mut(call, func, "call") }?;
        match c.inner.as_mut() {
            Some(inner) => f(inner),
            None => Err(spent(func)),
        }
    })
}

/// Starts a call of `method` on `url` with client `c`. `url` is `http://` or `https://`,
/// with a host; it is checked strictly: blanks, control characters and backslashes are
/// refused, not repaired. Non-ASCII in the path and query is sent percent-encoded (UTF-8); a
/// non-ASCII host name is converted to its IDNA A-label. Userinfo (`user:password@`,
/// percent-decoded) becomes preemptive Basic credentials for the first origin, unless
/// hc_call_set_auth gives others. The fragment is never sent. Both strings are copied.
///
/// On success `*out` receives a new call that the caller frees with hc_call_free (also after
/// hc_call_send); on failure `*out` is untouched.
///
/// Returns HC_OK; HC_ERR_INVALID_URL for a URL that does not parse, has another scheme, has
/// no host, or holds a blank, control character or backslash; HC_ERR_INVALID_ARGUMENT for a
/// NULL argument or a method that is not an HTTP token.
#[no_mangle]
pub extern "C" fn hc_call_new(
    c: *mut hc_client,
    method: *const c_char,
    url: *const c_char,
    out: *mut *mut hc_call,
) -> hc_error {
    const F: &str = "hc_call_new";
    guard(|| {
        let client = client_ref(c, F)?;
        if out.is_null() {
            return Err(null_arg(F, "out"));
        }
        let method = unsafe { arg_bytes(method, F, "method") }?;
        let url = unsafe { arg_bytes(url, F, "url") }?;
        let call = client.call_bytes(method, url)?;
        let raw = Box::into_raw(Box::new(hc_call { inner: Some(call) }));
        unsafe { out_write(out, raw) };
        Ok(())
    })
}

/// Adds a request header (both strings copied). `flags` may hold HC_HEADER_SENSITIVE: the
/// header is dropped once a redirect leaves the first origin. Whatever the flags,
/// Authorization, Cookie, Cookie2, Proxy-Authorization and Host set here are dropped then too
/// (a Host is regenerated). A Content-Length or Transfer-Encoding given here replaces the
/// automatic framing of the body. An Accept-Encoding given here turns automatic decoding off
/// for the call. The client adds `User-Agent: httpclient/VERSION` unless one is given.
///
/// Returns HC_OK; HC_ERR_IMPROPER_CONNECTION_STATE after hc_call_send;
/// HC_ERR_INVALID_ARGUMENT for a NULL argument, a name that is not a token, a value holding
/// CR, LF, NUL or another control character (tab is allowed), or an unknown flag.
#[no_mangle]
pub extern "C" fn hc_call_add_header(
    call: *mut hc_call,
    name: *const c_char,
    value: *const c_char,
    flags: c_uint,
) -> hc_error {
    const F: &str = "hc_call_add_header";
    with_call(F, call, |c| {
        let n = unsafe { arg_bytes(name, F, "name") }?;
        let v = unsafe { arg_bytes(value, F, "value") }?;
        c.add_header(n, v, flags)
    })
}

/// Sets the body to a copy of `len` bytes at `data` (`Content-Length: len`). Such a body is
/// replayable: a 307 or 308 redirect sends it again. `data` may be NULL when `len` is 0.
///
/// Returns HC_OK; HC_ERR_IMPROPER_CONNECTION_STATE after hc_call_send;
/// HC_ERR_INVALID_ARGUMENT for a NULL `call`, or a NULL `data` with a non-zero `len`.
#[no_mangle]
pub extern "C" fn hc_call_set_body(call: *mut hc_call, data: *const u8, len: usize) -> hc_error {
    const F: &str = "hc_call_set_body";
    with_call(F, call, |c| {
        let d = unsafe { arg_slice(data, len, F, "data") }?;
        c.set_body(d.to_vec())
    })
}

struct SendPtr(*mut c_void);
// SAFETY: the header says the callback and its userdata are used from the thread that calls
// hc_call_send; the call, and so this pointer, is used by one thread at a time.
unsafe impl Send for SendPtr {}

/// Sets a streamed body: `cb` is called with `userdata` during hc_call_send, as for
/// hc_request_stream, until it returns 0 (or HC_READ_ABORT to abort the call, giving
/// HC_ERR_ABORTED_BY_CALLBACK). With `len >= 0` exactly `len` bytes are sent with
/// `Content-Length`; with -1 the body is chunked. A streamed body is never sent twice: when a
/// redirect would need it again (307, 308, or 301/302 for a method other than POST) the 3xx is
/// returned, with hc_response_redirect_location giving its target. `userdata` must stay valid
/// until hc_call_send returns.
///
/// Returns HC_OK; HC_ERR_IMPROPER_CONNECTION_STATE after hc_call_send;
/// HC_ERR_INVALID_ARGUMENT for a NULL `call` or `cb`, or a `len` below -1.
#[no_mangle]
pub extern "C" fn hc_call_set_body_stream(
    call: *mut hc_call,
    cb: hc_read_callback,
    userdata: *mut c_void,
    len: i64,
) -> hc_error {
    const F: &str = "hc_call_set_body_stream";
    with_call(F, call, |c| {
        let Some(cb) = cb else {
            return Err(null_arg(F, "cb"));
        };
        let length = match len {
            -1 => None,
            n if n >= 0 => Some(n as u64),
            n => {
                return Err(Error::new(
                    ErrorKind::InvalidArgument,
                    format!("{F}: len must be -1 (chunked) or >= 0, not {n}"),
                ))
            }
        };
        let ud = SendPtr(userdata);
        let source = move |buf: &mut [u8]| -> std::io::Result<usize> {
            let ud = &ud;
            let cap = buf.len();
            // SAFETY: the caller's function, called as documented with `cap` writable bytes.
            let n = unsafe { cb(buf.as_mut_ptr(), cap, ud.0) };
            if n == HC_READ_ABORT {
                return Err(std::io::Error::other(Error::new(
                    ErrorKind::AbortedByCallback,
                    "hc_call_send: the read callback returned HC_READ_ABORT",
                )));
            }
            if n > cap {
                return Err(std::io::Error::other(Error::new(
                    ErrorKind::InvalidArgument,
                    format!(
                        "hc_call_send: the read callback returned {n}, more than the {cap} \
                         bytes asked"
                    ),
                )));
            }
            Ok(n)
        };
        c.set_body_stream(Box::new(source), length)
    })
}

/// The caller's descriptor, read without being closed.
struct BorrowedFile(ManuallyDrop<File>);

impl Read for BorrowedFile {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.0.read(buf)
    }
}

impl Seek for BorrowedFile {
    fn seek(&mut self, pos: SeekFrom) -> std::io::Result<u64> {
        self.0.seek(pos)
    }
}

/// Sets the body to the bytes of the open descriptor `fd`, from its current offset. A regular
/// file is sent with `Content-Length` (its size from that offset) and is replayable: it is
/// rewound to that offset for each redirect that keeps the body. A pipe or socket is streamed
/// chunked and never sent twice (as hc_call_set_body_stream). `fd` stays the caller's: it is
/// not closed, and must stay open until hc_call_send returns. On Windows `fd` is an msvcrt.dll
/// descriptor, as for hc_request_fd.
///
/// Returns HC_OK; HC_ERR_IMPROPER_CONNECTION_STATE after hc_call_send; HC_ERR_OS when fstat
/// fails (e.g. a closed descriptor); HC_ERR_INVALID_ARGUMENT for a NULL `call` or a negative
/// `fd`.
#[no_mangle]
pub extern "C" fn hc_call_set_body_fd(call: *mut hc_call, fd: c_int) -> hc_error {
    const F: &str = "hc_call_set_body_fd";
    with_call(F, call, |c| {
        if fd < 0 {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                format!("{F}: negative file descriptor {fd}"),
            ));
        }
        // SAFETY: the caller's descriptor, which the header says stays open until
        // hc_call_send returns; ManuallyDrop (in borrow_fd) keeps it open.
        let mut file = unsafe { super::sys::borrow_fd(fd) }
            .map_err(|e| Error::io(&format!("{F}: descriptor {fd}"), &e))?;
        let left = super::sys::bytes_left(&mut file)
            .map_err(|e| Error::io(&format!("{F}: fstat({fd})"), &e))?;
        let mut file = BorrowedFile(file);
        match left {
            Some(len) => c.set_body_rewindable(Box::new(file), len),
            None => {
                let source = move |buf: &mut [u8]| file.read(buf);
                c.set_body_stream(Box::new(source), None)
            }
        }
    })
}

/// Sets credentials sent preemptively, as `Authorization: Basic ...`, to the first origin only
/// (never after a redirect left it, unless HC_REDIRECT_KEEP_CREDENTIALS). They replace the
/// URL's userinfo; an Authorization header added by hc_call_add_header wins over both.
/// `methods` must be HC_AUTH_BASIC. Both strings are copied.
///
/// Returns HC_OK; HC_ERR_IMPROPER_CONNECTION_STATE after hc_call_send;
/// HC_ERR_INVALID_ARGUMENT for a NULL argument, a user name holding `:`, control characters,
/// or `methods` other than HC_AUTH_BASIC.
#[no_mangle]
pub extern "C" fn hc_call_set_auth(
    call: *mut hc_call,
    user: *const c_char,
    password: *const c_char,
    methods: c_uint,
) -> hc_error {
    const F: &str = "hc_call_set_auth";
    with_call(F, call, |c| {
        let u = unsafe { arg_bytes(user, F, "user") }?;
        let p = unsafe { arg_bytes(password, F, "password") }?;
        c.set_auth(u, p, methods)
    })
}

/// This call's redirect limit, instead of the client's (0: never follow).
///
/// Returns HC_OK; HC_ERR_IMPROPER_CONNECTION_STATE after hc_call_send;
/// HC_ERR_INVALID_ARGUMENT for a NULL `call` or a negative `max`.
#[no_mangle]
pub extern "C" fn hc_call_set_max_redirects(call: *mut hc_call, max: c_int) -> hc_error {
    with_call("hc_call_set_max_redirects", call, |c| {
        c.set_max_redirects(i64::from(max))
    })
}

/// This call's total timeout in seconds, instead of the client's; `<= 0`: none.
///
/// Returns HC_OK; HC_ERR_IMPROPER_CONNECTION_STATE after hc_call_send;
/// HC_ERR_INVALID_ARGUMENT for a NULL `call` or a NaN.
#[no_mangle]
pub extern "C" fn hc_call_set_total_timeout(call: *mut hc_call, s: f64) -> hc_error {
    with_call("hc_call_set_total_timeout", call, |c| {
        c.set_total_timeout(s)
    })
}

/// Sends the call and follows redirects as the client's options say (docs/client.md has the
/// rules), reusing a pooled connection when one fits. On success `*out` receives the final
/// response with its head read: read its body with hc_response_read (decoded when
/// hc_response_decoded says so) and free it with hc_response_free; read to its end, it gives
/// its connection back to the pool. The call is spent either way: free it with hc_call_free.
///
/// Returns HC_OK; HC_ERR_IMPROPER_CONNECTION_STATE when it was already sent;
/// HC_ERR_INVALID_ARGUMENT for a NULL argument; HC_ERR_TOO_MANY_REDIRECTS,
/// HC_ERR_REDIRECT_REFUSED (a Location with another scheme than http or https, or https to
/// http without HC_REDIRECT_ALLOW_DOWNGRADE), HC_ERR_BAD_LOCATION (a Location that does not
/// parse, or several differing ones); HC_ERR_PROXY (the proxy can't be reached, or its setting
/// is bad), HC_ERR_PROXY_AUTH_REQUIRED (407), HC_ERR_TUNNEL_FAILED (the proxy refused the
/// CONNECT); HC_ERR_TIMEOUT (a connect, a read or write, or the total timeout); the connect,
/// TLS and protocol errors of hc_request and hc_getresponse; HC_ERR_ABORTED_BY_CALLBACK and
/// HC_ERR_INCOMPLETE_READ from a streamed body; HC_ERR_TOO_MANY_ENCODINGS for a response with
/// more than 5 content codings.
#[no_mangle]
pub extern "C" fn hc_call_send(call: *mut hc_call, out: *mut *mut hc_response) -> hc_error {
    const F: &str = "hc_call_send";
    guard(|| {
        let c = unsafe { handle_mut(call, F, "call") }?;
        if out.is_null() {
            return Err(null_arg(F, "out"));
        }
        let inner = c.inner.take().ok_or_else(|| spent(F))?;
        let resp = inner.send()?;
        unsafe { out_write(out, client_into_raw(resp)) };
        Ok(())
    })
}

/// Frees a call, sent or not. NULL is a no-op.
#[no_mangle]
pub extern "C" fn hc_call_free(call: *mut hc_call) {
    super::guard_value((), || {
        if !call.is_null() {
            // SAFETY: made by hc_call_new, freed once (contract).
            drop(unsafe { Box::from_raw(call) });
        }
    })
}
