//! The URL-level client's text parsers: a URL parsed with the strict checks, a Location
//! resolved against it and checked for following, a proxy URL, a no_proxy list and its
//! matcher. The input is split at the first two NUL bytes into URL, Location and the rest
//! (used as proxy URL and no_proxy list). Checks what must always hold.
#![no_main]

use httpclient::client::proxy::{NoProxy, Proxy};
use httpclient::client::uri::HttpUrl;
use httpclient::ErrorKind;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut parts = data.splitn(3, |&b| b == 0);
    let url = parts.next().unwrap_or(b"");
    let location = parts.next().unwrap_or(b"");
    let rest = parts.next().unwrap_or(b"");

    match HttpUrl::parse(url) {
        Ok(u) => {
            // What goes on the wire is ASCII without blanks or controls, and has a host.
            let target = u.origin_form();
            assert!(target.starts_with('/'), "{target:?}");
            assert!(target.bytes().all(|b| b > b' ' && b < 0x7f), "{target:?}");
            assert!(!target.contains('#'));
            assert!(!u.host().is_empty());
            assert!(u.port() != 0);
            let abs = u.absolute_form();
            assert!(abs.bytes().all(|b| b > b' ' && b < 0x7f), "{abs:?}");
            assert!(!u.without_userinfo().contains('@') || u.as_str().contains('@'));
            let o = u.origin();
            assert_eq!(o, u.clone().origin());
            // A Location resolves or is BadLocation; a followable one is http(s) with a host
            // and no userinfo.
            match u.resolve(location) {
                Ok(next) => match HttpUrl::followable(next) {
                    Ok(n) => {
                        assert!(n.credentials().is_none());
                        assert!(!n.host().is_empty());
                        let t = n.origin_form();
                        assert!(t.bytes().all(|b| b > b' ' && b < 0x7f), "{t:?}");
                    }
                    Err(e) => assert!(
                        matches!(e.kind(), ErrorKind::RedirectRefused | ErrorKind::BadLocation),
                        "{e}"
                    ),
                },
                Err(e) => assert_eq!(e.kind(), ErrorKind::BadLocation, "{e}"),
            }
        }
        Err(e) => assert_eq!(e.kind(), ErrorKind::InvalidUrl, "{e}"),
    }

    let text = String::from_utf8_lossy(rest);
    if let Err(e) = Proxy::parse(&text) {
        assert_eq!(e.kind(), ErrorKind::Proxy);
    }
    let np = NoProxy::parse(&text);
    // The matcher answers for any host, and `*` alone matches everything.
    let host = String::from_utf8_lossy(url);
    let _ = np.matches(&host, 80);
    if text.trim() == "*" {
        assert!(np.matches(&host, 1));
    }
});
