"""The ctypes binding against the real servers: it must behave as http.client does."""

import builtins
import gc
import hashlib
import http.client
import io
import json
import os
import socket
import threading

import pytest

import httpclient
from conftest import port


def conn(env, **kw):
    return httpclient.HTTPConnection("127.0.0.1", port(env, "HTTP"), timeout=10, **kw)


def small(docroot):
    with open(os.path.join(docroot, "small.txt"), "rb") as f:
        return f.read()


def test_get_status_reason_version_headers_and_body(env, docroot):
    c = conn(env)
    c.request("GET", "/small.txt")
    r = c.getresponse()
    assert (r.status, r.reason, r.version) == (200, "OK", 11)
    assert r.getheader("content-type") == "text/plain"
    assert r.getheader("X-Missing", "dflt") == "dflt"
    assert ("Content-Length", str(len(small(docroot)))) in r.getheaders()
    assert r.length == len(small(docroot))
    assert r.read() == small(docroot)
    # As http.client: isclosed() once the body ended; `closed` (io) only after close().
    assert r.isclosed() and not r.closed
    assert r.read() == b""
    r.close()
    assert r.closed


def test_the_same_answers_as_http_client(env):
    ours = conn(env)
    theirs = http.client.HTTPConnection("127.0.0.1", port(env, "HTTP"), timeout=10)
    for path in ("/small.txt", "/status/404", "/empty.txt", "/headers", "/redirect"):
        ours.request("GET", path, headers={"X-Test": "t"})
        theirs.request("GET", path, headers={"X-Test": "t"})
        a, b = ours.getresponse(), theirs.getresponse()
        assert (a.status, a.reason, a.version) == (b.status, b.reason, b.version), path
        assert a.getheader("Content-Length") == b.getheader("Content-Length")
        assert a.read() == b.read(), path


def test_read_amt_readinto_and_keep_alive(env):
    c = conn(env)
    c.request("GET", "/large.bin")
    r = c.getresponse()
    h = hashlib.sha256()
    first = r.read(1000)
    assert len(first) == 1000
    h.update(first)
    buf = bytearray(65536)
    mv = memoryview(buf)
    total = 1000
    while True:
        n = r.readinto(buf)
        if n == 0:
            break
        h.update(mv[:n])
        total += n
    assert total == int(env["HC_TEST_LARGE_SIZE"])
    assert h.hexdigest() == env["HC_TEST_LARGE_SHA256"]
    fd = c.fileno()
    c.request("HEAD", "/small.txt")
    r = c.getresponse()
    assert r.status == 200 and r.read() == b""
    assert c.fileno() == fd  # the connection was reused


def test_readline_and_iteration(env, docroot):
    c = conn(env)
    body = b"line one\nline two\n\nlast"
    c.request("POST", "/echo", body=body)
    r = c.getresponse()
    assert r.readline() == b"line one\n"
    assert r.readline(4) == b"line"
    assert list(r) == [b" two\n", b"\n", b"last"]


def test_context_manager_closes_the_response(env):
    c = conn(env)
    c.request("GET", "/large.bin")
    with c.getresponse() as r:
        assert r.read(10)
    assert r.closed
    c.request("GET", "/small.txt")  # a new connection opens
    assert c.getresponse().status == 200


def test_bodies_str_bytes_iterable_file(env, tmp_path):
    c = conn(env)
    c.request("POST", "/echo", body="caf\xe9")
    assert c.getresponse().read() == b"caf\xe9"
    c.request("PUT", "/echo", body=bytearray(b"bytes"))
    assert c.getresponse().read() == b"bytes"
    e = httpclient.HTTPConnection("127.0.0.1", port(env, "ECHO"), timeout=10)
    e.request("POST", "/", body=iter([b"ab", b"", b"cd", "ef"]))
    got = json.loads(e.getresponse().read())
    assert got["chunked"] is True and got["body"] == "abcdef"
    p = tmp_path / "f.bin"
    p.write_bytes(b"x" * 100000)
    with open(p, "rb") as f:
        e.request("POST", "/", body=f)
    got = json.loads(e.getresponse().read())
    assert got["body_length"] == 100000 and got["chunked"] is False
    e.request("POST", "/", body=io.BytesIO(b"from a stream"))
    assert json.loads(e.getresponse().read())["body"] == "from a stream"
    e.request("POST", "/", body=b"enc", encode_chunked=True)
    got = json.loads(e.getresponse().read())
    assert got["chunked"] is True and got["body"] == "enc"


def test_an_exception_in_the_body_iterator_propagates(env):
    e = httpclient.HTTPConnection("127.0.0.1", port(env, "ECHO"), timeout=10)

    def gen():
        yield b"part"
        raise KeyError("stop")

    with pytest.raises(KeyError):
        e.request("POST", "/", body=gen())
    assert e.fileno() == -1


