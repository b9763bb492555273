//! The URL-level client's redirect rules (docs/client.md, "Redirects" and "Credentials across
//! origins"), against servers that send exact bytes, including the hostile ones.

mod common;

use common::routed::{ok, redirect, Req, Routed};
use common::scripted::ScriptedServer;
use httpclient::client::{Client, REDIRECT_ALLOW_DOWNGRADE, REDIRECT_KEEP_CREDENTIALS};
use httpclient::ErrorKind;
use std::io::Write;
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::Arc;

fn client() -> Client {
    let c = Client::with_proxy_config(Default::default()).unwrap();
    c.set_timeout(20.0).unwrap();
    c
}

fn body(r: &mut httpclient::client::Response) -> String {
    let mut v = Vec::new();
    r.read_to_end(&mut v).unwrap();
    String::from_utf8(v).unwrap()
}

fn err_kind(r: httpclient::Result<httpclient::client::Response>) -> ErrorKind {
    match r {
        Ok(resp) => panic!("expected an error, got {}", resp.status()),
        Err(e) => e.kind(),
    }
}

#[test]
fn a_relative_redirect_is_followed_on_the_same_connection() {
    let srv = Routed::start(|r| match r.target.as_str() {
        "/a/b?x=1" => redirect(302, "../c#frag"),
        "/c" => ok("landed"),
        _ => ok("wrong"),
    });
    let c = client();
    let mut r = c.get(&srv.url("/a/b?x=1")).unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(body(&mut r), "landed");
    assert_eq!(r.redirect_count(), 1);
    assert_eq!(r.url(), srv.url("/c#frag"));
    assert_eq!(r.redirect_location(), None);
    assert_eq!(
        srv.connections(),
        1,
        "the drained 302 left its connection reusable"
    );
    let reqs = srv.requests();
    assert_eq!(reqs.len(), 2);
    assert_eq!(reqs[1].target, "/c", "no fragment on the wire");
}

fn hops(n: usize) -> Routed {
    Routed::start(move |r| {
        let i: usize = r.target.trim_start_matches("/hop/").parse().unwrap_or(0);
        if i < n {
            redirect(301, &format!("/hop/{}", i + 1))
        } else {
            ok("end")
        }
    })
}

#[test]
fn ten_hops_are_followed_and_the_eleventh_refused() {
    let c = client();
    let srv = hops(10);
    let mut r = c.get(&srv.url("/hop/0")).unwrap();
    assert_eq!((r.status(), r.redirect_count()), (200, 10));
    assert_eq!(body(&mut r), "end");
    let srv = hops(11);
    assert_eq!(
        err_kind(c.get(&srv.url("/hop/0"))),
        ErrorKind::TooManyRedirects
    );
    assert_eq!(
        srv.requests().len(),
        11,
        "the 11th redirect is not followed"
    );
}

#[test]
fn a_redirect_loop_stops_at_the_limit() {
    let srv = Routed::start(|_| redirect(302, "/loop"));
    let c = client();
    c.set_max_redirects(3).unwrap();
    assert_eq!(
        err_kind(c.get(&srv.url("/loop"))),
        ErrorKind::TooManyRedirects
    );
    assert_eq!(srv.requests().len(), 4);
}

#[test]
fn max_redirects_zero_returns_the_3xx_with_its_target() {
    let srv = Routed::start(|_| redirect(302, "/next?q"));
    let c = client();
    c.set_max_redirects(0).unwrap();
    let r = c.get(&srv.url("/x")).unwrap();
    assert_eq!(r.status(), 302);
    assert_eq!(r.redirect_location(), Some(srv.url("/next?q").as_str()));
    // The call's own limit wins over the client's.
    let mut call = c.call("GET", &srv.url("/x")).unwrap();
    call.set_max_redirects(1).unwrap();
    assert_eq!(err_kind(call.send()), ErrorKind::TooManyRedirects);
}

#[test]
fn statuses_that_are_not_followed_are_returned() {
    for status in [300, 304, 305, 306, 399] {
        let srv = Routed::start(move |_| redirect(status, "/elsewhere"));
        let r = client().get(&srv.url("/")).unwrap();
        assert_eq!(r.status(), status);
        assert_eq!(r.redirect_count(), 0);
        assert_eq!(srv.requests().len(), 1);
    }
    let srv = Routed::start(|_| b"HTTP/1.1 302 Found\r\nContent-Length: 0\r\n\r\n".to_vec());
    let r = client().get(&srv.url("/")).unwrap();
    assert_eq!((r.status(), r.redirect_location()), (302, None));
}

