"""HTTPConnection and HTTPSConnection: http.client's connection API over hc_connection."""

import builtins
import ctypes
import os
import weakref
from ctypes import (POINTER, byref, c_bool, c_char_p, c_double, c_int, c_int64, c_size_t,
                    c_uint, c_uint16, c_void_p)

from ._lib import READ_ABORT, READ_CB, Header, b, bind, has_header
from ._lib import headers as _headers  # `headers` is request()'s parameter
from .errors import check
from .response import HTTPResponse

__all__ = ["HTTPConnection", "HTTPSConnection", "TLSContext", "HTTP_PORT", "HTTPS_PORT",
           "WANT_READ", "WANT_WRITE"]

HTTP_PORT = 80
HTTPS_PORT = 443

_conn_p = c_void_p
_HDRS = POINTER(Header)
_new = bind("hc_connection_new", c_int, c_char_p, c_uint16, POINTER(_conn_p))
_https_new = bind("hc_https_connection_new", c_int, c_char_p, c_uint16, POINTER(_conn_p))
_free = bind("hc_connection_free", None, _conn_p)
_set_timeout = bind("hc_connection_set_timeout", c_int, _conn_p, c_double)
_set_debuglevel = bind("hc_connection_set_debuglevel", c_int, _conn_p, c_int)
_set_ca_file = bind("hc_connection_set_ca_file", c_int, _conn_p, c_char_p)
_set_ca_path = bind("hc_connection_set_ca_path", c_int, _conn_p, c_char_p)
_set_client_cert = bind("hc_connection_set_client_cert", c_int, _conn_p, c_char_p, c_char_p)
_set_verify = bind("hc_connection_set_verify", c_int, _conn_p, c_bool)
_set_source_address = bind("hc_connection_set_source_address", c_int, _conn_p, c_char_p,
                           c_uint16)
_set_blocksize = bind("hc_connection_set_blocksize", c_int, _conn_p, c_size_t)
_set_tunnel = bind("hc_connection_set_tunnel", c_int, _conn_p, c_char_p, c_uint16, _HDRS,
                   c_size_t)
_set_continue_timeout = bind("hc_connection_set_continue_timeout", c_int, _conn_p, c_double)
_connect = bind("hc_connection_connect", c_int, _conn_p)
_close = bind("hc_connection_close", c_int, _conn_p)
_fileno = bind("hc_connection_fileno", c_int, _conn_p)
_request = bind("hc_request", c_int, _conn_p, c_char_p, c_char_p, c_char_p, c_size_t, _HDRS,
                c_size_t)
_request_stream = bind("hc_request_stream", c_int, _conn_p, c_char_p, c_char_p, READ_CB,
                       c_void_p, c_int64, _HDRS, c_size_t)
_request_fd = bind("hc_request_fd", c_int, _conn_p, c_char_p, c_char_p, c_int, _HDRS,
                   c_size_t)
_putrequest = bind("hc_putrequest", c_int, _conn_p, c_char_p, c_char_p, c_uint)
_putheader = bind("hc_putheader", c_int, _conn_p, c_char_p, c_char_p)
_endheaders = bind("hc_endheaders", c_int, _conn_p, c_char_p, c_size_t)
_send = bind("hc_send", c_int, _conn_p, c_char_p, c_size_t)
_send_chunk = bind("hc_send_chunk", c_int, _conn_p, c_char_p, c_size_t)
_getresponse = bind("hc_getresponse", c_int, _conn_p, POINTER(c_void_p))
_set_blocking = bind("hc_connection_set_blocking", c_int, _conn_p, c_bool)
_want = bind("hc_connection_want", c_int, _conn_p)
_timeout_ms = bind("hc_connection_timeout_ms", c_int64, _conn_p)

