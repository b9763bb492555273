//! The redirect rules: which statuses are followed, what becomes of the method and body, and
//! which headers a hop may carry.

/// What a followed redirect does to the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NextRequest {
    /// The method becomes GET (or stays HEAD for a 303 to HEAD).
    pub to_get: bool,
    /// The body and its headers are dropped.
    pub drop_body: bool,
}

/// Whether `status` is a redirect the client follows (given a Location).
pub fn is_followed_status(status: u16) -> bool {
    matches!(status, 301 | 302 | 303 | 307 | 308)
}

/// The method and body rule for a followed redirect:
///
/// | status   | method in | method out | body                       |
/// |----------|-----------|------------|----------------------------|
/// | 301, 302 | POST      | GET        | dropped with its headers   |
/// | 301, 302 | other     | same       | replayed                   |
/// | 303      | HEAD      | HEAD       | none                       |
/// | 303      | other     | GET        | dropped with its headers   |
/// | 307, 308 | any       | same       | replayed                   |
pub fn next_request(status: u16, method: &[u8]) -> NextRequest {
    match status {
        301 | 302 if method.eq_ignore_ascii_case(b"POST") => NextRequest {
            to_get: true,
            drop_body: true,
        },
        303 if method.eq_ignore_ascii_case(b"HEAD") => NextRequest {
            to_get: false,
            drop_body: true,
        },
        303 => NextRequest {
            to_get: true,
            drop_body: true,
        },
        _ => NextRequest {
            to_get: false,
            drop_body: false,
        },
    }
}

/// Headers that go only to the first origin of a chain (the sticky rule): credentials, and a
/// Host set by the caller (regenerated for the new host).
pub fn is_origin_bound(name: &[u8]) -> bool {
    [
        &b"authorization"[..],
        b"cookie",
        b"cookie2",
        b"proxy-authorization",
        b"host",
    ]
    .iter()
    .any(|n| name.eq_ignore_ascii_case(n))
}

/// Headers describing a body, dropped with it.
pub fn is_body_header(name: &[u8]) -> bool {
    [
        &b"content-type"[..],
        b"content-length",
        b"content-encoding",
        b"content-language",
        b"transfer-encoding",
    ]
    .iter()
    .any(|n| name.eq_ignore_ascii_case(n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn method_table() {
        let n = |s, m: &str| next_request(s, m.as_bytes());
        assert_eq!(
            n(301, "POST"),
            NextRequest {
                to_get: true,
                drop_body: true
            }
        );
        assert_eq!(
            n(302, "post"),
            NextRequest {
                to_get: true,
                drop_body: true
            }
        );
        assert_eq!(
            n(302, "PUT"),
            NextRequest {
                to_get: false,
                drop_body: false
            }
        );
        assert_eq!(
            n(303, "HEAD"),
            NextRequest {
                to_get: false,
                drop_body: true
            }
        );
        assert_eq!(
            n(303, "PUT"),
            NextRequest {
                to_get: true,
                drop_body: true
            }
        );
        assert_eq!(
            n(307, "POST"),
            NextRequest {
                to_get: false,
                drop_body: false
            }
        );
        assert_eq!(
            n(308, "DELETE"),
            NextRequest {
                to_get: false,
                drop_body: false
            }
        );
        for s in [300, 304, 305, 306, 309, 399] {
            assert!(!is_followed_status(s));
        }
    }
}
