//! hc_connection: connections, their options, and requests.

use std::ffi::{c_char, c_int, c_uint, c_void};
use std::fs::File;
use std::io::Read;
use std::net::{IpAddr, SocketAddr};

use super::response::hc_response;
use super::{
    arg_bytes, arg_slice, arg_str, guard, guard_value, handle_mut, handle_ref, hc_error, null_arg,
    out_write,
};
use crate::connection::Connection;
use crate::debug::DebugKind;
use crate::error::{Error, ErrorKind};

/// An HTTP or HTTPS connection to one host (httplib's HTTPConnection). Opaque; made by
/// hc_connection_new or hc_https_connection_new, freed by hc_connection_free.
pub struct hc_connection {
    inner: Connection,
}

/// A request header: NUL-terminated name and value, borrowed for the duration of the call.
#[repr(C)]
pub struct hc_header {
    pub name: *const c_char,
    pub value: *const c_char,
}

/// hc_putrequest flag: do not add the automatic `Host` header.
pub const HC_SKIP_HOST: c_uint = 1;
/// hc_putrequest flag: do not add the automatic `Accept-Encoding: identity` header.
pub const HC_SKIP_ACCEPT_ENCODING: c_uint = 2;

/// What a debug event carries (the `kind` argument of an hc_debug_callback).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum hc_debug_kind {
    /// Informational text from the library.
    HC_DEBUG_TEXT = 0,
    /// The status line or one header line received (with its line ending).
    HC_DEBUG_HEADER_IN = 1,
    /// The request head sent.
    HC_DEBUG_HEADER_OUT = 2,
    /// Body bytes received, after de-framing.
    HC_DEBUG_DATA_IN = 3,
    /// Body bytes sent.
    HC_DEBUG_DATA_OUT = 4,
}

/// A debug callback: receives `len` bytes at `data` (not NUL-terminated, valid only during
/// the call) of the given kind, and the `userdata` given to hc_connection_set_debug_callback.
/// It is called on the thread that is using the connection or one of its responses, and
/// must not call back into httpclient with the same connection or response.
pub type hc_debug_callback = Option<
    unsafe extern "C" fn(kind: hc_debug_kind, data: *const u8, len: usize, userdata: *mut c_void),
>;

struct UserData(*mut c_void);
// SAFETY: the caller promised (header docs) that the callback and its userdata may be used
// from whichever thread uses the connection; we never use them from two threads at once.
unsafe impl Send for UserData {}

fn new_connection(
    func: &str,
    host: *const c_char,
    port: u16,
    out: *mut *mut hc_connection,
    make: fn(&str, u16) -> crate::Result<Connection>,
) -> hc_error {
    guard(|| {
        if out.is_null() {
            return Err(null_arg(func, "out"));
        }
        let host_bytes = unsafe { arg_bytes(host, func, "host") }?;
        let host = std::str::from_utf8(host_bytes).map_err(|_| {
            Error::new(
                ErrorKind::InvalidUrl,
                format!("{func}: host is not valid UTF-8"),
            )
        })?;
        let conn = make(host, port)?;
        let raw = Box::into_raw(Box::new(hc_connection { inner: conn }));
        unsafe { out_write(out, raw) };
        Ok(())
    })
}

/// Creates an HTTP connection to `host` (a name, an IPv4 address, or an IPv6 address in
/// brackets) on `port`. `port == 0` takes the port from `host` when it has the form
/// `host:port` or `[v6addr]:port`, else 80; a non-zero `port` wins over one written in `host`
/// (which must still be valid). No network I/O happens here: the connection opens on
/// hc_connection_connect or on the first request. An internationalised host name (UTF-8,
/// `bücher.example`) is converted to its IDNA A-label (`xn--bcher-kva.example`), which is what
/// is looked up, sent as SNI, checked against the certificate and sent in `Host`; an ASCII
/// name is used exactly as written.
///
/// `host` is borrowed for the call. On success `*out` receives a new handle that the caller
/// frees with hc_connection_free; on failure `*out` is untouched.
///
/// Returns HC_OK; HC_ERR_INVALID_URL for a host name that fails IDNA processing (UTS 46 with
/// the STD3 and DNS length rules), a host holding a control character, space or `@`,
/// an empty host, or a bad port after `:` (empty, not digits, more than 10 digits, 0, over
/// 65535; leading zeros are digits: `:00080` is port 80);
/// HC_ERR_INVALID_ARGUMENT for a NULL `host` or `out`.
#[no_mangle]
pub extern "C" fn hc_connection_new(
    host: *const c_char,
    port: u16,
    out: *mut *mut hc_connection,
) -> hc_error {
    new_connection("hc_connection_new", host, port, out, Connection::new)
}

/// Creates an HTTPS connection, as hc_connection_new (default port 443). The server's
/// certificate chain is verified against the system's trust store (OpenSSL's default paths,
/// honouring SSL_CERT_FILE and SSL_CERT_DIR; on Windows also the root certificates of the
/// Windows certificate store, read once per process) and its name against `host`: a host
/// name against the certificate's DNS subjectAltNames only (a wildcard stands for one whole
/// left-most label), an IP address against its IP subjectAltNames only; the subject's common
/// name is never used (RFC 6125). TLS 1.2 or newer; SNI for names, never for IP literals.
/// hc_connection_set_ca_file, hc_connection_set_ca_path, hc_connection_set_client_cert and
/// hc_connection_set_verify change this before the first connect.
///
/// Returns as hc_connection_new.
#[no_mangle]
pub extern "C" fn hc_https_connection_new(
    host: *const c_char,
    port: u16,
    out: *mut *mut hc_connection,
) -> hc_error {
    new_connection(
        "hc_https_connection_new",
        host,
        port,
        out,
        Connection::new_https,
    )
}

/// Closes and frees a connection. NULL is a no-op. A response got from it stays readable
/// after this (it keeps the socket it reads from until it ends or is freed).
#[no_mangle]
pub extern "C" fn hc_connection_free(conn: *mut hc_connection) {
    guard_value((), || {
        if !conn.is_null() {
            // SAFETY: a handle made by Box::into_raw in new_connection, freed once (contract).
            drop(unsafe { Box::from_raw(conn) });
        }
    })
}

/// Runs `f` on the connection behind `conn`.
fn with_conn(
    func: &str,
    conn: *mut hc_connection,
    f: impl FnOnce(&mut Connection) -> crate::Result<()>,
) -> hc_error {
    guard(|| {
        let c = unsafe { handle_mut(conn, func, "conn") }?;
        f(&mut c.inner)
    })
}

/// [`with_conn`] for a call that sends or reads a request: it first asks the CPU for the
/// memory the request will read (src/ffi/prefetch.rs).
fn with_conn_request(
    func: &str,
    conn: *mut hc_connection,
    f: impl FnOnce(&mut Connection) -> crate::Result<()>,
) -> hc_error {
    with_conn(func, conn, |c| {
        super::prefetch::connection(c);
        f(c)
    })
}

