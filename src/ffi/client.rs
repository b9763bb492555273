//! hc_client: the URL-level client's options, pool and one-liners (hc_client_request,
//! hc_get). The calls it makes are in call.rs.

use std::ffi::{c_char, c_int, c_uint};
use std::sync::OnceLock;

use super::connection::hc_header;
use super::response::{client_into_raw, hc_response};
use super::{arg_bytes, arg_slice, arg_str, guard, handle_ref, hc_error, null_arg, out_write};
use crate::client::Client;
use crate::error::{Error, ErrorKind};

/// A URL-level client (like a libcurl easy handle with its share handle built in): options, a
/// pool of idle connections and the proxy configuration. Opaque; made by hc_client_new, freed
/// by hc_client_free.
///
/// Thread-safe: any number of threads may use one client at once (hc_call_new, hc_call_send,
/// hc_client_request and every setter), with no lock callbacks. Its locks are held only to
/// check a connection out of the pool or back in and to read or replace the options, never
/// during network I/O. A setter affects the calls sent after it returns.
pub struct hc_client {
    pub(crate) inner: Client,
}

/// hc_client_set_redirect_flags: follow redirects from https to http (refused by default).
pub const HC_REDIRECT_ALLOW_DOWNGRADE: c_uint = 1;
/// hc_client_set_redirect_flags: send credentials (Authorization, Cookie, headers added with
/// HC_HEADER_SENSITIVE, ...) to every origin of a redirect chain. Dangerous: any site the
/// chain passes through receives them.
pub const HC_REDIRECT_KEEP_CREDENTIALS: c_uint = 2;
/// hc_client_set_accept_encoding: gzip.
pub const HC_ENCODING_GZIP: c_uint = 1;
/// hc_client_set_accept_encoding: deflate (zlib, or raw deflate).
pub const HC_ENCODING_DEFLATE: c_uint = 2;
/// hc_client_set_accept_encoding: brotli.
pub const HC_ENCODING_BR: c_uint = 4;
/// hc_client_set_accept_encoding: zstd.
pub const HC_ENCODING_ZSTD: c_uint = 8;
/// hc_client_set_accept_encoding: every coding (the default).
pub const HC_ENCODING_ALL: c_uint = 15;

pub(crate) fn client_ref<'a>(c: *const hc_client, func: &str) -> crate::Result<&'a Client> {
    unsafe { handle_ref(c, func, "client") }.map(|c| &c.inner)
}

/// Runs a setter's body on the client.
fn with_client(
    func: &str,
    c: *mut hc_client,
    f: impl FnOnce(&Client) -> crate::Result<()>,
) -> hc_error {
    guard(|| f(client_ref(c, func)?))
}

/// Creates a client with the default options: redirects followed (at most 10, https to http
/// refused), gzip, deflate, br and zstd offered and decoded (as far as this build supports
/// them) up to 1 GiB per response, certificates verified against the system's trust store, no
/// timeouts, a pool of at most 4 idle connections per host and 16 in all, kept 30 s.
///
/// The proxy environment is read here, once: for http URLs `http_proxy` (lowercase only),
/// `all_proxy`, `ALL_PROXY`; for https URLs `https_proxy`, `HTTPS_PROXY`, `all_proxy`,
/// `ALL_PROXY`; the bypass list from `no_proxy`, then `NO_PROXY`. A proxy variable that does
/// not parse, or names an `https://` or `socks*://` proxy, makes the calls that would use it
/// fail with HC_ERR_PROXY (it is not silently ignored).
///
/// On success `*out` receives a new client that the caller frees with hc_client_free; on
/// failure `*out` is untouched.
///
/// Returns HC_OK; HC_ERR_INVALID_ARGUMENT for a NULL `out`.
#[no_mangle]
pub extern "C" fn hc_client_new(out: *mut *mut hc_client) -> hc_error {
    guard(|| {
        if out.is_null() {
            return Err(null_arg("hc_client_new", "out"));
        }
        let inner = Client::new()?;
        unsafe { out_write(out, Box::into_raw(Box::new(hc_client { inner }))) };
        Ok(())
    })
}

