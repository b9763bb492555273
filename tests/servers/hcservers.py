#!/usr/bin/env python3
"""hcservers: the real servers httpclient's interop tests talk to (Python 3.11 stdlib only).

Usage
  hcservers.py run [--keep] -- CMD ARGS...
      Start everything, run CMD with the HC_TEST_* variables below in its environment, stop
      everything (also on SIGINT/SIGTERM or a failure), delete the temp dir, exit with CMD's
      status (128+N when CMD died of signal N). --keep leaves the temp dir for a post-mortem.
  hcservers.py serve [--env-file PATH] [--parent-pid PID]
      Start everything and stay in the foreground until SIGTERM/SIGINT. Once every port
      answers, write KEY=VALUE lines to PATH (atomically) and print them to stdout. With
      --parent-pid, exit as soon as that process is gone (tests/common/mod.rs uses this so the
      servers die with the test binary). PATH is removed on exit.
  As a module: `with hcservers.Servers() as s: s.env["HC_TEST_HTTP_PORT"]`.

Needs: nginx (/usr/sbin/nginx; the Debian nginx-light package is enough), openssl (CLI),
the zstd and brotli tools and Debian's libnginx-mod-http-brotli-filter/-static (optional),
optionally tinyproxy. All listeners are on 127.0.0.1 (and [::1] for HC_TEST_HTTP6_PORT).

Environment variables exported (ports are decimal; an optional one is empty when absent)
  HC_TEST_HTTP_PORT              nginx, plain HTTP/1.1
  HC_TEST_HTTP6_PORT             nginx, plain, on [::1] (empty when the machine has no IPv6)
  HC_TEST_IPV6                   "1" if [::1] is usable, else "0"
  HC_TEST_HTTPS_PORT             nginx, TLS 1.2/1.3, cert localhost.pem (valid for localhost,
                                 127.0.0.1 and ::1, signed by the test CA)
  HC_TEST_MTLS_PORT              nginx, TLS with `ssl_verify_client on`: with a client cert
                                 from the test CA every response carries `X-Client-DN: <DN>`
                                 and `X-Client-Verify: SUCCESS` (else NONE or FAILED:reason),
                                 and `/` and `/whoami`
                                 answer 200 with the DN (RFC 2253, e.g.
                                 "CN=httpclient test client,OU=tests,O=httpclient") + "\\n".
                                 Without a cert, or with an untrusted one, nginx completes the
                                 handshake and answers **400** (nginx checks after the handshake)
  HC_TEST_MTLS_STRICT_PORT       Python TLS echo server (JSON, see below) that *requires* a
                                 client cert from the test CA in the handshake: without one the
                                 handshake fails (TLS 1.3: an alert on the first read)
  HC_TEST_HTTPS_EXPIRED_PORT     nginx TLS, leaf expired on 2021-01-01 (otherwise valid)
  HC_TEST_HTTPS_WRONGHOST_PORT   nginx TLS, leaf with SAN DNS:wrong.example only
  HC_TEST_HTTPS_IPSAN_PORT       nginx TLS, leaf with SAN IP:127.0.0.1 only (valid when the
                                 client connects to "127.0.0.1", a mismatch for "localhost")
  HC_TEST_HTTPS_SELFSIGNED_PORT  nginx TLS, self-signed leaf for localhost
  HC_TEST_HTTPS_UNTRUSTED_PORT   nginx TLS, leaf for localhost issued by the untrusted CA
  HC_TEST_PY10_PORT              Python HTTP/1.0 file server on the same docroot: responses
                                 have no Content-Length; the body ends at connection close
  HC_TEST_ECHO_PORT              Python HTTP/1.1 keep-alive echo server (see below)
  HC_TEST_PROXY_PORT             tinyproxy forward proxy, CONNECT to any port allowed
                                 (empty when tinyproxy is not installed)
  HC_TEST_CA_FILE                PEM of the test CA ("httpclient test CA")
  HC_TEST_CA_DIR                 directory with the test CA, `openssl rehash`ed
  HC_TEST_UNTRUSTED_CA_FILE      PEM of the untrusted CA
  HC_TEST_SELFSIGNED_CERT        the self-signed leaf (to trust it on purpose)
  HC_TEST_CLIENT_CERT / _KEY     client cert + key from the test CA (PEM)
  HC_TEST_UNTRUSTED_CLIENT_CERT / _KEY   client cert + key from the untrusted CA
  HC_TEST_MISMATCHED_KEY         a key matching none of the certificates
  HC_TEST_PKI_DIR                directory holding all of the above (see hc_pki.py)
  HC_TEST_DOCROOT                the document root (read expected bodies from here)
  HC_TEST_LARGE_SIZE             size of /large.bin in bytes (8 MiB)
  HC_TEST_LARGE_SHA256           hex sha256 of /large.bin
  HC_TEST_SERVERS_DIR            the temp dir (configs, logs: nginx-error.log, tinyproxy.log)
  HC_TEST_NGINX_BROTLI           "1" when nginx has Debian's brotli modules loaded (the /br/
                                 and /br-static/ paths exist), else "0"
  HC_TEST_ZSTD_STATIC            "1" when the zstd command-line tool made the /zstd/ files
                                 (and brotli's made the /br-static/ ones), else "0"

URL paths on every nginx port (plain, IPv6, HTTPS, mTLS and each bad-cert port)
  /small.txt        200, "Hello from the httpclient test server.\\n" (39 bytes, SMALL_TXT),
                    Content-Length, text/plain
  /large.bin        200, 8 MiB of deterministic pseudo-random bytes (random.Random(1)),
                    Content-Length; sha256 = HC_TEST_LARGE_SHA256
  /empty.txt        200, Content-Length: 0
  /index.html, /    200, a tiny HTML page
  /gzip/text.txt    ~100 KiB of text; with `Accept-Encoding: gzip` nginx answers
                    `Content-Encoding: gzip` + `Transfer-Encoding: chunked` (HTTP/1.1 only);
                    without it, the plain file with Content-Length
  /words.txt        200, 1 MiB of lines of pseudo-random words (compresses about 3:1)
  /zstd/text.txt, /zstd/words.txt, /zstd/large.bin
                    the docroot's gzip/text.txt, words.txt and large.bin as compressed by the
                    `zstd` tool (levels 19, 12, 3, with its checksum) at start-up, served from
                    zstd/NAME.zst with `Content-Encoding: zstd` set by the configuration,
                    whatever the request's Accept-Encoding (nginx has no zstd module)
  /zstd/window8.txt, /zstd/window16.txt
                    words.txt compressed by `zstd --long=23` / `--long=24` from a pipe: frames
                    with an 8 MiB and a 16 MiB window (RFC 9659 allows clients to refuse more
                    than 8 MiB)
  /br/text.txt, /br/words.txt
                    (HC_TEST_NGINX_BROTLI=1) the text compressed on the fly by nginx's brotli
                    filter when the request accepts br: `Content-Encoding: br`, chunked
  /br-static/text.txt, /br-static/words.txt, /br-static/large.bin
                    (HC_TEST_NGINX_BROTLI=1) nginx's brotli_static: when the request accepts br,
                    the NAME.br file made by the `brotli` tool (quality 11, 7, 5) with
                    `Content-Encoding: br`; without br, the plain file
  /echo             the request body sent back byte for byte (any method; nginx proxies it
                    to the echo server's /raw), Content-Length, application/octet-stream
  /headers          200, body "$http_host|$http_accept_encoding|$http_x_test" (no newline;
                    a missing header is an empty field)
  /status/404       404 (nginx's HTML error page); also /status/204, /status/500
  /redirect         302 to /small.txt
  /session_reused   200, "r" when the TLS session was resumed, "." when not (nginx's
                    $ssl_session_reused; TLS session tickets are on, the session cache off)
  /close            200 "closing\\n" with `Connection: close`; nginx closes after it
  /__hcservers_probe  200 with a random token: hcservers checks with it that the port is
                    really its own nginx (not someone else's listener) before going on
  /missing          (anything not listed) 404
  Keep-alive: keepalive_requests 100000, keepalive_timeout 60s; request bodies unlimited.

The HTTP/1.0 server (HC_TEST_PY10_PORT): GET/HEAD of the same docroot files, 404 otherwise.
The echo server (HC_TEST_ECHO_PORT, also behind TLS on HC_TEST_MTLS_STRICT_PORT): any method
  and path -> 200 JSON {"method","path","version","headers":[[name,value],...],"body",
  "body_base64","body_length","body_sha256","chunked","expect_continue"}; accepts chunked
  request bodies and `Expect: 100-continue`. /raw... answers the raw body instead of JSON;
  /expect-417... refuses `Expect: 100-continue` with 417; /close... closes after the answer.
"""