/// Sets the limit, in seconds, for connecting and for each later read and write (Python's
/// `timeout`); `seconds <= 0` means none (the default). Applies to every later (re)connect
/// and at once to an open connection.
///
/// Returns HC_OK; HC_ERR_INVALID_ARGUMENT for a NULL `conn` or a NaN or too large value;
/// HC_ERR_IMPROPER_CONNECTION_STATE in non-blocking mode while a call that returned
/// HC_ERR_WOULD_BLOCK is unfinished (repeat it, or close the connection, first).
///
/// Does not apply in non-blocking mode (hc_connection_set_blocking), where nothing waits.
#[no_mangle]
pub extern "C" fn hc_connection_set_timeout(conn: *mut hc_connection, seconds: f64) -> hc_error {
    with_conn("hc_connection_set_timeout", conn, |c| {
        c.set_timeout(seconds)
    })
}

/// Sets a limit, in seconds, for connecting alone (each address tried, a tunnel's CONNECT to
/// its proxy, and the TLS handshake of an HTTPS connection), separate from the read/write
/// timeout; `seconds <= 0` means: use the timeout of hc_connection_set_timeout. It applies to
/// every (re)connect, also one made on its own when a kept-alive connection was closed.
///
/// Returns HC_OK; HC_ERR_INVALID_ARGUMENT for a NULL `conn` or a NaN or too large value;
/// HC_ERR_IMPROPER_CONNECTION_STATE in non-blocking mode while a call that returned
/// HC_ERR_WOULD_BLOCK is unfinished (repeat it, or close the connection, first).
#[no_mangle]
pub extern "C" fn hc_connection_set_connect_timeout(
    conn: *mut hc_connection,
    seconds: f64,
) -> hc_error {
    with_conn("hc_connection_set_connect_timeout", conn, |c| {
        c.set_connect_timeout(seconds)
    })
}

/// Sets an overall limit, in seconds, for each later request; `seconds <= 0` means none (the
/// default). The limit counts from the moment the request starts being written, once the
/// connection is open (connecting and the TLS handshake are bounded by the timeouts of
/// hc_connection_set_timeout and hc_connection_set_connect_timeout, not by this), and covers
/// writing the request (hc_request, hc_endheaders and hc_send after it), reading the response
/// head in hc_getresponse (interim 1xx responses included) and every hc_response_read or
/// hc_response_read_all of its body, until the body ends or fails. The time the caller spends
/// between reads counts too. Each read and write waits at most what is left (and at most the
/// timeout), so a server that trickles bytes, each within the timeout, cannot hold the caller
/// longer than the limit: once it has passed, the call fails with HC_ERR_TIMEOUT and the
/// connection is closed (the next request opens a new one). A request already sent keeps the
/// limit it was sent with. Over HTTPS one read waits for a whole TLS record (at most 16 KiB),
/// so a server trickling a single record, each byte within the timeout, can overrun the limit
/// by the time that record takes to arrive.
///
/// `conn` is borrowed for the call only.
///
/// Returns HC_OK; HC_ERR_INVALID_ARGUMENT for a NULL `conn` or a NaN or too large value;
/// HC_ERR_IMPROPER_CONNECTION_STATE in non-blocking mode while a call that returned
/// HC_ERR_WOULD_BLOCK is unfinished (repeat it, or close the connection, first).
///
/// In non-blocking mode the deadline is checked at each call; hc_connection_timeout_ms says when
/// it passes.
#[no_mangle]
pub extern "C" fn hc_connection_set_deadline(conn: *mut hc_connection, seconds: f64) -> hc_error {
    with_conn("hc_connection_set_deadline", conn, |c| {
        c.set_deadline(seconds)
    })
}

/// Strict (true, the default): a reply that is not an HTTP/1.x status line is
/// HC_ERR_BAD_STATUS_LINE. Lenient (false): such a reply, as the first response on a fresh
/// connection, is taken as an HTTP/0.9 body (status 200, version 9, read until close).
///
/// Returns HC_OK; HC_ERR_INVALID_ARGUMENT for a NULL `conn`;
/// HC_ERR_IMPROPER_CONNECTION_STATE in non-blocking mode while a call that returned
/// HC_ERR_WOULD_BLOCK is unfinished (repeat it, or close the connection, first).
#[no_mangle]
pub extern "C" fn hc_connection_set_strict(conn: *mut hc_connection, strict: bool) -> hc_error {
    with_conn("hc_connection_set_strict", conn, |c| c.set_strict(strict))
}

/// `level > 0` prints httplib's trace to stderr ("send: ...", "reply: ...", "header: ...";
/// level 2 adds body byte counts), unless a debug callback is set, which then receives the
/// events instead.
///
/// Returns HC_OK; HC_ERR_INVALID_ARGUMENT for a NULL `conn`;
/// HC_ERR_IMPROPER_CONNECTION_STATE in non-blocking mode while a call that returned
/// HC_ERR_WOULD_BLOCK is unfinished (repeat it, or close the connection, first).
#[no_mangle]
pub extern "C" fn hc_connection_set_debuglevel(conn: *mut hc_connection, level: c_int) -> hc_error {
    with_conn("hc_connection_set_debuglevel", conn, |c| {
        c.set_debuglevel(level)
    })
}

/// Sends typed debug events (hc_debug_kind) to `callback` with `userdata`, whatever the
/// debug level, instead of the stderr trace; NULL removes it. Responses of this connection
/// report to it too. `userdata` is not touched by the library; it must stay valid while the
/// connection or any of its responses exists, or until the callback is replaced.
///
/// Returns HC_OK; HC_ERR_INVALID_ARGUMENT for a NULL `conn`;
/// HC_ERR_IMPROPER_CONNECTION_STATE in non-blocking mode while a call that returned
/// HC_ERR_WOULD_BLOCK is unfinished (repeat it, or close the connection, first).
#[no_mangle]
pub extern "C" fn hc_connection_set_debug_callback(
    conn: *mut hc_connection,
    callback: hc_debug_callback,
    userdata: *mut c_void,
) -> hc_error {
    with_conn("hc_connection_set_debug_callback", conn, |c| {
        let cb = callback.map(|f| {
            let ud = UserData(userdata);
            let b: crate::debug::DebugCallback = Box::new(move |kind: DebugKind, data: &[u8]| {
                let k = match kind {
                    DebugKind::Text => hc_debug_kind::HC_DEBUG_TEXT,
                    DebugKind::HeaderIn => hc_debug_kind::HC_DEBUG_HEADER_IN,
                    DebugKind::HeaderOut => hc_debug_kind::HC_DEBUG_HEADER_OUT,
                    DebugKind::DataIn => hc_debug_kind::HC_DEBUG_DATA_IN,
                    DebugKind::DataOut => hc_debug_kind::HC_DEBUG_DATA_OUT,
                };
                let ud = &ud;
                // SAFETY: the caller's function, called as documented.
                unsafe { f(k, data.as_ptr(), data.len(), ud.0) }
            });
            b
        });
        c.set_debug_callback(cb)
    })
}

