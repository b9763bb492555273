"""Non-blocking mode from Python: setblocking(False), BlockingIOError, want()/fileno()/
next_timeout() with selectors, against the real servers; results compared with blocking mode."""

import builtins
import hashlib
import os
import selectors
import subprocess
import sys
import time

import pytest

import httpclient
from conftest import port

HERE = os.path.dirname(os.path.abspath(__file__))
EXAMPLE = os.path.join(HERE, "..", "examples", "nonblocking_get.py")


def until_done(call, limit=30.0):
    """Calls call() until it does not raise BlockingIOError, waiting with a selector on what
    the raising object wants; returns (result, how many BlockingIOErrors)."""
    sel = selectors.DefaultSelector()
    give_up = time.monotonic() + limit
    blocked = 0
    try:
        while True:
            try:
                return call(), blocked
            except BlockingIOError as e:
                blocked += 1
                assert isinstance(e, builtins.BlockingIOError) and isinstance(e, OSError)
                assert isinstance(e, httpclient.TransportError) and e.code == 108
                w = e.waiting_on
                fd, events = w.fileno(), w.want()
                assert fd >= 0 and events in (1, 2, 3)
                assert time.monotonic() < give_up, "still blocking after %.0f s" % limit
                key = sel.register(fd, events)
                t = w.next_timeout() if hasattr(w, "next_timeout") else None
                sel.select(min(t, 1.0) if t is not None else 1.0)
                sel.unregister(key.fd)
    finally:
        sel.close()


def attach(obj, call):
    """call, with the object to wait on attached to its BlockingIOError."""
    def run():
        try:
            return call()
        except BlockingIOError as e:
            e.waiting_on = obj
            raise
    return run


def get(conn, path, headers=None, how="read"):
    """One GET on conn (blocking or not): (status, body, BlockingIOErrors seen)."""
    total = 0
    _, n = until_done(attach(conn, lambda: conn.request("GET", path, headers=headers)))
    total += n
    resp, n = until_done(attach(conn, conn.getresponse))
    total += n
    if how == "read_all":
        body, n = until_done(attach(resp, resp.read))
        return resp.status, body, total + n
    body = bytearray()
    while True:
        if how == "readline":
            data, n = until_done(attach(resp, resp.readline))
        else:
            data, n = until_done(attach(resp, lambda: resp.read(1000)))
        total += n
        if not data:
            break
        body += data
    assert resp.isclosed() and resp.fileno() == -1
    return resp.status, bytes(body), total


def pair(env, https=False):
    if https:
        ctx = httpclient.TLSContext(cafile=env["HC_TEST_CA_FILE"])
        b = httpclient.HTTPSConnection("localhost", port(env, "HTTPS"), timeout=10, context=ctx)
        nb = httpclient.HTTPSConnection("localhost", port(env, "HTTPS"), context=ctx)
    else:
        b = httpclient.HTTPConnection("127.0.0.1", port(env, "HTTP"), timeout=10)
        nb = httpclient.HTTPConnection("127.0.0.1", port(env, "HTTP"))
    assert nb.getblocking()
    nb.setblocking(False)
    assert not nb.getblocking()
    return b, nb


@pytest.mark.parametrize("https", [False, True], ids=["http", "https"])
def test_the_same_bytes_as_blocking_mode_keep_alive(env, https):
    b, nb = pair(env, https)
    gzip = {"Accept-Encoding": "gzip"}  # nginx answers chunked
    blocked = 0
    for path, headers, how in [("/small.txt", None, "read"), ("/large.bin", None, "read"),
                               ("/gzip/text.txt", gzip, "read"), ("/words.txt", None, "readline"),
                               ("/gzip/text.txt", gzip, "read_all"),
                               ("/large.bin", None, "read_all"), ("/status/404", None, "read")]:
        want = get(b, path, headers, how)
        assert want[2] == 0  # blocking mode never raises BlockingIOError
        got = get(nb, path, headers, how)
        blocked += got[2]
        assert got[:2] == want[:2], path
    assert blocked > 0
    with open(os.path.join(env["HC_TEST_DOCROOT"], "large.bin"), "rb") as f:
        assert get(nb, "/large.bin")[1] == f.read()


def test_a_big_upload_is_repeated_with_the_same_arguments_and_a_different_call_refused(env):
    nb = httpclient.HTTPConnection("127.0.0.1", port(env, "HTTP"))
    nb.setblocking(False)
    body = os.urandom(1 << 20) * 16  # 16 MiB: more than the socket buffers take at once
    call = attach(nb, lambda: nb.request("POST", "/echo", body=body))
    try:
        call()
        blocked = False
    except BlockingIOError:
        blocked = True
    if blocked:  # another call in between is refused, and the request can still go on
        with pytest.raises(httpclient.ImproperConnectionState):
            nb.request("GET", "/small.txt")
        until_done(call)
    resp, _ = until_done(attach(nb, nb.getresponse))
    got, _ = until_done(attach(resp, resp.read))
    assert resp.status == 200
    assert hashlib.sha256(got).digest() == hashlib.sha256(body).digest()


def test_blocking_mode_and_the_getters(env):
    c = httpclient.HTTPConnection("127.0.0.1", port(env, "HTTP"), timeout=10)
    assert c.want() == 0 and c.next_timeout() is None
    c.request("GET", "/small.txt")
    r = c.getresponse()
    assert r.want() == 0 and r.fileno() == c.fileno() >= 0
    r.read()
    assert r.fileno() == -1
    c.setblocking(False)
    c.setblocking(True)
    assert c.getblocking()
    assert (httpclient.WANT_READ, httpclient.WANT_WRITE) == (selectors.EVENT_READ,
                                                             selectors.EVENT_WRITE)


def test_the_selectors_example(env):
    out = subprocess.run(
        [sys.executable, EXAMPLE, "--https", env["HC_TEST_CA_FILE"], "localhost",
         str(port(env, "HTTPS")), "/small.txt", "/large.bin", "/words.txt"],
        check=True, capture_output=True, text=True, timeout=120,
        env=dict(os.environ) if os.environ.get("HC_TEST_WHEEL") == "1"
        else dict(os.environ, PYTHONPATH=os.path.join(HERE, "..")))
    lines = out.stdout.splitlines()
    assert len(lines) == 3
    for line, name in zip(lines, ["small.txt", "large.bin", "words.txt"]):
        with open(os.path.join(env["HC_TEST_DOCROOT"], name), "rb") as f:
            data = f.read()
        assert line == "/%s 200 %d %s" % (name, len(data), hashlib.sha256(data).hexdigest())