import argparse
import functools
import hashlib
import os
import random
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hc_configs  # noqa: E402
import hc_pki  # noqa: E402
import hc_pyservers  # noqa: E402

SMALL_TXT = b"Hello from the httpclient test server.\n"
LARGE_SIZE = 8 * 1024 * 1024
INDEX_HTML = b"<!doctype html>\n<title>httpclient test server</title>\n<p>It works.</p>\n"

BAD_CERTS = ("expired", "wronghost", "ipsan", "selfsigned", "untrusted")


def free_port(host="127.0.0.1"):
    """A port that was free a moment ago (callers retry if someone else takes it)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def ipv6_available():
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


def probe(host, port, token, tls=None, via_proxy_to=None):
    """True if the server on (host, port) answers GET /__hcservers_probe with `token`: a
    listener of somebody else's that took the port first answers something else or nothing.
    `tls`: an SSLContext to speak TLS; `via_proxy_to`: ask the proxy at (host, port) for the
    probe URL on that plain-HTTP port."""
    target = "/__hcservers_probe"
    if via_proxy_to:
        target = "http://127.0.0.1:%d/__hcservers_probe" % via_proxy_to
    try:
        with socket.create_connection((host, port), timeout=2) as raw:
            s = tls.wrap_socket(raw, server_hostname="localhost") if tls else raw
            s.sendall(b"GET %s HTTP/1.0\r\nHost: localhost\r\n\r\n" % target.encode())
            reply = b""
            while len(reply) < 65536:
                data = s.recv(65536)
                if not data:
                    break
                reply += data
            return reply.startswith(b"HTTP/1.") and reply.endswith(token.encode())
    except (OSError, ValueError):
        return False


def wait_until(checks, timeout, proc):
    """True once every check() is true; False on timeout or when `proc` exits first."""
    deadline = time.monotonic() + timeout
    pending = list(checks)
    while pending:
        if time.monotonic() > deadline or proc.poll() is not None:
            return False
        if pending[0]():
            pending.pop(0)
        else:
            time.sleep(0.05)
    return True


def words_text(size=1 << 20):
    """`size` bytes of lines of pseudo-random words (random.Random(2)): text that compresses
    about 3:1, so the coders' entropy stages have real work (the other files are either
    repetitive or incompressible)."""
    r = random.Random(2)
    letters = "abcdefghijklmnopqrstuvwxyz"
    vocabulary = ["".join(r.choice(letters) for _ in range(r.randint(1, 9))) for _ in range(3000)]
    words = r.choices(vocabulary, k=size // 4)
    out, n, i = [], 0, 0
    while n < size:
        k = r.randint(3, 15)
        line = " ".join(words[i:i + k]) + "\n"
        i += k
        out.append(line)
        n += len(line)
    return "".join(out).encode()[:size]


def make_docroot(d):
    """Write the docroot files; return the sha256 of large.bin."""
    os.makedirs(os.path.join(d, "gzip"), exist_ok=True)
    os.makedirs(os.path.join(d, "br"), exist_ok=True)
    large = random.Random(1).randbytes(LARGE_SIZE)
    files = {
        "small.txt": SMALL_TXT,
        "empty.txt": b"",
        "index.html": INDEX_HTML,
        "large.bin": large,
        "gzip/text.txt": b"".join(b"%06d the quick brown fox jumps over the lazy dog\n" % i
                                  for i in range(2000)),
    }
    files["words.txt"] = words_text()
    files["br/text.txt"] = files["gzip/text.txt"]
    files["br/words.txt"] = files["words.txt"]
    for name, data in files.items():
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)
    return hashlib.sha256(large).hexdigest()


NGINX_MODULES = "/usr/lib/nginx/modules"
BROTLI_MODULES = ("ngx_http_brotli_filter_module.so", "ngx_http_brotli_static_module.so")


def brotli_modules():
    """The load_module paths of nginx's brotli modules, or [] unless both are installed."""
    paths = [os.path.join(NGINX_MODULES, m) for m in BROTLI_MODULES]
    return paths if all(os.path.exists(p) for p in paths) else []


