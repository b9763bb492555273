//! Host and port as `hc_connection_new` takes them: `host`, `host:port`, `[v6addr]`,
//! `[v6addr]:port`, with httplib's rules and the checks of the parsing policy.

use std::borrow::Cow;
use std::sync::Arc;

use crate::error::{escape_bytes, Error, ErrorKind, Result};

/// A parsed connection target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub port: u16,
    /// The scheme's default port (80 or 443), to know when `Host` needs the port.
    pub default_port: u16,
    /// `host:port` (`[v6addr]:port`), built once, for messages. It holds the host
    /// ([`Target::host`]) and starts with the value of the `Host` header
    /// ([`Target::host_header`]): one allocation per connection handle for all three.
    pub authority: Arc<str>,
    /// Where the host lies in `authority` (inside the brackets of an IPv6 literal).
    host_range: std::ops::Range<usize>,
    /// How much of `authority` is the `Host` header: all of it, or all but `:port` when the
    /// port is the default.
    host_header_len: usize,
}

impl Target {
    /// Parses `host` as `hc_connection_new` takes it. `port == 0` means: from `host` when it
    /// ends in `:port`, else `default_port`.
    pub fn parse(host: &str, port: u16, default_port: u16) -> Result<Target> {
        let bad = |why: &str| {
            Error::new(
                ErrorKind::InvalidUrl,
                format!(
                    "{why}: {:?}",
                    crate::error::escape_bytes(host.as_bytes(), 200)
                ),
            )
        };
        if host.is_empty() {
            return Err(bad("empty host"));
        }
        if host.bytes().any(|b| b <= b' ' || b == 0x7f || b == b'@') {
            return Err(bad("host holds a control character, space or '@'"));
        }
        let (mut name, mut parsed_port) = (host, None);
        if let Some(rest) = host.strip_prefix('[') {
            let close = rest
                .find(']')
                .ok_or_else(|| bad("'[' without ']' in host"))?;
            name = &rest[..close];
            let after = &rest[close + 1..];
            if !after.is_empty() {
                let p = after
                    .strip_prefix(':')
                    .ok_or_else(|| bad("junk after ']' in host"))?;
                parsed_port = Some(p);
            }
            if name.parse::<std::net::Ipv6Addr>().is_err() {
                return Err(bad("not an IPv6 address between brackets"));
            }
        } else if host.bytes().filter(|&b| b == b':').count() == 1 {
            let i = host.rfind(':').unwrap();
            name = &host[..i];
            parsed_port = Some(&host[i + 1..]);
        }
        // More than one ':' without brackets is a bare IPv6 literal, which has no port.
        if name.is_empty() {
            return Err(bad("empty host"));
        }
        let name = ascii_host(name)?;
        // A port written in `host` must be valid even when `port` is given, which then wins.
        let written = match parsed_port {
            Some(p) => Some(parse_port(p).ok_or_else(|| bad("bad port"))?),
            None => None,
        };
        let port = match (port, written) {
            (0, Some(p)) => p,
            (0, None) => default_port,
            (p, _) => p,
        };
        // Built in one piece (this runs for every connection handle): `host:port`, of which
        // `Host` is the start.
        let mut digits = [0u8; 20];
        let port_digits = crate::request::decimal(u64::from(port), &mut digits);
        let (open, close): (&[u8], &[u8]) = if name.contains(':') {
            (b"[", b"]")
        } else {
            (b"", b"")
        };
        let authority = arc_concat(&[open, name.as_bytes(), close, b":", port_digits]);
        let host_header_len = if port == default_port {
            authority.len() - 1 - port_digits.len()
        } else {
            authority.len()
        };
        Ok(Target {
            port,
            default_port,
            authority,
            host_range: open.len()..open.len() + name.len(),
            host_header_len,
        })
    }

    /// The host without brackets: a name (its IDNA A-label), an IPv4 literal or an IPv6
    /// literal.
    pub fn host(&self) -> &str {
        &self.authority[self.host_range.clone()]
    }

    /// True when the host is an IPv6 literal (it needs brackets in `Host` and URLs).
    pub fn is_ipv6(&self) -> bool {
        self.host().contains(':')
    }

    /// The value of the `Host` header: the host (in brackets when it is an IPv6 literal),
    /// and `:port` unless the port is the default.
    pub fn host_header(&self) -> &str {
        &self.authority[..self.host_header_len]
    }

    /// `host:port` for messages.
    pub fn display(&self) -> String {
        self.authority.to_string()
    }
}

