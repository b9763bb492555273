//! The error type of the whole library: a kind, which is one of the codes of the C contract,
//! and a message a person can act on.
//!
//! The exception hierarchy of Python's httplib is defined once, in [`KINDS`]; the C functions
//! `hc_error_name`, `hc_strerror`, `hc_error_parent` and `hc_error_is` all read that table.

use std::ffi::CStr;
use std::fmt;
use std::io;

/// One of the error codes of the C contract. The discriminant is the code's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(i32)]
pub enum ErrorKind {
    HttpException = 1,
    NotConnected = 2,
    InvalidUrl = 3,
    UnknownProtocol = 4,
    UnknownTransferEncoding = 5,
    UnimplementedFileMode = 6,
    IncompleteRead = 7,
    ImproperConnectionState = 8,
    CannotSendRequest = 9,
    CannotSendHeader = 10,
    ResponseNotReady = 11,
    BadStatusLine = 12,
    LineTooLong = 13,
    RemoteDisconnected = 14,
    TooManyHeaders = 15,
    Os = 100,
    Timeout = 101,
    ConnectionRefused = 102,
    ConnectionReset = 103,
    HostNotFound = 104,
    Tls = 200,
    CertificateVerify = 201,
    InvalidArgument = 300,
    Internal = 900,
    /// The proxy refused the CONNECT of a tunnel (Python raises OSError).
    TunnelFailed = 105,
    /// A caller's callback asked to stop (a request body source returned HC_READ_ABORT).
    AbortedByCallback = 400,
}

/// A row of the hierarchy: the kind, its name (the Python exception's), its parent and a
/// one-line description.
pub struct KindInfo {
    pub kind: ErrorKind,
    pub name: &'static CStr,
    pub parent: Option<ErrorKind>,
    pub description: &'static CStr,
}

use ErrorKind::*;

/// The hierarchy, defined once.
pub const KINDS: &[KindInfo] = &[
    KindInfo {
        kind: HttpException,
        name: c"HTTPException",
        parent: None,
        description: c"HTTP protocol error",
    },
    KindInfo {
        kind: NotConnected,
        name: c"NotConnected",
        parent: Some(HttpException),
        description: c"not connected",
    },
    KindInfo {
        kind: InvalidUrl,
        name: c"InvalidURL",
        parent: Some(HttpException),
        description: c"invalid URL, host or port",
    },
    KindInfo {
        kind: UnknownProtocol,
        name: c"UnknownProtocol",
        parent: Some(HttpException),
        description: c"unknown protocol version in status line",
    },
    KindInfo {
        kind: UnknownTransferEncoding,
        name: c"UnknownTransferEncoding",
        parent: Some(HttpException),
        description: c"unknown transfer encoding",
    },
    KindInfo {
        kind: UnimplementedFileMode,
        name: c"UnimplementedFileMode",
        parent: Some(HttpException),
        description: c"unimplemented file mode",
    },
    KindInfo {
        kind: IncompleteRead,
        name: c"IncompleteRead",
        parent: Some(HttpException),
        description: c"response body ended before its announced end",
    },
    KindInfo {
        kind: ImproperConnectionState,
        name: c"ImproperConnectionState",
        parent: Some(HttpException),
        description: c"improper connection state",
    },
    KindInfo {
        kind: CannotSendRequest,
        name: c"CannotSendRequest",
        parent: Some(ImproperConnectionState),
        description: c"cannot send request: a request is already in progress",
    },
    KindInfo {
        kind: CannotSendHeader,
        name: c"CannotSendHeader",
        parent: Some(ImproperConnectionState),
        description: c"cannot send header: no request started, or headers already ended",
    },
    KindInfo {
        kind: ResponseNotReady,
        name: c"ResponseNotReady",
        parent: Some(ImproperConnectionState),
        description: c"response not ready: no request sent, or the previous response is unread",
    },
    KindInfo {
        kind: BadStatusLine,
        name: c"BadStatusLine",
        parent: Some(HttpException),
        description: c"bad status line",
    },
    KindInfo {
        kind: LineTooLong,
        name: c"LineTooLong",
        parent: Some(HttpException),
        description: c"status or header line too long",
    },
    KindInfo {
        kind: RemoteDisconnected,
        name: c"RemoteDisconnected",
        parent: Some(BadStatusLine),
        description: c"remote end closed connection without response",
    },
    KindInfo {
        kind: TooManyHeaders,
        name: c"TooManyHeaders",
        parent: Some(HttpException),
        description: c"got more than 100 headers",
    },
    KindInfo {
        kind: Os,
        name: c"OSError",
        parent: None,
        description: c"operating system error",
    },
    KindInfo {
        kind: Timeout,
        name: c"Timeout",
        parent: Some(Os),
        description: c"timed out",
    },
    KindInfo {
        kind: ConnectionRefused,
        name: c"ConnectionRefused",
        parent: Some(Os),
        description: c"connection refused",
    },
    KindInfo {
        kind: ConnectionReset,
        name: c"ConnectionReset",
        parent: Some(Os),
        description: c"connection reset by peer or broken pipe",
    },
    KindInfo {
        kind: HostNotFound,
        name: c"HostNotFound",
        parent: Some(Os),
        description: c"host name could not be resolved",
    },
    KindInfo {
        kind: Tls,
        name: c"TLSError",
        parent: Some(Os),
        description: c"TLS error",
    },
    KindInfo {
        kind: CertificateVerify,
        name: c"CertificateVerifyError",
        parent: Some(Tls),
        description: c"TLS certificate verification failed",
    },
    KindInfo {
        kind: InvalidArgument,
        name: c"InvalidArgument",
        parent: None,
        description: c"invalid argument",
    },
    KindInfo {
        kind: Internal,
        name: c"InternalError",
        parent: None,
        description: c"internal error (a bug in httpclient)",
    },
    KindInfo {
        kind: TunnelFailed,
        name: c"TunnelFailed",
        parent: Some(Os),
        description: c"the proxy refused to open the tunnel",
    },
    KindInfo {
        kind: AbortedByCallback,
        name: c"AbortedByCallback",
        parent: None,
        description: c"aborted by a callback of the caller",
    },
];

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
    /// `context` says what was being done ("connect to 127.0.0.1:80", "read", ...).
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
