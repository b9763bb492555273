//! Proxies: the configuration (from the environment, curl's rules, or set by the caller) and
//! the no_proxy matcher.
//!
//! Environment, read once when a client is made: for http URLs `http_proxy` (lowercase only:
//! a CGI program gets `HTTP_PROXY` from a request's `Proxy:` header, the "httpoxy" attack),
//! then `all_proxy`, `ALL_PROXY`; for https URLs `https_proxy`, `HTTPS_PROXY`, `all_proxy`,
//! `ALL_PROXY`. The bypass list is `no_proxy`, then `NO_PROXY`. An empty variable counts as
//! unset.

use std::net::IpAddr;

use crate::error::{escape_bytes, Error, ErrorKind, Result};

/// A forward proxy: plain HTTP, with optional Basic credentials.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Proxy {
    /// The host as a connection takes it (IPv6 in brackets).
    pub host: String,
    pub port: u16,
    /// The value of `Proxy-Authorization` (`Basic ...`) made from the userinfo.
    pub authorization: Option<String>,
}

impl Proxy {
    /// Parses a proxy URL: `host:port`, `http://host:port`, with optional `user:password@`
    /// (percent-decoded). A missing scheme means `http://`; a missing port 1080 as curl
    /// does. `https://` and `socks*://` proxies are not supported: `Proxy` error.
    pub fn parse(text: &str) -> Result<Proxy> {
        let bad = |why: &str| {
            Error::new(
                ErrorKind::Proxy,
                format!(
                    "proxy URL {why}: \"{}\"",
                    escape_bytes(strip_userinfo(text).as_bytes(), 200)
                ),
            )
        };
        if text.bytes().any(|b| b <= b' ' || b == 0x7f || b == b'\\') {
            return Err(bad("holds a blank, control character or backslash"));
        }
        let with_scheme = if text.contains("://") {
            text.to_string()
        } else {
            format!("http://{text}")
        };
        let url =
            ::url::Url::parse(&with_scheme).map_err(|e| bad(&format!("does not parse ({e})")))?;
        match url.scheme() {
            "http" => {}
            s => {
                return Err(bad(&format!(
                    "has scheme {s:?}: only http:// proxies are supported"
                )))
            }
        }
        let host = match url.host_str() {
            Some(h) if !h.is_empty() => h.to_string(),
            _ => return Err(bad("has no host")),
        };
        if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
            // curl ignores a path; a proxy URL with one is more likely a mistake.
        }
        let port = match url.port() {
            Some(0) => return Err(bad("has port 0")),
            Some(p) => p,
            // `http://host` written out takes 80 (url elides it); a bare host takes 1080.
            None if text.contains("://") => 80,
            None => 1080,
        };
        let authorization = if !url.username().is_empty() || url.password().is_some() {
            let dec = |s: &str| percent_encoding::percent_decode_str(s).collect::<Vec<u8>>();
            Some(super::auth::basic(
                &dec(url.username()),
                &dec(url.password().unwrap_or("")),
            ))
        } else {
            None
        };
        Ok(Proxy {
            host,
            port,
            authorization,
        })
    }

    /// `host:port` for messages.
    pub fn display(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }
}

fn strip_userinfo(text: &str) -> String {
    match (text.find("://"), text.rfind('@')) {
        (Some(s), Some(at)) if at > s => format!("{}{}", &text[..s + 3], &text[at + 1..]),
        (None, Some(at)) => text[at + 1..].to_string(),
        _ => text.to_string(),
    }
}

/// Where the proxies come from.
#[derive(Debug, Clone, Default)]
pub struct ProxyConfig {
    /// For http URLs (None: direct). An error is kept and reported by the calls that need it.
    pub http: Option<std::result::Result<Proxy, Error>>,
    /// For https URLs.
    pub https: Option<std::result::Result<Proxy, Error>>,
    pub no_proxy: NoProxy,
}

fn env_first(names: &[&str], get: &dyn Fn(&str) -> Option<String>) -> Option<String> {
    names.iter().filter_map(|n| get(n)).find(|v| !v.is_empty())
}

impl ProxyConfig {
    /// Reads the environment through `get` (curl's order, see the module doc).
    pub fn from_env(get: &dyn Fn(&str) -> Option<String>) -> ProxyConfig {
        let http = env_first(&["http_proxy", "all_proxy", "ALL_PROXY"], get);
        let https = env_first(
            &["https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"],
            get,
        );
        let no = env_first(&["no_proxy", "NO_PROXY"], get);
        ProxyConfig {
            http: http.map(|v| Proxy::parse(&v)),
            https: https.map(|v| Proxy::parse(&v)),
            no_proxy: NoProxy::parse(no.as_deref().unwrap_or("")),
        }
    }

