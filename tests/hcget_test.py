#!/usr/bin/env python3
"""hcget, the command-line fetcher of examples-c/hcget.c, as a user runs it: its flags, -o,
-w, the progress bar (on a terminal only), and the exit codes of docs/hcget.1.

    python3 tests/servers/hcservers.py run -- python3 tests/hcget_test.py path/to/hcget

Ends with "N passed, M failed" and exits 1 on any failure.
"""
import json
import os
import pty
import select
import subprocess
import sys
import tempfile

HCGET = sys.argv[1]
E = os.environ
HTTP = "http://127.0.0.1:%s" % E["HC_TEST_HTTP_PORT"]
HTTPS = "https://localhost:%s" % E["HC_TEST_HTTPS_PORT"]
EXPIRED = "https://localhost:%s" % E["HC_TEST_HTTPS_EXPIRED_PORT"]
ECHO = "http://127.0.0.1:%s" % E["HC_TEST_ECHO_PORT"]
CA = E["HC_TEST_CA_FILE"]
DOCROOT = E["HC_TEST_DOCROOT"]
PROXY = E.get("HC_TEST_PROXY_PORT", "")

passed = failed = 0


def doc(name):
    with open(os.path.join(DOCROOT, name), "rb") as f:
        return f.read()


def run(*args, env=None):
    p = subprocess.run([HCGET, *args], capture_output=True, timeout=60,
                       env=dict(os.environ, **(env or {})))
    return p.returncode, p.stdout, p.stderr


def check(cond, what):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print("FAIL: %s" % what, file=sys.stderr)


# A plain GET, the body to a file, write-out.
with tempfile.TemporaryDirectory() as d:
    out = os.path.join(d, "small.txt")
    rc, so, se = run("-o", out, "-w", "%{http_code} %{size_download} %{num_redirects}\\n",
                     HTTP + "/small.txt")
    check(rc == 0, "GET -o: exit %d %r" % (rc, se))
    check(so == b"200 %d 0\n" % len(doc("small.txt")), "write-out %r" % so)
    with open(out, "rb") as f:
        check(f.read() == doc("small.txt"), "-o FILE holds the body")
    # -o into a directory that does not exist: 23.
    rc, so, se = run("-o", os.path.join(d, "no", "such", "dir"), HTTP + "/small.txt")
    check(rc == 23, "-o unwritable: exit %d" % rc)
    # -d @FILE: a file body, echoed.
    body = os.path.join(d, "body")
    with open(body, "wb") as f:
        f.write(b"from a file\n")
    rc, so, se = run("-d", "@" + body, HTTP + "/echo")
    check(rc == 0 and so == b"from a file\n", "-d @FILE: %d %r" % (rc, so))

# Redirects are followed by default; --no-location returns the 3xx and its target.
rc, so, se = run("-w", "\\n%{num_redirects} %{url_effective}", HTTP + "/redirect")
check(rc == 0 and so == doc("small.txt") + b"\n1 " + HTTP.encode() + b"/small.txt",
      "redirect followed: %d %r" % (rc, so))
rc, so, se = run("--no-location", "-w", "%{http_code} %{redirect_url}", HTTP + "/redirect")
check(rc == 0 and so.endswith(b"302 " + HTTP.encode() + b"/small.txt"),
      "--no-location: %d %r" % (rc, so))
rc, so, se = run("--max-redirs", "0", "-w", "%{http_code}", "-o", os.devnull, HTTP + "/redirect")
check(so == b"302", "--max-redirs 0: %r" % so)

# HEAD and -i.
rc, so, se = run("-I", HTTP + "/small.txt")
check(rc == 0 and so.startswith(b"HTTP/1.1 200 OK\r\n") and so.endswith(b"\r\n\r\n"), "-I %r" % so)
rc, so, se = run("-i", HTTP + "/small.txt")
check(so.startswith(b"HTTP/1.1 200 OK\r\n") and so.endswith(doc("small.txt")), "-i")

# --compressed: asked for and decoded; without it, nothing is asked for.
rc, so, se = run("--compressed", "-H", "X-Test: t", HTTP + "/gzip/text.txt")
check(rc == 0 and so == doc("gzip/text.txt"), "--compressed")
rc, so, se = run(HTTP + "/headers")
check(so.split(b"|")[1] == b"", "no Accept-Encoding without --compressed: %r" % so)
rc, so, se = run("--compressed", HTTP + "/headers")
check(so.split(b"|")[1] == b"gzip, deflate, br, zstd", "Accept-Encoding: %r" % so)

