"""The exceptions: one class per C error code, in the codes' hierarchy (hc_error_parent).

HTTPException and its children are http.client's. The system errors (HC_ERR_OS and below)
descend from TransportError, which is a built-in OSError, so `except OSError` catches them
as it catches http.client's socket errors; the module defines no class named OSError, so
the built-in name is never shadowed. Every exception has `.code`, the C code.
"""

import builtins
import ctypes
from ctypes import c_char_p, c_int, c_size_t

from ._lib import bind

__all__ = [
    "Error", "HTTPException", "NotConnected", "InvalidURL", "UnknownProtocol",
    "UnknownTransferEncoding", "UnimplementedFileMode", "IncompleteRead",
    "ImproperConnectionState", "CannotSendRequest", "CannotSendHeader", "ResponseNotReady",
    "BadStatusLine", "LineTooLong", "RemoteDisconnected", "TooManyHeaders", "TransportError",
    "Timeout", "ConnectionRefused", "ConnectionReset", "HostNotFound", "ProxyError",
    "TunnelFailed", "ProxyAuthRequired", "TLSError", "CertificateVerifyError", "InvalidArgument",
    "AbortedByCallback", "RedirectError", "TooManyRedirects", "RedirectRefused", "BadLocation",
    "ContentDecodingError", "TooManyEncodings", "DecodedSizeExceeded", "InternalError",
]


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


class TransportError(builtins.OSError, Error):
    """HC_ERR_OS ("OSError" in C): a system call, the network or TLS failed. A built-in
    OSError."""

    code = 100


class Timeout(TransportError, builtins.TimeoutError):
    code = 101


class ConnectionRefused(TransportError, builtins.ConnectionRefusedError):
    code = 102


class ConnectionReset(TransportError, builtins.ConnectionResetError):
    code = 103


class HostNotFound(TransportError):
    code = 104


class ProxyError(TransportError):
    code = 106


class TunnelFailed(ProxyError):
    code = 105


class ProxyAuthRequired(ProxyError):
    code = 107


class BlockingIOError(TransportError, builtins.BlockingIOError):
    """HC_ERR_WOULD_BLOCK: in non-blocking mode the call would wait for the network. A
    built-in BlockingIOError, so `except BlockingIOError` catches it as it catches a
    non-blocking socket's. Not in __all__: `from httpclient import *` must not shadow the
    built-in name (it is httpclient.errors.BlockingIOError)."""

    code = 108


class TLSError(TransportError):
    code = 200


class CertificateVerifyError(TLSError):
    code = 201


class InvalidArgument(Error, ValueError):
    code = 300


class AbortedByCallback(Error):
    code = 400


class RedirectError(Error):
    code = 500


class TooManyRedirects(RedirectError):
    code = 501


class RedirectRefused(RedirectError):
    code = 502


class BadLocation(RedirectError):
    code = 503


class ContentDecodingError(HTTPException):
    code = 510


class TooManyEncodings(ContentDecodingError):
    code = 511


class DecodedSizeExceeded(ContentDecodingError):
    code = 512


class InternalError(Error):
    code = 900


BY_CODE = {
    cls.code: cls
    for cls in (
        HTTPException, NotConnected, InvalidURL, UnknownProtocol, UnknownTransferEncoding,
        UnimplementedFileMode, IncompleteRead, ImproperConnectionState, CannotSendRequest,
        CannotSendHeader, ResponseNotReady, BadStatusLine, LineTooLong, RemoteDisconnected,
        TooManyHeaders, TransportError, Timeout, ConnectionRefused, ConnectionReset,
        HostNotFound, ProxyError, TunnelFailed, ProxyAuthRequired, BlockingIOError, TLSError,
        CertificateVerifyError, InvalidArgument, AbortedByCallback, RedirectError,
        TooManyRedirects, RedirectRefused, BadLocation, ContentDecodingError, TooManyEncodings,
        DecodedSizeExceeded, InternalError,
    )
}

_last_error_message = bind("hc_last_error_message", c_size_t, c_char_p, c_size_t)
_error_parent = bind("hc_error_parent", c_int, c_int)


def last_message():
    """The calling thread's message for its last failure."""
    buf = ctypes.create_string_buffer(512)
    n = _last_error_message(buf, 512)
    if n >= 512:
        buf = ctypes.create_string_buffer(n + 1)
        _last_error_message(buf, n + 1)
    return buf.value.decode("utf-8", "replace")


def error(code):
    """The exception for `code`: its own class, else its nearest ancestor's (a code newer
    than this module), with the thread's last message."""
    cls = BY_CODE.get(code)
    c = code
    while cls is None and c:
        c = _error_parent(c)
        cls = BY_CODE.get(c)
    cls = cls or Error
    e = cls(last_message())
    e.code = code
    return e


def check(code):
    if code:
        raise error(code)
