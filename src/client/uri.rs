//! URLs at the client level: parsing with the `url` crate (WHATWG) plus stricter checks of our
//! own, origins for the credential rule, and resolving a redirect's Location.
//!
//! The `url` crate is forgiving where a client should not be: it strips leading and trailing
//! blanks and control characters, deletes tabs and newlines inside, and reads `\` as `/`.
//! [`parse`] refuses all of these before the crate sees the text, so a URL either means
//! exactly what it says or is `InvalidUrl`. Non-ASCII in the path and query is percent-encoded
//! (as browsers and curl do) and a non-ASCII host becomes its IDNA A-label.

use ::url::{Host, Url};

use crate::error::{escape_bytes, Error, ErrorKind, Result};

/// A URL the client can fetch: http or https, with a host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpUrl {
    url: Url,
}

/// (scheme, host, port) as compared by the sticky credential rule: the host lowercased with
/// one trailing dot removed, an IPv6 literal as an address, the port with its default.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Origin {
    pub scheme: &'static str,
    pub host: String,
    pub port: u16,
}

fn bad(kind: ErrorKind, why: &str, text: &[u8]) -> Error {
    Error::new(kind, format!("{why}: \"{}\"", escape_bytes(text, 200)))
}

/// Refuses what the `url` crate would silently repair: blanks, control characters, and
/// backslashes.
fn check_chars(text: &[u8], kind: ErrorKind) -> Result<()> {
    if text.is_empty() {
        return Err(bad(kind, "empty URL", text));
    }
    if let Some(&b) = text.iter().find(|&&b| b <= b' ' || b == 0x7f) {
        let what = if b == b' ' {
            "a space"
        } else {
            "a control character"
        };
        return Err(bad(kind, &format!("URL holds {what}"), text));
    }
    if text.contains(&b'\\') {
        return Err(bad(kind, "URL holds a backslash", text));
    }
    Ok(())
}

/// Percent-encodes bytes 0x80-0xFF (raw UTF-8 or not) so the text is ASCII.
fn encode_high(text: &[u8]) -> String {
    let mut s = String::with_capacity(text.len());
    for &b in text {
        if b >= 0x80 {
            s.push_str(&format!("%{b:02X}"));
        } else {
            s.push(b as char);
        }
    }
    s
}

