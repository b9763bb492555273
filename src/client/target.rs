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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::proxy::ProxyConfig;
    use crate::client::Client;

    const URLS: &[&str] = &[
        "http://127.0.0.1:8080/",
        "http://127.0.0.1:8080",
        "https://127.0.0.1:8443/a?b=c#d",
        "http://user:p%40ss@example.com/x",
        "http://us%40er:p%3Aw@Example.COM./y?q",
        "http://:pw@h/",
        "http://bücher.example/café?q=é",
        "https://xn--bcher-kva.example/",
        "http://[::1]:8080/p",
        "http://[0:0::1]/",
        "HTTP://EXAMPLE.com:80/",
        "http://example.com/%7e?%20#frag",
        "https://example.com:443/",
    ];

    /// A hit must give exactly what a fresh parse gives, and each derived value too.
    fn assert_same(t: &Target, text: &str) {
        let fresh = HttpUrl::parse(text.as_bytes()).unwrap();
        assert_eq!(*t.url(), fresh, "{text}");
        assert_eq!(*t.origin(), fresh.origin(), "{text}");
        assert_eq!(t.origin_form(), fresh.origin_form(), "{text}");
        assert_eq!(
            t.public().to_str().unwrap(),
            fresh.without_userinfo(),
            "{text}"
        );
        assert_eq!(t.url().credentials(), fresh.credentials(), "{text}");
        assert_eq!(t.url().absolute_form(), fresh.absolute_form(), "{text}");
        assert_eq!(t.url().host(), fresh.host(), "{text}");
        assert_eq!(t.url().port(), fresh.port(), "{text}");
    }

    #[test]
    fn a_hit_is_a_fresh_parse() {
        let cache = Targets::default();
        for round in 0..3 {
            for text in URLS {
                let t = cache.get(text.as_bytes()).unwrap();
                assert_same(&t, text);
                // The same bytes again: the same target, not a new parse.
                let again = cache.get(text.as_bytes()).unwrap();
                assert!(Arc::ptr_eq(&t, &again), "{text} (round {round})");
            }
        }
        assert!(cache.len() <= CACHED_URLS);
        // Userinfo is kept apart: the URL with it and without it are two targets.
        let with = cache.get(b"http://u:p@h/").unwrap();
        let without = cache.get(b"http://h/").unwrap();
        assert_eq!(
            with.url().credentials(),
            Some((b"u".to_vec(), b"p".to_vec()))
        );
        assert_eq!(without.url().credentials(), None);
        assert_eq!(with.public(), without.public());
    }

    #[test]
    fn errors_are_never_cached() {
        let cache = Targets::default();
        for bad in ["http://exa mple.com/", "ftp://h/", "http://", "http://h:0/"] {
            for _ in 0..2 {
                let e = cache.get(bad.as_bytes()).err().expect(bad);
                let fresh = HttpUrl::parse(bad.as_bytes()).unwrap_err();
                assert_eq!(e.kind(), fresh.kind());
                assert_eq!(e.message(), fresh.message());
            }
        }
        assert_eq!(cache.len(), 0);
        // A URL longer than the cache keeps is parsed, not kept.
        let long = format!("http://h/{}", "a".repeat(CACHED_URL_MAX));
        let t = cache.get(long.as_bytes()).unwrap();
        assert_same(&t, &long);
        assert_eq!(cache.len(), 0);
    }

    #[test]
    fn the_oldest_url_is_evicted() {
        let cache = Targets::default();
        let first = cache.get(b"http://h/0").unwrap();
        for i in 1..=CACHED_URLS {
            cache.get(format!("http://h/{i}").as_bytes()).unwrap();
        }
        assert_eq!(cache.len(), CACHED_URLS);
        let again = cache.get(b"http://h/0").unwrap();
        assert!(!Arc::ptr_eq(&first, &again));
        assert_same(&again, "http://h/0");
    }

    /// The route (proxy and pool key) follows every change of the options that makes it:
    /// a cached key is never used under other options.
    #[test]
    fn routes_follow_the_options() {
        let client = Client::with_proxy_config(ProxyConfig::default()).unwrap();
        let shared = &client.shared;
        let targets = ["http://127.0.0.1:9/", "https://Example.com/x"];
        let mut seen: Vec<(Option<Proxy>, PoolKey)> = Vec::new();
        let check = |seen: &mut Vec<(Option<Proxy>, PoolKey)>, what: &str| {
            let opts = shared.options();
            for text in targets {
                let t = shared.targets.get(text.as_bytes()).unwrap();
                for _ in 0..2 {
                    let (proxy, key) = t.route(&opts).unwrap();
                    let (fresh_proxy, fresh_key) = route_of(t.url(), &opts).unwrap();
                    assert_eq!(proxy, fresh_proxy, "{what}: {text}");
                    assert_eq!(*key, fresh_key, "{what}: {text}");
                }
                let (proxy, key) = t.route(&opts).unwrap();
                seen.push((proxy, PoolKey::clone(&key)));
            }
        };
        check(&mut seen, "defaults");
        client
            .set_proxy(Some("http://u:p@proxy.example:3128"))
            .unwrap();
        check(&mut seen, "a proxy");
        client.set_no_proxy(Some("127.0.0.1")).unwrap();
        check(&mut seen, "a bypass list");
        client.set_proxy(Some("")).unwrap();
        check(&mut seen, "no proxy");
        client.set_verify(false).unwrap();
        check(&mut seen, "verify off");
        client
            .set_source_address(Some("127.0.0.1:0".parse().unwrap()))
            .unwrap();
        check(&mut seen, "a source address");
        client.set_max_redirects(3).unwrap();
        check(&mut seen, "an unrelated option");
        // Each change that makes a route gave another key for the URL it concerns.
        let keys =
            |i: usize| -> Vec<&PoolKey> { seen.iter().skip(i).step_by(2).map(|s| &s.1).collect() };
        let http = keys(0);
        let https = keys(1);
        assert_ne!(http[0], http[1], "a proxy");
        assert_eq!(http[2], http[0], "127.0.0.1 bypassed: direct again");
        assert_ne!(https[1], https[0], "a proxy for https");
        assert_ne!(https[4], https[3], "verify is part of an https key");
        assert_ne!(http[5], http[4], "the source address");
        assert_eq!(http[6], http[5]);
        assert_eq!(https[6], https[5]);
        // A proxy from the environment that can't be used is an error each time, never a
        // cached route.
        let env = |n: &str| (n == "https_proxy").then(|| "socks5://p.example:1080".to_string());
        let client = Client::with_proxy_config(ProxyConfig::from_env(&env)).unwrap();
        let t = client.shared.targets.get(b"https://h/").unwrap();
        let opts = client.shared.options();
        for _ in 0..2 {
            let e = t.route(&opts).expect_err("a socks proxy is refused");
            assert_eq!(e.kind(), crate::error::ErrorKind::Proxy, "{e}");
        }
        assert!(lock(&t.route).is_none());
    }

    /// 32 threads share one cache and one target's route while another thread keeps replacing
    /// the options: every answer equals a fresh computation under the options it was asked for.
    #[test]
    fn threads_share_the_cache() {
        let client = Client::with_proxy_config(ProxyConfig::default()).unwrap();
        let stop = std::sync::atomic::AtomicBool::new(false);
        std::thread::scope(|s| {
            let changer = s.spawn(|| {
                let mut i = 0u32;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let proxy = if i.is_multiple_of(2) {
                        "http://p.example:1"
                    } else {
                        ""
                    };
                    client.set_proxy(Some(proxy)).unwrap();
                    client
                        .set_source_address(Some(
                            format!("127.0.0.{}:0", i % 3 + 1).parse().unwrap(),
                        ))
                        .unwrap();
                    i += 1;
                }
            });
            let workers: Vec<_> = (0..32)
                .map(|n| {
                    let client = &client;
                    s.spawn(move || {
                        for i in 0..200 {
                            let text = URLS[(n + i) % URLS.len()];
                            let t = client.shared.targets.get(text.as_bytes()).unwrap();
                            assert_eq!(*t.url(), HttpUrl::parse(text.as_bytes()).unwrap());
                            let opts = client.shared.options();
                            let (proxy, key) = t.route(&opts).unwrap();
                            let (fp, fk) = route_of(t.url(), &opts).unwrap();
                            assert_eq!(proxy, fp, "{text}");
                            assert_eq!(*key, fk, "{text}");
                        }
                    })
                })
                .collect();
            for w in workers {
                w.join().unwrap();
            }
            stop.store(true, std::sync::atomic::Ordering::Relaxed);
            changer.join().unwrap();
        });
    }
}