fn tls_path<'a>(p: *const c_char, func: &str, name: &str) -> crate::Result<&'a str> {
    unsafe { arg_str(p, func, name) }
}

/// HTTPS: trust the certificates of the PEM file `pem_path` instead of the system's roots.
/// The file is read and checked now; `pem_path` is borrowed for the call.
///
/// Returns HC_OK; HC_ERR_INVALID_ARGUMENT for a NULL `conn` or `pem_path`, or a plain HTTP
/// connection; HC_ERR_OS when the file can't be read; HC_ERR_TLS when OpenSSL can't load it;
/// HC_ERR_IMPROPER_CONNECTION_STATE in non-blocking mode while a call that returned
/// HC_ERR_WOULD_BLOCK is unfinished (a connect, a request that opens the connection, a send,
/// a response's hc_response_readline or hc_response_read_all holding what it read):
/// the setting must not change under it; finish the call or close the connection first.
#[no_mangle]
pub extern "C" fn hc_connection_set_ca_file(
    conn: *mut hc_connection,
    pem_path: *const c_char,
) -> hc_error {
    const F: &str = "hc_connection_set_ca_file";
    with_conn(F, conn, |c| {
        c.set_ca_file(tls_path(pem_path, F, "pem_path")?)
    })
}

/// HTTPS: trust the certificates of the hashed directory `dir` (as made by `openssl rehash`)
/// instead of the system's roots (together with a CA file if one is set). `dir` is borrowed
/// for the call.
///
/// Returns HC_OK; HC_ERR_INVALID_ARGUMENT for a NULL `conn` or `dir`, or a plain HTTP
/// connection; HC_ERR_OS when the directory does not exist or is not a directory; HC_ERR_TLS
/// when OpenSSL refuses it;
/// HC_ERR_IMPROPER_CONNECTION_STATE in non-blocking mode while a call that returned
/// HC_ERR_WOULD_BLOCK is unfinished (a connect, a request that opens the connection, a send,
/// a response's hc_response_readline or hc_response_read_all holding what it read):
/// the setting must not change under it; finish the call or close the connection first.
#[no_mangle]
pub extern "C" fn hc_connection_set_ca_path(
    conn: *mut hc_connection,
    dir: *const c_char,
) -> hc_error {
    const F: &str = "hc_connection_set_ca_path";
    with_conn(F, conn, |c| c.set_ca_path(tls_path(dir, F, "dir")?))
}

/// HTTPS: present the client certificate (chain) of the PEM file `cert_file` with the PEM
/// private key `key_file` (httplib's cert_file/key_file). Both are read and checked now; both
/// paths are borrowed for the call.
///
/// Returns HC_OK; HC_ERR_INVALID_ARGUMENT for a NULL argument or a plain HTTP connection;
/// HC_ERR_OS when a file can't be read; HC_ERR_TLS when a file can't be loaded or the key
/// does not match the certificate;
/// HC_ERR_IMPROPER_CONNECTION_STATE in non-blocking mode while a call that returned
/// HC_ERR_WOULD_BLOCK is unfinished (a connect, a request that opens the connection, a send,
/// a response's hc_response_readline or hc_response_read_all holding what it read):
/// the setting must not change under it; finish the call or close the connection first.
#[no_mangle]
pub extern "C" fn hc_connection_set_client_cert(
    conn: *mut hc_connection,
    cert_file: *const c_char,
    key_file: *const c_char,
) -> hc_error {
    const F: &str = "hc_connection_set_client_cert";
    with_conn(F, conn, |c| {
        let cert = tls_path(cert_file, F, "cert_file")?;
        let key = tls_path(key_file, F, "key_file")?;
        c.set_client_cert(cert, key)
    })
}

/// HTTPS: `verify` true (the default) checks the certificate chain and the host name; false
/// accepts any certificate (as Python 2.6 httplib's HTTPSConnection did), and is only for
/// when you mean it.
///
/// Returns HC_OK; HC_ERR_INVALID_ARGUMENT for a NULL `conn` or a plain HTTP connection;
/// HC_ERR_IMPROPER_CONNECTION_STATE in non-blocking mode while a call that returned
/// HC_ERR_WOULD_BLOCK is unfinished (a connect, a request that opens the connection, a send,
/// a response's hc_response_readline or hc_response_read_all holding what it read):
/// the setting must not change under it; finish the call or close the connection first.
#[no_mangle]
pub extern "C" fn hc_connection_set_verify(conn: *mut hc_connection, verify: bool) -> hc_error {
    with_conn("hc_connection_set_verify", conn, |c| c.set_verify(verify))
}

/// Binds the connection's socket to the local address `ip` (IPv4 or IPv6 text) and `port`
/// (0: any) before connecting; NULL `ip` removes the setting. Applies to later connects.
///
/// Returns HC_OK; HC_ERR_INVALID_ARGUMENT for a NULL `conn` or an `ip` that is not an address;
/// HC_ERR_IMPROPER_CONNECTION_STATE in non-blocking mode while a call that returned
/// HC_ERR_WOULD_BLOCK is unfinished (a connect, a request that opens the connection, a send,
/// a response's hc_response_readline or hc_response_read_all holding what it read):
/// the setting must not change under it; finish the call or close the connection first.
#[no_mangle]
pub extern "C" fn hc_connection_set_source_address(
    conn: *mut hc_connection,
    ip: *const c_char,
    port: u16,
) -> hc_error {
    const F: &str = "hc_connection_set_source_address";
    with_conn(F, conn, |c| {
        if ip.is_null() {
            return c.set_source_address(None);
        }
        let s = unsafe { arg_str(ip, F, "ip") }?;
        let addr: IpAddr = s.parse().map_err(|_| {
            Error::new(
                ErrorKind::InvalidArgument,
                format!("{F}: not an IP address: {s:?}"),
            )
        })?;
        c.set_source_address(Some(SocketAddr::new(addr, port)))
    })
}

/// Opens the connection now (resolving the host and trying each address until one answers,
/// then the TLS handshake for HTTPS), unless it is open already.
///
/// Returns HC_OK; HC_ERR_INVALID_ARGUMENT for a NULL `conn`; HC_ERR_HOST_NOT_FOUND,
/// HC_ERR_CONNECTION_REFUSED, HC_ERR_TIMEOUT, HC_ERR_OS; for HTTPS also
/// HC_ERR_CERTIFICATE_VERIFY (the message holds OpenSSL's reason) and HC_ERR_TLS.
///
/// Non-blocking mode (hc_connection_set_blocking): HC_ERR_WOULD_BLOCK while resolving, connecting,
/// opening the tunnel or doing the TLS handshake; repeat the call once hc_connection_fileno is
/// ready for hc_connection_want (docs/nonblocking.md).
#[no_mangle]
pub extern "C" fn hc_connection_connect(conn: *mut hc_connection) -> hc_error {
    with_conn_request("hc_connection_connect", conn, Connection::connect)
}