def test_step_by_step_with_chunks(env):
    e = httpclient.HTTPConnection("127.0.0.1", port(env, "ECHO"), timeout=10)
    e.putrequest("POST", "/raw")
    e.putheader("Transfer-Encoding", "chunked")
    e.endheaders()
    e.send_chunk(b"hello ")
    e.send_chunk(b"world")
    assert e.getresponse().read() == b"hello world"


def test_expect_continue(env):
    e = httpclient.HTTPConnection("127.0.0.1", port(env, "ECHO"), timeout=10)
    e.set_continue_timeout(30)
    e.request("POST", "/", body=b"x", headers={"Expect": "100-continue"})
    assert json.loads(e.getresponse().read())["expect_continue"] is True
    e.request("POST", "/expect-417", body=b"x", headers=[("Expect", "100-continue")])
    assert e.getresponse().status == 417


def test_https_with_a_context(env, docroot):
    ctx = httpclient.TLSContext(cafile=env["HC_TEST_CA_FILE"])
    c = httpclient.HTTPSConnection("localhost", port(env, "HTTPS"), timeout=10, context=ctx)
    c.request("GET", "/small.txt")
    assert c.getresponse().read() == small(docroot)
    bad = httpclient.HTTPSConnection("localhost", port(env, "HTTPS_WRONGHOST"), timeout=10,
                                     context=ctx)
    with pytest.raises(httpclient.CertificateVerifyError) as ei:
        bad.request("GET", "/")
    assert isinstance(ei.value, httpclient.TLSError)
    assert isinstance(ei.value, OSError)
    assert ei.value.code == 201
    insecure = httpclient.HTTPSConnection("localhost", port(env, "HTTPS_WRONGHOST"), timeout=10,
                                          context=httpclient.TLSContext(verify=False))
    insecure.request("GET", "/small.txt")
    assert insecure.getresponse().status == 200


def test_tunnel_through_the_proxy(env, docroot):
    if not env.get("HC_TEST_PROXY_PORT"):
        pytest.fail("tinyproxy is not installed (apt-get install -y tinyproxy)")
    c = httpclient.HTTPConnection("127.0.0.1", port(env, "PROXY"), timeout=10)
    c.set_tunnel("127.0.0.1", port(env, "HTTP"), headers={"Proxy-Authorization": "Basic eDp5"})
    c.request("GET", "/small.txt")
    assert c.getresponse().read() == small(docroot)
    c.close()
    c.set_tunnel("127.0.0.1", 1)
    with pytest.raises(httpclient.TunnelFailed) as ei:
        c.connect()
    assert isinstance(ei.value, OSError)
    assert "Tunnel connection failed" in str(ei.value)


def test_exception_hierarchy_and_state_errors(env):
    assert issubclass(httpclient.CannotSendRequest, httpclient.ImproperConnectionState)
    assert issubclass(httpclient.ImproperConnectionState, httpclient.HTTPException)
    assert issubclass(httpclient.RemoteDisconnected, httpclient.BadStatusLine)
    assert issubclass(httpclient.RemoteDisconnected, ConnectionResetError)
    assert issubclass(httpclient.Timeout, TimeoutError)
    assert issubclass(httpclient.ConnectionRefused, ConnectionRefusedError)
    assert not issubclass(httpclient.Timeout, httpclient.HTTPException)
    assert issubclass(httpclient.InvalidArgument, ValueError)
    c = conn(env)
    with pytest.raises(httpclient.ResponseNotReady):
        c.getresponse()
    c.putrequest("GET", "/")
    with pytest.raises(httpclient.CannotSendRequest):
        c.request("GET", "/")
    with pytest.raises(httpclient.InvalidURL):
        httpclient.HTTPConnection("bad host", 80)
    with pytest.raises(httpclient.InvalidArgument):
        conn(env).request("GET", "/", headers={"X": "a\r\nInjected: 1"})


def test_os_errors(env):
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    free = s.getsockname()[1]
    s.close()
    c = httpclient.HTTPConnection("127.0.0.1", free, timeout=5)
    with pytest.raises(httpclient.ConnectionRefused) as ei:
        c.request("GET", "/")
    assert isinstance(ei.value, ConnectionRefusedError) and ei.value.code == 102