# -u: Basic credentials; -H and -X.
rc, so, se = run("-u", "user:p@ss", "-X", "PUT", "-H", "X-One: 1", ECHO + "/who")
seen = json.loads(so)
hdrs = {k.lower(): v for k, v in seen["headers"]}
check(seen["method"] == "PUT", "-X PUT")
check(hdrs.get("authorization") == "Basic dXNlcjpwQHNz", "-u: %r" % hdrs.get("authorization"))
check(hdrs.get("x-one") == "1", "-H")

# HTTPS.
rc, so, se = run("--cacert", CA, HTTPS + "/large.bin")
check(rc == 0 and so == doc("large.bin"), "https --cacert")
rc, so, se = run("--cacert", CA, EXPIRED + "/")
check(rc == 60, "expired certificate: exit %d" % rc)
rc, so, se = run("-k", EXPIRED + "/small.txt")
check(rc == 0 and so == doc("small.txt"), "-k")

# A proxy, and the bypass list.
if PROXY:
    rc, so, se = run("-x", "127.0.0.1:" + PROXY, "-w", "%{http_code}", "-o", os.devnull,
                     HTTP + "/small.txt")
    check(rc == 0 and so == b"200", "-x tinyproxy: %d %r %r" % (rc, so, se))
    rc, so, se = run("-x", "127.0.0.1:1", "--noproxy", "127.0.0.1", HTTP + "/small.txt")
    check(rc == 0 and so == doc("small.txt"), "--noproxy bypasses")
rc, so, se = run("-x", "127.0.0.1:1", HTTP + "/small.txt")
check(rc == 5, "unreachable proxy: exit %d" % rc)

# Exit codes.
rc, so, se = run(HTTP + "/status/404")
check(rc == 22, "404: exit %d" % rc)
rc, so, se = run("http://127.0.0.1:1/")
check(rc == 7 and b"hcget:" in se, "refused: exit %d" % rc)
rc, so, se = run("-s", "http://127.0.0.1:1/")
check(rc == 7 and se == b"", "-s silences: %r" % se)
rc, so, se = run("-w", "%{exitcode}", "-s", "http://exa mple/")
check(rc == 3 and so == b"3", "bad URL: exit %d, %r" % (rc, so))
rc, so, se = run("--max-time", "0.001", HTTP + "/large.bin", "-o", os.devnull)
check(rc == 28, "--max-time: exit %d" % rc)
rc, so, se = run("--bogus")
check(rc == 2 and b"usage" in se, "usage: exit %d" % rc)
rc, so, se = run("http://host.invalid/")
check(rc == 6, "unknown host: exit %d" % rc)

# The progress bar: on a terminal for a body over 4 MiB, never when stderr is a pipe.
rc, so, se = run(HTTP + "/large.bin", "-o", os.devnull)
check(rc == 0 and se == b"", "no progress bar when piped: %r" % se[:80])
pid, master = pty.fork()
if pid == 0:
    # The child's stdout and stderr are the terminal; the body goes to /dev/null.
    os.execv(HCGET, [HCGET, "-o", os.devnull, HTTP + "/large.bin"])
seen = b""
while True:
    r, _, _ = select.select([master], [], [], 30)
    if not r:
        break
    try:
        chunk = os.read(master, 4096)
    except OSError:
        break
    if not chunk:
        break
    seen += chunk
_, status = os.waitpid(pid, 0)
check(os.WEXITSTATUS(status) == 0, "pty run exit %d" % os.WEXITSTATUS(status))
check(b"100%" in seen and b"MiB" in seen, "progress bar on a terminal: %r" % seen[-120:])
pid, master = pty.fork()
if pid == 0:
    os.execv(HCGET, [HCGET, "-o", os.devnull, HTTP + "/small.txt"])
seen = b""
while True:
    r, _, _ = select.select([master], [], [], 30)
    if not r:
        break
    try:
        chunk = os.read(master, 4096)
    except OSError:
        break
    if not chunk:
        break
    seen += chunk
os.waitpid(pid, 0)
check(b"MiB" not in seen, "no progress bar for a small body: %r" % seen)

# Its manual page renders without a warning.
man = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "docs", "hcget.1")
try:
    g = subprocess.run(["groff", "-man", "-Tutf8", "-ww", "-z", man], capture_output=True)
    check(g.returncode == 0 and g.stderr == b"", "groff on docs/hcget.1: %r" % g.stderr)
except FileNotFoundError:
    check(False, "groff is missing (scripts/setup.sh installs man-db, which brings it)")

print("%d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