/// Closes the connection and any response still being read from it; the handle stays valid
/// and the next request opens a new connection. Closing a closed connection is HC_OK.
///
/// Returns HC_OK; HC_ERR_INVALID_ARGUMENT for a NULL `conn`.
#[no_mangle]
pub extern "C" fn hc_connection_close(conn: *mut hc_connection) -> hc_error {
    with_conn("hc_connection_close", conn, |c| {
        c.close();
        Ok(())
    })
}

/// The file descriptor of the open connection's socket, for poll()/select() (wait for
/// POLLIN before hc_getresponse or hc_response_read to avoid blocking; data already
/// buffered by the library does not show there, so read until a call would block), or -1
/// when it is not open (or `conn` is NULL). The descriptor stays owned by the library: do not
/// close it or read from it.
///
/// In non-blocking mode, while the connection is being opened, it is the descriptor the
/// opening waits on: while a host name is resolved, one end of a socket pair the library owns,
/// readable when the name is resolved; then the socket of each address tried. Each is a new
/// descriptor with a number of its own: read it again after every HC_ERR_WOULD_BLOCK
/// (docs/nonblocking.md). A new descriptor never has the number of the connection's one
/// before it, also when the connection is opened again after its socket closed (a response
/// with Connection: close, hc_connection_close): until then the closed socket's number is
/// kept by a placeholder the library owns (one descriptor at most, closed when the next one
/// exists or by hc_connection_free). Blocking mode closes sockets at once.
///
/// On Windows the value is the connection's `SOCKET` (for `WSAPoll()` or `select()`, not for
/// the C runtime's read()): convert it with `(SOCKET)hc_connection_fileno(conn)`. Windows
/// socket handles fit in an int, and -1 converts to `INVALID_SOCKET`.
#[no_mangle]
pub extern "C" fn hc_connection_fileno(conn: *const hc_connection) -> c_int {
    guard_value(-1, || {
        match unsafe { handle_ref(conn, "hc_connection_fileno", "conn") } {
            Ok(c) => c.inner.fileno().unwrap_or(-1),
            Err(_) => -1,
        }
    })
}

/// Puts the connection in blocking mode (`blocking == true`, the default of a new connection)
/// or non-blocking mode (`false`), at once, also when it is open. In non-blocking mode no
/// call waits on the network or sleeps: a call that would wait returns HC_ERR_WOULD_BLOCK,
/// hc_connection_want (or hc_response_want) says whether the descriptor of
/// hc_connection_fileno (or hc_response_fileno) must become readable or writable, and the
/// same call is made again, with the same arguments, once it is. hc_connection_set_timeout
/// does not apply in that mode; hc_connection_set_deadline and the 100-continue wait do,
/// checked at each call (hc_connection_timeout_ms says when to call at the latest). Responses
/// got in one mode keep reading in the mode of their connection at the time of each read.
/// docs/nonblocking.md gives the rules and what each call does.
///
/// Threads: as every call on a connection, from one thread at a time.
///
/// Returns HC_OK; HC_ERR_INVALID_ARGUMENT for a NULL `conn`;
/// HC_ERR_IMPROPER_CONNECTION_STATE while a call that returned HC_ERR_WOULD_BLOCK is
/// unfinished (repeat it, or close the connection, first); HC_ERR_OS when the socket's mode
/// can't be changed.
#[no_mangle]
pub extern "C" fn hc_connection_set_blocking(conn: *mut hc_connection, blocking: bool) -> hc_error {
    with_conn("hc_connection_set_blocking", conn, |c| {
        c.set_blocking(blocking)
    })
}

/// After a call on `conn` returned HC_ERR_WOULD_BLOCK: what it waits for, HC_WANT_READ (the
/// descriptor must become readable), HC_WANT_WRITE (writable) or both bits; 0 after any other
/// outcome (every call on the connection clears it on entry). Over TLS a write can want READ
/// and a read WRITE. Read hc_connection_fileno at the same time: the descriptor can change
/// (a reconnect). `conn` is borrowed for the call.
///
/// Returns the bits, or -1 for a NULL `conn` (with HC_ERR_INVALID_ARGUMENT recorded for
/// hc_last_error_message).
#[no_mangle]
pub extern "C" fn hc_connection_want(conn: *const hc_connection) -> c_int {
    guard_value(-1, || {
        match unsafe { handle_ref(conn, "hc_connection_want", "conn") } {
            Ok(c) => c_int::from(c.inner.want()),
            Err(e) => {
                super::fail(e);
                -1
            }
        }
    })
}

/// Non-blocking mode: how many milliseconds may pass before a call on `conn` must be made
/// again even if its descriptor stays quiet: the end of the 100-continue wait of a request
/// being sent, or the deadline of hc_connection_set_deadline of the request in progress, its
/// response head and its body (also a body read through hc_response_read after the
/// connection's other calls are done) (rounded up; 0 when already passed: the next call then fails with HC_ERR_TIMEOUT or sends
/// the body). -1 when nothing is timed. Also answers in blocking mode. `conn` is borrowed for
/// the call.
///
/// Returns the milliseconds, 0, or -1 (nothing timed, or a NULL `conn`, which also records
/// HC_ERR_INVALID_ARGUMENT for hc_last_error_message).
#[no_mangle]
pub extern "C" fn hc_connection_timeout_ms(conn: *const hc_connection) -> i64 {
    guard_value(-1, || {
        match unsafe { handle_ref(conn, "hc_connection_timeout_ms", "conn") } {
            Ok(c) => c.inner.timeout_ms(),
            Err(e) => {
                super::fail(e);
                -1
            }
        }
    })
}

/// One header of the caller's array, borrowed as byte slices.
type HeaderPair<'a> = (&'a [u8], &'a [u8]);

/// Room on the caller's stack for the borrowed headers of one call: up to 16 inline (no
/// allocation per request), more on the heap. Made only when a call gives headers, and
/// never moved: a call without headers neither fills nor copies it.
struct HeaderStore<'a> {
    inline: [HeaderPair<'a>; INLINE_HEADERS],
    heap: Vec<HeaderPair<'a>>,
}

const INLINE_HEADERS: usize = 16;

