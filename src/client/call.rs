//! One call: the request as the caller built it, and the hops that carry it (the first
//! request, then one per followed redirect).

use std::borrow::Cow;
use std::io::{Read, Seek, SeekFrom};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::auth;
use super::decode::Decoder;
use super::pool::PoolKey;
use super::proxy::Proxy;
use super::redirect;
use super::response::{Home, Response};
use super::target::Target;
use super::uri::HttpUrl;
use super::REDIRECT_KEEP_CREDENTIALS;
use super::{Options, Shared, AUTH_BASIC, HEADER_SENSITIVE, REDIRECT_ALLOW_DOWNGRADE};
use crate::connection::Connection;
use crate::error::{Error, ErrorKind, Result};
use crate::request::{self, GivenHeaders};

/// A streamed request body: fills the buffer and returns the count, 0 at the end.
pub type BodySource = Box<dyn FnMut(&mut [u8]) -> std::io::Result<usize> + Send>;

/// A body that can be read again from its start (a regular file).
pub trait RewindableSource: Read + Seek + Send {}
impl<T: Read + Seek + Send> RewindableSource for T {}

enum Body {
    None,
    /// In memory: replayable.
    Bytes(Vec<u8>),
    /// Streamed once: never replayed.
    Stream {
        source: BodySource,
        len: Option<u64>,
    },
    /// Read from `start`, `len` bytes; rewound for each hop.
    Rewindable {
        source: Box<dyn RewindableSource>,
        start: u64,
        len: u64,
    },
}

impl Body {
    fn is_some(&self) -> bool {
        !matches!(self, Body::None)
    }

    fn replayable(&self) -> bool {
        !matches!(self, Body::Stream { .. })
    }
}

struct Header {
    name: Vec<u8>,
    value: Vec<u8>,
    sensitive: bool,
}

/// One request being built; [`Call::send`] spends it.
pub struct Call {
    shared: Arc<Shared>,
    method: Vec<u8>,
    url: Arc<Target>,
    headers: Vec<Header>,
    body: Body,
    auth: Option<(Vec<u8>, Vec<u8>)>,
    max_redirects: Option<u32>,
    total_timeout: Option<Option<Duration>>,
}

/// What one hop needs to know beyond the call.
struct Hop<'a> {
    url: &'a Target,
    method: &'a [u8],
    /// Still on the first origin (or credentials kept by flag): credentials may go.
    trusted: bool,
    /// The body was dropped by an earlier redirect.
    body_dropped: bool,
    deadline: Option<Instant>,
    credentials: Option<&'a (Vec<u8>, Vec<u8>)>,
}

fn invalid(msg: String) -> Error {
    Error::new(ErrorKind::InvalidArgument, msg)
}

fn secs(d: Option<Duration>) -> f64 {
    d.map_or(0.0, |d| d.as_secs_f64())
}

impl Call {
    pub(crate) fn new(shared: Arc<Shared>, method: &[u8], url: &[u8]) -> Result<Call> {
        request::check_method(method)?;
        let url = shared.targets.get(url)?;
        Ok(Call {
            shared,
            method: method.to_vec(),
            url,
            headers: Vec::new(),
            body: Body::None,
            auth: None,
            max_redirects: None,
            total_timeout: None,
        })
    }

    /// Adds a header; with `HEADER_SENSITIVE` it is dropped once a redirect leaves the first
    /// origin, like Authorization.
    pub fn add_header(&mut self, name: &[u8], value: &[u8], flags: u32) -> Result<()> {
        if flags & !HEADER_SENSITIVE != 0 {
            return Err(invalid(format!("header flags: unknown bits in {flags:#x}")));
        }
        request::check_header_name(name)?;
        request::check_header_value(name, value)?;
        self.headers.push(Header {
            name: name.to_vec(),
            value: value.to_vec(),
            sensitive: flags & HEADER_SENSITIVE != 0,
        });
        Ok(())
    }

    /// The body, in memory (replayed on a redirect that keeps it).
    pub fn set_body(&mut self, data: Vec<u8>) -> Result<()> {
        self.body = Body::Bytes(data);
        Ok(())
    }

    /// A streamed body: `len` bytes exactly, or chunked when None. Never replayed: a redirect
    /// that would need it again is returned instead of followed.
    pub fn set_body_stream(&mut self, source: BodySource, len: Option<u64>) -> Result<()> {
        self.body = Body::Stream { source, len };
        Ok(())
    }

