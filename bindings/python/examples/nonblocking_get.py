"""Several GETs at once from one thread: httpclient connections in non-blocking mode driven
by the standard library's `selectors`.

    python3 nonblocking_get.py [--https CAFILE] HOST PORT PATH [PATH...]

One connection per PATH, all in flight together; prints "PATH STATUS LENGTH SHA256" for each.

The pattern: conn.setblocking(False); the calls of http.client in the usual order; a call
that would wait raises BlockingIOError; wait until fileno() is ready for want() (the values of
selectors.EVENT_READ / EVENT_WRITE), then repeat the same call, which continues where it
stopped. Read fileno() again after each BlockingIOError: it changes when a host name has been
resolved or a connection reopened.
"""

import hashlib
import selectors
import sys
import time

import httpclient


def get(conn, path):
    """One GET as a generator: it yields the object (connection or response) whose
    descriptor it waits for, and returns (status, body)."""
    while True:
        try:
            conn.request("GET", path)
            break
        except BlockingIOError:
            yield conn
    while True:
        try:
            resp = conn.getresponse()
            break
        except BlockingIOError:
            yield conn
    body = bytearray()
    while True:
        try:
            data = resp.read(65536)
        except BlockingIOError:
            yield resp
            continue
        if not data:
            return resp.status, bytes(body)
        body += data


def run(conns_and_paths, limit=60.0):
    """Drives every GET to its end; returns {path: (status, body)}."""
    sel = selectors.DefaultSelector()
    results = {}
    waiting = {}  # task -> the descriptor it is registered on
    tasks = [(path, conn, get(conn, path)) for conn, path in conns_and_paths]

    def step(task):
        path, conn, gen = task
        old = waiting.pop(task, None)
        try:
            w = next(gen)
        except StopIteration as done:
            results[path] = done.value
            if old is not None:
                sel.unregister(old)
            return
        fd, events = w.fileno(), w.want()
        if old is not None and old != fd:
            sel.unregister(old)
        if old == fd:
            sel.modify(fd, events, task)
        else:
            sel.register(fd, events, task)
        waiting[task] = fd

    for task in tasks:
        step(task)
    give_up = time.monotonic() + limit
    while waiting:
        if time.monotonic() > give_up:
            raise TimeoutError("%d requests still running after %.0f s" % (len(waiting), limit))
        timeouts = [t for t in (task[1].next_timeout() for task in waiting) if t is not None]
        for key, _events in sel.select(min(timeouts + [1.0])):
            step(key.data)
        if timeouts:  # a timed call (a deadline, the 100-continue wait) is made again anyway
            for task in list(waiting):
                if task[1].next_timeout() == 0:
                    step(task)
    sel.close()
    return results


def main(argv):
    cafile = None
    if len(argv) > 2 and argv[1] == "--https":
        cafile = argv[2]
        argv = argv[:1] + argv[3:]
    if len(argv) < 4:
        print(__doc__.strip().splitlines()[3].strip(), file=sys.stderr)
        return 2
    host, port, paths = argv[1], int(argv[2]), argv[3:]
    pairs = []
    for path in paths:
        if cafile:
            conn = httpclient.HTTPSConnection(host, port,
                                              context=httpclient.TLSContext(cafile=cafile))
        else:
            conn = httpclient.HTTPConnection(host, port)
        conn.setblocking(False)
        pairs.append((conn, path))
    results = run(pairs)
    for path in paths:
        status, body = results[path]
        print(path, status, len(body), hashlib.sha256(body).hexdigest())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
