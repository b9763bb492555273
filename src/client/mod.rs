//! The URL-level client: "fetch this URL". A [`Client`] holds options, a pool of idle
//! connections and the proxy configuration, and is shared by any number of threads; a
//! [`Call`] is one request being built; a [`Response`] is read like the connection layer's.
//!
//! It is built on the connection layer and uses it as any caller would: it checks a
//! [`crate::Connection`] out of the pool, sends one request on it, and gives it back once the
//! response body has been read to its end. Locks are held only to check a connection out or
//! in and to read or replace the options, never across I/O.
//!
//! The rules (redirects and the credentials they may carry, proxies, the pool, timeouts) are
//! in docs/client.md.

mod auth;
mod call;
pub mod decode;
mod pool;
pub mod proxy;
mod redirect;
mod response;
mod sessions;
mod target;
pub mod uri;

use std::sync::{Arc, RwLock};
use std::time::Duration;

pub use call::{BodySource, Call, RewindableSource};
pub use pool::Limits;
pub use response::Response;

use crate::error::{Error, ErrorKind, Result};
use crate::transport::tls::{self, TlsOptions};
use pool::Pool;
use proxy::{NoProxy, Proxy, ProxyConfig};

/// Follow https -> http redirects.
pub const REDIRECT_ALLOW_DOWNGRADE: u32 = 1;
/// Send credentials to every origin of a redirect chain (dangerous).
pub const REDIRECT_KEEP_CREDENTIALS: u32 = 2;
/// Content codings, as a mask.
pub const ENCODING_GZIP: u32 = 1;
pub const ENCODING_DEFLATE: u32 = 2;
pub const ENCODING_BR: u32 = 4;
pub const ENCODING_ZSTD: u32 = 8;
pub const ENCODING_ALL: u32 = 15;
/// A header that is dropped on a cross-origin redirect.
pub const HEADER_SENSITIVE: u32 = 1;
/// Basic authentication.
pub const AUTH_BASIC: u32 = 1;

/// Where a client's proxies come from.
#[derive(Debug, Clone)]
enum ProxySetting {
    /// The environment as read when the client was made.
    Env(ProxyConfig),
    /// No proxy.
    None,
    /// One proxy for every URL (the bypass list still applies).
    Fixed(Proxy),
}

/// A client's options; calls take a snapshot when they are sent.
#[derive(Debug, Clone)]
pub(crate) struct Options {
    pub max_redirects: u32,
    pub redirect_flags: u32,
    pub accept_encoding: u32,
    /// None: no cap.
    pub max_decoded: Option<u64>,
    proxy: ProxySetting,
    /// The environment as read when the client was made, for `set_proxy(None)`.
    env_proxy: ProxyConfig,
    /// None: the environment's list (or none with a fixed proxy).
    no_proxy: Option<NoProxy>,
    pub connect_timeout: Option<Duration>,
    pub io_timeout: Option<Duration>,
    pub total_timeout: Option<Duration>,
    pub tls: TlsOptions,
    pub tls_session_cache: bool,
    pub limits: Limits,
    /// The local address connections are made from (part of the pool key); None: any.
    pub source: Option<std::net::SocketAddr>,
    /// The Accept-Encoding value `accept_encoding` offers, made once per options snapshot.
    accept_encoding_value: Option<String>,
}

impl Options {
    /// The Accept-Encoding value to send; None: none.
    pub fn accept_encoding_value(&self) -> Option<&str> {
        self.accept_encoding_value.as_deref()
    }

    /// Recomputes what is derived from the other fields.
    fn fill_derived(&mut self) {
        self.accept_encoding_value = decode::Decoder::accept_encoding(self.accept_encoding);
    }

    /// The proxy for a URL, after the bypass list; None: direct.
    pub fn proxy_for(&self, https: bool, host: &str, port: u16) -> Result<Option<Proxy>> {
        let env;
        let config = match &self.proxy {
            ProxySetting::None => return Ok(None),
            ProxySetting::Env(c) => c,
            ProxySetting::Fixed(p) => {
                env = ProxyConfig::fixed(p.clone());
                &env
            }
        };
        let bypass = match &self.no_proxy {
            Some(np) => np,
            None => &config.no_proxy,
        };
        if bypass.matches(host, port) {
            return Ok(None);
        }
        config.choose(https, host, port).map(|p| p.cloned())
    }
}

/// What every clone of a client and every response it handed out share.
pub(crate) struct Shared {
    options: RwLock<Arc<Options>>,
    pub pool: Pool,
    pub sessions: sessions::Sessions,
    /// The last URLs parsed by calls, with their routes.
    pub targets: target::Targets,
}

