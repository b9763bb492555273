//! Error codes, their hierarchy and the per-thread last-error message.

use std::ffi::{c_char, c_int};

use super::{guard_value, with_last_error};
use crate::error::ErrorKind;

/// The values an `hc_error` takes. New codes may be appended; none is ever renumbered.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum hc_error_code {
    /// Success.
    HC_OK = 0,
    /// HTTPException: the root of the HTTP protocol errors.
    HC_ERR_HTTP_EXCEPTION = 1,
    /// NotConnected.
    HC_ERR_NOT_CONNECTED = 2,
    /// InvalidURL: a bad host, port or URL (control characters, space, `@`).
    HC_ERR_INVALID_URL = 3,
    /// UnknownProtocol: a status line with a version other than HTTP/1.x.
    HC_ERR_UNKNOWN_PROTOCOL = 4,
    /// UnknownTransferEncoding.
    HC_ERR_UNKNOWN_TRANSFER_ENCODING = 5,
    /// UnimplementedFileMode.
    HC_ERR_UNIMPLEMENTED_FILE_MODE = 6,
    /// IncompleteRead: the body ended before its announced end.
    HC_ERR_INCOMPLETE_READ = 7,
    /// ImproperConnectionState: the parent of the three state errors below.
    HC_ERR_IMPROPER_CONNECTION_STATE = 8,
    /// CannotSendRequest: a request is already being sent.
    HC_ERR_CANNOT_SEND_REQUEST = 9,
    /// CannotSendHeader: no request started, or its headers already ended.
    HC_ERR_CANNOT_SEND_HEADER = 10,
    /// ResponseNotReady: no request sent, or the previous response is unread.
    HC_ERR_RESPONSE_NOT_READY = 11,
    /// BadStatusLine: the reply does not start with a valid status line.
    HC_ERR_BAD_STATUS_LINE = 12,
    /// LineTooLong: a status or header line over 65536 bytes.
    HC_ERR_LINE_TOO_LONG = 13,
    /// RemoteDisconnected: the server closed before any status line (a BadStatusLine).
    HC_ERR_REMOTE_DISCONNECTED = 14,
    /// More than 100 header fields.
    HC_ERR_TOO_MANY_HEADERS = 15,
    /// OSError: a system call failed; the message keeps the errno.
    HC_ERR_OS = 100,
    /// A connect, read or write timed out.
    HC_ERR_TIMEOUT = 101,
    /// The connection was refused.
    HC_ERR_CONNECTION_REFUSED = 102,
    /// The connection was reset, or the pipe broke.
    HC_ERR_CONNECTION_RESET = 103,
    /// The host name could not be resolved.
    HC_ERR_HOST_NOT_FOUND = 104,
    /// A TLS error other than certificate verification.
    HC_ERR_TLS = 200,
    /// The server's certificate could not be verified (untrusted, expired, wrong host).
    HC_ERR_CERTIFICATE_VERIFY = 201,
    /// A bad argument: NULL, a bad header name or value, a bad option.
    HC_ERR_INVALID_ARGUMENT = 300,
    /// A bug inside httpclient (a caught panic).
    HC_ERR_INTERNAL = 900,
    /// The proxy refused to open a tunnel (hc_connection_set_tunnel): it answered the CONNECT
    /// with a non-2xx status, garbage, or nothing; the message holds its status line. A child
    /// of HC_ERR_PROXY (so still an HC_ERR_OS, as Python raises OSError("Tunnel connection
    /// failed: ...")).
    HC_ERR_TUNNEL_FAILED = 105,
    /// A callback of the caller asked to stop (a body source of hc_request_stream returned
    /// HC_READ_ABORT). A root: neither a protocol, an OS nor an argument error.
    HC_ERR_ABORTED_BY_CALLBACK = 400,
    /// ProxyError: the proxy can't be reached or spoken to, or its scheme is not supported
    /// (`https://` and `socks*://` proxies are refused). A child of HC_ERR_OS.
    HC_ERR_PROXY = 106,
    /// ProxyAuthRequired: the proxy answered 407 to a CONNECT or to an absolute-form request.
    /// A child of HC_ERR_PROXY.
    HC_ERR_PROXY_AUTH_REQUIRED = 107,
    /// RedirectError: the root of the redirect policy failures (hc_client).
    HC_ERR_REDIRECT = 500,
    /// TooManyRedirects: more redirects than the limit. A child of HC_ERR_REDIRECT.
    HC_ERR_TOO_MANY_REDIRECTS = 501,
    /// RedirectRefused: a redirect to a scheme other than http or https, or from https to
    /// http without HC_REDIRECT_ALLOW_DOWNGRADE. A child of HC_ERR_REDIRECT.
    HC_ERR_REDIRECT_REFUSED = 502,
    /// BadLocation: a Location that does not parse, or several differing Location fields.
    /// A child of HC_ERR_REDIRECT.
    HC_ERR_BAD_LOCATION = 503,
    /// ContentDecodingError: a corrupt, truncated or trailing-garbage content-coded body, or
    /// a zstd window over 8 MiB. A child of HC_ERR_HTTP_EXCEPTION.
    HC_ERR_CONTENT_DECODING = 510,
    /// TooManyEncodings: more than 5 content codings. A child of HC_ERR_CONTENT_DECODING.
    HC_ERR_TOO_MANY_ENCODINGS = 511,
    /// DecodedSizeExceeded: the decoded body is over the cap of
    /// hc_client_set_max_decoded_size. A child of HC_ERR_CONTENT_DECODING.
    HC_ERR_DECODED_SIZE_EXCEEDED = 512,
}

