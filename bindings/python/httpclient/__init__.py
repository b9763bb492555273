"""httpclient: Python's http.client API on top of libhttpclient (ctypes).

    import httpclient
    conn = httpclient.HTTPConnection("localhost", 8080, timeout=10)
    conn.request("GET", "/")
    with conn.getresponse() as resp:
        print(resp.status, resp.reason, resp.read())

    # The URL-level client: pooled connections, redirects, decompression, proxies.
    with httpclient.urlopen("https://example.org/") as resp:
        print(resp.status, resp.url, resp.read())
    client = httpclient.Client(total_timeout=30)
    resp = client.request("GET", "https://example.org/")

The library: $HTTPCLIENT_LIB (a path to libhttpclient.so), else the copy a wheel bundles in
this package, else the build of the source checkout this package sits in
(../../target/{release,debug}/), else the system's libhttpclient.so.0.

Modules: `errors` (the exceptions, one per C error code, in the codes' hierarchy),
`connection` (HTTPConnection, HTTPSConnection, TLSContext), `response` (HTTPResponse),
`client` (Client, ClientResponse, request, urlopen: the URL-level client);
`_lib` loads the library and declares C functions for the others.
"""

from . import client, errors
from ._lib import path as library_path
from .client import *  # noqa: F401,F403 - Client, ClientResponse, request, urlopen, flags
from .connection import (HTTP_PORT, HTTPS_PORT, WANT_READ, WANT_WRITE, HTTPConnection,
                         HTTPSConnection, TLSContext)
from .errors import *  # noqa: F401,F403 - the exception classes, listed in errors.__all__
from .response import HTTPResponse

__version__ = "0.1.0"

__all__ = [
    "HTTPConnection", "HTTPSConnection", "HTTPResponse", "TLSContext", "HTTP_PORT",
    "HTTPS_PORT", "WANT_READ", "WANT_WRITE", "library_path",
] + client.__all__ + errors.__all__
