//! Checking and serialising requests. Nothing here does I/O: a request is written into a
//! buffer that the connection sends whole, so a bad argument is refused before any byte is
//! sent.

use crate::error::{escape_bytes, Error, ErrorKind, Result};

/// True for the `tchar` bytes of RFC 9110 (a token's characters).
#[inline]
pub fn is_tchar(b: u8) -> bool {
    TCHAR[usize::from(b)]
}

/// Which bytes are token characters: one lookup per byte.
const TCHAR: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = matches!(i as u8,
            b'!' | b'#' | b'$' | b'%' | b'&' | b'\'' | b'*' | b'+' | b'-' | b'.' | b'^' | b'_'
            | b'`' | b'|' | b'~' | b'0'..=b'9' | b'a'..=b'z' | b'A'..=b'Z');
        i += 1;
    }
    t
};

/// A method must be a token.
pub fn check_method(method: &[u8]) -> Result<()> {
    if method.is_empty() || !method.iter().all(|&b| is_tchar(b)) {
        return Err(not_a_token(method));
    }
    Ok(())
}

#[cold]
fn not_a_token(method: &[u8]) -> Error {
    Error::new(
        ErrorKind::InvalidArgument,
        format!(
            "method must be a token (no control characters, spaces or separators): {}",
            escape_bytes(method, 100)
        ),
    )
}

/// A URL may hold no control character and no space (Python's `_contains_disallowed_url_pchar_re`),
/// and no byte outside ASCII: an HTTP/1.1 request line is ASCII, so a non-ASCII path or query
/// must be percent-encoded by the caller. (The host of an absolute URL is made ASCII before
/// this check, by `url::request_target`.)
pub fn check_url(url: &[u8]) -> Result<()> {
    if let Some(i) = url.iter().position(|&b| b <= b' ' || b >= 0x7f) {
        let why = if url[i] >= 0x80 {
            "URL can't contain non-ASCII bytes (percent-encode them)"
        } else {
            "URL can't contain control characters or spaces"
        };
        return Err(Error::new(
            ErrorKind::InvalidUrl,
            format!(
                "{why} (byte 0x{:02x} at offset {i}): {}",
                url[i],
                escape_bytes(url, 200)
            ),
        ));
    }
    Ok(())
}

/// A header name must be a token.
pub fn check_header_name(name: &[u8]) -> Result<()> {
    if name.is_empty() || !name.iter().all(|&b| is_tchar(b)) {
        return Err(Error::new(
            ErrorKind::InvalidArgument,
            format!("invalid header name: {}", escape_bytes(name, 100)),
        ));
    }
    Ok(())
}

/// A header value may hold visible ASCII, space, tab and bytes 0x80-0xFF: never CR, LF, NUL
/// or another control character, so no header can be injected.
pub fn check_header_value(name: &[u8], value: &[u8]) -> Result<()> {
    if let Some(i) = value
        .iter()
        .position(|&b| (b < b' ' && b != b'\t') || b == 0x7f)
    {
        return Err(Error::new(
            ErrorKind::InvalidArgument,
            format!(
                "invalid value for header {} (control byte 0x{:02x} at offset {i}): {}",
                escape_bytes(name, 100),
                value[i],
                escape_bytes(value, 100)
            ),
        ));
    }
    Ok(())
}

/// Methods whose request may be sent again on a fresh connection when a reused one turned out
/// to be closed (RFC 9110 idempotent methods).
pub fn is_idempotent(method: &[u8]) -> bool {
    matches!(
        method,
        b"GET" | b"HEAD" | b"OPTIONS" | b"TRACE" | b"PUT" | b"DELETE"
    )
}

/// Methods for which Python sends `Content-Length: 0` when there is no body.
pub fn expects_body(method: &[u8]) -> bool {
    matches!(method, b"POST" | b"PUT" | b"PATCH")
}

/// A connection's request bytes: the request being built, then the last request sent for as
/// long as it may be sent again. It also knows whether they are a plain request: exactly what
/// `Connection::request` builds for a method and URL with no caller headers and no body. A
/// later identical request then sends them again instead of building them anew (as an event
/// loop's floor sends a prebuilt request). Every change through `DerefMut` forgets it, so no
/// path that edits the bytes can leave a stale mark behind.
#[derive(Debug, Default)]
pub struct RequestBytes {
    bytes: Vec<u8>,
    plain: bool,
}

impl std::ops::Deref for RequestBytes {
    type Target = Vec<u8>;
    fn deref(&self) -> &Vec<u8> {
        &self.bytes
    }
}

impl std::ops::DerefMut for RequestBytes {
    fn deref_mut(&mut self) -> &mut Vec<u8> {
        self.plain = false;
        &mut self.bytes
    }
}

impl RequestBytes {
    pub fn with_capacity(n: usize) -> RequestBytes {
        RequestBytes {
            bytes: Vec::with_capacity(n),
            plain: false,
        }
    }

    /// The bytes were just built as a plain request (no caller headers, no body).
    pub fn mark_plain(&mut self) {
        self.plain = true;
    }

    /// What a plain request's bytes depend on besides its method and URL (the tunnel, hence
    /// the `Host` header) changed.
    pub fn forget_plain(&mut self) {
        self.plain = false;
    }