/// Borrows the caller's header array, in `store` when there are any.
unsafe fn headers_arg<'a, 's>(
    func: &str,
    headers: *const hc_header,
    n: usize,
    store: &'s mut Option<HeaderStore<'a>>,
) -> crate::Result<&'s [HeaderPair<'a>]> {
    if n == 0 {
        return Ok(&[]);
    }
    if headers.is_null() {
        return Err(null_arg(func, "headers"));
    }
    // SAFETY: the caller gives `n` headers at `headers`.
    let hs = unsafe { std::slice::from_raw_parts(headers, n) };
    let pair = |h: &hc_header| -> crate::Result<HeaderPair<'a>> {
        Ok((
            unsafe { arg_bytes(h.name, func, "headers[i].name") }?,
            unsafe { arg_bytes(h.value, func, "headers[i].value") }?,
        ))
    };
    let store = store.insert(HeaderStore {
        inline: [(&[][..], &[][..]); INLINE_HEADERS],
        heap: Vec::new(),
    });
    if n > INLINE_HEADERS {
        store.heap = hs.iter().map(pair).collect::<crate::Result<_>>()?;
        return Ok(&store.heap);
    }
    for (slot, h) in store.inline.iter_mut().zip(hs) {
        *slot = pair(h)?;
    }
    Ok(&store.inline[..n])
}

/// Sends a whole request (httplib's request()): the request line, `Host` (from an absolute
/// URL, else the connection's host, with the port when not the default) and
/// `Accept-Encoding: identity` unless `headers` gives them, then `headers` in order, then
/// `Content-Length` for a body (`Content-Length: 0` for a POST, PUT or PATCH without one)
/// unless `headers` gives Content-Length or Transfer-Encoding (with `Transfer-Encoding:
/// chunked` the body is sent chunk-encoded), then the body. Opens (or reopens) the connection
/// as needed. Nothing is sent when an argument is refused.
///
/// `body == NULL` means no body (`body_len` must then be 0); `headers` may be NULL when
/// `n_headers == 0`. Every pointer is borrowed for the call only.
///
/// An idempotent request (GET, HEAD, OPTIONS, TRACE, PUT, DELETE) of at most 1 MiB on a
/// reused connection that the server had closed is sent once more on a fresh connection,
/// here or in hc_getresponse; a POST or PATCH never is.
///
/// With `Expect: 100-continue` in `headers` and a non-empty body, the head is sent alone and
/// the body follows only after the server's `100 Continue` or the wait of
/// hc_connection_set_continue_timeout (default 1 s); a final response that comes first (a
/// 417, a 401, ...) is returned by hc_getresponse, the body is not sent, and the connection
/// closes after that response. Such a request is never sent again by the library.
///
/// A server may also answer before it has read the whole body and close (a 413 Payload Too
/// Large, a 401): when a write fails because the server closed or reset the connection and
/// a whole final response head is already there, that response ends the request. This call
/// (and hc_endheaders, hc_send, hc_send_chunk, hc_request_stream, hc_request_fd likewise)
/// returns HC_OK without sending the rest of the body, hc_getresponse returns the server's
/// response, the debug trace says how many body bytes went out, and the connection closes
/// after that response. Only when no response is there does the write error stand.
///
/// Returns HC_OK; HC_ERR_CANNOT_SEND_REQUEST when a request is already being built or its
/// response was not yet got; HC_ERR_INVALID_URL for a URL with a control character, a space
/// or a byte outside ASCII (a request line is ASCII: percent-encode such bytes; only the host
/// of an absolute `http(s)://` URL may be an internationalised name, sent as its IDNA A-label
/// in the request line and in `Host`), or such a host that fails IDNA processing;
/// HC_ERR_INVALID_ARGUMENT for a NULL `conn`, `method` or `url`, a method that is not a
/// token, a bad header name or value (CR, LF, NUL, other controls), or both Content-Length and
/// Transfer-Encoding; the connect errors of hc_connection_connect; HC_ERR_CONNECTION_RESET,
/// HC_ERR_TIMEOUT or HC_ERR_OS when writing fails.
///
/// Non-blocking mode (hc_connection_set_blocking): HC_ERR_WOULD_BLOCK until the whole request is
/// written (with `Expect: 100-continue` also while waiting for `100 Continue`); repeat the call
/// with the same arguments (the same pointers and lengths), which goes on without resending; a
/// different call in between is HC_ERR_IMPROPER_CONNECTION_STATE (docs/nonblocking.md).
#[no_mangle]
pub extern "C" fn hc_request(
    conn: *mut hc_connection,
    method: *const c_char,
    url: *const c_char,
    body: *const u8,
    body_len: usize,
    headers: *const hc_header,
    n_headers: usize,
) -> hc_error {
    const F: &str = "hc_request";
    with_conn_request(F, conn, |c| {
        let method = unsafe { arg_bytes(method, F, "method") }?;
        let url = unsafe { arg_bytes(url, F, "url") }?;
        let body = if body.is_null() {
            if body_len != 0 {
                return Err(null_arg(F, "body"));
            }
            None
        } else {
            Some(unsafe { arg_slice(body, body_len, F, "body") }?)
        };
        let mut store = None;
        let hs = unsafe { headers_arg(F, headers, n_headers, &mut store) }?;
        c.request(method, url, body, hs)
    })
}

/// Sends a request whose body is read from the open file descriptor `fd` (httplib's file
/// body): for a regular file, `Content-Length` is the bytes from the current offset to its end
/// (from fstat) and exactly those are sent; for a pipe or socket the body is sent with
/// `Transfer-Encoding: chunked` until end of file. The bytes are streamed, never loaded whole.
/// `fd` stays the caller's (not closed); it is read from its current offset. Otherwise as
/// hc_request; such a request is never sent again by the library.
///
/// On Windows `fd` is a C runtime descriptor (from `_open()` or `_fileno()`) of msvcrt.dll,
/// the C runtime that MinGW-w64 programs and this DLL use (a program built against another C
/// runtime, such as MSVC's UCRT, has its own descriptor table); the bytes are read from the
/// HANDLE behind it, in binary whatever the descriptor's text/binary mode. A handle Windows
/// can't describe (a console) is read to its end, as a pipe.
///
/// Returns as hc_request, and HC_ERR_INVALID_ARGUMENT for a negative `fd`, HC_ERR_OS when it
/// can't be read (the connection is then closed, since a partial request went out), and
/// HC_ERR_INCOMPLETE_READ when a regular file shrank while it was sent.
///
/// Non-blocking mode: HC_ERR_WOULD_BLOCK until the whole request is written, the file read only as
/// the socket takes bytes; repeat the call with the same arguments (docs/nonblocking.md).
#[no_mangle]
pub extern "C" fn hc_request_fd(
    conn: *mut hc_connection,
    method: *const c_char,
    url: *const c_char,
    fd: c_int,
    headers: *const hc_header,
    n_headers: usize,
) -> hc_error {
    const F: &str = "hc_request_fd";
    with_conn_request(F, conn, |c| {
        let method = unsafe { arg_bytes(method, F, "method") }?;
        let url = unsafe { arg_bytes(url, F, "url") }?;
        if fd < 0 {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                format!("{F}: negative file descriptor {fd}"),
            ));
        }
        let mut store = None;
        let hs = unsafe { headers_arg(F, headers, n_headers, &mut store) }?;
        // SAFETY: the caller's open descriptor, used only during this call.
        let mut file = unsafe { super::sys::borrow_fd(fd) }
            .map_err(|e| Error::io(&format!("{F}: descriptor {fd}"), &e))?;
        let length = super::sys::bytes_left(&mut file)
            .map_err(|e| Error::io(&format!("{F}: fstat({fd})"), &e))?;
        let reader: &mut File = &mut file;
        c.request_stream(
            method,
            url,
            &mut |buf: &mut [u8]| reader.read(buf),
            length,
            hs,
        )
    })
}

