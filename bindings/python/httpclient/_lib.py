"""Finding and loading libhttpclient, and declaring the C functions for ctypes.

Other modules declare the functions they use with `bind(name, restype, *argtypes)`; the
result is cached, so declaring a function twice is harmless.
"""

import ctypes
import ctypes.util
import glob
import os
from ctypes import CFUNCTYPE, POINTER, Structure, c_size_t, c_uint8, c_void_p, c_char_p

HERE = os.path.dirname(os.path.abspath(__file__))


def _find_library():
    """$HTTPCLIENT_LIB; else the copy bundled in this package (a wheel); else the build of
    the source checkout this package sits in; else the system's libhttpclient.so.0."""
    env = os.environ.get("HTTPCLIENT_LIB")
    if env:
        return env
    bundled = sorted(glob.glob(os.path.join(HERE, "libhttpclient*.so*")))
    if bundled:
        return bundled[0]
    root = os.path.normpath(os.path.join(HERE, "..", "..", ".."))
    for profile in ("release", "debug"):
        p = os.path.join(root, "target", profile, "libhttpclient.so")
        if os.path.exists(p):
            return p
    return ctypes.util.find_library("httpclient") or "libhttpclient.so.0"


path = _find_library()
lib = ctypes.CDLL(path)


class Header(Structure):
    """hc_header: a request header's name and value."""

    _fields_ = [("name", c_char_p), ("value", c_char_p)]


READ_CB = CFUNCTYPE(c_size_t, POINTER(c_uint8), c_size_t, c_void_p)
READ_ABORT = ctypes.c_size_t(-1).value

_bound = {}


def bind(name, restype, *argtypes):
    """The C function `name` with its result and argument types set."""
    f = _bound.get(name)
    if f is None:
        f = getattr(lib, name)
        f.restype = restype
        f.argtypes = argtypes
        _bound[name] = f
    return f


def b(s, what="argument"):
    """A str (as ISO-8859-1, as http.client sends it), bytes or int as bytes."""
    if isinstance(s, bytes):
        return s
    if isinstance(s, str):
        return s.encode("latin-1")
    if isinstance(s, int):
        return str(s).encode("ascii")
    raise TypeError("%s must be str or bytes, not %s" % (what, type(s).__name__))


def headers(hdrs):
    """A ctypes array of hc_header, its length, and the bytes it points to (which the caller
    keeps alive for the call)."""
    if not hdrs:
        return None, 0, ()
    items = hdrs.items() if hasattr(hdrs, "items") else hdrs
    keep = []
    for name, value in items:
        keep.append(b(name, "header name"))
        keep.append(b(value, "header value"))
    n = len(keep) // 2
    arr = (Header * n)()
    for i in range(n):
        arr[i].name = keep[2 * i]
        arr[i].value = keep[2 * i + 1]
    return arr, n, keep


def has_header(hdrs, name):
    if not hdrs:
        return False
    keys = hdrs.keys() if hasattr(hdrs, "keys") else (k for k, _ in hdrs)
    name = name.lower()
    return any(b(k).decode("latin-1").lower() == name for k in keys)