    /// The process environment.
    pub fn from_process_env() -> ProxyConfig {
        Self::from_env(&|n| std::env::var(n).ok())
    }

    /// One proxy for every scheme.
    pub fn fixed(proxy: Proxy) -> ProxyConfig {
        ProxyConfig {
            http: Some(Ok(proxy.clone())),
            https: Some(Ok(proxy)),
            no_proxy: NoProxy::default(),
        }
    }

    /// The proxy for a URL (None: go direct), or the error of a proxy setting that did not
    /// parse.
    pub fn choose(&self, https: bool, host: &str, port: u16) -> Result<Option<&Proxy>> {
        let p = if https { &self.https } else { &self.http };
        match p {
            None => Ok(None),
            Some(_) if self.no_proxy.matches(host, port) => Ok(None),
            Some(Ok(p)) => Ok(Some(p)),
            Some(Err(e)) => Err(e.clone()),
        }
    }
}

/// One entry of a no_proxy list.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Entry {
    /// A domain and its subdomains, optionally on one port.
    Domain(String, Option<u16>),
    /// An address range (exact: the full prefix length), optionally on one port.
    Net(IpAddr, u8, Option<u16>),
}

/// A no_proxy list: `*`, domains (`example.com`, `.example.com`, `*.example.com`, each with an
/// optional `:port`), IPv4 and IPv6 addresses and CIDR ranges (IPv6 with or without brackets).
/// Case-insensitive; commas and blanks separate; trailing dots ignored; no DNS lookup; an
/// address entry matches only a URL whose host is that literal; `localhost` is not special.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NoProxy {
    all: bool,
    entries: Vec<Entry>,
}

fn parse_net(s: &str) -> Option<(IpAddr, u8)> {
    let (addr, bits) = match s.split_once('/') {
        Some((a, b)) => (a, Some(b)),
        None => (s, None),
    };
    let addr = addr
        .strip_prefix('[')
        .and_then(|a| a.strip_suffix(']'))
        .unwrap_or(addr);
    let ip: IpAddr = addr.parse().ok()?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    let bits = match bits {
        None => max,
        Some(b) if !b.is_empty() && b.len() <= 3 && b.bytes().all(|c| c.is_ascii_digit()) => {
            let n: u8 = b.parse().ok()?;
            if n > max {
                return None;
            }
            n
        }
        Some(_) => return None,
    };
    Some((ip, bits))
}

fn in_net(ip: IpAddr, net: IpAddr, bits: u8) -> bool {
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let mask = if bits == 0 {
                0
            } else {
                u32::MAX << (32 - bits)
            };
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let mask = if bits == 0 {
                0
            } else {
                u128::MAX << (128 - bits)
            };
            u128::from(a) & mask == u128::from(n) & mask
        }
        _ => false,
    }
}

/// Splits `host:port` where the port is all digits; an IPv6 entry keeps its colons.
fn split_port(s: &str) -> (&str, Option<u16>) {
    if let Some(rest) = s.strip_prefix('[') {
        if let Some((inside, after)) = rest.split_once(']') {
            let port = after.strip_prefix(':').and_then(|p| p.parse().ok());
            return (inside, port);
        }
    }
    if s.bytes().filter(|&b| b == b':').count() == 1 {
        let (h, p) = s.split_once(':').unwrap();
        if let Ok(p) = p.parse::<u16>() {
            return (h, Some(p));
        }
    }
    (s, None)
}

impl NoProxy {
    pub fn parse(list: &str) -> NoProxy {
        let mut np = NoProxy::default();
        if list.trim() == "*" {
            np.all = true;
            return np;
        }
        for raw in list.split([',', ' ', '\t', '\n', '\r']) {
            if raw.is_empty() {
                continue;
            }
            if raw == "*" {
                np.all = true;
                continue;
            }
            if let Some((ip, bits)) = parse_net(raw) {
                np.entries.push(Entry::Net(ip, bits, None));
                continue;
            }
            let (host, port) = split_port(raw);
            if let Some((ip, bits)) = parse_net(host) {
                np.entries.push(Entry::Net(ip, bits, port));
                continue;
            }
            let host = host.strip_prefix('*').unwrap_or(host);
            let host = host.trim_start_matches('.');
            let host = host.strip_suffix('.').unwrap_or(host);
            if host.is_empty() {
                continue;
            }
            np.entries
                .push(Entry::Domain(host.to_ascii_lowercase(), port));
        }
        np
    }