    /// A body read from `source`'s current position to its end (`len` bytes), rewound for
    /// each hop.
    pub fn set_body_rewindable(
        &mut self,
        mut source: Box<dyn RewindableSource>,
        len: u64,
    ) -> Result<()> {
        let start = source
            .stream_position()
            .map_err(|e| Error::io("finding the body's position", &e))?;
        self.body = Body::Rewindable { source, start, len };
        Ok(())
    }

    /// Credentials sent preemptively to the first origin (they win over URL userinfo).
    /// `methods` must include `AUTH_BASIC`, the only scheme.
    pub fn set_auth(&mut self, user: &[u8], password: &[u8], methods: u32) -> Result<()> {
        if methods & AUTH_BASIC == 0 || methods & !AUTH_BASIC != 0 {
            return Err(invalid(format!(
                "auth methods {methods:#x}: only HC_AUTH_BASIC (1) is supported"
            )));
        }
        if user.contains(&b':') {
            return Err(invalid(
                "a Basic user name can't hold ':' (RFC 7617)".to_string(),
            ));
        }
        if user.iter().chain(password).any(|&b| b < b' ' || b == 0x7f) {
            return Err(invalid(
                "user name and password can't hold control characters".to_string(),
            ));
        }
        self.auth = Some((user.to_vec(), password.to_vec()));
        Ok(())
    }

    /// This call's redirect limit (over the client's).
    pub fn set_max_redirects(&mut self, max: i64) -> Result<()> {
        self.max_redirects = Some(super::count("max_redirects", max)?);
        Ok(())
    }

    /// This call's total timeout (over the client's); `<= 0`: none.
    pub fn set_total_timeout(&mut self, s: f64) -> Result<()> {
        self.total_timeout = Some(super::secs("total timeout", s)?);
        Ok(())
    }

    /// Sends the call, following redirects, and returns the final response with its head read.
    pub fn send(mut self) -> Result<Response> {
        let opts = self.shared.options();
        let total = self.total_timeout.unwrap_or(opts.total_timeout);
        let deadline = total.and_then(|t| Instant::now().checked_add(t));
        let max = self.max_redirects.unwrap_or(opts.max_redirects);
        let keep_credentials = opts.redirect_flags & REDIRECT_KEEP_CREDENTIALS != 0;
        // The first origin is computed only when a redirect is followed.
        let first = self.url.clone();
        let credentials = self.auth.take().or_else(|| self.url.url().credentials());
        let mut url = self.url.clone();
        let mut method = std::mem::take(&mut self.method);
        let mut left_first = false;
        let mut body_dropped = false;
        let mut redirects = 0u32;
        loop {
            let hop = Hop {
                url: &url,
                method: &method,
                trusted: !left_first || keep_credentials,
                body_dropped,
                deadline,
                credentials: credentials.as_ref(),
            };
            let (mut raw, home, decode) = self.exchange(&opts, &hop)?;
            let status = raw.status();
            // Location matters only in a 3xx: other responses skip the search.
            let locations: Vec<Vec<u8>> = if (300..400).contains(&status) {
                raw.headers()
                    .values(b"location")
                    .map(|v| request::trim(v).to_vec())
                    .collect()
            } else {
                Vec::new()
            };
            let head_request = method.eq_ignore_ascii_case(b"HEAD");
            let finish = |raw, home, location: Option<String>| {
                let decoder = if decode {
                    Decoder::for_response(
                        &raw,
                        head_request,
                        opts.accept_encoding,
                        opts.max_decoded,
                    )?
                } else {
                    None
                };
                Ok(Response::new(
                    raw,
                    home,
                    url.public(),
                    redirects,
                    location,
                    decoder,
                ))
            };
            if !redirect::is_followed_status(status) || locations.is_empty() {
                let location = match locations.as_slice() {
                    [one] if (300..400).contains(&status) => {
                        url.url().resolve(one).ok().map(String::from)
                    }
                    _ => None,
                };
                return finish(raw, home, location);
            }
            let resolved = if locations.iter().any(|l| *l != locations[0]) {
                Err(Error::new(
                    ErrorKind::BadLocation,
                    format!(
                        "{} differing Location fields in a {status}",
                        locations.len()
                    ),
                ))
            } else {
                url.url().resolve(&locations[0])
            };
            if max == 0 {
                return finish(raw, home, resolved.ok().map(String::from));
            }
            let next = HttpUrl::followable(resolved?)?;
            if url.url().is_https()
                && !next.is_https()
                && opts.redirect_flags & REDIRECT_ALLOW_DOWNGRADE == 0
            {
                return Err(Error::new(
                    ErrorKind::RedirectRefused,
                    format!(
                        "redirect from https to http refused ({}): set HC_REDIRECT_ALLOW_DOWNGRADE \
                         to follow it",
                        next.without_userinfo()
                    ),
                ));
            }
            if redirects >= max {
                return Err(Error::new(
                    ErrorKind::TooManyRedirects,
                    format!(
                        "more than {max} redirects (the last to {})",
                        next.without_userinfo()
                    ),
                ));
            }
            let rule = redirect::next_request(status, &method);
            let body_needed = !rule.drop_body && !body_dropped && self.body.is_some();
            if body_needed && !self.body.replayable() {
                // A streamed body can't be sent again: the caller gets the 3xx and its target.
                return finish(raw, home, Some(next.without_userinfo()));
            }
            drain(&mut raw, home);
            redirects += 1;
            let next = Arc::new(Target::new(next));
            if next.origin() != first.origin() {
                left_first = true;
            }
            if rule.to_get {
                method = b"GET".to_vec();
            }
            body_dropped |= rule.drop_body;
            url = next;
        }
    }

