//! The error type of the whole library: a kind, which is one of the codes of the C contract,
//! and a message a person can act on.
//!
//! Every code is defined once, in the table of src/error_codes.rs: its kind, the name of the
//! Python exception it mirrors, its parent, its description and its value. This file makes of
//! it [`ErrorKind`] and the hierarchy [`KINDS`], which the C functions `hc_error_name`,
//! `hc_strerror`, `hc_error_parent` and `hc_error_is` read; build.rs makes of it the C enum
//! `hc_error_code`.

use std::ffi::CStr;
use std::fmt;
use std::io;

/// A row of the hierarchy: the kind, its name (the Python exception's), its parent and a
/// one-line description.
pub struct KindInfo {
    pub kind: ErrorKind,
    pub name: &'static CStr,
    pub parent: Option<ErrorKind>,
    pub description: &'static CStr,
}

/// A string literal as a `&'static CStr`, checked at compile time.
macro_rules! cstr {
    ($s:literal) => {
        match CStr::from_bytes_with_nul(concat!($s, "\0").as_bytes()) {
            Ok(c) => c,
            Err(_) => panic!("an error table string holds a NUL"),
        }
    };
}

macro_rules! parent_of {
    () => {
        None
    };
    ($parent:ident) => {
        Some(ErrorKind::$parent)
    };
}

/// Makes `ErrorKind` and `KINDS` of the table in src/error_codes.rs (build.rs makes the C enum
/// of the same table).
macro_rules! error_codes {
    ($(
        $(#[doc = $doc:literal])*
        $kind:ident = $value:literal, $c_name:ident, $name:literal,
            $(parent $parent:ident)? $(root)?, $description:literal;
    )*) => {
        /// One of the error codes of the C contract (`HC_ERR_*`). The discriminant is the
        /// code's value.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[repr(i32)]
        pub enum ErrorKind {
            $(
                $(#[doc = $doc])*
                #[doc = concat!("\n\nC: `", stringify!($c_name), "` (", stringify!($value), ").")]
                $kind = $value,
            )*
        }

        /// The hierarchy, defined once (in src/error_codes.rs), in value order.
        pub const KINDS: &[KindInfo] = &[$(
            KindInfo {
                kind: ErrorKind::$kind,
                name: cstr!($name),
                parent: parent_of!($($parent)?),
                description: cstr!($description),
            },
        )*];
    };
}

include!("error_codes.rs");

use ErrorKind::*;

impl ErrorKind {
    /// The code's value in the C contract.
    pub fn code(self) -> i32 {
        self as i32
    }

    /// The kind with this code, if any.
    pub fn from_code(code: i32) -> Option<ErrorKind> {
        KINDS.iter().find(|k| k.kind.code() == code).map(|k| k.kind)
    }

    fn info(self) -> &'static KindInfo {
        KINDS
            .iter()
            .find(|k| k.kind == self)
            .expect("every ErrorKind has a row in KINDS")
    }

    /// The Python exception's name, e.g. "CannotSendRequest".
    pub fn name(self) -> &'static str {
        self.info().name.to_str().expect("names are ASCII")
    }

    /// [`ErrorKind::name`] as a NUL-terminated string.
    pub fn name_cstr(self) -> &'static CStr {
        self.info().name
    }

    /// A static one-line description.
    pub fn description(self) -> &'static str {
        self.info()
            .description
            .to_str()
            .expect("descriptions are ASCII")
    }

    /// [`ErrorKind::description`] as a NUL-terminated string.
    pub fn description_cstr(self) -> &'static CStr {
        self.info().description
    }

    /// The direct parent in the hierarchy, if any.
    pub fn parent(self) -> Option<ErrorKind> {
        self.info().parent
    }

    /// True if `self` is `ancestor` or descends from it.
    pub fn is(self, ancestor: ErrorKind) -> bool {
        let mut k = Some(self);
        while let Some(cur) = k {
            if cur == ancestor {
                return true;
            }
            k = cur.parent();
        }
        false
    }
}

/// The library's error: a kind and a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
    message: String,
}