/// Starts a request step by step (httplib's putrequest): writes the request line into the
/// request being built, then `Host` and `Accept-Encoding: identity` unless `flags` holds
/// HC_SKIP_HOST or HC_SKIP_ACCEPT_ENCODING. Nothing is sent until hc_endheaders. `method` and
/// `url` are borrowed for the call.
///
/// Returns HC_OK; HC_ERR_CANNOT_SEND_REQUEST when the connection is not idle (a request is
/// being built, or its response was not got); HC_ERR_INVALID_URL for a bad URL (as
/// hc_request: a control character, a space or a non-ASCII byte);
/// HC_ERR_INVALID_ARGUMENT for a NULL argument or a method that is not a token.
///
/// Never waits, also in non-blocking mode; HC_ERR_IMPROPER_CONNECTION_STATE while a call that
/// returned HC_ERR_WOULD_BLOCK is unfinished.
#[no_mangle]
pub extern "C" fn hc_putrequest(
    conn: *mut hc_connection,
    method: *const c_char,
    url: *const c_char,
    flags: c_uint,
) -> hc_error {
    const F: &str = "hc_putrequest";
    with_conn_request(F, conn, |c| {
        let method = unsafe { arg_bytes(method, F, "method") }?;
        let url = unsafe { arg_bytes(url, F, "url") }?;
        c.putrequest(
            method,
            url,
            flags & HC_SKIP_HOST != 0,
            flags & HC_SKIP_ACCEPT_ENCODING != 0,
        )
    })
}

/// Adds a header to the request being built (httplib's putheader). Both strings are
/// borrowed for the call.
///
/// Returns HC_OK; HC_ERR_CANNOT_SEND_HEADER outside a request started by hc_putrequest and
/// not yet ended; HC_ERR_INVALID_ARGUMENT for a NULL argument, a name that is not a token, or
/// a value holding CR, LF, NUL or another control character (tab is allowed).
///
/// Never waits, also in non-blocking mode; HC_ERR_IMPROPER_CONNECTION_STATE while a call that
/// returned HC_ERR_WOULD_BLOCK is unfinished.
#[no_mangle]
pub extern "C" fn hc_putheader(
    conn: *mut hc_connection,
    name: *const c_char,
    value: *const c_char,
) -> hc_error {
    const F: &str = "hc_putheader";
    with_conn_request(F, conn, |c| {
        let name = unsafe { arg_bytes(name, F, "name") }?;
        let value = unsafe { arg_bytes(value, F, "value") }?;
        c.putheader(name, value)
    })
}

/// Ends the headers and sends the request, followed by `body_len` bytes of `body` when
/// `body` is not NULL (httplib's endheaders(message_body); no Content-Length is added here:
/// give it with hc_putheader). With a `Transfer-Encoding: chunked` header, a non-NULL body
/// is sent chunk-encoded and ended; with a NULL body the chunked body stays open for
/// hc_send_chunk (hc_getresponse ends it if the caller did not, unless hc_send was used to
/// send chunks framed by the caller). Opens (or reopens) the connection as needed. `body` is
/// borrowed for the call.
///
/// Returns HC_OK; HC_ERR_CANNOT_SEND_HEADER outside a started request;
/// HC_ERR_INVALID_ARGUMENT for a NULL `conn`, or a NULL `body` with a non-zero `body_len`;
/// connect and write errors as hc_request.
///
/// Non-blocking mode: HC_ERR_WOULD_BLOCK until the head and body are written; repeat the call with
/// the same arguments (docs/nonblocking.md).
#[no_mangle]
pub extern "C" fn hc_endheaders(
    conn: *mut hc_connection,
    body: *const u8,
    body_len: usize,
) -> hc_error {
    const F: &str = "hc_endheaders";
    with_conn_request(F, conn, |c| {
        let body = if body.is_null() && body_len == 0 {
            None
        } else {
            Some(unsafe { arg_slice(body, body_len, F, "body") }?)
        };
        c.endheaders(body)
    })
}

/// Sends `len` raw bytes of `data` on the connection (httplib's send), opening it if needed:
/// for a body streamed after hc_endheaders (after a NULL-body hc_endheaders of a chunked
/// request the caller then frames the chunks itself, and hc_getresponse adds no end). A
/// request so sent is never sent again by the library. `data` is borrowed for the call.
///
/// Returns HC_OK (also when the server's answer already ended the request, see hc_request:
/// the data is then dropped); HC_ERR_IMPROPER_CONNECTION_STATE between hc_putrequest and
/// hc_endheaders; HC_ERR_INVALID_ARGUMENT for a NULL `conn`, or a NULL `data` with a non-zero
/// `len`; connect and write errors as hc_request.
///
/// Non-blocking mode: HC_ERR_WOULD_BLOCK until all `len` bytes are written; repeat the call with
/// the same arguments (docs/nonblocking.md).
#[no_mangle]
pub extern "C" fn hc_send(conn: *mut hc_connection, data: *const u8, len: usize) -> hc_error {
    const F: &str = "hc_send";
    with_conn_request(F, conn, |c| {
        let data = unsafe { arg_slice(data, len, F, "data") }?;
        c.send(data)
    })
}