    /// One request and its response head, on a connection from the pool or a new one.
    fn exchange(
        &mut self,
        opts: &Arc<Options>,
        hop: &Hop,
    ) -> Result<(crate::Response, Home, bool)> {
        let target = hop.url;
        let url = target.url();
        let https = url.is_https();
        let (proxy, key) = target.route(opts)?;
        let remaining = remaining(hop.deadline)?;
        let pooled = self.shared.pool.checkout(&key, &opts.limits);
        let fresh = pooled.is_none();
        let connect = match (opts.connect_timeout.or(opts.io_timeout), remaining) {
            (Some(c), Some(r)) => Some(c.min(r)),
            (c, r) => c.or(r),
        };
        // The read/write timeout the connection has: none on a new one (nothing is open yet,
        // so setting it costs nothing); a pooled one keeps what it last had.
        let (mut conn, socket_timeout) = match pooled {
            Some(c) => c,
            None => (
                new_connection(&self.shared, &key, url, proxy.as_ref(), opts)?,
                None,
            ),
        };
        conn.set_deadline(secs(remaining))?;
        // The connection layer opens under the connect limit (the proxy's CONNECT and the TLS
        // handshake included), then gives the socket the read/write one: here, and on a reopen
        // of a pooled connection.
        conn.set_connect_timeout(secs(connect))?;
        // Setting it costs two system calls on an open connection: only when it differs (a
        // warm request then makes only its write and its read).
        if socket_timeout != opts.io_timeout {
            conn.set_timeout(secs(opts.io_timeout))?;
        }
        if fresh {
            if let Err(e) = conn.connect() {
                return Err(match &proxy {
                    Some(p) => proxy_error(e, p, &conn),
                    None => e,
                });
            }
        }
        let absolute = proxy.is_some() && !https;
        let request_target = if absolute {
            Cow::Owned(url.absolute_form())
        } else {
            Cow::Borrowed(target.origin_form())
        };
        let decode = self.send_request(
            &mut conn,
            hop,
            opts,
            &request_target,
            proxy.as_ref(),
            absolute,
        )?;
        let raw = conn.getresponse()?;
        if absolute && raw.status() == 407 {
            return Err(Error::new(
                ErrorKind::ProxyAuthRequired,
                format!(
                    "the proxy {} answered 407 {}",
                    proxy.as_ref().map_or(String::new(), |p| p.display()),
                    String::from_utf8_lossy(raw.reason())
                ),
            ));
        }
        let home = Home {
            shared: self.shared.clone(),
            key,
            conn,
            io_timeout: opts.io_timeout,
        };
        Ok((raw, home, decode))
    }