/// Frees a client and closes its idle connections. NULL is a no-op. Responses it handed out
/// stay readable (their connections are closed, not pooled, when they end); calls made from
/// it (hc_call) must not be used after it is freed. No other thread may be using `client`.
#[no_mangle]
pub extern "C" fn hc_client_free(client: *mut hc_client) {
    super::guard_value((), || {
        if !client.is_null() {
            // SAFETY: made by hc_client_new, freed once (contract).
            let c = unsafe { Box::from_raw(client) };
            c.inner.shut();
        }
    })
}

/// At most `max` redirects are followed per call (default 10); 0 never follows (the 3xx is
/// returned, with hc_response_redirect_location). Going over the limit is
/// HC_ERR_TOO_MANY_REDIRECTS.
///
/// Returns HC_OK; HC_ERR_INVALID_ARGUMENT for a NULL `c` or a negative `max`.
#[no_mangle]
pub extern "C" fn hc_client_set_max_redirects(c: *mut hc_client, max: c_int) -> hc_error {
    with_client("hc_client_set_max_redirects", c, |c| {
        c.set_max_redirects(i64::from(max))
    })
}

/// Redirect flags: HC_REDIRECT_ALLOW_DOWNGRADE, HC_REDIRECT_KEEP_CREDENTIALS (default none).
///
/// Returns HC_OK; HC_ERR_INVALID_ARGUMENT for a NULL `c` or an unknown bit.
#[no_mangle]
pub extern "C" fn hc_client_set_redirect_flags(c: *mut hc_client, flags: c_uint) -> hc_error {
    with_client("hc_client_set_redirect_flags", c, |c| {
        c.set_redirect_flags(flags)
    })
}

/// The content codings offered in `Accept-Encoding` and decoded (HC_ENCODING_* bits; default
/// HC_ENCODING_ALL, restricted to the codings this build supports). 0 sends no
/// Accept-Encoding at all and decodes nothing. A call that sets its own Accept-Encoding
/// header gets its body raw.
///
/// Returns HC_OK; HC_ERR_INVALID_ARGUMENT for a NULL `c` or an unknown bit.
#[no_mangle]
pub extern "C" fn hc_client_set_accept_encoding(c: *mut hc_client, mask: c_uint) -> hc_error {
    with_client("hc_client_set_accept_encoding", c, |c| {
        c.set_accept_encoding(mask)
    })
}

/// The most decoded bytes one response may produce (default 1 GiB); 0: no cap. Going over
/// it is HC_ERR_DECODED_SIZE_EXCEEDED from hc_response_read.
///
/// Returns HC_OK; HC_ERR_INVALID_ARGUMENT for a NULL `c`.
#[no_mangle]
pub extern "C" fn hc_client_set_max_decoded_size(c: *mut hc_client, bytes: u64) -> hc_error {
    with_client("hc_client_set_max_decoded_size", c, |c| {
        c.set_max_decoded_size(bytes)
    })
}

/// The proxy: NULL takes it from the environment as read by hc_client_new (the default);
/// `""` uses none; else `http://[user:password@]host:port` (the scheme may be left out; a
/// missing port is 1080). Userinfo, percent-decoded, is sent as a preemptive Basic
/// `Proxy-Authorization` to the proxy only: with http URLs, which go to the proxy in absolute
/// form, and with the CONNECT that opens a tunnel for https URLs (never inside the tunnel).
/// `proxy_url` is copied.
///
/// Returns HC_OK; HC_ERR_PROXY for a URL that does not parse or names another scheme
/// (`https://`, `socks5://`, ...); HC_ERR_INVALID_ARGUMENT for a NULL `c` or a `proxy_url`
/// that is not UTF-8.
#[no_mangle]
pub extern "C" fn hc_client_set_proxy(c: *mut hc_client, proxy_url: *const c_char) -> hc_error {
    const F: &str = "hc_client_set_proxy";
    with_client(F, c, |c| {
        let p = if proxy_url.is_null() {
            None
        } else {
            Some(unsafe { arg_str(proxy_url, F, "proxy_url") }?)
        };
        c.set_proxy(p)
    })
}

