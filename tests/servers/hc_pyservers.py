"""The Python half of the httpclient test servers (stdlib only).

- `Http10Server`: an HTTP/1.0 static file server. Every response has no Content-Length and the
  body ends when the server closes the connection (what httplib calls "read until close").
- `EchoServer`: an HTTP/1.1 keep-alive server that answers every request with a JSON
  description of it (see `EchoHandler`), and `/raw...` paths with the request body itself.
  It understands chunked request bodies and `Expect: 100-continue`.
- `StrictMtlsServer`: the echo server behind TLS that *requires* a client certificate during
  the handshake (nginx only checks it afterwards and answers 400).

Each server binds 127.0.0.1 port 0 itself (no port race) and runs in a daemon thread.
"""

import base64
import hashlib
import http.server
import json
import os
import socket
import ssl
import threading


class _QuietMixin:
    # Test servers see reset and half-finished connections on purpose: stay silent.
    def handle_error(self, request, client_address):
        pass


class _Server(_QuietMixin, http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


class Http10Handler(http.server.BaseHTTPRequestHandler):
    """GET/HEAD of files under `server.docroot`; HTTP/1.0, no Content-Length, close after."""

    protocol_version = "HTTP/1.0"
    server_version = "hc-http10/1.0"

    def log_message(self, *args):
        pass

    def _file(self):
        path = self.path.split("?", 1)[0]
        rel = os.path.normpath(path).lstrip("/")
        full = os.path.join(self.server.docroot, rel)
        if rel.startswith("..") or not os.path.isfile(full):
            return None
        return full

    def _serve(self, with_body):
        full = self._file()
        if full is None:
            body = b"not found\n"
            self.send_response(404)
            self.send_header("Content-Type", "text/plain")
        else:
            with open(full, "rb") as f:
                body = f.read()
            self.send_response(200)
            ctype = "text/plain" if full.endswith(".txt") else "application/octet-stream"
            self.send_header("Content-Type", ctype)
        self.send_header("Connection", "close")
        self.end_headers()
        if with_body:
            self.wfile.write(body)
        self.close_connection = True

    def do_GET(self):
        self._serve(True)

    def do_HEAD(self):
        self._serve(False)


class EchoHandler(http.server.BaseHTTPRequestHandler):
    """Answers any method and path with 200 and a JSON object:

    {"method": "POST", "path": "/x?y", "version": "HTTP/1.1",
     "headers": [["Host", "127.0.0.1:1234"], ...],     (received order and spelling)
     "body": "...",                  (UTF-8, undecodable bytes replaced)
     "body_base64": "...", "body_length": 5, "body_sha256": "hex",
     "chunked": false,               (the request body came with Transfer-Encoding: chunked)
     "expect_continue": false}       (the request had Expect: 100-continue; a 100 was sent)

    Special paths:
      /raw...          the response body is the request body, byte for byte
                       (Content-Type: application/octet-stream)
      /expect-417...   a request with `Expect: 100-continue` gets 417 Expectation Failed and
                       its body is not read (the connection is then closed)
      /close...        the JSON answer, then `Connection: close` and the server closes
    The response always has Content-Length; HEAD gets the headers only.
    """

    protocol_version = "HTTP/1.1"
    server_version = "hc-echo/1.0"

    def log_message(self, *args):
        pass

    def handle_expect_100(self):
        self._expected = True
        if self.path.startswith("/expect-417"):
            self.send_response(417)
            self.send_header("Content-Length", "0")
            self.send_header("Connection", "close")
            self.end_headers()
            self.close_connection = True
            return False
        return super().handle_expect_100()

    def _read_chunked(self):
        body = bytearray()
        while True:
            line = self.rfile.readline(65537)
            if not line:
                raise ConnectionError("eof in chunk size")
            size = int(line.split(b";", 1)[0].strip(), 16)
            if size == 0:
                break
            data = self.rfile.read(size)
            if len(data) != size:
                raise ConnectionError("eof in chunk data")
            body += data
            self.rfile.readline(65537)  # the CRLF after the data
        while True:  # trailer fields, up to the empty line
            line = self.rfile.readline(65537)
            if line in (b"\r\n", b"\n", b""):
                break
        return bytes(body)

    def _handle(self):
        expected = getattr(self, "_expected", False)
        self._expected = False
        te = self.headers.get("Transfer-Encoding", "")
        chunked = "chunked" in te.lower()
        if chunked:
            body = self._read_chunked()
        else:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path.startswith("/raw"):
            out, ctype = body, "application/octet-stream"
        else:
            out = json.dumps({
                "method": self.command,
                "path": self.path,
                "version": self.request_version,
                "headers": [[k, v] for k, v in self.headers.items()],
                "body": body.decode("utf-8", "replace"),
                "body_base64": base64.b64encode(body).decode(),
                "body_length": len(body),
                "body_sha256": hashlib.sha256(body).hexdigest(),
                "chunked": chunked,
                "expect_continue": expected,
            }).encode() + b"\n"
            ctype = "application/json"
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(out)))
        if self.path.startswith("/close"):
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(out)

    def __getattr__(self, name):
        # Every method (GET, POST, PUT, DELETE, PATCH, OPTIONS, FOO, ...) echoes.
        if name.startswith("do_"):
            return self._handle
        raise AttributeError(name)


class _TlsServer(_Server):
    """Wraps each accepted socket in TLS inside its own thread, so a slow or failing
    handshake never blocks the accept loop."""

    ssl_context = None

    def finish_request(self, request, client_address):
        request.settimeout(30)
        tls = self.ssl_context.wrap_socket(request, server_side=True,
                                           do_handshake_on_connect=False)
        try:
            tls.do_handshake()
        except (ssl.SSLError, OSError):
            # OpenSSL has queued its alert; closing now with the client's bytes unread would
            # send a RST that can overtake it. Half-close, drain, then close, so the client
            # reliably reads the alert ("certificate required", ...).
            try:
                tls.shutdown(socket.SHUT_WR)  # also drops the TLS layer: recv is raw below
                while tls.recv(65536):
                    pass
            except OSError:
                pass
            tls.close()
            return
        try:
            super().finish_request(tls, client_address)
        finally:
            try:
                tls.close()
            except OSError:
                pass


class Running:
    """A server started in a daemon thread; `.port`, `.stop()`."""

    def __init__(self, server):
        self.server = server
        self.port = server.server_address[1]
        self.thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2},
                                       daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def start_http10(docroot):
    srv = _Server(("127.0.0.1", 0), Http10Handler)
    srv.docroot = docroot
    return Running(srv)


def start_echo():
    return Running(_Server(("127.0.0.1", 0), EchoHandler))


def start_strict_mtls(cert, key, ca):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(cert, key)
    ctx.load_verify_locations(ca)
    ctx.verify_mode = ssl.CERT_REQUIRED  # fail the handshake without a trusted client cert
    srv = _TlsServer(("127.0.0.1", 0), EchoHandler)
    srv.ssl_context = ctx
    return Running(srv)