    /// Writes the request of one hop: the caller's headers as the rules allow, the automatic
    /// ones, and the body. Returns whether the response should be decoded (the client offered
    /// the codings itself).
    fn send_request(
        &mut self,
        conn: &mut Connection,
        hop: &Hop,
        opts: &Options,
        target: &str,
        proxy: Option<&Proxy>,
        absolute: bool,
    ) -> Result<bool> {
        let with_body = !hop.body_dropped && self.body.is_some();
        let mut given = GivenHeaders::default();
        let mut user_agent = false;
        let mut authorization = false;
        let keep = |h: &Header| {
            if !hop.trusted && (h.sensitive || redirect::is_origin_bound(&h.name)) {
                return false;
            }
            with_body || !redirect::is_body_header(&h.name)
        };
        for h in self.headers.iter().filter(|h| keep(h)) {
            given.note(&h.name, &h.value);
            user_agent |= h.name.eq_ignore_ascii_case(b"user-agent");
            authorization |= h.name.eq_ignore_ascii_case(b"authorization");
        }
        given.check()?;
        conn.putrequest(hop.method, target.as_bytes(), given.host, true)?;
        for h in self.headers.iter().filter(|h| keep(h)) {
            conn.putheader(&h.name, &h.value)?;
        }
        if !user_agent {
            conn.putheader_trusted(
                b"User-Agent",
                concat!("httpclient/", env!("CARGO_PKG_VERSION")).as_bytes(),
            )?;
        }
        if hop.trusted && !authorization {
            if let Some((u, p)) = hop.credentials {
                conn.putheader(b"Authorization", auth::basic(u, p).as_bytes())?;
            }
        }
        if absolute {
            if let Some(a) = proxy.and_then(|p| p.authorization.as_deref()) {
                conn.putheader(b"Proxy-Authorization", a.as_bytes())?;
            }
        }
        let mut decode = false;
        if !given.accept_encoding {
            if let Some(ae) = opts.accept_encoding_value() {
                // Made by Decoder::accept_encoding from the codings' names: valid.
                conn.putheader_trusted(b"Accept-Encoding", ae.as_bytes())?;
                decode = true;
            }
        }
        let framed_by_caller = given.content_length || given.transfer_encoding;
        let length = |conn: &mut Connection, n: u64| -> Result<()> {
            if framed_by_caller {
                return Ok(());
            }
            conn.putheader(b"Content-Length", n.to_string().as_bytes())
        };
        if !with_body {
            if request::expects_body(hop.method) {
                length(conn, 0)?;
            }
            conn.endheaders(None)?;
            return Ok(decode);
        }
        match &mut self.body {
            Body::None => unreachable!("checked by with_body"),
            Body::Bytes(b) => {
                length(conn, b.len() as u64)?;
                conn.endheaders(Some(b))?;
            }
            Body::Stream { source, len } => {
                let chunked = match (framed_by_caller, *len) {
                    (true, _) => given.chunked,
                    (false, Some(n)) => {
                        length(conn, n)?;
                        false
                    }
                    (false, None) => {
                        conn.putheader(b"Transfer-Encoding", b"chunked")?;
                        true
                    }
                };
                conn.endheaders(None)?;
                let limit = if framed_by_caller { None } else { *len };
                pump(conn, &mut |buf| source(buf), chunked, limit)?;
            }
            Body::Rewindable { source, start, len } => {
                source
                    .seek(SeekFrom::Start(*start))
                    .map_err(|e| Error::io("rewinding the request body", &e))?;
                let chunked = framed_by_caller && given.chunked;
                length(conn, *len)?;
                conn.endheaders(None)?;
                let limit = if framed_by_caller { None } else { Some(*len) };
                pump(conn, &mut |buf| source.read(buf), chunked, limit)?;
            }
        }
        Ok(decode)
    }
}

/// What is left of the call's time; an error once it is over.
fn remaining(deadline: Option<Instant>) -> Result<Option<Duration>> {
    match deadline {
        None => Ok(None),
        Some(d) => {
            let left = d.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(Error::new(
                    ErrorKind::Timeout,
                    "the call's total timeout passed",
                ));
            }
            Ok(Some(left))
        }
    }
}