    /// Whether a URL's host (as the URL spells it, IPv6 with or without brackets) and port
    /// bypass the proxy.
    pub fn matches(&self, host: &str, port: u16) -> bool {
        if self.all {
            return true;
        }
        let bare = host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(host);
        let ip = bare.parse::<IpAddr>().ok();
        let name = bare.strip_suffix('.').unwrap_or(bare).to_ascii_lowercase();
        self.entries.iter().any(|e| match e {
            Entry::Net(net, bits, p) => {
                p.is_none_or(|p| p == port) && ip.is_some_and(|ip| in_net(ip, *net, *bits))
            }
            Entry::Domain(d, p) => {
                p.is_none_or(|p| p == port)
                    && ip.is_none()
                    && (name == *d
                        || (name.len() > d.len()
                            && name.ends_with(d.as_str())
                            && name.as_bytes()[name.len() - d.len() - 1] == b'.'))
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_proxy_table() {
        let all = NoProxy::parse("*");
        assert!(all.matches("anything", 80));
        for list in [
            "example.com",
            ".example.com",
            "*.example.com",
            "EXAMPLE.com.",
        ] {
            let np = NoProxy::parse(list);
            assert!(np.matches("example.com", 80), "{list}");
            assert!(np.matches("www.Example.com.", 80), "{list}");
            assert!(np.matches("a.b.example.com", 443), "{list}");
            assert!(!np.matches("notexample.com", 80), "{list}");
            assert!(!np.matches("example.com.evil", 80), "{list}");
        }
        let np = NoProxy::parse("example.com:8080");
        assert!(np.matches("example.com", 8080));
        assert!(!np.matches("example.com", 80));
        let np = NoProxy::parse("10.1.2.3, 192.168.0.0/16");
        assert!(np.matches("10.1.2.3", 80));
        assert!(!np.matches("10.1.2.4", 80));
        assert!(np.matches("192.168.44.1", 80));
        assert!(!np.matches("192.169.0.1", 80));
        for list in ["::1", "[::1]", "fd00::/8"] {
            let np = NoProxy::parse(list);
            assert!(np.matches("[::1]", 80) || list == "fd00::/8", "{list}");
        }
        let np = NoProxy::parse("fd00::/8");
        assert!(np.matches("[fd12::5]", 80));
        assert!(!np.matches("[fe80::1]", 80));
        assert!(!NoProxy::parse("").matches("localhost", 80));
        assert!(!NoProxy::parse("127.0.0.1").matches("localhost", 80));
        assert!(NoProxy::parse("localhost").matches("localhost", 80));
        let np = NoProxy::parse("a.com b.com,\tc.com");
        assert!(np.matches("b.com", 1) && np.matches("c.com", 1));
    }

    #[test]
    fn proxy_urls() {
        let p = Proxy::parse("http://u%40x:p%40ss@proxy.example:3128").unwrap();
        assert_eq!(p.host, "proxy.example");
        assert_eq!(p.port, 3128);
        // "u@x:p@ss" in base64.
        assert_eq!(p.authorization.as_deref(), Some("Basic dUB4OnBAc3M="));
        let p = Proxy::parse("proxy.example:8888").unwrap();
        assert_eq!((p.port, p.authorization), (8888, None));
        assert_eq!(Proxy::parse("proxy").unwrap().port, 1080);
        assert_eq!(Proxy::parse("http://[::1]:3").unwrap().host, "[::1]");
        for bad in [
            "https://p:1",
            "socks5://p:1",
            "socks5h://p:1",
            "http://",
            "http://p:0",
            "p x",
        ] {
            assert_eq!(
                Proxy::parse(bad).unwrap_err().kind(),
                ErrorKind::Proxy,
                "{bad}"
            );
        }
        assert!(!Proxy::parse("https://user:secret@p:1")
            .unwrap_err()
            .message()
            .contains("secret"));
    }

    #[test]
    fn environment_order() {
        let env = |vars: &'static [(&'static str, &'static str)]| {
            move |n: &str| {
                vars.iter()
                    .find(|(k, _)| *k == n)
                    .map(|(_, v)| v.to_string())
            }
        };
        let c = ProxyConfig::from_env(&env(&[("HTTP_PROXY", "up:1"), ("ALL_PROXY", "all:2")]));
        assert_eq!(c.choose(false, "h", 80).unwrap().unwrap().host, "all");
        let c = ProxyConfig::from_env(&env(&[
            ("http_proxy", "a:1"),
            ("https_proxy", ""),
            ("HTTPS_PROXY", "b:2"),
            ("no_proxy", "skip.me"),
            ("NO_PROXY", "other"),
        ]));
        assert_eq!(c.choose(false, "h", 80).unwrap().unwrap().host, "a");
        assert_eq!(c.choose(true, "h", 443).unwrap().unwrap().host, "b");
        assert!(c.choose(true, "skip.me", 443).unwrap().is_none());
        assert!(c.choose(true, "other", 443).unwrap().is_some());
        let c = ProxyConfig::from_env(&env(&[("http_proxy", "socks5://x:1")]));
        assert_eq!(
            c.choose(false, "h", 80).unwrap_err().kind(),
            ErrorKind::Proxy
        );
    }
}
