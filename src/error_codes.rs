// The one table of error codes, in value order. Each row defines a code once:
//
//   /// Doc comment of the C constant (the header shows it).
//   RustKind = value, C_CONSTANT, "PythonName", parent ParentKind | root, "strerror text";
//
// It is read twice, through two definitions of the macro `error_codes!`:
//  - src/error.rs makes of it `ErrorKind` (the discriminant is the value) and the hierarchy
//    `KINDS` that hc_error_name, hc_strerror, hc_error_parent and hc_error_is read;
//  - build.rs makes of it the C enum `hc_error_code` of include/httpclient.h.
// tests/c/test_errors.c checks the C side against these names and values.
//
// New codes are added here, at their place in value order; a code is never renumbered.

error_codes! {
    /// HTTPException: the root of the HTTP protocol errors.
    HttpException = 1, HC_ERR_HTTP_EXCEPTION, "HTTPException", root,
        "HTTP protocol error";
    /// NotConnected.
    NotConnected = 2, HC_ERR_NOT_CONNECTED, "NotConnected", parent HttpException,
        "not connected";
    /// InvalidURL: a bad host, port or URL (control characters, space, `@`).
    InvalidUrl = 3, HC_ERR_INVALID_URL, "InvalidURL", parent HttpException,
        "invalid URL, host or port";
    /// UnknownProtocol: a status line with a version other than HTTP/1.x.
    UnknownProtocol = 4, HC_ERR_UNKNOWN_PROTOCOL, "UnknownProtocol", parent HttpException,
        "unknown protocol version in status line";
    /// UnknownTransferEncoding.
    UnknownTransferEncoding = 5, HC_ERR_UNKNOWN_TRANSFER_ENCODING, "UnknownTransferEncoding",
        parent HttpException, "unknown transfer encoding";
    /// UnimplementedFileMode.
    UnimplementedFileMode = 6, HC_ERR_UNIMPLEMENTED_FILE_MODE, "UnimplementedFileMode",
        parent HttpException, "unimplemented file mode";
    /// IncompleteRead: the body ended before its announced end.
    IncompleteRead = 7, HC_ERR_INCOMPLETE_READ, "IncompleteRead", parent HttpException,
        "response body ended before its announced end";
    /// ImproperConnectionState: the parent of the three state errors below.
    ImproperConnectionState = 8, HC_ERR_IMPROPER_CONNECTION_STATE, "ImproperConnectionState",
        parent HttpException, "improper connection state";
    /// CannotSendRequest: a request is already being sent.
    CannotSendRequest = 9, HC_ERR_CANNOT_SEND_REQUEST, "CannotSendRequest",
        parent ImproperConnectionState,
        "cannot send request: a request is already in progress";
    /// CannotSendHeader: no request started, or its headers already ended.
    CannotSendHeader = 10, HC_ERR_CANNOT_SEND_HEADER, "CannotSendHeader",
        parent ImproperConnectionState,
        "cannot send header: no request started, or headers already ended";
    /// ResponseNotReady: no request sent, or the previous response is unread.
    ResponseNotReady = 11, HC_ERR_RESPONSE_NOT_READY, "ResponseNotReady",
        parent ImproperConnectionState,
        "response not ready: no request sent, or the previous response is unread";
    /// BadStatusLine: the reply does not start with a valid status line.
    BadStatusLine = 12, HC_ERR_BAD_STATUS_LINE, "BadStatusLine", parent HttpException,
        "bad status line";
    /// LineTooLong: a status or header line over 65536 bytes.
    LineTooLong = 13, HC_ERR_LINE_TOO_LONG, "LineTooLong", parent HttpException,
        "status or header line too long";
    /// RemoteDisconnected: the server closed before any status line (a BadStatusLine).
    RemoteDisconnected = 14, HC_ERR_REMOTE_DISCONNECTED, "RemoteDisconnected",
        parent BadStatusLine, "remote end closed connection without response";
    /// More than 100 header fields.
    TooManyHeaders = 15, HC_ERR_TOO_MANY_HEADERS, "TooManyHeaders", parent HttpException,
        "got more than 100 headers";
    /// OSError: a system call failed; the message keeps the errno.
    Os = 100, HC_ERR_OS, "OSError", root,
        "operating system error";
    /// A connect, read or write timed out.
    Timeout = 101, HC_ERR_TIMEOUT, "Timeout", parent Os,
        "timed out";
    /// The connection was refused.
    ConnectionRefused = 102, HC_ERR_CONNECTION_REFUSED, "ConnectionRefused", parent Os,
        "connection refused";
    /// The connection was reset, or the pipe broke.
    ConnectionReset = 103, HC_ERR_CONNECTION_RESET, "ConnectionReset", parent Os,
        "connection reset by peer or broken pipe";
    /// The host name could not be resolved.
    HostNotFound = 104, HC_ERR_HOST_NOT_FOUND, "HostNotFound", parent Os,
        "host name could not be resolved";
    /// The proxy refused to open a tunnel (hc_connection_set_tunnel, or hc_client for an https
    /// URL): it answered the CONNECT with a non-2xx status, garbage, or nothing; the message
    /// holds its status line. A child of HC_ERR_PROXY, so still an HC_ERR_OS, as Python raises
    /// OSError("Tunnel connection failed: ...").
    TunnelFailed = 105, HC_ERR_TUNNEL_FAILED, "TunnelFailed", parent Proxy,
        "the proxy refused to open the tunnel";
    /// ProxyError (hc_client): the proxy can't be reached or spoken to, or its scheme is not
    /// supported (`https://` and `socks*://` proxies are refused). A child of HC_ERR_OS.
    Proxy = 106, HC_ERR_PROXY, "ProxyError", parent Os,
        "cannot reach or talk to the proxy, or unsupported proxy scheme";
    /// ProxyAuthRequired (hc_client): the proxy answered 407 to a CONNECT or to an
    /// absolute-form request. A child of HC_ERR_PROXY.
    ProxyAuthRequired = 107, HC_ERR_PROXY_AUTH_REQUIRED, "ProxyAuthRequired", parent Proxy,
        "the proxy requires authentication (407)";
    /// BlockingIOError: in non-blocking mode (hc_connection_set_blocking), the call would
    /// have to wait for the network; hc_connection_want or hc_response_want says whether the
    /// descriptor must become readable or writable before the call is made again. Not a
    /// failure: nothing is lost, the connection stays usable. A child of HC_ERR_OS, as
    /// Python's BlockingIOError is an OSError.
    WouldBlock = 108, HC_ERR_WOULD_BLOCK, "BlockingIOError", parent Os,
        "the call would block: wait until the descriptor is ready, then repeat it";
    /// A TLS error other than certificate verification.
    Tls = 200, HC_ERR_TLS, "TLSError", parent Os,
        "TLS error";
    /// The server's certificate could not be verified (untrusted, expired, wrong host).
    CertificateVerify = 201, HC_ERR_CERTIFICATE_VERIFY, "CertificateVerifyError", parent Tls,
        "TLS certificate verification failed";
    /// A bad argument: NULL, a bad header name or value, a bad option.
    InvalidArgument = 300, HC_ERR_INVALID_ARGUMENT, "InvalidArgument", root,
        "invalid argument";
    /// A callback of the caller asked to stop (a body source of hc_request_stream returned
    /// HC_READ_ABORT). A root: neither a protocol, an OS nor an argument error.
    AbortedByCallback = 400, HC_ERR_ABORTED_BY_CALLBACK, "AbortedByCallback", root,
        "aborted by a callback of the caller";
    /// RedirectError (hc_client): the root of the redirect policy failures.
    Redirect = 500, HC_ERR_REDIRECT, "RedirectError", root,
        "redirect policy failure";
    /// TooManyRedirects: more redirects than the limit. A child of HC_ERR_REDIRECT.
    TooManyRedirects = 501, HC_ERR_TOO_MANY_REDIRECTS, "TooManyRedirects", parent Redirect,
        "too many redirects";
    /// RedirectRefused: a redirect to a scheme other than http or https, or from https to http
    /// without HC_REDIRECT_ALLOW_DOWNGRADE. A child of HC_ERR_REDIRECT.
    RedirectRefused = 502, HC_ERR_REDIRECT_REFUSED, "RedirectRefused", parent Redirect,
        "redirect refused (scheme not allowed, or https to http)";
    /// BadLocation: a Location that does not parse, or several differing Location fields. A
    /// child of HC_ERR_REDIRECT.
    BadLocation = 503, HC_ERR_BAD_LOCATION, "BadLocation", parent Redirect,
        "unparsable or conflicting Location";
    /// ContentDecodingError (hc_client): a corrupt, truncated or trailing-garbage
    /// content-coded body, or a zstd window over 8 MiB. A child of HC_ERR_HTTP_EXCEPTION.
    ContentDecoding = 510, HC_ERR_CONTENT_DECODING, "ContentDecodingError",
        parent HttpException, "the content-coded body could not be decoded";
    /// TooManyEncodings: more than 5 content codings. A child of HC_ERR_CONTENT_DECODING.
    TooManyEncodings = 511, HC_ERR_TOO_MANY_ENCODINGS, "TooManyEncodings",
        parent ContentDecoding, "more than 5 content codings";
    /// DecodedSizeExceeded: the decoded body is over the cap of
    /// hc_client_set_max_decoded_size. A child of HC_ERR_CONTENT_DECODING.
    DecodedSizeExceeded = 512, HC_ERR_DECODED_SIZE_EXCEEDED, "DecodedSizeExceeded",
        parent ContentDecoding, "the decoded body is over the size cap";
    /// A bug inside httpclient (a caught panic).
    Internal = 900, HC_ERR_INTERNAL, "InternalError", root,
        "internal error (a bug in httpclient)";
}
