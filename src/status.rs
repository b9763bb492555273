//! HTTP status codes and their reason phrases.

use std::ffi::CStr;

/// The reason phrase for a status code: the name Python 2.6's `httplib.responses` gave for the
/// codes it listed, and the registered RFC 9110 / IANA name for every other registered code.
pub fn reason(status: i32) -> Option<&'static str> {
    reason_cstr(status).map(|c| c.to_str().expect("reason phrases are ASCII"))
}

/// [`reason`] as a NUL-terminated string, for the C face.
pub fn reason_cstr(status: i32) -> Option<&'static CStr> {
    Some(match status {
        // httplib.responses (Python 2.6), kept word for word.
        100 => c"Continue",
        101 => c"Switching Protocols",
        200 => c"OK",
        201 => c"Created",
        202 => c"Accepted",
        203 => c"Non-Authoritative Information",
        204 => c"No Content",
        205 => c"Reset Content",
        206 => c"Partial Content",
        300 => c"Multiple Choices",
        301 => c"Moved Permanently",
        302 => c"Found",
        303 => c"See Other",
        304 => c"Not Modified",
        305 => c"Use Proxy",
        306 => c"(Unused)",
        307 => c"Temporary Redirect",
        400 => c"Bad Request",
        401 => c"Unauthorized",
        402 => c"Payment Required",
        403 => c"Forbidden",
        404 => c"Not Found",
        405 => c"Method Not Allowed",
        406 => c"Not Acceptable",
        407 => c"Proxy Authentication Required",
        408 => c"Request Timeout",
        409 => c"Conflict",
        410 => c"Gone",
        411 => c"Length Required",
        412 => c"Precondition Failed",
        413 => c"Request Entity Too Large",
        414 => c"Request-URI Too Long",
        415 => c"Unsupported Media Type",
        416 => c"Requested Range Not Satisfiable",
        417 => c"Expectation Failed",
        500 => c"Internal Server Error",
        501 => c"Not Implemented",
        502 => c"Bad Gateway",
        503 => c"Service Unavailable",
        504 => c"Gateway Timeout",
        505 => c"HTTP Version Not Supported",
        // Registered since (RFC 9110 and the IANA HTTP Status Code Registry).
        102 => c"Processing",
        103 => c"Early Hints",
        207 => c"Multi-Status",
        208 => c"Already Reported",
        226 => c"IM Used",
        308 => c"Permanent Redirect",
        418 => c"(Unused)",
        421 => c"Misdirected Request",
        422 => c"Unprocessable Content",
        423 => c"Locked",
        424 => c"Failed Dependency",
        425 => c"Too Early",
        426 => c"Upgrade Required",
        428 => c"Precondition Required",
        429 => c"Too Many Requests",
        431 => c"Request Header Fields Too Large",
        451 => c"Unavailable For Legal Reasons",
        506 => c"Variant Also Negotiates",
        507 => c"Insufficient Storage",
        508 => c"Loop Detected",
        510 => c"Not Extended",
        511 => c"Network Authentication Required",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::reason;

    #[test]
    fn seed_and_registered_names() {
        assert_eq!(reason(404), Some("Not Found"));
        assert_eq!(reason(414), Some("Request-URI Too Long"));
        assert_eq!(reason(416), Some("Requested Range Not Satisfiable"));
        assert_eq!(reason(306), Some("(Unused)"));
        assert_eq!(reason(308), Some("Permanent Redirect"));
        assert_eq!(reason(429), Some("Too Many Requests"));
        assert_eq!(reason(451), Some("Unavailable For Legal Reasons"));
        assert_eq!(reason(599), None);
        assert_eq!(reason(-1), None);
    }
}