#: What a call that raised BlockingIOError waits for (bits of want()): the same values as
#: selectors.EVENT_READ and selectors.EVENT_WRITE.
WANT_READ = 1
WANT_WRITE = 2
_WOULD_BLOCK = 108


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
        self.callback = READ_CB(self._fill)

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
            return READ_ABORT


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
    """http.client.HTTPConnection over libhttpclient. The C handle is freed when the object
    is collected (weakref.finalize, so also at interpreter exit); close() only closes the
    socket, and the next request opens a new one, as in http.client."""

    default_port = HTTP_PORT
    response_class = HTTPResponse
    _new = staticmethod(_new)

    def __init__(self, host, port=None, timeout=None, source_address=None, blocksize=None):
        self._h = None
        self._pending = None  # (call, key, args) of a call that raised BlockingIOError
        h = _conn_p()
        check(self._new(b(host, "host"), port or 0, byref(h)))
        self._h = h
        self._finalizer = weakref.finalize(self, _free, h)
        self.host = host
        self.port = port
        self.timeout = timeout
        self.debuglevel = 0
        if timeout is not None:
            check(_set_timeout(self._h, float(timeout)))
        if source_address is not None:
            ip, sport = source_address
            check(_set_source_address(self._h, b(ip), sport or 0))
        if blocksize is not None:
            check(_set_blocksize(self._h, blocksize))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def set_debuglevel(self, level):
        self.debuglevel = level
        check(_set_debuglevel(self._h, level))

    def set_tunnel(self, host, port=None, headers=None):
        arr, n, _keep = _headers(headers)
        check(_set_tunnel(self._h, b(host), port or 0, arr, n))

    def set_continue_timeout(self, seconds):
        check(_set_continue_timeout(self._h, float(seconds)))

    def connect(self):
        check(self._call("connect", None, lambda: ((self._h,),), _connect)[0])

    def close(self):
        if self._h:
            check(_close(self._h))

    def fileno(self):
        return _fileno(self._h)

    # --- non-blocking mode (docs/nonblocking.md) ----------------------------------------------

    def setblocking(self, flag):
        """As socket.setblocking: with False, a call that would wait for the network raises
        BlockingIOError (httpclient.BlockingIOError, a subclass of the built-in one) instead.
        Then wait until fileno() is ready for want() (e.g. with selectors) and repeat the same
        call with the same arguments: it continues where it stopped. fileno() can change (a
        host name being resolved, a reopened connection): read it after every
        BlockingIOError. The timeout of the constructor does not apply in this mode."""
        check(_set_blocking(self._h, bool(flag)))
        self._blocking = bool(flag)

    def getblocking(self):
        return getattr(self, "_blocking", True)

    def want(self):
        """After BlockingIOError: what the call waits for, WANT_READ and/or WANT_WRITE (equal
        to selectors.EVENT_READ / EVENT_WRITE, so it can be passed to register()); else 0."""
        return max(_want(self._h), 0)

    def next_timeout(self):
        """Seconds until a call must be made again even if fileno() stays quiet (the
        100-continue wait, a deadline), for selector.select(timeout); None when nothing is
        timed."""
        ms = _timeout_ms(self._h)
        return None if ms < 0 else ms / 1000.0

    def _call(self, name, key, build, cfunc):
        """cfunc(*args), args made by build(). A call that raised BlockingIOError must be
        repeated with the same pointers, so its arguments are kept, and a repeated call with
        equal arguments (`key`) passes the kept ones. Returns the code."""
        pending = self._pending
        repeat = pending is not None and pending[0] == name and pending[1] == key
        args = pending[2] if repeat else build()
        code = cfunc(*args[0])
        if code == _WOULD_BLOCK:
            self._pending = (name, key, args)
        elif repeat or code == 0:
            self._pending = None
        return code, args

    def request(self, method, url, body=None, headers=None, *, encode_chunked=False):
        """http.client's request(): str bodies go out as ISO-8859-1; bytes-like bodies as
        they are; a file or an iterable is streamed (Content-Length when given in `headers`,
        else chunked)."""
        hkey = tuple(headers.items()) if hasattr(headers, "items") else (
            tuple(headers) if headers else None)
        bkey = body if body is None or isinstance(body, (bytes, str)) else id(body)
        key = (method, url, bkey, hkey, encode_chunked)
        code, args = self._call("request", key,
                                lambda: self._request_args(method, url, body, headers,
                                                           encode_chunked),
                                lambda *a: a[0](*a[1:]))
        src = args[1]
        if src is not None and src.error is not None:
            raise src.error
        check(code)

    def _request_args(self, method, url, body, headers, encode_chunked):
        """((C function, its arguments...), the _Source of a streamed body or None, what the
        arguments point to)."""
        h = self._h
        m = b(method, "method")
        u = b(url, "url")
        arr, n, keep = _headers(headers)
        if body is None or isinstance(body, (bytes, bytearray, memoryview, str)):
            if isinstance(body, str):
                body = body.encode("iso-8859-1")
            elif isinstance(body, (bytearray, memoryview)):
                body = bytes(body)
            if encode_chunked and body is not None and not has_header(headers,
                                                                      "transfer-encoding"):
                return self._stream_args(m, u, [body], -1, arr, n, keep)
            return ((_request, h, m, u, body, len(body) if body is not None else 0, arr, n),
                    None, keep)
        if hasattr(body, "fileno") and hasattr(body, "read") and not encode_chunked:
            try:
                fd = body.fileno()
            except (builtins.OSError, AttributeError, ValueError):
                fd = None
            if fd is not None and not hasattr(body, "encoding"):
                return (_request_fd, h, m, u, fd, arr, n), None, keep
        return self._stream_args(m, u, body, -1, arr, n, keep)

    def _stream_args(self, m, u, body, length, arr, n, keep):
        src = _Source(body)
        return (_request_stream, self._h, m, u, src.callback, None, length, arr, n), src, keep

    def putrequest(self, method, url, skip_host=False, skip_accept_encoding=False):
        flags = (1 if skip_host else 0) | (2 if skip_accept_encoding else 0)
        check(_putrequest(self._h, b(method), b(url), flags))

    def putheader(self, header, *values):
        value = b", ".join(b(v, "header value") for v in values)
        check(_putheader(self._h, b(header, "header name"), value))

    def endheaders(self, message_body=None, *, encode_chunked=False):
        if isinstance(message_body, str):
            message_body = message_body.encode("iso-8859-1")
        def build():
            if message_body is None:
                return ((self._h, None, 0),)
            body = bytes(message_body)
            return ((self._h, body if body else b"\0", len(body)),)

        check(self._call("endheaders", message_body, build, _endheaders)[0])

    def send(self, data):
        if isinstance(data, str):
            data = data.encode("iso-8859-1")
        data = bytes(data)
        check(self._call("send", data, lambda: ((self._h, data, len(data)),), _send)[0])

    def send_chunk(self, data):
        """One chunk of a chunked body left open by endheaders(); b"" ends it."""
        data = bytes(data)
        check(self._call("send_chunk", data,
                         lambda: ((self._h, data if data else None, len(data)),), _send_chunk)[0])

    def getresponse(self):
        r = c_void_p()
        check(_getresponse(self._h, byref(r)))
        return self.response_class(r)


class HTTPSConnection(HTTPConnection):
    """http.client.HTTPSConnection: `context` is a TLSContext (or an object with the same
    attributes; an ssl.SSLContext whose verify_mode is CERT_NONE turns verification off)."""

    default_port = HTTPS_PORT
    _new = staticmethod(_https_new)

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
                check(_set_ca_path(self._h, b(os.fspath(capath))))
            if cert:
                check(_set_client_cert(self._h, b(os.fspath(cert)), b(os.fspath(key or cert))))
        if cafile:
            check(_set_ca_file(self._h, b(os.fspath(cafile))))
        if verify is not None and not verify:
            check(_set_verify(self._h, False))