def test_remote_disconnected_and_incomplete_read():
    import socket
    import threading

    lsn = socket.socket()
    lsn.bind(("127.0.0.1", 0))
    lsn.listen(2)

    def serve():
        for reply in (b"", b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"):
            s, _ = lsn.accept()
            s.recv(65536)
            s.sendall(reply)
            s.close()

    t = threading.Thread(target=serve)
    t.start()
    c = httpclient.HTTPConnection("127.0.0.1", lsn.getsockname()[1], timeout=10)
    c.request("GET", "/")
    with pytest.raises(httpclient.RemoteDisconnected):
        c.getresponse()
    c.request("GET", "/")
    r = c.getresponse()
    with pytest.raises(httpclient.IncompleteRead) as ei:
        r.read()
    assert ei.value.partial == b"abc"
    t.join()
    lsn.close()


def serve_once(reply):
    """A one-connection server that answers any request with `reply`; returns its port."""
    lsn = socket.socket()
    lsn.bind(("127.0.0.1", 0))
    lsn.listen(1)

    def serve():
        s, _ = lsn.accept()
        s.recv(65536)
        s.sendall(reply)
        s.close()
        lsn.close()

    threading.Thread(target=serve, daemon=True).start()
    return lsn.getsockname()[1]


def test_headers_are_an_http_message():
    port_ = serve_once(b"HTTP/1.1 200 OK\r\nX-A: 1\r\nContent-Type: text/plain; charset=utf-8\r\n"
                       b"X-A: 2\r\nContent-Length: 2\r\n\r\nok")
    c = httpclient.HTTPConnection("127.0.0.1", port_, timeout=10)
    c.request("GET", "/")
    r = c.getresponse()
    assert isinstance(r.msg, http.client.HTTPMessage) and r.headers is r.msg and r.info() is r.msg
    assert r.msg.get_all("x-a") == ["1", "2"]
    assert r.getheader("X-A") == "1, 2"
    assert r.msg.get_content_charset() == "utf-8"
    assert r.getheaders()[0] == ("X-A", "1")
    assert r.read() == b"ok"
    r.close()
    assert r.getheader("X-A") == "1, 2"  # still there after close, as in http.client


def test_response_is_a_buffered_binary_stream(env):
    c = conn(env)
    body = "caf\u00e9 line one\nline two\n".encode("utf-8")
    c.request("POST", "/echo", body=body)
    r = c.getresponse()
    assert isinstance(r, io.BufferedIOBase) and r.readable() and not r.writable()
    text = io.TextIOWrapper(r, encoding="utf-8")
    assert text.readline() == "caf\u00e9 line one\n"
    assert text.read() == "line two\n"
    text.close()
    assert r.closed
    with pytest.raises(ValueError):
        next(iter(r))  # a closed stream, as io says


def test_handles_are_freed_by_finalizers_not_del():
    assert "__del__" not in vars(httpclient.HTTPConnection)
    assert "__del__" not in vars(httpclient.HTTPResponse)
    c = httpclient.HTTPConnection("127.0.0.1", 9)
    fin = c._finalizer
    assert fin.alive
    del c
    gc.collect()
    assert not fin.alive


def test_no_name_shadows_a_builtin():
    assert not hasattr(httpclient, "OSError")
    for name in httpclient.__all__:
        assert not hasattr(builtins, name), name
    assert issubclass(httpclient.TransportError, OSError)
    assert issubclass(httpclient.TLSError, httpclient.TransportError)
    assert httpclient.TransportError.code == 100


def test_the_package_and_library_in_use():
    """Under HC_TEST_WHEEL=1 (the installed-wheel test) the package must come from the
    virtualenv and load the library bundled in it, with nothing set in the environment."""
    here = os.path.dirname(os.path.abspath(httpclient.__file__))
    if os.environ.get("HC_TEST_WHEEL") == "1":
        assert "site-packages" in here, here
        assert "HTTPCLIENT_LIB" not in os.environ
        assert os.path.dirname(os.path.abspath(httpclient.library_path)) == here
    else:
        assert os.path.exists(httpclient.library_path) or "/" not in httpclient.library_path


def test_exception_classes_mirror_the_c_hierarchy():
    """One class per C code, named as hc_error_name names it (OSError excepted: its class is
    TransportError), each a subclass of the class of hc_error_parent's code."""
    import ctypes

    from httpclient import errors
    from httpclient._lib import bind

    name = bind("hc_error_name", ctypes.c_char_p, ctypes.c_int)
    parent = bind("hc_error_parent", ctypes.c_int, ctypes.c_int)
    for code, cls in errors.BY_CODE.items():
        c_name = name(code).decode()
        assert c_name != "Unknown", code
        assert cls.__name__ == ("TransportError" if c_name == "OSError" else c_name), code
        p = parent(code)
        if p:
            assert issubclass(cls, errors.BY_CODE[p]), (cls, p)
    # Every code the library knows has its class.
    known = [c for c in range(1, 1000) if name(c).decode() != "Unknown"]
    assert sorted(known) == sorted(errors.BY_CODE), set(known) ^ set(errors.BY_CODE)