/// The proxy bypass list; NULL takes it from the environment (the default); `""` bypasses
/// nothing. Entries are separated by commas or blanks, compared case-insensitively, trailing
/// dots ignored: `*` alone (every host), `example.com`, `.example.com` or `*.example.com`
/// (that domain and its subdomains, not `notexample.com`), `host:port` (that port only),
/// IPv4 addresses and CIDR ranges (`10.1.2.3`, `192.168.0.0/16`), IPv6 addresses and ranges
/// with or without brackets (`::1`, `[::1]`, `fd00::/8`). An address entry matches only a URL
/// whose host is that literal (no DNS lookup); `localhost` is not bypassed unless listed.
/// `list` is copied.
///
/// Returns HC_OK; HC_ERR_INVALID_ARGUMENT for a NULL `c` or a `list` that is not UTF-8.
#[no_mangle]
pub extern "C" fn hc_client_set_no_proxy(c: *mut hc_client, list: *const c_char) -> hc_error {
    const F: &str = "hc_client_set_no_proxy";
    with_client(F, c, |c| {
        let l = if list.is_null() {
            None
        } else {
            Some(unsafe { arg_str(list, F, "list") }?)
        };
        c.set_no_proxy(l)
    })
}

/// The limit in seconds for each connection attempt, per address of the name (the TCP
/// connect, the proxy's CONNECT and the TLS handshake); `<= 0`: none (then the per-I/O
/// timeout, if any, applies). Name resolution can't be cut short by it.
///
/// Returns HC_OK; HC_ERR_INVALID_ARGUMENT for a NULL `c` or a NaN.
#[no_mangle]
pub extern "C" fn hc_client_set_connect_timeout(c: *mut hc_client, s: f64) -> hc_error {
    with_client("hc_client_set_connect_timeout", c, |c| {
        c.set_connect_timeout(s)
    })
}

/// The limit in seconds for each read and each write; `<= 0`: none (the default).
///
/// Returns HC_OK; HC_ERR_INVALID_ARGUMENT for a NULL `c` or a NaN.
#[no_mangle]
pub extern "C" fn hc_client_set_timeout(c: *mut hc_client, s: f64) -> hc_error {
    with_client("hc_client_set_timeout", c, |c| c.set_timeout(s))
}

/// The limit in seconds for a whole call, from hc_call_send to the end of the body, across
/// every redirect hop; `<= 0`: none (the default). Once it has passed, the step under way
/// fails with HC_ERR_TIMEOUT. hc_call_set_total_timeout overrides it for one call.
///
/// Returns HC_OK; HC_ERR_INVALID_ARGUMENT for a NULL `c` or a NaN.
#[no_mangle]
pub extern "C" fn hc_client_set_total_timeout(c: *mut hc_client, s: f64) -> hc_error {
    with_client("hc_client_set_total_timeout", c, |c| c.set_total_timeout(s))
}

/// Trusts the CA certificates of the PEM file `pem` instead of the system's (as
/// hc_connection_set_ca_file); checked now. Part of the pool key: connections made under
/// other TLS settings are never reused for calls made under these. `pem` is copied.
///
/// Returns HC_OK; HC_ERR_OS when the file can't be read; HC_ERR_TLS when it holds no usable
/// certificate; HC_ERR_INVALID_ARGUMENT for a NULL argument or a path that is not UTF-8.
#[no_mangle]
pub extern "C" fn hc_client_set_ca_file(c: *mut hc_client, pem: *const c_char) -> hc_error {
    const F: &str = "hc_client_set_ca_file";
    with_client(F, c, |c| c.set_ca_file(unsafe { arg_str(pem, F, "pem") }?))
}

/// Trusts the CA certificates of the `openssl rehash`ed directory `dir` (as
/// hc_connection_set_ca_path); part of the pool key. `dir` is copied.
///
/// Returns HC_OK; HC_ERR_OS when it is missing or not a directory; HC_ERR_INVALID_ARGUMENT
/// for a NULL argument or a path that is not UTF-8.
#[no_mangle]
pub extern "C" fn hc_client_set_ca_path(c: *mut hc_client, dir: *const c_char) -> hc_error {
    const F: &str = "hc_client_set_ca_path";
    with_client(F, c, |c| c.set_ca_path(unsafe { arg_str(dir, F, "dir") }?))
}