    /// Whether the bytes are the plain request for `method` and `url`. The request line is
    /// compared whole: the method up to the first space (a checked method has none), then
    /// the URL, then the version. The URL was checked when the bytes were built (no space,
    /// no control character), so a match is that same URL and no other.
    pub fn is_plain_request(&self, method: &[u8], url: &[u8]) -> bool {
        if !self.plain {
            return false;
        }
        let b = &self.bytes[..];
        let Some(sp) = b.iter().position(|&c| c == b' ') else {
            return false;
        };
        b[..sp] == *method
            && b[sp + 1..].starts_with(url)
            && b[sp + 1 + url.len()..].starts_with(b" HTTP/1.1\r\n")
    }
}

/// Appends a request line.
pub fn write_request_line(out: &mut Vec<u8>, method: &[u8], url: &[u8]) {
    out.extend_from_slice(method);
    out.push(b' ');
    out.extend_from_slice(if url.is_empty() { b"/" } else { url });
    out.extend_from_slice(b" HTTP/1.1\r\n");
}

/// Appends one header field.
pub fn write_header(out: &mut Vec<u8>, name: &[u8], value: &[u8]) {
    out.extend_from_slice(name);
    out.extend_from_slice(b": ");
    out.extend_from_slice(value);
    out.extend_from_slice(b"\r\n");
}

/// Writes `n` in decimal into the end of `digits` without allocating; returns the digits.
pub fn decimal(mut n: u64, digits: &mut [u8; 20]) -> &[u8] {
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    &digits[i..]
}

/// Appends a decimal number without allocating.
pub fn write_decimal(out: &mut Vec<u8>, n: u64) {
    out.extend_from_slice(decimal(n, &mut [0u8; 20]));
}

/// What the caller's headers say about the automatic ones.
#[derive(Debug, Default, Clone, Copy)]
pub struct GivenHeaders {
    pub host: bool,
    pub accept_encoding: bool,
    pub content_length: bool,
    pub transfer_encoding: bool,
    /// `Transfer-Encoding` given with `chunked` as its last coding.
    pub chunked: bool,
    /// `Expect: 100-continue` given.
    pub expect_continue: bool,
}

impl GivenHeaders {
    /// Notes one header the caller gives.
    pub fn note(&mut self, name: &[u8], value: &[u8]) {
        if name.eq_ignore_ascii_case(b"host") {
            self.host = true;
        } else if name.eq_ignore_ascii_case(b"accept-encoding") {
            self.accept_encoding = true;
        } else if name.eq_ignore_ascii_case(b"content-length") {
            self.content_length = true;
        } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
            self.transfer_encoding = true;
            self.chunked = value
                .rsplit(|&b| b == b',')
                .next()
                .map(|last| trim(last).eq_ignore_ascii_case(b"chunked"))
                .unwrap_or(false);
        } else if name.eq_ignore_ascii_case(b"expect") {
            self.expect_continue = trim(value).eq_ignore_ascii_case(b"100-continue");
        }
    }

    /// Never both Content-Length and Transfer-Encoding.
    pub fn check(&self) -> Result<()> {
        if self.content_length && self.transfer_encoding {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                "a request can't carry both Content-Length and Transfer-Encoding",
            ));
        }
        Ok(())
    }
}

/// Trims optional white space (SP, HTAB) from both ends.
pub fn trim(s: &[u8]) -> &[u8] {
    let (a, b) = trim_bounds(s, 0);
    &s[a..b]
}

/// The bounds of `line[from..]` without its leading and trailing spaces and tabs.
pub fn trim_bounds(line: &[u8], from: usize) -> (usize, usize) {
    let (mut a, mut b) = (from, line.len());
    while a < b && matches!(line[a], b' ' | b'\t') {
        a += 1;
    }
    while b > a && matches!(line[b - 1], b' ' | b'\t') {
        b -= 1;
    }
    (a, b)
}

/// Appends `data` as one chunk of a chunked body (nothing for empty data, which would end it).
pub fn write_chunk(out: &mut Vec<u8>, data: &[u8]) {
    if data.is_empty() {
        return;
    }
    out.extend_from_slice(format!("{:x}\r\n", data.len()).as_bytes());
    out.extend_from_slice(data);
    out.extend_from_slice(b"\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks() {
        assert!(check_method(b"GET").is_ok());
        assert!(check_method(b"GET ").is_err());
        assert!(check_method(b"G\r\nET").is_err());
        assert!(check_method(b"").is_err());
        assert!(check_url(b"/a?b=c").is_ok());
        assert_eq!(
            check_url(b"/a b").unwrap_err().kind(),
            ErrorKind::InvalidUrl
        );
        assert!(check_url(b"/a\r\nX: y").is_err());
        assert!(check_url(b"/\x00").is_err());
        assert!(check_url("/café".as_bytes()).is_err());
        assert!(check_url(b"/\xff").is_err());
        assert!(check_header_name(b"X-Ok").is_ok());
        assert!(check_header_name(b"X Bad").is_err());
        assert!(check_header_name(b"X:Bad").is_err());
        assert!(check_header_value(b"x", b"a\tb \xff").is_ok());
        assert!(check_header_value(b"x", b"a\r\nEvil: 1").is_err());
        assert!(check_header_value(b"x", b"a\0").is_err());
    }

    #[test]
    fn given() {
        let mut g = GivenHeaders::default();
        g.note(b"transfer-ENCODING", b"gzip, chunked ");
        assert!(g.chunked && g.transfer_encoding);
        g.note(b"Content-Length", b"3");
        assert!(g.check().is_err());
    }

    #[test]
    fn decimal() {
        let mut v = Vec::new();
        write_decimal(&mut v, 0);
        v.push(b' ');
        write_decimal(&mut v, u64::MAX);
        assert_eq!(v, b"0 18446744073709551615");
    }
}