/// `parts` (UTF-8 texts, each whole) concatenated in one allocation, the `Arc`'s own (no
/// `String` first).
fn arc_concat(parts: &[&[u8]]) -> Arc<str> {
    let len = parts.iter().map(|p| p.len()).sum();
    let mut buf = [0u8; 128];
    let text = |b: &[u8]| -> Arc<str> {
        Arc::from(std::str::from_utf8(b).expect("whole UTF-8 texts, concatenated"))
    };
    let Some(out) = buf.get_mut(..len) else {
        return text(&parts.concat());
    };
    let mut at = 0;
    for p in parts {
        out[at..at + p.len()].copy_from_slice(p);
        at += p.len();
    }
    text(out)
}

/// The most digits a port may be written with. Leading zeros are digits (`:00080` is port 80,
/// as CPython reads it); the bound only keeps absurd text out.
const PORT_DIGITS_MAX: usize = 10;

/// A port of 1 to 65535 written in decimal digits only, leading zeros allowed.
fn parse_port(p: &str) -> Option<u16> {
    if p.is_empty() || p.len() > PORT_DIGITS_MAX || !p.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    match p.parse::<u64>() {
        Ok(n @ 1..=65535) => Some(n as u16),
        _ => None,
    }
}

/// A host name as it goes to DNS, SNI, the certificate check and `Host`: an internationalised
/// name becomes its IDNA A-label (UTS 46 processing with the STD3 and DNS length checks, by the
/// `idna` crate: `bücher.example` is `xn--bcher-kva.example`); an ASCII name is left exactly as
/// written. A name that fails the processing is `InvalidUrl`.
pub fn ascii_host(host: &str) -> Result<Cow<'_, str>> {
    if host.is_ascii() {
        return Ok(Cow::Borrowed(host));
    }
    idna::domain_to_ascii_strict(host)
        .map(Cow::Owned)
        .map_err(|e| {
            Error::new(
                ErrorKind::InvalidUrl,
                format!(
                    "host fails IDNA processing (UTS 46: {e}): {}",
                    escape_bytes(host.as_bytes(), 200)
                ),
            )
        })
}

/// Where the host (without userinfo, brackets' contents included, without port) and the
/// authority (without userinfo) of an absolute `http://` or `https://` URL lie in `url`, as
/// byte ranges; None for any other URL.
fn absolute_url_spans(url: &[u8]) -> Option<(std::ops::Range<usize>, std::ops::Range<usize>)> {
    let lower = |n: usize| url.get(..n).map(|p| p.to_ascii_lowercase());
    let start = if lower(7).as_deref() == Some(b"http://") {
        7
    } else if lower(8).as_deref() == Some(b"https://") {
        8
    } else {
        return None;
    };
    let end = url[start..]
        .iter()
        .position(|&b| b == b'/' || b == b'?' || b == b'#')
        .map_or(url.len(), |i| start + i);
    // Userinfo never goes into Host.
    let start = match url[start..end].iter().rposition(|&b| b == b'@') {
        Some(i) => start + i + 1,
        None => start,
    };
    let authority = &url[start..end];
    let host_end = if authority.first() == Some(&b'[') {
        authority
            .iter()
            .position(|&b| b == b']')
            .map_or(end, |i| start + i + 1)
    } else {
        authority
            .iter()
            .rposition(|&b| b == b':')
            .map_or(end, |i| start + i)
    };
    Some((start..host_end, start..end))
}

/// The authority of an absolute `http://` or `https://` URL, for the `Host` header (as
/// Python's putrequest does), or None for any other URL.
pub fn absolute_url_authority(url: &[u8]) -> Option<&[u8]> {
    let (_, authority) = absolute_url_spans(url)?;
    (!authority.is_empty()).then_some(&url[authority])
}