/// Presents the client certificate `cert` (PEM, with its chain) and its private key `key` (PEM)
/// to servers that ask (as hc_connection_set_client_cert); checked now; part of the pool key.
/// Both are copied.
///
/// Returns HC_OK; HC_ERR_OS when a file can't be read; HC_ERR_TLS when the key does not match
/// the certificate or a file does not parse; HC_ERR_INVALID_ARGUMENT for a NULL argument.
#[no_mangle]
pub extern "C" fn hc_client_set_client_cert(
    c: *mut hc_client,
    cert: *const c_char,
    key: *const c_char,
) -> hc_error {
    const F: &str = "hc_client_set_client_cert";
    with_client(F, c, |c| {
        let cert = unsafe { arg_str(cert, F, "cert") }?;
        let key = unsafe { arg_str(key, F, "key") }?;
        c.set_client_cert(cert, key)
    })
}

/// Binds the sockets of the client's new connections to the local address `ip` (IPv4 or IPv6
/// text) and `port` (0: any, the usual choice; a fixed port allows one connection at a time
/// to a given server); NULL `ip` goes back to any address (the default). Part of the pool and
/// TLS session key: a connection or session made from one source address is never used from
/// another. An address of the other family than the server's is skipped when connecting (as
/// with hc_connection_set_source_address). Applies to calls sent after it.
///
/// `ip` is copied; the caller keeps it. Returns HC_OK; HC_ERR_INVALID_ARGUMENT for a NULL
/// `c` or an `ip` that is not an IP address.
#[no_mangle]
pub extern "C" fn hc_client_set_source_address(
    c: *mut hc_client,
    ip: *const c_char,
    port: u16,
) -> hc_error {
    const F: &str = "hc_client_set_source_address";
    with_client(F, c, |c| {
        if ip.is_null() {
            return c.set_source_address(None);
        }
        let s = unsafe { arg_str(ip, F, "ip") }?;
        let addr: std::net::IpAddr = s.parse().map_err(|_| {
            Error::new(
                ErrorKind::InvalidArgument,
                format!("{F}: not an IP address: {s:?}"),
            )
        })?;
        c.set_source_address(Some(std::net::SocketAddr::new(addr, port)))
    })
}

/// Whether servers' certificates and names are verified (default true). false accepts any
/// certificate: for tests only. Part of the pool key.
///
/// Returns HC_OK; HC_ERR_INVALID_ARGUMENT for a NULL `c`.
#[no_mangle]
pub extern "C" fn hc_client_set_verify(c: *mut hc_client, verify: bool) -> hc_error {
    with_client("hc_client_set_verify", c, |c| c.set_verify(verify))
}

/// Whether TLS sessions are resumed (default true): TLS 1.2 sessions and TLS 1.3 tickets
/// (including tickets that arrive after the handshake) are saved per peer, keyed like the pool
/// (scheme, host, port, proxy, every TLS setting), at most 32 peers times 2 sessions, and offered
/// on the next handshake with that peer; a TLS 1.3 ticket is used once. 0-RTT is never used.
/// Turning it off also forgets the saved sessions.
///
/// Returns HC_OK; HC_ERR_INVALID_ARGUMENT for a NULL `c`.
#[no_mangle]
pub extern "C" fn hc_client_set_tls_session_cache(c: *mut hc_client, on: bool) -> hc_error {
    with_client("hc_client_set_tls_session_cache", c, |c| {
        c.set_tls_session_cache(on)
    })
}

/// The pool's limits: at most `idle_per_key` idle connections per key (scheme, host, port,
/// proxy and its credentials, every TLS setting) and `idle_total` in all, the least recently
/// used evicted first; an idle connection older than `idle_timeout_s` seconds is closed when
/// the pool is next used (no background thread); `<= 0`: no age limit. Defaults 4, 16, 30.0.
/// A zero count keeps no idle connection at all (every call opens a new one).
///
/// Returns HC_OK; HC_ERR_INVALID_ARGUMENT for a NULL `c` or a NaN.
#[no_mangle]
pub extern "C" fn hc_client_set_pool_limits(
    c: *mut hc_client,
    idle_per_key: usize,
    idle_total: usize,
    idle_timeout_s: f64,
) -> hc_error {
    with_client("hc_client_set_pool_limits", c, |c| {
        c.set_pool_limits(idle_per_key, idle_total, idle_timeout_s)
    })
}

