//! The C face of the library. Every `unsafe` line and every `extern "C"` function of the crate
//! lives under this module.
//!
//! Each exported function is short: it runs its body inside [`guard`] (or [`guard_value`] for
//! an infallible getter), which stops any panic at the boundary and turns it into
//! `HC_ERR_INTERNAL`, checks its pointers, converts its arguments, calls the safe core and
//! turns the outcome into a code, recording the message of a failure for the calling thread.
//! `tests/ffi_exports.rs` checks that every exported function is guarded this way.

#![allow(unsafe_code)]
#![allow(non_camel_case_types)]
// Exported functions take raw pointers from C by design; their contracts are in the header.
#![allow(clippy::not_unsafe_ptr_arg_deref)]

pub mod call;
pub mod client;
pub mod connection;
pub mod constants;
pub mod error;
pub(crate) mod park;
mod prefetch;
pub mod response;
pub(crate) mod simd;
mod sys;
pub(crate) mod tls_session;

use std::any::Any;
use std::cell::RefCell;
use std::ffi::{c_char, c_int, CStr};
use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::error::{Error, ErrorKind};

/// An error code: `HC_OK` (0) or one of the `HC_ERR_*` values of `hc_error_code`.
pub type hc_error = c_int;

thread_local! {
    static LAST_ERROR: RefCell<LastError> = const { RefCell::new(LastError::new()) };
}

/// The calling thread's last failure. The error is kept as it came (its kind and message) and
/// its text, `"{name}: {message}"`, is written only when someone reads it: an event loop gets
/// `HC_ERR_WOULD_BLOCK` for most calls it makes and rarely asks for the message.
struct LastError {
    error: Option<Error>,
    /// The text of `error`, once written (its storage is kept for the next one).
    text: String,
    /// `text` is the text of `error`.
    written: bool,
}

impl LastError {
    const fn new() -> LastError {
        LastError {
            error: None,
            text: String::new(),
            written: false,
        }
    }

    /// There is a last failure and its text is not written yet.
    fn needs_text(&self) -> bool {
        self.error.is_some() && !self.written
    }

    /// Writes the text of the last failure, if it was not yet.
    fn write_text(&mut self) {
        let Some(e) = self.error.as_ref().filter(|_| !self.written) else {
            return;
        };
        let (name, message) = (e.kind().name(), e.message());
        self.text.clear();
        self.text.reserve(name.len() + 2 + message.len());
        self.text.push_str(name);
        self.text.push_str(": ");
        self.text.push_str(message);
        self.written = true;
    }

    /// The text of the last failure, once written.
    fn text(&self) -> Option<&str> {
        self.error.as_ref().map(|_| self.text.as_str())
    }
}

/// Records `e` as the calling thread's last failure and returns its code.
pub(crate) fn fail(e: Error) -> hc_error {
    let code = e.kind().code();
    // A thread-local being torn down is not a reason to panic; the code still goes out.
    let _ = LAST_ERROR.try_with(|slot| {
        let mut last = slot.borrow_mut();
        let before = last.error.replace(e);
        last.written = false;
        drop(last);
        if let Some(before) = before {
            before.recycle();
        }
    });
    code
}

/// The calling thread's last failure message (`"{name}: {message}"`), if any.
pub(crate) fn with_last_error<R>(f: impl FnOnce(Option<&str>) -> R) -> R {
    let mut f = Some(f);
    LAST_ERROR
        .try_with(|slot| {
            // Written once; `f` runs with a shared borrow and may read the message again.
            if slot.borrow().needs_text() {
                slot.borrow_mut().write_text();
            }
            (f.take().unwrap())(slot.borrow().text())
        })
        .unwrap_or_else(|_| (f.take().unwrap())(None))
}

fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic payload".to_string()
    }
}

/// Runs the body of a fallible exported function: `Ok` becomes `HC_OK`, `Err` is recorded for
/// the thread and becomes its code, and a panic becomes `HC_ERR_INTERNAL` without unwinding
/// into C.
pub(crate) fn guard(body: impl FnOnce() -> Result<(), Error>) -> hc_error {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => 0,
        Ok(Err(e)) => fail(e),
        Err(payload) => fail(Error::new(
            ErrorKind::Internal,
            format!("panic inside httpclient: {}", panic_message(&*payload)),
        )),
    }
}

/// Runs the body of an infallible exported function (a getter); a panic gives `fallback` and
/// records `HC_ERR_INTERNAL` for the thread.
pub(crate) fn guard_value<T>(fallback: T, body: impl FnOnce() -> T) -> T {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(v) => v,
        Err(payload) => {
            fail(Error::new(
                ErrorKind::Internal,
                format!("panic inside httpclient: {}", panic_message(&*payload)),
            ));
            fallback
        }
    }
}

/// The error for a NULL pointer where one is required.
pub(crate) fn null_arg(func: &str, name: &str) -> Error {
    Error::new(
        ErrorKind::InvalidArgument,
        format!("{func}: `{name}` must not be NULL"),
    )
}

/// Borrows a required NUL-terminated string argument as bytes.
///
/// # Safety
/// `p` is NULL or points to a NUL-terminated string that outlives the returned slice.
pub(crate) unsafe fn arg_bytes<'a>(
    p: *const c_char,
    func: &str,
    name: &str,
) -> Result<&'a [u8], Error> {
    if p.is_null() {
        return Err(null_arg(func, name));
    }
    // SAFETY: the caller promises a NUL-terminated string (the C contract).
    Ok(unsafe { CStr::from_ptr(p) }.to_bytes())
}