/// A new connection for a URL: direct, to the proxy (absolute form for http), or through a
/// CONNECT tunnel (https via a proxy, TLS verified against the origin).
fn new_connection(
    shared: &Shared,
    key: &Arc<PoolKey>,
    url: &HttpUrl,
    proxy: Option<&Proxy>,
    opts: &Options,
) -> Result<Box<Connection>> {
    let (host, port) = match proxy {
        Some(p) => (p.host.as_str(), p.port),
        None => (url.host(), url.port()),
    };
    let mut conn = Box::new(if url.is_https() {
        Connection::new_https(host, port)?
    } else {
        Connection::new(host, port)?
    });
    conn.set_source_address(opts.source)?;
    if url.is_https() {
        if let Some(p) = proxy {
            let mut headers: Vec<(&[u8], &[u8])> = Vec::new();
            if let Some(a) = &p.authorization {
                headers.push((b"Proxy-Authorization", a.as_bytes()));
            }
            conn.set_tunnel(url.host(), url.port(), &headers)?;
        }
        // One context per set of TLS settings, shared by the client's connections, with the
        // session cache's hook.
        let (context, prepare) = shared
            .sessions
            .config(&opts.tls, key, opts.tls_session_cache)?;
        conn.set_tls_config(opts.tls.clone(), context, Some(prepare))?;
    }
    Ok(conn)
}

/// The error of a connect through a proxy: a 407 to the CONNECT is `ProxyAuthRequired`; not
/// reaching the proxy at all is `Proxy`; other errors (TLS with the origin, timeouts, a
/// refused tunnel) keep their kind.
fn proxy_error(e: Error, proxy: &Proxy, conn: &Connection) -> Error {
    if e.kind() == ErrorKind::TunnelFailed
        && conn.tunnel_response().is_some_and(|h| h.status == 407)
    {
        return Error::new(ErrorKind::ProxyAuthRequired, e.message());
    }
    match e.kind() {
        ErrorKind::HostNotFound
        | ErrorKind::ConnectionRefused
        | ErrorKind::ConnectionReset
        | ErrorKind::Os => Error::new(
            ErrorKind::Proxy,
            format!("proxy {}: {}", proxy.display(), e.message()),
        ),
        _ => e,
    }
}

/// Copies a body from `read` to the connection: chunked, or at most (and exactly) `limit`
/// bytes, or until the source ends.
fn pump(
    conn: &mut Connection,
    read: &mut dyn FnMut(&mut [u8]) -> std::io::Result<usize>,
    chunked: bool,
    limit: Option<u64>,
) -> Result<()> {
    let mut buf = vec![0u8; 64 * 1024];
    let mut sent = 0u64;
    loop {
        let want = match limit {
            Some(l) => (l - sent).min(buf.len() as u64) as usize,
            None => buf.len(),
        };
        if want == 0 {
            break;
        }
        let n = loop {
            match read(&mut buf[..want]) {
                Ok(n) => break n.min(want),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    conn.close();
                    return Err(source_error(e));
                }
            }
        };
        if n == 0 {
            if let Some(l) = limit {
                conn.close();
                return Err(Error::new(
                    ErrorKind::IncompleteRead,
                    format!("the request body ended after {sent} of {l} bytes"),
                ));
            }
            break;
        }
        if chunked {
            conn.send_chunk(&buf[..n])?;
        } else {
            conn.send(&buf[..n])?;
        }
        sent += n as u64;
    }
    if chunked {
        conn.send_chunk(&[])?;
    }
    Ok(())
}

/// An [`Error`] carried in the source's `io::Error` (an abort on purpose) as it is; any other
/// as an OS error.
fn source_error(e: std::io::Error) -> Error {
    if e.get_ref().is_some_and(|inner| inner.is::<Error>()) {
        let inner = e.into_inner().expect("checked above");
        return *inner.downcast::<Error>().expect("checked above");
    }
    Error::io("reading the request body", &e)
}

/// Reads a followed redirect's body, raw and never decoded, up to 64 KiB: the connection goes
/// back to the pool when it ended by then, else it is closed.
fn drain(raw: &mut crate::Response, home: Home) {
    const MAX_DRAIN: usize = 64 * 1024;
    let mut scratch = [0u8; 8192];
    let mut drained = 0;
    while !raw.isclosed() && drained < MAX_DRAIN {
        match raw.read_some(&mut scratch) {
            Ok(0) | Err(_) => break,
            Ok(n) => drained += n,
        }
    }
    if raw.isclosed() {
        home.release(raw);
    } else {
        raw.close();
    }
}
