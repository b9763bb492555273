"""The URL-level client of the binding: Client().request, the module-level request and
urlopen, against the real test servers."""

import io
import json
import os
import threading

import pytest

import httpclient
from conftest import port


def url(env, path, name="HTTP"):
    return "http://127.0.0.1:%d%s" % (port(env, name), path)


def doc(docroot, name):
    with open(os.path.join(docroot, name), "rb") as f:
        return f.read()


def client(env, **kw):
    return httpclient.Client(proxy="", total_timeout=30, cafile=env["HC_TEST_CA_FILE"], **kw)


def test_get_follows_redirects_and_is_an_http_response(env, docroot):
    c = client(env)
    with c.request("GET", url(env, "/redirect")) as r:
        assert isinstance(r, httpclient.HTTPResponse)
        assert (r.status, r.reason) == (200, "OK")
        assert r.url == url(env, "/small.txt") == r.geturl()
        assert r.redirect_count == 1 and r.redirect_location is None and not r.decoded
        assert r.headers["Content-Type"] == "text/plain"
        assert r.read() == doc(docroot, "small.txt")
    c.close()


def test_redirect_not_followed(env):
    c = client(env, max_redirects=0)
    r = c.get(url(env, "/redirect"))
    assert r.status == 302
    assert r.redirect_location == url(env, "/small.txt")


def test_decoding_and_text(env, docroot):
    c = client(env)
    r = c.get(url(env, "/gzip/text.txt"))
    assert r.decoded and r.length is None
    assert r.getheader("Content-Encoding") == "gzip"
    text = io.TextIOWrapper(r, encoding="utf-8").read()
    assert text.encode("utf-8") == doc(docroot, "gzip/text.txt")
    raw = client(env, accept_encoding=0).get(url(env, "/gzip/text.txt"))
    assert not raw.decoded and raw.read() == doc(docroot, "gzip/text.txt")


def test_bodies_headers_auth(env, tmp_path):
    c = client(env)
    echo = "http://127.0.0.1:%d/who" % port(env, "ECHO")
    seen = json.loads(c.request("PUT", echo, b"bytes", {"X-A": "1"}, auth=("u", "p@ss"),
                                sensitive_headers=[("X-Key", "k")]).read())
    hdrs = {k.lower(): v for k, v in seen["headers"]}
    assert seen["method"] == "PUT" and seen["body"] == "bytes"
    assert hdrs["x-a"] == "1" and hdrs["x-key"] == "k"
    assert hdrs["authorization"] == "Basic dTpwQHNz"
    seen = json.loads(c.request("POST", echo, iter([b"it", b"er"])).read())
    assert seen["body"] == "iter" and seen["chunked"]
    f = tmp_path / "body"
    f.write_bytes(b"from a file")
    with open(f, "rb") as fh:
        seen = json.loads(c.request("POST", echo, fh).read())
    assert seen["body"] == "from a file"


def test_https_and_module_level_calls(env, docroot):
    https = "https://localhost:%d/small.txt" % port(env, "HTTPS")
    assert client(env).get(https).read() == doc(docroot, "small.txt")
    with httpclient.urlopen(url(env, "/small.txt"), timeout=30) as r:
        assert r.status == 200 and r.read() == doc(docroot, "small.txt")
    r = httpclient.request("GET", url(env, "/redirect"))
    assert r.redirect_count == 1
    r = httpclient.urlopen("http://127.0.0.1:%d/echo" % port(env, "HTTP"), data=b"posted")
    assert r.read() == b"posted"


def test_errors(env):
    c = client(env)
    with pytest.raises(httpclient.InvalidURL):
        c.get("ftp://example.org/")
    with pytest.raises(httpclient.ProxyError):
        httpclient.Client(proxy="socks5://127.0.0.1:1")
    with pytest.raises(httpclient.ConnectionRefused):
        c.get("http://127.0.0.1:1/")


def test_source_address(env):
    # A server that answers each request and records the address each connection came from.
    import socket
    srv = socket.create_server(("127.0.0.1", 0))
    peers = []

    def serve():
        for _ in range(2):
            conn, peer = srv.accept()
            peers.append(peer[0])
            with conn:
                data = b""
                while b"\r\n\r\n" not in data:
                    data += conn.recv(4096)
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n"
                             b"Connection: close\r\n\r\nok")

    t = threading.Thread(target=serve)
    t.start()
    target = "http://127.0.0.1:%d/" % srv.getsockname()[1]
    assert client(env, source_address=("127.0.0.2", 0)).get(target).read() == b"ok"
    assert client(env, source_address=("127.0.0.3", None)).get(target).read() == b"ok"
    t.join()
    srv.close()
    assert peers == ["127.0.0.2", "127.0.0.3"]
    with pytest.raises(httpclient.InvalidArgument):
        client(env, source_address=("not an address", 0))


def test_errors_redirect_limit(env):
    c = client(env)
    r = c.request("GET", url(env, "/redirect"), max_redirects=0)
    assert r.status == 302
    with pytest.raises(httpclient.RedirectError):
        raise httpclient.errors.error(501)


def test_threads_share_a_client(env, docroot):
    c = client(env)
    want = doc(docroot, "small.txt")
    bad = []

    def work():
        for _ in range(50):
            if c.get(url(env, "/small.txt")).read() != want:
                bad.append(1)

    ts = [threading.Thread(target=work) for _ in range(8)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert not bad
