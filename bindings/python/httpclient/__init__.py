"""httpclient: Python's http.client API on top of libhttpclient.so (pure ctypes).

    import httpclient
    conn = httpclient.HTTPConnection("localhost", 8080, timeout=10)
    conn.request("GET", "/")
    with conn.getresponse() as resp:
        print(resp.status, resp.reason, resp.read())

The library is found through $HTTPCLIENT_LIB (a path to libhttpclient.so), else in
../../target/{release,debug}/ next to this package (a source checkout), else by the system's
loader ("libhttpclient.so.0").

Exceptions mirror the C error codes and their hierarchy (hc_error_parent): HTTPException and
its children as in http.client; OSError (a subclass of the built-in OSError) with Timeout
(also a TimeoutError), ConnectionRefused, ConnectionReset, HostNotFound, TunnelFailed, TLSError
and CertificateVerifyError; InvalidArgument (a ValueError); AbortedByCallback; InternalError.
Every exception has `.code`, the C code.
"""

import builtins
import ctypes
import ctypes.util
import os
from ctypes import (
    CFUNCTYPE,
    POINTER,
    Structure,
    byref,
    c_bool,
    c_char,
    c_char_p,
    c_double,
    c_int,
    c_int64,
    c_size_t,
    c_uint,
    c_uint8,
    c_uint16,
    c_uint64,
    c_void_p,
)

__all__ = [
    "HTTPConnection", "HTTPSConnection", "HTTPResponse", "TLSContext",
    "HTTP_PORT", "HTTPS_PORT",
    "Error", "HTTPException", "NotConnected", "InvalidURL", "UnknownProtocol",
    "UnknownTransferEncoding", "UnimplementedFileMode", "IncompleteRead",
    "ImproperConnectionState", "CannotSendRequest", "CannotSendHeader", "ResponseNotReady",
    "BadStatusLine", "LineTooLong", "RemoteDisconnected", "TooManyHeaders", "OSError",
    "Timeout", "ConnectionRefused", "ConnectionReset", "HostNotFound", "TunnelFailed",
    "TLSError", "CertificateVerifyError", "InvalidArgument", "AbortedByCallback",
    "InternalError",
]

HTTP_PORT = 80
HTTPS_PORT = 443

# ----- loading the library -----


def _find_library():
    env = os.environ.get("HTTPCLIENT_LIB")
    if env:
        return env
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.normpath(os.path.join(here, "..", "..", ".."))
    for profile in ("release", "debug"):
        p = os.path.join(root, "target", profile, "libhttpclient.so")
        if os.path.exists(p):
            return p
    return ctypes.util.find_library("httpclient") or "libhttpclient.so.0"


_lib = ctypes.CDLL(_find_library())


class _Header(Structure):
    _fields_ = [("name", c_char_p), ("value", c_char_p)]


_READ_CB = CFUNCTYPE(c_size_t, POINTER(c_uint8), c_size_t, c_void_p)
_READ_ABORT = ctypes.c_size_t(-1).value
_conn_p = c_void_p
_resp_p = c_void_p


def _fn(name, restype, *argtypes):
    f = getattr(_lib, name)
    f.restype = restype
    f.argtypes = argtypes
    return f