impl HttpUrl {
    /// Parses the URL given to a call. Errors are `InvalidUrl`.
    pub fn parse(text: &[u8]) -> Result<HttpUrl> {
        check_chars(text, ErrorKind::InvalidUrl)?;
        // A host must be an IDNA name: keep its UTF-8 for the url crate, which converts it; the
        // path and query get their non-ASCII percent-encoded by it as well.
        let s = std::str::from_utf8(text)
            .map_err(|_| bad(ErrorKind::InvalidUrl, "URL is not valid UTF-8", text))?;
        // `scheme://authority`: the url crate would also take `http:host` and `http:///host`.
        match s.split_once("://") {
            Some((scheme, rest))
                if !scheme.is_empty()
                    && scheme
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b))
                    && !rest.is_empty()
                    && !rest.starts_with(['/', '?', '#']) => {}
            _ => {
                return Err(bad(
                    ErrorKind::InvalidUrl,
                    "URL is not scheme://host[:port][/path]",
                    text,
                ))
            }
        }
        let url = Url::parse(s).map_err(|e| {
            bad(
                ErrorKind::InvalidUrl,
                &format!("URL does not parse ({e})"),
                text,
            )
        })?;
        Self::check(url, text, ErrorKind::InvalidUrl)
    }

    fn check(url: Url, text: &[u8], kind: ErrorKind) -> Result<HttpUrl> {
        match url.scheme() {
            "http" | "https" => {}
            other => {
                return Err(bad(
                    kind,
                    &format!("unsupported scheme {other:?}: only http and https"),
                    text,
                ))
            }
        }
        match url.host() {
            None => return Err(bad(kind, "URL has no host", text)),
            Some(Host::Domain("")) => return Err(bad(kind, "URL has an empty host", text)),
            Some(_) => {}
        }
        if url.port() == Some(0) {
            return Err(bad(kind, "URL has port 0", text));
        }
        Ok(HttpUrl { url })
    }

    /// Resolves a Location against this URL (RFC 3986 §5.2, as the `url` crate does). The
    /// result may have any scheme: the caller decides what to follow. A Location without a
    /// fragment inherits this URL's. Errors are `BadLocation`.
    pub fn resolve(&self, location: &[u8]) -> Result<Url> {
        check_chars(location, ErrorKind::BadLocation)?;
        let text = encode_high(location);
        let mut next = self.url.join(&text).map_err(|e| {
            bad(
                ErrorKind::BadLocation,
                &format!("Location does not parse ({e})"),
                location,
            )
        })?;
        if next.fragment().is_none() && self.url.fragment().is_some() {
            next.set_fragment(self.url.fragment());
        }
        Ok(next)
    }

    /// The resolved Location as a URL the client can follow; otherwise `RedirectRefused`
    /// for another scheme and `BadLocation` for a missing host. Userinfo in a Location is
    /// dropped, never used as credentials.
    pub fn followable(mut next: Url) -> Result<HttpUrl> {
        let text = next.as_str().as_bytes().to_vec();
        if !matches!(next.scheme(), "http" | "https") {
            return Err(bad(
                ErrorKind::RedirectRefused,
                &format!(
                    "redirect to scheme {:?} refused: only http and https are followed",
                    next.scheme()
                ),
                &text,
            ));
        }
        let _ = next.set_username("");
        let _ = next.set_password(None);
        Self::check(next, &text, ErrorKind::BadLocation)
    }

    pub fn is_https(&self) -> bool {
        self.url.scheme() == "https"
    }

    pub fn scheme(&self) -> &'static str {
        if self.is_https() {
            "https"
        } else {
            "http"
        }
    }

    /// The host as a connection takes it: a name (A-label), an IPv4 literal, or an IPv6
    /// literal in brackets.
    pub fn host(&self) -> &str {
        self.url.host_str().unwrap_or("")
    }

    /// The host without brackets.
    pub fn bare_host(&self) -> String {
        match self.url.host() {
            Some(Host::Ipv6(a)) => a.to_string(),
            Some(h) => h.to_string(),
            None => String::new(),
        }
    }

    pub fn port(&self) -> u16 {
        self.url
            .port_or_known_default()
            .unwrap_or(if self.is_https() { 443 } else { 80 })
    }

    /// The host is an IP literal (v4 or v6).
    pub fn ip(&self) -> Option<std::net::IpAddr> {
        match self.url.host()? {
            Host::Ipv4(a) => Some(a.into()),
            Host::Ipv6(a) => Some(a.into()),
            Host::Domain(_) => None,
        }
    }

    pub fn origin(&self) -> Origin {
        let host = match self.url.host() {
            Some(Host::Ipv6(a)) => a.to_string(),
            Some(Host::Ipv4(a)) => a.to_string(),
            Some(Host::Domain(d)) => {
                let d = d.strip_suffix('.').unwrap_or(d);
                d.to_ascii_lowercase()
            }
            None => String::new(),
        };
        Origin {
            scheme: self.scheme(),
            host,
            port: self.port(),
        }
    }

    /// The request target in origin form: path and query, never the fragment.
    pub fn origin_form(&self) -> String {
        let mut t = self.url.path().to_string();
        if t.is_empty() {
            t.push('/');
        }
        if let Some(q) = self.url.query() {
            t.push('?');
            t.push_str(q);
        }
        t
    }

    /// The request target in absolute form (to a proxy): without userinfo or fragment.
    pub fn absolute_form(&self) -> String {
        let mut u = self.url.clone();
        let _ = u.set_username("");
        let _ = u.set_password(None);
        u.set_fragment(None);
        u.into()
    }

    /// The userinfo, percent-decoded, when the URL has a user name or password.
    pub fn credentials(&self) -> Option<(Vec<u8>, Vec<u8>)> {
        if self.url.username().is_empty() && self.url.password().is_none() {
            return None;
        }
        let dec = |s: &str| percent_encoding::percent_decode_str(s).collect::<Vec<u8>>();
        Some((
            dec(self.url.username()),
            dec(self.url.password().unwrap_or("")),
        ))
    }

    /// The URL as text with its userinfo removed (fragment kept).
    pub fn without_userinfo(&self) -> String {
        let mut u = self.url.clone();
        let _ = u.set_username("");
        let _ = u.set_password(None);
        u.into()
    }

    pub fn as_str(&self) -> &str {
        self.url.as_str()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Result<HttpUrl> {
        HttpUrl::parse(s.as_bytes())
    }

    #[test]
    fn strict_parsing() {
        assert!(p("http://example.com/").is_ok());
        for bad in [
            "",
            " http://example.com/",
            "http://example.com/ ",
            "http://exa mple.com/",
            "http://example.com/a\tb",
            "http://example.com/a\nb",
            "http:\\\\example.com\\",
            "ftp://example.com/",
            "file:///etc/passwd",
            "http://",
            "http:///x",
            "example.com",
            "http://[::1",
            "http://example.com:0/",
            "http://example.com:65536/",
        ] {
            let e = p(bad).expect_err(bad);
            assert_eq!(e.kind(), ErrorKind::InvalidUrl, "{bad}: {e}");
        }
    }

    #[test]
    fn non_ascii_is_encoded() {
        let u = p("http://bücher.example/café?q=é").unwrap();
        assert_eq!(u.host(), "xn--bcher-kva.example");
        assert_eq!(u.origin_form(), "/caf%C3%A9?q=%C3%A9");
        let u = p("http://[::1]:8080").unwrap();
        assert_eq!(u.host(), "[::1]");
        assert_eq!(u.bare_host(), "::1");
        assert_eq!(u.origin_form(), "/");
    }

    #[test]
    fn origins() {
        let a = p("http://Example.COM./x").unwrap().origin();
        let b = p("http://example.com:80/y").unwrap().origin();
        assert_eq!(a, b);
        let c = p("https://example.com/").unwrap().origin();
        assert_ne!(a, c);
        let v6a = p("http://[0:0::1]/").unwrap().origin();
        let v6b = p("http://[::1]:80/").unwrap().origin();
        assert_eq!(v6a, v6b);
    }

    #[test]
    fn userinfo() {
        let u = p("http://us%40er:p%3Aw@h/").unwrap();
        assert_eq!(
            u.credentials().unwrap(),
            (b"us@er".to_vec(), b"p:w".to_vec())
        );
        assert_eq!(u.without_userinfo(), "http://h/");
        assert_eq!(u.absolute_form(), "http://h/");
    }

    #[test]
    fn resolution() {
        let base = p("http://a/b/c/d;p?q#frag").unwrap();
        let r = |l: &str| base.resolve(l.as_bytes()).map(|u| u.to_string());
        assert_eq!(r("g").unwrap(), "http://a/b/c/g#frag");
        assert_eq!(r("../g#x").unwrap(), "http://a/b/g#x");
        assert_eq!(r("//other.example/").unwrap(), "http://other.example/#frag");
        assert_eq!(r("/é").unwrap(), "http://a/%C3%A9#frag");
        assert_eq!(r("a b").unwrap_err().kind(), ErrorKind::BadLocation);
        assert_eq!(r("http://[::1").unwrap_err().kind(), ErrorKind::BadLocation);
        let f = |l: &str| HttpUrl::followable(base.resolve(l.as_bytes()).unwrap());
        assert_eq!(
            f("file:///etc/passwd").unwrap_err().kind(),
            ErrorKind::RedirectRefused
        );
        assert_eq!(f("data:,x").unwrap_err().kind(), ErrorKind::RedirectRefused);
        assert_eq!(
            f("ftp://x/").unwrap_err().kind(),
            ErrorKind::RedirectRefused
        );
        let u = f("http://user:pw@other/").unwrap();
        assert!(u.credentials().is_none());
    }
}
