#!/usr/bin/env python3
"""Compares the httpclient binding with http.client on the same local nginx (not a test).

    python3 bindings/python/bench.py [--requests N] [--large M]

Starts the servers of tests/servers/hcservers.py (or uses HC_TEST_HTTP_PORT when set), then
times, for each library: N keep-alive GETs of /small.txt (each read whole), and M downloads
of the 8 MiB /large.bin (read in 64 KiB readinto calls). Prints requests per second and
MiB/s; the best of 3 runs of each.
"""

import argparse
import contextlib
import http.client
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "servers"))

import httpclient  # noqa: E402


def small_gets(mod, port, n):
    c = mod.HTTPConnection("127.0.0.1", port, timeout=30)
    t = time.perf_counter()
    for _ in range(n):
        c.request("GET", "/small.txt")
        c.getresponse().read()
    dt = time.perf_counter() - t
    c.close()
    return n / dt


def large_reads(mod, port, m):
    c = mod.HTTPConnection("127.0.0.1", port, timeout=30)
    buf = bytearray(65536)
    total = 0
    t = time.perf_counter()
    for _ in range(m):
        c.request("GET", "/large.bin")
        r = c.getresponse()
        while True:
            k = r.readinto(buf)
            if not k:
                break
            total += k
    dt = time.perf_counter() - t
    c.close()
    return total / dt / (1 << 20)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=5000)
    ap.add_argument("--large", type=int, default=20)
    a = ap.parse_args()
    with contextlib.ExitStack() as stack:
        if os.environ.get("HC_TEST_HTTP_PORT"):
            port = int(os.environ["HC_TEST_HTTP_PORT"])
        else:
            import hcservers

            port = int(stack.enter_context(hcservers.Servers()).env["HC_TEST_HTTP_PORT"])
        print("nginx on 127.0.0.1:%d; library %s" % (port, httpclient.library_path))
        print("%-12s %16s %16s" % ("", "small GET/s", "large MiB/s"))
        for name, mod in (("http.client", http.client), ("httpclient", httpclient)):
            rps = max(small_gets(mod, port, a.requests) for _ in range(3))
            mibs = max(large_reads(mod, port, a.large) for _ in range(3))
            print("%-12s %16.0f %16.0f" % (name, rps, mibs))


if __name__ == "__main__":
    main()
