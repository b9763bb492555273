//! The URL-level client's content decoding (docs/client.md, "Decompression"): every coding
//! round trip, chains, the limits table and hostile streams. The bombs are in
//! tests/client_bombs.rs (alone in their process, so that its memory can be watched).

#![cfg(all(feature = "gzip", feature = "brotli", feature = "zstd"))]

mod common;

use std::io::Write;
use std::sync::Arc;

use common::routed::Routed;
use httpclient::client::proxy::ProxyConfig;
use httpclient::client::Client;
use httpclient::ErrorKind;

fn client() -> Client {
    let c = Client::with_proxy_config(ProxyConfig::default()).unwrap();
    c.set_timeout(20.0).unwrap();
    c
}

/// ~300 KB of text with some repetition.
fn sample() -> Vec<u8> {
    let mut v = Vec::new();
    let mut x: u32 = 12345;
    while v.len() < 300_000 {
        x = x.wrapping_mul(1103515245).wrapping_add(12345);
        v.extend_from_slice(format!("line {} value {}\n", v.len(), x >> 16).as_bytes());
    }
    v
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn zlib(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn raw_deflate(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn br(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut w = brotli::CompressorWriter::new(&mut out, 4096, 5, 22);
        w.write_all(data).unwrap();
    }
    out
}

fn zstd(data: &[u8]) -> Vec<u8> {
    ruzstd::encoding::compress_to_vec(data, ruzstd::encoding::CompressionLevel::Fastest)
}

/// A server answering every request with `body` under `Content-Encoding: ce`.
fn coded(ce: &'static str, body: Vec<u8>) -> Routed {
    let body = Arc::new(body);
    Routed::start(move |_| {
        let mut r = format!(
            "HTTP/1.1 200 OK\r\nContent-Encoding: {ce}\r\nContent-Length: {}\r\n\r\n",
            body.len()
        )
        .into_bytes();
        r.extend_from_slice(&body);
        r
    })
}

fn get_all(c: &Client, url: &str) -> httpclient::Result<(Vec<u8>, bool)> {
    let mut r = c.get(url)?;
    let decoded = r.decoded();
    if decoded {
        assert_eq!(r.length(), None, "no length while decoding");
    }
    let mut v = Vec::new();
    // Small reads: a decoder must work with any caller buffer.
    let mut buf = [0u8; 777];
    loop {
        match r.read_some(&mut buf)? {
            0 => break,
            n => v.extend_from_slice(&buf[..n]),
        }
    }
    Ok((v, decoded))
}

#[test]
fn every_coding_and_chains_round_trip() {
    let data = sample();
    let cases: Vec<(&'static str, Vec<u8>)> = vec![
        ("gzip", gzip(&data)),
        ("x-gzip", gzip(&data)),
        ("deflate", zlib(&data)),
        ("deflate", raw_deflate(&data)),
        ("br", br(&data)),
        ("zstd", zstd(&data)),
        ("gzip, br", br(&gzip(&data))),
        ("zstd,deflate, gzip", gzip(&zlib(&zstd(&data)))),
        ("identity, GZIP", gzip(&data)),
        // Concatenated gzip members are one body.
        ("gzip", [gzip(&data[..1000]), gzip(&data[1000..])].concat()),
    ];
    let c = client();
    for (ce, body) in cases {
        let srv = coded(ce, body);
        let (got, decoded) = get_all(&c, &srv.url("/")).unwrap();
        assert!(decoded, "{ce}");
        assert!(
            got == data,
            "{ce}: {} bytes, not the {} sent",
            got.len(),
            data.len()
        );
        let ae = srv.requests()[0]
            .header("accept-encoding")
            .unwrap()
            .to_string();
        assert_eq!(ae, "gzip, deflate, br, zstd");
    }
}

#[test]
fn a_connection_is_reused_after_a_decoded_body() {
    let data = sample();
    let srv = coded("gzip", gzip(&data));
    let c = client();
    for _ in 0..3 {
        assert_eq!(get_all(&c, &srv.url("/")).unwrap().0, data);
    }
    assert_eq!(srv.connections(), 1);
}

#[test]
fn what_is_passed_raw() {
    let data = sample();
    let gz = gzip(&data);
    let c = client();
    // An unknown coding anywhere in the chain.
    let srv = coded("gzip, compress", gz.clone());
    let (got, decoded) = get_all(&c, &srv.url("/")).unwrap();
    assert!(!decoded);
    assert_eq!(got, gz);
    // The caller's own Accept-Encoding.
    let srv = coded("gzip", gz.clone());
    let mut call = c.call("GET", &srv.url("/")).unwrap();
    call.add_header(b"Accept-Encoding", b"gzip", 0).unwrap();
    let mut r = call.send().unwrap();
    assert!(!r.decoded());
    let mut v = Vec::new();
    r.read_to_end(&mut v).unwrap();
    assert_eq!(v, gz);
    // A coding the client did not offer.
    c.set_accept_encoding(httpclient::client::ENCODING_BR)
        .unwrap();
    let (got, decoded) = get_all(&c, &srv.url("/")).unwrap();
    assert!(!decoded);
    assert_eq!(got, gz);
    assert_eq!(srv.requests()[1].header("accept-encoding"), Some("br"));
    // Mask 0: no Accept-Encoding at all.
    c.set_accept_encoding(0).unwrap();
    let (got, decoded) = get_all(&c, &srv.url("/")).unwrap();
    assert!(!decoded);
    assert_eq!(got, gz);
    assert_eq!(srv.requests()[2].header("accept-encoding"), None);
}

#[test]
fn head_204_and_304_are_never_decoded() {
    let srv = Routed::start(|r| match r.target.as_str() {
        "/204" => b"HTTP/1.1 204 No Content\r\nContent-Encoding: gzip\r\n\r\n".to_vec(),
        "/304" => b"HTTP/1.1 304 Not Modified\r\nContent-Encoding: gzip\r\n\r\n".to_vec(),
        _ => b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 20\r\n\r\n".to_vec(),
    });
    let c = client();
    for path in ["/204", "/304"] {
        let (got, decoded) = get_all(&c, &srv.url(path)).unwrap();
        assert!(!decoded && got.is_empty(), "{path}");
    }
    let r = c.call("HEAD", &srv.url("/")).unwrap().send().unwrap();
    assert!(!r.decoded());
    // An empty body under a Content-Encoding decodes to nothing.
    let empty = coded("gzip", Vec::new());
    assert_eq!(get_all(&c, &empty.url("/")).unwrap(), (Vec::new(), true));
}

#[test]
fn too_many_codings() {
    let c = client();
    let six = coded("gzip, gzip, gzip, gzip, gzip, gzip", vec![0; 10]);
    let e = c.get(&six.url("/")).err().expect("six codings");
    assert_eq!(e.kind(), ErrorKind::TooManyEncodings);
    let split = Routed::start(|_| {
        b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip, gzip, gzip, gzip, gzip\r\n\
          Content-Encoding: br\r\nContent-Length: 0\r\n\r\n"
            .to_vec()
    });
    let e = c.get(&split.url("/")).err().expect("5 + 1 codings");
    assert_eq!(e.kind(), ErrorKind::TooManyEncodings);
    assert!(e.kind().is(ErrorKind::ContentDecoding));
    // Five are fine.
    let data = b"five".to_vec();
    let five = gzip(&gzip(&gzip(&gzip(&gzip(&data)))));
    let srv = coded("gzip,gzip,gzip,gzip,gzip", five);
    assert_eq!(get_all(&c, &srv.url("/")).unwrap().0, data);
}

#[test]
fn corrupt_truncated_and_trailing_garbage() {
    let data = sample();
    let gz = gzip(&data);
    let c = client();
    let cases: Vec<(&'static str, Vec<u8>)> = vec![
        ("gzip", gz[..gz.len() / 2].to_vec()),
        ("gzip", gz[..gz.len() - 4].to_vec()),
        ("gzip", [gz.clone(), b"garbage".to_vec()].concat()),
        ("gzip", [gz.clone(), vec![0u8; 30]].concat()),
        ("deflate", [zlib(&data), b"xx".to_vec()].concat()),
        ("br", [br(&data), b"garbage".to_vec()].concat()),
        ("br", br(&data)[..1000].to_vec()),
        ("zstd", [zstd(&data), b"garbage".to_vec()].concat()),
        ("zstd", zstd(&data)[..1000].to_vec()),
        ("gzip", b"not gzip at all".to_vec()),
        ("zstd", b"not zstd at all".to_vec()),
    ];
    for (i, (ce, body)) in cases.into_iter().enumerate() {
        let srv = coded(ce, body);
        let e = get_all(&c, &srv.url("/"))
            .err()
            .unwrap_or_else(|| panic!("case {i} decoded"));
        assert_eq!(e.kind(), ErrorKind::ContentDecoding, "case {i} ({ce}): {e}");
    }
}

#[test]
fn a_zstd_window_over_8_mib_is_refused() {
    // A frame header asking for a 16 MiB window (Window_Descriptor 0x70: 2^24), then a raw
    // last block of 1 byte.
    let frame = [0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x70, 0x09, 0x00, 0x00, b'x'].to_vec();
    let srv = coded("zstd", frame);
    let e = get_all(&client(), &srv.url("/")).expect_err("refused");
    assert_eq!(e.kind(), ErrorKind::ContentDecoding);
    assert!(e.message().contains("window"), "{e}");
}

#[test]
fn a_readline_on_a_decoded_body() {
    let srv = coded("gzip", gzip(b"one\ntwo\nthree"));
    let mut r = client().get(&srv.url("/")).unwrap();
    let mut buf = [0u8; 64];
    let n = r.readline(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"one\n");
    let n = r.readline(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"two\n");
    let n = r.readline(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"three");
    assert_eq!(r.readline(&mut buf).unwrap(), 0);
}

/// Lines of every kind: empty, short, one of 100 000 bytes (longer than any readline buffer
/// used here), and a last one without `\n`.
fn lines_sample() -> Vec<u8> {
    let mut v = Vec::new();
    for i in 0..3000u32 {
        match i % 7 {
            0 => v.push(b'\n'),
            3 => {
                v.extend_from_slice(format!("{i} {}\n", "x".repeat((i % 300) as usize)).as_bytes())
            }
            _ => v.extend_from_slice(format!("line {i}\n").as_bytes()),
        }
        if i == 1500 {
            v.extend(std::iter::repeat_n(b'y', 100_000));
            v.push(b'\n');
        }
    }
    v.extend_from_slice(b"the end, no newline");
    v
}

/// What `readline` with a buffer of `limit` bytes returns from `rest`: up to and including the
/// first `\n` among the first `limit` bytes, else those `limit` bytes (fewer only at the end).
fn expected_line(rest: &[u8], limit: usize) -> &[u8] {
    let window = &rest[..rest.len().min(limit)];
    match window.iter().position(|&b| b == b'\n') {
        Some(i) => &window[..=i],
        None => window,
    }
}

#[test]
fn readline_on_decoded_bodies_gives_the_same_lines() {
    // Every coding, buffers from 1 byte (the line limit cuts every line) to 64 KiB, and
    // readline mixed with reads: the lines are those of the plain body, and nothing decoded
    // for a line's end is lost to the next read.
    let data = lines_sample();
    let c = client();
    let cases: Vec<(&'static str, Vec<u8>)> = vec![
        ("gzip", gzip(&data)),
        ("deflate", zlib(&data)),
        ("br", br(&data)),
        ("zstd", zstd(&data)),
        ("gzip, br", br(&gzip(&data))),
    ];
    for (ce, body) in cases {
        let srv = coded(ce, body);
        for (limit, mixed) in [
            (1, false),
            (7, true),
            (64, false),
            (4096, true),
            (65536, false),
        ] {
            let mut r = c.get(&srv.url("/")).unwrap();
            assert!(r.decoded());
            let mut buf = vec![0u8; limit];
            let mut pos = 0;
            let mut calls = 0u64;
            loop {
                calls += 1;
                let n = if mixed && calls.is_multiple_of(3) {
                    let n = r.read_some(&mut buf[..limit.min(5)]).unwrap();
                    assert_eq!(&buf[..n], &data[pos..pos + n], "{ce} read at {pos}");
                    n
                } else {
                    let n = r.readline(&mut buf).unwrap();
                    let want = expected_line(&data[pos..], limit);
                    assert!(
                        &buf[..n] == want,
                        "{ce}, limit {limit}: readline at {pos} gave {n} bytes, not {}",
                        want.len()
                    );
                    n
                };
                if n == 0 {
                    break;
                }
                pos += n;
            }
            assert_eq!(pos, data.len(), "{ce}, limit {limit}");
            assert!(r.isclosed());
            assert_eq!(r.bytes_read(), data.len() as u64);
        }
    }
}

#[test]
fn readline_on_a_decoded_body_stops_at_the_cap_where_it_did() {
    // The lines that end within the cap are returned; the readline that would go over it
    // fails, as a byte-by-byte readline did.
    let data = lines_sample();
    for cap in [1000u64, 1006, 1007, 20_000, 120_000] {
        let c = client();
        c.set_max_decoded_size(cap).unwrap();
        let srv = coded("gzip", gzip(&data));
        let mut r = c.get(&srv.url("/")).unwrap();
        let mut buf = vec![0u8; 4096];
        let mut pos = 0usize;
        loop {
            let want = expected_line(&data[pos..], buf.len());
            if (pos + want.len()) as u64 > cap {
                let e = r.readline(&mut buf).expect_err("over the cap");
                assert_eq!(e.kind(), ErrorKind::DecodedSizeExceeded, "cap {cap}");
                break;
            }
            let n = r.readline(&mut buf).unwrap();
            assert!(&buf[..n] == want, "cap {cap}: readline at {pos}");
            pos += n;
        }
    }
}

#[test]
fn readline_on_a_decoded_body_asks_the_decoder_once_per_buffer_not_per_byte() {
    let data = lines_sample();
    let lines = data.iter().filter(|&&b| b == b'\n').count() as u64 + 1;
    let srv = coded("gzip", gzip(&data));
    let mut r = client().get(&srv.url("/")).unwrap();
    let mut buf = vec![0u8; 4096];
    let mut got = Vec::new();
    loop {
        let n = r.readline(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        got.extend_from_slice(&buf[..n]);
    }
    assert!(got == data);
    let reads = r.decoder_reads();
    eprintln!(
        "{} decoded bytes in {lines} lines: {reads} decoder reads",
        data.len()
    );
    assert!(reads < lines / 4, "{reads} decoder reads for {lines} lines");
}

#[test]
fn nginx_gzip_interop() {
    let s = common::servers();
    let want = s.docroot_file("gzip/text.txt");
    let c = client();
    let url = format!("http://127.0.0.1:{}/gzip/text.txt", s.http_port);
    let mut r = c.get(&url).unwrap();
    assert!(r.decoded());
    assert_eq!(
        r.getheader(b"content-encoding").map(|v| v.to_bytes()),
        Some(&b"gzip"[..])
    );
    let mut got = Vec::new();
    r.read_to_end(&mut got).unwrap();
    assert_eq!(got, want);
}

/// The docroot file that `/zstd/NAME`, `/br/NAME` and `/br-static/NAME` are made from.
fn source_of(name: &str) -> &'static str {
    match name {
        "text.txt" => "gzip/text.txt",
        "words.txt" => "words.txt",
        "large.bin" => "large.bin",
        _ => unreachable!("{name}"),
    }
}

/// GETs `path` from nginx, checks the received Content-Encoding is `coding` and that the body
/// decodes (in 777-byte reads) to the docroot file `source`, byte for byte.
fn nginx_decodes(c: &Client, path: &str, coding: &str, source: &str) {
    let s = common::servers();
    let url = format!("http://127.0.0.1:{}{path}", s.http_port);
    let mut r = c.get(&url).unwrap();
    assert_eq!(
        r.getheader(b"content-encoding").map(|v| v.to_bytes()),
        Some(coding.as_bytes()),
        "{path}"
    );
    r.close();
    let (got, decoded) = get_all(c, &url).unwrap();
    assert!(decoded, "{path}");
    let want = s.docroot_file(source);
    assert!(
        got == want,
        "{path}: {} bytes decoded, not the {} of {source}",
        got.len(),
        want.len()
    );
}

#[test]
fn nginx_static_zstd_interop() {
    // Files compressed by the zstd command-line tool when the servers start (levels 19, 12, 3,
    // with its checksum), served by nginx with `Content-Encoding: zstd` from its configuration.
    let s = common::servers();
    assert_eq!(
        s.var("HC_TEST_ZSTD_STATIC").as_deref(),
        Some("1"),
        "the zstd and brotli tools are not installed: scripts/setup.sh installs them"
    );
    let c = client();
    for name in ["text.txt", "words.txt", "large.bin"] {
        nginx_decodes(&c, &format!("/zstd/{name}"), "zstd", source_of(name));
    }
    // What was decoded is what the tool wrote: the raw body is the .zst file.
    let url = format!("http://127.0.0.1:{}/zstd/words.txt", s.http_port);
    let mut call = c.call("GET", &url).unwrap();
    call.add_header(b"Accept-Encoding", b"zstd", 0).unwrap();
    let mut r = call.send().unwrap();
    assert!(!r.decoded());
    let mut raw = Vec::new();
    r.read_to_end(&mut raw).unwrap();
    assert!(raw == s.docroot_file("zstd/words.txt.zst"));
    // The tool's --long frames: an 8 MiB window is decoded, a 16 MiB one refused (RFC 9659).
    nginx_decodes(&c, "/zstd/window8.txt", "zstd", "words.txt");
    let url = format!("http://127.0.0.1:{}/zstd/window16.txt", s.http_port);
    let e = get_all(&c, &url).expect_err("a 16 MiB window");
    assert_eq!(e.kind(), ErrorKind::ContentDecoding, "{e}");
    assert!(e.message().contains("window"), "{e}");
}

fn nginx_brotli(s: &common::Servers) {
    assert_eq!(
        s.var("HC_TEST_NGINX_BROTLI").as_deref(),
        Some("1"),
        "nginx's brotli modules are not installed: scripts/setup.sh installs \
         libnginx-mod-http-brotli-filter and -static"
    );
}

#[test]
fn nginx_brotli_filter_interop() {
    // nginx's brotli filter compresses on the fly: Content-Encoding: br, chunked.
    let s = common::servers();
    nginx_brotli(s);
    let c = client();
    for name in ["text.txt", "words.txt"] {
        nginx_decodes(&c, &format!("/br/{name}"), "br", source_of(name));
    }
}

#[test]
fn nginx_brotli_static_interop() {
    // brotli_static: files compressed by the brotli command-line tool (quality 11, 7, 5).
    let s = common::servers();
    nginx_brotli(s);
    let c = client();
    for name in ["text.txt", "words.txt", "large.bin"] {
        nginx_decodes(&c, &format!("/br-static/{name}"), "br", source_of(name));
    }
    // Without br in Accept-Encoding, nginx sends the plain file and nothing is decoded.
    c.set_accept_encoding(httpclient::client::ENCODING_GZIP | httpclient::client::ENCODING_ZSTD)
        .unwrap();
    let url = format!("http://127.0.0.1:{}/br-static/words.txt", s.http_port);
    let (got, decoded) = get_all(&c, &url).unwrap();
    assert!(!decoded);
    assert!(got == s.docroot_file("words.txt"));
}