_hc = type("_hc", (), {})()
for _name, _res, _args in [
    ("hc_connection_new", c_int, (c_char_p, c_uint16, POINTER(_conn_p))),
    ("hc_https_connection_new", c_int, (c_char_p, c_uint16, POINTER(_conn_p))),
    ("hc_connection_free", None, (_conn_p,)),
    ("hc_connection_set_timeout", c_int, (_conn_p, c_double)),
    ("hc_connection_set_debuglevel", c_int, (_conn_p, c_int)),
    ("hc_connection_set_ca_file", c_int, (_conn_p, c_char_p)),
    ("hc_connection_set_ca_path", c_int, (_conn_p, c_char_p)),
    ("hc_connection_set_client_cert", c_int, (_conn_p, c_char_p, c_char_p)),
    ("hc_connection_set_verify", c_int, (_conn_p, c_bool)),
    ("hc_connection_set_source_address", c_int, (_conn_p, c_char_p, c_uint16)),
    ("hc_connection_set_blocksize", c_int, (_conn_p, c_size_t)),
    ("hc_connection_set_tunnel", c_int, (_conn_p, c_char_p, c_uint16, POINTER(_Header), c_size_t)),
    ("hc_connection_set_continue_timeout", c_int, (_conn_p, c_double)),
    ("hc_connection_connect", c_int, (_conn_p,)),
    ("hc_connection_close", c_int, (_conn_p,)),
    ("hc_connection_fileno", c_int, (_conn_p,)),
    ("hc_request", c_int, (_conn_p, c_char_p, c_char_p, c_char_p, c_size_t, POINTER(_Header), c_size_t)),
    ("hc_request_stream", c_int, (_conn_p, c_char_p, c_char_p, _READ_CB, c_void_p, c_int64, POINTER(_Header), c_size_t)),
    ("hc_request_fd", c_int, (_conn_p, c_char_p, c_char_p, c_int, POINTER(_Header), c_size_t)),
    ("hc_putrequest", c_int, (_conn_p, c_char_p, c_char_p, c_uint)),
    ("hc_putheader", c_int, (_conn_p, c_char_p, c_char_p)),
    ("hc_endheaders", c_int, (_conn_p, c_char_p, c_size_t)),
    ("hc_send", c_int, (_conn_p, c_char_p, c_size_t)),
    ("hc_send_chunk", c_int, (_conn_p, c_char_p, c_size_t)),
    ("hc_getresponse", c_int, (_conn_p, POINTER(_resp_p))),
    ("hc_response_free", None, (_resp_p,)),
    ("hc_response_status", c_int, (_resp_p,)),
    ("hc_response_reason", c_char_p, (_resp_p,)),
    ("hc_response_version", c_int, (_resp_p,)),
    ("hc_response_read", c_int, (_resp_p, c_void_p, c_size_t, POINTER(c_size_t))),
    ("hc_response_readline", c_int, (_resp_p, c_void_p, c_size_t, POINTER(c_size_t))),
    ("hc_response_read_all", c_int, (_resp_p, POINTER(c_void_p), POINTER(c_size_t))),
    ("hc_buffer_free", None, (c_void_p, c_size_t)),
    ("hc_response_getheader", c_char_p, (_resp_p, c_char_p)),
    ("hc_response_header_count", c_size_t, (_resp_p,)),
    ("hc_response_header", c_int, (_resp_p, c_size_t, POINTER(c_char_p), POINTER(c_char_p))),
    ("hc_response_length", c_int64, (_resp_p,)),
    ("hc_response_isclosed", c_bool, (_resp_p,)),
    ("hc_response_bytes_read", c_uint64, (_resp_p,)),
    ("hc_response_trailer_count", c_size_t, (_resp_p,)),
    ("hc_response_trailer", c_int, (_resp_p, c_size_t, POINTER(c_char_p), POINTER(c_char_p))),
    ("hc_last_error_message", c_size_t, (c_char_p, c_size_t)),
    ("hc_error_parent", c_int, (c_int,)),
]:
    setattr(_hc, _name[3:], _fn(_name, _res, *_args))

# ----- exceptions -----


class Error(Exception):
    """Mixin of every exception raised here: `.code` is the C hc_error code."""

    code = None


class HTTPException(Error):
    code = 1


class NotConnected(HTTPException):
    code = 2


class InvalidURL(HTTPException):
    code = 3


class UnknownProtocol(HTTPException):
    code = 4


class UnknownTransferEncoding(HTTPException):
    code = 5


class UnimplementedFileMode(HTTPException):
    code = 6