/// Closes every idle connection of the pool now (e.g. before fork(), so that the child does
/// not share sockets with the parent). Connections in use are not touched.
///
/// Returns HC_OK; HC_ERR_INVALID_ARGUMENT for a NULL `c`.
#[no_mangle]
pub extern "C" fn hc_client_close_idle(c: *mut hc_client) -> hc_error {
    with_client("hc_client_close_idle", c, |c| {
        c.close_idle();
        Ok(())
    })
}

/// One call in one go: `method` on `url` with `n_headers` headers (as hc_call_add_header
/// without flags) and, when `body` is not NULL, `body_len` bytes of body (copied, so
/// replayable on a redirect). Every argument is borrowed for the call only.
///
/// On success `*out` receives the final response (after redirects) with its head read; the
/// caller reads its body with hc_response_read and frees it with hc_response_free.
///
/// Returns HC_OK and the errors of hc_call_new, hc_call_add_header and hc_call_send;
/// HC_ERR_INVALID_ARGUMENT for a NULL `c`, `method`, `url` or `out`, NULL headers with a
/// non-zero `n_headers`, or a NULL `body` with a non-zero `body_len`.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub extern "C" fn hc_client_request(
    c: *mut hc_client,
    method: *const c_char,
    url: *const c_char,
    headers: *const hc_header,
    n_headers: usize,
    body: *const u8,
    body_len: usize,
    out: *mut *mut hc_response,
) -> hc_error {
    const F: &str = "hc_client_request";
    guard(|| {
        let client = client_ref(c, F)?;
        if out.is_null() {
            return Err(null_arg(F, "out"));
        }
        let method = unsafe { arg_bytes(method, F, "method") }?;
        let url = unsafe { arg_bytes(url, F, "url") }?;
        let mut call = client.call_bytes(method, url)?;
        if n_headers > 0 {
            if headers.is_null() {
                return Err(null_arg(F, "headers"));
            }
            // SAFETY: the caller gives `n_headers` headers at `headers`.
            let hs = unsafe { std::slice::from_raw_parts(headers, n_headers) };
            for h in hs {
                let n = unsafe { arg_bytes(h.name, F, "headers[i].name") }?;
                let v = unsafe { arg_bytes(h.value, F, "headers[i].value") }?;
                call.add_header(n, v, 0)?;
            }
        }
        if !body.is_null() || body_len != 0 {
            let b = unsafe { arg_slice(body, body_len, F, "body") }?;
            call.set_body(b.to_vec())?;
        }
        let resp = call.send()?;
        unsafe { out_write(out, client_into_raw(resp)) };
        Ok(())
    })
}

/// The process-wide client of hc_get, made on first use (reading the proxy environment then).
fn default_client() -> crate::Result<&'static Client> {
    static DEFAULT: OnceLock<crate::Result<Client>> = OnceLock::new();
    DEFAULT
        .get_or_init(Client::new)
        .as_ref()
        .map_err(Clone::clone)
}

/// `GET url` with a process-wide client that has the default options (see hc_client_new),
/// made on the first call and never freed; any number of threads may call hc_get at once.
/// `url` is borrowed for the call. On success `*out` receives the final response; the caller
/// reads it and frees it with hc_response_free.
///
/// Returns HC_OK; HC_ERR_INVALID_ARGUMENT for a NULL argument; the errors of hc_call_new and
/// hc_call_send.
#[no_mangle]
pub extern "C" fn hc_get(url: *const c_char, out: *mut *mut hc_response) -> hc_error {
    const F: &str = "hc_get";
    guard(|| {
        if out.is_null() {
            return Err(null_arg(F, "out"));
        }
        let url = unsafe { arg_bytes(url, F, "url") }?;
        let client = default_client()?;
        let resp = client.call_bytes(b"GET", url)?.send()?;
        unsafe { out_write(out, client_into_raw(resp)) };
        Ok(())
    })
}

/// The error of a call used after hc_call_send.
pub(crate) fn spent(func: &str) -> Error {
    Error::new(
        ErrorKind::ImproperConnectionState,
        format!("{func}: the call was already sent (a call is single use)"),
    )
}