impl Shared {
    pub fn options(&self) -> Arc<Options> {
        self.options
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub fn limits(&self) -> Limits {
        self.options().limits
    }
}

/// A thread-safe HTTP client: options, a connection pool and the proxy configuration. Clones
/// share all of it. Every method takes `&self` and may be called from any thread at once; a
/// setter affects the calls sent after it.
#[derive(Clone)]
pub struct Client {
    shared: Arc<Shared>,
}

fn secs(what: &str, s: f64) -> Result<Option<Duration>> {
    if s.is_nan() {
        return Err(Error::new(
            ErrorKind::InvalidArgument,
            format!("{what}: the time is NaN"),
        ));
    }
    if s <= 0.0 {
        return Ok(None);
    }
    Duration::try_from_secs_f64(s)
        .map(Some)
        .map_err(|e| Error::new(ErrorKind::InvalidArgument, format!("{what}: {s}: {e}")))
}

fn count(what: &str, n: i64) -> Result<u32> {
    u32::try_from(n).map_err(|_| {
        Error::new(
            ErrorKind::InvalidArgument,
            format!("{what}: {n} is not a count from 0 to {}", u32::MAX),
        )
    })
}

impl Client {
    /// A client with the default options, reading the proxy environment now (and only now).
    pub fn new() -> Result<Client> {
        Self::with_proxy_config(ProxyConfig::from_process_env())
    }

    /// A client whose "environment" proxy configuration is `config` (tests).
    pub fn with_proxy_config(config: ProxyConfig) -> Result<Client> {
        let mut opts = Options {
            max_redirects: 10,
            redirect_flags: 0,
            accept_encoding: ENCODING_ALL,
            max_decoded: Some(1 << 30),
            proxy: ProxySetting::Env(config.clone()),
            env_proxy: config,
            no_proxy: None,
            connect_timeout: None,
            io_timeout: None,
            total_timeout: None,
            tls: TlsOptions::default(),
            tls_session_cache: true,
            limits: Limits::default(),
            source: None,
            accept_encoding_value: None,
        };
        opts.fill_derived();
        Ok(Client {
            shared: Arc::new(Shared {
                options: RwLock::new(Arc::new(opts)),
                pool: Pool::default(),
                sessions: sessions::Sessions::default(),
                targets: target::Targets::default(),
            }),
        })
    }

    fn update(&self, change: impl FnOnce(&mut Options) -> Result<()>) -> Result<()> {
        let mut guard = self
            .shared
            .options
            .write()
            .unwrap_or_else(|p| p.into_inner());
        let mut next = Options::clone(&guard);
        change(&mut next)?;
        next.fill_derived();
        *guard = Arc::new(next);
        Ok(())
    }

    /// At most `max` redirects are followed (default 10); 0: none (the 3xx is returned).
    pub fn set_max_redirects(&self, max: i64) -> Result<()> {
        let n = count("max_redirects", max)?;
        self.update(|o| {
            o.max_redirects = n;
            Ok(())
        })
    }