class IncompleteRead(HTTPException):
    """`.partial` holds the bytes read before the body was cut short (when known)."""

    code = 7

    def __init__(self, *args, partial=b""):
        super().__init__(*args)
        self.partial = partial


class ImproperConnectionState(HTTPException):
    code = 8


class CannotSendRequest(ImproperConnectionState):
    code = 9


class CannotSendHeader(ImproperConnectionState):
    code = 10


class ResponseNotReady(ImproperConnectionState):
    code = 11


class BadStatusLine(HTTPException):
    code = 12


class LineTooLong(HTTPException):
    code = 13


class RemoteDisconnected(builtins.ConnectionResetError, BadStatusLine):
    """As in http.client: also a ConnectionResetError."""

    code = 14


class TooManyHeaders(HTTPException):
    code = 15


class OSError(builtins.OSError, Error):  # noqa: A001 - the C name, and a built-in OSError
    code = 100


class Timeout(OSError, builtins.TimeoutError):
    code = 101


class ConnectionRefused(OSError, builtins.ConnectionRefusedError):
    code = 102


class ConnectionReset(OSError, builtins.ConnectionResetError):
    code = 103


class HostNotFound(OSError):
    code = 104


class TunnelFailed(OSError):
    code = 105


class TLSError(OSError):
    code = 200


class CertificateVerifyError(TLSError):
    code = 201


class InvalidArgument(Error, ValueError):
    code = 300


class AbortedByCallback(Error):
    code = 400


class InternalError(Error):
    code = 900


_BY_CODE = {
    cls.code: cls
    for cls in (
        HTTPException, NotConnected, InvalidURL, UnknownProtocol, UnknownTransferEncoding,
        UnimplementedFileMode, IncompleteRead, ImproperConnectionState, CannotSendRequest,
        CannotSendHeader, ResponseNotReady, BadStatusLine, LineTooLong, RemoteDisconnected,
        TooManyHeaders, OSError, Timeout, ConnectionRefused, ConnectionReset, HostNotFound,
        TunnelFailed, TLSError, CertificateVerifyError, InvalidArgument, AbortedByCallback,
        InternalError,
    )
}


def _last_message():
    buf = ctypes.create_string_buffer(512)
    n = _hc.last_error_message(buf, 512)
    if n >= 512:
        buf = ctypes.create_string_buffer(n + 1)
        _hc.last_error_message(buf, n + 1)
    return buf.value.decode("utf-8", "replace")


def _error(code):
    cls = _BY_CODE.get(code)
    c = code
    while cls is None and c:
        c = _hc.error_parent(c)
        cls = _BY_CODE.get(c)
    cls = cls or Error
    e = cls(_last_message())
    e.code = code
    return e


def _check(code):
    if code:
        raise _error(code)


# ----- arguments -----


def _b(s, what="argument"):
    if isinstance(s, bytes):
        return s
    if isinstance(s, str):
        # http.client sends method, URL and header values as latin-1 (ASCII for the URL).
        return s.encode("latin-1")
    if isinstance(s, int):
        return str(s).encode("ascii")
    raise TypeError("%s must be str or bytes, not %s" % (what, type(s).__name__))


def _headers(headers):
    """A ctypes array of hc_header and the bytes it points to (kept alive by the caller)."""
    if not headers:
        return None, 0, ()
    items = headers.items() if hasattr(headers, "items") else headers
    keep = []
    for name, value in items:
        keep.append(_b(name, "header name"))
        keep.append(_b(value, "header value"))
    n = len(keep) // 2
    arr = (_Header * n)()
    for i in range(n):
        arr[i].name = keep[2 * i]
        arr[i].value = keep[2 * i + 1]
    return arr, n, keep


def _has(headers, name):
    if not headers:
        return False
    keys = headers.keys() if hasattr(headers, "keys") else (k for k, _ in headers)
    name = name.lower()
    return any(_b(k).decode("latin-1").lower() == name for k in keys)


