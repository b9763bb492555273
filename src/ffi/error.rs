//! Error codes, their hierarchy and the per-thread last-error message.

use std::ffi::{c_char, c_int};

use super::{guard_value, with_last_error};
use crate::error::ErrorKind;

// The C enum `hc_error_code` (HC_OK and every HC_ERR_*) is written into the header by build.rs
// from the one table of codes, src/error_codes.rs, which also makes `ErrorKind`.

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
/// HC_ERR_INVALID_ARGUMENT, HC_ERR_INTERNAL, HC_ERR_ABORTED_BY_CALLBACK, HC_ERR_REDIRECT), for
/// HC_OK and for an unknown code.
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
