"""HTTPResponse: http.client's response over hc_response, an io.BufferedIOBase."""

import ctypes
import http.client
import io
import weakref
from ctypes import POINTER, byref, c_bool, c_char, c_char_p, c_int, c_int64, c_size_t, c_uint64
from ctypes import c_void_p

from .errors import IncompleteRead, check, error
from ._lib import b, bind

__all__ = ["HTTPResponse"]

_WOULD_BLOCK = 108

_resp_p = c_void_p
_free = bind("hc_response_free", None, _resp_p)
_status = bind("hc_response_status", c_int, _resp_p)
_reason = bind("hc_response_reason", c_char_p, _resp_p)
_version = bind("hc_response_version", c_int, _resp_p)
_read = bind("hc_response_read", c_int, _resp_p, c_void_p, c_size_t, POINTER(c_size_t))
_readline = bind("hc_response_readline", c_int, _resp_p, c_void_p, c_size_t, POINTER(c_size_t))
_read_all = bind("hc_response_read_all", c_int, _resp_p, POINTER(c_void_p), POINTER(c_size_t))
_buffer_free = bind("hc_buffer_free", None, c_void_p, c_size_t)
_header_count = bind("hc_response_header_count", c_size_t, _resp_p)
_header = bind("hc_response_header", c_int, _resp_p, c_size_t, POINTER(c_char_p),
               POINTER(c_char_p))
_length = bind("hc_response_length", c_int64, _resp_p)
_isclosed = bind("hc_response_isclosed", c_bool, _resp_p)
_bytes_read = bind("hc_response_bytes_read", c_uint64, _resp_p)
_trailer_count = bind("hc_response_trailer_count", c_size_t, _resp_p)
_trailer = bind("hc_response_trailer", c_int, _resp_p, c_size_t, POINTER(c_char_p),
                POINTER(c_char_p))
_want = bind("hc_response_want", c_int, _resp_p)
_fileno = bind("hc_response_fileno", c_int, _resp_p)


def _fields(h, count, get):
    out = []
    name, value = c_char_p(), c_char_p()
    for i in range(count(h)):
        check(get(h, i, byref(name), byref(value)))
        out.append((name.value.decode("latin-1"), value.value.decode("latin-1")))
    return out


class HTTPResponse(io.BufferedIOBase):
    """http.client.HTTPResponse: `status`, `reason`, `version`, `msg`/`headers` (an
    http.client.HTTPMessage), and the body as a readable binary stream, so that
    io.TextIOWrapper(resp) reads it as text. isclosed() is true once the body ended; the C
    handle is freed by close() or when the object is collected (weakref.finalize)."""

    def __init__(self, handle):
        super().__init__()
        self._h = handle
        self._line = None  # readline's buffer, the same one for a call repeated after BlockingIOError
        self._line_out = b""  # what readline() had when a read raised BlockingIOError
        self._all = None  # read_all's out-parameters while it is repeated after BlockingIOError
        self._finalizer = weakref.finalize(self, _free, handle)
        self.status = _status(handle)
        self.code = self.status
        self.version = _version(handle)
        self.reason = (_reason(handle) or b"").decode("latin-1")
        self.msg = http.client.HTTPMessage()
        for name, value in _fields(handle, _header_count, _header):
            self.msg[name] = value
        self.headers = self.msg
        self.chunked = "chunked" in (self.msg.get("Transfer-Encoding") or "").lower()

    # --- io ------------------------------------------------------------------------------------

    def readable(self):
        return True

    def close(self):
        try:
            super().close()
        finally:
            h, self._h = self._h, None
            if h:
                self._finalizer()

    def fileno(self):
        """The descriptor the body is read from (the connection's socket, as in http.client),
        for selectors with want(); -1 once the body ended or the response was closed. It stays
        the library's: never read from it or close it."""
        return -1 if self._h is None else _fileno(self._h)

    def want(self):
        """After a read raised BlockingIOError (non-blocking mode): WANT_READ and/or
        WANT_WRITE (selectors.EVENT_READ / EVENT_WRITE); else 0."""
        return 0 if self._h is None else max(_want(self._h), 0)

    def read(self, amt=None):
        if self._h is None:
            return b""
        if amt is None or amt < 0:
            # A read_all repeated after BlockingIOError must pass the same out-pointers: they
            # are kept until it ends.
            if self._all is None:
                self._all = (c_void_p(), c_size_t())
            ptr, n = self._all
            code = _read_all(self._h, byref(ptr), byref(n))
            if code != _WOULD_BLOCK:
                self._all = None
            if code and not ptr:
                raise error(code)
            data = ctypes.string_at(ptr, n.value) if n.value else b""
            _buffer_free(ptr, n.value)
            if code:
                e = error(code)
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
        code = _read(self._h, cbuf, cap, byref(n))
        if code:
            e = error(code)
            if isinstance(e, IncompleteRead):
                e.partial = bytes(mv[: n.value])
            raise e
        return n.value

    readinto1 = readinto

    def read1(self, n=-1):
        return self.read(n if n is not None and n > 0 else 16384)

    def readline(self, limit=-1):
        if self._h is None:
            return b""
        cap = limit if limit is not None and limit >= 0 else 65536
        out, self._line_out = self._line_out, b""
        n = c_size_t()
        while True:
            if cap and (self._line is None or len(self._line) != cap):
                self._line = ctypes.create_string_buffer(cap)
            buf = self._line if cap else None
            code = _readline(self._h, buf, cap, byref(n))
            if code:
                if code == _WOULD_BLOCK:  # the repeated call continues this line
                    self._line_out = out
                raise error(code)
            out += buf.raw[: n.value] if buf is not None else b""
            # Without a limit, a line longer than the buffer continues.
            if limit is not None and limit >= 0:
                return out
            if n.value < cap or out.endswith(b"\n"):
                return out

    # --- http.client ---------------------------------------------------------------------------

    def isclosed(self):
        """True once the body was read to its end (or the response was closed)."""
        return self._h is None or _isclosed(self._h)

    @property
    def length(self):
        if self._h is None:
            return None
        n = _length(self._h)
        return None if n < 0 else n

    def bytes_read(self):
        return 0 if self._h is None else _bytes_read(self._h)

    def getheader(self, name, default=None):
        if not isinstance(name, str):
            name = b(name, "header name").decode("latin-1")
        values = self.msg.get_all(name)
        return default if not values else ", ".join(values)

    def getheaders(self):
        return list(self.msg.items())

    def info(self):
        return self.msg

    def getcode(self):
        return self.status

    def gettrailers(self):
        """The trailer fields of a chunked body once it ended (a list of pairs)."""
        return [] if self._h is None else _fields(self._h, _trailer_count, _trailer)