class _Source:
    """Feeds an iterable of bytes (or a file-like object) to hc_request_stream."""

    def __init__(self, body):
        if hasattr(body, "read"):
            self._read = body.read
            self._it = None
        else:
            self._read = None
            self._it = iter(body)
        self._pending = memoryview(b"")
        self.error = None
        self.callback = _READ_CB(self._fill)

    def _next(self, cap):
        if self._read is not None:
            data = self._read(cap)
        else:
            data = next(self._it, b"")
            while data is not None and len(data) == 0:
                nxt = next(self._it, None)
                if nxt is None:
                    return b""
                data = nxt
        if isinstance(data, str):
            data = data.encode("iso-8859-1")
        return data or b""

    def _fill(self, buf, cap, _ud):
        try:
            if not self._pending:
                self._pending = memoryview(self._next(cap))
                if not self._pending:
                    return 0
            n = min(cap, len(self._pending))
            ctypes.memmove(buf, bytes(self._pending[:n]), n)
            self._pending = self._pending[n:]
            return n
        except BaseException as e:  # noqa: BLE001 - re-raised by the caller
            self.error = e
            return _READ_ABORT


# ----- connections -----


class TLSContext:
    """The TLS settings of an HTTPSConnection (the part of ssl.SSLContext it understands):
    `cafile`/`capath` replace the system's roots, `verify=False` accepts any certificate,
    `certfile`/`keyfile` present a client certificate."""

    def __init__(self, cafile=None, capath=None, verify=True, certfile=None, keyfile=None):
        self.cafile = cafile
        self.capath = capath
        self.verify = verify
        self.certfile = certfile
        self.keyfile = keyfile


class HTTPConnection:
    """http.client.HTTPConnection over libhttpclient."""

    default_port = HTTP_PORT
    response_class = None  # set below
    _new = staticmethod(_hc.connection_new)

    def __init__(self, host, port=None, timeout=None, source_address=None, blocksize=None):
        self._h = None
        h = _conn_p()
        _check(self._new(_b(host, "host"), port or 0, byref(h)))
        self._h = h
        self.host = host
        self.port = port
        self.timeout = timeout
        self.debuglevel = 0
        if timeout is not None:
            _check(_hc.connection_set_timeout(self._h, float(timeout)))
        if source_address is not None:
            ip, sport = source_address
            _check(_hc.connection_set_source_address(self._h, _b(ip), sport or 0))
        if blocksize is not None:
            _check(_hc.connection_set_blocksize(self._h, blocksize))

    def __del__(self):
        h = getattr(self, "_h", None)
        if h:
            self._h = None
            _hc.connection_free(h)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def set_debuglevel(self, level):
        self.debuglevel = level
        _check(_hc.connection_set_debuglevel(self._h, level))

    def set_tunnel(self, host, port=None, headers=None):
        arr, n, _keep = _headers(headers)
        _check(_hc.connection_set_tunnel(self._h, _b(host), port or 0, arr, n))

    def set_continue_timeout(self, seconds):
        _check(_hc.connection_set_continue_timeout(self._h, float(seconds)))

    def connect(self):
        _check(_hc.connection_connect(self._h))

    def close(self):
        if self._h:
            _check(_hc.connection_close(self._h))

    def fileno(self):
        return _hc.connection_fileno(self._h)

    def request(self, method, url, body=None, headers=None, *, encode_chunked=False):
        """http.client's request(): str bodies go out as ISO-8859-1; bytes-like bodies as
        they are; a file or an iterable is streamed (Content-Length when given in `headers`,
        else chunked)."""
        h = self._h
        m = _b(method, "method")
        u = _b(url, "url")
        if body is None or isinstance(body, (bytes, bytearray, memoryview, str)):
            if isinstance(body, str):
                body = body.encode("iso-8859-1")
            elif isinstance(body, (bytearray, memoryview)):
                body = bytes(body)
            arr, n, _keep = _headers(headers)
            if encode_chunked and body is not None and not _has(headers, "transfer-encoding"):
                return self._stream(m, u, [body], -1, headers)
            _check(_hc.request(h, m, u, body, len(body) if body is not None else 0, arr, n))
            return
        length = -1
        if hasattr(body, "fileno") and hasattr(body, "read") and not encode_chunked:
            try:
                fd = body.fileno()
            except (builtins.OSError, AttributeError, ValueError):
                fd = None
            if fd is not None and not hasattr(body, "encoding"):
                arr, n, _keep = _headers(headers)
                _check(_hc.request_fd(h, m, u, fd, arr, n))
                return
        return self._stream(m, u, body, length, headers)

    def _stream(self, m, u, body, length, headers):
        arr, n, _keep = _headers(headers)
        src = _Source(body)
        code = _hc.request_stream(self._h, m, u, src.callback, None, length, arr, n)
        if src.error is not None:
            raise src.error
        _check(code)

    def putrequest(self, method, url, skip_host=False, skip_accept_encoding=False):
        flags = (1 if skip_host else 0) | (2 if skip_accept_encoding else 0)
        _check(_hc.putrequest(self._h, _b(method), _b(url), flags))

    def putheader(self, header, *values):
        value = b", ".join(_b(v, "header value") for v in values)
        _check(_hc.putheader(self._h, _b(header, "header name"), value))

    def endheaders(self, message_body=None, *, encode_chunked=False):
        if isinstance(message_body, str):
            message_body = message_body.encode("iso-8859-1")
        if message_body is None:
            _check(_hc.endheaders(self._h, None, 0))
        else:
            body = bytes(message_body)
            _check(_hc.endheaders(self._h, body if body else b"\0", len(body)))

    def send(self, data):
        if isinstance(data, str):
            data = data.encode("iso-8859-1")
        data = bytes(data)
        _check(_hc.send(self._h, data, len(data)))

    def send_chunk(self, data):
        """One chunk of a chunked body left open by endheaders(); b"" ends it."""
        data = bytes(data)
        _check(_hc.send_chunk(self._h, data if data else None, len(data)))

    def getresponse(self):
        r = _resp_p()
        _check(_hc.getresponse(self._h, byref(r)))
        return HTTPResponse(r)


