//! Status codes, ports, version and reason phrases.

#![allow(non_camel_case_types)]

use std::ffi::{c_char, c_int};

use super::guard_value;

/// The default port for HTTP.
pub const HC_HTTP_PORT: u16 = 80;
/// The default port for HTTPS.
pub const HC_HTTPS_PORT: u16 = 443;

/// In non-blocking mode, after HC_ERR_WOULD_BLOCK: the call waits for the descriptor to
/// become readable (a bit of what hc_connection_want and hc_response_want return).
pub const HC_WANT_READ: c_int = 1;
/// In non-blocking mode, after HC_ERR_WOULD_BLOCK: the call waits for the descriptor to
/// become writable (a bit of what hc_connection_want and hc_response_want return).
pub const HC_WANT_WRITE: c_int = 2;
// The C names of the core's bits (cbindgen needs literals above).
const _: () = assert!(
    HC_WANT_READ == crate::transport::WANT_READ as c_int
        && HC_WANT_WRITE == crate::transport::WANT_WRITE as c_int
);

/// HTTP status codes: every constant of Python 2.6 httplib's table with the same name and
/// value, followed by codes registered since (RFC 9110 and the IANA registry).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum hc_status {
    HC_STATUS_CONTINUE = 100,
    HC_STATUS_SWITCHING_PROTOCOLS = 101,
    HC_STATUS_PROCESSING = 102,
    HC_STATUS_OK = 200,
    HC_STATUS_CREATED = 201,
    HC_STATUS_ACCEPTED = 202,
    HC_STATUS_NON_AUTHORITATIVE_INFORMATION = 203,
    HC_STATUS_NO_CONTENT = 204,
    HC_STATUS_RESET_CONTENT = 205,
    HC_STATUS_PARTIAL_CONTENT = 206,
    HC_STATUS_MULTI_STATUS = 207,
    HC_STATUS_IM_USED = 226,
    HC_STATUS_MULTIPLE_CHOICES = 300,
    HC_STATUS_MOVED_PERMANENTLY = 301,
    HC_STATUS_FOUND = 302,
    HC_STATUS_SEE_OTHER = 303,
    HC_STATUS_NOT_MODIFIED = 304,
    HC_STATUS_USE_PROXY = 305,
    HC_STATUS_TEMPORARY_REDIRECT = 307,
    HC_STATUS_BAD_REQUEST = 400,
    HC_STATUS_UNAUTHORIZED = 401,
    HC_STATUS_PAYMENT_REQUIRED = 402,
    HC_STATUS_FORBIDDEN = 403,
    HC_STATUS_NOT_FOUND = 404,
    HC_STATUS_METHOD_NOT_ALLOWED = 405,
    HC_STATUS_NOT_ACCEPTABLE = 406,
    HC_STATUS_PROXY_AUTHENTICATION_REQUIRED = 407,
    HC_STATUS_REQUEST_TIMEOUT = 408,
    HC_STATUS_CONFLICT = 409,
    HC_STATUS_GONE = 410,
    HC_STATUS_LENGTH_REQUIRED = 411,
    HC_STATUS_PRECONDITION_FAILED = 412,
    HC_STATUS_REQUEST_ENTITY_TOO_LARGE = 413,
    HC_STATUS_REQUEST_URI_TOO_LONG = 414,
    HC_STATUS_UNSUPPORTED_MEDIA_TYPE = 415,
    HC_STATUS_REQUESTED_RANGE_NOT_SATISFIABLE = 416,
    HC_STATUS_EXPECTATION_FAILED = 417,
    HC_STATUS_UNPROCESSABLE_ENTITY = 422,
    HC_STATUS_LOCKED = 423,
    HC_STATUS_FAILED_DEPENDENCY = 424,
    HC_STATUS_UPGRADE_REQUIRED = 426,
    HC_STATUS_INTERNAL_SERVER_ERROR = 500,
    HC_STATUS_NOT_IMPLEMENTED = 501,
    HC_STATUS_BAD_GATEWAY = 502,
    HC_STATUS_SERVICE_UNAVAILABLE = 503,
    HC_STATUS_GATEWAY_TIMEOUT = 504,
    HC_STATUS_HTTP_VERSION_NOT_SUPPORTED = 505,
    HC_STATUS_INSUFFICIENT_STORAGE = 507,
    HC_STATUS_NOT_EXTENDED = 510,
    // Additions: registered after Python 2.6 (names as in Python 3's http.HTTPStatus).
    HC_STATUS_EARLY_HINTS = 103,
    HC_STATUS_ALREADY_REPORTED = 208,
    HC_STATUS_PERMANENT_REDIRECT = 308,
    HC_STATUS_MISDIRECTED_REQUEST = 421,
    HC_STATUS_TOO_EARLY = 425,
    HC_STATUS_PRECONDITION_REQUIRED = 428,
    HC_STATUS_TOO_MANY_REQUESTS = 429,
    HC_STATUS_REQUEST_HEADER_FIELDS_TOO_LARGE = 431,
    HC_STATUS_UNAVAILABLE_FOR_LEGAL_REASONS = 451,
    HC_STATUS_VARIANT_ALSO_NEGOTIATES = 506,
    HC_STATUS_LOOP_DETECTED = 508,
    HC_STATUS_NETWORK_AUTHENTICATION_REQUIRED = 511,
}

/// The reason phrase for `status`: Python 2.6 httplib's `responses` name for the codes it
/// listed ("Not Found", "Request-URI Too Long", "(Unused)" for 306), the registered RFC 9110
/// name for every other registered code ("Permanent Redirect", "Too Many Requests", ...).
///
/// Returns a static string (never freed), or NULL for an unknown or unregistered code.
#[no_mangle]
pub extern "C" fn hc_status_reason(status: c_int) -> *const c_char {
    guard_value(std::ptr::null(), || {
        match crate::status::reason_cstr(status) {
            Some(s) => s.as_ptr(),
            None => std::ptr::null(),
        }
    })
}

/// The library's version as "MAJOR.MINOR.PATCH" (the same as HTTPCLIENT_VERSION for a header
/// that matches the library). Returns a static string; never NULL.
#[no_mangle]
pub extern "C" fn hc_version() -> *const c_char {
    guard_value(c"?".as_ptr(), || {
        concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
    })
}