/// Borrows a required NUL-terminated UTF-8 string argument.
///
/// # Safety
/// As [`arg_bytes`].
pub(crate) unsafe fn arg_str<'a>(
    p: *const c_char,
    func: &str,
    name: &str,
) -> Result<&'a str, Error> {
    let bytes = unsafe { arg_bytes(p, func, name) }?;
    std::str::from_utf8(bytes).map_err(|e| {
        Error::new(
            ErrorKind::InvalidArgument,
            format!("{func}: `{name}` is not valid UTF-8 ({e})"),
        )
    })
}

/// Borrows `(ptr, len)` as a byte slice; a NULL pointer is allowed only with `len == 0`.
///
/// # Safety
/// `p` is NULL or points to `len` readable bytes that outlive the returned slice.
pub(crate) unsafe fn arg_slice<'a>(
    p: *const u8,
    len: usize,
    func: &str,
    name: &str,
) -> Result<&'a [u8], Error> {
    if p.is_null() {
        if len == 0 {
            return Ok(&[]);
        }
        return Err(null_arg(func, name));
    }
    // SAFETY: the caller promises `len` readable bytes at `p` (the C contract).
    Ok(unsafe { std::slice::from_raw_parts(p, len) })
}

/// Borrows a mutable handle.
///
/// # Safety
/// `p` is NULL or a live handle made by this library, not used by another thread right now.
pub(crate) unsafe fn handle_mut<'a, T>(
    p: *mut T,
    func: &str,
    name: &str,
) -> Result<&'a mut T, Error> {
    // SAFETY: as promised by the caller.
    unsafe { p.as_mut() }.ok_or_else(|| null_arg(func, name))
}

/// Borrows a shared handle.
///
/// # Safety
/// As [`handle_mut`].
pub(crate) unsafe fn handle_ref<'a, T>(
    p: *const T,
    func: &str,
    name: &str,
) -> Result<&'a T, Error> {
    // SAFETY: as promised by the caller.
    unsafe { p.as_ref() }.ok_or_else(|| null_arg(func, name))
}

/// Writes `value` through a required out-pointer.
///
/// # Safety
/// `p` is NULL or valid for writes.
pub(crate) unsafe fn out_write<T>(p: *mut T, value: T) {
    if !p.is_null() {
        // SAFETY: checked non-NULL; the caller promises it is writable.
        unsafe { p.write(value) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_internal_with_a_message() {
        let code = guard(|| panic!("boom {}", 42));
        assert_eq!(code, ErrorKind::Internal.code());
        with_last_error(|m| {
            let m = m.unwrap();
            assert!(m.contains("boom 42"), "{m}");
        });
        let v = guard_value(7, || -> i32 { panic!("x") });
        assert_eq!(v, 7);
    }

    #[test]
    fn errors_are_recorded_per_thread() {
        let code = guard(|| Err(Error::new(ErrorKind::Timeout, "slow")));
        assert_eq!(code, 101);
        std::thread::spawn(|| with_last_error(|m| assert!(m.is_none())))
            .join()
            .unwrap();
        with_last_error(|m| assert_eq!(m, Some("Timeout: slow")));
    }

    /// The slot keeps the error and writes its text when it is read: the text is the one
    /// written at once before, `"{name}: {message}"`, of the last failure however many came
    /// before it, read or not.
    #[test]
    fn the_last_error_reads_as_its_name_and_message() {
        let last = || with_last_error(|m| m.map(str::to_owned));
        let refused = "connect to 127.0.0.1:1: Connection refused (os error 111)";
        std::thread::spawn(move || {
            assert_eq!(last(), None);
            let code = fail(Error::would_block_at("connecting to", "127.0.0.1:8080"));
            assert_eq!(code, 108);
            let waiting = "BlockingIOError: connecting to 127.0.0.1:8080: the call would block";
            assert_eq!(last().as_deref(), Some(waiting));
            assert_eq!(last().as_deref(), Some(waiting));
            // Recorded, not read, then replaced.
            fail(Error::would_block("read from h:80"));
            fail(Error::new(ErrorKind::ConnectionRefused, refused));
            let text = format!("ConnectionRefused: {refused}");
            assert_eq!(last(), Some(text.clone()));
            // A shorter one after a longer one leaves nothing of it.
            fail(Error::new(ErrorKind::Timeout, "slow"));
            assert_eq!(last().as_deref(), Some("Timeout: slow"));
            // Read again from within a read.
            with_last_error(|outer| with_last_error(|inner| assert_eq!(outer, inner)));
            // A WouldBlock built in the storage of a message let go of says only its own.
            assert_eq!(
                Error::would_block("read from h:80").message(),
                "read from h:80: the call would block"
            );
            fail(Error::new(ErrorKind::Timeout, "x".repeat(1000)));
            fail(Error::would_block_at("connecting to", "[::1]:80"));
            let m = "BlockingIOError: connecting to [::1]:80: the call would block";
            assert_eq!(last().as_deref(), Some(m));
            assert_eq!(
                Error::would_block_at("a", "").message(),
                "a: the call would block"
            );
        })
        .join()
        .unwrap();
    }
}