/// The library's result type.
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Error {
        Error {
            kind,
            message: message.into(),
        }
    }

    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    pub fn message(&self) -> &str {
        &self.message
    }

    /// Maps an I/O error to the OS branch of the hierarchy, keeping the errno in the message.
    /// `context` says what was being done ("connect to 127.0.0.1:80", "read", ...). EAGAIN is
    /// a timeout here (a blocking socket's SO_RCVTIMEO); the non-blocking paths check for
    /// [`io::ErrorKind::WouldBlock`] first and build [`Error::would_block`] instead.
    pub fn io(context: &str, e: &io::Error) -> Error {
        let tls = e
            .get_ref()
            .is_some_and(|inner| inner.is::<crate::transport::tls::TlsStreamError>());
        let kind = match e.kind() {
            _ if tls => Tls,
            io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => Timeout,
            io::ErrorKind::ConnectionRefused => ConnectionRefused,
            io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::BrokenPipe => ConnectionReset,
            _ => crate::sys::os_error_kind(e).unwrap_or(Os),
        };
        // io::Error's Display already names the errno ("... (os error 111)").
        let msg = match kind {
            Timeout => format!("{context}: timed out"),
            _ => format!("{context}: {e}"),
        };
        Error::new(kind, msg)
    }
}

impl Error {
    /// The error of a call that would wait in non-blocking mode; `context` says what it waits
    /// to do ("read the response head from 127.0.0.1:80").
    pub fn would_block(context: &str) -> Error {
        Error::would_block_at(context, "")
    }

    /// [`Error::would_block`] of `what` and `peer` ("read from", "127.0.0.1:80"): the context
    /// `"{what} {peer}"`, or `what` alone when `peer` is empty. One allocation, no formatting:
    /// an event loop meets this error on most of its calls.
    pub fn would_block_at(what: &str, peer: &str) -> Error {
        const TAIL: &str = ": the call would block";
        // The storage of a message the C face recorded and let go of, when there is one.
        let mut m = crate::spare::take(&SPARE_MESSAGE).unwrap_or_default();
        m.clear();
        m.reserve(what.len() + 1 + peer.len() + TAIL.len());
        m.push_str(what);
        if !peer.is_empty() {
            m.push(' ');
            m.push_str(peer);
        }
        m.push_str(TAIL);
        Error::new(WouldBlock, m)
    }

    /// Lets go of the error, keeping its message's storage for the next
    /// [`Error::would_block_at`] on this thread (the C face records an error per failed call,
    /// and most calls of an event loop fail with `WouldBlock`). A long message is freed.
    pub(crate) fn recycle(self) {
        if self.message.capacity() <= SPARE_MESSAGE_MAX {
            crate::spare::keep(&SPARE_MESSAGE, self.message);
        }
    }

    /// True for the error of a call that would wait in non-blocking mode.
    pub fn is_would_block(&self) -> bool {
        self.kind == WouldBlock
    }
}

/// The largest message storage kept by [`Error::recycle`].
const SPARE_MESSAGE_MAX: usize = 256;

thread_local! {
    static SPARE_MESSAGE: std::cell::Cell<Option<String>> = const { std::cell::Cell::new(None) };
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind.name(), self.message)
    }
}

impl std::error::Error for Error {}

/// Shortens and escapes bytes from the wire for an error message: at most `max` bytes shown,
/// non-printable bytes as `\xNN`.
pub fn escape_bytes(bytes: &[u8], max: usize) -> String {
    let mut s = String::new();
    for &b in bytes.iter().take(max) {
        match b {
            b'\r' => s.push_str("\\r"),
            b'\n' => s.push_str("\\n"),
            b'\t' => s.push_str("\\t"),
            b'\\' => s.push_str("\\\\"),
            0x20..=0x7e => s.push(b as char),
            _ => s.push_str(&format!("\\x{b:02x}")),
        }
    }
    if bytes.len() > max {
        s.push_str(&format!("... ({} bytes)", bytes.len()));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_one_row_and_parents_are_rows() {
        for row in KINDS {
            assert_eq!(KINDS.iter().filter(|r| r.kind == row.kind).count(), 1);
            assert_eq!(ErrorKind::from_code(row.kind.code()), Some(row.kind));
        }
    }

    #[test]
    fn rows_are_in_value_order() {
        for pair in KINDS.windows(2) {
            assert!(
                pair[0].kind.code() < pair[1].kind.code(),
                "{} listed before {}",
                pair[0].kind.name(),
                pair[1].kind.name()
            );
        }
    }

    #[test]
    fn hierarchy() {
        assert!(CannotSendRequest.is(HttpException));
        assert!(CannotSendRequest.is(ImproperConnectionState));
        assert!(!Timeout.is(HttpException));
        assert!(CertificateVerify.is(Os));
        assert!(RemoteDisconnected.is(BadStatusLine));
        assert_eq!(ErrorKind::from_code(-1), None);
    }

    #[test]
    fn escape() {
        assert_eq!(escape_bytes(b"a\r\n\x00\xff", 10), "a\\r\\n\\x00\\xff");
        assert_eq!(escape_bytes(b"abcdef", 3), "abc... (6 bytes)");
    }
}