/// Reads the response to the request sent (httplib's getresponse), skipping interim 1xx
/// responses (at most 32). On success `*out` receives a response that the caller frees with
/// hc_response_free, and the connection is idle again: the next request may be sent before
/// this response is read to its end (its hc_getresponse then waits for that).
///
/// Returns HC_OK; HC_ERR_RESPONSE_NOT_READY with no request sent or before the previous
/// response was read to its end; HC_ERR_INVALID_ARGUMENT for a NULL `conn` or `out`;
/// HC_ERR_REMOTE_DISCONNECTED when the server closed without a status line;
/// HC_ERR_BAD_STATUS_LINE, HC_ERR_UNKNOWN_PROTOCOL, HC_ERR_LINE_TOO_LONG,
/// HC_ERR_TOO_MANY_HEADERS or HC_ERR_HTTP_EXCEPTION for a malformed head (the connection is
/// then closed); HC_ERR_NOT_CONNECTED when the connection was closed after the request went
/// out; HC_ERR_TIMEOUT, HC_ERR_CONNECTION_RESET, HC_ERR_OS and TLS errors while reading.
///
/// Non-blocking mode: HC_ERR_WOULD_BLOCK (`*resp` untouched) until the head of the final response
/// is parsed; call it again when hc_connection_fileno is ready for hc_connection_want
/// (docs/nonblocking.md).
#[no_mangle]
pub extern "C" fn hc_getresponse(conn: *mut hc_connection, out: *mut *mut hc_response) -> hc_error {
    const F: &str = "hc_getresponse";
    with_conn_request(F, conn, |c| {
        if out.is_null() {
            return Err(null_arg(F, "out"));
        }
        let resp = c.getresponse()?;
        unsafe { out_write(out, super::response::into_raw(resp)) };
        Ok(())
    })
}

/// The value a hc_read_callback returns to abort the request: `(size_t)-1`.
pub const HC_READ_ABORT: usize = !0;

/// A request body source for hc_request_stream (libcurl's CURLOPT_READFUNCTION): fills up to
/// `cap` bytes at `buf` and returns how many it wrote (1..=cap), 0 at the end of the body, or
/// HC_READ_ABORT to abort the request. `buf` is valid only during the call; `userdata` is the
/// pointer given to hc_request_stream. It is called on the calling thread, during
/// hc_request_stream only, and must not call httpclient with the same connection.
pub type hc_read_callback =
    Option<unsafe extern "C" fn(buf: *mut u8, cap: usize, userdata: *mut c_void) -> usize>;

/// Sends a request whose body comes from `read_callback`, called with `userdata` until it
/// returns 0 (Python's request() with an iterable body; libcurl's read callback). With
/// `content_length >= 0` the request carries `Content-Length: content_length` and exactly
/// that many bytes are sent (the callback is asked for no more); with `content_length == -1`
/// it carries `Transfer-Encoding: chunked` and each piece the callback returns goes out as one
/// chunk, then `0\r\n\r\n`. `Host` and `Accept-Encoding` are added as in hc_request unless
/// `headers` gives them; a Content-Length or Transfer-Encoding in `headers` replaces the
/// automatic framing (the caller then answers for it). With `Expect: 100-continue` in
/// `headers`, the head goes first and the callback is called only once the server answered
/// `100 Continue` or the wait of hc_connection_set_continue_timeout passed; a final response
/// arriving first is kept for hc_getresponse and the callback is never called.
///
/// `method`, `url` and `headers` are borrowed for the call; `userdata` is passed through
/// untouched. The body is streamed, never held whole, so the request is never sent again by
/// the library. After a failure while the body was being sent the connection is closed (a
/// partial request went out) and the next request opens a new one; a server's answer that
/// arrived before the failure ends the request instead, as for hc_request (HC_OK, the
/// callback is not called again).
///
/// Returns HC_OK; the errors of hc_request; HC_ERR_INVALID_ARGUMENT for a NULL
/// `read_callback`, a `content_length` below -1, or a callback that returned more than `cap`;
/// HC_ERR_ABORTED_BY_CALLBACK when the callback returned HC_READ_ABORT;
/// HC_ERR_INCOMPLETE_READ when it returned 0 before `content_length` bytes.
///
/// Non-blocking mode: HC_ERR_WOULD_BLOCK until the whole request is written; `read` is called only
/// once the previous piece was written and must not block; repeat the call with the same arguments
/// (docs/nonblocking.md).
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub extern "C" fn hc_request_stream(
    conn: *mut hc_connection,
    method: *const c_char,
    url: *const c_char,
    read_callback: hc_read_callback,
    userdata: *mut c_void,
    content_length: i64,
    headers: *const hc_header,
    n_headers: usize,
) -> hc_error {
    const F: &str = "hc_request_stream";
    with_conn_request(F, conn, |c| {
        let method = unsafe { arg_bytes(method, F, "method") }?;
        let url = unsafe { arg_bytes(url, F, "url") }?;
        let Some(cb) = read_callback else {
            return Err(null_arg(F, "read_callback"));
        };
        let length = match content_length {
            -1 => None,
            n if n >= 0 => Some(n as u64),
            n => {
                return Err(Error::new(
                    ErrorKind::InvalidArgument,
                    format!("{F}: content_length must be -1 (chunked) or >= 0, not {n}"),
                ))
            }
        };
        let mut store = None;
        let hs = unsafe { headers_arg(F, headers, n_headers, &mut store) }?;
        let mut source = |buf: &mut [u8]| -> std::io::Result<usize> {
            let cap = buf.len();
            // SAFETY: the caller's function, called as documented with `cap` writable bytes.
            let n = unsafe { cb(buf.as_mut_ptr(), cap, userdata) };
            if n == HC_READ_ABORT {
                return Err(std::io::Error::other(Error::new(
                    ErrorKind::AbortedByCallback,
                    format!("{F}: the read callback returned HC_READ_ABORT"),
                )));
            }
            if n > cap {
                return Err(std::io::Error::other(Error::new(
                    ErrorKind::InvalidArgument,
                    format!("{F}: the read callback returned {n}, more than the {cap} bytes asked"),
                )));
            }
            Ok(n)
        };
        c.request_stream(method, url, &mut source, length, hs)
    })
}

/// Sends `len` bytes of `data` as one chunk of the request body (`<hex len>\r\n data \r\n`);
/// `len == 0` ends the body with `0\r\n\r\n`. Valid after hc_endheaders was called with a
/// NULL body for a request whose headers hold `Transfer-Encoding: chunked`: such a body stays
/// open until ended here, or by hc_getresponse, which sends `0\r\n\r\n` itself when the caller
/// did not. `data` is borrowed for the call (may be NULL when `len == 0`).
///
/// Returns HC_OK; HC_ERR_IMPROPER_CONNECTION_STATE when no chunked body is open (no request,
/// no chunked Transfer-Encoding, a body given to hc_endheaders, or the body already ended);
/// HC_ERR_INVALID_ARGUMENT for a NULL `conn`, or a NULL `data` with a non-zero `len`;
/// HC_ERR_NOT_CONNECTED when the connection was closed meanwhile; HC_ERR_CONNECTION_RESET,
/// HC_ERR_TIMEOUT or HC_ERR_OS when the write fails (the connection is then closed and the
/// request abandoned). When the server's answer ended the request early (see hc_request),
/// HC_OK and the data is dropped.
///
/// Non-blocking mode: HC_ERR_WOULD_BLOCK until the chunk is written; repeat the call with the same
/// arguments (docs/nonblocking.md).
#[no_mangle]
pub extern "C" fn hc_send_chunk(conn: *mut hc_connection, data: *const u8, len: usize) -> hc_error {
    const F: &str = "hc_send_chunk";
    with_conn_request(F, conn, |c| {
        let data: &[u8] = if len == 0 {
            &[]
        } else {
            unsafe { arg_slice(data, len, F, "data") }?
        };
        c.send_chunk(data)
    })
}