/// The Python exception name of `code` ("CannotSendRequest", "HTTPException", ...), "OK" for
/// HC_OK, "Unknown" for a code that is not one of `hc_error_code`.
///
/// Returns a static string (never freed, never NULL).
#[no_mangle]
pub extern "C" fn hc_error_name(code: c_int) -> *const c_char {
    guard_value(c"Unknown".as_ptr(), || match code {
        0 => c"OK".as_ptr(),
        _ => match ErrorKind::from_code(code) {
            Some(k) => k.name_cstr().as_ptr(),
            None => c"Unknown".as_ptr(),
        },
    })
}

/// A static one-line description of `code` ("timed out", ...); "success" for HC_OK and
/// "unknown error code" for a code that is not one of `hc_error_code`.
///
/// Returns a static string (never freed, never NULL).
#[no_mangle]
pub extern "C" fn hc_strerror(code: c_int) -> *const c_char {
    guard_value(c"unknown error code".as_ptr(), || match code {
        0 => c"success".as_ptr(),
        _ => match ErrorKind::from_code(code) {
            Some(k) => k.description_cstr().as_ptr(),
            None => c"unknown error code".as_ptr(),
        },
    })
}

/// The direct parent of `code` in the hierarchy (HC_ERR_CANNOT_SEND_REQUEST ->
/// HC_ERR_IMPROPER_CONNECTION_STATE); HC_OK for a root (HC_ERR_HTTP_EXCEPTION, HC_ERR_OS,
/// HC_ERR_INVALID_ARGUMENT, HC_ERR_INTERNAL, HC_ERR_ABORTED_BY_CALLBACK, HC_ERR_REDIRECT), for HC_OK and for an
/// unknown code.
#[no_mangle]
pub extern "C" fn hc_error_parent(code: c_int) -> c_int {
    guard_value(0, || {
        ErrorKind::from_code(code)
            .and_then(ErrorKind::parent)
            .map_or(0, ErrorKind::code)
    })
}

/// True if `code` is `ancestor` or descends from it: `hc_error_is(HC_ERR_CANNOT_SEND_REQUEST,
/// HC_ERR_HTTP_EXCEPTION)` is true, `hc_error_is(HC_ERR_TIMEOUT, HC_ERR_HTTP_EXCEPTION)` false.
/// `hc_error_is(x, x)` is true for every x, including HC_OK and unknown codes; otherwise an
/// unknown code descends from nothing.
#[no_mangle]
pub extern "C" fn hc_error_is(code: c_int, ancestor: c_int) -> bool {
    guard_value(false, || {
        if code == ancestor {
            return true;
        }
        match (ErrorKind::from_code(code), ErrorKind::from_code(ancestor)) {
            (Some(c), Some(a)) => c.is(a),
            _ => false,
        }
    })
}

/// Copies the calling thread's message for its last failure into `buf`, snprintf-style:
/// writes at most `cap - 1` bytes and a terminating NUL (nothing when `cap == 0` or `buf` is
/// NULL), and returns the message's full length in bytes, without the NUL. Returns 0 (and
/// writes an empty string when it can) if this thread has had no failure. A success does not
/// clear the message, as with errno.
///
/// The message starts with the error's name: "Timeout: read from 127.0.0.1:8080: timed out".
#[no_mangle]
pub extern "C" fn hc_last_error_message(buf: *mut c_char, cap: usize) -> usize {
    guard_value(0, || {
        with_last_error(|msg| {
            let msg = msg.unwrap_or("").as_bytes();
            if !buf.is_null() && cap > 0 {
                let n = msg.len().min(cap - 1);
                // SAFETY: the caller gives `cap` writable bytes at `buf`; we write n + 1 <= cap.
                unsafe {
                    std::ptr::copy_nonoverlapping(msg.as_ptr(), buf.cast::<u8>(), n);
                    *buf.add(n) = 0;
                }
            }
            msg.len()
        })
    })
}