def start_coded_docroot(d):
    """Starts making pre-compressed copies with the real encoders' command-line tools (zstd,
    brotli), so that the bytes the client decodes come from them, not from the tests; the
    tools run while the servers start. Returns the running jobs for finish_coded_docroot, or
    None when a tool is missing (scripts/setup.sh installs them)."""
    zstd, brotli = shutil.which("zstd"), shutil.which("brotli")
    if not (zstd and brotli):
        return None
    # name: (source, zstd level, brotli quality)
    sources = {"text.txt": (os.path.join(d, "gzip", "text.txt"), "-19", "11"),
               "words.txt": (os.path.join(d, "words.txt"), "-12", "7"),
               "large.bin": (os.path.join(d, "large.bin"), "-3", "5")}
    for sub in ("zstd", "br-static"):
        os.makedirs(os.path.join(d, sub), exist_ok=True)
    jobs = []  # (argv, stdin path or None, stdout path or None), run side by side
    for name, (src, level, quality) in sources.items():
        jobs.append(([zstd, "-q", "-f", level, "--check", src, "-o",
                      os.path.join(d, "zstd", name + ".zst")], None, None))
        plain = os.path.join(d, "br-static", name)
        shutil.copyfile(src, plain)
        jobs.append(([brotli, "-f", "-q", quality, plain, "-o", plain + ".br"], None, None))
    # words.txt through a pipe (the size unknown to the tool, so the window is not shrunk to
    # it) with --long=23 and 24: frames asking for an 8 MiB and a 16 MiB window.
    for log in (23, 24):
        out = os.path.join(d, "zstd", "window%d.txt.zst" % (1 << (log - 20)))
        jobs.append(([zstd, "-q", "-c", "--long=%d" % log], sources["words.txt"][0], out))
    running = []
    for argv, stdin, stdout in jobs:
        with open(stdin or os.devnull, "rb") as i, open(stdout or os.devnull, "wb") as o:
            running.append((argv, subprocess.Popen(argv, stdin=i, stdout=o)))
    return running