/// A request target as it goes on the wire. The host of an absolute `http(s)://` URL that is
/// an internationalised name is replaced by its A-label ([`ascii_host`]); then the target must
/// pass [`crate::request::check_url`] (no control character, space or non-ASCII byte). Borrows
/// `url` unless a host was converted.
pub fn request_target(url: &[u8]) -> Result<Cow<'_, [u8]>> {
    let target = match absolute_url_spans(url) {
        Some((host, _)) if !url[host.clone()].is_ascii() => {
            let name = std::str::from_utf8(&url[host.clone()]).map_err(|_| {
                Error::new(
                    ErrorKind::InvalidUrl,
                    format!(
                        "host in URL is not UTF-8: {}",
                        escape_bytes(&url[host.clone()], 200)
                    ),
                )
            })?;
            let a_label = ascii_host(name)?;
            let mut v = Vec::with_capacity(url.len() + a_label.len());
            v.extend_from_slice(&url[..host.start]);
            v.extend_from_slice(a_label.as_bytes());
            v.extend_from_slice(&url[host.end..]);
            Cow::Owned(v)
        }
        _ => Cow::Borrowed(url),
    };
    crate::request::check_url(&target)?;
    Ok(target)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(h: &str, p: u16) -> Result<Target> {
        Target::parse(h, p, 80)
    }

    #[test]
    fn forms() {
        assert_eq!(t("example.com", 0).unwrap().port, 80);
        assert_eq!(t("example.com:8080", 0).unwrap().port, 8080);
        assert_eq!(t("example.com:8080", 0).unwrap().host(), "example.com");
        assert_eq!(t("example.com", 81).unwrap().port, 81);
        let v6 = t("[::1]:8080", 0).unwrap();
        assert_eq!((v6.host(), v6.port), ("::1", 8080));
        assert_eq!(v6.host_header(), "[::1]:8080");
        assert_eq!(t("[::1]", 0).unwrap().port, 80);
        assert_eq!(t("[::1]", 0).unwrap().host_header(), "[::1]");
        assert_eq!(t("::1", 0).unwrap().host(), "::1");
        assert_eq!(t("a", 0).unwrap().host_header(), "a");
        assert_eq!(t("a:99", 0).unwrap().host_header(), "a:99");
        // Leading zeros are digits: up to ten of them in all.
        assert_eq!(t("127.0.0.1:065535", 0).unwrap().port, 65535);
        assert_eq!(t("a:00080", 0).unwrap().host_header(), "a");
        assert_eq!(t("[::1]:0000000443", 0).unwrap().port, 443);
        // `host:port` always; `Host` without the default port.
        let a = |h: &str, p: u16| t(h, p).unwrap().authority.to_string();
        assert_eq!(a("127.0.0.1", 0), "127.0.0.1:80");
        assert_eq!(a("[::1]", 8080), "[::1]:8080");
        assert_eq!(a("::1", 0), "[::1]:80");
        assert_eq!(a("h:0065535", 0), "h:65535");
        assert_eq!(t("h", 0).unwrap().display(), "h:80");
        // A host too long for the stack buffer the authority is built in.
        let long = "x".repeat(300);
        let l = t(&long, 81).unwrap();
        assert_eq!(
            (l.host_header(), &*l.authority),
            (&*format!("{long}:81"), &*format!("{long}:81"))
        );
        let l = t(&format!("{long}:80"), 0).unwrap();
        assert_eq!((l.host_header(), l.port), (&*long, 80));
        assert_eq!(&*l.authority, format!("{long}:80"));
    }

    #[test]
    fn bad() {
        for h in [
            "",
            "a b",
            "a\r\nb",
            "user@host",
            "a:",
            "a:x",
            "a:0",
            "a:65536",
            "a:-1",
            "a:+80",
            "a:00000000080",
            "a:0065536",
            "a:0000",
            "[::1",
            "[::1]x",
            "[::1]:",
            "[zz]",
            ":80",
            "a\x7f",
        ] {
            let e = t(h, 0).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidUrl, "{h:?}");
        }
        for h in ["h:abc", "h:", "[::1]:x", "h:0"] {
            let e = t(h, 8080).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidUrl, "{h:?} with a port given");
        }
        assert_eq!(t("h:81", 8080).unwrap().port, 8080);
    }

    #[test]
    fn absolute() {
        assert_eq!(absolute_url_authority(b"http://h:1/p"), Some(&b"h:1"[..]));
        assert_eq!(absolute_url_authority(b"HTTPS://u@h?q"), Some(&b"h"[..]));
        assert_eq!(absolute_url_authority(b"/p"), None);
        assert_eq!(absolute_url_authority(b"http:///p"), None);
        assert_eq!(
            absolute_url_authority(b"http://[::1]:8/p"),
            Some(&b"[::1]:8"[..])
        );
    }

    #[test]
    fn idna() {
        assert_eq!(
            t("bücher.example", 0).unwrap().host(),
            "xn--bcher-kva.example"
        );
        assert_eq!(t("[::1]", 0).unwrap().host(), "::1");
        let rt = |u: &str| request_target(u.as_bytes()).map(|c| c.into_owned());
        assert_eq!(rt("/p").unwrap(), b"/p");
        assert_eq!(
            rt("http://u:pw@bücher.example:8/p").unwrap(),
            b"http://u:pw@xn--bcher-kva.example:8/p"
        );
        assert_eq!(
            rt("https://bücher.example").unwrap(),
            b"https://xn--bcher-kva.example"
        );
        assert!(rt("http://bücher.example/é").is_err());
        assert!(rt("http://ü@example.org/").is_err());
        assert!(rt("/é").is_err());
    }
}
