"""The URL-level client (hc_client): `Client().request("GET", url)`, and the module-level
`request` and `urlopen` on a default client.

    import httpclient
    with httpclient.urlopen("https://example.org/") as resp:
        print(resp.status, resp.url, resp.read())

A Client owns a pool of connections and a TLS session cache, follows redirects (at most 10;
never to another scheme, never https -> http, credentials dropped once a redirect leaves the
first origin), decodes gzip/deflate/br/zstd, takes proxies from the environment as curl does,
and may be shared by any number of threads. Its responses are HTTPResponse objects (an
io.BufferedIOBase with `status`, `reason`, `headers`...) with `url`, `redirect_count`,
`redirect_location` and `decoded` added. docs/client.md has the rules.
"""

import os
import threading
import weakref
from ctypes import POINTER, byref, c_bool, c_char_p, c_double, c_int, c_int64, c_size_t, c_uint
from ctypes import c_uint16, c_uint64, c_uint8, c_void_p

from ._lib import READ_CB, b, bind
from .connection import _Source
from .errors import check
from .response import HTTPResponse

__all__ = [
    "Client", "ClientResponse", "request", "urlopen", "REDIRECT_ALLOW_DOWNGRADE",
    "REDIRECT_KEEP_CREDENTIALS", "ENCODING_GZIP", "ENCODING_DEFLATE", "ENCODING_BR",
    "ENCODING_ZSTD", "ENCODING_ALL",
]

REDIRECT_ALLOW_DOWNGRADE = 1
REDIRECT_KEEP_CREDENTIALS = 2
ENCODING_GZIP = 1
ENCODING_DEFLATE = 2
ENCODING_BR = 4
ENCODING_ZSTD = 8
ENCODING_ALL = 15
_HEADER_SENSITIVE = 1
_AUTH_BASIC = 1

_p = c_void_p
_new = bind("hc_client_new", c_int, POINTER(_p))
_free = bind("hc_client_free", None, _p)
_set_max_redirects = bind("hc_client_set_max_redirects", c_int, _p, c_int)
_set_redirect_flags = bind("hc_client_set_redirect_flags", c_int, _p, c_uint)
_set_accept_encoding = bind("hc_client_set_accept_encoding", c_int, _p, c_uint)
_set_max_decoded_size = bind("hc_client_set_max_decoded_size", c_int, _p, c_uint64)
_set_proxy = bind("hc_client_set_proxy", c_int, _p, c_char_p)
_set_no_proxy = bind("hc_client_set_no_proxy", c_int, _p, c_char_p)
_set_connect_timeout = bind("hc_client_set_connect_timeout", c_int, _p, c_double)
_set_timeout = bind("hc_client_set_timeout", c_int, _p, c_double)
_set_total_timeout = bind("hc_client_set_total_timeout", c_int, _p, c_double)
_set_ca_file = bind("hc_client_set_ca_file", c_int, _p, c_char_p)
_set_ca_path = bind("hc_client_set_ca_path", c_int, _p, c_char_p)
_set_client_cert = bind("hc_client_set_client_cert", c_int, _p, c_char_p, c_char_p)
_set_verify = bind("hc_client_set_verify", c_int, _p, c_bool)
_set_tls_session_cache = bind("hc_client_set_tls_session_cache", c_int, _p, c_bool)
_set_pool_limits = bind("hc_client_set_pool_limits", c_int, _p, c_size_t, c_size_t, c_double)
_set_source_address = bind("hc_client_set_source_address", c_int, _p, c_char_p, c_uint16)
_close_idle = bind("hc_client_close_idle", c_int, _p)
_call_new = bind("hc_call_new", c_int, _p, c_char_p, c_char_p, POINTER(_p))
_call_free = bind("hc_call_free", None, _p)
_call_add_header = bind("hc_call_add_header", c_int, _p, c_char_p, c_char_p, c_uint)
_call_set_body = bind("hc_call_set_body", c_int, _p, POINTER(c_uint8), c_size_t)
_call_set_body_stream = bind("hc_call_set_body_stream", c_int, _p, READ_CB, c_void_p, c_int64)
_call_set_body_fd = bind("hc_call_set_body_fd", c_int, _p, c_int)
_call_set_auth = bind("hc_call_set_auth", c_int, _p, c_char_p, c_char_p, c_uint)
_call_set_max_redirects = bind("hc_call_set_max_redirects", c_int, _p, c_int)
_call_set_total_timeout = bind("hc_call_set_total_timeout", c_int, _p, c_double)
_call_send = bind("hc_call_send", c_int, _p, POINTER(_p))
_resp_url = bind("hc_response_url", c_char_p, _p)
_resp_redirect_count = bind("hc_response_redirect_count", c_int, _p)
_resp_redirect_location = bind("hc_response_redirect_location", c_char_p, _p)
_resp_decoded = bind("hc_response_decoded", c_bool, _p)