#[test]
fn other_schemes_are_refused() {
    for loc in [
        "file:///etc/passwd",
        "ftp://127.0.0.1/x",
        "data:text/plain,hi",
        "gopher://x/",
        "javascript:alert(1)",
    ] {
        let srv = Routed::start(move |_| redirect(302, loc));
        assert_eq!(
            err_kind(client().get(&srv.url("/"))),
            ErrorKind::RedirectRefused,
            "{loc}"
        );
        assert_eq!(srv.requests().len(), 1);
    }
}

#[test]
fn bad_locations_are_errors() {
    let srv = Routed::start(|_| redirect(302, "http://[::1"));
    assert_eq!(
        err_kind(client().get(&srv.url("/"))),
        ErrorKind::BadLocation
    );
    // Two differing Location fields.
    let srv = Routed::start(|_| {
        b"HTTP/1.1 302 Found\r\nLocation: /a\r\nLocation: /b\r\nContent-Length: 0\r\n\r\n".to_vec()
    });
    assert_eq!(
        err_kind(client().get(&srv.url("/"))),
        ErrorKind::BadLocation
    );
    // Two identical ones are one.
    let srv = Routed::start(|r| match r.target.as_str() {
        "/" => b"HTTP/1.1 302 Found\r\nLocation: /a\r\nLocation: /a\r\nContent-Length: 0\r\n\r\n"
            .to_vec(),
        _ => ok("a"),
    });
    assert_eq!(client().get(&srv.url("/")).unwrap().status(), 200);
    // A bare CR inside the value.
    let srv = ScriptedServer::reply_each(vec![
        b"HTTP/1.1 302 Found\r\nLocation: /a\rX-Evil: 1\r\nContent-Length: 0\r\n\r\n".to_vec(),
    ]);
    let r = client().get(&format!("http://127.0.0.1:{}/", srv.port()));
    assert!(r.is_err(), "a CR in Location is never followed");
    // A space or a tab is refused too (never "repaired").
    let srv = Routed::start(|_| redirect(302, "/a\tb"));
    assert_eq!(
        err_kind(client().get(&srv.url("/"))),
        ErrorKind::BadLocation
    );
}

#[test]
fn a_100_kb_location_is_an_error_not_a_crash() {
    let long = format!("/{}", "a".repeat(100 * 1024));
    let srv = Routed::start(move |_| redirect(302, &long));
    let k = err_kind(client().get(&srv.url("/")));
    assert!(
        k == ErrorKind::LineTooLong || k == ErrorKind::BadLocation,
        "{k:?}"
    );
}

#[test]
fn a_scheme_relative_location_changes_origin_and_drops_credentials() {
    let other = Routed::start(|_| ok("other"));
    let port = other.port();
    let first = Routed::start(move |_| redirect(302, &format!("//localhost:{port}/x")));
    let c = client();
    let mut call = c.call("GET", &first.url("/")).unwrap();
    call.set_auth(b"user", b"secret", 1).unwrap();
    call.add_header(b"Cookie", b"session=1", 0).unwrap();
    call.add_header(b"X-Api-Key", b"k", 1).unwrap();
    call.add_header(b"X-Plain", b"p", 0).unwrap();
    let mut r = call.send().unwrap();
    assert_eq!(body(&mut r), "other");
    assert_eq!(r.url(), format!("http://localhost:{port}/x"));
    let a = &first.requests()[0];
    assert_eq!(a.header("authorization"), Some("Basic dXNlcjpzZWNyZXQ="));
    assert_eq!(a.header("cookie"), Some("session=1"));
    assert_eq!(a.header("x-api-key"), Some("k"));
    let b = &other.requests()[0];
    for h in ["authorization", "cookie", "x-api-key"] {
        assert_eq!(b.header(h), None, "{h} went to another origin");
    }
    assert_eq!(b.header("x-plain"), Some("p"));
    assert_eq!(b.header("host"), Some(format!("localhost:{port}").as_str()));
}