/// Sets how long, in seconds, a request whose headers hold `Expect: 100-continue` (sent by
/// hc_request with a non-empty body, or hc_request_stream) waits after its head for the
/// server's `100 Continue` before sending the body anyway; default 1. `seconds <= 0` sends
/// the body without waiting. A final response that arrives within the wait is returned by
/// hc_getresponse, the body is not sent, and the connection is closed after that response.
/// The wait is also bounded by hc_connection_set_timeout. The step-by-step API
/// (hc_putrequest ... hc_endheaders) does not wait.
///
/// Returns HC_OK; HC_ERR_INVALID_ARGUMENT for a NULL `conn` or a NaN or too large value;
/// HC_ERR_IMPROPER_CONNECTION_STATE in non-blocking mode while a call that returned
/// HC_ERR_WOULD_BLOCK is unfinished (repeat it, or close the connection, first).
#[no_mangle]
pub extern "C" fn hc_connection_set_continue_timeout(
    conn: *mut hc_connection,
    seconds: f64,
) -> hc_error {
    with_conn("hc_connection_set_continue_timeout", conn, |c| {
        c.set_continue_timeout(seconds)
    })
}

/// Sends every request through an HTTP proxy tunnel (httplib's set_tunnel): the connection
/// was made with the proxy's host and port, and on each connect it sends the proxy
/// `CONNECT host:port HTTP/1.1` with `Host: host:port` and then `headers` (for example
/// `Proxy-Authorization`), reads the proxy's answer, and on a 2xx runs the connection
/// through the tunnel. For an HTTPS connection the TLS handshake inside the tunnel verifies
/// the certificate against `host` (not the proxy) and sends `host` as SNI. Requests carry
/// `Host: host[:port]`. `port == 0` takes the port from `host` (`host:port`) or the scheme's
/// default. NULL `host` removes the tunnel. The proxy's answer is readable afterwards with
/// hc_connection_tunnel_status and hc_connection_tunnel_header, also after a refusal. A
/// connection using a transport factory (Rust tests) ignores the tunnel.
///
/// `host` and `headers` are borrowed for the call (copied).
///
/// Returns HC_OK; HC_ERR_INVALID_ARGUMENT for a NULL `conn`, a bad header name or value, or
/// a NULL `headers` with `n_headers > 0`; HC_ERR_INVALID_URL for a bad host or port;
/// HC_ERR_IMPROPER_CONNECTION_STATE while the connection is open or a non-blocking opening
/// is in progress (close it first; also when removing the tunnel).
///
/// Later connects (hc_connection_connect, or the first request) then also return
/// HC_ERR_TUNNEL_FAILED when the proxy answers the CONNECT with a non-2xx status (its status
/// line is in the message: "TunnelFailed: Tunnel connection failed: 407 Proxy Authentication
/// Required ..."), with something that is not an HTTP response, or closes without answering;
/// I/O errors while talking to the proxy keep their codes (HC_ERR_TIMEOUT, ...).
#[no_mangle]
pub extern "C" fn hc_connection_set_tunnel(
    conn: *mut hc_connection,
    host: *const c_char,
    port: u16,
    headers: *const hc_header,
    n_headers: usize,
) -> hc_error {
    const F: &str = "hc_connection_set_tunnel";
    with_conn(F, conn, |c| {
        if host.is_null() {
            return c.clear_tunnel();
        }
        let host = unsafe { arg_bytes(host, F, "host") }?;
        let host = std::str::from_utf8(host).map_err(|_| {
            Error::new(
                ErrorKind::InvalidUrl,
                format!("{F}: host is not valid UTF-8"),
            )
        })?;
        let mut store = None;
        let hs = unsafe { headers_arg(F, headers, n_headers, &mut store) }?;
        c.set_tunnel(host, port, hs)
    })
}

/// The status code of the proxy's answer to the last CONNECT (200 once a tunnel opened, 407
/// when it wanted credentials, ...), or -1 when none was read (no tunnel, not yet connected,
/// or an unreadable answer) or `conn` is NULL.
#[no_mangle]
pub extern "C" fn hc_connection_tunnel_status(conn: *const hc_connection) -> c_int {
    guard_value(-1, || {
        match unsafe { handle_ref(conn, "hc_connection_tunnel_status", "conn") } {
            Ok(c) => c
                .inner
                .tunnel_response()
                .map_or(-1, |h| c_int::from(h.status)),
            Err(_) => -1,
        }
    })
}

/// The value of the header `name` (case-insensitive; the first field when repeated) in the
/// proxy's answer to the last CONNECT, e.g. `Proxy-Authenticate` after a 407; NULL when
/// absent, when no answer was read, or for a NULL argument. The string belongs to the
/// connection and stays valid until its next connect, hc_connection_set_tunnel or
/// hc_connection_free.
#[no_mangle]
pub extern "C" fn hc_connection_tunnel_header(
    conn: *const hc_connection,
    name: *const c_char,
) -> *const c_char {
    const F: &str = "hc_connection_tunnel_header";
    guard_value(std::ptr::null(), || {
        let Ok(c) = (unsafe { handle_ref(conn, F, "conn") }) else {
            return std::ptr::null();
        };
        let Ok(name) = (unsafe { arg_bytes(name, F, "name") }) else {
            return std::ptr::null();
        };
        c.inner
            .tunnel_response()
            .and_then(|h| {
                let (i, _) = h.find(name)?;
                h.field_cstr(i)
            })
            .map_or(std::ptr::null(), |(_, v)| v.as_ptr())
    })
}

/// Sets the size, in bytes, of the connection's read buffer (Python's `blocksize`): each read
/// from the socket asks for at most this many bytes, except when a hc_response_read buffer
/// of 8 KiB or more is filled directly. 1024 to 1048576; the default is 16384. Applies to
/// the open connection at once (once what is buffered was consumed) and to every reconnect.
///
/// Returns HC_OK; HC_ERR_INVALID_ARGUMENT for a NULL `conn` or a size out of range;
/// HC_ERR_IMPROPER_CONNECTION_STATE in non-blocking mode while a call that returned
/// HC_ERR_WOULD_BLOCK is unfinished (repeat it, or close the connection, first).
#[no_mangle]
pub extern "C" fn hc_connection_set_blocksize(conn: *mut hc_connection, size: usize) -> hc_error {
    with_conn("hc_connection_set_blocksize", conn, |c| {
        c.set_blocksize(size)
    })
}