_FROM_ENV = object()


class ClientResponse(HTTPResponse):
    """An HTTPResponse from a Client, with what the client learned on the way: `url` (the
    final URL, userinfo removed), `redirect_count`, `redirect_location` (the target of a 3xx
    that was returned instead of followed, else None) and `decoded` (the body is being
    decoded: read() gives decoded bytes, `length` is None)."""

    def __init__(self, handle):
        super().__init__(handle)
        self.url = (_resp_url(handle) or b"").decode("utf-8", "replace")
        self.redirect_count = _resp_redirect_count(handle)
        loc = _resp_redirect_location(handle)
        self.redirect_location = loc.decode("utf-8", "replace") if loc is not None else None
        self.decoded = bool(_resp_decoded(handle))

    def geturl(self):
        """urllib's name for `url`."""
        return self.url


def _seconds(v):
    return 0.0 if v is None else float(v)


class Client:
    """A thread-safe URL-level client. Every keyword is optional and maps to one
    hc_client_set_* setter: max_redirects (10), redirect_flags (0), accept_encoding
    (ENCODING_ALL; 0 sends no Accept-Encoding), max_decoded_size (1 GiB; 0: none), proxy
    (from the environment; "" none; else "http://[user:pw@]host:port"), no_proxy (from the
    environment), connect_timeout, timeout (each read/write), total_timeout (the whole call),
    cafile, capath, certfile/keyfile, verify (True), tls_session_cache (True), pool, a tuple
    (idle_per_key, idle_total, idle_timeout_s), and source_address, a (host, port) tuple as
    http.client's (the local address to connect from; port 0: any). The C handle is freed
    by close() or when the object is collected; responses already handed out stay readable."""

    def __init__(self, *, max_redirects=None, redirect_flags=None, accept_encoding=None,
                 max_decoded_size=None, proxy=_FROM_ENV, no_proxy=None, connect_timeout=None,
                 timeout=None, total_timeout=None, cafile=None, capath=None, certfile=None,
                 keyfile=None, verify=True, tls_session_cache=True, pool=None,
                 source_address=None):
        h = _p()
        check(_new(byref(h)))
        self._h = h
        self._finalizer = weakref.finalize(self, _free, h)
        if max_redirects is not None:
            check(_set_max_redirects(h, max_redirects))
        if redirect_flags is not None:
            check(_set_redirect_flags(h, redirect_flags))
        if accept_encoding is not None:
            check(_set_accept_encoding(h, accept_encoding))
        if max_decoded_size is not None:
            check(_set_max_decoded_size(h, max_decoded_size))
        if proxy is not _FROM_ENV:
            check(_set_proxy(h, None if proxy is None else b(proxy, "proxy")))
        if no_proxy is not None:
            check(_set_no_proxy(h, b(no_proxy, "no_proxy")))
        if connect_timeout is not None:
            check(_set_connect_timeout(h, _seconds(connect_timeout)))
        if timeout is not None:
            check(_set_timeout(h, _seconds(timeout)))
        if total_timeout is not None:
            check(_set_total_timeout(h, _seconds(total_timeout)))
        if cafile is not None:
            check(_set_ca_file(h, os.fsencode(cafile)))
        if capath is not None:
            check(_set_ca_path(h, os.fsencode(capath)))
        if certfile is not None or keyfile is not None:
            check(_set_client_cert(h, os.fsencode(certfile or ""), os.fsencode(keyfile or "")))
        if not verify:
            check(_set_verify(h, False))
        if not tls_session_cache:
            check(_set_tls_session_cache(h, False))
        if pool is not None:
            per_key, total, idle = pool
            check(_set_pool_limits(h, per_key, total, _seconds(idle)))
        if source_address is not None:
            ip, sport = source_address
            check(_set_source_address(h, b(ip, "source_address"), sport or 0))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        """Frees the client (its idle connections are closed); responses stay readable."""
        h, self._h = self._h, None
        if h:
            self._finalizer()

    def close_idle(self):
        """Closes the idle connections now (e.g. before os.fork())."""
        check(_close_idle(self._handle()))

    def _handle(self):
        if self._h is None:
            raise ValueError("the client is closed")
        return self._h

    def request(self, method, url, body=None, headers=None, *, auth=None, max_redirects=None,
                total_timeout=None, sensitive_headers=None):
        """Sends `method` to `url` and returns the final ClientResponse with its head read.
        `body`: bytes or str (ISO-8859-1, as http.client), a regular file opened in binary
        mode (sent with Content-Length, rewound for a 307/308), or an iterable of bytes or a
        file-like object (streamed chunked, unless `headers` gives a Content-Length; never
        sent twice: a redirect that would need it is returned). `headers`: a mapping or pairs;
        `sensitive_headers` likewise, dropped once a redirect leaves the first origin. `auth`:
        (user, password) for Basic, sent to the first origin only."""
        call = _p()
        check(_call_new(self._handle(), b(method, "method"), b(url, "url"), byref(call)))
        try:
            source = self._build(call, body, headers, auth, max_redirects, total_timeout,
                                 sensitive_headers)
            resp = _p()
            code = _call_send(call, byref(resp))
            if source is not None and source.error is not None:
                raise source.error
            check(code)
            return ClientResponse(resp)
        finally:
            _call_free(call)

    def _build(self, call, body, headers, auth, max_redirects, total_timeout, sensitive):
        for hdrs, flags in ((headers, 0), (sensitive, _HEADER_SENSITIVE)):
            if hdrs:
                items = hdrs.items() if hasattr(hdrs, "items") else hdrs
                for name, value in items:
                    check(_call_add_header(call, b(name, "header name"),
                                           b(value, "header value"), flags))
        if auth is not None:
            user, password = auth
            check(_call_set_auth(call, b(user, "user"), b(password, "password"), _AUTH_BASIC))
        if max_redirects is not None:
            check(_call_set_max_redirects(call, max_redirects))
        if total_timeout is not None:
            check(_call_set_total_timeout(call, _seconds(total_timeout)))
        if body is None:
            return None
        if isinstance(body, str):
            body = body.encode("iso-8859-1")
        if isinstance(body, (bytes, bytearray, memoryview)):
            data = bytes(body)
            buf = (c_uint8 * len(data)).from_buffer_copy(data) if data else None
            check(_call_set_body(call, buf, len(data)))
            return None
        fileno = getattr(body, "fileno", None)
        if fileno is not None:
            try:
                fd = fileno()
            except (OSError, ValueError, AttributeError):
                fd = None
            if fd is not None:
                check(_call_set_body_fd(call, fd))
                return None
        # Chunked; with the caller's own Content-Length, streamed as is until the source ends.
        source = _Source(body)
        check(_call_set_body_stream(call, source.callback, None, -1))
        return source

    def get(self, url, **kw):
        return self.request("GET", url, **kw)


_default = None
_default_lock = threading.Lock()


def _default_client():
    global _default
    with _default_lock:
        if _default is None:
            _default = Client()
        return _default


def request(method, url, body=None, headers=None, **kw):
    """Client.request on a module-wide default Client (made on first use; it reads the proxy
    environment then)."""
    return _default_client().request(method, url, body, headers, **kw)


def urlopen(url, data=None, timeout=None, *, headers=None):
    """urllib.request.urlopen's shape: GET, or POST when `data` is given; `timeout` bounds the
    whole call (every redirect and the head; the body too as it is read). Returns a
    ClientResponse (a context manager)."""
    method = "GET" if data is None else "POST"
    return _default_client().request(method, url, data, headers, total_timeout=timeout)