class HTTPSConnection(HTTPConnection):
    """http.client.HTTPSConnection: `context` is a TLSContext (or an object with the same
    attributes; an ssl.SSLContext whose verify_mode is CERT_NONE turns verification off)."""

    default_port = HTTPS_PORT
    _new = staticmethod(_hc.https_connection_new)

    def __init__(self, host, port=None, *, timeout=None, source_address=None, context=None,
                 blocksize=None, cafile=None, verify=None):
        super().__init__(host, port, timeout, source_address, blocksize)
        if context is not None:
            cafile = cafile or getattr(context, "cafile", None)
            capath = getattr(context, "capath", None)
            if verify is None:
                verify = getattr(context, "verify", None)
                if verify is None and getattr(context, "verify_mode", None) is not None:
                    verify = int(context.verify_mode) != 0  # ssl.CERT_NONE == 0
            cert = getattr(context, "certfile", None)
            key = getattr(context, "keyfile", None)
            if capath:
                _check(_hc.connection_set_ca_path(self._h, _b(os.fspath(capath))))
            if cert:
                _check(_hc.connection_set_client_cert(
                    self._h, _b(os.fspath(cert)), _b(os.fspath(key or cert))))
        if cafile:
            _check(_hc.connection_set_ca_file(self._h, _b(os.fspath(cafile))))
        if verify is not None and not verify:
            _check(_hc.connection_set_verify(self._h, False))


# ----- responses -----


