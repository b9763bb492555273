//! A URL a call goes to, with what is derived from it computed at most once, and a small
//! per-client cache of the last URLs parsed.
//!
//! A warm keep-alive GET through the client used to parse its URL string again on every call
//! (the url crate, IDNA, formatting an IPv4 host back to text), compute the first origin for
//! the redirect rules before any redirect, rebuild the pool key and the URL without userinfo:
//! about three times the instructions of the request itself on a bare connection. Parsing is a
//! pure function of the bytes, so a cache keyed on the exact bytes gives what a fresh parse
//! gives; what depends on the client's options (the proxy, the pool key) is cached with the
//! options snapshot it was computed under and recomputed when the options are replaced.
//!
//! Locks: the cache's list and a target's route are each behind a mutex held only to compare
//! and clone an `Arc`, never across I/O or parsing.

use std::ffi::CStr;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use super::pool::{PoolKey, TlsKey};
use super::proxy::Proxy;
use super::uri::{HttpUrl, Origin};
use super::Options;
use crate::error::Result;

/// How many URLs a client remembers, and the longest one it keeps.
const CACHED_URLS: usize = 8;
const CACHED_URL_MAX: usize = 2048;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Every value kept under these locks is consistent at any point.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The proxy and pool key of a target under one options snapshot.
#[derive(Clone)]
struct Route {
    /// Kept so its address can't be reused by a later snapshot (the check is `Arc::ptr_eq`).
    opts: Arc<Options>,
    proxy: Option<Proxy>,
    key: Arc<PoolKey>,
}

/// A parsed, checked URL and what the client derives from it, each computed on first use.
pub(crate) struct Target {
    url: HttpUrl,
    origin: OnceLock<Origin>,
    origin_form: OnceLock<String>,
    public: OnceLock<Arc<CStr>>,
    route: Mutex<Option<Route>>,
}

impl Target {
    pub fn new(url: HttpUrl) -> Target {
        Target {
            url,
            origin: OnceLock::new(),
            origin_form: OnceLock::new(),
            public: OnceLock::new(),
            route: Mutex::new(None),
        }
    }

    pub fn url(&self) -> &HttpUrl {
        &self.url
    }

    /// The origin, for the credential rule (computed when a redirect is followed).
    pub fn origin(&self) -> &Origin {
        self.origin.get_or_init(|| self.url.origin())
    }

    /// The request target in origin form.
    pub fn origin_form(&self) -> &str {
        self.origin_form.get_or_init(|| self.url.origin_form())
    }

    /// The URL without userinfo, as the response reports it.
    pub fn public(&self) -> Arc<CStr> {
        self.public
            .get_or_init(|| {
                let c = std::ffi::CString::new(self.url.without_userinfo()).unwrap_or_default();
                Arc::from(c)
            })
            .clone()
    }

    /// The proxy for this URL and its pool key under `opts`, computed once per options
    /// snapshot.
    pub fn route(&self, opts: &Arc<Options>) -> Result<(Option<Proxy>, Arc<PoolKey>)> {
        if let Some(r) = lock(&self.route).as_ref() {
            if Arc::ptr_eq(&r.opts, opts) {
                return Ok((r.proxy.clone(), r.key.clone()));
            }
        }
        let (proxy, key) = route_of(&self.url, opts)?;
        let key = Arc::new(key);
        *lock(&self.route) = Some(Route {
            opts: opts.clone(),
            proxy: proxy.clone(),
            key: key.clone(),
        });
        Ok((proxy, key))
    }
}

/// The proxy and the pool key of `url` under `opts`, computed afresh.
pub(crate) fn route_of(url: &HttpUrl, opts: &Options) -> Result<(Option<Proxy>, PoolKey)> {
    let https = url.is_https();
    let proxy = opts.proxy_for(https, url.host(), url.port())?;
    let key = PoolKey {
        https,
        host: url.host().to_ascii_lowercase(),
        port: url.port(),
        proxy: proxy
            .as_ref()
            .map(|p| (p.display(), p.authorization.clone())),
        tls: https.then(|| TlsKey::of(&opts.tls)),
        source: opts.source,
    };
    Ok((proxy, key))
}

struct Entry {
    text: Box<[u8]>,
    target: Arc<Target>,
}

/// The last URLs a client parsed, most recently used last.
#[derive(Default)]
pub(crate) struct Targets {
    list: Mutex<Vec<Entry>>,
}

impl Targets {
    /// The target of `text`: the cached one when these exact bytes were parsed before, else a
    /// fresh parse (kept when it succeeds). Errors are `HttpUrl::parse`'s, never cached.
    pub fn get(&self, text: &[u8]) -> Result<Arc<Target>> {
        {
            let mut list = lock(&self.list);
            if let Some(i) = list.iter().rposition(|e| *e.text == *text) {
                let target = list[i].target.clone();
                if i + 1 != list.len() {
                    let e = list.remove(i);
                    list.push(e);
                }
                return Ok(target);
            }
        }
        // Parsed outside the lock: other threads keep using the cache meanwhile.
        let target = Arc::new(Target::new(HttpUrl::parse(text)?));
        if text.len() <= CACHED_URL_MAX {
            let mut list = lock(&self.list);
            if !list.iter().any(|e| *e.text == *text) {
                if list.len() >= CACHED_URLS {
                    list.remove(0);
                }
                list.push(Entry {
                    text: text.into(),
                    target: target.clone(),
                });
            }
        }
        Ok(target)
    }

    /// How many URLs are cached (tests).
    #[cfg(test)]
    pub fn len(&self) -> usize {
        lock(&self.list).len()
    }
}