    /// `REDIRECT_*` flags.
    pub fn set_redirect_flags(&self, flags: u32) -> Result<()> {
        if flags & !(REDIRECT_ALLOW_DOWNGRADE | REDIRECT_KEEP_CREDENTIALS) != 0 {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                format!("redirect flags: unknown bits in {flags:#x}"),
            ));
        }
        self.update(|o| {
            o.redirect_flags = flags;
            Ok(())
        })
    }

    /// The codings offered and decoded (`ENCODING_*` mask); 0: no Accept-Encoding at all.
    pub fn set_accept_encoding(&self, mask: u32) -> Result<()> {
        if mask & !ENCODING_ALL != 0 {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                format!("accept encoding: unknown bits in {mask:#x}"),
            ));
        }
        self.update(|o| {
            o.accept_encoding = mask;
            Ok(())
        })
    }

    /// The most decoded bytes one response may produce (default 1 GiB); 0: no cap.
    pub fn set_max_decoded_size(&self, bytes: u64) -> Result<()> {
        self.update(|o| {
            o.max_decoded = (bytes != 0).then_some(bytes);
            Ok(())
        })
    }

    /// None: the environment (as read by `new`); `""`: no proxy; else a proxy URL
    /// (`http://[user:password@]host:port`, the scheme optional).
    pub fn set_proxy(&self, proxy: Option<&str>) -> Result<()> {
        let setting = match proxy {
            None => None,
            Some("") => Some(ProxySetting::None),
            Some(url) => Some(ProxySetting::Fixed(Proxy::parse(url)?)),
        };
        self.update(|o| {
            o.proxy = match setting {
                Some(s) => s,
                // Back to the environment as read when the client was made.
                None => ProxySetting::Env(o.env_proxy.clone()),
            };
            Ok(())
        })
    }

    /// The bypass list; None: the environment's.
    pub fn set_no_proxy(&self, list: Option<&str>) -> Result<()> {
        let np = list.map(NoProxy::parse);
        self.update(|o| {
            o.no_proxy = np;
            Ok(())
        })
    }

    /// The limit for each connect attempt (per address, TLS handshake and CONNECT included);
    /// `<= 0`: none.
    pub fn set_connect_timeout(&self, s: f64) -> Result<()> {
        let t = secs("connect timeout", s)?;
        self.update(|o| {
            o.connect_timeout = t;
            Ok(())
        })
    }

    /// The limit for each read and write; `<= 0`: none.
    pub fn set_timeout(&self, s: f64) -> Result<()> {
        let t = secs("timeout", s)?;
        self.update(|o| {
            o.io_timeout = t;
            Ok(())
        })
    }

    /// The limit for a whole call, every hop and the body included; `<= 0`: none.
    pub fn set_total_timeout(&self, s: f64) -> Result<()> {
        let t = secs("total timeout", s)?;
        self.update(|o| {
            o.total_timeout = t;
            Ok(())
        })
    }

    fn update_tls(&self, change: impl Fn(&mut TlsOptions)) -> Result<()> {
        // Checks the files now, as the connection setters do (outside the options' lock).
        let mut t = self.shared.options().tls.clone();
        change(&mut t);
        tls::build_context(&t)?;
        self.update(|o| {
            change(&mut o.tls);
            Ok(())
        })
    }

    pub fn set_ca_file(&self, pem: &str) -> Result<()> {
        self.update_tls(|t| t.ca_file = Some(pem.into()))
    }

    pub fn set_ca_path(&self, dir: &str) -> Result<()> {
        self.update_tls(|t| t.ca_path = Some(dir.into()))
    }

    pub fn set_client_cert(&self, cert: &str, key: &str) -> Result<()> {
        self.update_tls(|t| t.client_cert = Some((cert.into(), key.into())))
    }

    /// The local address (and port, 0: any) new connections are bound to; None: any. Part of
    /// the pool and TLS session key: a connection made from one source is never reused for
    /// another.
    pub fn set_source_address(&self, addr: Option<std::net::SocketAddr>) -> Result<()> {
        self.update(|o| {
            o.source = addr;
            Ok(())
        })
    }

    pub fn set_verify(&self, verify: bool) -> Result<()> {
        self.update_tls(|t| t.verify = verify)
    }

    /// TLS session resumption (default on); off also forgets the saved sessions.
    pub fn set_tls_session_cache(&self, on: bool) -> Result<()> {
        self.update(|o| {
            o.tls_session_cache = on;
            Ok(())
        })?;
        if !on {
            self.shared.sessions.store.clear();
        }
        Ok(())
    }

    /// TLS sessions saved for resumption.
    pub fn tls_sessions(&self) -> usize {
        self.shared.sessions.store.len()
    }

    /// Pool limits: idle connections per key and in total, and how long one may stay idle
    /// (`<= 0`: no limit). Defaults 4, 16, 30 s.
    pub fn set_pool_limits(
        &self,
        idle_per_key: usize,
        idle_total: usize,
        idle_timeout_s: f64,
    ) -> Result<()> {
        let t = secs("idle timeout", idle_timeout_s)?;
        self.update(|o| {
            o.limits = Limits {
                idle_per_key,
                idle_total,
                idle_timeout: t,
            };
            Ok(())
        })?;
        // Shrinking takes effect at once, not at the next checkin.
        if idle_per_key == 0 || idle_total == 0 {
            self.shared.pool.close_idle();
        }
        Ok(())
    }

    /// Closes every idle connection (e.g. before fork()).
    pub fn close_idle(&self) {
        self.shared.pool.close_idle();
    }

    /// Idle connections in the pool.
    pub fn idle_connections(&self) -> usize {
        self.shared.pool.idle_count()
    }

    /// Closes the idle connections and stops pooling: what `hc_client_free` does. Responses
    /// already handed out stay readable; their connections are closed when they end.
    pub fn shut(&self) {
        self.shared.pool.shut();
    }

    /// Starts building a call.
    pub fn call(&self, method: &str, url: &str) -> Result<Call> {
        Call::new(self.shared.clone(), method.as_bytes(), url.as_bytes())
    }

    /// Starts building a call from raw bytes (the C face).
    pub fn call_bytes(&self, method: &[u8], url: &[u8]) -> Result<Call> {
        Call::new(self.shared.clone(), method, url)
    }

    /// One call in one go: `headers`, then `body` when given.
    pub fn request(
        &self,
        method: &str,
        url: &str,
        headers: &[(&[u8], &[u8])],
        body: Option<&[u8]>,
    ) -> Result<Response> {
        let mut c = self.call(method, url)?;
        for (n, v) in headers {
            c.add_header(n, v, 0)?;
        }
        if let Some(b) = body {
            c.set_body(b.to_vec())?;
        }
        c.send()
    }

    /// `GET url`.
    pub fn get(&self, url: &str) -> Result<Response> {
        self.call("GET", url)?.send()
    }
}