class HTTPResponse:
    """http.client.HTTPResponse: status, reason, version, headers, and the body."""

    def __init__(self, handle):
        self._h = handle
        self.status = _hc.response_status(handle)
        self.code = self.status
        self.version = _hc.response_version(handle)
        self.reason = (_hc.response_reason(handle) or b"").decode("latin-1")
        self._headers = None
        self.chunked = False

    def __del__(self):
        h = getattr(self, "_h", None)
        if h:
            self._h = None
            _hc.response_free(h)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __iter__(self):
        while True:
            line = self.readline()
            if not line:
                return
            yield line

    def close(self):
        h, self._h = self._h, None
        if h:
            _hc.response_free(h)

    @property
    def closed(self):
        return self._h is None or _hc.response_isclosed(self._h)

    def isclosed(self):
        return self._h is None or _hc.response_isclosed(self._h)

    @property
    def length(self):
        if self._h is None:
            return None
        n = _hc.response_length(self._h)
        return None if n < 0 else n

    def bytes_read(self):
        return 0 if self._h is None else _hc.response_bytes_read(self._h)

    def getheaders(self):
        if self._headers is None:
            out = []
            if self._h is not None:
                name, value = c_char_p(), c_char_p()
                for i in range(_hc.response_header_count(self._h)):
                    _check(_hc.response_header(self._h, i, byref(name), byref(value)))
                    out.append((name.value.decode("latin-1"), value.value.decode("latin-1")))
            self._headers = out
        return list(self._headers)

    @property
    def headers(self):
        return self.getheaders()

    msg = headers

    def getheader(self, name, default=None):
        if self._h is None:
            return default
        v = _hc.response_getheader(self._h, _b(name, "header name"))
        return default if v is None else v.decode("latin-1")

    def gettrailers(self):
        """The trailer fields of a chunked body once it ended (a list of pairs)."""
        out = []
        if self._h is not None:
            name, value = c_char_p(), c_char_p()
            for i in range(_hc.response_trailer_count(self._h)):
                _check(_hc.response_trailer(self._h, i, byref(name), byref(value)))
                out.append((name.value.decode("latin-1"), value.value.decode("latin-1")))
        return out

    def read(self, amt=None):
        if self._h is None:
            return b""
        if amt is None or amt < 0:
            ptr, n = c_void_p(), c_size_t()
            code = _hc.response_read_all(self._h, byref(ptr), byref(n))
            if code and not ptr:
                raise _error(code)
            data = ctypes.string_at(ptr, n.value) if n.value else b""
            _hc.buffer_free(ptr, n.value)
            if code:
                e = _error(code)
                if isinstance(e, IncompleteRead):
                    e.partial = data
                raise e
            return data
        buf = bytearray(amt)
        n = self.readinto(buf)
        del buf[n:]
        return bytes(buf)

    def readinto(self, b):
        if self._h is None:
            return 0
        mv = memoryview(b).cast("B")
        cap = len(mv)
        if cap == 0:
            return 0
        n = c_size_t()
        cbuf = (c_char * cap).from_buffer(mv)
        code = _hc.response_read(self._h, cbuf, cap, byref(n))
        if code:
            e = _error(code)
            if isinstance(e, IncompleteRead):
                e.partial = bytes(mv[: n.value])
            raise e
        return n.value

    def read1(self, amt=-1):
        return self.read(amt if amt and amt > 0 else 16384)

    def readline(self, limit=-1):
        if self._h is None:
            return b""
        cap = limit if limit is not None and limit >= 0 else 65536
        out = b""
        n = c_size_t()
        while True:
            buf = ctypes.create_string_buffer(cap) if cap else None
            code = _hc.response_readline(self._h, buf, cap, byref(n))
            if code:
                raise _error(code)
            out += buf.raw[: n.value] if buf is not None else b""
            # Without a limit, a line longer than the buffer continues.
            if limit is not None and limit >= 0:
                return out
            if n.value < cap or out.endswith(b"\n"):
                return out

    def fileno(self):
        raise builtins.OSError("httpclient responses have no file descriptor of their own")


HTTPConnection.response_class = HTTPResponse