def finish_coded_docroot(running):
    """Waits for the jobs of start_coded_docroot; True when there were some and all worked."""
    if running is None:
        return False
    failed = [" ".join(argv) for argv, proc in running if proc.wait() != 0]
    if failed:
        raise RuntimeError("making the compressed docroot files failed: %s" % "; ".join(failed))
    return True


def _pdeathsig_prefix():
    # The server processes die with us even if we are SIGKILLed. setpriv execs the server, so
    # the signal is armed in the server itself, tied to our main thread (which spawned it).
    setpriv = shutil.which("setpriv")
    return [setpriv, "--pdeathsig", "TERM"] if setpriv else []


def _stop_process(proc, timeout=5):
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


class Servers:
    """Every test server. `start()` returns (and sets `.env`) the HC_TEST_* dict."""

    def __init__(self, keep=False):
        self.keep = keep
        self.dir = None
        self.env = {}
        self.nginx = None
        self.tinyproxy = None
        self.py = []
        self.token = None
        self.brotli = False

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    def start(self):
        try:
            return self._start()
        except BaseException:
            self.stop()
            raise

    def _start(self):
        self.dir = tempfile.mkdtemp(prefix="hcservers-")
        d = self.dir
        pki_dir = os.path.join(d, "pki")
        docroot = os.path.join(d, "docroot")
        os.makedirs(pki_dir)
        os.makedirs(docroot)
        for sub in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
            os.makedirs(os.path.join(d, "nginx-tmp", sub))
        pki = hc_pki.make_pki(pki_dir)
        large_sha = make_docroot(docroot)
        coding = start_coded_docroot(docroot)

        # Python servers bind port 0 themselves: no race. Start them first so nginx can
        # proxy /echo to the echo server.
        py10 = hc_pyservers.start_http10(docroot)
        echo = hc_pyservers.start_echo()
        strict = hc_pyservers.start_strict_mtls(pki["localhost.pem"], pki["localhost.key"],
                                                pki["ca.pem"])
        self.py = [py10, echo, strict]

        ipv6 = ipv6_available()
        ports = self._start_nginx(pki_dir, docroot, echo.port, ipv6)
        proxy_port = self._start_tinyproxy(ports["http"])
        zstd_static = finish_coded_docroot(coding)

        self.env = {
            "HC_TEST_HTTP_PORT": ports["http"],
            "HC_TEST_HTTP6_PORT": ports.get("http6", ""),
            "HC_TEST_IPV6": "1" if ipv6 else "0",
            "HC_TEST_HTTPS_PORT": ports["https"],
            "HC_TEST_MTLS_PORT": ports["mtls"],
            "HC_TEST_MTLS_STRICT_PORT": strict.port,
            "HC_TEST_PY10_PORT": py10.port,
            "HC_TEST_ECHO_PORT": echo.port,
            "HC_TEST_PROXY_PORT": proxy_port or "",
            "HC_TEST_CA_FILE": pki["ca.pem"],
            "HC_TEST_CA_DIR": pki["ca-dir"],
            "HC_TEST_UNTRUSTED_CA_FILE": pki["untrusted-ca.pem"],
            "HC_TEST_SELFSIGNED_CERT": pki["selfsigned.pem"],
            "HC_TEST_CLIENT_CERT": pki["client.pem"],
            "HC_TEST_CLIENT_KEY": pki["client.key"],
            "HC_TEST_UNTRUSTED_CLIENT_CERT": pki["untrusted-client.pem"],
            "HC_TEST_UNTRUSTED_CLIENT_KEY": pki["untrusted-client.key"],
            "HC_TEST_MISMATCHED_KEY": pki["mismatched.key"],
            "HC_TEST_PKI_DIR": pki_dir,
            "HC_TEST_DOCROOT": docroot,
            "HC_TEST_LARGE_SIZE": LARGE_SIZE,
            "HC_TEST_LARGE_SHA256": large_sha,
            "HC_TEST_SERVERS_DIR": d,
            "HC_TEST_NGINX_BROTLI": "1" if self.brotli else "0",
            "HC_TEST_ZSTD_STATIC": "1" if zstd_static else "0",
        }
        for name in BAD_CERTS:
            self.env["HC_TEST_HTTPS_%s_PORT" % name.upper()] = ports[name]
        self.env = {k: str(v) for k, v in self.env.items()}
        return self.env

    def _start_nginx(self, pki_dir, docroot, echo_port, ipv6, attempts=6):
        d = self.dir
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        probe_tls = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        probe_tls.check_hostname = False
        probe_tls.verify_mode = ssl.CERT_NONE
        probe_tls.load_cert_chain(os.path.join(pki_dir, "client.pem"),
                                  os.path.join(pki_dir, "client.key"))
        last_error = ""
        modules = brotli_modules()
        self.brotli = bool(modules)
        for _ in range(attempts):
            # A fresh token per attempt: a leftover server cannot pass for this one.
            self.token = os.urandom(8).hex()
            with open(os.path.join(d, "common.conf"), "w") as f:
                f.write(hc_configs.COMMON_CONF.format(docroot=docroot, echo_port=echo_port,
                                            token=self.token))
                if modules:
                    f.write(hc_configs.BROTLI_CONF.format())
            names = ["http", "https", "mtls", *BAD_CERTS]
            ports = {n: free_port() for n in names}
            if ipv6:
                ports["http6"] = free_port("::1")
            if len(set(ports.values())) != len(ports):
                continue
            conf = hc_configs.NGINX_CONF.format(
                user="user root;" if os.geteuid() == 0 else "",
                load_modules="".join("load_module %s;\n" % m for m in modules),
                d=d, pki=pki_dir,
                listen6="listen [::1]:%d;" % ports["http6"] if ipv6 else "",
                bad_servers="".join(
                    hc_configs.BAD_SERVER.format(port=ports[n], name=n, pki=pki_dir, d=d)
                    for n in BAD_CERTS),
                **{k: v for k, v in ports.items() if k in ("http", "https", "mtls")})
            conf_path = os.path.join(d, "nginx.conf")
            with open(conf_path, "w") as f:
                f.write(conf)
            log = os.path.join(d, "nginx-error.log")
            open(log, "w").close()
            self.nginx = subprocess.Popen(
                [*_pdeathsig_prefix(), nginx, "-p", d, "-c", conf_path, "-e", log],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            checks = []
            for name, port in ports.items():
                host = "::1" if name == "http6" else "127.0.0.1"
                tls = None if name in ("http", "http6") else probe_tls
                checks.append(functools.partial(probe, host, port, self.token, tls))
            if wait_until(checks, 15, self.nginx):
                return ports
            _stop_process(self.nginx)
            self.nginx = None
            with open(log, errors="replace") as f:
                last_error = f.read()
        raise RuntimeError("nginx did not start after %d attempts; last error log:\n%s"
                           % (attempts, last_error))

    def _start_tinyproxy(self, http_port, attempts=5):
        exe = shutil.which("tinyproxy") or (
            "/usr/sbin/tinyproxy" if os.path.exists("/usr/sbin/tinyproxy") else None)
        if exe is None:
            return None
        conf_path = os.path.join(self.dir, "tinyproxy.conf")
        for _ in range(attempts):
            port = free_port()
            with open(conf_path, "w") as f:
                f.write(hc_configs.TINYPROXY_CONF.format(port=port, d=self.dir))
            self.tinyproxy = subprocess.Popen(
                [*_pdeathsig_prefix(), exe, "-d", "-c", conf_path],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            check = functools.partial(probe, "127.0.0.1", port, self.token,
                                      via_proxy_to=http_port)
            if wait_until([check], 10, self.tinyproxy):
                return port
            _stop_process(self.tinyproxy)
            self.tinyproxy = None
        raise RuntimeError("tinyproxy did not start; see %s/tinyproxy.log" % self.dir)

    def alive(self):
        return self.nginx is not None and self.nginx.poll() is None

    def stop(self):
        _stop_process(self.tinyproxy)
        _stop_process(self.nginx)
        self.tinyproxy = self.nginx = None
        for s in self.py:
            s.stop()
        self.py = []
        if self.dir and not self.keep:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None


class _Stop(Exception):
    pass


def _raise_stop(signum, frame):
    raise _Stop(signum)


def cmd_run(args):
    if not args.cmd:
        print("hcservers run: missing command after --", file=sys.stderr)
        return 2
    servers = Servers(keep=args.keep)
    child = None
    signal.signal(signal.SIGTERM, _raise_stop)
    signal.signal(signal.SIGINT, _raise_stop)
    try:
        env = dict(os.environ)
        env.update(servers.start())
        try:
            child = subprocess.Popen(args.cmd, env=env)
        except OSError as e:
            print("hcservers run: cannot run %r: %s" % (args.cmd[0], e), file=sys.stderr)
            return 127
        rc = child.wait()
        return 128 - rc if rc < 0 else rc
    except _Stop as stop:
        signum = stop.args[0]
        if child is not None and child.poll() is None:
            child.send_signal(signum)
            try:
                child.wait(10)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
        return 128 + signum
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        servers.stop()
        if args.keep and servers.env:
            print("hcservers: kept %s" % servers.env["HC_TEST_SERVERS_DIR"], file=sys.stderr)


def _alive(pid, first_ppid):
    if os.getppid() != first_ppid:
        return False  # our parent died and we were re-parented
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return True


def cmd_serve(args):
    servers = Servers()
    signal.signal(signal.SIGTERM, _raise_stop)
    signal.signal(signal.SIGINT, _raise_stop)
    wrote = False
    try:
        env = servers.start()
        text = "".join("%s=%s\n" % kv for kv in sorted(env.items()))
        if args.env_file:
            tmp = args.env_file + ".tmp"
            with open(tmp, "w") as f:
                f.write(text)
            os.replace(tmp, args.env_file)
            wrote = True
        sys.stdout.write(text)
        sys.stdout.flush()
        first_ppid = os.getppid()
        while True:
            if args.parent_pid and not _alive(args.parent_pid, first_ppid):
                return 0  # the test process is gone
            if not servers.alive():
                print("hcservers serve: nginx died; see %s/nginx-error.log" % servers.dir,
                      file=sys.stderr)
                return 1
            time.sleep(0.25)
    except _Stop:
        return 0
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        servers.stop()
        if wrote:
            try:
                os.unlink(args.env_file)
            except OSError:
                pass


def main(argv=None):
    p = argparse.ArgumentParser(description="httpclient test servers (see the module docstring)")
    sub = p.add_subparsers(dest="mode", required=True)
    r = sub.add_parser("run", help="start the servers, run CMD with HC_TEST_* set, stop them")
    r.add_argument("--keep", action="store_true", help="keep the temp dir")
    r.add_argument("cmd", nargs=argparse.REMAINDER, help="-- CMD ARGS...")
    s = sub.add_parser("serve", help="start the servers and stay in the foreground")
    s.add_argument("--env-file", help="write KEY=VALUE lines here once ready")
    s.add_argument("--parent-pid", type=int, help="exit when this process (our parent) dies")
    args = p.parse_args(argv)
    if args.mode == "run":
        if args.cmd and args.cmd[0] == "--":
            args.cmd = args.cmd[1:]
        return cmd_run(args)
    return cmd_serve(args)


if __name__ == "__main__":
    sys.exit(main())