/// Origin A -> A -> B -> back to A: nothing comes back after leaving once (the sticky rule).
#[test]
fn credentials_are_gone_for_good_once_the_chain_left_the_first_origin() {
    let b_port = Arc::new(AtomicU16::new(0));
    let bp = b_port.clone();
    let a = Routed::start(move |r| match r.target.as_str() {
        "/start" => redirect(302, "/second"),
        "/second" => redirect(
            302,
            &format!("http://localhost:{}/bounce", bp.load(Ordering::SeqCst)),
        ),
        _ => ok("back home"),
    });
    let a_port = a.port();
    let b = Routed::start(move |_| redirect(307, &format!("http://127.0.0.1:{a_port}/home")));
    b_port.store(b.port(), Ordering::SeqCst);
    let c = client();
    let url = a.url("/start").replace("http://", "http://u:p%40ss@");
    let mut r = c.get(&url).unwrap();
    assert_eq!(body(&mut r), "back home");
    assert_eq!(r.redirect_count(), 3);
    let reqs = a.requests();
    // "u:p@ss"
    assert_eq!(reqs[0].header("authorization"), Some("Basic dTpwQHNz"));
    assert_eq!(reqs[1].header("authorization"), Some("Basic dTpwQHNz"));
    assert_eq!(b.requests()[0].header("authorization"), None);
    assert_eq!(reqs[2].target, "/home");
    assert_eq!(reqs[2].header("authorization"), None);
    assert!(!r.url().contains('@'), "userinfo removed from {}", r.url());
}

#[test]
fn keep_credentials_flag_sends_them_everywhere() {
    let other = Routed::start(|_| ok("other"));
    let port = other.port();
    let first = Routed::start(move |_| redirect(302, &format!("http://localhost:{port}/")));
    let c = client();
    c.set_redirect_flags(REDIRECT_KEEP_CREDENTIALS).unwrap();
    let mut call = c.call("GET", &first.url("/")).unwrap();
    call.set_auth(b"u", b"p", 1).unwrap();
    call.send().unwrap();
    assert!(other.requests()[0].header("authorization").is_some());
}

#[test]
fn userinfo_in_a_location_is_ignored() {
    let srv = Routed::start(|r| match r.target.as_str() {
        "/" => Vec::new(),
        _ => ok("x"),
    });
    let port = srv.port();
    let first =
        Routed::start(move |_| redirect(302, &format!("http://evil:pw@127.0.0.1:{port}/target")));
    let r = client().get(&first.url("/")).unwrap();
    assert_eq!(r.url(), format!("http://127.0.0.1:{port}/target"));
    assert_eq!(srv.requests()[0].header("authorization"), None);
}

fn method_and_body(status: u16, method: &str) -> (Req, Req) {
    let srv = Routed::start(move |r| match r.target.as_str() {
        "/from" => redirect(status, "/to"),
        _ => ok("done"),
    });
    let c = client();
    let mut call = c.call(method, &srv.url("/from")).unwrap();
    call.add_header(b"Content-Type", b"text/plain", 0).unwrap();
    call.add_header(b"Content-Language", b"en", 0).unwrap();
    call.set_body(b"payload".to_vec()).unwrap();
    let r = call.send().unwrap();
    assert_eq!(r.status(), 200);
    let reqs = srv.requests();
    (reqs[0].clone(), reqs[1].clone())
}

#[test]
fn the_method_and_body_table() {
    for (status, method, out_method, keeps_body) in [
        (301, "POST", "GET", false),
        (302, "POST", "GET", false),
        (301, "PUT", "PUT", true),
        (302, "DELETE", "DELETE", true),
        (303, "POST", "GET", false),
        (303, "PUT", "GET", false),
        (307, "POST", "POST", true),
        (308, "PUT", "PUT", true),
    ] {
        let (first, second) = method_and_body(status, method);
        assert_eq!(first.body, b"payload");
        assert_eq!(second.method, out_method, "{status} {method}");
        if keeps_body {
            assert_eq!(second.body, b"payload", "{status} {method}");
            assert_eq!(second.header("content-type"), Some("text/plain"));
        } else {
            assert!(second.body.is_empty(), "{status} {method}");
            for h in [
                "content-type",
                "content-language",
                "content-length",
                "transfer-encoding",
            ] {
                assert_eq!(second.header(h), None, "{status} {method}: {h}");
            }
        }
    }
    // 303 to HEAD stays HEAD.
    let srv = Routed::start(|r| match r.target.as_str() {
        "/from" => redirect(303, "/to"),
        _ => b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n".to_vec(),
    });
    let r = client()
        .call("HEAD", &srv.url("/from"))
        .unwrap()
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(srv.requests()[1].method, "HEAD");
}

#[test]
fn a_307_needing_a_streamed_body_is_returned_not_resent() {
    let srv = Routed::start(|r| match r.target.as_str() {
        "/upload" => redirect(307, "/elsewhere"),
        _ => ok("should not be reached"),
    });
    let c = client();
    let mut call = c.call("POST", &srv.url("/upload")).unwrap();
    let mut left = 3;
    call.set_body_stream(
        Box::new(move |buf: &mut [u8]| {
            if left == 0 {
                return Ok(0);
            }
            left -= 1;
            buf[..4].copy_from_slice(b"data");
            Ok(4)
        }),
        None,
    )
    .unwrap();
    let r = call.send().unwrap();
    assert_eq!(r.status(), 307);
    assert_eq!(r.redirect_location(), Some(srv.url("/elsewhere").as_str()));
    let reqs = srv.requests();
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0].body, b"datadatadata");
}

#[test]
fn a_bomb_in_a_302_body_is_not_read_past_64_kib() {
    // A 302 announcing 10 GiB: the client reads at most 64 KiB of it, then closes that
    // connection and follows on a new one.
    let srv = ScriptedServer::start(|conn, idx| {
        let _ = conn.read_request();
        if idx == 0 {
            let _ = conn.write_all(
                b"HTTP/1.1 302 Found\r\nLocation: /next\r\nContent-Encoding: gzip\r\n\
                  Content-Length: 10737418240\r\n\r\n",
            );
            let zeros = vec![0u8; 64 * 1024];
            let mut sent = 0u64;
            // Stops when the client closes.
            while sent < 100 * 1024 * 1024 && conn.write_all(&zeros).is_ok() {
                sent += zeros.len() as u64;
            }
        } else {
            let _ = conn.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        }
    });
    let c = client();
    let t = std::time::Instant::now();
    let mut r = c.get(&format!("http://127.0.0.1:{}/", srv.port())).unwrap();
    assert_eq!(body(&mut r), "ok");
    assert!(t.elapsed().as_secs() < 10);
    assert_eq!(srv.connections(), 2);
}

#[test]
fn https_to_http_is_refused_unless_allowed() {
    let plain = Routed::start(|_| ok("plain"));
    let target = plain.url("/");
    let secure = Routed::start_tls(move |_| redirect(302, &target));
    let c = client();
    c.set_ca_file(common::servers().ca_file.to_str().unwrap())
        .unwrap();
    assert_eq!(
        err_kind(c.get(&secure.url("/"))),
        ErrorKind::RedirectRefused
    );
    assert!(plain.requests().is_empty());
    c.set_redirect_flags(REDIRECT_ALLOW_DOWNGRADE).unwrap();
    let mut r = c.get(&secure.url("/")).unwrap();
    assert_eq!(body(&mut r), "plain");
    // http -> https is always fine.
    let up = secure.url("/");
    let plain2 = Routed::start(move |_| redirect(301, &up));
    c.set_redirect_flags(0).unwrap();
    let before = secure.requests().len();
    // plain2 -> https (followed) -> http again (refused).
    assert_eq!(
        err_kind(c.get(&plain2.url("/"))),
        ErrorKind::RedirectRefused
    );
    assert_eq!(secure.requests().len(), before + 1);
}

#[test]
fn a_callers_host_header_is_regenerated_for_another_origin() {
    let other = Routed::start(|_| ok("o"));
    let port = other.port();
    let first = Routed::start(move |_| redirect(302, &format!("http://localhost:{port}/")));
    let c = client();
    let mut call = c.call("GET", &first.url("/")).unwrap();
    call.add_header(b"Host", b"virtual.example", 0).unwrap();
    call.add_header(b"Proxy-Authorization", b"Basic eDp5", 0)
        .unwrap();
    call.send().unwrap();
    assert_eq!(first.requests()[0].header("host"), Some("virtual.example"));
    let o = &other.requests()[0];
    assert_eq!(o.header("host"), Some(format!("localhost:{port}").as_str()));
    assert_eq!(o.header("proxy-authorization"), None);
}
